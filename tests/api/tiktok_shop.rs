//! The `tiktok_shop` source against a small TikTok Shop server on 127.0.0.1: it checks
//! every request's signature with the app secret (a wrong one gets TikTok's 401 and error
//! 106001), the `x-tts-access-token` header, and answers product and order searches from
//! the records of `tests/fixtures/tiktok_shop/`, filtered by update time and paged with
//! `page_token`; faults (429 with Retry-After, 500, a cut-off body, a slow answer, an expired
//! token, a 401) are scripted by request number.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use laris::config::Settings;
use laris::domain::{OrderStatus, ProductId, ShopId};
use laris::records::{QuarantineReason, RecordKind, SyncReport};
use laris::store::{ShopStore, Store};
use laris::sync::agent::SyncOptions;
use laris::sync::tiktok_shop::{sign::sign, ORDER_SEARCH_PATH, PRODUCT_SEARCH_PATH, TOKEN_REFRESH_PATH};
use serde_json::{json, Value};
use warp::Filter;

use crate::helpers::{repo, TOKEN};
use crate::sync::{agent, run_at};

const APP_KEY: &str = "6d1g0h1ksv8ar";
const SECRET: &str = "s3cret-tts-for-tests";
const CIPHER: &str = "ROW_fUhjRwAAAAA";
/// The first sync's clock: an hour after the fixtures' newest order update.
const NOW1: i64 = 1_733_446_800;
const DAY: i64 = 86_400;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// 429 with `Retry-After: 1` and TikTok's rate-limit code.
    TooMany,
    /// 500.
    ServerError,
    /// The page's first half only.
    CutOff,
    /// An answer slower than the client's read timeout (1 s).
    Slow,
    /// 200 with the expired-token envelope (105002); the token stops working.
    Expired,
    /// 401 without a body; the token stops working.
    Unauthorized,
}

#[derive(Default)]
struct State {
    access: String,
    refresh: String,
    refreshes: u32,
    products: Vec<Value>,
    orders: Vec<Value>,
    /// Search request number (from 1) → fault.
    faults: HashMap<usize, Fault>,
    searches: usize,
    /// (path, HTTP status) of every request.
    log: Vec<(String, u16)>,
}

struct TikTok {
    base: String,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TikTok {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl TikTok {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }
    fn statuses(&self) -> Vec<u16> {
        self.with(|s| s.log.iter().map(|(_, code)| *code).collect())
    }
}

fn fixture_records(file: &str, list: &str) -> Vec<Value> {
    let path = repo().join("tests/fixtures/tiktok_shop").join(file);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["data"][list].as_array().unwrap().clone()
}

/// The shop: three products (four SKUs) and one without a price; three orders and one
/// without a buyer.
fn shop_data() -> (Vec<Value>, Vec<Value>) {
    let mut products = fixture_records("products_search_page1.json", "products");
    products.extend(fixture_records("products_search_page2.json", "products"));
    products.extend(
        fixture_records("products_search_missing_field.json", "products")
            .into_iter()
            .filter(|p| p["id"] == "1729593099999999999"),
    );
    let mut orders = fixture_records("orders_search_page1.json", "orders");
    orders.extend(fixture_records("orders_search_page2.json", "orders"));
    orders.extend(
        fixture_records("orders_search_missing_field.json", "orders")
            .into_iter()
            .filter(|o| o["id"] == "578012345678922222"),
    );
    (products, orders)
}

fn envelope(code: i64, message: &str, data: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "code": code, "message": message, "request_id": "2026120600000TEST", "data": data
    }))
    .unwrap()
}

fn answer(status: u16, headers: &[(&str, &str)], body: Vec<u8>) -> warp::http::Response<Vec<u8>> {
    let mut r = warp::http::Response::builder()
        .status(status)
        .header("content-type", "application/json");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(body).unwrap()
}

