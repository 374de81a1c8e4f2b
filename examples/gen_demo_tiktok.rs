//! Writes the demo shop `lengkuas` as a recording of a TikTok Shop sync
//! (docs/tiktok-shop.md), so that `laris mock-marketplace` can serve the demo as TikTok Shop
//! and `laris replay` can import it:
//!
//! ```text
//! cargo run --example gen_demo_tiktok -- --from demo/lengkuas/recording --out demo/lengkuas/tiktok-recording
//! ```
//!
//! The products and orders are read from the legacy recording through Laris's own replay
//! (so they are what the demo holds) and written as TikTok search answers: 19-digit ids as
//! strings, one SKU per product whose `seller_sku` is the demo's product id (so product ids
//! stay the same), decimal-string IDR prices, status names, one line item per unit bought,
//! recipient phones masked as TikTok masks most of them (every fifth buyer's is whole).
//! The requests are those a `tiktok_shop` source with the mock's default app
//! (`laris-demo-app`), `history_days = 190` and 100 records a page makes at [`NOW`]: one
//! product search, then the order search in week-long update-time windows, signed with the
//! demo secret. Deterministic: the same legacy recording gives byte-identical files.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Parser;
use serde_json::{json, Value};

use laris::cli::mock_marketplace::tiktok::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET};
use laris::domain::ShopId;
use laris::records::{Order, Product, ProductStatus};
use laris::store::{ShopStore, Store};
use laris::sync::api::{windows, with_query};
use laris::sync::recording::Exchange;
use laris::sync::tiktok_shop::run::ORDER_WINDOW_SECS;
use laris::sync::tiktok_shop::{
    order_search_body, page_params, product_search_body, signed_query, App, API_BASE, ORDER_SEARCH_PATH,
    PRODUCT_SEARCH_PATH,
};

/// The recorded sync's clock: 2026-11-02 00:00 WIB, a day after the demo's period ends
/// (the last orders were updated after it).
pub const NOW: i64 = 1_793_552_400;
/// How far back the recorded sync read orders (the demo starts 2026-05-01 WIB, 184 days before).
pub const HISTORY_DAYS: i64 = 190;
const PER_PAGE: u32 = 100;
/// The demo's shop cipher.
const SHOP_CIPHER: &str = "ROW_lengkuasDemo";
const FIRST_PRODUCT_ID: u64 = 1_729_500_000_000_000_001;
const FIRST_SKU_ID: u64 = 1_729_600_000_000_000_001;
const FIRST_ORDER_ID: u64 = 5_770_000_000_000_000_001;
const FIRST_LINE_ITEM_ID: u64 = 5_780_000_000_000_000_001;
const FIRST_USER_ID: u64 = 7_494_000_000_000_000_001;
const WAREHOUSE_ID: &str = "7300000000000000001";

#[derive(Parser)]
struct Args {
    /// The demo's legacy recording.
    #[arg(long, default_value = "demo/lengkuas/recording")]
    from: PathBuf,
    /// The TikTok recording to write (replaced).
    #[arg(long, default_value = "demo/lengkuas/tiktok-recording")]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let store_dir = tempfile::tempdir()?;
    let store = Store::open(store_dir.path())?;
    let shop = ShopId::parse("lengkuas")?;
    let report = laris::sync::replay::replay(&store, &shop, &args.from)
        .with_context(|| format!("cannot replay {}", args.from.display()))?;
    if !report.ok {
        bail!(
            "{} did not replay cleanly: {:?}",
            args.from.display(),
            report.errors
        );
    }
    let products = store.products(&shop)?;
    let orders = store.orders(&shop)?;
    let newest = orders.iter().map(|o| o.updated_at.timestamp()).max().unwrap_or(0);
    if newest >= NOW {
        bail!("an order was updated at {newest}, after the recorded sync's clock {NOW}: raise NOW");
    }
    let shop_data = Shop::new(&products, &orders);
    write_recording(&args.out, &shop_data)?;
    println!(
        "wrote {} products and {} orders to {}",
        products.len(),
        orders.len(),
        args.out.display()
    );
    Ok(())
}

/// The demo as TikTok search records, ids assigned in a fixed order.
struct Shop {
    products: Vec<(i64, Value)>,
    orders: Vec<(i64, Value)>,
}

