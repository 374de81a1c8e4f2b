//! The sync agent against a real HTTP marketplace on 127.0.0.1: the mock marketplace
//! playing recordings from `tests/fixtures/marketplace/` (made by its `generate.py`), with
//! faults scripted in them; record and replay; the service syncing on demand and on
//! schedule, and a scheduled run stopping after its page when the service stops.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use laris::cli::mock_marketplace::{self, MockMarketplace};
use laris::config::Settings;
use laris::domain::{OrderStatus, ProductId, ShopId};
use laris::model::rebuild::Models;
use laris::records::{OrderCursor, ProductCursor, QuarantineReason, RecordKind};
use laris::store::{ShopStore, Store};
use laris::sync::agent::{SyncAgent, SyncError, SyncOptions};

use crate::helpers::{repo, TOKEN};

const DAY: i64 = 86_400;
/// `RUN1` of generate.py: 2026-11-02T00:00:00Z.
const RUN1: i64 = 1_793_577_600;

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/marketplace").join(name)
}

fn at(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).unwrap()
}

/// A mock marketplace on a free loopback port, stopped when dropped.
pub struct MockServer {
    pub base: String,
    pub mock: Arc<MockMarketplace>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn start_mock(dir: &Path) -> MockServer {
    let mock = MockMarketplace::open(dir).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(mock_marketplace::serve(mock.clone(), listener, async {
        let _ = rx.await;
    }));
    MockServer {
        base,
        mock,
        stop: Some(tx),
    }
}

/// A shop `toko` whose one source is the marketplace API at `base`, as the fixtures expect.
fn settings(base: &str) -> Settings {
    let text = format!(
        r#"
[admin]
token = "{TOKEN}"
[[shops]]
id = "toko"
[[shops.sources]]
kind = "marketplace_api"
base_url = "{base}"
token_url = "{base}/token"
fs_id = "15001"
shop_id = "479573"
client_id = "laris-test"
client_secret = "s3cret-for-tests"
history_days = 6
full_pass_hours = 48
products_per_page = 2
http = {{ read_timeout_secs = 1, connect_timeout_secs = 1, backoff_ms = 10, retries = 3 }}
"#
    );
    Settings::from_toml(&text, Path::new("test.toml"), &[]).unwrap()
}

pub(crate) fn agent(settings: Settings, store: &Store) -> SyncAgent {
    SyncAgent::new(
        Arc::new(settings),
        Arc::new(store.clone()),
        Arc::new(Models::default()),
    )
}

pub(crate) fn run_at(unix: i64) -> SyncOptions {
    SyncOptions {
        now: Some(at(unix)),
        ..Default::default()
    }
}

fn shop() -> ShopId {
    ShopId::parse("toko").unwrap()
}

#[tokio::test]
async fn every_fault_of_the_recording_ends_with_the_right_data() {
    let server = start_mock(&fixture("faults")).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let agent = agent(settings(&server.base), &store);

    // Run 1: 429 + Retry-After, 500 then 200, a duplicate page, a bad price, a 401 mid-run,
    // a read timeout and a cut-off body — all overcome.
    let run = agent.sync_shop("toko", &run_at(RUN1)).await.unwrap();
    let r = &run.reports[0];
    assert!(run.ok, "{:?}", r.errors);
    assert_eq!(r.source, "marketplace_api#0");
    assert_eq!(
        (r.products.seen, r.products.inserted, r.products.unchanged),
        (3, 2, 1)
    );
    assert_eq!(
        r.quarantined, 2,
        "product B on page 1 and again on the duplicate page 2"
    );
    assert_eq!((r.orders.seen, r.orders.inserted), (3, 3));
    assert_eq!(r.pages, 5, "three product pages and two order windows");
    assert!(
        r.warnings.iter().any(|w| w.contains("page 2 repeated")),
        "{:?}",
        r.warnings
    );
    let statuses: Vec<u16> = server.mock.requests().iter().map(|s| s.status).collect();
    for code in [429, 500, 401] {
        assert!(statuses.contains(&code), "the mock answered {code}: {statuses:?}");
    }

    let products = store.products(&shop()).unwrap();
    let ids: Vec<&str> = products.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["A-100", "C-300"]);
    let quarantine = store.quarantined(&shop()).unwrap();
    assert!(!quarantine.is_empty());
    assert!(
        quarantine.iter().all(|q| q.kind == RecordKind::Product
            && matches!(&q.reason, QuarantineReason::Invalid { field, .. } if field == "price.value")
            && q.reason.to_string().contains("harga?")),
        "{quarantine:?}"
    );
    let cursor: ProductCursor = store.product_cursor(&shop(), 0).unwrap().unwrap();
    assert_eq!(cursor.newest_update, Some(RUN1 - 2 * DAY));
    assert_eq!(cursor.last_full_pass, Some(at(RUN1)));
    let orders: OrderCursor = store.order_cursor(&shop(), 0).unwrap().unwrap();
    assert_eq!(orders.synced_to, RUN1);
    assert_eq!(
        store.order(&shop(), "INV/A").unwrap().unwrap().status,
        OrderStatus(400)
    );
    let a = store.order(&shop(), "INV/A").unwrap().unwrap();
    assert_eq!(a.lines[0].product, Some(ProductId::parse("A-100").unwrap()));
    assert!(run.model.is_some(), "new data rebuilds the model");

