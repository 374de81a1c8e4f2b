//! `laris eval --orders FILE`: orders read from a file instead of the store, to evaluate an
//! export without importing it.
//!
//! The file holds order records of the marketplace API (docs/feeds.md: marketplace API, the shape `laris replay`
//! imports), as a JSON array, as JSON lines (one record per line), or as one order-list answer
//! (`{"header": …, "data": [...]}`, e.g. a body file of a recording). Each record is parsed
//! by [`crate::feeds::marketplace::parse_order`] and its lines are matched to the store's
//! products like the importer does: by marketplace product id, else by SKU. A record that
//! cannot be parsed is counted and left out with its reason; the same invoice twice keeps the
//! later record (a later status). The Seller Center sales-report CSV (docs/feeds.md: export files) is not read
//! yet: it comes with `laris import`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

use crate::domain::ProductId;
use crate::feeds::marketplace::{page_records, parse_order};
use crate::records::{Order, Product};

/// The orders of a file, and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct OrdersFile {
    pub orders: Vec<Order>,
    /// (where in the file, why) of each record left out.
    pub refused: Vec<(String, String)>,
    /// Order lines whose product is not in the catalogue.
    pub unknown_lines: usize,
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OrdersFileError {
    #[error("reading {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} line {line} is not JSON ({reason}): use a JSON array of order records, one record per line, or an order-list answer {{\"data\": [...]}}")]
    NotJson {
        path: String,
        line: usize,
        reason: String,
    },
    #[error("{path} holds no order records that could be read{first}")]
    Empty { path: String, first: String },
}

/// Reads and parses `path` (see the module doc).
pub fn read_orders_file(path: &Path, products: &[Product]) -> Result<OrdersFile, OrdersFileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| OrdersFileError::Io {
        path: shown.clone(),
        source,
    })?;
    parse_orders_text(&text, &shown, products)
}

/// The records of the text, each with where it is in the file.
fn records(text: &str, path: &str) -> Result<Vec<(String, Value)>, OrdersFileError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Ok(items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("record #{i}"), v))
            .collect()),
        Ok(Value::Object(map))
            if map
                .keys()
                .any(|k| k.eq_ignore_ascii_case("data") || k.eq_ignore_ascii_case("header")) =>
        {
            let items = page_records(text).map_err(|e| OrdersFileError::NotJson {
                path: path.to_string(),
                line: 1,
                reason: e.to_string(),
            })?;
            Ok(items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (format!("data[{i}]"), v))
                .collect())
        }
        Ok(single) => Ok(vec![("record #0".to_string(), single)]),
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str::<Value>(l)
                    .map(|v| (format!("line {}", i + 1), v))
                    .map_err(|e| OrdersFileError::NotJson {
                        path: path.to_string(),
                        line: i + 1,
                        reason: e.to_string(),
                    })
            })
            .collect(),
    }
}

