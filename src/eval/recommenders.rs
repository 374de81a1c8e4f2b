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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RecommendSettings;
    use crate::eval::fixtures::{catalogue, orders};
    use crate::recommend::model::build_model;
    use rand::SeedableRng;

    fn model() -> ShopModel {
        build_model(catalogue(), &orders(), &RecommendSettings::default())
    }

    fn idx(m: &ShopModel, id: &str) -> u32 {
        m.product_index(&crate::domain::ProductId::parse(id).unwrap())
            .unwrap() as u32
    }

    /// Every context of one or two products.
    fn contexts(m: &ShopModel) -> Vec<Vec<u32>> {
        let n = m.products.len() as u32;
        let mut out: Vec<Vec<u32>> = (0..n).map(|i| vec![i]).collect();
        for i in 0..n {
            for j in i + 1..n {
                out.push(vec![i, j]);
            }
        }
        out
    }

    #[test]
    fn no_model_recommends_the_context_and_a_shorter_list_is_a_prefix_of_a_longer_one() {
        let m = model();
        for kind in ModelKind::ALL {
            for ctx in contexts(&m) {
                let mut rng = ChaCha8Rng::seed_from_u64(3);
                let five = recommend(kind, &m, &ctx, 5, &mut rng);
                let mut rng = ChaCha8Rng::seed_from_u64(3);
                let three = recommend(kind, &m, &ctx, 3, &mut rng);
                assert!(five.len() <= 5, "{kind:?}");
                assert!(
                    five.iter().all(|i| !ctx.contains(i)),
                    "{kind:?} {ctx:?}: {five:?}"
                );
                let distinct: std::collections::BTreeSet<_> = five.iter().collect();
                assert_eq!(distinct.len(), five.len(), "{kind:?}: duplicates in {five:?}");
                assert_eq!(three[..], five[..three.len()], "{kind:?} {ctx:?}");
                assert_eq!(three.len(), five.len().min(3), "{kind:?} {ctx:?}");
            }
        }
    }

    #[test]
    fn similar_to_one_product_is_that_products_similar_list() {
        let m = model();
        for i in 0..m.products.len() {
            let expected: Vec<u32> = m.similar[i].iter().map(|nb| nb.index).take(4).collect();
            assert_eq!(similar(&m, &[i as u32], 4), expected, "{}", m.products[i].id);
        }
    }

    #[test]
    fn upsell_offers_the_bigger_pack_of_what_is_in_the_cart() {
        let m = model();
        let srd = idx(&m, "SRD-100");
        assert_eq!(upsell(&m, &[srd], 5), vec![idx(&m, "SRD-250P")]);
        assert!(
            upsell(&m, &[idx(&m, "HMP-01")], 5).is_empty(),
            "nothing above the hampers"
        );
    }

    #[test]
    fn bundles_rank_every_applicable_consequent_by_confidence_then_lift() {
        let m = model();
        for ctx in contexts(&m) {
            let got = bundles(&m, &ctx, usize::MAX);
            let applicable = |r: &&crate::recommend::fpgrowth::Rule| {
                !ctx.contains(&r.consequent) && r.antecedent.iter().all(|a| ctx.contains(a))
            };
            let best = |c: u32| {
                m.bundles
                    .rules
                    .iter()
                    .filter(applicable)
                    .filter(|r| r.consequent == c)
                    .map(|r| (r.confidence, r.lift))
                    .fold((f64::MIN, f64::MIN), |a, b| if b > a { b } else { a })
            };
            let mut expected: Vec<u32> = m
                .bundles
                .rules
                .iter()
                .filter(applicable)
                .map(|r| r.consequent)
                .collect();
            expected.sort_unstable();
            expected.dedup();
            let mut sorted_got = got.clone();
            sorted_got.sort_unstable();
            assert_eq!(sorted_got, expected, "{ctx:?}");
            for w in got.windows(2) {
                assert!(best(w[0]) >= best(w[1]), "{ctx:?}: {got:?}");
            }
        }
        // Serundeng's strongest partner in these baskets is tepung.
        let srd = idx(&m, "SRD-100");
        assert_eq!(bundles(&m, &[srd], 1), vec![idx(&m, "TPG-100")]);
    }

    #[test]
    fn hybrid_is_bundles_then_similar_then_upsell_then_best_sellers() {
        let m = model();
        for ctx in contexts(&m) {
            let mut expected: Vec<u32> = Vec::new();
            for i in bundles(&m, &ctx, 10)
                .into_iter()
                .chain(similar(&m, &ctx, 10))
                .chain(upsell(&m, &ctx, 10))
                .chain(best_sellers(&m, &ctx, 10))
            {
                if !expected.contains(&i) {
                    expected.push(i);
                }
            }
            expected.truncate(4);
            assert_eq!(hybrid(&m, &ctx, 4), expected, "{ctx:?}");
        }
    }

    #[test]
    fn best_sellers_follow_units_sold_and_skip_the_cart() {
        let m = model();
        let all = best_sellers(&m, &[], 100);
        let units: Vec<u64> = all
            .iter()
            .map(|i| m.best_sellers.iter().find(|(j, _)| j == i).unwrap().1)
            .collect();
        assert!(units.windows(2).all(|w| w[0] >= w[1]), "{units:?}");
        let top = all[0];
        assert_eq!(best_sellers(&m, &[top], 1), vec![all[1]]);
    }

    #[test]
    fn random_draws_uniformly_from_the_rest_of_the_catalogue_and_repeats_with_the_seed() {
        let m = model();
        let ctx = vec![0u32, 1];
        let mut counts = vec![0usize; m.products.len()];
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..6000 {
            for i in random(&m, &ctx, 1, &mut rng) {
                counts[i as usize] += 1;
            }
        }
        assert_eq!(counts[0] + counts[1], 0);
        // 6 candidates, 1000 expected each; 4σ ≈ 4·√(6000·(1/6)(5/6)) ≈ 115.
        assert!(
            counts[2..].iter().all(|&c| (885..=1115).contains(&c)),
            "{counts:?}"
        );
        let draw = |seed| random(&m, &ctx, 3, &mut ChaCha8Rng::seed_from_u64(seed));
        assert_eq!(draw(5), draw(5));
    }

    #[test]
    fn model_names_parse_in_either_spelling() {
        assert_eq!(ModelKind::parse("best-sellers"), Some(ModelKind::BestSellers));
        assert_eq!(ModelKind::parse(" Hybrid "), Some(ModelKind::Hybrid));
        assert_eq!(ModelKind::parse("cf"), None);
        for m in ModelKind::ALL {
            assert_eq!(ModelKind::parse(m.name()), Some(m));
        }
    }
}
