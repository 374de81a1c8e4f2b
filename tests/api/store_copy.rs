//! `laris store copy`: the demo shop, with its seeded data, events, feedback, a settings
//! change, a sync report and quarantined records, moved to another sled store by the real
//! binary; the copy compares equal, a second copy into it is refused writing nothing, a
//! running service's store is refused, and a service started on the copy serves what the
//! original serves.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use laris::domain::{ProductId, ShopId};
use laris::records::{Feedback, FeedbackStatus, QuarantineReason, Quarantined, RecordKind, SettingsChange};
use laris::store::copy::{content_fingerprint, CopyReport};
use laris::store::{ImportBatch, ShopStore, Store};

use crate::helpers::{spawn_app, spawn_app_in, test_settings, TestApp, TOKEN};

fn copy(from: &Path, to: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_laris"));
    c.args(["store", "copy"])
        .arg(format!("--from=sled:{}", from.display()))
        .arg(format!("--to=sled:{}", to.display()))
        // No config file is needed.
        .arg("--config")
        .arg(to.with_extension("none.toml"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    c
}

/// Runs the copy, waiting (bounded) while this process's just-closed store still holds
/// sled's lock: sled lets go of it from a background thread.
fn copy_when_released(from: &Path, to: &Path) -> Output {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = copy(from, to).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if !err.contains("held by another laris process") || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn open_when_released(dir: &Path) -> Store {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Store::open(dir) {
            Ok(store) => return store,
            Err(e) if Instant::now() < deadline && e.to_string().contains("held by another") => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("the store does not open: {e}"),
        }
    }
}

async fn admin_json(app: &TestApp, path: &str) -> serde_json::Value {
    let resp = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "GET {path}");
    resp.json().await.unwrap()
}

/// What a shop owner and a shopper see, for comparing two services.
async fn what_it_serves(app: &TestApp) -> Vec<String> {
    let mut seen = vec![admin_json(app, "/admin/api/status?shop=lengkuas")
        .await
        .to_string()];
    for path in [
        "/v1/shops/lengkuas/recommendations?product=SRD-100",
        "/v1/shops/lengkuas/recommendations?product=TPG-100&cart=SRD-100",
        "/v1/shops/lengkuas/fragments/bundle?product=SRD-100",
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        // Links name the service's own address, which differs between the two.
        let text = resp.text().await.unwrap();
        let escaped = app.base.replace('/', "&#x2f;");
        seen.push(text.replace(&escaped, "BASE").replace(&app.base, "BASE"));
    }
    seen
}

#[tokio::test]
async fn the_demo_shop_copied_by_laris_store_copy_is_equal_and_served_the_same() {
    let app = spawn_app().await;
    let shop = ShopId::parse("lengkuas").unwrap();
    let store = &app.store;
    assert!(store.event_count(&shop).unwrap() > 0, "seeded with events");
    assert!(
        !store.sync_reports(&shop, 10).unwrap().is_empty(),
        "the seeding replay's report"
    );
    let mut f = Feedback {
        id: 0,
        at: chrono::Utc::now(),
        message: "Kirim lebih cepat ya".into(),
        contact: Some("0812-0000-1111".into()),
        page: None,
        product: Some("SRD-100".into()),
        status: FeedbackStatus::New,
    };
    let id = store.put_feedback(&shop, &mut f).unwrap();
    store
        .set_feedback_status(&shop, id, FeedbackStatus::Answered)
        .unwrap();
    store
        .put_feedback(
            &shop,
            &mut Feedback {
                id: 0,
                message: "Enak".into(),
                ..f
            },
        )
        .unwrap();
    let overlay = laris::config::overlay::SettingsOverlay {
        exclude: Some(vec![ProductId::parse("TPG-100").unwrap()]),
        ..Default::default()
    };
    let mut change = SettingsChange {
        id: 0,
        at: chrono::Utc::now(),
        user: "admin".into(),
        section: "exclusions".into(),
        summary: "excluded TPG-100".into(),
        old: "null".into(),
        new: "[\"TPG-100\"]".into(),
    };
    store
        .put_settings_change(&shop, &laris::config::overlay::encode(&overlay), &mut change)
        .unwrap();
    let mut batch = ImportBatch::new(&shop);
    batch.quarantine(Quarantined {
        at: chrono::Utc::now(),
        kind: RecordKind::Order,
        origin: "penjualan.csv row 9".into(),
        reason: QuarantineReason::invalid(
            "Jumlah Produk Dibeli",
            "Jumlah Produk Dibeli \"dua\" is not a number",
        ),
        record: "{\"Nomor Invoice\":\"INV/X\"}".into(),
        subject: Some("INV/X".into()),
    });
    store.apply(batch).unwrap();
    let source = app.stop_keeping_data().await;
    let target = tempfile::tempdir().unwrap();
    let into = target.path().to_path_buf();

    let out = copy_when_released(source.path(), &into);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("lengkuas:\n  products 10/10"), "{stdout}");
    assert!(stdout.contains("  lengkuas: equal — 10 products"), "{stdout}");
    assert!(stdout.contains("equal: sled:"), "{stdout}");

    // Into a store that holds the shop now: refused, nothing written (the comparison
    // below would count every event twice).
    let again = copy_when_released(source.path(), &into);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert!(
        err.contains("already holds data of shop lengkuas") && err.contains("nothing was written"),
        "{err}"
    );

    {
        let (from, to) = (open_when_released(source.path()), open_when_released(&into));
        let report = CopyReport::compare(&from, &to, std::slice::from_ref(&shop)).unwrap();
        assert!(report.equal(), "{}", report.shops[0].to_text());
        assert!(
            !to.model_stale(&shop).unwrap(),
            "the copied model is served as is"
        );
        assert_eq!(to.products(&shop).unwrap(), from.products(&shop).unwrap());
        assert_eq!(to.orders(&shop).unwrap(), from.orders(&shop).unwrap());
        assert_eq!(to.customers(&shop).unwrap(), from.customers(&shop).unwrap());
        assert_eq!(to.events(&shop).unwrap(), from.events(&shop).unwrap());
        assert_eq!(to.feedback(&shop).unwrap()[1].status, FeedbackStatus::Answered);
        assert_eq!(
            content_fingerprint(&to, &shop).unwrap().fingerprint_hex(),
            content_fingerprint(&from, &shop).unwrap().fingerprint_hex()
        );
    }

    // Both served: the same status, recommendations and fragments.
    let original = spawn_app_in(test_settings(), source).await;
    let copied = spawn_app_in(test_settings(), target).await;
    let (a, b) = (what_it_serves(&original).await, what_it_serves(&copied).await);
    assert_eq!(a, b);
    assert!(a[0].contains("\"model_stale\":false"), "{}", a[0]);

    // A running service's store is refused, naming the way out.
    let elsewhere = tempfile::tempdir().unwrap();
    let other = elsewhere.path().join("other");
    let held = copy(original.data_dir(), &other).output().unwrap();
    let err = String::from_utf8_lossy(&held.stderr);
    assert!(!held.status.success());
    assert!(err.contains("stop the `laris serve` that holds it"), "{err}");
    assert!(!other.exists(), "no target created");
    original.stop().await;
    copied.stop().await;
}
