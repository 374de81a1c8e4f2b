//! [`Store`]: the sled backend of [`ShopStore`], and the only code that knows sled.
//!
//! Layout: one tree `records` holds every shop's data under the key
//! `{shop}\0{kind}\0{id}` (kinds below), so that everything one import writes (products,
//! orders, the product-id map, quarantined records, the cursor, the run marker, the data
//! generation) goes in one atomic `sled::Batch`. The store's format version sits in the
//! same tree under a key no shop has ([`crate::store::migrate`]). Events, which arrive at a
//! much higher rate and are only appended, live in their own tree (`store::events`).
//!
//! sled lets one process open a store; a second one gets [`StoreError::Locked`], whose
//! message says how to go through the running service instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::{CustomerId, ProductId, ShopId};
use crate::records::{
    Customer, Event, Feedback, FeedbackStatus, Message, OptOut, Order, OrderCursor, Product, ProductCursor,
    Quarantined, RecordKind, RunMarker, Seeding, SettingsChange, SyncCursor, SyncReport,
};
use crate::store::counts::{Counts, Share};
use crate::store::events::EventTree;
use crate::store::migrate::{self, quarantine_id};
use crate::store::sled_import::{customers_batch, encode_counts, stored_counts, Writes};
use crate::store::sled_keys::{counts_key, key, kind, prefix, Sled};
use crate::store::{
    codec, Applied, BatchOp, ImportBatch, ShopStore, Snapshot, StoreError, StoreFuture, REPORTS_KEPT,
};

/// Keys of quarantined records by the kind and key of the record they were meant to be.
type QuarantineSubjects = HashMap<(RecordKind, String), Vec<Vec<u8>>>;

/// State names the store keeps per shop.
mod state {
    pub use crate::store::state_names::*;

    /// A fresh id written with every batch that changes a product or an order.
    pub const DATA_GENERATION: &str = "data-generation";
    /// The data generation the stored model was built from.
    pub const MODEL_GENERATION: &str = "model-generation";
}

/// The one model snapshot a shop has (the name predates the opaque snapshot).
const SNAPSHOT: &str = "recommend";

fn state_key(shop: &ShopId, name: &str) -> Vec<u8> {
    key(shop, kind::STATE, name.as_bytes())
}

fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    codec::decode(bytes).map_err(|reason| StoreError::Decode {
        key: String::from_utf8_lossy(key).replace('\0', "/"),
        reason,
    })
}

/// The sync leases of a sled store: (holder, expiry) by shop.
type Leases = HashMap<ShopId, (String, chrono::DateTime<chrono::Utc>)>;

#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    /// Group commit of acknowledged writes ([`ShopStore::durable`]).
    commits: std::sync::Arc<GroupCommit>,
    /// Every shop's records, so that an import's writes fit one atomic batch.
    records: sled::Tree,
    /// Widget events: append-only, high rate, kept apart from the records.
    events: sled::Tree,
    /// Held by every write that moves a shop's counts in the records tree, from reading the
    /// counts (and the records it replaces) to applying its batch. sled lets one process
    /// open a store, and that process opens it once: this lock sees every such write.
    writes: Arc<Mutex<()>>,
    /// The same for the events tree.
    event_writes: Arc<Mutex<()>>,
    path: PathBuf,
    /// Sync leases (holder, expiry) by shop: in memory, as one process opens the store.
    leases: Arc<Mutex<Leases>>,
    /// Sessions, counters and spent tokens: in memory, as one process owns the directory.
    shared: Arc<crate::store::MemoryState>,
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

/// What sled keeps of the store's pages in memory. Its default, 1 GiB, let an import or
/// a rebuild of a 150k-line shop keep every page it touched (over 50 MB, docs/performance.md);
/// the service serves from its models, not from the store's pages.
const CACHE_BYTES: u64 = 32 * 1024 * 1024;

