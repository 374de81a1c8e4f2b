//! The PostgreSQL store's schema: [`MIGRATIONS`], applied in order, and [`apply`], which
//! brings a database up to date.
//!
//! Migration `n` (1-based) is `MIGRATIONS[n - 1]`; once released it never changes, a later
//! change is a new migration. `laris_schema_migrations(version, applied_at)` records what a
//! database has. [`apply`] runs in one transaction under `pg_advisory_xact_lock`, so that
//! replicas starting at once apply each migration once (the others wait, then find it
//! done), and a failed migration leaves the database as it was. Migrations run without
//! the statement timeout. A database that has a
//! version this laris does not know is refused ([`StoreError::NewerSchema`]): it was
//! migrated by a newer laris, whose records this one might misread or damage.
//!
//! Layout (version 1): a table per record kind, keyed by shop and the record's id (text,
//! compared byte-wise: `COLLATE "C"`, so lists come in the order sled gives). The fields
//! worth querying are columns (money as `bigint` rupiah, times as `timestamptz`); the
//! whole record is kept too, as the codec's bytes (`record bytea`), so nothing is lost and
//! reads give back exactly what was written. Text columns hold the record's text with any
//! NUL character (which PostgreSQL's text refuses) as U+FFFD; the record keeps it.
//!
//! - `shop_counts`: per shop the [`crate::store::Counts`] (events apart) and `last_id`,
//!   the last feedback or settings-change id given out. Every counted write locks this row
//!   (`SELECT … FOR UPDATE`) first: writers of one shop take turns, on any replica.
//! - `event_counts`: per shop the events stored and the last event sequence number, apart
//!   from `shop_counts` so that a burst of widget events does not wait for an import.
//! - `shop_models`: per shop the data generation (from the sequence `laris_generation`),
//!   the generation the model snapshot was built from, and the snapshot (`bytea`).
//! - `shop_state`: cursors (`source:N:products`, `source:N:orders`), the run marker
//!   (`run`) and the seeding mark (`seeding`), by name, as codec bytes.
//! - (version 2) `sync_leases`: per shop the replica holding its sync lease and until
//!   when ([`crate::store::ShopStore::claim_sync`]).
//! - `products`, `product_refs` (marketplace id → our id), `orders` with `order_lines`,
//!   `customers`, `quarantined` (by [`crate::store::migrate::quarantine_id`], with the
//!   subject it names), `sync_reports`, `feedback`, `events`, `settings_overlays`,
//!   `settings_changes`.
//!
//! Version 3: the state replicas share ([`crate::store::shared_state`]).
//! - `admin_sessions`: by the SHA-256 of the session id (never the id itself), the user,
//!   the session's data and when it expires.
//! - `counters`: by key, hits in the current window and when that window ends.
//! - `once_tokens`: spent one-time tokens, by key, with when they may be forgotten.
//!
//! Version 4: outreach.
//! - `messages`: the automations' follow-up messages by shop and key (the idempotency
//!   key), with their status and creation time as columns.
//! - `opt_outs`: customers who asked for no messages, by shop and customer id.
//!
//! Version 5: `shop_models.snapshot` compressed with lz4 where the server has it.

use deadpool_postgres::GenericClient;

use crate::store::postgres::options::Pg;
use crate::store::StoreError;

/// Every migration, oldest first: migration `n` is `MIGRATIONS[n - 1]`.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3_SHARED_STATE, V4_OUTREACH, V5_SNAPSHOT_LZ4];

/// The schema version this laris writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The advisory lock migrations run under ("laris" as a number).
const MIGRATION_LOCK: i64 = 0x006c_6172_6973;

const V1: &str = r#"
CREATE SEQUENCE laris_generation;

