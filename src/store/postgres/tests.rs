//! The PostgreSQL backend against a real server ([`super::testing`]): the store contract,
//! then what only this backend has (migrations, connection errors, statements that fail
//! inside a transaction, the columns it keeps, its own runtime).

use std::time::Duration;

use super::testing::{execute, fresh_database, numbers, stopped_server_url};
use super::*;
use crate::records::{OrderCursor, RunMarker, SyncCursor};
use crate::store::contract::{order, product, Backend};

fn options(url: &str) -> PgOptions {
    PgOptions {
        url: url.to_string(),
        pool_size: 2,
        statement_timeout: Duration::from_secs(5),
    }
}

/// The PostgreSQL backend of the contract: a fresh database; each open is a new
/// [`PgStore`] on it (the reopen check's second store sees what the first committed).
pub struct PgBackend {
    url: String,
}

impl Default for PgBackend {
    fn default() -> PgBackend {
        PgBackend {
            url: fresh_database(),
        }
    }
}

impl Backend for PgBackend {
    fn open(&self) -> Box<dyn ShopStore> {
        Box::new(PgStore::connect(&options(&self.url)).unwrap_or_else(|e| panic!("{e}")))
    }
}

crate::store::contract::contract_tests!(PgBackend::default);

fn shop(id: &str) -> ShopId {
    ShopId::parse(id).unwrap()
}

#[test]
fn migrations_apply_once_and_a_reconnect_applies_none() {
    let url = fresh_database();
    let all: Vec<u32> = (1..=SCHEMA_VERSION).collect();
    assert_eq!(migrate(&options(&url)).unwrap(), all);
    assert_eq!(migrate(&options(&url)).unwrap(), Vec::<u32>::new());
    drop(PgStore::connect(&options(&url)).unwrap());
    assert_eq!(
        numbers(
            &url,
            "SELECT version::int8 FROM laris_schema_migrations ORDER BY version"
        ),
        all.iter().map(|&v| i64::from(v)).collect::<Vec<_>>()
    );

    // A later laris's migration applies on the next connect, once.
    let mut later: Vec<&'static str> = MIGRATIONS.to_vec();
    later.push("CREATE TABLE laris_test_later (x integer)");
    let later: &'static [&'static str] = Box::leak(later.into_boxed_slice());
    let (_, applied) = PgStore::open(&options(&url), later).unwrap();
    assert_eq!(applied, [SCHEMA_VERSION + 1]);
    let (_, applied) = PgStore::open(&options(&url), later).unwrap();
    assert!(applied.is_empty());
    assert_eq!(numbers(&url, "SELECT count(*) FROM laris_test_later"), [0]);
}

