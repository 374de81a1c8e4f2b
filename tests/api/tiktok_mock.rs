//! The demo shop synced as TikTok Shop from `laris mock-marketplace` serving
//! `demo/lengkuas/tiktok-recording` (written by `examples/gen_demo_tiktok.rs`): the same
//! records as replaying that recording and the same counts as the legacy demo; replays that
//! change nothing the second time; a wrong app secret refused by the mock's signature check
//! and reported naming app_secret; an access token the mock does not know refreshed.

use std::path::{Path, PathBuf};

use chrono::Utc;
use laris::cli::mock_marketplace::tiktok::{
    DEFAULT_ACCESS_TOKEN, DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_REFRESH_TOKEN,
};
use laris::config::Settings;
use laris::domain::ShopId;
use laris::records::{Order, SyncReport};
use laris::store::{ShopStore, Store};
use laris::sync::agent::SyncOptions;
use laris::sync::tiktok_shop::{ORDER_SEARCH_PATH, TOKEN_REFRESH_PATH};

use crate::helpers::{repo, TOKEN};
use crate::sync::{agent, run_at, start_mock};

/// The recorded sync's clock (`examples/gen_demo_tiktok.rs`): 2026-11-02 00:00 WIB.
const RECORDED_AT: i64 = 1_793_552_400;
const DAY: i64 = 86_400;

fn tiktok_recording() -> PathBuf {
    repo().join("demo/lengkuas/tiktok-recording")
}

fn shop() -> ShopId {
    ShopId::parse("lengkuas").unwrap()
}

/// The demo shop with one `tiktok_shop` source at `base`, reaching `history_days` back.
fn settings(base: &str, secret: &str, access_token: &str, history_days: u32) -> Settings {
    let text = format!(
        r#"
[admin]
token = "{TOKEN}"
[[shops]]
id = "lengkuas"
[[shops.sources]]
kind = "tiktok_shop"
app_key = "{DEFAULT_APP_KEY}"
app_secret = "{secret}"
access_token = "{access_token}"
refresh_token = "{DEFAULT_REFRESH_TOKEN}"
shop_cipher = "ROW_lengkuasDemo"
base_url = "{base}"
auth_url = "{base}"
history_days = {history_days}
products_per_page = 100
orders_per_page = 100
http = {{ read_timeout_secs = 5, connect_timeout_secs = 2, backoff_ms = 10, retries = 2 }}
"#
    );
    Settings::from_toml(&text, Path::new("test.toml"), &[]).unwrap()
}

/// (purchases, their products total in rupiah).
fn purchases(orders: &[Order]) -> (usize, i64) {
    let bought: Vec<&Order> = orders.iter().filter(|o| o.is_purchase()).collect();
    (bought.len(), bought.iter().map(|o| o.products_total.0).sum())
}

fn changed(r: &SyncReport) -> u64 {
    r.products.inserted + r.products.updated + r.orders.inserted + r.orders.updated
}

fn replayed(dir: &Path, recording: &Path) -> Store {
    let store = Store::open(dir).unwrap();
    let report = laris::sync::replay::replay(&store, &shop(), recording).unwrap();
    assert!(report.ok, "{:?}", report.errors);
    store
}

