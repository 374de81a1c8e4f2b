//! `laris experiment report`: the holdout experiment's report, as text or JSON, through the
//! running service when it holds the store, else from the store directly.

use std::path::Path;

use serde_json::Value;

use super::client::ServiceClient;
use super::{open_existing_store, shop_id};
use crate::config::Settings;

/// How `laris experiment report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Plain text for the owner.
    Text,
    /// The JSON of `GET /admin/api/shops/{shop}/experiment`.
    Json,
}

pub(super) fn report(
    settings: &Settings,
    data_dir: &Path,
    shop: &str,
    format: ReportFormat,
) -> anyhow::Result<()> {
    let id = shop_id(settings, shop)?;
    let shop = settings.shop(&id).expect("shop_id checked it");
    let report: Value = match ServiceClient::find(settings, data_dir)? {
        Some(client) => client.get(&format!("/admin/api/shops/{id}/experiment"))?,
        None => {
            let store = open_existing_store(settings, data_dir)?;
            serde_json::to_value(crate::experiment::report::report(
                &*store,
                shop,
                chrono::Utc::now(),
                None,
            )?)?
        }
    };
    match format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Text => print!("{}", text(&report)),
    }
    Ok(())
}

fn rupiah(v: &Value) -> String {
    match v.as_f64() {
        Some(x) => crate::domain::Rupiah(x.round() as i64).to_string(),
        None => "–".into(),
    }
}

fn percent(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |x| format!("{:.1}%", x * 100.0))
}

/// One difference: value, interval and p-value, each shown by `show`.
fn difference(name: &str, c: &Value, show: &dyn Fn(&Value) -> String) -> String {
    if c.is_null() {
        return format!("  {name}: not enough data\n");
    }
    let p = c["p_value"]
        .as_f64()
        .map_or(String::new(), |p| format!(", p = {p:.4}"));
    format!(
        "  {name}: {} (95% interval {} to {}{p})\n",
        show(&c["difference"]),
        show(&c["ci95"][0]),
        show(&c["ci95"][1])
    )
}

/// The report as the owner reads it.
fn text(r: &Value) -> String {
    let mut s = format!(
        "{}: {}\n",
        r["shop"].as_str().unwrap_or_default(),
        r["message"].as_str().unwrap_or_default()
    );
    let (Some(e), Some(a)) = (r["experiment"].as_object(), r["analysis"].as_object()) else {
        return s;
    };
    s.push_str(&format!(
        "experiment {}: {}% of visitors in control (control sees {}), period {} to {}\n\n",
        e["name"].as_str().unwrap_or_default(),
        e["holdout_pct"],
        e["control"].as_str().unwrap_or_default(),
        r["period"]["from"].as_str().unwrap_or("(no visitor yet)"),
        r["period"]["to"].as_str().unwrap_or_default(),
    ));
    if let Some(stopped) = e.get("stopped").and_then(Value::as_str) {
        s.push_str(&format!(
            "stopped at {stopped}: the report covers its whole period; no experiment runs now\n\n"
        ));
    }
    s.push_str("arm        visitors  converting  conversion  orders  avg order  revenue/visitor\n");
    for arm in ["control", "treatment"] {
        let x = &a[arm];
        s.push_str(&format!(
            "{arm:<10} {:>8}  {:>10}  {:>10}  {:>6}  {:>9}  {:>15}\n",
            x["visitors"].to_string(),
            x["converting_visitors"].to_string(),
            percent(&x["conversion_rate"]),
            x["orders"].to_string(),
            rupiah(&x["average_order_value"]),
            rupiah(&x["revenue_per_visitor"]),
        ));
    }
    s.push_str("\ntreatment − control (an interval containing 0: no evidence of an effect)\n");
    let points = |v: &Value| v.as_f64().map_or("–".into(), |x| format!("{:+.2} pp", x * 100.0));
    s.push_str(&difference("conversion rate", &a["conversion_rate"], &points));
    s.push_str(&difference(
        "average order value",
        &a["average_order_value"],
        &rupiah,
    ));
    s.push_str(&difference(
        "revenue per visitor",
        &a["revenue_per_visitor"],
        &rupiah,
    ));
    s.push_str(&difference(
        "revenue per visitor (bootstrap)",
        &a["revenue_per_visitor_bootstrap"],
        &rupiah,
    ));
    let srm = &a["sample_ratio"];
    s.push_str(&format!(
        "\nsample ratio: {} control / {} treatment, {} expected in control, p = {:.4}{}\n",
        srm["control"],
        srm["treatment"],
        percent(&srm["expected_control_share"]),
        srm["p_value"].as_f64().unwrap_or(f64::NAN),
        if srm["mismatch"] == true {
            " — WARNING: sample-ratio mismatch (p < 0.001): the assignment or the counting is broken; do not trust the numbers above"
        } else {
            ""
        }
    ));
    let mde = &a["conversion_mde"];
    if mde.is_null() {
        s.push_str("minimum detectable effect: not known yet\n");
    } else {
        s.push_str(&format!(
            "minimum detectable effect: {:.2} percentage points of conversion ({} of {})\n",
            mde["absolute"].as_f64().unwrap_or(f64::NAN) * 100.0,
            percent(&mde["relative"]),
            percent(&mde["baseline_rate"]),
        ));
    }
    let u = &r["untied"];
    s.push_str(&format!(
        "not tied to an arm: {} events without a visitor, {} without an arm, {} purchases, {} visitors in both arms\n",
        u["events_without_visitor"], u["events_without_arm"], u["purchases"], u["visitors_in_both_arms"]
    ));
    s.push_str("Decide the sample size first and read the result once: stopping at the first significant day inflates false positives.\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_shows_the_arms_the_differences_and_the_warning() {
        let r = serde_json::json!({
            "shop": "toko", "state": "ready", "message": "Both arms have visitors.",
            "experiment": {"name": "h", "holdout_pct": 50, "control": "nothing", "started": null},
            "period": {"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"},
            "attribution_window_hours": 72,
            "analysis": {
                "control": {"visitors": 60, "converting_visitors": 6, "conversion_rate": 0.1, "orders": 6, "revenue": 600000, "average_order_value": 100000, "revenue_per_visitor": 10000},
                "treatment": {"visitors": 15, "converting_visitors": 3, "conversion_rate": 0.2, "orders": 3, "revenue": 300000, "average_order_value": 100000, "revenue_per_visitor": 20000},
                "conversion_rate": {"difference": 0.1, "ci95": [-0.1, 0.3], "p_value": 0.3},
                "average_order_value": null, "revenue_per_visitor": null, "revenue_per_visitor_bootstrap": null,
                "sample_ratio": {"control": 60, "treatment": 15, "expected_control_share": 0.5, "p_value": 0.0000002, "mismatch": true},
                "conversion_mde": null
            },
            "untied": {"events_without_visitor": 3, "events_without_arm": 0, "purchases": 1, "visitors_in_both_arms": 0},
            "tied_orders": 0
        });
        let t = text(&r);
        assert!(t.contains("control          60"), "{t}");
        assert!(t.contains("Rp10.000"), "{t}");
        assert!(
            t.contains("conversion rate: +10.00 pp (95% interval -10.00 pp to +30.00 pp, p = 0.3000)"),
            "{t}"
        );
        assert!(t.contains("average order value: not enough data"), "{t}");
        assert!(t.contains("WARNING: sample-ratio mismatch"), "{t}");
        assert!(t.contains("3 events without a visitor"), "{t}");
        let none = serde_json::json!({"shop": "toko", "message": "No experiment is configured."});
        assert_eq!(text(&none), "toko: No experiment is configured.\n");
    }
}
