//! The foundation's HTTP contract: health, widget, demo page, JSON errors, first-start seed.

use laris::domain::{ProductId, ShopId};
use laris::store::ShopStore;
use serde_json::Value;

use crate::helpers::{orders_in_demo_recording, spawn_app, TOKEN};

#[tokio::test]
async fn healthz_answers_ok_and_names_the_store_backend() {
    let app = spawn_app().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"status": "ok", "store": "sled", "sync_leases": []})
    );
    app.stop().await;
}

#[tokio::test]
async fn widget_js_is_served_as_javascript() {
    let app = spawn_app().await;
    let r = app.get("/widget.js").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let body = r.text().await.unwrap();
    assert!(body.contains("data-laris-slot") && body.contains("attachShadow"));
    app.stop().await;
}

#[tokio::test]
async fn the_demo_page_shows_srd_100_and_embeds_the_widget_as_a_shop_owner_would() {
    let app = spawn_app().await;
    let r = app.get("/demo").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"<script async src="/widget.js" data-shop="lengkuas"></script>"#),
        "{html}"
    );
    for slot in ["similar", "upsell", "bundle", "loyalty", "chat"] {
        assert!(
            html.contains(&format!(
                r#"<div data-laris-slot="{slot}" data-product="SRD-100"></div>"#
            )),
            "slot {slot}"
        );
    }
    assert!(html.contains("Serundeng Lengkuas 100 g") && html.contains("Rp20.000"));
    let img = app.get("/demo/images/srd-100.svg").await;
    assert_eq!(img.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn the_first_start_seeds_the_demo_shop_from_its_recording() {
    let app = spawn_app().await;
    let shop = ShopId::parse("lengkuas").unwrap();
    let products = app.store.products(&shop).unwrap();
    assert_eq!(products.len(), 10);
    let srd = app
        .store
        .product(&shop, &ProductId::parse("SRD-100").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(srd.price.0, 20000);
    assert_eq!(srd.name, "Serundeng Lengkuas 100 g");
    let orders = app.store.orders(&shop).unwrap();
    assert_eq!(orders.len(), orders_in_demo_recording());
    assert!(orders.len() >= 500, "about 600 demo orders, got {}", orders.len());
    assert!(
        orders.iter().all(|o| o.lines.iter().all(|l| l.product.is_some())),
        "every line resolves to a product"
    );
    let customers = app.store.customers(&shop).unwrap();
    assert!(
        customers.len() > 150 && customers.len() <= 200,
        "{} customers",
        customers.len()
    );
    app.stop().await;
}

#[tokio::test]
async fn replaying_the_same_recording_again_changes_nothing() {
    let app = spawn_app().await;
    let shop = ShopId::parse("lengkuas").unwrap();
    let before = app.store.fingerprint(&shop).unwrap();
    let cust_before = app.store.customers(&shop).unwrap();
    let r = app
        .http
        .post(format!("{}/admin/api/shops/lengkuas/replay", app.base))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"dir": crate::helpers::demo_recording()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["products"]["inserted"], 0);
    assert_eq!(report["products"]["updated"], 0);
    assert_eq!(report["orders"]["updated"], 0);
    assert_eq!(
        report["orders"]["unchanged"].as_u64().unwrap() as usize,
        orders_in_demo_recording()
    );
    let cust_after = app.store.customers(&shop).unwrap();
    for (a, b) in cust_before.iter().zip(&cust_after) {
        assert_eq!(a, b);
    }
    assert_eq!(app.store.fingerprint(&shop).unwrap(), before);
    app.stop().await;
}

async fn assert_json_error(app: &crate::helpers::TestApp, r: reqwest::Response, status: u16, needle: &str) {
    let _ = app;
    assert_eq!(r.status(), status);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "*",
        "a widget on another origin can read the error"
    );
    let body: Value = r.json().await.unwrap();
    let msg = body["error"].as_str().expect("an error field");
    assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
}

