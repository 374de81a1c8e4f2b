//! [`PgStore`]: the PostgreSQL backend of [`ShopStore`], and the only code that knows
//! PostgreSQL. Several `laris` processes may share one database.
//!
//! - The driver is `tokio-postgres` with a `deadpool-postgres` pool, run on the backend's
//!   own small runtime ([`runtime`]); connections are plain TCP or a Unix socket, without
//!   TLS (`NoTls`): keep the database on the same host or a private network.
//! - The schema and its versioned migrations are in [`schema`]; [`PgStore::connect`]
//!   applies pending ones, and so does [`migrate`] (`laris migrate`).
//! - Every write that belongs together ([`ShopStore::apply`] with its cursor and run
//!   marker, [`ShopStore::put_rebuild`], [`ShopStore::put_sync_report`] with the marker's
//!   removal, [`ShopStore::append_events`], [`ShopStore::put_settings_change`], feedback)
//!   is one transaction, with the shop's counts updated in it.
//! - Durability: a call returns after its transaction committed, and a committed
//!   PostgreSQL transaction is on disk (the server's WAL is flushed at commit) — except an
//!   import page ([`ShopStore::apply`]), which commits without waiting for the disk
//!   (`synchronous_commit = off` for its transaction: still atomic, and kept in order), as
//!   sled's batches are atomic and flushed later. The run's report, any later write that
//!   waits for the disk, and [`ShopStore::flush`], [`ShopStore::flush_blocking`] and
//!   [`ShopStore::durable`] flush the log up to that point, which holds every page before
//!   it; with no page committed since the last flush those three return at once. A server
//!   crash may so lose the last pages of a run that has not reported yet, never part of
//!   one: the next run resumes from the cursor stored with the last page kept.
//! - Replicas: a shop's sync lease is a `sync_leases` row claimed with one conditional
//!   upsert; every snapshot write sends `NOTIFY laris_models, '<shop>'` in its transaction,
//!   and [`ShopStore::model_changes`] listens for it ([`announce`]).
//! - Outages: once open, a call that cannot reach the server (connection refused, reset or
//!   closed, the server shutting down, no pooled connection in time) fails with
//!   [`StoreError::Unavailable`], which the service answers with 503; the pool drops
//!   broken connections and opens new ones when the server is back, so nothing needs a
//!   restart. At start-up the same failure is [`StoreError::Database`] with the fix.

mod announce;
mod import;
mod options;
mod runtime;
pub mod schema;
mod shared;
mod shared_state;

#[doc(hidden)]
pub mod testing;
#[cfg(test)]
mod tests;

pub use options::{redacted, PgOptions};
pub use schema::{MIGRATIONS, SCHEMA_VERSION};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use sha2::{Digest, Sha256};
use tokio_postgres::NoTls;

use crate::domain::{CustomerId, ProductId, ShopId};
use crate::records::{
    Customer, Event, Feedback, FeedbackStatus, Message, OptOut, Order, OrderCursor, Product, ProductCursor,
    Quarantined, RunMarker, Seeding, SettingsChange, SyncCursor, SyncReport,
};
use crate::store::postgres::import::{put_state, remove_state, state};
use crate::store::postgres::options::{at_start, classified, driver_config, Pg};
use crate::store::postgres::runtime::{Db, Driver};
use crate::store::postgres::shared::{decode, decode_row, lock_counts, read_counts, text, write_counts};
use crate::store::{
    codec, Applied, Counts, ImportBatch, ShopStore, Snapshot, StoreError, StoreFuture, REPORTS_KEPT,
};

/// Events a prune removes per transaction at most, so that a big prune never holds the
/// shop's event count for long.
const PRUNE_CHUNK: usize = 10_000;

/// The PostgreSQL store. Dropping it closes its connections (without blocking, in any
/// context).
pub struct PgStore {
    db: Db,
    /// How to connect outside the pool: the model announcements' listener.
    config: tokio_postgres::Config,
    /// An import page has committed without waiting for the disk since the last flush.
    unflushed: AtomicBool,
    /// Declared last: dropped after the pool, it stops the runtime the connections ran on.
    driver: Driver,
}

/// Applies the pending migrations to the database `options` names and returns their
/// versions, oldest first (empty: it was current). A database with a newer schema than
/// this laris knows is refused ([`StoreError::NewerSchema`]).
pub fn migrate(options: &PgOptions) -> Result<Vec<u32>, StoreError> {
    PgStore::open(options, MIGRATIONS).map(|(_, applied)| applied)
}

impl PgStore {
    /// Connects to the database `options` names and applies the pending migrations. An
    /// unreachable server, a refused sign-in or a missing database is an error naming the
    /// URL (without its password) and the fix.
    pub fn connect(options: &PgOptions) -> Result<PgStore, StoreError> {
        PgStore::open(options, MIGRATIONS).map(|(store, _)| store)
    }

