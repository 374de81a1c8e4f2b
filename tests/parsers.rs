//! Property tests of every feed parser (proptest): the marketplace API's JSON, Seller Center
//! exports (CSV and XLSX), storefront pages (JSON-LD, Open Graph) and sitemaps, recordings
//! and their replay.
//!
//! For each: arbitrary input and valid input with random damage never panic; a record that
//! is refused is refused with a reason (which the pipeline keeps in quarantine); a record
//! generated valid is accepted and its key fields (id, name, price, status, quantities,
//! times) come back as they went in. Each property runs a bounded number of cases, so the
//! binary takes seconds: `cargo test --test parsers`.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};

use laris::domain::{ProductId, Rupiah, ShopId};
use laris::feeds::exports::{parse_orders, parse_products, read_rows, Rows};
use laris::feeds::marketplace::{page_records, parse_order, parse_product};
use laris::feeds::storefront::{parse_page, parse_sitemap};
use laris::feeds::FeedError;
use laris::records::{ProductStatus, RecordKind};
use laris::store::{ShopStore, Store};
use laris::sync::pipeline::{api_orders, api_products, Incoming};
use laris::sync::recording::{Exchange, Recording};

fn cases(n: u32) -> Config {
    Config {
        cases: n,
        ..Config::default()
    }
}

fn fetched() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 5, 8, 0, 0).unwrap()
}

/// A refused record's reason: a record error with something to say.
fn assert_reason(e: &FeedError) {
    match e {
        FeedError::Record(m) => assert!(!m.to_string().trim().is_empty(), "an empty reason: {e:?}"),
        FeedError::Page(m) => assert!(!m.trim().is_empty(), "an empty reason: {e:?}"),
    }
}

// ---- arbitrary and damaged JSON -----------------------------------------------------------

/// Object keys the parsers look for (in either casing), and others.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "basic", "productID", "ProductID", "name", "Name", "status", "price", "value", "stock",
            "useStock", "weight", "unit", "categoryTree", "pictures", "OriginalURL", "attributes",
            "other", "sku", "url", "updateTimeUnix", "createTimeUnix", "LastUpdateUnix", "GMStats",
            "countSold", "shortDesc", "invoice_ref_num", "order_id", "buyer", "id", "order_status",
            "create_time", "payment_date", "update_time", "products", "quantity", "amt",
            "shipping_cost", "data", "header", "reason", "error_code",
        ])
        .prop_map(str::to_string),
        1 => "[a-zA-Z_]{1,8}",
    ]
}

/// Strings shaped like what the parsers read: numbers, prices, ids, and anything.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,20}",
        "-?[0-9]{1,12}\\.[0-9]{1,4}",
        "(Rp|IDR|Rp\\.)? ?[0-9]{1,3}(\\.[0-9]{3}){0,5}(,[0-9]{2})?",
        " *[A-Za-z0-9 ]{0,12} *",
        ".{0,16}",
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..7)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An edit of one place in a JSON tree.
#[derive(Debug, Clone)]
enum Edit {
    Replace(Value),
    Remove,
}

fn edits() -> impl Strategy<Value = Vec<(usize, Edit)>> {
    prop::collection::vec(
        (
            any::<usize>(),
            prop_oneof![any_json().prop_map(Edit::Replace), Just(Edit::Remove)],
        ),
        1..4,
    )
}

fn pointers(v: &Value, here: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{here}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let p = format!("{here}/{i}");
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        _ => {}
    }
}

/// `v` with each edit applied at the place its number picks.
fn damage(mut v: Value, edits: &[(usize, Edit)]) -> Value {
    for (pick, edit) in edits {
        let mut places = Vec::new();
        pointers(&v, String::new(), &mut places);
        if places.is_empty() {
            if let Edit::Replace(new) = edit {
                v = new.clone();
            }
            continue;
        }
        let place = &places[pick % places.len()];
        match edit {
            Edit::Replace(new) => *v.pointer_mut(place).unwrap() = new.clone(),
            Edit::Remove => {
                let (parent, last) = place.rsplit_once('/').unwrap();
                match v.pointer_mut(parent).unwrap() {
                    Value::Object(m) => {
                        m.remove(&last.replace("~1", "/").replace("~0", "~"));
                    }
                    Value::Array(items) => {
                        items.remove(last.parse::<usize>().unwrap());
                    }
                    _ => unreachable!("a place has a container above it"),
                }
            }
        }
    }
    v
}

/// Bytes with some flipped, dropped or inserted.
fn damage_bytes(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, byte, how) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = at % bytes.len();
        match how % 3 {
            0 => bytes[at] = byte,
            1 => {
                bytes.remove(at);
            }
            _ => bytes.insert(at, byte),
        }
    }
    bytes
}

fn byte_edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)
}

// ---- money as shops write it ----------------------------------------------------------

/// `20000` → `20.000`.
fn grouped(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// The price written in one of the ways shops write it.
fn price_text(n: i64, style: u8) -> String {
    match style % 6 {
        0 => n.to_string(),
        1 => grouped(n),
        2 => format!("Rp{}", grouped(n)),
        3 => format!("Rp {}", grouped(n)),
        4 => format!("{},00", grouped(n)),
        _ => format!("IDR {}", grouped(n)),
    }
}

// ---- the marketplace API ----------------------------------------------------------------

#[derive(Debug, Clone)]
struct ApiProduct {
    marketplace_id: u64,
    sku: Option<String>,
    name: String,
    price: i64,
    price_style: u8,
    status: i64,
    stock: i64,
    use_stock: bool,
    updated: i64,
    upper_keys: bool,
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9 ]{0,30}[A-Za-z0-9]"
}

fn sku() -> impl Strategy<Value = String> {
    "[A-Z]{2,4}-[0-9]{1,5}"
}