#[tokio::test]
async fn every_rejection_is_a_json_error_with_the_right_status() {
    let app = spawn_app().await;
    assert_json_error(&app, app.get("/no/such/page").await, 404, "no such page").await;
    assert_json_error(
        &app,
        app.get("/v1/shops/nope/products").await,
        404,
        "unknown shop \"nope\"",
    )
    .await;
    assert_json_error(
        &app,
        app.get("/v1/shops/lengkuas/products/NOPE-1").await,
        404,
        "NOPE-1",
    )
    .await;
    assert_json_error(
        &app,
        app.get("/v1/shops/lengkuas/products?limit=abc").await,
        400,
        "limit=\"abc\"",
    )
    .await;
    assert_json_error(&app, app.get("/demo?product=NOPE").await, 404, "NOPE").await;
    assert_json_error(&app, app.get("/admin/api/status").await, 401, "Bearer").await;
    let big = "x".repeat(10_000);
    let r = app
        .http
        .post(format!("{}/admin/api/shops/lengkuas/replay", app.base))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(format!("{{\"dir\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_json_error(&app, r, 413, "too large").await;
    let r = app
        .http
        .post(format!("{}/admin/api/shops/lengkuas/replay", app.base))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"dir": "/no/such/recording"}))
        .send()
        .await
        .unwrap();
    assert_json_error(&app, r, 403, "/no/such/recording").await;
    app.stop().await;
}

