//! The models under evaluation, each turning a context (product indices of a [`ShopModel`]
//! trained on the training purchases) into a ranked list of at most `n` other products.
//!
//! No list contains a context product (it is in the cart, or already bought), and none is
//! filtered by today's status or stock: the test orders were placed when those products could
//! be bought, so hiding them now would punish a model for the shop's present state. A model
//! with less to say returns a shorter list; it is not padded (only `hybrid` falls back).
//!
//! - `similar`: seed 000's content-based profile. The context's feature vectors are averaged
//!   and re-normalised ([`SparseVec::mean`]); every other product is scored by its cosine with
//!   that profile, positive scores only, best first (ties by catalogue order). With one
//!   context product this is exactly that product's similar list.
//! - `upsell`: the upgrades ([`ShopModel::upsell`]) of every context product, each candidate
//!   with its best upgrade score, best first.
//! - `bundles`: the mined rules whose whole antecedent is in the context, each consequent
//!   with its best rule, ranked by confidence (the estimated chance it joins the basket), then
//!   lift, then catalogue order.
//! - `hybrid`: one list from what the widget's slots serve, in this order, without duplicates:
//!   the `bundles` consequents, then the `similar` list, then the `upsell` list, then
//!   best-sellers to fill up to `n` (serving's fallback for every slot).
//! - `best_sellers`: units sold in the training purchases, most first.
//! - `random`: a uniformly random sample of the other products, from the seeded generator.

use std::collections::HashMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::recommend::features::SparseVec;
use crate::recommend::model::ShopModel;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Similar,
    Upsell,
    Bundles,
    Hybrid,
    BestSellers,
    Random,
}

impl ModelKind {
    pub const ALL: [ModelKind; 6] = [
        ModelKind::Similar,
        ModelKind::Upsell,
        ModelKind::Bundles,
        ModelKind::Hybrid,
        ModelKind::BestSellers,
        ModelKind::Random,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Similar => "similar",
            ModelKind::Upsell => "upsell",
            ModelKind::Bundles => "bundles",
            ModelKind::Hybrid => "hybrid",
            ModelKind::BestSellers => "best_sellers",
            ModelKind::Random => "random",
        }
    }

    pub fn parse(raw: &str) -> Option<ModelKind> {
        let raw = raw.trim().to_ascii_lowercase().replace('-', "_");
        ModelKind::ALL.into_iter().find(|m| m.name() == raw)
    }
}

/// Whether product `i` is in the (sorted) context.
fn in_context(context: &[u32], i: u32) -> bool {
    context.binary_search(&i).is_ok()
}

/// Ranks `context`'s recommendations with `kind`; `rng` is used by `random` only.
pub fn recommend(
    kind: ModelKind,
    model: &ShopModel,
    context: &[u32],
    n: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<u32> {
    match kind {
        ModelKind::Similar => similar(model, context, n),
        ModelKind::Upsell => upsell(model, context, n),
        ModelKind::Bundles => bundles(model, context, n),
        ModelKind::Hybrid => hybrid(model, context, n),
        ModelKind::BestSellers => best_sellers(model, context, n),
        ModelKind::Random => random(model, context, n, rng),
    }
}

/// Sorts (index, score) best first, ties by index, and keeps the first `n` indices.
fn top_n_by_score(mut scored: Vec<(u32, f64)>, n: usize) -> Vec<u32> {
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.into_iter().take(n).map(|(i, _)| i).collect()
}

pub fn similar(model: &ShopModel, context: &[u32], n: usize) -> Vec<u32> {
    let vectors: Vec<&SparseVec> = context
        .iter()
        .filter_map(|&i| model.features.vectors.get(i as usize))
        .collect();
    let profile = SparseVec::mean(&vectors);
    if profile.idx.is_empty() {
        return Vec::new();
    }
    let scored: Vec<(u32, f64)> = model
        .features
        .vectors
        .iter()
        .enumerate()
        .map(|(i, v)| (i as u32, f64::from(profile.dot(v))))
        .filter(|&(i, s)| s > 0.0 && !in_context(context, i))
        .collect();
    top_n_by_score(scored, n)
}

pub fn upsell(model: &ShopModel, context: &[u32], n: usize) -> Vec<u32> {
    let mut best: HashMap<u32, f64> = HashMap::new();
    for &c in context {
        for u in model.upsell.get(c as usize).into_iter().flatten() {
            if in_context(context, u.index) {
                continue;
            }
            let score = f64::from(u.score);
            let entry = best.entry(u.index).or_insert(score);
            *entry = entry.max(score);
        }
    }
    top_n_by_score(best.into_iter().collect(), n)
}

pub fn bundles(model: &ShopModel, context: &[u32], n: usize) -> Vec<u32> {
    // Consequent → its best (confidence, lift).
    let mut best: HashMap<u32, (f64, f64)> = HashMap::new();
    for r in &model.bundles.rules {
        if in_context(context, r.consequent) || !r.antecedent.iter().all(|&a| in_context(context, a)) {
            continue;
        }
        let entry = best.entry(r.consequent).or_insert((r.confidence, r.lift));
        if (r.confidence, r.lift) > *entry {
            *entry = (r.confidence, r.lift);
        }
    }
    let mut ranked: Vec<(u32, (f64, f64))> = best.into_iter().collect();
    ranked.sort_by(|a, b| {
        (b.1 .0)
            .total_cmp(&a.1 .0)
            .then((b.1 .1).total_cmp(&a.1 .1))
            .then(a.0.cmp(&b.0))
    });
    ranked.into_iter().take(n).map(|(i, _)| i).collect()
}

pub fn best_sellers(model: &ShopModel, context: &[u32], n: usize) -> Vec<u32> {
    model
        .best_sellers
        .iter()
        .map(|&(i, _)| i)
        .filter(|&i| !in_context(context, i))
        .take(n)
        .collect()
}

pub fn hybrid(model: &ShopModel, context: &[u32], n: usize) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::with_capacity(n);
    let parts = [
        bundles(model, context, n),
        similar(model, context, n),
        upsell(model, context, n),
        best_sellers(model, context, n),
    ];
    for i in parts.into_iter().flatten() {
        if out.len() == n {
            break;
        }
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// The first `n` draws of a Fisher–Yates shuffle, so that the list for a smaller `n` is a
/// prefix of the list for a larger one.
pub fn random(model: &ShopModel, context: &[u32], n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let mut candidates: Vec<u32> = (0..model.products.len() as u32)
        .filter(|&i| !in_context(context, i))
        .collect();
    let take = n.min(candidates.len());
    for k in 0..take {
        let j = rng.gen_range(k..candidates.len());
        candidates.swap(k, j);
    }
    candidates.truncate(take);
    candidates
}
