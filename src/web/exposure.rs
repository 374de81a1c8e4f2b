//! Exposures: while a shop runs an experiment, the server notes once per visitor (and
//! process) that the visitor reached the widget — their first request for fragments or for
//! their arm — as an `exposure` event with the visitor id and arm. The report counts a
//! visitor in an arm from any of their events, and without this a control visitor on a page
//! whose only slots are recommendations would send none (their slots are empty, so nothing
//! is ever seen or clicked) and would count only if they bought: control would shrink to
//! its buyers. With it, both arms count every visitor the same way, when they are assigned.
//!
//! The memory of who was noted is bounded ([`MAX_REMEMBERED`]) and cleared when full; a
//! visitor noted again, here or on another replica, changes no count.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

use chrono::Utc;

use crate::config::ShopSettings;
use crate::domain::{ProductId, ShopId};
use crate::experiment::assign::Arm;
use crate::records::{Event, EventKind};
use crate::web::event_log::EventLog;
use crate::web::event_writer::{EventWriter, Written};
use crate::web::experiment::{arm_name, running};

/// Visitors remembered at most before the memory is cleared.
pub const MAX_REMEMBERED: usize = 100_000;

/// The visitors noted so far, by shop and experiment salt: a hash of the three (keyed at
/// random per process), so that a visitor noted before costs no allocation on the widget's
/// request path; two visitors sharing one of 2^64 values is not a concern at this size.
#[derive(Default)]
pub struct Exposures {
    hasher: RandomState,
    seen: Mutex<HashSet<u64>>,
}

impl Exposures {
    /// Whether `visitor` is new in the shop's experiment with `salt` (remembered from now on).
    pub fn first(&self, shop: &ShopId, salt: &str, visitor: &str) -> bool {
        let key = self.hasher.hash_one((shop.as_str(), salt, visitor));
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= MAX_REMEMBERED {
            seen.clear();
        }
        seen.insert(key)
    }
}

impl Exposures {
    /// Notes `visitor`'s exposure in `arm` (on the page of `product()`, when known; asked
    /// only for a new visitor) unless it was noted already, through the event `writer` in
    /// the background: the answer never waits for the store. Counted against the shop's
    /// event rate (`log`) like beacons; an exposure over it is left out.
    pub fn note(
        &self,
        log: &EventLog,
        writer: &Arc<EventWriter>,
        shop: &ShopSettings,
        visitor: &str,
        arm: Arm,
        product: impl FnOnce() -> Option<String>,
    ) {
        let Some(experiment) = running(shop) else {
            return;
        };
        if !self.first(&shop.id, &experiment.salt, visitor) || log.take(&shop.id, 1).is_err() {
            return;
        }
        let event = Event {
            kind: EventKind::Exposure,
            slot: None,
            product: product().and_then(|p| ProductId::parse(&p).ok()),
            item: None,
            at: Some(Utc::now()),
            customer: None,
            visitor: Some(visitor.to_string()),
            arm: Some(arm_name(arm).to_string()),
            order: None,
            total: None,
            items: Vec::new(),
        };
        let writer = writer.clone();
        let shop = shop.id.clone();
        tokio::spawn(async move {
            match writer.write(shop.clone(), vec![event]).await {
                Written::Stored | Written::Buffered => {}
                other => {
                    tracing::warn!(shop = %shop, outcome = ?other, "an experiment exposure was not stored")
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visitor_is_new_once_per_shop_and_salt() {
        let e = Exposures::default();
        let toko = ShopId::parse("toko").unwrap();
        let lain = ShopId::parse("lain").unwrap();
        assert!(e.first(&toko, "toko/a", "v1"));
        assert!(!e.first(&toko, "toko/a", "v1"));
        assert!(
            e.first(&toko, "toko/b", "v1"),
            "a new experiment notes them again"
        );
        assert!(e.first(&lain, "toko/a", "v1"));
        assert!(e.first(&toko, "toko/a", "v2"));
    }

    #[test]
    fn the_memory_is_bounded() {
        let e = Exposures::default();
        let toko = ShopId::parse("toko").unwrap();
        for i in 0..MAX_REMEMBERED + 10 {
            e.first(&toko, "s", &i.to_string());
        }
        assert!(e.seen.lock().unwrap().len() <= MAX_REMEMBERED);
    }
}
