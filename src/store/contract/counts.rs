//! The counts check of the contract: [`ShopStore::counts`] equals a recount of the records
//! ([`recount`]) after every kind of write the trait has, and a write to one shop leaves
//! another's counts alone.

use crate::domain::OrderStatus;
use crate::records::{FeedbackStatus, OrderCursor, ProductStatus, RunKind, RunMarker, SyncCursor};
use crate::store::{recount, BatchOp, Counts, ImportBatch, ShopStore, Snapshot};

use super::{at, bad, customer, event, feedback, order, product, report, shop};

fn inactive(id: &str) -> crate::records::Product {
    crate::records::Product {
        status: ProductStatus::Inactive,
        ..product(id, 1000)
    }
}

fn cancelled(invoice: &str) -> crate::records::Order {
    crate::records::Order {
        status: OrderStatus(0),
        ..order(invoice, "A-1", 1)
    }
}

/// Counts equal a recount after imports (inserts, replays that change nothing,
/// replacements that change a status, a record written twice in one batch), quarantines,
/// a failed batch, cursors and reports, rebuilds that replace the customers, feedback, and
/// event appends, prunes and removals.
pub fn counts_equal_a_recount_after_every_write(store: &dyn ShopStore) {
    let (toko, other) = (shop("toko"), shop("toko-b"));
    let check = |after: &str| -> Counts {
        for s in [&toko, &other] {
            assert_eq!(
                store.counts(s).unwrap(),
                recount(store, s).unwrap(),
                "shop {s} after {after}"
            );
        }
        store.counts(&toko).unwrap()
    };
    assert_eq!(check("nothing"), Counts::default());

    let import = || {
        let mut batch = ImportBatch::new(&toko);
        batch.upsert_product(product("A-1", 1000));
        batch.upsert_product(inactive("B-2"));
        batch.upsert_product(product("C-3", 3000));
        batch.upsert_order(order("INV/1", "A-1", 1));
        batch.upsert_order(cancelled("INV/2"));
        batch.quarantine(bad("page 1 #0"));
        batch.quarantine(bad("page 1 #1"));
        batch
    };
    store.apply(import()).unwrap();
    let mut theirs = ImportBatch::new(&other);
    theirs.upsert_product(product("A-1", 1000));
    theirs.upsert_order(order("INV/1", "A-1", 1));
    store.apply(theirs).unwrap();
    let first = Counts {
        products: 3,
        active_products: 2,
        orders: 2,
        paid_orders: 1,
        quarantined: 2,
        ..Counts::default()
    };
    assert_eq!(check("an import"), first);

    store.apply(import()).unwrap();
    assert_eq!(check("the same import again"), first);

    // Replacements move the status counts both ways; a quarantined record kept again
    // counts once.
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(inactive("A-1"));
    batch.upsert_product(product("B-2", 1000));
    batch.upsert_order(cancelled("INV/1"));
    batch.upsert_order(order("INV/2", "A-1", 4));
    batch.quarantine(bad("page 1 #0"));
    batch.quarantine(bad("page 2 #0"));
    store.apply(batch).unwrap();
    let replaced = check("replacements");
    assert_eq!(
        (
            replaced.products,
            replaced.active_products,
            replaced.orders,
            replaced.paid_orders
        ),
        (3, 2, 2, 1)
    );
    assert_eq!(replaced.quarantined, 3);

    // A record written twice in one batch: the later write is what stays and counts, even
    // when it puts back what was stored before the batch.
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("D-4", 4000));
    batch.upsert_product(inactive("D-4"));
    batch.upsert_product(product("A-1", 1000));
    batch.upsert_product(inactive("A-1"));
    batch.upsert_order(order("INV/3", "A-1", 1));
    batch.upsert_order(cancelled("INV/3"));
    batch.quarantine(bad("page 3 #0"));
    batch.quarantine(bad("page 3 #0"));
    store.apply(batch).unwrap();
    let twice = check("records written twice in one batch");
    assert_eq!(
        (
            twice.products,
            twice.active_products,
            twice.orders,
            twice.paid_orders
        ),
        (4, 2, 3, 1)
    );
    assert_eq!(twice.quarantined, 4);
    let a1 = crate::domain::ProductId::parse("A-1").unwrap();
    assert_eq!(
        store.product(&toko, &a1).unwrap().unwrap().status,
        ProductStatus::Inactive,
        "the last write of a record in a batch wins"
    );

    // A failed batch moves nothing; cursors, markers and reports are not counted.
    let mut batch = ImportBatch::new(&toko);
    batch.upsert_product(product("E-5", 5000));
    batch.upsert_order(order("INV/9", "E-5", 1));
    batch.quarantine(bad("page 9 #0"));
    batch.push(BatchOp::FailForTest("the disk is full".into()));
    assert!(store.apply(batch).is_err());
    assert_eq!(check("a failed batch"), twice);
    let mut batch = ImportBatch::new(&toko);
    batch.set_cursor(SyncCursor::Orders {
        source: 0,
        cursor: OrderCursor { synced_to: 9 },
    });
    batch.mark_run(RunMarker {
        started_at: at(0),
        pages: 1,
    });
    store.apply(batch).unwrap();
    store.put_sync_report(&toko, &report(RunKind::Sync, 0)).unwrap();
    assert_eq!(check("a cursor, a run marker and a report"), twice);

    // A rebuild replaces the customers: fewer, more, and one listed twice counts once.
    let snapshot = Snapshot {
        generation: store.data_generation(&toko).unwrap(),
        bytes: b"model".to_vec(),
    };
    let customers = [
        customer("777001", 36_000),
        customer("777002", 18_000),
        customer("777003", 9_000),
    ];
    store.put_rebuild(&toko, &customers, &snapshot).unwrap();
    assert_eq!(check("a rebuild").customers, 3);
    store.put_rebuild(&toko, &customers[..1], &snapshot).unwrap();
    assert_eq!(check("a rebuild with fewer customers").customers, 1);
    let listed_twice = [customers[1].clone(), customers[1].clone()];
    store.put_rebuild(&toko, &listed_twice, &snapshot).unwrap();
    assert_eq!(check("a rebuild listing a customer twice").customers, 1);
    store.put_model_snapshot(&toko, &snapshot).unwrap();
    assert_eq!(check("a snapshot").customers, 1);

    // Feedback: each message counts; a status change does not.
    for text in ["pertama", "kedua"] {
        store.put_feedback(&toko, &mut feedback(text)).unwrap();
    }
    let id = store.put_feedback(&other, &mut feedback("lain")).unwrap();
    store
        .set_feedback_status(&other, id, FeedbackStatus::Answered)
        .unwrap();
    assert_eq!(check("feedback").feedback, 2);
    assert_eq!(store.feedback_count(&other).unwrap(), 1);

    // Events: appends, prunes by age and down to `keep`, removal of all.
    let events: Vec<_> = (0..10).map(|i| event(&format!("P-{i}"), i)).collect();
    store.append_events(&toko, &events[..6]).unwrap();
    for e in &events[6..] {
        store.append_event(&toko, e).unwrap();
    }
    store.append_events(&other, &events[..3]).unwrap();
    assert_eq!(check("event appends").events, 10);
    store
        .prune_events(&toko, &|e| e.at.is_some_and(|t| t < at(3)), usize::MAX)
        .unwrap();
    assert_eq!(check("a prune by age").events, 7);
    store.prune_events(&toko, &|_| false, 4).unwrap();
    assert_eq!(check("a prune down to keep").events, 4);
    store.remove_events(&toko).unwrap();
    assert_eq!(check("removing every event").events, 0);
    store.append_event(&toko, &events[0]).unwrap();
    assert_eq!(check("an append after the removal").events, 1);
    assert_eq!(store.event_count(&other).unwrap(), 3);

    // The per-kind readers agree with the counts.
    let c = store.counts(&toko).unwrap();
    assert_eq!(store.order_count(&toko).unwrap() as u64, c.orders);
    assert_eq!(store.customer_count(&toko).unwrap() as u64, c.customers);
    assert_eq!(store.quarantined_count(&toko).unwrap() as u64, c.quarantined);
    assert_eq!(store.feedback_count(&toko).unwrap() as u64, c.feedback);
    assert_eq!(store.event_count(&toko).unwrap() as u64, c.events);
}
