//! The blended ranker: one score per candidate product, a weighted sum of normalised signals,
//! with the weights fitted per shop at every rebuild on the shop's own orders.
//!
//! **Signals** (each in [0, 1]):
//!
//! | signal | what it measures | where it comes from |
//! |---|---|---|
//! | `co_purchase` | bought in the same basket as the context | Σ of the [`super::copurchase`] scores (shrunk cosine) over the context products, divided by the best candidate's |
//! | `co_confidence` | often joins the context's baskets | Σ of the confidences c(i, j)/n(i) over the context products, divided by the best candidate's: unlike the cosine it favours partners that are popular in their own right, and the fit decides how much of each |
//! | `content` | alike in what it is | the similar-products lists ([`super::similar`]), pairs with real evidence only, mean over the context |
//! | `category_popular` | a best-seller in the context's categories | ln(1 + units) over the category's best |
//! | `popular` | a best-seller of the shop | ln(1 + units) over the shop's best |
//! | `repurchase` | the customer's own product, bought often | ln(1 + orders with it) over their most-bought product's |
//! | `similar_baskets` | in the earlier baskets most like the context | the 500 baskets (of the latest 2,000 holding each context product) with the most overlap / √(sizes) vote for their other products; votes over the best vote |
//! | `due` | the customer's own product, due again | elapsed days since they last bought it against the product's usual interval: min(r, 1/r) |
//!
//! A query has a *context* (the viewed product and the cart; in evaluation the rest of a
//! basket) and, for a signed-in customer, their *history*. Candidates are the co-purchase
//! neighbours and similar products of the context (and of the history), the best-sellers of
//! the context's categories and of the shop, and the history itself.
//!
//! **The fit** ([`fit`]). The shop's purchases are split in time: the earlier 80 % build the
//! signals, the latest 20 % are validation. Two kinds of validation case, as `laris eval`
//! makes them: *basket completion* (one product of a basket hidden, drawn by a fixed seed; the
//! rest is the context; for product pages) and *next order* (a customer's earlier purchases
//! predict the order; for the personal list, repurchases allowed). The signals of every
//! candidate of every case are computed once; a coordinate search then tries each weight on a
//! grid, keeps the value with the best mean NDCG@5 (ties: the smaller weight), and repeats
//! until nothing improves. The fitted weights are shrunk toward the defaults by
//! cases / (cases + 200), so a shop with little data stays near them; a signal that never
//! fires on the shop's validation cases (no product has a similar product with real evidence,
//! no categories) gets weight 0. If the fitted blend does
//! not beat best-sellers on validation, the list serves best-sellers plus co-purchase
//! (`popular` 1, `co_purchase` 0.1) and the fit says so. Deterministic: the same orders give
//! the same weights.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::copurchase::{build_co_purchase, repeat_stats, CoPurchase, CoPurchaseSettings, Purchase};
use super::similar::Neighbour;
use crate::domain::CustomerId;

/// Number of signals.
pub const SIGNALS: usize = 8;
/// Signal names, in the order of [`Weights::as_array`].
pub const SIGNAL_NAMES: [&str; SIGNALS] = [
    "co_purchase",
    "co_confidence",
    "content",
    "category_popular",
    "popular",
    "repurchase",
    "due",
    "similar_baskets",
];
/// Positions of the signals in a signal array.
pub mod sig {
    pub const CO_PURCHASE: usize = 0;
    pub const CO_CONFIDENCE: usize = 1;
    pub const CONTENT: usize = 2;
    pub const CATEGORY_POPULAR: usize = 3;
    pub const POPULAR: usize = 4;
    pub const REPURCHASE: usize = 5;
    pub const DUE: usize = 6;
    pub const SIMILAR_BASKETS: usize = 7;
}
/// Best-sellers per category and of the shop offered as candidates.
const TOP_CANDIDATES: usize = 30;
/// History products of one customer considered (most bought first).
const MAX_HISTORY: usize = 60;
/// Of a customer's history, the co-purchase neighbours of the (first) most-bought products
/// are candidates, (second) at most so many each.
const HISTORY_NEIGHBOURS: (usize, usize) = (10, 20);
/// Validation cases per kind at most (an even sample of the validation orders beyond it).
const MAX_CASES: usize = 2000;
/// List length the fit optimises (NDCG@FIT_N): about what a widget slot shows.
pub const FIT_N: usize = 5;
/// Fewer validation cases than this: no fit, the default weights.
const MIN_CASES: usize = 30;
/// Shrinkage toward the defaults: α = cases / (cases + SHRINK_CASES).
const SHRINK_CASES: f64 = 200.0;
/// Values a weight may take in the coordinate search.
const GRID: [f32; 12] = [0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0];
/// Seed of the hidden basket items of the validation cases.
const FIT_SEED: u64 = 7;

/// A weight per signal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub co_purchase: f32,
    #[serde(default)]
    pub co_confidence: f32,
    pub content: f32,
    pub category_popular: f32,
    pub popular: f32,
    pub repurchase: f32,
    pub due: f32,
    #[serde(default)]
    pub similar_baskets: f32,
}

impl Weights {
    /// Product pages before any fit: buying patterns first, then likeness and popularity.
    pub const ITEM_DEFAULT: Weights = Weights {
        co_purchase: 1.0,
        co_confidence: 0.3,
        content: 0.3,
        category_popular: 0.2,
        popular: 0.2,
        repurchase: 0.0,
        due: 0.0,
        similar_baskets: 0.3,
    };
    /// A signed-in customer's list before any fit: their own products first.
    pub const PERSONAL_DEFAULT: Weights = Weights {
        co_purchase: 0.5,
        co_confidence: 0.0,
        content: 0.1,
        category_popular: 0.0,
        popular: 0.2,
        repurchase: 1.0,
        due: 0.3,
        similar_baskets: 0.0,
    };
    /// When no blend beats best-sellers: best-sellers, co-purchase breaking their ties.
    pub const BEST_SELLERS: Weights = Weights {
        co_purchase: 0.1,
        co_confidence: 0.0,
        content: 0.0,
        category_popular: 0.0,
        popular: 1.0,
        repurchase: 0.0,
        due: 0.0,
        similar_baskets: 0.0,
    };

