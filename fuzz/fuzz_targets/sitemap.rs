//! A `sitemap.xml` (FEEDS.md §3): `<urlset>` or `<sitemapindex>`.
#![no_main]

use laris::feeds::storefront::parse_sitemap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_sitemap(&String::from_utf8_lossy(data)) {
        Ok(s) => assert!(s.pages.iter().chain(&s.sitemaps).all(|l| !l.is_empty())),
        Err(e) => assert!(!e.to_string().trim().is_empty()),
    }
});
