//! Model rebuilds and the live snapshots: read a shop's products and orders from the store,
//! build its [`ShopModel`] (CPU-bound: callers run it in `spawn_blocking`), keep the
//! snapshot in the store, and swap it into [`Models`] atomically so readers never wait.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::overlay::{self, effective, SettingsOverlay};
use crate::config::{Settings, ShopSettings};
use crate::domain::ShopId;
use crate::loyalty::identity::CustomerLinks;
use crate::model::snapshot::{self, SnapshotError, SnapshotHead};
use crate::model::{build_model, ShopModel, MODEL_VERSION};
use crate::store::{ShopStore, Snapshot, StoreError};

/// The model as the store keeps it: compact and versioned ([`snapshot`]).
pub fn encode_snapshot(model: &ShopModel, generation: Option<u64>) -> Snapshot {
    Snapshot {
        generation,
        bytes: snapshot::encode(model),
    }
}

/// Why a stored snapshot could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotReadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{shop}'s model snapshot: {source}")]
    Snapshot {
        shop: ShopId,
        #[source]
        source: SnapshotError,
    },
}

/// The head of the shop's stored snapshot (its model's figures), without decoding the model.
/// `None` when no model is stored.
pub fn stored_head(store: &dyn ShopStore, shop: &ShopId) -> Result<Option<SnapshotHead>, SnapshotReadError> {
    let Some(stored) = store.model_snapshot(shop)? else {
        return Ok(None);
    };
    snapshot::head(&stored.bytes)
        .map(Some)
        .map_err(|source| SnapshotReadError::Snapshot {
            shop: shop.clone(),
            source,
        })
}

/// The current model of every shop. Readers take an `Arc` without locking; a rebuild
/// replaces the whole map (shops are few), so a reader sees the old or the new snapshot.
///
/// A generation number moves on after every swap: whatever was derived from the models
/// (the prepared widget answers, `web::prepared`) is keyed on it and never outlives them.
#[derive(Default)]
pub struct Models {
    current: ArcSwap<HashMap<ShopId, Arc<ShopModel>>>,
    generation: AtomicU64,
}

impl Models {
    pub fn get(&self, shop: &ShopId) -> Option<Arc<ShopModel>> {
        self.current.load().get(shop).cloned()
    }