    // Run 2, a day later: products stop at the cursor; orders re-read the overlap and find
    // INV/A cancelled (400 → 0).
    let run = agent.sync_shop("toko", &run_at(RUN1 + DAY)).await.unwrap();
    let r = &run.reports[0];
    assert!(run.ok, "{:?}", r.errors);
    assert_eq!(r.products.inserted + r.products.updated, 0);
    assert_eq!(
        (
            r.orders.seen,
            r.orders.inserted,
            r.orders.updated,
            r.orders.unchanged
        ),
        (3, 0, 1, 2)
    );
    assert_eq!(
        store.order(&shop(), "INV/A").unwrap().unwrap().status,
        OrderStatus(0)
    );
    let orders: OrderCursor = store.order_cursor(&shop(), 0).unwrap().unwrap();
    assert_eq!(orders.synced_to, RUN1 + DAY);
    let buyer = store
        .customers(&shop())
        .unwrap()
        .into_iter()
        .find(|c| c.id.0 == "777001")
        .unwrap();
    assert_eq!(
        buyer.total_spend.0,
        3 * 18_000,
        "the cancelled order no longer counts"
    );
    assert_eq!(buyer.order_count, 1);
    let history = store.sync_reports(&shop(), 10).unwrap();
    assert_eq!(history.len(), 2, "each run keeps its report");
}

#[tokio::test]
async fn a_page_that_keeps_failing_stops_the_source_and_the_next_run_catches_up() {
    let server = start_mock(&fixture("stops")).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let agent = agent(settings(&server.base), &store);

    let run = agent.sync_shop("toko", &run_at(RUN1)).await.unwrap();
    let r = &run.reports[0];
    assert!(!run.ok && !r.ok);
    assert!(
        r.errors[0].contains("HTTP 500")
            && r.errors[0].contains("gave up after 4 attempts")
            && r.errors[0].contains("cursor stays"),
        "{:?}",
        r.errors
    );
    let cursor: OrderCursor = store.order_cursor(&shop(), 0).unwrap().unwrap();
    assert_eq!(
        cursor.synced_to,
        RUN1 - 3 * DAY,
        "the end of the first window, the last one read whole"
    );
    assert!(
        store.order(&shop(), "INV/B").unwrap().is_some(),
        "the first window's orders are kept"
    );
    assert!(store.order(&shop(), "INV/C").unwrap().is_none());

    let run = agent.sync_shop("toko", &run_at(RUN1)).await.unwrap();
    assert!(run.ok, "{:?}", run.reports[0].errors);
    assert!(
        store.order(&shop(), "INV/C").unwrap().is_some(),
        "the next run catches up"
    );
    let cursor: OrderCursor = store.order_cursor(&shop(), 0).unwrap().unwrap();
    assert_eq!(cursor.synced_to, RUN1);
}

