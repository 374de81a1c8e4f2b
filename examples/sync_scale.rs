//! Sync at scale (goal: "100,000 products and 1,000,000 order lines from
//! `laris mock-marketplace` on loopback ≤ 60 s"): generates a recording of a shop of
//! rebuild_scale's shape, serves it with the mock marketplace on 127.0.0.1 in this process,
//! and runs one first sync of it through the sync agent — the code `laris sync` runs:
//! token, product pages of 50, order windows of three days in pages of 100, each page and
//! its cursor one atomic batch, then the model rebuild. Run with peak memory:
//!
//! ```text
//! cargo build --release --example sync_scale
//! /usr/bin/time -v target/release/examples/sync_scale 100000 1000000
//! ```
//!
//! `RUST_LOG='laris=info,laris::cli::mock_marketplace=warn'` adds the sync's own log lines
//! with their times (import finished, model rebuilt) on stderr.
//!
//! Arguments: products (100,000) and order lines (1,000,000; baskets of one to four lines
//! around an anchor product, 200,000 customers, nine in ten orders paid; invoices numbered by
//! day as the marketplace numbers them). `DAYS=365` spreads
//! the orders over that many days before the run's "now" (122 windows of three days at 365).
//! `ORDERS=N` makes exactly N orders instead (as many lines as their baskets hold; the
//! second argument is then ignored). Everything lives in a temporary directory that is
//! removed at the end; the mock listens on a free port of 127.0.0.1 only and stops with the
//! program.
//!
//! `STORE` names the store the sync writes into: `sled:DIR` (a new data directory) or
//! `postgres://USER@HOST:PORT/DATABASE` (an empty database, migrated on opening); by default
//! a sled store in the temporary directory. The last line,
//! `result: backend=… total_ms=… fetch_ms=… products=… orders=…`, is for scripts
//! (`benches/backends sync` compares the two backends with it).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::DateTime;
use laris::cli::mock_marketplace::{self, MockMarketplace};
use laris::config::Settings;
use laris::model::rebuild::Models;
use laris::sync::agent::{SyncAgent, SyncOptions};
use laris::sync::api::Progress;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

/// The run's "now": 2026-11-01T00:00:00Z, so that the windows are the same every run.
const NOW: i64 = 1_793_491_200;
/// Records per recorded body: the mock pages through all of them whatever the size.
const RECORDED_PAGE: usize = 5000;
const FIRST_PRODUCT_ID: u64 = 2_000_000_000;
const FIRST_ORDER_ID: u64 = 900_000_000;
const CUSTOMERS: u64 = 200_000;

/// Counts the pages asked for, to print where the run is now and then.
struct Pages {
    asked: AtomicU64,
    started: Instant,
}

