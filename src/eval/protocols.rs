//! The two evaluation protocols, turning test purchases into cases: a *context* the models
//! see and the *truth* G they should have recommended.
//!
//! - **Basket completion.** Each test purchase with at least two distinct catalogue products:
//!   one of them, drawn by the seeded generator, is hidden (G = {it}); the others are the
//!   context, as if they were in the cart. Skipped: `one_product` (one distinct product) and
//!   `unknown_products` (two or more lines, but fewer than two products the catalogue knows).
//! - **Next order.** Each test purchase whose customer bought before: the context is every
//!   catalogue product that customer bought in purchases paid strictly before this one (in
//!   the training period or earlier in the test period: what the shop knew when the order
//!   came), G is the order's distinct catalogue products. The order itself never reaches its
//!   own context. Skipped: `unknown_products` (no line is a catalogue product) and
//!   `no_earlier_purchases` (a first purchase, or earlier ones of unknown products only).
//!
//! Products are the model's indices (its catalogue sorted by id), so that a case is the same
//! whichever models are asked.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::domain::{CustomerId, ProductId};
use crate::records::Order;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    BasketCompletion,
    NextOrder,
}

impl Protocol {
    pub const ALL: [Protocol; 2] = [Protocol::BasketCompletion, Protocol::NextOrder];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::BasketCompletion => "basket_completion",
            Protocol::NextOrder => "next_order",
        }
    }
}

/// One test purchase as a model sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Position of the purchase in the test set.
    pub order: usize,
    /// What the model is told: sorted, distinct product indices.
    pub context: Vec<u32>,
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
    /// The best recall any model can reach when it never recommends the context: the mean
    /// share of G that is not already in the context (1 for basket completion).
    pub fn recall_ceiling(&self) -> Option<f64> {
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
            context: known,
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
type Purchase = (chrono::DateTime<chrono::Utc>, Vec<u32>);

/// Next order over the test purchases (in time order); `train` and `test` as the split gives
/// them (purchases only).
pub fn next_order(train: &[Order], test: &[Order], index: &HashMap<ProductId, u32>) -> Cases {
    // Each customer's purchases, in time order: (paid_at, products).
    let mut history: HashMap<&CustomerId, Vec<Purchase>> = HashMap::new();
    for o in train.iter().chain(test) {
        history
            .entry(&o.customer)
            .or_default()
            .push((o.paid_at, known_products(o, index)));
    }
    for list in history.values_mut() {
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
        let context: BTreeSet<u32> = history
            .get(&order.customer)
            .map(|list| {
                list.iter()
                    .take_while(|(at, _)| *at < order.paid_at)
                    .flat_map(|(_, products)| products.iter().copied())
                    .collect()
            })
            .unwrap_or_default();
        if context.is_empty() {
            skip(&mut skipped, "no_earlier_purchases");
            continue;
        }
        cases.push(Case {
            order: i,
            context: context.into_iter().collect(),
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
        ];
        let cases = next_order(&train, &test, &index());
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
            vec![(0, vec![0], vec![1, 2]), (3, vec![0, 1, 2], vec![0, 3])]
        );
        // T1: both of G are new; T4: A was bought before, D is new.
        assert_eq!(cases.recall_ceiling(), Some((1.0 + 0.5) / 2.0));
    }
}
