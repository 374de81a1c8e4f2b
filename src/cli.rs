//! The command line: arguments (clap) turned into validated settings once, then each
//! subcommand. Commands that need the store go through a running `laris serve` when its
//! address file is in the data directory (sled lets one process hold a store).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand};

use crate::app::{self, ServeFile};
use crate::config::{LogFormat, Settings};
use crate::domain::ShopId;
use crate::records::SyncReport;
use crate::status::StatusReport;
use crate::store::Store;

#[derive(Debug, Parser)]
#[command(
    name = "laris",
    version,
    about = "Recommendations, bundles and loyalty tiers for small online shops"
)]
pub struct Cli {
    /// The config file.
    #[arg(
        long,
        global = true,
        env = "LARIS_CONFIG",
        default_value = "config/laris.toml"
    )]
    pub config: PathBuf,
    /// The store's directory (also holds the admin token and the running service's address).
    #[arg(long, global = true, env = "LARIS_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: widget, fragments, admin; seeds demo shops on first start.
    Serve {
        /// Address to listen on, HOST:PORT (default: server.addr from config).
        #[arg(long)]
        addr: Option<String>,
    },
    /// Feed a recording (FEEDS.md §5) through the import pipeline, with no network.
    Replay {
        /// The recording directory (holding index.jsonl).
        dir: PathBuf,
        #[arg(long)]
        shop: String,
        #[arg(long)]
        json: bool,
    },
    /// Per shop: products, orders, customers, quarantined records, last sync.
    Status {
        #[arg(long)]
        shop: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub fn load_settings(cli: &Cli) -> anyhow::Result<Settings> {
    let env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("LARIS_"))
        .collect();
    Ok(Settings::load(&cli.config, &env)?)
}

pub fn init_tracing(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Human => builder.try_init(),
    };
}

pub fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve { addr } => serve(settings, &cli.data_dir, addr.as_deref()),
        Command::Replay { dir, shop, json } => replay(&settings, &cli.data_dir, dir, shop, *json),
        Command::Status { shop, json } => status(&settings, &cli.data_dir, shop.as_deref(), *json),
    }
}

fn serve(mut settings: Settings, data_dir: &Path, addr: Option<&str>) -> anyhow::Result<()> {
    if let Some(raw) = addr {
        settings.server.addr = raw.parse().map_err(|_| {
            anyhow!("--addr {raw:?} is not HOST:PORT with an IP address, e.g. 127.0.0.1:8080")
        })?;
    }
    if let Some(running) = ServeFile::find(data_dir) {
        bail!(
            "a laris service (pid {}) already serves the store in {} at http://{}: stop it first, or pass another --data-dir",
            running.pid,
            data_dir.display(),
            running.addr
        );
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let addr = settings.server.addr;
        let app = app::Application::build(settings, data_dir, addr).await?;
        app.run_until_stopped(app::shutdown_signal()).await
    })
}

fn shop_id(settings: &Settings, raw: &str) -> anyhow::Result<ShopId> {
    let id = ShopId::parse(raw)?;
    if settings.shop(&id).is_none() {
        let known: Vec<&str> = settings.shops.iter().map(|s| s.id.as_str()).collect();
        bail!(
            "unknown shop {raw:?}: {} configures {}; add a [[shops]] block with id = {raw:?}",
            settings.source.display(),
            if known.is_empty() {
                "no shops".to_string()
            } else {
                known.join(", ")
            }
        );
    }
    Ok(id)
}

/// A client for the service that holds the store.
struct ServiceClient {
    base: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl ServiceClient {
    /// The running service for `data_dir`, if there is one that answers.
    fn find(settings: &Settings, data_dir: &Path) -> anyhow::Result<Option<ServiceClient>> {
        let Some(file) = ServeFile::find(data_dir) else {
            return Ok(None);
        };
        let token = app::admin_token(settings, data_dir, false)?.ok_or_else(|| {
            anyhow!(
                "a laris service (pid {}) holds the store in {}, but no admin token is known: set LARIS_ADMIN_TOKEN to the service's token",
                file.pid,
                data_dir.display()
            )
        })?;
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(600))
            .build()?;
        let client = ServiceClient {
            base: format!("http://{}", file.addr),
            token,
            http,
        };
        match client.http.get(format!("{}/healthz", client.base)).send() {
            Ok(r) if r.status().is_success() => Ok(Some(client)),
            _ => Ok(None),
        }
    }

    fn check(resp: reqwest::blocking::Response) -> anyhow::Result<reqwest::blocking::Response> {
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let body: serde_json::Value = resp.json().unwrap_or_default();
        let msg = body.get("error").and_then(|e| e.as_str()).unwrap_or("no details");
        bail!("the running service answered {status}: {msg}")
    }

    fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()?;
        Ok(Self::check(resp)?.json()?)
    }

    fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<T> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()?;
        Ok(Self::check(resp)?.json()?)
    }
}

fn open_store(data_dir: &Path) -> anyhow::Result<Store> {
    Ok(Store::open(data_dir)?)
}

fn replay(settings: &Settings, data_dir: &Path, dir: &Path, shop: &str, json: bool) -> anyhow::Result<()> {
    let shop = shop_id(settings, shop)?;
    let report: SyncReport = match ServiceClient::find(settings, data_dir)? {
        Some(client) => {
            let abs = std::fs::canonicalize(dir).with_context(|| format!("recording {}", dir.display()))?;
            eprintln!(
                "the store is held by the running service at {}: replaying through it",
                client.base
            );
            client.post(
                &format!("/admin/api/shops/{shop}/replay"),
                &serde_json::json!({"dir": abs.display().to_string()}),
            )?
        }
        None => {
            let store = open_store(data_dir)?;
            let report = crate::sync::replay::replay(&store, &shop, dir)?;
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

fn status(settings: &Settings, data_dir: &Path, shop: Option<&str>, json: bool) -> anyhow::Result<()> {
    if let Some(s) = shop {
        shop_id(settings, s)?;
    }
    let report: StatusReport = match ServiceClient::find(settings, data_dir)? {
        Some(client) => {
            let path = match shop {
                Some(s) => format!("/admin/api/status?shop={s}"),
                None => "/admin/api/status".to_string(),
            };
            client.get(&path)?
        }
        None => {
            let store = open_store(data_dir)?;
            crate::status::status(settings, &store, shop)?
        }
    };
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}