    pub fn as_array(&self) -> [f32; SIGNALS] {
        [
            self.co_purchase,
            self.co_confidence,
            self.content,
            self.category_popular,
            self.popular,
            self.repurchase,
            self.due,
            self.similar_baskets,
        ]
    }

    pub fn from_array(a: [f32; SIGNALS]) -> Weights {
        Weights {
            co_purchase: a[0],
            co_confidence: a[1],
            content: a[2],
            category_popular: a[3],
            popular: a[4],
            repurchase: a[5],
            due: a[6],
            similar_baskets: a[7],
        }
    }

    /// Scaled so that the largest weight is 1 (scores rank the same).
    fn normalised(self) -> Weights {
        let a = self.as_array();
        let max = a.iter().copied().fold(0.0f32, f32::max);
        if max <= 0.0 {
            return self;
        }
        Weights::from_array(a.map(|w| (w / max * 1000.0).round() / 1000.0))
    }

    /// The weighted sum of a candidate's signals.
    pub fn score(&self, s: &[f32; SIGNALS]) -> f32 {
        self.as_array().iter().zip(s).map(|(w, x)| w * x).sum()
    }
}

/// What one customer bought before, per product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub product: u32,
    /// Orders in which they bought it.
    pub orders: u32,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// One paid basket of one customer at one time: what the blend is built from.
#[derive(Debug, Clone)]
pub struct Basket {
    pub customer: CustomerId,
    pub at: DateTime<Utc>,
    /// Sorted, distinct catalogue indices.
    pub products: Vec<u32>,
    /// Units per product, in the order of `products`.
    pub units: Vec<u64>,
}

/// The order-derived signals of a shop: co-purchase, popularity, category best-sellers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BlendData {
    pub co: CoPurchase,
    /// Per product: units sold in paid orders.
    pub units: Vec<u64>,
    /// Per product: ln(1 + units sold) / ln(1 + the best-seller's units).
    pub popular: Vec<f32>,
    /// Per product: the same within its category.
    pub category_popular: Vec<f32>,
    /// Per product: its category's number, `u32::MAX` without a category.
    pub category: Vec<u32>,
    /// Per category: its best-sellers, best first.
    pub category_top: Vec<Vec<u32>>,
    /// The shop's best-sellers, best first.
    pub top: Vec<u32>,
    /// Median days between repurchases over all products (for products without their own).
    pub interval_days: Option<f32>,
    /// The baskets themselves, in time order, for the similar-baskets vote.
    #[serde(default)]
    pub baskets: Csr,
    /// Per product, the baskets holding it (ascending, so the latest last).
    #[serde(default)]
    pub holding: Csr,
}

/// Rows of numbers in one array: row `r` is `items[start[r]..start[r + 1]]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Csr {
    pub start: Vec<u32>,
    pub items: Vec<u32>,
}

impl Csr {
    fn from_rows<'a>(rows: impl Iterator<Item = &'a [u32]>) -> Csr {
        let mut c = Csr {
            start: vec![0],
            items: Vec::new(),
        };
        for r in rows {
            c.items.extend_from_slice(r);
            c.start.push(c.items.len() as u32);
        }
        c
    }

    pub fn row(&self, r: usize) -> &[u32] {
        match (self.start.get(r), self.start.get(r + 1)) {
            (Some(&a), Some(&b)) => &self.items[a as usize..b as usize],
            _ => &[],
        }
    }

    fn len(&self) -> usize {
        self.start.len().saturating_sub(1)
    }
}

fn log_share(units: u64, best: u64) -> f32 {
    if best == 0 {
        0.0
    } else {
        ((1.0 + units as f64).ln() / (1.0 + best as f64).ln()) as f32
    }
}

/// Days since the epoch, for intervals.
fn day(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(86_400)
}

impl BlendData {
    /// The distinct category numbers of some products, sorted.
    pub fn categories_of(&self, products: &[u32]) -> Vec<u32> {
        let mut cats: Vec<u32> = products
            .iter()
            .filter_map(|&c| self.category.get(c as usize).copied())
            .filter(|&c| c != u32::MAX)
            .collect();
        cats.sort_unstable();
        cats.dedup();
        cats
    }

    /// `categories` gives each product's category (any stable text; `None` without one).
    pub fn build(
        baskets: &[Basket],
        categories: &[Option<String>],
        co_settings: &CoPurchaseSettings,
    ) -> BlendData {
        let n = categories.len();
        let products: Vec<Vec<u32>> = baskets.iter().map(|b| b.products.clone()).collect();
        let mut co = build_co_purchase(&products, n, co_settings);
        let purchases: Vec<Purchase> = baskets
            .iter()
            .map(|b| Purchase {
                customer: b.customer.0.as_str(),
                day: day(b.at),
                products: &b.products,
            })
            .collect();
        co.repeats = repeat_stats(&purchases, n);
        let mut units = vec![0u64; n];
        for b in baskets {
            for (&p, &u) in b.products.iter().zip(&b.units) {
                units[p as usize] += u;
            }
        }
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let category: Vec<u32> = categories
            .iter()
            .map(|c| match c {
                Some(c) => {
                    let next = ids.len() as u32;
                    *ids.entry(c.as_str()).or_insert(next)
                }
                None => u32::MAX,
            })
            .collect();
        let by_units = |a: &u32, b: &u32| units[*b as usize].cmp(&units[*a as usize]).then(a.cmp(b));
        let mut all: Vec<u32> = (0..n as u32).filter(|&i| units[i as usize] > 0).collect();
        all.sort_by(by_units);
        let best = all.first().map_or(0, |&i| units[i as usize]);
        let popular: Vec<f32> = units.iter().map(|&u| log_share(u, best)).collect();
        let mut category_top: Vec<Vec<u32>> = vec![Vec::new(); ids.len()];
        for &i in &all {
            let c = category[i as usize];
            if c != u32::MAX && category_top[c as usize].len() < TOP_CANDIDATES {
                category_top[c as usize].push(i);
            }
        }
        let category_popular = (0..n)
            .map(|i| match category[i] {
                u32::MAX => 0.0,
                c => {
                    let best = category_top[c as usize].first().map_or(0, |&b| units[b as usize]);
                    log_share(units[i], best)
                }
            })
            .collect();
        let mut intervals: Vec<f32> = co.repeats.iter().filter_map(|r| r.interval_days).collect();
        intervals.sort_by(f32::total_cmp);
        let interval_days = intervals.get(intervals.len() / 2).copied();
        all.truncate(TOP_CANDIDATES);
        let mut holding: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (k, b) in baskets.iter().enumerate() {
            for &p in &b.products {
                holding[p as usize].push(k as u32);
            }
        }
        BlendData {
            baskets: Csr::from_rows(baskets.iter().map(|b| b.products.as_slice())),
            holding: Csr::from_rows(holding.iter().map(Vec::as_slice)),
            co,
            units,
            popular,
            category_popular,
            category,
            category_top,
            top: all,
            interval_days,
        }
    }
}