#[test]
fn replicas_starting_at_once_apply_each_migration_once() {
    let url = fresh_database();
    let applied: Vec<Vec<u32>> = std::thread::scope(|s| {
        let starts: Vec<_> = (0..4)
            .map(|_| s.spawn(|| migrate(&options(&url)).unwrap()))
            .collect();
        starts.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<u32> = (1..=SCHEMA_VERSION).collect();
    assert_eq!(applied.iter().filter(|a| **a == all).count(), 1, "{applied:?}");
    assert_eq!(applied.iter().filter(|a| a.is_empty()).count(), 3, "{applied:?}");
}

#[test]
fn a_database_of_a_newer_laris_is_refused() {
    let url = fresh_database();
    migrate(&options(&url)).unwrap();
    let newer = SCHEMA_VERSION + 7;
    execute(
        &url,
        &format!("INSERT INTO laris_schema_migrations (version) VALUES ({newer})"),
    )
    .unwrap();
    let err = PgStore::connect(&options(&url)).err().expect("refused");
    assert!(
        matches!(err, StoreError::NewerSchema { found, supported, .. } if found == newer && supported == SCHEMA_VERSION),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&url) && msg.contains("upgrade laris"), "{msg}");
    assert!(migrate(&options(&url)).is_err());
}

#[test]
fn a_bad_url_a_stopped_server_or_a_missing_database_is_named_without_its_password() {
    let msg = PgStore::connect(&options("postgres://laris:s3cret@127.0.0.1:port/laris"))
        .err()
        .expect("unreadable")
        .to_string();
    assert!(msg.contains("postgres://laris:***@127.0.0.1:port/laris"), "{msg}");
    assert!(
        msg.contains("postgres://USER:PASSWORD@HOST:PORT/DATABASE"),
        "{msg}"
    );
    assert!(!msg.contains("s3cret"), "{msg}");

    let stopped = stopped_server_url();
    let msg = PgStore::connect(&options(&stopped))
        .err()
        .expect("nothing listens")
        .to_string();
    assert!(
        msg.contains(&redacted(&stopped)) && msg.contains("laris:***@"),
        "{msg}"
    );
    assert!(
        msg.contains("refused") && msg.contains("LARIS_STORE_URL"),
        "{msg}"
    );
    assert!(!msg.contains("s3cret"), "{msg}");

    let mut missing = url::Url::parse(&fresh_database()).unwrap();
    missing.set_path("/no_such_database");
    let _ = missing.set_password(Some("s3cret"));
    let msg = PgStore::connect(&options(missing.as_str()))
        .err()
        .expect("no such database")
        .to_string();
    assert!(
        msg.contains("no_such_database") && msg.contains("createdb"),
        "{msg}"
    );
    assert!(!msg.contains("s3cret"), "{msg}");
}

#[test]
fn a_refused_sign_in_is_named_without_the_password_with_the_fix() {
    let url = fresh_database();
    // A role that may not sign in: refused whatever the server's pg_hba.conf says.
    let role = format!("laris_nologin_{}", std::process::id());
    execute(&url, &format!("CREATE ROLE {role} NOLOGIN")).unwrap();
    let mut as_role = url::Url::parse(&url).unwrap();
    as_role.set_username(&role).unwrap();
    as_role.set_password(Some("s3cret")).unwrap();
    let msg = PgStore::connect(&options(as_role.as_str()))
        .err()
        .expect("refused")
        .to_string();
    execute(&url, &format!("DROP ROLE {role}")).unwrap();
    assert!(
        msg.contains("refused the sign-in") && msg.contains(&role),
        "{msg}"
    );
    assert!(
        msg.contains("user name or password") && msg.contains("pg_hba.conf"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("{role}:***@")) && !msg.contains("s3cret"),
        "{msg}"
    );
}

#[test]
fn a_batch_whose_statement_fails_midway_leaves_nothing() {
    let url = fresh_database();
    let store = PgStore::connect(&options(&url)).unwrap();
    // The server refuses this one order, after the batch's products went in.
    execute(
        &url,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON orders FOR EACH ROW
             WHEN (NEW.invoice = 'INV/REFUSED') EXECUTE FUNCTION refuse();",
    )
    .unwrap();
    let toko = shop("toko");
    let page = |invoice: &str| {
        let mut batch = ImportBatch::new(&toko);
        batch.upsert_product(product("A-1", 1000));
        batch.upsert_product(product("B-2", 2000));
        batch.upsert_order(order(invoice, "A-1", 1));
        batch.set_cursor(SyncCursor::Orders {
            source: 0,
            cursor: OrderCursor { synced_to: 42 },
        });
        batch.mark_run(RunMarker {
            started_at: chrono::Utc::now(),
            pages: 1,
        });
        batch
    };
    let err = store.apply(page("INV/REFUSED")).unwrap_err();
    assert!(format!("{err:?}").contains("refused by the test"), "{err:?}");
    assert!(!store.has_data(&toko).unwrap());
    assert_eq!(store.counts(&toko).unwrap(), Counts::default());
    assert_eq!(store.order_cursor(&toko, 0).unwrap(), None);
    assert_eq!(store.interrupted_run(&toko).unwrap(), None);
    assert_eq!(store.data_generation(&toko).unwrap(), None);
    assert_eq!(numbers(&url, "SELECT count(*) FROM products"), [0]);

    // The same page with another invoice goes in whole.
    let applied = store.apply(page("INV/1")).unwrap();
    assert_eq!((applied.products.inserted, applied.orders.inserted), (2, 1));
    assert_eq!(
        store.counts(&toko).unwrap(),
        crate::store::recount(&store, &toko).unwrap()
    );
    assert!(store.interrupted_run(&toko).unwrap().is_some());
}

#[test]
fn an_import_page_commits_without_waiting_for_the_disk_and_a_flush_makes_it_durable() {
    let url = fresh_database();
    let store = PgStore::connect(&options(&url)).unwrap();
    let toko = shop("toko");
    // Nothing committed without waiting yet: a flush has nothing to do.
    assert!(!store.unflushed.load(Ordering::SeqCst));
    store.flush_blocking().unwrap();

    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("A-1", 1000));
    batch.upsert_order(order("INV/1", "A-1", 2));
    store.apply(batch).unwrap();
    assert!(store.unflushed.load(Ordering::SeqCst));
    // Committed: another connection sees it at once.
    assert_eq!(numbers(&url, "SELECT count(*) FROM order_lines"), [1]);
    let written = numbers(
        &url,
        "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::int8",
    )[0];
    store.flush_blocking().unwrap();
    assert!(!store.unflushed.load(Ordering::SeqCst));
    let flushed = numbers(
        &url,
        "SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::int8",
    )[0];
    assert!(
        flushed >= written,
        "the log is flushed to {flushed}, short of the page's {written}"
    );
    // The async flavours do the same.
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("B-2", 2000));
    store.apply(batch).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(store.durable())
        .unwrap();
    assert!(!store.unflushed.load(Ordering::SeqCst));
}

