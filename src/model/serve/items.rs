//! A picked product dressed as an [`Item`] of the answer: its price, link and reason.

use serde::{Deserialize, Serialize};

use crate::config::RecommendSettings;
use crate::model::serve::picks::{Pick, Why};
use crate::model::serve::reasons::{reason, Lang};
use crate::model::ShopModel;
use crate::records::Product;

/// One recommended product, as the JSON contract (README "HTTP") has it. Prices in whole rupiah.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub url: Option<String>,
    pub image: Option<String>,
    pub score: f32,
    pub reason: String,
    /// Up-sell only: the price after the configured upgrade discount.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub discounted_price: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub discount_pct: Option<f64>,
    /// Where it comes from: `similar`, `co_purchase`, `category_best_seller`, `best_seller`,
    /// `upgrade`, `repurchase` or `pin`; empty for the viewed product and fixed offers.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub source: String,
    /// Fixed offers only: how many of it the offer holds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub quantity: Option<u32>,
    /// Fixed offers only: given free with the offer.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub free: bool,
}

/// A product as an item of the answer, its score rounded to three decimals.
pub(super) fn item(p: &Product, score: f32, reason: String) -> Item {
    Item {
        id: p.id.to_string(),
        name: p.name.clone(),
        price: p.price.0,
        url: p.url.clone(),
        image: p.image.clone(),
        score: (score * 1000.0).round() / 1000.0,
        reason,
        discounted_price: None,
        discount_pct: None,
        source: String::new(),
        quantity: None,
        free: false,
    }
}

/// Dresses the picks of a list as items with their reasons.
pub(super) fn items(
    model: &ShopModel,
    viewed: usize,
    picks: &[Pick],
    s: Option<&RecommendSettings>,
    lang: Lang,
) -> Vec<Item> {
    let clusters = model.price_clusters.as_ref();
    let same_cluster = |i: usize| clusters.is_some_and(|c| c.of_product[i] == c.of_product[viewed]);
    picks
        .iter()
        .map(|p| {
            let mut it = item(
                &model.products[p.index],
                p.score,
                reason(model, viewed, p.index, &p.why, same_cluster(p.index), lang),
            );
            it.source = p.why.source().to_string();
            if let (Some(s), Why::Upgrade(_)) = (s, &p.why) {
                if s.upsell_discount_pct > 0.0 {
                    it.discounted_price =
                        Some(model.products[p.index].price.discounted(s.upsell_discount_pct).0);
                    it.discount_pct = Some(s.upsell_discount_pct);
                }
            }
            it
        })
        .collect()
}