CREATE TABLE shop_counts (
    shop text COLLATE "C" PRIMARY KEY,
    products bigint NOT NULL DEFAULT 0,
    active_products bigint NOT NULL DEFAULT 0,
    orders bigint NOT NULL DEFAULT 0,
    paid_orders bigint NOT NULL DEFAULT 0,
    customers bigint NOT NULL DEFAULT 0,
    quarantined bigint NOT NULL DEFAULT 0,
    feedback bigint NOT NULL DEFAULT 0,
    last_id bigint NOT NULL DEFAULT 0
);

CREATE TABLE event_counts (
    shop text COLLATE "C" PRIMARY KEY,
    events bigint NOT NULL DEFAULT 0,
    last_seq bigint NOT NULL DEFAULT 0
);

CREATE TABLE shop_models (
    shop text COLLATE "C" PRIMARY KEY,
    data_generation bigint,
    model_generation bigint,
    snapshot bytea
);

CREATE TABLE shop_state (
    shop text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (shop, name)
);

CREATE TABLE products (
    shop text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    marketplace_id text,
    sku text,
    name text NOT NULL,
    price bigint NOT NULL,
    stock bigint,
    status text NOT NULL,
    updated_at timestamptz NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (shop, id)
);

CREATE TABLE product_refs (
    shop text COLLATE "C" NOT NULL,
    marketplace_id text COLLATE "C" NOT NULL,
    product text COLLATE "C" NOT NULL,
    PRIMARY KEY (shop, marketplace_id)
);

CREATE TABLE orders (
    shop text COLLATE "C" NOT NULL,
    invoice text COLLATE "C" NOT NULL,
    marketplace_id text,
    customer text NOT NULL,
    status bigint NOT NULL,
    created_at timestamptz NOT NULL,
    paid_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    products_total bigint NOT NULL,
    shipping bigint NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (shop, invoice)
);
CREATE INDEX orders_by_customer ON orders (shop, customer);

CREATE TABLE order_lines (
    shop text COLLATE "C" NOT NULL,
    invoice text COLLATE "C" NOT NULL,
    line integer NOT NULL,
    product text,
    marketplace_product_id text,
    sku text,
    name text NOT NULL,
    quantity bigint NOT NULL,
    unit_price bigint NOT NULL,
    PRIMARY KEY (shop, invoice, line),
    FOREIGN KEY (shop, invoice) REFERENCES orders (shop, invoice) ON DELETE CASCADE
);
CREATE INDEX order_lines_by_product ON order_lines (shop, product);

CREATE TABLE customers (
    shop text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    total_spend bigint NOT NULL,
    order_count bigint NOT NULL,
    last_order timestamptz NOT NULL,
    tier text,
    record bytea NOT NULL,
    PRIMARY KEY (shop, id)
);

CREATE TABLE quarantined (
    shop text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    kind text NOT NULL,
    subject text,
    origin text NOT NULL,
    at timestamptz NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (shop, id)
);
CREATE INDEX quarantined_by_subject ON quarantined (shop, subject) WHERE subject IS NOT NULL;

CREATE TABLE sync_reports (
    shop text COLLATE "C" NOT NULL,
    started_at timestamptz NOT NULL,
    kind text COLLATE "C" NOT NULL,
    source text COLLATE "C" NOT NULL,
    finished_at timestamptz NOT NULL,
    ok boolean NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (shop, started_at, kind, source)
);

CREATE TABLE feedback (
    shop text COLLATE "C" NOT NULL,
    id bigint NOT NULL,
    at timestamptz NOT NULL,
    status text NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (shop, id)
);

CREATE TABLE events (
    shop text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    kind text NOT NULL,
    at timestamptz,
    record bytea NOT NULL,
    PRIMARY KEY (shop, seq)
);

CREATE TABLE settings_overlays (
    shop text COLLATE "C" PRIMARY KEY,
    overlay bytea NOT NULL
);

CREATE TABLE settings_changes (
    shop text COLLATE "C" NOT NULL,
    id bigint NOT NULL,
    at timestamptz NOT NULL,
    section text NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (shop, id)
);
"#;

/// Version 2: the sync lease of each shop, so that one replica at a time syncs it.
const V2: &str = r#"
CREATE TABLE sync_leases (
    shop text COLLATE "C" PRIMARY KEY,
    holder text NOT NULL,
    expires_at timestamptz NOT NULL
);
"#;

