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
