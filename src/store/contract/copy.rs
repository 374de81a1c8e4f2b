//! The copy check of the contract: a shop holding every kind of record, copied from a
//! sled store into the backend under test and from there into another sled store, arrives
//! whole both ways — the fingerprints agree across backends, and the model is not stale.

use chrono::{DateTime, Utc};

use crate::domain::ShopId;
use crate::records::{
    Event, EventKind, Feedback, FeedbackStatus, OrderCursor, ProductCursor, QuarantineReason, Quarantined,
    RecordKind, RunKind, RunMarker, Seeding, SettingsChange, SyncCursor, SyncReport,
};
use crate::store::contract::{order, product};
use crate::store::copy::{content_fingerprint, copy_all, PAGE};
use crate::store::sled_backend::when_released;
use crate::store::{ImportBatch, ShopStore, Snapshot, Store};

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
}

/// A shop with something of every kind, more products, orders and events than a page.
pub fn fill(store: &dyn ShopStore, toko: &ShopId) {
    let n = PAGE + 7;
    let mut batch = ImportBatch::new(toko);
    for i in 0..n {
        batch.upsert_product(product(&format!("P-{i:04}"), 1000 + i as i64));
    }
    store.apply(batch).unwrap();
    let mut batch = ImportBatch::new(toko);
    for i in 0..n {
        let mut o = order(&format!("INV/{i:04}"), &format!("P-{i:04}"), 1);
        o.marketplace_id = Some(format!("mp-order-{i}"));
        batch.upsert_order(o);
    }
    batch.set_cursor(SyncCursor::Products {
        source: 2,
        cursor: ProductCursor {
            newest_update: Some(1_700_000_000),
            last_full_pass: Some(at(3)),
        },
    });
    batch.set_cursor(SyncCursor::Orders {
        source: 0,
        cursor: OrderCursor { synced_to: 42 },
    });
    batch.quarantine(Quarantined {
        at: at(0),
        kind: RecordKind::Order,
        origin: "page 3 #1".into(),
        reason: QuarantineReason::missing("invoice_ref_num"),
        record: "{}".into(),
        subject: Some("INV/0001".into()),
    });
    store.apply(batch).unwrap();
    // A marketplace id that moved to another product, and one the product lost.
    let mut moved = product("P-0001", 1001);
    moved.marketplace_id = Some("m-P-0000".into());
    let mut batch = ImportBatch::new(toko);
    batch.upsert_product(moved);
    store.apply(batch).unwrap();
    let snapshot = Snapshot {
        generation: store.data_generation(toko).unwrap(),
        bytes: b"model bytes".to_vec(),
    };
    let customer = crate::records::Customer::first_seen(crate::domain::CustomerId("777001".into()), at(0));
    store.put_rebuild(toko, &[customer], &snapshot).unwrap();
    store
        .put_sync_report(
            toko,
            &SyncReport {
                kind: RunKind::Sync,
                source: "marketplace_api".into(),
                started_at: at(5),
                finished_at: at(6),
                duration_ms: 1000,
                products: Default::default(),
                orders: Default::default(),
                quarantined: 1,
                errors: vec![],
                ok: true,
                pages: 2,
                warnings: vec!["a duplicate page".into()],
            },
        )
        .unwrap();
    let mut batch = ImportBatch::new(toko);
    batch.mark_run(RunMarker {
        started_at: at(9),
        pages: 1,
    });
    store.apply(batch).unwrap();
    store.set_seeding(toko, Seeding::Done).unwrap();
    store.put_credentials(toko, "tiktok-0a1b", &[7, 7, 0]).unwrap();
    for (i, text) in ["pertama", "kedua", "ketiga"].into_iter().enumerate() {
        let mut f = Feedback {
            id: 0,
            at: at(i as i64),
            message: text.into(),
            contact: Some("0812".into()),
            page: None,
            product: None,
            status: FeedbackStatus::New,
        };
        store.put_feedback(toko, &mut f).unwrap();
        if i == 1 {
            store
                .set_feedback_status(toko, f.id, FeedbackStatus::Answered)
                .unwrap();
        }
    }
    let mut sent = super::message("k-sent", "777001", 3);
    sent.status = crate::records::MessageStatus::Sent;
    store
        .add_messages(toko, &[super::message("k-due", "777001", 4), sent])
        .unwrap();
    store
        .put_opt_out(
            toko,
            &crate::records::OptOut {
                customer: crate::domain::CustomerId("777002".into()),
                phone: Some("628123".into()),
                at: at(7),
                note: "asked on WhatsApp".into(),
            },
        )
        .unwrap();
    let events: Vec<Event> = (0..n)
        .map(|i| Event {
            kind: EventKind::ALL[i % 4],
            slot: None,
            product: Some(crate::domain::ProductId::parse(&format!("P-{:04}", i % 10)).unwrap()),
            item: None,
            at: Some(at(i as i64)),
            customer: None,
            visitor: None,
            arm: None,
            order: None,
            total: None,
            items: Vec::new(),
        })
        .collect();
    store.append_events(toko, &events).unwrap();
    for (section, overlay) in [("pins", b"{\"a\":1}".as_slice()), ("offers", b"{\"b\":2}")] {
        let mut change = SettingsChange {
            id: 0,
            at: at(1),
            user: "admin".into(),
            section: section.into(),
            summary: format!("changed {section}"),
            old: "null".into(),
            new: "[]".into(),
        };
        store.put_settings_change(toko, overlay, &mut change).unwrap();
    }
}

/// A shop of every kind of record copied sled → the store → sled: equal at each step, the
/// model fresh in each copy, and the last copy's fingerprint the first store's.
pub fn a_copy_in_and_out_of_the_store_is_equal(store: &dyn ShopStore) {
    let toko = ShopId::parse("toko").unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = when_released(|| Store::open(a.path()));
    fill(&first, &toko);
    let into = copy_all(&first, store, &mut |_| {}).unwrap();
    assert!(into.equal(), "{}", into.shops[0].to_text());
    assert!(!store.model_stale(&toko).unwrap());
    let last = when_released(|| Store::open(b.path()));
    let back = copy_all(store, &last, &mut |_| {}).unwrap();
    assert!(back.equal(), "{}", back.shops[0].to_text());
    assert!(!last.model_stale(&toko).unwrap());
    assert_eq!(
        content_fingerprint(&first, &toko).unwrap(),
        content_fingerprint(&last, &toko).unwrap()
    );
}
