//! [`ShopStore`]: everything Laris asks of a store, whatever keeps the data.
//!
//! Every method takes the shop it is about; shops never see each other's records. Reads
//! return what the last completed write left; writes that belong together are one call
//! (an [`ImportBatch`], [`ShopStore::put_sync_report`], [`ShopStore::put_rebuild`]) and are
//! atomic: after a crash either all of such a write is there or none of it. A write is
//! durable once [`ShopStore::durable`] (or [`ShopStore::flush_blocking`]) returns after it.
//!
//! The trait is dyn-compatible (`&dyn ShopStore`, `Box<dyn ShopStore>`): the asynchronous
//! methods return a boxed future and the event predicate is a `&dyn Fn`, so that the
//! service can choose a backend at start-up. The behaviour each method promises is checked
//! by the contract tests in `store::contract`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::{CustomerId, ProductId, ShopId};
use crate::records::{
    Customer, Event, Feedback, FeedbackStatus, Message, OptOut, Order, OrderCursor, Product, ProductCursor,
    Quarantined, RunMarker, Seeding, SettingsChange, SyncCursor, SyncReport,
};
use crate::store::{Applied, Counts, ImportBatch, StoreError};

/// What the asynchronous durability methods return.
pub type StoreFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

/// A shop's model snapshot as the store keeps it: bytes it does not interpret (the model
/// layer encodes and decodes them), and the data generation the model was built from
/// (`None`: built when the shop had no data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub generation: Option<u64>,
    pub bytes: Vec<u8>,
}

pub trait ShopStore: Send + Sync {
    /// The backend's name as `[store] backend` in config spells it (`"sled"`): what
    /// `/healthz` reports as `"store"`. Lowercase, never empty, the same for every store
    /// of the backend.
    fn backend_name(&self) -> &'static str;

    // --- Durability ---

    /// Writes everything written so far to disk, blocking the thread.
    fn flush_blocking(&self) -> Result<(), StoreError>;

    /// Writes everything written so far to disk.
    fn flush(&self) -> StoreFuture<'_>;

    /// Returns once every write this task made before the call is on disk: call it before
    /// acknowledging a write to a client. Concurrent callers may share one flush.
    fn durable(&self) -> StoreFuture<'_>;

    // --- Products, orders, customers ---

    /// Whether the store holds any product or order of this shop.
    fn has_data(&self, shop: &ShopId) -> Result<bool, StoreError>;

    fn product(&self, shop: &ShopId, id: &ProductId) -> Result<Option<Product>, StoreError>;

    /// The products among `ids` that the store holds, ordered by id: one read for a page
    /// of products where a backend pays a round trip a read (PostgreSQL).
    fn products_among(&self, shop: &ShopId, ids: &[ProductId]) -> Result<Vec<Product>, StoreError> {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        ids.iter()
            .filter_map(|id| self.product(shop, id).transpose())
            .collect()
    }

    /// Every product of the shop, ordered by id.
    fn products(&self, shop: &ShopId) -> Result<Vec<Product>, StoreError>;

    /// Our product id for a marketplace product id, as the last upsert of that product left it.
    fn product_for_marketplace_id(
        &self,
        shop: &ShopId,
        marketplace_id: &str,
    ) -> Result<Option<ProductId>, StoreError>;

    fn order(&self, shop: &ShopId, invoice: &str) -> Result<Option<Order>, StoreError>;

    /// Every order of the shop, ordered by invoice.
    fn orders(&self, shop: &ShopId) -> Result<Vec<Order>, StoreError>;

    fn order_count(&self, shop: &ShopId) -> Result<usize, StoreError> {
        Ok(self.counts(shop)?.orders as usize)
    }

    /// The customers the last rebuild derived ([`ShopStore::put_rebuild`]).
    fn customers(&self, shop: &ShopId) -> Result<Vec<Customer>, StoreError>;

    fn customer_count(&self, shop: &ShopId) -> Result<usize, StoreError> {
        Ok(self.counts(shop)?.customers as usize)
    }

