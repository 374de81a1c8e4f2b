//! Two `laris serve` replicas as real, separate processes on one throwaway PostgreSQL
//! database (README "Running several replicas"):
//!
//! - a model made by a sync on replica A is served by replica B within about a second (B
//!   follows A's announcement; the measured delay is printed);
//! - an admin session made on A works on B, and signing out on B ends it on A;
//! - failover: A is killed with SIGKILL in the middle of a slow sync. B's sync is refused
//!   with 409 naming A while A's lease is still valid; once it expires B takes the shop
//!   over, finishes from A's cursors, and the shop ends with exactly the products and orders
//!   of the recording, none twice.
//!
//! The marketplace is the demo recording served in this process by
//! `laris::cli::mock_marketplace`; the slow shop reaches it through a relay on 127.0.0.1
//! that holds every request back a little, so that its sync takes several seconds. Every
//! child process is killed when its guard is dropped, also when an assertion fails.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, SaltString};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use laris::cli::mock_marketplace::{self, MockMarketplace};
use laris::store::postgres::testing::{fresh_database, numbers};

/// The shop synced through the slow relay: the one A is killed in.
const SLOW: &str = "lengkuas";
/// The shop synced straight from the mock: the one whose new model B must pick up.
const FAST: &str = "cepat";
const TOKEN: &str = "replicas-test-admin-token-0123456789";
const PASSWORD: &str = "kopi-susu-gula-aren";
/// `[store] sync_lease_secs` of both replicas: a killed holder's lease lasts this long.
const LEASE_SECS: u64 = 6;
/// How long the relay holds each request of the slow shop back.
const RELAY_DELAY: Duration = Duration::from_millis(100);
/// The longest wait for anything that should happen by itself (a start, a sync).
const PATIENCE: Duration = Duration::from_secs(120);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn demo_recording() -> PathBuf {
    repo().join("demo/lengkuas/recording")
}

// ---- what the recording holds, read independently of the importer ---------------------

/// The distinct product ids and order ids in the demo recording's answered pages.
fn recorded_ids() -> (HashSet<String>, HashSet<String>) {
    let dir = demo_recording();
    let index = std::fs::read_to_string(dir.join("index.jsonl")).unwrap();
    let (mut products, mut orders) = (HashSet::new(), HashSet::new());
    for line in index.lines() {
        let ex: Value = serde_json::from_str(line).unwrap();
        let url = ex["url"].as_str().unwrap();
        let Some(body) = ex["body"].as_str() else {
            continue;
        };
        if ex["status"] != 200 {
            continue;
        }
        let page: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(body)).unwrap()).unwrap();
        let data = page["data"].as_array().cloned().unwrap_or_default();
        if url.contains("/product/info") {
            for p in data {
                products.insert(p["basic"]["productID"].to_string());
            }
        } else if url.contains("/order/list") {
            for o in data {
                orders.insert(o["order_id"].to_string());
            }
        }
    }
    (products, orders)
}

// ---- child processes --------------------------------------------------------------------

/// A child process, killed (SIGKILL) and reaped when dropped. Its output goes to files, so
/// nothing blocks on a full pipe and a failure can quote it.
struct Proc {
    child: Child,
    stderr: PathBuf,
}

impl Proc {
    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(8)..].join(" | ")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A started replica: its process and base URL.
struct Replica {
    name: &'static str,
    proc: Proc,
    base: String,
}

