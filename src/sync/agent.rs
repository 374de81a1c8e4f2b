//! The sync agent: runs a shop's sources one after the other, each through the shared
//! import pipeline with its own report, then rebuilds the shop's recommendation model when
//! anything changed. Used by `laris sync`, the schedule inside `laris serve`, and
//! `POST /admin/api/shops/{shop}/sync`. Two runs of one shop never overlap: the second is
//! refused with [`SyncError::Busy`] (replays and imports take the same claim). A run given
//! the service's shutdown signal ([`SyncOptions::stop`]) stops after the page it is on and
//! stores its reports, so a stop leaves no interrupted run behind.
//!
//! Replicas sharing a store: a claim also takes the shop's sync lease in the store
//! ([`crate::store::ShopStore::claim_sync`]) under this agent's holder id (host, pid and a
//! random part, made at start), renews it every third of its time while the run (and the
//! rebuild after it) goes on, and releases it at the end. A shop whose lease another
//! replica holds is refused with [`SyncError::Leased`], naming that replica; a replica
//! that died without releasing its lease loses it once its time runs out.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::source::SourceSettings;
use crate::config::{Settings, ShopSettings};
use crate::domain::ShopId;
use crate::model::rebuild::{ModelSummary, Models};
use crate::records::RunKind;
use crate::records::{Quarantined, SyncReport};
use crate::store::{SharedStore, StoreError};
use crate::sync::api::{ApiRun, Progress, Tokens};
use crate::sync::files::FileKind;
use crate::sync::http::{Fetcher, Recorder};
use crate::sync::pipeline::{ImportError, Importer};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("unknown shop {0:?}: shops are configured as [[shops]] in laris.toml")]
    UnknownShop(String),
    #[error("shop {0} is syncing already; wait for that run to finish (`laris status --shop {0}` shows its report)")]
    Busy(ShopId),
    #[error("shop {shop} is syncing on another replica ({holder}); wait for that run to finish (a replica that stopped without finishing loses the shop's lease after {ttl_secs} s)")]
    Leased {
        shop: ShopId,
        holder: String,
        ttl_secs: u64,
    },
    #[error("cannot record into {dir}: {error}")]
    Record { dir: PathBuf, error: std::io::Error },
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

impl SyncError {
    /// The store's error when it is that the database is unreachable right now
    /// ([`StoreError::is_unavailable`]): the caller answers 503 and the run may be retried.
    pub fn unavailable(&self) -> Option<&StoreError> {
        match self {
            SyncError::Store(e) | SyncError::Import(ImportError::Store(e)) if e.is_unavailable() => Some(e),
            _ => None,
        }
    }
}

/// How one run goes.
pub struct SyncOptions {
    /// Write a recording of the run into a new directory under this one.
    pub record: Option<PathBuf>,
    /// Read every product page (and mark vanished products inactive) whatever the schedule.
    pub full: bool,
    pub progress: Arc<dyn Progress>,
    /// The run's "now" (order windows end here); the clock when `None`.
    pub now: Option<DateTime<Utc>>,
    /// The service's shutdown signal. Once true no new request starts: the source under way
    /// records that it stopped, the run stores its reports, and the model is rebuilt at the
    /// next start rather than now.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            record: None,
            full: false,
            progress: Arc::new(crate::sync::api::Quiet),
            now: None,
            stop: None,
        }
    }
}

/// What one run of one shop did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShopSync {
    pub shop: String,
    /// One report per source, in configuration order.
    pub reports: Vec<SyncReport>,
    /// Every source finished without an error.
    pub ok: bool,
    /// Some product or order was written.
    pub changed: bool,
    /// The rebuilt model, when data changed.
    pub model: Option<ModelSummary>,
    /// The recording written, with `--record`.
    pub recording: Option<PathBuf>,
}

/// An export file uploaded from the dashboard, saved whole at `path` (the caller removes it).
#[derive(Debug, Clone)]
pub struct Upload {
    pub path: PathBuf,
    /// The file's name as uploaded: shown in the report and the quarantined rows' origins.
    pub name: String,
    /// `None`: read from the header row.
    pub kind: Option<FileKind>,
}