#[test]
fn money_is_kept_as_rupiah_and_times_as_timestamps_in_columns() {
    let url = fresh_database();
    let store = PgStore::connect(&options(&url)).unwrap();
    let toko = shop("toko");
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("A-1", 18_500));
    let mut o = order("INV/1", "A-1", 3);
    o.shipping = crate::domain::Rupiah(9_000);
    batch.upsert_order(o.clone());
    store.apply(batch).unwrap();
    assert_eq!(
        numbers(&url, "SELECT price FROM products WHERE id = 'A-1'"),
        [18_500]
    );
    assert_eq!(
        numbers(&url, "SELECT products_total + shipping FROM orders"),
        [o.products_total.0 + 9_000]
    );
    assert_eq!(
        numbers(
            &url,
            "SELECT sum(quantity * unit_price)::int8 FROM order_lines WHERE invoice = 'INV/1'"
        ),
        [o.products_total.0]
    );
    assert_eq!(
        numbers(&url, "SELECT extract(epoch FROM paid_at)::int8 FROM orders"),
        [o.paid_at.timestamp()]
    );

    // A changed order's lines replace its old ones.
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_order(order("INV/1", "A-1", 1));
    store.apply(batch).unwrap();
    assert_eq!(numbers(&url, "SELECT quantity FROM order_lines"), [1]);
}

#[test]
fn model_snapshots_are_compressed_with_lz4_and_read_back_whole() {
    let url = fresh_database();
    let store = PgStore::connect(&options(&url)).unwrap();
    let toko = shop("toko");
    // Compressible, as a model's snapshot is (names, ids and lists repeat).
    let bytes: Vec<u8> = (0..200_000u32)
        .map(|i| (i % 251) as u8 ^ (i / 4096) as u8)
        .collect();
    let snapshot = Snapshot {
        generation: Some(7),
        bytes: bytes.clone(),
    };
    store.put_model_snapshot(&toko, &snapshot).unwrap();
    assert_eq!(
        numbers(
            &url,
            "SELECT (pg_column_compression(snapshot) = 'lz4')::int4::int8 FROM shop_models"
        ),
        [1],
        "migration 5 sets the column's compression (Debian's PostgreSQL has lz4)"
    );
    assert!(
        numbers(&url, "SELECT pg_column_size(snapshot)::int8 FROM shop_models")[0] < bytes.len() as i64 / 2,
        "stored compressed"
    );
    assert_eq!(store.model_snapshot(&toko).unwrap(), Some(snapshot));
}

