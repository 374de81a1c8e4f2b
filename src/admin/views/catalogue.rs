//! The catalogue pages: every product with its sales, and one product with exactly what the
//! widget would show on its page and how the lists are made (the fit panel).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::admin::analytics::{best_sellers, BestSeller};
use crate::admin::views::queries::{msg, PageError, ProductQuery};
use crate::config::ShopSettings;
use crate::domain::{ProductId, Rupiah};
use crate::model::serve::{recommend, Lang, Recommendations, Request};
use crate::model::ShopModel;
use crate::recommend::blend::{BlendFit, BlendMode, ListFit, SIGNAL_NAMES};
use crate::records::{Order, ProductStatus};
use crate::store::ShopStore;

/// Best-sellers listed on the products page.
pub const BEST_SELLERS_LISTED: usize = 10;

/// One catalogue row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

pub fn products(store: &dyn ShopStore, shop: &ShopSettings) -> Result<ProductsPage, PageError> {
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
    store: &dyn ShopStore,
    shop: &ShopSettings,
    model: Option<&ShopModel>,
    id: &str,
    q: &ProductQuery,
) -> Result<ProductPage, PageError> {
    let not_found = || {
        PageError::NotFound(msg(
            "unknown product {id} in shop {shop}",
            &[("id", &format!("{id:?}")), ("shop", shop.id.as_str())],
        ))
    };
    let pid = ProductId::parse(id).map_err(|_| not_found())?;
    let stored = store.product(&shop.id, &pid)?.ok_or_else(not_found)?;
    let model = model.ok_or_else(|| PageError::NotReady(shop.id.to_string()))?;
    // With the owner's dashboard changes, as the widget serves it.
    let shop = model.settings.as_deref().unwrap_or(shop);
    let req = Request {
        product: &pid,
        customer: None,
        cart: &[],
        limit: shop.recommend.limit,
        lang: q.lang,
    };
    let recommendations = recommend(model, shop.id.as_str(), &shop.recommend, &shop.offers, &req)
        .ok_or_else(|| {
            PageError::NotReady(msg(
                "{shop} (product {id} is newer than its model)",
                &[("shop", shop.id.as_str()), ("id", &format!("{id:?}"))],
            ))
        })?;
    let orders = store.orders(&shop.id)?;
    Ok(ProductPage {
        product: product_row(&stored, &sales_by_product(&orders)),
        recommendations,
        fit: fit_panel(&model.fit, shop, q.lang),
    })
}
