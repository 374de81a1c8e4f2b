//! A storefront product page (FEEDS.md §3): JSON-LD, else Open Graph; the page URL is the
//! first line of the input, so relative and odd URLs are fuzzed too.
#![no_main]

use laris::feeds::storefront::parse_page;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (url, html) = text
        .split_once('\n')
        .unwrap_or(("https://shop.example/produk/x", &text));
    let at = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
    match parse_page(html, url, at) {
        Ok(p) => assert!(p.product.price.0 >= 0),
        Err(e) => assert!(!e.to_string().trim().is_empty()),
    }
});
