//! Benchmarks for exact 1-D k-means: 100,000 log-normal-ish prices, k = 20 (price bands for a
//! large catalogue), plus the O(n log n) silhouette of that clustering.
//!
//! Needs `[[bench]] name = "kmeans"` with `harness = false` in Cargo.toml; run with
//! `cargo bench --bench kmeans`.

use criterion::{criterion_group, criterion_main, Criterion};
use laris::recommend::kmeans::{best_k_by_silhouette, kmeans_1d, silhouette_1d};
use std::hint::black_box;
use std::time::Duration;

/// Log-normal-ish prices (median about 250,000 IDR, whole rupiah) from a deterministic LCG:
/// the same generator as the module's timing test.
fn lognormal_prices(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    let mut unit = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            // Irwin–Hall: the sum of 12 uniforms minus 6 is close to a standard normal.
            let z: f64 = (0..12).map(|_| unit()).sum::<f64>() - 6.0;
            (250_000f64.ln() + 1.1 * z).exp().round()
        })
        .collect()
}

fn bench_kmeans(c: &mut Criterion) {
    let prices = lognormal_prices(100_000, 42);
    let clustering = kmeans_1d(&prices, 20).expect("finite, non-empty prices");

    let mut group = c.benchmark_group("kmeans_1d");
    group.sample_size(20);
    group.bench_function("n=100000 k=20", |b| {
        b.iter(|| kmeans_1d(black_box(&prices), black_box(20)))
    });
    group.bench_function("silhouette n=100000 k=20", |b| {
        b.iter(|| silhouette_1d(black_box(&prices), black_box(&clustering)))
    });
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("best_k_by_silhouette n=100000 k=2..=20", |b| {
        b.iter(|| best_k_by_silhouette(black_box(&prices), 2..=20))
    });
    group.finish();
}

criterion_group!(benches, bench_kmeans);
criterion_main!(benches);
