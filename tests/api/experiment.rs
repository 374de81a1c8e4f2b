//! The holdout experiment's serving side: the batched fragment request with a visitor id,
//! with and without an experiment (the same bytes as before without one), what each arm
//! sees, beacons stored with the arm the server decides, and purchase events checked.

use laris::config::Settings;
use laris::domain::ShopId;
use laris::experiment::assign::{arm, Arm};
use laris::records::{Event, EventKind};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, test_config_text, TestApp};

const SALT: &str = "lengkuas/t";
const PCT: u8 = 50;
const PAGE: &str = "/v1/shops/lengkuas/fragments?slots=similar,upsell,bundle,loyalty&product=SRD-100";

fn shop() -> ShopId {
    ShopId::parse("lengkuas").unwrap()
}

fn with_experiment(control: &str) -> Settings {
    let text = format!(
        "{}[shops.experiment]\nholdout_pct = {PCT}\nname = \"t\"\ncontrol = \"{control}\"\n",
        test_config_text()
    );
    Settings::from_toml(&text, std::path::Path::new("t.toml"), &[]).unwrap()
}

/// A visitor id (as the widget makes them) in `want` under the tests' experiment.
fn visitor_in(want: Arm) -> String {
    (0u128..)
        .map(|i| {
            format!(
                "{:032x}",
                i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
            )
        })
        .find(|v| arm(v, SALT, PCT) == want)
        .unwrap()
}

struct Answer {
    status: u16,
    arm: Option<String>,
    expose: Option<String>,
    body: Vec<u8>,
}

async fn get(app: &TestApp, path: &str) -> Answer {
    let r = app.get(path).await;
    let header = |n: &str| r.headers().get(n).map(|v| v.to_str().unwrap().to_string());
    Answer {
        status: r.status().as_u16(),
        arm: header("laris-arm"),
        expose: header("access-control-expose-headers"),
        body: r.bytes().await.unwrap().to_vec(),
    }
}

fn fragments(body: &[u8]) -> Value {
    serde_json::from_slice::<Value>(body).unwrap()["fragments"].clone()
}

