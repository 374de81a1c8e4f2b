//! The TikTok Shop Open Platform's JSON (API version 202309; docs/tiktok-shop.md): the
//! response envelope, product search and order search pages, parsed into
//! [`crate::records`] through the legacy marketplace parser's output types. Pure functions;
//! signing and fetching live in the sync layer.
//!
//! Ids are 19-digit numbers sent as strings; they stay text (a number is accepted only when
//! JSON gave it exactly, never through a float). Prices are decimal strings in IDR and
//! become whole rupiah; a fraction of a rupiah is refused. A record that lacks a required
//! field is refused with the field's name; the caller quarantines it and keeps the rest of
//! the page.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::{CustomerId, OrderStatus, PackSize, ProductId, Rupiah};
use crate::feeds::marketplace::{kind_of, FeedOrder, FeedProduct};
use crate::feeds::FeedError;
use crate::records::{Order, OrderLine, Product, ProductStatus};

/// The one currency a Laris shop is kept in.
const CURRENCY: &str = "IDR";

/// One page of a search: its records (each parsed on its own), the token of the next page
/// (`None` on the last page) and the total the API reports for the whole search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub records: Vec<Value>,
    pub next_page_token: Option<String>,
    pub total_count: Option<u64>,
}

/// What an error code means for the caller, from TikTok Shop's published error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Too many requests: wait and try the same page again.
    RateLimited,
    /// The access token is expired or invalid: refresh it, then try again.
    Token,
    /// Anything else: the page is refused.
    Other,
}

/// Classifies an envelope's `code` and `message` (docs/tiktok-shop.md: errors). 36009004
/// covers several request faults; only its messages about the access token mean "refresh".
pub fn error_kind(code: i64, message: &str) -> ErrorKind {
    match code {
        36009002 => ErrorKind::RateLimited,
        105001 | 105002 | 36004004 => ErrorKind::Token,
        36009004 if message.contains("access_token") || message.contains("x-tts-access-token") => {
            ErrorKind::Token
        }
        _ => ErrorKind::Other,
    }
}

/// Reads the envelope (`code`, `message`, `request_id`, `data`): `code` 0 gives `data`,
/// any other code an error naming the code, the message and the request id (which TikTok
/// support asks for).
pub fn envelope_data(body: &str) -> Result<Value, FeedError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| FeedError::Page(format!("TikTok Shop answered no JSON: {e}")))?;
    let Value::Object(mut map) = value else {
        return Err(FeedError::Page(format!(
            "TikTok Shop answered {}, not an object with code, message and data",
            kind_of(&value)
        )));
    };
    let code = match map.get("code") {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| FeedError::Page(format!("the envelope's code {n} is not a whole number")))?,
        Some(other) => {
            return Err(FeedError::Page(format!(
                "the envelope's code should be a number, found {other}"
            )))
        }
        None => {
            return Err(FeedError::Page(
                "the answer has no code: it is not a TikTok Shop API envelope (check the URL)".into(),
            ))
        }
    };
    if code != 0 {
        let message = map.get("message").and_then(Value::as_str).unwrap_or("");
        let request_id = map.get("request_id").and_then(Value::as_str).unwrap_or("");
        let hint = match error_kind(code, message) {
            ErrorKind::RateLimited => " (rate limited: wait, then read the same page again)",
            ErrorKind::Token => {
                " (refresh the access token, or authorise the shop again if the refresh token expired)"
            }
            ErrorKind::Other => "",
        };
        return Err(FeedError::Page(format!(
            "TikTok Shop answered error {code}: {message}{hint} [request_id {request_id}]"
        )));
    }
    Ok(map.remove("data").unwrap_or(Value::Null))
}

/// A product search page (`data.products`).
pub fn product_page(body: &str) -> Result<SearchPage, FeedError> {
    search_page(body, "products")
}

/// An order search page (`data.orders`).
pub fn order_page(body: &str) -> Result<SearchPage, FeedError> {
    search_page(body, "orders")
}

