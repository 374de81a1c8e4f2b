//! Finding a product the way a shop owner names it: our id, the SKU (`MM-021`, any case)
//! or the marketplace's product id; and, for a name that matches nothing, the closest
//! ids and SKUs to suggest.

use std::collections::HashMap;

use crate::domain::ProductId;
use crate::model::ShopModel;

/// SKUs (lower case) and marketplace ids to catalogue indices; our own ids are in
/// [`ShopModel::index`]. Where two products share a SKU the first keeps it.
pub(super) fn aliases(model: &ShopModel) -> HashMap<String, u32> {
    let mut out = HashMap::new();
    for (i, p) in model.products.iter().enumerate() {
        let names = p.sku.iter().chain(&p.marketplace_id);
        for name in names.map(|n| n.trim().to_lowercase()).filter(|n| !n.is_empty()) {
            out.entry(name).or_insert(i as u32);
        }
    }
    out
}

impl ShopModel {
    /// The catalogue index of the product `raw` names: our id first, then a SKU (any case)
    /// or a marketplace product id.
    pub fn find_product(&self, raw: &str) -> Option<usize> {
        let raw = raw.trim();
        if let Some(i) = ProductId::parse(raw).ok().and_then(|id| self.product_index(&id)) {
            return Some(i);
        }
        self.aliases
            .get_or_init(|| aliases(self))
            .get(&raw.to_lowercase())
            .map(|&i| i as usize)
    }

    /// Up to `n` products whose id or SKU is closest to `raw` (edit distance, ignoring
    /// case), as `ID` or `ID (SKU)`, closest first: what "unknown product" suggests.
    pub fn suggest_products(&self, raw: &str, n: usize) -> Vec<String> {
        let wanted = raw.trim().to_lowercase();
        let mut scored: Vec<(usize, usize)> = self
            .products
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let distance = std::iter::once(p.id.as_str())
                    .chain(p.sku.as_deref())
                    .map(|name| strsim::levenshtein(&wanted, &name.to_lowercase()))
                    .min()
                    .unwrap_or(usize::MAX);
                (distance, i)
            })
            .collect();
        scored.sort_unstable();
        scored
            .into_iter()
            .take(n)
            .map(|(_, i)| {
                let p = &self.products[i];
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
}
