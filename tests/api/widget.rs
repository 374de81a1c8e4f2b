//! Fragments and events over HTTP: the contract the widget relies on.

use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn batched_fragments_render_each_requested_slot_as_escaped_html() {
    let app = spawn_app().await;
    let r = app
        .get("/v1/shops/lengkuas/fragments?product=SRD-100&slots=similar,upsell,bundle,loyalty")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(r.headers().contains_key("etag"));
    let v: Value = r.json().await.unwrap();
    let f = &v["fragments"];
    assert!(f["upsell"]
        .as_str()
        .unwrap()
        .contains("data-laris-item=\"SRD-250P\""));
    assert!(f["bundle"]
        .as_str()
        .unwrap()
        .contains("data-laris-add=\"SRD-100,TPG-100\""));
    assert!(
        f["similar"]
            .as_str()
            .unwrap()
            .contains("laris_src=similar&amp;laris_from=SRD-100"),
        "tracking parameters"
    );
    assert!(f["loyalty"].as_str().unwrap().contains("Diskon hingga 5%"));
    assert!(
        f["similar"]
            .as_str()
            .unwrap()
            .contains("http:&#x2f;&#x2f;127.0.0.1:"),
        "relative images made absolute for other origins"
    );
    for html in f.as_object().unwrap().values() {
        assert!(
            !html.as_str().unwrap().contains("style="),
            "no inline style attributes (strict CSP)"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_hostile_product_name_renders_as_text() {
    let app = spawn_app().await;
    let shop = laris::domain::ShopId::parse("lengkuas").unwrap();
    let mut p = app
        .store
        .product(&shop, &laris::domain::ProductId::parse("SRD-250P").unwrap())
        .unwrap()
        .unwrap();
    p.name = "<script>alert(1)</script> Premium".into();
    let mut b = laris::store::ImportBatch::new(&shop);
    b.upsert_product(p);
    app.store.apply(b).unwrap();
    assert_eq!(
        app.admin_post("/admin/api/shops/lengkuas/rebuild", serde_json::json!({}))
            .await
            .status(),
        200
    );
    let html = app
        .get("/v1/shops/lengkuas/fragments/upsell?product=SRD-100")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"));
    app.stop().await;
}

#[tokio::test]
async fn a_fragment_answers_304_when_the_client_has_it() {
    let app = spawn_app().await;
    let url = format!("{}/v1/shops/lengkuas/fragments/similar?product=SRD-100", app.base);
    let first = app.http.get(&url).send().await.unwrap();
    assert!(first.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(first.headers()["cache-control"], "public, max-age=60");
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let again = app
        .http
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.text().await.unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn bad_fragment_requests_are_json_errors() {
    let app = spawn_app().await;
    let r = app
        .get("/v1/shops/lengkuas/fragments/sidebar?product=SRD-100")
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("\"sidebar\""));
    let r = app
        .get("/v1/shops/lengkuas/fragments?product=NOPE&slots=similar")
        .await;
    assert_eq!(r.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn beacons_are_accepted_as_text_plain_validated_and_stored() {
    let app = spawn_app().await;
    let shop = laris::domain::ShopId::parse("lengkuas").unwrap();
    // The demo shop starts with its synthetic events.
    let seeded = app.store.events(&shop).unwrap().len();
    let url = format!("{}/v1/shops/lengkuas/events", app.base);
    let beacon = r#"{"type":"click","slot":"similar","product":"SRD-100","item":"TPG-100"}"#;
    let r = app
        .http
        .post(&url)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(beacon)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let batch = r#"{"events":[{"type":"impression","slot":"bundle","product":"SRD-100"},{"type":"add_to_cart","slot":"bundle","product":"SRD-100","item":"TPG-100"}]}"#;
    assert_eq!(
        app.http.post(&url).body(batch).send().await.unwrap().status(),
        202
    );
    let stored: Vec<laris::records::Event> = app.store.events(&shop).unwrap();
    let stored = &stored[seeded..];
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0].kind, laris::records::EventKind::Click);
    assert!(stored.iter().all(|e| e.at.is_some()));

    for (body, needle) in [
        (r#"{"type":"view"}"#, "\"view\""),
        (r#"{"type":"click","slot":"sidebar"}"#, "\"sidebar\""),
        ("not json", "not valid"),
    ] {
        let r = app.http.post(&url).body(body).send().await.unwrap();
        assert_eq!(r.status(), 400, "{body}");
        assert!(r.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains(needle));
    }
    let big = format!(r#"{{"type":"click","slot":"{}"}}"#, "x".repeat(20_000));
    assert_eq!(app.http.post(&url).body(big).send().await.unwrap().status(), 413);
    app.stop().await;
}

#[tokio::test]
async fn a_flood_of_events_from_one_client_is_rate_limited() {
    let app = spawn_app().await;
    let url = format!("{}/v1/shops/lengkuas/events", app.base);
    let batch =
        serde_json::json!({"events": vec![serde_json::json!({"type":"impression","slot":"similar"}); 50]})
            .to_string();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            app.http
                .post(&url)
                .body(batch.clone())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses[0], 202);
    assert!(statuses.contains(&429), "{statuses:?}");
    // The limit is the client's: another address is not slowed down by this one.
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let r = other.post(&url).body(batch).send().await.unwrap();
    assert_eq!(r.status(), 202);
    app.stop().await;
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let url = format!("{}/widget.js", app.base);
    for (accept, want) in [
        ("br", Some("br")),
        ("gzip, deflate", Some("gzip")),
        ("gzip;q=0", None),
        ("identity", None),
    ] {
        let r = app
            .http
            .get(&url)
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let got = r
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(got.as_deref(), want, "Accept-Encoding: {accept}");
    }
    let plain = app.http.get(&url).send().await.unwrap().bytes().await.unwrap();
    let gz = app
        .http
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        gz.len() < plain.len() / 2,
        "gzip {} vs plain {}",
        gz.len(),
        plain.len()
    );
    app.stop().await;
}

#[tokio::test]
async fn widget_js_has_an_etag_and_a_long_cache_at_its_versioned_url() {
    let app = spawn_app().await;
    let r = app.get("/widget.js").await;
    assert_eq!(r.headers()["cache-control"], "public, max-age=300");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let version = laris::web::widget::widget_version();
    assert_eq!(etag, format!("\"{version}\""));
    let r = app.get(&format!("/widget.js?v={version}")).await;
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let r = app
        .http
        .get(format!("{}/widget.js", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    app.stop().await;
}