#[tokio::test]
async fn two_syncs_of_one_shop_never_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let agent = agent(settings("http://127.0.0.1:9"), &store);
    let claim = agent.claim(&shop()).unwrap();
    match agent.sync_shop("toko", &SyncOptions::default()).await {
        Err(SyncError::Busy(s)) => assert_eq!(s, shop()),
        other => panic!("expected Busy, got {other:?}"),
    }
    drop(claim);
    assert!(agent.claim(&shop()).is_ok(), "free again once the first run ends");
}

#[tokio::test]
async fn a_recorded_sync_replays_into_the_same_products_and_orders_every_time() {
    let server = start_mock(&fixture("faults")).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("live")).unwrap();
    let agent = agent(settings(&server.base), &store);
    let options = SyncOptions {
        record: Some(dir.path().join("recordings")),
        ..run_at(RUN1)
    };
    let run = agent.sync_shop("toko", &options).await.unwrap();
    let recording = run.recording.clone().expect("a recording was written");
    let index = std::fs::read_to_string(recording.join("index.jsonl")).unwrap();
    assert!(!index.contains("s3cret"), "no secret in the recording");
    assert!(!index.to_lowercase().contains("authorization"));
    assert!(index.contains("\"role\":\"token\"") && index.contains("\"body\":null"));

    let mut fingerprints = Vec::new();
    for copy in ["a", "b"] {
        let replayed = Store::open(&dir.path().join(copy)).unwrap();
        let report = laris::sync::replay::replay(&replayed, &shop(), &recording).unwrap();
        assert!(report.ok, "{:?}", report.errors);
        assert_eq!(
            replayed.products(&shop()).unwrap(),
            store.products(&shop()).unwrap()
        );
        assert_eq!(replayed.orders(&shop()).unwrap(), store.orders(&shop()).unwrap());
        fingerprints.push(replayed.fingerprint(&shop()).unwrap());
    }
    assert_eq!(fingerprints[0], fingerprints[1], "same recording, same store");
}

fn shop_with_source(source: &str) -> Settings {
    let text =
        format!("[admin]\ntoken = \"{TOKEN}\"\n[[shops]]\nid = \"toko\"\n[[shops.sources]]\n{source}\n");
    Settings::from_toml(&text, Path::new("test.toml"), &[]).unwrap()
}

const JSON_LD_PAGE: &str = r#"<html><head>
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage","name":"x"},
 {"@type":"Product","name":"Serundeng Lengkuas 100 g","sku":"SRD-100","image":["/img/srd.jpg"],
  "offers":{"@type":"Offer","price":"20000","priceCurrency":"IDR","availability":"https://schema.org/InStock"}}]}</script>
</head><body>Serundeng</body></html>"#;
const OG_PAGE: &str = r#"<html><head>
<meta property="og:title" content="Sambal Lengkuas 150 g">
<meta property="og:image" content="/img/sbl.jpg">
<meta property="product:price:amount" content="18000">
<meta property="product:price:currency" content="IDR">
<meta property="product:retailer_item_id" content="SBL-150">
</head><body></body></html>"#;
const PLAIN_PAGE: &str = "<html><head><title>Tentang kami</title></head><body>Toko kami</body></html>";

