//! Picking the products of each list of a product page, as catalogue indices with the
//! evidence for each (its [`Why`]); dressing them as items with reasons happens after.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::RecommendSettings;
use crate::domain::{CustomerId, Rupiah};
use crate::model::ShopModel;
use crate::recommend::blend::{candidates, rank, rank_candidates, sig, Query, Ranked, Weights};
use crate::recommend::features::SparseVec;
use crate::recommend::similar::SharedTraits;
use crate::recommend::upsell::Upgrade;

/// Why a product is on a list: the evidence its reason tells.
#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    /// The shop owner pinned it.
    Pin,
    /// Alike in what it is (a similar-products neighbour with real evidence): what the
    /// viewed product shares with the pick.
    Similar(SharedTraits),
    /// Bought together with the viewed product: the share of its buyers who did.
    Bought { confidence: f32 },
    /// Bought together with what the customer has (or the cart), not the viewed product alone.
    Goes,
    /// A best-seller of the viewed product's category.
    CategoryBest { units: u64 },
    /// A best-seller of the shop.
    BestSeller { units: u64 },
    /// An upgrade of the viewed product.
    Upgrade(Upgrade),
    /// The customer's own product: bought in this many orders; `due` when it is time again.
    Again { orders: u32, due: bool },
}

impl Why {
    /// The list's `source` for this reason.
    pub fn source(&self) -> &'static str {
        match self {
            Why::Pin => "pin",
            Why::Similar(_) => "similar",
            Why::Bought { .. } | Why::Goes => "co_purchase",
            Why::CategoryBest { .. } => "category_best_seller",
            Why::BestSeller { .. } => "best_seller",
            Why::Upgrade(_) => "upgrade",
            Why::Again { .. } => "repurchase",
        }
    }
}

/// How far the blend may move an alike product up the similar list (its likeness is 0–1).
const ALIKE_BLEND_SHARE: f32 = 0.25;

/// One product picked for a list, before it is dressed as an [`Item`](crate::model::serve::Item).
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    pub index: usize,
    pub score: f32,
    pub why: Why,
}

/// A bundle made of the viewed product and partners, before it is dressed as an offer.
#[derive(Debug, Clone, PartialEq)]
pub struct BundlePick {
    /// Partners of the viewed product (one for a pair, two for a mined 3-item bundle).
    pub with: Vec<usize>,
    /// (support, confidence, lift) of the evidence; `None` for the best-seller fallback.
    pub stats: Option<(f64, f64, f64)>,
    /// The first partner's reason.
    pub why: Why,
}

/// The product-page lists of a request as catalogue indices with their reasons: what the
/// widget's slots serve (fixed offers aside) and what `laris eval` measures as `hybrid`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Picks {
    pub similar: Vec<Pick>,
    pub upsell: Vec<Pick>,
    pub bundles: Vec<BundlePick>,
    pub for_you: Vec<Pick>,
}

/// Everything the picking needs besides the model.
pub struct PickRequest<'a> {
    pub viewed: usize,
    /// Other products in the cart (catalogue indices).
    pub cart: &'a [usize],
    pub customer: Option<&'a CustomerId>,
    pub limit: usize,
    /// Products the lists may show (stock, exclusions, the cart and the viewed product).
    pub keep: &'a dyn Fn(usize) -> bool,
    /// Partners already offered by a fixed offer with the viewed product.
    pub offered: &'a [usize],
    pub now: DateTime<Utc>,
}

fn units_of(model: &ShopModel, i: usize) -> u64 {
    model.blend.units.get(i).copied().unwrap_or(0)
}

/// The reason a blended candidate is on a list, by its strongest signal.
fn blended_why(model: &ShopModel, viewed: Option<usize>, r: &Ranked, w: &Weights) -> Why {
    let i = r.index as usize;
    match r.main_signal(w) {
        sig::CO_PURCHASE | sig::CO_CONFIDENCE | sig::SIMILAR_BASKETS => match viewed.and_then(|v| {
            model.blend.co.neighbours[v]
                .iter()
                .find(|n| n.index == r.index)
                .map(|n| n.confidence)
        }) {
            Some(confidence) => Why::Bought { confidence },
            None => Why::Goes,
        },
        sig::CATEGORY_POPULAR => Why::CategoryBest {
            units: units_of(model, i),
        },
        sig::REPURCHASE | sig::DUE => Why::Again {
            orders: 0,
            due: r.main_signal(w) == sig::DUE,
        },
        _ => Why::BestSeller {
            units: units_of(model, i),
        },
    }
}