/// What a list is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The viewed product and the cart (or the rest of a basket); sorted, distinct.
    pub context: &'a [u32],
    /// The customer's earlier purchases; empty for an anonymous visitor.
    pub history: &'a [HistoryItem],
    pub now: DateTime<Utc>,
    /// Whether products of the context and the history may be listed (a repurchase).
    pub allow_repeats: bool,
}

/// A candidate and its signals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub index: u32,
    pub signals: [f32; SIGNALS],
}

/// Of the baskets holding a context product, the latest this many are read.
const BASKETS_READ: usize = 2000;
/// The most similar baskets that vote.
const BASKETS_VOTING: usize = 500;
/// Products a vote adds as candidates at most.
const VOTED: usize = 50;

/// The similar-baskets vote: earlier baskets are scored by how much of the context they
/// hold (overlap / √(|basket|·|context|)); the best [`BASKETS_VOTING`] vote for their other
/// products with that score. The best-voted [`VOTED`] products, votes scaled to the best 1.
fn similar_baskets_vote(data: &BlendData, context: &[u32]) -> Vec<(u32, f32)> {
    if context.is_empty() || data.baskets.len() == 0 {
        return Vec::new();
    }
    let mut overlap: HashMap<u32, u32> = HashMap::new();
    for &c in context {
        let rows = data.holding.row(c as usize);
        for &b in &rows[rows.len().saturating_sub(BASKETS_READ)..] {
            *overlap.entry(b).or_default() += 1;
        }
    }
    let ctx = context.len() as f32;
    let mut sims: Vec<(f32, u32)> = overlap
        .into_iter()
        .map(|(b, o)| {
            (
                o as f32 / (data.baskets.row(b as usize).len() as f32 * ctx).sqrt(),
                b,
            )
        })
        .collect();
    let order = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1));
    if sims.len() > BASKETS_VOTING {
        sims.select_nth_unstable_by(BASKETS_VOTING, order);
        sims.truncate(BASKETS_VOTING);
    }
    let mut votes: HashMap<u32, f32> = HashMap::new();
    for (w, b) in sims {
        for &i in data.baskets.row(b as usize) {
            if context.binary_search(&i).is_err() {
                *votes.entry(i).or_default() += w;
            }
        }
    }
    let mut ranked: Vec<(u32, f32)> = votes.into_iter().collect();
    ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(VOTED);
    let best = ranked.first().map_or(1.0, |r| r.1).max(f32::MIN_POSITIVE);
    ranked.into_iter().map(|(i, v)| (i, v / best)).collect()
}

/// Whether a similar-products neighbour is evidence of likeness (not price alone).
pub fn content_evidence(n: &Neighbour) -> bool {
    n.evidence
}

/// Every candidate of a query with its signals, by index.
pub fn candidates(data: &BlendData, similar: &[Vec<Neighbour>], q: &Query) -> Vec<Candidate> {
    let mut at: HashMap<u32, usize> = HashMap::new();
    let mut out: Vec<Candidate> = Vec::new();
    let mut slot = |i: u32, out: &mut Vec<Candidate>| -> usize {
        *at.entry(i).or_insert_with(|| {
            out.push(Candidate {
                index: i,
                signals: [0.0; SIGNALS],
            });
            out.len() - 1
        })
    };
    let context = q.context;
    let inv = 1.0 / context.len().max(1) as f32;
    for &c in context {
        for n in data.co.neighbours.get(c as usize).into_iter().flatten() {
            let k = slot(n.index, &mut out);
            out[k].signals[sig::CO_PURCHASE] += n.score;
            out[k].signals[sig::CO_CONFIDENCE] += n.confidence;
        }
        for n in similar.get(c as usize).into_iter().flatten() {
            if content_evidence(n) {
                let k = slot(n.index, &mut out);
                out[k].signals[sig::CONTENT] += n.score * inv;
            }
        }
    }
    let mut history: Vec<&HistoryItem> = q.history.iter().collect();
    history.sort_by(|a, b| b.orders.cmp(&a.orders).then(b.last.cmp(&a.last)));
    history.truncate(MAX_HISTORY);
    let most = history.first().map_or(0, |h| h.orders);
    for h in &history {
        let k = slot(h.product, &mut out);
        out[k].signals[sig::REPURCHASE] = log_share(u64::from(h.orders), u64::from(most));
        let interval = data
            .co
            .repeats
            .get(h.product as usize)
            .and_then(|r| r.interval_days)
            .or(data.interval_days)
            .unwrap_or(30.0)
            .max(1.0);
        let elapsed = ((q.now - h.last).num_seconds() as f32 / 86_400.0).max(0.5);
        let r = elapsed / interval;
        out[k].signals[sig::DUE] = r.min(1.0 / r);
    }
    // What goes with the customer's most-bought products.
    for h in history.iter().take(HISTORY_NEIGHBOURS.0) {
        for n in data
            .co
            .neighbours
            .get(h.product as usize)
            .into_iter()
            .flatten()
            .take(HISTORY_NEIGHBOURS.1)
        {
            let k = slot(n.index, &mut out);
            out[k].signals[sig::CO_PURCHASE] += n.score;
            out[k].signals[sig::CO_CONFIDENCE] += n.confidence;
        }
    }
    let cats = data.categories_of(context);
    for &c in &cats {
        for &i in &data.category_top[c as usize] {
            slot(i, &mut out);
        }
    }
    for &i in &data.top {
        slot(i, &mut out);
    }
    for (i, vote) in similar_baskets_vote(data, context) {
        let k = slot(i, &mut out);
        out[k].signals[sig::SIMILAR_BASKETS] = vote;
    }
    let max_of = |s: usize, out: &[Candidate]| out.iter().map(|c| c.signals[s]).fold(0.0f32, f32::max);
    let (max_co, max_conf) = (max_of(sig::CO_PURCHASE, &out), max_of(sig::CO_CONFIDENCE, &out));
    for c in &mut out {
        let i = c.index as usize;
        if max_co > 0.0 {
            c.signals[sig::CO_PURCHASE] /= max_co;
        }
        if max_conf > 0.0 {
            c.signals[sig::CO_CONFIDENCE] /= max_conf;
        }
        c.signals[sig::CONTENT] = c.signals[sig::CONTENT].min(1.0);
        c.signals[sig::CATEGORY_POPULAR] = if data
            .category
            .get(i)
            .is_some_and(|k| cats.binary_search(k).is_ok())
        {
            data.category_popular[i]
        } else {
            0.0
        };
        c.signals[sig::POPULAR] = data.popular.get(i).copied().unwrap_or(0.0);
    }
    if !q.allow_repeats {
        out.retain(|c| {
            context.binary_search(&c.index).is_err() && !q.history.iter().any(|h| h.product == c.index)
        });
    }
    out
}

