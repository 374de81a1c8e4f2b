//! The running service: [`Application::build`] opens the store ([`open_store`], the one
//! place that picks a backend), seeds demo shops, binds the listener and writes the address
//! file; [`Application::run_until_stopped`] serves until a shutdown signal, then flushes the
//! store and removes the address file.
//!
//! Besides the server, the service runs the sync schedule ([`crate::sync::schedule`]: one
//! cron scheduler with a job per shop that has sources), the daily pruning of events, the
//! outreach loop ([`crate::outreach::run_loop`]: automations after syncs, webhook deliveries)
//! and,
//! when the store is shared with other replicas (PostgreSQL), the following of the models
//! they build ([`crate::model::follow`]).
//! The shutdown signal reaches them all at once through one `watch` channel: the server
//! lets requests in flight finish, a scheduled sync stops after the page it is on and stores
//! its reports, the pruning finishes the shop it is on; the service waits for each for at
//! most the shutdown grace (`server.shutdown_grace_secs`), then flushes the store. Nothing
//! is aborted.
//!
//! The address file (`laris.serve.json` in the data directory: address and pid) is how a
//! CLI command pointed at the same `--data-dir` finds the service that holds the store.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::records::Seeding;
use crate::store::ShopStore;
use crate::web::{self, AppState};

mod experiment_log;
mod seed_experiment;
mod store;
pub use store::{open_store, open_store_at, open_store_blocking, Opening, StoreUrl};

/// Name of the address file in the data directory.
pub const SERVE_FILE: &str = "laris.serve.json";
/// Name of the generated admin token file in the data directory.
pub const TOKEN_FILE: &str = "admin-token";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServeFile {
    pub addr: SocketAddr,
    pub pid: u32,
}

impl ServeFile {
    /// The running service for this data directory, if its file exists and its process lives.
    pub fn find(data_dir: &Path) -> Option<ServeFile> {
        let text = std::fs::read_to_string(data_dir.join(SERVE_FILE)).ok()?;
        let file: ServeFile = serde_json::from_str(&text).ok()?;
        process_alive(file.pid).then_some(file)
    }
}

fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        // Without /proc, trust the file; a failed connection is handled by the caller.
        true
    }
}

/// The admin token: from config or `LARIS_ADMIN_TOKEN`, else the one kept in the data
/// directory (read by the CLI; made by `laris serve` on first start when `create`).
pub fn admin_token(settings: &Settings, data_dir: &Path, create: bool) -> anyhow::Result<Option<String>> {
    if let Some(t) = &settings.admin_token {
        return Ok(Some(t.clone()));
    }
    kept_secret(
        data_dir,
        TOKEN_FILE,
        create,
        "admin token",
        "set admin.token or LARIS_ADMIN_TOKEN",
    )
}

/// Fills each shop's `customer_secret` that config leaves empty with one kept in the data
/// directory (`customer-secret-{shop}`, made on first use), so tokens work out of the box
/// and no secret ships in the repository.
pub fn fill_customer_secrets(settings: &mut Settings, data_dir: &Path) -> anyhow::Result<()> {
    for shop in &mut settings.shops {
        if shop.customer_secret.is_none() {
            let hint = format!(
                "set customer_secret in the shop's [[shops]] block or LARIS_SHOP_{}_CUSTOMER_SECRET",
                shop.id.as_str().to_uppercase().replace('-', "_")
            );
            let name = format!("customer-secret-{}", shop.id);
            shop.customer_secret = kept_secret(data_dir, &name, true, "customer token secret", &hint)?;
        }
    }
    Ok(())
}

/// A random secret kept in `data_dir/name`, readable only by its owner.
fn kept_secret(
    data_dir: &Path,
    name: &str,
    create: bool,
    what: &str,
    hint: &str,
) -> anyhow::Result<Option<String>> {
    let path = data_dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => return Ok(Some(t.trim().to_string())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading the {what} {}", path.display())),
    }
    if !create {
        return Ok(None);
    }
    let token = hex::encode(rand::random::<[u8; 24]>());
    std::fs::create_dir_all(data_dir)?;
    // Written whole to a file of its own, then put in place: a kill never leaves an empty
    // secret behind (which would fail every later start).
    let tmp = data_dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&tmp)
        .with_context(|| format!("creating the {what} file {}", tmp.display()))?;
    f.write_all(token.as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, &path).with_context(|| format!("creating the {what} file {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated the {what} (readable only by this user); {hint} to choose your own");
    Ok(Some(token))
}

