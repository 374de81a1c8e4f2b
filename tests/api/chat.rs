//! The chat slot over HTTP: a WhatsApp link naming the product and its page, alone and in
//! the widget's batched request; empty when the shop has no `[shops.chat]`.

use laris::config::Settings;
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with, test_config_text};

/// The test shop with a chat number and no opening hours (always answering: the answer
/// does not depend on the clock).
fn with_chat(extra: &str) -> Settings {
    let text = format!(
        "{}\n[shops.chat]\nwhatsapp = \"62812000000\"\n{extra}",
        test_config_text()
    );
    Settings::from_toml(&text, std::path::Path::new("test.toml"), &[]).expect("chat config is valid")
}

/// The `text` parameter of the one wa.me link in `html`, decoded.
fn wa_text(html: &str) -> String {
    let start = html.find("href=\"").expect("a link") + 6;
    let end = start + html[start..].find('"').unwrap();
    // minijinja escapes `&` and `/` in attributes; undo what it escaped.
    let href = html[start..end]
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
        .replace("&#x3d;", "=");
    let url = url::Url::parse(&href).unwrap_or_else(|e| panic!("{href}: {e}"));
    assert_eq!(url.host_str(), Some("wa.me"), "{href}");
    assert_eq!(url.path(), "/62812000000");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs.len(), 1, "{href}");
    assert_eq!(pairs[0].0, "text");
    pairs[0].1.clone()
}

#[tokio::test]
async fn the_chat_fragment_links_to_whatsapp_with_the_product_and_its_page() {
    let app = spawn_app_with(with_chat("")).await;
    let page = "https://toko.example/p/serundeng?utm_source=x&email=a%40b.c#ulasan";
    let r = app
        .get(&format!(
            "/v1/shops/lengkuas/fragments/chat?product=SRD-100&page={}",
            laris::domain::url_component(page)
        ))
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Tanya penjual via WhatsApp"), "{html}");
    assert!(html.contains("laris-chat"), "{html}");
    assert!(!html.contains("style="), "no inline style (strict CSP): {html}");
    let text = wa_text(&html);
    assert!(
        text.starts_with("Halo, saya mau tanya tentang Serundeng"),
        "{text}"
    );
    // The page without its query or fragment: nothing about the visitor.
    assert!(text.ends_with("(https://toko.example/p/serundeng)"), "{text}");
    assert!(
        !html.contains("utm_source") && !html.contains("a@b.c") && !html.contains("a%40b.c"),
        "{html}"
    );

    // English, and a bad page falls back to the product's own page.
    for bad in [
        "javascript:alert(1)",
        "/p/serundeng",
        &format!("https://x.id/{}", "a".repeat(2100)),
    ] {
        let html = app
            .get(&format!(
                "/v1/shops/lengkuas/fragments/chat?product=SRD-100&lang=en&page={}",
                laris::domain::url_component(bad)
            ))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("Ask the seller on WhatsApp"), "{html}");
        let text = wa_text(&html);
        assert!(
            text.starts_with("Hello, I have a question about Serundeng"),
            "{text}"
        );
        assert!(
            text.ends_with(&format!("({}/demo?product=SRD-100)", app.base)),
            "{bad}: {text}"
        );
        assert!(!text.contains("javascript") && !text.contains("aaaa"), "{text}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_chat_button_rides_in_the_batched_request() {
    let app = spawn_app_with(with_chat("")).await;
    let page = laris::domain::url_component("https://toko.example/serundeng");
    for _ in 0..2 {
        // Twice: the second answer comes from the prepared answers, keyed with its page.
        let v: Value = app
            .get_json(&format!(
                "/v1/shops/lengkuas/fragments?product=SRD-100&slots=similar,chat&page={page}"
            ))
            .await;
        let chat = v["fragments"]["chat"].as_str().unwrap();
        assert!(v["fragments"]["similar"].as_str().unwrap().contains("laris-item"));
        assert!(
            wa_text(chat).ends_with("(https://toko.example/serundeng)"),
            "{chat}"
        );
        assert_eq!(
            app.prepared.usage().0,
            1,
            "kept once, answered from it the second time"
        );
    }
    // Another page is another answer, not the kept one.
    let other = laris::domain::url_component("https://toko.example/lain");
    let v: Value = app
        .get_json(&format!(
            "/v1/shops/lengkuas/fragments?product=SRD-100&slots=similar,chat&page={other}"
        ))
        .await;
    assert!(wa_text(v["fragments"]["chat"].as_str().unwrap()).ends_with("(https://toko.example/lain)"));
    app.stop().await;
}

#[tokio::test]
async fn opening_hours_say_open_or_when_the_seller_answers() {
    // Open all day, every day: with hours configured the answer is made per request (never
    // kept), and it says the seller answers now whenever the test runs. The closed notes
    // are checked with a fixed clock in `config::chat` and `web::chat`.
    let app = spawn_app_with(with_chat("hours = \"00:00-24:00\"\ndays = \"mon-sun\"\n")).await;
    for _ in 0..2 {
        let html = app
            .get("/v1/shops/lengkuas/fragments/chat?product=SRD-100")
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("Tanya penjual via WhatsApp"), "{html}");
        assert!(!html.contains("Penjual membalas"), "{html}");
        assert_eq!(
            app.prepared.usage().0,
            0,
            "a button that follows the clock is never kept"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn without_a_chat_config_the_slot_is_empty() {
    let app = spawn_app().await;
    let r = app.get("/v1/shops/lengkuas/fragments/chat?product=SRD-100").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "");
    let v: Value = app
        .get_json("/v1/shops/lengkuas/fragments?product=SRD-100&slots=similar,chat")
        .await;
    assert_eq!(v["fragments"]["chat"], "");
    assert!(!v["fragments"]["similar"].as_str().unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_product_still_gets_a_button() {
    let app = spawn_app_with(with_chat("")).await;
    let r = app
        .get("/v1/shops/lengkuas/fragments/chat?product=NOPE-999")
        .await;
    assert_eq!(r.status(), 200);
    let text = wa_text(&r.text().await.unwrap());
    assert_eq!(text, "Halo, saya mau tanya tentang produk ini");
    app.stop().await;
}

#[test]
fn the_widget_stays_within_its_size_budget() {
    use std::io::Write;
    let js = std::fs::read(crate::helpers::repo().join("widget/widget.js")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&js).unwrap();
    let size = gz.finish().unwrap().len();
    assert!(
        size <= 6144,
        "widget.js is {size} bytes gzipped: the budget is 6144 (README)"
    );
    let text = String::from_utf8(js).unwrap();
    assert!(
        text.contains("chat: \""),
        "the chat slot is a slot type of the widget"
    );
}
