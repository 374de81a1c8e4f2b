//! What durable acknowledgements cost: event batches appended by concurrent writers, each
//! acknowledged after `Store::durable` (the group commit), against the same appends left to
//! sled's background flush (what the service did before: fast, and lost on a kill).
//!
//! `cargo run --release --example ack_durability` — prints batches per second for 1, 16 and
//! 64 concurrent writers, five rounds each, medians.

use std::sync::Arc;
use std::time::{Duration, Instant};

use laris::domain::ShopId;
use laris::store::{ShopStore, Store};

const BATCH: usize = 10;
const ROUND: Duration = Duration::from_secs(2);

async fn round(store: &Store, writers: usize, durable: bool) -> f64 {
    let shop = ShopId::parse("bench").unwrap();
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let end = Instant::now() + ROUND;
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let (store, shop, done) = (store.clone(), shop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let event = laris::records::Event {
                kind: laris::records::EventKind::Impression,
                slot: Some(laris::domain::Slot::Similar),
                product: Some(laris::domain::ProductId::parse("SRD-100").unwrap()),
                item: None,
                at: None,
                customer: None,
                visitor: None,
                arm: None,
                order: None,
                total: None,
                items: Vec::new(),
            };
            let events = vec![event; BATCH];
            while Instant::now() < end {
                store.append_events(&shop, &events).unwrap();
                if durable {
                    store.durable().await.unwrap();
                }
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.load(std::sync::atomic::Ordering::Relaxed) as f64 / ROUND.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    println!("writers  no-flush batches/s  durable batches/s  ratio");
    for writers in [1, 16, 64] {
        let (mut fast, mut safe) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            fast.push(round(&store, writers, false).await);
            safe.push(round(&store, writers, true).await);
        }
        let (f, s) = (median(fast), median(safe));
        println!("{writers:>7}  {f:>19.0}  {s:>17.0}  {:.3}", s / f);
    }
}