fn search_page(body: &str, list: &str) -> Result<SearchPage, FeedError> {
    let mut data = match envelope_data(body)? {
        Value::Object(map) => map,
        // No data at all is an empty search (total_count 0 answers omit the list).
        Value::Null => {
            return Ok(SearchPage {
                records: Vec::new(),
                next_page_token: None,
                total_count: Some(0),
            })
        }
        other => {
            return Err(FeedError::Page(format!(
                "data should be an object holding {list}, found {}",
                kind_of(&other)
            )))
        }
    };
    let records = match data.remove(list) {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(other) => {
            return Err(FeedError::Page(format!(
                "data.{list} should be a list of records, found {}",
                kind_of(&other)
            )))
        }
    };
    let next_page_token = match data.get("next_page_token") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::String(_)) | Some(Value::Null) | None => None,
        Some(other) => {
            return Err(FeedError::Page(format!(
                "data.next_page_token should be text, found {other}"
            )))
        }
    };
    let total_count = match data.get("total_count") {
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .ok_or_else(|| FeedError::Page(format!("data.total_count should be a count, found {n}")))?,
        ),
        _ => None,
    };
    Ok(SearchPage {
        records,
        next_page_token,
        total_count,
    })
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    match cur {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        other => Some(other),
    }
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    match at(v, path)? {
        Value::String(s) => Some(s.trim().to_string()),
        _ => None,
    }
}

/// An id as text: a string of digits, or a JSON number given exactly (never through f64).
fn id(v: &Value, field: &str) -> Result<String, FeedError> {
    let raw = match v {
        Value::String(s) => s.trim().to_string(),
        // serde_json keeps integers up to u64 exactly; a larger one became a float, whose
        // text (1e19) is no longer all digits.
        Value::Number(n) => n.to_string(),
        other => {
            return Err(FeedError::invalid(
                field,
                format!("{field} should be an id (a string of digits), found {other}"),
            ))
        }
    };
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FeedError::invalid(
            field,
            format!("{field} should be an id (a string of digits), found {v}: send ids as strings"),
        ));
    }
    Ok(raw)
}

fn required_id(r: &Value, key: &str, field: &str) -> Result<String, FeedError> {
    id(at(r, &[key]).ok_or_else(|| FeedError::missing(field))?, field)
}

fn unix_time(v: &Value, field: &str) -> Result<DateTime<Utc>, FeedError> {
    let secs = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| FeedError::invalid(field, format!("{field} should be Unix seconds, found {v}")))?;
    // TikTok Shop sends seconds; milliseconds would land past the year 33658.
    if !(0..100_000_000_000).contains(&secs) {
        return Err(FeedError::invalid(
            field,
            format!("{field} = {secs} is not a Unix time in seconds"),
        ));
    }
    DateTime::from_timestamp(secs, 0)
        .ok_or_else(|| FeedError::invalid(field, format!("{field} = {secs} is not a Unix time in seconds")))
}

fn optional_time(r: &Value, key: &str, field: &str) -> Result<Option<DateTime<Utc>>, FeedError> {
    match at(r, &[key]) {
        // 0 is TikTok's "not yet" (paid_time of an unpaid order).
        Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(None),
        Some(v) => unix_time(v, field).map(Some),
        None => Ok(None),
    }
}

/// A TikTok Shop amount (a decimal string, `"15000"` or `"15000.00"`) as whole rupiah.
/// Zeros after the point are dropped; any other fraction is refused, never rounded
/// (docs/tiktok-shop.md: prices).
pub fn rupiah(v: &Value, field: &str) -> Result<Rupiah, FeedError> {
    let raw = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(FeedError::invalid(
                field,
                format!("{field} should be an amount like \"15000.00\", found {other}"),
            ))
        }
    };
    let bad = || {
        FeedError::invalid(
            field,
            format!("{field} = {raw:?} is not an amount: expected digits with an optional decimal point, like \"15000.00\""),
        )
    };
    let (negative, unsigned) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw.as_str()),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    if fraction.bytes().any(|b| b != b'0') {
        return Err(FeedError::invalid(
            field,
            format!(
                "{field} = {raw:?} has a fraction of a rupiah: Laris keeps whole rupiah and will not round a price; check that the shop sells in IDR"
            ),
        ));
    }
    let value: i64 = whole
        .parse()
        .map_err(|_| FeedError::invalid(field, format!("{field} = {raw:?} is too large for any price")))?;
    if negative && value != 0 {
        return Err(FeedError::invalid(
            field,
            format!("{field} = {raw:?} is negative"),
        ));
    }
    Ok(Rupiah(value))
}

/// Refuses an amount in another currency than IDR (an absent currency is taken as IDR).
/// `field` names the currency field in the error.
fn check_currency(r: &Value, path: &[&str], field: &str) -> Result<(), FeedError> {
    match text(r, path) {
        Some(c) if !c.eq_ignore_ascii_case(CURRENCY) => Err(FeedError::invalid(
            field,
            format!("{field} is {c:?}: Laris keeps prices in rupiah (IDR) only; connect the shop's Indonesian (IDR) storefront"),
        )),
        _ => Ok(()),
    }
}