    /// [`PgStore::connect`] with the given migrations (the tests add one), returning what
    /// it applied.
    pub(crate) fn open(
        options: &PgOptions,
        migrations: &'static [&'static str],
    ) -> Result<(PgStore, Vec<u32>), StoreError> {
        let url: Arc<str> = options.redacted_url().into();
        let config = driver_config(options)?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let timeout = options.statement_timeout.max(std::time::Duration::from_secs(10));
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(timeout))
            .wait_timeout(Some(timeout * 3))
            .build()
            .map_err(StoreError::backend)?;
        let store = PgStore {
            db: Db { pool, url },
            config,
            unflushed: AtomicBool::new(false),
            driver: Driver::new()?,
        };
        let applied = store
            .call(move |db| async move {
                let mut client = db.client().await?;
                schema::apply(&mut client, &db.url, migrations).await
            })
            .map_err(at_start)?;
        if !applied.is_empty() {
            tracing::info!(store = %store.db.url, applied = ?applied, "PostgreSQL store migrated");
        }
        Ok((store, applied))
    }

    /// The store's URL, without its password.
    pub fn url(&self) -> &str {
        &self.db.url
    }

    /// Runs `work` with the pool on the backend's runtime, waiting for its result.
    fn call<T, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Db) -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.driver
            .run(work(self.db.clone()))
            .map_err(|e| classified(&self.db.url, e))
    }

    /// One query's rows, with the shop as `$1` and `more` after it.
    fn rows(
        &self,
        sql: &'static str,
        shop: &ShopId,
        more: Vec<Param>,
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        self.query(sql, shop, more, Timeout::Statement)
    }

    /// [`PgStore::rows`]; with [`Timeout::None`] in a read-only transaction without the
    /// statement timeout: reading every record of a big shop may take longer, and its
    /// length is bounded by the shop's data, not by a stuck server.
    fn query(
        &self,
        sql: &'static str,
        shop: &ShopId,
        more: Vec<Param>,
        timeout: Timeout,
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        let shop = shop.as_str().to_string();
        self.call(move |db| async move {
            let mut client = db.client().await?;
            let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&shop];
            params.extend(more.iter().map(Param::as_sql));
            match timeout {
                Timeout::Statement => {
                    let stmt = client.prepare_cached(sql).await.pg()?;
                    client.query(&stmt, &params).await.pg()
                }
                Timeout::None => {
                    let tx = client.build_transaction().read_only(true).start().await.pg()?;
                    tx.batch_execute("SET LOCAL statement_timeout = 0").await.pg()?;
                    let stmt = tx.prepare_cached(sql).await.pg()?;
                    let rows = tx.query(&stmt, &params).await.pg()?;
                    tx.commit().await.pg()?;
                    Ok(rows)
                }
            }
        })
    }

    /// Every record `sql` selects (no statement timeout), decoded from its `record` column.
    fn every<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        sql: &'static str,
        shop: &ShopId,
    ) -> Result<Vec<T>, StoreError> {
        self.query(sql, shop, vec![], Timeout::None)?
            .iter()
            .map(|row| decode_row(shop, kind, row))
            .collect()
    }

    /// The records `sql` selects (a few: by key or with a limit), decoded.
    fn some<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        sql: &'static str,
        shop: &ShopId,
        more: Vec<Param>,
    ) -> Result<Vec<T>, StoreError> {
        self.rows(sql, shop, more)?
            .iter()
            .map(|row| decode_row(shop, kind, row))
            .collect()
    }

    fn record<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        sql: &'static str,
        shop: &ShopId,
        more: Vec<Param>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.some(kind, sql, shop, more)?.into_iter().next())
    }

    fn state<T: serde::de::DeserializeOwned>(
        &self,
        shop: &ShopId,
        name: &str,
    ) -> Result<Option<T>, StoreError> {
        self.record(
            "state",
            "SELECT name, value AS record FROM shop_state WHERE shop = $1 AND name = $2",
            shop,
            vec![Param::Text(name.to_string())],
        )
    }

    /// Makes every transaction committed so far durable when an import page committed
    /// without waiting for the disk since the last flush: a transaction that writes a
    /// record to the log (a logical-decoding message, which changes no table) and commits
    /// waiting for the disk, which flushes the log up to its commit, so every commit
    /// before it too.
    fn flush_log(&self) -> Result<(), StoreError> {
        if !self.unflushed.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        let flushed = self.transaction(|tx| {
            Box::pin(async move {
                tx.batch_execute(
                    "SET LOCAL synchronous_commit = on;
                     SELECT pg_logical_emit_message(true, 'laris', 'flush')",
                )
                .await
                .pg()
            })
        });
        if flushed.is_err() {
            self.unflushed.store(true, Ordering::SeqCst);
        }
        flushed
    }

    /// Runs `work` in one transaction on a pooled connection, committing when it succeeds.
    fn transaction<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t deadpool_postgres::Transaction<'t>) -> BoxFuture<'t, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.call(move |db| async move {
            let mut client = db.client().await?;
            let tx = client.transaction().await.pg()?;
            let out = work(&tx).await?;
            tx.commit().await.pg()?;
            Ok(out)
        })
    }

    /// The shop's events after sequence number `after`, oldest first, at most `n`, as
    /// stored.
    fn event_page(&self, shop: &ShopId, after: i64, n: usize) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        Ok(self
            .rows(
                "SELECT seq, record FROM events WHERE shop = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                shop,
                vec![Param::Int(after), limit(n)],
            )?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    /// [`ShopStore::for_each_event`] reading `page` events at a time.
    fn each_event_in_pages(
        &self,
        shop: &ShopId,
        page: usize,
        each: &mut dyn FnMut(Event),
    ) -> Result<(), StoreError> {
        let mut after = i64::MIN;
        loop {
            let events = self.event_page(shop, after, page)?;
            let Some(&(last, _)) = events.last() else {
                return Ok(());
            };
            after = last;
            for (seq, bytes) in events {
                each(decode(shop, "event", &seq.to_string(), &bytes)?);
            }
        }
    }

    /// [`ShopStore::prune_events`] reading and removing `page` events at a time.
    fn prune_in_pages(
        &self,
        shop: &ShopId,
        old: &dyn Fn(&Event) -> bool,
        keep: usize,
        page: usize,
    ) -> Result<usize, StoreError> {
        let mut excess = (self.counts(shop)?.events as usize).saturating_sub(keep);
        let mut removed = 0;
        let mut chunk = Vec::new();
        let mut after = i64::MIN;
        loop {
            let events = self.event_page(shop, after, page)?;
            let Some(&(last, _)) = events.last() else {
                break;
            };
            after = last;
            for (seq, bytes) in events {
                let gone = excess > 0 || codec::decode::<Event>(&bytes).is_ok_and(|e| old(&e));
                if !gone {
                    continue;
                }
                excess = excess.saturating_sub(1);
                chunk.push(seq);
                if chunk.len() == page {
                    removed += self.remove_counted(shop, std::mem::take(&mut chunk))?;
                }
            }
        }
        removed += self.remove_counted(shop, chunk)?;
        Ok(removed)
    }

    /// Removes those of the events `seqs` that are still there, and counts them out, in one
    /// transaction; returns how many went.
    fn remove_counted(&self, shop: &ShopId, seqs: Vec<i64>) -> Result<usize, StoreError> {
        if seqs.is_empty() {
            return Ok(0);
        }
        let shop = shop.clone();
        self.transaction(move |tx| {
            Box::pin(async move {
                let gone = tx
                    .execute(
                        "DELETE FROM events WHERE shop = $1 AND seq = ANY($2)",
                        &[&shop.as_str(), &seqs],
                    )
                    .await
                    .pg()? as i64;
                tx.execute(
                    "UPDATE event_counts SET events = GREATEST(events - $2, 0) WHERE shop = $1",
                    &[&shop.as_str(), &gone],
                )
                .await
                .pg()?;
                Ok(gone as usize)
            })
        })
    }
}

