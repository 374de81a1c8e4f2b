//! Opening the store: the one place that names a backend's type. `laris serve`
//! ([`crate::app::Application::build`]) and every CLI command that reads or writes the
//! store directly call [`open_store`] (the CLI through [`open_store_blocking`]); all of
//! them get a [`SharedStore`] and use the [`crate::store::ShopStore`] trait only.
//!
//! The store is sled's, in the data directory (`{data_dir}/store`), unless `[store]
//! backend = "postgres"` names a PostgreSQL database (`url` or `LARIS_STORE_URL`), whose
//! schema is brought up to date on opening. Nothing above this module knows which.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};

use crate::config::{Settings, StoreBackend};
use crate::store::postgres::{PgOptions, PgStore};
use crate::store::{SharedStore, ShopStore, Store};

/// Whether opening may create a store where there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// For what brings data in (`serve`, `import`, `sync`, `replay`): an empty store is
    /// created when there is none.
    CreateIfMissing,
    /// For a command that only reads: a missing store is an error naming where it was
    /// looked for (a mistyped `--data-dir`), and nothing is created.
    Existing,
}

/// Opens the store for the service or a command, as `[store]` chooses: sled's in
/// `data_dir` (a store that another process holds is [`crate::store::StoreError::Locked`],
/// whose message says how to go through the running service instead), or the PostgreSQL
/// database `[store] url` names, migrated to this laris's schema.
pub async fn open_store(
    settings: &Settings,
    data_dir: &Path,
    opening: Opening,
) -> anyhow::Result<SharedStore> {
    match settings.store.backend {
        StoreBackend::Sled => {
            if opening == Opening::Existing && !Store::exists(data_dir) {
                bail!(
                    "no store at {}: pass --data-dir (or LARIS_DATA_DIR) naming the directory `laris serve` uses, or bring data in first with `laris serve`, `laris import`, `laris sync` or `laris replay`",
                    data_dir.display()
                );
            }
            // Opening reads the store's pages (and upgrades an older format once): off
            // the async threads.
            let dir = data_dir.to_path_buf();
            let store = tokio::task::spawn_blocking(move || Store::open(&dir)).await??;
            Ok(Arc::new(store))
        }
        StoreBackend::Postgres => {
            let Some(url) = settings.store.url.clone() else {
                bail!(
                    "[store] backend = \"postgres\" needs the database: set url under [store] in {} (or LARIS_STORE_URL)",
                    settings.source.display()
                );
            };
            let options = PgOptions {
                url,
                pool_size: settings.store.pool_size,
                statement_timeout: settings.store.statement_timeout,
            };
            let store = tokio::task::spawn_blocking(move || PgStore::connect(&options)).await??;
            Ok(Arc::new(store))
        }
    }
}

/// [`open_store`] for a command that runs outside any async runtime: opens the store on a
/// runtime of its own, dropped once the store is open. A backend whose handle needs a
/// runtime after that keeps one itself. Must not be called from async code (use
/// [`open_store`] there).
pub fn open_store_blocking(
    settings: &Settings,
    data_dir: &Path,
    opening: Opening,
) -> anyhow::Result<SharedStore> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(open_store(settings, data_dir, opening))
}

/// Where a store is: a sled data directory or a PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sled(PathBuf),
    Postgres(String),
}

impl StoreUrl {
    pub fn parse(raw: &str) -> anyhow::Result<StoreUrl> {
        let raw = raw.trim();
        if let Some(dir) = raw.strip_prefix("sled:") {
            if dir.is_empty() {
                bail!("{raw:?} names no directory: write sled:DIR, e.g. sled:/var/lib/laris/data");
            }
            return Ok(StoreUrl::Sled(PathBuf::from(dir)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(raw.to_string()));
        }
        bail!(
            "{raw:?} is not a store: write sled:DIR for a data directory (e.g. sled:{raw}) or postgres://USER@HOST/DATABASE for a PostgreSQL database"
        )
    }
}

/// For messages: a PostgreSQL URL without its password.
impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreUrl::Sled(dir) => write!(f, "sled:{}", dir.display()),
            StoreUrl::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                match rest.split_once('@') {
                    Some((user, host)) if user.contains(':') => {
                        let name = user.split(':').next().unwrap_or_default();
                        write!(f, "{scheme}://{name}:***@{host}")
                    }
                    _ => f.write_str(url),
                }
            }
        }
    }
}