/// What importing an upload did.
#[derive(Debug, Clone, Serialize)]
pub struct UploadRun {
    pub shop: String,
    /// What the file was read as; `None` when it could not be read at all.
    pub kind: Option<FileKind>,
    /// The import's report, also kept with the shop's sync reports (kind `import`).
    pub report: SyncReport,
    /// The rows this import quarantined, in file order.
    pub quarantined: Vec<Quarantined>,
    /// The rebuilt model, when data changed.
    pub model: Option<ModelSummary>,
}

/// Shared by every run of the service (or of one `laris sync`).
pub struct SyncAgent {
    settings: Arc<Settings>,
    store: SharedStore,
    models: Arc<Models>,
    tokens: Tokens,
    tiktok_tokens: crate::sync::tiktok_shop::run::TikTokTokens,
    running: Mutex<HashSet<ShopId>>,
    /// This replica's name on the sync leases it takes.
    holder: String,
    /// How long a lease lasts unless renewed (`[store] sync_lease_secs`): what a replica
    /// that dies mid-run keeps the shop from the others at most.
    lease_ttl: Duration,
    /// Notified after every sync and rebuild: the outreach loop runs the shop's automations.
    synced: Arc<tokio::sync::Notify>,
}

/// A claim on a shop for one run, with the shop's sync lease; dropping it releases the
/// lease and lets the next run in.
pub struct Claim<'a> {
    agent: &'a SyncAgent,
    shop: ShopId,
    renewal: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
        if let Err(e) = self.agent.store.release_sync(&self.shop, &self.agent.holder) {
            tracing::warn!(shop = %self.shop, error = %e, "cannot release the sync lease: it expires by itself");
        }
        self.agent
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.shop);
    }
}

/// A replica's holder id: its host, its process and a random part (a restarted process
/// with the same pid is another holder).
/// The other sources of the shop that bring orders, as `kind#index`.
fn other_order_sources(shop: &ShopSettings, index: usize) -> Vec<String> {
    shop.sources
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            *i != index
                && match s {
                    SourceSettings::MarketplaceApi(_) | SourceSettings::TiktokShop(_) => true,
                    SourceSettings::ExportFiles(files) => !files.orders.is_empty(),
                    SourceSettings::Storefront(_) => false,
                }
        })
        .map(|(i, s)| format!("{}#{i}", s.kind()))
        .collect()
}

fn holder_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "laris".into());
    format!(
        "{host}:{}:{}",
        std::process::id(),
        hex::encode(rand::random::<[u8; 4]>())
    )
}

/// Renews the lease every third of its time until aborted; a lost lease is logged.
async fn renew(store: SharedStore, shop: ShopId, holder: String, ttl: Duration) {
    let mut every = tokio::time::interval(ttl / 3);
    every.tick().await;
    loop {
        every.tick().await;
        let (store, id, who) = (store.clone(), shop.clone(), holder.clone());
        match tokio::task::spawn_blocking(move || store.claim_sync(&id, &who, ttl)).await {
            Ok(Ok(true)) => tracing::debug!(shop = %shop, "sync lease renewed"),
            Ok(Ok(false)) => {
                tracing::warn!(shop = %shop, "the sync lease was lost to another replica (this run outlived it unrenewed)")
            }
            Ok(Err(e)) => tracing::warn!(shop = %shop, error = %e, "cannot renew the sync lease"),
            Err(e) => tracing::warn!(shop = %shop, error = %e, "the lease renewal task failed"),
        }
    }
}

