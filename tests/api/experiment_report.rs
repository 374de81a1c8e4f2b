//! The holdout experiment's report: events of visitors in both arms sent through the
//! events endpoint, then the JSON report's numbers, the page, the sample-ratio warning and
//! the shop without an experiment.

use std::path::Path;

use laris::experiment::assign::{arm, Arm};
use laris::store::ShopStore;
use serde_json::{json, Value};

use crate::admin::{admin_config_text, client, get_page, sign_in, OTHER, OWNER_PW};
use crate::helpers::{spawn_app_with, TestApp, TOKEN};

/// The experiment's salt: the default, `{shop}/{name}`.
const SALT: &str = "lengkuas/report";

/// The admin test shops, `lengkuas` with a 50% holdout.
async fn spawn() -> TestApp {
    let text = admin_config_text().replacen(
        &format!("\n[[shops]]\nid = \"{OTHER}\""),
        &format!("[shops.experiment]\nholdout_pct = 50\nname = \"report\"\n\n[[shops]]\nid = \"{OTHER}\""),
        1,
    );
    let settings = laris::config::Settings::from_toml(&text, Path::new("report-test.toml"), &[]).unwrap();
    assert_eq!(settings.shops[0].experiment.as_ref().unwrap().holdout_pct, 50);
    assert!(settings.shops[1].experiment.is_none());
    spawn_app_with(settings).await
}

/// `n` visitor ids (as the widget makes them) in `want`, distinct per `tag`.
fn visitors(want: Arm, n: usize, tag: u128) -> Vec<String> {
    (0u128..)
        .map(|i| format!("{:032x}", (tag << 64) | i))
        .filter(|v| arm(v, SALT, 50) == want)
        .take(n)
        .collect()
}

/// Sends widget events, waiting when the per-address event limit says so (bounded).
async fn post(app: &TestApp, body: Value) {
    for _ in 0..30 {
        let r = app
            .http
            .post(format!("{}/v1/shops/lengkuas/events", app.base))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        if status == 429 {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            continue;
        }
        assert!(
            (200..300).contains(&status),
            "{status}: {}",
            r.text().await.unwrap()
        );
        return;
    }
    panic!("the events endpoint kept answering 429");
}

/// Each visitor views a product; the first `buyers` buy one order of `total` rupiah (the
/// first of them also reports the same order twice, which counts once).
async fn visit(app: &TestApp, visitors: &[String], buyers: usize, total: i64) {
    for (i, v) in visitors.iter().enumerate() {
        let view = json!({"type": "impression", "slot": "similar", "product": "SRD-100"});
        post(app, json!({"events": [view], "visitor": v})).await;
        if i < buyers {
            let purchase = json!({"type": "purchase", "order": format!("INV-{v}"), "total": total, "items": ["SRD-100"], "visitor": v});
            post(app, purchase.clone()).await;
            if i == 0 {
                post(app, purchase).await;
            }
        }
    }
}

