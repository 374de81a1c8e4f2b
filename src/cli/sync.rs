//! `laris replay`, `laris sync` and `laris import`: data into a shop, through the running
//! service when there is one, with a spinner and a report.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::client::ServiceClient;
use super::{open_store, shop_id};
use crate::app::{self};
use crate::config::Settings;
use crate::domain::ShopId;
use crate::records::RunKind;
use crate::records::SyncReport;

/// The recording as the service may read it: itself when it lies in one of the shop's
/// replay directories, else a copy made in the data directory's `recordings/{shop}/` (the
/// service replays nothing else, so that no shop's user can make it read another's data).
pub(super) fn within_replay_roots(
    settings: &Settings,
    data_dir: &Path,
    shop: &ShopId,
    dir: &Path,
) -> anyhow::Result<PathBuf> {
    let roots = crate::web::operations::replay_roots(data_dir, settings.shop(shop).expect("checked"));
    if roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .any(|root| dir.starts_with(root))
    {
        return Ok(dir.to_path_buf());
    }
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("recording");
    let copy = roots[0].join(format!(
        "{}-{name}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%3f")
    ));
    std::fs::create_dir_all(&copy).with_context(|| format!("creating {}", copy.display()))?;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading recording {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), copy.join(entry.file_name()))
                .with_context(|| format!("copying {} into {}", entry.path().display(), copy.display()))?;
        }
    }
    eprintln!("copied the recording to {} for the service", copy.display());
    Ok(std::fs::canonicalize(copy)?)
}

pub(super) fn replay(
    settings: &Settings,
    data_dir: &Path,
    dir: &Path,
    shop: &str,
    json: bool,
) -> anyhow::Result<()> {
    let shop = shop_id(settings, shop)?;
    let report: SyncReport = match ServiceClient::find(settings, data_dir)? {
        Some(client) => {
            let abs = std::fs::canonicalize(dir).with_context(|| format!("recording {}", dir.display()))?;
            eprintln!(
                "the store is held by the running service at {}: replaying through it",
                client.base
            );
            let abs = within_replay_roots(settings, data_dir, &shop, &abs)?;
            client.post(
                &format!("/admin/api/shops/{shop}/replay"),
                &serde_json::json!({"dir": abs.display().to_string()}),
            )?
        }
        None => {
            let store = open_store(settings, data_dir)?;
            let (report, _) = crate::sync::replay::replay_and_rebuild(
                &*store,
                settings.shop(&shop).expect("checked"),
                dir,
            )?;
            store.flush_blocking()?;
            report
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "replayed {} into {}: {} products ({} new, {} changed, {} unchanged), {} orders ({} new, {} changed, {} unchanged), {} quarantined",
            dir.display(),
            shop,
            report.products.seen,
            report.products.inserted,
            report.products.updated,
            report.products.unchanged,
            report.orders.seen,
            report.orders.inserted,
            report.orders.updated,
            report.orders.unchanged,
            report.quarantined
        );
        for e in &report.errors {
            println!("  error: {e}");
        }
    }
    if !report.ok {
        bail!("some pages of the recording could not be imported (listed above)");
    }
    Ok(())
}

/// A spinner on a terminal, nothing otherwise (logs still say what happens).
pub(super) struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    pub(super) fn new() -> Spinner {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Spinner(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Spinner(Some(bar))
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl crate::sync::api::Progress for Spinner {
    fn step(&self, message: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.to_string());
        }
    }
}

/// One line per source report, as `laris sync` and `laris import` print them.
pub(super) fn report_lines(shop: &str, report: &SyncReport) -> String {
    let mut out = format!(
        "{shop} {}: {} pages, {} fetched; products {} new, {} changed, {} unchanged; orders {} new, {} changed, {} unchanged; {} quarantined; {} ms{}\n",
        report.source,
        report.pages,
        report.fetched(),
        report.products.inserted,
        report.products.updated,
        report.products.unchanged,
        report.orders.inserted,
        report.orders.updated,
        report.orders.unchanged,
        report.quarantined,
        report.duration_ms,
        if report.ok { "" } else { " — FAILED" }
    );
    for e in &report.errors {
        out.push_str(&format!("  error: {e}\n"));
    }
    for w in &report.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    out
}

pub(super) fn print_runs(runs: &[crate::sync::agent::ShopSync], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(runs)?);
        return Ok(());
    }
    for run in runs {
        if run.reports.is_empty() {
            println!(
                "{}: no sources configured ([[shops.sources]] in the config; see README \"Sources\")",
                run.shop
            );
        }
        for r in &run.reports {
            print!("{}", report_lines(&run.shop, r));
        }
        if let Some(m) = &run.model {
            println!(
                "{}: model rebuilt: {} products, {} paid orders, {} rules",
                run.shop, m.products, m.paid_orders, m.rules
            );
        }
        if let Some(dir) = &run.recording {
            println!("{}: recorded into {}", run.shop, dir.display());
        }
    }
    Ok(())
}

