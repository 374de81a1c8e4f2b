//! What `laris eval` reports, and its three renderings: JSON (every figure, with the counts
//! behind it), a plain-text table for the terminal, and Markdown for a README or an issue.
//! All three carry the same numbers (a protocol with no case has empty rows in the JSON and
//! only its line, saying why, in the other two).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::eval::protocols::Protocol;
use crate::eval::recommenders::ModelKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub shop: String,
    pub split: SplitSummary,
    pub results: Vec<ResultRow>,
    pub comparisons: Vec<ComparisonRow>,
    pub clusters: ClusterReport,
    /// The seed of the hidden items and of the `random` model.
    pub seed: u64,
    /// Products in the catalogue (the denominator of coverage).
    pub catalogue_products: usize,
    /// Orders that are not purchases (cancelled, rejected, returned, fraud), left out.
    pub not_purchases: usize,
    /// Per protocol: test purchases used and skipped, with why.
    pub protocols: Vec<ProtocolSummary>,
    /// The blend's weights as fitted on the training purchases, with their validation figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blend: Option<crate::recommend::blend::BlendFit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSummary {
    pub train_orders: usize,
    pub test_orders: usize,
    pub split_at: DateTime<Utc>,
}

/// Mean and sample standard deviation over the orders; `null` when undefined (no orders, or
/// one order for the standard deviation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    pub mean: Option<f64>,
    pub std: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    pub protocol: Protocol,
    pub model: ModelKind,
    pub n: usize,
    pub precision: MeanStd,
    pub recall: MeanStd,
    pub f1: Option<f64>,
    pub hit_rate: Option<f64>,
    pub ndcg: Option<f64>,
    pub coverage: f64,
    /// Test orders the means are taken over.
    pub orders: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRow {
    pub protocol: Protocol,
    pub n: usize,
    pub a: ModelKind,
    pub b: ModelKind,
    /// `precision`, `recall`, `hit_rate` or `ndcg`.
    pub metric: String,
    /// Mean of a − b over the same orders.
    pub mean_diff: f64,
    pub ci95: [f64; 2],
    /// `null` when infinite (every difference the same non-zero number).
    pub t: Option<f64>,
    /// Two-sided.
    pub p_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterReport {
    /// The catalogue's price clusters as the recommendation model builds them.
    pub price: Option<ClusterSummary>,
    /// Customers by spend over the training purchases.
    pub tiers: Option<ClusterSummary>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClusterSummary {
    pub k: usize,
    /// Sum of squared distances to the cluster means, in rupiah².
    pub sse: f64,
    pub silhouette: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtocolSummary {
    pub protocol: Protocol,
    pub test_orders: usize,
    pub used: usize,
    pub skipped: BTreeMap<String, usize>,
    /// The best recall a model can reach: 1 when the protocol allows repeats (`next_order`),
    /// else the mean share of G outside the context; `null` with no cases.
    pub recall_ceiling: Option<f64>,
    /// Why the protocol could not run on this input, when that needs saying (e.g. a basket
    /// file has no customers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn num(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}

fn mean_std(m: &MeanStd) -> String {
    match (m.mean, m.std) {
        (Some(mean), Some(std)) => format!("{mean:.3} ± {std:.3}"),
        (Some(mean), None) => format!("{mean:.3}"),
        _ => "-".to_string(),
    }
}

fn signed(x: f64) -> String {
    format!("{x:+.3}")
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "<0.001".to_string()
    } else {
        format!("{p:.3}")
    }
}

fn protocol_title(p: Protocol) -> &'static str {
    match p {
        Protocol::BasketCompletion => "Basket completion (hide one item of the basket)",
        Protocol::NextOrder => {
            "Next order (the customer's earlier purchases predict the order; repurchases count)"
        }
        Protocol::NextOrderNew => {
            "Next order, new products (the same, but no model may list what the customer already bought)"
        }
    }
}

fn skipped_text(s: &ProtocolSummary) -> String {
    if s.skipped.is_empty() {
        return "none skipped".to_string();
    }
    let parts: Vec<String> = s.skipped.iter().map(|(why, n)| format!("{n} {why}")).collect();
    format!("skipped {}", parts.join(", "))
}

/// Rows of one table: header and cells; `numeric[i]` right-aligns column i.
struct Table {
    header: Vec<&'static str>,
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain([self.header[i].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let parts: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let pad = widths[i] - c.chars().count();
                    if self.numeric[i] {
                        format!("{}{c}", " ".repeat(pad))
                    } else {
                        format!("{c}{}", " ".repeat(pad))
                    }
                })
                .collect();
            format!("{}\n", parts.join("  ").trim_end())
        };
        let header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
        let mut out = line(&header);
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }

    fn markdown(&self) -> String {
        let mut out = format!("| {} |\n", self.header.join(" | "));
        let rule: Vec<&str> = self
            .numeric
            .iter()
            .map(|&n| if n { "---:" } else { "---" })
            .collect();
        out.push_str(&format!("|{}|\n", rule.join("|")));
        for r in &self.rows {
            out.push_str(&format!("| {} |\n", r.join(" | ")));
        }
        out
    }
}

