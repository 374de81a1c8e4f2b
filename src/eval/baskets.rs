//! `laris eval --baskets FILE`: a plain basket file evaluated with no config and no store.
//!
//! The file is the one `laris rules --baskets` reads ([`crate::feeds::baskets::read_baskets`]): one
//! basket per line, in time order, items separated by commas and kept exactly as written
//! (spaces included, so `cream cheese ` and `cream cheese` are two items). Blank lines are
//! ignored; a line with no item (such as `,,`) is skipped and counted.
//!
//! Each distinct item becomes a product whose name is the item as written and whose id is
//! `item-00001`, `item-00002`, … by first appearance (a product id cannot hold the leading or
//! trailing spaces an item may have). It has no price, category or attributes, so `similar`
//! can only compare the words of names and `upsell` has nothing to offer. Each basket becomes
//! one paid order (`basket-00001`, …) of its own anonymous customer, the first paid at
//! 2000-01-01T00:00:00Z ([`start`]) and each next one a minute later, in file order; an item written twice in a basket is one line of
//! quantity 2.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, TimeZone as _, Utc};

use crate::domain::{CustomerId, OrderStatus, ProductId, Rupiah};
use crate::feeds::baskets::read_baskets;
use crate::records::{Order, OrderLine, Product, ProductStatus};

/// When the first basket of a file is paid; the next ones follow a minute apart.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap()
}

/// A basket file as products and orders.
#[derive(Debug, Clone, PartialEq)]
pub struct BasketsFile {
    /// One per distinct item, in order of first appearance (`item-00001` first).
    pub products: Vec<Product>,
    /// One paid order per basket, in file order.
    pub orders: Vec<Order>,
    /// Lines with no item, skipped.
    pub empty_lines: usize,
}

/// Why a basket file cannot be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum BasketsFileError {
    /// The reason is part of the message, not a chained source, so it is said once.
    #[error("reading basket file {path}: {reason}: check the path")]
    Io { path: String, reason: std::io::Error },
    #[error("basket file {path} holds no basket{skipped}: write one basket per line, items separated by commas (the format `laris rules --baskets` reads)")]
    Empty { path: String, skipped: String },
}

/// The id of the `k`-th distinct item (0-based).
pub fn item_id(k: usize) -> ProductId {
    ProductId::parse(&format!("item-{:05}", k + 1)).expect("a valid product id")
}

fn product(k: usize, label: &str) -> Product {
    Product {
        id: item_id(k),
        marketplace_id: None,
        name: label.to_string(),
        sku: None,
        price: Rupiah(0),
        stock: None,
        status: ProductStatus::Active,
        category: Vec::new(),
        weight_grams: None,
        pack: None,
        attributes: Default::default(),
        description: String::new(),
        image: None,
        url: None,
        sold_count: None,
        updated_at: start(),
    }
}

/// Products and orders of the text of a basket file; `path` names it in errors.
pub fn parse_baskets(text: &str, path: &str) -> Result<BasketsFile, BasketsFileError> {
    let (labels, baskets) = read_baskets(text);
    let products: Vec<Product> = labels
        .iter()
        .enumerate()
        .map(|(k, label)| product(k, label))
        .collect();
    let empty_lines = baskets.iter().filter(|b| b.is_empty()).count();
    let orders: Vec<Order> = baskets
        .iter()
        .filter(|b| !b.is_empty())
        .enumerate()
        .map(|(i, basket)| {
            let name = format!("basket-{:05}", i + 1);
            let paid = start() + chrono::Duration::minutes(i as i64);
            // Item → units, in order of first appearance in the basket.
            let mut units: BTreeMap<u32, u32> = BTreeMap::new();
            let mut order_of: Vec<u32> = Vec::new();
            for &item in basket {
                let n = units.entry(item).or_default();
                if *n == 0 {
                    order_of.push(item);
                }
                *n += 1;
            }
            let lines = order_of
                .iter()
                .map(|&item| OrderLine {
                    product: Some(item_id(item as usize)),
                    marketplace_product_id: None,
                    sku: None,
                    name: labels[item as usize].clone(),
                    quantity: units[&item],
                    unit_price: Rupiah(0),
                })
                .collect();
            Order {
                invoice: name.clone(),
                marketplace_id: None,
                customer: CustomerId(name),
                buyer_name: None,
                phone: None,
                city: None,
                status: OrderStatus(700),
                created_at: paid,
                paid_at: paid,
                updated_at: paid,
                products_total: Rupiah(0),
                shipping: Rupiah(0),
                lines,
            }
        })
        .collect();
    if orders.is_empty() {
        return Err(BasketsFileError::Empty {
            path: path.to_string(),
            skipped: match empty_lines {
                0 => String::new(),
                1 => " (1 line with no item)".to_string(),
                n => format!(" ({n} lines with no item)"),
            },
        });
    }
    Ok(BasketsFile {
        products,
        orders,
        empty_lines,
    })
}

