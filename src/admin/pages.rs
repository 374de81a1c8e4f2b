//! What each admin page shows: one function per page reading the store, the shop's settings
//! and its model snapshot, returning a serialisable struct. The HTML page renders it and the
//! admin API returns it as JSON, so the two never disagree. Query parameters are parsed
//! here once into typed queries; a bad value is a [`PageError::BadQuery`] that quotes it and
//! lists the choices.
//!
//! These functions read sled and scan every order of a shop: callers run them in
//! `spawn_blocking`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use thiserror::Error;

use crate::admin::analytics::{
    self, best_sellers, default_range, performance_of, spend_histogram, tier_boundaries, BestSeller,
    EventSummary, Histogram, Overview, Performance, Period,
};
use crate::config::source::SourceSettings;
use crate::config::{ShopSettings, TierMethod};
use crate::domain::{ProductId, Rupiah};
use crate::loyalty::segments::SEGMENTS;
use crate::model::serve::{recommend, Lang, Recommendations, Request};
use crate::model::ShopModel;
use crate::recommend::blend::{BlendFit, BlendMode, ListFit, SIGNAL_NAMES};
use crate::records::{
    Customer, Feedback, FeedbackStatus, Order, ProductStatus, QuarantineReason, Quarantined, RecordKind,
    SyncReport,
};
use crate::store::{ShopStore, Store, StoreError};

/// Most buckets an overview may have, so that `period=day&from=1900-01-01` cannot make a
/// page of tens of thousands of rows.
pub const MAX_BUCKETS: i64 = 1000;
/// Sync reports listed (the store keeps about as many).
pub const REPORTS_LISTED: usize = 100;
/// Quarantined records listed, newest first.
pub const QUARANTINE_LISTED: usize = 200;
/// Best-sellers listed on the products page.
pub const BEST_SELLERS_LISTED: usize = 10;

#[derive(Debug, Error)]
pub enum PageError {
    /// A query parameter or body value that does not parse (400).
    #[error("{0}")]
    BadQuery(String),
    /// An unknown product, customer or message (404).
    #[error("{0}")]
    NotFound(String),
    /// The shop's model is not built yet (503).
    #[error("the model of shop {0} is still being built: retry shortly")]
    NotReady(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server failed (a task panicked): 500, the cause goes to the log.
    #[error("internal error: {0}")]
    Internal(String),
}

type Query = HashMap<String, String>;

fn bad(message: String) -> PageError {
    PageError::BadQuery(message)
}

/// Refuses parameters a page does not know, so that a typo (`?perod=week`) is not silently
/// ignored.
fn only_known(q: &Query, known: &[&str]) -> Result<(), PageError> {
    let mut unknown: Vec<&str> = q
        .keys()
        .map(String::as_str)
        .filter(|k| !known.contains(k))
        .collect();
    unknown.sort_unstable();
    match unknown.first() {
        None => Ok(()),
        Some(k) if known.is_empty() => Err(bad(format!("unknown parameter {k:?}: this page takes none"))),
        Some(k) => Err(bad(format!("unknown parameter {k:?}: use {}", known.join(", ")))),
    }
}

fn date_param(q: &Query, name: &str) -> Result<Option<NaiveDate>, PageError> {
    match q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d").map(Some).map_err(|_| {
            bad(format!(
                "{name}={raw:?} is not a date: use YYYY-MM-DD, e.g. 2026-10-01"
            ))
        }),
    }
}

fn lang_param(q: &Query) -> Result<Lang, PageError> {
    match q.get("lang").map(String::as_str) {
        None | Some("") => Ok(Lang::Id),
        Some(raw) => {
            Lang::parse(raw).ok_or_else(|| bad(format!("lang={raw:?} is not supported: use id or en")))
        }
    }
}