impl EvalReport {
    fn results_table(&self, protocol: Protocol) -> Table {
        Table {
            header: vec![
                "model",
                "N",
                "precision",
                "recall",
                "F1",
                "hit rate",
                "NDCG",
                "coverage",
                "orders",
            ],
            numeric: vec![false, true, true, true, true, true, true, true, true],
            rows: self
                .results
                .iter()
                .filter(|r| r.protocol == protocol)
                .map(|r| {
                    vec![
                        r.model.name().to_string(),
                        r.n.to_string(),
                        mean_std(&r.precision),
                        mean_std(&r.recall),
                        num(r.f1),
                        num(r.hit_rate),
                        num(r.ndcg),
                        format!("{:.3}", r.coverage),
                        r.orders.to_string(),
                    ]
                })
                .collect(),
        }
    }

    fn comparisons_table(&self) -> Table {
        Table {
            header: vec![
                "protocol",
                "N",
                "a − b",
                "metric",
                "mean diff",
                "95% CI",
                "t",
                "p",
            ],
            numeric: vec![false, true, false, false, true, true, true, true],
            rows: self
                .comparisons
                .iter()
                .map(|c| {
                    vec![
                        c.protocol.name().to_string(),
                        c.n.to_string(),
                        format!("{} − {}", c.a.name(), c.b.name()),
                        c.metric.clone(),
                        signed(c.mean_diff),
                        format!("[{}, {}]", signed(c.ci95[0]), signed(c.ci95[1])),
                        c.t.map_or_else(|| "∞".to_string(), |t| format!("{t:.2}")),
                        p_value(c.p_value),
                    ]
                })
                .collect(),
        }
    }

    fn clusters_table(&self) -> Table {
        let row = |name: &str, c: &Option<ClusterSummary>| match c {
            Some(c) => vec![
                name.to_string(),
                c.k.to_string(),
                format!("{:.4e}", c.sse),
                format!("{:.3}", c.silhouette),
            ],
            None => vec![name.to_string(), "-".into(), "-".into(), "-".into()],
        };
        Table {
            header: vec!["clustering", "k", "SSE (Rp²)", "silhouette"],
            numeric: vec![false, true, true, true],
            rows: vec![
                row("price clusters", &self.clusters.price),
                row("customer tiers", &self.clusters.tiers),
            ],
        }
    }

    fn split_text(&self) -> String {
        format!(
            "Split at {}: {} training purchases, {} test purchases ({} orders that are not purchases left out); catalogue of {} products; seed {}.",
            self.split.split_at.format("%Y-%m-%d %H:%M:%S UTC"),
            self.split.train_orders,
            self.split.test_orders,
            self.not_purchases,
            self.catalogue_products,
            self.seed
        )
    }

    fn protocol_text(&self, s: &ProtocolSummary) -> String {
        let mut text = format!(
            "{} of {} test purchases used, {}; recall ceiling {}.",
            s.used,
            s.test_orders,
            skipped_text(s),
            num(s.recall_ceiling)
        );
        if let Some(note) = &s.note {
            let _ = write!(text, " Not measured: {note}.");
        }
        text
    }

