//! A sled store holding many widget events, to measure what reading or writing them costs:
//! `N` events (default 2,000,000) of 200,000 visitors for the shop `lengkuas`, nine in ten
//! in the experiment's treatment arm, one in fifty a purchase of Rp50.000, four a second
//! over the days before now, appended in batches of 5,000 as the event writer groups them.
//!
//! ```text
//! cargo build --release --example gen_event_store --bin laris
//! /usr/bin/time -v target/release/examples/gen_event_store /tmp/events/data 2000000
//! printf '[admin]\ntoken = "%s"\n[[shops]]\nid = "lengkuas"\n[shops.experiment]\nholdout_pct = 10\nname = "memtest"\n' \
//!     0123456789abcdef0123456789abcdef > /tmp/events/laris.toml
//! /usr/bin/time -v target/release/laris --config /tmp/events/laris.toml --data-dir /tmp/events/data \
//!     experiment report --shop lengkuas
//! ```
//!
//! docs/performance.md ("The experiment report over millions of events") has the figures.

use laris::domain::{Rupiah, ShopId};
use laris::records::{Event, EventKind};
use laris::store::ShopStore;

const VISITORS: usize = 200_000;
const BATCH: usize = 5_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: gen_event_store DIR [EVENTS]: DIR is a new data directory");
        std::process::exit(2);
    };
    let n: usize = match args.next().map(|a| a.parse()) {
        None => 2_000_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("EVENTS: give a whole number, e.g. 2000000");
            std::process::exit(2);
        }
    };
    let store = laris::store::Store::open(std::path::Path::new(&dir)).unwrap_or_else(|e| {
        eprintln!("{dir}: {e}");
        std::process::exit(1);
    });
    let shop = ShopId::parse("lengkuas").expect("a valid shop id");
    let start = chrono::Utc::now() - chrono::Duration::seconds((n / 4) as i64);
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..n {
        let visitor = i % VISITORS;
        let purchase = i.is_multiple_of(50);
        batch.push(Event {
            kind: if purchase {
                EventKind::Purchase
            } else {
                EventKind::Impression
            },
            slot: None,
            product: None,
            item: None,
            at: Some(start + chrono::Duration::seconds((i / 4) as i64)),
            customer: None,
            visitor: Some(format!("v{visitor:08}")),
            arm: Some(
                if visitor.is_multiple_of(10) {
                    "control"
                } else {
                    "treatment"
                }
                .into(),
            ),
            order: purchase.then(|| format!("O{i}")),
            total: purchase.then_some(Rupiah(50_000)),
            items: Vec::new(),
        });
        if batch.len() == BATCH || i + 1 == n {
            store.append_events(&shop, &batch).expect("the events are stored");
            batch.clear();
        }
    }
    store.flush_blocking().expect("the store is flushed");
    println!(
        "{} events in {dir}",
        store.event_count(&shop).expect("the count reads")
    );
}