    /// How many records of each kind the shop holds, without reading them: every write
    /// that adds, replaces or removes records moves these in the same atomic write, so they
    /// always equal [`crate::store::recount`].
    fn counts(&self, shop: &ShopId) -> Result<Counts, StoreError>;

    /// A digest of the shop's products, marketplace ids, orders and customers: equal before
    /// and after a re-import means the re-import changed nothing. Comparable only between
    /// stores of the same backend.
    fn fingerprint(&self, shop: &ShopId) -> Result<u64, StoreError>;

    // --- Imports ---

    /// Commits the batch atomically. Each upsert is compared with what was stored before the
    /// batch: an equal record writes nothing and counts as unchanged. When a product or an
    /// order is inserted or changed, the shop's data generation moves on in the same write,
    /// which marks its model stale.
    fn apply(&self, batch: ImportBatch) -> Result<Applied, StoreError>;

    /// Quarantined records of the shop. Quarantining the same record (kind, origin and raw
    /// text) again replaces it instead of adding a copy.
    fn quarantined(&self, shop: &ShopId) -> Result<Vec<Quarantined>, StoreError>;

    fn quarantined_count(&self, shop: &ShopId) -> Result<usize, StoreError> {
        Ok(self.counts(shop)?.quarantined as usize)
    }

    /// The products cursor of the shop's source number `source`, as last committed.
    fn product_cursor(&self, shop: &ShopId, source: usize) -> Result<Option<ProductCursor>, StoreError>;

    /// The orders cursor of the shop's source number `source`, as last committed.
    fn order_cursor(&self, shop: &ShopId, source: usize) -> Result<Option<OrderCursor>, StoreError>;

    /// The run a crash interrupted, if any (see [`RunMarker`]). While a run is under way in
    /// this process its marker is here too: callers that hold the sync claim know.
    fn interrupted_run(&self, shop: &ShopId) -> Result<Option<RunMarker>, StoreError>;

    /// Stores a finished run's report, removing its run marker in the same write, and drops
    /// the oldest reports beyond [`crate::store::REPORTS_KEPT`].
    fn put_sync_report(&self, shop: &ShopId, report: &SyncReport) -> Result<(), StoreError>;

    /// Sync reports, newest (by start time) first, at most `limit`.
    fn sync_reports(&self, shop: &ShopId, limit: usize) -> Result<Vec<SyncReport>, StoreError>;

    fn last_sync_report(&self, shop: &ShopId) -> Result<Option<SyncReport>, StoreError> {
        Ok(self.sync_reports(shop, 1)?.into_iter().next())
    }

    // --- First-start seeding ---

    fn seeding(&self, shop: &ShopId) -> Result<Option<Seeding>, StoreError>;

    fn set_seeding(&self, shop: &ShopId, seeding: Seeding) -> Result<(), StoreError>;

    // --- Source credentials ---

    /// The credentials sources obtained themselves (TikTok Shop's refreshed tokens), by
    /// name: sealed bytes the store does not interpret ([`crate::sync::tiktok_shop::vault`]).
    fn credentials(&self, shop: &ShopId) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Keeps credentials under `name`, replacing what was there; on disk when it returns
    /// (a refresh token the marketplace rotated is the only way back in).
    fn put_credentials(&self, shop: &ShopId, name: &str, sealed: &[u8]) -> Result<(), StoreError>;

    // --- The model ---

    /// The data generation a rebuild starts from: read it before reading the data, and
    /// pass it with the snapshot. `None` while the shop has no data.
    fn data_generation(&self, shop: &ShopId) -> Result<Option<u64>, StoreError>;

    /// The data generation the stored snapshot was built from.
    fn model_generation(&self, shop: &ShopId) -> Result<Option<u64>, StoreError>;

    /// Whether the shop's products or orders changed after its stored model was built (or
    /// no model was stored since data came in): a rebuild is due. Every start rebuilds a
    /// stale model, so a crash between an import and its rebuild leaves nothing stale.
    fn model_stale(&self, shop: &ShopId) -> Result<bool, StoreError> {
        let data = self.data_generation(shop)?;
        Ok(data.is_some() && data != self.model_generation(shop)?)
    }