fn api_product() -> impl Strategy<Value = ApiProduct> {
    (
        (
            1u64..u64::MAX,
            prop::option::of(sku()),
            name(),
            0i64..50_000_000,
            any::<u8>(),
        ),
        (
            prop::sample::select(vec![-2i64, -1, 0, 1, 2, 3]),
            0i64..10_000,
            any::<bool>(),
            1_500_000_000i64..2_000_000_000,
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (marketplace_id, sku, name, price, price_style),
                (status, stock, use_stock, updated, upper_keys),
            )| {
                ApiProduct {
                    marketplace_id,
                    sku,
                    name,
                    price,
                    price_style,
                    status,
                    stock,
                    use_stock,
                    updated,
                    upper_keys,
                }
            },
        )
}

/// Upper-cases the first letter of every key (`basic` → `Basic`), as other API versions do.
fn upper_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let k = c
                        .next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default();
                    (k, upper_keys(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(upper_keys).collect()),
        other => other,
    }
}

impl ApiProduct {
    fn record(&self) -> Value {
        let price = if self.price_style % 7 == 6 {
            json!(self.price)
        } else {
            json!(price_text(self.price, self.price_style))
        };
        let mut other = json!({"url": "https://shop.example/p"});
        if let Some(sku) = &self.sku {
            other["sku"] = json!(sku);
        }
        let v = json!({
            "basic": {"productID": self.marketplace_id, "name": self.name, "status": self.status,
                      "updateTimeUnix": self.updated, "createTimeUnix": 1_400_000_000},
            "price": {"value": price, "currency": 1},
            "stock": {"useStock": self.use_stock, "value": self.stock},
            "weight": {"value": 250, "unit": 1},
            "categoryTree": [{"id": 1, "name": "Makanan & Minuman"}],
            "other": other,
        });
        if self.upper_keys {
            upper_keys(v)
        } else {
            v
        }
    }

    fn id(&self) -> String {
        self.sku
            .clone()
            .unwrap_or_else(|| self.marketplace_id.to_string())
    }
}

#[derive(Debug, Clone)]
struct ApiLine {
    id: u64,
    sku: Option<String>,
    name: String,
    quantity: i64,
    price: i64,
}

#[derive(Debug, Clone)]
struct ApiOrder {
    invoice: String,
    buyer: u64,
    status: i64,
    created: i64,
    paid_after: Option<i64>,
    lines: Vec<ApiLine>,
    shipping: i64,
}

fn api_order() -> impl Strategy<Value = ApiOrder> {
    let line = (
        1u64..u64::MAX,
        prop::option::of(sku()),
        name(),
        1i64..=100_000,
        0i64..10_000_000,
    )
        .prop_map(|(id, sku, name, quantity, price)| ApiLine {
            id,
            sku,
            name,
            quantity,
            price,
        });
    (
        "INV/2026[0-9]{4}/MPL/[0-9]{6,10}",
        1u64..u64::MAX,
        prop::sample::select(vec![0i64, 5, 100, 220, 400, 500, 550, 600, 700, 701]),
        1_500_000_000i64..2_000_000_000,
        prop::option::of(0i64..100_000),
        prop::collection::vec(line, 1..5),
        0i64..100_000,
    )
        .prop_map(
            |(invoice, buyer, status, created, paid_after, lines, shipping)| ApiOrder {
                invoice,
                buyer,
                status,
                created,
                paid_after,
                lines,
                shipping,
            },
        )
}

impl ApiOrder {
    fn record(&self) -> Value {
        let mut v = json!({
            "order_id": 880_001_234u64,
            "invoice_ref_num": self.invoice,
            "buyer": {"id": self.buyer, "name": "Pembeli", "email": "", "phone": ""},
            "order_status": self.status,
            "create_time": self.created,
            "products": self.lines.iter().map(|l| {
                let mut line = json!({"id": l.id, "name": l.name, "quantity": l.quantity, "price": l.price});
                if let Some(sku) = &l.sku {
                    line["sku"] = json!(sku);
                }
                line
            }).collect::<Vec<_>>(),
            "amt": {"shipping_cost": self.shipping},
        });
        if let Some(after) = self.paid_after {
            v["payment_date"] = json!(self.created + after);
        }
        v
    }
}

/// A marketplace page's body around `records`.
fn page_body(records: &[Value]) -> String {
    json!({"header": {"process_time": 0.1, "messages": "Your request has been processed successfully"}, "data": records})
        .to_string()
}

/// A record as a page may hold it: generated valid, valid with damage, or anything.
#[derive(Debug, Clone)]
enum Kind<T> {
    Valid(T),
    Damaged(Value),
    Arbitrary(Value),
}

fn product_records() -> impl Strategy<Value = Vec<Kind<ApiProduct>>> {
    prop::collection::vec(
        prop_oneof![
            2 => api_product().prop_map(Kind::Valid),
            2 => (api_product(), edits()).prop_map(|(p, e)| Kind::Damaged(damage(p.record(), &e))),
            1 => any_json().prop_map(Kind::Arbitrary),
        ],
        0..8,
    )
}

fn order_records() -> impl Strategy<Value = Vec<Kind<ApiOrder>>> {
    prop::collection::vec(
        prop_oneof![
            2 => api_order().prop_map(Kind::Valid),
            2 => (api_order(), edits()).prop_map(|(o, e)| Kind::Damaged(damage(o.record(), &e))),
            1 => any_json().prop_map(Kind::Arbitrary),
        ],
        0..8,
    )
}