impl Shop {
    fn new(products: &[Product], orders: &[Order]) -> Shop {
        // The demo's product id (the seller SKU) → the TikTok SKU id.
        let mut skus = BTreeMap::new();
        let mut tiktok_products = Vec::new();
        for (i, p) in products.iter().enumerate() {
            let product_id = (FIRST_PRODUCT_ID + i as u64).to_string();
            let sku_id = (FIRST_SKU_ID + i as u64).to_string();
            skus.insert(p.id.to_string(), sku_id.clone());
            tiktok_products.push((p.updated_at.timestamp(), product_json(p, &product_id, &sku_id)));
        }
        let mut users = BTreeMap::new();
        for o in orders {
            let n = users.len() as u64;
            users.entry(o.customer.0.clone()).or_insert(n);
        }
        let mut sorted: Vec<&Order> = orders.iter().collect();
        sorted.sort_by_key(|o| (o.created_at, o.invoice.clone()));
        let tiktok_orders = sorted
            .iter()
            .enumerate()
            .map(|(i, o)| {
                (
                    o.updated_at.timestamp(),
                    order_json(o, i as u64, users[&o.customer.0], &skus),
                )
            })
            .collect();
        Shop {
            products: tiktok_products,
            orders: tiktok_orders,
        }
    }
}

fn product_json(p: &Product, product_id: &str, sku_id: &str) -> Value {
    let mut sku = json!({
        "id": sku_id,
        "seller_sku": p.id.to_string(),
        "price": {"currency": "IDR", "sale_price": p.price.0.to_string(), "tax_exclusive_price": p.price.0.to_string()},
    });
    if let Some(stock) = p.stock {
        sku["inventory"] = json!([{"warehouse_id": WAREHOUSE_ID, "quantity": stock}]);
    }
    let updated = p.updated_at.timestamp();
    json!({
        "id": product_id,
        "title": p.name,
        "status": if p.status == ProductStatus::Active { "ACTIVATE" } else { "SELLER_DEACTIVATED" },
        "is_not_for_sale": false,
        "create_time": updated,
        "update_time": updated,
        "recommended_categories": p.category.iter().map(|c| json!({"local_name": c})).collect::<Vec<_>>(),
        "skus": [sku],
    })
}

/// TikTok's status name for a demo status code, keeping what counts as a purchase.
fn status_name(order: &Order) -> &'static str {
    let code = order.status.0;
    if !order.is_purchase() {
        return if (100..220).contains(&code) {
            "UNPAID"
        } else {
            "CANCELLED"
        };
    }
    match code {
        ..=399 => "ON_HOLD",
        400..=449 => "AWAITING_SHIPMENT",
        450..=499 => "AWAITING_COLLECTION",
        500..=599 => "IN_TRANSIT",
        600..=699 => "DELIVERED",
        _ => "COMPLETED",
    }
}

/// A name as TikTok shows it to the seller: the first word, then the next one's initial.
fn masked_name(name: &str) -> String {
    let mut words = name.split_whitespace();
    match (words.next(), words.next().and_then(|w| w.chars().next())) {
        (Some(first), Some(initial)) => format!("{first} {initial}***"),
        (Some(first), None) => first.to_string(),
        _ => String::new(),
    }
}

fn order_json(o: &Order, index: u64, user: u64, skus: &BTreeMap<String, String>) -> Value {
    let order_id = (FIRST_ORDER_ID + index).to_string();
    let status = status_name(o);
    let mut items = Vec::new();
    for line in &o.lines {
        let seller_sku = line.product.as_ref().map(|p| p.to_string()).unwrap_or_default();
        let sku_id = skus.get(&seller_sku).cloned().unwrap_or_default();
        for _ in 0..line.quantity {
            let n = items.len();
            items.push(json!({
                "id": (FIRST_LINE_ITEM_ID + index * 100 + n as u64).to_string(),
                "sku_id": sku_id,
                "seller_sku": seller_sku,
                "product_name": line.name,
                "sale_price": line.unit_price.0.to_string(),
                "currency": "IDR",
                "display_status": status,
            }));
        }
    }
    // Every fifth buyer's phone is shown whole (a seller-fulfilled order); the rest masked.
    let phone_digits = format!("81{:09}", 234_500_000 + user);
    let phone = if user.is_multiple_of(5) {
        format!("(+62){phone_digits}")
    } else {
        format!(
            "(+62){}****{}",
            &phone_digits[..3],
            &phone_digits[phone_digits.len() - 3..]
        )
    };
    let city = o.city.clone().unwrap_or_else(|| "Kota Bandung".into());
    let paid = if status == "UNPAID" {
        0
    } else {
        o.paid_at.timestamp()
    };
    json!({
        "id": order_id,
        "status": status,
        "user_id": (FIRST_USER_ID + user).to_string(),
        "create_time": o.created_at.timestamp(),
        "paid_time": paid,
        "update_time": o.updated_at.timestamp(),
        "payment": {
            "currency": "IDR",
            "sub_total": o.products_total.0.to_string(),
            "shipping_fee": o.shipping.0.to_string(),
            "total_amount": (o.products_total.0 + o.shipping.0).to_string(),
        },
        "recipient_address": {
            "name": masked_name(o.buyer_name.as_deref().unwrap_or("")),
            "phone_number": phone,
            "district_info": [
                {"address_level": "L2", "address_name": city},
            ],
        },
        "line_items": items,
    })
}