    fn model_snapshot(&self, shop: &ShopId) -> Result<Option<Snapshot>, StoreError>;

    /// Stores a snapshot and its generation in one atomic write.
    fn put_model_snapshot(&self, shop: &ShopId, snapshot: &Snapshot) -> Result<(), StoreError>;

    /// Stores a rebuild's outcome in one atomic write: the shop's customers (replacing all),
    /// its model snapshot, and the data generation it was built from. A write that changed
    /// data meanwhile has moved the generation on, so the model stays stale.
    fn put_rebuild(
        &self,
        shop: &ShopId,
        customers: &[Customer],
        snapshot: &Snapshot,
    ) -> Result<(), StoreError>;

    // --- Feedback ---

    /// Stores a new feedback message under a fresh id, larger than every earlier one (set in
    /// the record and returned).
    fn put_feedback(&self, shop: &ShopId, feedback: &mut Feedback) -> Result<u64, StoreError>;

    /// Feedback messages, newest first.
    fn feedback(&self, shop: &ShopId) -> Result<Vec<Feedback>, StoreError>;

    fn feedback_count(&self, shop: &ShopId) -> Result<usize, StoreError> {
        Ok(self.counts(shop)?.feedback as usize)
    }

    /// Sets a message's status, durably; `false` when there is no such message.
    fn set_feedback_status(&self, shop: &ShopId, id: u64, status: FeedbackStatus)
        -> Result<bool, StoreError>;

    // --- Widget events ---

    /// Appends events in one atomic write, after every event stored before: all are stored
    /// or none.
    fn append_events(&self, shop: &ShopId, events: &[Event]) -> Result<(), StoreError>;

    fn append_event(&self, shop: &ShopId, event: &Event) -> Result<(), StoreError> {
        self.append_events(shop, std::slice::from_ref(event))
    }

    /// The shop's events, oldest (first appended) first.
    fn events(&self, shop: &ShopId) -> Result<Vec<Event>, StoreError>;

    /// Calls `each` with the shop's events, oldest first, as [`ShopStore::events`] lists
    /// them, without holding them all at once: a shop may keep millions
    /// (`server.max_events_per_shop`), which as one list would take gigabytes.
    fn for_each_event(&self, shop: &ShopId, each: &mut dyn FnMut(Event)) -> Result<(), StoreError>;

    fn event_count(&self, shop: &ShopId) -> Result<usize, StoreError> {
        Ok(self.counts(shop)?.events as usize)
    }

    fn has_events(&self, shop: &ShopId) -> Result<bool, StoreError>;

    /// Walking from the oldest, removes events until at most `keep` remain, and after that
    /// every one that is `old`; returns how many went. An event that cannot be decoded is
    /// never `old` (it may still go as one of the oldest). Takes a `&dyn Fn` to keep the
    /// trait dyn-compatible.
    fn prune_events(
        &self,
        shop: &ShopId,
        old: &dyn Fn(&Event) -> bool,
        keep: usize,
    ) -> Result<usize, StoreError>;

    /// Removes every event of the shop; returns how many.
    fn remove_events(&self, shop: &ShopId) -> Result<usize, StoreError>;

    /// The owner's settings overlay as stored bytes the store does not interpret (the
    /// config layer encodes them); `None` when nothing was changed from the dashboard.
    fn settings_overlay(&self, shop: &ShopId) -> Result<Option<Vec<u8>>, StoreError>;

    /// Keeps a new settings overlay and appends the change that made it to the shop's
    /// settings log, together and on disk before it returns; sets `change.id`.
    fn put_settings_change(
        &self,
        shop: &ShopId,
        overlay: &[u8],
        change: &mut SettingsChange,
    ) -> Result<(), StoreError>;