fn raw_of<T>(k: &Kind<T>, record: impl Fn(&T) -> Value) -> Value {
    match k {
        Kind::Valid(t) => record(t),
        Kind::Damaged(v) | Kind::Arbitrary(v) => v.clone(),
    }
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn any_text_as_a_marketplace_page_is_records_or_a_page_error_with_a_reason(body in prop_oneof![
        ".{0,64}",
        any_json().prop_map(|v| v.to_string()),
        any_json().prop_map(|v| json!({"header": {"reason": "x"}, "data": v}).to_string()),
    ]) {
        match page_records(&body) {
            Ok(_) => {}
            Err(e) => {
                prop_assert!(matches!(e, FeedError::Page(_)), "{e:?}");
                assert_reason(&e);
            }
        }
    }

    #[test]
    fn a_marketplace_product_is_taken_with_its_key_fields_or_refused_with_a_reason(p in api_product()) {
        let parsed = parse_product(&p.record()).expect("a generated product is valid");
        let product = parsed.product;
        prop_assert_eq!(product.id.as_str(), p.id());
        prop_assert_eq!(parsed.marketplace_id, p.marketplace_id.to_string());
        prop_assert_eq!(&product.name, &p.name);
        prop_assert_eq!(product.price, Rupiah(p.price));
        let active = matches!(p.status, 1 | 2);
        prop_assert_eq!(product.status == ProductStatus::Active, active);
        prop_assert_eq!(product.stock, p.use_stock.then_some(p.stock));
        prop_assert_eq!(product.updated_at.timestamp(), p.updated);
    }

    #[test]
    fn a_damaged_or_arbitrary_marketplace_product_never_panics(v in prop_oneof![
        (api_product(), edits()).prop_map(|(p, e)| damage(p.record(), &e)),
        any_json(),
    ]) {
        match parse_product(&v) {
            Ok(p) => {
                prop_assert!(ProductId::parse(p.product.id.as_str()).is_ok());
                prop_assert!(p.product.price.0 >= 0);
                prop_assert!(!p.product.name.trim().is_empty());
            }
            Err(e) => {
                prop_assert!(matches!(e, FeedError::Record(_)), "{e:?}");
                assert_reason(&e);
            }
        }
    }

    #[test]
    fn a_marketplace_order_keeps_its_invoice_buyer_status_and_lines(o in api_order()) {
        let order = parse_order(&o.record()).expect("a generated order is valid").order;
        prop_assert_eq!(&order.invoice, &o.invoice);
        prop_assert_eq!(order.customer.0, o.buyer.to_string());
        prop_assert_eq!(order.status.0, o.status);
        prop_assert_eq!(order.created_at.timestamp(), o.created);
        prop_assert_eq!(order.paid_at.timestamp(), o.created + o.paid_after.unwrap_or(0));
        prop_assert_eq!(order.lines.len(), o.lines.len());
        for (got, want) in order.lines.iter().zip(&o.lines) {
            prop_assert_eq!(i64::from(got.quantity), want.quantity);
            prop_assert_eq!(got.unit_price, Rupiah(want.price));
            prop_assert_eq!(got.marketplace_product_id.clone(), Some(want.id.to_string()));
            prop_assert_eq!(&got.sku, &want.sku);
            prop_assert_eq!(&got.name, &want.name);
        }
        let total: i64 = o.lines.iter().map(|l| l.quantity * l.price).sum();
        prop_assert_eq!(order.products_total, Rupiah(total));
        prop_assert_eq!(order.shipping, Rupiah(o.shipping));
    }

    #[test]
    fn a_damaged_or_arbitrary_marketplace_order_never_panics(v in prop_oneof![
        (api_order(), edits()).prop_map(|(o, e)| damage(o.record(), &e)),
        any_json(),
    ]) {
        match parse_order(&v) {
            Ok(o) => {
                prop_assert!(!o.order.lines.is_empty());
                prop_assert!(o.order.lines.iter().all(|l| (1..=100_000).contains(&l.quantity)));
                prop_assert!(!o.order.invoice.trim().is_empty());
            }
            Err(e) => {
                prop_assert!(matches!(e, FeedError::Record(_)), "{e:?}");
                assert_reason(&e);
            }
        }
    }

    #[test]
    fn every_record_of_a_product_page_is_taken_or_quarantined_with_a_reason(records in product_records()) {
        let raw: Vec<Value> = records.iter().map(|k| raw_of(k, ApiProduct::record)).collect();
        let incoming = api_products("test page", &page_body(&raw)).expect("the page is readable");
        prop_assert_eq!(incoming.len(), records.len());
        for (k, got) in records.iter().zip(&incoming) {
            match (k, got) {
                (Kind::Valid(p), Incoming::ApiProduct(feed)) => {
                    prop_assert_eq!(feed.product.id.as_str(), p.id());
                    prop_assert_eq!(feed.product.price, Rupiah(p.price));
                }
                (Kind::Valid(p), other) => prop_assert!(false, "{p:?} became {other:?}"),
                (_, Incoming::Bad { reason, origin, kind, .. }) => {
                    assert_reason(reason);
                    prop_assert_eq!(*kind, RecordKind::Product);
                    prop_assert!(origin.starts_with("test page #"));
                }
                (_, Incoming::ApiProduct(_)) => {}
                (_, other) => prop_assert!(false, "a product page gave {other:?}"),
            }
        }
    }

    #[test]
    fn every_record_of_an_order_page_is_taken_or_quarantined_with_a_reason(records in order_records()) {
        let raw: Vec<Value> = records.iter().map(|k| raw_of(k, ApiOrder::record)).collect();
        let incoming = api_orders("test page", &page_body(&raw)).expect("the page is readable");
        prop_assert_eq!(incoming.len(), records.len());
        for (k, got) in records.iter().zip(&incoming) {
            match (k, got) {
                (Kind::Valid(o), Incoming::Order(order)) => prop_assert_eq!(&order.invoice, &o.invoice),
                (Kind::Valid(o), other) => prop_assert!(false, "{o:?} became {other:?}"),
                (_, Incoming::Bad { reason, kind, .. }) => {
                    assert_reason(reason);
                    prop_assert_eq!(*kind, RecordKind::Order);
                }
                (_, Incoming::Order(_)) => {}
                (_, other) => prop_assert!(false, "an order page gave {other:?}"),
            }
        }
    }
}

