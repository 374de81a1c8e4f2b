//! Who qualifies for each automation at a moment, and why: pure code over the shop's
//! customers, orders and model, so that the preview and the run decide alike and the tests
//! fix the clock.
//!
//! | kind | a customer qualifies when | the period (one message per customer and period) |
//! |---|---|---|
//! | `post_purchase` | a paid order's payment is `after_days` to `after_days + within_days` days old | the invoice |
//! | `replenish` | a product they bought in `min_orders` orders or more, on average at least a week apart, is due: the time since they last bought it has passed their own average interval between its orders, by at most `within_days` | each due product with its last purchase |
//! | `win_back` | their RFM segment is one of `segments` | the segment and their last order (a customer who comes back and lapses again is a new period) |
//! | `tier_up` | their last tier change, at most `within_days` days ago, took them to a higher tier | the new tier |

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

use crate::config::outreach::Automation;
use crate::domain::CustomerId;
use crate::model::ShopModel;
use crate::recommend::blend::{rank, Query};
use crate::records::{AutomationKind, Customer, MessageProduct, Order, Why};

/// replenish: a product bought again sooner than this on average is a stock-up, not a rhythm.
pub const MIN_INTERVAL_DAYS: i64 = 7;

/// The sentences of the reasons ([`Why`]) the automations give: English with `{name}`
/// places, translated by the dashboard's catalogue (a test checks every one is in it).
pub mod why {
    pub const PAID: &str =
        "paid {invoice} on {date} ({ago} days ago): {bought}; suggested with what they bought";
    pub const DUE: &str = "buys again and is due: {items}";
    pub const DUE_ITEM: &str = "{product} about every {every} days, last on {date} ({ago} days ago)";
    pub const SEGMENT: &str = "in segment {segment}: {orders} orders, the last on {date} ({ago} days ago)";
    pub const TIER_UP_FROM: &str = "reached {tier} on {date}, up from {previous} ({pct} % off)";
    pub const TIER: &str = "reached {tier} on {date} ({pct} % off)";

    pub const ALL: [&str; 6] = [PAID, DUE, DUE_ITEM, SEGMENT, TIER_UP_FROM, TIER];
}

/// A customer an automation would write to, before the rules (opt-out, caps, what was
/// recorded already) are applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub customer: CustomerId,
    pub period: String,
    /// Why, for the owner ([`Why::english`] in plain English).
    pub reason: Why,
    pub products: Vec<MessageProduct>,
    /// tier_up: the new tier, its discount and the tier before.
    pub tier: Option<TierChange>,
    /// win_back: the segment.
    pub segment: Option<String>,
    /// Days since the customer's last order.
    pub days_since_last_order: i64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TierChange {
    pub name: String,
    pub discount_pct: f64,
    pub previous: Option<String>,
}

/// What a shop's automations read.
pub struct ShopData<'a> {
    pub customers: &'a [Customer],
    pub orders: &'a [Order],
    pub model: &'a ShopModel,
}

impl ShopData<'_> {
    /// Every id a customer is known by (their own and their aliases) → the customer.
    fn by_any_id(&self) -> HashMap<&CustomerId, &Customer> {
        let mut out = HashMap::new();
        for c in self.customers {
            out.insert(&c.id, c);
            for a in &c.aliases {
                out.insert(a, c);
            }
        }
        out
    }
}

/// The candidates of one automation at `now`, by customer id.
pub fn candidates(a: &Automation, data: &ShopData, now: DateTime<Utc>) -> Vec<Candidate> {
    let mut out = match a.kind {
        AutomationKind::PostPurchase => post_purchase(a, data, now),
        AutomationKind::Replenish => replenish(a, data, now),
        AutomationKind::WinBack => win_back(a, data, now),
        AutomationKind::TierUp => tier_up(a, data, now),
    };
    out.sort_by(|x, y| (&x.customer.0, &x.period).cmp(&(&y.customer.0, &y.period)));
    out
}

fn days(d: Duration) -> i64 {
    d.num_days()
}

fn product_of(model: &ShopModel, index: usize) -> MessageProduct {
    let p = &model.products[index];
    MessageProduct {
        id: p.id.clone(),
        name: p.name.clone(),
        price: p.price,
        url: p.url.clone(),
    }
}

fn sellable(model: &ShopModel, index: usize) -> bool {
    let p = &model.products[index];
    p.status == crate::records::ProductStatus::Active && p.stock.is_none_or(|s| s > 0)
}

fn post_purchase(a: &Automation, data: &ShopData, now: DateTime<Utc>) -> Vec<Candidate> {
    let owners = data.by_any_id();
    let model = data.model;
    let from = now - Duration::days(i64::from(a.after_days + a.within_days));
    let to = now - Duration::days(i64::from(a.after_days));
    let mut out = Vec::new();
    for order in data.orders {
        if !order.is_purchase() || order.paid_at <= from || order.paid_at > to {
            continue;
        }
        let Some(customer) = owners.get(&order.customer) else {
            continue;
        };
        let mut bought: Vec<u32> = order
            .lines
            .iter()
            .filter_map(|l| l.product.as_ref())
            .filter_map(|p| model.product_index(p))
            .map(|i| i as u32)
            .collect();
        bought.sort_unstable();
        bought.dedup();
        if bought.is_empty() {
            continue;
        }
        let query = Query {
            context: &bought,
            history: &[],
            now,
            allow_repeats: false,
        };
        let keep = |i: u32| bought.binary_search(&i).is_err() && sellable(model, i as usize);
        let products: Vec<MessageProduct> = rank(
            &model.blend,
            &model.similar,
            &model.fit.item.weights,
            &query,
            a.products,
            &keep,
        )
        .into_iter()
        .map(|r| product_of(model, r.index as usize))
        .collect();
        if products.is_empty() {
            continue;
        }
        let names: Vec<&str> = order.lines.iter().map(|l| l.name.as_str()).collect();
        out.push(Candidate {
            customer: customer.id.clone(),
            period: order.invoice.clone(),
            reason: Why::new(why::PAID)
                .arg("invoice", &order.invoice)
                .arg("date", order.paid_at.format("%Y-%m-%d"))
                .arg("ago", days(now - order.paid_at))
                .arg("bought", names.join(", ")),
            products,
            tier: None,
            segment: None,
            days_since_last_order: days(now - customer.last_order),
        });
    }
    out
}

