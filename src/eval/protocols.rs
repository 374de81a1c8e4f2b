//! The three evaluation protocols, turning test purchases into cases: a *context* the models
//! see and the *truth* G they should have recommended.
//!
//! - **Basket completion** (`basket_completion`). Each test purchase with at least two distinct
//!   catalogue products: one of them, drawn by the seeded generator, is hidden (G = {it}); the
//!   others are the context, as if they were in the cart (no history: an anonymous cart).
//!   Models never list the context. Skipped: `one_product` (one distinct product) and
//!   `unknown_products` (two or more lines, but fewer than two products the catalogue knows).
//! - **Next order** (`next_order`). Each test purchase whose customer bought before: the
//!   context is every catalogue product that customer bought in purchases paid strictly before
//!   this one (in the training period or earlier in the test period: what the shop knew when
//!   the order came), the history says how often and when, and G is the order's distinct
//!   catalogue products. The order itself never reaches its own context. Models MAY list
//!   context products: a repurchase counts, so the recall ceiling is 1. Skipped:
//!   `unknown_products` (no line is a catalogue product) and `no_earlier_purchases` (a first
//!   purchase, or earlier ones of unknown products only).
//! - **Next order, new products** (`next_order_new`). The same cases, but models never list
//!   the context: only what the customer has not bought before can be credited, so the recall
//!   ceiling is the mean share of G that is new.
//!
//! Products are the model's indices (its catalogue sorted by id), so that a case is the same
//! whichever models are asked.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

use crate::domain::{CustomerId, ProductId};
use crate::eval::recommenders::HistoryItem;
use crate::records::Order;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    BasketCompletion,
    /// Repeats allowed: a repurchase of the context counts.
    NextOrder,
    /// Repeats forbidden: only products new to the customer count.
    NextOrderNew,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [
        Protocol::BasketCompletion,
        Protocol::NextOrder,
        Protocol::NextOrderNew,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::BasketCompletion => "basket_completion",
            Protocol::NextOrder => "next_order",
            Protocol::NextOrderNew => "next_order_new",
        }
    }

    /// Whether models may list context products ([`crate::eval::recommenders::Query::allow_repeats`]).
    pub fn allows_repeats(self) -> bool {
        matches!(self, Protocol::NextOrder)
    }

    /// The stream of the seed that `random` draws from under this protocol. Basket completion
    /// and next order (new products) keep the streams of the two protocols that came first, so
    /// their figures did not move when repeats were added.
    pub fn rng_stream(self) -> u64 {
        match self {
            Protocol::BasketCompletion => 1,
            Protocol::NextOrderNew => 2,
            Protocol::NextOrder => 3,
        }
    }
}

/// One test purchase as a model sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Position of the purchase in the test set.
    pub order: usize,
    /// When the purchase was paid.
    pub at: DateTime<Utc>,
    /// What the model is told: sorted, distinct product indices.
    pub context: Vec<u32>,
    /// Next order: the customer's purchases paid before `at`, per product, sorted by product
    /// (its products are exactly the context). Empty for basket completion.
    pub history: Vec<HistoryItem>,
    /// What was really bought (G): sorted, distinct, never empty.
    pub truth: Vec<u32>,
}

/// The cases of one protocol, and why the other test purchases were left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Cases {
    pub protocol: Protocol,
    pub test_orders: usize,
    pub cases: Vec<Case>,
    /// Reason → purchases skipped for it.
    pub skipped: BTreeMap<String, usize>,
}

impl Cases {
    /// The best recall any model can reach: 1 when repeats are allowed; otherwise the mean
    /// share of G that is not already in the context (1 for basket completion). `None` with no
    /// cases.
    pub fn recall_ceiling(&self) -> Option<f64> {
        if self.protocol.allows_repeats() {
            return (!self.cases.is_empty()).then_some(1.0);
        }
        let shares: Vec<f64> = self
            .cases
            .iter()
            .map(|c| {
                let new = c
                    .truth
                    .iter()
                    .filter(|g| c.context.binary_search(g).is_err())
                    .count();
                new as f64 / c.truth.len() as f64
            })
            .collect();
        crate::eval::stats::mean(&shares)
    }
}

/// The distinct catalogue products of an order, sorted.
pub fn known_products(order: &Order, index: &HashMap<ProductId, u32>) -> Vec<u32> {
    let set: BTreeSet<u32> = order
        .lines
        .iter()
        .filter_map(|l| l.product.as_ref())
        .filter_map(|p| index.get(p).copied())
        .collect();
    set.into_iter().collect()
}

/// How many distinct things an order's lines name, known to the catalogue or not.
fn distinct_lines(order: &Order) -> usize {
    let set: BTreeSet<String> = order
        .lines
        .iter()
        .map(|l| match (&l.product, &l.marketplace_product_id, &l.sku) {
            (Some(p), _, _) => format!("p:{}", p.as_str()),
            (None, Some(m), _) => format!("m:{m}"),
            (None, None, Some(s)) => format!("s:{s}"),
            (None, None, None) => format!("n:{}", l.name),
        })
        .collect();
    set.len()
}

