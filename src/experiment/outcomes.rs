//! From what was recorded to visitor-level outcomes: the unit of the experiment is the
//! visitor, not the page view. Each visitor's events (with the arm the server gave them)
//! decide their arm; their purchases are the widget's `purchase` events (`Laris.purchase`
//! on the shop's thank-you page) and the marketplace orders of the customer a customer
//! token tied to the visitor, paid within the attribution window after the visitor's first
//! event. Whatever cannot be tied to an arm is counted, never dropped silently.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::experiment::stats::VisitorOutcome;
use crate::records::{Event, EventKind, Order};

/// What could not be tied to an arm, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Untied {
    /// Events without a visitor id (no tracking, or sent outside the widget).
    pub events_without_visitor: u64,
    /// Events of a visitor but without an arm (the shop ran no experiment then).
    pub events_without_arm: u64,
    /// Purchase events without a visitor or an arm.
    pub purchases: u64,
    /// Visitors seen in both arms (the experiment's salt or split changed while they
    /// visited): left out of both.
    pub visitors_in_both_arms: u64,
}

impl Untied {
    fn count(&mut self, without_visitor: bool, purchase: bool) {
        if without_visitor {
            self.events_without_visitor += 1;
        } else {
            self.events_without_arm += 1;
        }
        self.purchases += u64::from(purchase);
    }
}

/// The visitors of each arm with their outcomes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcomes {
    pub control: Vec<VisitorOutcome>,
    pub treatment: Vec<VisitorOutcome>,
    pub untied: Untied,
    /// Marketplace orders credited to a visitor through a customer token.
    pub tied_orders: u64,
}

#[derive(Default)]
struct Visitor {
    arms: BTreeSet<String>,
    first: Option<DateTime<Utc>>,
    customers: BTreeSet<String>,
    /// Order id → value, so an order counted twice (a repeated `purchase` call, or the
    /// same order from the widget and the marketplace) counts once.
    orders: BTreeMap<String, i64>,
    purchased: bool,
}

/// The outcomes of the events in `[from, to)` (events without a time count as inside), with
/// marketplace `orders` tied through customer tokens within `attribution` after a visitor's
/// first event.
pub fn outcomes(
    events: &[Event],
    orders: &[Order],
    from: Option<DateTime<Utc>>,
    to: DateTime<Utc>,
    attribution: Duration,
) -> Outcomes {
    let mut tally = Tally::new(from, to);
    for e in events {
        tally.add(e);
    }
    tally.finish(orders, attribution)
}

/// [`outcomes`] event by event: a shop's events are read one at a time
/// ([`crate::store::ShopStore::for_each_event`]), and what is kept is a visitor's tally,
/// not their events.
pub struct Tally {
    from: Start,
    to: DateTime<Utc>,
    visitors: BTreeMap<String, Visitor>,
    untied: Untied,
}

/// Where a tally's period starts.
enum Start {
    /// Given (or open: every event before `to`).
    At(Option<DateTime<Utc>>),
    /// At the first event with an arm, which is known only once every event was seen:
    /// meanwhile the untied events with a time are kept as (time, without a visitor,
    /// purchase), to be counted from it, so that the events are read once.
    FirstArm {
        first: Option<DateTime<Utc>>,
        untied: Vec<(DateTime<Utc>, bool, bool)>,
    },
}

impl Tally {
    /// Tallies the events in `[from, to)`.
    pub fn new(from: Option<DateTime<Utc>>, to: DateTime<Utc>) -> Tally {
        Tally {
            from: Start::At(from),
            to,
            visitors: BTreeMap::new(),
            untied: Untied::default(),
        }
    }

    /// Tallies the events before `to` from the first one with an arm ([`Tally::from`]).
    pub fn from_first_arm(to: DateTime<Utc>) -> Tally {
        Tally {
            from: Start::FirstArm {
                first: None,
                untied: Vec::new(),
            },
            ..Tally::new(None, to)
        }
    }

    /// Where the period ends (the events from it on are left out).
    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    /// Where the period starts: as given, else the first event with an arm seen so far.
    pub fn from(&self) -> Option<DateTime<Utc>> {
        match &self.from {
            Start::At(at) => *at,
            Start::FirstArm { first, .. } => *first,
        }
    }

