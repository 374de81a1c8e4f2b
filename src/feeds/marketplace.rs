//! The marketplace API's JSON (docs/feeds.md: marketplace API): the response envelope, product and order
//! records, parsed into [`crate::records`]. Pure functions; fetching lives in the sync layer.
//!
//! Key casing differs between API versions (`name`, `Name`), so every object's keys are
//! lower-cased before lookup. Ids come as numbers or strings and may exceed 2^53: they are
//! kept as text. A record that lacks a required field is refused with the field's name;
//! the caller quarantines it and keeps the rest of the page.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::domain::{CustomerId, OrderStatus, PackSize, Rupiah};
use crate::feeds::FeedError;
use crate::records::{Order, OrderLine, Product, ProductStatus};

/// A product as the feed describes it, before our id is chosen (that needs the shop's other
/// products: the SKU is our id only when it is unique).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedProduct {
    pub marketplace_id: String,
    pub sku: Option<String>,
    /// The product with `id` set to the SKU when present, else the marketplace id.
    pub product: Product,
}

/// An order line before its product is looked up.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedOrder {
    pub order: Order,
}

/// Lower-cases every object key, recursively.
pub fn lowercase_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.to_lowercase(), lowercase_keys(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(lowercase_keys).collect()),
        other => other,
    }
}

/// Splits an answer into its records: `data` must be a list (possibly empty or null).
/// The envelope's `reason`/`error_code` become the error when there is no data.
pub fn page_records(body: &str) -> Result<Vec<Value>, FeedError> {
    let value: Value = serde_json::from_str(body).map_err(|e| FeedError::Page(format!("not JSON: {e}")))?;
    let mut value = lowercase_keys(value);
    // Taken out of the page rather than cloned: at 100 orders a page the clone cost as much
    // as the parse (docs/performance.md: sync at scale).
    let data = value.get_mut("data").map(Value::take);
    match data {
        Some(Value::Array(items)) => Ok(items),
        Some(Value::Null) | None => {
            let header = value.get("header");
            let reason = header
                .and_then(|h| h.get("reason"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let code = header
                .and_then(|h| h.get("error_code"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if reason.is_empty() && code.is_empty() {
                Ok(Vec::new())
            } else {
                Err(FeedError::Page(format!(
                    "the marketplace answered error {code:?}: {reason}"
                )))
            }
        }
        Some(other) => Err(FeedError::Page(format!(
            "\"data\" should be a list of records, found {}",
            kind_of(&other)
        ))),
    }
}

/// What kind of JSON value `v` is, for an error message ("a list", "a number").
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    (!cur.is_null()).then_some(cur)
}

fn required<'a>(v: &'a Value, path: &[&str]) -> Result<&'a Value, FeedError> {
    at(v, path).ok_or_else(|| FeedError::missing(path.join(".")))
}

/// An id as text, from a number or a string.
fn id_text(v: &Value, field: &str) -> Result<String, FeedError> {
    match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        other => Err(FeedError::invalid(
            field,
            format!("{field} should be an id, found {other}"),
        )),
    }
}

