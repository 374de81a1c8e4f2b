//! Finding a product the way a shop owner names it: our id, the SKU (`MM-021`, any case)
//! or the marketplace's product id; and, for a name that matches nothing, the closest
//! ids and SKUs to suggest.

use std::collections::HashMap;

use crate::domain::ProductId;
use crate::model::ShopModel;

/// How many names on each side of a wanted name, in sorted order, are weighed for a
/// suggestion: the work of an unknown product stays small whatever the catalogue's size
/// (strangers can send any `product=`).
const NEIGHBOURS: usize = 16;

/// The names a product goes by, made once per model on first use.
#[derive(Debug, Clone, Default)]
pub(super) struct Names {
    /// SKUs (lower case) and marketplace ids to catalogue indices; our own ids are in
    /// [`ShopModel::index`]. Where two products share a SKU the first keeps it.
    aliases: HashMap<String, u32>,
    /// Every id and SKU in lower case with its product, sorted: where a mistyped name's
    /// neighbours are found.
    sorted: Vec<(String, u32)>,
}

fn names(model: &ShopModel) -> Names {
    let mut aliases = HashMap::new();
    let mut sorted = Vec::with_capacity(model.products.len() * 2);
    for (i, p) in model.products.iter().enumerate() {
        let known = p.sku.iter().chain(&p.marketplace_id);
        for name in known.map(|n| n.trim().to_lowercase()).filter(|n| !n.is_empty()) {
            aliases.entry(name).or_insert(i as u32);
        }
        let shown = std::iter::once(p.id.as_str()).chain(p.sku.as_deref());
        sorted.extend(shown.map(|n| (n.to_lowercase(), i as u32)));
    }
    sorted.sort_unstable();
    Names { aliases, sorted }
}

impl ShopModel {
    fn names(&self) -> &Names {
        self.names.get_or_init(|| names(self))
    }

    /// The catalogue index of the product `raw` names: our id first, then a SKU (any case)
    /// or a marketplace product id.
    pub fn find_product(&self, raw: &str) -> Option<usize> {
        let raw = raw.trim();
        if let Some(i) = ProductId::parse(raw).ok().and_then(|id| self.product_index(&id)) {
            return Some(i);
        }
        self.names().aliases.get(&raw.to_lowercase()).map(|&i| i as usize)
    }

    /// Up to `n` products whose id or SKU is closest to `raw` (edit distance, ignoring
    /// case), as `ID` or `ID (SKU)`, closest first: what "unknown product" suggests. Only
    /// the names sorting next to `raw` are weighed (a mistyped id shares its start with the
    /// right one), so the work is the same for 10 products or 100,000.
    pub fn suggest_products(&self, raw: &str, n: usize) -> Vec<String> {
        let wanted = raw.trim().to_lowercase();
        let sorted = &self.names().sorted;
        let at = sorted.partition_point(|(name, _)| name.as_str() < wanted.as_str());
        let near = &sorted[at.saturating_sub(NEIGHBOURS)..(at + NEIGHBOURS).min(sorted.len())];
        let mut scored: Vec<(usize, u32)> = near
            .iter()
            .map(|(name, i)| (strsim::levenshtein(&wanted, name), *i))
            .collect();
        scored.sort_unstable();
        let mut products: Vec<u32> = Vec::with_capacity(n);
        for (_, i) in scored {
            if products.len() == n {
                break;
            }
            if !products.contains(&i) {
                products.push(i);
            }
        }
        products
            .into_iter()
            .map(|i| {
                let p = &self.products[i as usize];
                match p.sku.as_deref() {
                    Some(sku) if sku != p.id.as_str() => format!("{} ({sku})", p.id),
                    _ => p.id.to_string(),
                }
            })
            .collect()
    }

    /// "unknown product X in shop S; did you mean A, B or C?": the message every surface
    /// (API, CLI, admin) gives for a product that matches nothing.
    pub fn unknown_product_message(&self, raw: &str, shop: &str) -> String {
        let close = self.suggest_products(raw, 3);
        let mut out = format!("unknown product {raw:?} in shop {shop}");
        if !close.is_empty() {
            out.push_str(&format!("; did you mean {}?", close.join(", ")));
        }
        out.push_str(" (`laris products` lists the ids and SKUs)");
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::{ProductId, Rupiah};
    use crate::model::build_model;
    use crate::records::Product;

    fn product(id: &str, sku: Option<&str>, marketplace: Option<&str>) -> Product {
        let mut p = Product::new(
            ProductId::parse(id).unwrap(),
            &format!("Produk {id}"),
            Rupiah(10_000),
            vec!["Makanan".into()],
        );
        p.sku = sku.map(str::to_string);
        p.marketplace_id = marketplace.map(str::to_string);
        p
    }

    #[test]
    fn a_product_is_found_by_id_sku_in_any_case_or_marketplace_id() {
        let products = vec![
            product("15001006", Some("MM-021"), Some("15001006")),
            product("15001007", Some("MM-022"), None),
            product("SRD-100", None, Some("99887766")),
        ];
        let m = build_model(products, &[], &Default::default());
        let id = |i: usize| m.products[i].id.to_string();
        assert_eq!(m.find_product("15001007").map(id).as_deref(), Some("15001007"));
        assert_eq!(m.find_product("MM-021").map(id).as_deref(), Some("15001006"));
        assert_eq!(m.find_product(" mm-022 ").map(id).as_deref(), Some("15001007"));
        assert_eq!(m.find_product("99887766").map(id).as_deref(), Some("SRD-100"));
        assert_eq!(m.find_product("MM-023"), None);
        assert_eq!(m.find_product(""), None);
    }

    #[test]
    fn unknown_products_get_the_closest_ids_and_skus_suggested() {
        let products = vec![
            product("15001006", Some("MM-021"), None),
            product("15001007", Some("MM-022"), None),
            product("SRD-100", None, None),
            product("TPG-250P", None, None),
        ];
        let m = build_model(products, &[], &Default::default());
        assert_eq!(
            m.suggest_products("mm-21", 2),
            vec!["15001006 (MM-021)", "15001007 (MM-022)"]
        );
        assert_eq!(m.suggest_products("SRD-1000", 1), vec!["SRD-100"]);
        let message = m.unknown_product_message("SRD-1000", "lengkuas");
        assert!(
            message.starts_with("unknown product \"SRD-1000\" in shop lengkuas; did you mean SRD-100"),
            "{message}"
        );
        assert!(message.contains("laris products"), "{message}");
    }

    #[test]
    fn a_large_catalogue_still_suggests_the_near_miss() {
        let products: Vec<Product> = (0..3_000)
            .map(|i| product(&format!("{}", 15_000_000 + i), Some(&format!("SKU-{i:05}")), None))
            .collect();
        let m = build_model(products, &[], &Default::default());
        // A name with a character too much sorts right after the right one.
        assert_eq!(m.suggest_products("sku-01234x", 1), vec!["15001234 (SKU-01234)"]);
        assert_eq!(m.suggest_products("15000999x", 1), vec!["15000999 (SKU-00999)"]);
    }
}