/// `?period=day|week|month&from=YYYY-MM-DD&to=YYYY-MM-DD`; missing dates come from
/// [`default_range`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverviewQuery {
    pub period: Period,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl OverviewQuery {
    pub fn parse(q: &Query) -> Result<OverviewQuery, PageError> {
        only_known(q, &["period", "from", "to"])?;
        let period = match q.get("period").map(String::as_str) {
            None | Some("") => Period::Month,
            Some(raw) => Period::parse(raw).map_err(|_| {
                bad(format!(
                    "period={raw:?} is not valid: use {}",
                    Period::CHOICES.join(", ")
                ))
            })?,
        };
        let from = date_param(q, "from")?;
        let to = date_param(q, "to")?;
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(bad(format!("from={f} is after to={t}: swap them")));
            }
        }
        Ok(OverviewQuery { period, from, to })
    }
}

/// The shop's orders per day, week or month.
pub fn overview(store: &Store, shop: &ShopSettings, q: &OverviewQuery) -> Result<Overview, PageError> {
    let orders = store.orders(&shop.id)?;
    let offset = shop.timezone.offset_seconds;
    let today = analytics::local_date(Utc::now(), offset);
    let (default_from, default_to) = default_range(&orders, q.period, offset).unwrap_or((today, today));
    let to = q.to.unwrap_or(default_to);
    let from = q
        .from
        .unwrap_or(if default_from <= to { default_from } else { to });
    if from > to {
        return Err(bad(format!(
            "from={from} is after the range's end {to}: give to=YYYY-MM-DD too"
        )));
    }
    let days = (to - from).num_days() + 1;
    let per_bucket = match q.period {
        Period::Day => 1,
        Period::Week => 7,
        Period::Month => 28,
    };
    if days / per_bucket > MAX_BUCKETS {
        return Err(bad(format!(
            "from={from} to={to} spans {days} days: at most {MAX_BUCKETS} {}s per page; choose a shorter range or a longer period",
            q.period.as_str()
        )));
    }
    Ok(analytics::overview(&orders, q.period, from, to, offset))
}

/// One catalogue row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductRow {
    pub id: String,
    pub name: String,
    pub sku: Option<String>,
    pub price: Rupiah,
    /// `None`: the shop does not track its stock.
    pub stock: Option<i64>,
    pub status: ProductStatus,
    /// Active and in stock: the widget may recommend it.
    pub available: bool,
    pub category: Vec<String>,
    /// Units in purchases (cancelled and returned orders excluded).
    pub sold: u64,
    pub revenue: Rupiah,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductsPage {
    /// By id.
    pub products: Vec<ProductRow>,
    /// The most units sold, over every purchase.
    pub best_sellers: Vec<BestSeller>,
}

fn sales_by_product(orders: &[Order]) -> HashMap<String, BestSeller> {
    best_sellers(orders, usize::MAX)
        .into_iter()
        .map(|b| (b.key.clone(), b))
        .collect()
}

fn product_row(p: &crate::records::Product, sales: &HashMap<String, BestSeller>) -> ProductRow {
    let sold = sales.get(p.id.as_str());
    ProductRow {
        id: p.id.to_string(),
        name: p.name.clone(),
        sku: p.sku.clone(),
        price: p.price,
        stock: p.stock,
        status: p.status,
        available: p.is_available(),
        category: p.category.clone(),
        sold: sold.map_or(0, |s| s.quantity),
        revenue: sold.map_or(Rupiah(0), |s| s.revenue),
    }
}

