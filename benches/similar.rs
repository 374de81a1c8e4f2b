//! Benchmarks for similar products: feature vectors and the exact top-10 of a 100,000-product
//! synthetic catalogue (≈300 categories under 20 parents, 5 attributes with a few values each,
//! names of 3–5 words from a 2,000-word vocabulary drawn Zipf-like, log-normal prices), and the
//! pruned search against brute force on 5,000 products for the ratio.
//!
//! Needs `[[bench]] name = "similar"` with `harness = false` in Cargo.toml; run with
//! `cargo bench --bench similar`. The catalogue is the one of the module's timing test
//! (`cargo test --release --lib recommend::similar -- --ignored --nocapture`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use laris::recommend::features::{build_features, FeatureWeights};
use laris::recommend::similar::{similar_top_n, similar_top_n_naive};

#[path = "support/catalogue.rs"]
mod catalogue;
use catalogue::synthetic_catalogue;

fn bench_similar(c: &mut Criterion) {
    let weights = FeatureWeights::default();
    let large = synthetic_catalogue(100_000, 42);
    let large_space = build_features(&large, &weights);
    let small = synthetic_catalogue(5_000, 7);
    let small_space = build_features(&small, &weights);

    let mut group = c.benchmark_group("similar");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("build_features n=100000", |b| {
        b.iter(|| build_features(black_box(&large), black_box(&weights)))
    });
    group.bench_function("similar_top_n n=100000 top=10", |b| {
        b.iter(|| similar_top_n(black_box(&large_space), black_box(&large), 10))
    });
    group.bench_function("similar_top_n n=5000 top=10", |b| {
        b.iter(|| similar_top_n(black_box(&small_space), black_box(&small), 10))
    });
    group.bench_function("similar_top_n_naive n=5000 top=10", |b| {
        b.iter(|| similar_top_n_naive(black_box(&small_space), black_box(&small), 10))
    });
    group.finish();
}

criterion_group!(benches, bench_similar);
criterion_main!(benches);
