//! The store: the only code that knows sled.
//!
//! Layout: one tree `records` holds every shop's data under the key
//! `{shop}\0{kind}\0{id}` (kinds below), so that everything one import writes (products,
//! orders, the product-id map, quarantined records, the report, later the sync cursor)
//! goes in one atomic `sled::Batch`. Events, which arrive at a much higher rate and are
//! only appended, live in their own tree keyed `{shop}\0{sequence as big-endian u64}`.
//!
//! Values are encoded by [`codec`]: a version byte, then JSON. Adding a field with a serde
//! default never breaks an existing store.
//!
//! sled lets one process open a store; a second one gets [`StoreError::Locked`], whose
//! message says how to go through the running service instead.

pub mod codec;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;

use crate::domain::{ProductId, ShopId};
use crate::records::{
    Customer, Feedback, FeedbackStatus, Order, Product, Quarantined, SyncReport, UpsertCounts,
};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the store in {0} is held by another laris process (a running `laris serve`?). sled lets one process open a store: stop that process, or run the command while it runs — `laris status` and `laris replay` go through the running service by themselves when its address file `laris.serve.json` is in the data directory")]
    Locked(PathBuf),
    #[error("store error: {0}")]
    Sled(#[from] sled::Error),
    #[error("record {key:?} in the store cannot be decoded: {reason}")]
    Decode { key: String, reason: String },
}

/// Record kinds: the middle part of a key.
mod kind {
    pub const PRODUCT: &str = "p";
    /// marketplace product id → our product id
    pub const PRODUCT_REF: &str = "pr";
    pub const ORDER: &str = "o";
    pub const CUSTOMER: &str = "c";
    pub const QUARANTINE: &str = "q";
    /// sync reports keyed by start time (big-endian millis) so the newest is last
    pub const REPORT: &str = "r";
    /// sync state: cursors and the like, by name
    pub const STATE: &str = "s";
    /// model snapshots by name
    pub const MODEL: &str = "m";
    /// customers' feedback messages by id (big-endian u64, so the newest is last)
    pub const FEEDBACK: &str = "f";
}