    /// The shop's settings changes, newest first, at most `limit`.
    fn settings_changes(&self, shop: &ShopId, limit: usize) -> Result<Vec<SettingsChange>, StoreError>;

    // --- Outreach: follow-up messages and opt-outs ---

    /// Records new messages in one atomic write. A message whose key is stored already is
    /// left exactly as it is (whatever its status): recording is idempotent, so a run that
    /// decides the same message again adds nothing. Returns how many were added.
    fn add_messages(&self, shop: &ShopId, messages: &[Message]) -> Result<usize, StoreError>;

    /// Every message of the shop, oldest first (by `created_at`, then key).
    fn messages(&self, shop: &ShopId) -> Result<Vec<Message>, StoreError>;

    fn message(&self, shop: &ShopId, key: &str) -> Result<Option<Message>, StoreError>;

    /// Replaces the stored message with the same key (a new status, a try counted); false
    /// when there is none (nothing is added).
    fn update_message(&self, shop: &ShopId, message: &Message) -> Result<bool, StoreError>;

    /// The shop's opt-outs, by customer id.
    fn opt_outs(&self, shop: &ShopId) -> Result<Vec<OptOut>, StoreError>;

    /// Keeps an opt-out, replacing one of the same customer.
    fn put_opt_out(&self, shop: &ShopId, opt_out: &OptOut) -> Result<(), StoreError>;

    /// Removes a customer's opt-out; false when there was none.
    fn remove_opt_out(&self, shop: &ShopId, customer: &CustomerId) -> Result<bool, StoreError>;

    // --- Listing what a store holds (`store::copy` moves a whole store with these) ---

    /// Every shop the store holds anything of (a record, an event, a marker, a cursor, a
    /// setting, a report), ordered by id.
    fn shops(&self) -> Result<Vec<ShopId>, StoreError>;

    /// Every sync cursor of the shop: the products cursors by source number, then the
    /// orders cursors by source number.
    fn cursors(&self, shop: &ShopId) -> Result<Vec<SyncCursor>, StoreError>;

    /// The shop's map of marketplace product ids to our product ids, ordered by marketplace
    /// id: what [`ShopStore::product_for_marketplace_id`] reads. An entry stays when its
    /// product later has another marketplace id (order lines may still name the old one).
    fn marketplace_ids(&self, shop: &ShopId) -> Result<Vec<(String, ProductId)>, StoreError>;

    // --- Replicas: sync leases and model announcements ---

    /// Claims the shop's sync lease for `holder` (a replica's id) until `ttl` from now.
    /// True when `holder` holds it now: it was free, its holder's time ran out (a replica
    /// that died without releasing it), or `holder` held it already (then this renews it).
    /// False when another holder's lease is in force. Atomic across every process sharing
    /// the store: of two claims at once, at most one wins.
    fn claim_sync(&self, shop: &ShopId, holder: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// Gives the shop's sync lease up if `holder` holds it; another holder's lease stays.
    fn release_sync(&self, shop: &ShopId, holder: &str) -> Result<(), StoreError>;

    /// Who holds the shop's sync lease and until when; `None` when it is free or expired.
    fn sync_holder(&self, shop: &ShopId) -> Result<Option<(String, DateTime<Utc>)>, StoreError>;

    /// The shops whose model snapshot another process may have replaced, as they are
    /// announced, for a service to load the new snapshot ([`ShopStore::model_snapshot`]);
    /// a shop may come more than once and after this process's own writes. `None`: the
    /// store is this process's alone (sled), nothing else writes models. Each call starts a
    /// watch of its own, which ends when its receiver is dropped.
    fn model_changes(&self) -> Option<tokio::sync::mpsc::Receiver<ShopId>> {
        None
    }

    // ---- shared, expiring state (sessions, lockout, form tokens) ----

    /// The state replicas share: admin sessions, windowed counters and one-time tokens
    /// ([`crate::store::shared_state`]). In memory for sled (one process), in tables for
    /// PostgreSQL.
    fn shared_state(&self) -> &dyn crate::store::SharedState;
}
