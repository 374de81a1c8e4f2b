//! Similar products at scale: the exact top 10 of the benchmark's synthetic catalogue
//! (`benches/support/catalogue.rs`, seed 42), timed run by run, with a fingerprint of the
//! whole answer so that two builds can be checked to give the same lists.
//!
//! ```text
//! cargo build --release --example similar_scale
//! target/release/examples/similar_scale 100000 5      # products, runs
//! ```
//!
//! Prints each run's wall and CPU time (all threads), their medians, and the fingerprint
//! (every neighbour's index, score bits, evidence and shared traits, hashed in order).
//! `RAYON_NUM_THREADS=1` gives the one-thread figure.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use laris::recommend::features::{build_features, FeatureWeights};
use laris::recommend::similar::{similar_top_n, Neighbour};
use laris::records::Product;

#[path = "../benches/support/catalogue.rs"]
mod catalogue;
use catalogue::synthetic_catalogue;

/// CPU time of this process so far, all threads (Linux; zero elsewhere).
fn cpu_time() -> Duration {
    let read = || -> Option<Duration> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(Duration::from_millis(ticks * 10)) // USER_HZ is 100 on Linux
    };
    read().unwrap_or_default()
}

/// A hash of every list with what each neighbour shares in words (the same hash whichever
/// way the shared traits are kept).
fn fingerprint(lists: &[Vec<Neighbour>], products: &[Product]) -> u64 {
    let mut h = DefaultHasher::new();
    for (p, list) in lists.iter().enumerate() {
        list.len().hash(&mut h);
        for nb in list {
            (nb.index, nb.score.to_bits(), nb.evidence).hash(&mut h);
            let t = &nb.traits;
            let text = t.text(&products[p], &products[nb.index as usize]);
            (
                t.same_category,
                &text.attributes,
                &text.words,
                t.price_ratio.to_bits(),
                &text.numbers,
            )
                .hash(&mut h);
        }
    }
    h.finish()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let count = args.first().copied().unwrap_or(100_000);
    let runs = args.get(1).copied().unwrap_or(5).max(1);
    let products = synthetic_catalogue(count, 42);
    let space = build_features(&products, &FeatureWeights::default());
    let (mut walls, mut cpus) = (Vec::new(), Vec::new());
    let mut print = None;
    for run in 1..=runs {
        let (start, cpu_start) = (Instant::now(), cpu_time());
        let lists = similar_top_n(&space, &products, 10);
        let (wall, cpu) = (start.elapsed(), cpu_time().saturating_sub(cpu_start));
        let f = fingerprint(&lists, &products);
        println!(
            "run {run}: similar_top_n n={count} top=10: {wall:.2?} wall, {cpu:.2?} cpu, fingerprint {f:016x}"
        );
        assert!(print.is_none_or(|p| p == f), "the answer changed between runs");
        print = Some(f);
        walls.push(wall);
        cpus.push(cpu);
    }
    println!(
        "median of {runs}: {:.2?} wall, {:.2?} cpu ({} threads)",
        median(walls),
        median(cpus),
        rayon::current_num_threads()
    );
}