#[tokio::test]
async fn public_product_json_carries_prices_as_integer_rupiah() {
    let app = spawn_app().await;
    let p: Value = app
        .get("/v1/shops/lengkuas/products/SRD-100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["price"], 20000);
    assert_eq!(p["price_text"], "Rp20.000");
    let list: Value = app
        .get("/v1/shops/lengkuas/products?limit=3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["products"].as_array().unwrap().len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn admin_status_counts_the_demo_shop() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(format!("{}/admin/api/status", app.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    let shop = &s["shops"][0];
    assert_eq!(shop["id"], "lengkuas");
    assert_eq!(shop["products"], 10);
    assert_eq!(
        shop["orders"].as_u64().unwrap() as usize,
        orders_in_demo_recording()
    );
    assert!(shop["paid_orders"].as_u64().unwrap() < shop["orders"].as_u64().unwrap());
    assert_eq!(shop["last_sync"]["kind"], "replay");
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_prometheus_text_behind_the_admin_token() {
    let app = crate::helpers::spawn_app().await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    let _ = app.get("/healthz").await;
    let r = app
        .http
        .get(format!("{}/metrics", app.base))
        .bearer_auth(crate::helpers::TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    let orders = crate::helpers::orders_in_demo_recording();
    assert!(
        text.contains(&format!("laris_orders{{shop=\"lengkuas\"}} {orders}")),
        "{text}"
    );
    assert!(text.contains("laris_products{shop=\"lengkuas\"} 10"), "{text}");
    assert!(text.contains("# TYPE laris_http_responses_total counter"));
    let ok: u64 = text
        .lines()
        .find(|l| l.starts_with("laris_http_responses_total{class=\"2xx\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap();
    assert!(ok >= 1, "the /healthz answer was counted: {text}");
    app.stop().await;
}

// ---- crash consistency: what a kill leaves behind is finished by the next run --------------

fn demo_events_count() -> usize {
    std::fs::read_to_string(crate::helpers::demo_events())
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

#[test]
fn a_first_start_killed_while_seeding_seeds_again_to_the_exact_counts() {
    let settings = crate::helpers::test_settings();
    let shop = ShopId::parse("lengkuas").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = laris::store::Store::open(dir.path()).unwrap();
    // What a start killed midway leaves: the seeding begun, some orders and events stored.
    store
        .set_seeding(&shop, laris::records::Seeding::Started)
        .unwrap();
    laris::sync::replay::replay(&store, &shop, &crate::helpers::demo_recording()).unwrap();
    for _ in 0..7 {
        store
            .append_event(
                &shop,
                &laris::records::Event {
                    kind: laris::records::EventKind::Click,
                    slot: Some(laris::domain::Slot::Similar),
                    product: None,
                    item: None,
                    at: None,
                    customer: None,
                    visitor: None,
                    arm: None,
                    order: None,
                    total: None,
                    items: Vec::new(),
                },
            )
            .unwrap();
    }
    laris::app::seed_empty_shops(&settings, &store).unwrap();
    assert_eq!(store.orders(&shop).unwrap().len(), orders_in_demo_recording());
    assert_eq!(store.events(&shop).unwrap().len(), demo_events_count());
    // Seeded for good: a later start leaves it alone.
    laris::app::seed_empty_shops(&settings, &store).unwrap();
    assert_eq!(store.events(&shop).unwrap().len(), demo_events_count());
}

#[test]
fn data_imported_without_its_rebuild_is_rebuilt_on_the_next_load() {
    let settings = crate::helpers::test_settings();
    let shop_settings = &settings.shops[0];
    let shop = shop_settings.id.clone();
    let dir = tempfile::tempdir().unwrap();
    let store = laris::store::Store::open(dir.path()).unwrap();
    // An import killed before its rebuild: data stored, no customers, no model.
    laris::sync::replay::replay(&store, &shop, &crate::helpers::demo_recording()).unwrap();
    assert!(store.model_stale(&shop).unwrap());
    let status = laris::status::status(&settings, &store, None, None).unwrap();
    assert!(status.shops[0].model_stale);
    assert!(status.to_text().contains("stale"), "{}", status.to_text());

    // Re-running the same import changes nothing, yet the model is still due.
    laris::sync::replay::replay(&store, &shop, &crate::helpers::demo_recording()).unwrap();
    assert!(store.model_stale(&shop).unwrap());
    let model = laris::model::rebuild::load_or_rebuild(&store, shop_settings).unwrap();
    assert!(!store.model_stale(&shop).unwrap());
    assert!(model.paid_orders > 0);
    let customers = store.customers(&shop).unwrap();
    assert!(!customers.is_empty());
    assert!(
        customers.iter().all(|c| c.tier.is_some()),
        "every customer is on the ladder"
    );

    // A rebuild that read the data before a change leaves the model stale.
    let generation = store.data_generation(&shop).unwrap();
    let mut batch = laris::store::ImportBatch::new(&shop);
    let mut p = store.products(&shop).unwrap()[0].clone();
    p.price = laris::domain::Rupiah(p.price.0 + 1);
    batch.upsert_product(p);
    store.apply(batch).unwrap();
    store
        .put_rebuild(
            &shop,
            &customers,
            &laris::model::rebuild::encode_snapshot(&model, generation),
        )
        .unwrap();
    assert!(store.model_stale(&shop).unwrap());
}

#[test]
fn a_run_that_never_finished_is_reported_as_interrupted() {
    let settings = crate::helpers::test_settings();
    let shop = ShopId::parse("lengkuas").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = laris::store::Store::open(dir.path()).unwrap();
    let mut importer = laris::sync::pipeline::Importer::new(&store, shop.clone());
    importer
        .import_page(laris::sync::pipeline::Page::new("p1", vec![]))
        .unwrap();
    drop(importer); // killed before finish()
    let status = laris::status::status(&settings, &store, None, None).unwrap();
    assert_eq!(status.shops[0].interrupted_run.as_ref().unwrap().pages, 1);
    assert!(status.to_text().contains("interrupted"), "{}", status.to_text());
    // The next run's report clears it.
    laris::sync::replay::replay(&store, &shop, &crate::helpers::demo_recording()).unwrap();
    let status = laris::status::status(&settings, &store, None, None).unwrap();
    assert!(status.shops[0].interrupted_run.is_none());
}
