//! The synthetic catalogue of the similar-products benchmark (`benches/similar.rs`) and of
//! `examples/similar_scale.rs`: ≈300 categories under 20 parents, 5 attributes with a few
//! values each, names of 3–5 words from a 2,000-word vocabulary drawn Zipf-like, log-normal
//! prices, mostly gram packs. Included by both with `#[path]`, so they time the same products.

use chrono::{DateTime, Utc};
use laris::domain::{PackSize, PackUnit, ProductId, Rupiah};
use laris::records::{Product, ProductStatus};

/// Knuth's MMIX LCG: deterministic, so every run sees the same catalogue.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// About standard normal (Irwin–Hall).
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }
}

/// Letters only, so that the name block reads every one as a word.
fn word(i: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ba", "ci", "du", "fe", "go", "ha", "ji", "ku", "le", "mo", "na", "pi", "ru", "sa", "te", "wu",
    ];
    (0..3).map(|k| SYLLABLES[(i >> (4 * k)) & 15]).collect()
}

/// `count` products of the benchmark's shape; the same `seed`, the same catalogue.
pub fn synthetic_catalogue(count: usize, seed: u64) -> Vec<Product> {
    const PARENTS: usize = 20;
    const LEAVES: usize = 300;
    const VOCABULARY: usize = 2000;
    const ATTRIBUTES: [(&str, usize); 5] = [
        ("bentuk", 6),
        ("rasa", 5),
        ("warna", 8),
        ("ukuran", 4),
        ("asal", 6),
    ];
    let mut rng = Lcg(seed);
    let mut cumulative = Vec::with_capacity(VOCABULARY);
    let mut total = 0.0;
    for r in 0..VOCABULARY {
        total += 1.0 / (r as f64 + 1.0);
        cumulative.push(total);
    }
    let grams = [50, 80, 100, 150, 200, 250, 500, 1000];
    (0..count)
        .map(|i| {
            let leaf = rng.below(LEAVES);
            let category = vec![
                format!("Induk {:02}", leaf % PARENTS),
                format!("Kategori {leaf:03}"),
            ];
            let words = 3 + rng.below(3);
            let mut name: Vec<String> = (0..words)
                .map(|_| {
                    let u = rng.unit() * total;
                    word(cumulative.partition_point(|&c| c < u).min(VOCABULARY - 1))
                })
                .collect();
            let pack = match rng.below(20) {
                0..=13 => Some(PackSize {
                    amount: grams[rng.below(grams.len())],
                    unit: PackUnit::Gram,
                }),
                14..=16 => Some(PackSize {
                    amount: [100, 250, 600, 1000][rng.below(4)],
                    unit: PackUnit::Millilitre,
                }),
                _ => None,
            };
            if let Some(pack) = pack {
                name.push(match pack.unit {
                    PackUnit::Millilitre => format!("{} ml", pack.amount),
                    _ => format!("{} g", pack.amount),
                });
            }
            let price = ((50_000f64.ln() + 0.8 * rng.normal()).exp() / 500.0).round() as i64 * 500 + 500;
            let mut attributes = std::collections::BTreeMap::new();
            for (key, values) in ATTRIBUTES {
                if rng.chance(0.7) {
                    attributes.insert(key.to_string(), format!("nilai{}", word(rng.below(values))));
                }
            }
            Product {
                id: ProductId::parse(&format!("SYN-{i}")).expect("a valid id"),
                marketplace_id: None,
                name: name.join(" "),
                sku: None,
                price: Rupiah(price),
                stock: None,
                status: ProductStatus::Active,
                category,
                weight_grams: None,
                pack,
                attributes,
                description: String::new(),
                image: None,
                url: None,
                sold_count: None,
                updated_at: DateTime::<Utc>::UNIX_EPOCH,
            }
        })
        .collect()
}
