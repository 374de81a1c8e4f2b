//! The store: what Laris keeps per shop, behind one trait.
//!
//! [`ShopStore`] (in [`backend`]) is the whole API the rest of Laris uses: typed reads and
//! writes per record kind (products, orders, customers, quarantined records, sync cursors
//! and reports, the run and seeding markers, feedback, widget events), the atomic
//! [`ImportBatch`] in which a page and its cursor commit together, the model snapshot as
//! opaque bytes with the data generation it was built from, and durability
//! ([`ShopStore::durable`], [`ShopStore::flush_blocking`]), and each shop's [`Counts`],
//! kept in the same writes as the records (so a status report reads them instead of
//! every record). Nothing in it names a backend's types: [`StoreError`] carries a
//! backend's error as a boxed source.
//!
//! [`Store`] implements it over sled (in [`sled_backend`], the only code that knows sled),
//! the embedded default; [`postgres::PgStore`] over PostgreSQL (in [`postgres`], the only
//! code that knows PostgreSQL), for several replicas sharing one database. Both prove
//! themselves with the checks in `contract`, which every backend must pass (see that
//! module's doc).
//! Everything above the store holds a [`SharedStore`] (`Arc<dyn ShopStore>`) or borrows a
//! `&dyn ShopStore`, so the backend is chosen once, where the store is opened.
//!
//! [`copy`] moves every shop of one store into another, of any backend, through the trait
//! alone (`laris store copy`), and compares the two by a backend-independent fingerprint.
//!
//! Records are encoded by [`codec`]: a version byte, then JSON. Adding a field with a serde
//! default never breaks an existing store. The sled store also records its format version
//! ([`migrate`]) and upgrades an older store once, on open.

pub mod backend;
pub mod batch;
pub mod codec;
pub mod copy;
pub mod counts;
mod events;
pub mod migrate;
pub mod postgres;
pub mod sled_backend;
mod sled_import;
mod sled_keys;
pub(crate) mod state_names;

pub mod shared_state;

#[cfg(test)]
pub mod contract;

use std::path::PathBuf;
use std::sync::Arc;

use thiserror::Error;

pub use backend::{ShopStore, Snapshot, StoreFuture};
pub use batch::{Applied, BatchOp, ImportBatch};
pub use counts::{recount, Counts};
pub use shared_state::{Hits, MemoryState, SharedState, StoreState};
pub use sled_backend::Store;

/// The store as the service holds it: whichever backend was opened at start-up, shared by
/// the handlers, the sync agent and the background tasks. Only the code that opens the
/// store (`app::open_store`) names a backend's type.
pub type SharedStore = Arc<dyn ShopStore>;

/// Sync reports kept per shop (the admin's history); older ones are dropped.
pub const REPORTS_KEPT: usize = 100;

/// A backend's own error, kept as the source of [`StoreError::Backend`].
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the store in {0} is held by another laris process (a running `laris serve`?). sled lets one process open a store: stop that process, or run the command while it runs — `laris status` and `laris replay` go through the running service by themselves when its address file `laris.serve.json` is in the data directory")]
    Locked(PathBuf),
    #[error("cannot prepare the store directory {path}: {source}; check that it is a directory this user may write")]
    Directory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store error: {0}")]
    Backend(#[source] BackendError),
    #[error("record {key:?} in the store cannot be decoded: {reason}")]
    Decode {
        key: String,
        #[source]
        reason: codec::CodecError,
    },
    #[error("the store in {path} has format {found}, newer than the {supported} this laris knows: upgrade laris (or restore a backup written by this version)")]
    NewerFormat {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    /// A PostgreSQL store that cannot be reached or used: `url` is shown without its
    /// password.
    #[error("the PostgreSQL store at {url}: {problem}; {fix}")]
    Database {
        url: String,
        problem: String,
        fix: String,
    },
    /// The database went away while the service runs (refused, reset or closed
    /// connections, a server shutting down, no connection in time): a passing state the
    /// caller answers with 503 and retries; the pool reconnects by itself.
    #[error("the database at {url} is unreachable ({problem}); Laris retries by itself and recovers when it is back, so try again in a few seconds; {fix}")]
    Unavailable {
        url: String,
        problem: String,
        fix: String,
    },
    #[error("the PostgreSQL store at {url} has schema version {found}, newer than the {supported} this laris knows (a newer laris migrated it): upgrade laris here too, or point [store] url (LARIS_STORE_URL) at another database")]
    NewerSchema { url: String, found: u32, supported: u32 },
}

impl StoreError {
    /// Wraps a backend's error, keeping its message and source chain.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Backend(Box::new(error))
    }

    /// Whether the store cannot be reached right now ([`StoreError::Unavailable`]): the
    /// web layer answers 503, widget events wait in memory. The sled store never is.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}