impl SyncAgent {
    /// An agent whose sync leases last `[store] sync_lease_secs` unless renewed.
    pub fn new(settings: Arc<Settings>, store: SharedStore, models: Arc<Models>) -> SyncAgent {
        let lease_ttl = settings.store.sync_lease;
        SyncAgent {
            settings,
            store,
            models,
            tokens: Tokens::default(),
            tiktok_tokens: Default::default(),
            running: Mutex::new(HashSet::new()),
            holder: holder_id(),
            lease_ttl,
            synced: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// The same agent with sync leases lasting `ttl` (at least 30 ms) unless renewed.
    pub fn with_lease_ttl(mut self, ttl: Duration) -> SyncAgent {
        self.lease_ttl = ttl.max(Duration::from_millis(30));
        self
    }

    /// Notified after each sync and rebuild, for what follows one (the outreach loop).
    pub fn synced(&self) -> Arc<tokio::sync::Notify> {
        self.synced.clone()
    }

    /// This replica's name on the sync leases it holds.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The shops whose sync lease this replica holds now (a run of it is under way), by id.
    pub fn leases_held(&self) -> Vec<ShopId> {
        let mut shops: Vec<ShopId> = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect();
        shops.sort();
        shops
    }

    pub fn shop(&self, id: &str) -> Result<&ShopSettings, SyncError> {
        ShopId::parse(id)
            .ok()
            .and_then(|id| self.settings.shop(&id))
            .ok_or_else(|| SyncError::UnknownShop(id.to_string()))
    }

    /// Claims the shop for one run (sync, replay or import) with its sync lease, or says it
    /// is busy here ([`SyncError::Busy`]) or on another replica ([`SyncError::Leased`]).
    pub fn claim(&self, shop: &ShopId) -> Result<Claim<'_>, SyncError> {
        if !self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(shop.clone())
        {
            return Err(SyncError::Busy(shop.clone()));
        }
        let let_go = || {
            self.running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(shop);
        };
        match self.store.claim_sync(shop, &self.holder, self.lease_ttl) {
            Ok(true) => {}
            Ok(false) => {
                let_go();
                let holder = match self.store.sync_holder(shop) {
                    Ok(Some((holder, _))) => holder,
                    _ => "a replica that has just let it go".into(),
                };
                return Err(SyncError::Leased {
                    shop: shop.clone(),
                    holder,
                    ttl_secs: self.lease_ttl.as_secs().max(1),
                });
            }
            Err(e) => {
                let_go();
                return Err(e.into());
            }
        }
        let renewal = tokio::runtime::Handle::try_current().ok().map(|rt| {
            rt.spawn(renew(
                self.store.clone(),
                shop.clone(),
                self.holder.clone(),
                self.lease_ttl,
            ))
        });
        Ok(Claim {
            agent: self,
            shop: shop.clone(),
            renewal,
        })
    }

    /// Whether a run (sync, replay or import) holds the shop now.
    pub fn busy(&self, shop: &ShopId) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(shop)
    }

    /// Runs every source of the shop once.
    pub async fn sync_shop(&self, shop_id: &str, options: &SyncOptions) -> Result<ShopSync, SyncError> {
        let shop = self.shop(shop_id)?.clone();
        let _claim = self.claim(&shop.id)?;
        let now = options.now.unwrap_or_else(Utc::now);
        let recorder = match &options.record {
            Some(parent) => {
                let dir = parent.join(format!("{}-{}", shop.id, now.format("%Y%m%dT%H%M%SZ")));
                let recorder = Recorder::create(&dir).map_err(|error| SyncError::Record { dir, error })?;
                Some(Arc::new(recorder))
            }
            None => None,
        };
        tracing::info!(shop = %shop.id, sources = shop.sources.len(), "sync started");
        let mut reports = Vec::new();
        for (index, source) in shop.sources.iter().enumerate() {
            let name = format!("{}#{index}", source.kind());
            let progress = Prefixed {
                inner: options.progress.clone(),
                prefix: format!("{} {name}", shop.id),
            };
            let interval = match source {
                SourceSettings::Storefront(s) => Duration::from_millis(s.delay_ms),
                _ => Duration::ZERO,
            };
            let mut importer = Importer::new(&*self.store, shop.id.clone());
            let fetcher = Fetcher::new(source.http(), index, interval, recorder.clone())
                .map(|f| f.stop_on(options.stop.clone()));
            match fetcher {
                Err(e) => importer.record_error(e.to_string()),
                Ok(fetcher) => match source {
                    SourceSettings::MarketplaceApi(api) => {
                        let run = ApiRun {
                            api,
                            source: index,
                            fetcher: &fetcher,
                            tokens: &self.tokens,
                            now,
                            progress: &progress,
                            full: options.full,
                        };
                        run.products(&mut importer).await?;
                        if !importer.failed() {
                            run.orders(&mut importer).await?;
                        }
                    }
                    SourceSettings::TiktokShop(settings) => {
                        let run = crate::sync::tiktok_shop::run::TikTokRun::new(
                            settings,
                            index,
                            &fetcher,
                            &self.tiktok_tokens,
                            &*self.store,
                            &shop.id,
                            now,
                            &progress,
                        );
                        run.products(&mut importer).await?;
                        if !importer.failed() {
                            run.orders(&mut importer).await?;
                        }
                        if let Some(note) = run.identity_note(&other_order_sources(&shop, index))? {
                            importer.warn(note);
                        }
                    }
                    SourceSettings::ExportFiles(files) => {
                        crate::sync::files::run(files, &fetcher, &mut importer, &progress, now).await?
                    }
                    SourceSettings::Storefront(front) => {
                        crate::sync::pages::run(front, Arc::new(fetcher), &mut importer, &progress, now)
                            .await?
                    }
                },
            }
            let report = importer.finish(RunKind::Sync, &name)?;
            tracing::info!(
                shop = %shop.id, source = %name, ok = report.ok, pages = report.pages,
                fetched = report.fetched(), quarantined = report.quarantined,
                "source synced"
            );
            reports.push(report);
        }
        let changed = reports.iter().any(SyncReport::changed);
        let stopping = options.stop.as_ref().is_some_and(|s| *s.borrow());
        // Stale as well when an earlier run was interrupted before its rebuild.
        let model = if !(changed || self.store.model_stale(&shop.id)?) {
            None
        } else if stopping {
            // The data is stored; the stale model is rebuilt when the service starts again.
            tracing::info!(shop = %shop.id, "the service is stopping: the model is rebuilt at the next start");
            None
        } else {
            Some(self.rebuild(&shop).await?)
        };
        self.store.flush().await?;
        self.synced.notify_one();
        Ok(ShopSync {
            shop: shop.id.to_string(),
            ok: reports.iter().all(|r| r.ok),
            changed,
            reports,
            model,
            recording: recorder.map(|r| r.dir().to_path_buf()),
        })
    }

