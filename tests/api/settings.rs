//! Changing the shop from the dashboard's settings page: a fixed offer added there is
//! stored with who added it, reaches the widget's bundle fragment without a restart, and
//! is still there after one; unknown products and bad values get a 400 naming them.

use laris::domain::ShopId;

use crate::admin::{client, get_page, sign_in, spawn_admin_app, OWNER_PW};
use crate::helpers::{spawn_app_in, TestApp};

const TITLE: &str = "Uji: beli 3, gratis 1";

async fn post(app: &TestApp, cookie: &str, section: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(format!("{}/admin/shops/lengkuas/settings/{section}", app.base))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn bundle_fragment(app: &TestApp, product: &str) -> String {
    let resp = app
        .get(&format!("/v1/shops/lengkuas/fragments/bundle?product={product}"))
        .await;
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

#[tokio::test]
async fn an_offer_added_on_the_settings_page_is_stored_audited_served_and_survives_a_restart() {
    let app = spawn_admin_app().await;
    let shop = ShopId::parse("lengkuas").unwrap();
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let model = app.models.get(&shop).expect("the demo shop's model");
    // Bought by its SKU in lower case, given by its id: both name a product.
    let buy = &model.products[3];
    let free = &model.products[4];
    let buy_name = buy.sku.clone().unwrap_or(buy.id.to_string()).to_lowercase();
    let buy_id = buy.id.to_string();
    let before = bundle_fragment(&app, &buy_id).await;
    assert!(!before.contains(TITLE));

    let resp = post(
        &app,
        &me.cookie,
        "offers",
        &[
            ("csrf", me.csrf.as_str()),
            ("action", "add"),
            ("title", TITLE),
            ("title_en", "Test: buy 3, get 1 free"),
            ("buy", &format!("{buy_name}*3")),
            ("free", free.id.as_str()),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/admin/shops/lengkuas/settings?saved=offers"
    );

    // Stored, next to the configured offer, and audited with who and what.
    let overlay = laris::model::rebuild::stored_overlay(&*app.store, &shop).unwrap();
    let offers = overlay.offers.expect("the offers were changed");
    assert_eq!(offers.len(), 2, "the config file's offer is kept");
    assert_eq!(offers[1].title, TITLE);
    assert_eq!(offers[1].buy[0].product.as_str(), buy_id);
    assert_eq!(offers[1].buy[0].quantity, 3);
    let changes = app.store.settings_changes(&shop, 10).unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (changes[0].user.as_str(), changes[0].section.as_str()),
        ("admin", "offers")
    );
    assert!(
        changes[0].summary.contains(TITLE)
            && changes[0].new.contains(TITLE)
            && !changes[0].old.contains(TITLE)
    );

    // The widget shows it now, without a restart; the page lists it and its change.
    let after = bundle_fragment(&app, &buy_id).await;
    assert!(after.contains(TITLE), "{after}");
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/settings?saved=offers").await;
    assert!(
        page.contains("Fixed offers saved") && page.contains("data-change=\"offers\""),
        "{page}"
    );
    assert!(page.contains(&format!("data-offer=\"{TITLE}\"")), "{page}");

    // An unknown product and a bad discount: 400 naming the value; nothing stored.
    let resp = post(
        &app,
        &me.cookie,
        "offers",
        &[
            ("csrf", &me.csrf),
            ("action", "add"),
            ("title", "X"),
            ("buy", "SRD-10O*2"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 400);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("SRD-10O") && body.contains("did you mean"),
        "{body}"
    );
    // Refused with the value and the fix, in English (this test's language cookie) and in the
    // dashboard's default language (the session cookie alone).
    for (cookie, fix) in [
        (me.cookie.as_str(), "use a percentage from 0 to 99"),
        (me.session(), "pakai persentase 0 sampai 99"),
    ] {
        let resp = post(
            &app,
            cookie,
            "offers",
            &[
                ("csrf", &me.csrf),
                ("action", "add"),
                ("title", "X"),
                ("buy", &buy_id),
                ("discount_pct", "150"),
            ],
        )
        .await;
        assert_eq!(resp.status(), 400);
        let body = resp.text().await.unwrap();
        assert!(body.contains("150") && body.contains(fix), "{body}");
    }
    let resp = post(
        &app,
        &me.cookie,
        "offers",
        &[("csrf", "wrong"), ("action", "reset")],
    )
    .await;
    assert_eq!(
        resp.status(),
        403,
        "a form without the session's token changes nothing"
    );
    assert_eq!(app.store.settings_changes(&shop, 10).unwrap().len(), 1);

    // Still there after a restart on the same store.
    let settings = laris::config::Settings::from_toml(
        &crate::admin::admin_config_text(),
        std::path::Path::new("admin-test.toml"),
        &[],
    )
    .unwrap();
    let data = app.stop_keeping_data().await;
    let app = spawn_app_in(settings, data).await;
    assert!(bundle_fragment(&app, &buy_id).await.contains(TITLE));
    app.stop().await;
}

#[tokio::test]
async fn a_slot_switched_off_or_renamed_changes_the_widget_and_reset_brings_it_back() {
    let app = spawn_admin_app().await;
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let before = bundle_fragment(&app, "SRD-100").await;
    assert!(before.contains("Sering dibeli bersama"), "{before}");
    let loyalty_path = "/v1/shops/lengkuas/fragments/loyalty?product=SRD-100";
    let loyalty = app.get(loyalty_path).await.text().await.unwrap();
    assert!(
        !loyalty.trim().is_empty(),
        "the ladder shows before the slot is off"
    );
    let on = |slot: &'static str| (format!("on_{slot}"), "on".to_string());
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), me.csrf.clone()),
        ("action".into(), "set".into()),
        ("title_bundle".into(), "Paket hemat".into()),
    ];
    form.extend(["similar", "upsell", "bundle", "for_you"].map(on));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(post(&app, &me.cookie, "slots", &pairs).await.status(), 303);
    let renamed = bundle_fragment(&app, "SRD-100").await;
    assert!(
        renamed.contains("Paket hemat") && !renamed.contains("Sering dibeli bersama"),
        "{renamed}"
    );
    let loyalty = app.get(loyalty_path).await.text().await.unwrap();
    assert_eq!(loyalty.trim(), "", "the loyalty slot is off");

    let reset = [("csrf", me.csrf.as_str()), ("action", "reset")];
    assert_eq!(post(&app, &me.cookie, "slots", &reset).await.status(), 303);
    assert!(bundle_fragment(&app, "SRD-100")
        .await
        .contains("Sering dibeli bersama"));
    let changes = app
        .store
        .settings_changes(&ShopId::parse("lengkuas").unwrap(), 10)
        .unwrap();
    assert_eq!(changes.len(), 2);
    assert!(
        changes[0].summary.contains("reset"),
        "newest first: {:?}",
        changes[0]
    );
    app.stop().await;
}
