//! Loyalty tiers (seed 002): customers grouped by total paid spend into tiers with a
//! discount each, by exact 1-D k-means (one implementation, shared with the price
//! clusters) or by fixed rupiah thresholds from config.
//!
//! A tier's lower bound is where it starts: with k-means, the midpoint between its centre
//! and the one below (so any spend maps to the nearest centre, as `cluster_of` does). A
//! customer's tier does not drop on a rebuild unless their spend fell (a cancellation, or
//! a window that moved on); with `never_demote` it never drops.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{LoyaltySettings, TierMethod};
use crate::domain::{CustomerId, Rupiah};
use crate::recommend::kmeans::{kmeans_1d, silhouette_1d};

/// One rung of the ladder, as the widget may show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    pub name: String,
    pub discount_pct: f64,
    /// Spend from which a customer is in this tier.
    pub min_spend: Rupiah,
}

/// A customer's place on the ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    pub tier: usize,
    pub spend: Rupiah,
    /// Since when the customer holds this tier.
    pub since: DateTime<Utc>,
}

/// How the ladder was made, for the admin page and `laris eval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LadderStats {
    pub method: String,
    pub centres: Vec<f64>,
    pub sizes: Vec<usize>,
    pub sse: f64,
    pub silhouette: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LoyaltyModel {
    pub ladder: Vec<Tier>,
    pub standings: HashMap<CustomerId, Standing>,
    pub stats: LadderStats,
}

/// Progress toward the next tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub next_tier: String,
    pub needed: Rupiah,
}

impl LoyaltyModel {
    pub fn standing(&self, customer: &CustomerId) -> Option<&Standing> {
        self.standings.get(customer)
    }

    pub fn progress(&self, standing: &Standing) -> Option<Progress> {
        let next = self.ladder.get(standing.tier + 1)?;
        Some(Progress {
            next_tier: next.name.clone(),
            needed: Rupiah((next.min_spend.0 - standing.spend.0).max(1)),
        })
    }

    pub fn best_discount(&self) -> f64 {
        self.ladder.iter().map(|t| t.discount_pct).fold(0.0, f64::max)
    }
}

/// Lower bounds per tier from a clustering of spends: 0 for the first tier, then the
/// midpoints between adjacent centres as friendly amounts (see [`friendly`]); where
/// rounding would make two bounds meet, the exact midpoint (rounded up to whole rupiah).
fn bounds_from_centres(centres: &[f64]) -> Vec<Rupiah> {
    let mut out = vec![Rupiah(0)];
    for w in centres.windows(2) {
        let exact = ((w[0] + w[1]) / 2.0).ceil() as i64;
        let previous = out.last().map_or(0, |b| b.0);
        let rounded = friendly(exact);
        out.push(Rupiah(if rounded > previous { rounded } else { exact }));
    }
    out
}

/// An amount a shop would print on a tier card: the nearest multiple of a step of about a
/// thousandth of the amount, never under Rp1.000 (Rp4.114.167 → Rp4.110.000, Rp552.400 →
/// Rp552.000, Rp38.600 → Rp39.000). Amounts under Rp1.000 stay as they are.
pub fn friendly(amount: i64) -> i64 {
    if amount < 1_000 {
        return amount;
    }
    let mut step = 1_000;
    while amount / step >= 1_000 {
        step *= 10;
    }
    (amount + step / 2) / step * step
}

fn stats_for(method: &str, spends: &[f64], bounds: &[Rupiah]) -> LadderStats {
    if spends.is_empty() {
        return LadderStats {
            method: method.into(),
            ..Default::default()
        };
    }
    let tier_of = |x: f64| bounds.iter().rposition(|b| x >= b.0 as f64).unwrap_or(0);
    let k = bounds.len();
    let mut sums = vec![0.0; k];
    let mut sizes = vec![0usize; k];
    for &x in spends {
        let t = tier_of(x);
        sums[t] += x;
        sizes[t] += 1;
    }
    let centres: Vec<f64> = sums
        .iter()
        .zip(&sizes)
        .map(|(s, &n)| if n > 0 { s / n as f64 } else { 0.0 })
        .collect();
    let sse = spends.iter().map(|&x| (x - centres[tier_of(x)]).powi(2)).sum();
    // Silhouette over the non-empty tiers, through the exact 1-D routine.
    let occupied: Vec<f64> = centres
        .iter()
        .zip(&sizes)
        .filter(|(_, &n)| n > 0)
        .map(|(c, _)| *c)
        .collect();
    let silhouette = match kmeans_1d(spends, occupied.len().max(1)) {
        Ok(mut c) if occupied.len() > 1 => {
            // Evaluate this assignment, not the optimum: reuse the clustering shape with our centres.
            c.centres = occupied.clone();
            c.k = occupied.len();
            silhouette_1d(spends, &c)
        }
        _ => 0.0,
    };
    LadderStats {
        method: method.into(),
        centres,
        sizes,
        sse,
        silhouette,
    }
}

