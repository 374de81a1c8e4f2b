//! A marketplace API answer (FEEDS.md §1): the page envelope, then every record as a
//! product and as an order, as the sync pipeline reads them. A refused record must say why.
#![no_main]

use laris::feeds::marketplace::{page_records, parse_order, parse_product};
use laris::feeds::FeedError;
use libfuzzer_sys::fuzz_target;

fn reason(e: &FeedError) {
    let (FeedError::Page(m) | FeedError::Record(m)) = e;
    assert!(!m.trim().is_empty(), "a refusal without a reason: {e:?}");
}

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    let records = match page_records(&body) {
        Ok(records) => records,
        Err(e) => {
            reason(&e);
            // A record on its own (the parsers are also called on single records).
            match serde_json::from_str(&body) {
                Ok(v) => vec![v],
                Err(_) => return,
            }
        }
    };
    for r in &records {
        match parse_product(r) {
            Ok(p) => assert!(p.product.price.0 >= 0),
            Err(e) => reason(&e),
        }
        match parse_order(r) {
            Ok(o) => assert!(!o.order.lines.is_empty()),
            Err(e) => reason(&e),
        }
    }
});