// ---- Seller Center exports ----------------------------------------------------------------

#[derive(Debug, Clone)]
struct ExportProduct {
    name: String,
    price: i64,
    price_style: u8,
    product_id: Option<String>,
    sku: Option<String>,
    stock: Option<i64>,
    status: Option<bool>,
}

fn export_product() -> impl Strategy<Value = ExportProduct> {
    (
        name(),
        0i64..50_000_000,
        any::<u8>(),
        prop::option::of("[0-9]{5,12}"),
        prop::option::of(sku()),
        prop::option::of(0i64..100_000),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(name, price, price_style, product_id, sku, stock, status)| ExportProduct {
                name,
                price,
                price_style,
                product_id,
                sku,
                stock,
                status,
            },
        )
}

const PRODUCT_HEADER: [&str; 7] = [
    "Nama Produk",
    "Harga (Rp)",
    "Product ID",
    "SKU Name",
    "Jumlah Stok",
    "Status",
    "Catatan",
];

impl ExportProduct {
    fn cell(&self, column: &str) -> String {
        match column {
            "Nama Produk" => self.name.clone(),
            "Harga (Rp)" => price_text(self.price, self.price_style),
            "Product ID" => self.product_id.clone().unwrap_or_default(),
            "SKU Name" => self.sku.clone().unwrap_or_default(),
            "Jumlah Stok" => self.stock.map(|s| s.to_string()).unwrap_or_default(),
            "Status" => match self.status {
                None => String::new(),
                Some(true) => "Aktif".into(),
                Some(false) => "Nonaktif".into(),
            },
            _ => "catatan".into(),
        }
    }
}

/// A product export: title rows, the header in `columns` order, one row per product.
#[derive(Debug, Clone)]
struct ProductSheet {
    titles: Vec<String>,
    columns: Vec<&'static str>,
    products: Vec<ExportProduct>,
}

fn product_sheet() -> impl Strategy<Value = ProductSheet> {
    (
        prop::collection::vec("[A-Za-z ]{0,20}", 0..3),
        Just(PRODUCT_HEADER.to_vec()).prop_shuffle(),
        prop::collection::vec(export_product(), 1..8),
    )
        .prop_map(|(titles, columns, products)| ProductSheet {
            titles,
            columns,
            products,
        })
}

impl ProductSheet {
    fn rows(&self) -> Vec<Vec<String>> {
        let mut rows: Vec<Vec<String>> = self.titles.iter().map(|t| vec![t.clone()]).collect();
        rows.push(self.columns.iter().map(|c| c.to_string()).collect());
        for p in &self.products {
            rows.push(self.columns.iter().map(|c| p.cell(c)).collect());
        }
        rows
    }

    fn csv(&self, delimiter: u8, bom: bool) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_writer(Vec::new());
        for row in self.rows() {
            w.write_record(&row).unwrap();
        }
        let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        bytes.extend(w.into_inner().unwrap());
        bytes
    }

    fn xlsx(&self, numbers: bool) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (r, row) in self.rows().iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                // Prices and stock as number cells; ids stay text (a number cell loses
                // leading zeros, in Excel as here).
                let numeric_column =
                    matches!(self.columns.get(c as usize), Some(&"Harga (Rp)" | &"Jumlah Stok"));
                let is_number = numbers
                    && numeric_column
                    && r as usize > self.titles.len()
                    && !cell.is_empty()
                    && cell.bytes().all(|b| b.is_ascii_digit())
                    && cell.len() < 15;
                if is_number {
                    sheet.write_number(r, c, cell.parse::<f64>().unwrap()).unwrap();
                } else if !cell.is_empty() {
                    sheet.write_string(r, c, cell).unwrap();
                }
            }
        }
        book.save_to_buffer().unwrap()
    }
}

fn check_products(sheet: &ProductSheet, rows: &Rows) -> Result<(), TestCaseError> {
    let file = parse_products(rows, "produk", fetched()).expect("the header is found");
    prop_assert_eq!(file.rows.len(), sheet.products.len());
    for (row, want) in file.rows.iter().zip(&sheet.products) {
        let got = row
            .parsed
            .as_ref()
            .map_err(|e| TestCaseError::fail(format!("{want:?}: {e}")))?;
        prop_assert_eq!(&got.name, &want.name);
        prop_assert_eq!(got.price, Rupiah(want.price));
        prop_assert_eq!(got.stock, want.stock);
        prop_assert_eq!(got.status == ProductStatus::Active, want.status != Some(false));
        if let Some(id) = want.product_id.as_ref().or(want.sku.as_ref()) {
            prop_assert_eq!(got.id.as_str(), id.as_str());
        }
        prop_assert_eq!(&got.sku, &want.sku);
    }
    Ok(())
}

#[derive(Debug, Clone)]
struct ExportLine {
    name: String,
    quantity: i64,
    price: i64,
    price_style: u8,
    sku: Option<String>,
}

