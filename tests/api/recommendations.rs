//! The recommendation endpoint on the demo shop: the JSON contract, the done-criteria of
//! the recommendation issue, filters and fallbacks.

use laris::domain::{ProductId, ShopId};
use serde_json::Value;

use crate::helpers::spawn_app;

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn srd_100_gets_serundeng_neighbours_its_premium_upgrade_and_a_tepung_bundle() {
    let app = spawn_app().await;
    let r = app
        .get("/v1/shops/lengkuas/recommendations?product=SRD-100")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["shop"], "lengkuas");
    assert_eq!(v["product"]["id"], "SRD-100");

    let similar = ids(&v["similar"]);
    assert_eq!(similar.len(), 4, "the shop's default limit");
    assert!(
        similar[..2].contains(&"SRD-250P".to_string()) && similar[..2].contains(&"SRD-PDS-100".to_string()),
        "{similar:?}"
    );
    for item in v["similar"].as_array().unwrap() {
        for key in ["id", "name", "price", "url", "image", "score", "reason"] {
            assert!(item.get(key).is_some(), "item lacks {key}: {item}");
        }
        assert!(item["price"].is_i64(), "prices are integer rupiah");
        assert!(item["reason"].as_str().unwrap().starts_with("Mirip"), "{item}");
    }

    let upsell = &v["upsell"][0];
    assert_eq!(upsell["id"], "SRD-250P");
    assert_eq!(upsell["price"], 45000);
    assert_eq!(
        upsell["discounted_price"], 40500,
        "10% upgrade discount from config"
    );

    // The shop's fixed offer already pairs SRD-100 with TPG-100: one card per pair, so the
    // same pair is not offered again as a mined bundle.
    assert!(
        v["bundles"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| ids(&b["items"]).contains(&"TPG-100".to_string()))
            .count()
            == 1,
        "{}",
        v["bundles"]
    );
    // Bumbu rendang's partner tepung, mined from co-purchases: support, confidence and lift
    // recomputed here from the stored orders.
    let v2 = app
        .get_json("/v1/shops/lengkuas/recommendations?product=BMB-RDG-100")
        .await;
    let mined = v2["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "mined" && ids(&b["items"]) == ["BMB-RDG-100", "TPG-100"])
        .expect("a mined bundle with tepung");
    assert_eq!(mined["price"], 19000 + 15000);
    assert_eq!(mined["bundle_price"], 32300, "5% bundle discount from config");
    let shop = ShopId::parse("lengkuas").unwrap();
    let orders = app.store.orders(&shop).unwrap();
    let paid: Vec<Vec<String>> = orders
        .iter()
        .filter(|o| o.is_purchase())
        .map(|o| {
            o.lines
                .iter()
                .filter_map(|l| l.product.as_ref().map(|p| p.to_string()))
                .collect()
        })
        .collect();
    let n = paid.len() as f64;
    let has = |b: &Vec<String>, p: &str| b.iter().any(|x| x == p);
    let a = paid.iter().filter(|b| has(b, "BMB-RDG-100")).count() as f64;
    let c = paid.iter().filter(|b| has(b, "TPG-100")).count() as f64;
    let both = paid
        .iter()
        .filter(|b| has(b, "BMB-RDG-100") && has(b, "TPG-100"))
        .count() as f64;
    assert!((mined["support"].as_f64().unwrap() - both / n).abs() < 1e-9);
    assert!((mined["confidence"].as_f64().unwrap() - both / a).abs() < 1e-6);
    assert!((mined["lift"].as_f64().unwrap() - (both / a) / (c / n)).abs() < 1e-5);
    assert!(mined["reason"]
        .as_str()
        .unwrap()
        .starts_with("Sering dibeli bersama"));
    assert!(
        !mined["reason"].as_str().unwrap().contains("lift"),
        "no statistics jargon for shoppers"
    );

    let fixed = v["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "fixed")
        .expect("the fixed offer");
    assert_eq!(fixed["price"], 55000, "2 × 20.000 + 15.000");
    assert_eq!(fixed["bundle_price"], 40000, "the tepung is free");
    assert_eq!(fixed["items"][0]["quantity"], 2);
    assert_eq!(fixed["items"][1]["free"], true);
    assert!(v["loyalty"].is_object() || v["loyalty"].is_null());

    // The shopper sees how many of each the offer holds, and the cart button carries it.
    let html = app
        .get("/v1/shops/lengkuas/fragments/bundle?product=SRD-100")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<span class="laris-qty">2×</span> Serundeng"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span class="laris-qty">1× gratis</span> Tepung"#),
        "{html}"
    );
    assert!(
        html.contains(r#"data-laris-add="SRD-100,TPG-100" data-laris-quantities="2,1""#),
        "{html}"
    );
    app.stop().await;
}

#[tokio::test]
async fn reasons_speak_english_when_asked() {
    let app = spawn_app().await;
    let v = app
        .get_json("/v1/shops/lengkuas/recommendations?product=BMB-RDG-100&lang=en")
        .await;
    assert!(v["similar"][0]["reason"].as_str().unwrap().starts_with("Similar"));
    let mined = v["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "mined")
        .unwrap();
    assert!(mined["reason"]
        .as_str()
        .unwrap()
        .starts_with("Often bought together"));
    app.stop().await;
}

#[tokio::test]
async fn the_viewed_product_cart_items_and_out_of_stock_products_are_never_recommended() {
    let app = spawn_app().await;
    let shop = ShopId::parse("lengkuas").unwrap();
    // Keripik runs out of stock; the next rebuild must drop it everywhere.
    let mut krp = app
        .store
        .product(&shop, &ProductId::parse("KRP-80").unwrap())
        .unwrap()
        .unwrap();
    krp.stock = Some(0);
    let mut batch = laris::store::ImportBatch::new(&shop);
    batch.upsert_product(krp);
    app.store.apply(batch).unwrap();
    assert_eq!(
        app.admin_post("/admin/api/shops/lengkuas/rebuild", serde_json::json!({}))
            .await
            .status(),
        200
    );

    for product in ["SRD-100", "SBL-150", "TPG-100", "HMP-01"] {
        let v = app
            .get_json(&format!(
                "/v1/shops/lengkuas/recommendations?product={product}&cart=TPG-100,SRD-250P&limit=8"
            ))
            .await;
        let mut all = ids(&v["similar"]);
        all.extend(ids(&v["upsell"]));
        for b in v["bundles"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["kind"] != "fixed")
        {
            all.extend(ids(&b["items"]).into_iter().filter(|i| i != product));
        }
        for banned in [product, "TPG-100", "SRD-250P", "KRP-80"] {
            assert!(
                !all.iter().any(|i| i == banned),
                "{banned} recommended on {product}: {all:?}"
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_product_without_neighbours_or_rules_falls_back_to_best_sellers() {
    let app = spawn_app().await;
    let v = app
        .get_json("/v1/shops/lengkuas/recommendations?product=HMP-01")
        .await;
    let bundle = &v["bundles"][0];
    assert!(
        bundle["kind"] == "best_sellers" || bundle["kind"] == "mined",
        "{bundle}"
    );
    // SBL-150 has no upgrade of its own line: pricier best-sellers stand in.
    let v = app
        .get_json("/v1/shops/lengkuas/recommendations?product=SBL-150")
        .await;
    let ups = v["upsell"].as_array().unwrap();
    assert!(!ups.is_empty());
    assert!(ups.iter().all(
        |u| u["price"].as_i64().unwrap() > 18000 && u["reason"].as_str().unwrap().starts_with("Terlaris")
    ));
    app.stop().await;
}

#[tokio::test]
async fn bad_recommendation_requests_get_clear_errors() {
    let app = spawn_app().await;
    for (path, status, needle) in [
        ("/v1/shops/lengkuas/recommendations", 400, "missing product"),
        ("/v1/shops/lengkuas/recommendations?product=NOPE", 404, "NOPE"),
        (
            "/v1/shops/nope/recommendations?product=SRD-100",
            404,
            "unknown shop",
        ),
        (
            "/v1/shops/lengkuas/recommendations?product=SRD-100&limit=0",
            400,
            "limit",
        ),
        (
            "/v1/shops/lengkuas/recommendations?product=SRD-100&lang=fr",
            400,
            "lang",
        ),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), status, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains(needle), "{path}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_limit_parameter_caps_every_list() {
    let app = spawn_app().await;
    let v = app
        .get_json("/v1/shops/lengkuas/recommendations?product=SRD-100&limit=2")
        .await;
    assert_eq!(v["similar"].as_array().unwrap().len(), 2);
    assert!(v["upsell"].as_array().unwrap().len() <= 2);
    app.stop().await;
}

#[tokio::test]
async fn a_signed_in_customer_gets_a_for_you_list_and_an_anonymous_visitor_none() {
    let app = spawn_app().await;
    let shop = ShopId::parse("lengkuas").unwrap();
    // The customer with the most orders: their history is in the model.
    let c = app
        .store
        .customers(&shop)
        .unwrap()
        .into_iter()
        .max_by(|a, b| a.order_count.cmp(&b.order_count).then(b.id.0.cmp(&a.id.0)))
        .unwrap();
    assert!(c.order_count >= 2, "{c:?}");
    let token = laris::loyalty::token::make(
        &c.id.0,
        crate::helpers::SECRET.as_bytes(),
        chrono::Utc::now().timestamp() + 3600,
    );
    let v = app
        .get_json(&format!(
            "/v1/shops/lengkuas/recommendations?product=SRD-100&customer={token}"
        ))
        .await;
    let for_you = v["for_you"].as_array().expect("a for_you list");
    assert!(!for_you.is_empty(), "{v}");
    let products = app.store.products(&shop).unwrap();
    for it in for_you {
        let id = it["id"].as_str().unwrap();
        assert_ne!(id, "SRD-100", "never the viewed product");
        let p = products
            .iter()
            .find(|p| p.id == ProductId::parse(id).unwrap())
            .unwrap_or_else(|| panic!("{id} is a product of the shop"));
        assert!(p.is_available(), "{id} can be bought");
        let source = it["source"].as_str().unwrap();
        assert!(
            [
                "repurchase",
                "co_purchase",
                "best_seller",
                "category_best_seller",
                "similar"
            ]
            .contains(&source),
            "{id}: source {source}"
        );
        assert!(!it["reason"].as_str().unwrap().is_empty(), "{it}");
    }
    let name = c.name.clone().unwrap_or_default();
    if !name.is_empty() {
        assert!(!v.to_string().contains(&name), "no personal data");
    }

    let anonymous = app
        .get_json("/v1/shops/lengkuas/recommendations?product=SRD-100")
        .await;
    assert_eq!(anonymous["for_you"], serde_json::json!([]));

    // The batched fragments: "Untuk Anda" with the token, nothing without.
    let f = app
        .get_json(&format!(
            "/v1/shops/lengkuas/fragments?product=SRD-100&slots=for_you&customer={token}"
        ))
        .await;
    let html = f["fragments"]["for_you"].as_str().unwrap();
    assert!(html.contains("Untuk Anda"), "{html}");
    for it in for_you {
        assert!(
            html.contains(&format!("data-laris-item=\"{}\"", it["id"].as_str().unwrap())),
            "{html}"
        );
    }
    if !name.is_empty() {
        assert!(!html.contains(&name), "no customer name");
    }
    let f = app
        .get_json("/v1/shops/lengkuas/fragments?product=SRD-100&slots=for_you")
        .await;
    assert_eq!(f["fragments"]["for_you"], "");
    app.stop().await;
}

#[tokio::test]
async fn products_are_found_by_sku_or_marketplace_id_and_unknown_ones_get_suggestions() {
    let app = spawn_app().await;
    let by_id = app
        .get_json("/v1/shops/lengkuas/recommendations?product=TPG-250P")
        .await;
    // The demo recording's marketplace product id of TPG-250P, and its SKU in lower case.
    for alias in ["15001006", "tpg-250p"] {
        let v = app
            .get_json(&format!("/v1/shops/lengkuas/recommendations?product={alias}"))
            .await;
        assert_eq!(v["product"]["id"], "TPG-250P", "{alias}");
        assert_eq!(v["similar"], by_id["similar"], "{alias}");
    }
    let resp = app
        .get("/v1/shops/lengkuas/recommendations?product=TPG-250")
        .await;
    assert_eq!(resp.status(), 404);
    let body: serde_json::Value = resp.json().await.unwrap();
    let error = body["error"].as_str().unwrap();
    assert!(
        error.starts_with("unknown product \"TPG-250\" in shop lengkuas; did you mean TPG-250P"),
        "{error}"
    );
    app.stop().await;
}