/// Version 3: what replicas share besides the shops' data: admin sessions, windowed
/// counters and one-time tokens.
const V4_OUTREACH: &str = r#"
CREATE TABLE messages (
    shop text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    status text NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (shop, key)
);

CREATE TABLE opt_outs (
    shop text COLLATE "C" NOT NULL,
    customer text COLLATE "C" NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (shop, customer)
);
"#;

const V3_SHARED_STATE: &str = r#"
CREATE TABLE admin_sessions (
    id_sha256 bytea PRIMARY KEY,
    user_name text COLLATE "C" NOT NULL,
    data bytea NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX admin_sessions_by_user ON admin_sessions (user_name);
CREATE INDEX admin_sessions_by_expiry ON admin_sessions (expires_at);

CREATE TABLE counters (
    key text COLLATE "C" PRIMARY KEY,
    count integer NOT NULL,
    window_ends timestamptz NOT NULL
);
CREATE INDEX counters_by_expiry ON counters (window_ends);

CREATE TABLE once_tokens (
    key text COLLATE "C" PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX once_tokens_by_expiry ON once_tokens (expires_at);
"#;

/// Version 5: model snapshots compressed with lz4 instead of PostgreSQL's default pglz.
/// A 300-product shop's snapshot is 440 KB; pglz made it 183 KB in about 6 ms of each
/// rebuild's write (and its read by every replica), lz4 204 KB in a fraction of that
/// (docs/performance.md, "Sync"). A server built without lz4 keeps pglz. Values written
/// before keep their compression until rewritten (the next rebuild).
const V5_SNAPSHOT_LZ4: &str = r#"
DO $$
BEGIN
    ALTER TABLE shop_models ALTER COLUMN snapshot SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: model snapshots stay compressed with pglz';
END
$$;
"#;

/// Brings the database up to `migrations.len()` (this laris: [`MIGRATIONS`]) in one
/// transaction under the migration lock; returns the versions it applied, oldest first
/// (none when the database was current). `url` names the store in errors.
pub(crate) async fn apply(
    client: &mut deadpool_postgres::Object,
    url: &str,
    migrations: &[&str],
) -> Result<Vec<u32>, StoreError> {
    let tx = client.transaction().await.pg()?;
    // A migration of a big database, or the wait for another replica's, may take longer
    // than the statement timeout the store's statements have
    // (and the server's "already exists, skipping" notices are not news).
    tx.batch_execute("SET LOCAL statement_timeout = 0; SET LOCAL client_min_messages = warning")
        .await
        .pg()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .pg()?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS laris_schema_migrations (
             version integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await
    .pg()?;
    let found = current_version(&tx).await?;
    let known = migrations.len() as u32;
    if found > known {
        return Err(StoreError::NewerSchema {
            url: url.to_string(),
            found,
            supported: known,
        });
    }
    let mut applied = Vec::new();
    for (i, sql) in migrations.iter().enumerate().skip(found as usize) {
        let version = i as u32 + 1;
        tx.batch_execute(sql).await.map_err(|e| {
            StoreError::backend(std::io::Error::other(format!(
                "migration {version} of the PostgreSQL store failed, nothing of it was kept: {e}"
            )))
        })?;
        tx.execute(
            "INSERT INTO laris_schema_migrations (version) VALUES ($1)",
            &[&(version as i32)],
        )
        .await
        .pg()?;
        applied.push(version);
    }
    tx.commit().await.pg()?;
    Ok(applied)
}

/// The newest migration the database records (0: none).
pub(crate) async fn current_version(client: &impl GenericClient) -> Result<u32, StoreError> {
    let row = client
        .query_one(
            "SELECT COALESCE(max(version), 0) FROM laris_schema_migrations",
            &[],
        )
        .await
        .pg()?;
    Ok(row.get::<_, i32>(0).max(0) as u32)
}