#[tokio::test]
async fn without_an_experiment_a_visitor_id_changes_nothing() {
    let app = spawn_app().await;
    let v = visitor_in(Arm::Control);
    let before = get(&app, PAGE).await;
    assert_eq!(before.status, 200);
    // From the prepared answers and from the route table (an unknown parameter).
    for path in [
        format!("{PAGE}&visitor={v}"),
        format!("{PAGE}&visitor={v}&fresh=1"),
    ] {
        let with = get(&app, &path).await;
        assert_eq!(with.status, 200, "{path}");
        assert_eq!(with.body, before.body, "{path}");
        assert_eq!((with.arm, with.expose), (None, None), "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_control_arm_sees_no_recommendations_and_the_treatment_arm_the_usual_answer() {
    let app = spawn_app_with(with_experiment("nothing")).await;
    let plain = get(&app, PAGE).await;
    assert_eq!(plain.arm, None, "no visitor id: not in the experiment");
    let usual = fragments(&plain.body);
    for slot in ["similar", "upsell", "bundle", "loyalty"] {
        assert!(usual[slot].as_str().unwrap().contains("laris"), "{slot}: {usual}");
    }
    let t = visitor_in(Arm::Treatment);
    let c = visitor_in(Arm::Control);
    for fresh in ["", "&fresh=1"] {
        let treated = get(&app, &format!("{PAGE}&visitor={t}{fresh}")).await;
        assert_eq!(treated.status, 200);
        assert_eq!(treated.arm.as_deref(), Some("treatment"));
        assert_eq!(treated.expose.as_deref(), Some("laris-arm"));
        assert_eq!(
            treated.body, plain.body,
            "treatment sees what everyone saw before"
        );

        let held = get(&app, &format!("{PAGE}&visitor={c}{fresh}")).await;
        assert_eq!(held.status, 200);
        assert_eq!(held.arm.as_deref(), Some("control"));
        let f = fragments(&held.body);
        for slot in ["similar", "upsell", "bundle"] {
            assert_eq!(f[slot], "", "{slot} is empty for control");
        }
        assert_eq!(f["loyalty"], usual["loyalty"], "loyalty is not a recommendation");
    }
    // Another control visitor gets the same kept answer: two variants per query, not one
    // per visitor.
    let other = (0u128..)
        .map(|i| format!("{:032x}", i + 77))
        .find(|v| arm(v, SALT, PCT) == Arm::Control && *v != c)
        .unwrap();
    let before = app.prepared.usage().0;
    let again = get(&app, &format!("{PAGE}&visitor={other}")).await;
    assert_eq!(again.arm.as_deref(), Some("control"));
    assert_eq!(app.prepared.usage().0, before);
    app.stop().await;
}

#[tokio::test]
async fn the_control_arm_can_see_best_sellers_instead() {
    let app = spawn_app_with(with_experiment("best_sellers")).await;
    let c = visitor_in(Arm::Control);
    let usual = fragments(&get(&app, PAGE).await.body);
    for fresh in ["", "&fresh=1"] {
        let held = get(&app, &format!("{PAGE}&visitor={c}{fresh}&lang=en")).await;
        assert_eq!(held.arm.as_deref(), Some("control"));
        let f = fragments(&held.body);
        let similar = f["similar"].as_str().unwrap();
        assert!(similar.contains("Best sellers"), "{similar}");
        assert!(similar.contains("data-laris-item"), "{similar}");
        assert!(
            !similar.contains("data-laris-item=\"SRD-100\""),
            "never the viewed product"
        );
        assert_eq!(
            f["upsell"].as_str().unwrap().matches("data-laris-item").count(),
            similar.matches("data-laris-item").count()
        );
        assert_eq!(f["bundle"], "", "a bundle is a recommendation: none for control");
    }
    assert!(!usual["similar"].as_str().unwrap().contains("Produk terlaris"));
    app.stop().await;
}

#[tokio::test]
async fn a_visitor_id_the_widget_does_not_make_is_refused_by_name() {
    let app = spawn_app_with(with_experiment("nothing")).await;
    for bad in ["abc", "0123456789ABCDEF0123456789ABCDEF", "x'%3Cscript%3E"] {
        for fresh in ["", "&fresh=1"] {
            let r = app.get(&format!("{PAGE}&visitor={bad}{fresh}")).await;
            assert_eq!(r.status(), 400, "{bad}");
            let msg = r.json::<Value>().await.unwrap()["error"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(msg.contains("32 lowercase hex"), "{msg}");
        }
    }
    let r = app.get(&format!("{PAGE}&visitor=abc")).await;
    assert!(r.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("\"abc\""));
    app.stop().await;
}

async fn post(app: &TestApp, body: Value) -> (u16, Value) {
    let r = app
        .http
        .post(format!("{}/v1/shops/lengkuas/events", app.base))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn stored_after(app: &TestApp, skip: usize) -> Vec<Event> {
    app.store
        .events(&shop())
        .unwrap()
        .into_iter()
        .skip(skip)
        .collect()
}

#[tokio::test]
async fn beacons_are_stored_with_the_arm_the_server_decides() {
    let app = spawn_app_with(with_experiment("nothing")).await;
    let seeded = app.store.events(&shop()).unwrap().len();
    let c = visitor_in(Arm::Control);
    let t = visitor_in(Arm::Treatment);
    let click = json!({"type": "click", "slot": "similar", "product": "SRD-100", "item": "TPG-100"});
    // A body claiming another arm is not believed.
    let (s, _) = post(&app, json!({"events": [click], "visitor": c, "arm": "treatment"})).await;
    assert_eq!(s, 202);
    let (s, _) = post(
        &app,
        json!({"type": "impression", "slot": "similar", "product": "SRD-100", "visitor": t}),
    )
    .await;
    assert_eq!(s, 202);
    // No visitor id (data-no-tracking): stored, without an arm.
    let (s, _) = post(&app, click.clone()).await;
    assert_eq!(s, 202);
    let got: Vec<(EventKind, Option<String>, Option<String>)> = stored_after(&app, seeded)
        .into_iter()
        .map(|e| (e.kind, e.visitor, e.arm))
        .collect();
    assert_eq!(
        got,
        [
            (EventKind::Click, Some(c.clone()), Some("control".into())),
            (EventKind::Impression, Some(t), Some("treatment".into())),
            (EventKind::Click, None, None),
        ]
    );
    let (s, body) = post(&app, json!({"events": [click], "visitor": "not-an-id"})).await;
    assert_eq!(s, 400);
    let msg = body["error"].as_str().unwrap();
    assert!(
        msg.contains("\"not-an-id\"") && msg.contains("32 lowercase hex"),
        "{msg}"
    );
    app.stop().await;

    // A shop without an experiment keeps no visitor id.
    let app = spawn_app().await;
    let seeded = app.store.events(&shop()).unwrap().len();
    let (s, _) = post(&app, json!({"events": [click], "visitor": c})).await;
    assert_eq!(s, 202);
    let e = &stored_after(&app, seeded)[0];
    assert_eq!((e.visitor.as_deref(), e.arm.as_deref()), (None, None));
    app.stop().await;
}

#[tokio::test]
async fn purchases_are_checked_and_stored_with_order_total_items_and_arm() {
    let app = spawn_app_with(with_experiment("nothing")).await;
    let seeded = app.store.events(&shop()).unwrap().len();
    let c = visitor_in(Arm::Control);
    let (s, body) = post(
        &app,
        json!({"type": "purchase", "order": "INV-1001", "total": 150000, "items": ["SRD-100", "TPG-100"], "visitor": c}),
    )
    .await;
    assert_eq!(s, 202, "{body}");
    let e = &stored_after(&app, seeded)[0];
    assert_eq!(e.kind, EventKind::Purchase);
    assert_eq!(e.order.as_deref(), Some("INV-1001"));
    assert_eq!(e.total, Some(laris::domain::Rupiah(150_000)));
    let items: Vec<&str> = e.items.iter().map(|i| i.as_str()).collect();
    assert_eq!(items, ["SRD-100", "TPG-100"]);
    assert_eq!(e.arm.as_deref(), Some("control"));

    let long = "A".repeat(65);
    for (bad, names) in [
        (
            json!({"type": "purchase", "order": "INV-1", "total": -1}),
            "total -1",
        ),
        (
            json!({"type": "purchase", "order": "INV-1", "total": 1500.5}),
            "total 1500.5",
        ),
        (
            json!({"type": "purchase", "order": "INV-1", "total": "150000"}),
            "total \"150000\"",
        ),
        (json!({"type": "purchase", "order": "INV-1"}), "needs total"),
        (json!({"type": "purchase", "total": 1}), "needs order"),
        (
            json!({"type": "purchase", "order": long, "total": 1}),
            "1 to 64 characters",
        ),
        (
            json!({"type": "purchase", "order": "INV-1", "total": 1, "items": [""]}),
            "product",
        ),
        (
            json!({"type": "click", "slot": "similar", "order": "INV-1"}),
            "with type \"purchase\"",
        ),
    ] {
        let (s, body) = post(&app, bad.clone()).await;
        assert_eq!(s, 400, "{bad}");
        let msg = body["error"].as_str().unwrap();
        assert!(msg.contains(names), "{bad}: {msg}");
    }
    assert_eq!(stored_after(&app, seeded).len(), 1, "nothing bad was stored");
    app.stop().await;
}

#[tokio::test]
async fn the_arm_endpoint_tells_the_widget_whether_to_hold_space_before_any_slot() {
    let app = spawn_app_with(with_experiment("nothing")).await;
    let arm_of = |v: &str| format!("/v1/shops/lengkuas/arm?visitor={v}");
    let c = visitor_in(Arm::Control);
    let t = visitor_in(Arm::Treatment);
    for (v, want, held) in [(&c, "control", true), (&t, "treatment", false)] {
        let r = app.get(&arm_of(v)).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body, json!({"arm": want, "held": held}));
        // The same arm as the fragments answer gives the visitor.
        let page = get(&app, &format!("{PAGE}&visitor={v}")).await;
        assert_eq!(page.arm.as_deref(), Some(want));
    }
    let bad = app.get(&arm_of("XYZ")).await;
    assert_eq!(bad.status(), 400);
    let said = bad.text().await.unwrap();
    assert!(
        said.contains("XYZ") && said.contains("is not a visitor id"),
        "{said}"
    );
    let missing = app.get("/v1/shops/lengkuas/arm").await;
    assert_eq!(missing.status(), 400);
    assert!(missing.text().await.unwrap().contains("visitor is missing"));
    assert_eq!(
        app.get(&format!("/v1/shops/nope/arm?visitor={c}")).await.status(),
        404
    );
    app.stop().await;

    // Control sees best sellers: its slots are filled, so space is held.
    let app = spawn_app_with(with_experiment("best_sellers")).await;
    let body: Value = app.get(&arm_of(&c)).await.json().await.unwrap();
    assert_eq!(body, json!({"arm": "control", "held": false}));
    app.stop().await;

    // No experiment: no arm, nothing held.
    let app = spawn_app().await;
    let body: Value = app.get(&arm_of(&c)).await.json().await.unwrap();
    assert_eq!(body, json!({"arm": null, "held": false}));
    app.stop().await;
}
