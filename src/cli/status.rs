//! `laris status` and `laris rebuild`.

use std::path::Path;

use super::client::ServiceClient;
use super::{open_existing_store, shop_id};
use crate::config::Settings;
use crate::domain::ShopId;
use crate::status::StatusReport;

pub(super) fn status(
    settings: &Settings,
    data_dir: &Path,
    shop: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    if let Some(s) = shop {
        shop_id(settings, s)?;
    }
    let report: StatusReport = match ServiceClient::find(settings, data_dir)? {
        Some(client) => {
            let path = match shop {
                Some(s) => format!("/admin/api/status?shop={s}"),
                None => "/admin/api/status".to_string(),
            };
            client.get(&path)?
        }
        None => {
            let store = open_existing_store(settings, data_dir)?;
            crate::status::status(settings, &*store, shop, None)?
        }
    };
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}

/// The fitted blend as `laris rebuild` prints it: per list the mode, the weights and the
/// validation figures, then the owner's explanation.
pub fn blend_text(fit: &crate::recommend::blend::BlendFit) -> String {
    use crate::recommend::blend::{ListFit, SIGNAL_NAMES};
    let mut s = format!(
        "  blend fitted {} on {} purchases, validated on the next {}\n",
        fit.fitted_at.format("%Y-%m-%d %H:%M UTC"),
        fit.fit_orders,
        fit.validation_orders
    );
    let line = |name: &str, peer: &str, l: &ListFit| {
        let weights: Vec<String> = SIGNAL_NAMES
            .iter()
            .zip(l.weights.as_array())
            .filter(|(_, w)| *w > 0.0)
            .map(|(n, w)| format!("{n} {w:.2}"))
            .collect();
        format!(
            "  {name}: {:?} on {} cases — {}\n    NDCG@5 {:.3} (best-sellers {:.3}, {peer} {:.3}), hit@5 {:.3} (best-sellers {:.3})\n",
            l.mode,
            l.cases,
            weights.join(", "),
            l.blend.ndcg,
            l.best_sellers.ndcg,
            l.peer.ndcg,
            l.blend.hit_rate,
            l.best_sellers.hit_rate
        )
    };
    s.push_str(&line("product pages", "co-purchase alone", &fit.item));
    s.push_str(&line("for you", "own most-bought", &fit.personal));
    for e in fit.explain(true) {
        s.push_str(&format!("  {e}\n"));
    }
    s
}

pub(super) fn rebuild(settings: &Settings, data_dir: &Path, shop: Option<&str>) -> anyhow::Result<()> {
    let shops: Vec<ShopId> = match shop {
        Some(s) => vec![shop_id(settings, s)?],
        None => settings.shops.iter().map(|s| s.id.clone()).collect(),
    };
    let service = ServiceClient::find(settings, data_dir)?;
    let store = match service {
        Some(_) => None,
        None => Some(open_existing_store(settings, data_dir)?),
    };
    for id in shops {
        let summary: crate::model::rebuild::ModelSummary = match (&service, &store) {
            (Some(client), _) => {
                client.post(&format!("/admin/api/shops/{id}/rebuild"), &serde_json::json!({}))?
            }
            (None, Some(store)) => {
                let shop = settings.shop(&id).expect("checked");
                crate::model::rebuild::summary(&crate::model::rebuild::rebuild_shop(&**store, shop)?)
            }
            (None, None) => unreachable!("either a service or a store"),
        };
        println!(
            "{id}: {} products, {} paid orders, {} rules, {} price clusters (silhouette {}), built in {} ms",
            summary.products,
            summary.paid_orders,
            summary.rules,
            summary
                .price_clusters
                .map(|k| k.to_string())
                .unwrap_or_else(|| "no".into()),
            summary
                .price_silhouette
                .map(|s| format!("{s:.3}"))
                .unwrap_or_else(|| "-".into()),
            summary.build_ms
        );
        print!("{}", blend_text(&summary.blend));
    }
    if let Some(store) = store {
        store.flush_blocking()?;
    }
    Ok(())
}
