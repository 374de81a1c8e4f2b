//! Offline evaluation (`laris eval`, README "Offline evaluation"): replay a shop's
//! purchases in time order, train every model on the purchases before a split point, and
//! measure how well each one predicts the purchases after it.
//!
//! The procedure, end to end ([`evaluate`]):
//!
//! 1. **Split** ([`split`]): purchases only, sorted by `paid_at`; those paid before the split
//!    point train, the rest test (`--split-at`, or the last `--test-fraction` of them, 0.2 by
//!    default).
//! 2. **Train** ([`train_model`]): one [`ShopModel`] built by [`build_model`] from today's
//!    catalogue and the *training purchases only* — features, similar lists, upgrades, mined
//!    bundle rules, best-sellers, price clusters — with the shop's `[shops.recommend]`
//!    settings. The store keeps no catalogue history, so product attributes and prices are
//!    today's; nothing about the test purchases reaches the model.
//! 3. **Cases** ([`protocols`]): basket completion (hide one item of each test basket, drawn
//!    with the seed), next order (the customer's purchases before the order predict it, and
//!    a repurchase counts) and next order of new products (the same cases, but no model may
//!    list what the customer already bought).
//! 4. **Recommend** ([`recommenders`]): each model ranks its top products for each case, as a
//!    [`Query`] (context, the customer's history, whether repeats are allowed), without
//!    today's stock filter.
//! 5. **Measure** ([`metrics`], [`stats`]): precision, recall, F1, hit rate, NDCG and coverage
//!    at each N; mean ± sample std over the cases; paired t-tests between two models.
//! 6. **Clusters**: SSE and silhouette of the model's price clusters and of customer tiers
//!    (exact 1-D k-means, k = 4, over each customer's spend in the training purchases).
//!
//! Every list is ranked once at the largest N and cut for the smaller ones, so R@3 is the
//! first three of R@5. Everything is deterministic for a given seed.
//!
//! A plain basket file ([`baskets`], `laris eval --baskets FILE`) is evaluated the same way
//! through [`evaluate_baskets`]: its baskets are anonymous, so only basket completion has cases.

pub mod baskets;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod metrics;
pub mod orders_file;
pub mod protocols;
pub mod recommenders;
pub mod report;
pub mod split;
pub mod stats;

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use baskets::{read_baskets_file, BasketsFile};
pub use protocols::Protocol;
pub use recommenders::{HistoryItem, ModelKind, Query, Trained};
pub use report::EvalReport;
pub use split::{split_orders, Split, SplitRule};

use crate::config::RecommendSettings;
use crate::domain::CustomerId;
use crate::model::build_model;
use crate::recommend::kmeans::{kmeans_1d, silhouette_1d};
use crate::records::{Order, Product};
use metrics::CaseScore;
use protocols::Cases;
use report::{
    ClusterReport, ClusterSummary, ComparisonRow, MeanStd, ProtocolSummary, ResultRow, SplitSummary,
};

/// Tiers clustered when no shop config says otherwise: the loyalty ladder's default (Bronze,
/// Silver, Gold, Platinum). `laris eval` uses the length of the shop's `loyalty.tiers`.
pub const TIERS_K: usize = 4;

/// Why an evaluation could not run; each message says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{0}")]
    Options(String),
    #[error("{purchases} purchases to evaluate on: {why}")]
    TooFewOrders { purchases: usize, why: String },
}

/// What to evaluate, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalConfig {
    pub split: SplitRule,
    /// List lengths, ascending, distinct, each at least 1.
    pub top_n: Vec<usize>,
    /// Models in report order (the compared ones included).
    pub models: Vec<ModelKind>,
    /// Paired t-tests of a − b per protocol, N and metric, per pair.
    pub compare: Vec<(ModelKind, ModelKind)>,
    pub seed: u64,
    /// Number of spend tiers whose clustering is reported (the shop's configured tiers).
    pub tiers_k: usize,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            split: SplitRule::TestFraction(0.2),
            top_n: vec![3, 5],
            models: ModelKind::ALL.to_vec(),
            compare: Vec::new(),
            seed: 42,
            tiers_k: TIERS_K,
        }
    }
}

/// How far an evaluation is: `done` of `total` (case, model) pairs, over all protocols.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub protocol: Protocol,
    pub model: ModelKind,
    pub done: usize,
    pub total: usize,
}

/// What every evaluated recommender reads: built from the training purchases only.
pub fn train_model(products: Vec<Product>, split: &Split, settings: &RecommendSettings) -> Trained {
    let model = build_model(products, &split.train, settings);
    Trained::new(model, &split.train, settings)
}

