//! Loyalty on the demo shop: every customer has a tier and a segment; a valid token shows
//! that customer's tier and progress; a forged, expired or malformed one shows the ladder.

use laris::domain::ShopId;
use serde_json::Value;

use crate::helpers::{spawn_app, SECRET};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn every_demo_customer_has_a_tier_and_a_segment() {
    let app = spawn_app().await;
    let customers = app.store.customers(&ShopId::parse("lengkuas").unwrap()).unwrap();
    assert!(customers.len() > 150);
    for c in &customers {
        assert!(
            c.tier.is_some() && c.segment.is_some() && c.rfm.is_some(),
            "{c:?}"
        );
    }
    let tiers: std::collections::BTreeSet<&str> =
        customers.iter().filter_map(|c| c.tier.as_deref()).collect();
    assert_eq!(tiers.len(), 4, "k-means fills the four default tiers: {tiers:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_valid_token_shows_that_customers_tier_and_progress() {
    let app = spawn_app().await;
    let shop = ShopId::parse("lengkuas").unwrap();
    let c = app
        .store
        .customers(&shop)
        .unwrap()
        .into_iter()
        .find(|c| c.tier.as_deref() == Some("Silver"))
        .expect("a Silver customer");
    let token = laris::loyalty::token::make(&c.id.0, SECRET.as_bytes(), now() + 3600);
    let v = app
        .get_json(&format!(
            "/v1/shops/lengkuas/recommendations?product=SRD-100&customer={token}"
        ))
        .await;
    let l = &v["loyalty"];
    assert_eq!(l["known"], true);
    assert_eq!(l["tier"], "Silver");
    assert_eq!(l["discount_pct"], 2.0);
    assert_eq!(l["next_tier"], "Gold");
    assert_eq!(l["needed"].as_i64().unwrap(), c.next_tier_needed.unwrap().0);
    assert!(l["message"].as_str().unwrap().starts_with("Belanja Rp"), "{l}");
    assert!(
        l.get("name").is_none() && !v.to_string().contains(c.name.as_deref().unwrap()),
        "no personal data"
    );

    let html = app
        .get(&format!(
            "/v1/shops/lengkuas/fragments/loyalty?product=SRD-100&customer={token}"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Silver") && html.contains("Gold"), "{html}");
    assert!(!html.contains(c.name.as_deref().unwrap()));
    app.stop().await;
}

#[tokio::test]
async fn forged_expired_and_malformed_tokens_get_the_anonymous_ladder() {
    let app = spawn_app().await;
    let shop = ShopId::parse("lengkuas").unwrap();
    let customers = app.store.customers(&shop).unwrap();
    let top = customers
        .iter()
        .find(|c| c.tier.as_deref() == Some("Platinum"))
        .unwrap();
    let forged = laris::loyalty::token::make(&top.id.0, b"not-the-shops-secret", now() + 3600);
    let expired = laris::loyalty::token::make(&top.id.0, SECRET.as_bytes(), now() - 1);
    let valid = laris::loyalty::token::make(&top.id.0, SECRET.as_bytes(), now() + 3600);
    let tampered = valid.replacen('.', ".x", 1);
    for token in [
        forged.as_str(),
        expired.as_str(),
        tampered.as_str(),
        "garbage",
        "v1....",
    ] {
        let r = app
            .get(&format!(
                "/v1/shops/lengkuas/recommendations?product=SRD-100&customer={token}"
            ))
            .await;
        assert_eq!(r.status(), 200, "never an error page for {token:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["loyalty"]["known"], false, "{token:?}");
        assert!(v["loyalty"]["message"]
            .as_str()
            .unwrap()
            .contains("Diskon hingga 5%"));
        assert_eq!(v["loyalty"]["ladder"].as_array().unwrap().len(), 4);
    }
    app.stop().await;
}

#[test]
fn laris_tiers_on_seed_002_prints_optimal_and_equal_width_clusterings() {
    let run = |method: &str| -> Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_laris"))
            .args(["tiers", "--totals"])
            .arg(crate::helpers::repo().join("tests/fixtures/seed002_customers.csv"))
            .args(["--k", "4", "--method", method, "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let opt = run("kmeans");
    let eq = run("equal-width");
    assert_eq!(
        eq["centres"],
        serde_json::json!([1560000.0, 3120000.0, 4680000.0, 6240000.0]),
        "seed 002's centres"
    );
    assert_eq!(opt["sizes"], serde_json::json!([50, 12, 8, 3]));
    assert!(opt["sse"].as_f64().unwrap() < eq["sse"].as_f64().unwrap());
    assert!(opt["silhouette"].as_f64().unwrap() > eq["silhouette"].as_f64().unwrap());
    assert_eq!(opt["boundaries"].as_array().unwrap().len(), 3);
}

/// A buyer seen three ways (a marketplace buyer id with their phone, the phone key from a
/// sales report, and the name hash an older Laris gave them) is one customer after a
/// rebuild: one record under the phone key, every token gets the same tier, the owner's
/// pages show the phone as a WhatsApp link and the city, and no widget answer carries the
/// name, phone or city.
#[tokio::test]
async fn a_buyer_id_a_phone_and_an_old_hash_are_one_customer_and_their_details_stay_out_of_fragments() {
    use laris::domain::{phone, CustomerId, OrderStatus, ProductId, Rupiah};
    use laris::records::{Order, OrderLine};
    use laris::store::ImportBatch;

    let app = crate::admin::spawn_admin_app().await;
    let shop = ShopId::parse("lengkuas").unwrap();
    let key = "6281377775555";
    let name = "Ratna Kusumawati";
    let city = "Kabupaten Tasikmalaya";
    let old = phone::legacy_customer_hash(Some(name), Some("0813-7777-5555")).unwrap();
    let order = |invoice: &str, customer: &str, phone: Option<&str>, days: i64| {
        let at = chrono::Utc::now() - chrono::Duration::days(days);
        Order {
            invoice: invoice.into(),
            marketplace_id: None,
            customer: CustomerId(customer.into()),
            buyer_name: Some(name.into()),
            phone: phone.map(str::to_string),
            city: phone.map(|_| city.to_string()),
            status: OrderStatus(700),
            created_at: at,
            paid_at: at,
            updated_at: at,
            lines: vec![OrderLine {
                product: Some(ProductId::parse("SRD-100").unwrap()),
                marketplace_product_id: None,
                sku: None,
                name: "Serundeng Lengkuas 100 g".into(),
                quantity: 100,
                unit_price: Rupiah(20_000),
            }],
            products_total: Rupiah(2_000_000),
            shipping: Rupiah(0),
        }
    };
    let mut batch = ImportBatch::new(&shop);
    batch.upsert_order(order("INV/ID/1", &old.0, None, 30));
    batch.upsert_order(order("INV/ID/2", "990001", Some(key), 20));
    batch.upsert_order(order("INV/ID/3", key, Some(key), 10));
    app.store.apply(batch).unwrap();
    let r = app
        .admin_post("/admin/api/shops/lengkuas/rebuild", serde_json::json!({}))
        .await;
    assert!(r.status().is_success(), "rebuild: {}", r.status());

    let customers = app.store.customers(&shop).unwrap();
    assert!(!customers.iter().any(|c| c.id == old || c.id.0 == "990001"));
    let ratna: Vec<_> = customers
        .iter()
        .filter(|c| c.name.as_deref() == Some(name))
        .collect();
    assert_eq!(ratna.len(), 1, "one customer: {ratna:?}");
    let ratna = ratna[0];
    assert_eq!(ratna.id.0, key);
    assert_eq!((ratna.order_count, ratna.total_spend), (3, Rupiah(6_000_000)));
    assert_eq!(ratna.phone.as_deref(), Some(key));
    assert_eq!(ratna.city.as_deref(), Some(city));
    let tier = ratna.tier.clone().expect("a tier");

    // Every id they were known by gets their tier, and no answer carries their details.
    let personal = [name, key, city, "Tasikmalaya"];
    for id in [key, "990001", old.0.as_str()] {
        let token = laris::loyalty::token::make(id, SECRET.as_bytes(), now() + 3600);
        let v = app
            .get_json(&format!(
                "/v1/shops/lengkuas/recommendations?product=SRD-100&customer={token}"
            ))
            .await;
        assert_eq!(v["loyalty"]["tier"], tier.as_str(), "token for {id}: {v}");
        for path in [
            format!("/v1/shops/lengkuas/fragments?slots=similar,upsell,bundle,loyalty&product=SRD-100&customer={token}"),
            format!("/v1/shops/lengkuas/fragments/loyalty?product=SRD-100&lang=en&customer={token}"),
        ] {
            let r = app.get(&path).await;
            assert_eq!(r.status(), 200, "{path}");
            let html = r.text().await.unwrap();
            assert!(html.contains(&tier), "{path}: {html}");
            for p in personal {
                assert!(!html.contains(p), "{path} shows {p:?}: {html}");
            }
        }
        let json = v.to_string();
        for p in personal {
            assert!(!json.contains(p), "the JSON answer shows {p:?}: {json}");
        }
    }

    // The owner sees the phone as a WhatsApp link and the city; an old id finds the page.
    let me = crate::admin::sign_in(&app, "admin", crate::admin::OWNER_PW).await;
    let list = crate::admin::get_page(&app, &me.cookie, "/admin/shops/lengkuas/customers").await;
    let row = list
        .split("<tr")
        .find(|r| r.contains(&format!("data-customer=\"{key}\"")))
        .expect("Ratna's row");
    assert!(
        row.contains(&format!("href=\"https://wa.me/{key}\"")) && row.contains(city),
        "{row}"
    );
    let page = crate::admin::get_page(
        &app,
        &me.cookie,
        &format!("/admin/shops/lengkuas/customers/{}", old.0),
    )
    .await;
    assert!(
        page.contains(&format!("Customer {key}")) && page.contains("INV&#x2f;ID&#x2f;1"),
        "the old id leads to the one customer and their old order: {page}"
    );
    app.stop().await;
}