/// What the server answers, and how long it waits first.
fn handle(
    state: &Mutex<State>,
    path: &str,
    query: &[(String, String)],
    token: Option<String>,
    body: &[u8],
) -> (Duration, warp::http::Response<Vec<u8>>) {
    let mut s = state.lock().unwrap();
    let param = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
    let (status, delay, resp) = if path == TOKEN_REFRESH_PATH {
        let ok = param("app_key").as_deref() == Some(APP_KEY)
            && param("app_secret").as_deref() == Some(SECRET)
            && param("grant_type").as_deref() == Some("refresh_token")
            && param("refresh_token").as_deref() == Some(s.refresh.as_str());
        if ok {
            s.refreshes += 1;
            s.access = format!("AT{}", s.refreshes);
            s.refresh = format!("RT{}", s.refreshes);
            let data = json!({
                "access_token": s.access, "access_token_expire_in": NOW1 + 7 * DAY,
                "refresh_token": s.refresh, "refresh_token_expire_in": NOW1 + 300 * DAY,
            });
            (
                200,
                Duration::ZERO,
                answer(200, &[], envelope(0, "success", data)),
            )
        } else {
            (
                200,
                Duration::ZERO,
                answer(200, &[], envelope(105003, "invalid refresh token", Value::Null)),
            )
        }
    } else if path == PRODUCT_SEARCH_PATH || path == ORDER_SEARCH_PATH {
        let signed: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k != "sign" && k != "access_token")
            .cloned()
            .collect();
        let text = std::str::from_utf8(body).unwrap_or("");
        let expected = sign(SECRET, path, &signed, Some(text));
        let well_formed = param("app_key").as_deref() == Some(APP_KEY)
            && param("shop_cipher").as_deref() == Some(CIPHER)
            && param("timestamp").is_some_and(|t| t.parse::<i64>().is_ok());
        if param("sign").as_deref() != Some(expected.as_str()) || !well_formed {
            let body = envelope(106001, "The 'sign' query parameter is invalid", Value::Null);
            (401, Duration::ZERO, answer(401, &[], body))
        } else if token.as_deref() != Some(s.access.as_str()) {
            let body = envelope(
                105001,
                "Invalid credentials. The access token is invalid.",
                Value::Null,
            );
            (401, Duration::ZERO, answer(401, &[], body))
        } else {
            s.searches += 1;
            let n = s.searches;
            let page = search(&s, path, query, body);
            match s.faults.get(&n).copied() {
                None => (200, Duration::ZERO, answer(200, &[], page)),
                Some(Fault::TooMany) => {
                    let body = envelope(36009002, "Too many requests", Value::Null);
                    (429, Duration::ZERO, answer(429, &[("retry-after", "1")], body))
                }
                Some(Fault::ServerError) => (500, Duration::ZERO, answer(500, &[], Vec::new())),
                Some(Fault::CutOff) => {
                    let half = page[..page.len() / 2].to_vec();
                    (200, Duration::ZERO, answer(200, &[], half))
                }
                Some(Fault::Slow) => (200, Duration::from_millis(1500), answer(200, &[], page)),
                Some(Fault::Expired) => {
                    s.access = "expired".into();
                    let body =
                        std::fs::read(repo().join("tests/fixtures/tiktok_shop/error_envelope.json")).unwrap();
                    (200, Duration::ZERO, answer(200, &[], body))
                }
                Some(Fault::Unauthorized) => {
                    s.access = "revoked".into();
                    (401, Duration::ZERO, answer(401, &[], Vec::new()))
                }
            }
        }
    } else {
        (
            404,
            Duration::ZERO,
            answer(404, &[], envelope(40004, "no such path", Value::Null)),
        )
    };
    s.log.push((path.to_string(), status));
    (delay, resp)
}