    /// The plain-text rendering for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Offline evaluation of shop {}\n{}\n",
            self.shop,
            self.split_text()
        );
        for s in &self.protocols {
            // A protocol with no case has no figures: its line says why (the JSON keeps the
            // empty rows).
            let table = if s.used == 0 {
                String::new()
            } else {
                self.results_table(s.protocol).text()
            };
            let _ = write!(
                out,
                "\n{}\n{}\n{table}",
                protocol_title(s.protocol),
                self.protocol_text(s),
            );
        }
        if !self.comparisons.is_empty() {
            let _ = write!(
                out,
                "\nPaired t-tests (same orders; 95% CI of the mean difference; two-sided p)\n{}",
                self.comparisons_table().text()
            );
        }
        let _ = write!(
            out,
            "\nClusterings (exact 1-D k-means)\n{}",
            self.clusters_table().text()
        );
        out
    }

    /// The Markdown rendering: the same tables, as GitHub tables.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "## Offline evaluation of shop `{}`\n\n{}\n",
            self.shop,
            self.split_text()
        );
        for s in &self.protocols {
            let table = if s.used == 0 {
                String::new()
            } else {
                format!("\n{}", self.results_table(s.protocol).markdown())
            };
            let _ = write!(
                out,
                "\n### {}\n\n{}\n{table}",
                protocol_title(s.protocol),
                self.protocol_text(s),
            );
        }
        if !self.comparisons.is_empty() {
            let _ = write!(
                out,
                "\n### Paired t-tests\n\nSame orders; 95% CI of the mean difference; two-sided p.\n\n{}",
                self.comparisons_table().markdown()
            );
        }
        let _ = write!(
            out,
            "\n### Clusterings (exact 1-D k-means)\n\n{}",
            self.clusters_table().markdown()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RecommendSettings;
    use crate::eval::fixtures::{catalogue, orders};
    use crate::eval::{evaluate, EvalConfig};

    fn report() -> EvalReport {
        let config = EvalConfig {
            compare: vec![(ModelKind::Hybrid, ModelKind::BestSellers)],
            ..EvalConfig::default()
        };
        evaluate(
            "toko",
            catalogue(),
            &orders(),
            &RecommendSettings::default(),
            &config,
            &mut |_| {},
        )
        .unwrap()
    }

    fn keys(v: &serde_json::Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    #[test]
    fn the_json_has_the_documented_keys() {
        let v = serde_json::to_value(report()).unwrap();
        for key in ["shop", "split", "results", "comparisons", "clusters"] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(keys(&v["split"]), ["split_at", "test_orders", "train_orders"]);
        assert_eq!(
            keys(&v["results"][0]),
            [
                "coverage",
                "f1",
                "hit_rate",
                "model",
                "n",
                "ndcg",
                "orders",
                "precision",
                "protocol",
                "recall"
            ]
        );
        assert_eq!(keys(&v["results"][0]["precision"]), ["mean", "std"]);
        assert_eq!(
            keys(&v["comparisons"][0]),
            [
                "a",
                "b",
                "ci95",
                "mean_diff",
                "metric",
                "n",
                "p_value",
                "protocol",
                "t"
            ]
        );
        assert_eq!(keys(&v["clusters"]), ["price", "tiers"]);
        assert_eq!(keys(&v["clusters"]["tiers"]), ["k", "silhouette", "sse"]);
        assert_eq!(v["results"][0]["protocol"], "basket_completion");
        assert_eq!(v["results"][0]["model"], "similar");
        // 3 protocols × 11 models × 2 lengths; 3 × 2 × 4 metrics compared.
        assert_eq!(v["results"].as_array().unwrap().len(), 66);
        // The fitted blend: weights per list and their validation figures.
        assert_eq!(
            keys(&v["blend"]),
            [
                "content_coverage",
                "fit_orders",
                "fitted_at",
                "item",
                "personal",
                "validation_orders"
            ]
        );
        assert_eq!(
            keys(&v["blend"]["item"]),
            ["best_sellers", "blend", "cases", "mode", "peer", "weights"]
        );
        assert_eq!(v["comparisons"].as_array().unwrap().len(), 24);
        let protocols: Vec<&str> = v["protocols"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["protocol"].as_str().unwrap())
            .collect();
        assert_eq!(protocols, ["basket_completion", "next_order", "next_order_new"]);
        assert_eq!(v["protocols"][1]["recall_ceiling"], 1.0);
        assert!(
            v["protocols"][1].get("note").is_none(),
            "a note only when one is due"
        );
        // The JSON reads back to the same report (the fit's time differs between two runs).
        let back: EvalReport = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(back).unwrap(), v);
    }

    #[test]
    fn table_and_markdown_show_the_same_numbers() {
        let r = report();
        let (text, md) = (r.to_text(), r.to_markdown());
        for row in &r.results {
            let cells = [
                mean_std(&row.precision),
                mean_std(&row.recall),
                num(row.f1),
                num(row.hit_rate),
                num(row.ndcg),
                format!("{:.3}", row.coverage),
            ];
            for cell in &cells {
                assert!(
                    text.contains(cell.as_str()) && md.contains(cell.as_str()),
                    "{cell}"
                );
            }
            let md_row = format!("| {} | {} | {} |", row.model.name(), row.n, cells.join(" | "));
            assert!(md.contains(&md_row), "{md_row}\n{md}");
        }
        for c in &r.comparisons {
            let ci = format!("[{}, {}]", signed(c.ci95[0]), signed(c.ci95[1]));
            assert!(text.contains(&ci) && md.contains(&ci), "{ci}");
        }
        for s in &r.protocols {
            assert!(text.contains(&r.protocol_text(s)) && md.contains(&r.protocol_text(s)));
        }
        assert!(text.contains("customer tiers") && md.contains("| customer tiers | 4 |"));
    }
}
