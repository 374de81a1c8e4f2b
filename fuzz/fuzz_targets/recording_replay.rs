//! A recording (FEEDS.md §5) replayed into a store: the input up to its first NUL byte is
//! `index.jsonl`, the rest is the body of every exchange that names `0001.json`,
//! `0001.csv`, `0001.xlsx` or `0001.html`. The store lives in a temporary directory for the
//! whole run, each input replayed into a shop of its own; every quarantined record must
//! carry its reason.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use laris::domain::ShopId;
use laris::store::Store;
use libfuzzer_sys::fuzz_target;

struct Env {
    dir: tempfile::TempDir,
    store: Store,
    inputs: AtomicU64,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        Env {
            dir,
            store,
            inputs: AtomicU64::new(0),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let env = env();
    let (index, body) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let rec = env.dir.path().join("recording");
    let _ = std::fs::remove_dir_all(&rec);
    std::fs::create_dir_all(&rec).unwrap();
    std::fs::write(rec.join("index.jsonl"), index).unwrap();
    for name in ["0001.json", "0001.csv", "0001.xlsx", "0001.html"] {
        std::fs::write(rec.join(name), body).unwrap();
    }
    let shop = ShopId::parse(&format!("f{}", env.inputs.fetch_add(1, Ordering::Relaxed))).unwrap();
    match laris::sync::replay::replay(&env.store, &shop, &rec) {
        Ok(report) => {
            // The same record from the same place is kept once: at most the report's count.
            let kept = env.store.quarantined(&shop).unwrap();
            assert!(kept.len() as u64 <= report.quarantined);
            assert_eq!(
                kept.is_empty(),
                report.quarantined == 0,
                "refused records are quarantined"
            );
            assert!(kept.iter().all(|q| !q.reason.trim().is_empty()), "{kept:?}");
            assert!(report.errors.iter().all(|e| !e.trim().is_empty()));
        }
        Err(e) => assert!(!e.to_string().trim().is_empty()),
    }
});