    /// Imports an uploaded export file through the same pipeline as `laris import`, under the
    /// shop's claim (a sync running: [`SyncError::Busy`]), off the async threads; then
    /// rebuilds the model as a sync does, so the widget shows the new data at once.
    pub async fn import_upload(&self, shop_id: &str, upload: Upload) -> Result<UploadRun, SyncError> {
        let shop = self.shop(shop_id)?.clone();
        let _claim = self.claim(&shop.id)?;
        let store = self.store.clone();
        let id = shop.id.clone();
        tracing::info!(shop = %shop.id, file = %upload.name, "importing an uploaded export");
        let (kind, report, quarantined) = tokio::task::spawn_blocking(move || {
            let bytes = std::fs::read(&upload.path).map_err(|e| {
                SyncError::Other(format!(
                    "reading the uploaded file {}: {e}",
                    upload.path.display()
                ))
            })?;
            let mut importer = Importer::new(&*store, id.clone());
            let kind = crate::sync::files::import_bytes(
                &mut importer,
                upload.kind,
                &upload.name,
                bytes,
                Utc::now(),
            )?;
            let source = match kind {
                Some(kind) => format!("upload {} ({})", upload.name, kind.as_str()),
                None => format!("upload {}", upload.name),
            };
            let report = importer.finish(RunKind::Import, &source)?;
            let mut quarantined: Vec<Quarantined> = store
                .quarantined(&id)?
                .into_iter()
                .filter(|q| q.at >= report.started_at && q.at <= report.finished_at)
                .collect();
            quarantined.sort_by_key(|q| q.at);
            Ok::<_, SyncError>((kind, report, quarantined))
        })
        .await
        .map_err(|e| SyncError::Other(format!("the import task failed: {e}")))??;
        let model = if report.changed() || self.store.model_stale(&shop.id)? {
            Some(self.rebuild(&shop).await?)
        } else {
            None
        };
        self.store.flush().await?;
        Ok(UploadRun {
            shop: shop.id.to_string(),
            kind,
            report,
            quarantined,
            model,
        })
    }