#[tokio::test]
async fn tiktok_mock_the_demo_synced_through_the_mock_equals_its_recording_and_the_legacy_demo() {
    let tmp = tempfile::tempdir().unwrap();
    let from_recording = replayed(&tmp.path().join("replayed"), &tiktok_recording());
    let legacy = replayed(&tmp.path().join("legacy"), &crate::helpers::demo_recording());

    // On another clock than the recording's: every request is answered by the fallback.
    let server = start_mock(&tiktok_recording()).await;
    let store = Store::open(&tmp.path().join("live")).unwrap();
    let live = agent(
        settings(&server.base, DEFAULT_APP_SECRET, DEFAULT_ACCESS_TOKEN, 200),
        &store,
    );
    let run = live
        .sync_shop("lengkuas", &run_at(RECORDED_AT + 3 * DAY + 4321))
        .await
        .unwrap();
    let report = &run.reports[0];
    assert!(run.ok && report.ok, "{:?}", report.errors);
    assert_eq!(report.quarantined, 0);
    let served = server.mock.requests();
    assert!(
        served.iter().all(|s| s.status == 200 && s.seq.is_none()),
        "{served:?}"
    );

    assert_eq!(
        store.products(&shop()).unwrap(),
        from_recording.products(&shop()).unwrap()
    );
    assert_eq!(
        store.orders(&shop()).unwrap(),
        from_recording.orders(&shop()).unwrap()
    );
    let orders = store.orders(&shop()).unwrap();
    let legacy_orders = legacy.orders(&shop()).unwrap();
    assert_eq!(
        store.products(&shop()).unwrap().len(),
        legacy.products(&shop()).unwrap().len()
    );
    assert_eq!(orders.len(), legacy_orders.len());
    assert_eq!(purchases(&orders), purchases(&legacy_orders));
    assert_eq!(orders.len(), 600);

    // On the recording's clock: every search is answered by its recorded exchange.
    let server = start_mock(&tiktok_recording()).await;
    let exact = Store::open(&tmp.path().join("exact")).unwrap();
    let run = agent(
        settings(&server.base, DEFAULT_APP_SECRET, DEFAULT_ACCESS_TOKEN, 190),
        &exact,
    )
    .sync_shop("lengkuas", &run_at(RECORDED_AT))
    .await
    .unwrap();
    assert!(run.ok, "{:?}", run.reports[0].errors);
    let served = server.mock.requests();
    assert!(served.iter().all(|s| s.seq.is_some()), "{served:?}");
    assert_eq!(
        exact.orders(&shop()).unwrap(),
        from_recording.orders(&shop()).unwrap()
    );
}

#[tokio::test]
async fn tiktok_mock_replaying_a_tiktok_recording_again_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let store = replayed(&tmp.path().join("demo"), &tiktok_recording());
    let before = store.fingerprint(&shop()).unwrap();
    let again = laris::sync::replay::replay(&store, &shop(), &tiktok_recording()).unwrap();
    assert!(again.ok, "{:?}", again.errors);
    assert_eq!(changed(&again), 0, "{again:?}");
    assert_eq!(again.orders.unchanged, 600);
    assert_eq!(store.fingerprint(&shop()).unwrap(), before);

    // A live sync through the mock, recorded, then replayed twice.
    let server = start_mock(&tiktok_recording()).await;
    let live = Store::open(&tmp.path().join("live")).unwrap();
    let options = SyncOptions {
        record: Some(tmp.path().join("recordings")),
        ..run_at(RECORDED_AT + DAY)
    };
    let run = agent(
        settings(&server.base, DEFAULT_APP_SECRET, DEFAULT_ACCESS_TOKEN, 200),
        &live,
    )
    .sync_shop("lengkuas", &options)
    .await
    .unwrap();
    assert!(run.ok, "{:?}", run.reports[0].errors);
    let recording = run.recording.expect("a recording was written");
    let index = std::fs::read_to_string(recording.join("index.jsonl")).unwrap();
    assert!(
        index.contains(".request.json"),
        "request bodies are kept: {index}"
    );
    assert!(!index.contains(DEFAULT_APP_SECRET) && !index.contains(DEFAULT_ACCESS_TOKEN));
    let copy = replayed(&tmp.path().join("copy"), &recording);
    assert_eq!(copy.orders(&shop()).unwrap(), live.orders(&shop()).unwrap());
    assert_eq!(copy.products(&shop()).unwrap(), live.products(&shop()).unwrap());
    let before = copy.fingerprint(&shop()).unwrap();
    let again = laris::sync::replay::replay(&copy, &shop(), &recording).unwrap();
    assert_eq!(changed(&again), 0, "{again:?}");
    assert_eq!(copy.fingerprint(&shop()).unwrap(), before);

    // The recorded live sync, served by the mock, answers a sync on its clock exactly.
    let server = start_mock(&recording).await;
    let exact = Store::open(&tmp.path().join("exact")).unwrap();
    let run = agent(
        settings(&server.base, DEFAULT_APP_SECRET, DEFAULT_ACCESS_TOKEN, 200),
        &exact,
    )
    .sync_shop("lengkuas", &run_at(RECORDED_AT + DAY))
    .await
    .unwrap();
    assert!(run.ok, "{:?}", run.reports[0].errors);
    assert!(server.mock.requests().iter().all(|s| s.seq.is_some()));
    assert_eq!(exact.orders(&shop()).unwrap(), live.orders(&shop()).unwrap());
}