/// Parses one product of a product search page into one product per SKU (a TikTok product
/// with variants has several SKUs, each with its own price and stock, and order lines name
/// the SKU). Each keeps the SKU id as its marketplace id and the seller SKU, when set, as
/// its id.
pub fn parse_product(record: &Value) -> Result<Vec<FeedProduct>, FeedError> {
    let r = record;
    let product_id = required_id(r, "id", "id")?;
    let title = text(r, &["title"]).ok_or_else(|| FeedError::missing("title"))?;
    let status_text = text(r, &["status"]).ok_or_else(|| FeedError::missing("status"))?;
    let not_for_sale = matches!(at(r, &["is_not_for_sale"]), Some(Value::Bool(true)));
    let status = if status_text == "ACTIVATE" && !not_for_sale {
        ProductStatus::Active
    } else {
        ProductStatus::Inactive
    };
    let updated_at = match optional_time(r, "update_time", "update_time")? {
        Some(t) => t,
        None => optional_time(r, "create_time", "create_time")?
            .ok_or_else(|| FeedError::missing("update_time"))?,
    };
    let Some(Value::Array(skus)) = at(r, &["skus"]) else {
        return Err(FeedError::missing("skus (a list of the product's SKUs)"));
    };
    if skus.is_empty() {
        return Err(FeedError::invalid(
            "skus",
            "skus is empty: a product needs at least one SKU",
        ));
    }
    let category = match at(r, &["recommended_categories"]) {
        Some(Value::Array(levels)) => levels.iter().filter_map(|l| text(l, &["local_name"])).collect(),
        _ => Vec::new(),
    };
    let several = skus.len() > 1;
    let mut products = Vec::with_capacity(skus.len());
    for (i, sku) in skus.iter().enumerate() {
        let field = |f: &str| format!("skus[{i}].{f}");
        let sku_id = id(
            at(sku, &["id"]).ok_or_else(|| FeedError::missing(field("id")))?,
            &field("id"),
        )?;
        check_currency(sku, &["price", "currency"], &field("price.currency"))?;
        // The price buyers see; search answers without it carry the tax-exclusive price,
        // which is the same in Indonesia (no tax is added at checkout).
        let (price_value, price_field) = match at(sku, &["price", "sale_price"]) {
            Some(v) => (v, field("price.sale_price")),
            None => (
                at(sku, &["price", "tax_exclusive_price"])
                    .ok_or_else(|| FeedError::missing(field("price.tax_exclusive_price")))?,
                field("price.tax_exclusive_price"),
            ),
        };
        let price = rupiah(price_value, &price_field)?;
        let stock = match at(sku, &["inventory"]) {
            Some(Value::Array(warehouses)) => {
                let mut total: i64 = 0;
                for (w, wh) in warehouses.iter().enumerate() {
                    let f = field(&format!("inventory[{w}].quantity"));
                    let q = at(wh, &["quantity"])
                        .and_then(Value::as_i64)
                        .filter(|q| *q >= 0)
                        .ok_or_else(|| {
                            FeedError::invalid(
                                f.clone(),
                                format!(
                                    "{f} should be a count, found {}",
                                    wh.get("quantity").unwrap_or(&Value::Null)
                                ),
                            )
                        })?;
                    total = total.saturating_add(q);
                }
                Some(total)
            }
            _ => None,
        };
        let seller_sku = text(sku, &["seller_sku"]);
        let id_source = seller_sku.clone().unwrap_or_else(|| sku_id.clone());
        let product_key = ProductId::parse(&id_source)
            .map_err(|e| FeedError::invalid(field("seller_sku"), e.to_string()))?;
        let name = match (&seller_sku, several) {
            (Some(s), true) => format!("{title} ({s})"),
            _ => title.clone(),
        };
        let mut attributes = BTreeMap::new();
        attributes.insert("tiktok_product_id".to_string(), product_id.clone());
        products.push(FeedProduct {
            marketplace_id: sku_id.clone(),
            sku: seller_sku.clone(),
            product: Product {
                id: product_key,
                marketplace_id: Some(sku_id),
                pack: PackSize::find_in(&name),
                name,
                sku: seller_sku,
                price,
                stock,
                status,
                category: category.clone(),
                weight_grams: None,
                attributes,
                description: String::new(),
                image: None,
                url: None,
                sold_count: None,
                updated_at,
            },
        });
    }
    Ok(products)
}

