//! The contract every [`ShopStore`] backend must pass: the behaviour the rest of Laris
//! relies on, written once against the trait.
//!
//! Each check is a function taking a fresh, empty store (`&dyn ShopStore`); the reopen
//! check takes a [`Backend`] that can open the same data again. A backend proves itself by
//! implementing [`Backend`] and invoking `contract_tests!` with it, which makes one test
//! per check (see the sled backend's at the bottom of this file):
//!
//! ```ignore
//! crate::store::contract::contract_tests!(PostgresBackend::default);
//! ```
//!
//! What is checked: each record kind reads back as written and shops never see each
//! other's; upserts count inserted, updated and unchanged records and an unchanged one
//! writes nothing; an import batch is all-or-nothing, its cursor and run marker commit with
//! the page and a report clears the marker; events append in order, count, and prune
//! oldest first down to `keep` and by predicate; feedback ids increase and status changes
//! persist; reports come newest first, at most `limit`, at most `REPORTS_KEPT` kept; the
//! model snapshot round-trips with its generation; a store lists its shops, a shop's
//! cursors and its marketplace-id map (what `store::copy` needs), and a shop copied from
//! sled into it and back arrives whole (`copy.rs`); a data change marks the model stale
//! until a rebuild from that generation; the shop's counts equal a recount of its records
//! after every kind of write (`counts.rs`); everything survives `flush_blocking` and a
//! reopen, and the backend names itself the same after it; a shop's sync lease goes to one
//! holder at a time, is renewed by its holder, released, and taken over once it expired;
//! the shared state (sessions, windowed counters, one-time tokens) reads back until it
//! expires, and its changes are atomic under parallel callers.

use chrono::{DateTime, Utc};

use crate::domain::{CustomerId, OrderStatus, ProductId, Rupiah, ShopId, Slot};
use crate::records::{
    AutomationKind, Channel, Customer, Event, EventKind, Feedback, FeedbackStatus, Message, MessageProduct,
    MessageStatus, OptOut, Order, OrderCursor, OrderLine, Product, ProductCursor, ProductStatus,
    QuarantineReason, Quarantined, RecordKind, RunKind, RunMarker, Seeding, SyncCursor, SyncReport,
};
use crate::store::{recount, BatchOp, ImportBatch, ShopStore, Snapshot, REPORTS_KEPT};

mod copy;
mod counts;
pub use copy::{a_copy_in_and_out_of_the_store_is_equal, fill};
pub use counts::counts_equal_a_recount_after_every_write;

/// A backend under test.
pub trait Backend {
    /// Opens this backend's store: empty the first time, then with what the last one
    /// flushed.
    fn open(&self) -> Box<dyn ShopStore>;
}

fn shop(id: &str) -> ShopId {
    ShopId::parse(id).unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
}

pub fn product(id: &str, price: i64) -> Product {
    Product {
        id: ProductId::parse(id).unwrap(),
        marketplace_id: Some(format!("m-{id}")),
        name: format!("Produk {id}"),
        sku: Some(id.into()),
        price: Rupiah(price),
        stock: Some(3),
        status: ProductStatus::Active,
        category: vec!["Bumbu".into()],
        weight_grams: Some(250),
        pack: None,
        attributes: [("rasa".to_string(), "pedas".to_string())].into(),
        description: "Sambal".into(),
        image: None,
        url: None,
        sold_count: Some(12),
        updated_at: at(0),
    }
}

pub fn order(invoice: &str, product: &str, quantity: u32) -> Order {
    let line = OrderLine {
        product: Some(ProductId::parse(product).unwrap()),
        marketplace_product_id: Some(format!("m-{product}")),
        sku: Some(product.into()),
        name: format!("Produk {product}"),
        quantity,
        unit_price: Rupiah(18_000),
    };
    Order {
        invoice: invoice.into(),
        marketplace_id: None,
        customer: CustomerId("777001".into()),
        buyer_name: Some("Sari".into()),
        phone: None,
        city: None,
        status: OrderStatus(400),
        created_at: at(10),
        paid_at: at(20),
        updated_at: at(30),
        products_total: line.total(),
        lines: vec![line],
        shipping: Rupiah(9_000),
    }
}

pub fn customer(id: &str, spend: i64) -> Customer {
    Customer {
        id: CustomerId(id.into()),
        name: Some("Sari".into()),
        phone: Some("628123456789".into()),
        city: Some("Bandung".into()),
        aliases: vec![CustomerId("777001".into())],
        total_spend: Rupiah(spend),
        order_count: 1,
        first_order: at(0),
        last_order: at(0),
        average_order_value: Rupiah(spend),
        tier: Some("Perak".into()),
        tier_since: Some(at(0)),
        tier_history: vec![(at(0), "Perak".into())],
        next_tier_needed: Some(Rupiah(100_000)),
        segment: Some("Baru".into()),
        rfm: None,
    }
}

fn bad(origin: &str) -> Quarantined {
    Quarantined {
        at: at(0),
        kind: RecordKind::Product,
        origin: origin.into(),
        reason: QuarantineReason::invalid("price.value", "price.value: \"harga?\" is not a number"),
        record: "{\"price\":{\"value\":\"harga?\"}}".into(),
        subject: None,
    }
}

fn report(kind: RunKind, started: i64) -> SyncReport {
    SyncReport {
        kind,
        source: "marketplace_api".into(),
        started_at: at(started),
        finished_at: at(started + 1),
        duration_ms: 1000,
        products: Default::default(),
        orders: Default::default(),
        quarantined: 0,
        errors: vec![],
        ok: true,
        pages: 1,
        warnings: vec![],
    }
}

fn feedback(message: &str) -> Feedback {
    Feedback {
        id: 0,
        at: at(0),
        message: message.into(),
        contact: Some("0812".into()),
        page: None,
        product: None,
        status: FeedbackStatus::New,
    }
}

fn event(item: &str, secs: i64) -> Event {
    Event {
        kind: EventKind::Click,
        slot: Some(Slot::Similar),
        product: Some(ProductId::parse("SRD-100").unwrap()),
        item: Some(ProductId::parse(item).unwrap()),
        at: Some(at(secs)),
        customer: None,
        visitor: None,
        arm: None,
        order: None,
        total: None,
        items: Vec::new(),
    }
}

