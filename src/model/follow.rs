//! Following other replicas' models: when the store announces that a shop's snapshot was
//! replaced ([`crate::store::ShopStore::model_changes`]: another `laris serve` on the same
//! PostgreSQL database rebuilt it), [`follow`] reads the snapshot and swaps it into
//! [`Models`], so every replica serves the new model within about a second of the rebuild.
//! Widgets never wait for this: they keep reading the model they have.
//!
//! A snapshot this replica already serves (its own rebuild's, announced too) is recognised
//! by a hash of its bytes and not decoded again; a snapshot this Laris cannot read (a newer
//! model version written by a newer replica during an upgrade) is logged and the model
//! served stays.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::config::Settings;
use crate::domain::ShopId;
use crate::model::rebuild::{effective_settings, Models};
use crate::model::{snapshot, MODEL_VERSION};
use crate::store::{SharedStore, StoreError};

/// Swaps in each announced shop's stored snapshot until `changes` ends or `stop` turns true.
pub async fn follow(
    settings: Arc<Settings>,
    store: SharedStore,
    models: Arc<Models>,
    mut changes: tokio::sync::mpsc::Receiver<ShopId>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut served: HashMap<ShopId, u64> = HashMap::new();
    loop {
        let shop = tokio::select! {
            shop = changes.recv() => match shop {
                Some(shop) => shop,
                None => return,
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        let Some(shop_settings) = settings.shop(&shop).cloned() else {
            continue;
        };
        let (store, models, known) = (store.clone(), models.clone(), served.get(&shop).copied());
        let loaded =
            tokio::task::spawn_blocking(move || load_stored(&*store, &shop_settings, &models, known)).await;
        match loaded {
            Ok(Ok(Some(hash))) => {
                served.insert(shop, hash);
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::warn!(shop = %shop, error = %e, "cannot read the announced model: serving the one loaded before")
            }
            Err(e) => tracing::warn!(shop = %shop, error = %e, "the model loading task failed"),
        }
    }
}

/// Swaps the shop's stored snapshot into `models` unless its hash is `known` (served
/// already); returns the hash of what it swapped in, `None` when nothing changed.
pub fn load_stored(
    store: &dyn crate::store::ShopStore,
    shop: &crate::config::ShopSettings,
    models: &Models,
    known: Option<u64>,
) -> Result<Option<u64>, StoreError> {
    let Some(stored) = store.model_snapshot(&shop.id)? else {
        return Ok(None);
    };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    stored.bytes.hash(&mut hasher);
    let hash = hasher.finish();
    if known == Some(hash) {
        return Ok(None);
    }
    match snapshot::decode(&stored.bytes) {
        Ok(mut model) if model.version == MODEL_VERSION => {
            model.settings = Some(Arc::new(effective_settings(store, shop)?));
            models.put(shop.id.clone(), model);
            tracing::info!(shop = %shop.id, generation = ?stored.generation, "loaded the model another replica built");
            Ok(Some(hash))
        }
        Ok(model) => {
            tracing::warn!(shop = %shop.id, version = model.version, serving = MODEL_VERSION, "the announced model has another version than this Laris reads: serving the one loaded before (upgrade this replica)");
            Ok(None)
        }
        Err(e) => {
            tracing::warn!(shop = %shop.id, "the announced model cannot be read ({e}): serving the one loaded before");
            Ok(None)
        }
    }
}
