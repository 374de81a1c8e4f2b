//! Top-N metrics of one recommended list R against the truth G (README "Offline evaluation"):
//!
//! - Precision@N = |R∩G| / |R|, where R is the model's list cut at N. A model that returns
//!   fewer than N products is judged on what it returned; one that returns nothing scores 0
//!   (it showed the customer nothing useful; leaving the order out would flatter it).
//! - Recall@N = |R∩G| / |G|.
//! - Hit@N = 1 when R∩G is not empty (its mean is the hit rate).
//! - NDCG@N with binary relevance: DCG = Σ over hits at rank k (1-based) of 1/log2(k+1),
//!   divided by the ideal DCG = Σ_{k=1..min(|G|, N)} 1/log2(k+1).
//!
//! Over the orders of a protocol: the mean of each, the sample standard deviation of
//! precision and recall, F1@N = 2·P·R/(P+R) from the *mean* precision and recall (seed 000
//! §2F.2d; 0 when both are 0), and catalogue coverage = distinct products recommended to any
//! order / products in the catalogue.

use std::collections::BTreeSet;

/// The metrics of one list at one N.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaseScore {
    pub precision: f64,
    pub recall: f64,
    pub hit: f64,
    pub ndcg: f64,
}

/// Scores `recommended` (best first; cut at `n` here) against `truth` (distinct, sorted).
pub fn score(recommended: &[u32], truth: &[u32], n: usize) -> CaseScore {
    let ranked = &recommended[..recommended.len().min(n)];
    let mut hits = 0usize;
    let mut dcg = 0.0;
    for (k, item) in ranked.iter().enumerate() {
        if truth.binary_search(item).is_ok() {
            hits += 1;
            dcg += discount(k + 1);
        }
    }
    let ideal: f64 = (1..=truth.len().min(n)).map(discount).sum();
    CaseScore {
        precision: if ranked.is_empty() {
            0.0
        } else {
            hits as f64 / ranked.len() as f64
        },
        recall: if truth.is_empty() {
            0.0
        } else {
            hits as f64 / truth.len() as f64
        },
        hit: if hits > 0 { 1.0 } else { 0.0 },
        ndcg: if ideal > 0.0 { dcg / ideal } else { 0.0 },
    }
}

/// 1 / log2(rank + 1) for a 1-based rank.
fn discount(rank: usize) -> f64 {
    1.0 / ((rank + 1) as f64).log2()
}

/// F1 from mean precision and mean recall.
pub fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

/// Distinct products in any of the lists (each cut at N) / catalogue size.
pub fn coverage<'a>(lists: impl Iterator<Item = &'a [u32]>, n: usize, catalogue: usize) -> f64 {
    let seen: BTreeSet<u32> = lists.flat_map(|l| l.iter().take(n).copied()).collect();
    if catalogue == 0 {
        0.0
    } else {
        seen.len() as f64 / catalogue as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn seed_000s_worked_example_scores_one_third_and_one_half() {
        // Seed 000 §2F.3: G = {A, B}, top-3 R holds A and two misses: P@3 = 1/3, R@3 = 1/2.
        let (a, b, x, y) = (0, 1, 7, 8);
        let s = score(&[a, x, y], &[a, b], 3);
        assert!(close(s.precision, 1.0 / 3.0) && close(s.recall, 0.5));
        assert_eq!(s.hit, 1.0);
        // DCG = 1/log2(2) = 1; ideal = 1 + 1/log2(3) = 1.6309298: NDCG 0.6131472.
        assert!((s.ndcg - 0.613_147_2).abs() < 1e-7, "{}", s.ndcg);
    }

    #[test]
    fn a_hit_lower_in_the_list_counts_less_in_ndcg_only() {
        // G = {5}; hit at rank 3 of 3: P = 1/3, R = 1, NDCG = 1/log2(4) = 0.5.
        let s = score(&[1, 2, 5], &[5], 3);
        assert!(close(s.precision, 1.0 / 3.0) && close(s.recall, 1.0) && close(s.ndcg, 0.5));
        // Cut at N = 2 the hit is gone.
        let s2 = score(&[1, 2, 5], &[5], 2);
        assert_eq!((s2.precision, s2.recall, s2.hit, s2.ndcg), (0.0, 0.0, 0.0, 0.0));
    }

    #[test]
    fn a_short_list_is_judged_on_what_it_returned_and_an_empty_one_scores_zero() {
        // One product returned, a hit: P = 1/1 (not 1/5), R = 1/2.
        let s = score(&[4], &[4, 9], 5);
        assert!(close(s.precision, 1.0) && close(s.recall, 0.5));
        // Ideal for |G| = 2 at N = 5: 1 + 1/log2(3).
        assert!(close(s.ndcg, 1.0 / (1.0 + 1.0 / 3f64.log2())));
        let none = score(&[], &[4], 5);
        assert_eq!(
            (none.precision, none.recall, none.hit, none.ndcg),
            (0.0, 0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn f1_is_the_harmonic_mean_and_zero_without_hits() {
        // Seed 000 §2F.3: P@3 = 0.42, R@3 = 0.36 → F1 = 2·0.42·0.36/0.78 = 0.387692…
        assert!((f1(0.42, 0.36) - 0.387_692_307_7).abs() < 1e-9);
        assert_eq!(f1(0.0, 0.0), 0.0);
    }

    #[test]
    fn coverage_counts_distinct_products_within_the_cut() {
        let lists: Vec<Vec<u32>> = vec![vec![0, 1, 2], vec![1, 3, 4], vec![]];
        // At N = 2: {0, 1} ∪ {1, 3} = {0, 1, 3}, 3 of 10; at N = 3 {0, 1, 2, 3, 4}, 5 of 10.
        assert!(close(coverage(lists.iter().map(Vec::as_slice), 2, 10), 0.3));
        assert!(close(coverage(lists.iter().map(Vec::as_slice), 3, 10), 0.5));
    }
}