/// A ranked candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    pub index: u32,
    pub score: f32,
    pub signals: [f32; SIGNALS],
}

impl Ranked {
    /// The signal that adds most to the score under `w`.
    pub fn main_signal(&self, w: &Weights) -> usize {
        let a = w.as_array();
        (0..SIGNALS)
            .max_by(|&x, &y| {
                (a[x] * self.signals[x])
                    .total_cmp(&(a[y] * self.signals[y]))
                    .then(y.cmp(&x))
            })
            .unwrap_or(0)
    }
}

/// Sorts candidates by score (ties: popularity, then index) and keeps those `keep` allows,
/// the first `n` of them.
pub fn rank_candidates(
    mut cands: Vec<Candidate>,
    w: &Weights,
    n: usize,
    keep: &dyn Fn(u32) -> bool,
) -> Vec<Ranked> {
    cands.retain(|c| keep(c.index));
    let mut scored: Vec<Ranked> = cands
        .into_iter()
        .map(|c| Ranked {
            index: c.index,
            score: w.score(&c.signals),
            signals: c.signals,
        })
        .filter(|r| r.score > 0.0)
        .collect();
    let order = |a: &Ranked, b: &Ranked| {
        b.score
            .total_cmp(&a.score)
            .then(b.signals[sig::POPULAR].total_cmp(&a.signals[sig::POPULAR]))
            .then(a.index.cmp(&b.index))
    };
    if scored.len() > n {
        scored.select_nth_unstable_by(n, order);
        scored.truncate(n);
    }
    scored.sort_unstable_by(order);
    scored
}

/// The top `n` of a query under `w`, among the products `keep` allows.
pub fn rank(
    data: &BlendData,
    similar: &[Vec<Neighbour>],
    w: &Weights,
    q: &Query,
    n: usize,
    keep: &dyn Fn(u32) -> bool,
) -> Vec<Ranked> {
    rank_candidates(candidates(data, similar, q), w, n, keep)
}

/// How a list is served after the fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlendMode {
    /// Too few orders to fit: the default weights.
    #[default]
    Defaults,
    /// The fitted weights beat best-sellers on validation.
    Fitted,
    /// Nothing beat best-sellers on validation: best-sellers, co-purchase breaking ties.
    BestSellers,
}

impl BlendMode {
    /// Every mode, in the order the metrics list them.
    pub const ALL: [BlendMode; 3] = [BlendMode::Defaults, BlendMode::Fitted, BlendMode::BestSellers];

    /// The serialised name: `defaults`, `fitted`, `best_sellers`.
    pub fn as_str(self) -> &'static str {
        match self {
            BlendMode::Defaults => "defaults",
            BlendMode::Fitted => "fitted",
            BlendMode::BestSellers => "best_sellers",
        }
    }
}

/// Validation figures of one list at N = [`FIT_N`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Figures {
    pub ndcg: f64,
    pub precision: f64,
    pub hit_rate: f64,
}

/// The fit of one list (product pages or a customer's own list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListFit {
    pub mode: BlendMode,
    /// The weights served.
    pub weights: Weights,
    /// Validation cases the weights were fitted on.
    pub cases: usize,
    /// The served weights on validation.
    pub blend: Figures,
    /// Best-sellers on the same cases.
    pub best_sellers: Figures,
    /// The single-signal peer on the same cases: co-purchase alone for product pages, the
    /// customer's own most-bought products for the personal list.
    pub peer: Figures,
}

impl ListFit {
    fn defaults(weights: Weights, cases: usize) -> ListFit {
        ListFit {
            mode: BlendMode::Defaults,
            weights,
            cases,
            blend: Figures::default(),
            best_sellers: Figures::default(),
            peer: Figures::default(),
        }
    }
}

/// The per-shop fit kept in the model snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlendFit {
    pub fitted_at: DateTime<Utc>,
    /// Purchases that built the validation signals, and the later ones validated on.
    pub fit_orders: usize,
    pub validation_orders: usize,
    /// Product pages (basket completion).
    pub item: ListFit,
    /// A signed-in customer's own list (next order, repurchases allowed).
    pub personal: ListFit,
    /// Share of the products whose similar list holds a neighbour with real evidence.
    pub content_coverage: f64,
}

impl Default for BlendFit {
    fn default() -> Self {
        BlendFit {
            fitted_at: DateTime::<Utc>::UNIX_EPOCH,
            fit_orders: 0,
            validation_orders: 0,
            item: ListFit::defaults(Weights::ITEM_DEFAULT, 0),
            personal: ListFit::defaults(Weights::PERSONAL_DEFAULT, 0),
            content_coverage: 0.0,
        }
    }
}

