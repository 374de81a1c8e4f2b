//! The models under evaluation, each turning a [`Query`] (product indices of a [`ShopModel`]
//! trained on the training purchases, and for next-order cases the customer's purchase
//! history) into a ranked list of at most `n` products.
//!
//! Whether a list may hold a context product is the protocol's call ([`Query::allow_repeats`]):
//! basket completion and next order (new products) forbid it (the product is in the cart, or
//! already bought, and a repeat is not what is measured), next order allows it (a repurchase
//! counts). No list is filtered by today's status or stock: the test orders were placed when
//! those products could be bought, so hiding them now would punish a model for the shop's
//! present state. A model with less to say returns a shorter list; it is not padded (only
//! `hybrid` falls back).
//!
//! - `similar`: seed 000's content-based profile. The context's feature vectors are averaged
//!   and re-normalised ([`SparseVec::mean`]); every other product is scored by its cosine with
//!   that profile, positive scores only, best first (ties by catalogue order). With one
//!   context product this is exactly that product's similar list. It never lists the context,
//!   even when repeats are allowed: "similar" means another product like these.
//! - `upsell`: the upgrades ([`ShopModel::upsell`]) of every context product, each candidate
//!   with its best upgrade score, best first. Never the context: an upgrade is a product the
//!   customer does not have yet.
//! - `bundles`: the mined rules whose whole antecedent is in the context, each consequent
//!   with its best rule, ranked by confidence (the estimated chance it joins the basket), then
//!   lift, then catalogue order. Never the context: a rule's consequent completes the basket.
//! - `hybrid`: one list from what the widget's slots serve, in this order, without duplicates:
//!   the `bundles` consequents, then the `similar` list, then the `upsell` list, then
//!   best-sellers to fill up to `n` (serving's fallback for every slot). It never lists the
//!   context, whatever the protocol (its meaning today; a repeat-aware hybrid is future work).
//! - `best_sellers`: units sold in the training purchases, most first; the context is left
//!   out only when repeats are forbidden, so under next order a customer's own best-seller is
//!   listed.
//! - `random`: a uniformly random sample of the catalogue, from the seeded generator; the
//!   context is left out of the candidates only when repeats are forbidden.
//!
//! The history ([`Query::history`]) is read by no model yet: it is there for repeat-aware
//! models (how often and how recently a customer bought each product).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::RecommendSettings;
use crate::model::serve::{pick, PickRequest, Picks};
use crate::model::ShopModel;
use crate::recommend::blend::{rank, Query as BlendQuery};
use crate::recommend::copurchase::{build_co_purchase, CoPurchase, CoPurchaseSettings, CoSimilarity};
use crate::recommend::features::SparseVec;
use crate::records::Order;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Similar,
    Upsell,
    Bundles,
    Hybrid,
    Blend,
    Personal,
    ItemKnn,
    PopularInCategory,
    Repurchase,
    BestSellers,
    Random,
}

impl ModelKind {
    pub const ALL: [ModelKind; 11] = [
        ModelKind::Similar,
        ModelKind::Upsell,
        ModelKind::Bundles,
        ModelKind::Hybrid,
        ModelKind::Blend,
        ModelKind::Personal,
        ModelKind::ItemKnn,
        ModelKind::PopularInCategory,
        ModelKind::Repurchase,
        ModelKind::BestSellers,
        ModelKind::Random,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Similar => "similar",
            ModelKind::Upsell => "upsell",
            ModelKind::Bundles => "bundles",
            ModelKind::Hybrid => "hybrid",
            ModelKind::Blend => "blend",
            ModelKind::Personal => "personal",
            ModelKind::ItemKnn => "item_knn",
            ModelKind::PopularInCategory => "popular_in_category",
            ModelKind::Repurchase => "repurchase",
            ModelKind::BestSellers => "best_sellers",
            ModelKind::Random => "random",
        }
    }

    pub fn parse(raw: &str) -> Option<ModelKind> {
        let raw = raw.trim().to_ascii_lowercase().replace('-', "_");
        ModelKind::ALL.into_iter().find(|m| m.name() == raw)
    }
}

pub use crate::recommend::blend::HistoryItem;