#[test]
fn text_with_a_nul_character_is_kept_and_found() {
    let store = PgStore::connect(&options(&fresh_database())).unwrap();
    let toko = shop("toko");
    let mut p = product("A-1", 1000);
    p.name = "Sambal\0Bawang".into();
    p.marketplace_id = Some("m\0-1".into());
    let mut o = order("INV/\0-1", "A-1", 1);
    o.buyer_name = Some("Sa\0ri".into());
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(p.clone());
    batch.upsert_order(o.clone());
    store.apply(batch).unwrap();
    assert_eq!(store.products(&toko).unwrap(), [p.clone()]);
    assert_eq!(store.order(&toko, "INV/\0-1").unwrap(), Some(o.clone()));
    assert_eq!(
        store.product_for_marketplace_id(&toko, "m\0-1").unwrap(),
        Some(p.id.clone())
    );
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_order(o);
    assert_eq!(store.apply(batch).unwrap().orders.unchanged, 1);
}

#[test]
fn two_stores_with_the_same_records_have_the_same_fingerprint() {
    let stores = [
        PgStore::connect(&options(&fresh_database())).unwrap(),
        PgStore::connect(&options(&fresh_database())).unwrap(),
    ];
    let toko = shop("toko");
    for (i, store) in stores.iter().enumerate() {
        // The same records, written in another order and in other batches.
        let mut products = vec![product("A-1", 1000), product("B-2", 2000)];
        if i == 1 {
            products.reverse();
        }
        for p in products {
            let mut batch = ImportBatch::new(&toko);
            batch.upsert_product(p);
            store.apply(batch).unwrap();
        }
        let mut batch = ImportBatch::new(&toko);
        batch.upsert_order(order("INV/1", "A-1", 2));
        store.apply(batch).unwrap();
    }
    let [a, b] = &stores;
    assert_eq!(a.fingerprint(&toko).unwrap(), b.fingerprint(&toko).unwrap());
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("B-2", 2100));
    b.apply(batch).unwrap();
    assert_ne!(a.fingerprint(&toko).unwrap(), b.fingerprint(&toko).unwrap());
}

#[test]
fn events_read_a_page_at_a_time_come_whole_and_in_order() {
    let url = fresh_database();
    let store = PgStore::connect(&options(&url)).unwrap();
    let toko = shop("toko");
    let events: Vec<Event> = (0..10)
        .map(|i| Event {
            visitor: Some(format!("v{i}")),
            ..contract_event()
        })
        .collect();
    store.append_events(&toko, &events).unwrap();
    store.append_events(&shop("lain"), &events[..3]).unwrap();
    for page in [1, 3, 10, 11] {
        let mut each = Vec::new();
        store
            .each_event_in_pages(&toko, page, &mut |e| each.push(e))
            .unwrap();
        assert_eq!(each, events, "pages of {page}");
    }
}

#[test]
fn a_prune_in_pages_removes_what_one_pass_would() {
    let store = PgStore::connect(&options(&fresh_database())).unwrap();
    let toko = shop("toko");
    let at = |secs: i64| chrono::DateTime::from_timestamp(1_700_000_000 + secs, 0);
    let events: Vec<Event> = (0..11)
        .map(|i| Event {
            at: at(i),
            ..contract_event()
        })
        .collect();
    store.append_events(&toko, &events).unwrap();
    // Pages of 3: the 4 oldest go as excess over 7, then the old ones (before second 6)
    // of the pages after.
    let old = |e: &Event| e.at.is_some_and(|t| Some(t) < at(6));
    assert_eq!(store.prune_in_pages(&toko, &old, 7, 3).unwrap(), 6);
    assert_eq!(store.events(&toko).unwrap(), events[6..]);
    assert_eq!(
        store.counts(&toko).unwrap(),
        crate::store::recount(&store, &toko).unwrap()
    );
}