fn by_origin(mut q: Vec<Quarantined>) -> Vec<Quarantined> {
    q.sort_by(|a, b| a.origin.cmp(&b.origin));
    q
}

/// Each record kind reads back as written, and another shop (even one whose id extends
/// this one's) sees none of it.
pub fn record_kinds_round_trip(store: &dyn ShopStore) {
    let (toko, other) = (shop("toko"), shop("toko-b"));
    assert!(!store.has_data(&toko).unwrap());
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("B-2", 2000));
    batch.upsert_product(product("A-1", 1000));
    batch.upsert_order(order("INV/2", "A-1", 2));
    batch.upsert_order(order("INV/1", "B-2", 1));
    batch.quarantine(bad("page 1 #0"));
    batch.quarantine(bad("page 1 #1"));
    store.apply(batch).unwrap();

    assert!(store.has_data(&toko).unwrap());
    let a = ProductId::parse("A-1").unwrap();
    assert_eq!(store.product(&toko, &a).unwrap(), Some(product("A-1", 1000)));
    let ids = |raw: &[&str]| {
        raw.iter()
            .map(|r| ProductId::parse(r).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        store
            .products_among(&toko, &ids(&["B-2", "Z-9", "A-1", "B-2"]))
            .unwrap(),
        [product("A-1", 1000), product("B-2", 2000)],
        "the held ones, once each, by id"
    );
    assert_eq!(store.products_among(&toko, &[]).unwrap(), []);
    assert_eq!(store.products_among(&other, &ids(&["A-1"])).unwrap(), []);
    assert_eq!(
        store.products(&toko).unwrap(),
        [product("A-1", 1000), product("B-2", 2000)]
    );
    assert_eq!(
        store.product_for_marketplace_id(&toko, "m-A-1").unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.order(&toko, "INV/2").unwrap(),
        Some(order("INV/2", "A-1", 2))
    );
    assert_eq!(
        store.orders(&toko).unwrap(),
        [order("INV/1", "B-2", 1), order("INV/2", "A-1", 2)]
    );
    assert_eq!(store.order_count(&toko).unwrap(), 2);
    assert_eq!(
        by_origin(store.quarantined(&toko).unwrap()),
        [bad("page 1 #0"), bad("page 1 #1")]
    );
    assert_eq!(store.quarantined_count(&toko).unwrap(), 2);

    let customers = [customer("777001", 36_000), customer("777002", 18_000)];
    let snapshot = Snapshot {
        generation: store.data_generation(&toko).unwrap(),
        bytes: b"model".to_vec(),
    };
    store.put_rebuild(&toko, &customers, &snapshot).unwrap();
    assert_eq!(store.customers(&toko).unwrap(), customers);
    assert_eq!(store.customer_count(&toko).unwrap(), 2);
    store.put_rebuild(&toko, &customers[1..], &snapshot).unwrap();
    assert_eq!(
        store.customers(&toko).unwrap(),
        customers[1..],
        "a rebuild replaces all customers"
    );

    assert_eq!(store.seeding(&toko).unwrap(), None);
    store.set_seeding(&toko, Seeding::Started).unwrap();
    assert_eq!(store.seeding(&toko).unwrap(), Some(Seeding::Started));
    store.set_seeding(&toko, Seeding::Done).unwrap();
    assert_eq!(store.seeding(&toko).unwrap(), Some(Seeding::Done));

    assert!(store.credentials(&toko).unwrap().is_empty());
    store.put_credentials(&toko, "tiktok-b", &[3, 0, 255]).unwrap();
    store.put_credentials(&toko, "tiktok-a", &[1]).unwrap();
    store.put_credentials(&toko, "tiktok-a", &[2, 2]).unwrap();
    assert_eq!(
        store.credentials(&toko).unwrap(),
        vec![
            ("tiktok-a".to_string(), vec![2, 2]),
            ("tiktok-b".to_string(), vec![3, 0, 255])
        ],
        "credentials by name, the last put replacing"
    );
    assert!(
        store.cursors(&toko).unwrap().is_empty(),
        "credentials are no cursors"
    );

    assert!(!store.has_data(&other).unwrap());
    assert!(store.products(&other).unwrap().is_empty() && store.orders(&other).unwrap().is_empty());
    assert_eq!(store.product(&other, &a).unwrap(), None);
    assert_eq!(store.product_for_marketplace_id(&other, "m-A-1").unwrap(), None);
    assert_eq!(store.order_count(&other).unwrap(), 0);
    assert_eq!(store.customer_count(&other).unwrap(), 0);
    assert_eq!(store.quarantined_count(&other).unwrap(), 0);
    assert_eq!(store.seeding(&other).unwrap(), None);
    assert!(store.credentials(&other).unwrap().is_empty());
    assert_eq!(store.model_snapshot(&other).unwrap(), None);
}

/// Upserts count what they did; an unchanged record writes nothing (the fingerprint stays),
/// and quarantining the same bad record again keeps one copy.
pub fn upserts_count_and_skip_unchanged_records(store: &dyn ShopStore) {
    let toko = shop("toko");
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("A-1", 1000));
    batch.upsert_order(order("INV/1", "A-1", 1));
    batch.quarantine(bad("page 1 #0"));
    let applied = store.apply(batch).unwrap();
    assert_eq!((applied.products.seen, applied.products.inserted), (1, 1));
    assert_eq!((applied.orders.seen, applied.orders.inserted), (1, 1));
    assert_eq!(applied.quarantined, 1);
    let before = store.fingerprint(&toko).unwrap();
    let generation = store.data_generation(&toko).unwrap();

    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("A-1", 1000));
    batch.upsert_order(order("INV/1", "A-1", 1));
    batch.quarantine(bad("page 1 #0"));
    let applied = store.apply(batch).unwrap();
    assert_eq!((applied.products.unchanged, applied.orders.unchanged), (1, 1));
    assert_eq!(applied.products.inserted + applied.products.updated, 0);
    assert_eq!(store.fingerprint(&toko).unwrap(), before);
    assert_eq!(
        store.data_generation(&toko).unwrap(),
        generation,
        "nothing changed"
    );
    assert_eq!(store.quarantined_count(&toko).unwrap(), 1);

    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("A-1", 1200));
    batch.upsert_order(order("INV/1", "A-1", 3));
    let applied = store.apply(batch).unwrap();
    assert_eq!((applied.products.updated, applied.orders.updated), (1, 1));
    assert_ne!(store.fingerprint(&toko).unwrap(), before);
    let a = ProductId::parse("A-1").unwrap();
    assert_eq!(store.product(&toko, &a).unwrap().unwrap().price, Rupiah(1200));
    assert_eq!(store.order(&toko, "INV/1").unwrap().unwrap().lines[0].quantity, 3);
}