    pub fn add(&mut self, e: &Event) {
        let before = |at: DateTime<Utc>| matches!(self.from, Start::At(Some(f)) if at < f);
        if e.at.is_some_and(|at| at >= self.to || before(at)) {
            return;
        }
        let purchase = e.kind == EventKind::Purchase;
        let (Some(visitor), Some(arm)) = (e.visitor.as_deref(), e.arm.as_deref()) else {
            if let (Start::FirstArm { untied, .. }, Some(at)) = (&mut self.from, e.at) {
                untied.push((at, e.visitor.is_none(), purchase));
                return;
            }
            self.untied.count(e.visitor.is_none(), purchase);
            return;
        };
        if let (Start::FirstArm { first, .. }, Some(at)) = (&mut self.from, e.at) {
            *first = Some(first.map_or(at, |f| f.min(at)));
        }
        if !self.visitors.contains_key(visitor) {
            self.visitors.insert(visitor.to_string(), Visitor::default());
        }
        let v = self.visitors.get_mut(visitor).expect("inserted above");
        if !v.arms.contains(arm) {
            v.arms.insert(arm.to_string());
        }
        if let Some(at) = e.at {
            v.first = Some(v.first.map_or(at, |f| f.min(at)));
        }
        if let Some(c) = &e.customer {
            v.customers.insert(c.clone());
        }
        if purchase {
            v.purchased = true;
            let id = e
                .order
                .clone()
                .unwrap_or_else(|| format!("event:{}", v.orders.len()));
            v.orders.insert(id, e.total.map_or(0, |t| t.0));
        }
    }