pub(super) fn sync(
    settings: &Settings,
    data_dir: &Path,
    shop: Option<&str>,
    record: Option<&Path>,
    full: bool,
    json: bool,
) -> anyhow::Result<()> {
    let shops: Vec<ShopId> = match shop {
        Some(s) => vec![shop_id(settings, s)?],
        None => settings.shops.iter().map(|s| s.id.clone()).collect(),
    };
    let runs: Vec<crate::sync::agent::ShopSync> = match ServiceClient::find(settings, data_dir)? {
        Some(client) => {
            if record.is_some() {
                bail!(
                    "--record needs the store: the running service at {} holds it. Stop it, or record with a second data directory (--data-dir)",
                    client.base
                );
            }
            eprintln!(
                "the store is held by the running service at {}: syncing through it",
                client.base
            );
            shops
                .iter()
                .map(|s| {
                    client.post(
                        &format!(
                            "/admin/api/shops/{s}/sync{}",
                            if full { "?full=true" } else { "" }
                        ),
                        &serde_json::json!({}),
                    )
                })
                .collect::<anyhow::Result<_>>()?
        }
        None => {
            let mut settings = settings.clone();
            app::fill_customer_secrets(&mut settings, data_dir)?;
            let store = open_store(&settings, data_dir)?;
            let models = std::sync::Arc::new(crate::model::rebuild::Models::default());
            let agent = crate::sync::agent::SyncAgent::new(std::sync::Arc::new(settings), store, models);
            let spinner = std::sync::Arc::new(Spinner::new());
            let runtime = tokio::runtime::Runtime::new()?;
            let runs = runtime.block_on(async {
                let mut runs = Vec::new();
                for s in &shops {
                    let options = crate::sync::agent::SyncOptions {
                        record: record.map(Path::to_path_buf),
                        full,
                        progress: spinner.clone(),
                        now: None,
                        stop: None,
                    };
                    runs.push(agent.sync_shop(s.as_str(), &options).await?);
                }
                Ok::<_, crate::sync::agent::SyncError>(runs)
            });
            spinner.finish();
            runs?
        }
    };
    print_runs(&runs, json)?;
    let failed: Vec<String> = runs
        .iter()
        .flat_map(|r| {
            r.reports
                .iter()
                .filter(|x| !x.ok)
                .map(move |x| format!("{} {}", r.shop, x.source))
        })
        .collect();
    if !failed.is_empty() {
        bail!(
            "sync failed for {} (errors above; the cursors stay where they were, the next run catches up)",
            failed.join(", ")
        );
    }
    Ok(())
}

pub(super) fn import(
    settings: &Settings,
    data_dir: &Path,
    shop: &str,
    (products, orders): (&[PathBuf], &[PathBuf]),
    json: bool,
    allow_quarantine: bool,
) -> anyhow::Result<()> {
    let shop = shop_id(settings, shop)?;
    if products.is_empty() && orders.is_empty() {
        bail!(
            "nothing to import: give --products FILE and/or --orders FILE (CSV or XLSX exports: see the README, section Sources and sync)"
        );
    }
    if let Some(client) = ServiceClient::find(settings, data_dir)? {
        eprintln!(
            "the store is held by the running service at {}: importing through it",
            client.base
        );
        return import_through(&client, &shop, (products, orders), json, allow_quarantine);
    }
    let store = open_store(settings, data_dir)?;
    let mut importer = crate::sync::pipeline::Importer::new(&*store, shop.clone());
    let files = products
        .iter()
        .map(|f| (crate::sync::files::FileKind::Products, f))
        .chain(orders.iter().map(|f| (crate::sync::files::FileKind::Orders, f)));
    for (kind, path) in files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.display().to_string();
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map(chrono::DateTime::<chrono::Utc>::from)
            .unwrap_or_else(|_| chrono::Utc::now());
        crate::sync::files::import_bytes(&mut importer, Some(kind), &name, bytes, modified)?;
    }
    let names: Vec<String> = products
        .iter()
        .chain(orders)
        .map(|p| p.display().to_string())
        .collect();
    let report = importer.finish(RunKind::Import, &names.join(", "))?;
    let (quarantined, started) = (report.quarantined, report.started_at);
    // Stale as well when an earlier run was interrupted before its rebuild.
    let model = if report.changed() || store.model_stale(&shop)? {
        let shop_settings = settings.shop(&shop).expect("checked");
        Some(crate::model::rebuild::summary(
            &crate::model::rebuild::rebuild_shop(&*store, shop_settings)?,
        ))
    } else {
        None
    };
    store.flush_blocking()?;
    let run = crate::sync::agent::ShopSync {
        shop: shop.to_string(),
        ok: report.ok,
        changed: report.changed(),
        reports: vec![report],
        model,
        recording: None,
    };
    print_runs(std::slice::from_ref(&run), json)?;
    if !run.ok {
        bail!("some files could not be imported (errors above); fix them and import again: re-importing changes nothing twice");
    }
    if quarantined > 0 {
        if !json {
            let rows: Vec<crate::records::Quarantined> = store
                .quarantined(&shop)?
                .into_iter()
                .filter(|q| q.at >= started)
                .collect();
            eprint!("{}", quarantine_table(&rows, QUARANTINE_ROWS_SHOWN));
        }
        if !allow_quarantine {
            return Err(crate::cli::Incomplete(format!(
                "{quarantined} rows were quarantined and not imported (listed above; `laris status` and the dashboard's sync page keep them): fix them in the export and import it again, or pass --allow-quarantine to accept the import as it is"
            ))
            .into());
        }
    }
    Ok(())
}