/// A search answered from the shop's records: those updated in the body's window, oldest
/// update first, `page_size` at a time, the page token being the offset.
fn search(s: &State, path: &str, query: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let param = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
    let filter: Value = serde_json::from_slice(body).unwrap();
    let ge = filter["update_time_ge"].as_i64().unwrap();
    let (list, records, in_window): (&str, &Vec<Value>, Window) = if path == PRODUCT_SEARCH_PATH {
        assert_eq!(filter["status"], "ALL");
        let le = filter["update_time_le"].as_i64().unwrap();
        ("products", &s.products, Box::new(move |t| t >= ge && t <= le))
    } else {
        let lt = filter["update_time_lt"].as_i64().unwrap();
        assert_eq!(param("sort_field").as_deref(), Some("update_time"));
        ("orders", &s.orders, Box::new(move |t| t >= ge && t < lt))
    };
    let mut hits: Vec<&Value> = records
        .iter()
        .filter(|r| in_window(r["update_time"].as_i64().unwrap()))
        .collect();
    hits.sort_by_key(|r| r["update_time"].as_i64().unwrap());
    let size: usize = param("page_size").unwrap().parse().unwrap();
    assert!((1..=100).contains(&size));
    let offset: usize = param("page_token")
        .map(|t| t.strip_prefix("off-").unwrap().parse().unwrap())
        .unwrap_or(0);
    let page: Vec<&Value> = hits.iter().skip(offset).take(size).copied().collect();
    let next = if offset + size < hits.len() {
        format!("off-{}", offset + size)
    } else {
        String::new()
    };
    envelope(
        0,
        "Success",
        json!({ list: page, "total_count": hits.len(), "next_page_token": next }),
    )
}

async fn start(faults: &[(usize, Fault)]) -> TikTok {
    let (products, orders) = shop_data();
    let state = Arc::new(Mutex::new(State {
        access: "AT0".into(),
        refresh: "RT0".into(),
        products,
        orders,
        faults: faults.iter().copied().collect(),
        ..Default::default()
    }));
    let shared = state.clone();
    let route = warp::any()
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::optional::<String>("x-tts-access-token"))
        .and(warp::body::bytes())
        .and_then(
            move |path: warp::path::FullPath, query: String, token: Option<String>, body: Bytes| {
                let state = shared.clone();
                async move {
                    let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                        .into_owned()
                        .collect();
                    let (delay, resp) = handle(&state, path.as_str(), &query, token, &body);
                    tokio::time::sleep(delay).await;
                    Ok::<_, std::convert::Infallible>(resp)
                }
            },
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(
        warp::serve(route)
            .incoming(listener)
            .graceful(async {
                let _ = rx.await;
            })
            .run(),
    );
    TikTok {
        base,
        state,
        stop: Some(tx),
    }
}

fn settings(base: &str, secret: &str) -> Settings {
    settings_with(base, secret, ("AT0", "RT0"), "")
}

/// The shop with the configured `(access, refresh)` tokens, and `before` (TOML of other
/// `[[shops.sources]]`) ahead of the TikTok Shop source.
fn settings_with(base: &str, secret: &str, tokens: (&str, &str), before: &str) -> Settings {
    let (access, refresh) = tokens;
    let text = format!(
        r#"
[admin]
token = "{TOKEN}"
[[shops]]
id = "toko"
{before}
[[shops.sources]]
kind = "tiktok_shop"
app_key = "{APP_KEY}"
app_secret = "{secret}"
access_token = "{access}"
refresh_token = "{refresh}"
shop_cipher = "{CIPHER}"
base_url = "{base}"
auth_url = "{base}"
history_days = 3
overlap_days = 1
products_per_page = 2
orders_per_page = 2
http = {{ read_timeout_secs = 1, connect_timeout_secs = 1, backoff_ms = 10, retries = 3 }}
"#
    );
    Settings::from_toml(&text, Path::new("test.toml"), &[]).unwrap()
}

fn shop() -> ShopId {
    ShopId::parse("toko").unwrap()
}

/// seen, inserted, updated, unchanged.
type Upserts = (u64, u64, u64, u64);
/// Whether an update time is in a search's window.
type Window = Box<dyn Fn(i64) -> bool>;

/// Products, orders, quarantined, pages.
fn counts(r: &SyncReport) -> (Upserts, Upserts, u64, u64) {
    let c = |u: &laris::records::UpsertCounts| (u.seen, u.inserted, u.updated, u.unchanged);
    (c(&r.products), c(&r.orders), r.quarantined, r.pages)
}

