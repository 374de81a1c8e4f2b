//! The time split of an evaluation: purchases before the split point train the models,
//! purchases from it on are the test set. Only purchases ([`Order::is_purchase`]) take part;
//! cancelled, rejected, returned and fraud orders are counted and left out.

use chrono::{DateTime, Utc};

use crate::eval::EvalError;
use crate::records::Order;

/// Where to cut the orders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SplitRule {
    /// Purchases paid before this instant train; the rest test.
    At(DateTime<Utc>),
    /// The last fraction of the purchases by payment time test (0 < f < 1).
    TestFraction(f64),
}

/// Purchases on either side of the split, each in time order (`paid_at`, then invoice).
#[derive(Debug, Clone)]
pub struct Split {
    pub train: Vec<Order>,
    pub test: Vec<Order>,
    /// Every training purchase was paid strictly before it, every test purchase at or after it.
    pub split_at: DateTime<Utc>,
    /// Orders that are not purchases, left out on both sides.
    pub not_purchases: usize,
}

/// Splits `orders` by payment time.
///
/// With a test fraction `f` of `n` purchases, the test set starts at the purchase ranked
/// `n − round(f·n)` in time order (at least one purchase on each side), and that purchase's
/// `paid_at` becomes the split point: purchases paid at the very same second go to the test
/// side too, so that "train is strictly before test" holds even on ties.
pub fn split_orders(orders: &[Order], rule: SplitRule) -> Result<Split, EvalError> {
    let mut purchases: Vec<Order> = orders.iter().filter(|o| o.is_purchase()).cloned().collect();
    let not_purchases = orders.len() - purchases.len();
    purchases.sort_by(|a, b| a.paid_at.cmp(&b.paid_at).then_with(|| a.invoice.cmp(&b.invoice)));
    let split_at = match rule {
        SplitRule::At(at) => at,
        SplitRule::TestFraction(f) => {
            if !(f > 0.0 && f < 1.0) {
                return Err(EvalError::Options(format!(
                    "--test-fraction {f}: use a fraction between 0 and 1, e.g. 0.2"
                )));
            }
            let n = purchases.len();
            if n < 2 {
                return Err(EvalError::TooFewOrders {
                    purchases: n,
                    why: "a split needs at least one training and one test purchase".into(),
                });
            }
            let test = ((f * n as f64).round() as usize).clamp(1, n - 1);
            purchases[n - test].paid_at
        }
    };
    let cut = purchases.partition_point(|o| o.paid_at < split_at);
    let test = purchases.split_off(cut);
    let train = purchases;
    if train.is_empty() || test.is_empty() {
        let (side, fix) = if train.is_empty() {
            ("before", "a later --split-at or a smaller --test-fraction")
        } else {
            ("from", "an earlier --split-at or a larger --test-fraction")
        };
        return Err(EvalError::TooFewOrders {
            purchases: train.len() + test.len(),
            why: format!("no purchase was paid {side} the split point {split_at}: use {fix}"),
        });
    }
    Ok(Split {
        train,
        test,
        split_at,
        not_purchases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::fixtures::{at, cancelled, order};

    fn invoices(orders: &[Order]) -> Vec<&str> {
        orders.iter().map(|o| o.invoice.as_str()).collect()
    }

    #[test]
    fn the_last_fifth_of_the_purchases_by_payment_time_is_the_test_set() {
        // Ten purchases given out of order, plus a cancellation that takes no side.
        let mut orders: Vec<Order> = (0..10)
            .rev()
            .map(|d| order(&format!("I{d}"), "c", at(d + 1, 9), &["A"]))
            .collect();
        orders.push(cancelled(order("X", "c", at(10, 12), &["A"])));
        let s = split_orders(&orders, SplitRule::TestFraction(0.2)).unwrap();
        assert_eq!(
            invoices(&s.train),
            ["I0", "I1", "I2", "I3", "I4", "I5", "I6", "I7"]
        );
        assert_eq!(invoices(&s.test), ["I8", "I9"]);
        assert_eq!(s.split_at, at(9, 9));
        assert_eq!(s.not_purchases, 1);
    }

    #[test]
    fn purchases_paid_in_the_same_second_as_the_split_all_go_to_the_test_side() {
        let orders = vec![
            order("A", "c", at(1, 9), &["A"]),
            order("B", "c", at(2, 9), &["A"]),
            order("C", "c", at(3, 9), &["A"]),
            order("D", "c", at(3, 9), &["A"]),
        ];
        // round(0.25 · 4) = 1 test purchase would cut between C and D, paid together.
        let s = split_orders(&orders, SplitRule::TestFraction(0.25)).unwrap();
        assert_eq!(invoices(&s.train), ["A", "B"]);
        assert_eq!(invoices(&s.test), ["C", "D"]);
        assert!(s.train.iter().all(|o| o.paid_at < s.split_at));
        assert!(s.test.iter().all(|o| o.paid_at >= s.split_at));
    }

    #[test]
    fn a_split_instant_cuts_strictly_before_it() {
        let orders = vec![
            order("A", "c", at(1, 9), &["A"]),
            order("B", "c", at(2, 0), &["A"]),
            order("C", "c", at(3, 9), &["A"]),
        ];
        let s = split_orders(&orders, SplitRule::At(at(2, 0))).unwrap();
        assert_eq!(
            (invoices(&s.train), invoices(&s.test)),
            (vec!["A"], vec!["B", "C"])
        );
    }

    #[test]
    fn an_empty_side_is_refused_with_the_way_out() {
        let orders = vec![
            order("A", "c", at(5, 9), &["A"]),
            order("B", "c", at(6, 9), &["A"]),
        ];
        let err = split_orders(&orders, SplitRule::At(at(1, 0)))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no purchase was paid before") && err.contains("later --split-at"),
            "{err}"
        );
        let err = split_orders(&orders, SplitRule::At(at(30, 0)))
            .unwrap_err()
            .to_string();
        assert!(err.contains("earlier --split-at"), "{err}");
        let err = split_orders(&orders[..1], SplitRule::TestFraction(0.2))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("at least one training and one test purchase"),
            "{err}"
        );
        let err = split_orders(&orders, SplitRule::TestFraction(1.5))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--test-fraction 1.5"), "{err}");
    }
}