/// Writes `index.jsonl`, the answers and the request bodies.
fn write_recording(out: &Path, shop: &Shop) -> anyhow::Result<()> {
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| format!("cannot replace {}", out.display()))?;
    }
    fs::create_dir_all(out)?;
    let app = App {
        key: DEFAULT_APP_KEY.into(),
        secret: DEFAULT_APP_SECRET.into(),
    };
    let mut lines = Vec::new();
    let mut record = |path: &str,
                      role: &str,
                      params: Vec<(String, String)>,
                      body: String,
                      data: Value|
     -> anyhow::Result<()> {
        let seq = lines.len() as u64 + 1;
        let query = signed_query(
            &app,
            Some(SHOP_CIPHER),
            path,
            &params,
            Some(&body),
            NOW + seq as i64,
        );
        let pairs: Vec<(&str, String)> = query.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let answer = json!({"code": 0, "message": "Success", "request_id": format!("2026110100000DEMO{seq:04}"), "data": data});
        let name = format!("{seq:04}.json");
        let request_name = format!("{seq:04}.request.json");
        fs::write(out.join(&name), format!("{answer}\n"))?;
        fs::write(out.join(&request_name), &body)?;
        let exchange = Exchange {
            seq,
            source: 0,
            method: "POST".into(),
            url: with_query(&format!("{API_BASE}{path}"), &pairs),
            status: 200,
            headers: [("content-type".to_string(), "application/json".to_string())].into(),
            body: Some(name),
            at: chrono::DateTime::from_timestamp(NOW + seq as i64, 0)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            role: Some(role.into()),
            request_body: Some(request_name),
        };
        lines.push(serde_json::to_string(&exchange)?);
        Ok(())
    };

    let body = product_search_body(0, NOW)?;
    let products: Vec<&(i64, Value)> = shop.products.iter().filter(|(t, _)| *t <= NOW).collect();
    for (page, chunk) in pages(&products).into_iter().enumerate() {
        let token = (page > 0).then(|| token_for(page));
        let next = if (page + 1) * PER_PAGE as usize >= products.len() {
            String::new()
        } else {
            token_for(page + 1)
        };
        let data = json!({"products": chunk.iter().map(|(_, p)| p).collect::<Vec<_>>(), "total_count": products.len(), "next_page_token": next});
        record(
            PRODUCT_SEARCH_PATH,
            "tiktok_products",
            page_params(PER_PAGE, token.as_deref())?,
            body.clone(),
            data,
        )?;
    }
    for (start, end) in windows(NOW - HISTORY_DAYS * 86_400, NOW, ORDER_WINDOW_SECS) {
        let body = order_search_body(start, end)?;
        let mut hits: Vec<&(i64, Value)> = shop
            .orders
            .iter()
            .filter(|(t, _)| *t >= start && *t < end)
            .collect();
        hits.sort_by_key(|(t, o)| (*t, o["id"].as_str().unwrap_or("").to_string()));
        for (page, chunk) in pages(&hits).into_iter().enumerate() {
            let token = (page > 0).then(|| token_for(page));
            let next = if (page + 1) * PER_PAGE as usize >= hits.len() {
                String::new()
            } else {
                token_for(page + 1)
            };
            let data = json!({"orders": chunk.iter().map(|(_, o)| o).collect::<Vec<_>>(), "total_count": hits.len(), "next_page_token": next});
            let mut params = page_params(PER_PAGE, token.as_deref())?;
            params.push(("sort_field".into(), "update_time".into()));
            params.push(("sort_order".into(), "ASC".into()));
            record(ORDER_SEARCH_PATH, "tiktok_orders", params, body.clone(), data)?;
        }
    }
    fs::write(out.join("index.jsonl"), lines.join("\n") + "\n")?;
    Ok(())
}

/// Pages of [`PER_PAGE`]; an empty search still has its one (empty) page.
fn pages<'a, T>(items: &'a [&'a T]) -> Vec<&'a [&'a T]> {
    if items.is_empty() {
        return vec![&[]];
    }
    items.chunks(PER_PAGE as usize).collect()
}

/// An opaque page token, as TikTok's look.
fn token_for(page: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("demo-page:{page}"))
}