/// The context of a product page: the viewed product and the cart, sorted and distinct.
fn page_context(viewed: usize, cart: &[usize]) -> Vec<u32> {
    let mut c: Vec<u32> = std::iter::once(viewed)
        .chain(cart.iter().copied())
        .map(|i| i as u32)
        .collect();
    c.sort_unstable();
    c.dedup();
    c
}

fn push_unique(out: &mut Vec<Pick>, p: Pick, limit: usize) {
    if out.len() < limit && !out.iter().any(|x| x.index == p.index) {
        out.push(p);
    }
}

pub(super) fn fill_with_best_sellers_picks(
    model: &ShopModel,
    keep: &dyn Fn(usize) -> bool,
    out: &mut Vec<Pick>,
    limit: usize,
    min_price: Option<Rupiah>,
) {
    for &(i, units) in &model.best_sellers {
        if out.len() >= limit {
            break;
        }
        let i = i as usize;
        if !keep(i) || min_price.is_some_and(|m| model.products[i].price <= m) {
            continue;
        }
        push_unique(
            out,
            Pick {
                index: i,
                score: 0.0,
                why: Why::BestSeller { units },
            },
            limit,
        );
    }
}

/// Picks every product-page list of a request. Pure: the same model and request give the
/// same lists.
pub fn pick(model: &ShopModel, s: &RecommendSettings, req: &PickRequest) -> Picks {
    let viewed = req.viewed;
    let context = page_context(viewed, req.cart);
    let item_w = model.fit.item.weights;
    let query = Query {
        context: &context,
        history: &[],
        now: req.now,
        allow_repeats: false,
    };
    let keep = |i: u32| (req.keep)(i as usize);
    let cands = candidates(&model.blend, &model.similar, &query);
    let blend_score: HashMap<u32, f32> = cands
        .iter()
        .map(|c| (c.index, item_w.score(&c.signals)))
        .collect();
    let blended = rank_candidates(cands, &item_w, req.limit.max(8) * 3, &keep);
    let score_of = |i: usize| {
        blend_score
            .get(&(i as u32))
            .copied()
            .unwrap_or_else(|| item_w.popular * model.blend.popular.get(i).copied().unwrap_or(0.0))
    };

    // Similar: pins, then neighbours with real evidence (by likeness, adjusted by the blend),
    // then what the blend ranks first.
    let mut similar: Vec<Pick> = Vec::new();
    for pinned in s.pin.get(&model.products[viewed].id).into_iter().flatten() {
        if let Some(i) = model.product_index(pinned) {
            if (req.keep)(i) {
                push_unique(
                    &mut similar,
                    Pick {
                        index: i,
                        score: 1.0,
                        why: Why::Pin,
                    },
                    req.limit,
                );
            }
        }
    }
    let prof = profile(model, req.customer);
    let alike_neighbours: Vec<&crate::recommend::similar::Neighbour> = model.similar[viewed]
        .iter()
        .filter(|n| crate::recommend::blend::content_evidence(n) && (req.keep)(n.index as usize))
        .collect();
    let best_blend = alike_neighbours
        .iter()
        .map(|n| score_of(n.index as usize))
        .fold(0.0f32, f32::max);
    let mut alike: Vec<Pick> = alike_neighbours
        .into_iter()
        .map(|n| {
            // Likeness first; what sells with this page (the blend, scaled to the best of
            // these) moves an alike product up by at most a quarter; a signed-in customer's
            // purchases nudge it too.
            let i = n.index as usize;
            let sells = if best_blend > 0.0 {
                score_of(i) / best_blend
            } else {
                0.0
            };
            let base = n.score + ALIKE_BLEND_SHARE * sells;
            let score = match &prof {
                Some(pv) => base + 0.3 * pv.dot(&model.features.vectors[i]),
                None => base,
            };
            Pick {
                index: i,
                score,
                why: Why::Similar(n.traits),
            }
        })
        .collect();
    alike.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    for p in alike {
        push_unique(&mut similar, p, req.limit);
    }
    for r in &blended {
        let why = blended_why(model, Some(viewed), r, &item_w);
        push_unique(
            &mut similar,
            Pick {
                index: r.index as usize,
                score: r.score,
                why,
            },
            req.limit,
        );
    }
    fill_with_best_sellers_picks(model, req.keep, &mut similar, req.limit, None);

    // Upgrades: the product-line rule decides which; the blend decides the order.
    let mut upgrades: Vec<(f32, usize, &Upgrade)> = model.upsell[viewed]
        .iter()
        .enumerate()
        .filter(|(_, u)| (req.keep)(u.index as usize))
        .map(|(k, u)| (score_of(u.index as usize), k, u))
        .collect();
    upgrades.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut upsell: Vec<Pick> = upgrades
        .into_iter()
        .take(req.limit)
        .map(|(_, _, u)| Pick {
            index: u.index as usize,
            score: u.score,
            why: Why::Upgrade(u.clone()),
        })
        .collect();
    if upsell.is_empty() {
        fill_with_best_sellers_picks(
            model,
            req.keep,
            &mut upsell,
            req.limit,
            Some(model.products[viewed].price),
        );
    }

    // Bundles: pairs with co-purchase evidence, ranked by the blend; a mined 3-item bundle.
    let mut bundles: Vec<BundlePick> = Vec::new();
    let mut pairs: Vec<(f32, &crate::recommend::copurchase::CoNeighbour)> = model.blend.co.neighbours[viewed]
        .iter()
        .filter(|n| {
            let i = n.index as usize;
            n.count >= s.pair_min_count
                && model.blend.co.lift(n) > 1.0
                && model.blend.co.confidence_low(viewed, n) >= s.pair_min_confidence
                && (req.keep)(i)
                && !req.offered.contains(&i)
        })
        .map(|n| (score_of(n.index as usize), n))
        .collect();
    pairs.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(b.1.confidence.total_cmp(&a.1.confidence))
            .then(a.1.index.cmp(&b.1.index))
    });
    let max_pairs = s.bundle_max_items.saturating_sub(1).clamp(1, 2);
    let n_baskets = f64::from(model.blend.co.baskets.max(1));
    for (_, n) in pairs.into_iter().take(max_pairs) {
        bundles.push(BundlePick {
            with: vec![n.index as usize],
            stats: Some((
                f64::from(n.count) / n_baskets,
                f64::from(n.confidence),
                model.blend.co.lift(n),
            )),
            why: Why::Bought {
                confidence: n.confidence,
            },
        });
    }
    if s.bundle_max_items >= 3 {
        let trio = model.bundles.by_product[viewed].iter().find(|r| {
            r.with.len() == 1
                && [r.with[0] as usize, r.consequent as usize]
                    .iter()
                    .all(|&i| (req.keep)(i) && !req.offered.contains(&i))
        });
        if let Some(r) = trio {
            bundles.push(BundlePick {
                with: vec![r.with[0] as usize, r.consequent as usize],
                stats: Some((r.support, r.confidence, r.lift)),
                why: Why::Bought {
                    confidence: r.confidence as f32,
                },
            });
        }
    }
    if bundles.is_empty() && req.offered.is_empty() {
        let mut best = Vec::new();
        fill_with_best_sellers_picks(model, req.keep, &mut best, 1, None);
        if let Some(b) = best.pop() {
            bundles.push(BundlePick {
                with: vec![b.index],
                stats: None,
                why: b.why,
            });
        }
    }

    Picks {
        similar,
        upsell,
        bundles,
        for_you: for_you(model, req),
    }
}

