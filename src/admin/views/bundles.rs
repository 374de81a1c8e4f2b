//! The bundles page: the association rules the model mined and the shop's fixed offers.

use serde::Serialize;

use crate::admin::views::queries::PageError;
use crate::config::ShopSettings;
use crate::domain::ProductId;
use crate::model::ShopModel;

/// A product as a rule or offer names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductRef {
    pub id: String,
    /// Empty for a product the catalogue no longer has.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleRow {
    pub antecedent: Vec<ProductRef>,
    pub consequent: ProductRef,
    /// Paid orders holding every item of the rule.
    pub count: u32,
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferLineRow {
    pub product: ProductRef,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferRow {
    pub title: String,
    pub buy: Vec<OfferLineRow>,
    pub free: Vec<OfferLineRow>,
    pub discount_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleThresholds {
    pub min_support: f64,
    pub min_confidence: f64,
    pub min_lift: f64,
    pub max_items: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundlesPage {
    /// Paid orders mined.
    pub transactions: usize,
    pub thresholds: BundleThresholds,
    /// Highest lift first, then confidence.
    pub rules: Vec<RuleRow>,
    pub offers: Vec<OfferRow>,
}

pub fn bundles(shop: &ShopSettings, model: Option<&ShopModel>) -> Result<BundlesPage, PageError> {
    let model = model.ok_or_else(|| PageError::NotReady(shop.id.to_string()))?;
    let by_index = |i: u32| {
        model
            .products
            .get(i as usize)
            .map(|p| ProductRef {
                id: p.id.to_string(),
                name: p.name.clone(),
            })
            .unwrap_or(ProductRef {
                id: format!("#{i}"),
                name: String::new(),
            })
    };
    let by_id = |id: &ProductId| ProductRef {
        id: id.to_string(),
        name: model
            .product_index(id)
            .map(|i| model.products[i].name.clone())
            .unwrap_or_default(),
    };
    let mut rules: Vec<RuleRow> = model
        .bundles
        .rules
        .iter()
        .map(|r| RuleRow {
            antecedent: r.antecedent.iter().map(|&i| by_index(i)).collect(),
            consequent: by_index(r.consequent),
            count: r.count,
            support: r.support,
            confidence: r.confidence,
            lift: r.lift,
        })
        .collect();
    rules.sort_by(|a, b| {
        b.lift
            .total_cmp(&a.lift)
            .then(b.confidence.total_cmp(&a.confidence))
            .then(b.count.cmp(&a.count))
    });
    let lines = |lines: &[crate::config::OfferLine]| {
        lines
            .iter()
            .map(|l| OfferLineRow {
                product: by_id(&l.product),
                quantity: l.quantity,
            })
            .collect()
    };
    Ok(BundlesPage {
        transactions: model.bundles.transactions,
        thresholds: BundleThresholds {
            min_support: shop.recommend.bundle_min_support,
            min_confidence: shop.recommend.bundle_min_confidence,
            min_lift: shop.recommend.bundle_min_lift,
            max_items: shop.recommend.bundle_max_items,
        },
        rules,
        offers: model
            .settings
            .as_deref()
            .unwrap_or(shop)
            .offers
            .iter()
            .map(|o| OfferRow {
                title: o.title.clone(),
                buy: lines(&o.buy),
                free: lines(&o.free),
                discount_pct: o.discount_pct,
            })
            .collect(),
    })
}