/// A record written under the key a quarantined entry names (its subject) clears that
/// entry in the same batch, counted out; entries of other kinds, other keys, no key or
/// another shop stay.
pub fn a_written_record_clears_its_quarantined_entries(store: &dyn ShopStore) {
    let (toko, lain) = (shop("toko"), shop("lain"));
    let named = |origin: &str, kind: RecordKind, subject: Option<&str>| Quarantined {
        kind,
        subject: subject.map(str::to_string),
        ..bad(origin)
    };
    let mut batch = ImportBatch::new(&toko);
    batch.quarantine(named("penjualan.csv row 3", RecordKind::Order, Some("INV/9")));
    batch.quarantine(named(
        "penjualan.csv row 3 (older)",
        RecordKind::Order,
        Some("INV/9"),
    ));
    batch.quarantine(named("produk.csv row 2", RecordKind::Product, Some("B-2")));
    batch.quarantine(named("produk.csv row 7", RecordKind::Order, Some("B-2")));
    batch.quarantine(named("page 1 #0", RecordKind::Order, None));
    // Kept before entries named their subject: the raw record names it.
    batch.quarantine(Quarantined {
        kind: RecordKind::Order,
        record: "{\"invoice_ref_num\":\"INV/9\",\"products\":[]}".into(),
        ..bad("page 3 #1")
    });
    store.apply(batch).unwrap();
    let mut batch = ImportBatch::new(&lain);
    batch.quarantine(named("penjualan.csv row 3", RecordKind::Order, Some("INV/9")));
    store.apply(batch).unwrap();
    assert_eq!(store.quarantined_count(&toko).unwrap(), 6);

    let mut batch = ImportBatch::new(&toko);
    batch.upsert_order(order("INV/1", "A-1", 1));
    store.apply(batch).unwrap();
    assert_eq!(
        store.quarantined_count(&toko).unwrap(),
        6,
        "another invoice clears nothing"
    );

    let mut batch = ImportBatch::new(&toko);
    batch.upsert_order(order("INV/9", "A-1", 1));
    let mut by_sku = product("B-2-ID", 2000);
    by_sku.sku = Some("B-2".into());
    batch.upsert_product(by_sku);
    store.apply(batch).unwrap();
    let left: Vec<String> = by_origin(store.quarantined(&toko).unwrap())
        .into_iter()
        .map(|q| q.origin)
        .collect();
    assert_eq!(left, ["page 1 #0", "produk.csv row 7"]);
    assert_eq!(store.quarantined_count(&toko).unwrap(), 2);
    assert_eq!(store.counts(&toko).unwrap(), recount(store, &toko).unwrap());
    assert_eq!(
        store.quarantined_count(&lain).unwrap(),
        1,
        "another shop's entry stays"
    );
    assert_eq!(store.counts(&lain).unwrap(), recount(store, &lain).unwrap());
}

/// A batch that fails partway writes nothing: no record, cursor, marker or generation.
pub fn a_failed_import_batch_writes_nothing(store: &dyn ShopStore) {
    let toko = shop("toko");
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("A-1", 1000));
    batch.upsert_order(order("INV/1", "A-1", 1));
    batch.quarantine(bad("page 1 #0"));
    batch.set_cursor(SyncCursor::Orders {
        source: 0,
        cursor: OrderCursor {
            synced_to: 1_700_000_000,
        },
    });
    batch.mark_run(RunMarker {
        started_at: at(0),
        pages: 1,
    });
    batch.push(BatchOp::FailForTest("the disk is full".into()));
    batch.upsert_product(product("B-2", 2000));
    assert!(store.apply(batch).is_err());
    assert!(!store.has_data(&toko).unwrap());
    assert_eq!(store.quarantined_count(&toko).unwrap(), 0);
    assert_eq!(store.order_cursor(&toko, 0).unwrap(), None);
    assert_eq!(store.interrupted_run(&toko).unwrap(), None);
    assert_eq!(store.data_generation(&toko).unwrap(), None);
    assert!(!store.model_stale(&toko).unwrap());
}

/// A page's cursor and run marker commit with its records; cursors are kept per source
/// and per kind; the run's report removes the marker.
pub fn cursors_and_run_marker_commit_with_their_page(store: &dyn ShopStore) {
    let toko = shop("toko");
    let products = ProductCursor {
        newest_update: Some(1_700_000_000),
        last_full_pass: Some(at(5)),
    };
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("A-1", 1000));
    batch.set_cursor(SyncCursor::Products {
        source: 1,
        cursor: products.clone(),
    });
    batch.set_cursor(SyncCursor::Orders {
        source: 0,
        cursor: OrderCursor { synced_to: 42 },
    });
    batch.mark_run(RunMarker {
        started_at: at(0),
        pages: 1,
    });
    store.apply(batch).unwrap();
    assert!(store
        .product(&toko, &ProductId::parse("A-1").unwrap())
        .unwrap()
        .is_some());
    assert_eq!(store.product_cursor(&toko, 1).unwrap(), Some(products));
    assert_eq!(store.product_cursor(&toko, 0).unwrap(), None);
    assert_eq!(
        store.order_cursor(&toko, 0).unwrap(),
        Some(OrderCursor { synced_to: 42 })
    );
    assert_eq!(store.order_cursor(&toko, 1).unwrap(), None);
    assert_eq!(store.order_cursor(&shop("lain"), 0).unwrap(), None);

    let mut batch = ImportBatch::new(&toko);
    batch.set_cursor(SyncCursor::Orders {
        source: 0,
        cursor: OrderCursor { synced_to: 43 },
    });
    batch.mark_run(RunMarker {
        started_at: at(0),
        pages: 2,
    });
    store.apply(batch).unwrap();
    assert_eq!(
        store.order_cursor(&toko, 0).unwrap(),
        Some(OrderCursor { synced_to: 43 })
    );
    assert_eq!(store.interrupted_run(&toko).unwrap().map(|r| r.pages), Some(2));

    store.put_sync_report(&toko, &report(RunKind::Sync, 0)).unwrap();
    assert_eq!(
        store.interrupted_run(&toko).unwrap(),
        None,
        "the report ends the run"
    );
    let mut batch = ImportBatch::new(&toko);
    batch.mark_run(RunMarker {
        started_at: at(9),
        pages: 0,
    });
    batch.end_run();
    store.apply(batch).unwrap();
    assert_eq!(
        store.interrupted_run(&toko).unwrap(),
        None,
        "operations apply in order"
    );
}