#[derive(Debug, Clone)]
struct ExportOrder {
    invoice: String,
    buyer: String,
    paid: (u32, u32, u32, u32, u32, u32),
    status: Option<(&'static str, i64)>,
    lines: Vec<ExportLine>,
    /// Continuation lines leave the invoice cell blank (it is carried forward).
    blank_continuations: bool,
}

fn export_order() -> impl Strategy<Value = ExportOrder> {
    let line = (
        name(),
        1i64..=1000,
        0i64..5_000_000,
        any::<u8>(),
        prop::option::of(sku()),
    )
        .prop_map(|(name, quantity, price, price_style, sku)| ExportLine {
            name,
            quantity,
            price,
            price_style,
            sku,
        });
    (
        "INV/2026[0-9]{4}/MPL/[0-9]{6,10}",
        "[0-9]{5,9}",
        (1u32..=28, 1u32..=12, 2020u32..=2030, 0u32..24, 0u32..60, 0u32..60),
        prop::option::of(prop::sample::select(vec![
            ("Pesanan Selesai", 700i64),
            ("Pesanan Tiba", 600),
            ("Pesanan Dikirim", 500),
            ("Perlu Dikirim", 400),
            ("Dibatalkan Pembeli", 0),
            ("Pengembalian Dana", 550),
        ])),
        prop::collection::vec(line, 1..4),
        any::<bool>(),
    )
        .prop_map(
            |(invoice, buyer, paid, status, lines, blank_continuations)| ExportOrder {
                invoice,
                buyer,
                paid,
                status,
                lines,
                blank_continuations,
            },
        )
}

const ORDER_HEADER: [&str; 8] = [
    "Nomor Invoice",
    "Tanggal Pembayaran",
    "Nama Produk",
    "Jumlah Produk Dibeli",
    "Harga Jual (IDR)",
    "Status Terakhir",
    "ID Pembeli",
    "Nomor SKU",
];

fn order_rows(columns: &[&str], orders: &[ExportOrder]) -> Vec<Vec<String>> {
    let mut rows = vec![columns.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
    for o in orders {
        let (d, m, y, hh, mm, ss) = o.paid;
        for (i, l) in o.lines.iter().enumerate() {
            let order_cells = i == 0 || !o.blank_continuations;
            rows.push(
                columns
                    .iter()
                    .map(|c| match *c {
                        "Nomor Invoice" if order_cells => o.invoice.clone(),
                        "Tanggal Pembayaran" if order_cells => {
                            format!("{d:02}-{m:02}-{y} {hh:02}:{mm:02}:{ss:02}")
                        }
                        "Status Terakhir" if order_cells => {
                            o.status.map(|s| s.0.to_string()).unwrap_or_default()
                        }
                        "ID Pembeli" if order_cells => o.buyer.clone(),
                        "Nama Produk" => l.name.clone(),
                        "Jumlah Produk Dibeli" => l.quantity.to_string(),
                        "Harga Jual (IDR)" => price_text(l.price, l.price_style),
                        "Nomor SKU" => l.sku.clone().unwrap_or_default(),
                        _ => String::new(),
                    })
                    .collect(),
            );
        }
    }
    rows
}

fn orders_csv(rows: &[Vec<String>], delimiter: u8) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_writer(Vec::new());
    for row in rows {
        w.write_record(row).unwrap();
    }
    w.into_inner().unwrap()
}

/// Cells from which the parsers find headers and read values, and anything else.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            PRODUCT_HEADER
                .iter()
                .chain(ORDER_HEADER.iter())
                .map(|s| s.to_string())
                .chain([
                    "Aktif".into(),
                    "Nonaktif".into(),
                    "Pesanan Selesai".into(),
                    "Kode Kategori".into(),
                    "Berat (Gram)".into()
                ])
                .collect::<Vec<_>>()
        ),
        text(),
        "[0-9]{2}-[0-9]{2}-[0-9]{4} [0-9]{2}:[0-9]{2}(:[0-9]{2})?",
        Just(String::new()),
    ]
}

fn delimiter() -> impl Strategy<Value = u8> {
    prop::sample::select(vec![b',', b';', b'\t'])
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn a_csv_product_export_gives_back_every_product(sheet in product_sheet(), delimiter in delimiter(), bom in any::<bool>()) {
        let rows = read_rows(&sheet.csv(delimiter, bom), "produk.csv").expect("readable CSV");
        check_products(&sheet, &rows)?;
    }

    #[test]
    fn a_csv_sales_report_gives_back_every_order(
        orders in prop::collection::vec(export_order(), 1..5).prop_filter("distinct invoices", |os| {
            let mut seen = std::collections::HashSet::new();
            os.iter().all(|o| seen.insert(o.invoice.clone()))
        }),
        columns in Just(ORDER_HEADER.to_vec()).prop_shuffle(),
        delimiter in delimiter(),
    ) {
        // The invoice column comes first when continuation lines leave it blank: a line with
        // nothing in it but the product is still a line of the order above.
        let rows = read_rows(&orders_csv(&order_rows(&columns, &orders), delimiter), "penjualan.csv").expect("readable CSV");
        let file = parse_orders(&rows, "penjualan.csv").expect("the header is found");
        prop_assert_eq!(file.orders.len(), orders.len());
        for (row, want) in file.orders.iter().zip(&orders) {
            let got = row.parsed.as_ref().map_err(|e| TestCaseError::fail(format!("{want:?}: {e}")))?;
            prop_assert_eq!(&got.invoice, &want.invoice);
            prop_assert_eq!(&got.customer.0, &want.buyer);
            let (d, m, y, hh, mm, ss) = want.paid;
            let wib = chrono::FixedOffset::east_opt(7 * 3600).unwrap();
            let paid = wib.with_ymd_and_hms(y as i32, m, d, hh, mm, ss).unwrap().with_timezone(&Utc);
            prop_assert_eq!(got.paid_at, paid);
            prop_assert_eq!(got.status.0, want.status.map_or(220, |s| s.1));
            prop_assert_eq!(got.lines.len(), want.lines.len());
            for (gl, wl) in got.lines.iter().zip(&want.lines) {
                prop_assert_eq!(&gl.name, &wl.name);
                prop_assert_eq!(i64::from(gl.quantity), wl.quantity);
                prop_assert_eq!(gl.unit_price, Rupiah(wl.price));
                prop_assert_eq!(&gl.sku, &wl.sku);
            }
        }
    }

    #[test]
    fn any_grid_of_cells_is_read_without_panic_and_each_refused_row_says_why(
        grid in prop::collection::vec(prop::collection::vec(cell(), 0..9), 0..12),
    ) {
        let mut rows = Rows::new();
        for row in &grid {
            rows.push(row.iter().map(String::as_str), "x.csv").unwrap();
        }
        let grid = rows;
        for result in [
            parse_products(&grid, "x.csv", fetched()).map(|f| f.rows.into_iter().map(|r| r.parsed.err()).collect::<Vec<_>>()),
            parse_orders(&grid, "x.csv").map(|f| f.orders.into_iter().map(|r| r.parsed.err()).collect::<Vec<_>>()),
        ] {
            match result {
                Ok(refusals) => refusals.iter().flatten().for_each(assert_reason),
                Err(e) => {
                    prop_assert!(matches!(e, FeedError::Page(_)), "{e:?}");
                    assert_reason(&e);
                }
            }
        }
    }

    #[test]
    fn arbitrary_or_damaged_csv_bytes_never_panic(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            (product_sheet(), delimiter(), byte_edits()).prop_map(|(s, d, e)| damage_bytes(s.csv(d, false), &e)),
            (prop::collection::vec(export_order(), 1..3), delimiter(), byte_edits())
                .prop_map(|(o, d, e)| damage_bytes(orders_csv(&order_rows(&ORDER_HEADER, &o), d), &e)),
        ],
    ) {
        match read_rows(&bytes, "x.csv") {
            Ok(rows) => {
                if let Ok(f) = parse_products(&rows, "x.csv", fetched()) {
                    f.rows.iter().filter_map(|r| r.parsed.as_ref().err()).for_each(assert_reason);
                }
                if let Ok(f) = parse_orders(&rows, "x.csv") {
                    f.orders.iter().filter_map(|r| r.parsed.as_ref().err()).for_each(assert_reason);
                }
            }
            Err(e) => assert_reason(&e),
        }
    }
}

