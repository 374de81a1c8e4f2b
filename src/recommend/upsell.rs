//! Premium upgrades (seed 000's up-selling): a bigger pack or a higher grade of the same
//! item, nearest upgrade first.
//!
//! "The same item" is a variant family: the same category leaf and the same words in the
//! name once sizes, counts and grade words (`premium`, `super`, `gold`, …) are taken out,
//! and no variant attribute (`rasa`, `warna`, …) that both products state differently. So
//! *Serundeng Lengkuas Premium 250 g* is an upgrade of *Serundeng Lengkuas 100 g*, while
//! the pedas flavour, another colour of a figure or another character of the same series
//! is a sidegrade, and bumbu rendang is never sold as an upgrade of tepung. A bigger pack
//! (same unit, larger amount) is always an upgrade; any other member of the family is one
//! only when it costs at least `min_price_ratio` times as much.

use std::collections::{BinaryHeap, HashMap};

use serde::{Deserialize, Serialize};

use crate::records::Product;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeKind {
    /// The same thing in a bigger pack.
    BiggerPack,
    /// A higher grade of the same item, pricier by at least the minimum ratio.
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

/// Words that give a size, a count or a grade rather than name the item.
const SIZE_AND_GRADE_WORDS: &[&str] = &[
    "g",
    "gr",
    "gram",
    "kg",
    "ml",
    "l",
    "liter",
    "pack",
    "pcs",
    "isi",
    "premium",
    "super",
    "gold",
    "platinum",
    "deluxe",
    "pro",
    "plus",
    "spesial",
    "special",
    "istimewa",
    "ekstra",
    "extra",
    "eksklusif",
    "exclusive",
    "grade",
];

/// Attribute keys whose values may differ within a family: sizes and grades.
const SIZE_AND_GRADE_KEYS: &[&str] = &[
    "berat", "ukuran", "size", "isi", "volume", "netto", "grade", "kualitas", "tingkat",
];

/// The words that name the item, without sizes and grades, sorted and each once.
fn base_words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = name
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !SIZE_AND_GRADE_WORDS.contains(w))
        .map(str::to_string)
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// The family a product belongs to: category leaf and the words naming the item.
fn family_key<'a>(p: &'a Product, words: &'a [String]) -> Option<(&'a str, &'a [String])> {
    if words.is_empty() {
        return None;
    }
    Some((p.category.last()?.as_str(), words))
}

