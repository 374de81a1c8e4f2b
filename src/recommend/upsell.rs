//! Premium upgrades (seed 000's up-selling): among products of the same line, the pricier
//! ones or a bigger pack of the same thing, nearest upgrade first.
//!
//! "Same line" means the same category leaf and the same first word of the name without
//! sizes and grades (Indonesian product names lead with the head noun: *Tepung* Lengkuas,
//! *Kopi* Arabika), so that bumbu rendang is not sold as an upgrade of tepung although both
//! are spices. A bigger pack of the same thing (same unit, larger amount, and the names
//! share most words) is always an upgrade. Any other product of the line is one only when
//! it costs at least `min_price_ratio` times as much: a flavour variant that costs Rp1.000
//! more is a sidegrade, not an upgrade.

use std::collections::{BinaryHeap, HashMap};

use serde::{Deserialize, Serialize};

use crate::records::Product;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeKind {
    /// The same thing in a bigger pack.
    BiggerPack,
    /// A pricier product of the same line.
    Pricier,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upgrade {
    pub index: u32,
    pub kind: UpgradeKind,
    pub price_ratio: f64,
    /// Pack amount ratio for a bigger pack.
    pub pack_ratio: Option<f64>,
    /// Higher is a better upgrade: bigger packs first, then the smallest step up in price.
    pub score: f32,
}

const SIZE_WORDS: &[&str] = &[
    "premium", "g", "gr", "gram", "kg", "ml", "l", "pack", "pcs", "isi",
];

/// The words that name the thing, without sizes and grades.
fn base_words(name: &str) -> Vec<String> {
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !SIZE_WORDS.contains(w))
        .map(str::to_string)
        .collect()
}

/// Whether two products' base words name the same thing (most words shared).
fn same_thing(wa: &[String], wb: &[String]) -> bool {
    if wa.is_empty() || wb.is_empty() {
        return false;
    }
    let shared = wa.iter().filter(|w| wb.contains(w)).count();
    shared * 2 > wa.len().max(wb.len()) || wa == wb
}

/// The line a product belongs to: category leaf and head word of its name.
fn line_key<'a>(p: &'a Product, words: &[String]) -> Option<(&'a str, String)> {
    Some((p.category.last()?.as_str(), words.first()?.clone()))
}

/// An upgrade ordered by rank: the better upgrade is the smaller, so a max-heap of them has
/// the worst kept upgrade on top.
struct Ranked(Upgrade);

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .0
            .score
            .total_cmp(&self.0.score)
            .then(self.0.index.cmp(&other.0.index))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Ranked {}

/// Upgrades for every product, best first, at most `n` each. Products are grouped by line
/// first; within a line they are walked from the cheapest pricier one up, keeping the best
/// `n` in a bounded heap and stopping once no pricier product can beat the worst kept (an
/// upgrade's score only falls as its price rises). So memory is `n` per product however
/// big a line is (one line of 14,000 `Produk …` once took 4 GB), and the work is about `n`
/// steps per product unless the line has packs to compare.
pub fn upgrades(products: &[Product], min_price_ratio: f64, n: usize) -> Vec<Vec<Upgrade>> {
    let words: Vec<Vec<String>> = products.iter().map(|p| base_words(&p.name)).collect();
    let mut lines: HashMap<(&str, String), Vec<usize>> = HashMap::new();
    for (i, p) in products.iter().enumerate() {
        if let Some(key) = line_key(p, &words[i]) {
            lines.entry(key).or_default().push(i);
        }
    }
    let mut out: Vec<Vec<Upgrade>> = vec![Vec::new(); products.len()];
    if n == 0 {
        return out;
    }
    for mut members in lines.into_values() {
        // Cheapest first; `packs_from[k]`: some member at position k or later has a pack
        // size, so a bigger pack (scored above any merely pricier product) may still come.
        members.sort_by_key(|&i| (products[i].price.0, i));
        let mut packs_from = vec![false; members.len() + 1];
        for k in (0..members.len()).rev() {
            packs_from[k] = packs_from[k + 1] || products[members[k]].pack.is_some();
        }
        let mut heap: BinaryHeap<Ranked> = BinaryHeap::with_capacity(n + 1);
        for &i in &members {
            let p = &products[i];
            if p.price.0 <= 0 {
                continue;
            }
            let first = members.partition_point(|&j| products[j].price.0 <= p.price.0);
            for (k, &j) in members.iter().enumerate().skip(first) {
                let q = &products[j];
                if heap.len() == n {
                    let price_ratio = q.price.0 as f64 / p.price.0 as f64;
                    let best_possible = if p.pack.is_some() && packs_from[k] {
                        (1.0 + 1.0 / price_ratio) as f32
                    } else {
                        (1.0 / price_ratio) as f32
                    };
                    let worst_kept = heap.peek().map_or(f32::NEG_INFINITY, |w| w.0.score);
                    if best_possible < worst_kept {
                        break;
                    }
                }
                if q.id == p.id {
                    continue;
                }
                if let Some(up) = upgrade(p, q, (&words[i], &words[j]), j, min_price_ratio) {
                    heap.push(Ranked(up));
                    if heap.len() > n {
                        heap.pop();
                    }
                }
            }
            let mut ups = Vec::with_capacity(heap.len());
            ups.extend(heap.drain().map(|r| r.0));
            ups.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
            out[i] = ups;
        }
    }
    out
}