fn integer(v: &Value, field: &str) -> Result<i64, FeedError> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .ok_or_else(|| FeedError::invalid(field, format!("{field} should be a whole number, found {n}"))),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| FeedError::invalid(field, format!("{field} should be a whole number, found {s:?}"))),
        other => Err(FeedError::invalid(
            field,
            format!("{field} should be a whole number, found {other}"),
        )),
    }
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    at(v, path).and_then(|x| match x {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn unix_time(v: &Value, field: &str) -> Result<DateTime<Utc>, FeedError> {
    let secs = integer(v, field)?;
    DateTime::from_timestamp(secs, 0)
        .ok_or_else(|| FeedError::invalid(field, format!("{field} = {secs} is not a Unix time in seconds")))
}

fn optional_time(v: &Value, path: &[&str]) -> Result<Option<DateTime<Utc>>, FeedError> {
    at(v, path).map(|x| unix_time(x, &path.join("."))).transpose()
}

fn money(v: &Value, field: &str) -> Result<Rupiah, FeedError> {
    Rupiah::from_json(v).map_err(|e| FeedError::invalid(field, format!("{field}: {e}")))
}

/// Parses one product record of the product list (already key-lowercased by
/// [`page_records`], but lower-casing again is harmless for callers that did not).
pub fn parse_product(record: &Value) -> Result<FeedProduct, FeedError> {
    let r = &lowercase_keys(record.clone());
    let marketplace_id = id_text(required(r, &["basic", "productid"])?, "basic.productID")?;
    let name = text(r, &["basic", "name"]).ok_or_else(|| FeedError::missing("basic.name"))?;
    let price = money(required(r, &["price", "value"])?, "price.value")?;
    if price.0 < 0 {
        return Err(FeedError::invalid(
            "price.value",
            format!("price.value {} is negative", price.0),
        ));
    }
    let status_code = at(r, &["basic", "status"])
        .map(|v| integer(v, "basic.status"))
        .transpose()?
        .unwrap_or(1);
    let status = if matches!(status_code, 1 | 2) {
        ProductStatus::Active
    } else {
        ProductStatus::Inactive
    };
    let stock = match at(r, &["stock", "usestock"]) {
        Some(Value::Bool(false)) => None,
        _ => at(r, &["stock", "value"])
            .map(|v| integer(v, "stock.value"))
            .transpose()?,
    };
    let weight_grams = match at(r, &["weight", "value"]) {
        Some(v) => {
            let value = v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| {
                    FeedError::invalid(
                        "weight.value",
                        format!("weight.value should be a number, found {v}"),
                    )
                })?;
            let unit = at(r, &["weight", "unit"])
                .map(|u| integer(u, "weight.unit"))
                .transpose()?
                .unwrap_or(1);
            let grams = match unit {
                1 => value,
                2 => value * 1000.0,
                other => {
                    return Err(FeedError::invalid(
                        "weight.unit",
                        format!("weight.unit {other} is unknown: 1 means gram, 2 kilogram"),
                    ))
                }
            };
            (0.0..1e9).contains(&grams).then_some(grams.round() as u32)
        }
        None => None,
    };
    let category = match at(r, &["categorytree"]) {
        Some(Value::Array(levels)) => levels
            .iter()
            .filter_map(|l| text(l, &["name"]).or_else(|| text(l, &["title"])))
            .collect(),
        _ => Vec::new(),
    };
    let image = match at(r, &["pictures"]) {
        Some(Value::Array(pics)) => pics
            .first()
            .and_then(|p| text(p, &["originalurl"]).or_else(|| text(p, &["thumbnailurl"]))),
        _ => None,
    };
    let mut attributes = BTreeMap::new();
    if let Some(Value::Array(attrs)) = at(r, &["attributes"]) {
        for a in attrs {
            if let (Some(k), Some(v)) = (text(a, &["name"]), text(a, &["value"])) {
                attributes.insert(k.to_lowercase(), v);
            }
        }
    }
    let updated = [
        optional_time(r, &["basic", "updatetimeunix"])?,
        optional_time(r, &["price", "lastupdateunix"])?,
    ]
    .into_iter()
    .flatten()
    .max()
    .or(optional_time(r, &["basic", "createtimeunix"])?)
    .ok_or_else(|| FeedError::missing("basic.updateTimeUnix"))?;
    let sku = text(r, &["other", "sku"]);
    let id_source = sku.clone().unwrap_or_else(|| marketplace_id.clone());
    let id = crate::domain::ProductId::parse(&id_source)
        .map_err(|e| FeedError::invalid("other.sku", e.to_string()))?;
    let pack = PackSize::find_in(&name);
    Ok(FeedProduct {
        marketplace_id: marketplace_id.clone(),
        sku: sku.clone(),
        product: Product {
            id,
            marketplace_id: Some(marketplace_id),
            name,
            sku,
            price,
            stock,
            status,
            category,
            weight_grams,
            pack,
            attributes,
            description: text(r, &["basic", "shortdesc"]).unwrap_or_default(),
            image,
            url: text(r, &["other", "url"]),
            sold_count: at(r, &["gmstats", "countsold"]).and_then(Value::as_u64),
            updated_at: updated,
        },
    })
}

/// Parses one order record of the order list. Line products are not looked up here.
pub fn parse_order(record: &Value) -> Result<FeedOrder, FeedError> {
    let r = &lowercase_keys(record.clone());
    let invoice = text(r, &["invoice_ref_num"]).ok_or_else(|| FeedError::missing("invoice_ref_num"))?;
    let marketplace_id = at(r, &["order_id"]).map(|v| id_text(v, "order_id")).transpose()?;
    let customer = CustomerId(id_text(required(r, &["buyer", "id"])?, "buyer.id")?);
    let status = OrderStatus(integer(required(r, &["order_status"])?, "order_status")?);
    let created_at = unix_time(required(r, &["create_time"])?, "create_time")?;
    let paid_at = optional_time(r, &["payment_date"])?.unwrap_or(created_at);
    let updated_at = optional_time(r, &["update_time"])?.unwrap_or(paid_at);
    let Some(Value::Array(items)) = at(r, &["products"]) else {
        return Err(FeedError::missing("products (a list of order lines)"));
    };
    if items.is_empty() {
        return Err(FeedError::invalid(
            "products",
            "products is empty: an order needs at least one line",
        ));
    }
    let mut lines = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = |f: &str| format!("products[{i}].{f}");
        let quantity = integer(
            at(item, &["quantity"]).ok_or_else(|| FeedError::missing(field("quantity")))?,
            &field("quantity"),
        )?;
        if !(1..=100_000).contains(&quantity) {
            return Err(FeedError::invalid(
                field("quantity"),
                format!("{} = {quantity} is not a sensible quantity", field("quantity")),
            ));
        }
        let unit_price = money(
            at(item, &["price"]).ok_or_else(|| FeedError::missing(field("price")))?,
            &field("price"),
        )?;
        lines.push(OrderLine {
            product: None,
            marketplace_product_id: at(item, &["id"]).map(|v| id_text(v, &field("id"))).transpose()?,
            sku: text(item, &["sku"]),
            name: text(item, &["name"]).unwrap_or_default(),
            quantity: quantity as u32,
            unit_price,
        });
    }
    let products_total = crate::feeds::lines_total(&lines).ok_or_else(|| {
        FeedError::invalid(
            "products",
            "products: the lines' total (price × quantity) is too large for any order: check products[].price",
        )
    })?;
    let shipping = at(r, &["amt", "shipping_cost"])
        .map(|v| money(v, "amt.shipping_cost"))
        .transpose()?
        .unwrap_or_default();
    Ok(FeedOrder {
        order: Order {
            invoice,
            marketplace_id,
            customer,
            buyer_name: text(r, &["buyer", "name"]),
            // A phone that is no number (empty, masked as 0812****789) links nothing.
            phone: text(r, &["buyer", "phone"]).and_then(|p| crate::domain::phone::normalise(&p).ok()),
            city: text(r, &["recipient", "address", "city"]),
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
    use super::*;
    use serde_json::json;

    fn srd() -> Value {
        json!({
          "basic": {"productID": 15001001, "shopID": 479573, "status": 1, "name": "Serundeng Lengkuas 100 g",
                    "condition": 1, "childCategoryID": 2795, "shortDesc": "Serundeng lengkuas gurih",
                    "createTimeUnix": 1717200000, "updateTimeUnix": 1730000000},
          "price": {"value": 20000, "currency": 1, "LastUpdateUnix": 1730000000},
          "weight": {"value": 100, "unit": 1},
          "stock": {"useStock": true, "value": 42},
          "categoryTree": [{"id": 35, "name": "Makanan & Minuman"}, {"id": 2795, "name": "Bumbu & Rempah"}],
          "pictures": [{"OriginalURL": "https://images.example/srd-100.jpg"}],
          "other": {"sku": "SRD-100", "url": "https://www.tokopedia.com/lengkuas/serundeng-lengkuas-100g"},
          "GMStats": {"countSold": 311}
        })
    }

    #[test]
    fn a_product_record_becomes_a_product_keyed_by_its_sku() {
        let p = parse_product(&srd()).unwrap();
        assert_eq!(p.marketplace_id, "15001001");
        assert_eq!(p.product.id.as_str(), "SRD-100");
        assert_eq!(p.product.price, Rupiah(20000));
        assert_eq!(p.product.stock, Some(42));
        assert_eq!(p.product.weight_grams, Some(100));
        assert_eq!(p.product.pack.map(|s| s.amount), Some(100));
        assert_eq!(p.product.category, vec!["Makanan & Minuman", "Bumbu & Rempah"]);
        assert_eq!(p.product.status, ProductStatus::Active);
        assert_eq!(p.product.sold_count, Some(311));
    }

    #[test]
    fn keys_match_without_regard_to_case_and_big_ids_stay_exact() {
        let mut r = srd();
        r["basic"] = json!({"ProductID": "90071992547409931", "Name": "Tepung", "Status": "2", "UpdateTimeUnix": 1730000000});
        r["other"] = json!({});
        let p = parse_product(&r).unwrap();
        assert_eq!(p.product.id.as_str(), "90071992547409931");
        assert_eq!(p.product.name, "Tepung");
        assert_eq!(p.product.status, ProductStatus::Active);
    }

    #[test]
    fn statuses_other_than_active_or_featured_make_a_product_inactive() {
        for code in [0, 3, -1, -2] {
            let mut r = srd();
            r["basic"]["status"] = json!(code);
            assert_eq!(
                parse_product(&r).unwrap().product.status,
                ProductStatus::Inactive,
                "status {code}"
            );
        }
    }

    #[test]
    fn kilograms_untracked_stock_string_prices_and_older_update_fields_are_read() {
        let mut r = srd();
        r["weight"] = json!({"value": 0.25, "unit": 2});
        r["stock"] = json!({"useStock": false, "value": 0});
        r["price"] = json!({"value": "Rp45.000", "LastUpdateUnix": 1730000500});
        r["basic"].as_object_mut().unwrap().remove("updateTimeUnix");
        let p = parse_product(&r).unwrap().product;
        assert_eq!(p.weight_grams, Some(250));
        assert_eq!(p.stock, None);
        assert!(p.is_available());
        assert_eq!(p.price, Rupiah(45000));
        assert_eq!(p.updated_at.timestamp(), 1730000500);
    }

    #[test]
    fn a_product_without_a_required_field_is_refused_naming_the_field() {
        let mut r = srd();
        r["price"].as_object_mut().unwrap().remove("value");
        assert!(parse_product(&r).unwrap_err().to_string().contains("price.value"));
        let mut r = srd();
        r["basic"].as_object_mut().unwrap().remove("name");
        assert!(parse_product(&r).unwrap_err().to_string().contains("basic.name"));
        let mut r = srd();
        r["price"]["value"] = json!("dua puluh ribu");
        assert!(parse_product(&r)
            .unwrap_err()
            .to_string()
            .contains("dua puluh ribu"));
    }

    fn order() -> Value {
        json!({
          "order_id": 880001234u64, "invoice_ref_num": "INV/20261102/MPL/3512345678",
          "buyer": {"id": 777001, "name": "Sri W.", "email": "", "phone": ""},
          "products": [{"id": 15001001, "name": "Serundeng Lengkuas 100 g", "sku": "SRD-100",
                        "quantity": 2, "price": 20000, "total_price": 40000, "currency": "Rp"}],
          "order_status": 700,
          "create_time": 1730530000, "payment_date": 1730530300, "update_time": 1730900000,
          "amt": {"ttl_product_price": 40000, "shipping_cost": 9000, "ttl_amount": 49000}
        })
    }

    #[test]
    fn an_order_record_becomes_an_order_with_lines_and_totals() {
        let o = parse_order(&order()).unwrap().order;
        assert_eq!(o.invoice, "INV/20261102/MPL/3512345678");
        assert_eq!(o.customer.0, "777001");
        assert_eq!(o.buyer_name.as_deref(), Some("Sri W."));
        assert_eq!(o.phone, None, "an empty buyer.phone");
        let mut with_phone = order();
        with_phone["buyer"]["phone"] = json!("+62 812-3456-789");
        with_phone["recipient"] = json!({"address": {"city": "Kota Bandung"}});
        let linked = parse_order(&with_phone).unwrap().order;
        assert_eq!(linked.customer, CustomerId("777001".into()));
        assert_eq!(linked.phone.as_deref(), Some("628123456789"));
        assert_eq!(linked.city.as_deref(), Some("Kota Bandung"));
        assert!(o.is_purchase());
        assert_eq!(o.lines[0].quantity, 2);
        assert_eq!(o.lines[0].marketplace_product_id.as_deref(), Some("15001001"));
        assert_eq!(o.products_total, Rupiah(40000));
        assert_eq!(o.shipping, Rupiah(9000));
        assert_eq!(o.paid_at.timestamp(), 1730530300);
    }

    #[test]
    fn an_order_with_a_bad_line_is_refused_naming_the_line() {
        let mut r = order();
        r["products"][0]["quantity"] = json!(0);
        assert!(parse_order(&r)
            .unwrap_err()
            .to_string()
            .contains("products[0].quantity"));
        let mut r = order();
        r.as_object_mut().unwrap().remove("buyer");
        assert!(parse_order(&r).unwrap_err().to_string().contains("buyer.id"));
    }

    #[test]
    fn an_order_whose_lines_total_overflows_is_refused_not_wrapped() {
        // Found by the property tests: price × quantity past i64 panicked in debug builds.
        let mut r = order();
        r["products"][0]["price"] = json!(5_113_495_131_018_397_393i64);
        let e = parse_order(&r).unwrap_err();
        assert!(
            matches!(e, FeedError::Record(_)) && e.to_string().contains("too large"),
            "{e}"
        );
        let mut r = order();
        r["products"] =
            json!([{"id": 1, "quantity": 1, "price": i64::MAX}, {"id": 2, "quantity": 1, "price": 1}]);
        assert!(parse_order(&r)
            .unwrap_err()
            .to_string()
            .contains("products[].price"));
    }

    #[test]
    fn an_error_envelope_becomes_a_page_error_with_the_reason() {
        let body = r#"{"header":{"reason":"invalid shop","error_code":"SHOP_NOT_FOUND"},"data":null}"#;
        let err = page_records(body).unwrap_err().to_string();
        assert!(
            err.contains("SHOP_NOT_FOUND") && err.contains("invalid shop"),
            "{err}"
        );
        assert_eq!(page_records(r#"{"header":{},"data":[]}"#).unwrap().len(), 0);
        assert!(page_records("<html>").is_err());
    }
}
