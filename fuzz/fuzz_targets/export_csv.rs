//! A Seller Center export as CSV (FEEDS.md §2), read as a product list and as a sales report.
#![no_main]

use laris::feeds::exports::{parse_orders, parse_products, read_rows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let at = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
    let Ok(rows) = read_rows(data, "fuzz.csv") else {
        return;
    };
    if let Ok(file) = parse_products(&rows, "fuzz.csv", at) {
        for row in &file.rows {
            if let Err(e) = &row.parsed {
                assert!(!e.to_string().trim().is_empty());
            }
        }
    }
    if let Ok(file) = parse_orders(&rows, "fuzz.csv") {
        for row in &file.orders {
            match &row.parsed {
                Ok(order) => assert!(!order.lines.is_empty()),
                Err(e) => assert!(!e.to_string().trim().is_empty()),
            }
        }
    }
});