/// The first sync's exact outcome: four SKUs and three orders over two pages each, one
/// product and one order quarantined.
fn assert_first_sync(store: &Store, r: &SyncReport) {
    assert!(r.ok, "{:?}", r.errors);
    assert_eq!(r.source, "tiktok_shop#0");
    assert_eq!(counts(r), ((4, 4, 0, 0), (3, 3, 0, 0), 2, 4), "{r:?}");
    let q = store.quarantined(&shop()).unwrap();
    assert_eq!(q.len(), 2, "{q:?}");
    assert!(
        q.iter()
            .any(|e| e.kind == RecordKind::Order && e.reason == QuarantineReason::missing("user_id")),
        "{q:?}"
    );
    assert!(
        q.iter()
            .any(|e| e.kind == RecordKind::Product && e.record.contains("Kerupuk Kulit")),
        "{q:?}"
    );
}

#[tokio::test]
async fn tiktok_shop_pages_cursors_long_ids_and_an_order_updated_later() {
    let server = start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let agent = agent(settings(&server.base, SECRET), &store);

    let run = agent.sync_shop("toko", &run_at(NOW1)).await.unwrap();
    assert_first_sync(&store, &run.reports[0]);
    assert_eq!(
        server.with(|s| s.searches),
        4,
        "two product pages, two order pages"
    );
    assert_eq!(
        server.with(|s| s.refreshes),
        0,
        "a working token is not refreshed"
    );

    // 19-digit ids stay exact: a SKU without a seller SKU is its own id.
    let abon = store
        .product(&shop(), &ProductId::parse("1729601234567955659").unwrap())
        .unwrap()
        .expect("the SKU id is the product id");
    assert_eq!(abon.marketplace_id.as_deref(), Some("1729601234567955659"));
    let order = store.order(&shop(), "578012345678901234").unwrap().unwrap();
    assert_eq!(order.customer.0, "7494105515082810525");
    assert!(order.is_purchase());
    let cursor = store.order_cursor(&shop(), 0).unwrap().unwrap();
    assert_eq!(cursor.synced_to, NOW1);
    let products = store.product_cursor(&shop(), 0).unwrap().unwrap();
    assert_eq!(products.newest_update, Some(1_733_400_000));

    // The buyer cancels order 578012345678909999 after the first import.
    server.with(|s| {
        let o = s
            .orders
            .iter_mut()
            .find(|o| o["id"] == "578012345678909999")
            .unwrap();
        o["status"] = json!("CANCELLED");
        o["update_time"] = json!(NOW1 + 3600);
    });
    assert!(store
        .order(&shop(), "578012345678909999")
        .unwrap()
        .unwrap()
        .is_purchase());
    let run = agent.sync_shop("toko", &run_at(NOW1 + DAY)).await.unwrap();
    let r = &run.reports[0];
    assert!(r.ok, "{:?}", r.errors);
    // Products from the cursor's second on: the deactivated one, unchanged. Orders from a
    // day before the cursor (the overlap): all four again, one of them changed.
    assert_eq!(counts(r), ((1, 0, 0, 1), (3, 0, 1, 2), 1, 3), "{r:?}");
    let cancelled = store.order(&shop(), "578012345678909999").unwrap().unwrap();
    assert_eq!(cancelled.status, OrderStatus(0));
    assert!(!cancelled.is_purchase());
    assert_eq!(
        store.order_cursor(&shop(), 0).unwrap().unwrap().synced_to,
        NOW1 + DAY
    );
}