/// Laris's status code (the legacy marketplace's numbers, which decide what counts as a
/// purchase) for a TikTok Shop order status; `None` for a name this version does not know.
pub fn order_status(name: &str) -> Option<OrderStatus> {
    let code = match name {
        "UNPAID" => 100,
        "ON_HOLD" => 220,
        "AWAITING_SHIPMENT" => 400,
        "AWAITING_COLLECTION" => 450,
        "PARTIALLY_SHIPPING" | "IN_TRANSIT" => 500,
        "DELIVERED" => 600,
        "COMPLETED" => 700,
        "CANCELLED" => 0,
        _ => return None,
    };
    Some(OrderStatus(code))
}

/// Parses one order of an order search page. TikTok Shop sends one line item per unit
/// bought; items of the same SKU at the same price become one line with their count as
/// quantity. Items cancelled on their own (`display_status` CANCELLED in an order that goes
/// on) are left out. An unknown status keeps the order as [`OrderStatus::UNKNOWN`], never a
/// purchase.
pub fn parse_order(record: &Value) -> Result<FeedOrder, FeedError> {
    let r = record;
    let order_id = required_id(r, "id", "id")?;
    let status_name = text(r, &["status"]).ok_or_else(|| FeedError::missing("status"))?;
    let status = order_status(&status_name).unwrap_or(OrderStatus::UNKNOWN);
    let customer = CustomerId(required_id(r, "user_id", "user_id")?);
    let created_at = unix_time(
        at(r, &["create_time"]).ok_or_else(|| FeedError::missing("create_time"))?,
        "create_time",
    )?;
    let paid_at = optional_time(r, "paid_time", "paid_time")?.unwrap_or(created_at);
    let updated_at = optional_time(r, "update_time", "update_time")?.unwrap_or(paid_at);
    let Some(Value::Array(items)) = at(r, &["line_items"]) else {
        return Err(FeedError::missing("line_items (a list of order lines)"));
    };
    if items.is_empty() {
        return Err(FeedError::invalid(
            "line_items",
            "line_items is empty: an order needs at least one line",
        ));
    }
    let cancelled = |item: &Value| text(item, &["display_status"]).as_deref() == Some("CANCELLED");
    let all_cancelled = items.iter().all(cancelled);
    let mut lines: Vec<OrderLine> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = |f: &str| format!("line_items[{i}].{f}");
        // Checked even on a cancelled item: a malformed record is reported, not hidden.
        let sku_id = id(
            at(item, &["sku_id"]).ok_or_else(|| FeedError::missing(field("sku_id")))?,
            &field("sku_id"),
        )?;
        check_currency(item, &["currency"], &field("currency"))?;
        let unit_price = rupiah(
            at(item, &["sale_price"]).ok_or_else(|| FeedError::missing(field("sale_price")))?,
            &field("sale_price"),
        )?;
        if cancelled(item) && !all_cancelled {
            continue;
        }
        if let Some(line) = lines.iter_mut().find(|l| {
            l.marketplace_product_id.as_deref() == Some(sku_id.as_str()) && l.unit_price == unit_price
        }) {
            line.quantity = line.quantity.saturating_add(1);
            continue;
        }
        let product_name = text(item, &["product_name"]).unwrap_or_default();
        let name = match text(item, &["sku_name"]) {
            Some(variant) if !product_name.is_empty() && variant != "Default" => {
                format!("{product_name} ({variant})")
            }
            _ => product_name,
        };
        lines.push(OrderLine {
            product: None,
            marketplace_product_id: Some(sku_id),
            sku: text(item, &["seller_sku"]),
            name,
            quantity: 1,
            unit_price,
        });
    }
    let products_total = crate::feeds::lines_total(&lines).ok_or_else(|| {
        FeedError::invalid(
            "line_items",
            "line_items: the lines' total (price × quantity) is too large for any order: check line_items[].sale_price",
        )
    })?;
    check_currency(r, &["payment", "currency"], "payment.currency")?;
    let shipping = at(r, &["payment", "shipping_fee"])
        .map(|v| rupiah(v, "payment.shipping_fee"))
        .transpose()?
        .unwrap_or_default();
    let city = match at(r, &["recipient_address", "district_info"]) {
        // Indonesia's levels: L0 country, L1 province, L2 city or regency, L3 district.
        Some(Value::Array(levels)) => levels
            .iter()
            .find(|l| text(l, &["address_level"]).as_deref() == Some("L2"))
            .and_then(|l| text(l, &["address_name"])),
        _ => None,
    };
    Ok(FeedOrder {
        order: Order {
            invoice: order_id.clone(),
            marketplace_id: Some(order_id),
            customer,
            buyer_name: text(r, &["recipient_address", "name"]),
            // Masked numbers ((+62)812****789) are no key and link nothing.
            phone: text(r, &["recipient_address", "phone_number"])
                .and_then(|p| crate::domain::phone::normalise(&p).ok()),
            city,
            status,
            created_at,
            paid_at,
            updated_at,
            lines,
            products_total,
            shipping,
        },
    })
}