/// Replays each shop's `seed_recording` and stores its `seed_events` and `seed_experiment`
/// on the first start.
///
/// Seeding is resumable: a `started` mark is on disk before the first record, `done` after
/// the last, so a start that finds `started` (the previous one was killed) seeds again —
/// the replay's upserts change nothing twice, and the interrupted run's events are
/// removed first. A shop that holds data without any mark (a store older than the mark,
/// or filled by the owner's own imports) is left alone.
pub fn seed_empty_shops(settings: &Settings, store: &dyn ShopStore) -> anyhow::Result<()> {
    for shop in &settings.shops {
        if shop.seed_recording.is_none() && shop.seed_events.is_none() && shop.seed_experiment.is_none() {
            continue;
        }
        let resume = match store.seeding(&shop.id)? {
            Some(Seeding::Done) => continue,
            Some(Seeding::Started) => true,
            None if store.has_data(&shop.id)? || store.has_events(&shop.id)? => continue,
            None => false,
        };
        // Read first, so that a bad events file stops the start before anything is stored.
        let events = match &shop.seed_events {
            Some(file) => Some((
                file,
                read_seed_events(file).with_context(|| format!("seeding shop {}'s events", shop.id))?,
            )),
            None => None,
        };
        let experiment = match &shop.seed_experiment {
            Some(file) => Some(
                seed_experiment::read(file)
                    .with_context(|| format!("seeding shop {}'s experiment", shop.id))?,
            ),
            None => None,
        };
        store.set_seeding(&shop.id, Seeding::Started)?;
        store.flush_blocking()?;
        if resume {
            let removed = store.remove_events(&shop.id)?;
            tracing::warn!(shop = %shop.id, removed_events = removed, "the last start was stopped while seeding this shop: seeding it again");
        }
        if let Some(dir) = &shop.seed_recording {
            let report = crate::sync::replay::replay(store, &shop.id, dir)
                .with_context(|| format!("seeding shop {} from {}", shop.id, dir.display()))?;
            tracing::info!(shop = %shop.id, products = report.products.seen, orders = report.orders.seen, "seeded from its recording on first start");
        }
        if let Some((file, events)) = events {
            append_in_chunks(store, &shop.id, &events)?;
            tracing::info!(shop = %shop.id, events = events.len(), file = %file.display(), "seeded widget events on first start");
        }
        if let Some(experiment) = &experiment {
            seed_experiment::store(store, &shop.id, experiment)?;
            tracing::info!(shop = %shop.id, experiment = %experiment.experiment.name, events = experiment.events.len(), "seeded a finished experiment on first start");
        }
        store.flush_blocking()?;
        store.set_seeding(&shop.id, Seeding::Done)?;
    }
    store.flush_blocking()?;
    Ok(())
}

/// Seed events are appended this many to a write: a few large writes instead of one per
/// event (thousands of single-event writes in a row, just after sled recovered a killed
/// start, once left sled deadlocked in its segment accounting — sled issue 1412).
pub const SEED_EVENTS_PER_WRITE: usize = 1_000;

/// Appends `events` in writes of [`SEED_EVENTS_PER_WRITE`], in order. Seeding is marked
/// started before and done after, so a start stopped between writes seeds again.
pub(crate) fn append_in_chunks(
    store: &dyn ShopStore,
    shop: &crate::domain::ShopId,
    events: &[crate::records::Event],
) -> Result<(), crate::store::StoreError> {
    for chunk in events.chunks(SEED_EVENTS_PER_WRITE) {
        store.append_events(shop, chunk)?;
    }
    Ok(())
}