fn skip(skipped: &mut BTreeMap<String, usize>, reason: &str) {
    *skipped.entry(reason.to_string()).or_default() += 1;
}

/// Basket completion over the test purchases (in time order). The hidden item of each used
/// purchase is drawn from `ChaCha8Rng::seed_from_u64(seed)`, one draw per used purchase in
/// time order, uniformly among its distinct catalogue products.
pub fn basket_completion(test: &[Order], index: &HashMap<ProductId, u32>, seed: u64) -> Cases {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cases = Vec::new();
    let mut skipped = BTreeMap::new();
    for (i, order) in test.iter().enumerate() {
        let mut known = known_products(order, index);
        if known.len() < 2 {
            let reason = if distinct_lines(order) >= 2 {
                "unknown_products"
            } else {
                "one_product"
            };
            skip(&mut skipped, reason);
            continue;
        }
        let hidden = known.remove(rng.gen_range(0..known.len()));
        cases.push(Case {
            order: i,
            at: order.paid_at,
            context: known,
            history: Vec::new(),
            truth: vec![hidden],
        });
    }
    Cases {
        protocol: Protocol::BasketCompletion,
        test_orders: test.len(),
        cases,
        skipped,
    }
}

/// When a customer paid, and which catalogue products they bought.
type Purchase = (DateTime<Utc>, Vec<u32>);

/// Next order (repeats allowed) over the test purchases (in time order); `train` and `test`
/// as the split gives them (purchases only).
pub fn next_order(train: &[Order], test: &[Order], index: &HashMap<ProductId, u32>) -> Cases {
    // Each customer's purchases, in time order: (paid_at, products).
    let mut purchases: HashMap<&CustomerId, Vec<Purchase>> = HashMap::new();
    for o in train.iter().chain(test) {
        purchases
            .entry(&o.customer)
            .or_default()
            .push((o.paid_at, known_products(o, index)));
    }
    for list in purchases.values_mut() {
        list.sort_by_key(|(at, _)| *at);
    }
    let mut cases = Vec::new();
    let mut skipped = BTreeMap::new();
    for (i, order) in test.iter().enumerate() {
        let truth = known_products(order, index);
        if truth.is_empty() {
            skip(&mut skipped, "unknown_products");
            continue;
        }
        let mut history: BTreeMap<u32, HistoryItem> = BTreeMap::new();
        for (at, products) in purchases
            .get(&order.customer)
            .into_iter()
            .flatten()
            .take_while(|(at, _)| *at < order.paid_at)
        {
            for &product in products {
                history
                    .entry(product)
                    .and_modify(|h| {
                        h.orders += 1;
                        h.last = *at;
                    })
                    .or_insert(HistoryItem {
                        product,
                        orders: 1,
                        first: *at,
                        last: *at,
                    });
            }
        }
        if history.is_empty() {
            skip(&mut skipped, "no_earlier_purchases");
            continue;
        }
        cases.push(Case {
            order: i,
            at: order.paid_at,
            context: history.keys().copied().collect(),
            history: history.into_values().collect(),
            truth,
        });
    }
    Cases {
        protocol: Protocol::NextOrder,
        test_orders: test.len(),
        cases,
        skipped,
    }
}

/// Next order, new products only: the cases of [`next_order`] under [`Protocol::NextOrderNew`].
pub fn next_order_new(next_order: &Cases) -> Cases {
    Cases {
        protocol: Protocol::NextOrderNew,
        ..next_order.clone()
    }
}

