//! The per-shop fit of the weights on the shop's own orders (see the module doc of
//! [`super`]), what it keeps, and how it is explained to the owner.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::data::{add_to_history, histories_at, Basket, BlendData, HistoryItem};
use super::rank::{candidates, content_evidence, rank_candidates, Candidate, Query};
use super::weights::{sig, Weights, SIGNALS};
use crate::domain::CustomerId;
use crate::recommend::copurchase::CoPurchaseSettings;
use crate::recommend::similar::Neighbour;

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
    pub(super) fn defaults(weights: Weights, cases: usize) -> ListFit {
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

/// A case's candidates as the search keeps them: without the room their vector grew into
/// (up to half of it; 4,000 cases of a few hundred candidates each).
fn kept(mut cands: Vec<Candidate>) -> Vec<Candidate> {
    cands.shrink_to_fit();
    cands
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
            cands: kept(candidates(
                &data,
                similar,
                &Query {
                    context,
                    history: &[],
                    now,
                    allow_repeats: false,
                },
            )),
            truth: truth.clone(),
        })
        .collect();
    let personal_cases: Vec<FitCase> = next_cases
        .iter()
        .map(|(h, at, truth)| FitCase {
            cands: kept(candidates(
                &data,
                similar,
                &Query {
                    context: &[],
                    history: h,
                    now: *at,
                    allow_repeats: true,
                },
            )),
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
    use super::super::rank::tests::{at, family_shop};
    use super::*;
    use crate::recommend::features::{build_features, FeatureWeights};
    use crate::recommend::similar::similar_top_n;

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
}