impl BlendFit {
    /// A short, plain explanation for the shop owner of what the lists are made of, in
    /// Indonesian or English (`en`).
    pub fn explain(&self, en: bool) -> Vec<String> {
        let t = |id: &str, e: &str| if en { e.to_string() } else { id.to_string() };
        let mut out = Vec::new();
        let item = &self.item;
        match item.mode {
            BlendMode::Defaults => out.push(t(
                "Belum cukup pesanan untuk menyesuaikan daftar dengan toko ini: dipakai bobot bawaan (pola belanja dulu, lalu kemiripan dan produk terlaris).",
                "Not enough orders yet to tune the lists to this shop: the default weights are used (buying patterns first, then likeness and best-sellers).",
            )),
            BlendMode::BestSellers => out.push(t(
                "Pada pesanan terakhir toko ini, tidak ada kombinasi yang lebih tepat daripada produk terlaris: daftar menampilkan produk terlaris, dibantu produk yang sering dibeli bersama.",
                "On this shop's latest orders nothing predicted purchases better than best-sellers: the lists show best-sellers, helped by products often bought together.",
            )),
            BlendMode::Fitted => {
                let w = item.weights;
                let bought = w.co_purchase + w.co_confidence;
                let popular = w.popular + w.category_popular;
                if bought >= popular && bought >= w.content {
                    out.push(t(
                        "Daftar produk disusun terutama dari pola belanja: produk yang sering dibeli bersama dalam satu pesanan.",
                        "The lists come mainly from buying patterns: products often bought together in one order.",
                    ));
                } else if w.content >= popular {
                    out.push(t(
                        "Daftar produk disusun terutama dari kemiripan produk (nama, kategori, atribut, ukuran).",
                        "The lists come mainly from how alike products are (name, category, attributes, sizes).",
                    ));
                } else {
                    out.push(t(
                        "Daftar produk disusun terutama dari produk terlaris, dibantu pola belanja.",
                        "The lists come mainly from best-sellers, helped by buying patterns.",
                    ));
                }
                if item.best_sellers.hit_rate > 0.0 {
                    out.push(if en {
                        format!(
                            "On the latest {} orders, a list of 5 held the product the customer added in {:.0}% of cases, against {:.0}% for best-sellers alone.",
                            self.validation_orders,
                            item.blend.hit_rate * 100.0,
                            item.best_sellers.hit_rate * 100.0
                        )
                    } else {
                        format!(
                            "Pada {} pesanan terakhir, daftar 5 produk memuat produk yang akhirnya dibeli pada {:.0}% kasus, dibanding {:.0}% bila hanya produk terlaris.",
                            self.validation_orders,
                            item.blend.hit_rate * 100.0,
                            item.best_sellers.hit_rate * 100.0
                        )
                    });
                }
            }
        }
        if self.content_coverage < 0.05 {
            out.push(t(
                "Nama dan atribut produk hampir tidak membedakan produk (mis. \"Produk 196\"), jadi kemiripan tidak dipakai: lengkapi nama, kategori atau atribut agar \"Produk serupa\" bisa muncul.",
                "Product names and attributes hardly tell products apart (e.g. \"Produk 196\"), so likeness is not used: fill in names, categories or attributes for \"Similar products\" to appear.",
            ));
        }
        let own = &self.personal;
        let w = own.weights;
        let others = [
            w.co_purchase,
            w.co_confidence,
            w.content,
            w.category_popular,
            w.popular,
        ];
        if own.mode == BlendMode::Fitted && w.repurchase + w.due >= others.iter().copied().fold(0.0, f32::max)
        {
            out.push(t(
                "Pelanggan Anda sering membeli ulang produk yang sama: daftar \"Untuk Anda\" menawarkan produk langganan mereka saat waktunya beli lagi.",
                "Your customers often buy the same products again: the \"For you\" list offers their usual products when they are due.",
            ));
        }
        out
    }
}

/// One validation case with its candidates' signals computed once.
struct FitCase {
    cands: Vec<Candidate>,
    truth: Vec<u32>,
}

fn dcg_at(n: usize, truth_len: usize) -> f64 {
    (0..truth_len.min(n)).map(|r| 1.0 / ((r + 2) as f64).log2()).sum()
}

/// Figures of ranked lists against truths.
fn figures(lists: impl Iterator<Item = (Vec<u32>, Vec<u32>)>, n: usize) -> Figures {
    let (mut ndcg, mut precision, mut hit, mut cases) = (0.0, 0.0, 0.0, 0usize);
    for (list, truth) in lists {
        cases += 1;
        let mut dcg = 0.0;
        let mut hits = 0usize;
        for (r, i) in list.iter().take(n).enumerate() {
            if truth.binary_search(i).is_ok() {
                dcg += 1.0 / ((r + 2) as f64).log2();
                hits += 1;
            }
        }
        ndcg += dcg / dcg_at(n, truth.len());
        precision += hits as f64 / n as f64;
        hit += if hits > 0 { 1.0 } else { 0.0 };
    }
    if cases == 0 {
        return Figures::default();
    }
    let c = cases as f64;
    Figures {
        ndcg: ndcg / c,
        precision: precision / c,
        hit_rate: hit / c,
    }
}

fn blend_figures(cases: &[FitCase], w: &Weights) -> Figures {
    figures(
        cases.iter().map(|c| {
            let list = rank_candidates(c.cands.clone(), w, FIT_N, &|_| true)
                .into_iter()
                .map(|r| r.index)
                .collect();
            (list, c.truth.clone())
        }),
        FIT_N,
    )
}