    pub fn put(&self, shop: ShopId, model: ShopModel) {
        let model = Arc::new(model);
        self.current.rcu(|old| {
            let mut next = HashMap::clone(old);
            next.insert(shop.clone(), model.clone());
            next
        });
        // After the swap: a reader that sees the new number sees the new model too.
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The number of swaps so far. Read it *before* [`Models::get`]: what is derived from
    /// the model then read is never older than the generation it is kept under.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

/// The shop's settings as the service runs with them: the config file's, with the owner's
/// dashboard changes kept in the store laid over them. An overlay this Laris cannot read is
/// logged and left out (the config file's values apply), never a reason not to serve.
pub fn effective_settings(store: &dyn ShopStore, shop: &ShopSettings) -> Result<ShopSettings, StoreError> {
    Ok(effective(shop, &stored_overlay(store, &shop.id)?))
}

/// The owner's settings overlay as stored; empty when there is none or it cannot be read.
pub fn stored_overlay(store: &dyn ShopStore, shop: &ShopId) -> Result<SettingsOverlay, StoreError> {
    let Some(bytes) = store.settings_overlay(shop)? else {
        return Ok(SettingsOverlay::default());
    };
    Ok(overlay::decode(&bytes).unwrap_or_else(|e| {
        tracing::warn!(shop = %shop, "the settings changed from the dashboard cannot be read ({e}): the config file's values apply until they are saved again");
        SettingsOverlay::default()
    }))
}

/// Builds the shop's model from the store, places customers on the loyalty ladder and in
/// segments, and saves both. The owner's dashboard changes apply (`effective_settings`).
pub fn rebuild_shop(store: &dyn ShopStore, shop: &ShopSettings) -> Result<ShopModel, StoreError> {
    let mut lap = std::time::Instant::now();
    let mut phases: Vec<(&str, u64)> = Vec::new();
    let mut phase = |name: &'static str| {
        phases.push((name, lap.elapsed().as_millis() as u64));
        lap = std::time::Instant::now();
    };
    let shop = &effective_settings(store, shop)?;
    // Read first: a write that lands while this rebuild reads moves the generation on,
    // and the model stays stale.
    let generation = store.data_generation(&shop.id)?;
    let products = store.products(&shop.id)?;
    let mut orders = store.orders(&shop.id)?;
    phase("read");
    // One customer per person: buyer ids and old name hashes become the phone key.
    let links = CustomerLinks::from_orders(&orders);
    links.apply(&mut orders);
    let previous = links.rekey(match store.model_snapshot(&shop.id) {
        Ok(Some(stored)) => snapshot::previous_standings(&stored.bytes)
            .map(|loyalty| loyalty.standings)
            .unwrap_or_default(),
        _ => Default::default(),
    });
    phase("link");
    let mut model = build_model(products, &orders, &shop.recommend);
    phase("build");
    let history = links.rekey(
        store
            .customers(&shop.id)?
            .into_iter()
            .filter(|c| !c.tier_history.is_empty())
            .map(|c| (c.id, c.tier_history))
            .collect(),
    );
    let mut customers = crate::loyalty::customers::derive_customers(&orders);
    links.note_aliases(&mut customers);
    let (customers, loyalty) = crate::loyalty::customers::tiers_and_segments(
        customers,
        &orders,
        &shop.loyalty,
        &previous,
        &history,
        chrono::Utc::now(),
    );
    phase("customers");
    model.loyalty = loyalty;
    model.settings = Some(Arc::new(shop.clone()));
    model.aliases = links.into_map();
    let snapshot = encode_snapshot(&model, generation);
    phase("encode");
    store.put_rebuild(&shop.id, &customers, &snapshot)?;
    phase("write");
    tracing::info!(
        shop = %shop.id,
        products = model.products.len(),
        paid_orders = model.paid_orders,
        rules = model.bundles.rules.len(),
        build_ms = model.build_ms,
        phases_ms = ?phases,
        "recommendation model rebuilt"
    );
    Ok(model)
}

/// The stored snapshot when it is current (this Laris's model version, built from the
/// shop's data as it stands), else a fresh build.
pub fn load_or_rebuild(store: &dyn ShopStore, shop: &ShopSettings) -> Result<ShopModel, StoreError> {
    if store.model_stale(&shop.id)? {
        tracing::info!(shop = %shop.id, "the stored model predates the shop's data (an import ended before its rebuild): rebuilding");
        return rebuild_shop(store, shop);
    }
    let Some(stored) = store.model_snapshot(&shop.id)? else {
        return rebuild_shop(store, shop);
    };
    match snapshot::decode(&stored.bytes) {
        Ok(mut m) if m.version == MODEL_VERSION => {
            m.settings = Some(Arc::new(effective_settings(store, shop)?));
            Ok(m)
        }
        Ok(_) => rebuild_shop(store, shop),
        Err(e) => {
            tracing::info!(shop = %shop.id, "{e}: rebuilding");
            rebuild_shop(store, shop)
        }
    }
}

/// Loads (or builds) every configured shop's model into `models`.
pub fn load_all(settings: &Settings, store: &dyn ShopStore, models: &Models) -> Result<(), StoreError> {
    for shop in &settings.shops {
        models.put(shop.id.clone(), load_or_rebuild(store, shop)?);
    }
    Ok(())
}

/// What a rebuild produced, for `laris rebuild` and the admin API.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ModelSummary {
    pub products: usize,
    pub paid_orders: usize,
    pub rules: usize,
    pub price_clusters: Option<usize>,
    pub price_silhouette: Option<f64>,
    pub build_ms: u64,
    pub built_at: chrono::DateTime<chrono::Utc>,
    /// The blend's fitted weights and validation figures.
    #[serde(default)]
    pub blend: crate::recommend::blend::BlendFit,
}