/// The events of a `seed_events` file: one JSON event per line (blank lines skipped), each
/// with a known type and slot, valid product ids and its time `at`.
fn read_seed_events(file: &Path) -> anyhow::Result<Vec<crate::records::Event>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading {}: check shops[].seed_events", file.display()))?;
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at_line = || format!("{} line {}", file.display(), i + 1);
        let beacon: web::events::Beacon = serde_json::from_str(line).with_context(|| {
            format!(
                "{} is not an event: {line}; write {{\"type\":\"click\",\"slot\":\"similar\",\"product\":\"SRD-100\",\"item\":\"TPG-100\",\"at\":\"2026-10-01T08:00:00Z\"}}",
                at_line()
            )
        })?;
        let event = web::events::check(&beacon).map_err(|e| anyhow::anyhow!("{}: {e}", at_line()))?;
        if event.at.is_none() {
            anyhow::bail!(
                "{}: the event has no time: add \"at\": \"2026-10-01T08:00:00Z\"",
                at_line()
            );
        }
        events.push(event);
    }
    Ok(events)
}

pub struct Application {
    listener: tokio::net::TcpListener,
    state: AppState,
    data_dir: PathBuf,
    /// The other replicas' model announcements, when the store has any.
    model_changes: Option<tokio::sync::mpsc::Receiver<crate::domain::ShopId>>,
}