proptest! {
    // An XLSX takes some milliseconds to write and read in a debug build.
    #![proptest_config(cases(64))]

    #[test]
    fn an_xlsx_product_export_gives_back_every_product(sheet in product_sheet(), numbers in any::<bool>()) {
        let rows = read_rows(&sheet.xlsx(numbers), "produk.xlsx").expect("readable XLSX");
        check_products(&sheet, &rows)?;
    }

    #[test]
    fn arbitrary_or_damaged_xlsx_bytes_never_panic(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256).prop_map(|b| [b"PK\x03\x04".to_vec(), b].concat()),
            (product_sheet(), byte_edits()).prop_map(|(s, e)| damage_bytes(s.xlsx(false), &e)),
        ],
    ) {
        match read_rows(&bytes, "x.xlsx") {
            Ok(rows) => {
                if let Ok(f) = parse_products(&rows, "x.xlsx", fetched()) {
                    f.rows.iter().filter_map(|r| r.parsed.as_ref().err()).for_each(assert_reason);
                }
            }
            Err(e) => {
                prop_assert!(matches!(e, FeedError::Page(_)), "{e:?}");
                assert_reason(&e);
            }
        }
    }
}

// ---- storefront pages and sitemaps ------------------------------------------------------

#[derive(Debug, Clone)]
struct PageGen {
    slug: String,
    name: String,
    sku: Option<String>,
    price: i64,
    price_as_number: bool,
    availability: u8,
    open_graph: bool,
    wrap: u8,
}

fn page_gen() -> impl Strategy<Value = PageGen> {
    (
        "[a-z0-9][a-z0-9-]{0,20}",
        name(),
        prop::option::of(sku()),
        0i64..50_000_000,
        any::<bool>(),
        0u8..3,
        any::<bool>(),
        0u8..3,
    )
        .prop_map(
            |(slug, name, sku, price, price_as_number, availability, open_graph, wrap)| PageGen {
                slug,
                name,
                sku,
                price,
                price_as_number,
                availability,
                open_graph,
                wrap,
            },
        )
}

const AVAILABILITY: [&str; 3] = ["InStock", "OutOfStock", "Discontinued"];

impl PageGen {
    fn url(&self) -> String {
        format!("https://shop.example/produk/{}", self.slug)
    }

    fn html(&self) -> String {
        let head = if self.open_graph {
            let mut meta = vec![
                ("og:type", "product".to_string()),
                ("og:title", self.name.clone()),
                ("product:price:amount", self.price.to_string()),
                ("product:price:currency", "IDR".to_string()),
                (
                    "product:availability",
                    AVAILABILITY[self.availability as usize].to_lowercase(),
                ),
            ];
            if let Some(sku) = &self.sku {
                meta.push(("product:retailer_item_id", sku.clone()));
            }
            meta.iter()
                .map(|(k, v)| format!("<meta property=\"{k}\" content=\"{v}\">"))
                .collect::<String>()
        } else {
            let price = if self.price_as_number {
                json!(self.price)
            } else {
                json!(self.price.to_string())
            };
            let mut product = json!({
                "@context": "https://schema.org", "@type": "Product", "name": self.name,
                "offers": {"@type": "Offer", "price": price, "priceCurrency": "IDR",
                           "availability": format!("https://schema.org/{}", AVAILABILITY[self.availability as usize])},
            });
            if let Some(sku) = &self.sku {
                product["sku"] = json!(sku);
            }
            let ld = match self.wrap {
                0 => product,
                1 => json!([{"@type": "BreadcrumbList"}, product]),
                _ => json!({"@context": "https://schema.org", "@graph": [{"@type": "WebPage"}, product]}),
            };
            format!("<script type=\"application/ld+json\">{ld}</script>")
        };
        format!(
            "<!doctype html><html><head><title>{}</title>{head}</head><body><h1>{}</h1></body></html>",
            self.name, self.name
        )
    }
}