#[tokio::test]
async fn tiktok_shop_a_wrong_app_secret_is_reported_as_a_refused_signature() {
    let server = start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let agent = agent(settings(&server.base, "not-the-secret"), &store);
    let run = agent.sync_shop("toko", &run_at(NOW1)).await.unwrap();
    let r = &run.reports[0];
    assert!(!run.ok && !r.ok);
    let errors = r.errors.join("\n");
    assert!(
        errors.contains("refused the request's signature")
            && errors.contains("106001")
            && errors.contains("app_secret")
            && errors.contains(APP_KEY),
        "{errors}"
    );
    assert!(!errors.contains("not-the-secret"), "{errors}");
    assert_eq!(
        server.statuses(),
        vec![401],
        "refused once, not retried, no refresh"
    );
    assert!(store.products(&shop()).unwrap().is_empty());
    assert!(store.product_cursor(&shop(), 0).unwrap().is_none());
}

#[tokio::test]
async fn tiktok_shop_refreshes_an_expired_token_and_once_on_a_401() {
    // Request 1 says the token expired; request 4 (order page 1) is a bare 401.
    let server = start(&[(1, Fault::Expired), (4, Fault::Unauthorized)]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let agent = agent(settings(&server.base, SECRET), &store);
    let recordings = tempfile::tempdir().unwrap();
    let options = SyncOptions {
        record: Some(recordings.path().to_path_buf()),
        ..run_at(NOW1)
    };
    let run = agent.sync_shop("toko", &options).await.unwrap();
    assert_first_sync(&store, &run.reports[0]);
    assert_eq!(
        server.with(|s| (s.refreshes, s.access.clone())),
        (2, "AT2".to_string())
    );
    // The refreshes are recorded without the secret or any token.
    let index = std::fs::read_to_string(run.recording.unwrap().join("index.jsonl")).unwrap();
    assert_eq!(index.matches("\"role\":\"token\"").count(), 2, "{index}");
    for secret in [SECRET, "RT0", "RT1", "AT1", "AT2"] {
        assert!(!index.contains(secret), "{secret} in the recording: {index}");
    }

    // A 401 that a fresh token does not cure stops the source after one refresh.
    server.with(|s| {
        s.faults = (7..20).map(|n| (n, Fault::Unauthorized)).collect();
    });
    let run = agent.sync_shop("toko", &run_at(NOW1 + DAY)).await.unwrap();
    let errors = run.reports[0].errors.join("\n");
    assert!(
        errors.contains("HTTP 401") && errors.contains("again with a refreshed access token"),
        "{errors}"
    );
    assert_eq!(
        server.with(|s| s.refreshes),
        3,
        "one refresh, not one per attempt"
    );
}

#[tokio::test]
async fn tiktok_shop_faults_are_survived_with_exact_counts_and_the_recording_replays() {
    let server = start(&[
        (1, Fault::TooMany),
        (2, Fault::ServerError),
        (4, Fault::CutOff),
        (6, Fault::Slow),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("live")).unwrap();
    let agent = agent(settings(&server.base, SECRET), &store);
    let options = SyncOptions {
        record: Some(dir.path().join("recordings")),
        ..run_at(NOW1)
    };
    // A bound against a hang only.
    let run = tokio::time::timeout(Duration::from_secs(60), agent.sync_shop("toko", &options))
        .await
        .unwrap()
        .unwrap();
    assert_first_sync(&store, &run.reports[0]);
    let statuses = server.statuses();
    assert!(statuses.contains(&429) && statuses.contains(&500), "{statuses:?}");
    assert_eq!(server.with(|s| s.searches), 8, "four pages, four failed attempts");

    let recording = run.recording.clone().expect("a recording was written");
    let index = std::fs::read_to_string(recording.join("index.jsonl")).unwrap();
    assert!(
        !index.contains(SECRET) && !index.contains("AT0"),
        "no secret in the recording"
    );
    assert!(index.contains("\"role\":\"tiktok_products\"") && index.contains("\"role\":\"tiktok_orders\""));
    let replayed = Store::open(&dir.path().join("replayed")).unwrap();
    let report = laris::sync::replay::replay(&replayed, &shop(), &recording).unwrap();
    assert!(report.ok, "{:?}", report.errors);
    assert_eq!(
        replayed.products(&shop()).unwrap(),
        store.products(&shop()).unwrap()
    );
    assert_eq!(replayed.orders(&shop()).unwrap(), store.orders(&shop()).unwrap());
    assert_eq!(report.quarantined, 2);
}

#[tokio::test]
async fn tiktok_shop_a_page_that_keeps_failing_stops_the_run_keeping_what_was_read_before_it() {
    // Searches 1–2 are the product pages, 3 the first order page; the second order page
    // fails on every try.
    let failing: Vec<(usize, Fault)> = (4..=12).map(|n| (n, Fault::ServerError)).collect();
    let server = start(&failing).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let agent = agent(settings(&server.base, SECRET), &store);

    let run = agent.sync_shop("toko", &run_at(NOW1)).await.unwrap();
    let report = &run.reports[0];
    assert!(!report.ok, "{report:?}");
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("page 2") && e.contains("the cursor stays at (none)")),
        "{:?}",
        report.errors
    );
    // The pages before the failure are stored (committed with the walk's group), and the
    // orders cursor did not move: the window was not read whole.
    assert_eq!(store.products(&shop()).unwrap().len(), 4);
    assert!(store.product_cursor(&shop(), 0).unwrap().is_some());
    assert!(store.order_cursor(&shop(), 0).unwrap().is_none());
    let kept = store.orders(&shop()).unwrap().len() as u64;
    assert_eq!(report.orders.inserted, kept);
    assert!(
        (1..=2).contains(&kept),
        "the first order page's good orders: {kept}"
    );

    // The next run reads the window again: the rest is inserted, nothing twice.
    server.with(|s| s.faults.clear());
    let run = agent.sync_shop("toko", &run_at(NOW1 + 60)).await.unwrap();
    let report = &run.reports[0];
    assert!(report.ok, "{:?}", report.errors);
    assert_eq!(
        (
            report.orders.seen,
            report.orders.inserted,
            report.orders.unchanged
        ),
        (3, 3 - kept, kept),
        "{report:?}"
    );
    assert_eq!(store.orders(&shop()).unwrap().len(), 3);
    assert_eq!(
        store.order_cursor(&shop(), 0).unwrap().unwrap().synced_to,
        NOW1 + 60
    );
}