/// Mean NDCG only, without cloning: the inner loop of the search.
fn mean_ndcg(cases: &[FitCase], w: &Weights, scratch: &mut Vec<(f32, f32, u32, bool)>) -> f64 {
    let mut total = 0.0;
    for c in cases {
        scratch.clear();
        scratch.extend(
            c.cands
                .iter()
                .map(|k| {
                    (
                        w.score(&k.signals),
                        k.signals[sig::POPULAR],
                        k.index,
                        c.truth.binary_search(&k.index).is_ok(),
                    )
                })
                .filter(|k| k.0 > 0.0),
        );
        let order = |a: &(f32, f32, u32, bool), b: &(f32, f32, u32, bool)| {
            b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2))
        };
        if scratch.len() > FIT_N {
            scratch.select_nth_unstable_by(FIT_N, order);
            scratch.truncate(FIT_N);
        }
        scratch.sort_unstable_by(order);
        let dcg: f64 = scratch
            .iter()
            .enumerate()
            .filter(|(_, k)| k.3)
            .map(|(r, _)| 1.0 / ((r + 2) as f64).log2())
            .sum();
        total += dcg / dcg_at(FIT_N, c.truth.len());
    }
    total / cases.len().max(1) as f64
}

/// Coordinate search over [`GRID`] from `start`; only the signals in `free` move.
fn coordinate_search(cases: &[FitCase], start: Weights, free: &[usize]) -> Weights {
    let mut scratch = Vec::new();
    let mut w = start.as_array();
    let mut best = mean_ndcg(cases, &Weights::from_array(w), &mut scratch);
    for _pass in 0..4 {
        let mut improved = false;
        for &s in free {
            let mut choice = (w[s], best);
            for &g in &GRID {
                let mut trial = w;
                trial[s] = g;
                if trial.iter().all(|&x| x == 0.0) {
                    continue;
                }
                let v = mean_ndcg(cases, &Weights::from_array(trial), &mut scratch);
                // Better by a hair, or as good with a smaller weight.
                if v > choice.1 + 1e-9 || ((v - choice.1).abs() <= 1e-9 && g < choice.0) {
                    choice = (g, v);
                }
            }
            if choice.0 != w[s] {
                improved |= choice.1 > best + 1e-9;
                w[s] = choice.0;
                best = choice.1;
            }
        }
        if !improved {
            break;
        }
    }
    Weights::from_array(w)
}

fn shrink(fitted: Weights, default: Weights, cases: usize) -> Weights {
    let alpha = cases as f64 / (cases as f64 + SHRINK_CASES);
    let (f, d) = (fitted.normalised().as_array(), default.normalised().as_array());
    let mut out = [0.0f32; SIGNALS];
    for s in 0..SIGNALS {
        out[s] = (alpha * f64::from(f[s]) + (1.0 - alpha) * f64::from(d[s])) as f32;
    }
    Weights::from_array(out).normalised()
}

/// An even sample of at most `max` items, in order.
fn even_sample<T>(items: Vec<T>, max: usize) -> Vec<T> {
    if items.len() <= max {
        return items;
    }
    let step = items.len() as f64 / max as f64;
    let mut out = Vec::with_capacity(max);
    for (k, it) in items.into_iter().enumerate() {
        if ((out.len() as f64) * step) as usize == k {
            out.push(it);
        }
    }
    out
}

/// The customer histories at each basket: every customer's purchases up to a time.
pub fn histories_at(baskets: &[Basket]) -> BTreeMap<&CustomerId, Vec<HistoryItem>> {
    let mut out: BTreeMap<&CustomerId, Vec<HistoryItem>> = BTreeMap::new();
    for b in baskets {
        add_to_history(out.entry(&b.customer).or_default(), b);
    }
    out
}

/// Adds one basket to a customer's history (kept sorted by product).
pub fn add_to_history(h: &mut Vec<HistoryItem>, b: &Basket) {
    for &p in &b.products {
        match h.binary_search_by_key(&p, |x| x.product) {
            Ok(k) => {
                let x = &mut h[k];
                x.orders += 1;
                x.first = x.first.min(b.at);
                x.last = x.last.max(b.at);
            }
            Err(k) => h.insert(
                k,
                HistoryItem {
                    product: p,
                    orders: 1,
                    first: b.at,
                    last: b.at,
                },
            ),
        }
    }
}

/// Fits the weights of both lists on `baskets` (purchases in time order).
pub fn fit(
    baskets: &[Basket],
    categories: &[Option<String>],
    similar: &[Vec<Neighbour>],
    co_settings: &CoPurchaseSettings,
    now: DateTime<Utc>,
) -> BlendFit {
    let content_coverage = if similar.is_empty() {
        0.0
    } else {
        similar.iter().filter(|l| l.iter().any(content_evidence)).count() as f64 / similar.len() as f64
    };
    let cut = baskets.len() - baskets.len() / 5;
    let (early, late) = baskets.split_at(cut);
    let data = BlendData::build(early, categories, co_settings);
    let mut rng = ChaCha8Rng::seed_from_u64(FIT_SEED);
    let basket_cases: Vec<(Vec<u32>, Vec<u32>)> = late
        .iter()
        .filter(|b| b.products.len() >= 2)
        .map(|b| {
            let mut context = b.products.clone();
            let hidden = context.remove(rng.gen_range(0..context.len()));
            (context, vec![hidden])
        })
        .collect();
    let basket_cases = even_sample(basket_cases, MAX_CASES);
    let mut history: BTreeMap<&CustomerId, Vec<HistoryItem>> = histories_at(early);
    let mut next_cases: Vec<(Vec<HistoryItem>, DateTime<Utc>, Vec<u32>)> = Vec::new();
    for b in late {
        let h = history.entry(&b.customer).or_default();
        if !h.is_empty() && !b.products.is_empty() {
            next_cases.push((h.clone(), b.at, b.products.clone()));
        }
        add_to_history(h, b);
    }
    let next_cases = even_sample(next_cases, MAX_CASES);
    let item_cases: Vec<FitCase> = basket_cases
        .iter()
        .map(|(context, truth)| FitCase {
            cands: candidates(
                &data,
                similar,
                &Query {
                    context,
                    history: &[],
                    now,
                    allow_repeats: false,
                },
            ),
            truth: truth.clone(),
        })
        .collect();
    let personal_cases: Vec<FitCase> = next_cases
        .iter()
        .map(|(h, at, truth)| FitCase {
            cands: candidates(
                &data,
                similar,
                &Query {
                    context: &[],
                    history: h,
                    now: *at,
                    allow_repeats: true,
                },
            ),
            truth: truth.clone(),
        })
        .collect();
    let best_sellers_item = figures(
        basket_cases.iter().map(|(context, truth)| {
            let list = data
                .top
                .iter()
                .copied()
                .filter(|i| context.binary_search(i).is_err())
                .take(FIT_N)
                .collect();
            (list, truth.clone())
        }),
        FIT_N,
    );
    let best_sellers_personal = figures(
        next_cases
            .iter()
            .map(|(_, _, truth)| (data.top.iter().copied().take(FIT_N).collect(), truth.clone())),
        FIT_N,
    );
    let only = |s: usize| {
        let mut a = [0.0; SIGNALS];
        a[s] = 1.0;
        Weights::from_array(a)
    };
    let (co_only, own_only) = (only(sig::CO_PURCHASE), only(sig::REPURCHASE));
    let item = fit_list(
        &item_cases,
        Weights::ITEM_DEFAULT,
        &[
            sig::CO_PURCHASE,
            sig::CO_CONFIDENCE,
            sig::CONTENT,
            sig::CATEGORY_POPULAR,
            sig::POPULAR,
            sig::SIMILAR_BASKETS,
        ],
        best_sellers_item,
        blend_figures(&item_cases, &co_only),
    );
    let personal = fit_list(
        &personal_cases,
        Weights::PERSONAL_DEFAULT,
        &[
            sig::CO_PURCHASE,
            sig::CO_CONFIDENCE,
            sig::CONTENT,
            sig::CATEGORY_POPULAR,
            sig::POPULAR,
            sig::REPURCHASE,
            sig::DUE,
        ],
        best_sellers_personal,
        blend_figures(&personal_cases, &own_only),
    );
    BlendFit {
        fitted_at: now,
        fit_orders: early.len(),
        validation_orders: late.len(),
        item,
        personal,
        content_coverage,
    }
}