fn replenish(a: &Automation, data: &ShopData, now: DateTime<Utc>) -> Vec<Candidate> {
    let model = data.model;
    let window = Duration::days(i64::from(a.within_days));
    let mut out = Vec::new();
    for customer in data.customers {
        let Some(history) = model.histories.get(model.customer(&customer.id)) else {
            continue;
        };
        let mut due: Vec<(usize, DateTime<Utc>, i64)> = Vec::new();
        for h in history {
            if h.orders < a.min_orders || h.orders < 2 {
                continue;
            }
            let interval = (h.last - h.first) / (h.orders as i32 - 1);
            if interval < Duration::days(MIN_INTERVAL_DAYS) {
                continue;
            }
            let due_at = h.last + interval;
            if due_at <= now && now < due_at + window && sellable(model, h.product as usize) {
                due.push((h.product as usize, h.last, interval.num_days()));
            }
        }
        if due.is_empty() {
            continue;
        }
        let period = due
            .iter()
            .map(|(i, last, _)| format!("{}@{}", model.products[*i].id, last.format("%Y-%m-%d")))
            .collect::<Vec<_>>()
            .join(",");
        let items = due
            .iter()
            .map(|(i, last, every)| {
                Why::new(why::DUE_ITEM)
                    .arg("product", &model.products[*i].name)
                    .arg("every", every)
                    .arg("date", last.format("%Y-%m-%d"))
                    .arg("ago", days(now - *last))
            })
            .collect();
        out.push(Candidate {
            customer: customer.id.clone(),
            period,
            reason: Why::new(why::DUE).items(items),
            products: due.iter().map(|(i, _, _)| product_of(model, *i)).collect(),
            tier: None,
            segment: None,
            days_since_last_order: days(now - customer.last_order),
        });
    }
    out
}

fn win_back(a: &Automation, data: &ShopData, now: DateTime<Utc>) -> Vec<Candidate> {
    let model = data.model;
    data.customers
        .iter()
        .filter_map(|c| {
            let segment = c.segment.as_deref()?;
            if !a.segments.iter().any(|s| s == segment) {
                return None;
            }
            // What they bought most, as a reminder of what they liked.
            let products = model
                .histories
                .get(model.customer(&c.id))
                .map(|h| {
                    let mut h: Vec<_> = h.iter().filter(|x| sellable(model, x.product as usize)).collect();
                    h.sort_by(|x, y| y.orders.cmp(&x.orders).then(y.last.cmp(&x.last)));
                    h.iter()
                        .take(3)
                        .map(|x| product_of(model, x.product as usize))
                        .collect()
                })
                .unwrap_or_default();
            Some(Candidate {
                customer: c.id.clone(),
                period: format!("{segment}@{}", c.last_order.format("%Y-%m-%d")),
                reason: Why::new(why::SEGMENT)
                    .arg("segment", segment)
                    .arg("orders", c.order_count)
                    .arg("date", c.last_order.format("%Y-%m-%d"))
                    .arg("ago", days(now - c.last_order)),
                products,
                tier: None,
                segment: Some(segment.to_string()),
                days_since_last_order: days(now - c.last_order),
            })
        })
        .collect()
}

fn tier_up(a: &Automation, data: &ShopData, now: DateTime<Utc>) -> Vec<Candidate> {
    let ladder: BTreeMap<&str, (usize, f64)> = data
        .model
        .loyalty
        .ladder
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), (i, t.discount_pct)))
        .collect();
    let window = Duration::days(i64::from(a.within_days));
    data.customers
        .iter()
        .filter_map(|c| {
            let (at, tier) = c.tier_history.last()?;
            if *at > now || now - *at > window {
                return None;
            }
            let &(rank, discount_pct) = ladder.get(tier.as_str())?;
            let previous = c
                .tier_history
                .len()
                .checked_sub(2)
                .map(|i| c.tier_history[i].1.clone());
            let before = previous.as_deref().and_then(|p| ladder.get(p)).map(|x| x.0);
            let higher = match before {
                Some(b) => rank > b,
                // Entering the ladder counts only above its first rung.
                None => rank > 0,
            };
            if !higher {
                return None;
            }
            Some(Candidate {
                customer: c.id.clone(),
                period: tier.clone(),
                reason: match previous.as_deref() {
                    Some(p) => Why::new(why::TIER_UP_FROM).arg("previous", p),
                    None => Why::new(why::TIER),
                }
                .arg("tier", tier)
                .arg("date", at.format("%Y-%m-%d"))
                .arg("pct", discount_pct),
                products: Vec::new(),
                tier: Some(TierChange {
                    name: tier.clone(),
                    discount_pct,
                    previous,
                }),
                segment: None,
                days_since_last_order: days(now - c.last_order),
            })
        })
        .collect()
}