async fn report(app: &TestApp, shop: &str) -> Value {
    let r = client()
        .get(format!("{}/admin/api/shops/{shop}/experiment", app.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_report_counts_each_arms_visitors_and_purchases_exactly() {
    let app = spawn().await;
    let control = visitors(Arm::Control, 12, 1);
    let treatment = visitors(Arm::Treatment, 14, 2);
    visit(&app, &control, 3, 100_000).await;
    visit(&app, &treatment, 7, 150_000).await;
    // A purchase without a visitor id cannot be tied to an arm: counted, left out.
    post(
        &app,
        json!({"type": "purchase", "order": "INV-anon", "total": 5_000}),
    )
    .await;

    let r = report(&app, "lengkuas").await;
    assert_eq!(r["state"], "ready", "{r}");
    assert_eq!(r["experiment"]["holdout_pct"], 50);
    assert_eq!(r["experiment"]["name"], "report");
    assert_eq!(r["attribution_window_hours"], 72);
    let a = &r["analysis"];
    assert_eq!(a["control"]["visitors"], 12);
    assert_eq!(a["treatment"]["visitors"], 14);
    assert_eq!(a["control"]["converting_visitors"], 3);
    assert_eq!(a["treatment"]["converting_visitors"], 7);
    assert_eq!(a["control"]["conversion_rate"], 0.25);
    assert_eq!(a["treatment"]["conversion_rate"], 0.5);
    assert_eq!(a["control"]["orders"], 3, "the order reported twice counts once");
    assert_eq!(a["control"]["average_order_value"], 100_000);
    assert_eq!(a["treatment"]["revenue"], 7 * 150_000);
    assert_eq!(a["treatment"]["revenue_per_visitor"], 75_000);
    assert_eq!(a["sample_ratio"]["mismatch"], false);
    let diff = a["conversion_rate"]["difference"].as_f64().unwrap();
    assert!((diff - 0.25).abs() < 1e-12, "{diff}");
    assert!(r["untied"]["purchases"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(r["untied"]["visitors_in_both_arms"], 0);
    // No visitor id ends up in the report.
    let text = r.to_string();
    assert!(!text.contains(&control[0]) && !text.contains(&treatment[0]));

    let me = sign_in(&app, "admin", OWNER_PW).await;
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/experiment").await;
    assert!(
        !page.contains("data-state=\"not_enough_data\""),
        "ready: no state notice"
    );
    assert!(
        !page.contains("data-srm=\"mismatch\""),
        "a fitting split has no warning"
    );
    assert!(page.contains("data-srm=\"fine\""));
    assert!(
        page.contains("<td class=\"num\" data-col=\"visitors\">12</td>"),
        "{page}"
    );
    assert!(page.contains("<td class=\"num\" data-col=\"converting\">7</td>"));
    assert!(page.contains("Rp75.000"), "revenue per visitor in rupiah");
    assert!(page.contains("An interval that contains 0 means there is no evidence of an effect"));
    assert!(page.contains("stopping at the first significant day"));
    assert!(
        page.contains("aria-current=\"page\">Experiment</a>"),
        "the navigation marks the page"
    );
    assert!(!page.contains(&control[0]), "no visitor id on the page");
    // Indonesian by default.
    let id = get_page(&app, me.session(), "/admin/shops/lengkuas/experiment").await;
    assert!(id.contains("Eksperimen") && id.contains("Pengunjung"), "{id}");
    app.stop().await;
}

#[tokio::test]
async fn a_skewed_split_shows_the_sample_ratio_warning() {
    let app = spawn().await;
    visit(&app, &visitors(Arm::Control, 40, 3), 4, 50_000).await;
    visit(&app, &visitors(Arm::Treatment, 8, 4), 1, 50_000).await;
    let r = report(&app, "lengkuas").await;
    let a = &r["analysis"];
    assert_eq!(
        (
            a["control"]["visitors"].as_u64(),
            a["treatment"]["visitors"].as_u64()
        ),
        (Some(40), Some(8))
    );
    assert_eq!(a["sample_ratio"]["mismatch"], true, "{r}");
    assert!(a["sample_ratio"]["p_value"].as_f64().unwrap() < 0.001);

    let me = sign_in(&app, "admin", OWNER_PW).await;
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/experiment").await;
    assert!(page.contains("data-srm=\"mismatch\""), "{page}");
    assert!(page.contains("Warning: sample-ratio mismatch."));
    app.stop().await;
}

#[tokio::test]
async fn without_an_experiment_the_report_says_so() {
    let app = spawn().await;
    let r = report(&app, OTHER).await;
    assert_eq!(r["state"], "no_experiment");
    assert!(
        r["message"].as_str().unwrap().contains("[shops.experiment]"),
        "{r}"
    );
    assert_eq!(r["analysis"], Value::Null);

    // Few visitors: not enough data yet, still 200.
    visit(&app, &visitors(Arm::Control, 1, 5), 0, 0).await;
    let r = report(&app, "lengkuas").await;
    assert_eq!(r["state"], "not_enough_data", "{r}");
    assert_eq!(r["analysis"]["control"]["visitors"], 1);

    let me = sign_in(&app, "admin", OWNER_PW).await;
    let page = get_page(&app, &me.cookie, &format!("/admin/shops/{OTHER}/experiment")).await;
    assert!(
        page.contains("No experiment is configured for this shop"),
        "{page}"
    );
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/experiment").await;
    assert!(page.contains("data-state=\"not_enough_data\""), "{page}");
    // An unknown parameter is refused by name.
    let r = client()
        .get(format!("{}/admin/api/shops/lengkuas/experiment?day=1", app.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("day"));
    app.stop().await;
}

// ---- the demo's simulated experiment ----------------------------------------------------------

/// The demo shop as `config/laris.toml` seeds it: its recording, events and the simulated
/// experiment, with no `[shops.experiment]` (no live visitor is put in an arm).
fn demo_settings() -> laris::config::Settings {
    let text = admin_config_text().replacen(
        "allowed_origins",
        &format!(
            "seed_experiment = \"{}\"\nallowed_origins",
            crate::helpers::repo()
                .join("demo/lengkuas/experiment.json")
                .display()
        ),
        1,
    );
    laris::config::Settings::from_toml(&text, Path::new("demo-test.toml"), &[]).unwrap()
}

#[tokio::test]
async fn the_fresh_demo_reports_its_simulated_experiment_over_the_stopped_period() {
    let app = spawn_app_with(demo_settings()).await;
    let r = report(&app, "lengkuas").await;
    assert_eq!(r["state"], "ready", "{r}");
    let e = &r["experiment"];
    assert!(e["name"].as_str().unwrap().contains("simulasi"), "labelled: {e}");
    assert_eq!(e["holdout_pct"], 10);
    assert_eq!(e["stopped"], "2026-11-29T17:00:00Z", "a past period: {e}");
    assert_eq!(r["period"]["from"], "2026-11-01T17:00:00Z");
    assert_eq!(r["period"]["to"], e["stopped"]);
    let a = &r["analysis"];
    for arm in ["control", "treatment"] {
        assert!(a[arm]["visitors"].as_u64().unwrap() > 100, "{arm}: {a}");
        assert!(a[arm]["converting_visitors"].as_u64().unwrap() > 0, "{arm}: {a}");
    }
    let conv = &a["conversion_rate"];
    let (lo, hi) = (
        conv["ci95"][0].as_f64().unwrap(),
        conv["ci95"][1].as_f64().unwrap(),
    );
    assert!(
        lo < conv["difference"].as_f64().unwrap() && conv["difference"].as_f64().unwrap() < hi,
        "{conv}"
    );
    assert!(a["revenue_per_visitor_bootstrap"]["ci95"].is_array(), "{a}");
    let srm = &a["sample_ratio"];
    assert!(srm["p_value"].as_f64().unwrap() > 0.001, "{srm}");
    assert_eq!(srm["mismatch"], false);
    assert!(a["conversion_mde"]["absolute"].as_f64().unwrap() > 0.0, "{a}");
    // Every event of the period is tied to an arm: the other demo events end before it.
    assert_eq!(r["untied"]["events_without_visitor"], 0, "{r}");

    // The page says it stopped and shows both arms.
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/experiment").await;
    assert!(
        page.contains("simulasi") && page.contains("data-srm=\"fine\""),
        "{page}"
    );
    assert!(
        page.contains("data-arm=\"control\"") && page.contains("It stopped on"),
        "{page}"
    );
    app.stop().await;
}

#[test]
fn seeding_the_demos_experiment_twice_or_after_a_kill_does_not_double_it() {
    let settings = demo_settings();
    let shop = laris::domain::ShopId::parse("lengkuas").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = laris::store::Store::open(dir.path()).unwrap();
    let count = |store: &laris::store::Store| {
        let log = store.settings_changes(&shop, usize::MAX).unwrap();
        let entries = log.iter().filter(|c| c.section == "experiment").count();
        let visited = store
            .events(&shop)
            .unwrap()
            .iter()
            .filter(|e| e.arm.is_some())
            .count();
        (entries, visited)
    };
    laris::app::seed_empty_shops(&settings, &store).unwrap();
    let once = count(&store);
    assert_eq!(once.0, 2, "a start and a stop");
    assert!(once.1 > 3000, "{once:?}");
    laris::app::seed_empty_shops(&settings, &store).unwrap();
    assert_eq!(count(&store), once, "a second start adds nothing");
    // A start killed while seeding: the next one seeds again, to the same counts.
    store
        .set_seeding(&shop, laris::records::Seeding::Started)
        .unwrap();
    laris::app::seed_empty_shops(&settings, &store).unwrap();
    assert_eq!(count(&store), once, "resumed, not doubled");
}

#[tokio::test]
async fn visitors_who_only_load_the_widget_count_in_their_arm_once() {
    let app = spawn().await;
    // Pages whose only slots are recommendations: control's stay empty, so a control
    // visitor sends no beacon at all; the server's exposure counts them anyway, once.
    let control = visitors(Arm::Control, 5, 9);
    let treatment = visitors(Arm::Treatment, 4, 10);
    for v in control.iter().chain(&treatment) {
        for _ in 0..2 {
            let r = app
                .get(&format!(
                    "/v1/shops/lengkuas/fragments?slots=similar,upsell&product=SRD-100&visitor={v}"
                ))
                .await;
            assert_eq!(r.status(), 200);
        }
    }
    let r = app
        .get(&format!("/v1/shops/lengkuas/arm?visitor={}", control[0]))
        .await;
    assert_eq!(r.status(), 200);
    let buy =
        |v: &str| json!({"type": "purchase", "order": format!("INV-{v}"), "total": 90_000, "visitor": v});
    post(&app, buy(&control[0])).await;
    post(&app, buy(&treatment[0])).await;

    // Exposures are written in the background: wait for them (bounded).
    let shop = laris::domain::ShopId::parse("lengkuas").unwrap();
    let exposures = || {
        app.store
            .events(&shop)
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == laris::records::EventKind::Exposure)
            .collect::<Vec<_>>()
    };
    for _ in 0..100 {
        if exposures().len() >= 9 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let found = exposures();
    assert_eq!(found.len(), 9, "one per visitor, not per request: {found:?}");
    assert!(found
        .iter()
        .all(|e| e.product.as_ref().map(|p| p.as_str()) == Some("SRD-100")));
    assert_eq!(
        found
            .iter()
            .filter(|e| e.arm.as_deref() == Some("control"))
            .count(),
        5
    );

    let r = report(&app, "lengkuas").await;
    let a = &r["analysis"];
    assert_eq!(a["control"]["visitors"], 5, "{r}");
    assert_eq!(a["treatment"]["visitors"], 4, "{r}");
    assert_eq!(a["control"]["converting_visitors"], 1);
    assert_eq!(a["treatment"]["converting_visitors"], 1);

    // Exposures are bookkeeping, not widget activity: the performance figures leave them out.
    let all = app.store.events(&shop).unwrap();
    let summary = laris::admin::analytics::EventSummary::of(&all);
    assert_eq!(summary.events, all.len() - 9, "every event but the exposures");
    app.stop().await;
}

#[tokio::test]
async fn an_experiment_switched_off_with_a_zero_holdout_still_reports_the_last_stopped_one() {
    let text = admin_config_text()
        .replacen(
            "allowed_origins",
            &format!(
                "seed_experiment = \"{}\"\nallowed_origins",
                crate::helpers::repo()
                    .join("demo/lengkuas/experiment.json")
                    .display()
            ),
            1,
        )
        .replacen(
            &format!("\n[[shops]]\nid = \"{OTHER}\""),
            &format!("[shops.experiment]\nholdout_pct = 0\nname = \"next\"\n\n[[shops]]\nid = \"{OTHER}\""),
            1,
        );
    let settings = laris::config::Settings::from_toml(&text, Path::new("off-test.toml"), &[]).unwrap();
    assert_eq!(settings.shops[0].experiment.as_ref().unwrap().holdout_pct, 0);
    let app = spawn_app_with(settings).await;
    let r = report(&app, "lengkuas").await;
    assert_eq!(r["state"], "ready", "{r}");
    assert!(
        r["experiment"]["name"].as_str().unwrap().contains("simulasi"),
        "{r}"
    );
    assert_eq!(r["experiment"]["stopped"], "2026-11-29T17:00:00Z");
    app.stop().await;
}