/// The ranked lists of one model for every case of a protocol, at `n_max`.
fn ranked_lists(
    kind: ModelKind,
    model: &Trained,
    cases: &Cases,
    n_max: usize,
    seed: u64,
    progress: &mut dyn FnMut(usize),
) -> Vec<Vec<u32>> {
    // Stream 0 of the seed draws the hidden items. `random` draws from the protocol's stream,
    // each test order from its own stretch of 2^20 words (far more than a list needs), so
    // that an order's list depends neither on the other orders nor on the largest N.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(cases.protocol.rng_stream());
    let allow_repeats = cases.protocol.allows_repeats();
    cases
        .cases
        .iter()
        .map(|c| {
            rng.set_word_pos((c.order as u128) << 20);
            let query = Query {
                context: &c.context,
                history: &c.history,
                allow_repeats,
                at: c.at,
            };
            let mut list = recommenders::recommend(kind, model, &query, n_max, &mut rng);
            // Every list is kept until the protocol is scored: a list collected in place from a
            // longer one would keep that one's room.
            list.shrink_to_fit();
            progress(1);
            list
        })
        .collect()
}

fn mean_std(values: &[f64]) -> MeanStd {
    MeanStd {
        mean: stats::mean(values),
        std: stats::sample_std(values),
    }
}

fn result_row(
    protocol: Protocol,
    model: ModelKind,
    n: usize,
    scores: &[CaseScore],
    coverage: f64,
) -> ResultRow {
    let column = |f: fn(&CaseScore) -> f64| scores.iter().map(f).collect::<Vec<f64>>();
    let precision = mean_std(&column(|s| s.precision));
    let recall = mean_std(&column(|s| s.recall));
    ResultRow {
        protocol,
        model,
        n,
        f1: precision.mean.zip(recall.mean).map(|(p, r)| metrics::f1(p, r)),
        precision,
        recall,
        hit_rate: stats::mean(&column(|s| s.hit)),
        ndcg: stats::mean(&column(|s| s.ndcg)),
        coverage,
        orders: scores.len(),
    }
}

/// Reads one metric of a case.
type Metric = fn(&CaseScore) -> f64;

const COMPARED_METRICS: [(&str, Metric); 4] = [
    ("precision", |s| s.precision),
    ("recall", |s| s.recall),
    ("hit_rate", |s| s.hit),
    ("ndcg", |s| s.ndcg),
];

/// Customer tiers over the training purchases: exact k-means of each customer's spend.
pub fn tier_clusters(train: &[Order], k: usize) -> Option<ClusterSummary> {
    let mut spend: BTreeMap<&CustomerId, i64> = BTreeMap::new();
    for o in train.iter().filter(|o| o.is_purchase()) {
        *spend.entry(&o.customer).or_default() += o.products_total.0;
    }
    let values: Vec<f64> = spend.values().map(|&s| s as f64).collect();
    let clustering = kmeans_1d(&values, k).ok()?;
    let silhouette = silhouette_1d(&values, &clustering);
    Some(ClusterSummary {
        k: clustering.k,
        sse: clustering.sse,
        silhouette,
    })
}