/// Whether both products state a variant attribute (flavour, colour, …) differently.
fn other_variant(p: &Product, q: &Product) -> bool {
    p.attributes.iter().any(|(key, value)| {
        !SIZE_AND_GRADE_KEYS.contains(&key.as_str())
            && q.attributes
                .get(key)
                .is_some_and(|other| !other.trim().eq_ignore_ascii_case(value.trim()))
    })
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

/// Upgrades for every product, best first, at most `n` each. Products are grouped by family
/// first; within a family they are walked from the cheapest pricier one up, keeping the
/// best `n` in a bounded heap and stopping once no pricier product can beat the worst kept
/// (an upgrade's score only falls as its price rises). So memory is `n` per product however
/// big a family is (one family of 14,000 `Produk …` once took 4 GB), and the work is about
/// `n` steps per product unless the family has packs or variants to compare.
pub fn upgrades(products: &[Product], min_price_ratio: f64, n: usize) -> Vec<Vec<Upgrade>> {
    let words: Vec<Vec<String>> = products.iter().map(|p| base_words(&p.name)).collect();
    let mut families: HashMap<(&str, &[String]), Vec<usize>> = HashMap::new();
    for (i, p) in products.iter().enumerate() {
        if let Some(key) = family_key(p, &words[i]) {
            families.entry(key).or_default().push(i);
        }
    }
    let mut out: Vec<Vec<Upgrade>> = vec![Vec::new(); products.len()];
    if n == 0 {
        return out;
    }
    for mut members in families.into_values() {
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
                if let Some(up) = upgrade(p, q, j, min_price_ratio) {
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

/// `q` as an upgrade of `p`, two members of one family with `q` the pricier.
fn upgrade(p: &Product, q: &Product, j: usize, min_price_ratio: f64) -> Option<Upgrade> {
    if other_variant(p, q) {
        return None;
    }
    let price_ratio = q.price.0 as f64 / p.price.0 as f64;
    let pack_ratio = match (p.pack, q.pack) {
        (Some(a), Some(b)) if a.unit == b.unit && b.amount > a.amount => {
            Some(f64::from(b.amount) / f64::from(a.amount))
        }
        _ => None,
    };
    if pack_ratio.is_some() {
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
    use crate::domain::{ProductId, Rupiah};

    fn p(id: &str, name: &str, price: i64, cat: &str) -> Product {
        Product::new(
            ProductId::parse(id).unwrap(),
            name,
            Rupiah(price),
            vec!["Makanan".into(), cat.into()],
        )
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

    fn ids<'a>(products: &'a [Product], ups: &[Upgrade]) -> Vec<&'a str> {
        ups.iter()
            .map(|u| products[u.index as usize].id.as_str())
            .collect()
    }

    #[test]
    fn a_higher_grade_of_the_same_item_is_an_upgrade_nearest_first() {
        let products = vec![
            p("A", "Kopi Arabika Gayo 200 g", 60000, "Kopi"),
            p("B", "Kopi Arabika Gayo Premium 200 g", 80000, "Kopi"),
            p("C", "Kopi Arabika Gayo Gold Grade 200 g", 120000, "Kopi"),
            p("D", "Kopi Robusta 200 g", 30000, "Kopi"),
        ];
        let ups = upgrades(&products, 1.15, 5);
        assert_eq!(ids(&products, &ups[0]), vec!["B", "C"]);
        assert!(
            ups[3].is_empty(),
            "arabika is another item than robusta, not a step up of it"
        );
    }

    #[test]
    fn another_character_colour_or_flavour_is_not_an_upgrade() {
        let mut products = vec![
            p(
                "HANA-M",
                "Figure Wataten Hana Shirosaki - Merah",
                350000,
                "Figure",
            ),
            p("NOA-B", "Figure Wataten Noa Himesaka - Biru", 450000, "Figure"),
            p("HANA-B", "Figure Wataten Hana Shirosaki - Biru", 420000, "Figure"),
            p("KRP", "Keripik Tempe", 10000, "Camilan"),
            p("KRP-P", "Keripik Tempe", 15000, "Camilan"),
            p("KRP-XL", "Keripik Tempe Premium", 20000, "Camilan"),
        ];
        products[3].attributes.insert("rasa".into(), "Original".into());
        products[4].attributes.insert("rasa".into(), "Balado".into());
        products[5].attributes.insert("rasa".into(), "original".into());
        let ups = upgrades(&products, 1.15, 5);
        assert!(ups[0].is_empty(), "{:?}", ids(&products, &ups[0]));
        assert_eq!(
            ids(&products, &ups[3]),
            vec!["KRP-XL"],
            "the balado flavour is a sidegrade, the premium original an upgrade"
        );
    }

    /// Every upgrade of every product, sorted and cut to `n`: the definition `upgrades`
    /// must agree with.
    fn upgrades_by_brute_force(products: &[Product], min_price_ratio: f64, n: usize) -> Vec<Vec<Upgrade>> {
        let words: Vec<Vec<String>> = products.iter().map(|p| base_words(&p.name)).collect();
        (0..products.len())
            .map(|i| {
                let p = &products[i];
                let Some(family) = family_key(p, &words[i]) else {
                    return Vec::new();
                };
                let mut ups: Vec<Upgrade> = (0..products.len())
                    .filter(|&j| family_key(&products[j], &words[j]) == Some(family))
                    .filter(|&j| products[j].id != p.id && p.price.0 > 0 && products[j].price.0 > p.price.0)
                    .filter_map(|j| upgrade(p, &products[j], j, min_price_ratio))
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