#[cfg(test)]
mod tests {
    //! Over the fixtures in `tests/fixtures/tiktok_shop/`, written from the public API
    //! reference and SDK types (docs/tiktok-shop.md: sources).
    use super::*;
    use serde_json::json;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/tiktok_shop/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn products(name: &str) -> (SearchPage, Vec<FeedProduct>) {
        let page = product_page(&fixture(name)).unwrap();
        let parsed = page
            .records
            .iter()
            .flat_map(|r| parse_product(r).unwrap())
            .collect();
        (page, parsed)
    }

    fn orders(name: &str) -> (SearchPage, Vec<Order>) {
        let page = order_page(&fixture(name)).unwrap();
        let parsed = page
            .records
            .iter()
            .map(|r| parse_order(r).unwrap().order)
            .collect();
        (page, parsed)
    }

    #[test]
    fn product_pages_become_one_product_per_sku_and_page_on_to_the_end() {
        let (page, p) = products("products_search_page1.json");
        assert_eq!(
            page.next_page_token.as_deref(),
            Some("b2Zmc2V0PTImc2VhcmNoX2lkPTE3MzM=")
        );
        assert_eq!(page.total_count, Some(3));
        assert_eq!(p.len(), 3, "one SKU, then two");
        let srd = &p[0];
        assert_eq!(srd.marketplace_id, "1729592969712272544", "the SKU id, exact");
        assert_eq!(srd.product.id.as_str(), "SRD-100");
        assert_eq!(srd.product.name, "Serundeng Lengkuas 100 g");
        assert_eq!(srd.product.price, Rupiah(20000));
        assert_eq!(srd.product.stock, Some(42), "summed over warehouses");
        assert_eq!(srd.product.status, ProductStatus::Active);
        assert_eq!(srd.product.pack.map(|s| s.amount), Some(100));
        assert_eq!(srd.product.category, vec!["Makanan Kering"]);
        assert_eq!(srd.product.updated_at.timestamp(), 1733356900);
        assert_eq!(
            srd.product
                .attributes
                .get("tiktok_product_id")
                .map(String::as_str),
            Some("1729592969712207008")
        );
        let (roa150, roa250) = (&p[1].product, &p[2].product);
        assert_eq!(roa150.name, "Sambal Roa Pedas (ROA-150)");
        assert_eq!(
            roa150.price,
            Rupiah(38000),
            "tax_exclusive_price when no sale_price"
        );
        assert_eq!(roa250.id.as_str(), "ROA-250");
        assert_eq!(roa250.price, Rupiah(55000));
        assert_eq!(roa250.stock, Some(0));

        let (page, p) = products("products_search_page2.json");
        assert_eq!(page.next_page_token, None, "an empty token ends the walk");
        assert_eq!(p.len(), 1);
        let abon = &p[0].product;
        assert_eq!(abon.status, ProductStatus::Inactive, "SELLER_DEACTIVATED");
        assert_eq!(
            abon.id.as_str(),
            "1729601234567955659",
            "no seller SKU: the SKU id"
        );
        assert_eq!(abon.sku, None);
    }

    #[test]
    fn only_active_products_for_sale_are_active() {
        let base = json!({"id": "1", "title": "T", "status": "ACTIVATE", "update_time": 1733356900,
                          "skus": [{"id": "2", "price": {"currency": "IDR", "sale_price": "1000"}}]});
        assert_eq!(
            parse_product(&base).unwrap()[0].product.status,
            ProductStatus::Active
        );
        for status in [
            "DRAFT",
            "PENDING",
            "FAILED",
            "PLATFORM_DEACTIVATED",
            "FREEZE",
            "DELETED",
        ] {
            let mut r = base.clone();
            r["status"] = json!(status);
            assert_eq!(
                parse_product(&r).unwrap()[0].product.status,
                ProductStatus::Inactive,
                "{status}"
            );
        }
        let mut r = base.clone();
        r["is_not_for_sale"] = json!(true);
        assert_eq!(
            parse_product(&r).unwrap()[0].product.status,
            ProductStatus::Inactive
        );
        let mut r = base;
        r["skus"][0].as_object_mut().unwrap().remove("inventory");
        assert_eq!(
            parse_product(&r).unwrap()[0].product.stock,
            None,
            "no inventory: untracked"
        );
    }