#[tokio::test]
async fn a_storefront_is_read_from_its_sitemap_and_replays_the_same() {
    let sitemap = br#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>BASE/p/srd-100</loc></url><url><loc>BASE/p/sbl-150</loc></url><url><loc>BASE/tentang</loc></url>
</urlset>"#;
    // The sitemap names absolute URLs, so it is written once the address is known.
    let (base, _stop) = serve_files(|base| {
        let sitemap = String::from_utf8_lossy(sitemap)
            .replace("BASE", base)
            .into_bytes();
        vec![
            ("/sitemap.xml", "application/xml", sitemap),
            ("/p/srd-100", "text/html", JSON_LD_PAGE.as_bytes().to_vec()),
            ("/p/sbl-150", "text/html", OG_PAGE.as_bytes().to_vec()),
            ("/tentang", "text/html", PLAIN_PAGE.as_bytes().to_vec()),
        ]
    })
    .await;

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("live")).unwrap();
    let settings = shop_with_source(&format!(
        "kind = \"storefront\"\nsitemap = \"{base}/sitemap.xml\"\nconcurrency = 2\ndelay_ms = 20"
    ));
    let agent = agent(settings, &store);
    let options = SyncOptions {
        record: Some(dir.path().join("rec")),
        ..Default::default()
    };
    let run = agent.sync_shop("toko", &options).await.unwrap();
    let r = &run.reports[0];
    assert!(run.ok, "{:?}", r.errors);
    assert_eq!((r.products.inserted, r.quarantined, r.pages), (2, 1, 3));
    let products = store.products(&shop()).unwrap();
    let srd = products.iter().find(|p| p.id.as_str() == "SRD-100").unwrap();
    assert_eq!(srd.price.0, 20_000);
    assert_eq!(srd.image.as_deref(), Some(format!("{base}/img/srd.jpg").as_str()));
    let sbl = products.iter().find(|p| p.id.as_str() == "SBL-150").unwrap();
    assert_eq!(sbl.price.0, 18_000);
    let q = store.quarantined(&shop()).unwrap();
    assert!(
        q[0].origin.ends_with("/tentang") && q[0].reason.to_string().contains("Open Graph"),
        "{q:?}"
    );

    let replayed = Store::open(&dir.path().join("replayed")).unwrap();
    let report = laris::sync::replay::replay(&replayed, &shop(), run.recording.as_ref().unwrap()).unwrap();
    assert_eq!(report.quarantined, 1);
    let strip = |mut ps: Vec<laris::records::Product>| {
        // A page carries no update time: the fetch time stands in, so compare the rest.
        for p in &mut ps {
            p.updated_at = at(0);
        }
        ps
    };
    assert_eq!(strip(replayed.products(&shop()).unwrap()), strip(products));
}

