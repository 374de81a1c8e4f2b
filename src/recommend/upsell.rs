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

use std::collections::HashMap;

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

fn same_thing(a: &Product, b: &Product) -> bool {
    let (wa, wb) = (base_words(&a.name), base_words(&b.name));
    if wa.is_empty() || wb.is_empty() {
        return false;
    }
    let shared = wa.iter().filter(|w| wb.contains(w)).count();
    shared * 2 > wa.len().max(wb.len()) || wa == wb
}

/// The line a product belongs to: category leaf and head word of its name.
fn line_key(p: &Product) -> Option<(String, String)> {
    Some((
        p.category.last()?.clone(),
        base_words(&p.name).into_iter().next()?,
    ))
}

/// Upgrades for every product, best first, at most `n` each. Products are grouped by line
/// first, so the work is the sum of the squared line sizes, not the catalogue squared.
pub fn upgrades(products: &[Product], min_price_ratio: f64, n: usize) -> Vec<Vec<Upgrade>> {
    let mut lines: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, p) in products.iter().enumerate() {
        if let Some(key) = line_key(p) {
            lines.entry(key).or_default().push(i);
        }
    }
    let mut out: Vec<Vec<Upgrade>> = vec![Vec::new(); products.len()];
    for members in lines.values() {
        for &i in members {
            let p = &products[i];
            let mut ups: Vec<Upgrade> = members
                .iter()
                .map(|&j| (j, &products[j]))
                .filter(|(_, q)| q.id != p.id && p.price.0 > 0 && q.price.0 > p.price.0)
                .filter_map(|(j, q)| upgrade(p, q, j, min_price_ratio))
                .collect();
            ups.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
            ups.truncate(n);
            out[i] = ups;
        }
    }
    out
}

fn upgrade(p: &Product, q: &Product, j: usize, min_price_ratio: f64) -> Option<Upgrade> {
    let price_ratio = q.price.0 as f64 / p.price.0 as f64;
    let pack_ratio = match (p.pack, q.pack) {
        (Some(a), Some(b)) if a.unit == b.unit && b.amount > a.amount => {
            Some(f64::from(b.amount) / f64::from(a.amount))
        }
        _ => None,
    };
    if pack_ratio.is_some() && same_thing(p, q) {
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
