//! Commands for analysts: `laris rules` mines any basket file, and the text form of
//! `laris recommend`.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use super::rules_csv::{write_itemsets, write_rules};
use crate::domain::Rupiah;
use crate::feeds::baskets::read_baskets;
use crate::model::serve::Recommendations;
use crate::recommend::fpgrowth::{mine_rules, MiningThresholds};

#[derive(Serialize)]
struct RuleRow {
    lhs: Vec<String>,
    rhs: String,
    count: u32,
    support: f64,
    confidence: f64,
    lift: f64,
}

#[derive(Serialize)]
struct ItemsetRow {
    itemset: Vec<String>,
    size: usize,
    count: u32,
    support: f64,
}

fn names(items: &[u32], labels: &[String]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|&i| labels[i as usize].clone()).collect();
    v.sort();
    v
}

/// `laris rules`: mine the basket file and write CSV or JSON to `out`.
pub fn rules(
    path: &Path,
    t: &MiningThresholds,
    itemsets: bool,
    json: bool,
    timing: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if !(t.min_support > 0.0 && t.min_support <= 1.0) {
        anyhow::bail!(
            "--min-support {}: use a fraction above 0 and at most 1, e.g. 0.01",
            t.min_support
        );
    }
    if !(0.0..=1.0).contains(&t.min_confidence) {
        anyhow::bail!(
            "--min-confidence {}: use a fraction from 0 to 1",
            t.min_confidence
        );
    }
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading basket file {}: one transaction per line, items comma-separated",
            path.display()
        )
    })?;
    let (labels, baskets) = read_baskets(&text);
    let started = std::time::Instant::now();
    let (sets, rules) = mine_rules(&baskets, t);
    if timing {
        eprintln!(
            "mined {} itemsets and {} rules from {} baskets in {:.1} ms",
            sets.len(),
            rules.len(),
            baskets.len(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    if itemsets && json {
        let rows: Vec<ItemsetRow> = sets
            .iter()
            .map(|s| ItemsetRow {
                itemset: names(&s.items, &labels),
                size: s.items.len(),
                count: s.count,
                support: s.support,
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        writeln!(out)?;
    } else if itemsets {
        write_itemsets(&sets, &labels, out)?;
    } else if json {
        let rows: Vec<RuleRow> = rules
            .iter()
            .map(|r| RuleRow {
                lhs: names(&r.antecedent, &labels),
                rhs: labels[r.consequent as usize].clone(),
                count: r.count,
                support: r.support,
                confidence: r.confidence,
                lift: r.lift,
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        writeln!(out)?;
    } else {
        write_rules(&rules, &labels, out)?;
    }
    Ok(())
}

/// The text form of `laris recommend`.
pub fn recommendations_text(r: &Recommendations) -> String {
    let mut s = format!("{} — {} ({})\n", r.shop, r.product.name, Rupiah(r.product.price));
    let mut list = |title: &str, items: &[crate::model::serve::Item]| {
        s.push_str(&format!("\n{title}\n"));
        if items.is_empty() {
            s.push_str("  (none)\n");
        }
        for it in items {
            let price = match it.discounted_price {
                Some(d) => format!("{} → {}", Rupiah(it.price), Rupiah(d)),
                None => Rupiah(it.price).to_string(),
            };
            s.push_str(&format!(
                "  {:<14} {:<36} {:>20}  {:.3}  {}\n",
                it.id, it.name, price, it.score, it.reason
            ));
        }
    };
    list("Similar", &r.similar);
    list("Upgrades", &r.upsell);
    s.push_str("\nBundles\n");
    if r.bundles.is_empty() {
        s.push_str("  (none)\n");
    }
    for b in &r.bundles {
        let ids: Vec<&str> = b.items.iter().map(|i| i.id.as_str()).collect();
        s.push_str(&format!(
            "  {} : {} → {} ({}%)",
            ids.join(" + "),
            Rupiah(b.price),
            Rupiah(b.bundle_price),
            b.discount_pct
        ));
        if let (Some(sup), Some(conf), Some(lift)) = (b.support, b.confidence, b.lift) {
            s.push_str(&format!("  support {sup:.3} confidence {conf:.3} lift {lift:.2}"));
        }
        s.push_str(&format!("\n    {}\n", b.reason));
    }
    if let Some(loyalty) = &r.loyalty {
        let json = serde_json::to_string(loyalty).expect("a loyalty view is plain data");
        s.push_str(&format!("\nLoyalty\n  {json}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_width_reproduces_seed_002s_centres() {
        // min 100.000, max 7.900.000, k = 4: step 7.800.000 / 5 = 1.560.000.
        let totals = [100_000.0, 500_000.0, 2_000_000.0, 7_900_000.0];
        let r = tiers_report(&totals, 4, true).unwrap();
        assert_eq!(
            r.centres,
            vec![1_560_000.0, 3_120_000.0, 4_680_000.0, 6_240_000.0]
        );
        let k = tiers_report(&totals, 4, false).unwrap();
        assert!(k.sse <= r.sse);
    }

    #[test]
    fn basket_items_are_kept_exactly_as_written() {
        let (labels, baskets) = read_baskets("milk,cream cheese \nmilk\n\nbread,milk\n");
        assert_eq!(labels, vec!["milk", "cream cheese ", "bread"]);
        assert_eq!(baskets, vec![vec![0, 1], vec![0], vec![2, 0]]);
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct TiersReport {
    pub k: usize,
    pub method: String,
    pub centres: Vec<f64>,
    pub boundaries: Vec<f64>,
    pub sizes: Vec<usize>,
    pub sse: f64,
    pub silhouette: f64,
}

/// Clusters `totals` into `k` tiers: exact k-means, or seed 002's equal-width centres
/// (i·(max − min)/(k + 1), i = 1..k, each value to its nearest centre) for comparison. SSE
/// is around each tier's own mean for both, so the two are comparable.
pub fn tiers_report(totals: &[f64], k: usize, equal_width: bool) -> anyhow::Result<TiersReport> {
    use crate::recommend::kmeans::{kmeans_1d, silhouette_1d};
    let optimal = kmeans_1d(totals, k).map_err(|e| anyhow::anyhow!("{e}"))?;
    let clustering = if equal_width {
        let (min, max) = totals
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        let step = (max - min) / (k as f64 + 1.0);
        let centres: Vec<f64> = (1..=k).map(|i| i as f64 * step).collect();
        let mut c = optimal.clone();
        c.k = k;
        c.centres = centres;
        c
    } else {
        optimal
    };
    let boundaries = clustering.boundaries();
    let mut sums = vec![0.0; clustering.k];
    let mut sizes = vec![0usize; clustering.k];
    for &x in totals {
        let t = clustering.cluster_of(x);
        sums[t] += x;
        sizes[t] += 1;
    }
    let means: Vec<f64> = sums
        .iter()
        .zip(&sizes)
        .map(|(s, &n)| if n > 0 { s / n as f64 } else { 0.0 })
        .collect();
    let sse = totals
        .iter()
        .map(|&x| (x - means[clustering.cluster_of(x)]).powi(2))
        .sum();
    Ok(TiersReport {
        k: clustering.k,
        method: if equal_width {
            "equal-width".into()
        } else {
            "kmeans".into()
        },
        silhouette: silhouette_1d(totals, &clustering),
        centres: clustering.centres.clone(),
        boundaries,
        sizes,
        sse,
    })
}

/// `laris tiers --totals FILE`.
/// How `laris tiers` places the tier centres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TierClustering {
    /// Exact 1-D k-means (optimal SSE).
    Kmeans,
    /// Seed 002's centres: steps of (max − min)/(k + 1).
    EqualWidth,
}

pub fn tiers(path: &Path, k: usize, method: TierClustering, json: bool) -> anyhow::Result<()> {
    let mut reader = csv::Reader::from_path(path).with_context(|| {
        format!(
            "reading {}: a CSV of customer,total with a header row",
            path.display()
        )
    })?;
    let mut totals = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec?;
        let raw = rec
            .get(1)
            .ok_or_else(|| anyhow::anyhow!("{} line {}: expected customer,total", path.display(), i + 2))?;
        let value = Rupiah::parse(raw).with_context(|| format!("{} line {}", path.display(), i + 2))?;
        totals.push(value.0 as f64);
    }
    let report = tiers_report(&totals, k, method == TierClustering::EqualWidth)?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} tiers by {} over {} customers",
            report.k,
            report.method,
            totals.len()
        );
        for i in 0..report.k {
            println!(
                "  tier {}: centre {:>12}  customers {:>4}",
                i + 1,
                Rupiah(report.centres[i].round() as i64),
                report.sizes[i]
            );
        }
        let b: Vec<String> = report
            .boundaries
            .iter()
            .map(|b| Rupiah(b.round() as i64).to_string())
            .collect();
        println!("  boundaries {}", b.join(" | "));
        println!("  SSE {:.4e}  silhouette {:.4}", report.sse, report.silhouette);
    }
    Ok(())
}