/// Serves fixed files `(path, content type, body)` on a free loopback port; `files` gets the
/// base URL first (a sitemap names absolute URLs). Returns the base and the stop switch.
async fn serve_files(
    files: impl FnOnce(&str) -> Vec<(&'static str, &'static str, Vec<u8>)>,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    use warp::Filter;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let files = Arc::new(files(&base));
    let route = warp::path::full().map(move |p: warp::path::FullPath| {
        match files.iter().find(|(path, _, _)| *path == p.as_str()) {
            Some((_, ctype, body)) => warp::http::Response::builder()
                .header("content-type", *ctype)
                .body(body.clone())
                .unwrap(),
            None => warp::http::Response::builder()
                .status(404)
                .body(Vec::new())
                .unwrap(),
        }
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(
        warp::serve(route)
            .incoming(listener)
            .graceful(async {
                let _ = rx.await;
            })
            .run(),
    );
    (base, tx)
}

/// A sales report as Seller Center writes it: title rows above the header (on row 5),
/// columns in its own order, WIB dates, money in every format of docs/feeds.md: export files.
const SALES_CSV: &str = "Laporan Penjualan\nToko: Lengkuas\nPeriode: 01-10-2026 - 31-10-2026\n\n\
Nomor Invoice,Status Terakhir,Tanggal Pembayaran,Nama Produk,Nomor SKU,Jumlah Produk Dibeli,Harga Jual (IDR),Nama Pembeli,No Telp Pembeli,Catatan\n\
INV/1,Pesanan Selesai,02-10-2026 10:15:00,Serundeng Lengkuas 100 g,SRD-100,2,Rp20.000,Sri W.,0812-1111-2222,\n\
,,,Sambal Lengkuas 150 g,SBL-150,1,\"18.000,00\",,,\n\
INV/2,Dibatalkan Pembeli,03-10-2026 08:00,Serundeng Lengkuas 100 g,SRD-100,1,Rp 20.000,Budi,+62 813 0000 1111,x\n\
INV/3,Pesanan Tiba,04-10-2026 23:30:00,Serundeng Lengkuas 100 g,SRD-100,3,20000,Sri W.,6281211112222,\n";

#[tokio::test]
async fn export_files_from_urls_import_record_and_replay() {
    let products_csv = "Daftar Produk\n\nHarga (Rp),Nama Produk*,SKU Name,Jumlah Stok,Status\n\
\"20.000\",Serundeng Lengkuas 100 g,SRD-100,42,Aktif\nRp18.000,Sambal Lengkuas 150 g,SBL-150,7,Aktif\n";
    let (base, _stop) = serve_files(|_| {
        vec![
            ("/produk.csv", "text/csv", products_csv.as_bytes().to_vec()),
            ("/penjualan.csv", "text/csv", SALES_CSV.as_bytes().to_vec()),
        ]
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("live")).unwrap();
    let settings = shop_with_source(&format!(
        "kind = \"export_files\"\nproducts = [\"{base}/produk.csv\"]\norders = [\"{base}/penjualan.csv\"]"
    ));
    let agent = agent(settings, &store);
    let options = SyncOptions {
        record: Some(dir.path().join("rec")),
        ..Default::default()
    };
    let run = agent.sync_shop("toko", &options).await.unwrap();
    let r = &run.reports[0];
    assert!(run.ok, "{:?}", r.errors);
    assert_eq!((r.products.inserted, r.orders.inserted, r.quarantined), (2, 3, 0));
    let inv1 = store.order(&shop(), "INV/1").unwrap().unwrap();
    assert_eq!(
        inv1.paid_at,
        at(1_790_910_900),
        "02-10-2026 10:15 WIB is 03:15 UTC"
    );
    assert_eq!(inv1.products_total.0, 2 * 20_000 + 18_000);
    assert_eq!(inv1.lines[1].product, Some(ProductId::parse("SBL-150").unwrap()));
    assert!(inv1.is_purchase());
    assert!(!store.order(&shop(), "INV/2").unwrap().unwrap().is_purchase());
    let inv3 = store.order(&shop(), "INV/3").unwrap().unwrap();
    assert_eq!(inv3.customer, inv1.customer, "0812… and 62812… are one buyer");

    let replayed = Store::open(&dir.path().join("replayed")).unwrap();
    let report = laris::sync::replay::replay(&replayed, &shop(), run.recording.as_ref().unwrap()).unwrap();
    assert!(report.ok, "{:?}", report.errors);
    assert_eq!(replayed.orders(&shop()).unwrap(), store.orders(&shop()).unwrap());
}

/// The demo shop with no seed: its only source is the marketplace API at `base`.
fn demo_settings(base: &str, schedule: &str) -> Settings {
    let history_days = crate::helpers::demo_history_days();
    let text = format!(
        r#"
[admin]
token = "{TOKEN}"
[[shops]]
id = "lengkuas"
sync_schedule = "{schedule}"
customer_secret = "{secret}"
[[shops.sources]]
kind = "marketplace_api"
base_url = "{base}"
token_url = "{base}/token"
fs_id = "15001"
shop_id = "479573"
client_id = "laris-demo"
client_secret_env = "LARIS_TEST_DEMO_CLIENT_SECRET"
history_days = {history_days}
"#,
        secret = crate::helpers::SECRET
    );
    Settings::from_toml(&text, Path::new("test.toml"), &[]).unwrap()
}

/// Starts the real service on a free port with `settings` and an empty store.
/// The service on a temporary store (stopped, and its directory removed, by the caller's
/// `stop`).
async fn serve(settings: Settings) -> (String, crate::helpers::TestApp) {
    let app = crate::helpers::spawn_app_with(settings).await;
    (app.base.clone(), app)
}

async fn status(http: &reqwest::Client, base: &str) -> serde_json::Value {
    http.get(format!("{base}/admin/api/status"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_demo_shop_syncs_completely_from_the_mock_marketplace_on_demand() {
    std::env::set_var("LARIS_TEST_DEMO_CLIENT_SECRET", "demo-secret");
    let mock = start_mock(&repo().join("demo/lengkuas/recording")).await;
    // A schedule that will not fire during the test: once a year.
    let (base, app) = serve(demo_settings(&mock.base, "0 0 3 1 1 *")).await;
    let http = reqwest::Client::new();
    let before = status(&http, &base).await;
    assert_eq!(before["shops"][0]["orders"], 0);

    let r = http
        .post(format!("{base}/admin/api/shops/lengkuas/sync"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let run: serde_json::Value = r.json().await.unwrap();
    assert_eq!(run["ok"], true, "{run}");
    assert_eq!(run["reports"][0]["products"]["inserted"], 10);
    assert_eq!(
        run["reports"][0]["orders"]["inserted"],
        crate::helpers::orders_in_demo_recording()
    );
    assert!(
        run["model"]["rules"].as_u64().unwrap() > 0,
        "the model was rebuilt: {run}"
    );

    let after = status(&http, &base).await;
    let shop = &after["shops"][0];
    assert_eq!(
        (shop["products"].as_u64(), shop["orders"].as_u64()),
        (Some(10), Some(600))
    );
    assert_eq!(shop["paid_orders"], 582);
    assert_eq!(shop["last_sync"]["kind"], "sync");
    assert_eq!(shop["last_sync"]["source"], "marketplace_api#0");

    // The recommendations the widget gets come from the synced data.
    let rec: serde_json::Value = http
        .get(format!(
            "{base}/v1/shops/lengkuas/recommendations?product=SRD-100"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let similar: Vec<&str> = rec["similar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(similar[..2].contains(&"SRD-250P"), "{rec}");

    // A second sync right away reads the overlap again and changes nothing.
    let again: serde_json::Value = http
        .post(format!("{base}/admin/api/shops/lengkuas/sync"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(again["reports"][0]["orders"]["inserted"], 0);
    app.stop().await;
}

#[tokio::test]
async fn the_service_syncs_the_demo_shop_on_its_schedule() {
    std::env::set_var("LARIS_TEST_DEMO_CLIENT_SECRET", "demo-secret");
    let mock = start_mock(&repo().join("demo/lengkuas/recording")).await;
    let (base, app) = serve(demo_settings(&mock.base, "*/2 * * * * *")).await;
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let s = status(&http, &base).await;
        if s["shops"][0]["orders"] == 600 && s["shops"][0]["last_sync"]["kind"] == "sync" {
            assert_eq!(s["shops"][0]["products"], 10);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scheduled sync within 60 s: {s}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_scheduled_sync_under_way_at_shutdown_stops_after_its_page_and_the_service_returns() {
    const PAGES: usize = 40;
    let page = |i: usize| {
        format!(
            r#"<html><head><script type="application/ld+json">{{"@type":"Product","name":"Produk {i}","sku":"P-{i:03}",
 "offers":{{"@type":"Offer","price":"{price}","priceCurrency":"IDR"}}}}</script></head><body></body></html>"#,
            price = 10_000 + i * 100
        )
    };
    let (base, _files) = serve_files(|_| {
        (0..PAGES)
            .map(|i| {
                let path: &'static str = format!("/p/{i}").leak();
                (path, "text/html", page(i).into_bytes())
            })
            .collect()
    })
    .await;
    let urls: Vec<String> = (0..PAGES).map(|i| format!("\"{base}/p/{i}\"")).collect();
    // Every second, one page at a time, 250 ms apart: a run takes about 10 s.
    let text = format!(
        "[admin]\ntoken = \"{TOKEN}\"\n[[shops]]\nid = \"toko\"\nsync_schedule = \"* * * * * *\"\n\
         [[shops.sources]]\nkind = \"storefront\"\nurls = [{}]\nconcurrency = 1\ndelay_ms = 250\n",
        urls.join(", ")
    );
    let settings = Settings::from_toml(&text, Path::new("test.toml"), &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = laris::app::Application::build(settings, dir.path(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let store = app.state().store.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));

    // A scheduled run has committed its first page and is still going.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(run) = store.interrupted_run(&shop()).unwrap() {
            if run.pages >= 1 {
                break;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scheduled run under way within 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    // A bound against a hang only: the run stops after its page, well within the grace.
    tokio::time::timeout(std::time::Duration::from_secs(60), service)
        .await
        .expect("the service returns after the shutdown signal")
        .unwrap()
        .expect("the service stops cleanly");

    assert_eq!(
        store.interrupted_run(&shop()).unwrap(),
        None,
        "the run ended with its report, not interrupted"
    );
    let reports = store.sync_reports(&shop(), 10).unwrap();
    assert_eq!(reports.len(), 1, "one scheduled run: {reports:?}");
    let report = &reports[0];
    assert!(!report.ok && (report.pages as usize) < PAGES, "{report:?}");
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("the service is stopping")),
        "the report says why it stopped: {:?}",
        report.errors
    );
    assert_eq!(
        store.products(&shop()).unwrap().len() as u64,
        report.products.inserted,
        "every page read was stored whole"
    );
    assert!(report.products.inserted >= 1);
    assert!(
        !dir.path().join(laris::app::SERVE_FILE).exists(),
        "the address file is removed"
    );
}

/// What `laris status`, `/admin/api/status` and `/metrics` show of a shop, next to the
/// same figures counted from its records.
fn status_and_recount(settings: &Settings, store: &Store) -> (Vec<usize>, Vec<usize>) {
    let status = laris::status::status(settings, store, None, None).unwrap();
    let s = &status.shops[0];
    let products = store.products(&shop()).unwrap();
    let orders = store.orders(&shop()).unwrap();
    let shown = vec![
        s.products,
        s.active_products,
        s.orders,
        s.paid_orders,
        s.customers,
        s.quarantined,
        s.events,
        s.feedback,
    ];
    let counted = vec![
        products.len(),
        products
            .iter()
            .filter(|p| p.status == laris::records::ProductStatus::Active)
            .count(),
        orders.len(),
        orders.iter().filter(|o| o.is_purchase()).count(),
        store.customers(&shop()).unwrap().len(),
        store.quarantined(&shop()).unwrap().len(),
        store.events(&shop()).unwrap().len(),
        store.feedback(&shop()).unwrap().len(),
    ];
    (shown, counted)
}

/// The status counts are the store's own, kept with every write: after a replay, an import
/// of export files (a product gone inactive, a bad row, an order cancelled after it was
/// paid), a marketplace sync, rebuilds, events and feedback they equal a recount.
#[tokio::test]
async fn status_counts_equal_a_recount_after_replay_import_and_sync() {
    use laris::sync::files::{import_file, FileKind};
    use laris::sync::pipeline::Importer;

    let server = start_mock(&fixture("faults")).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let settings = settings(&server.base);
    let check = |after: &str| -> Vec<usize> {
        let (shown, counted) = status_and_recount(&settings, &store);
        assert_eq!(shown, counted, "status vs recount after {after}");
        shown
    };

    laris::sync::replay::replay(&store, &shop(), &repo().join("demo/lengkuas/recording")).unwrap();
    let replayed = check("a replay");
    assert!(replayed[0] > 0 && replayed[2] > 0, "{replayed:?}");
    laris::sync::replay::replay(&store, &shop(), &repo().join("demo/lengkuas/recording")).unwrap();
    assert_eq!(check("the same replay again"), replayed);

    let import = |products: &str, sales: &str| {
        let mut importer = Importer::new(&store, shop());
        import_file(
            &mut importer,
            FileKind::Products,
            "produk.csv",
            products.as_bytes(),
            at(RUN1),
        )
        .unwrap();
        import_file(
            &mut importer,
            FileKind::Orders,
            "penjualan.csv",
            sales.as_bytes(),
            at(RUN1),
        )
        .unwrap();
        importer
            .finish(laris::records::RunKind::Import, "produk.csv, penjualan.csv")
            .unwrap()
    };
    let products_csv = "Daftar Produk\n\nHarga (Rp),Nama Produk*,SKU Name,Jumlah Stok,Status\n\
\"20.000\",Serundeng Lengkuas 100 g,SRD-100,42,Nonaktif\nharga?,Sambal Rusak,SBL-999,1,Aktif\n";
    let report = import(products_csv, SALES_CSV);
    assert_eq!(report.quarantined, 1, "{:?}", report.errors);
    let imported = check("an import");
    assert_eq!(imported[5], replayed[5] + 1, "the bad row is quarantined");
    let srd = store
        .product(&shop(), &ProductId::parse("SRD-100").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(srd.status, laris::records::ProductStatus::Inactive);

    // INV/1 paid before, cancelled now: one paid order fewer, as many orders.
    let cancelled = SALES_CSV.replace("INV/1,Pesanan Selesai", "INV/1,Dibatalkan Penjual");
    import(products_csv, &cancelled);
    let reimported = check("an import that cancels a paid order");
    assert_eq!(
        (reimported[2], reimported[3], reimported[5]),
        (imported[2], imported[3] - 1, imported[5]),
        "{imported:?} -> {reimported:?}"
    );

    laris::model::rebuild::rebuild_shop(&store, &settings.shops[0]).unwrap();
    assert!(check("a rebuild")[4] > 0, "the rebuild derived customers");

    let run = agent(settings.clone(), &store)
        .sync_shop("toko", &run_at(RUN1))
        .await
        .unwrap();
    assert!(run.ok, "{:?}", run.reports[0].errors);
    let synced = check("a marketplace sync");
    assert!(
        synced[0] > reimported[0] && synced[5] > reimported[5],
        "{synced:?}"
    );
    laris::model::rebuild::rebuild_shop(&store, &settings.shops[0]).unwrap();
    check("the rebuild after the sync");

    let event = laris::records::Event {
        kind: laris::records::EventKind::Click,
        slot: None,
        product: None,
        item: None,
        at: Some(at(RUN1)),
        customer: None,
        visitor: None,
        arm: None,
        order: None,
        total: None,
        items: Vec::new(),
    };
    store.append_events(&shop(), &[event.clone(), event]).unwrap();
    let mut message = laris::records::Feedback {
        id: 0,
        at: at(RUN1),
        message: "kirim lebih cepat".into(),
        contact: None,
        page: None,
        product: None,
        status: laris::records::FeedbackStatus::New,
    };
    store.put_feedback(&shop(), &mut message).unwrap();
    let last = check("events and feedback");
    assert_eq!((last[6], last[7]), (2, 1));
}

#[tokio::test]
async fn a_shop_leased_by_another_replica_answers_409_naming_it_and_healthz_lists_this_ones_leases() {
    let app = crate::helpers::spawn_app().await;
    let http = reqwest::Client::new();
    let lengkuas = ShopId::parse("lengkuas").unwrap();
    let leases = |v: serde_json::Value| v["sync_leases"].clone();
    let health = || async {
        http.get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };

    // Another replica (sharing the store) holds the shop's sync lease.
    let other = "app2.internal:4242:beef";
    assert!(app
        .store
        .claim_sync(&lengkuas, other, std::time::Duration::from_secs(60))
        .unwrap());
    let r = http
        .post(format!("{}/admin/api/shops/lengkuas/sync", app.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let error: serde_json::Value = r.json().await.unwrap();
    let message = error["error"].as_str().unwrap();
    assert!(
        message.contains(other) && message.contains("another replica"),
        "{message}"
    );
    assert_eq!(
        leases(health().await),
        serde_json::json!([]),
        "the lease is not this replica's"
    );
    app.store.release_sync(&lengkuas, other).unwrap();

    // A run of this replica holds it: /healthz says so, and no longer once it ends.
    let claim = app.sync.claim(&lengkuas).unwrap();
    assert_eq!(leases(health().await), serde_json::json!(["lengkuas"]));
    assert_eq!(
        app.store.sync_holder(&lengkuas).unwrap().map(|h| h.0).as_deref(),
        Some(app.sync.holder())
    );
    drop(claim);
    assert_eq!(leases(health().await), serde_json::json!([]));
    assert_eq!(app.store.sync_holder(&lengkuas).unwrap(), None);
    app.stop().await;
}