/// Starts `laris serve` on a free port of 127.0.0.1 with its own data directory, with no
/// `LARIS_*` or proxy variables of the test's environment, and waits (bounded) until this
/// very process answers `/healthz`.
fn start_replica(name: &'static str, config: &Path, dir: &Path) -> Replica {
    let data = dir.join(format!("data-{name}"));
    std::fs::create_dir_all(&data).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_laris"));
    cmd.current_dir(repo())
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdin(Stdio::null());
    for (var, _) in std::env::vars_os() {
        let upper = var.to_string_lossy().to_uppercase();
        if upper.starts_with("LARIS_") || upper.ends_with("_PROXY") {
            cmd.env_remove(&var);
        }
    }
    cmd.env("RUST_LOG", "warn");
    let stderr = dir.join(format!("{name}.err"));
    let child = cmd
        .stdout(std::fs::File::create(dir.join(format!("{name}.out"))).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start replica {name}: {e}"));
    let mut proc = Proc { child, stderr };
    let started = Instant::now();
    let http = client(Duration::from_secs(5));
    loop {
        if let Ok(Some(status)) = proc.child.try_wait() {
            panic!(
                "replica {name} ended ({status}) before it answered: {}",
                proc.stderr_tail()
            );
        }
        let file: Option<Value> = std::fs::read(data.join("laris.serve.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(file) = file.filter(|f| f["pid"].as_u64() == Some(u64::from(proc.pid()))) {
            let base = format!("http://{}", file["addr"].as_str().unwrap_or_default());
            if http
                .get(format!("{base}/healthz"))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                return Replica { name, proc, base };
            }
        }
        if started.elapsed() > PATIENCE {
            proc.kill9();
            panic!(
                "replica {name} did not answer /healthz within {} s: {}",
                PATIENCE.as_secs(),
                proc.stderr_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Replica {
    fn healthz(&self) -> Value {
        client(Duration::from_secs(10))
            .get(format!("{}/healthz", self.base))
            .send()
            .and_then(|r| r.json())
            .unwrap_or(Value::Null)
    }

    fn sync(&self, http: &reqwest::blocking::Client, shop: &str) -> (u16, String) {
        let resp = http
            .post(format!("{}/admin/api/shops/{shop}/sync", self.base))
            .bearer_auth(TOKEN)
            .send()
            .unwrap_or_else(|e| panic!("POST sync of {shop} on {}: {e}", self.name));
        let status = resp.status().as_u16();
        (status, resp.text().unwrap_or_default())
    }

    fn admin_json(&self, path: &str) -> Value {
        let resp = client(Duration::from_secs(30))
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .unwrap_or_else(|e| panic!("GET {path} on {}: {e}", self.name));
        assert_eq!(resp.status(), 200, "GET {path} on {}", self.name);
        resp.json().unwrap()
    }
}

/// A blocking client that shows redirects instead of following them and never uses a proxy.
fn client(timeout: Duration) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .unwrap()
}

// ---- the marketplace and the slow relay, on a runtime of the test's own ------------------

/// The mock marketplace and a relay in front of it that holds every request back by
/// [`RELAY_DELAY`]; both stop with the runtime when this is dropped.
struct Marketplace {
    _runtime: tokio::runtime::Runtime,
    direct: String,
    slow: String,
}

fn start_marketplace() -> Marketplace {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (direct, slow) = runtime.block_on(async {
        let mock = MockMarketplace::open(&demo_recording()).expect("the demo recording opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mock_addr = listener.local_addr().unwrap();
        tokio::spawn(mock_marketplace::serve(mock, listener, std::future::pending()));
        let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay_addr = relay.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((conn, _)) = relay.accept().await {
                tokio::spawn(relay_one(conn, mock_addr));
            }
        });
        (format!("http://{mock_addr}"), format!("http://{relay_addr}"))
    });
    Marketplace {
        _runtime: runtime,
        direct,
        slow,
    }
}

/// Relays one connection to `upstream`, holding back every chunk the client sends (a
/// request, as the sync sends one at a time) by [`RELAY_DELAY`].
async fn relay_one(client: tokio::net::TcpStream, upstream: SocketAddr) {
    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let requests = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match from_client.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            tokio::time::sleep(RELAY_DELAY).await;
            if to_server.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = to_server.shutdown().await;
    };
    let answers = async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::join!(requests, answers);
}

// ---- the config both replicas share -----------------------------------------------------

/// An argon2id hash with tiny parameters, so that the debug build signs in quickly.
fn cheap_hash(plain: &str) -> String {
    let params = argon2::Params::new(8, 1, 1, None).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon.hash_password(plain.as_bytes(), &salt).unwrap().to_string()
}

/// `history_days` reaching back before the demo's first order (May 2026), whatever today is.
fn history_days() -> i64 {
    (chrono::Utc::now() - chrono::DateTime::from_timestamp(1_775_000_000, 0).unwrap()).num_days() + 30
}

fn shop_block(id: &str, base: &str) -> String {
    // The schedule is once a year at an hour no test runs at, so that only the test's own
    // requests sync.
    format!(
        r#"
[[shops]]
id = "{id}"
name = "Toko {id}"
timezone = "Asia/Jakarta"
sync_schedule = "0 0 3 1 1 *"

[[shops.sources]]
kind = "marketplace_api"
base_url = "{base}"
token_url = "{base}/token"
fs_id = "15001"
shop_id = "479573"
client_id = "laris-replicas"
client_secret = "replicas-test-secret"
history_days = {days}
http = {{ retries = 4, backoff_ms = 10, connect_timeout_secs = 2, read_timeout_secs = 20 }}
"#,
        days = history_days()
    )
}

fn write_config(dir: &Path, database: &str, market: &Marketplace) -> PathBuf {
    let text = format!(
        r#"
[log]
level = "warn"

[admin]
token = "{TOKEN}"
password_hash = "{hash}"

[store]
backend = "postgres"
url = "{database}"
pool_size = 4
sync_lease_secs = {LEASE_SECS}
{slow}{fast}"#,
        hash = cheap_hash(PASSWORD),
        slow = shop_block(SLOW, &market.slow),
        fast = shop_block(FAST, &market.direct),
    );
    let path = dir.join("laris.toml");
    std::fs::write(&path, text).unwrap();
    path
}

// ---- the test ---------------------------------------------------------------------------

/// The state of B's widget answer for the fast shop's product: status and whether it
/// recommends anything.
fn widget_answer(http: &reqwest::blocking::Client, replica: &Replica, product: &str) -> (u16, usize) {
    match http
        .get(format!(
            "{}/v1/shops/{FAST}/recommendations?product={product}",
            replica.base
        ))
        .send()
    {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body: Value = resp.json().unwrap_or(Value::Null);
            let similar = body["similar"].as_array().map_or(0, |a| a.len());
            (status, similar)
        }
        Err(_) => (0, 0),
    }
}

fn hidden_csrf(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("the page carries a csrf field") + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

fn count(database: &str, sql: &str) -> i64 {
    numbers(database, sql).first().copied().unwrap_or(0)
}

#[test]
fn two_replica_processes_share_models_and_sessions_and_one_takes_over_a_sync_the_other_died_in() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database();
    let market = start_marketplace();
    let config = write_config(dir.path(), &database, &market);
    let (recorded_products, recorded_orders) = recorded_ids();
    assert!(
        !recorded_products.is_empty() && !recorded_orders.is_empty(),
        "the demo recording holds products and orders"
    );

    let mut a = start_replica("a", &config, dir.path());
    let b = start_replica("b", &config, dir.path());
    let http = client(PATIENCE);
    let quick = client(Duration::from_secs(10));

    // 1. A model made on A is served by B within a second.
    let product = "SRD-100";
    let before = widget_answer(&quick, &b, product);
    assert!(
        before.0 != 200 || before.1 == 0,
        "B recommends for {FAST} before any sync: {before:?}"
    );
    let (status, body) = a.sync(&http, FAST);
    assert_eq!(status, 200, "the sync of {FAST} on A: {body}");
    let outcome: Value = serde_json::from_str(&body).unwrap();
    assert!(outcome["model"].is_object(), "A rebuilt the model: {outcome}");
    let synced = Instant::now();
    let delay = loop {
        let now = widget_answer(&quick, &b, product);
        if now.0 == 200 && now.1 > 0 {
            break synced.elapsed();
        }
        assert!(
            synced.elapsed() < Duration::from_secs(10),
            "B still answers {now:?} for {FAST}'s {product} 10 s after A's model was made"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!(
        "replicas: B served A's new model {} ms after A's sync answered",
        delay.as_millis()
    );

    // 2. A session made on A works on B; signing out on B ends it on A.
    let resp = quick
        .post(format!("{}/admin/login", a.base))
        .form(&[("user", "admin"), ("password", PASSWORD)])
        .send()
        .unwrap();
    assert_eq!(resp.status(), 303, "sign-in on A");
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    let session = set_cookie.split(';').next().unwrap().to_string();
    assert!(session.starts_with("laris_session="), "{set_cookie}");
    let cookie = format!("{session}; laris_lang=en");
    let page_on = |replica: &Replica| {
        quick
            .get(format!("{}/admin/shops/{FAST}", replica.base))
            .header("cookie", &cookie)
            .send()
            .unwrap()
    };
    let on_b = page_on(&b);
    assert_eq!(on_b.status(), 200, "A's session opens a page on B");
    let page = on_b.text().unwrap();
    assert!(page.contains("Signed in as <strong>admin</strong>"), "{page}");
    let api_on_b = quick
        .get(format!("{}/admin/api/shops/{FAST}/tiers", b.base))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(api_on_b.status(), 200, "A's session opens the admin API on B");
    let out = quick
        .post(format!("{}/admin/logout", b.base))
        .header("cookie", &cookie)
        .form(&[("csrf", hidden_csrf(&page))])
        .send()
        .unwrap();
    assert_eq!(out.status(), 303, "sign-out on B");
    let on_a = page_on(&a);
    assert_eq!(
        on_a.status(),
        303,
        "the session signed out on B no longer opens A's pages"
    );
    assert!(
        on_a.headers()["location"]
            .to_str()
            .unwrap()
            .contains("/admin/login"),
        "A sends the signed-out cookie to the sign-in page"
    );

    // 3. Failover: A dies mid-sync, B takes the shop over once A's lease has expired.
    let orders_sql = format!("SELECT count(*) FROM orders WHERE shop = '{SLOW}'");
    let products_sql = format!("SELECT count(*) FROM products WHERE shop = '{SLOW}'");
    let a_base = a.base.clone();
    let trigger = std::thread::spawn(move || {
        // Ends with an error when A is killed: the answer never comes.
        let _ = client(PATIENCE)
            .post(format!("{a_base}/admin/api/shops/{SLOW}/sync"))
            .bearer_auth(TOKEN)
            .send();
    });
    let started = Instant::now();
    loop {
        let holds = a.healthz()["sync_leases"]
            .as_array()
            .is_some_and(|l| l.iter().any(|s| s == SLOW));
        let orders = count(&database, &orders_sql);
        if holds && orders > 0 {
            assert!(
                (orders as usize) < recorded_orders.len(),
                "A finished before it could be killed ({orders} orders): the relay is not slow enough"
            );
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "A did not hold {SLOW}'s lease with a page committed within {} s: {}",
            PATIENCE.as_secs(),
            a.proc.stderr_tail()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let a_pid = a.proc.pid();
    a.proc.kill9();
    let killed = Instant::now();
    let _ = trigger.join();
    let orders_at_kill = count(&database, &orders_sql);
    // What the database says of A's lease now: its holder and how long it still lasts.
    let lease_left = Duration::from_millis(count(
        &database,
        &format!(
            "SELECT greatest(0, (extract(epoch FROM expires_at - now()) * 1000))::bigint \
                 FROM sync_leases WHERE shop = '{SLOW}' AND holder LIKE '%:{a_pid}:%'"
        ),
    ) as u64);
    eprintln!(
        "replicas: A killed with {orders_at_kill} of {} orders committed; its lease lasts {} ms more",
        recorded_orders.len(),
        lease_left.as_millis()
    );
    assert!(
        lease_left > Duration::ZERO,
        "A's lease is in the database, unexpired, right after the kill"
    );

    // While A's lease is valid, B is refused, naming A.
    let (status, body) = b.sync(&quick, SLOW);
    assert_eq!(status, 409, "B's sync while A's lease is valid: {body}");
    assert!(
        body.contains(&format!(":{a_pid}:")),
        "the refusal names A (pid {a_pid}): {body}"
    );

    // Once it has expired, B takes the shop over and finishes the sync.
    let (outcome, taken_at) = loop {
        let attempt = killed.elapsed();
        let (status, body) = b.sync(&http, SLOW);
        match status {
            200 => break (serde_json::from_str::<Value>(&body).unwrap(), attempt),
            409 => {}
            other => panic!("B's sync of {SLOW} answered {other}: {body}"),
        }
        assert!(
            killed.elapsed() < Duration::from_secs(LEASE_SECS * 5),
            "B did not take {SLOW} over within {} s of A's death: {body}",
            LEASE_SECS * 5
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let finished = killed.elapsed();
    eprintln!(
        "replicas: B took {SLOW} over {} ms after A was killed and finished its sync after {} ms (lease {LEASE_SECS} s)",
        taken_at.as_millis(),
        finished.as_millis()
    );
    // A little slack for the two clocks' reading: the test's and the database's.
    assert!(
        taken_at + Duration::from_millis(300) >= lease_left,
        "B took the shop over {} ms after the kill, before A's lease ran out ({} ms)",
        taken_at.as_millis(),
        lease_left.as_millis()
    );
    assert_eq!(outcome["ok"], true, "B's sync: {outcome}");
    assert!(outcome["model"].is_object(), "B rebuilt the model: {outcome}");
    assert!(
        b.healthz()["sync_leases"]
            .as_array()
            .is_some_and(|l| l.is_empty()),
        "B released the lease"
    );

    // Exactly the recording's products and orders, none twice, in the rows and the counts.
    assert_eq!(count(&database, &products_sql) as usize, recorded_products.len());
    assert_eq!(count(&database, &orders_sql) as usize, recorded_orders.len());
    assert_eq!(
        count(
            &database,
            &format!("SELECT count(DISTINCT marketplace_id) FROM orders WHERE shop = '{SLOW}'")
        ) as usize,
        recorded_orders.len(),
        "no order is stored twice"
    );
    let status = b.admin_json(&format!("/admin/api/status?shop={SLOW}"));
    let shop = status["shops"]
        .as_array()
        .and_then(|shops| shops.iter().find(|s| s["id"] == SLOW))
        .unwrap_or_else(|| panic!("no {SLOW} in the status: {status}"));
    assert_eq!(
        (shop["products"].as_u64(), shop["orders"].as_u64()),
        (
            Some(recorded_products.len() as u64),
            Some(recorded_orders.len() as u64)
        ),
        "the shop's counts: {shop}"
    );
}