#[test]
fn a_statement_stuck_behind_a_lock_fails_after_the_statement_timeout() {
    let url = fresh_database();
    let store = PgStore::connect(&PgOptions {
        statement_timeout: Duration::from_secs(1),
        ..options(&url)
    })
    .unwrap();
    let toko = shop("toko");
    store.put_feedback(&toko, &mut contract_feedback()).unwrap();
    // Another session holds the shop's counts row for 4 seconds.
    let holder = {
        let url = url.clone();
        std::thread::spawn(move || {
            execute(
                &url,
                "BEGIN; SELECT * FROM shop_counts WHERE shop = 'toko' FOR UPDATE; SELECT pg_sleep(4); COMMIT;",
            )
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let started = std::time::Instant::now();
    let err = store.put_feedback(&toko, &mut contract_feedback()).unwrap_err();
    assert!(format!("{err:?}").contains("statement timeout"), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    holder.join().unwrap().unwrap();
    assert_eq!(
        store.feedback_count(&toko).unwrap(),
        1,
        "the timed-out write left nothing"
    );
}

#[test]
fn the_store_reconnects_after_the_server_cut_its_connections() {
    let url = fresh_database();
    let store = PgStore::connect(&options(&url)).unwrap();
    let toko = shop("toko");
    store.put_feedback(&toko, &mut contract_feedback()).unwrap();
    // As a server restart or an administrator would: every connection to the database
    // but this one is ended.
    let ended = numbers(
        &url,
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    assert!(ended[0] >= 1, "the store's connection was ended: {ended:?}");
    std::thread::sleep(Duration::from_millis(300));
    store.put_feedback(&toko, &mut contract_feedback()).unwrap();
    assert_eq!(store.feedback_count(&toko).unwrap(), 2);
}

fn contract_feedback() -> Feedback {
    Feedback {
        id: 0,
        at: chrono::Utc::now(),
        message: "kirim lebih cepat".into(),
        contact: None,
        page: None,
        product: None,
        status: FeedbackStatus::New,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_store_works_and_drops_inside_a_single_threaded_runtime() {
    let store = PgStore::connect(&options(&fresh_database())).unwrap();
    let toko = shop("toko");
    store.append_event(&toko, &contract_event()).unwrap();
    store.durable().await.unwrap();
    assert_eq!(store.event_count(&toko).unwrap(), 1);
    drop(store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_works_from_workers_and_blocking_threads_and_drops_in_a_task() {
    let store = std::sync::Arc::new(PgStore::connect(&options(&fresh_database())).unwrap());
    let toko = shop("toko");
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (store, toko) = (store.clone(), toko.clone());
            tokio::task::spawn_blocking(move || store.append_event(&toko, &contract_event()))
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    store.append_event(&toko, &contract_event()).unwrap();
    assert_eq!(store.event_count(&toko).unwrap(), 5);
    let last = tokio::spawn(async move { drop(store) });
    last.await.unwrap();
}

fn contract_event() -> Event {
    Event {
        kind: crate::records::EventKind::Impression,
        slot: None,
        product: None,
        item: None,
        at: None,
        customer: None,
        visitor: None,
        arm: None,
        order: None,
        total: None,
        items: Vec::new(),
    }
}

// --- Outages ---

#[test]
fn a_stopped_server_is_unavailable_and_the_pool_reconnects_when_it_is_back() {
    let server = super::testing::OwnServer::start();
    let store = PgStore::connect(&options(&server.url())).unwrap();
    let shop = ShopId::parse("toko").unwrap();
    let click = |item: &str| Event {
        kind: crate::records::EventKind::Click,
        slot: None,
        product: None,
        item: Some(ProductId::parse(item).unwrap()),
        at: None,
        customer: None,
        visitor: None,
        arm: None,
        order: None,
        total: None,
        items: Vec::new(),
    };
    store.append_events(&shop, &[click("A")]).unwrap();

    server.stop();
    // Pooled connections were ended by the shutdown, new ones are refused: every call
    // says the database is unreachable, none is a plain backend error.
    for _ in 0..3 {
        let err = store.counts(&shop).unwrap_err();
        assert!(err.is_unavailable(), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("unreachable") && msg.contains("retries by itself"),
            "{msg}"
        );
        assert!(msg.contains(&server.url()), "{msg}");
    }
    let err = store.append_events(&shop, &[click("B")]).unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");

    server.start_again();
    store.append_events(&shop, &[click("C")]).unwrap();
    let items: Vec<String> = store
        .events(&shop)
        .unwrap()
        .iter()
        .map(|e| e.item.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(items, ["A", "C"], "nothing of the refused write was kept");
}