/// What a model is asked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Query<'a> {
    /// Sorted, distinct product indices: the cart (basket completion) or every product the
    /// customer bought before (next order).
    pub context: &'a [u32],
    /// The customer's earlier purchases per product, sorted by product (its products are the
    /// context); empty for basket completion, an anonymous cart.
    pub history: &'a [HistoryItem],
    /// Whether the list may hold context products (a repurchase); see the module doc for the
    /// models that skip them anyway.
    pub allow_repeats: bool,
    /// When the order was paid (the "now" of repurchase timing); the epoch for a cart.
    pub at: DateTime<Utc>,
}

impl<'a> Query<'a> {
    /// An anonymous cart: no history, no repeats (basket completion's query).
    pub fn cart(context: &'a [u32]) -> Query<'a> {
        Query {
            context,
            history: &[],
            allow_repeats: false,
            at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    /// The same query with repeats forbidden.
    pub fn without_repeats(self) -> Query<'a> {
        Query {
            allow_repeats: false,
            ..self
        }
    }

    /// Whether product `i` is in the (sorted) context.
    pub fn in_context(&self, i: u32) -> bool {
        self.context.binary_search(&i).is_ok()
    }

    /// Whether product `i` may not be listed: it is in the context and repeats are forbidden.
    pub fn excludes(&self, i: u32) -> bool {
        !self.allow_repeats && self.in_context(i)
    }

    /// The customer's history of product `i`, if they bought it before.
    pub fn history_of(&self, i: u32) -> Option<&'a HistoryItem> {
        let history: &'a [HistoryItem] = self.history;
        history
            .binary_search_by_key(&i, |h| h.product)
            .ok()
            .map(|k| &history[k])
    }
}

/// What the models read, all built from the training purchases only: the shop's model (as
/// a rebuild makes it, blend fit included), the shop's recommend settings (for `hybrid`, as
/// served), and the plain item-kNN peer.
pub struct Trained {
    pub model: ShopModel,
    pub settings: RecommendSettings,
    /// Cosine on co-occurrence counts, no shrinkage, the 200 best neighbours per product.
    pub knn: CoPurchase,
}

impl Trained {
    /// Builds the peer from the model's own training purchases.
    pub fn new(model: ShopModel, train: &[Order], settings: &RecommendSettings) -> Trained {
        let plain = CoPurchaseSettings {
            k: KNN_NEIGHBOURS,
            similarity: CoSimilarity::Cosine,
            shrink: 0.0,
            min_count: 1,
        };
        let baskets = crate::model::baskets(train, &model.index);
        let knn = build_co_purchase(&baskets, model.products.len(), &plain);
        Trained {
            model,
            settings: settings.clone(),
            knn,
        }
    }
}

/// Neighbours per product of the item-kNN peer.
const KNN_NEIGHBOURS: usize = 200;

/// Ranks the query's recommendations with `kind`; `rng` is used by `random` only.
pub fn recommend(kind: ModelKind, t: &Trained, query: &Query, n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let model = &t.model;
    match kind {
        ModelKind::Similar => similar(model, query, n),
        ModelKind::Upsell => upsell(model, query, n),
        ModelKind::Bundles => bundles(model, query, n),
        ModelKind::Hybrid => hybrid(t, query, n),
        ModelKind::Blend => blend(model, query, n),
        ModelKind::Personal => personal(model, query, n),
        ModelKind::ItemKnn => item_knn(&t.knn, query, n),
        ModelKind::PopularInCategory => popular_in_category(model, query, n),
        ModelKind::Repurchase => repurchase(query, n),
        ModelKind::BestSellers => best_sellers(model, query, n),
        ModelKind::Random => random(model, query, n, rng),
    }
}

/// The plain co-purchase peer: Σ over the context of the cosine of co-occurrence counts.
pub fn item_knn(knn: &CoPurchase, query: &Query, n: usize) -> Vec<u32> {
    let mut score: HashMap<u32, f64> = HashMap::new();
    for &c in query.context {
        for nb in knn.neighbours.get(c as usize).into_iter().flatten() {
            if !query.excludes(nb.index) {
                // The peer is built without shrinkage: its score is the plain cosine.
                *score.entry(nb.index).or_default() += f64::from(nb.score);
            }
        }
    }
    top_n_by_score(score.into_iter().collect(), n)
}

/// Best-sellers among the products of the context's categories, most units first.
pub fn popular_in_category(model: &ShopModel, query: &Query, n: usize) -> Vec<u32> {
    let data = &model.blend;
    let cats = data.categories_of(query.context);
    let scored: Vec<(u32, f64)> = (0..model.products.len() as u32)
        .filter(|&i| {
            data.units[i as usize] > 0
                && cats.binary_search(&data.category[i as usize]).is_ok()
                && !query.excludes(i)
        })
        .map(|i| (i, data.units[i as usize] as f64))
        .collect();
    top_n_by_score(scored, n)
}

/// The customer's own most-bought earlier products (orders with it, then the latest first);
/// nothing when repeats are forbidden.
pub fn repurchase(query: &Query, n: usize) -> Vec<u32> {
    if !query.allow_repeats {
        return Vec::new();
    }
    let mut own: Vec<&HistoryItem> = query.history.iter().collect();
    own.sort_by(|a, b| {
        b.orders
            .cmp(&a.orders)
            .then(b.last.cmp(&a.last))
            .then(a.product.cmp(&b.product))
    });
    own.into_iter().take(n).map(|h| h.product).collect()
}

/// The product-page blend, with the weights fitted on the training purchases.
pub fn blend(model: &ShopModel, query: &Query, n: usize) -> Vec<u32> {
    let q = BlendQuery {
        context: query.context,
        history: &[],
        now: query.at,
        allow_repeats: query.allow_repeats,
    };
    rank(
        &model.blend,
        &model.similar,
        &model.fit.item.weights,
        &q,
        n,
        &|_| true,
    )
    .into_iter()
    .map(|r| r.index)
    .collect()
}

/// The personal blend (a signed-in customer's own list) over the query's history.
pub fn personal(model: &ShopModel, query: &Query, n: usize) -> Vec<u32> {
    let q = BlendQuery {
        context: &[],
        history: query.history,
        now: query.at,
        allow_repeats: query.allow_repeats,
    };
    let keep = |i: u32| !query.excludes(i);
    rank(
        &model.blend,
        &model.similar,
        &model.fit.personal.weights,
        &q,
        n,
        &keep,
    )
    .into_iter()
    .map(|r| r.index)
    .collect()
}

/// Sorts (index, score) best first, ties by index, and keeps the first `n` indices.
fn top_n_by_score(mut scored: Vec<(u32, f64)>, n: usize) -> Vec<u32> {
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.into_iter().take(n).map(|(i, _)| i).collect()
}

/// Never the context (see the module doc).
pub fn similar(model: &ShopModel, query: &Query, n: usize) -> Vec<u32> {
    let vectors: Vec<&SparseVec> = query
        .context
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
        .filter(|&(i, s)| s > 0.0 && !query.in_context(i))
        .collect();
    top_n_by_score(scored, n)
}

/// Never the context (see the module doc).
pub fn upsell(model: &ShopModel, query: &Query, n: usize) -> Vec<u32> {
    let mut best: HashMap<u32, f64> = HashMap::new();
    for &c in query.context {
        for u in model.upsell.get(c as usize).into_iter().flatten() {
            if query.in_context(u.index) {
                continue;
            }
            let score = f64::from(u.score);
            let entry = best.entry(u.index).or_insert(score);
            *entry = entry.max(score);
        }
    }
    top_n_by_score(best.into_iter().collect(), n)
}

/// Never the context (see the module doc).
pub fn bundles(model: &ShopModel, query: &Query, n: usize) -> Vec<u32> {
    // Consequent → its best (confidence, lift).
    let mut best: HashMap<u32, (f64, f64)> = HashMap::new();
    for r in &model.bundles.rules {
        if query.in_context(r.consequent) || !r.antecedent.iter().all(|&a| query.in_context(a)) {
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

/// The context only when repeats are allowed.
pub fn best_sellers(model: &ShopModel, query: &Query, n: usize) -> Vec<u32> {
    model
        .best_sellers
        .iter()
        .map(|&(i, _)| i)
        .filter(|&i| !query.excludes(i))
        .take(n)
        .collect()
}

/// What the widget serves. With a history (a signed-in customer, next order): the `for_you`
/// slot. Otherwise the product page of the context's first product (by catalogue order) with
/// the rest in the cart: the bundle slot's partners, then the similar slot, then the upgrade
/// slot, then best-sellers to fill up to `n`, without duplicates. Fixed offers, the shop
/// owner's choice rather than a model, are left out.
pub fn hybrid(t: &Trained, query: &Query, n: usize) -> Vec<u32> {
    let model = &t.model;
    let keep = |i: usize| !query.excludes(i as u32);
    let now = query.at;
    let viewed = query.context.first().copied();
    let cart: Vec<usize> = query.context.iter().skip(1).map(|&i| i as usize).collect();
    let picks = match viewed {
        Some(v) if query.history.is_empty() => pick(
            model,
            &t.settings,
            &PickRequest {
                viewed: v as usize,
                cart: &cart,
                customer: None,
                limit: n,
                keep: &|i| keep(i) && i != v as usize,
                offered: &[],
                now,
            },
        ),
        _ => Picks::default(),
    };
    let own = if query.history.is_empty() {
        Vec::new()
    } else {
        personal(model, query, n)
    };
    let mut out: Vec<u32> = Vec::with_capacity(n);
    let parts = own
        .into_iter()
        .chain(
            picks
                .bundles
                .iter()
                .flat_map(|b| b.with.iter().map(|&i| i as u32)),
        )
        .chain(picks.similar.iter().map(|p| p.index as u32))
        .chain(picks.upsell.iter().map(|p| p.index as u32))
        .chain(best_sellers(model, query, n));
    for i in parts {
        if out.len() == n {
            break;
        }
        if !out.contains(&i) && !query.excludes(i) {
            out.push(i);
        }
    }
    out
}

/// The first `n` draws of a Fisher–Yates shuffle of the candidates (the catalogue, less the
/// context when repeats are forbidden), so that the list for a smaller `n` is a prefix of the
/// list for a larger one.
pub fn random(model: &ShopModel, query: &Query, n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let mut candidates: Vec<u32> = (0..model.products.len() as u32)
        .filter(|&i| !query.excludes(i))
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
    use crate::model::build_model;
    use rand::SeedableRng;

    fn model() -> ShopModel {
        build_model(catalogue(), &orders(), &RecommendSettings::default())
    }

    fn trained() -> Trained {
        Trained::new(model(), &orders(), &RecommendSettings::default())
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

    /// A next-order query over `ctx`: one earlier purchase of each product.
    fn history(ctx: &[u32]) -> Vec<HistoryItem> {
        let at = crate::eval::fixtures::at(1, 9);
        ctx.iter()
            .map(|&product| HistoryItem {
                product,
                orders: 1,
                first: at,
                last: at,
            })
            .collect()
    }

    #[test]
    fn no_model_recommends_the_context_when_repeats_are_forbidden_and_a_shorter_list_is_a_prefix() {
        let t = trained();
        let m = &t.model;
        for kind in ModelKind::ALL {
            for ctx in contexts(m) {
                let h = history(&ctx);
                for allow_repeats in [false, true] {
                    let q = Query {
                        context: &ctx,
                        history: &h,
                        allow_repeats,
                        at: crate::eval::fixtures::at(30, 9),
                    };
                    let mut rng = ChaCha8Rng::seed_from_u64(3);
                    let five = recommend(kind, &t, &q, 5, &mut rng);
                    let mut rng = ChaCha8Rng::seed_from_u64(3);
                    let three = recommend(kind, &t, &q, 3, &mut rng);
                    assert!(five.len() <= 5, "{kind:?}");
                    // Only the repeat-aware models list what the customer has, and only when
                    // the protocol allows repeats.
                    let may_repeat = allow_repeats
                        && !matches!(kind, ModelKind::Similar | ModelKind::Upsell | ModelKind::Bundles);
                    if !may_repeat {
                        assert!(
                            five.iter().all(|i| !ctx.contains(i)),
                            "{kind:?} {ctx:?} repeats {allow_repeats}: {five:?}"
                        );
                    }
                    let distinct: std::collections::BTreeSet<_> = five.iter().collect();
                    assert_eq!(distinct.len(), five.len(), "{kind:?}: duplicates in {five:?}");
                    assert_eq!(three[..], five[..three.len()], "{kind:?} {ctx:?}");
                    assert_eq!(three.len(), five.len().min(3), "{kind:?} {ctx:?}");
                }
            }
        }
    }

    #[test]
    fn similar_upsell_and_bundles_give_the_same_list_whether_repeats_are_allowed_or_not() {
        let t = trained();
        for kind in [ModelKind::Similar, ModelKind::Upsell, ModelKind::Bundles] {
            for ctx in contexts(&t.model) {
                let h = history(&ctx);
                let q = Query {
                    context: &ctx,
                    history: &h,
                    allow_repeats: true,
                    at: crate::eval::fixtures::at(30, 9),
                };
                let mut rng = ChaCha8Rng::seed_from_u64(3);
                assert_eq!(
                    recommend(kind, &t, &q, 5, &mut rng),
                    recommend(kind, &t, &Query::cart(&ctx), 5, &mut rng),
                    "{kind:?} {ctx:?}"
                );
            }
        }
    }

    #[test]
    fn a_query_finds_the_history_of_a_product() {
        let ctx = [1u32, 4, 6];
        let h = history(&ctx);
        let q = Query {
            context: &ctx,
            history: &h,
            allow_repeats: true,
            at: crate::eval::fixtures::at(30, 9),
        };
        assert_eq!(q.history_of(4).map(|x| x.product), Some(4));
        assert_eq!(q.history_of(5), None);
        assert!(q.in_context(6) && !q.excludes(6));
        assert!(q.without_repeats().excludes(6) && !q.without_repeats().excludes(5));
        assert!(Query::cart(&ctx).history.is_empty());
    }

    #[test]
    fn similar_to_one_product_is_that_products_similar_list() {
        let m = model();
        for i in 0..m.products.len() {
            let expected: Vec<u32> = m.similar[i].iter().map(|nb| nb.index).take(4).collect();
            assert_eq!(
                similar(&m, &Query::cart(&[i as u32]), 4),
                expected,
                "{}",
                m.products[i].id
            );
        }
    }

    #[test]
    fn upsell_offers_the_bigger_pack_of_what_is_in_the_cart() {
        let m = model();
        let srd = idx(&m, "SRD-100");
        assert_eq!(upsell(&m, &Query::cart(&[srd]), 5), vec![idx(&m, "SRD-250P")]);
        assert!(
            upsell(&m, &Query::cart(&[idx(&m, "HMP-01")]), 5).is_empty(),
            "nothing above the hampers"
        );
    }

    #[test]
    fn bundles_rank_every_applicable_consequent_by_confidence_then_lift() {
        let m = model();
        for ctx in contexts(&m) {
            let got = bundles(&m, &Query::cart(&ctx), usize::MAX);
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
        assert_eq!(bundles(&m, &Query::cart(&[srd]), 1), vec![idx(&m, "TPG-100")]);
    }

    #[test]
    fn hybrid_is_what_the_widget_serves_on_the_product_page() {
        use crate::model::serve::{recommend as serve, Lang, Request};
        let t = trained();
        let m = &t.model;
        for v in 0..m.products.len() as u32 {
            let served = serve(
                m,
                "shop",
                &t.settings,
                &[],
                &Request {
                    product: &m.products[v as usize].id,
                    customer: None,
                    cart: &[],
                    limit: 4,
                    lang: Lang::Id,
                },
            )
            .unwrap();
            let mut expected: Vec<String> = Vec::new();
            let ids = served
                .bundles
                .iter()
                .flat_map(|b| b.items.iter().skip(1))
                .chain(&served.similar)
                .chain(&served.upsell)
                .map(|it| it.id.clone())
                .chain(
                    best_sellers(m, &Query::cart(&[v]), 4)
                        .into_iter()
                        .map(|i| m.products[i as usize].id.to_string()),
                );
            for id in ids {
                if !expected.contains(&id) {
                    expected.push(id);
                }
            }
            expected.truncate(4);
            let got: Vec<String> = hybrid(&t, &Query::cart(&[v]), 4)
                .into_iter()
                .map(|i| m.products[i as usize].id.to_string())
                .collect();
            assert_eq!(got, expected, "{}", m.products[v as usize].id);
        }
    }

    #[test]
    fn repurchase_lists_the_customers_most_bought_products_and_nothing_without_repeats() {
        let at = crate::eval::fixtures::at;
        let h = vec![
            HistoryItem {
                product: 1,
                orders: 2,
                first: at(1, 9),
                last: at(5, 9),
            },
            HistoryItem {
                product: 3,
                orders: 5,
                first: at(1, 9),
                last: at(4, 9),
            },
            HistoryItem {
                product: 4,
                orders: 2,
                first: at(1, 9),
                last: at(6, 9),
            },
        ];
        let ctx = [1u32, 3, 4];
        let q = Query {
            context: &ctx,
            history: &h,
            allow_repeats: true,
            at: at(10, 9),
        };
        // Most orders first, then the latest.
        assert_eq!(repurchase(&q, 5), vec![3, 4, 1]);
        assert_eq!(repurchase(&q, 1), vec![3]);
        assert!(repurchase(&q.without_repeats(), 5).is_empty());
    }

    #[test]
    fn item_knn_sums_the_plain_cosines_over_the_context() {
        let t = trained();
        let m = &t.model;
        for ctx in contexts(m) {
            let got = item_knn(&t.knn, &Query::cart(&ctx), 3);
            let score = |j: u32| -> f64 {
                ctx.iter()
                    .filter_map(|&c| {
                        let n = t.knn.neighbours[c as usize].iter().find(|n| n.index == j)?;
                        Some(t.knn.cosine(c as usize, n))
                    })
                    .sum()
            };
            for w in got.windows(2) {
                assert!(score(w[0]) >= score(w[1]), "{ctx:?}: {got:?}");
            }
            assert!(got.iter().all(|i| !ctx.contains(i) && score(*i) > 0.0));
        }
    }

    #[test]
    fn best_sellers_follow_units_sold_and_skip_the_cart() {
        let m = model();
        let all = best_sellers(&m, &Query::cart(&[]), 100);
        let units: Vec<u64> = all
            .iter()
            .map(|i| m.best_sellers.iter().find(|(j, _)| j == i).unwrap().1)
            .collect();
        assert!(units.windows(2).all(|w| w[0] >= w[1]), "{units:?}");
        let top = all[0];
        assert_eq!(best_sellers(&m, &Query::cart(&[top]), 1), vec![all[1]]);
    }

    #[test]
    fn under_next_order_best_sellers_list_the_customers_own_best_seller() {
        let m = model();
        let all = best_sellers(&m, &Query::cart(&[]), 100);
        let (top, second) = (all[0], all[1]);
        // The customer bought the best-seller and the second one before.
        let ctx = if top < second {
            vec![top, second]
        } else {
            vec![second, top]
        };
        let h = history(&ctx);
        let repeats = Query {
            context: &ctx,
            history: &h,
            allow_repeats: true,
            at: crate::eval::fixtures::at(30, 9),
        };
        assert_eq!(best_sellers(&m, &repeats, 3), all[..3].to_vec());
        // Next order, new products only: the same customer is offered the third and fourth.
        let new_only = repeats.without_repeats();
        assert_eq!(best_sellers(&m, &new_only, 2), all[2..4].to_vec());
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(
            recommend(ModelKind::BestSellers, &trained(), &repeats, 1, &mut rng),
            vec![top]
        );
    }

    #[test]
    fn random_draws_uniformly_from_the_rest_of_the_catalogue_and_repeats_with_the_seed() {
        let m = model();
        let ctx = vec![0u32, 1];
        let q = Query::cart(&ctx);
        let mut counts = vec![0usize; m.products.len()];
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..6000 {
            for i in random(&m, &q, 1, &mut rng) {
                counts[i as usize] += 1;
            }
        }
        assert_eq!(counts[0] + counts[1], 0);
        // 6 candidates, 1000 expected each; 4σ ≈ 4·√(6000·(1/6)(5/6)) ≈ 115.
        assert!(
            counts[2..].iter().all(|&c| (885..=1115).contains(&c)),
            "{counts:?}"
        );
        let draw = |seed| random(&m, &q, 3, &mut ChaCha8Rng::seed_from_u64(seed));
        assert_eq!(draw(5), draw(5));
        // With repeats allowed the whole catalogue is drawn from.
        let repeats = Query {
            allow_repeats: true,
            ..q
        };
        let mut seen = std::collections::BTreeSet::new();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..400 {
            seen.extend(random(&m, &repeats, 1, &mut rng));
        }
        assert_eq!(seen.len(), m.products.len());
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