/// Whether a read has the statement timeout.
#[derive(Clone, Copy)]
enum Timeout {
    Statement,
    None,
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A query parameter after the shop, owned so that it can move to the backend's runtime.
enum Param {
    Text(String),
    Texts(Vec<String>),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
}

impl Param {
    fn as_sql(&self) -> &(dyn tokio_postgres::types::ToSql + Sync) {
        match self {
            Param::Text(s) => s,
            Param::Texts(s) => s,
            Param::Int(n) => n,
            Param::Float(x) => x,
            Param::Bytes(b) => b,
        }
    }
}

fn key(s: &str) -> Param {
    Param::Text(text(s).into_owned())
}

fn limit(n: usize) -> Param {
    Param::Int(n.min(i64::MAX as usize) as i64)
}

/// The data and model generations and the snapshot of a shop, as stored.
struct Model {
    data_generation: Option<u64>,
    model_generation: Option<u64>,
    snapshot: Option<Vec<u8>>,
}

impl PgStore {
    fn model(&self, shop: &ShopId) -> Result<Model, StoreError> {
        let rows = self.rows(
            "SELECT data_generation, model_generation, snapshot FROM shop_models WHERE shop = $1",
            shop,
            vec![],
        )?;
        Ok(match rows.first() {
            Some(r) => Model {
                data_generation: r.get::<_, Option<i64>>(0).map(|g| g as u64),
                model_generation: r.get::<_, Option<i64>>(1).map(|g| g as u64),
                snapshot: r.get(2),
            },
            None => Model {
                data_generation: None,
                model_generation: None,
                snapshot: None,
            },
        })
    }
}

/// Adds the snapshot and the generation it was built from to the shop's model row.
async fn put_snapshot(tx: &impl GenericClient, shop: &ShopId, snapshot: &Snapshot) -> Result<(), StoreError> {
    let generation = snapshot.generation.map(|g| g as i64);
    tx.execute(
        "INSERT INTO shop_models (shop, model_generation, snapshot) VALUES ($1, $2, $3)
         ON CONFLICT (shop) DO UPDATE SET model_generation = EXCLUDED.model_generation,
             snapshot = EXCLUDED.snapshot",
        &[&shop.as_str(), &generation, &snapshot.bytes],
    )
    .await
    .pg()?;
    // Delivered to the listeners when the transaction commits, never before.
    tx.execute("SELECT pg_notify($1, $2)", &[&announce::CHANNEL, &shop.as_str()])
        .await
        .pg()?;
    Ok(())
}

impl ShopStore for PgStore {
    /// A committed transaction is already on disk: nothing to do.
    /// Flushes the server's log when an import page committed without waiting for it since
    /// the last flush; every other write is on disk at its commit already.
    fn flush_blocking(&self) -> Result<(), StoreError> {
        self.flush_log()
    }

    /// [`ShopStore::flush_blocking`].
    fn flush(&self) -> StoreFuture<'_> {
        Box::pin(async { self.flush_log() })
    }