/// Parses the text of an orders file; `path` only names it in messages.
pub fn parse_orders_text(
    text: &str,
    path: &str,
    products: &[Product],
) -> Result<OrdersFile, OrdersFileError> {
    let by_marketplace_id: HashMap<&str, &ProductId> = products
        .iter()
        .filter_map(|p| p.marketplace_id.as_deref().map(|m| (m, &p.id)))
        .collect();
    let ids: HashSet<&ProductId> = products.iter().map(|p| &p.id).collect();
    let mut refused = Vec::new();
    let mut unknown_lines = 0;
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut orders: Vec<Order> = Vec::new();
    for (at, record) in records(text, path)? {
        let mut order = match parse_order(&record) {
            Ok(feed) => feed.order,
            Err(e) => {
                refused.push((at, e.to_string()));
                continue;
            }
        };
        for line in &mut order.lines {
            line.product = line
                .marketplace_product_id
                .as_deref()
                .and_then(|m| by_marketplace_id.get(m).map(|&id| id.clone()))
                .or_else(|| {
                    line.sku
                        .as_deref()
                        .and_then(|s| ProductId::parse(s).ok())
                        .filter(|id| ids.contains(id))
                });
            if line.product.is_none() {
                unknown_lines += 1;
            }
        }
        match position.get(&order.invoice) {
            Some(&i) => orders[i] = order,
            None => {
                position.insert(order.invoice.clone(), orders.len());
                orders.push(order);
            }
        }
    }
    if orders.is_empty() {
        let first = refused
            .first()
            .map(|(at, why)| format!(" (first refused: {at}: {why})"))
            .unwrap_or_default();
        return Err(OrdersFileError::Empty {
            path: path.to_string(),
            first,
        });
    }
    Ok(OrdersFile {
        orders,
        refused,
        unknown_lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::fixtures::product;

    fn catalogue() -> Vec<Product> {
        let mut srd = product("SRD-100", "Serundeng Lengkuas 100 g", 20000, &[], &[]);
        srd.marketplace_id = Some("15001001".into());
        let mut tpg = product("TPG-100", "Tepung Lengkuas 100 g", 15000, &[], &[]);
        tpg.marketplace_id = Some("15001004".into());
        vec![srd, tpg]
    }

    fn record(invoice: &str, status: i64, lines: &str) -> String {
        format!(
            r#"{{"order_id": 1, "invoice_ref_num": "{invoice}", "buyer": {{"id": 777001, "name": "Sri W."}},
               "products": [{lines}], "order_status": {status},
               "create_time": 1730530000, "payment_date": 1730530300, "update_time": 1730900000}}"#
        )
    }

    const SRD_BY_ID: &str = r#"{"id": 15001001, "name": "Serundeng", "quantity": 2, "price": 20000}"#;
    const TPG_BY_SKU: &str =
        r#"{"id": 99, "sku": "TPG-100", "name": "Tepung", "quantity": 1, "price": 15000}"#;
    const UNKNOWN: &str = r#"{"id": 42, "sku": "NOPE", "name": "Gone", "quantity": 1, "price": 1000}"#;

    fn product_ids(o: &Order) -> Vec<Option<&str>> {
        o.lines
            .iter()
            .map(|l| l.product.as_ref().map(|p| p.as_str()))
            .collect()
    }

    #[test]
    fn json_lines_are_read_and_lines_matched_by_marketplace_id_then_sku() {
        let text = format!(
            "{}\n\n{}\n",
            record("INV/1", 700, &format!("{SRD_BY_ID}, {TPG_BY_SKU}")).replace('\n', " "),
            record("INV/2", 700, UNKNOWN).replace('\n', " ")
        );
        let f = parse_orders_text(&text, "x.jsonl", &catalogue()).unwrap();
        assert_eq!(f.orders.len(), 2);
        assert_eq!(product_ids(&f.orders[0]), [Some("SRD-100"), Some("TPG-100")]);
        assert_eq!(product_ids(&f.orders[1]), [None]);
        assert_eq!(f.unknown_lines, 1);
        assert!(f.refused.is_empty());
    }

    #[test]
    fn an_array_or_an_order_list_answer_reads_the_same_and_the_later_record_of_an_invoice_wins() {
        let a = record("INV/1", 400, SRD_BY_ID);
        let b = record("INV/1", 0, SRD_BY_ID);
        let array = format!("[{a}, {b}]");
        let page = format!(r#"{{"header": {{"reason": ""}}, "data": [{a}, {b}]}}"#);
        for text in [array, page] {
            let f = parse_orders_text(&text, "x.json", &catalogue()).unwrap();
            assert_eq!(f.orders.len(), 1, "{text}");
            assert_eq!(f.orders[0].status.0, 0, "the cancellation came later");
        }
    }

    #[test]
    fn a_bad_record_is_left_out_with_its_reason_and_a_non_json_line_is_refused() {
        let good = record("INV/1", 700, SRD_BY_ID).replace('\n', " ");
        let text = format!("{good}\n{{\"invoice_ref_num\": \"INV/2\"}}\n");
        let f = parse_orders_text(&text, "x.jsonl", &catalogue()).unwrap();
        assert_eq!(f.orders.len(), 1);
        assert_eq!(f.refused.len(), 1);
        assert!(
            f.refused[0].0 == "line 2" && f.refused[0].1.contains("buyer"),
            "{:?}",
            f.refused
        );
        let err = parse_orders_text(&format!("{good}\nnot json\n"), "x.jsonl", &catalogue()).unwrap_err();
        assert!(err.to_string().contains("x.jsonl line 2 is not JSON"), "{err}");
        let err = parse_orders_text("[]", "empty.json", &catalogue()).unwrap_err();
        assert!(
            err.to_string().contains("empty.json holds no order records"),
            "{err}"
        );
    }
}