impl Store {
    /// The keys of the shop's quarantined records by what they were meant to be (kind and
    /// subject), for the records that name one.
    fn quarantine_subjects(&self, shop: &ShopId) -> Result<QuarantineSubjects, StoreError> {
        let mut out = QuarantineSubjects::new();
        for item in self.records.scan_prefix(prefix(shop, kind::QUARANTINE)) {
            let (k, v) = item.sled()?;
            let Ok(record) = codec::decode::<Quarantined>(&v) else {
                continue;
            };
            if let Some(subject) = record.subject() {
                out.entry((record.kind, subject)).or_default().push(k.to_vec());
            }
        }
        Ok(out)
    }

    /// Whether `dir` holds a store (one that [`Store::open`] would open rather than create).
    pub fn exists(dir: &Path) -> bool {
        dir.join("store").join("conf").is_file()
    }

    /// Opens (or creates) the store in `dir`, upgrading an older format once.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let in_dir = |source| StoreError::Directory {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(in_dir)?;
        let path = dir.join("store");
        owner_only(dir).map_err(in_dir)?;
        let db = open_db(&path, dir)?;
        let records = db.open_tree("records").sled()?;
        let events = db.open_tree("events").sled()?;
        owner_only(&path).map_err(in_dir)?;
        migrate::upgrade(&records, &events, dir)?;
        Ok(Store {
            db,
            commits: Default::default(),
            records,
            events,
            writes: Default::default(),
            event_writes: Default::default(),
            leases: Default::default(),
            path: dir.to_path_buf(),
            shared: Default::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn event_tree(&self) -> EventTree<'_> {
        EventTree {
            db: &self.db,
            tree: &self.events,
            writes: &self.event_writes,
        }
    }

    /// The lock of writes that move counts ([`Store::writes`]).
    fn writing(&self) -> MutexGuard<'_, ()> {
        self.writes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.records.get(key).sled()? {
            Some(bytes) => decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn put<T: Serialize + ?Sized>(&self, key: Vec<u8>, value: &T) -> Result<(), StoreError> {
        self.records.insert(key, codec::encode(value)).sled()?;
        Ok(())
    }

    fn scan<T: DeserializeOwned>(&self, shop: &ShopId, kind: &str) -> Result<Vec<T>, StoreError> {
        self.records
            .scan_prefix(prefix(shop, kind))
            .map(|item| {
                let (k, v) = item.sled()?;
                decode(&k, &v)
            })
            .collect()
    }

    /// Adds the snapshot and its generation to the batch.
    fn snapshot_into(batch: &mut sled::Batch, shop: &ShopId, snapshot: &Snapshot) {
        batch.insert(
            key(shop, kind::MODEL, SNAPSHOT.as_bytes()),
            snapshot.bytes.as_slice(),
        );
        let generation = state_key(shop, state::MODEL_GENERATION);
        match snapshot.generation {
            Some(g) => batch.insert(generation, codec::encode(&g)),
            None => batch.remove(generation),
        }
    }

    /// Every key of a report: its start time first, so keys sort oldest first.
    fn report_key(shop: &ShopId, report: &SyncReport) -> Vec<u8> {
        let millis = report.started_at.timestamp_millis().max(0) as u64;
        let mut id = millis.to_be_bytes().to_vec();
        id.extend_from_slice(report.kind.as_str().as_bytes());
        id.push(0);
        id.extend_from_slice(report.source.as_bytes());
        key(shop, kind::REPORT, &id)
    }

    /// `db.flush()` on tokio's blocking pool. sled's own `flush_async` runs the flush on
    /// sled's small I/O pool, where it can wait for a write queued behind it on the same
    /// pool and never return (sled issue #1308).
    async fn flush_on_a_blocking_thread(&self) -> Result<(), StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(StoreError::backend)?
            .sled()?;
        Ok(())
    }

    async fn durable_inner(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let ticket = self.commits.tickets.fetch_add(1, Ordering::SeqCst) + 1;
        let _turn = self.commits.flushing.lock().await;
        if self.commits.durable.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        // Every write holding a ticket up to `covers` happened before this flush starts.
        let covers = self.commits.tickets.load(Ordering::SeqCst);
        self.flush_on_a_blocking_thread().await?;
        self.commits.durable.fetch_max(covers, Ordering::SeqCst);
        Ok(())
    }
}

impl ShopStore for Store {
    fn backend_name(&self) -> &'static str {
        "sled"
    }

    fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush().sled()?;
        Ok(())
    }

    fn flush(&self) -> StoreFuture<'_> {
        Box::pin(async move {
            self.flush_on_a_blocking_thread().await?;
            Ok(())
        })
    }

    /// A group commit: a caller that finds a flush under way waits for it and flushes again
    /// only when its write may have come after that flush began.
    fn durable(&self) -> StoreFuture<'_> {
        Box::pin(self.durable_inner())
    }

    fn has_data(&self, shop: &ShopId) -> Result<bool, StoreError> {
        for k in [kind::PRODUCT, kind::ORDER] {
            if self
                .records
                .scan_prefix(prefix(shop, k))
                .next()
                .transpose()
                .sled()?
                .is_some()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn product(&self, shop: &ShopId, id: &ProductId) -> Result<Option<Product>, StoreError> {
        self.get(&key(shop, kind::PRODUCT, id.as_str().as_bytes()))
    }

    fn products(&self, shop: &ShopId) -> Result<Vec<Product>, StoreError> {
        self.scan(shop, kind::PRODUCT)
    }

    fn product_for_marketplace_id(
        &self,
        shop: &ShopId,
        marketplace_id: &str,
    ) -> Result<Option<ProductId>, StoreError> {
        self.get(&key(shop, kind::PRODUCT_REF, marketplace_id.as_bytes()))
    }

    fn order(&self, shop: &ShopId, invoice: &str) -> Result<Option<Order>, StoreError> {
        self.get(&key(shop, kind::ORDER, invoice.as_bytes()))
    }

    fn orders(&self, shop: &ShopId) -> Result<Vec<Order>, StoreError> {
        self.scan(shop, kind::ORDER)
    }

    fn customers(&self, shop: &ShopId) -> Result<Vec<Customer>, StoreError> {
        let mut all = Vec::new();
        for chunk in self.scan::<Vec<Customer>>(shop, kind::CUSTOMER_CHUNK)? {
            all.extend(chunk);
        }
        Ok(all)
    }

    /// The counts kept in the records tree, with the events' count from theirs.
    fn counts(&self, shop: &ShopId) -> Result<Counts, StoreError> {
        let mut counts = stored_counts(&self.records, shop)?;
        counts.events = self.event_tree().count(shop)? as u64;
        Ok(counts)
    }

    /// SHA-256 over every key and value of those kinds, each length-prefixed.
    fn fingerprint(&self, shop: &ShopId) -> Result<u64, StoreError> {
        let mut h = Sha256::new();
        for k in [
            kind::PRODUCT,
            kind::PRODUCT_REF,
            kind::ORDER,
            kind::CUSTOMER_CHUNK,
        ] {
            for item in self.records.scan_prefix(prefix(shop, k)) {
                let (key, value) = item.sled()?;
                for part in [key.as_ref(), value.as_ref()] {
                    h.update((part.len() as u64).to_be_bytes());
                    h.update(part);
                }
            }
        }
        let digest = h.finalize();
        Ok(u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")))
    }

    fn apply(&self, batch: ImportBatch) -> Result<Applied, StoreError> {
        let (shop, ops) = batch.into_ops();
        let _writing = self.writing();
        let mut writes = Writes::new(&self.records, &shop)?;
        let mut applied = Applied::default();
        let mut changed = false;
        let upserts = ops
            .iter()
            .any(|op| matches!(op, BatchOp::UpsertProduct(_) | BatchOp::UpsertOrder(_)));
        let mut stale = if upserts && writes.counts.quarantined > 0 {
            self.quarantine_subjects(&shop)?
        } else {
            HashMap::new()
        };
        for op in ops {
            match op {
                BatchOp::UpsertProduct(product) => {
                    for subject in [
                        Some(product.id.as_str()),
                        product.sku.as_deref(),
                        product.marketplace_id.as_deref(),
                    ]
                    .into_iter()
                    .flatten()
                    {
                        for k in stale
                            .remove(&(RecordKind::Product, subject.to_string()))
                            .unwrap_or_default()
                        {
                            writes.clear_quarantined(k);
                        }
                    }
                    let k = key(&shop, kind::PRODUCT, product.id.as_str().as_bytes());
                    let share = (Share::of_product(&product), Share::of_stored_product as _);
                    let counts = writes.upsert(k, codec::encode(&product), Some(share))?;
                    changed |= counts.inserted + counts.updated > 0;
                    applied.products.add(&counts);
                    if let Some(mid) = &product.marketplace_id {
                        let k = key(&shop, kind::PRODUCT_REF, mid.as_bytes());
                        writes.upsert(k, codec::encode(&product.id), None)?;
                    }
                }
                BatchOp::UpsertOrder(order) => {
                    for k in stale
                        .remove(&(RecordKind::Order, order.invoice.clone()))
                        .unwrap_or_default()
                    {
                        writes.clear_quarantined(k);
                    }
                    let k = key(&shop, kind::ORDER, order.invoice.as_bytes());
                    let share = (Share::of_order(&order), Share::of_stored_order as _);
                    let counts = writes.upsert(k, codec::encode(&order), Some(share))?;
                    changed |= counts.inserted + counts.updated > 0;
                    applied.orders.add(&counts);
                }
                BatchOp::Quarantine(record) => {
                    let k = key(&shop, kind::QUARANTINE, quarantine_id(&record).as_bytes());
                    writes.quarantine(k, codec::encode(&record))?;
                    applied.quarantined += 1;
                }
                BatchOp::Cursor(SyncCursor::Products { source, cursor }) => writes.insert(
                    state_key(&shop, &state::product_cursor(source)),
                    codec::encode(&cursor),
                ),
                BatchOp::Cursor(SyncCursor::Orders { source, cursor }) => writes.insert(
                    state_key(&shop, &state::order_cursor(source)),
                    codec::encode(&cursor),
                ),
                BatchOp::MarkRun(marker) => {
                    writes.insert(state_key(&shop, state::RUN), codec::encode(&marker))
                }
                BatchOp::EndRun => writes.remove(state_key(&shop, state::RUN)),
                BatchOp::MapMarketplaceId {
                    marketplace_id,
                    product,
                } => {
                    let k = key(&shop, kind::PRODUCT_REF, marketplace_id.as_bytes());
                    writes.upsert(k, codec::encode(&product), None)?;
                }
                #[cfg(test)]
                BatchOp::FailForTest(reason) => {
                    return Err(StoreError::backend(std::io::Error::other(reason)))
                }
            }
        }
        if changed {
            let generation = self.db.generate_id().sled()?;
            writes.insert(
                state_key(&shop, state::DATA_GENERATION),
                codec::encode(&generation),
            );
        }
        writes.apply()?;
        Ok(applied)
    }

    fn quarantined(&self, shop: &ShopId) -> Result<Vec<Quarantined>, StoreError> {
        self.scan(shop, kind::QUARANTINE)
    }

    fn product_cursor(&self, shop: &ShopId, source: usize) -> Result<Option<ProductCursor>, StoreError> {
        self.get(&state_key(shop, &state::product_cursor(source)))
    }

    fn order_cursor(&self, shop: &ShopId, source: usize) -> Result<Option<OrderCursor>, StoreError> {
        self.get(&state_key(shop, &state::order_cursor(source)))
    }

    fn interrupted_run(&self, shop: &ShopId) -> Result<Option<RunMarker>, StoreError> {
        self.get(&state_key(shop, state::RUN))
    }

    fn put_sync_report(&self, shop: &ShopId, report: &SyncReport) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(Store::report_key(shop, report), codec::encode(report));
        batch.remove(state_key(shop, state::RUN));
        self.records.apply_batch(batch).sled()?;
        let keys: Vec<_> = self
            .records
            .scan_prefix(prefix(shop, kind::REPORT))
            .keys()
            .collect::<Result<_, _>>()
            .sled()?;
        if keys.len() > REPORTS_KEPT {
            let mut prune = sled::Batch::default();
            for k in &keys[..keys.len() - REPORTS_KEPT] {
                prune.remove(k.clone());
            }
            self.records.apply_batch(prune).sled()?;
        }
        Ok(())
    }

    fn sync_reports(&self, shop: &ShopId, limit: usize) -> Result<Vec<SyncReport>, StoreError> {
        self.records
            .scan_prefix(prefix(shop, kind::REPORT))
            .values()
            .rev()
            .take(limit)
            .map(|v| decode(b"report", &v.sled()?))
            .collect()
    }

    fn seeding(&self, shop: &ShopId) -> Result<Option<Seeding>, StoreError> {
        self.get(&state_key(shop, state::SEEDING))
    }

    fn set_seeding(&self, shop: &ShopId, seeding: Seeding) -> Result<(), StoreError> {
        self.put(state_key(shop, state::SEEDING), &seeding)
    }

    fn credentials(&self, shop: &ShopId) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let start = state_key(shop, state::CREDENTIALS_PREFIX);
        let name_at = start.len();
        self.records
            .scan_prefix(&start)
            .map(|item| {
                let (k, v) = item.sled()?;
                let name = String::from_utf8_lossy(&k[name_at..]).into_owned();
                Ok((name, decode(&k, &v)?))
            })
            .collect()
    }

    fn put_credentials(&self, shop: &ShopId, name: &str, sealed: &[u8]) -> Result<(), StoreError> {
        let key = state_key(shop, &format!("{}{name}", state::CREDENTIALS_PREFIX));
        self.put(key, sealed)?;
        self.flush_blocking()
    }

    fn data_generation(&self, shop: &ShopId) -> Result<Option<u64>, StoreError> {
        self.get(&state_key(shop, state::DATA_GENERATION))
    }

    fn model_generation(&self, shop: &ShopId) -> Result<Option<u64>, StoreError> {
        self.get(&state_key(shop, state::MODEL_GENERATION))
    }

    fn model_snapshot(&self, shop: &ShopId) -> Result<Option<Snapshot>, StoreError> {
        let Some(bytes) = self
            .records
            .get(key(shop, kind::MODEL, SNAPSHOT.as_bytes()))
            .sled()?
        else {
            return Ok(None);
        };
        Ok(Some(Snapshot {
            generation: self.model_generation(shop)?,
            bytes: bytes.to_vec(),
        }))
    }

    fn put_model_snapshot(&self, shop: &ShopId, snapshot: &Snapshot) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        Store::snapshot_into(&mut batch, shop, snapshot);
        self.records.apply_batch(batch).sled()
    }

    fn put_rebuild(
        &self,
        shop: &ShopId,
        customers: &[Customer],
        snapshot: &Snapshot,
    ) -> Result<(), StoreError> {
        let _writing = self.writing();
        let (mut batch, kept) = customers_batch(&self.records, shop, customers)?;
        let mut counts = stored_counts(&self.records, shop)?;
        counts.customers = kept;
        batch.insert(counts_key(shop), encode_counts(&counts));
        Store::snapshot_into(&mut batch, shop, snapshot);
        self.records.apply_batch(batch).sled()
    }

    fn put_feedback(&self, shop: &ShopId, feedback: &mut Feedback) -> Result<u64, StoreError> {
        let _writing = self.writing();
        feedback.id = self.db.generate_id().sled()?;
        let mut counts = stored_counts(&self.records, shop)?;
        counts.feedback += 1;
        let mut batch = sled::Batch::default();
        batch.insert(
            key(shop, kind::FEEDBACK, &feedback.id.to_be_bytes()),
            codec::encode(feedback),
        );
        batch.insert(counts_key(shop), encode_counts(&counts));
        self.records.apply_batch(batch).sled()?;
        Ok(feedback.id)
    }

    fn feedback(&self, shop: &ShopId) -> Result<Vec<Feedback>, StoreError> {
        let mut all: Vec<Feedback> = self.scan(shop, kind::FEEDBACK)?;
        all.reverse();
        Ok(all)
    }

    fn set_feedback_status(
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
        self.put(k, &feedback)?;
        // An owner's change is acknowledged as done: on disk first.
        self.db.flush().sled()?;
        Ok(true)
    }

    fn add_messages(&self, shop: &ShopId, messages: &[Message]) -> Result<usize, StoreError> {
        let _writing = self.writing();
        let mut batch = sled::Batch::default();
        let mut added = std::collections::BTreeSet::new();
        for m in messages {
            let k = key(shop, kind::MESSAGE, m.key.as_bytes());
            if self.records.contains_key(&k).sled()? || !added.insert(m.key.as_str()) {
                continue;
            }
            batch.insert(k, codec::encode(m));
        }
        if added.is_empty() {
            return Ok(0);
        }
        self.records.apply_batch(batch).sled()?;
        self.db.flush().sled()?;
        Ok(added.len())
    }

    fn messages(&self, shop: &ShopId) -> Result<Vec<Message>, StoreError> {
        let mut all: Vec<Message> = self.scan(shop, kind::MESSAGE)?;
        all.sort_by(|a, b| (a.created_at, &a.key).cmp(&(b.created_at, &b.key)));
        Ok(all)
    }

    fn message(&self, shop: &ShopId, message_key: &str) -> Result<Option<Message>, StoreError> {
        self.get(&key(shop, kind::MESSAGE, message_key.as_bytes()))
    }

    fn update_message(&self, shop: &ShopId, message: &Message) -> Result<bool, StoreError> {
        let _writing = self.writing();
        let k = key(shop, kind::MESSAGE, message.key.as_bytes());
        if !self.records.contains_key(&k).sled()? {
            return Ok(false);
        }
        self.put(k, message)?;
        self.db.flush().sled()?;
        Ok(true)
    }

    fn opt_outs(&self, shop: &ShopId) -> Result<Vec<OptOut>, StoreError> {
        self.scan(shop, kind::OPT_OUT)
    }

    fn put_opt_out(&self, shop: &ShopId, opt_out: &OptOut) -> Result<(), StoreError> {
        self.put(key(shop, kind::OPT_OUT, opt_out.customer.0.as_bytes()), opt_out)?;
        self.db.flush().sled()?;
        Ok(())
    }

    fn remove_opt_out(&self, shop: &ShopId, customer: &CustomerId) -> Result<bool, StoreError> {
        let removed = self
            .records
            .remove(key(shop, kind::OPT_OUT, customer.0.as_bytes()))
            .sled()?
            .is_some();
        self.db.flush().sled()?;
        Ok(removed)
    }

    fn append_events(&self, shop: &ShopId, events: &[Event]) -> Result<(), StoreError> {
        self.event_tree().append(shop, events)
    }

    fn events(&self, shop: &ShopId) -> Result<Vec<Event>, StoreError> {
        self.event_tree().all(shop)
    }

    fn for_each_event(&self, shop: &ShopId, each: &mut dyn FnMut(Event)) -> Result<(), StoreError> {
        self.event_tree().each(shop, each)
    }

    fn has_events(&self, shop: &ShopId) -> Result<bool, StoreError> {
        self.event_tree().has_any(shop)
    }

    fn prune_events(
        &self,
        shop: &ShopId,
        old: &dyn Fn(&Event) -> bool,
        keep: usize,
    ) -> Result<usize, StoreError> {
        self.event_tree().prune(shop, old, keep)
    }

    fn remove_events(&self, shop: &ShopId) -> Result<usize, StoreError> {
        self.event_tree().remove_all(shop)
    }

    fn settings_overlay(&self, shop: &ShopId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .records
            .get(key(shop, kind::SETTINGS, b"overlay"))
            .sled()?
            .map(|v| v.to_vec()))
    }

    fn put_settings_change(
        &self,
        shop: &ShopId,
        overlay: &[u8],
        change: &mut SettingsChange,
    ) -> Result<(), StoreError> {
        let _writing = self.writing();
        change.id = self.db.generate_id().sled()?;
        let mut batch = sled::Batch::default();
        batch.insert(key(shop, kind::SETTINGS, b"overlay"), overlay);
        batch.insert(
            key(shop, kind::SETTINGS_CHANGE, &change.id.to_be_bytes()),
            codec::encode(change),
        );
        self.records.apply_batch(batch).sled()?;
        // An owner's change is acknowledged as done: on disk first.
        self.db.flush().sled()?;
        Ok(())
    }

    fn settings_changes(&self, shop: &ShopId, limit: usize) -> Result<Vec<SettingsChange>, StoreError> {
        self.records
            .scan_prefix(prefix(shop, kind::SETTINGS_CHANGE))
            .values()
            .rev()
            .take(limit)
            .map(|v| decode(b"settings change", &v.sled()?))
            .collect()
    }

    /// The distinct shop parts of the keys of both trees, jumping from one shop to the
    /// next instead of reading every key.
    fn shops(&self) -> Result<Vec<ShopId>, StoreError> {
        let mut found = std::collections::BTreeSet::new();
        for tree in [&self.records, &self.events] {
            // Keys that start with a zero byte (the format marker, the events' counts)
            // belong to no shop.
            let mut from = vec![1u8];
            while let Some(item) = tree.range(from.clone()..).next() {
                let (k, _) = item.sled()?;
                match k.iter().position(|&b| b == 0) {
                    Some(end) => {
                        let raw = String::from_utf8_lossy(&k[..end]);
                        let shop = ShopId::parse(&raw).map_err(|e| {
                            StoreError::backend(std::io::Error::other(format!(
                                "a key in the store names no valid shop ({e}); restore a backup of the store"
                            )))
                        })?;
                        found.insert(shop.as_str().to_string());
                        from = k[..end].to_vec();
                        from.push(1);
                    }
                    None => {
                        from = k.to_vec();
                        from.push(0);
                    }
                }
            }
        }
        found
            .into_iter()
            .map(|s| ShopId::parse(&s).map_err(StoreError::backend))
            .collect()
    }

    fn cursors(&self, shop: &ShopId) -> Result<Vec<SyncCursor>, StoreError> {
        let start = state_key(shop, state::CURSOR_PREFIX);
        let name_at = state_key(shop, "").len();
        let mut products = Vec::new();
        let mut orders = Vec::new();
        for item in self.records.scan_prefix(&start) {
            let (k, v) = item.sled()?;
            let name = String::from_utf8_lossy(&k[name_at..]);
            match state::parse_cursor(&name) {
                Some((source, true)) => products.push((source, decode(&k, &v)?)),
                Some((source, false)) => orders.push((source, decode(&k, &v)?)),
                None => continue,
            }
        }
        Ok(state::in_order(products, orders))
    }

    fn marketplace_ids(&self, shop: &ShopId) -> Result<Vec<(String, ProductId)>, StoreError> {
        let id_at = prefix(shop, kind::PRODUCT_REF).len();
        self.records
            .scan_prefix(prefix(shop, kind::PRODUCT_REF))
            .map(|item| {
                let (k, v) = item.sled()?;
                let marketplace_id = String::from_utf8_lossy(&k[id_at..]).into_owned();
                Ok((marketplace_id, decode(&k, &v)?))
            })
            .collect()
    }

    // --- Replicas: sync leases and model announcements ---

    /// In memory: one process opens a sled store, so its leases need not outlive it.
    fn claim_sync(&self, shop: &ShopId, holder: &str, ttl: std::time::Duration) -> Result<bool, StoreError> {
        let now = chrono::Utc::now();
        let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        match leases.get(shop) {
            Some((other, expires)) if other != holder && *expires >= now => Ok(false),
            _ => {
                leases.insert(shop.clone(), (holder.to_string(), until));
                Ok(true)
            }
        }
    }

    fn release_sync(&self, shop: &ShopId, holder: &str) -> Result<(), StoreError> {
        let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        if leases.get(shop).is_some_and(|(h, _)| h == holder) {
            leases.remove(shop);
        }
        Ok(())
    }

    fn sync_holder(
        &self,
        shop: &ShopId,
    ) -> Result<Option<(String, chrono::DateTime<chrono::Utc>)>, StoreError> {
        let leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        Ok(leases
            .get(shop)
            .filter(|(_, expires)| *expires >= chrono::Utc::now())
            .cloned())
    }

    // ---- shared, expiring state ----

    fn shared_state(&self) -> &dyn crate::store::SharedState {
        &*self.shared
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

/// How long [`Store::open`] waits for a store that another handle is letting go of.
const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens sled's database at `path`. sled releases its file lock from a background thread
/// after the last handle of a store goes, so a store closed a moment ago (a restart in the
/// same process, a `laris serve` that is exiting) may still be held: it is tried again for
/// up to [`RELEASE_WAIT`] before [`StoreError::Locked`] is the answer.
fn open_db(path: &Path, dir: &Path) -> Result<sled::Db, StoreError> {
    let deadline = std::time::Instant::now() + RELEASE_WAIT;
    loop {
        match sled::Config::new().path(path).cache_capacity(CACHE_BYTES).open() {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(ref io))
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("could not acquire lock") =>
            {
                if std::time::Instant::now() >= deadline {
                    return Err(StoreError::Locked(dir.to_path_buf()));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(other) => return Err(StoreError::backend(other)),
        }
    }
}

/// Opens a store again in a process that just dropped it. sled releases its file lock
/// from a background thread after the last handle goes, so the reopen waits for that, at
/// most a few seconds; any other error fails the test at once.
#[cfg(test)]
pub(crate) fn when_released<T, E: std::fmt::Display>(mut open: impl FnMut() -> Result<T, E>) -> T {
    for _ in 0..500 {
        match open() {
            Ok(opened) => return opened,
            Err(e) => {
                let msg = e.to_string();
                if !(msg.contains("could not acquire lock") || msg.contains("held by another laris process"))
                {
                    panic!("the store does not open: {msg}");
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the store stayed locked after its last handle was dropped")
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn state_written_before_the_typed_api_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let shop = ShopId::parse("toko").unwrap();
        {
            // As the generic `put_state` / `put_model` wrote them: cursors went through
            // serde_json::Value (keys sorted), the seeding mark as a bare string.
            let db = sled::open(dir.path().join("store")).unwrap();
            let tree = db.open_tree("records").unwrap();
            let cursor = serde_json::json!({"newest_update": 1_700_000_000, "last_full_pass": null});
            tree.insert(b"toko\0s\0source:0:products", codec::encode(&cursor))
                .unwrap();
            tree.insert(
                b"toko\0s\0source:2:orders",
                codec::encode(&serde_json::json!({"synced_to": 5})),
            )
            .unwrap();
            tree.insert(b"toko\0s\0seeding", codec::encode("started"))
                .unwrap();
            tree.insert(b"toko\0s\0model-generation", codec::encode(&9u64))
                .unwrap();
            tree.insert(
                b"toko\0m\0recommend",
                codec::encode(&serde_json::json!({"version": 3})),
            )
            .unwrap();
            db.flush().unwrap();
        }
        let store = when_released(|| Store::open(dir.path()));
        assert_eq!(
            store.product_cursor(&shop, 0).unwrap(),
            Some(ProductCursor {
                newest_update: Some(1_700_000_000),
                last_full_pass: None
            })
        );
        assert_eq!(
            store.order_cursor(&shop, 2).unwrap(),
            Some(OrderCursor { synced_to: 5 })
        );
        assert_eq!(store.seeding(&shop).unwrap(), Some(Seeding::Started));
        let snapshot = store.model_snapshot(&shop).unwrap().unwrap();
        assert_eq!(snapshot.generation, Some(9));
        assert_eq!(
            codec::decode::<serde_json::Value>(&snapshot.bytes).unwrap()["version"],
            3
        );
    }
}