    #[test]
    fn a_product_lacking_a_price_is_refused_naming_the_field() {
        let page = product_page(&fixture("products_search_missing_field.json")).unwrap();
        assert_eq!(page.records.len(), 2);
        assert_eq!(
            parse_product(&page.records[0]).unwrap()[0].product.stock,
            Some(42)
        );
        let err = parse_product(&page.records[1]).unwrap_err();
        assert_eq!(err, FeedError::missing("skus[0].price.tax_exclusive_price"));
        let mut r = page.records[0].clone();
        r.as_object_mut().unwrap().remove("title");
        assert_eq!(parse_product(&r).unwrap_err(), FeedError::missing("title"));
        let mut r = page.records[0].clone();
        r["skus"] = json!([]);
        assert!(parse_product(&r)
            .unwrap_err()
            .to_string()
            .contains("skus is empty"));
        let mut r = page.records[0].clone();
        r["skus"][0]["price"]["currency"] = json!("USD");
        let e = parse_product(&r).unwrap_err().to_string();
        assert!(
            e.contains("skus[0].price.currency") && e.contains("USD") && e.contains("IDR"),
            "{e}"
        );
    }

    #[test]
    fn order_pages_become_orders_with_unit_items_counted_into_lines() {
        let (page, o) = orders("orders_search_page1.json");
        assert_eq!(page.next_page_token.as_deref(), Some("aDU2dHZnQ2pZ"));
        assert_eq!(page.total_count, Some(3));
        let done = &o[0];
        assert_eq!(done.invoice, "578012345678901234");
        assert_eq!(done.marketplace_id.as_deref(), Some("578012345678901234"));
        assert_eq!(done.customer, CustomerId("7494105515082810525".into()));
        assert_eq!(done.status, OrderStatus(700));
        assert!(done.is_purchase());
        assert_eq!(done.created_at.timestamp(), 1733356800);
        assert_eq!(done.created_at.to_rfc3339(), "2024-12-05T00:00:00+00:00");
        assert_eq!(done.paid_at.timestamp(), 1733356900);
        assert_eq!(done.updated_at.timestamp(), 1733443100);
        assert_eq!(done.lines.len(), 2, "two units of SRD-100 are one line");
        assert_eq!(done.lines[0].sku.as_deref(), Some("SRD-100"));
        assert_eq!(
            done.lines[0].marketplace_product_id.as_deref(),
            Some("1729592969712272544")
        );
        assert_eq!(done.lines[0].quantity, 2);
        assert_eq!(done.lines[0].unit_price, Rupiah(20000));
        assert_eq!(
            done.lines[0].name, "Serundeng Lengkuas 100 g",
            "the Default variant adds nothing"
        );
        assert_eq!(done.lines[1].name, "Sambal Roa Pedas (150 g)");
        assert_eq!(
            done.lines[1].unit_price,
            Rupiah(38000),
            "the price after the seller's discount"
        );
        assert_eq!(done.products_total, Rupiah(78000));
        assert_eq!(done.shipping, Rupiah(9000));
        assert_eq!(done.city.as_deref(), Some("Kota Bandung"));
        assert_eq!(done.buyer_name.as_deref(), Some("Sri W***"));
        assert_eq!(done.phone, None, "a masked phone links nothing");

        let unpaid = &o[1];
        assert_eq!(unpaid.status, OrderStatus(100));
        assert!(!unpaid.is_purchase());
        assert_eq!(unpaid.paid_at, unpaid.created_at, "paid_time 0 means not paid");
        assert_eq!(unpaid.products_total, Rupiah(55000));
        assert_eq!(unpaid.shipping, Rupiah(12000));

        let (page, o) = orders("orders_search_page2.json");
        assert_eq!(page.next_page_token, None);
        let waiting = &o[0];
        assert_eq!(waiting.status, OrderStatus(400));
        assert!(waiting.is_purchase());
        assert_eq!(
            waiting.lines.len(),
            1,
            "the item cancelled on its own is left out"
        );
        assert_eq!(waiting.products_total, Rupiah(20000));
        assert_eq!(waiting.phone.as_deref(), Some("628123456789"));
        assert_eq!(waiting.customer, o[0].customer);
    }