/// Events come back in the order appended; pruning removes `old` ones and the oldest
/// beyond `keep`, and never another shop's.
pub fn events_append_count_and_prune(store: &dyn ShopStore) {
    let (toko, other) = (shop("toko"), shop("toko-b"));
    assert!(!store.has_events(&toko).unwrap());
    let events: Vec<Event> = (0..10).map(|i| event(&format!("P-{i}"), i)).collect();
    store.append_events(&toko, &events[..4]).unwrap();
    for e in &events[4..] {
        store.append_event(&toko, e).unwrap();
    }
    store.append_events(&other, &events[..2]).unwrap();
    assert!(store.has_events(&toko).unwrap());
    assert_eq!(store.event_count(&toko).unwrap(), 10);
    assert_eq!(store.events(&toko).unwrap(), events);
    let mut each = Vec::new();
    store.for_each_event(&toko, &mut |e| each.push(e)).unwrap();
    assert_eq!(each, events, "one at a time, in the same order");

    // By predicate: the two earliest by time.
    let removed = store
        .prune_events(&toko, &|e| e.at.is_some_and(|t| t < at(2)), usize::MAX)
        .unwrap();
    assert_eq!(removed, 2);
    assert_eq!(store.events(&toko).unwrap(), events[2..]);
    // Down to `keep`, oldest first.
    assert_eq!(store.prune_events(&toko, &|_| false, 5).unwrap(), 3);
    assert_eq!(store.events(&toko).unwrap(), events[5..]);
    assert_eq!(store.prune_events(&toko, &|_| false, 5).unwrap(), 0);
    // Both at once: at most `keep` remain, none of them old.
    let removed = store
        .prune_events(
            &toko,
            &|e| e.item.as_ref().is_some_and(|i| i.as_str() == "P-9"),
            3,
        )
        .unwrap();
    assert_eq!(removed, 3);
    assert_eq!(store.events(&toko).unwrap(), events[7..9]);
    assert_eq!(
        store.event_count(&other).unwrap(),
        2,
        "another shop's events stay"
    );

    assert_eq!(store.remove_events(&toko).unwrap(), 2);
    assert!(!store.has_events(&toko).unwrap());
    assert_eq!(store.events(&other).unwrap(), events[..2]);
}

/// A follow-up message as the outreach run records it.
pub fn message(key: &str, customer: &str, secs: i64) -> Message {
    Message {
        key: key.into(),
        automation: "win_back".into(),
        kind: AutomationKind::WinBack,
        customer: CustomerId(customer.into()),
        name: Some("Sari".into()),
        phone: Some("6281234567".into()),
        period: "At risk since 2026-10-01".into(),
        reason: "moved into At risk".into(),
        why: None,
        language: "id".into(),
        text: "Halo Sari, kangen? Rp15.000 & gratis ongkir 🎁".into(),
        products: vec![MessageProduct {
            id: ProductId::parse("SRD-100").unwrap(),
            name: "Serundeng".into(),
            price: Rupiah(15_000),
            url: None,
        }],
        channel: Channel::Webhook,
        status: MessageStatus::Due,
        created_at: at(secs),
        tries: 0,
        next_try: Some(at(secs)),
        last_error: None,
        sent_at: None,
    }
}

/// Messages: recording is idempotent by key (a second recording of a key changes nothing,
/// whatever its status now), they list oldest first, an update replaces only an existing
/// one; opt-outs replace by customer and are removed once; shops see only their own; all of
/// it survives nothing more than the call (each write is durable when it returns).
pub fn messages_are_recorded_once_and_opt_outs_kept(store: &dyn ShopStore) {
    let toko = shop("toko");
    let other = shop("other");
    assert_eq!(store.messages(&toko).unwrap(), vec![]);
    let first = message("b-key", "c1", 10);
    let second = message("a-key", "c2", 20);
    assert_eq!(
        store
            .add_messages(&toko, &[first.clone(), second.clone(), first.clone()])
            .unwrap(),
        2
    );
    // Oldest first, whatever the keys' order.
    assert_eq!(
        store.messages(&toko).unwrap(),
        vec![first.clone(), second.clone()]
    );
    let mut sent = first.clone();
    sent.status = MessageStatus::Sent;
    sent.tries = 1;
    sent.sent_at = Some(at(11));
    assert!(store.update_message(&toko, &sent).unwrap());
    // Deciding the same message again adds nothing and keeps its status.
    assert_eq!(
        store.add_messages(&toko, std::slice::from_ref(&first)).unwrap(),
        0
    );
    assert_eq!(store.message(&toko, "b-key").unwrap(), Some(sent.clone()));
    assert!(!store.update_message(&toko, &message("nope", "c1", 1)).unwrap());
    assert_eq!(store.message(&toko, "nope").unwrap(), None);
    assert_eq!(store.messages(&other).unwrap(), vec![]);
    assert_eq!(
        store.add_messages(&other, std::slice::from_ref(&first)).unwrap(),
        1
    );
    assert_eq!(store.message(&other, "b-key").unwrap(), Some(first));
    assert_eq!(store.message(&toko, "b-key").unwrap(), Some(sent));

    let out = OptOut {
        customer: CustomerId("c1".into()),
        phone: None,
        at: at(5),
        note: String::new(),
    };
    store.put_opt_out(&toko, &out).unwrap();
    let again = OptOut {
        phone: Some("62811".into()),
        note: "by phone".into(),
        ..out.clone()
    };
    store.put_opt_out(&toko, &again).unwrap();
    assert_eq!(store.opt_outs(&toko).unwrap(), vec![again]);
    assert_eq!(store.opt_outs(&other).unwrap(), vec![]);
    assert!(store.remove_opt_out(&toko, &CustomerId("c1".into())).unwrap());
    assert!(!store.remove_opt_out(&toko, &CustomerId("c1".into())).unwrap());
    assert_eq!(store.opt_outs(&toko).unwrap(), vec![]);
    assert!(store.shops().unwrap().contains(&other));
}