    /// Rebuilds the shop's model off the async threads and swaps it in.
    pub async fn rebuild(&self, shop: &ShopSettings) -> Result<ModelSummary, SyncError> {
        let store = self.store.clone();
        let settings = shop.clone();
        let model =
            tokio::task::spawn_blocking(move || crate::model::rebuild::rebuild_shop(&*store, &settings))
                .await
                .map_err(|e| SyncError::Other(format!("the rebuild task failed: {e}")))??;
        let summary = crate::model::rebuild::summary(&model);
        self.models.put(shop.id.clone(), model);
        self.synced.notify_one();
        Ok(summary)
    }
}

/// Progress lines prefixed with the shop and source.
struct Prefixed {
    inner: Arc<dyn Progress>,
    prefix: String,
}

impl Progress for Prefixed {
    fn step(&self, message: &str) {
        self.inner.step(&format!("{}: {message}", self.prefix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_upload_while_the_shop_syncs_is_refused_as_busy_and_imported_once_it_is_free() {
        let settings =
            Settings::from_toml("[[shops]]\nid = \"toko\"\n", std::path::Path::new("t.toml"), &[]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store: SharedStore = Arc::new(crate::store::Store::open(&dir.path().join("store")).unwrap());
        let agent = SyncAgent::new(Arc::new(settings), store.clone(), Arc::new(Models::default()));
        let path = dir.path().join("produk.part");
        std::fs::write(
            &path,
            "Nama Produk,Harga (Rp),SKU Name\nKopi 1 kg,Rp120.000,KOPI-1\n",
        )
        .unwrap();
        let upload = Upload {
            path,
            name: "produk.csv".into(),
            kind: None,
        };
        let shop = ShopId::parse("toko").unwrap();
        let claim = agent.claim(&shop).unwrap();
        let busy = agent.import_upload("toko", upload.clone()).await.unwrap_err();
        assert!(matches!(busy, SyncError::Busy(_)), "{busy}");
        assert!(
            store.products(&shop).unwrap().is_empty(),
            "nothing imported while busy"
        );
        drop(claim);
        let run = agent.import_upload("toko", upload).await.unwrap();
        assert_eq!(run.kind, Some(FileKind::Products));
        assert_eq!(run.report.products.inserted, 1);
        assert_eq!(run.report.source, "upload produk.csv (products)");
        assert!(run.model.is_some(), "the model is rebuilt after the import");
        assert_eq!(store.sync_reports(&shop, 5).unwrap()[0].kind, RunKind::Import);
        assert!(!agent.busy(&shop), "the claim is let go");
    }

    /// Replicas on one PostgreSQL database: two stores, agents and model sets, as two
    /// `laris serve` processes would have.
    mod replicas {
        use super::*;
        use crate::store::postgres::{testing::fresh_database, PgOptions, PgStore};

        fn pg(url: &str) -> SharedStore {
            let mut options = PgOptions::new(url);
            options.pool_size = 2;
            Arc::new(PgStore::connect(&options).unwrap_or_else(|e| panic!("{e}")))
        }

        /// A shop whose source is a product export in `dir`.
        fn settings(dir: &std::path::Path) -> Arc<Settings> {
            let file = dir.join("produk.csv");
            std::fs::write(
                &file,
                "Nama Produk,Harga (Rp),SKU Name\nKopi 1 kg,Rp120.000,KOPI-1\nTeh 250 g,Rp30.000,TEH-250\n",
            )
            .unwrap();
            let toml = format!(
                "[[shops]]\nid = \"toko\"\n[[shops.sources]]\nkind = \"export_files\"\nproducts = [{:?}]\n",
                file.display().to_string()
            );
            Arc::new(Settings::from_toml(&toml, std::path::Path::new("t.toml"), &[]).unwrap())
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_sync_on_one_replica_is_served_by_the_other_and_refused_there_while_it_runs() {
            let url = fresh_database();
            let dir = tempfile::tempdir().unwrap();
            let settings = settings(dir.path());
            let toko = ShopId::parse("toko").unwrap();
            let (store_a, store_b) = (pg(&url), pg(&url));
            let (models_a, models_b) = (Arc::new(Models::default()), Arc::new(Models::default()));
            let agent_a = SyncAgent::new(settings.clone(), store_a.clone(), models_a.clone());
            let agent_b = SyncAgent::new(settings.clone(), store_b.clone(), models_b.clone());
            assert_ne!(
                agent_a.holder(),
                agent_b.holder(),
                "each replica has its own holder id"
            );

            // Replica B starts as the service does: listening, then loading its models.
            let changes = store_b.model_changes().expect("PostgreSQL announces models");
            {
                let (settings, store, models) = (settings.clone(), store_b.clone(), models_b.clone());
                tokio::task::spawn_blocking(move || {
                    crate::model::rebuild::load_all(&settings, &*store, &models)
                })
                .await
                .unwrap()
                .unwrap();
            }
            assert_eq!(models_b.get(&toko).unwrap().products.len(), 0);
            let (stop_tx, stop) = tokio::sync::watch::channel(false);
            let following = tokio::spawn(crate::model::follow::follow(
                settings.clone(),
                store_b.clone(),
                models_b.clone(),
                changes,
                stop,
            ));

            let run = agent_a.sync_shop("toko", &SyncOptions::default()).await.unwrap();
            assert!(run.ok && run.changed, "{:?}", run.reports);
            assert_eq!(models_a.get(&toko).unwrap().products.len(), 2);
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while models_b.get(&toko).unwrap().products.len() != 2 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "replica B still serves the old model 5 s after A's sync"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(
                store_b.sync_holder(&toko).unwrap(),
                None,
                "A released the lease at the end"
            );

            // While A runs the shop, B's on-demand sync is refused, naming A.
            let claim = agent_a.claim(&toko).unwrap();
            assert_eq!(agent_a.leases_held(), vec![toko.clone()]);
            let refused = agent_b
                .sync_shop("toko", &SyncOptions::default())
                .await
                .unwrap_err();
            match &refused {
                SyncError::Leased { holder, .. } => assert_eq!(holder, agent_a.holder()),
                other => panic!("expected a lease refusal, got {other}"),
            }
            assert!(refused.to_string().contains(agent_a.holder()), "{refused}");
            assert!(agent_b.leases_held().is_empty());
            assert!(!agent_b.busy(&toko), "a refused claim leaves nothing behind");
            drop(claim);
            assert!(agent_a.leases_held().is_empty());
            let run = agent_b.sync_shop("toko", &SyncOptions::default()).await.unwrap();
            assert!(run.ok, "B syncs once A is done: {:?}", run.reports);

            stop_tx.send(true).unwrap();
            tokio::time::timeout(Duration::from_secs(5), following)
                .await
                .expect("the follower stops at the stop signal")
                .unwrap();
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_dead_replicas_lease_is_taken_over_after_it_expires_and_a_live_one_is_renewed() {
            let url = fresh_database();
            let dir = tempfile::tempdir().unwrap();
            let settings = settings(dir.path());
            let toko = ShopId::parse("toko").unwrap();
            let store = pg(&url);
            let ttl = Duration::from_millis(400);
            let agent = SyncAgent::new(settings.clone(), store.clone(), Arc::new(Models::default()))
                .with_lease_ttl(ttl);

            // A replica took the lease and died: it never renews nor releases it.
            assert!(pg(&url).claim_sync(&toko, "dead-replica", ttl).unwrap());
            let refused = agent
                .sync_shop("toko", &SyncOptions::default())
                .await
                .unwrap_err();
            assert!(refused.to_string().contains("dead-replica"), "{refused}");
            tokio::time::sleep(ttl * 2).await;
            let run = agent.sync_shop("toko", &SyncOptions::default()).await.unwrap();
            assert!(
                run.ok && run.changed,
                "taken over after the ttl: {:?}",
                run.reports
            );
            assert_eq!(store.sync_holder(&toko).unwrap(), None, "released after the run");

            // A live holder renews its lease past its ttl: nobody else gets it meanwhile.
            let claim = agent.claim(&toko).unwrap();
            tokio::time::sleep(ttl * 3).await;
            assert!(
                !store.claim_sync(&toko, "replica-b", ttl).unwrap(),
                "renewed while held"
            );
            assert_eq!(
                store.sync_holder(&toko).unwrap().map(|h| h.0).as_deref(),
                Some(agent.holder())
            );
            drop(claim);
            assert!(
                store.claim_sync(&toko, "replica-b", ttl).unwrap(),
                "released when the claim ends"
            );
        }
    }
}
