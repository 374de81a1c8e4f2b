//! The service on PostgreSQL through a database outage, end to end: the database is
//! stopped under a running service and started again. Widgets keep answering from the
//! model in memory, the admin API and pages answer 503 saying Laris retries by itself,
//! widget events are held in memory (and dropped and counted once the queue is full), and
//! after the restart everything answers again and the held events are stored in order.

use std::path::Path;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, SaltString};

use crate::app::Application;
use crate::config::Settings;
use crate::domain::ShopId;
use crate::store::postgres::testing::OwnServer;

const TOKEN: &str = "outage-admin-token-0123456789";
const PASSWORD: &str = "outage-owner-password";

fn cheap_hash(plain: &str) -> String {
    let params = argon2::Params::new(8, 1, 1, None).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon.hash_password(plain.as_bytes(), &salt).unwrap().to_string()
}

fn settings(url: &str) -> Settings {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = format!(
        r#"
[server]
event_buffer = 6
[store]
backend = "postgres"
url = "{url}"
[admin]
token = "{TOKEN}"
password_hash = "{hash}"
[[shops]]
id = "lengkuas"
name = "Lengkuas Nusantara"
seed_recording = "{rec}"
allowed_origins = ["*"]
customer_secret = "outage-customer-secret-0123456789"
"#,
        hash = cheap_hash(PASSWORD),
        rec = repo.join("demo/lengkuas/recording").display(),
    );
    Settings::from_toml(&text, Path::new("outage.toml"), &[]).expect("the outage test config is valid")
}

fn beacon(items: &[&str]) -> serde_json::Value {
    let events: Vec<serde_json::Value> = items
        .iter()
        .map(|item| serde_json::json!({"type": "click", "slot": "similar", "product": "SRD-100", "item": item}))
        .collect();
    serde_json::json!({ "events": events })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_database_outage_widgets_answer_admin_is_503_and_events_wait_in_memory() {
    let server = OwnServer::start();
    let dir = tempfile::tempdir().unwrap();
    let app = Application::build(
        settings(&server.url()),
        dir.path(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let base = format!("http://{}", app.local_addr());
    let store = app.state().store.clone();
    let shop = ShopId::parse("lengkuas").unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| http.get(format!("{base}{path}")).bearer_auth(TOKEN).send();
    let fragment = "/v1/shops/lengkuas/fragments/similar?product=SRD-100";
    let api = "/admin/api/shops/lengkuas/products";
    let send_events = |items: &[&str]| {
        http.post(format!("{base}/v1/shops/lengkuas/events"))
            .json(&beacon(items))
            .send()
    };

    let login = http
        .post(format!("{base}/admin/login"))
        .form(&[("user", "admin"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let session = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let cookie = format!("{session}; laris_lang=en");
    let shown = get(fragment).await.unwrap();
    assert_eq!(shown.status(), 200);
    let shown = shown.text().await.unwrap();
    assert_eq!(get(api).await.unwrap().status(), 200);
    let before = store.events(&shop).unwrap().len();

    tokio::task::block_in_place(|| server.stop());

    // Widgets answer from the model in memory.
    let up = get(fragment).await.unwrap();
    assert_eq!(up.status(), 200);
    assert_eq!(up.text().await.unwrap(), shown, "the same fragment as before");
    // The admin API: 503 JSON saying what happened and that Laris retries, never 500.
    let resp = get(api).await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "5");
    let body: serde_json::Value = resp.json().await.unwrap();
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("database is unreachable") && error.contains("retries by itself"),
        "{error}"
    );
    assert!(!error.contains("127.0.0.1"), "no host shown to clients: {error}");
    // An admin page: 503 HTML with the same news, in the viewer's language.
    let resp = http
        .get(format!("{base}/admin/shops/lengkuas/products"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("The database is unreachable right now. Laris retries by itself"),
        "{page}"
    );

    // Events: held in memory and said so, until the queue (6 events) is full.
    for items in [["E1", "E2"], ["E3", "E4"]] {
        let resp = send_events(&items).await.unwrap();
        assert_eq!(resp.status(), 202);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body, serde_json::json!({"accepted": 2, "buffered": true}));
    }
    let resp = send_events(&["E5", "E6", "E7"]).await.unwrap();
    assert_eq!(resp.status(), 503, "4 held + 3 > 6: dropped whole");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("3 events were dropped"),
        "{body}"
    );
    assert_eq!(get(fragment).await.unwrap().status(), 200);
    let metrics = get("/metrics").await.unwrap();
    assert_eq!(metrics.status(), 200, "metrics answer without the store");
    let metrics = metrics.text().await.unwrap();
    for line in [
        "laris_store_up 0",
        "laris_events_buffered 4",
        "laris_events_dropped_total 3",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }

    tokio::task::block_in_place(|| server.start_again());

    // Everything recovers by itself: the pool reconnects, the queue is flushed in order.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = get(api).await.unwrap().status();
        if status == 200 {
            break;
        }
        assert_eq!(status, 503);
        assert!(Instant::now() < deadline, "the admin API did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let items = loop {
        let s = store.clone();
        let shop = shop.clone();
        let events = tokio::task::spawn_blocking(move || s.events(&shop))
            .await
            .unwrap()
            .unwrap();
        if events.len() >= before + 4 {
            break events[before..]
                .iter()
                .map(|e| e.item.as_ref().unwrap().to_string())
                .collect::<Vec<_>>();
        }
        assert!(Instant::now() < deadline, "the held events were not written");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        items,
        ["E1", "E2", "E3", "E4"],
        "stored once, in order; the dropped ones not"
    );
    let resp = send_events(&["E8"]).await.unwrap();
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"accepted": 1})
    );
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    for line in [
        "laris_store_up 1",
        "laris_events_buffered 0",
        "laris_events_dropped_total 3",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
    assert_eq!(get(fragment).await.unwrap().status(), 200);

    let _ = stop.send(());
    running.await.unwrap().unwrap();
}
