//! `POST /v1/shops/{shop}/events`: the widget's beacons (impression, click, add_to_cart,
//! purchase), as JSON or as the `text/plain` body `navigator.sendBeacon` sends; validated,
//! rate-limited per client address (`429` with `Retry-After` over the rate), stored for
//! analytics and attribution. Answers 202.
//!
//! A body may carry the visitor's customer token at the top level (`customer_token`, next
//! to `events` or to a single event's fields); when it verifies, every event of the body
//! is stored with that customer's id, so attribution credits only their own orders.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::admin::analytics::EventSummary;
use crate::config::Settings;
use crate::domain::{ProductId, ShopId, Slot};
use crate::records::{Event, EventKind};
use crate::store::{ShopStore, Store, StoreError};
use crate::web::{known_shop, reject, with_cors, with_state, AppState};

/// Largest beacon body: a batch of a few dozen events.
const MAX_BODY: u64 = 16 * 1024;
const MAX_EVENTS_PER_BODY: usize = 50;

/// An event as a client sends it: names and ids still unchecked ([`check`] turns it into a
/// stored [`Event`]).
#[derive(Debug, Clone, Deserialize)]
pub struct Beacon {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub slot: Option<String>,
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub item: Option<String>,
    /// Read from seed files only: the server dates the events it receives.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    /// Read from seed files only: a received event names its customer by a verified token.
    #[serde(default)]
    pub customer: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Body {
    Batch { events: Vec<Beacon> },
    One(Beacon),
}

/// A token bucket per key (a client address, a shop): `burst` at once, `per_second` refill.
pub struct RateLimiter<K = IpAddr> {
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
    burst: f64,
    per_second: f64,
}

impl<K: std::hash::Hash + Eq> RateLimiter<K> {
    pub fn new(burst: f64, per_second: f64) -> Self {
        RateLimiter {
            buckets: Mutex::new(HashMap::new()),
            burst,
            per_second,
        }
    }

    /// Takes `n` tokens for `ip`; false when the client is over its rate.
    pub fn allow(&self, ip: K, n: f64) -> bool {
        self.take(ip, n).is_ok()
    }