/// Pieces of markup the page parser looks for, to assemble pages it gets further into.
fn markup() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "<script type=\"application/ld+json\">",
            "</script>",
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"@type\"",
            "\"Product\"",
            "\"name\"",
            "\"offers\"",
            "\"price\"",
            "\"lowPrice\"",
            "\"priceCurrency\"",
            "\"USD\"",
            "\"IDR\"",
            "\"@graph\"",
            "\"sku\"",
            "\"url\"",
            "\"image\"",
            "<meta property=\"og:title\" content=\"Kopi\">",
            "<meta property=\"product:price:amount\" content=\"",
            "\">",
            "<meta property=\"og:type\" content=\"product\">",
            "<base href=\"",
            "&amp;",
            "&#8211;",
            "<!--",
            "-->",
        ])
        .prop_map(str::to_string),
        text(),
    ]
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn a_storefront_page_gives_back_its_product(p in page_gen()) {
        let got = parse_page(&p.html(), &p.url(), fetched()).expect("a generated page is valid").product;
        prop_assert_eq!(&got.name, &p.name);
        prop_assert_eq!(got.price, Rupiah(p.price));
        prop_assert_eq!(got.id.as_str(), p.sku.clone().unwrap_or_else(|| p.slug.clone()));
        let (status, stock) = match p.availability {
            0 => (ProductStatus::Active, None),
            1 => (ProductStatus::Active, Some(0)),
            _ => (ProductStatus::Inactive, None),
        };
        prop_assert_eq!(got.status, status);
        prop_assert_eq!(got.stock, stock);
        prop_assert_eq!(got.updated_at, fetched());
    }

    #[test]
    fn an_arbitrary_or_damaged_page_is_a_product_or_refused_with_a_reason(
        html in prop_oneof![
            ".{0,200}",
            prop::collection::vec(markup(), 0..40).prop_map(|parts| parts.concat()),
            (page_gen(), byte_edits()).prop_map(|(p, e)| String::from_utf8_lossy(&damage_bytes(p.html().into_bytes(), &e)).into_owned()),
        ],
        url in prop_oneof![Just("https://shop.example/produk/kopi".to_string()), ".{0,20}"],
    ) {
        match parse_page(&html, &url, fetched()) {
            Ok(p) => {
                prop_assert!(p.product.price.0 >= 0);
                prop_assert!(ProductId::parse(p.product.id.as_str()).is_ok());
            }
            Err(e) => assert_reason(&e),
        }
    }

    #[test]
    fn a_sitemap_lists_its_pages_once_in_order(
        pages in prop::collection::vec("[a-z0-9]{1,10}", 0..12),
        namespaced in any::<bool>(),
    ) {
        let urls: Vec<String> = pages.iter().map(|p| format!("https://shop.example/p/{p}")).collect();
        let ns = if namespaced { " xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"" } else { "" };
        let body: String = urls.iter().map(|u| format!("<url><loc> {u} </loc></url>")).collect();
        let xml = format!("<?xml version=\"1.0\"?>\n<urlset{ns}>{body}</urlset>");
        let got = parse_sitemap(&xml).expect("a generated sitemap is valid");
        let mut want: Vec<String> = Vec::new();
        for u in urls {
            if !want.contains(&u) {
                want.push(u);
            }
        }
        prop_assert_eq!(got.pages, want);
        prop_assert!(got.sitemaps.is_empty());
    }

    #[test]
    fn an_arbitrary_sitemap_is_entries_or_refused_with_a_reason(
        xml in prop_oneof![
            ".{0,120}",
            prop::collection::vec(prop::sample::select(vec![
                "<urlset>", "</urlset>", "<sitemapindex>", "</sitemapindex>", "<url>", "</url>",
                "<sitemap>", "</sitemap>", "<loc>", "</loc>", "https://x/", "<!DOCTYPE urlset [<!ENTITY a \"b\">]>", "&a;", "<?xml version=\"1.0\"?>",
            ]), 0..24).prop_map(|parts| parts.concat()),
        ],
    ) {
        match parse_sitemap(&xml) {
            Ok(s) => prop_assert!(s.pages.iter().chain(&s.sitemaps).all(|l| !l.is_empty())),
            Err(e) => {
                prop_assert!(matches!(e, FeedError::Page(_)), "{e:?}");
                assert_reason(&e);
            }
        }
    }
}

// ---- recordings and replay --------------------------------------------------------------

fn exchange(seq: u64, url: String, status: u16, body: Option<String>) -> Exchange {
    Exchange {
        seq,
        source: 0,
        method: "GET".into(),
        url,
        status,
        headers: BTreeMap::from([("content-type".to_string(), "application/json".to_string())]),
        body,
        at: "2026-11-01T00:00:00Z".into(),
        role: None,
        request_body: None,
    }
}

/// One line of an `index.jsonl`.
#[derive(Debug, Clone)]
enum Line {
    Valid(Exchange),
    /// A body file name outside the recording directory.
    Escaping(Exchange),
    Blank,
    Other(String),
}

impl Line {
    fn is_blank(&self) -> bool {
        match self {
            Line::Blank => true,
            Line::Other(s) => s.trim().is_empty(),
            Line::Valid(_) | Line::Escaping(_) => false,
        }
    }
}