impl Progress for Pages {
    fn step(&self, message: &str) {
        let n = self.asked.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(1000) {
            println!(
                "  {:>6.1} s  page {n}: {message}",
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n_products = args.first().copied().unwrap_or(100_000).max(1);
    let n_lines = args.get(1).copied().unwrap_or(1_000_000);
    let days: i64 = positive_env("DAYS").unwrap_or(365) as i64;
    let n_orders = positive_env("ORDERS");
    let store = match std::env::var("STORE") {
        Ok(raw) => match laris::app::StoreUrl::parse(&raw) {
            Ok(url) => Some(url),
            Err(e) => {
                eprintln!("STORE: {e}");
                std::process::exit(2);
            }
        },
        Err(_) => None,
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let recording = dir.path().join("recording");
    let t = Instant::now();
    let (orders, bytes) = write_recording(&recording, n_products, Size { n_lines, n_orders }, days)
        .expect("the recording is written");
    println!(
        "recording: {n_products} products, {orders} orders over {days} days, {:.1} MB, written in {:.2?}",
        bytes as f64 / 1e6,
        t.elapsed()
    );

    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let store = store.unwrap_or_else(|| laris::app::StoreUrl::Sled(dir.path().join("store")));
    runtime.block_on(run(&recording, &store, days));
}

/// A positive whole number from the environment variable `name`; exits naming the value
/// when it is something else.
fn positive_env(name: &str) -> Option<usize> {
    let raw = std::env::var(name).ok()?;
    match raw.trim().parse::<usize>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            eprintln!("{name}={raw:?}: give a whole number greater than 0, e.g. {name}=1500");
            std::process::exit(2);
        }
    }
}

/// How much to generate: order lines, or exactly `n_orders` orders when given.
struct Size {
    n_lines: usize,
    n_orders: Option<usize>,
}

async fn run(recording: &Path, store: &laris::app::StoreUrl, days: i64) {
    let t = Instant::now();
    let mock = MockMarketplace::open(recording).expect("the recording opens");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let base = format!("http://{}", listener.local_addr().expect("a bound address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(mock_marketplace::serve(mock.clone(), listener, async {
        let _ = stopped.await;
    }));
    println!(
        "mock marketplace on {base}, recording read in {:.2?}",
        t.elapsed()
    );

    let (store_dir, store_section, backend) = match store {
        laris::app::StoreUrl::Sled(dir) => (dir.clone(), String::new(), "sled"),
        laris::app::StoreUrl::Postgres(url) => (
            std::env::temp_dir(),
            format!("[store]\nbackend = \"postgres\"\nurl = {url:?}\n"),
            "postgres",
        ),
    };
    println!("store: {store}");
    let toml = format!(
        r#"{store_section}
[[shops]]
id = "skala"
[[shops.sources]]
kind = "marketplace_api"
base_url = "{base}"
token_url = "{base}/token"
fs_id = "15001"
shop_id = "479573"
client_id = "sync-scale"
client_secret = "sync-scale-secret"
history_days = {history}
products_per_page = 50
orders_per_page = 100
"#,
        history = days + 1
    );
    let settings =
        Settings::from_toml(&toml, Path::new("sync_scale.toml"), &[]).expect("the config is valid");
    let store = laris::app::open_store(&settings, &store_dir, laris::app::Opening::CreateIfMissing)
        .await
        .expect("the store opens");
    let agent = SyncAgent::new(Arc::new(settings), store, Arc::new(Models::default()));
    let started = Instant::now();
    let options = SyncOptions {
        now: DateTime::from_timestamp(NOW, 0),
        progress: Arc::new(Pages {
            asked: AtomicU64::new(0),
            started,
        }),
        ..Default::default()
    };
    let sync = agent.sync_shop("skala", &options).await.expect("the sync runs");
    let total = started.elapsed();
    let _ = stop.send(());
    let _ = server.await;

    let report = &sync.reports[0];
    if !report.ok {
        eprintln!("the sync reported errors: {:?}", report.errors);
        std::process::exit(1);
    }
    let fetch = std::time::Duration::from_millis(report.duration_ms);
    let requests = mock.requests().len();
    println!(
        "pages imported: {} ({requests} requests to the mock, token included)",
        report.pages
    );
    println!(
        "products stored: {} (seen {}), orders stored: {} (seen {}), quarantined: {}",
        report.products.inserted + report.products.updated,
        report.products.seen,
        report.orders.inserted + report.orders.updated,
        report.orders.seen,
        report.quarantined
    );
    println!("fetch + store: {fetch:.2?}");
    match &sync.model {
        Some(model) => println!(
            "rebuild: {:.2?} in all (build_model {} ms; {} products, {} paid orders, {} rules)",
            total.saturating_sub(fetch),
            model.build_ms,
            model.products,
            model.paid_orders,
            model.rules
        ),
        None => println!("rebuild: none (nothing changed)"),
    }
    println!("total: {total:.2?} (target: 60 s)");
    println!(
        "result: backend={backend} total_ms={} fetch_ms={} products={} orders={}",
        total.as_millis(),
        fetch.as_millis(),
        report.products.inserted + report.products.updated,
        report.orders.inserted + report.orders.updated
    );
}

/// Writes a recording of the shop; returns the number of orders and the bytes written.
fn write_recording(dir: &Path, n_products: usize, size: Size, days: i64) -> std::io::Result<(usize, u64)> {
    let Size { n_lines, n_orders } = size;
    std::fs::create_dir_all(dir)?;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let words: Vec<String> = (0..2000).map(|i| format!("kata{i}")).collect();
    let mut prices = Vec::with_capacity(n_products);
    let products: Vec<Value> = (0..n_products)
        .map(|i| {
            let parent = rng.gen_range(0..20);
            let leaf = parent * 15 + rng.gen_range(0..15);
            // Zipf-ish word choice: small indices far more often.
            let name: Vec<&str> = (0..rng.gen_range(3..6))
                .map(|_| {
                    let u: f64 = rng.gen_range(0.0f64..1.0);
                    words[((u * u * u) * 1999.0) as usize].as_str()
                })
                .collect();
            let grams = [50u32, 100, 250, 500, 1000][rng.gen_range(0..5)];
            let price = ((rng.gen_range(8.5f64..13.5).exp()) as i64 / 100 * 100).max(1000);
            prices.push(price);
            let updated = NOW - 86_400 - i as i64 * 60;
            json!({
                "basic": {
                    "productID": FIRST_PRODUCT_ID + i as u64,
                    "shopID": 479573,
                    "status": 1,
                    "name": format!("{} {grams} g", name.join(" ")),
                    "condition": 1,
                    "childCategoryID": 1000 + leaf,
                    "shortDesc": "",
                    "createTimeUnix": updated - 86_400,
                    "updateTimeUnix": updated,
                },
                "price": {"value": price, "currency": 1, "LastUpdateUnix": updated},
                "weight": {"value": grams, "unit": 1},
                "stock": {"useStock": true, "value": rng.gen_range(0..50)},
                "variant": {"isParent": false, "isVariant": false, "childrenID": []},
                "categoryTree": [
                    {"id": 100 + parent, "name": format!("Induk {parent}"), "title": format!("Induk {parent}")},
                    {"id": 1000 + leaf, "name": format!("Daun {leaf}"), "title": format!("Daun {leaf}")},
                ],
                "pictures": [],
                "other": {"sku": format!("P{i:06}"), "url": ""},
                "GMStats": {"countSold": 0},
                "attributes": [
                    {"name": "rasa", "value": format!("r{}", rng.gen_range(0..6))},
                    {"name": "bentuk", "value": format!("b{}", rng.gen_range(0..4))},
                ],
            })
        })
        .collect();

    // (create time, lines, customer, status), numbered once sorted by time.
    let mut baskets = Vec::new();
    let mut made = 0;
    let span = days * 86_400;
    let more = |made: usize, baskets: usize| match n_orders {
        Some(n) => baskets < n,
        None => made < n_lines,
    };
    while more(made, baskets.len()) {
        let n = match n_orders {
            Some(_) => rng.gen_range(1..5),
            None => rng.gen_range(1..5).min(n_lines - made),
        };
        let anchor = rng.gen_range(0..n_products);
        let lines: Vec<Value> = (0..n)
            .map(|j| {
                // Baskets cluster around an anchor so that rules exist.
                let p = if j == 0 {
                    anchor
                } else {
                    (anchor + rng.gen_range(1..40)) % n_products
                };
                json!({
                    "id": FIRST_PRODUCT_ID + p as u64,
                    "name": "",
                    "sku": format!("P{p:06}"),
                    "quantity": 1,
                    "price": prices[p],
                    "total_price": prices[p],
                    "currency": "Rp",
                })
            })
            .collect();
        made += n;
        // Anywhere in the history: every three-day window holds about the same number.
        let created = NOW - span + rng.gen_range(0..span);
        let customer = rng.gen_range(0..CUSTOMERS);
        let status = if rng.gen_range(0..10) == 0 { 0 } else { 700 };
        baskets.push((created, lines, customer, status));
    }
    baskets.sort_by_key(|b| b.0);
    let mut orders = Vec::with_capacity(baskets.len());
    for (k, (created, lines, customer, status)) in baskets.into_iter().enumerate() {
        let total: i64 = lines.iter().filter_map(|l| l["price"].as_i64()).sum();
        let day =
            DateTime::from_timestamp(created, 0).map_or(String::new(), |t| t.format("%Y%m%d").to_string());
        orders.push(json!({
            "order_id": FIRST_ORDER_ID + k as u64,
            // As the marketplace numbers them: by day, so in the order they were placed.
            "invoice_ref_num": format!("INV/{day}/MPL/{}", 3_000_000_000u64 + k as u64),
            "buyer": {"id": customer, "name": format!("Pembeli {customer}"), "email": "", "phone": ""},
            "products": lines,
            "order_status": status,
            "create_time": created,
            "payment_date": created + 600,
            "update_time": created + 86_400,
            "amt": {"ttl_product_price": total, "shipping_cost": 9000, "ttl_amount": total + 9000},
        }));
    }

    let mut index = String::new();
    let mut bytes = 0u64;
    let mut seq = 0;
    let mut write = |url: String, records: &[Value]| -> std::io::Result<()> {
        seq += 1;
        let file = format!("{seq:05}.json");
        let body = serde_json::to_string(&json!({
            "header": {"process_time": 0, "messages": "", "reason": "", "error_code": ""},
            "data": records,
        }))?;
        bytes += body.len() as u64;
        std::fs::write(dir.join(&file), body)?;
        // Page sizes the client never asks (it asks 50 and 100): every request is answered
        // by the mock's fallback, which pages through all recorded records.
        index.push_str(&serde_json::to_string(&json!({
            "seq": seq, "source": 0, "method": "GET", "url": url, "status": 200,
            "headers": {"content-type": "application/json"}, "body": file,
            "at": "2026-11-01T00:00:00Z",
        }))?);
        index.push('\n');
        Ok(())
    };
    for (i, chunk) in products.chunks(RECORDED_PAGE).enumerate() {
        write(
            format!(
                "http://recording.invalid/inventory/v1/fs/15001/product/info?shop_id=479573&page={}&per_page={RECORDED_PAGE}&sort=2",
                i + 1
            ),
            chunk,
        )?;
    }
    for (i, chunk) in orders.chunks(RECORDED_PAGE).enumerate() {
        write(
            format!(
                "http://recording.invalid/v2/order/list?fs_id=15001&shop_id=479573&from_date={}&to_date={NOW}&page={}&per_page={RECORDED_PAGE}",
                NOW - span,
                i + 1
            ),
            chunk,
        )?;
    }
    bytes += index.len() as u64;
    std::fs::write(dir.join("index.jsonl"), index)?;
    Ok((orders.len(), bytes))
}