#[tokio::test]
async fn tiktok_shop_refreshed_tokens_are_sealed_in_the_store_and_outlive_a_restart() {
    // The first search says the token expired: the refresh rotates both tokens (AT1, RT1),
    // and the server stops accepting RT0.
    let server = start(&[(1, Fault::Expired)]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    {
        let run = agent(settings(&server.base, SECRET), &store)
            .sync_shop("toko", &run_at(NOW1))
            .await
            .unwrap();
        assert_first_sync(&store, &run.reports[0]);
        assert_eq!(server.with(|s| s.refreshes), 1);
        let sealed = store.credentials(&shop()).unwrap();
        assert_eq!(sealed.len(), 1, "one pair for the one source");
        let bytes = String::from_utf8_lossy(&sealed[0].1).into_owned();
        let numbers: Vec<u8> = sealed[0].1.clone();
        for secret in ["AT1", "RT1", SECRET] {
            assert!(
                !bytes.contains(secret) && !numbers.windows(3).any(|w| w == secret.as_bytes()),
                "{secret} readable in the store"
            );
        }
    }

    // A new process (a new agent, whose memory holds no tokens) with RT0 still configured
    // goes on with the stored AT1: no refresh, which RT0 could no longer do.
    let run = agent(settings(&server.base, SECRET), &store)
        .sync_shop("toko", &run_at(NOW1 + DAY))
        .await
        .unwrap();
    assert!(run.reports[0].ok, "{:?}", run.reports[0].errors);
    assert_eq!(server.with(|s| s.refreshes), 1, "the stored token was used");

    // The shop is authorised again: the operator configures the new pair, which wins over
    // the stored one (it does not descend from the new refresh token).
    server.with(|s| {
        s.access = "AT-new".into();
        s.refresh = "RT-new".into();
    });
    let run = agent(
        settings_with(&server.base, SECRET, ("AT-new", "RT-new"), ""),
        &store,
    )
    .sync_shop("toko", &run_at(NOW1 + 2 * DAY))
    .await
    .unwrap();
    assert!(run.reports[0].ok, "{:?}", run.reports[0].errors);
    assert_eq!(
        server.with(|s| s.refreshes),
        1,
        "the configured token worked as is"
    );

    // A changed app secret cannot open the sealed pair: the configured tokens are used and
    // the server refuses the signature, which is what the report says.
    let run = agent(settings(&server.base, "another-secret"), &store)
        .sync_shop("toko", &run_at(NOW1 + 3 * DAY))
        .await
        .unwrap();
    assert!(run.reports[0].errors.join(" ").contains("106001"));
}

#[tokio::test]
async fn tiktok_shop_buyers_join_an_export_s_customers_by_phone_and_the_rest_are_reported() {
    let server = start(&[]).await;
    let files = tempfile::tempdir().unwrap();
    let report = files.path().join("penjualan.csv");
    // Sri's phone is the one a later TikTok order of user 7494105515082810525 carries
    // unmasked; Budi's export order has no phone, nor does TikTok user 7494105515082899999.
    std::fs::write(
        &report,
        "Nomor Invoice,Status Terakhir,Tanggal Pembayaran,Nama Produk,Nomor SKU,Jumlah Produk Dibeli,Harga Jual (IDR),Nama Pembeli,No Telp Pembeli\n\
INV/1,Pesanan Selesai,02-10-2026 10:15:00,Abon Sapi,ABN-1,1,Rp20.000,Sri W.,0812-3456-789\n\
INV/2,Pesanan Selesai,03-10-2026 10:15:00,Abon Sapi,ABN-1,1,Rp20.000,Budi,\n",
    )
    .unwrap();
    let before = format!(
        "[[shops.sources]]\nkind = \"export_files\"\norders = [\"{}\"]\n",
        report.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let run = agent(
        settings_with(&server.base, SECRET, ("AT0", "RT0"), &before),
        &store,
    )
    .sync_shop("toko", &run_at(NOW1))
    .await
    .unwrap();
    let tiktok = &run.reports[1];
    assert_eq!(tiktok.source, "tiktok_shop#1");
    assert!(tiktok.ok, "{:?}", tiktok.errors);
    let note = tiktok
        .warnings
        .iter()
        .find(|w| w.starts_with("customer identities"))
        .unwrap_or_else(|| panic!("no identity note in {:?}", tiktok.warnings));
    assert!(
        note.contains("2 TikTok Shop buyers")
            && note.contains("1 share a phone with customers of the shop's other sources (export_files#0)")
            && note.contains("1 carry no phone")
            && note.contains("not matched by name"),
        "{note}"
    );
    assert!(
        run.reports[0]
            .warnings
            .iter()
            .all(|w| !w.starts_with("customer identities")),
        "the export's own report says nothing of TikTok"
    );

    // The rebuild made Sri one customer under her phone key, with her TikTok id linked.
    let customers = store.customers(&shop()).unwrap();
    let sri = customers
        .iter()
        .find(|c| c.id.0 == "628123456789")
        .unwrap_or_else(|| panic!("no phone-key customer in {customers:?}"));
    assert!(
        customers.iter().all(|c| c.id.0 != "7494105515082810525"),
        "the TikTok buyer is not a second customer: {customers:?}"
    );
    assert!(sri.order_count >= 2, "{sri:?}");
    assert!(
        sri.aliases.iter().any(|a| a.0 == "7494105515082810525"),
        "{sri:?}"
    );

    // A shop with TikTok Shop as its only source of orders gets no such note.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let run = agent(settings(&server.base, SECRET), &store)
        .sync_shop("toko", &run_at(NOW1))
        .await
        .unwrap();
    assert!(
        run.reports[0]
            .warnings
            .iter()
            .all(|w| !w.starts_with("customer identities")),
        "{:?}",
        run.reports[0].warnings
    );
}