/// Feedback ids increase; messages come newest first; a status change persists and an
/// unknown id is reported as such.
pub fn feedback_ids_increase_and_status_persists(store: &dyn ShopStore) {
    let toko = shop("toko");
    let mut ids = Vec::new();
    for text in ["pertama", "kedua", "ketiga"] {
        let mut f = feedback(text);
        let id = store.put_feedback(&toko, &mut f).unwrap();
        assert_eq!(f.id, id, "the id is set in the record");
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let all = store.feedback(&toko).unwrap();
    let messages: Vec<&str> = all.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(messages, ["ketiga", "kedua", "pertama"]);
    assert_eq!(all[2].id, ids[0]);
    assert_eq!(store.feedback_count(&toko).unwrap(), 3);

    assert!(store
        .set_feedback_status(&toko, ids[0], FeedbackStatus::Answered)
        .unwrap());
    assert!(!store
        .set_feedback_status(&toko, ids[2] + 1_000, FeedbackStatus::Read)
        .unwrap());
    assert!(!store
        .set_feedback_status(&shop("lain"), ids[1], FeedbackStatus::Read)
        .unwrap());
    let all = store.feedback(&toko).unwrap();
    assert_eq!(all[2].status, FeedbackStatus::Answered);
    assert_eq!(all[1].status, FeedbackStatus::New);
    assert_eq!(store.feedback_count(&shop("lain")).unwrap(), 0);
}

/// Reports come newest first, at most `limit`; only the newest `REPORTS_KEPT` are kept.
pub fn reports_come_newest_first_with_a_limit(store: &dyn ShopStore) {
    let toko = shop("toko");
    assert_eq!(store.last_sync_report(&toko).unwrap(), None);
    // Stored out of order: the start time orders them.
    let starts: Vec<i64> = (0..REPORTS_KEPT as i64 + 5).rev().collect();
    for &s in &starts {
        let kind = if s == 7 { RunKind::Sync } else { RunKind::Replay };
        store.put_sync_report(&toko, &report(kind, s)).unwrap();
    }
    let newest = store.sync_reports(&toko, 3).unwrap();
    let times: Vec<i64> = newest
        .iter()
        .map(|r| r.started_at.timestamp() - 1_700_000_000)
        .collect();
    let top = REPORTS_KEPT as i64 + 4;
    assert_eq!(times, [top, top - 1, top - 2]);
    assert_eq!(
        store.last_sync_report(&toko).unwrap().unwrap().started_at,
        at(top)
    );
    let all = store.sync_reports(&toko, usize::MAX).unwrap();
    assert_eq!(all.len(), REPORTS_KEPT, "the five oldest are dropped");
    assert_eq!(all.last().unwrap().started_at, at(5));
    assert!(all.iter().any(|r| r.kind == RunKind::Sync));
    assert!(store.sync_reports(&shop("lain"), 10).unwrap().is_empty());
}

/// The snapshot's bytes and generation come back as stored; a later one replaces it.
pub fn model_snapshot_round_trips_with_its_generation(store: &dyn ShopStore) {
    let toko = shop("toko");
    assert_eq!(store.model_snapshot(&toko).unwrap(), None);
    let first = Snapshot {
        generation: Some(7),
        bytes: vec![1, 0, 255, b'{'],
    };
    store.put_model_snapshot(&toko, &first).unwrap();
    assert_eq!(store.model_snapshot(&toko).unwrap(), Some(first));
    assert_eq!(store.model_generation(&toko).unwrap(), Some(7));
    let second = Snapshot {
        generation: None,
        bytes: b"later".to_vec(),
    };
    store.put_rebuild(&toko, &[], &second).unwrap();
    assert_eq!(store.model_snapshot(&toko).unwrap(), Some(second));
    assert_eq!(store.model_generation(&toko).unwrap(), None);
}

/// No data: nothing stale. A data change moves the generation on and marks the model
/// stale; a rebuild from the current generation clears it; one from an older generation
/// (data changed while it read) leaves it stale.
pub fn a_data_change_marks_the_model_stale_until_its_rebuild(store: &dyn ShopStore) {
    let toko = shop("toko");
    assert_eq!(store.data_generation(&toko).unwrap(), None);
    assert!(!store.model_stale(&toko).unwrap());

    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("A-1", 1000));
    store.apply(batch).unwrap();
    let first = store.data_generation(&toko).unwrap();
    assert!(first.is_some());
    assert!(store.model_stale(&toko).unwrap(), "data came in, no model yet");

    let snapshot = |generation| Snapshot {
        generation,
        bytes: b"model".to_vec(),
    };
    store.put_rebuild(&toko, &[], &snapshot(first)).unwrap();
    assert!(!store.model_stale(&toko).unwrap());

    // A batch that only quarantines or moves a cursor changes no data.
    let mut batch = ImportBatch::new(&toko);
    batch.quarantine(bad("page 2 #0"));
    batch.set_cursor(SyncCursor::Orders {
        source: 0,
        cursor: OrderCursor { synced_to: 1 },
    });
    store.apply(batch).unwrap();
    assert!(!store.model_stale(&toko).unwrap());

    let mut batch = ImportBatch::new(&toko);
    batch.upsert_order(order("INV/1", "A-1", 1));
    store.apply(batch).unwrap();
    let second = store.data_generation(&toko).unwrap();
    assert_ne!(second, first);
    assert!(store.model_stale(&toko).unwrap());
    store.put_rebuild(&toko, &[], &snapshot(first)).unwrap();
    assert!(
        store.model_stale(&toko).unwrap(),
        "built from data older than the store's"
    );
    store.put_model_snapshot(&toko, &snapshot(second)).unwrap();
    assert!(!store.model_stale(&toko).unwrap());
    assert!(!store.model_stale(&shop("lain")).unwrap());
}