    #[test]
    fn an_order_cancelled_whole_keeps_its_lines_and_is_no_purchase() {
        let page = order_page(&fixture("orders_search_page2.json")).unwrap();
        let mut r = page.records[0].clone();
        r["status"] = json!("CANCELLED");
        r["line_items"][0]["display_status"] = json!("CANCELLED");
        let o = parse_order(&r).unwrap().order;
        assert_eq!(o.status, OrderStatus(0));
        assert!(!o.is_purchase());
        assert_eq!(o.lines.len(), 2);
        assert_eq!(o.products_total, Rupiah(75000));
    }

    #[test]
    fn statuses_map_onto_the_purchase_rule() {
        let purchase = [
            ("ON_HOLD", 220),
            ("AWAITING_SHIPMENT", 400),
            ("AWAITING_COLLECTION", 450),
            ("PARTIALLY_SHIPPING", 500),
            ("IN_TRANSIT", 500),
            ("DELIVERED", 600),
            ("COMPLETED", 700),
        ];
        for (name, code) in purchase {
            assert_eq!(order_status(name), Some(OrderStatus(code)), "{name}");
            assert!(OrderStatus(code).is_purchase(), "{name} is a purchase");
        }
        for (name, code) in [("UNPAID", 100), ("CANCELLED", 0)] {
            assert_eq!(order_status(name), Some(OrderStatus(code)), "{name}");
            assert!(!OrderStatus(code).is_purchase(), "{name} is no purchase");
        }
        assert_eq!(order_status("completed"), None, "names are upper case");
        let page = order_page(&fixture("orders_search_page2.json")).unwrap();
        let mut r = page.records[0].clone();
        r["status"] = json!("RETURNED_TO_SENDER");
        let o = parse_order(&r).unwrap().order;
        assert_eq!(o.status, OrderStatus::UNKNOWN, "kept, never a purchase");
        assert!(!o.is_purchase());
    }

    #[test]
    fn an_order_lacking_a_required_field_is_refused_naming_it() {
        let page = order_page(&fixture("orders_search_missing_field.json")).unwrap();
        let first = parse_order(&page.records[0]).unwrap().order;
        assert_eq!(first.status, OrderStatus(600));
        assert_eq!(
            parse_order(&page.records[1]).unwrap_err(),
            FeedError::missing("user_id")
        );
        let good = page.records[0].clone();
        for (path, field) in [
            (vec!["id"], "id"),
            (vec!["status"], "status"),
            (vec!["create_time"], "create_time"),
            (vec!["line_items"], "line_items (a list of order lines)"),
        ] {
            let mut r = good.clone();
            r.as_object_mut().unwrap().remove(path[0]);
            assert_eq!(parse_order(&r).unwrap_err(), FeedError::missing(field), "{field}");
        }
        let mut r = good.clone();
        r["line_items"][0].as_object_mut().unwrap().remove("sale_price");
        assert_eq!(
            parse_order(&r).unwrap_err(),
            FeedError::missing("line_items[0].sale_price")
        );
        let mut r = good.clone();
        r["line_items"][0].as_object_mut().unwrap().remove("sku_id");
        assert_eq!(
            parse_order(&r).unwrap_err(),
            FeedError::missing("line_items[0].sku_id")
        );
        let mut r = good.clone();
        r["line_items"] = json!([]);
        assert!(parse_order(&r)
            .unwrap_err()
            .to_string()
            .contains("line_items is empty"));
        let mut r = good;
        r["create_time"] = json!(1733420000000i64);
        let e = parse_order(&r).unwrap_err().to_string();
        assert!(
            e.contains("create_time = 1733420000000") && e.contains("seconds"),
            "{e}"
        );
    }

    #[test]
    fn long_ids_stay_exact_as_strings_or_exact_numbers() {
        let page = order_page(&fixture("orders_search_missing_field.json")).unwrap();
        let mut r = page.records[0].clone();
        // 2^63 + 1 is beyond i64 and f64's 53-bit mantissa; serde_json keeps it as a u64.
        r["user_id"] = json!(9223372036854775809u64);
        r["id"] = json!("9223372036854775807");
        let o = parse_order(&r).unwrap().order;
        assert_eq!(o.customer.0, "9223372036854775809");
        assert_eq!(o.invoice, "9223372036854775807");
        // Past u64 the number became a float: refused, not rounded.
        let raw = page.records[0].to_string().replacen(
            "\"user_id\":\"7494105515082810525\"",
            "\"user_id\":74941055150828105251",
            1,
        );
        let r: Value = serde_json::from_str(&raw).unwrap();
        let e = parse_order(&r).unwrap_err();
        assert!(
            matches!(&e, FeedError::Record(_)) && e.to_string().contains("user_id"),
            "{e}"
        );
        let mut r = page.records[0].clone();
        r["user_id"] = json!("77-01");
        assert!(parse_order(&r)
            .unwrap_err()
            .to_string()
            .contains("user_id should be an id"));
    }