fn upgrade(
    p: &Product,
    q: &Product,
    (p_words, q_words): (&[String], &[String]),
    j: usize,
    min_price_ratio: f64,
) -> Option<Upgrade> {
    let price_ratio = q.price.0 as f64 / p.price.0 as f64;
    let pack_ratio = match (p.pack, q.pack) {
        (Some(a), Some(b)) if a.unit == b.unit && b.amount > a.amount => {
            Some(f64::from(b.amount) / f64::from(a.amount))
        }
        _ => None,
    };
    if pack_ratio.is_some() && same_thing(p_words, q_words) {
        Some(Upgrade {
            index: j as u32,
            kind: UpgradeKind::BiggerPack,
            price_ratio,
            pack_ratio,
            score: (1.0 + 1.0 / price_ratio) as f32,
        })
    } else if price_ratio >= min_price_ratio {
        Some(Upgrade {
            index: j as u32,
            kind: UpgradeKind::Pricier,
            price_ratio,
            pack_ratio,
            score: (1.0 / price_ratio) as f32,
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PackSize, ProductId, Rupiah};
    use crate::records::ProductStatus;

    fn p(id: &str, name: &str, price: i64, cat: &str) -> Product {
        Product {
            id: ProductId::parse(id).unwrap(),
            marketplace_id: None,
            name: name.into(),
            sku: None,
            price: Rupiah(price),
            stock: None,
            status: ProductStatus::Active,
            category: vec!["Makanan".into(), cat.into()],
            weight_grams: None,
            pack: PackSize::find_in(name),
            attributes: Default::default(),
            description: String::new(),
            image: None,
            url: None,
            sold_count: None,
            updated_at: chrono::DateTime::from_timestamp(0, 0).unwrap(),
        }
    }

    #[test]
    fn the_bigger_pack_of_the_same_thing_comes_before_a_slightly_pricier_variant() {
        let products = vec![
            p("SRD-100", "Serundeng Lengkuas 100 g", 20000, "Lauk Kering"),
            p(
                "SRD-PDS-100",
                "Serundeng Lengkuas Pedas 100 g",
                21000,
                "Lauk Kering",
            ),
            p(
                "SRD-250P",
                "Serundeng Lengkuas Premium 250 g",
                45000,
                "Lauk Kering",
            ),
            p("TPG-250P", "Tepung Lengkuas Premium 250 g", 32000, "Bumbu"),
        ];
        let ups = upgrades(&products, 1.15, 5);
        let ids: Vec<&str> = ups[0]
            .iter()
            .map(|u| products[u.index as usize].id.as_str())
            .collect();
        assert_eq!(
            ids,
            vec!["SRD-250P"],
            "the pedas variant is a sidegrade; tepung is another line"
        );
        assert_eq!(ups[0][0].kind, UpgradeKind::BiggerPack);
        assert_eq!(ups[0][0].pack_ratio, Some(2.5));
        assert!(ups[2].is_empty(), "nothing above the premium pack");
    }

    #[test]
    fn a_clearly_pricier_product_of_the_line_is_an_upgrade_nearest_first() {
        let products = vec![
            p("A", "Kopi Robusta 200 g", 30000, "Kopi"),
            p("B", "Kopi Arabika Gayo 200 g", 60000, "Kopi"),
            p("C", "Kopi Luwak 200 g", 200000, "Kopi"),
        ];
        let ups = upgrades(&products, 1.15, 5);
        let ids: Vec<&str> = ups[0]
            .iter()
            .map(|u| products[u.index as usize].id.as_str())
            .collect();
        assert_eq!(ids, vec!["B", "C"]);
    }

    /// Every upgrade of every product, sorted and cut to `n`: the definition `upgrades`
    /// must agree with.
    fn upgrades_by_brute_force(products: &[Product], min_price_ratio: f64, n: usize) -> Vec<Vec<Upgrade>> {
        let words: Vec<Vec<String>> = products.iter().map(|p| base_words(&p.name)).collect();
        (0..products.len())
            .map(|i| {
                let p = &products[i];
                let Some(line) = line_key(p, &words[i]) else {
                    return Vec::new();
                };
                let mut ups: Vec<Upgrade> = (0..products.len())
                    .filter(|&j| line_key(&products[j], &words[j]) == Some(line.clone()))
                    .filter(|&j| products[j].id != p.id && p.price.0 > 0 && products[j].price.0 > p.price.0)
                    .filter_map(|j| upgrade(p, &products[j], (&words[i], &words[j]), j, min_price_ratio))
                    .collect();
                ups.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
                ups.truncate(n);
                ups
            })
            .collect()
    }

    #[test]
    fn the_bounded_walk_keeps_exactly_the_best_upgrades_of_every_product() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        let heads = ["Kopi", "Teh", "Produk", "Gula"];
        let kinds = ["Arabika", "Robusta", "Melati", "Aren", "Hijau", ""];
        let products: Vec<Product> = (0..600)
            .map(|i| {
                let head = heads[rng.gen_range(0..heads.len())];
                let kind = kinds[rng.gen_range(0..kinds.len())];
                let size = match rng.gen_range(0..3) {
                    0 => String::new(),
                    1 => format!(" {} g", [100, 250, 500, 1000][rng.gen_range(0..4)]),
                    _ => format!(" {} ml", [250, 500, 1000][rng.gen_range(0..3)]),
                };
                // Few price levels, so that equal prices and equal scores are common.
                let price = 1000 * rng.gen_range(0..40);
                let cat = ["Minuman", "Bahan Pokok"][rng.gen_range(0..2)];
                p(
                    &format!("P{i:04}"),
                    &format!("{head} {kind} {i}{size}"),
                    price,
                    cat,
                )
            })
            .collect();
        for (ratio, n) in [(1.15, 5), (1.0, 20), (1.5, 1), (1.15, 200)] {
            assert_eq!(
                upgrades(&products, ratio, n),
                upgrades_by_brute_force(&products, ratio, n),
                "min ratio {ratio}, n {n}"
            );
        }
        assert!(upgrades(&products, 1.15, 0).iter().all(Vec::is_empty));
    }

    #[test]
    fn a_line_of_thousands_keeps_n_upgrades_a_product_and_no_spare_capacity() {
        let products: Vec<Product> = (0..3000)
            .map(|i| {
                p(
                    &format!("P{i:05}"),
                    &format!("Produk {i}"),
                    5000 + 500 * (i % 291),
                    "Bahan Pokok",
                )
            })
            .collect();
        let ups = upgrades(&products, 1.15, 20);
        assert_eq!(ups, upgrades_by_brute_force(&products, 1.15, 20));
        assert!(ups.iter().all(|u| u.len() <= 20 && u.capacity() == u.len()));
        assert_eq!(ups[0].len(), 20, "the cheapest product has plenty of upgrades");
    }

    #[test]
    fn another_product_of_the_same_category_is_not_an_upgrade() {
        let products = vec![
            p("TPG-100", "Tepung Lengkuas 100 g", 15000, "Bumbu & Rempah"),
            p(
                "BMB-RDG-100",
                "Bumbu Rendang Lengkuas 100 g",
                19000,
                "Bumbu & Rempah",
            ),
        ];
        assert!(upgrades(&products, 1.15, 5)[0].is_empty());
    }
}
