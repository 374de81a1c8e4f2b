//! Every shop's widget events as a whole: the summary the performance page reads, a rate
//! shared by all its visitors, a cap on the events kept and their retention.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::admin::analytics::EventSummary;
use crate::config::Settings;
use crate::domain::ShopId;
use crate::records::Event;
use crate::store::{ShopStore, StoreError};
use crate::web::rate_limit::RateLimiter;

/// Every shop's [`EventSummary`] and the limits on its events as a whole: a rate shared by
/// all its visitors (so that many addresses together cannot flood the store), a cap on the
/// events kept, and their retention.
pub struct EventLog {
    summaries: Mutex<HashMap<ShopId, EventSummary>>,
    per_shop: RateLimiter<ShopId>,
    max_per_shop: usize,
    retention: chrono::Duration,
}

impl EventLog {
    /// Summarises every configured shop's stored events (one read at start).
    pub fn load(settings: &Settings, store: &dyn ShopStore) -> Result<EventLog, StoreError> {
        let mut summaries = HashMap::new();
        for shop in &settings.shops {
            summaries.insert(shop.id.clone(), summary_of(store, &shop.id)?);
        }
        let server = &settings.server;
        Ok(EventLog {
            summaries: Mutex::new(summaries),
            per_shop: RateLimiter::new(
                f64::from(server.shop_events_per_second) * 10.0,
                f64::from(server.shop_events_per_second),
            ),
            max_per_shop: server.max_events_per_shop,
            retention: chrono::Duration::days(i64::from(server.event_retention_days)),
        })
    }

    /// Takes `n` events from the shop's shared rate, or says how long to wait.
    pub fn take(&self, shop: &ShopId, n: usize) -> Result<(), Duration> {
        self.per_shop.take(shop.clone(), n as f64)
    }

    /// Stores the events in one atomic write and counts them (not yet flushed: see
    /// [`Store::durable`]).
    pub fn append(&self, store: &dyn ShopStore, shop: &ShopId, events: &[Event]) -> Result<(), StoreError> {
        let mut summaries = self.summaries.lock().unwrap_or_else(|e| e.into_inner());
        store.append_events(shop, events)?;
        let summary = summaries.entry(shop.clone()).or_default();
        for e in events {
            summary.add(e);
        }
        Ok(())
    }

    pub fn summary(&self, shop: &ShopId) -> EventSummary {
        let summaries = self.summaries.lock().unwrap_or_else(|e| e.into_inner());
        summaries.get(shop).cloned().unwrap_or_default()
    }

    /// Whether the shop keeps more events than its cap (a prune is due).
    pub fn over_cap(&self, shop: &ShopId) -> bool {
        let summaries = self.summaries.lock().unwrap_or_else(|e| e.into_inner());
        summaries.get(shop).is_some_and(|s| s.events > self.max_per_shop)
    }

    /// Removes the shop's events older than the retention and, over the cap, the oldest
    /// down to nine tenths of it; then summarises what is left. Returns how many went.
    pub fn prune(
        &self,
        store: &dyn ShopStore,
        shop: &ShopId,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let cutoff = now - self.retention;
        let mut summaries = self.summaries.lock().unwrap_or_else(|e| e.into_inner());
        let over = summaries.get(shop).is_some_and(|s| s.events > self.max_per_shop);
        let keep = if over {
            self.max_per_shop / 10 * 9
        } else {
            usize::MAX
        };
        let removed = store.prune_events(shop, &|e| e.at.is_some_and(|at| at < cutoff), keep)?;
        if removed > 0 {
            summaries.insert(shop.clone(), summary_of(store, shop)?);
        }
        Ok(removed)
    }
}

/// The summary of the shop's stored events, read one at a time: a shop may keep millions
/// (`max_events_per_shop`), which as one list would take gigabytes at every start.
fn summary_of(store: &dyn ShopStore, shop: &ShopId) -> Result<EventSummary, StoreError> {
    let mut summary = EventSummary::default();
    store.for_each_event(shop, &mut |e| summary.add(&e))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    use crate::domain::{ProductId, Slot};
    use crate::records::EventKind;

    fn settings(extra: &str) -> Settings {
        let text = format!("[server]\n{extra}\n[[shops]]\nid = \"toko\"\n");
        Settings::from_toml(&text, std::path::Path::new("t.toml"), &[]).unwrap()
    }

    fn click(days_ago: i64, now: DateTime<Utc>) -> Event {
        Event {
            kind: EventKind::Click,
            slot: Some(Slot::Similar),
            product: Some(ProductId::parse("A").unwrap()),
            item: Some(ProductId::parse("B").unwrap()),
            at: Some(now - chrono::Duration::days(days_ago)),
            customer: None,
            visitor: None,
            arm: None,
            order: None,
            total: None,
            items: Vec::new(),
        }
    }

    #[test]
    fn events_past_their_retention_are_pruned_and_the_summary_follows() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let settings = settings("event_retention_days = 30");
        let shop = settings.shops[0].id.clone();
        let now = Utc::now();
        let log = EventLog::load(&settings, &store).unwrap();
        let events: Vec<Event> = [90, 40, 29, 1].iter().map(|d| click(*d, now)).collect();
        log.append(&store, &shop, &events).unwrap();
        assert_eq!(log.summary(&shop).events, 4);
        assert_eq!(log.prune(&store, &shop, now).unwrap(), 2);
        assert_eq!(store.events(&shop).unwrap(), events[2..].to_vec());
        assert_eq!(log.summary(&shop), EventSummary::of(&events[2..]));
        // A restart summarises the same.
        let again = EventLog::load(&settings, &store).unwrap();
        assert_eq!(again.summary(&shop), log.summary(&shop));
    }

    #[test]
    fn over_its_cap_a_shop_keeps_its_newest_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let settings = settings("max_events_per_shop = 1000");
        let shop = settings.shops[0].id.clone();
        let now = Utc::now();
        let log = EventLog::load(&settings, &store).unwrap();
        let events: Vec<Event> = (0..1001)
            .map(|i| Event {
                item: Some(ProductId::parse(&format!("P{i}")).unwrap()),
                ..click(0, now)
            })
            .collect();
        for chunk in events.chunks(50) {
            log.append(&store, &shop, chunk).unwrap();
        }
        assert!(log.over_cap(&shop));
        log.prune(&store, &shop, now).unwrap();
        let kept = store.events(&shop).unwrap();
        assert_eq!(kept.len(), 900);
        assert_eq!(kept, events[101..].to_vec(), "the newest stay");
        assert!(!log.over_cap(&shop));
    }

    #[test]
    fn a_shop_s_visitors_share_one_rate() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let settings = settings("shop_events_per_second = 2");
        let shop = settings.shops[0].id.clone();
        let log = EventLog::load(&settings, &store).unwrap();
        assert!(log.take(&shop, 20).is_ok(), "ten seconds' worth at once");
        let wait = log.take(&shop, 4).unwrap_err();
        assert!(wait >= Duration::from_secs(1), "{wait:?}");
    }
}