#[tokio::test]
async fn tiktok_mock_a_wrong_app_secret_is_refused_with_401_and_reported_naming_app_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start_mock(&tiktok_recording()).await;
    let store = Store::open(tmp.path()).unwrap();
    let run = agent(
        settings(&server.base, "not-the-demo-secret", DEFAULT_ACCESS_TOKEN, 200),
        &store,
    )
    .sync_shop("lengkuas", &run_at(RECORDED_AT + DAY))
    .await
    .unwrap();
    let report = &run.reports[0];
    assert!(!run.ok && !report.ok);
    let errors = report.errors.join("\n");
    assert!(
        errors.contains("refused the request's signature")
            && errors.contains("106001")
            && errors.contains("app_secret")
            && errors.contains(DEFAULT_APP_KEY),
        "{errors}"
    );
    assert!(!errors.contains("not-the-demo-secret"), "{errors}");
    let statuses: Vec<u16> = server.mock.requests().iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [401],
        "refused once, not retried, nothing else asked: {statuses:?}"
    );
    assert!(store.products(&shop()).unwrap().is_empty());
    assert!(store.orders(&shop()).unwrap().is_empty());

    // The mock's answer itself: HTTP 401 in TikTok's envelope.
    let answer = reqwest::Client::new()
        .post(format!(
            "{}{ORDER_SEARCH_PATH}?app_key={DEFAULT_APP_KEY}&timestamp={}&sign=00&page_size=1",
            server.base,
            Utc::now().timestamp()
        ))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["code"], 106001);
    assert!(body["message"].as_str().unwrap().contains("sign"), "{body}");
    assert!(body["request_id"].is_string() && body["data"].is_null(), "{body}");

    // A stale timestamp is TikTok's request fault, not a signature error.
    let stale = reqwest::Client::new()
        .post(format!(
            "{}{ORDER_SEARCH_PATH}?app_key={DEFAULT_APP_KEY}&timestamp={}&sign=00&page_size=1",
            server.base,
            Utc::now().timestamp() - 600
        ))
        .body("{}")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = stale.json().await.unwrap();
    assert_eq!(body["code"], 36009004);
    assert!(body["message"].as_str().unwrap().contains("timestamp"), "{body}");
}

#[tokio::test]
async fn tiktok_mock_an_unknown_access_token_is_refreshed_and_the_sync_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start_mock(&tiktok_recording()).await;
    let store = Store::open(tmp.path()).unwrap();
    let run = agent(
        settings(&server.base, DEFAULT_APP_SECRET, "TTP_expired_long_ago", 200),
        &store,
    )
    .sync_shop("lengkuas", &run_at(RECORDED_AT + DAY))
    .await
    .unwrap();
    let report = &run.reports[0];
    assert!(run.ok && report.ok, "{:?}", report.errors);
    assert_eq!((report.products.inserted, report.orders.inserted), (10, 600));
    let served = server.mock.requests();
    assert_eq!(served[0].status, 401, "{served:?}");
    assert!(
        served[1].target.starts_with(TOKEN_REFRESH_PATH) && served[1].status == 200,
        "{served:?}"
    );
    assert_eq!(
        served
            .iter()
            .filter(|s| s.target.starts_with(TOKEN_REFRESH_PATH))
            .count(),
        1,
        "refreshed once: {served:?}"
    );
    assert!(served[2..].iter().all(|s| s.status == 200), "{served:?}");
    assert!(
        !format!("{served:?}").contains(DEFAULT_APP_SECRET),
        "the refresh's app_secret is not logged: {served:?}"
    );
}
