//! `laris status`: per shop the counts of its records and its last sync report. Computed
//! from the store here, served by `GET /admin/api/status` when a service holds the store.

use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::records::{Quarantined, SyncReport};
use crate::store::{RunMarker, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub shops: Vec<ShopStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopStatus {
    pub id: String,
    pub name: String,
    pub products: usize,
    pub active_products: usize,
    pub orders: usize,
    pub paid_orders: usize,
    pub customers: usize,
    pub quarantined: usize,
    pub last_sync: Option<SyncReport>,
    /// The newest sync reports (every source of the last runs), newest first.
    #[serde(default)]
    pub recent_syncs: Vec<SyncReport>,
    /// The newest quarantined records with their reasons (with `--shop`).
    #[serde(default)]
    pub quarantine: Vec<Quarantined>,
    /// The data changed after the model was built: a rebuild is due (the next start, sync
    /// or import does it).
    #[serde(default)]
    pub model_stale: bool,
    /// An import, sync or replay that stopped before it finished (the process was
    /// killed): run it again; what it stored stays, and nothing is counted twice.
    #[serde(default)]
    pub interrupted_run: Option<RunMarker>,
}

/// Reports listed under `recent_syncs`.
const RECENT_SYNCS: usize = 10;
/// Quarantined records listed for one shop.
const QUARANTINE_LISTED: usize = 50;

pub fn status(settings: &Settings, store: &Store, only: Option<&str>) -> Result<StatusReport, StoreError> {
    let mut shops = Vec::new();
    for shop in settings
        .shops
        .iter()
        .filter(|s| only.is_none_or(|id| s.id.as_str() == id))
    {
        let products = store.products(&shop.id)?;
        let orders = store.orders(&shop.id)?;
        shops.push(ShopStatus {
            id: shop.id.to_string(),
            name: shop.name.clone(),
            products: products.len(),
            active_products: products
                .iter()
                .filter(|p| p.status == crate::records::ProductStatus::Active)
                .count(),
            orders: orders.len(),
            paid_orders: orders.iter().filter(|o| o.is_purchase()).count(),
            customers: store.customer_count(&shop.id),
            quarantined: store.quarantined_count(&shop.id),
            last_sync: store.last_sync_report(&shop.id)?,
            recent_syncs: store.sync_reports(&shop.id, RECENT_SYNCS)?,
            quarantine: if only.is_some() {
                let mut q = store.quarantined(&shop.id)?;
                q.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.origin.cmp(&b.origin)));
                q.truncate(QUARANTINE_LISTED);
                q
            } else {
                Vec::new()
            },
            model_stale: store.model_stale(&shop.id)?,
            interrupted_run: store.interrupted_run(&shop.id)?,
        });
    }
    Ok(StatusReport { shops })
}

impl StatusReport {
    /// The human-readable form `laris status` prints.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for s in &self.shops {
            out.push_str(&format!(
                "{} ({})\n  products   {} ({} active)\n  orders     {} ({} paid)\n  customers  {}\n  quarantined {}\n",
                s.id, s.name, s.products, s.active_products, s.orders, s.paid_orders, s.customers, s.quarantined
            ));
            match &s.last_sync {
                Some(r) => out.push_str(&format!(
                    "  last {}   {} from {}: {} products ({} new, {} changed), {} orders ({} new, {} changed), {} quarantined, {} ms{}\n",
                    r.kind,
                    r.finished_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    r.source,
                    r.products.seen,
                    r.products.inserted,
                    r.products.updated,
                    r.orders.seen,
                    r.orders.inserted,
                    r.orders.updated,
                    r.quarantined,
                    r.duration_ms,
                    if r.ok { String::new() } else { format!(", errors: {}", r.errors.join("; ")) }
                )),
                None => out.push_str("  last sync  never\n"),
            }
            if let Some(run) = &s.interrupted_run {
                out.push_str(&format!(
                    "  interrupted: a run that started {} stopped after {} pages without finishing; run it again (nothing is counted twice)\n",
                    run.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    run.pages
                ));
            }
            if s.model_stale {
                out.push_str("  model      stale: the data changed after the last rebuild; `laris rebuild` (or the next start or sync) brings it up to date\n");
            }
            if !s.quarantine.is_empty() {
                out.push_str(&format!(
                    "  quarantined records (newest {}):\n",
                    s.quarantine.len()
                ));
                for q in &s.quarantine {
                    out.push_str(&format!(
                        "    {} {} from {}: {}\n",
                        q.at.format("%Y-%m-%d %H:%M"),
                        q.kind,
                        q.origin,
                        q.reason
                    ));
                }
            }
        }
        out
    }
}