/// `laris import` while the service holds the store: each file sent to
/// `POST /admin/api/shops/{shop}/imports` (the dashboard's upload), products first, one
/// report per file; the same output and exit codes as an import of its own.
fn import_through(
    client: &ServiceClient,
    shop: &ShopId,
    (products, orders): (&[PathBuf], &[PathBuf]),
    json: bool,
    allow_quarantine: bool,
) -> anyhow::Result<()> {
    let files = products
        .iter()
        .map(|f| ("products", f))
        .chain(orders.iter().map(|f| ("orders", f)));
    let mut reports = Vec::new();
    let mut quarantined: Vec<crate::records::Quarantined> = Vec::new();
    let mut model = None;
    for (kind, path) in files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let answer: serde_json::Value = client
            .post_bytes(
                &format!(
                    "/admin/api/shops/{shop}/imports?kind={kind}&name={}",
                    crate::domain::url_component(&name)
                ),
                bytes,
            )
            .with_context(|| format!("importing {} through the running service", path.display()))?;
        reports.push(serde_json::from_value::<SyncReport>(answer["report"].clone())?);
        for q in answer["quarantined"].as_array().into_iter().flatten() {
            quarantined.push(crate::records::Quarantined {
                at: serde_json::from_value(q["at"].clone())?,
                kind: serde_json::from_value(q["kind"].clone())?,
                origin: q["origin"].as_str().unwrap_or("").to_string(),
                reason: crate::records::QuarantineReason::unreadable(q["reason"].as_str().unwrap_or("")),
                record: q["record"].as_str().unwrap_or("").to_string(),
                subject: q["subject"].as_str().map(str::to_string),
            });
        }
        if !answer["model"].is_null() {
            model = Some(serde_json::from_value(answer["model"].clone())?);
        }
    }
    let run = crate::sync::agent::ShopSync {
        shop: shop.to_string(),
        ok: reports.iter().all(|r| r.ok),
        changed: reports.iter().any(SyncReport::changed),
        reports,
        model,
        recording: None,
    };
    print_runs(std::slice::from_ref(&run), json)?;
    if !run.ok {
        bail!("some files could not be imported (errors above); fix them and import again: re-importing changes nothing twice");
    }
    if !quarantined.is_empty() {
        if !json {
            eprint!("{}", quarantine_table(&quarantined, QUARANTINE_ROWS_SHOWN));
        }
        if !allow_quarantine {
            return Err(crate::cli::Incomplete(format!(
                "{} rows were quarantined and not imported (listed above; `laris status` and the dashboard's sync page keep them): fix them in the export and import it again, or pass --allow-quarantine to accept the import as it is",
                quarantined.len()
            ))
            .into());
        }
    }
    Ok(())
}

/// Most quarantined rows an import lists on the terminal.
const QUARANTINE_ROWS_SHOWN: usize = 50;

/// Quarantined rows as a plain table: where each came from and why, at most `shown` rows.
fn quarantine_table(rows: &[crate::records::Quarantined], shown: usize) -> String {
    let width = rows
        .iter()
        .take(shown)
        .map(|q| q.origin.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut out = format!("{:<width$}  reason\n", "where");
    for q in rows.iter().take(shown) {
        let reason = q.reason.to_string();
        // Most reasons start by naming the place again.
        let reason = reason
            .strip_prefix(q.origin.as_str())
            .map_or(reason.as_str(), |r| r.trim_start_matches([':', ' ']));
        out.push_str(&format!("{:<width$}  {reason}\n", q.origin));
    }
    if rows.len() > shown {
        out.push_str(&format!(
            "… and {} more (the dashboard's sync page lists them all)\n",
            rows.len() - shown
        ));
    }
    out
}