pub fn products(store: &Store, shop: &ShopSettings) -> Result<ProductsPage, PageError> {
    let orders = store.orders(&shop.id)?;
    let sales = sales_by_product(&orders);
    let mut products: Vec<ProductRow> = store
        .products(&shop.id)?
        .iter()
        .map(|p| product_row(p, &sales))
        .collect();
    products.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(ProductsPage {
        products,
        best_sellers: best_sellers(&orders, BEST_SELLERS_LISTED),
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProductQuery {
    pub lang: Lang,
}

impl ProductQuery {
    pub fn parse(q: &Query) -> Result<ProductQuery, PageError> {
        only_known(q, &["lang"])?;
        Ok(ProductQuery { lang: lang_param(q)? })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductPage {
    pub product: ProductRow,
    /// Exactly what the widget would show an anonymous visitor on this product's page.
    pub recommendations: Recommendations,
    /// How the lists are made: the shop's blend fit, in the page's language.
    pub fit: FitPanel,
}

/// One signal's served weight, as a row of the fit panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightRow {
    /// The signal's name in the model (`co_purchase`, …).
    pub signal: &'static str,
    /// What it means, in the page's language.
    pub label: &'static str,
    pub weight: f32,
}

/// One list's fit: its mode, served weights and validation hit rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitList {
    /// `item` (product pages) or `personal` (a signed-in customer's "for you" list).
    pub list: &'static str,
    pub title: &'static str,
    /// `defaults`, `fitted` or `best_sellers`.
    pub mode: &'static str,
    pub mode_text: &'static str,
    /// Validation cases the weights were fitted on.
    pub cases: usize,
    /// Whether validation figures exist (not for the default weights).
    pub validated: bool,
    pub weights: Vec<WeightRow>,
    /// Hit rate@5 on validation: the served list, best-sellers, the single-signal peer.
    pub hit_rate: f64,
    pub best_sellers_hit_rate: f64,
    pub peer_hit_rate: f64,
    pub peer_label: &'static str,
}

/// The panel "How the lists are made" of the product page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitPanel {
    /// `id` or `en`.
    pub lang: &'static str,
    pub heading: &'static str,
    /// The owner's explanation ([`crate::recommend::blend::BlendFit::explain`]).
    pub explanation: Vec<String>,
    /// When the weights were fitted, in the shop's time zone (`YYYY-MM-DD HH:MM`); none
    /// for a model that was never fitted.
    pub fitted_at: Option<String>,
    pub timezone: String,
    pub fit_orders: usize,
    pub validation_orders: usize,
    /// The largest served weight of both lists (the bars' full length).
    pub max_weight: f32,
    pub lists: Vec<FitList>,
}

/// What a signal means, for the shop owner.
fn signal_label(signal: &str, lang: Lang) -> &'static str {
    let (id, en) = match signal {
        "co_purchase" => ("Dibeli bersama", "Bought together"),
        "co_confidence" => ("Sering ikut dalam pesanan", "Often in the same order"),
        "content" => ("Produk mirip", "Alike products"),
        "category_popular" => ("Terlaris di kategorinya", "Best-seller of its category"),
        "popular" => ("Terlaris di toko", "Best-seller of the shop"),
        "repurchase" => ("Dibeli ulang oleh pelanggan", "The customer buys it again"),
        "due" => ("Waktunya beli lagi", "Due to be bought again"),
        "similar_baskets" => ("Ada di pesanan yang mirip", "In orders like this one"),
        _ => ("?", "?"),
    };
    match lang {
        Lang::Id => id,
        Lang::En => en,
    }
}

/// The product page's fit panel, from the model's [`BlendFit`].
pub fn fit_panel(fit: &BlendFit, shop: &ShopSettings, lang: Lang) -> FitPanel {
    let en = lang == Lang::En;
    let t = |id: &'static str, e: &'static str| if en { e } else { id };
    let list = |key: &'static str, l: &ListFit| FitList {
        list: key,
        title: if key == "item" {
            t("Halaman produk", "Product pages")
        } else {
            t(
                "\"Untuk Anda\" (pelanggan yang masuk)",
                "\"For you\" (signed-in customers)",
            )
        },
        mode: l.mode.as_str(),
        mode_text: match l.mode {
            BlendMode::Defaults => t("bobot bawaan", "default weights"),
            BlendMode::Fitted => t("disesuaikan dengan toko ini", "tuned to this shop"),
            BlendMode::BestSellers => t("produk terlaris", "best-sellers"),
        },
        cases: l.cases,
        validated: l.mode != BlendMode::Defaults,
        weights: SIGNAL_NAMES
            .iter()
            .zip(l.weights.as_array())
            .map(|(s, w)| WeightRow {
                signal: s,
                label: signal_label(s, lang),
                weight: w,
            })
            .collect(),
        hit_rate: l.blend.hit_rate,
        best_sellers_hit_rate: l.best_sellers.hit_rate,
        peer_hit_rate: l.peer.hit_rate,
        peer_label: if key == "item" {
            t("dibeli bersama saja", "bought-together alone")
        } else {
            t(
                "produk langganan pelanggan saja",
                "the customer's usual products alone",
            )
        },
    };
    let lists = vec![list("item", &fit.item), list("personal", &fit.personal)];
    let max_weight = lists
        .iter()
        .flat_map(|l| l.weights.iter().map(|w| w.weight))
        .fold(0.0f32, f32::max);
    FitPanel {
        lang: if en { "en" } else { "id" },
        heading: t("Bagaimana daftar disusun", "How the lists are made"),
        explanation: fit.explain(en),
        fitted_at: (fit.fitted_at != DateTime::<Utc>::UNIX_EPOCH).then(|| {
            fit.fitted_at
                .with_timezone(&shop.timezone.offset())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        }),
        timezone: shop.timezone.name.clone(),
        fit_orders: fit.fit_orders,
        validation_orders: fit.validation_orders,
        max_weight: if max_weight > 0.0 { max_weight } else { 1.0 },
        lists,
    }
}