impl Application {
    /// Opens the store, seeds empty demo shops, binds `addr` (port 0 picks a free port).
    pub async fn build(
        mut settings: Settings,
        data_dir: &Path,
        addr: SocketAddr,
    ) -> anyhow::Result<Application> {
        let store = open_store(&settings, data_dir, Opening::CreateIfMissing).await?;
        let token = admin_token(&settings, data_dir, true)?.expect("created when missing");
        fill_customer_secrets(&mut settings, data_dir)?;
        let credentials = crate::admin_auth::load_password_hashes(data_dir, &settings)?;
        if credentials.is_empty() {
            tracing::info!("no admin password is set: run `laris admin set-password` to sign in at /admin");
        }
        let sessions = Arc::new(crate::admin_auth::Sessions::new(
            credentials,
            &settings.admin,
            Arc::new(crate::store::StoreState(store.clone())),
        ));
        let settings = Arc::new(settings);
        let models = Arc::new(crate::model::rebuild::Models::default());
        // Listening before the models load: a model another replica stores meanwhile is
        // announced after it, not lost between the two.
        let model_changes = store.model_changes();
        {
            let (settings, store, models) = (settings.clone(), store.clone(), models.clone());
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                seed_empty_shops(&settings, &*store)?;
                experiment_log::record_all(&settings, &*store, chrono::Utc::now())?;
                crate::model::rebuild::load_all(&settings, &*store, &models)?;
                Ok(())
            })
            .await??;
        }
        let event_log = {
            let (settings, store) = (settings.clone(), store.clone());
            Arc::new(
                tokio::task::spawn_blocking(move || web::event_log::EventLog::load(&settings, &*store))
                    .await??,
            )
        };
        let event_writer = web::event_writer::EventWriter::start(
            store.clone(),
            event_log.clone(),
            settings.server.event_buffer,
        );
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr}: is another program using it? pass --addr HOST:PORT")
        })?;
        let local = listener.local_addr()?;
        let serve_file = ServeFile {
            addr: local,
            pid: std::process::id(),
        };
        std::fs::write(data_dir.join(SERVE_FILE), serde_json::to_vec(&serve_file)?)?;
        let templates = Arc::new(web::templates::environment_for(&settings)?);
        let sync = Arc::new(crate::sync::agent::SyncAgent::new(
            settings.clone(),
            store.clone(),
            models.clone(),
        ));
        let prepared = Arc::new(web::prepared::cache::PreparedAnswers::with_capacity(
            settings.server.prepared_cache_bytes,
        ));
        let state = AppState {
            sync,
            settings,
            store,
            admin_token: Arc::new(token),
            sessions,
            data_dir: Arc::new(data_dir.to_path_buf()),
            templates,
            models,
            // 60 events at once per address, 5 a second after that.
            event_limiter: Arc::new(web::rate_limit::RateLimiter::new(60.0, 5.0)),
            event_log,
            event_writer,
            overviews: Default::default(),
            prepared,
            exposures: Default::default(),
        };
        Ok(Application {
            listener,
            state,
            data_dir: data_dir.to_path_buf(),
            model_changes,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves, syncs on schedule and prunes events until `shutdown` resolves; then lets each
    /// finish what it is doing (within the shutdown grace), flushes the store and removes the
    /// address file.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr();
        let store = self.state.store.clone();
        let event_writer = self.state.event_writer.clone();
        let schedule =
            crate::sync::schedule::SyncSchedule::start(self.state.sync.clone(), &self.state.settings.shops)
                .await
                .context("starting the sync schedule")?;
        tracing::info!(%addr, "laris listening; demo page at http://{addr}/demo");
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let pruning = tokio::spawn(prune_events_daily(self.state.clone(), stop.clone()));
        let following = self.model_changes.map(|changes| {
            tokio::spawn(crate::model::follow::follow(
                self.state.settings.clone(),
                self.state.store.clone(),
                self.state.models.clone(),
                changes,
                stop.clone(),
            ))
        });
        let outreach = tokio::spawn(crate::outreach::run_loop(
            self.state.settings.clone(),
            self.state.store.clone(),
            self.state.models.clone(),
            self.state.sync.synced(),
            stop.clone(),
        ));
        let mut limits = self.state.settings.server.limits.clone();
        limits.max_connections = crate::server::fit_connections(limits.max_connections);
        let grace = limits.shutdown_grace;
        let signal = async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        };
        // The widget's fragment answers, from prepared bytes ahead of the route table.
        let shortcut: Arc<dyn crate::server::Shortcut> =
            Arc::new(web::prepared::hot::PreparedShortcut(self.state.clone()));
        let server = crate::server::serve(
            self.listener,
            web::routes(self.state),
            Some(shortcut),
            limits,
            stopping(stop.clone()),
        );
        let background = async move {
            stopping(stop).await;
            stop_background(schedule, pruning, grace).await;
            // It ends at the stop signal, after the write of a try's outcome it is making.
            match tokio::time::timeout(grace, outreach).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "the outreach task failed"),
                Err(_) => tracing::warn!("outreach still running after the shutdown grace: stopping without it (a message being tried stays due)"),
            }
            if let Some(following) = following {
                // It ends at the stop signal, between two models (a load is a moment).
                if let Err(e) = following.await {
                    tracing::warn!(error = %e, "following the other replicas' models failed");
                }
            }
        };
        tokio::join!(signal, server, background);
        // The writer ends here, and lets go of the store before it is flushed for good.
        let lost = event_writer.stop().await;
        if lost > 0 {
            tracing::warn!(
                events = lost,
                "the database is still unreachable: widget events held in memory are lost with this stop"
            );
        }
        store.flush().await?;
        let _ = std::fs::remove_file(self.data_dir.join(SERVE_FILE));
        tracing::info!("laris stopped; store flushed");
        Ok(())
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopping(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Stops the sync schedule and the pruning, each given at most `grace` to finish.
async fn stop_background(
    schedule: Option<crate::sync::schedule::SyncSchedule>,
    pruning: tokio::task::JoinHandle<()>,
    grace: std::time::Duration,
) {
    let schedule = async move {
        if let Some(schedule) = schedule {
            schedule.shutdown(grace).await;
        }
    };
    let pruning = async move {
        match tokio::time::timeout(grace, pruning).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the event pruning task failed"),
            Err(_) => tracing::warn!(
                grace_secs = grace.as_secs(),
                "event pruning still running after the shutdown grace: stopping without it (the next start prunes again)"
            ),
        }
    };
    tokio::join!(schedule, pruning);
}

