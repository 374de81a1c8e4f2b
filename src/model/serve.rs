//! Answering one recommendation request from a [`ShopModel`]: filter, fall back, explain.
//! Pure and cheap: a few lookups and short sorts, whatever the catalogue size.
//!
//! Never recommended: the viewed product, an inactive or out-of-stock product, one already
//! in the cart, one the shop owner excluded. Every list falls back to best-sellers when the
//! model has too little (the up-sell list only to pricier best-sellers: a cheaper product
//! is not an upgrade).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{FixedOffer, RecommendSettings};
use crate::domain::{CustomerId, ProductId, Rupiah};
use crate::model::ShopModel;
use crate::recommend::blend::{candidates, rank, rank_candidates, sig, Query, Ranked, Weights};
use crate::recommend::features::SparseVec;
use crate::recommend::similar::SharedTraits;
use crate::recommend::upsell::{Upgrade, UpgradeKind};
use crate::records::Product;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl Lang {
    pub fn parse(raw: &str) -> Option<Lang> {
        match raw {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    fn pick(self, id: String, en: String) -> String {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }
}

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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleOffer {
    pub items: Vec<Item>,
    /// Sum of the items' prices (times quantities for fixed offers).
    pub price: i64,
    pub bundle_price: i64,
    pub discount_pct: f64,
    pub support: Option<f64>,
    pub confidence: Option<f64>,
    pub lift: Option<f64>,
    pub reason: String,
    /// `mined` (association rule), `fixed` (shop owner's offer) or `best_sellers` (fallback).
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendations {
    pub shop: String,
    pub product: Item,
    pub similar: Vec<Item>,
    pub upsell: Vec<Item>,
    pub bundles: Vec<BundleOffer>,
    /// A signed-in customer's own list (their products due again, and what goes with them);
    /// empty for an anonymous visitor.
    #[serde(default)]
    pub for_you: Vec<Item>,
    /// Filled by the loyalty layer; `null` when it has nothing to say.
    pub loyalty: serde_json::Value,
}

pub struct Request<'a> {
    pub product: &'a ProductId,
    pub customer: Option<&'a CustomerId>,
    pub cart: &'a [ProductId],
    pub limit: usize,
    pub lang: Lang,
}

fn item(p: &Product, score: f32, reason: String) -> Item {
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
    }
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn decimal(x: f64, lang: Lang) -> String {
    let s = format!("{x:.1}");
    match lang {
        Lang::Id => s.replace('.', ","),
        Lang::En => s,
    }
}

fn similar_reason(t: &SharedTraits, same_price_cluster: bool, lang: Lang) -> String {
    let mut id_parts: Vec<String> = Vec::new();
    let mut en_parts: Vec<String> = Vec::new();
    if t.same_category {
        id_parts.push("kategori sama".into());
        en_parts.push("same category".into());
    }
    for (k, v) in t.attributes.iter().chain(&t.numbers).take(2) {
        id_parts.push(format!("{k} {v}"));
        en_parts.push(format!("{k} {v}"));
    }
    if id_parts.len() < 2 && !t.words.is_empty() {
        let words = t.words.iter().take(2).cloned().collect::<Vec<_>>().join(" ");
        id_parts.push(format!("sama-sama \"{words}\""));
        en_parts.push(format!("both \"{words}\""));
    }
    if same_price_cluster || (0.8..=1.25).contains(&t.price_ratio) {
        id_parts.push("harga serupa".into());
        en_parts.push("similar price".into());
    }
    if id_parts.is_empty() {
        return lang.pick("Mirip produk ini".into(), "Similar to this product".into());
    }
    lang.pick(
        format!("Mirip: {}", id_parts.join(", ")),
        format!("Similar: {}", en_parts.join(", ")),
    )
}

fn best_seller_reason(units: u64, lang: Lang) -> String {
    lang.pick(
        format!("Terlaris: {units} terjual"),
        format!("Best-seller: {units} sold"),
    )
}

/// Why a product is on a list: the evidence its reason tells.
#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    /// The shop owner pinned it.
    Pin,
    /// Alike in what it is (a similar-products neighbour with real evidence).
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

/// One product picked for a list, before it is dressed as an [`Item`].
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

fn fill_with_best_sellers_picks(
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
    let viewed_id = model.products[viewed].id.as_str();
    for raw in s.pin.get(viewed_id).into_iter().flatten() {
        if let Some(i) = ProductId::parse(raw).ok().and_then(|p| model.product_index(&p)) {
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
                why: Why::Similar(n.traits.clone()),
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

/// The reason shown for a pick.
fn reason(model: &ShopModel, viewed: usize, why: &Why, same_cluster: bool, lang: Lang) -> String {
    let viewed_p = &model.products[viewed];
    match why {
        Why::Pin => lang.pick("Pilihan toko".into(), "The shop's pick".into()),
        Why::Similar(t) => similar_reason(t, same_cluster, lang),
        Why::Bought { confidence } => lang.pick(
            format!(
                "Sering dibeli bersama: {} pembeli {} juga membeli produk ini",
                pct(f64::from(*confidence)),
                viewed_p.name
            ),
            format!(
                "Often bought together: {} of buyers of {} also bought this",
                pct(f64::from(*confidence)),
                viewed_p.name
            ),
        ),
        Why::Goes => lang.pick(
            "Sering dibeli bersama produk pilihan Anda".into(),
            "Often bought with what you chose".into(),
        ),
        Why::CategoryBest { units } => lang.pick(
            format!("Terlaris di kategori ini: {units} terjual"),
            format!("Best-seller in this category: {units} sold"),
        ),
        Why::BestSeller { units } => best_seller_reason(*units, lang),
        Why::Upgrade(u) => upgrade_reason(u, viewed_p, lang),
        Why::Again { orders, due } => match (due, orders) {
            (true, _) => lang.pick("Waktunya beli lagi".into(), "Time to buy it again".into()),
            (false, n) if *n > 1 => lang.pick(
                format!("Anda membelinya {n}× sebelumnya"),
                format!("You bought it {n}× before"),
            ),
            _ => lang.pick("Beli lagi".into(), "Buy it again".into()),
        },
    }
}

fn upgrade_reason(u: &Upgrade, viewed_p: &Product, lang: Lang) -> String {
    match (u.kind, u.pack_ratio) {
        (UpgradeKind::BiggerPack, Some(r)) if u.price_ratio < r => lang.pick(
            format!(
                "Kemasan lebih besar ({}×), per gram lebih hemat",
                decimal(r, Lang::Id)
            ),
            format!("Bigger pack ({}×), less per gram", decimal(r, Lang::En)),
        ),
        // Not cheaper per gram: do not claim it is.
        (UpgradeKind::BiggerPack, Some(r)) => lang.pick(
            format!("Kemasan lebih besar ({}×)", decimal(r, Lang::Id)),
            format!("Bigger pack ({}×)", decimal(r, Lang::En)),
        ),
        _ => lang.pick(
            format!("Versi lebih premium dari {}", viewed_p.name),
            format!("A premium step up from {}", viewed_p.name),
        ),
    }
}

/// What may be shown at all for this request.
struct Allowed<'a> {
    model: &'a ShopModel,
    blocked: HashSet<usize>,
}

impl<'a> Allowed<'a> {
    fn new(model: &'a ShopModel, viewed: usize, cart: &[usize], exclude: &[String]) -> Self {
        let mut blocked: HashSet<usize> = cart.iter().copied().collect();
        blocked.insert(viewed);
        for raw in exclude {
            if let Some(i) = ProductId::parse(raw).ok().and_then(|p| model.product_index(&p)) {
                blocked.insert(i);
            }
        }
        Allowed { model, blocked }
    }

    fn ok(&self, i: usize) -> bool {
        !self.blocked.contains(&i) && self.model.products.get(i).is_some_and(Product::is_available)
    }
}

fn profile(model: &ShopModel, customer: Option<&CustomerId>) -> Option<SparseVec> {
    let bought = model.histories.get(customer?)?;
    let vectors: Vec<&SparseVec> = bought
        .iter()
        .filter_map(|h| model.features.vectors.get(h.product as usize))
        .collect();
    (!vectors.is_empty()).then(|| SparseVec::mean(&vectors))
}

/// Dresses the picks of a list as items with their reasons.
fn items(
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
                reason(model, viewed, &p.why, same_cluster(p.index), lang),
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

/// The shop owner's fixed offers that involve the viewed product, and the partners they
/// cover (a mined bundle of the same pair is not shown again).
fn fixed_offers(
    model: &ShopModel,
    offers: &[FixedOffer],
    viewed: usize,
    lang: Lang,
) -> (Vec<BundleOffer>, Vec<usize>) {
    let mut out: Vec<BundleOffer> = Vec::new();
    let mut covered: Vec<usize> = Vec::new();
    for offer in offers {
        let lines: Vec<(usize, u32, bool)> = offer
            .buy
            .iter()
            .map(|l| (l, false))
            .chain(offer.free.iter().map(|l| (l, true)))
            .filter_map(|(l, free)| {
                let i = ProductId::parse(&l.product)
                    .ok()
                    .and_then(|p| model.product_index(&p))?;
                Some((i, l.quantity, free))
            })
            .collect();
        let complete = lines.len() == offer.buy.len() + offer.free.len();
        let involves = lines.iter().any(|(i, _, _)| *i == viewed);
        let available = lines.iter().all(|(i, _, _)| model.products[*i].is_available());
        if !complete || !involves || !available {
            continue;
        }
        covered.extend(lines.iter().map(|(i, _, _)| *i).filter(|&i| i != viewed));
        let price: i64 = lines
            .iter()
            .map(|(i, q, _)| model.products[*i].price.0 * i64::from(*q))
            .sum();
        let paid: i64 = lines
            .iter()
            .filter(|(_, _, free)| !free)
            .map(|(i, q, _)| model.products[*i].price.0 * i64::from(*q))
            .sum();
        let bundle_price = Rupiah(paid).discounted(offer.discount_pct).0;
        let title = match lang {
            Lang::En => offer.title_en.clone().unwrap_or_else(|| offer.title.clone()),
            Lang::Id => offer.title.clone(),
        };
        out.push(BundleOffer {
            items: lines
                .iter()
                .map(|(i, q, free)| {
                    let p = &model.products[*i];
                    let note = match (free, lang) {
                        (true, Lang::Id) => format!("{q}× gratis"),
                        (true, Lang::En) => format!("{q}× free"),
                        (false, _) => format!("{q}×"),
                    };
                    item(p, 1.0, note)
                })
                .collect(),
            price,
            bundle_price,
            discount_pct: if price > 0 {
                ((price - bundle_price) as f64 * 1000.0 / price as f64).round() / 10.0
            } else {
                0.0
            },
            support: None,
            confidence: None,
            lift: None,
            reason: title,
            kind: "fixed".into(),
        });
    }
    (out, covered)
}

/// A mined (or best-seller) offer: the viewed product and its partners, with the bundle
/// discount. The reason is the first partner's.
fn bundle_offer(
    model: &ShopModel,
    viewed: usize,
    b: &BundlePick,
    discount_pct: f64,
    lang: Lang,
) -> BundleOffer {
    let viewed_p = &model.products[viewed];
    let reason = reason(model, viewed, &b.why, false, lang);
    let mut items = vec![item(
        viewed_p,
        1.0,
        lang.pick("Produk ini".into(), "This product".into()),
    )];
    for &i in &b.with {
        let mut it = item(
            &model.products[i],
            b.stats.map_or(0.0, |t| t.1 as f32),
            reason.clone(),
        );
        it.source = b.why.source().to_string();
        items.push(it);
    }
    let price: i64 = items.iter().map(|it| it.price).sum();
    BundleOffer {
        price,
        bundle_price: Rupiah(price).discounted(discount_pct).0,
        discount_pct,
        support: b.stats.map(|t| t.0),
        confidence: b.stats.map(|t| t.1),
        lift: b.stats.map(|t| t.2),
        reason,
        kind: if b.stats.is_some() {
            "mined"
        } else {
            "best_sellers"
        }
        .into(),
        items,
    }
}

/// The `loyalty` part: for a known customer their tier, discount and progress; for an
/// anonymous visitor the ladder. Never anything personal beyond the customer's own tier.
pub fn loyalty_view(model: &ShopModel, customer: Option<&CustomerId>, lang: Lang) -> serde_json::Value {
    let l = &model.loyalty;
    if l.ladder.is_empty() {
        return serde_json::Value::Null;
    }
    let ladder: Vec<serde_json::Value> = l
        .ladder
        .iter()
        .map(|t| serde_json::json!({"name": t.name, "discount_pct": t.discount_pct, "min_spend": t.min_spend.0}))
        .collect();
    if let Some(st) = customer.and_then(|c| l.standing(c)) {
        let tier = &l.ladder[st.tier];
        let progress = l.progress(st);
        let message = match &progress {
            Some(p) => lang.pick(
                format!("Belanja {} lagi untuk naik ke {}", p.needed, p.next_tier),
                format!("Spend {} more to reach {}", p.needed, p.next_tier),
            ),
            None => lang.pick(
                format!("Anda di tingkat tertinggi: {}", tier.name),
                format!("You are in our top tier: {}", tier.name),
            ),
        };
        return serde_json::json!({
            "known": true,
            "tier": tier.name,
            "discount_pct": tier.discount_pct,
            "next_tier": progress.as_ref().map(|p| p.next_tier.clone()),
            "needed": progress.as_ref().map(|p| p.needed.0),
            "message": message,
            "ladder": ladder,
        });
    }
    let best = l.best_discount();
    let best_text = decimal(best, lang)
        .trim_end_matches(",0")
        .trim_end_matches(".0")
        .to_string();
    serde_json::json!({
        "known": false,
        "message": lang.pick(
            format!("Diskon hingga {best_text}% untuk pelanggan setia"),
            format!("Up to {best_text}% off for loyal customers"),
        ),
        "ladder": ladder,
    })
}

/// Recommendations for one product page; `None` when the product is not in the model.
pub fn recommend(
    model: &ShopModel,
    shop: &str,
    settings: &RecommendSettings,
    offers: &[FixedOffer],
    req: &Request,
) -> Option<Recommendations> {
    let viewed = model.product_index(req.product)?;
    let cart: Vec<usize> = req.cart.iter().filter_map(|p| model.product_index(p)).collect();
    let allowed = Allowed::new(model, viewed, &cart, &settings.exclude);
    let (fixed, offered) = fixed_offers(model, offers, viewed, req.lang);
    let picks = pick(
        model,
        settings,
        &PickRequest {
            viewed,
            cart: &cart,
            customer: req.customer,
            limit: req.limit,
            keep: &|i| allowed.ok(i),
            offered: &offered,
            now: Utc::now(),
        },
    );
    let mut bundles = fixed;
    bundles.extend(
        picks
            .bundles
            .iter()
            .map(|b| bundle_offer(model, viewed, b, settings.bundle_discount_pct, req.lang)),
    );
    Some(Recommendations {
        shop: shop.to_string(),
        product: item(&model.products[viewed], 1.0, String::new()),
        similar: items(model, viewed, &picks.similar, None, req.lang),
        upsell: items(model, viewed, &picks.upsell, Some(settings), req.lang),
        bundles,
        for_you: items(model, viewed, &picks.for_you, None, req.lang),
        loyalty: loyalty_view(model, req.customer, req.lang),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::fixtures::{at, catalogue, order, orders, product};
    use crate::model::build_model;

    fn request<'a>(product: &'a ProductId, customer: Option<&'a CustomerId>) -> Request<'a> {
        Request {
            product,
            customer,
            cart: &[],
            limit: 4,
            lang: Lang::Id,
        }
    }

    #[test]
    fn a_product_with_nothing_alike_is_never_called_similar() {
        // Every name is `Produk N`, one category for all: no pair has real evidence.
        let products: Vec<Product> = (1..=40)
            .map(|i| {
                product(
                    &format!("P{i:02}"),
                    &format!("Produk {i}"),
                    10_000 + i * 500,
                    &["Semua"],
                    &[],
                )
            })
            .collect();
        let mut orders = Vec::new();
        for k in 0..120u32 {
            let a = format!("P{:02}", k % 40 + 1);
            let b = format!("P{:02}", (k * 7) % 40 + 1);
            orders.push(order(
                &format!("INV-{k}"),
                &format!("c{}", k % 15),
                at(k % 28 + 1, k % 20),
                &[&a, &b],
            ));
        }
        let m = build_model(products, &orders, &RecommendSettings::default());
        assert!(m.similar.iter().flatten().all(|n| !n.evidence));
        for p in &m.products {
            let r = recommend(
                &m,
                "toko",
                &RecommendSettings::default(),
                &[],
                &request(&p.id, None),
            )
            .unwrap();
            assert!(
                !r.similar.is_empty(),
                "the slot falls back instead of going empty"
            );
            for it in &r.similar {
                assert_ne!(it.source, "similar", "{}: {it:?}", p.id);
                assert!(!it.reason.starts_with("Mirip"), "{}: {it:?}", p.id);
            }
        }
    }

    #[test]
    fn mined_pairs_have_co_purchase_evidence() {
        let m = build_model(catalogue(), &orders(), &RecommendSettings::default());
        let s = RecommendSettings::default();
        let paid: Vec<Vec<String>> = orders()
            .iter()
            .filter(|o| o.is_purchase())
            .map(|o| {
                o.lines
                    .iter()
                    .filter_map(|l| l.product.as_ref())
                    .map(|p| p.to_string())
                    .collect()
            })
            .collect();
        let n = paid.len() as f64;
        let count = |ids: &[&str]| {
            paid.iter()
                .filter(|b| ids.iter().all(|i| b.contains(&i.to_string())))
                .count() as f64
        };
        let mut pairs = 0;
        for p in &m.products {
            let r = recommend(&m, "toko", &s, &[], &request(&p.id, None)).unwrap();
            for b in r
                .bundles
                .iter()
                .filter(|b| b.kind == "mined" && b.items.len() == 2)
            {
                pairs += 1;
                let (a, other) = (b.items[0].id.as_str(), b.items[1].id.as_str());
                let both = count(&[a, other]);
                assert!(both >= f64::from(s.pair_min_count), "{a}+{other}: {both}");
                let confidence = both / count(&[a]);
                let lift = confidence / (count(&[other]) / n);
                assert!(lift > 1.0, "{a}+{other}: lift {lift}");
                assert!((b.confidence.unwrap() - confidence).abs() < 1e-6);
                assert!(
                    crate::recommend::copurchase::wilson_low(both as u32, count(&[a]) as u32)
                        >= s.pair_min_confidence
                );
                assert!(!b.reason.contains("lift"));
            }
        }
        assert!(pairs > 0, "the fixture has pairs bought together");
    }

    #[test]
    fn a_customer_who_buys_the_same_product_again_sees_it_for_them() {
        let mut orders = orders();
        // c-loyal buys KRP-80 every week.
        for w in 0..8u32 {
            orders.push(order(
                &format!("INV-L{w}"),
                "c-loyal",
                at(w * 3 + 1, 8),
                &["KRP-80"],
            ));
        }
        let m = build_model(catalogue(), &orders, &RecommendSettings::default());
        let me = CustomerId("c-loyal".into());
        let viewed = ProductId::parse("SRD-100").unwrap();
        let r = recommend(
            &m,
            "toko",
            &RecommendSettings::default(),
            &[],
            &request(&viewed, Some(&me)),
        )
        .unwrap();
        assert_eq!(r.for_you[0].id, "KRP-80", "{:?}", r.for_you);
        assert_eq!(r.for_you[0].source, "repurchase");
        assert!(
            r.for_you.iter().all(|it| it.id != "SRD-100"),
            "never the viewed product"
        );
        // Anonymous: no personal list.
        let anon = recommend(
            &m,
            "toko",
            &RecommendSettings::default(),
            &[],
            &request(&viewed, None),
        )
        .unwrap();
        assert!(anon.for_you.is_empty());
    }
}