fn key(shop: &ShopId, kind: &str, id: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(shop.as_str().len() + kind.len() + id.len() + 2);
    k.extend_from_slice(shop.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(kind.as_bytes());
    k.push(0);
    k.extend_from_slice(id);
    k
}

/// An event's key: the shop, then its sequence number (big-endian, so keys sort by it).
fn event_key(shop: &ShopId, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(shop.as_str().len() + 9);
    k.extend_from_slice(shop.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn prefix(shop: &ShopId, kind: &str) -> Vec<u8> {
    key(shop, kind, b"")
}

/// Sync reports kept per shop (the admin's history); older ones are dropped.
pub const REPORTS_KEPT: usize = 100;

/// State names the store itself keeps per shop.
mod state {
    /// A fresh id written with every batch that changes a product or an order.
    pub const DATA_GENERATION: &str = "data-generation";
    /// The data generation the stored model was built from.
    pub const MODEL_GENERATION: &str = "model-generation";
    /// The import under way ([`super::RunMarker`]); removed with its report.
    pub const RUN: &str = "run";
}

/// An import, sync or replay under way: written with its first page, removed in the batch
/// that stores its report. Found at rest, it says a run was interrupted.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RunMarker {
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Pages committed so far.
    pub pages: u64,
}

#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    /// Group commit of acknowledged writes ([`Store::durable`]).
    commits: std::sync::Arc<GroupCommit>,
    /// Every shop's records, so that an import's writes fit one atomic batch.
    records: sled::Tree,
    /// Widget events: append-only, high rate, kept apart from the records.
    events: sled::Tree,
    path: PathBuf,
}

/// Writes that belong together, applied atomically by [`Store::apply`].
#[derive(Default)]
pub struct ImportBatch {
    batch: sled::Batch,
    pub products: UpsertCounts,
    pub orders: UpsertCounts,
    pub quarantined: u64,
    /// The shop whose products or orders this batch changes: applying it marks the shop's
    /// model stale in the same atomic write.
    changes: Option<ShopId>,
}

/// Counts writes and flushes, so that concurrent acknowledgements share one flush.
#[derive(Default)]
struct GroupCommit {
    /// Tickets handed out: one per write that waits to be durable.
    tickets: std::sync::atomic::AtomicU64,
    /// Every ticket up to this one is on disk.
    durable: std::sync::atomic::AtomicU64,
    /// One flush at a time; waiting writers queue here and most find their ticket covered.
    flushing: tokio::sync::Mutex<()>,
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        let path = dir.join("store");
        owner_only(dir).map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        let db = sled::Config::new().path(&path).open().map_err(|e| match e {
            sled::Error::Io(ref io)
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("could not acquire lock") =>
            {
                StoreError::Locked(dir.to_path_buf())
            }
            other => StoreError::Sled(other),
        })?;
        let records = db.open_tree("records")?;
        let events = db.open_tree("events")?;
        owner_only(&path).map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        Ok(Store {
            db,
            commits: Default::default(),
            records,
            events,
            path: dir.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Returns once every write this task made before the call is on disk: call it before
    /// acknowledging a write to a client. Concurrent callers share flushes (a group
    /// commit): a caller that finds a flush under way waits for it and flushes again only
    /// when its write may have come after that flush began.
    pub async fn durable(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let ticket = self.commits.tickets.fetch_add(1, Ordering::SeqCst) + 1;
        let _turn = self.commits.flushing.lock().await;
        if self.commits.durable.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        // Every write holding a ticket up to `covers` happened before this flush starts.
        let covers = self.commits.tickets.load(Ordering::SeqCst);
        self.db.flush_async().await?;
        self.commits.durable.fetch_max(covers, Ordering::SeqCst);
        Ok(())
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.records.get(key)? {
            Some(bytes) => codec::decode(&bytes)
                .map(Some)
                .map_err(|reason| StoreError::Decode {
                    key: String::from_utf8_lossy(key).replace('\0', "/"),
                    reason,
                }),
            None => Ok(None),
        }
    }

    fn scan<T: DeserializeOwned>(&self, shop: &ShopId, kind: &str) -> Result<Vec<T>, StoreError> {
        self.records
            .scan_prefix(prefix(shop, kind))
            .map(|item| {
                let (k, v) = item?;
                codec::decode(&v).map_err(|reason| StoreError::Decode {
                    key: String::from_utf8_lossy(&k).replace('\0', "/"),
                    reason,
                })
            })
            .collect()
    }

    fn count(&self, shop: &ShopId, kind: &str) -> usize {
        self.records.scan_prefix(prefix(shop, kind)).keys().count()
    }

    /// Whether the store holds any product or order of this shop.
    pub fn has_data(&self, shop: &ShopId) -> Result<bool, StoreError> {
        for k in [kind::PRODUCT, kind::ORDER] {
            if self
                .records
                .scan_prefix(prefix(shop, k))
                .next()
                .transpose()?
                .is_some()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub fn product(&self, shop: &ShopId, id: &ProductId) -> Result<Option<Product>, StoreError> {
        self.get(&key(shop, kind::PRODUCT, id.as_str().as_bytes()))
    }

    pub fn products(&self, shop: &ShopId) -> Result<Vec<Product>, StoreError> {
        self.scan(shop, kind::PRODUCT)
    }

    pub fn product_for_marketplace_id(
        &self,
        shop: &ShopId,
        marketplace_id: &str,
    ) -> Result<Option<ProductId>, StoreError> {
        self.get(&key(shop, kind::PRODUCT_REF, marketplace_id.as_bytes()))
    }

    pub fn order(&self, shop: &ShopId, invoice: &str) -> Result<Option<Order>, StoreError> {
        self.get(&key(shop, kind::ORDER, invoice.as_bytes()))
    }

    pub fn orders(&self, shop: &ShopId) -> Result<Vec<Order>, StoreError> {
        self.scan(shop, kind::ORDER)
    }

    pub fn order_count(&self, shop: &ShopId) -> usize {
        self.count(shop, kind::ORDER)
    }

    pub fn customers(&self, shop: &ShopId) -> Result<Vec<Customer>, StoreError> {
        self.scan(shop, kind::CUSTOMER)
    }

    pub fn customer_count(&self, shop: &ShopId) -> usize {
        self.count(shop, kind::CUSTOMER)
    }

    pub fn quarantined(&self, shop: &ShopId) -> Result<Vec<Quarantined>, StoreError> {
        self.scan(shop, kind::QUARANTINE)
    }

    pub fn quarantined_count(&self, shop: &ShopId) -> usize {
        self.count(shop, kind::QUARANTINE)
    }

    /// Sync reports, newest first, at most `limit`.
    pub fn sync_reports(&self, shop: &ShopId, limit: usize) -> Result<Vec<SyncReport>, StoreError> {
        self.records
            .scan_prefix(prefix(shop, kind::REPORT))
            .values()
            .rev()
            .take(limit)
            .map(|v| {
                codec::decode(&v?).map_err(|reason| StoreError::Decode {
                    key: "report".into(),
                    reason,
                })
            })
            .collect()
    }

    pub fn last_sync_report(&self, shop: &ShopId) -> Result<Option<SyncReport>, StoreError> {
        Ok(self.sync_reports(shop, 1)?.into_iter().next())
    }

    /// Stores a finished run's report, removing its run marker in the same write, and
    /// drops the oldest reports beyond [`REPORTS_KEPT`].
    pub fn put_sync_report(&self, shop: &ShopId, report: &SyncReport) -> Result<(), StoreError> {
        let mut batch = ImportBatch::default();
        batch.report(shop, report);
        batch.end_run(shop);
        self.apply(batch)?;
        let keys: Vec<_> = self
            .records
            .scan_prefix(prefix(shop, kind::REPORT))
            .keys()
            .collect::<Result<_, _>>()?;
        if keys.len() > REPORTS_KEPT {
            let mut prune = sled::Batch::default();
            for k in &keys[..keys.len() - REPORTS_KEPT] {
                prune.remove(k.clone());
            }
            self.records.apply_batch(prune)?;
        }
        Ok(())
    }

    pub fn state<T: DeserializeOwned>(&self, shop: &ShopId, name: &str) -> Result<Option<T>, StoreError> {
        self.get(&key(shop, kind::STATE, name.as_bytes()))
    }

    pub fn model<T: DeserializeOwned>(&self, shop: &ShopId, name: &str) -> Result<Option<T>, StoreError> {
        self.get(&key(shop, kind::MODEL, name.as_bytes()))
    }

    pub fn put_model<T: Serialize>(&self, shop: &ShopId, name: &str, model: &T) -> Result<(), StoreError> {
        self.records
            .insert(key(shop, kind::MODEL, name.as_bytes()), codec::encode(model))?;
        Ok(())
    }

    /// Stores a new feedback message under a fresh id (set in the record and returned).
    pub fn put_feedback(&self, shop: &ShopId, feedback: &mut Feedback) -> Result<u64, StoreError> {
        feedback.id = self.db.generate_id()?;
        self.records.insert(
            key(shop, kind::FEEDBACK, &feedback.id.to_be_bytes()),
            codec::encode(feedback),
        )?;
        Ok(feedback.id)
    }

    pub fn feedback_count(&self, shop: &ShopId) -> usize {
        self.count(shop, kind::FEEDBACK)
    }

    /// Feedback messages, newest first.
    pub fn feedback(&self, shop: &ShopId) -> Result<Vec<Feedback>, StoreError> {
        let mut all: Vec<Feedback> = self.scan(shop, kind::FEEDBACK)?;
        all.reverse();
        Ok(all)
    }

    /// Sets a message's status (new, read, answered); `false` when there is no such message.
    pub fn set_feedback_status(
        &self,
        shop: &ShopId,
        id: u64,
        status: FeedbackStatus,
    ) -> Result<bool, StoreError> {
        let k = key(shop, kind::FEEDBACK, &id.to_be_bytes());
        let Some(mut feedback) = self.get::<Feedback>(&k)? else {
            return Ok(false);
        };
        feedback.status = status;
        self.records.insert(k, codec::encode(&feedback))?;
        // An owner's change is acknowledged as done: on disk first.
        self.db.flush()?;
        Ok(true)
    }

    /// Appends an event; returns its sequence number.
    pub fn append_event<T: Serialize>(&self, shop: &ShopId, event: &T) -> Result<u64, StoreError> {
        let seq = self.db.generate_id()?;
        self.events.insert(event_key(shop, seq), codec::encode(event))?;
        Ok(seq)
    }

    /// Appends events in one atomic write: all are stored or none.
    pub fn append_events<T: Serialize>(&self, shop: &ShopId, events: &[T]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for e in events {
            batch.insert(event_key(shop, self.db.generate_id()?), codec::encode(e));
        }
        self.events.apply_batch(batch)?;
        Ok(())
    }

    /// Whether any event is stored for the shop.
    pub fn has_events(&self, shop: &ShopId) -> Result<bool, StoreError> {
        let mut p = shop.as_str().as_bytes().to_vec();
        p.push(0);
        Ok(self.events.scan_prefix(p).next().transpose()?.is_some())
    }

    /// Removes the shop's events that are `old`, and beyond those the oldest until at most
    /// `keep` remain; returns how many went. Removes in chunks, so a big prune never
    /// builds one huge write.
    pub fn prune_events<T: DeserializeOwned>(
        &self,
        shop: &ShopId,
        old: impl Fn(&T) -> bool,
        keep: usize,
    ) -> Result<usize, StoreError> {
        let mut p = shop.as_str().as_bytes().to_vec();
        p.push(0);
        let total = self.events.scan_prefix(&p).keys().count();
        let mut excess = total.saturating_sub(keep);
        let mut removed = 0;
        let mut batch = sled::Batch::default();
        let mut in_batch = 0;
        for item in self.events.scan_prefix(&p) {
            let (k, v) = item?;
            let gone = excess > 0 || codec::decode::<T>(&v).is_ok_and(|e| old(&e));
            if !gone {
                continue;
            }
            excess = excess.saturating_sub(1);
            batch.remove(k);
            removed += 1;
            in_batch += 1;
            if in_batch == 10_000 {
                self.events.apply_batch(std::mem::take(&mut batch))?;
                in_batch = 0;
            }
        }
        self.events.apply_batch(batch)?;
        Ok(removed)
    }

    /// Removes every event of the shop; returns how many.
    pub fn remove_events(&self, shop: &ShopId) -> Result<usize, StoreError> {
        let mut p = shop.as_str().as_bytes().to_vec();
        p.push(0);
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for k in self.events.scan_prefix(p).keys() {
            batch.remove(k?);
            n += 1;
        }
        self.events.apply_batch(batch)?;
        Ok(n)
    }

    pub fn event_count(&self, shop: &ShopId) -> usize {
        let mut p = shop.as_str().as_bytes().to_vec();
        p.push(0);
        self.events.scan_prefix(p).keys().count()
    }

    pub fn events<T: DeserializeOwned>(&self, shop: &ShopId) -> Result<Vec<T>, StoreError> {
        let mut p = shop.as_str().as_bytes().to_vec();
        p.push(0);
        self.events
            .scan_prefix(p)
            .values()
            .map(|v| {
                codec::decode(&v?).map_err(|reason| StoreError::Decode {
                    key: "event".into(),
                    reason,
                })
            })
            .collect()
    }

    /// Starts a batch of writes that [`Store::apply`] commits atomically. Upserts compare
    /// with what is stored, so re-importing the same data writes nothing and counts as
    /// unchanged.
    pub fn batch(&self) -> ImportBatch {
        ImportBatch::default()
    }

    pub fn upsert_product(
        &self,
        batch: &mut ImportBatch,
        shop: &ShopId,
        product: &Product,
    ) -> Result<(), StoreError> {
        let k = key(shop, kind::PRODUCT, product.id.as_str().as_bytes());
        let encoded = codec::encode(product);
        let counts = self.upsert(&mut batch.batch, k, encoded)?;
        batch.note_change(shop, &counts);
        batch.products.add(&counts);
        if let Some(mid) = &product.marketplace_id {
            let k = key(shop, kind::PRODUCT_REF, mid.as_bytes());
            self.upsert(&mut batch.batch, k, codec::encode(&product.id))?;
        }
        Ok(())
    }

    pub fn upsert_order(
        &self,
        batch: &mut ImportBatch,
        shop: &ShopId,
        order: &Order,
    ) -> Result<(), StoreError> {
        let k = key(shop, kind::ORDER, order.invoice.as_bytes());
        let counts = self.upsert(&mut batch.batch, k, codec::encode(order))?;
        batch.note_change(shop, &counts);
        batch.orders.add(&counts);
        Ok(())
    }

    fn upsert(
        &self,
        batch: &mut sled::Batch,
        k: Vec<u8>,
        value: Vec<u8>,
    ) -> Result<UpsertCounts, StoreError> {
        let mut counts = UpsertCounts {
            seen: 1,
            ..Default::default()
        };
        match self.records.get(&k)? {
            Some(old) if old.as_ref() == value.as_slice() => counts.unchanged = 1,
            Some(_) => {
                counts.updated = 1;
                batch.insert(k, value);
            }
            None => {
                counts.inserted = 1;
                batch.insert(k, value);
            }
        }
        Ok(counts)
    }

    /// Commits the batch atomically; when it changes products or orders, the shop's data
    /// generation moves on in the same write, which marks its model stale.
    pub fn apply(&self, mut batch: ImportBatch) -> Result<(), StoreError> {
        if let Some(shop) = batch.changes.take() {
            let generation = self.db.generate_id()?;
            batch.set_state(&shop, state::DATA_GENERATION, &generation);
        }
        self.records.apply_batch(batch.batch)?;
        Ok(())
    }

    /// Whether the shop's products or orders changed after its stored model was built (or
    /// no model was stored since data came in): a rebuild is due. Every start rebuilds a
    /// stale model, so a crash between an import and its rebuild leaves nothing stale.
    pub fn model_stale(&self, shop: &ShopId) -> Result<bool, StoreError> {
        let data: Option<u64> = self.state(shop, state::DATA_GENERATION)?;
        let model: Option<u64> = self.state(shop, state::MODEL_GENERATION)?;
        Ok(data.is_some() && data != model)
    }

    /// The data generation a rebuild starts from: read it before reading the data, and
    /// pass it to [`Store::put_rebuild`].
    pub fn data_generation(&self, shop: &ShopId) -> Result<Option<u64>, StoreError> {
        self.state(shop, state::DATA_GENERATION)
    }

    /// Stores a rebuild's outcome in one atomic write: the shop's customers (replacing
    /// all), its model snapshot, and the data generation it was built from. A write that
    /// changed data meanwhile has moved the generation on, so the model stays stale.
    pub fn put_rebuild<T: Serialize>(
        &self,
        shop: &ShopId,
        customers: &[Customer],
        name: &str,
        model: &T,
        generation: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for k in self.records.scan_prefix(prefix(shop, kind::CUSTOMER)).keys() {
            batch.remove(k?);
        }
        for c in customers {
            batch.insert(key(shop, kind::CUSTOMER, c.id.0.as_bytes()), codec::encode(c));
        }
        batch.insert(key(shop, kind::MODEL, name.as_bytes()), codec::encode(model));
        match generation {
            Some(g) => batch.insert(
                key(shop, kind::STATE, state::MODEL_GENERATION.as_bytes()),
                codec::encode(&g),
            ),
            None => batch.remove(key(shop, kind::STATE, state::MODEL_GENERATION.as_bytes())),
        }
        self.records.apply_batch(batch)?;
        Ok(())
    }

    /// The run a crash interrupted, if any (see [`RunMarker`]). While a run is under way
    /// in this process its marker is here too: callers that hold the sync claim know.
    pub fn interrupted_run(&self, shop: &ShopId) -> Result<Option<RunMarker>, StoreError> {
        self.state(shop, state::RUN)
    }

    /// Stores a piece of state by itself, atomically.
    pub fn put_state<T: Serialize>(&self, shop: &ShopId, name: &str, value: &T) -> Result<(), StoreError> {
        self.records
            .insert(key(shop, kind::STATE, name.as_bytes()), codec::encode(value))?;
        Ok(())
    }

    /// A hash of the shop's products, orders and customers: equal before and after a
    /// re-import means the re-import changed nothing.
    pub fn fingerprint(&self, shop: &ShopId) -> Result<u64, StoreError> {
        let mut h = DefaultHasher::new();
        for k in [kind::PRODUCT, kind::PRODUCT_REF, kind::ORDER, kind::CUSTOMER] {
            for item in self.records.scan_prefix(prefix(shop, k)) {
                let (key, value) = item?;
                key.as_ref().hash(&mut h);
                value.as_ref().hash(&mut h);
            }
        }
        Ok(h.finish())
    }
}

impl ImportBatch {
    fn note_change(&mut self, shop: &ShopId, counts: &UpsertCounts) {
        if counts.inserted + counts.updated > 0 && self.changes.is_none() {
            self.changes = Some(shop.clone());
        }
    }

    /// Marks a run under way (see [`RunMarker`]), in this batch.
    pub fn mark_run(&mut self, shop: &ShopId, marker: &RunMarker) {
        self.set_state(shop, state::RUN, marker);
    }

    /// Removes the run marker, in this batch: the run finished.
    pub fn end_run(&mut self, shop: &ShopId) {
        self.batch.remove(key(shop, kind::STATE, state::RUN.as_bytes()));
    }
    /// Quarantines a bad record. Its key is a hash of kind, origin and record, so that
    /// re-importing the same bad record does not pile up copies.
    pub fn quarantine(&mut self, shop: &ShopId, record: &Quarantined) {
        let mut h = DefaultHasher::new();
        (&record.kind, &record.origin, &record.record).hash(&mut h);
        self.batch.insert(
            key(shop, kind::QUARANTINE, &h.finish().to_be_bytes()),
            codec::encode(record),
        );
        self.quarantined += 1;
    }

    pub fn report(&mut self, shop: &ShopId, report: &SyncReport) {
        let millis = report.started_at.timestamp_millis().max(0) as u64;
        let mut id = millis.to_be_bytes().to_vec();
        id.extend_from_slice(report.kind.as_bytes());
        id.push(0);
        id.extend_from_slice(report.source.as_bytes());
        self.batch
            .insert(key(shop, kind::REPORT, &id), codec::encode(report));
    }

    pub fn set_state<T: Serialize>(&mut self, shop: &ShopId, name: &str, value: &T) {
        self.batch
            .insert(key(shop, kind::STATE, name.as_bytes()), codec::encode(value));
    }
}

/// Makes a directory of the store reachable by its owner only (0700): it holds customers'
/// names, phones and feedback contacts. Files inside are then out of others' reach
/// whatever their own mode.
fn owner_only(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if dir.is_dir() {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProductId, Rupiah};
    use crate::records::ProductStatus;

    fn product(id: &str, price: i64) -> Product {
        Product {
            id: ProductId::parse(id).unwrap(),
            marketplace_id: Some(format!("m-{id}")),
            name: format!("Produk {id}"),
            sku: Some(id.into()),
            price: Rupiah(price),
            stock: Some(3),
            status: ProductStatus::Active,
            category: vec!["A".into()],
            weight_grams: None,
            pack: None,
            attributes: Default::default(),
            description: String::new(),
            image: None,
            url: None,
            sold_count: None,
            updated_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn upserting_the_same_product_twice_writes_nothing_the_second_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let shop = ShopId::parse("toko").unwrap();
        let mut b = store.batch();
        store.upsert_product(&mut b, &shop, &product("A", 1000)).unwrap();
        assert_eq!(b.products.inserted, 1);
        store.apply(b).unwrap();
        let before = store.fingerprint(&shop).unwrap();

        let mut b = store.batch();
        store.upsert_product(&mut b, &shop, &product("A", 1000)).unwrap();
        assert_eq!(b.products.unchanged, 1);
        store.apply(b).unwrap();
        assert_eq!(store.fingerprint(&shop).unwrap(), before);

        let mut b = store.batch();
        store.upsert_product(&mut b, &shop, &product("A", 1200)).unwrap();
        assert_eq!(b.products.updated, 1);
        store.apply(b).unwrap();
        assert_eq!(
            store
                .product(&shop, &ProductId::parse("A").unwrap())
                .unwrap()
                .unwrap()
                .price,
            Rupiah(1200)
        );
        assert_eq!(
            store.product_for_marketplace_id(&shop, "m-A").unwrap(),
            Some(ProductId::parse("A").unwrap())
        );
    }

    #[test]
    fn shops_do_not_see_each_others_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = ShopId::parse("a").unwrap();
        let ab = ShopId::parse("ab").unwrap();
        let mut b = store.batch();
        store.upsert_product(&mut b, &a, &product("X", 1)).unwrap();
        store.apply(b).unwrap();
        assert_eq!(store.products(&a).unwrap().len(), 1);
        assert!(store.products(&ab).unwrap().is_empty());
        assert!(!store.has_data(&ab).unwrap());
    }

    #[test]
    fn a_second_opener_of_a_held_store_is_told_so() {
        let dir = tempfile::tempdir().unwrap();
        let _held = Store::open(dir.path()).unwrap();
        // sled's lock is per process (fcntl/flock on the same file), so model the second
        // process in a child: the integration tests do it with two real laris processes.
        // Within one process sled reopens, so here we only check the error's wording.
        let msg = StoreError::Locked(dir.path().to_path_buf()).to_string();
        assert!(msg.contains("held by another laris process") && msg.contains("laris.serve.json"));
    }

    #[test]
    fn sync_reports_come_back_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let shop = ShopId::parse("toko").unwrap();
        for i in 0..105 {
            let kind = if i == 104 { "sync" } else { "replay" };
            let at = chrono::DateTime::from_timestamp(1_700_000_000 + i as i64, 0).unwrap();
            store
                .put_sync_report(
                    &shop,
                    &SyncReport {
                        kind: kind.to_string(),
                        source: "x".into(),
                        started_at: at,
                        finished_at: at,
                        duration_ms: 0,
                        products: Default::default(),
                        orders: Default::default(),
                        quarantined: 0,
                        errors: vec![],
                        ok: true,
                        pages: 1,
                        warnings: vec![],
                    },
                )
                .unwrap();
        }
        assert_eq!(store.last_sync_report(&shop).unwrap().unwrap().kind, "sync");
        assert_eq!(store.sync_reports(&shop, 1000).unwrap().len(), REPORTS_KEPT);
        let oldest = store.sync_reports(&shop, 1000).unwrap().pop().unwrap();
        assert_eq!(
            oldest.started_at.timestamp(),
            1_700_000_005,
            "the five oldest are dropped"
        );
    }

    #[test]
    fn feedback_comes_back_newest_first_and_keeps_its_status() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let shop = ShopId::parse("toko").unwrap();
        let mut ids = Vec::new();
        for text in ["pertama", "kedua"] {
            let mut f = Feedback {
                id: 0,
                at: chrono::Utc::now(),
                message: text.into(),
                contact: None,
                page: None,
                product: None,
                status: FeedbackStatus::New,
            };
            ids.push(store.put_feedback(&shop, &mut f).unwrap());
        }
        let all = store.feedback(&shop).unwrap();
        assert_eq!(
            all.iter().map(|f| f.message.as_str()).collect::<Vec<_>>(),
            ["kedua", "pertama"]
        );
        assert!(store
            .set_feedback_status(&shop, ids[0], FeedbackStatus::Answered)
            .unwrap());
        assert!(!store
            .set_feedback_status(&shop, 999_999, FeedbackStatus::Read)
            .unwrap());
        assert_eq!(store.feedback(&shop).unwrap()[1].status, FeedbackStatus::Answered);
    }
}