/// Prunes every shop's events past their retention (or over the cap): a minute after the
/// start, then once a day, until `stop` turns true (the shop being pruned is finished).
async fn prune_events_daily(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut every_day = tokio::time::interval_at(
        tokio::time::Instant::now() + std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(24 * 3600),
    );
    loop {
        tokio::select! {
            _ = every_day.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        for shop in &state.settings.shops {
            if *stop.borrow() {
                return;
            }
            let (log, store, id) = (state.event_log.clone(), state.store.clone(), shop.id.clone());
            let pruned =
                tokio::task::spawn_blocking(move || log.prune(&*store, &id, chrono::Utc::now())).await;
            match pruned {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => {
                    tracing::info!(shop = %shop.id, removed = n, "events past their retention pruned")
                }
                Ok(Err(e)) => tracing::warn!(shop = %shop.id, error = %e, "pruning events failed"),
                Err(e) => tracing::warn!(shop = %shop.id, error = %e, "the pruning task failed"),
            }
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_secret_file_left_by_a_kill_is_made_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("admin-token"), "").unwrap();
        let token = kept_secret(dir.path(), "admin-token", true, "admin token", "")
            .unwrap()
            .unwrap();
        assert_eq!(token.len(), 48);
        let again = kept_secret(dir.path(), "admin-token", true, "admin token", "").unwrap();
        assert_eq!(again.as_deref(), Some(token.as_str()), "kept, not made anew");
    }

    #[test]
    fn a_bad_line_of_seed_events_is_refused_naming_the_file_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("events.jsonl");
        let good = r#"{"type":"click","slot":"similar","product":"SRD-100","item":"TPG-100","at":"2026-10-01T08:00:00Z","customer":"777001"}"#;
        std::fs::write(&file, format!("{good}\n\n{good}\n")).unwrap();
        let events = read_seed_events(&file).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].customer.as_deref(), Some("777001"));

        for (bad, needle) in [
            (r#"{"type":"view","at":"2026-10-01T08:00:00Z"}"#, "\"view\""),
            (r#"{"type":"click","slot":"similar"}"#, "no time"),
            ("not json", "is not an event"),
        ] {
            std::fs::write(&file, format!("{good}\n{bad}\n")).unwrap();
            let err = format!("{:#}", read_seed_events(&file).unwrap_err());
            assert!(err.contains(&format!("{} line 2", file.display())), "{err}");
            assert!(err.contains(needle), "{err}");
        }
    }

    /// Two services on one PostgreSQL database: a sync on A is served by B (its model
    /// followed), B's sync while A runs the shop is refused naming A, and both stop cleanly.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_replicas_on_one_database_share_models_and_sync_leases() {
        let url = crate::store::postgres::testing::fresh_database();
        let files = tempfile::tempdir().unwrap();
        let products = files.path().join("produk.csv");
        std::fs::write(
            &products,
            "Nama Produk,Harga (Rp),SKU Name\nKopi 1 kg,Rp120.000,KOPI-1\nTeh 250 g,Rp30.000,TEH-250\n",
        )
        .unwrap();
        let toml = format!(
            "[store]\nbackend = \"postgres\"\nurl = {url:?}\npool_size = 2\n[admin]\ntoken = \"replica-test-token-0123456789\"\n\
             [[shops]]\nid = \"toko\"\ncustomer_secret = \"replica-test-secret-0123456789\"\n\
             [[shops.sources]]\nkind = \"export_files\"\nproducts = [{:?}]\n",
            products.display().to_string()
        );
        let toko = crate::domain::ShopId::parse("toko").unwrap();
        let mut replicas = Vec::new();
        for _ in 0..2 {
            let settings = Settings::from_toml(&toml, Path::new("replica.toml"), &[]).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let app = Application::build(settings, dir.path(), "127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
            let state = app.state().clone();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let running = tokio::spawn(app.run_until_stopped(async {
                let _ = stopped.await;
            }));
            replicas.push((state, stop, running, dir));
        }
        let (a, b) = (&replicas[0].0, &replicas[1].0);
        assert_eq!(b.models.get(&toko).unwrap().products.len(), 0);

        let run = a.sync.sync_shop("toko", &Default::default()).await.unwrap();
        assert!(run.ok && run.changed, "{:?}", run.reports);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while b.models.get(&toko).unwrap().products.len() != 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "B serves the old model 5 s after A's sync"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }

        let claim = a.sync.claim(&toko).unwrap();
        let refused = b.sync.sync_shop("toko", &Default::default()).await.unwrap_err();
        assert!(refused.to_string().contains(a.sync.holder()), "{refused}");
        drop(claim);

        for (_, stop, running, _dir) in replicas {
            stop.send(()).unwrap();
            tokio::time::timeout(std::time::Duration::from_secs(15), running)
                .await
                .expect("a replica stops")
                .unwrap()
                .unwrap();
        }
    }
}