fn fit_list(
    cases: &[FitCase],
    default: Weights,
    free: &[usize],
    best_sellers: Figures,
    peer: Figures,
) -> ListFit {
    if cases.len() < MIN_CASES {
        return ListFit::defaults(default, cases.len());
    }
    let fitted = coordinate_search(cases, default, free);
    let mut weights = shrink(fitted, default, cases.len()).as_array();
    // A signal that never fires in this shop (names without content, no categories) says
    // nothing: its weight is 0, whatever the default.
    for (s, w) in weights.iter_mut().enumerate() {
        if !cases.iter().any(|c| c.cands.iter().any(|k| k.signals[s] > 0.0)) {
            *w = 0.0;
        }
    }
    let weights = Weights::from_array(weights).normalised();
    let blend = blend_figures(cases, &weights);
    let (mode, weights, blend) = if blend.ndcg > best_sellers.ndcg {
        (BlendMode::Fitted, weights, blend)
    } else {
        let fallback = Weights::BEST_SELLERS;
        (BlendMode::BestSellers, fallback, blend_figures(cases, &fallback))
    };
    ListFit {
        mode,
        weights,
        cases: cases.len(),
        blend,
        best_sellers,
        peer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::features::{build_features, FeatureWeights};
    use crate::recommend::similar::similar_top_n;
    use crate::records::Product;
    use chrono::TimeZone;
    use rand::seq::SliceRandom;

    fn at(k: usize) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(k as i64 * 3)
    }

    fn product(i: usize, name: &str) -> Product {
        let mut p = crate::eval::fixtures::product(
            &format!("P{i:04}"),
            name,
            10_000 + (i as i64 % 7) * 1000,
            &[],
            &[],
        );
        p.category = Vec::new();
        p.attributes.clear();
        p
    }

    /// 30 families of 10 products; each basket holds 2 products of one family, so the pairs
    /// rarely repeat (co-purchase is thin) but the family always shows. `named` gives the
    /// products their family's words; otherwise every name is `Produk N`.
    fn family_shop(named: bool) -> (Vec<Product>, Vec<Basket>) {
        const FAMILIES: [&str; 30] = [
            "kopi", "teh", "gula", "beras", "tepung", "minyak", "kecap", "sambal", "garam", "susu", "keju",
            "roti", "mie", "sabun", "sampo", "odol", "tisu", "lilin", "korek", "baterai", "lampu", "kabel",
            "pulpen", "buku", "kertas", "lem", "gunting", "piring", "gelas", "sendok",
        ];
        let products: Vec<Product> = (0..300)
            .map(|i| {
                let f = FAMILIES[i / 10];
                let name = if named {
                    format!(
                        "{f} varian {}",
                        [
                            "merah", "biru", "hijau", "kuning", "putih", "hitam", "ungu", "coklat", "abu",
                            "emas"
                        ][i % 10]
                    )
                } else {
                    format!("Produk {}", i + 1)
                };
                product(i, &name)
            })
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let baskets = (0..1500)
            .map(|k| {
                let f = rng.gen_range(0..30u32);
                let mut members: Vec<u32> = (f * 10..f * 10 + 10).collect();
                members.shuffle(&mut rng);
                let mut b = vec![members[0], members[1]];
                b.sort_unstable();
                Basket {
                    customer: CustomerId(format!("c{}", k % 200)),
                    at: at(k),
                    units: vec![1; b.len()],
                    products: b,
                }
            })
            .collect();
        (products, baskets)
    }

    fn fit_shop(named: bool) -> BlendFit {
        let (products, baskets) = family_shop(named);
        let features = build_features(&products, &FeatureWeights::default());
        let similar = similar_top_n(&features, &products, 20);
        let categories = vec![None; products.len()];
        fit(
            &baskets,
            &categories,
            &similar,
            &CoPurchaseSettings::default(),
            at(2000),
        )
    }

    #[test]
    fn names_that_carry_signal_get_a_content_weight_and_random_names_do_not() {
        let named = fit_shop(true);
        let random = fit_shop(false);
        assert_eq!(named.item.mode, BlendMode::Fitted, "{named:?}");
        assert!(
            named.item.weights.content >= 0.2,
            "family words predict the basket: {:?}",
            named.item.weights
        );
        assert!(
            random.item.weights.content < 0.1,
            "`Produk N` says nothing: {:?}",
            random.item.weights
        );
        assert!(named.content_coverage > 0.9 && random.content_coverage < 0.1);
        // The same orders give the same weights.
        assert_eq!(fit_shop(true).item.weights, named.item.weights);
    }

    #[test]
    fn a_blend_that_cannot_beat_best_sellers_serves_best_sellers_and_says_so() {
        // Every candidate only has popularity, and best-sellers were perfect on these cases.
        let cases: Vec<FitCase> = (0..50)
            .map(|k| FitCase {
                cands: (0..5)
                    .map(|i| Candidate {
                        index: i,
                        signals: [0.0, 0.0, 0.0, 0.0, 1.0 - i as f32 * 0.1, 0.0, 0.0, 0.0],
                    })
                    .collect(),
                truth: vec![(k % 5) as u32],
            })
            .collect();
        let perfect = Figures {
            ndcg: 1.0,
            precision: 0.1,
            hit_rate: 1.0,
        };
        let got = fit_list(
            &cases,
            Weights::ITEM_DEFAULT,
            &[sig::CO_PURCHASE, sig::POPULAR],
            perfect,
            perfect,
        );
        assert_eq!(got.mode, BlendMode::BestSellers);
        assert_eq!(got.weights, Weights::BEST_SELLERS);
        // Too few cases: the defaults, unfitted.
        let few = fit_list(
            &cases[..10],
            Weights::ITEM_DEFAULT,
            &[sig::POPULAR],
            perfect,
            perfect,
        );
        assert_eq!(
            (few.mode, few.weights),
            (BlendMode::Defaults, Weights::ITEM_DEFAULT)
        );
    }

    #[test]
    fn candidates_carry_normalised_signals_and_respect_repeats() {
        let (products, baskets) = family_shop(false);
        let categories = vec![None; products.len()];
        let data = BlendData::build(&baskets, &categories, &CoPurchaseSettings::default());
        let similar = vec![Vec::new(); products.len()];
        let context = [0u32, 1];
        let q = Query {
            context: &context,
            history: &[],
            now: at(0),
            allow_repeats: false,
        };
        let cands = candidates(&data, &similar, &q);
        assert!(cands.iter().all(|c| c.index > 1), "never the context");
        assert!(cands
            .iter()
            .all(|c| c.signals.iter().all(|x| (0.0..=1.0).contains(x))));
        let best = cands
            .iter()
            .map(|c| c.signals[sig::CO_PURCHASE])
            .fold(0.0, f32::max);
        assert_eq!(best, 1.0, "co-purchase is scaled to the best candidate");
        // Partners of 0 and 1 are their family (2..10) first.
        let top = rank(&data, &similar, &Weights::ITEM_DEFAULT, &q, 3, &|_| true);
        assert!(top.iter().all(|r| r.index < 10), "{top:?}");
        // A customer's own product is listed again only when repeats are allowed.
        let history = [HistoryItem {
            product: 5,
            orders: 3,
            first: at(0),
            last: at(10),
        }];
        let own = Query {
            context: &[],
            history: &history,
            now: at(300),
            allow_repeats: true,
        };
        let got = rank(&data, &similar, &Weights::PERSONAL_DEFAULT, &own, 3, &|_| true);
        assert_eq!(got[0].index, 5);
        assert_eq!(got[0].signals[sig::REPURCHASE], 1.0);
        let no_repeats = Query {
            allow_repeats: false,
            ..own
        };
        assert!(rank(
            &data,
            &similar,
            &Weights::PERSONAL_DEFAULT,
            &no_repeats,
            10,
            &|_| true
        )
        .iter()
        .all(|r| r.index != 5));
    }

    #[test]
    fn the_baskets_most_like_the_cart_vote_for_what_completes_it() {
        // Five baskets hold the whole cart {0, 1} and 2; five hold 0 with 3, five 1 with 4.
        let mut rows: Vec<Vec<u32>> = Vec::new();
        rows.extend((0..5).map(|_| vec![0, 1, 2]));
        rows.extend((0..5).map(|_| vec![0, 3]));
        rows.extend((0..5).map(|_| vec![1, 4]));
        let baskets: Vec<Basket> = rows
            .into_iter()
            .enumerate()
            .map(|(k, p)| Basket {
                customer: CustomerId(format!("c{k}")),
                at: at(k),
                units: vec![1; p.len()],
                products: p,
            })
            .collect();
        let data = BlendData::build(&baskets, &vec![None; 5], &CoPurchaseSettings::default());
        let votes = similar_baskets_vote(&data, &[0, 1]);
        // Each basket votes with overlap / √(|basket|·|cart|): 2/√6 for 2, 1/√4 for 3 and 4.
        let expected = 0.5 / (2.0 / 6f32.sqrt());
        assert_eq!(votes[0], (2, 1.0), "{votes:?}");
        assert_eq!(votes.len(), 3);
        for &(i, v) in &votes[1..] {
            assert!((i == 3 || i == 4) && (v - expected).abs() < 1e-6, "{votes:?}");
        }
        assert!(similar_baskets_vote(&data, &[]).is_empty());
        // The cart itself is never voted for.
        assert!(votes.iter().all(|&(i, _)| i > 1));
    }

    #[test]
    fn the_due_signal_peaks_at_the_products_usual_interval() {
        // Customer c buys product 0 every 10 days.
        let baskets: Vec<Basket> = (0..10)
            .map(|k| Basket {
                customer: CustomerId("c".into()),
                at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::days(10 * k),
                products: vec![0],
                units: vec![1],
            })
            .collect();
        let data = BlendData::build(&baskets, &[None, None], &CoPurchaseSettings::default());
        assert_eq!(data.co.repeats[0].interval_days, Some(10.0));
        let last = baskets[9].at;
        let history = [HistoryItem {
            product: 0,
            orders: 10,
            first: baskets[0].at,
            last,
        }];
        let due_after = |days: i64| {
            let q = Query {
                context: &[],
                history: &history,
                now: last + chrono::Duration::days(days),
                allow_repeats: true,
            };
            candidates(&data, &[Vec::new(), Vec::new()], &q)[0].signals[sig::DUE]
        };
        assert!((due_after(10) - 1.0).abs() < 1e-6);
        assert!(due_after(2) < 0.3 && due_after(40) < 0.3);
        assert!(due_after(8) > due_after(3));
    }
}
