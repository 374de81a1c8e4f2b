//! A shop's model snapshot: everything a recommendation request needs, precomputed by
//! [`build_model`] from the catalogue and the orders (off the request path), so that
//! serving is a lookup whatever the catalogue size.

pub mod follow;
mod lookup;
pub mod rebuild;
pub mod serve;
pub mod snapshot;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::RecommendSettings;
use crate::domain::{CustomerId, ProductId};
use crate::recommend::blend::{self, Basket, BlendData, BlendFit, HistoryItem};
use crate::recommend::bundles::{mine_bundles, BundleModel};
use crate::recommend::copurchase::CoPurchaseSettings;
use crate::recommend::features::{build_features, FeatureSpace};
use crate::recommend::fpgrowth::MiningThresholds;
use crate::recommend::kmeans::{best_k_by_silhouette, kmeans_1d, silhouette_1d, Clustering};
use crate::recommend::similar::{similar_top_n, Neighbour};
use crate::recommend::upsell::{upgrades, Upgrade};
use crate::records::{Order, Product};

/// Bumped when the snapshot's shape changes: an older stored snapshot is rebuilt.
pub const MODEL_VERSION: u32 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceClusters {
    pub clustering: Clustering,
    pub silhouette: f64,
    /// Cluster of each product, in catalogue order.
    pub of_product: Vec<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShopModel {
    pub version: u32,
    pub built_at: DateTime<Utc>,
    /// Time the build took, for the admin page and the logs.
    pub build_ms: u64,
    /// Milliseconds per step (features, similar, upsell, bundles, …), in order.
    #[serde(default)]
    pub build_steps: Vec<(String, u64)>,
    /// The catalogue as it was at build time; indices below refer to it.
    pub products: Vec<Product>,
    pub index: HashMap<ProductId, u32>,
    pub features: FeatureSpace,
    pub similar: Vec<Vec<Neighbour>>,
    pub upsell: Vec<Vec<Upgrade>>,
    pub bundles: BundleModel,
    /// (product index, units sold), best first.
    pub best_sellers: Vec<(u32, u64)>,
    pub price_clusters: Option<PriceClusters>,
    pub paid_orders: usize,
    /// The loyalty ladder and every customer's standing (ids and tiers only, nothing personal).
    #[serde(default)]
    pub loyalty: crate::loyalty::tiers::LoyaltyModel,
    /// Co-purchase neighbours, popularity and repurchase figures: the blend's signals.
    pub blend: BlendData,
    /// The blend's weights fitted on this shop's orders, with their validation figures.
    pub fit: BlendFit,
    /// Each customer's earlier purchases per product (ids and counts, nothing personal), for
    /// the personal list.
    pub histories: BTreeMap<CustomerId, Vec<HistoryItem>>,
    /// Customer ids that are another id's alias (a buyer id or old name hash → the phone
    /// key, [`crate::loyalty::identity`]), so that a customer token for either gets the same
    /// tier and history. Ids only. Last, and read as empty from a model version 2 snapshot
    /// (which ends before it), so that its standings still carry over a rebuild.
    #[serde(default, deserialize_with = "aliases_or_none")]
    pub aliases: BTreeMap<CustomerId, CustomerId>,
    /// The names products go by (SKUs, marketplace ids), made on first use
    /// (`find_product`, `suggest_products`); not stored in the snapshot.
    #[serde(skip)]
    names: std::sync::OnceLock<lookup::Names>,
    /// The shop's settings this model serves with: the config file's with the owner's
    /// dashboard changes laid over them (`config::overlay`), set by every rebuild and load
    /// so a change reaches the widget with the model that follows it; not stored in the
    /// snapshot. `None` in a model built outside the service (tests, `laris eval`).
    #[serde(skip)]
    pub settings: Option<std::sync::Arc<crate::config::ShopSettings>>,
}

impl ShopModel {
    /// The id a customer's standing and history are kept under: the canonical id of an alias.
    pub fn customer<'a>(&'a self, id: &'a CustomerId) -> &'a CustomerId {
        self.aliases.get(id).unwrap_or(id)
    }

    pub fn product_index(&self, id: &ProductId) -> Option<usize> {
        self.index.get(id).map(|&i| i as usize)
    }
}

/// Paid orders as the blend reads them, in time of payment (ties by invoice): distinct
/// catalogue products with their units; orders without a catalogue product are left out.
pub fn timed_baskets(orders: &[Order], index: &HashMap<ProductId, u32>) -> Vec<Basket> {
    let mut paid: Vec<&Order> = orders.iter().filter(|o| o.is_purchase()).collect();
    paid.sort_by(|a, b| a.paid_at.cmp(&b.paid_at).then_with(|| a.invoice.cmp(&b.invoice)));
    paid.into_iter()
        .filter_map(|o| {
            let mut lines: BTreeMap<u32, u64> = BTreeMap::new();
            for l in &o.lines {
                if let Some(&i) = l.product.as_ref().and_then(|p| index.get(p)) {
                    *lines.entry(i).or_default() += u64::from(l.quantity);
                }
            }
            (!lines.is_empty()).then(|| Basket {
                customer: o.customer.clone(),
                at: o.paid_at,
                products: lines.keys().copied().collect(),
                units: lines.values().copied().collect(),
            })
        })
        .collect()
}

/// The co-purchase settings of a shop's recommend settings.
pub fn co_purchase_settings(settings: &RecommendSettings) -> CoPurchaseSettings {
    CoPurchaseSettings {
        k: settings.neighbours,
        similarity: settings.co_purchase_similarity,
        shrink: settings.co_purchase_shrink,
        min_count: settings.pair_min_count,
    }
}

/// A product's category as one text (`None` without one).
pub fn category_key(p: &Product) -> Option<String> {
    (!p.category.is_empty()).then(|| p.category.join(" > "))
}

/// Paid baskets as product indices (unknown products dropped, duplicates kept once).
pub fn baskets(orders: &[Order], index: &HashMap<ProductId, u32>) -> Vec<Vec<u32>> {
    orders
        .iter()
        .filter(|o| o.is_purchase())
        .map(|o| {
            let mut b: Vec<u32> = o
                .lines
                .iter()
                .filter_map(|l| l.product.as_ref())
                .filter_map(|p| index.get(p).copied())
                .collect();
            b.sort_unstable();
            b.dedup();
            b
        })
        .collect()
}

pub fn price_clusters(products: &[Product], k: usize) -> Option<PriceClusters> {
    let prices: Vec<f64> = products.iter().map(|p| p.price.0 as f64).collect();
    let distinct = {
        let mut d = prices.clone();
        d.sort_by(f64::total_cmp);
        d.dedup();
        d.len()
    };
    if distinct < 2 {
        return None;
    }
    let (clustering, silhouette) = if k == 0 {
        best_k_by_silhouette(&prices, 2..=8.min(distinct)).ok()?
    } else {
        let c = kmeans_1d(&prices, k).ok()?;
        let s = silhouette_1d(&prices, &c);
        (c, s)
    };
    let of_product = prices.iter().map(|&p| clustering.cluster_of(p) as u32).collect();
    Some(PriceClusters {
        clustering,
        silhouette,
        of_product,
    })
}

/// Builds the snapshot. Pure and CPU-bound: call it from `spawn_blocking`.
pub fn build_model(mut products: Vec<Product>, orders: &[Order], settings: &RecommendSettings) -> ShopModel {
    let started = std::time::Instant::now();
    let mut steps: Vec<(String, u64)> = Vec::new();
    let mut lap = std::time::Instant::now();
    let mut step = |name: &str| {
        steps.push((name.to_string(), lap.elapsed().as_millis() as u64));
        lap = std::time::Instant::now();
    };
    products.sort_by(|a, b| a.id.cmp(&b.id));
    let index: HashMap<ProductId, u32> = products
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i as u32))
        .collect();
    step("index");
    let features = build_features(&products, &settings.weights);
    step("features");
    let similar = similar_top_n(&features, &products, settings.candidates);
    step("similar");
    let upsell = upgrades(&products, settings.upsell_min_price_ratio, settings.candidates);
    step("upsell");
    let paid = baskets(orders, &index);
    let thresholds = MiningThresholds {
        min_support: settings.bundle_min_support,
        min_confidence: settings.bundle_min_confidence,
        min_lift: settings.bundle_min_lift,
        max_len: settings.bundle_max_items,
    };
    let bundles = mine_bundles(&paid, products.len(), &thresholds);
    let paid_orders = paid.len();
    drop(paid);
    step("bundles");
    let timed = timed_baskets(orders, &index);
    let categories: Vec<Option<String>> = products.iter().map(category_key).collect();
    let co_settings = co_purchase_settings(settings);
    let blend_data = BlendData::build(&timed, &categories, &co_settings);
    // Units sold per product, most first (ties by catalogue order, which is id order).
    let mut best: Vec<(u32, u64)> = (0..products.len() as u32)
        .map(|i| (i, blend_data.units[i as usize]))
        .filter(|&(_, u)| u > 0)
        .collect();
    best.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    step("co_purchase");
    let fit = blend::fit(&timed, &categories, &similar, &co_settings, Utc::now());
    step("blend_fit");
    let histories: BTreeMap<CustomerId, Vec<HistoryItem>> = blend::histories_at(&timed)
        .into_iter()
        .map(|(c, h)| (c.clone(), h))
        .collect();
    let price_clusters = price_clusters(&products, settings.price_clusters);
    step("price_clusters");
    ShopModel {
        version: MODEL_VERSION,
        built_at: Utc::now(),
        build_ms: started.elapsed().as_millis() as u64,
        build_steps: steps,
        products,
        index,
        features,
        similar,
        upsell,
        bundles,
        best_sellers: best,
        price_clusters,
        paid_orders,
        loyalty: Default::default(),
        blend: blend_data,
        fit,
        histories,
        aliases: BTreeMap::new(),
        names: Default::default(),
        settings: None,
    }
}

/// The aliases, or none when the encoding ends before them (a model version 2 snapshot).
fn aliases_or_none<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<CustomerId, CustomerId>, D::Error> {
    Ok(BTreeMap::deserialize(d).unwrap_or_default())
}