/// What a copy of the store lists: every shop holding anything (a record, an event, a
/// feedback message, a setting, only a seeding mark), by id, another shop whose id extends
/// one's listed apart; a shop's cursors, products first, each kind by source number; its
/// marketplace-id map, by marketplace id, keeping an id its product no longer has, and
/// set by `MapMarketplaceId` without moving the data generation or the counts.
pub fn a_store_lists_its_shops_cursors_and_marketplace_ids(store: &dyn ShopStore) {
    assert!(store.shops().unwrap().is_empty());
    let toko = shop("toko");
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("A-1", 1000));
    batch.upsert_product(product("B-2", 2000));
    batch.set_cursor(SyncCursor::Orders {
        source: 12,
        cursor: OrderCursor { synced_to: 12 },
    });
    batch.set_cursor(SyncCursor::Orders {
        source: 2,
        cursor: OrderCursor { synced_to: 2 },
    });
    batch.set_cursor(SyncCursor::Products {
        source: 1,
        cursor: ProductCursor::default(),
    });
    store.apply(batch).unwrap();
    store.append_event(&shop("toko-b"), &event("P-1", 1)).unwrap();
    store.put_feedback(&shop("kedai"), &mut feedback("halo")).unwrap();
    store.set_seeding(&shop("warung"), Seeding::Started).unwrap();
    let mut change = crate::records::SettingsChange {
        id: 0,
        at: at(0),
        user: "admin".into(),
        section: "pins".into(),
        summary: "pinned".into(),
        old: "null".into(),
        new: "{}".into(),
    };
    store
        .put_settings_change(&shop("a-shop"), b"{}", &mut change)
        .unwrap();
    let shops: Vec<String> = store
        .shops()
        .unwrap()
        .into_iter()
        .map(|s| s.as_str().to_string())
        .collect();
    assert_eq!(shops, ["a-shop", "kedai", "toko", "toko-b", "warung"]);

    assert_eq!(
        store.cursors(&toko).unwrap(),
        [
            SyncCursor::Products {
                source: 1,
                cursor: ProductCursor::default()
            },
            SyncCursor::Orders {
                source: 2,
                cursor: OrderCursor { synced_to: 2 }
            },
            SyncCursor::Orders {
                source: 12,
                cursor: OrderCursor { synced_to: 12 }
            },
        ]
    );
    assert!(store.cursors(&shop("toko-b")).unwrap().is_empty());

    // B-2 takes A-1's marketplace id; its own old one still names it.
    let mut moved = product("B-2", 2000);
    moved.marketplace_id = Some("m-A-1".into());
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(moved);
    store.apply(batch).unwrap();
    let ids = |store: &dyn ShopStore| -> Vec<(String, String)> {
        store
            .marketplace_ids(&toko)
            .unwrap()
            .into_iter()
            .map(|(m, p)| (m, p.as_str().to_string()))
            .collect()
    };
    let pair = |m: &str, p: &str| (m.to_string(), p.to_string());
    assert_eq!(ids(store), [pair("m-A-1", "B-2"), pair("m-B-2", "B-2")]);
    let generation = store.data_generation(&toko).unwrap();
    let counts = store.counts(&toko).unwrap();
    let mut batch = ImportBatch::new(&toko);
    batch.map_marketplace_id("m-A-1".into(), ProductId::parse("A-1").unwrap());
    batch.map_marketplace_id("m-old".into(), ProductId::parse("A-1").unwrap());
    store.apply(batch).unwrap();
    assert_eq!(
        ids(store),
        [pair("m-A-1", "A-1"), pair("m-B-2", "B-2"), pair("m-old", "A-1")]
    );
    assert_eq!(
        store
            .product_for_marketplace_id(&toko, "m-old")
            .unwrap()
            .map(|p| p.as_str().to_string()),
        Some("A-1".into())
    );
    assert_eq!(store.data_generation(&toko).unwrap(), generation);
    assert_eq!(store.counts(&toko).unwrap(), counts);
    assert!(store.marketplace_ids(&shop("toko-b")).unwrap().is_empty());
}

/// Everything written and flushed is there after the store is closed and opened again.
pub fn reopen_after_flush_keeps_everything(backend: &dyn Backend) {
    let toko = shop("toko");
    let store = backend.open();
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("A-1", 1000));
    batch.upsert_order(order("INV/1", "A-1", 2));
    batch.quarantine(bad("page 1 #0"));
    batch.set_cursor(SyncCursor::Orders {
        source: 0,
        cursor: OrderCursor { synced_to: 42 },
    });
    batch.mark_run(RunMarker {
        started_at: at(0),
        pages: 1,
    });
    store.apply(batch).unwrap();
    let generation = store.data_generation(&toko).unwrap();
    let customers = [customer("777001", 36_000)];
    let snapshot = Snapshot {
        generation,
        bytes: b"model".to_vec(),
    };
    store.put_rebuild(&toko, &customers, &snapshot).unwrap();
    store.put_sync_report(&toko, &report(RunKind::Sync, 3)).unwrap();
    let mut f = feedback("kirim lebih cepat");
    let id = store.put_feedback(&toko, &mut f).unwrap();
    store
        .set_feedback_status(&toko, id, FeedbackStatus::Read)
        .unwrap();
    store
        .append_events(&toko, &[event("P-1", 1), event("P-2", 2)])
        .unwrap();
    store.set_seeding(&toko, Seeding::Done).unwrap();
    let fingerprint = store.fingerprint(&toko).unwrap();
    let counts = store.counts(&toko).unwrap();
    let name = store.backend_name();
    store.flush_blocking().unwrap();
    drop(store);

    let store = backend.open();
    // The name `/healthz` reports and `[store] backend` spells: one lowercase word, the
    // same for every store of the backend.
    assert!(
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase()),
        "backend name {name:?}"
    );
    assert_eq!(store.backend_name(), name);
    assert_eq!(store.products(&toko).unwrap(), [product("A-1", 1000)]);
    assert_eq!(
        store
            .product_for_marketplace_id(&toko, "m-A-1")
            .unwrap()
            .unwrap()
            .as_str(),
        "A-1"
    );
    assert_eq!(store.orders(&toko).unwrap(), [order("INV/1", "A-1", 2)]);
    assert_eq!(store.quarantined(&toko).unwrap(), [bad("page 1 #0")]);
    assert_eq!(
        store.order_cursor(&toko, 0).unwrap(),
        Some(OrderCursor { synced_to: 42 })
    );
    assert_eq!(store.interrupted_run(&toko).unwrap(), None);
    assert_eq!(store.customers(&toko).unwrap(), customers);
    assert_eq!(store.model_snapshot(&toko).unwrap(), Some(snapshot));
    assert_eq!(store.data_generation(&toko).unwrap(), generation);
    assert!(!store.model_stale(&toko).unwrap());
    assert_eq!(
        store.last_sync_report(&toko).unwrap(),
        Some(report(RunKind::Sync, 3))
    );
    let kept = store.feedback(&toko).unwrap();
    assert_eq!(
        (kept.len(), kept[0].id, kept[0].status),
        (1, id, FeedbackStatus::Read)
    );
    assert_eq!(store.events(&toko).unwrap(), [event("P-1", 1), event("P-2", 2)]);
    assert_eq!(store.seeding(&toko).unwrap(), Some(Seeding::Done));
    assert_eq!(store.fingerprint(&toko).unwrap(), fingerprint);
    assert_eq!(store.counts(&toko).unwrap(), counts);
    assert_eq!(counts, recount(&*store, &toko).unwrap());

    // Fresh ids after a reopen still come after the earlier ones.
    let mut later = feedback("lagi");
    assert!(store.put_feedback(&toko, &mut later).unwrap() > id);
    store.append_event(&toko, &event("P-3", 3)).unwrap();
    assert_eq!(store.events(&toko).unwrap().last(), Some(&event("P-3", 3)));
}