pub fn product(
    store: &Store,
    shop: &ShopSettings,
    model: Option<&ShopModel>,
    id: &str,
    q: &ProductQuery,
) -> Result<ProductPage, PageError> {
    let not_found = || PageError::NotFound(format!("unknown product {id:?} in shop {}", shop.id));
    let pid = ProductId::parse(id).map_err(|_| not_found())?;
    let stored = store.product(&shop.id, &pid)?.ok_or_else(not_found)?;
    let model = model.ok_or_else(|| PageError::NotReady(shop.id.to_string()))?;
    let req = Request {
        product: &pid,
        customer: None,
        cart: &[],
        limit: shop.recommend.limit,
        lang: q.lang,
    };
    let recommendations = recommend(model, shop.id.as_str(), &shop.recommend, &shop.offers, &req)
        .ok_or_else(|| {
            PageError::NotReady(format!("{} (product {id:?} is newer than its model)", shop.id))
        })?;
    let orders = store.orders(&shop.id)?;
    Ok(ProductPage {
        product: product_row(&stored, &sales_by_product(&orders)),
        recommendations,
        fit: fit_panel(&model.fit, shop, q.lang),
    })
}

/// `?segment=NAME&tier=NAME`, each optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomerQuery {
    pub segment: Option<String>,
    pub tier: Option<String>,
}

