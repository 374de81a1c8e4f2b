//! RFM segments (seeds 001 and 003): recency, frequency and monetary scores 1–5 by
//! quintiles of the shop's own customers, named by the usual R×F grid.
//!
//! | segment | R | F |
//! |---|---|---|
//! | Champions | 4–5 | 4–5 |
//! | Loyal | 3–5 | 3–5 (not Champions) |
//! | New | 5 | 1 |
//! | Potential | 3–5 | 1–2 (not New) |
//! | At risk | 1–2 | 3–5 |
//! | Hibernating | 2 | 1–2 |
//! | Lost | 1 | 1–2 |
//!
//! Scores are by rank (ties share the lower quintile's score), so they mean the same in a
//! shop of 50 customers and of 50,000: 5 is the best fifth of this shop.

use chrono::{DateTime, Utc};

pub use crate::domain::{canonical_segment as canonical, SEGMENTS};
pub use crate::records::Rfm;

/// Quintile scores 1..=5 of `values` where higher is better; equal values share a score.
fn quintiles(values: &[f64]) -> Vec<u8> {
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut scores = vec![1u8; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        // Rank of the tie group's first member decides its quintile.
        let score = 1 + (i * 5 / n) as u8;
        for &idx in &order[i..=j] {
            scores[idx] = score.min(5);
        }
        i = j + 1;
    }
    scores
}

/// One customer's inputs: last purchase, number of purchases, total spend.
pub struct RfmInput {
    pub last_order: DateTime<Utc>,
    pub orders: u32,
    pub spend: i64,
}

pub fn rfm_scores(customers: &[RfmInput], now: DateTime<Utc>) -> Vec<Rfm> {
    // Recency: more recent is better, so score the negated age.
    let recency: Vec<f64> = customers
        .iter()
        .map(|c| -((now - c.last_order).num_seconds() as f64))
        .collect();
    let freq: Vec<f64> = customers.iter().map(|c| f64::from(c.orders)).collect();
    let money: Vec<f64> = customers.iter().map(|c| c.spend as f64).collect();
    let (r, f, m) = (quintiles(&recency), quintiles(&freq), quintiles(&money));
    (0..customers.len())
        .map(|i| Rfm {
            r: r[i],
            f: f[i],
            m: m[i],
        })
        .collect()
}

pub fn segment(s: Rfm) -> &'static str {
    match (s.r, s.f) {
        (4..=5, 4..=5) => "Champions",
        (3..=5, 3..=5) => "Loyal",
        (5, 1) => "New",
        (3..=5, _) => "Potential",
        (_, 3..=5) => "At risk",
        (2, _) => "Hibernating",
        _ => "Lost",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_are_read_in_any_case() {
        assert_eq!(canonical("champions"), Some("Champions"));
        assert_eq!(canonical(" AT_RISK "), Some("At risk"));
        assert_eq!(canonical("at-risk"), Some("At risk"));
        assert_eq!(canonical("Lost"), Some("Lost"));
        assert_eq!(canonical("lostt"), None);
    }

    #[test]
    fn quintiles_give_each_fifth_its_score_and_ties_share_one() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quintiles(&v), vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        assert_eq!(quintiles(&[7.0, 7.0, 7.0]), vec![1, 1, 1]);
        assert_eq!(quintiles(&[1.0, 1.0, 1.0, 1.0, 9.0]), vec![1, 1, 1, 1, 5]);
    }

    #[test]
    fn every_score_pair_has_exactly_one_named_segment() {
        for r in 1..=5 {
            for f in 1..=5 {
                assert!(SEGMENTS.contains(&segment(Rfm { r, f, m: 3 })));
            }
        }
        assert_eq!(segment(Rfm { r: 5, f: 5, m: 5 }), "Champions");
        assert_eq!(segment(Rfm { r: 5, f: 1, m: 1 }), "New");
        assert_eq!(segment(Rfm { r: 1, f: 5, m: 5 }), "At risk");
        assert_eq!(segment(Rfm { r: 1, f: 1, m: 1 }), "Lost");
    }

    #[test]
    fn a_recent_frequent_big_spender_scores_high_on_all_three() {
        let t = |d: i64| DateTime::from_timestamp(1_700_000_000 - d * 86_400, 0).unwrap();
        let now = t(0);
        let mut cs: Vec<RfmInput> = (0..9)
            .map(|i| RfmInput {
                last_order: t(100 + i),
                orders: 1,
                spend: 10_000,
            })
            .collect();
        cs.push(RfmInput {
            last_order: t(1),
            orders: 12,
            spend: 2_000_000,
        });
        let s = rfm_scores(&cs, now);
        assert_eq!(s[9], Rfm { r: 5, f: 5, m: 5 });
        assert_eq!(segment(s[9]), "Champions");
    }
}