/// The sync lease: one holder at a time; renewed by its holder; given up by its holder
/// only; taken over once it expired (a holder that died never releases it); per shop.
pub fn a_sync_lease_has_one_holder_until_released_or_expired(store: &dyn ShopStore) {
    use std::time::Duration;
    let (toko, other) = (shop("toko"), shop("lain"));
    let long = Duration::from_secs(60);
    assert_eq!(store.sync_holder(&toko).unwrap(), None, "free at first");
    assert!(
        store.claim_sync(&toko, "replica-a", long).unwrap(),
        "a free lease is taken"
    );
    let (holder, until) = store.sync_holder(&toko).unwrap().expect("held");
    assert_eq!(holder, "replica-a");
    assert!(until > Utc::now() + chrono::Duration::seconds(50), "{until}");
    assert!(
        !store.claim_sync(&toko, "replica-b", long).unwrap(),
        "a second holder is refused"
    );
    assert!(
        store.claim_sync(&other, "replica-b", long).unwrap(),
        "another shop's lease is its own"
    );
    assert!(
        store.claim_sync(&toko, "replica-a", long).unwrap(),
        "its holder renews it"
    );

    store.release_sync(&toko, "replica-b").unwrap();
    assert_eq!(
        store.sync_holder(&toko).unwrap().map(|h| h.0).as_deref(),
        Some("replica-a"),
        "only its holder releases it"
    );
    store.release_sync(&toko, "replica-a").unwrap();
    assert_eq!(store.sync_holder(&toko).unwrap(), None, "released");
    assert!(
        store.claim_sync(&toko, "replica-b", long).unwrap(),
        "a released lease is taken"
    );
    store.release_sync(&toko, "replica-b").unwrap();

    // A holder that dies keeps its lease until it expires; then another takes it over.
    assert!(store
        .claim_sync(&toko, "dead-replica", Duration::from_millis(300))
        .unwrap());
    assert!(!store.claim_sync(&toko, "replica-b", long).unwrap(), "in force");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        store.sync_holder(&toko).unwrap(),
        None,
        "an expired lease has no holder"
    );
    assert!(
        store.claim_sync(&toko, "replica-b", long).unwrap(),
        "an expired lease is taken over"
    );
    assert_eq!(
        store.sync_holder(&toko).unwrap().map(|h| h.0).as_deref(),
        Some("replica-b")
    );
    assert_eq!(
        store.sync_holder(&other).unwrap().map(|h| h.0).as_deref(),
        Some("replica-b")
    );
}

/// The shared, expiring state (sessions, windowed counters, one-time tokens): what replicas
/// rely on to agree about sign-ins and form tokens.
pub fn shared_state_sessions_counters_and_tokens(store: &dyn ShopStore) {
    let state = store.shared_state();
    // Near the real clock (a backend may sweep what expired by it), in whole seconds.
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let mins = chrono::Duration::minutes;

    // Sessions: read back until they expire, removed one by one or per user.
    state
        .session_put("sesi-1", "admin", b"satu", now + mins(60))
        .unwrap();
    state
        .session_put("sesi-2", "admin", b"dua", now + mins(60))
        .unwrap();
    state
        .session_put("sesi-3", "toko-a", b"tiga", now + mins(1))
        .unwrap();
    assert_eq!(
        state.session_get("sesi-1", now).unwrap().as_deref(),
        Some(&b"satu"[..])
    );
    assert_eq!(
        state.session_get("sesi-3", now).unwrap().as_deref(),
        Some(&b"tiga"[..])
    );
    assert_eq!(
        state.session_get("sesi-3", now + mins(1)).unwrap(),
        None,
        "expired"
    );
    assert_eq!(state.session_get("tidak-ada", now).unwrap(), None);
    state.session_remove("sesi-1").unwrap();
    assert_eq!(state.session_get("sesi-1", now).unwrap(), None);
    state
        .session_put("sesi-4", "toko-a", b"empat", now + mins(60))
        .unwrap();
    assert_eq!(state.sessions_remove_for_user("admin").unwrap(), 1);
    assert_eq!(state.session_get("sesi-2", now).unwrap(), None);
    assert_eq!(
        state.session_get("sesi-4", now).unwrap().as_deref(),
        Some(&b"empat"[..])
    );

    // Counters: count within a window that starts at the first hit; start again after it.
    let window = mins(15);
    let hit = |key: &str, t| state.counter_hit(key, window, t).unwrap();
    assert_eq!(hit("signin:a", now).count, 1);
    assert_eq!(hit("signin:a", now + mins(5)).count, 2);
    let third = hit("signin:a", now + mins(14));
    assert_eq!((third.count, third.window_ends), (3, now + window));
    assert_eq!(hit("signin:b", now).count, 1);
    assert_eq!(
        state.counter_get("signin:a", now + mins(14)).unwrap(),
        Some(third)
    );
    assert_eq!(
        state.counter_get("signin:a", now + window).unwrap(),
        None,
        "window over"
    );
    let again = hit("signin:a", now + window);
    assert_eq!((again.count, again.window_ends), (1, now + window + window));
    hit("feedback:x", now);
    let listed: Vec<String> = state
        .counters("signin:", now + mins(1))
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(listed, ["signin:a", "signin:b"]);
    assert!(state
        .counters("signin:", now + window)
        .unwrap()
        .iter()
        .all(|(k, _)| k == "signin:a"));
    state.counter_remove("signin:a").unwrap();
    assert_eq!(state.counter_get("signin:a", now + window).unwrap(), None);
    assert_eq!(hit("signin:a", now + window).count, 1);

    // One-time tokens: spent once, refused while spent, free again after they expire.
    let until = now + mins(60);
    assert!(state.spend_token("form:1", until, now).unwrap());
    assert!(!state.spend_token("form:1", until, now + mins(1)).unwrap());
    assert!(state.spend_token("form:2", until, now).unwrap());
    assert!(state.spend_token("form:1", until + mins(60), until).unwrap());
    assert!(!state.spend_token("form:1", until + mins(60), until).unwrap());
}