fn index_line() -> impl Strategy<Value = Line> {
    let ex = (
        0u64..1000,
        "https://fs\\.example/[a-z/]{0,20}(\\?page=[0-9])?",
        prop::sample::select(vec![200u16, 401, 429, 500]),
        prop::option::of("[0-9]{4}\\.json"),
    )
        .prop_map(|(seq, url, status, body)| exchange(seq, url, status, body));
    prop_oneof![
        4 => ex.clone().prop_map(Line::Valid),
        1 => (ex.clone(), prop::sample::select(vec!["../secret", "/etc/passwd", ".hidden", "a/b.json"]))
            .prop_map(|(mut e, body)| { e.body = Some(body.to_string()); Line::Escaping(e) }),
        1 => Just(Line::Blank),
        1 => prop_oneof![
            ".{0,40}",
            any_json().prop_map(|v| v.to_string()),
            (ex, byte_edits()).prop_map(|(e, edits)| String::from_utf8_lossy(&damage_bytes(serde_json::to_vec(&e).unwrap(), &edits)).replace('\n', " ")),
        ].prop_map(Line::Other),
    ]
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn a_recording_index_is_read_whole_or_refused_naming_the_line(lines in prop::collection::vec(index_line(), 0..10)) {
        let dir = tempfile::tempdir().unwrap();
        let text: Vec<String> = lines
            .iter()
            .map(|l| match l {
                Line::Valid(e) | Line::Escaping(e) => serde_json::to_string(e).unwrap(),
                Line::Blank => "   ".to_string(),
                Line::Other(s) => s.clone(),
            })
            .collect();
        std::fs::write(dir.path().join("index.jsonl"), text.join("\n")).unwrap();
        match Recording::open(dir.path()) {
            Ok(rec) => {
                // A line of only whitespace, generated or not, is skipped as blank.
                let kept: Vec<&Line> = lines.iter().filter(|l| !l.is_blank()).collect();
                prop_assert_eq!(rec.exchanges.len(), kept.len());
                prop_assert!(!lines.iter().any(|l| matches!(l, Line::Escaping(_))));
                for (got, line) in rec.exchanges.iter().zip(kept) {
                    if let Line::Valid(want) = line {
                        prop_assert_eq!(got, want);
                    }
                }
            }
            Err(e) => {
                let message = e.to_string();
                // The line it names is one that was not a valid exchange.
                let named = lines.iter().enumerate().position(|(i, l)| {
                    !matches!(l, Line::Valid(_)) && !l.is_blank() && message.contains(&format!("line {}:", i + 1))
                });
                prop_assert!(named.is_some(), "{message}");
            }
        }
    }
}

proptest! {
    // Each case replays a recording into a sled store: fewer cases.
    #![proptest_config(cases(48))]

    #[test]
    fn a_replay_stores_the_valid_records_and_quarantines_the_rest_with_reasons(
        pages in prop::collection::vec(prop_oneof![
            3 => product_records().prop_map(|r| (true, r.iter().map(|k| raw_of(k, ApiProduct::record)).collect::<Vec<_>>(), r.iter().filter_map(|k| match k { Kind::Valid(p) => Some(p.clone()), _ => None }).collect::<Vec<_>>())),
            1 => order_records().prop_map(|r| (false, r.iter().map(|k| raw_of(k, ApiOrder::record)).collect::<Vec<_>>(), Vec::new())),
        ], 1..5),
        garbage in prop::option::of(".{0,30}"),
    ) {
        // Valid products of different pages must not share ids, or the later one wins.
        let mut seen = std::collections::HashSet::new();
        let unique = pages.iter().flat_map(|(_, _, valid)| valid).all(|p| seen.insert(p.id()) && seen.insert(format!("m{}", p.marketplace_id)));
        prop_assume!(unique);
        let dir = tempfile::tempdir().unwrap();
        let mut index = Vec::new();
        let mut refused = 0usize;
        for (i, (products, records, _)) in pages.iter().enumerate() {
            let body = format!("{:04}.json", i + 1);
            std::fs::write(dir.path().join(&body), page_body(records)).unwrap();
            let path = if *products { "inventory/v1/fs/1/product/info" } else { "v2/order/list" };
            index.push(exchange(i as u64 + 1, format!("https://fs.example/{path}?page={}", i + 1), 200, Some(body)));
            refused += records
                .iter()
                .filter(|r| if *products { parse_product(r).is_err() } else { parse_order(r).is_err() })
                .count();
        }
        if let Some(g) = &garbage {
            std::fs::write(dir.path().join("9999.json"), g).unwrap();
            index.push(exchange(9999, "https://fs.example/v2/order/list?page=99".into(), 200, Some("9999.json".into())));
        }
        // A retried answer is not data.
        index.push(exchange(10_000, "https://fs.example/v2/order/list?page=100".into(), 500, Some("0001.json".into())));
        let lines: Vec<String> = index.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
        std::fs::write(dir.path().join("index.jsonl"), lines.join("\n")).unwrap();

        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let shop = ShopId::parse("uji").unwrap();
        let report = laris::sync::replay::replay(&store, &shop, dir.path()).expect("the recording replays");
        prop_assert_eq!(report.quarantined as usize, refused);
        let quarantined = store.quarantined(&shop).unwrap();
        prop_assert_eq!(quarantined.len(), refused);
        for q in &quarantined {
            prop_assert!(!q.reason.to_string().trim().is_empty(), "{q:?}");
        }
        let garbage_page = garbage.as_ref().is_some_and(|g| page_records(g).is_err());
        prop_assert_eq!(report.errors.len(), usize::from(garbage_page), "{:?}", report.errors);
        for (_, _, valid) in &pages {
            for p in valid {
                let id = ProductId::parse(&p.id()).unwrap();
                let stored = store.product(&shop, &id).unwrap();
                let stored = stored.ok_or_else(|| TestCaseError::fail(format!("{p:?} was not stored")))?;
                prop_assert_eq!(&stored.name, &p.name);
                prop_assert_eq!(stored.price, Rupiah(p.price));
            }
        }
    }
}
