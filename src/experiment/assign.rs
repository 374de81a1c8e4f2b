//! Which arm a visitor is in: a pure function of the visitor id and the experiment's salt.
//!
//! The pair is hashed with SHA-256 (the salt's length first, so `("ab", "c")` and `("a", "bc")`
//! cannot collide by concatenation); the first 64 bits of the digest, read big-endian, are
//! mapped onto 10,000 basis points by multiply-and-shift (`⌊h · 10000 / 2⁶⁴⌋`), and a visitor
//! whose bucket is below `holdout_pct · 100` is in the control arm.
//!
//! Nothing else goes into the hash: the product being viewed, the page, the time and the
//! replica answering do not change a visitor's arm, so a visitor sees the same arm on every
//! page for the life of the experiment. A new salt (a new experiment) reshuffles everyone,
//! independently of the old assignment. Raising the holdout only moves visitors from
//! treatment to control (their bucket does not change), never the other way.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The two arms of a holdout experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// The holdout: sees no recommendations (or best sellers).
    Control,
    /// Sees the recommendations.
    Treatment,
}

/// Basis points in the whole: a bucket is in `0..BUCKETS`.
pub const BUCKETS: u32 = 10_000;

/// The visitor's bucket in `0..10_000`, from SHA-256 of (salt length, salt, visitor id).
pub fn bucket(visitor_id: &str, salt: &str) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update((salt.len() as u64).to_be_bytes());
    hasher.update(salt.as_bytes());
    hasher.update(visitor_id.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let h = u64::from_be_bytes(first);
    ((u128::from(h) * u128::from(BUCKETS)) >> 64) as u32
}

/// The arm of `visitor_id` in the experiment keyed by `salt`, with `holdout_pct` percent of
/// visitors in the control arm.
///
/// `holdout_pct` 0 puts everyone in treatment (the experiment is off). The configuration
/// accepts 0 to 50 and refuses anything else where it is read; a value of 100 or more here
/// would put everyone in control.
pub fn arm(visitor_id: &str, salt: &str, holdout_pct: u8) -> Arm {
    if bucket(visitor_id, salt) < u32::from(holdout_pct) * 100 {
        Arm::Control
    } else {
        Arm::Treatment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> impl Iterator<Item = String> {
        (0..n).map(|i| format!("v-{i:08x}-{}", i * 7919 % 1000))
    }

    #[test]
    fn a_visitor_keeps_its_arm() {
        for id in ids(1000) {
            let first = arm(&id, "shop-a/2026-12", 10);
            for _ in 0..3 {
                assert_eq!(arm(&id, "shop-a/2026-12", 10), first, "{id}");
            }
        }
        // Pinned values: the assignment must not change between builds or releases, or
        // visitors would change arms in the middle of an experiment.
        // Computed independently in Python:
        // int.from_bytes(hashlib.sha256((4).to_bytes(8, 'big') + b'salt' + v).digest()[:8],
        //                'big') * 10000 >> 64
        let pinned: Vec<u32> = ["a", "b", "visitor-1", ""]
            .iter()
            .map(|v| bucket(v, "salt"))
            .collect();
        assert_eq!(pinned, [9587, 4838, 1671, 2477]);
        // Bucket 1671 is control at a 17% holdout, treatment at 16%.
        assert_eq!(arm("visitor-1", "salt", 17), Arm::Control);
        assert_eq!(arm("visitor-1", "salt", 16), Arm::Treatment);
    }

    #[test]
    fn the_split_matches_the_configured_percentage() {
        for pct in [10u8, 50] {
            let n = 100_000;
            let control = ids(n)
                .filter(|id| arm(id, "shop-a/2026-12", pct) == Arm::Control)
                .count();
            let share = control as f64 / n as f64 * 100.0;
            assert!(
                (share - f64::from(pct)).abs() <= 1.5,
                "{pct}% holdout gave {share:.2}% control over {n} visitors"
            );
        }
    }

    #[test]
    fn zero_holdout_puts_everyone_in_treatment() {
        assert!(ids(10_000).all(|id| arm(&id, "s", 0) == Arm::Treatment));
    }

    #[test]
    fn the_arm_is_the_same_whatever_product_is_viewed() {
        // A visitor browsing several products, in any order, interleaved with other
        // visitors: each view asks for the arm, and every answer for one visitor agrees.
        let products = ["sku-1", "sku-22", "sku-333", "bundle-9"];
        let mut seen = std::collections::HashMap::new();
        for round in 0..3 {
            for (i, id) in ids(500).enumerate() {
                let product = products[(i + round) % products.len()];
                let got = arm(&id, "shop-a/2026-12", 30);
                let first = *seen.entry(id.clone()).or_insert(got);
                assert_eq!(got, first, "{id} viewing {product}");
            }
        }
    }

    #[test]
    fn raising_the_holdout_only_moves_visitors_into_control() {
        for id in ids(5000) {
            if arm(&id, "s", 10) == Arm::Control {
                assert_eq!(arm(&id, "s", 20), Arm::Control, "{id}");
            }
        }
    }

    #[test]
    fn different_salts_give_independent_assignments() {
        // Under independence, P(control in both) = 0.1 · 0.1 = 1%, and at 50% the two
        // assignments agree for half of the visitors.
        let n = 100_000;
        let both = ids(n)
            .filter(|id| arm(id, "exp-1", 10) == Arm::Control && arm(id, "exp-2", 10) == Arm::Control)
            .count();
        let share = both as f64 / n as f64 * 100.0;
        assert!(
            (share - 1.0).abs() <= 0.2,
            "control under both salts: {share:.3}%"
        );
        let agree = ids(n)
            .filter(|id| arm(id, "exp-1", 50) == arm(id, "exp-2", 50))
            .count();
        let share = agree as f64 / n as f64 * 100.0;
        assert!(
            (share - 50.0).abs() <= 1.0,
            "same arm under both salts: {share:.2}%"
        );
    }

    #[test]
    fn salt_and_visitor_id_cannot_be_traded_for_each_other() {
        // Plain concatenation would hash "abc" both times.
        assert_eq!(bucket("bc", "a"), 9122);
        assert_eq!(bucket("c", "ab"), 1603);
    }
}