/// Places every customer on the ladder. `spend` is each customer's paid spend within the
/// window; `previous` the standings of the last rebuild (for never-drop and since-dates).
pub fn assign_tiers(
    spend: &BTreeMap<CustomerId, Rupiah>,
    previous: &HashMap<CustomerId, Standing>,
    settings: &LoyaltySettings,
    now: DateTime<Utc>,
) -> LoyaltyModel {
    let k = settings.tiers.len();
    let values: Vec<f64> = spend.values().map(|r| r.0 as f64).collect();
    let (bounds, method) = match settings.method {
        TierMethod::Thresholds => (
            settings
                .tiers
                .iter()
                .map(|t| Rupiah(t.min_spend.unwrap_or(0)))
                .collect(),
            "thresholds",
        ),
        TierMethod::Kmeans => match kmeans_1d(&values, k) {
            Ok(c) if c.k == k => (bounds_from_centres(&c.centres), "kmeans"),
            // Fewer distinct spends than tiers: fall back to the configured thresholds.
            _ => (
                settings
                    .tiers
                    .iter()
                    .map(|t| Rupiah(t.min_spend.unwrap_or(0)))
                    .collect(),
                "thresholds (too few customers for k-means)",
            ),
        },
    };
    let bounds: Vec<Rupiah> = bounds;
    let ladder: Vec<Tier> = settings
        .tiers
        .iter()
        .zip(&bounds)
        .map(|(t, b)| Tier {
            name: t.name.clone(),
            discount_pct: t.discount_pct,
            min_spend: *b,
        })
        .collect();
    let mut standings = HashMap::with_capacity(spend.len());
    for (id, &s) in spend {
        let computed = bounds.iter().rposition(|b| s >= *b).unwrap_or(0);
        let standing = match previous.get(id) {
            Some(prev) => {
                let spend_fell = s < prev.spend;
                let tier = if computed < prev.tier && (settings.never_demote || !spend_fell) {
                    prev.tier.min(k - 1)
                } else {
                    computed
                };
                let since = if tier == prev.tier { prev.since } else { now };
                Standing {
                    tier,
                    spend: s,
                    since,
                }
            }
            None => Standing {
                tier: computed,
                spend: s,
                since: now,
            },
        };
        standings.insert(id.clone(), standing);
    }
    LoyaltyModel {
        stats: stats_for(method, &values, &bounds),
        ladder,
        standings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TierSetting;

    #[test]
    fn tier_bounds_are_friendly_amounts_at_every_scale() {
        assert_eq!(friendly(4_114_167), 4_110_000);
        assert_eq!(friendly(552_400), 552_000);
        assert_eq!(friendly(38_600), 39_000);
        assert_eq!(friendly(1_500), 2_000);
        assert_eq!(friendly(999), 999);
        assert_eq!(friendly(87_654_321), 87_700_000);
        // Two midpoints that would round to one amount keep the exact upper one.
        assert_eq!(
            bounds_from_centres(&[0.0, 2_000_000.0, 2_001_000.0, 2_002_000.0]),
            vec![Rupiah(0), Rupiah(1_000_000), Rupiah(2_000_000), Rupiah(2_001_500)]
        );
        assert_eq!(
            bounds_from_centres(&[100_000.0, 8_128_334.0]),
            vec![Rupiah(0), Rupiah(4_110_000)]
        );
    }

    fn settings(method: TierMethod, never_demote: bool) -> LoyaltySettings {
        LoyaltySettings {
            method,
            never_demote,
            ..Default::default()
        }
    }

    fn spends(v: &[(&str, i64)]) -> BTreeMap<CustomerId, Rupiah> {
        v.iter()
            .map(|(c, s)| (CustomerId(c.to_string()), Rupiah(*s)))
            .collect()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn kmeans_tiers_split_spend_at_midpoints_between_centres() {
        // Centres 100k, 1M, 3M, 8M → lower bounds 0, 550k, 2M, 5.5M.
        let s = spends(&[
            ("a", 90_000),
            ("b", 110_000),
            ("c", 1_000_000),
            ("d", 3_000_000),
            ("e", 8_000_000),
        ]);
        let m = assign_tiers(&s, &HashMap::new(), &settings(TierMethod::Kmeans, false), at(0));
        let mins: Vec<i64> = m.ladder.iter().map(|t| t.min_spend.0).collect();
        assert_eq!(mins, vec![0, 550_000, 2_000_000, 5_500_000]);
        assert_eq!(
            m.ladder.iter().map(|t| t.discount_pct).collect::<Vec<_>>(),
            vec![0.0, 2.0, 3.0, 5.0]
        );
        let tier = |c: &str| m.standing(&CustomerId(c.into())).unwrap().tier;
        assert_eq!(
            (tier("a"), tier("b"), tier("c"), tier("d"), tier("e")),
            (0, 0, 1, 2, 3)
        );
        let p = m.progress(m.standing(&CustomerId("c".into())).unwrap()).unwrap();
        assert_eq!(p.needed, Rupiah(1_000_000), "2M − 1M to the next tier");
        assert!(
            m.progress(m.standing(&CustomerId("e".into())).unwrap()).is_none(),
            "top tier"
        );
    }

    #[test]
    fn thresholds_come_from_config() {
        let mut cfg = settings(TierMethod::Thresholds, false);
        cfg.tiers = vec![
            TierSetting {
                name: "Biasa".into(),
                discount_pct: 0.0,
                min_spend: Some(0),
            },
            TierSetting {
                name: "Emas".into(),
                discount_pct: 5.0,
                min_spend: Some(500_000),
            },
        ];
        let m = assign_tiers(
            &spends(&[("a", 499_999), ("b", 500_000)]),
            &HashMap::new(),
            &cfg,
            at(0),
        );
        assert_eq!(m.standing(&CustomerId("a".into())).unwrap().tier, 0);
        assert_eq!(m.standing(&CustomerId("b".into())).unwrap().tier, 1);
    }

    #[test]
    fn a_tier_does_not_drop_unless_spend_fell_and_never_with_never_demote() {
        let mut cfg = settings(TierMethod::Thresholds, false);
        cfg.tiers = vec![
            TierSetting {
                name: "A".into(),
                discount_pct: 0.0,
                min_spend: Some(0),
            },
            TierSetting {
                name: "B".into(),
                discount_pct: 2.0,
                min_spend: Some(100),
            },
        ];
        let prev: HashMap<CustomerId, Standing> = [
            (
                CustomerId("same".into()),
                Standing {
                    tier: 1,
                    spend: Rupiah(50),
                    since: at(1),
                },
            ),
            (
                CustomerId("fell".into()),
                Standing {
                    tier: 1,
                    spend: Rupiah(150),
                    since: at(1),
                },
            ),
        ]
        .into();
        // Both now below 100; "same" spent as much as before (the ladder moved), "fell" less.
        let now = spends(&[("same", 50), ("fell", 60)]);
        let m = assign_tiers(&now, &prev, &cfg, at(9));
        assert_eq!(
            m.standing(&CustomerId("same".into())).unwrap().tier,
            1,
            "kept: spend did not fall"
        );
        assert_eq!(m.standing(&CustomerId("same".into())).unwrap().since, at(1));
        assert_eq!(
            m.standing(&CustomerId("fell".into())).unwrap().tier,
            0,
            "dropped: spend fell"
        );
        assert_eq!(
            m.standing(&CustomerId("fell".into())).unwrap().since,
            at(9),
            "the change is dated"
        );
        cfg.never_demote = true;
        let m = assign_tiers(&now, &prev, &cfg, at(9));
        assert_eq!(
            m.standing(&CustomerId("fell".into())).unwrap().tier,
            1,
            "never_demote keeps it"
        );
    }
}
