//! FP-Growth on the Groceries benchmark (9,835 baskets, 169 items) at min support 0.001 and
//! min confidence 0.1: 13,492 frequent itemsets and 32,783 rules, as R arules finds. The
//! README of the shared data quotes about 0.03 s for arules / pyfim and 1 s for mlxtend's
//! fpgrowth for mining plus rule generation on a 2-core machine.
//!
//! Run with `cargo bench --bench fpgrowth` (needs the `[[bench]] name = "fpgrowth",
//! harness = false` stanza in Cargo.toml).

use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use laris::recommend::fpgrowth::{association_rules, frequent_itemsets, mine_rules, Item, MiningThresholds};

/// The fixture baskets as item indices (labels split on a plain ',', kept exactly).
fn groceries() -> Vec<Vec<Item>> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/groceries/groceries_baskets.csv");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut index: HashMap<&str, Item> = HashMap::new();
    text.lines()
        .map(|line| {
            line.split(',')
                .filter(|label| !label.is_empty())
                .map(|label| {
                    let next = index.len() as Item;
                    *index.entry(label).or_insert(next)
                })
                .collect()
        })
        .collect()
}

fn groceries_at_support_0_001(c: &mut Criterion) {
    let baskets = groceries();
    let t = MiningThresholds {
        min_support: 0.001,
        min_confidence: 0.1,
        min_lift: 0.0,
        max_len: 10,
    };
    let (itemsets, rules) = mine_rules(&baskets, &t);
    assert_eq!(
        (itemsets.len(), rules.len()),
        (13_492, 32_783),
        "Groceries at 0.001 no longer matches arules"
    );

    c.bench_function("groceries_0.001/frequent_itemsets", |b| {
        b.iter(|| frequent_itemsets(black_box(&baskets), t.min_support, t.max_len))
    });
    c.bench_function("groceries_0.001/association_rules", |b| {
        b.iter(|| association_rules(black_box(&itemsets), baskets.len(), &t))
    });
    c.bench_function("groceries_0.001/mine_rules", |b| {
        b.iter(|| mine_rules(black_box(&baskets), &t))
    });
}

criterion_group!(benches, groceries_at_support_0_001);
criterion_main!(benches);