/// Runs the whole evaluation of one shop. Pure and CPU-bound; `progress` hears after every
/// ranked list.
pub fn evaluate(
    shop: &str,
    products: Vec<Product>,
    orders: &[Order],
    settings: &RecommendSettings,
    config: &EvalConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<EvalReport, EvalError> {
    run(shop, products, orders, settings, config, false, progress)
}

/// Why the next-order protocols have no case on a basket file.
pub const NO_CUSTOMERS: &str = "no_customers";

/// Evaluates a basket file ([`baskets`]) with `RecommendSettings::default()`. Its baskets are
/// anonymous (each its own customer), so the next-order protocols have no cases: they are
/// reported with every test basket skipped as `no_customers`. The baskets carry no prices and
/// no customers, so no clustering is reported either.
pub fn evaluate_baskets(
    shop: &str,
    file: &BasketsFile,
    config: &EvalConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<EvalReport, EvalError> {
    run(
        shop,
        file.products.clone(),
        &file.orders,
        &RecommendSettings::default(),
        config,
        true,
        progress,
    )
}

/// [`evaluate`]; `anonymous`: the orders are anonymous baskets ([`evaluate_baskets`]).
fn run(
    shop: &str,
    products: Vec<Product>,
    orders: &[Order],
    settings: &RecommendSettings,
    config: &EvalConfig,
    anonymous: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<EvalReport, EvalError> {
    let n_max = *config
        .top_n
        .iter()
        .max()
        .ok_or_else(|| EvalError::Options("--top-n: give at least one list length, e.g. 3,5".into()))?;
    if config.top_n.contains(&0) {
        return Err(EvalError::Options("--top-n 0: list lengths start at 1".into()));
    }
    let mut models = config.models.clone();
    for &(a, b) in &config.compare {
        for m in [a, b] {
            if !models.contains(&m) {
                models.push(m);
            }
        }
    }
    if models.is_empty() {
        return Err(EvalError::Options("--models: name at least one model".into()));
    }
    let split = split_orders(orders, config.split)?;
    let trained = train_model(products, &split, settings);
    let model = &trained.model;
    let next_order = if anonymous {
        protocols::all_skipped(Protocol::NextOrder, split.test.len(), NO_CUSTOMERS)
    } else {
        protocols::next_order(&split.train, &split.test, &model.index)
    };
    let next_order_new = protocols::next_order_new(&next_order);
    let all_cases = [
        protocols::basket_completion(&split.test, &model.index, config.seed),
        next_order,
        next_order_new,
    ];
    let total: usize = all_cases.iter().map(|c| c.cases.len() * models.len()).sum();
    let mut done = 0usize;
    let mut results = Vec::new();
    let mut comparisons = Vec::new();
    for cases in &all_cases {
        // scores[model][n index][case]
        let mut scores: BTreeMap<ModelKind, Vec<Vec<CaseScore>>> = BTreeMap::new();
        for &kind in &models {
            let lists = ranked_lists(kind, &trained, cases, n_max, config.seed, &mut |step| {
                done += step;
                progress(Progress {
                    protocol: cases.protocol,
                    model: kind,
                    done,
                    total,
                });
            });
            let mut per_n = Vec::new();
            for &n in &config.top_n {
                let s: Vec<CaseScore> = cases
                    .cases
                    .iter()
                    .zip(&lists)
                    .map(|(c, list)| metrics::score(list, &c.truth, n))
                    .collect();
                let coverage = metrics::coverage(lists.iter().map(Vec::as_slice), n, model.products.len());
                results.push(result_row(cases.protocol, kind, n, &s, coverage));
                per_n.push(s);
            }
            scores.insert(kind, per_n);
        }
        for &(a, b) in &config.compare {
            for (ni, &n) in config.top_n.iter().enumerate() {
                for (metric, f) in COMPARED_METRICS {
                    let xs: Vec<f64> = scores[&a][ni].iter().map(f).collect();
                    let ys: Vec<f64> = scores[&b][ni].iter().map(f).collect();
                    if let Some(t) = stats::paired_t_test(&xs, &ys) {
                        comparisons.push(ComparisonRow {
                            protocol: cases.protocol,
                            n,
                            a,
                            b,
                            metric: metric.to_string(),
                            mean_diff: t.mean_diff,
                            ci95: t.ci95,
                            t: t.t.is_finite().then_some(t.t),
                            p_value: t.p_value,
                        });
                    }
                }
            }
        }
    }
    let clusters = ClusterReport {
        price: model.price_clusters.as_ref().map(|c| ClusterSummary {
            k: c.clustering.k,
            sse: c.clustering.sse,
            silhouette: c.silhouette,
        }),
        tiers: if anonymous {
            None
        } else {
            tier_clusters(&split.train, config.tiers_k)
        },
    };
    let note = |c: &Cases| {
        (anonymous && c.protocol != Protocol::BasketCompletion).then(|| {
            "every basket of the file is its own anonymous customer, so no order has earlier purchases"
                .to_string()
        })
    };
    Ok(EvalReport {
        shop: shop.to_string(),
        split: SplitSummary {
            train_orders: split.train.len(),
            test_orders: split.test.len(),
            split_at: split.split_at,
        },
        results,
        comparisons,
        clusters,
        seed: config.seed,
        catalogue_products: model.products.len(),
        not_purchases: split.not_purchases,
        protocols: all_cases
            .iter()
            .map(|c| ProtocolSummary {
                protocol: c.protocol,
                test_orders: c.test_orders,
                used: c.cases.len(),
                skipped: c.skipped.clone(),
                recall_ceiling: c.recall_ceiling(),
                note: note(c),
            })
            .collect(),
        blend: Some(model.fit.clone()),
    })
}