    /// The outcomes, with the marketplace `orders` of the customers the visitors were tied
    /// to, paid within `attribution` after a visitor's first event.
    pub fn finish(self, orders: &[Order], attribution: Duration) -> Outcomes {
        let mut untied = self.untied;
        if let Start::FirstArm { first, untied: kept } = &self.from {
            for (at, without_visitor, purchase) in kept {
                if first.is_some_and(|f| *at >= f) {
                    untied.count(*without_visitor, *purchase);
                }
            }
        }
        let mut out = Outcomes {
            untied,
            ..Outcomes::default()
        };
        let mut visitors = self.visitors;
        let mut by_customer: HashMap<&str, Vec<&Order>> = HashMap::new();
        for o in orders.iter().filter(|o| o.is_purchase()) {
            by_customer.entry(o.customer.0.as_str()).or_default().push(o);
        }
        for v in visitors.values_mut() {
            let Some(first) = v.first else { continue };
            for c in &v.customers {
                for o in by_customer.get(c.as_str()).into_iter().flatten() {
                    if o.paid_at >= first && o.paid_at < first + attribution && o.paid_at < self.to {
                        if v.orders.insert(o.invoice.clone(), o.products_total.0).is_none() {
                            out.tied_orders += 1;
                        }
                        v.purchased = true;
                    }
                }
            }
        }
        for v in visitors.into_values() {
            let outcome = VisitorOutcome {
                converted: v.purchased,
                order_values: v.orders.into_values().collect(),
            };
            match (v.arms.len(), v.arms.iter().next().map(String::as_str)) {
                (1, Some("control")) => out.control.push(outcome),
                (1, Some("treatment")) => out.treatment.push(outcome),
                _ => out.untied.visitors_in_both_arms += 1,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CustomerId, Rupiah};
    use chrono::TimeZone;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn event(kind: EventKind, visitor: Option<&str>, arm: Option<&str>, h: i64) -> Event {
        Event {
            kind,
            slot: None,
            product: None,
            item: None,
            at: Some(at(h)),
            customer: None,
            visitor: visitor.map(String::from),
            arm: arm.map(String::from),
            order: None,
            total: None,
            items: Vec::new(),
        }
    }

    fn purchase(visitor: &str, arm: &str, order: &str, total: i64, h: i64) -> Event {
        Event {
            order: Some(order.into()),
            total: Some(Rupiah(total)),
            ..event(EventKind::Purchase, Some(visitor), Some(arm), h)
        }
    }

    #[test]
    fn visitors_are_the_unit_and_what_cannot_be_tied_is_counted() {
        let mut tied = event(EventKind::Impression, Some("v3"), Some("treatment"), 1);
        tied.customer = Some("628111".into());
        let events = vec![
            event(EventKind::Impression, Some("v1"), Some("control"), 0),
            event(EventKind::Impression, Some("v1"), Some("control"), 2),
            purchase("v1", "control", "T-1", 50_000, 3),
            // The same order reported twice counts once.
            purchase("v1", "control", "T-1", 50_000, 3),
            event(EventKind::Impression, Some("v2"), Some("treatment"), 0),
            event(EventKind::Click, Some("v2"), Some("treatment"), 1),
            purchase("v2", "treatment", "T-2", 80_000, 2),
            purchase("v2", "treatment", "T-3", 20_000, 5),
            tied,
            // Seen in both arms: left out, counted.
            event(EventKind::Impression, Some("v4"), Some("control"), 0),
            event(EventKind::Impression, Some("v4"), Some("treatment"), 1),
            // No visitor (no tracking), no arm (no experiment then).
            event(EventKind::Impression, None, None, 0),
            Event {
                visitor: None,
                ..purchase("v5", "control", "T-9", 1, 0)
            },
            Event {
                arm: None,
                ..event(EventKind::Purchase, Some("v6"), None, 0)
            },
            // Outside the period.
            event(EventKind::Impression, Some("v7"), Some("control"), 100),
        ];
        let mut order = crate::store::contract::order("INV/1", "SRD-100", 2);
        order.customer = CustomerId("628111".into());
        order.paid_at = at(10);
        let mut late = order.clone();
        late.invoice = "INV/2".into();
        late.paid_at = at(1 + 73);
        let o = outcomes(&events, &[order, late], Some(at(0)), at(50), Duration::hours(72));
        assert_eq!(o.control.len(), 1);
        assert_eq!(o.control[0].order_values, [50_000]);
        assert_eq!(o.treatment.len(), 2);
        let mut values: Vec<Vec<i64>> = o
            .treatment
            .iter()
            .map(|v| {
                let mut values = v.order_values.clone();
                values.sort();
                values
            })
            .collect();
        values.sort();
        assert_eq!(values, [vec![20_000, 80_000], vec![36_000]]);
        assert!(o.treatment.iter().all(|v| v.converted));
        assert_eq!(o.tied_orders, 1, "the late order is past the attribution window");
        assert_eq!(
            o.untied,
            Untied {
                events_without_visitor: 2,
                events_without_arm: 1,
                purchases: 2,
                visitors_in_both_arms: 1,
            }
        );
    }

    #[test]
    fn a_period_from_the_first_arm_counts_what_a_period_given_from_it_counts_in_one_read() {
        let events = vec![
            event(EventKind::Impression, None, None, 1),
            event(EventKind::Impression, Some("early"), None, 2),
            purchase("early", "control", "O-0", 10_000, 2),
            event(EventKind::Impression, Some("v1"), Some("control"), 5),
            event(EventKind::Impression, None, None, 6),
            event(EventKind::Impression, Some("v2"), None, 7),
            event(EventKind::Impression, Some("v2"), Some("treatment"), 4),
            Event {
                visitor: None,
                arm: None,
                ..purchase("x", "control", "O-1", 20_000, 8)
            },
            event(EventKind::Impression, Some("late"), Some("treatment"), 30),
        ];
        // The first event with an arm is O-0's purchase at hour 2 ... once it is left out,
        // v2's at hour 4.
        let without_early: Vec<Event> = events
            .iter()
            .filter(|e| e.order.as_deref() != Some("O-0"))
            .cloned()
            .collect();
        let mut derived = Tally::from_first_arm(at(24));
        without_early.iter().for_each(|e| derived.add(e));
        assert_eq!(derived.from(), Some(at(4)));
        let given = outcomes(&without_early, &[], Some(at(4)), at(24), Duration::hours(24));
        let o = derived.finish(&[], Duration::hours(24));
        assert_eq!(o, given);
        assert_eq!(
            o.untied,
            Untied {
                events_without_visitor: 2,
                events_without_arm: 1,
                purchases: 1,
                visitors_in_both_arms: 0,
            },
            "the untied events from hour 4 on, none before"
        );
        assert_eq!(
            (o.control.len(), o.treatment.len()),
            (1, 1),
            "v1, v2; late is past the end"
        );

        let mut derived = Tally::from_first_arm(at(24));
        events.iter().for_each(|e| derived.add(e));
        assert_eq!(derived.from(), Some(at(2)));
        assert_eq!(
            derived.finish(&[], Duration::hours(24)),
            outcomes(&events, &[], Some(at(2)), at(24), Duration::hours(24))
        );
    }
}
