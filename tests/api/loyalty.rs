//! Loyalty on the demo shop: every customer has a tier and a segment; a valid token shows
//! that customer's tier and progress; a forged, expired or malformed one shows the ladder.

use laris::domain::ShopId;
use laris::store::ShopStore;
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