/// A signed-in customer's own list: their products due again and what goes with them,
/// ranked by the personal blend. Empty for an anonymous visitor or a customer with no
/// purchases yet.
pub fn for_you(model: &ShopModel, req: &PickRequest) -> Vec<Pick> {
    let Some(history) = req.customer.and_then(|c| model.histories.get(c)) else {
        return Vec::new();
    };
    let w = model.fit.personal.weights;
    let query = Query {
        context: &[],
        history,
        now: req.now,
        allow_repeats: true,
    };
    let keep = |i: u32| (req.keep)(i as usize);
    rank(&model.blend, &model.similar, &w, &query, req.limit, &keep)
        .into_iter()
        .map(|r| {
            let why = match history.binary_search_by_key(&r.index, |h| h.product) {
                Ok(k) if r.signals[sig::REPURCHASE] > 0.0 => Why::Again {
                    orders: history[k].orders,
                    due: r.signals[sig::DUE] >= 0.5,
                },
                _ => blended_why(model, None, &r, &w),
            };
            Pick {
                index: r.index as usize,
                score: r.score,
                why,
            }
        })
        .collect()
}

fn profile(model: &ShopModel, customer: Option<&CustomerId>) -> Option<SparseVec> {
    let bought = model.histories.get(customer?)?;
    let vectors: Vec<&SparseVec> = bought
        .iter()
        .filter_map(|h| model.features.vectors.get(h.product as usize))
        .collect();
    (!vectors.is_empty()).then(|| SparseVec::mean(&vectors))
}