    /// Takes `n` tokens for `ip`, or says how long until the bucket would hold them
    /// (for `Retry-After`; a day at most).
    pub fn take(&self, ip: K, n: f64) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let refilled = |tokens: f64, last: Instant, per_second: f64| {
            tokens + now.duration_since(last).as_secs_f64() * per_second
        };
        if buckets.len() > 100_000 {
            // Forget clients whose bucket has filled up again rather than grow without bound.
            let (burst, per_second) = (self.burst, self.per_second);
            buckets.retain(|_, (tokens, last)| refilled(*tokens, *last, per_second) < burst);
        }
        let (tokens, last) = buckets.entry(ip).or_insert((self.burst, now));
        *tokens = refilled(*tokens, *last, self.per_second).min(self.burst);
        *last = now;
        if *tokens >= n {
            *tokens -= n;
            Ok(())
        } else {
            let wait = ((n - *tokens) / self.per_second).min(86_400.0);
            Err(Duration::from_secs_f64(if wait.is_finite() {
                wait
            } else {
                86_400.0
            }))
        }
    }
}

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
    pub fn load(settings: &Settings, store: &Store) -> Result<EventLog, StoreError> {
        let mut summaries = HashMap::new();
        for shop in &settings.shops {
            summaries.insert(shop.id.clone(), EventSummary::of(&store.events(&shop.id)?));
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
    pub fn append(&self, store: &Store, shop: &ShopId, events: &[Event]) -> Result<(), StoreError> {
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
    pub fn prune(&self, store: &Store, shop: &ShopId, now: DateTime<Utc>) -> Result<usize, StoreError> {
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
            summaries.insert(shop.clone(), EventSummary::of(&store.events(shop)?));
        }
        Ok(removed)
    }
}

/// Why a beacon is not an event; the message quotes the bad value and lists the choices.
#[derive(Debug, thiserror::Error)]
pub enum BeaconError {
    #[error("event type {0:?} is unknown: use {names}", names = EventKind::names())]
    Kind(String),
    #[error("slot {0:?} is unknown: use {names}", names = Slot::names(&Slot::RECOMMENDATIONS))]
    Slot(String),
    #[error(transparent)]
    Product(#[from] crate::domain::DomainError),
}

/// Checks a beacon's type, slot and product ids and makes it an event.
pub fn check(b: &Beacon) -> Result<Event, BeaconError> {
    let kind = EventKind::parse(&b.kind).ok_or_else(|| BeaconError::Kind(b.kind.clone()))?;
    let slot = match &b.slot {
        None => None,
        Some(s) => Some(
            Slot::parse(s)
                .filter(|s| *s != Slot::Feedback)
                .ok_or_else(|| BeaconError::Slot(s.clone()))?,
        ),
    };
    let id = |raw: &Option<String>| raw.as_deref().map(ProductId::parse).transpose();
    Ok(Event {
        kind,
        slot,
        product: id(&b.product)?,
        item: id(&b.item)?,
        at: b.at,
        customer: b.customer.clone(),
    })
}

/// POST /v1/shops/{shop}/events
pub fn events(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / "events")
        .and(warp::post())
        .and(crate::web::client::address(&state))
        .and(warp::header::optional::<String>("origin"))
        .and(warp::body::content_length_limit(MAX_BODY))
        .and(warp::body::bytes())
        .and(with_state(state))
        .and_then(|shop: String, client_ip: IpAddr, origin: Option<String>, body: Bytes, state: AppState| async move {
            let shop = known_shop(&state, &shop)?;
            let bad = |m: String| reject(StatusCode::BAD_REQUEST, m);
            let example = r#"send {"type":"click","slot":"similar","product":"SRD-100","item":"TPG-100"}"#;
            let mut value: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| bad(format!("event body is not valid: {e}; {example}")))?;
            let token = value.as_object_mut().and_then(|o| o.remove("customer_token"));
            let parsed: Body = serde_json::from_value(value)
                .map_err(|e| bad(format!("event body is not valid: {e}; {example}")))?;
            let beacons = match parsed {
                Body::Batch { events } => events,
                Body::One(e) => vec![e],
            };
            if beacons.is_empty() || beacons.len() > MAX_EVENTS_PER_BODY {
                return Err(bad(format!("send 1 to {MAX_EVENTS_PER_BODY} events per request, not {}", beacons.len())));
            }
            let customer = token
                .as_ref()
                .and_then(|t| t.as_str())
                .and_then(|t| crate::web::customer_from_token(&state, &shop, t))
                .map(|id| id.0);
            let mut events = Vec::with_capacity(beacons.len());
            for b in &beacons {
                let mut e = check(b).map_err(|e| bad(e.to_string()))?;
                // The server's clock, not the client's, dates events, and only a verified
                // customer token names the customer.
                e.at = Some(Utc::now());
                e.customer = customer.clone();
                events.push(e);
            }
            let ip = client_ip;
            if let Err(wait) = state.event_limiter.take(ip, events.len() as f64) {
                let secs = crate::web::retry_after_secs(wait);
                return Err(crate::web::too_many(
                    format!("too many events from this address: send again in {secs} seconds (Retry-After), and batch events"),
                    wait,
                ));
            }
            if state.event_log.take(&shop, events.len()).is_err() {
                return Err(reject(StatusCode::TOO_MANY_REQUESTS, "too many events for this shop right now: slow down"));
            }
            // All or none, and on disk before the 202 says they were accepted.
            state.event_log.append(&state.store, &shop, &events).map_err(|err| crate::web::internal("storing events", err))?;
            state.store.durable().await.map_err(|err| crate::web::internal("flushing events", err))?;
            if state.event_log.over_cap(&shop) {
                let (log, store, shop) = (state.event_log.clone(), state.store.clone(), shop.clone());
                tokio::task::spawn_blocking(move || match log.prune(&store, &shop, Utc::now()) {
                    Ok(n) => tracing::info!(shop = %shop, removed = n, "events over the shop's cap pruned, oldest first"),
                    Err(e) => tracing::warn!(shop = %shop, error = %e, "pruning events failed"),
                });
            }
            let reply = warp::reply::with_status(warp::reply::json(&serde_json::json!({"accepted": events.len()})), StatusCode::ACCEPTED);
            Ok::<_, Rejection>(with_cors(&state, &shop, origin.as_deref(), reply))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_client_over_its_rate_is_refused_and_others_are_not() {
        let limiter = RateLimiter::new(3.0, 0.0);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        assert!(limiter.allow(a, 2.0));
        assert!(limiter.allow(a, 1.0));
        assert!(!limiter.allow(a, 1.0));
        assert!(limiter.allow(b, 3.0));
    }

    #[test]
    fn a_refused_client_is_told_how_long_until_it_may_send_again() {
        let limiter = RateLimiter::new(1.0, 1.0 / 60.0);
        let a: IpAddr = [10, 0, 0, 1].into();
        assert_eq!(limiter.take(a, 1.0), Ok(()));
        let wait = limiter.take(a, 1.0).unwrap_err();
        assert!(
            wait > Duration::from_secs(59) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        let never = RateLimiter::new(1.0, 0.0);
        assert_eq!(never.take(a, 1.0), Ok(()));
        assert_eq!(never.take(a, 1.0), Err(Duration::from_secs(86_400)));
    }

    #[test]
    fn unknown_types_and_slots_are_refused_by_name() {
        let beacon = |kind: &str, slot: Option<&str>| Beacon {
            kind: kind.into(),
            slot: slot.map(String::from),
            product: Some("SRD-100".into()),
            item: None,
            at: None,
            customer: None,
        };
        assert!(check(&beacon("view", None))
            .unwrap_err()
            .to_string()
            .contains("\"view\""));
        assert!(check(&beacon("click", Some("sidebar")))
            .unwrap_err()
            .to_string()
            .contains("\"sidebar\""));
        assert!(check(&beacon("click", Some("feedback"))).is_err());
        let event = check(&beacon("add_to_cart", Some("for_you"))).unwrap();
        assert_eq!(
            (event.kind, event.slot),
            (EventKind::AddToCart, Some(Slot::ForYou))
        );
    }
}
