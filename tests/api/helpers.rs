//! `spawn_app()`: a real laris on 127.0.0.1:0 with a temporary store seeded from the demo
//! shop's recording and events, and a client for it.

use std::path::{Path, PathBuf};

use laris::app::Application;
use laris::config::Settings;

pub const TOKEN: &str = "test-admin-token-0123456789";
pub const SECRET: &str = "test-customer-secret-0123456789";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn demo_recording() -> PathBuf {
    repo().join("demo/lengkuas/recording")
}

/// The demo shop's synthetic widget events (`shops[].seed_events`).
pub fn demo_events() -> PathBuf {
    repo().join("demo/lengkuas/events.jsonl")
}

/// The config the tests run with: the demo shop, an admin token, paths made absolute.
pub fn test_config_text() -> String {
    format!(
        r#"
[server]
demo_images = "{images}"
max_body_bytes = 4096
[admin]
token = "{TOKEN}"
[[shops]]
id = "lengkuas"
name = "Lengkuas Nusantara"
seed_recording = "{rec}"
seed_events = "{events}"
allowed_origins = ["*"]
customer_secret = "{SECRET}"
[shops.recommend]
upsell_discount_pct = 10
bundle_discount_pct = 5
[[shops.offers]]
title = "Beli 2 Serundeng, gratis Tepung Lengkuas"
buy = [{{ product = "SRD-100", quantity = 2 }}]
free = [{{ product = "TPG-100", quantity = 1 }}]
"#,
        images = repo().join("demo/lengkuas/images").display(),
        rec = demo_recording().display(),
        events = demo_events().display()
    )
}

pub fn test_settings() -> Settings {
    Settings::from_toml(&test_config_text(), Path::new("test.toml"), &[]).expect("test config is valid")
}

pub struct TestApp {
    pub base: String,
    pub store: laris::store::SharedStore,
    /// The running service's model snapshots (what it serves).
    pub models: std::sync::Arc<laris::model::rebuild::Models>,
    /// The running service's event summaries: events stored through it are counted.
    pub event_log: std::sync::Arc<laris::web::event_log::EventLog>,
    /// The running service's prepared widget answers.
    pub prepared: std::sync::Arc<laris::web::prepared::cache::PreparedAnswers>,
    /// The running service's sync agent (a test may hold a shop's claim, as a sync does).
    pub sync: std::sync::Arc<laris::sync::agent::SyncAgent>,
    pub http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
    /// The data directory: the last field, so that it is removed only after every store
    /// handle above is dropped (sled still writes into it until its last handle goes; a
    /// large value goes to a file of its own there, and a store that lost its directory
    /// never finishes its final flush).
    _data_dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Never stopped (a failed assertion, or a test that ends without `stop`): the
        // service still holds the store and may write after this, so the directory is kept
        // rather than removed under it.
        if self.handle.is_some() {
            let dir = std::mem::replace(&mut self._data_dir, tempfile::tempdir().unwrap());
            let _ = dir.keep();
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_settings()).await
}

/// A laris with these settings (e.g. with admin passwords or a second shop).
pub async fn spawn_app_with(settings: Settings) -> TestApp {
    spawn_app_in(settings, tempfile::tempdir().unwrap()).await
}

/// A laris on an existing data directory: a restart after [`TestApp::stop_keeping_data`].
pub async fn spawn_app_in(settings: Settings, data_dir: tempfile::TempDir) -> TestApp {
    let app = Application::build(settings, data_dir.path(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("app builds");
    let base = format!("http://{}", app.local_addr());
    let store = app.state().store.clone();
    let models = app.state().models.clone();
    let event_log = app.state().event_log.clone();
    let prepared = app.state().prepared.clone();
    let sync = app.state().sync.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    TestApp {
        base,
        _data_dir: data_dir,
        store,
        models,
        event_log,
        prepared,
        sync,
        http: reqwest::Client::new(),
        shutdown: Some(tx),
        handle: Some(handle),
    }
}

impl TestApp {
    /// The data directory the server runs with.
    pub fn data_dir(&self) -> &Path {
        self._data_dir.path()
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    pub async fn admin_post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// Stops the server like [`TestApp::stop`] and hands back its data directory, the store
    /// closed, for a restart on it ([`spawn_app_in`]).
    pub async fn stop_keeping_data(mut self) -> tempfile::TempDir {
        let data_dir = std::mem::replace(&mut self._data_dir, tempfile::tempdir().unwrap());
        self.stop().await;
        data_dir
    }

    /// Stops the server the way Ctrl-C does and waits for it to flush.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap();
        }
    }
}

/// Counts the orders in the demo recording's bodies, independently of the importer.
pub fn orders_in_demo_recording() -> usize {
    let index = std::fs::read_to_string(demo_recording().join("index.jsonl")).unwrap();
    let mut n = 0;
    for line in index.lines() {
        let ex: serde_json::Value = serde_json::from_str(line).unwrap();
        if ex["url"].as_str().unwrap().contains("/order/list") {
            let body = std::fs::read_to_string(demo_recording().join(ex["body"].as_str().unwrap())).unwrap();
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            n += v["data"].as_array().unwrap().len();
        }
    }
    n
}

/// `history_days` for a sync that reaches back before the demo's first order (May 2026),
/// whatever today's date.
pub fn demo_history_days() -> i64 {
    (chrono::Utc::now() - chrono::DateTime::from_timestamp(1_775_000_000, 0).unwrap()).num_days() + 30
}