    #[test]
    fn amounts_become_whole_rupiah_and_fractions_are_refused() {
        let f = "sale_price";
        assert_eq!(rupiah(&json!("15000.00"), f).unwrap(), Rupiah(15000));
        assert_eq!(rupiah(&json!("15000"), f).unwrap(), Rupiah(15000));
        assert_eq!(rupiah(&json!("15000.0"), f).unwrap(), Rupiah(15000));
        assert_eq!(rupiah(&json!(" 0 "), f).unwrap(), Rupiah(0));
        assert_eq!(rupiah(&json!(15000), f).unwrap(), Rupiah(15000));
        assert_eq!(rupiah(&json!("1250000.00"), f).unwrap(), Rupiah(1_250_000));
        let e = rupiah(&json!("15000.50"), f).unwrap_err().to_string();
        assert!(
            e.contains("\"15000.50\"") && e.contains("fraction of a rupiah"),
            "{e}"
        );
        // Not the Indonesian grouping "15.000": TikTok sends a decimal point.
        assert!(rupiah(&json!("15.000"), f).is_ok_and(|r| r == Rupiah(15)));
        for bad in ["", "Rp15.000", "15,000", "1e4", ".5", "15000.", "abc"] {
            let bad_ok = bad == "15000.";
            let res = rupiah(&json!(bad), f);
            assert_eq!(res.is_ok(), bad_ok, "{bad:?}: {res:?}");
        }
        assert!(rupiah(&json!("-500"), f)
            .unwrap_err()
            .to_string()
            .contains("negative"));
        assert!(rupiah(&json!("99999999999999999999"), f)
            .unwrap_err()
            .to_string()
            .contains("too large"));
        assert!(rupiah(&json!(15000.5), f)
            .unwrap_err()
            .to_string()
            .contains("fraction"));
    }

    #[test]
    fn an_error_envelope_names_the_code_the_message_and_the_request() {
        let e = product_page(&fixture("error_envelope.json")).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, FeedError::Page(_)));
        assert!(
            text.contains("105002") && text.contains("access token has expired"),
            "{text}"
        );
        assert!(text.contains("20261205020004A1B2C3D4E5F6A7B8C9D3"), "{text}");
        assert!(text.contains("refresh the access token"), "{text}");
        assert_eq!(error_kind(105002, ""), ErrorKind::Token);
        assert_eq!(error_kind(36009002, "Too many requests"), ErrorKind::RateLimited);
        assert_eq!(
            error_kind(
                36009004,
                "Invalid credentials. The `x-tts-access-token` header is invalid."
            ),
            ErrorKind::Token
        );
        assert_eq!(
            error_kind(
                36009004,
                "Invalid credentials. Invalid `app_key` query parameter."
            ),
            ErrorKind::Other
        );
        assert_eq!(
            error_kind(
                106001,
                "Invalid credentials. The 'sign' query parameter is invalid."
            ),
            ErrorKind::Other
        );
        let limited = r#"{"code":36009002,"message":"Too many requests","request_id":"R1","data":null}"#;
        assert!(order_page(limited)
            .unwrap_err()
            .to_string()
            .contains("rate limited"));
        assert!(order_page("<html>busy</html>")
            .unwrap_err()
            .to_string()
            .contains("no JSON"));
        assert!(order_page(r#"{"data":{"orders":[]}}"#)
            .unwrap_err()
            .to_string()
            .contains("no code"));
        assert!(order_page(r#"{"code":0,"data":{"orders":{}}}"#)
            .unwrap_err()
            .to_string()
            .contains("data.orders should be a list"));
        let empty =
            order_page(r#"{"code":0,"message":"Success","request_id":"R2","data":{"total_count":0}}"#)
                .unwrap();
        assert!(empty.records.is_empty() && empty.next_page_token.is_none());
        assert_eq!(empty.total_count, Some(0));
    }
}