impl CustomerQuery {
    pub fn parse(q: &Query, shop: &ShopSettings) -> Result<CustomerQuery, PageError> {
        only_known(q, &["segment", "tier"])?;
        let pick = |name: &str| {
            q.get(name)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let segment = pick("segment");
        if let Some(s) = &segment {
            if !SEGMENTS.contains(&s.as_str()) {
                return Err(bad(format!(
                    "segment={s:?} is unknown: use {}",
                    SEGMENTS.join(", ")
                )));
            }
        }
        let tier = pick("tier");
        if let Some(t) = &tier {
            let names: Vec<&str> = shop.loyalty.tiers.iter().map(|t| t.name.as_str()).collect();
            if !names.contains(&t.as_str()) {
                return Err(bad(format!("tier={t:?} is unknown: use {}", names.join(", "))));
            }
        }
        Ok(CustomerQuery { segment, tier })
    }
}

/// The shop's customers with tier and segment (names included: the owner's own data),
/// highest spend first, filtered by segment and tier.
pub fn customers(store: &Store, shop: &ShopSettings, q: &CustomerQuery) -> Result<Vec<Customer>, PageError> {
    let mut all: Vec<Customer> = store
        .customers(&shop.id)?
        .into_iter()
        .filter(|c| q.segment.is_none() || c.segment == q.segment)
        .filter(|c| q.tier.is_none() || c.tier == q.tier)
        .collect();
    all.sort_by(|a, b| b.total_spend.cmp(&a.total_spend).then_with(|| a.id.cmp(&b.id)));
    Ok(all)
}

/// One line of an order, as the customer page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderLineRow {
    pub product: Option<String>,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Rupiah,
    pub total: Rupiah,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRow {
    pub invoice: String,
    pub status: i64,
    pub status_label: String,
    /// Counts toward spend (not cancelled, rejected, returned or fraud).
    pub purchase: bool,
    pub created_at: DateTime<Utc>,
    pub paid_at: DateTime<Utc>,
    pub lines: Vec<OrderLineRow>,
    pub products_total: Rupiah,
    pub shipping: Rupiah,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerPage {
    pub customer: Customer,
    /// Every order of the customer, purchases or not, newest first.
    pub orders: Vec<OrderRow>,
}

pub fn customer(store: &Store, shop: &ShopSettings, id: &str) -> Result<CustomerPage, PageError> {
    let customer = store
        .customers(&shop.id)?
        .into_iter()
        .find(|c| c.id.0 == id)
        .ok_or_else(|| PageError::NotFound(format!("unknown customer {id:?} in shop {}", shop.id)))?;
    let mut orders: Vec<OrderRow> = store
        .orders(&shop.id)?
        .into_iter()
        .filter(|o| o.customer == customer.id)
        .map(|o| OrderRow {
            status: o.status.0,
            status_label: o.status.label().to_string(),
            purchase: o.is_purchase(),
            created_at: o.created_at,
            paid_at: o.paid_at,
            lines: o
                .lines
                .iter()
                .map(|l| OrderLineRow {
                    product: l.product.as_ref().map(|p| p.to_string()),
                    name: l.name.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    total: l.total(),
                })
                .collect(),
            products_total: o.products_total,
            shipping: o.shipping,
            invoice: o.invoice,
        })
        .collect();
    orders.sort_by(|a, b| b.paid_at.cmp(&a.paid_at).then_with(|| a.invoice.cmp(&b.invoice)));
    Ok(CustomerPage { customer, orders })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierRow {
    pub name: String,
    pub discount_pct: f64,
    /// Spend from which a customer is in this tier.
    pub min_spend: Rupiah,
    /// Mean spend of the customers the clustering put in the tier (rounded).
    pub centre: Rupiah,
    /// Customers the clustering put in the tier.
    pub size: usize,
    /// Customers holding the tier now (differs from `size` only where a tier was kept
    /// because spend did not fall, or with `never_demote`).
    pub customers: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TiersPage {
    /// As configured: `kmeans` or `thresholds`.
    pub configured_method: String,
    /// As built (k-means falls back to thresholds with too few customers).
    pub method: String,
    pub window_days: u32,
    pub never_demote: bool,
    pub tiers: Vec<TierRow>,
    pub sse: f64,
    pub silhouette: f64,
    /// Customers placed on the ladder.
    pub customers: usize,
    pub histogram: Histogram,
}

/// Bins of the spend histogram.
const HISTOGRAM_BINS: usize = 20;

pub fn tiers(shop: &ShopSettings, model: Option<&ShopModel>) -> Result<TiersPage, PageError> {
    let model = model.ok_or_else(|| PageError::NotReady(shop.id.to_string()))?;
    let loyalty = &model.loyalty;
    let mut holding = vec![0usize; loyalty.ladder.len()];
    for s in loyalty.standings.values() {
        if let Some(n) = holding.get_mut(s.tier) {
            *n += 1;
        }
    }
    let tiers = loyalty
        .ladder
        .iter()
        .enumerate()
        .map(|(i, t)| TierRow {
            name: t.name.clone(),
            discount_pct: t.discount_pct,
            min_spend: t.min_spend,
            centre: Rupiah(loyalty.stats.centres.get(i).copied().unwrap_or(0.0).round() as i64),
            size: loyalty.stats.sizes.get(i).copied().unwrap_or(0),
            customers: holding[i],
        })
        .collect();
    let spends: Vec<Rupiah> = loyalty.standings.values().map(|s| s.spend).collect();
    Ok(TiersPage {
        configured_method: match shop.loyalty.method {
            TierMethod::Kmeans => "kmeans",
            TierMethod::Thresholds => "thresholds",
        }
        .to_string(),
        method: loyalty.stats.method.clone(),
        window_days: shop.loyalty.window_days,
        never_demote: shop.loyalty.never_demote,
        tiers,
        sse: loyalty.stats.sse,
        silhouette: loyalty.stats.silhouette,
        customers: loyalty.standings.len(),
        histogram: spend_histogram(&spends, HISTOGRAM_BINS, &tier_boundaries(&loyalty.ladder)),
    })
}

/// A product as a rule or offer names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductRef {
    pub id: String,
    /// Empty for a product the catalogue no longer has.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleRow {
    pub antecedent: Vec<ProductRef>,
    pub consequent: ProductRef,
    /// Paid orders holding every item of the rule.
    pub count: u32,
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferLineRow {
    pub product: ProductRef,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferRow {
    pub title: String,
    pub buy: Vec<OfferLineRow>,
    pub free: Vec<OfferLineRow>,
    pub discount_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleThresholds {
    pub min_support: f64,
    pub min_confidence: f64,
    pub min_lift: f64,
    pub max_items: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundlesPage {
    /// Paid orders mined.
    pub transactions: usize,
    pub thresholds: BundleThresholds,
    /// Highest lift first, then confidence.
    pub rules: Vec<RuleRow>,
    pub offers: Vec<OfferRow>,
}

pub fn bundles(shop: &ShopSettings, model: Option<&ShopModel>) -> Result<BundlesPage, PageError> {
    let model = model.ok_or_else(|| PageError::NotReady(shop.id.to_string()))?;
    let by_index = |i: u32| {
        model
            .products
            .get(i as usize)
            .map(|p| ProductRef {
                id: p.id.to_string(),
                name: p.name.clone(),
            })
            .unwrap_or(ProductRef {
                id: format!("#{i}"),
                name: String::new(),
            })
    };
    let by_id = |id: &str| ProductRef {
        id: id.to_string(),
        name: ProductId::parse(id)
            .ok()
            .and_then(|p| model.product_index(&p))
            .map(|i| model.products[i].name.clone())
            .unwrap_or_default(),
    };
    let mut rules: Vec<RuleRow> = model
        .bundles
        .rules
        .iter()
        .map(|r| RuleRow {
            antecedent: r.antecedent.iter().map(|&i| by_index(i)).collect(),
            consequent: by_index(r.consequent),
            count: r.count,
            support: r.support,
            confidence: r.confidence,
            lift: r.lift,
        })
        .collect();
    rules.sort_by(|a, b| {
        b.lift
            .total_cmp(&a.lift)
            .then(b.confidence.total_cmp(&a.confidence))
            .then(b.count.cmp(&a.count))
    });
    let lines = |lines: &[crate::config::OfferLine]| {
        lines
            .iter()
            .map(|l| OfferLineRow {
                product: by_id(&l.product),
                quantity: l.quantity,
            })
            .collect()
    };
    Ok(BundlesPage {
        transactions: model.bundles.transactions,
        thresholds: BundleThresholds {
            min_support: shop.recommend.bundle_min_support,
            min_confidence: shop.recommend.bundle_min_confidence,
            min_lift: shop.recommend.bundle_min_lift,
            max_items: shop.recommend.bundle_max_items,
        },
        rules,
        offers: shop
            .offers
            .iter()
            .map(|o| OfferRow {
                title: o.title.clone(),
                buy: lines(&o.buy),
                free: lines(&o.free),
                discount_pct: o.discount_pct,
            })
            .collect(),
    })
}

/// The attribution rule in one sentence, as the performance page states it.
pub fn attribution_rule(window_hours: u32) -> String {
    format!(
        "An order counts as following a recommendation when it was paid within {window_hours} hours after a click on a recommended product that the order contains (and, when the click came with a customer token, by that customer); it is credited once, to the latest such click, and \"other orders\" are the remaining purchases since the first widget event."
    )
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerformancePage {
    pub window_hours: u32,
    pub rule: String,
    /// Widget events recorded.
    pub events: usize,
    #[serde(flatten)]
    pub performance: Performance,
}

pub fn performance_page(
    store: &Store,
    shop: &ShopSettings,
    events: &EventSummary,
) -> Result<PerformancePage, PageError> {
    let orders = store.orders(&shop.id)?;
    let hours = shop.analytics.attribution_window_hours;
    Ok(PerformancePage {
        window_hours: hours,
        rule: attribution_rule(hours),
        events: events.events,
        performance: performance_of(events, &orders, chrono::Duration::hours(i64::from(hours))),
    })
}

/// A source as the sync page shows it: its kind and where it reads, never a secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceView {
    pub kind: String,
    pub address: String,
}

/// A URL without credentials, query string or fragment (tokens hide there); a path as is.
fn public_address(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.has_host() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        _ => raw.to_string(),
    }
}

pub fn source_view(source: &SourceSettings) -> SourceView {
    let address = match source {
        SourceSettings::MarketplaceApi(api) => format!(
            "{} (fs_id {}, shop {})",
            public_address(&api.base_url),
            api.fs_id,
            api.shop_id
        ),
        SourceSettings::ExportFiles(files) => files
            .products
            .iter()
            .map(|p| format!("products: {}", public_address(p)))
            .chain(
                files
                    .orders
                    .iter()
                    .map(|o| format!("orders: {}", public_address(o))),
            )
            .collect::<Vec<_>>()
            .join("; "),
        SourceSettings::Storefront(site) => {
            let mut parts: Vec<String> = site
                .sitemap
                .iter()
                .map(|s| format!("sitemap: {}", public_address(s)))
                .collect();
            match site.urls.len() {
                0 => {}
                1 => parts.push(format!("page: {}", public_address(&site.urls[0]))),
                n => parts.push(format!("{n} pages from {}", public_address(&site.urls[0]))),
            }
            parts.join("; ")
        }
    };
    SourceView {
        kind: source.kind().to_string(),
        address,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncPage {
    /// Cron with seconds, in the shop's time zone.
    pub schedule: String,
    pub timezone: String,
    pub sources: Vec<SourceView>,
    /// Newest first, at most [`REPORTS_LISTED`].
    pub reports: Vec<SyncReport>,
    /// Every quarantined record.
    pub quarantined_total: usize,
    /// The newest, at most [`QUARANTINE_LISTED`].
    pub quarantined: Vec<QuarantinedRow>,
}

/// A quarantined record as the sync page lists it: the reason as its text, and the field
/// it is about when there is one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuarantinedRow {
    pub at: DateTime<Utc>,
    pub kind: RecordKind,
    pub origin: String,
    pub reason: String,
    pub field: Option<String>,
    pub record: String,
}

impl From<Quarantined> for QuarantinedRow {
    fn from(q: Quarantined) -> Self {
        let field = match &q.reason {
            QuarantineReason::Missing { missing_field } => Some(missing_field.clone()),
            QuarantineReason::Invalid { field, .. } => Some(field.clone()),
            QuarantineReason::Unreadable(_) => None,
        };
        QuarantinedRow {
            at: q.at,
            kind: q.kind,
            origin: q.origin,
            reason: q.reason.to_string(),
            field,
            record: q.record,
        }
    }
}

pub fn sync_page(store: &Store, shop: &ShopSettings) -> Result<SyncPage, PageError> {
    let mut quarantined = store.quarantined(&shop.id)?;
    let total = quarantined.len();
    quarantined.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.origin.cmp(&b.origin)));
    quarantined.truncate(QUARANTINE_LISTED);
    Ok(SyncPage {
        schedule: shop.sync_schedule.to_string(),
        timezone: shop.timezone.name.clone(),
        sources: shop.sources.iter().map(source_view).collect(),
        reports: store.sync_reports(&shop.id, REPORTS_LISTED)?,
        quarantined_total: total,
        quarantined: quarantined.into_iter().map(QuarantinedRow::from).collect(),
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackPage {
    /// Newest first.
    pub messages: Vec<Feedback>,
    /// Messages per status: `new`, `read`, `answered`.
    pub counts: BTreeMap<String, usize>,
}

pub fn feedback(store: &Store, shop: &ShopSettings) -> Result<FeedbackPage, PageError> {
    let messages = store.feedback(&shop.id)?;
    let mut counts: BTreeMap<String, usize> = [
        FeedbackStatus::New,
        FeedbackStatus::Read,
        FeedbackStatus::Answered,
    ]
    .iter()
    .map(|s| (s.as_str().to_string(), 0))
    .collect();
    for m in &messages {
        *counts.entry(m.status.as_str().to_string()).or_default() += 1;
    }
    Ok(FeedbackPage { messages, counts })
}

/// The status a form or JSON body asks for.
pub fn parse_feedback_status(raw: Option<&str>) -> Result<FeedbackStatus, PageError> {
    let raw = raw.unwrap_or("");
    FeedbackStatus::parse(raw).ok_or_else(|| {
        bad(format!(
            "status={raw:?} is not valid: use {}",
            FeedbackStatus::CHOICES
        ))
    })
}

/// The message's id as the URL names it.
pub fn parse_feedback_id(raw: &str) -> Result<u64, PageError> {
    raw.parse()
        .map_err(|_| PageError::NotFound(format!("unknown feedback message {raw:?}")))
}

/// Sets a message's status and returns the message as it now is.
pub fn set_feedback_status(
    store: &Store,
    shop: &ShopSettings,
    id: u64,
    status: FeedbackStatus,
) -> Result<Feedback, PageError> {
    let missing = || PageError::NotFound(format!("unknown feedback message {id} in shop {}", shop.id));
    if !store.set_feedback_status(&shop.id, id, status)? {
        return Err(missing());
    }
    store
        .feedback(&shop.id)?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or_else(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Query {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn overview_query_defaults_to_months_and_quotes_a_bad_value_with_the_choices() {
        let parsed = OverviewQuery::parse(&q(&[])).unwrap();
        assert_eq!(parsed.period, Period::Month);
        assert_eq!((parsed.from, parsed.to), (None, None));
        let parsed = OverviewQuery::parse(&q(&[("period", "week"), ("from", "2026-10-01")])).unwrap();
        assert_eq!(parsed.period, Period::Week);
        assert_eq!(parsed.from, Some("2026-10-01".parse().unwrap()));

        let err = OverviewQuery::parse(&q(&[("period", "year")]))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "period=\"year\" is not valid: use day, week, month");
        let err = OverviewQuery::parse(&q(&[("from", "01/10/2026")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("from=\"01/10/2026\"") && err.contains("YYYY-MM-DD"),
            "{err}"
        );
        let err = OverviewQuery::parse(&q(&[("from", "2026-10-02"), ("to", "2026-10-01")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("after"), "{err}");
        let err = OverviewQuery::parse(&q(&[("perod", "week")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"perod\"") && err.contains("period, from, to"),
            "{err}"
        );
    }

    #[test]
    fn source_addresses_lose_credentials_and_query_strings() {
        assert_eq!(
            public_address("https://user:pw@example.com/export.csv?token=abc#x"),
            "https://example.com/export.csv"
        );
        assert_eq!(public_address("exports/orders.csv"), "exports/orders.csv");
    }

    #[test]
    fn feedback_status_must_be_one_of_three() {
        assert_eq!(parse_feedback_status(Some("read")).unwrap(), FeedbackStatus::Read);
        let err = parse_feedback_status(Some("done")).unwrap_err().to_string();
        assert_eq!(err, "status=\"done\" is not valid: use new, read or answered");
        assert!(parse_feedback_status(None).is_err());
    }

    #[test]
    fn the_attribution_rule_names_the_window() {
        assert!(attribution_rule(72).contains("within 72 hours after a click"));
    }
}