/// Opens the store a URL names (`laris store copy`), outside any async runtime; with
/// `source`, it must exist already.
pub fn open_store_at(url: &StoreUrl, source: bool) -> anyhow::Result<Box<dyn ShopStore>> {
    match url {
        StoreUrl::Sled(dir) => {
            if source && !Store::exists(dir) {
                bail!(
                    "no store at {}: name the data directory `laris serve` uses (its --data-dir)",
                    dir.display()
                );
            }
            let store = Store::open(dir).with_context(|| {
                format!(
                    "opening {url}: stop the `laris serve` that holds it first (a copy needs both stores to itself)"
                )
            })?;
            Ok(Box::new(store))
        }
        StoreUrl::Postgres(raw) => {
            let store =
                PgStore::connect(&PgOptions::new(raw.clone())).with_context(|| format!("opening {url}"))?;
            Ok(Box::new(store))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::from_toml("[[shops]]\nid = \"toko\"\n", Path::new("t.toml"), &[]).unwrap()
    }

    #[tokio::test]
    async fn the_store_is_sleds_in_the_data_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let store = open_store(&settings(), &dir, Opening::CreateIfMissing)
            .await
            .unwrap();
        assert_eq!(store.backend_name(), "sled");
        assert!(Store::exists(&dir), "created in {}", dir.display());
    }

    #[tokio::test]
    async fn a_second_opening_of_a_held_store_is_refused_as_locked() {
        let tmp = tempfile::tempdir().unwrap();
        let _held = open_store(&settings(), tmp.path(), Opening::CreateIfMissing)
            .await
            .unwrap();
        let err = open_store(&settings(), tmp.path(), Opening::Existing)
            .await
            .err()
            .expect("held by the first");
        assert!(
            matches!(
                err.downcast_ref::<crate::store::StoreError>(),
                Some(crate::store::StoreError::Locked(_))
            ),
            "{err:#}"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn store_backend_postgres_opens_the_database_migrated() {
        let url = crate::store::postgres::testing::fresh_database();
        let toml = format!("[store]\nbackend = \"postgres\"\nurl = \"{url}\"\n\n[[shops]]\nid = \"toko\"\n");
        let settings = Settings::from_toml(&toml, Path::new("t.toml"), &[]).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let store = open_store(&settings, tmp.path(), Opening::Existing)
            .await
            .unwrap();
        assert_eq!(store.backend_name(), "postgres");
        let toko = crate::domain::ShopId::parse("toko").unwrap();
        assert!(!store.has_data(&toko).unwrap());
        assert!(!tmp.path().join("store").exists(), "no sled store made beside it");
    }
}

/// The service on PostgreSQL through a database outage, end to end: the database is
/// stopped under a running service and started again. Widgets keep answering from the
/// model in memory, the admin API and pages answer 503 saying Laris retries by itself,
/// widget events are held in memory (and dropped and counted once the queue is full), and
/// after the restart everything answers again and the held events are stored in order.
#[cfg(test)]
mod outage {
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
        // A visitor's widget asks all along, through the stop and the start.
        let (done, mut finished) = tokio::sync::watch::channel(false);
        let visitor = {
            let (http, url) = (http.clone(), format!("{base}{fragment}"));
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                while !*finished.borrow_and_update() {
                    statuses.push(
                        http.get(&url)
                            .send()
                            .await
                            .map(|r| r.status().as_u16())
                            .unwrap_or(0),
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                statuses
            })
        };

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

        // A sync asked for now: 503 as well (a scheduled one logs and runs at its next time).
        let resp = http
            .post(format!("{base}/admin/api/shops/lengkuas/sync"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 503);

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
        let _ = done.send(true);
        let statuses = visitor.await.unwrap();
        assert!(statuses.len() > 10, "{statuses:?}");
        assert!(
            statuses.iter().all(|s| *s == 200),
            "a widget answer failed: {statuses:?}"
        );

        let _ = stop.send(());
        running.await.unwrap().unwrap();
    }
}
