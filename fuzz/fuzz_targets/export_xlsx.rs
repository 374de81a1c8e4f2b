//! A Seller Center export as XLSX (FEEDS.md §2): the workbook's first sheet, read as a
//! product list and as a sales report.
#![no_main]

use laris::feeds::exports::{parse_orders, parse_products, read_rows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let at = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
    let rows = match read_rows(data, "fuzz.xlsx") {
        Ok(rows) => rows,
        Err(e) => {
            assert!(!e.to_string().trim().is_empty());
            return;
        }
    };
    if let Ok(file) = parse_products(&rows, "fuzz.xlsx", at) {
        for row in &file.rows {
            if let Err(e) = &row.parsed {
                assert!(!e.to_string().trim().is_empty());
            }
        }
    }
    let _ = parse_orders(&rows, "fuzz.xlsx");
});