/// Parallel hits on one counter and parallel spends of one token, as from several replicas:
/// no hit is lost and exactly one spend wins.
pub fn shared_state_changes_are_atomic(store: &dyn ShopStore) {
    let state = store.shared_state();
    let now = Utc::now();
    let spent = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..10 {
                    state
                        .counter_hit("atomic", chrono::Duration::minutes(5), now)
                        .unwrap();
                }
                if state
                    .spend_token("atomic-token", now + chrono::Duration::minutes(5), now)
                    .unwrap()
                {
                    spent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
    assert_eq!(
        state.counter_get("atomic", now).unwrap().map(|h| h.count),
        Some(40)
    );
    assert_eq!(spent.into_inner(), 1);
}

/// One test per check for a backend: `contract_tests!(MakeBackend)` where `MakeBackend()`
/// returns a fresh [`Backend`].
macro_rules! contract_tests {
    ($new:expr) => {
        mod contract_checks {
            #[allow(unused_imports)]
            use super::*;
            use $crate::store::contract::{self as c, Backend};

            /// The store comes first so that it is dropped before its backend.
            fn fresh() -> (Box<dyn $crate::store::ShopStore>, impl Backend) {
                let backend = $new();
                (backend.open(), backend)
            }

            #[test]
            fn record_kinds_round_trip() {
                c::record_kinds_round_trip(&*fresh().0);
            }

            #[test]
            fn upserts_count_and_skip_unchanged_records() {
                c::upserts_count_and_skip_unchanged_records(&*fresh().0);
            }

            #[test]
            fn a_failed_import_batch_writes_nothing() {
                c::a_failed_import_batch_writes_nothing(&*fresh().0);
            }

            #[test]
            fn cursors_and_run_marker_commit_with_their_page() {
                c::cursors_and_run_marker_commit_with_their_page(&*fresh().0);
            }

            #[test]
            fn events_append_count_and_prune() {
                c::events_append_count_and_prune(&*fresh().0);
            }

            #[test]
            fn messages_are_recorded_once_and_opt_outs_kept() {
                c::messages_are_recorded_once_and_opt_outs_kept(&*fresh().0);
            }

            #[test]
            fn feedback_ids_increase_and_status_persists() {
                c::feedback_ids_increase_and_status_persists(&*fresh().0);
            }

            #[test]
            fn reports_come_newest_first_with_a_limit() {
                c::reports_come_newest_first_with_a_limit(&*fresh().0);
            }

            #[test]
            fn model_snapshot_round_trips_with_its_generation() {
                c::model_snapshot_round_trips_with_its_generation(&*fresh().0);
            }

            #[test]
            fn a_data_change_marks_the_model_stale_until_its_rebuild() {
                c::a_data_change_marks_the_model_stale_until_its_rebuild(&*fresh().0);
            }

            #[test]
            fn a_written_record_clears_its_quarantined_entries() {
                c::a_written_record_clears_its_quarantined_entries(&*fresh().0);
            }

            #[test]
            fn counts_equal_a_recount_after_every_write() {
                c::counts_equal_a_recount_after_every_write(&*fresh().0);
            }

            #[test]
            fn a_store_lists_its_shops_cursors_and_marketplace_ids() {
                c::a_store_lists_its_shops_cursors_and_marketplace_ids(&*fresh().0);
            }

            #[test]
            fn a_copy_in_and_out_of_the_store_is_equal() {
                c::a_copy_in_and_out_of_the_store_is_equal(&*fresh().0);
            }

            #[test]
            fn a_sync_lease_has_one_holder_until_released_or_expired() {
                c::a_sync_lease_has_one_holder_until_released_or_expired(&*fresh().0);
            }

            #[test]
            fn shared_state_sessions_counters_and_tokens() {
                c::shared_state_sessions_counters_and_tokens(&*fresh().0);
            }

            #[test]
            fn shared_state_changes_are_atomic() {
                c::shared_state_changes_are_atomic(&*fresh().0);
            }

            #[test]
            fn reopen_after_flush_keeps_everything() {
                c::reopen_after_flush_keeps_everything(&$new());
            }
        }
    };
}
// For a backend's own test module; the sled checks below use the macro in place.
#[allow(unused_imports)]
pub(crate) use contract_tests;

/// The sled backend: a store in a temporary directory of its own.
pub struct SledBackend {
    dir: tempfile::TempDir,
}

impl Default for SledBackend {
    fn default() -> SledBackend {
        SledBackend {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }
}

impl Backend for SledBackend {
    fn open(&self) -> Box<dyn ShopStore> {
        let dir = self.dir.path();
        Box::new(crate::store::sled_backend::when_released(|| {
            crate::store::Store::open(dir)
        }))
    }
}

contract_tests!(SledBackend::default);