/// Reads and parses the basket file at `path`.
pub fn read_baskets_file(path: &Path) -> Result<BasketsFile, BasketsFileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|reason| BasketsFileError::Io {
        path: shown.clone(),
        reason,
    })?;
    parse_baskets(&text, &shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_become_products_by_first_appearance_and_baskets_anonymous_orders_a_minute_apart() {
        let f = parse_baskets(
            "milk,cream cheese ,bread\n\n,,\nbread,milk,bread\r\ncream cheese\n",
            "b.csv",
        )
        .unwrap();
        let names: Vec<(&str, &str)> = f
            .products
            .iter()
            .map(|p| (p.id.as_str(), p.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("item-00001", "milk"),
                ("item-00002", "cream cheese "),
                ("item-00003", "bread"),
                ("item-00004", "cream cheese"),
            ]
        );
        assert_eq!(f.empty_lines, 1, "`,,` is skipped, the blank line ignored");
        assert_eq!(f.orders.len(), 3);
        let customers: std::collections::BTreeSet<&str> =
            f.orders.iter().map(|o| o.customer.0.as_str()).collect();
        assert_eq!(customers.len(), 3, "each basket is its own customer");
        for (i, o) in f.orders.iter().enumerate() {
            assert!(o.is_purchase());
            assert_eq!(o.paid_at, start() + chrono::Duration::minutes(i as i64));
        }
        assert_eq!(f.orders[0].paid_at.to_rfc3339(), "2000-01-01T00:00:00+00:00");
        let lines: Vec<(&str, u32)> = f.orders[1]
            .lines
            .iter()
            .map(|l| (l.product.as_ref().unwrap().as_str(), l.quantity))
            .collect();
        assert_eq!(lines, [("item-00003", 2), ("item-00001", 1)]);
    }

    #[test]
    fn a_file_without_baskets_is_refused_with_the_fix() {
        let err = parse_baskets("\n,\n\n", "empty.csv").unwrap_err().to_string();
        assert_eq!(
            err,
            "basket file empty.csv holds no basket (1 line with no item): write one basket per line, items separated by commas (the format `laris rules --baskets` reads)"
        );
        let err = parse_baskets("", "none.csv").unwrap_err().to_string();
        assert!(
            err.starts_with("basket file none.csv holds no basket: write"),
            "{err}"
        );
        let err = read_baskets_file(Path::new("/nonexistent/b.csv")).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("reading basket file /nonexistent/b.csv:"));
    }

    #[test]
    fn a_basket_file_is_evaluated_under_basket_completion_only() {
        let text: String = (0..60)
            .map(|i| match i % 3 {
                0 => "milk,bread\n",
                1 => "milk,bread,butter\n",
                _ => "soda\n",
            })
            .collect();
        let f = parse_baskets(&text, "b.csv").unwrap();
        let r =
            crate::eval::evaluate_baskets("b", &f, &crate::eval::EvalConfig::default(), &mut |_| {}).unwrap();
        assert_eq!((r.split.train_orders, r.split.test_orders), (48, 12));
        let bc = &r.protocols[0];
        // The test baskets are the last 12: 8 with two items or more, 4 of soda alone.
        assert_eq!((bc.used, bc.skipped.get("one_product")), (8, Some(&4)));
        for s in &r.protocols[1..] {
            assert_eq!(s.used, 0);
            assert_eq!(s.skipped.get(crate::eval::NO_CUSTOMERS), Some(&12));
            assert!(s.note.is_some() && s.recall_ceiling.is_none());
        }
        assert_eq!(r.clusters.tiers, None);
        assert_eq!(r.clusters.price, None);
        assert!(r
            .to_text()
            .contains("Not measured: every basket of the file is its own anonymous customer"));
    }
}
