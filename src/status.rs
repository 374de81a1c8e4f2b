//! `laris status`: per shop the counts of its records and its last sync report. Computed
//! from the store here, served by `GET /admin/api/status` and `/metrics` when a service
//! holds the store. The counts are the store's own ([`ShopStore::counts`], kept with every
//! write): a report reads a few keys per shop, never every product and order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::domain::ShopId;
use crate::model::rebuild::Models;
use crate::records::{Quarantined, RunMarker, SyncReport};
use crate::store::{ShopStore, StoreError};

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
    /// Widget events stored.
    #[serde(default)]
    pub events: usize,
    /// Customers' feedback messages stored.
    #[serde(default)]
    pub feedback: usize,
    /// The recommendation model the shop is served from; `null` before its first rebuild.
    #[serde(default)]
    pub model: Option<ModelStatus>,
}

/// What a shop's model was built from, so that a model left behind by an interrupted
/// import shows next to the counts of the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelStatus {
    pub built_at: DateTime<Utc>,
    pub products: usize,
    pub paid_orders: usize,
    /// Baskets the bundle rules were mined from.
    pub bundle_transactions: usize,
    pub bundle_rules: usize,
}

impl ModelStatus {
    pub fn of(m: &crate::model::ShopModel) -> ModelStatus {
        ModelStatus {
            built_at: m.built_at,
            products: m.products.len(),
            paid_orders: m.paid_orders,
            bundle_transactions: m.bundles.transactions,
            bundle_rules: m.bundles.rules.len(),
        }
    }

    /// From the snapshot kept in the store, read without building the model (the
    /// snapshot's head: a large shop's model is hundreds of megabytes).
    fn stored(store: &dyn ShopStore, shop: &ShopId) -> Option<ModelStatus> {
        // A snapshot this laris cannot read is rebuilt by the next start: none to show.
        let m = crate::model::rebuild::stored_head(store, shop).ok()??;
        Some(ModelStatus {
            built_at: m.built_at,
            products: m.products as usize,
            paid_orders: m.paid_orders as usize,
            bundle_transactions: m.bundle_transactions as usize,
            bundle_rules: m.bundle_rules as usize,
        })
    }
}

/// Reports listed under `recent_syncs`.
const RECENT_SYNCS: usize = 10;
/// Quarantined records listed for one shop.
const QUARANTINE_LISTED: usize = 50;

/// The status of every shop (or of `only`). The model is the running service's `live` one,
/// or without a service the snapshot in the store.
pub fn status(
    settings: &Settings,
    store: &dyn ShopStore,
    only: Option<&str>,
    live: Option<&Models>,
) -> Result<StatusReport, StoreError> {
    let mut shops = Vec::new();
    for shop in settings
        .shops
        .iter()
        .filter(|s| only.is_none_or(|id| s.id.as_str() == id))
    {
        let counts = store.counts(&shop.id)?;
        let n = |c: u64| usize::try_from(c).unwrap_or(usize::MAX);
        shops.push(ShopStatus {
            id: shop.id.to_string(),
            name: shop.name.clone(),
            products: n(counts.products),
            active_products: n(counts.active_products),
            orders: n(counts.orders),
            paid_orders: n(counts.paid_orders),
            customers: n(counts.customers),
            quarantined: n(counts.quarantined),
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
            events: n(counts.events),
            feedback: n(counts.feedback),
            model: match live {
                Some(models) => models.get(&shop.id).map(|m| ModelStatus::of(&m)),
                None => ModelStatus::stored(store, &shop.id),
            },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Feedback, FeedbackStatus};
    use crate::store::Store;

    #[test]
    fn status_counts_events_and_feedback_and_shows_what_the_model_was_built_from() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let settings = Settings::from_toml(
            "[[shops]]\nid = \"lengkuas\"\n",
            std::path::Path::new("t.toml"),
            &[],
        )
        .unwrap();
        let shop = &settings.shops[0];
        let before = &status(&settings, &store, None, None).unwrap().shops[0];
        assert_eq!((before.events, before.feedback, &before.model), (0, 0, &None));

        let recording = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/lengkuas/recording");
        let (_, model) = crate::sync::replay::replay_and_rebuild(&store, shop, &recording).unwrap();
        for item in ["TPG-100", "SBL-150"] {
            store
                .append_event(
                    &shop.id,
                    &crate::records::Event {
                        kind: crate::records::EventKind::Click,
                        slot: None,
                        product: None,
                        item: Some(crate::domain::ProductId::parse(item).unwrap()),
                        at: None,
                        customer: None,
                        visitor: None,
                        arm: None,
                        order: None,
                        total: None,
                        items: Vec::new(),
                    },
                )
                .unwrap();
        }
        let mut message = Feedback {
            id: 0,
            at: Utc::now(),
            message: "kirim lebih cepat".into(),
            contact: None,
            page: None,
            product: None,
            status: FeedbackStatus::New,
        };
        store.put_feedback(&shop.id, &mut message).unwrap();

        let offline = &status(&settings, &store, None, None).unwrap().shops[0];
        assert_eq!((offline.events, offline.feedback), (2, 1));
        let stored = offline.model.clone().expect("the replay rebuilt the model");
        assert_eq!(
            (stored.products, stored.paid_orders, stored.bundle_rules),
            (10, offline.paid_orders, model.bundles.rules.len())
        );
        assert!(stored.bundle_transactions > 0 && stored.bundle_transactions <= stored.paid_orders);

        // A running service reports the model it serves: here the same one.
        let models = Models::default();
        models.put(shop.id.clone(), model);
        let live = &status(&settings, &store, None, Some(&models)).unwrap().shops[0];
        assert_eq!(live.model, Some(stored));
    }
}