pub fn summary(m: &ShopModel) -> ModelSummary {
    ModelSummary {
        products: m.products.len(),
        paid_orders: m.paid_orders,
        rules: m.bundles.rules.len(),
        price_clusters: m.price_clusters.as_ref().map(|c| c.clustering.k),
        price_silhouette: m.price_clusters.as_ref().map(|c| c.silhouette),
        build_ms: m.build_ms,
        built_at: m.built_at,
        blend: m.fit.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::phone::legacy_customer_hash;
    use crate::domain::{CustomerId, OrderStatus, Rupiah};
    use crate::records::{Customer, Order};
    use crate::store::sled_backend::when_released;
    use crate::store::Store;
    use crate::store::{codec, recount, ImportBatch};

    /// An order as a Laris before phone keys wrote it: no phone or city fields, the buyer
    /// under the hash of name and phone.
    fn old_order_json(invoice: &str, customer: &str) -> serde_json::Value {
        serde_json::json!({
            "invoice": invoice,
            "customer": customer,
            "buyer_name": "Sri W.",
            "status": 700,
            "created_at": "2026-10-02T03:15:00Z",
            "paid_at": "2026-10-02T03:15:00Z",
            "updated_at": "2026-10-02T03:15:00Z",
            "lines": [{"name": "Kopi", "quantity": 1, "unit_price": 45000}],
            "products_total": 45000,
        })
    }

    #[test]
    fn a_store_of_old_hash_ids_keeps_one_customer_once_the_phone_is_imported() {
        let dir = tempfile::tempdir().unwrap();
        let settings =
            Settings::from_toml("[[shops]]\nid = \"toko\"\n", std::path::Path::new("t.toml"), &[]).unwrap();
        let shop = settings.shops[0].clone();
        let old = legacy_customer_hash(Some("Sri W."), Some("0812-3456-789")).unwrap();
        {
            // Written straight through sled, as the older Laris left it: its order and the
            // customer its rebuild derived.
            let db = when_released(|| sled::open(dir.path().join("store")));
            let tree = db.open_tree("records").unwrap();
            tree.insert(
                b"toko\0o\0INV/OLD/1",
                codec::encode(&old_order_json("INV/OLD/1", &old.0)),
            )
            .unwrap();
            let at = chrono::DateTime::parse_from_rfc3339("2026-10-02T03:15:00Z")
                .unwrap()
                .to_utc();
            let mut c = Customer::first_seen(old.clone(), at);
            c.order_count = 1;
            tree.insert(format!("toko\0c\0{old}").into_bytes(), codec::encode(&c))
                .unwrap();
            db.flush().unwrap();
        }
        let store = when_released(|| Store::open(dir.path()));
        rebuild_shop(&store, &shop).unwrap();
        let before = store.customers(&shop.id).unwrap();
        assert_eq!(before.len(), 1);
        assert_eq!(before[0].id, old, "nothing to link yet: the old id stays");

        // The next report names Sri's phone: her new order and the old one are one customer.
        let stored: Order = store.order(&shop.id, "INV/OLD/1").unwrap().unwrap();
        assert_eq!((stored.phone, stored.city), (None, None), "old records decode");
        let key = "628123456789";
        let mut batch = ImportBatch::new(&shop.id);
        batch.upsert_order(Order {
            invoice: "INV/NEW/2".into(),
            customer: CustomerId(key.into()),
            phone: Some(key.into()),
            city: Some("Bandung".into()),
            products_total: Rupiah(30000),
            status: OrderStatus(700),
            ..stored
        });
        store.apply(batch).unwrap();
        let model = rebuild_shop(&store, &shop).unwrap();
        let after = store.customers(&shop.id).unwrap();
        assert_eq!(after.len(), 1, "{after:?}");
        let sri = &after[0];
        assert_eq!(sri.id.0, key);
        assert_eq!((sri.order_count, sri.total_spend), (2, Rupiah(75000)));
        assert_eq!(sri.aliases, vec![old.clone()]);
        assert_eq!(sri.city.as_deref(), Some("Bandung"));
        assert_eq!(model.customer(&old).0, key, "a token for the old id is Sri's");
        assert_eq!(
            store.counts(&shop.id).unwrap(),
            recount(&store, &shop.id).unwrap()
        );
        // The stored snapshot keeps the links.
        let bytes = store.model_snapshot(&shop.id).unwrap().unwrap().bytes;
        assert_eq!(snapshot::decode(&bytes).unwrap().aliases, model.aliases);
    }
}