    /// [`ShopStore::flush_blocking`].
    fn durable(&self) -> StoreFuture<'_> {
        Box::pin(async { self.flush_log() })
    }

    fn has_data(&self, shop: &ShopId) -> Result<bool, StoreError> {
        let rows = self.rows(
            "SELECT EXISTS (SELECT 1 FROM products WHERE shop = $1)
                 OR EXISTS (SELECT 1 FROM orders WHERE shop = $1)",
            shop,
            vec![],
        )?;
        Ok(rows.first().is_some_and(|r| r.get(0)))
    }

    fn product(&self, shop: &ShopId, id: &ProductId) -> Result<Option<Product>, StoreError> {
        self.record(
            "product",
            "SELECT id, record FROM products WHERE shop = $1 AND id = $2",
            shop,
            vec![key(id.as_str())],
        )
    }

    fn products_among(&self, shop: &ShopId, ids: &[ProductId]) -> Result<Vec<Product>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = ids.iter().map(|id| text(id.as_str()).into_owned()).collect();
        self.some(
            "product",
            "SELECT id, record FROM products WHERE shop = $1 AND id = ANY($2) ORDER BY id",
            shop,
            vec![Param::Texts(ids)],
        )
    }

    fn products(&self, shop: &ShopId) -> Result<Vec<Product>, StoreError> {
        self.every(
            "product",
            "SELECT id, record FROM products WHERE shop = $1 ORDER BY id",
            shop,
        )
    }

    fn product_for_marketplace_id(
        &self,
        shop: &ShopId,
        marketplace_id: &str,
    ) -> Result<Option<ProductId>, StoreError> {
        let rows = self.rows(
            "SELECT product FROM product_refs WHERE shop = $1 AND marketplace_id = $2",
            shop,
            vec![key(marketplace_id)],
        )?;
        rows.first()
            .map(|r| {
                let id: String = r.get(0);
                ProductId::parse(&id).map_err(|e| StoreError::Decode {
                    key: format!("{shop}/product_ref/{marketplace_id}"),
                    reason: codec::CodecError::Json(serde::de::Error::custom(e)),
                })
            })
            .transpose()
    }

    fn order(&self, shop: &ShopId, invoice: &str) -> Result<Option<Order>, StoreError> {
        self.record(
            "order",
            "SELECT invoice, record FROM orders WHERE shop = $1 AND invoice = $2",
            shop,
            vec![key(invoice)],
        )
    }

    fn orders(&self, shop: &ShopId) -> Result<Vec<Order>, StoreError> {
        self.every(
            "order",
            "SELECT invoice, record FROM orders WHERE shop = $1 ORDER BY invoice",
            shop,
        )
    }

    fn customers(&self, shop: &ShopId) -> Result<Vec<Customer>, StoreError> {
        self.every(
            "customer",
            "SELECT id, record FROM customers WHERE shop = $1 ORDER BY id",
            shop,
        )
    }

    fn counts(&self, shop: &ShopId) -> Result<Counts, StoreError> {
        let shop = shop.clone();
        self.call(move |db| async move {
            let client = db.client().await?;
            read_counts(&client, &shop).await
        })
    }

    /// SHA-256 over the shop's products, marketplace ids, orders and customers, each kind
    /// in key order (byte-wise), every key and record length-prefixed: equal between two
    /// PostgreSQL stores that hold the same records. Read from one snapshot, streamed, and
    /// without the statement timeout (a big shop's read may take longer).
    fn fingerprint(&self, shop: &ShopId) -> Result<u64, StoreError> {
        let shop = shop.as_str().to_string();
        self.call(move |db| async move {
            use futures_util::TryStreamExt;
            let mut client = db.client().await?;
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .pg()?;
            tx.batch_execute("SET LOCAL statement_timeout = 0").await.pg()?;
            let mut h = Sha256::new();
            for (kind, sql) in [
                "SELECT id, record FROM products WHERE shop = $1 ORDER BY id",
                "SELECT marketplace_id, convert_to(product, 'UTF8') FROM product_refs
                 WHERE shop = $1 ORDER BY marketplace_id",
                "SELECT invoice, record FROM orders WHERE shop = $1 ORDER BY invoice",
                "SELECT id, record FROM customers WHERE shop = $1 ORDER BY id",
            ]
            .into_iter()
            .enumerate()
            {
                h.update([kind as u8]);
                let stmt = tx.prepare_cached(sql).await.pg()?;
                let rows = tx.query_raw(&stmt, [&shop]).await.pg()?;
                let mut rows = std::pin::pin!(rows);
                while let Some(row) = rows.try_next().await.pg()? {
                    let k: &str = row.get(0);
                    let v: &[u8] = row.get(1);
                    for part in [k.as_bytes(), v] {
                        h.update((part.len() as u64).to_be_bytes());
                        h.update(part);
                    }
                }
            }
            tx.commit().await.pg()?;
            let digest = h.finalize();
            Ok(u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")))
        })
    }

    /// One transaction, committed without waiting for the disk (see the module's
    /// "Durability"): a run's pages share the flush of its report, as on sled.
    fn apply(&self, batch: ImportBatch) -> Result<Applied, StoreError> {
        let (shop, ops) = batch.into_ops();
        // Set before the commit, so a flush that starts after it cannot miss it.
        self.unflushed.store(true, Ordering::SeqCst);
        self.transaction(move |tx| {
            Box::pin(async move {
                tx.batch_execute("SET LOCAL synchronous_commit = off")
                    .await
                    .pg()?;
                import::apply(tx, &shop, ops).await
            })
        })
    }

    fn quarantined(&self, shop: &ShopId) -> Result<Vec<Quarantined>, StoreError> {
        self.every(
            "quarantined",
            "SELECT id, record FROM quarantined WHERE shop = $1 ORDER BY id",
            shop,
        )
    }

    fn product_cursor(&self, shop: &ShopId, source: usize) -> Result<Option<ProductCursor>, StoreError> {
        self.state(shop, &state::product_cursor(source))
    }

    fn order_cursor(&self, shop: &ShopId, source: usize) -> Result<Option<OrderCursor>, StoreError> {
        self.state(shop, &state::order_cursor(source))
    }

    fn interrupted_run(&self, shop: &ShopId) -> Result<Option<RunMarker>, StoreError> {
        self.state(shop, state::RUN)
    }

    /// The report, the marker's removal and the pruning of old reports in one transaction.
    fn put_sync_report(&self, shop: &ShopId, report: &SyncReport) -> Result<(), StoreError> {
        let shop = shop.clone();
        let report = report.clone();
        self.transaction(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "INSERT INTO sync_reports (shop, started_at, kind, source, finished_at, ok, record)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (shop, started_at, kind, source) DO UPDATE SET
                         finished_at = EXCLUDED.finished_at, ok = EXCLUDED.ok, record = EXCLUDED.record",
                    &[
                        &shop.as_str(),
                        &report.started_at,
                        &report.kind.as_str(),
                        &text(&report.source).as_ref(),
                        &report.finished_at,
                        &report.ok,
                        &codec::encode(&report),
                    ],
                )
                .await
                .pg()?;
                remove_state(tx, &shop, state::RUN).await?;
                tx.execute(
                    "DELETE FROM sync_reports WHERE shop = $1 AND (started_at, kind, source) IN (
                         SELECT started_at, kind, source FROM sync_reports WHERE shop = $1
                         ORDER BY started_at DESC, kind DESC, source DESC OFFSET $2)",
                    &[&shop.as_str(), &(REPORTS_KEPT as i64)],
                )
                .await
                .pg()?;
                Ok(())
            })
        })
    }

    fn sync_reports(&self, shop: &ShopId, limit_to: usize) -> Result<Vec<SyncReport>, StoreError> {
        self.some(
            "report",
            "SELECT source, record FROM sync_reports WHERE shop = $1
             ORDER BY started_at DESC, kind DESC, source DESC LIMIT $2",
            shop,
            vec![limit(limit_to)],
        )
    }

    fn seeding(&self, shop: &ShopId) -> Result<Option<Seeding>, StoreError> {
        self.state(shop, state::SEEDING)
    }

    fn set_seeding(&self, shop: &ShopId, seeding: Seeding) -> Result<(), StoreError> {
        let shop = shop.clone();
        self.call(move |db| async move {
            let client = db.client().await?;
            put_state(&client, &shop, state::SEEDING, &codec::encode(&seeding)).await
        })
    }

    fn credentials(&self, shop: &ShopId) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let rows = self.rows(
            "SELECT name, value AS record FROM shop_state WHERE shop = $1 AND starts_with(name, $2) ORDER BY name",
            shop,
            vec![Param::Text(state::CREDENTIALS_PREFIX.to_string())],
        )?;
        rows.iter()
            .map(|row| {
                let name: String = row.get(0);
                let name = name[state::CREDENTIALS_PREFIX.len()..].to_string();
                Ok((name, decode_row(shop, "state", row)?))
            })
            .collect()
    }

    fn put_credentials(&self, shop: &ShopId, name: &str, sealed: &[u8]) -> Result<(), StoreError> {
        let shop = shop.clone();
        let name = format!("{}{name}", state::CREDENTIALS_PREFIX);
        let bytes = codec::encode(sealed);
        self.call(move |db| async move {
            let client = db.client().await?;
            put_state(&client, &shop, &name, &bytes).await
        })
    }

    fn data_generation(&self, shop: &ShopId) -> Result<Option<u64>, StoreError> {
        Ok(self.model(shop)?.data_generation)
    }

    fn model_generation(&self, shop: &ShopId) -> Result<Option<u64>, StoreError> {
        Ok(self.model(shop)?.model_generation)
    }

    /// Both generations in one read.
    fn model_stale(&self, shop: &ShopId) -> Result<bool, StoreError> {
        let m = self.model(shop)?;
        Ok(m.data_generation.is_some() && m.data_generation != m.model_generation)
    }

    fn model_snapshot(&self, shop: &ShopId) -> Result<Option<Snapshot>, StoreError> {
        let m = self.model(shop)?;
        Ok(m.snapshot.map(|bytes| Snapshot {
            generation: m.model_generation,
            bytes,
        }))
    }

    fn put_model_snapshot(&self, shop: &ShopId, snapshot: &Snapshot) -> Result<(), StoreError> {
        let shop = shop.clone();
        let snapshot = snapshot.clone();
        self.transaction(move |tx| Box::pin(async move { put_snapshot(tx, &shop, &snapshot).await }))
    }

    /// The customers (all replaced), their count and the snapshot in one transaction, which
    /// also announces the new model to the other replicas. A customer listed twice is kept
    /// once, as listed last.
    fn put_rebuild(
        &self,
        shop: &ShopId,
        customers: &[Customer],
        snapshot: &Snapshot,
    ) -> Result<(), StoreError> {
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, c) in customers.iter().enumerate() {
            last.insert(c.id.0.as_str(), i);
        }
        let (mut ids, mut spends, mut order_counts, mut last_orders, mut tiers, mut records) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for (i, c) in customers.iter().enumerate() {
            if last.get(c.id.0.as_str()) != Some(&i) {
                continue;
            }
            ids.push(text(&c.id.0).into_owned());
            spends.push(c.total_spend.0);
            order_counts.push(i64::from(c.order_count));
            last_orders.push(c.last_order);
            tiers.push(c.tier.as_deref().map(|t| text(t).into_owned()));
            records.push(codec::encode(c));
        }
        let shop = shop.clone();
        let snapshot = snapshot.clone();
        self.transaction(move |tx| {
            Box::pin(async move {
                let mut counts = lock_counts(tx, &shop).await?;
                tx.execute("DELETE FROM customers WHERE shop = $1", &[&shop.as_str()])
                    .await
                    .pg()?;
                if !ids.is_empty() {
                    tx.execute(
                        "INSERT INTO customers (shop, id, total_spend, order_count, last_order, tier, record)
                         SELECT $1::text, * FROM UNNEST($2::text[], $3::int8[], $4::int8[],
                             $5::timestamptz[], $6::text[], $7::bytea[])",
                        &[
                            &shop.as_str(),
                            &ids,
                            &spends,
                            &order_counts,
                            &last_orders,
                            &tiers,
                            &records,
                        ],
                    )
                    .await
                    .pg()?;
                }
                counts.customers = ids.len() as u64;
                write_counts(tx, &shop, &counts).await?;
                put_snapshot(tx, &shop, &snapshot).await
            })
        })
    }

    /// The message and its count in one transaction; its id is the shop's next one.
    fn put_feedback(&self, shop: &ShopId, feedback: &mut Feedback) -> Result<u64, StoreError> {
        let shop = shop.clone();
        let mut record = feedback.clone();
        let id = self.transaction(move |tx| {
            Box::pin(async move {
                let row = tx
                    .query_one(
                        "INSERT INTO shop_counts (shop, feedback, last_id) VALUES ($1, 1, 1)
                         ON CONFLICT (shop) DO UPDATE SET feedback = shop_counts.feedback + 1,
                             last_id = shop_counts.last_id + 1
                         RETURNING last_id",
                        &[&shop.as_str()],
                    )
                    .await
                    .pg()?;
                let id: i64 = row.get(0);
                record.id = id as u64;
                tx.execute(
                    "INSERT INTO feedback (shop, id, at, status, record) VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &shop.as_str(),
                        &id,
                        &record.at,
                        &record.status.as_str(),
                        &codec::encode(&record),
                    ],
                )
                .await
                .pg()?;
                Ok(record.id)
            })
        })?;
        feedback.id = id;
        Ok(id)
    }

    fn feedback(&self, shop: &ShopId) -> Result<Vec<Feedback>, StoreError> {
        self.every(
            "feedback",
            "SELECT id, record FROM feedback WHERE shop = $1 ORDER BY id DESC",
            shop,
        )
    }

    fn set_feedback_status(
        &self,
        shop: &ShopId,
        id: u64,
        status: FeedbackStatus,
    ) -> Result<bool, StoreError> {
        let shop = shop.clone();
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        self.transaction(move |tx| {
            Box::pin(async move {
                let Some(row) = tx
                    .query_opt(
                        "SELECT id, record FROM feedback WHERE shop = $1 AND id = $2 FOR UPDATE",
                        &[&shop.as_str(), &id],
                    )
                    .await
                    .pg()?
                else {
                    return Ok(false);
                };
                let mut feedback: Feedback = decode_row(&shop, "feedback", &row)?;
                feedback.status = status;
                tx.execute(
                    "UPDATE feedback SET status = $3, record = $4 WHERE shop = $1 AND id = $2",
                    &[&shop.as_str(), &id, &status.as_str(), &codec::encode(&feedback)],
                )
                .await
                .pg()?;
                Ok(true)
            })
        })
    }

    fn add_messages(&self, shop: &ShopId, messages: &[Message]) -> Result<usize, StoreError> {
        if messages.is_empty() {
            return Ok(0);
        }
        let shop = shop.clone();
        let rows: Vec<(String, chrono::DateTime<chrono::Utc>, &'static str, Vec<u8>)> = messages
            .iter()
            .map(|m| {
                (
                    text(&m.key).into_owned(),
                    m.created_at,
                    m.status.as_str(),
                    codec::encode(m),
                )
            })
            .collect();
        self.transaction(move |tx| {
            Box::pin(async move {
                let stmt = tx
                    .prepare_cached(
                        "INSERT INTO messages (shop, key, created_at, status, record)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shop, key) DO NOTHING",
                    )
                    .await
                    .pg()?;
                let mut added = 0;
                for (key, at, status, record) in &rows {
                    added += tx
                        .execute(&stmt, &[&shop.as_str(), key, at, status, record])
                        .await
                        .pg()? as usize;
                }
                Ok(added)
            })
        })
    }

    fn messages(&self, shop: &ShopId) -> Result<Vec<Message>, StoreError> {
        self.every(
            "message",
            "SELECT key, record FROM messages WHERE shop = $1 ORDER BY created_at, key",
            shop,
        )
    }

    fn message(&self, shop: &ShopId, key: &str) -> Result<Option<Message>, StoreError> {
        self.record(
            "message",
            "SELECT key, record FROM messages WHERE shop = $1 AND key = $2",
            shop,
            vec![Param::Text(text(key).into_owned())],
        )
    }

    fn update_message(&self, shop: &ShopId, message: &Message) -> Result<bool, StoreError> {
        let params = vec![
            Param::Text(text(&message.key).into_owned()),
            Param::Text(message.status.as_str().to_string()),
            Param::Bytes(codec::encode(message)),
        ];
        let rows = self.rows(
            "UPDATE messages SET status = $3, record = $4 WHERE shop = $1 AND key = $2 RETURNING key",
            shop,
            params,
        )?;
        Ok(!rows.is_empty())
    }

    fn opt_outs(&self, shop: &ShopId) -> Result<Vec<OptOut>, StoreError> {
        self.every(
            "opt-out",
            "SELECT customer, record FROM opt_outs WHERE shop = $1 ORDER BY customer",
            shop,
        )
    }

    fn put_opt_out(&self, shop: &ShopId, opt_out: &OptOut) -> Result<(), StoreError> {
        self.rows(
            "INSERT INTO opt_outs (shop, customer, record) VALUES ($1, $2, $3)
             ON CONFLICT (shop, customer) DO UPDATE SET record = EXCLUDED.record RETURNING customer",
            shop,
            vec![
                Param::Text(text(&opt_out.customer.0).into_owned()),
                Param::Bytes(codec::encode(opt_out)),
            ],
        )?;
        Ok(())
    }

    fn remove_opt_out(&self, shop: &ShopId, customer: &CustomerId) -> Result<bool, StoreError> {
        let rows = self.rows(
            "DELETE FROM opt_outs WHERE shop = $1 AND customer = $2 RETURNING customer",
            shop,
            vec![Param::Text(text(&customer.0).into_owned())],
        )?;
        Ok(!rows.is_empty())
    }

    /// The events and their count in one statement, numbered after every earlier one.
    fn append_events(&self, shop: &ShopId, events: &[Event]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let kinds: Vec<&'static str> = events.iter().map(|e| e.kind.as_str()).collect();
        let ats: Vec<Option<chrono::DateTime<chrono::Utc>>> = events.iter().map(|e| e.at).collect();
        let records: Vec<Vec<u8>> = events.iter().map(codec::encode).collect();
        let shop = shop.clone();
        self.call(move |db| async move {
            let client = db.client().await?;
            // One statement (so atomic without a transaction of its own, one round trip):
            // the count and the last sequence number move on by n, and the events take the
            // n numbers before the new last one, in the order given.
            let stmt = client
                .prepare_cached(
                    "WITH counted AS (
                         INSERT INTO event_counts (shop, events, last_seq) VALUES ($1, $2, $2)
                         ON CONFLICT (shop) DO UPDATE SET events = event_counts.events + $2,
                             last_seq = event_counts.last_seq + $2
                         RETURNING last_seq)
                     INSERT INTO events (shop, seq, kind, at, record)
                     SELECT $1::text, counted.last_seq - $2 + e.n, e.kind, e.at, e.record
                     FROM counted, UNNEST($3::text[], $4::timestamptz[], $5::bytea[])
                         WITH ORDINALITY AS e (kind, at, record, n)",
                )
                .await
                .pg()?;
            let n = records.len() as i64;
            client
                .execute(&stmt, &[&shop.as_str(), &n, &kinds, &ats, &records])
                .await
                .pg()?;
            Ok(())
        })
    }

    fn events(&self, shop: &ShopId) -> Result<Vec<Event>, StoreError> {
        self.every(
            "event",
            "SELECT seq, record FROM events WHERE shop = $1 ORDER BY seq",
            shop,
        )
    }

    /// A page of [`PRUNE_CHUNK`] events at a time, by sequence number.
    fn for_each_event(&self, shop: &ShopId, each: &mut dyn FnMut(Event)) -> Result<(), StoreError> {
        self.each_event_in_pages(shop, PRUNE_CHUNK, each)
    }

    fn has_events(&self, shop: &ShopId) -> Result<bool, StoreError> {
        let rows = self.rows(
            "SELECT EXISTS (SELECT 1 FROM events WHERE shop = $1)",
            shop,
            vec![],
        )?;
        Ok(rows.first().is_some_and(|r| r.get(0)))
    }

    /// Reads the events a page at a time and decides on this thread (the predicate stays
    /// here), removing in transactions of [`PRUNE_CHUNK`] events, each with its count, so
    /// appends go on meanwhile.
    fn prune_events(
        &self,
        shop: &ShopId,
        old: &dyn Fn(&Event) -> bool,
        keep: usize,
    ) -> Result<usize, StoreError> {
        self.prune_in_pages(shop, old, keep, PRUNE_CHUNK)
    }

    fn remove_events(&self, shop: &ShopId) -> Result<usize, StoreError> {
        let shop = shop.clone();
        self.transaction(move |tx| {
            Box::pin(async move {
                let gone = tx
                    .execute("DELETE FROM events WHERE shop = $1", &[&shop.as_str()])
                    .await
                    .pg()?;
                tx.execute(
                    "UPDATE event_counts SET events = 0 WHERE shop = $1",
                    &[&shop.as_str()],
                )
                .await
                .pg()?;
                Ok(gone as usize)
            })
        })
    }

    fn settings_overlay(&self, shop: &ShopId) -> Result<Option<Vec<u8>>, StoreError> {
        let rows = self.rows(
            "SELECT overlay FROM settings_overlays WHERE shop = $1",
            shop,
            vec![],
        )?;
        Ok(rows.first().map(|r| r.get(0)))
    }

    /// The overlay and the change, with the change's id (the shop's next one), in one
    /// transaction.
    fn put_settings_change(
        &self,
        shop: &ShopId,
        overlay: &[u8],
        change: &mut SettingsChange,
    ) -> Result<(), StoreError> {
        let shop = shop.clone();
        let overlay = overlay.to_vec();
        let mut record = change.clone();
        let id = self.transaction(move |tx| {
            Box::pin(async move {
                let row = tx
                    .query_one(
                        "INSERT INTO shop_counts (shop, last_id) VALUES ($1, 1)
                         ON CONFLICT (shop) DO UPDATE SET last_id = shop_counts.last_id + 1
                         RETURNING last_id",
                        &[&shop.as_str()],
                    )
                    .await
                    .pg()?;
                let id: i64 = row.get(0);
                record.id = id as u64;
                tx.execute(
                    "INSERT INTO settings_overlays (shop, overlay) VALUES ($1, $2)
                     ON CONFLICT (shop) DO UPDATE SET overlay = EXCLUDED.overlay",
                    &[&shop.as_str(), &overlay],
                )
                .await
                .pg()?;
                tx.execute(
                    "INSERT INTO settings_changes (shop, id, at, section, record) VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &shop.as_str(),
                        &id,
                        &record.at,
                        &text(&record.section).as_ref(),
                        &codec::encode(&record),
                    ],
                )
                .await
                .pg()?;
                Ok(record.id)
            })
        })?;
        change.id = id;
        Ok(())
    }

    fn settings_changes(&self, shop: &ShopId, limit_to: usize) -> Result<Vec<SettingsChange>, StoreError> {
        self.some(
            "settings change",
            "SELECT id, record FROM settings_changes WHERE shop = $1 ORDER BY id DESC LIMIT $2",
            shop,
            vec![limit(limit_to)],
        )
    }

    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    fn shops(&self) -> Result<Vec<ShopId>, StoreError> {
        let rows = self.call(move |db| async move {
            let client = db.client().await?;
            client
                .query(
                    "SELECT shop FROM shop_counts UNION SELECT shop FROM event_counts
                     UNION SELECT shop FROM shop_models UNION SELECT shop FROM shop_state
                     UNION SELECT shop FROM settings_overlays UNION SELECT shop FROM product_refs
                     UNION SELECT shop FROM sync_reports UNION SELECT shop FROM messages
                     UNION SELECT shop FROM opt_outs ORDER BY 1",
                    &[],
                )
                .await
                .pg()
        })?;
        rows.iter()
            .map(|row| {
                let raw: String = row.get(0);
                ShopId::parse(&raw).map_err(|e| {
                    StoreError::backend(std::io::Error::other(format!(
                        "the database names a shop {raw:?} that is no valid shop id ({e}); restore a backup of the database"
                    )))
                })
            })
            .collect()
    }

    fn cursors(&self, shop: &ShopId) -> Result<Vec<SyncCursor>, StoreError> {
        let rows = self.rows(
            "SELECT name, value AS record FROM shop_state WHERE shop = $1 AND starts_with(name, $2)",
            shop,
            vec![Param::Text(state::CURSOR_PREFIX.to_string())],
        )?;
        let mut products: Vec<(usize, ProductCursor)> = Vec::new();
        let mut orders: Vec<(usize, OrderCursor)> = Vec::new();
        for row in &rows {
            let name: String = row.get(0);
            match state::parse_cursor(&name) {
                Some((source, true)) => products.push((source, decode_row(shop, "state", row)?)),
                Some((source, false)) => orders.push((source, decode_row(shop, "state", row)?)),
                None => continue,
            }
        }
        Ok(state::in_order(products, orders))
    }

    fn marketplace_ids(&self, shop: &ShopId) -> Result<Vec<(String, ProductId)>, StoreError> {
        let rows = self.query(
            "SELECT marketplace_id, product FROM product_refs WHERE shop = $1 ORDER BY marketplace_id",
            shop,
            vec![],
            Timeout::None,
        )?;
        rows.iter()
            .map(|row| {
                let (marketplace_id, id): (String, String) = (row.get(0), row.get(1));
                let product = ProductId::parse(&id).map_err(|e| StoreError::Decode {
                    key: format!("{shop}/product_ref/{marketplace_id}"),
                    reason: codec::CodecError::Json(serde::de::Error::custom(e)),
                })?;
                Ok((marketplace_id, product))
            })
            .collect()
    }

    // --- Replicas: sync leases and model announcements ---

    /// One conditional upsert: it takes a free row, an expired one (the server's clock
    /// decides) or `holder`'s own; another holder's lease in force leaves it as it is.
    fn claim_sync(&self, shop: &ShopId, holder: &str, ttl: std::time::Duration) -> Result<bool, StoreError> {
        let rows = self.rows(
            "INSERT INTO sync_leases (shop, holder, expires_at)
                 VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3::float8))
             ON CONFLICT (shop) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                 WHERE sync_leases.expires_at < clock_timestamp() OR sync_leases.holder = EXCLUDED.holder
             RETURNING holder",
            shop,
            vec![key(holder), Param::Float(ttl.as_secs_f64())],
        )?;
        Ok(!rows.is_empty())
    }

    fn release_sync(&self, shop: &ShopId, holder: &str) -> Result<(), StoreError> {
        self.rows(
            "DELETE FROM sync_leases WHERE shop = $1 AND holder = $2",
            shop,
            vec![key(holder)],
        )?;
        Ok(())
    }

    fn sync_holder(
        &self,
        shop: &ShopId,
    ) -> Result<Option<(String, chrono::DateTime<chrono::Utc>)>, StoreError> {
        let rows = self.rows(
            "SELECT holder, expires_at FROM sync_leases WHERE shop = $1 AND expires_at >= clock_timestamp()",
            shop,
            vec![],
        )?;
        Ok(rows.first().map(|r| (r.get(0), r.get(1))))
    }

    /// A listener of its own on the backend's runtime: `LISTEN laris_models` on a dedicated
    /// connection (made again with backoff when lost), and every 5 s a look at each shop's
    /// model generation, for announcements missed while it was away.
    fn model_changes(&self) -> Option<tokio::sync::mpsc::Receiver<ShopId>> {
        Some(announce::listen(
            &self.driver,
            self.config.clone(),
            self.db.clone(),
        ))
    }

    // ---- shared, expiring state: `shared_state.rs` ----

    fn shared_state(&self) -> &dyn crate::store::SharedState {
        self
    }
}