/// A protocol none of whose test purchases can be a case, for one reason (e.g. `no_customers`
/// for anonymous baskets).
pub fn all_skipped(protocol: Protocol, test_orders: usize, reason: &str) -> Cases {
    let mut skipped = BTreeMap::new();
    if test_orders > 0 {
        skipped.insert(reason.to_string(), test_orders);
    }
    Cases {
        protocol,
        test_orders,
        cases: Vec::new(),
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::fixtures::{at, order};
    use crate::records::OrderLine;

    /// Products A, B, C, D as indices 0..4.
    fn index() -> HashMap<ProductId, u32> {
        ["A", "B", "C", "D"]
            .iter()
            .enumerate()
            .map(|(i, p)| (ProductId::parse(p).unwrap(), i as u32))
            .collect()
    }

    #[test]
    fn basket_completion_hides_one_known_product_and_keeps_the_rest_as_context() {
        let mut unknown = order("U", "c3", at(5, 9), &["A"]);
        unknown.lines.push(OrderLine {
            product: None,
            marketplace_product_id: Some("999".into()),
            sku: None,
            name: "gone".into(),
            quantity: 1,
            unit_price: crate::domain::Rupiah(1),
        });
        let test = vec![
            order("T1", "c1", at(1, 9), &["A", "B", "C"]),
            order("T2", "c2", at(2, 9), &["D"]),
            order("T3", "c1", at(3, 9), &["B", "D", "B"]),
            unknown,
        ];
        let cases = basket_completion(&test, &index(), 7);
        assert_eq!(cases.test_orders, 4);
        assert_eq!(cases.cases.iter().map(|c| c.order).collect::<Vec<_>>(), [0, 2]);
        assert_eq!(
            cases.skipped,
            BTreeMap::from([
                ("one_product".to_string(), 1),
                ("unknown_products".to_string(), 1)
            ])
        );
        for (c, all) in cases.cases.iter().zip([vec![0, 1, 2], vec![1, 3]]) {
            assert_eq!(c.truth.len(), 1);
            assert!(
                !c.context.contains(&c.truth[0]),
                "the hidden item is not in the context"
            );
            let mut together = c.context.clone();
            together.push(c.truth[0]);
            together.sort_unstable();
            assert_eq!(together, all);
        }
        assert_eq!(cases.recall_ceiling(), Some(1.0));
    }

    #[test]
    fn the_hidden_item_is_drawn_by_the_seed() {
        let test: Vec<Order> = (0..40)
            .map(|i| order(&format!("T{i}"), "c", at(i + 1, 9), &["A", "B", "C", "D"]))
            .collect();
        let hidden = |seed| -> Vec<u32> {
            basket_completion(&test, &index(), seed)
                .cases
                .iter()
                .map(|c| c.truth[0])
                .collect()
        };
        assert_eq!(hidden(1), hidden(1), "same seed, same items");
        assert_ne!(hidden(1), hidden(2), "another seed, other items");
        // Every position gets drawn: the draw is over the whole basket.
        let drawn: BTreeSet<u32> = hidden(1).into_iter().collect();
        assert_eq!(drawn.len(), 4);
    }

    #[test]
    fn next_order_sees_only_purchases_paid_strictly_before_the_order() {
        let train = vec![
            order("R1", "c1", at(1, 9), &["A"]),
            order("R2", "c2", at(2, 9), &["B"]),
        ];
        let test = vec![
            // c1's second order: its context is R1 only, never its own items.
            order("T1", "c1", at(10, 9), &["B", "C"]),
            // c3's first order, and another of c3 paid in the same second: no history yet.
            order("T2", "c3", at(11, 9), &["D"]),
            order("T3", "c3", at(11, 9), &["A"]),
            // c1 again: R1 and T1 (an earlier test purchase) are history.
            order("T4", "c1", at(12, 9), &["A", "D"]),
            // And again: A now bought twice before.
            order("T5", "c1", at(13, 9), &["A"]),
        ];
        let cases = next_order(&train, &test, &index());
        assert_eq!(cases.protocol, Protocol::NextOrder);
        assert_eq!(
            cases.skipped,
            BTreeMap::from([("no_earlier_purchases".to_string(), 2)])
        );
        let got: Vec<(usize, Vec<u32>, Vec<u32>)> = cases
            .cases
            .iter()
            .map(|c| (c.order, c.context.clone(), c.truth.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, vec![0], vec![1, 2]),
                (3, vec![0, 1, 2], vec![0, 3]),
                (4, vec![0, 1, 2, 3], vec![0])
            ]
        );
        for c in &cases.cases {
            assert_eq!(c.at, test[c.order].paid_at);
            let products: Vec<u32> = c.history.iter().map(|h| h.product).collect();
            assert_eq!(products, c.context, "the history's products are the context");
        }
        let h = |product, orders, first, last| HistoryItem {
            product,
            orders,
            first,
            last,
        };
        assert_eq!(
            cases.cases[2].history,
            vec![
                h(0, 2, at(1, 9), at(12, 9)),
                h(1, 1, at(10, 9), at(10, 9)),
                h(2, 1, at(10, 9), at(10, 9)),
                h(3, 1, at(12, 9), at(12, 9)),
            ]
        );
        // Repeats allowed: any of G can be recommended.
        assert_eq!(cases.recall_ceiling(), Some(1.0));
        // New products only: T1 both of G are new; T4: A was bought before, D is new; T5 none.
        let new = next_order_new(&cases);
        assert_eq!(new.protocol, Protocol::NextOrderNew);
        assert_eq!((&new.cases, &new.skipped), (&cases.cases, &cases.skipped));
        assert_eq!(new.recall_ceiling(), Some((1.0 + 0.5 + 0.0) / 3.0));
    }

    #[test]
    fn a_protocol_with_no_cases_says_why_and_has_no_ceiling() {
        let none = all_skipped(Protocol::NextOrder, 7, "no_customers");
        assert_eq!(none.skipped, BTreeMap::from([("no_customers".to_string(), 7)]));
        assert_eq!(none.recall_ceiling(), None);
        assert_eq!(
            Protocol::ALL.map(Protocol::name),
            ["basket_completion", "next_order", "next_order_new"]
        );
        assert_eq!(
            serde_json::to_value(Protocol::NextOrderNew).unwrap(),
            "next_order_new"
        );
    }
}
