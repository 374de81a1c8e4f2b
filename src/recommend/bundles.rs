//! Bundles (seed 000's cross-selling): association rules mined from paid orders by
//! FP-Growth, kept per antecedent so that serving a product's bundle is a lookup.

use serde::{Deserialize, Serialize};

use crate::recommend::fpgrowth::{self, MiningThresholds, Rule};

/// A rule as a product's bundle model keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleRule {
    /// Other antecedent items besides the product it is filed under (empty for A → B).
    pub with: Vec<u32>,
    pub consequent: u32,
    pub count: u32,
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
}

/// The mined model: all rules, and for each product the rules whose antecedent contains it,
/// strongest first (pair rules before longer ones, then lift, then confidence).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BundleModel {
    pub transactions: usize,
    pub rules: Vec<Rule>,
    pub by_product: Vec<Vec<BundleRule>>,
}

pub fn mine_bundles(baskets: &[Vec<u32>], n_products: usize, t: &MiningThresholds) -> BundleModel {
    let (_, rules) = fpgrowth::mine_rules(baskets, t);
    let mut by_product: Vec<Vec<BundleRule>> = vec![Vec::new(); n_products];
    for r in &rules {
        for &a in &r.antecedent {
            if let Some(list) = by_product.get_mut(a as usize) {
                list.push(BundleRule {
                    with: r.antecedent.iter().copied().filter(|&x| x != a).collect(),
                    consequent: r.consequent,
                    count: r.count,
                    support: r.support,
                    confidence: r.confidence,
                    lift: r.lift,
                });
            }
        }
    }
    for list in &mut by_product {
        list.sort_by(|a, b| {
            a.with
                .len()
                .cmp(&b.with.len())
                .then(b.lift.total_cmp(&a.lift))
                .then(b.confidence.total_cmp(&a.confidence))
                .then(a.consequent.cmp(&b.consequent))
        });
    }
    BundleModel {
        transactions: baskets.len(),
        rules,
        by_product,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_products_pair_rules_are_filed_under_it_strongest_first() {
        // 0 and 1 always together; 0 and 2 sometimes; 3 alone.
        let baskets = vec![
            vec![0, 1],
            vec![0, 1],
            vec![0, 1, 2],
            vec![2, 3],
            vec![3],
            vec![0, 2],
        ];
        let t = MiningThresholds {
            min_support: 0.1,
            min_confidence: 0.1,
            min_lift: 0.0,
            max_len: 3,
        };
        let m = mine_bundles(&baskets, 4, &t);
        let first = &m.by_product[0][0];
        assert!(first.with.is_empty());
        assert_eq!(first.consequent, 1);
        // support({0,1}) = 3/6, confidence = 3/4, lift = 0.75 / (3/6) = 1.5
        assert!((first.support - 0.5).abs() < 1e-12);
        assert!((first.confidence - 0.75).abs() < 1e-12);
        assert!((first.lift - 1.5).abs() < 1e-12);
    }
}
