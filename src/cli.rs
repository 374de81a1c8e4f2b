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
    /// Sync now: run every source of one shop (or all) once, through the running service
    /// when it holds the store. Exits non-zero when a source failed.
    Sync {
        #[arg(long)]
        shop: Option<String>,
        /// Write a recording of the run (one new directory per shop) under DIR.
        #[arg(long, value_name = "DIR")]
        record: Option<PathBuf>,
        /// Read every product page and mark vanished products inactive.
        #[arg(long)]
        full: bool,
        #[arg(long)]
        json: bool,
    },
    /// Import Seller Center export files (CSV or XLSX, FEEDS.md §2) into a shop.
    Import {
        #[arg(long)]
        shop: String,
        /// A product list (repeatable).
        #[arg(long, value_name = "FILE")]
        products: Vec<PathBuf>,
        /// A sales report, "Laporan Penjualan" (repeatable).
        #[arg(long, value_name = "FILE")]
        orders: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Serve a recording as a live marketplace API, for testers (FEEDS.md §1 and §5).
    MockMarketplace {
        /// The recording directory (holding index.jsonl).
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: String,
        /// Lifetime of the tokens it issues, in seconds.
        #[arg(long, default_value_t = 3600)]
        token_lifetime: u64,
    },
    /// Per shop: products, orders, customers, quarantined records, last sync.
    Status {
        #[arg(long)]
        shop: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the recommendation models of one shop or all.
    Rebuild {
        #[arg(long)]
        shop: Option<String>,
    },
    /// What the widget would show on a product page: similar, upgrades, bundles.
    Recommend {
        #[arg(long)]
        shop: String,
        #[arg(long)]
        product: String,
        /// A customer id (the owner's view: no token needed).
        #[arg(long)]
        customer: Option<String>,
        /// Products already in the cart, comma-separated.
        #[arg(long)]
        cart: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
        /// Language of the reasons: id or en.
        #[arg(long, default_value = "id")]
        lang: String,
        #[arg(long)]
        json: bool,
    },
    /// Mine association rules (or itemsets) from any basket file: one transaction per line,
    /// items comma-separated, kept exactly as written.
    Rules {
        #[arg(long)]
        baskets: PathBuf,
        #[arg(long, default_value_t = 0.01)]
        min_support: f64,
        #[arg(long, default_value_t = 0.1)]
        min_confidence: f64,
        #[arg(long, default_value_t = 0.0)]
        min_lift: f64,
        /// Largest itemset size.
        #[arg(long, default_value_t = 10)]
        max_len: usize,
        /// Print the frequent itemsets instead of the rules.
        #[arg(long)]
        itemsets: bool,
        /// Print the mining time (reading and writing excluded) to stderr.
        #[arg(long)]
        timing: bool,
        #[arg(long, value_enum, default_value = "csv")]
        format: OutputFormat,
    },
    /// Export customers with tier and segment (personal data included: the owner's export).
    Customers {
        #[arg(long)]
        shop: String,
        /// Only this segment (Champions, Loyal, New, Potential, At risk, Hibernating, Lost).
        #[arg(long)]
        segment: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: OutputFormat,
    },
    /// Cluster any CSV of `customer,total` (header row present) into tiers.
    Tiers {
        #[arg(long)]
        totals: PathBuf,
        #[arg(long, default_value_t = 4)]
        k: usize,
        #[arg(long, value_enum, default_value = "kmeans")]
        method: TierClustering,
        #[arg(long)]
        json: bool,
    },
    /// Print a signed customer token for the widget (what a shop's backend makes).
    Token {
        #[arg(long)]
        shop: String,
        #[arg(long)]
        customer: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 86_400)]
        ttl: i64,
    },
    /// Offline evaluation: train on earlier purchases, measure every model on later ones (a
    /// shop's, or a plain basket file's with --baskets).
    Eval {
        #[command(flatten)]
        args: crate::eval::EvalArgs,
    },
    /// The admin dashboard's sign-in.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set the password of user `admin` (every shop), or with --shop of the user named by
    /// that shop's id (that shop only). Reads it from the first line of stdin; keeps only an
    /// argon2id hash, in DATA_DIR/admin-password[-SHOP].
    SetPassword {
        #[arg(long)]
        shop: Option<String>,
    },
    /// Clear the sign-in's wrong-password counts (lockouts) in the running service, which
    /// keeps them in memory only. With neither flag, all of them.
    Unlock {
        /// That user's counts (admin or a shop's id).
        #[arg(long)]
        user: Option<String>,
        /// That client address's counts (an IPv6 address counts by its /64).
        #[arg(long)]
        address: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TierClustering {
    /// Exact 1-D k-means (optimal SSE).
    Kmeans,
    /// Seed 002's centres: steps of (max − min)/(k + 1).
    EqualWidth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Csv,
    Json,
}

pub fn load_settings(cli: &Cli) -> anyhow::Result<Settings> {
    let env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("LARIS_"))
        .collect();
    // Commands that read no shop, run by testers and analysts anywhere, need no config file.
    let standalone = match &cli.command {
        Command::MockMarketplace { .. } | Command::Rules { .. } | Command::Tiers { .. } => true,
        Command::Eval { args } => args.baskets.is_some(),
        _ => false,
    };
    if standalone && !cli.config.exists() {
        return Ok(Settings::from_toml("", &cli.config, &env)?);
    }
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
        Command::Sync {
            shop,
            record,
            full,
            json,
        } => sync(
            &settings,
            &cli.data_dir,
            shop.as_deref(),
            record.as_deref(),
            *full,
            *json,
        ),
        Command::Import {
            shop,
            products,
            orders,
            json,
        } => import(&settings, &cli.data_dir, shop, products, orders, *json),
        Command::MockMarketplace {
            dir,
            addr,
            token_lifetime,
        } => mock_marketplace(dir, addr, *token_lifetime),
        Command::Status { shop, json } => status(&settings, &cli.data_dir, shop.as_deref(), *json),
        Command::Rebuild { shop } => rebuild(&settings, &cli.data_dir, shop.as_deref()),
        Command::Recommend {
            shop,
            product,
            customer,
            cart,
            limit,
            lang,
            json,
        } => {
            let args = RecommendArgs {
                shop,
                product,
                customer: customer.as_deref(),
                cart: cart.as_deref(),
                limit: *limit,
                lang,
                json: *json,
            };
            recommend(&settings, &cli.data_dir, &args)
        }
        Command::Rules {
            baskets,
            min_support,
            min_confidence,
            min_lift,
            max_len,
            itemsets,
            timing,
            format,
        } => {
            let t = crate::recommend::fpgrowth::MiningThresholds {
                min_support: *min_support,
                min_confidence: *min_confidence,
                min_lift: *min_lift,
                max_len: *max_len,
            };
            crate::analyst::rules(
                baskets,
                &t,
                *itemsets,
                *format == OutputFormat::Json,
                *timing,
                &mut std::io::stdout().lock(),
            )
        }
        Command::Token { shop, customer, ttl } => {
            let mut settings = settings;
            app::fill_customer_secrets(&mut settings, &cli.data_dir)?;
            token(&settings, shop, customer, *ttl)
        }
        Command::Customers {
            shop,
            segment,
            format,
        } => customers(&settings, &cli.data_dir, shop, segment.as_deref(), *format),
        Command::Tiers {
            totals,
            k,
            method,
            json,
        } => crate::analyst::tiers(totals, *k, *method, *json),
        Command::Eval { args } => crate::eval::run_cli(&settings, &cli.data_dir, args),
        Command::Admin {
            command: AdminCommand::SetPassword { shop },
        } => set_password(&settings, &cli.data_dir, shop.as_deref()),
        Command::Admin {
            command: AdminCommand::Unlock { user, address },
        } => unlock(&settings, &cli.data_dir, user.as_deref(), address.as_deref()),
    }
}

/// `laris admin unlock [--user U] [--address A]`: the counts live in the running service's
/// memory only, so this goes through its admin API.
fn unlock(
    settings: &Settings,
    data_dir: &Path,
    user: Option<&str>,
    address: Option<&str>,
) -> anyhow::Result<()> {
    if let Some(raw) = address {
        raw.trim().parse::<std::net::IpAddr>().map_err(|_| {
            anyhow!("--address {raw:?} is not an IP address: write it as 203.0.113.7 or 2001:db8::1, without a port")
        })?;
    }
    if let Some(name) = user {
        if crate::admin_auth::Access::for_user(name).is_none() {
            bail!("--user {name:?} is no user name: use admin or a shop's id");
        }
    }
    let Some(client) = ServiceClient::find(settings, data_dir)? else {
        println!(
            "no laris service runs with the data directory {}: sign-in lockouts live only in a running service's memory, so nothing is locked (if the service runs with another data directory, pass its --data-dir)",
            data_dir.display()
        );
        return Ok(());
    };
    let cleared: serde_json::Value = client.post(
        "/admin/api/signin/unlock",
        &serde_json::json!({ "user": user, "address": address }),
    )?;
    let count = |k: &str| cleared.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let (locked, counts) = (count("locked"), count("counts"));
    println!(
        "{locked} lockout{} cleared ({counts} wrong-password count{} reset) in the running service at {}",
        if locked == 1 { "" } else { "s" },
        if counts == 1 { "" } else { "s" },
        client.base
    );
    Ok(())
}

/// `laris admin set-password [--shop ID]`: the password from stdin's first line (with a
/// prompt on a terminal), hashed, saved in the data directory.
fn set_password(settings: &Settings, data_dir: &Path, shop: Option<&str>) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    let access = match shop {
        Some(s) => crate::admin_auth::Access::Shop(shop_id(settings, s)?),
        None => crate::admin_auth::Access::All,
    };
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("New password: ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        bail!(
            "no password on stdin: type it at the prompt, or pipe it in, e.g. `printf '%s\\n' \"$PASSWORD\" | laris admin set-password`"
        );
    }
    let hash = crate::admin_auth::hash_password(password)?;
    let path = crate::admin_auth::save_password_hash(data_dir, &access, &hash)?;
    println!(
        "saved the password hash of user {} in {} (readable only by you)",
        access.user_name(),
        path.display()
    );
    println!(
        "sign in at http://{}/admin as user {}; a running `laris serve` with this data directory takes the new password at the next sign-in, no restart needed",
        settings.server.addr,
        access.user_name()
    );
    Ok(())
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

/// The recording as the service may read it: itself when it lies in one of the shop's
/// replay directories, else a copy made in the data directory's `recordings/{shop}/` (the
/// service replays nothing else, so that no shop's user can make it read another's data).
fn within_replay_roots(
    settings: &Settings,
    data_dir: &Path,
    shop: &ShopId,
    dir: &Path,
) -> anyhow::Result<PathBuf> {
    let roots = crate::web::replay_roots(data_dir, settings.shop(shop).expect("checked"));
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

fn replay(settings: &Settings, data_dir: &Path, dir: &Path, shop: &str, json: bool) -> anyhow::Result<()> {
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
            let store = open_store(data_dir)?;
            let (report, _) =
                crate::sync::replay::replay_and_rebuild(&store, settings.shop(&shop).expect("checked"), dir)?;
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
            crate::status::status(settings, &store, shop, None)?
        }
    };
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}

/// The fitted blend as `laris rebuild` prints it: per list the mode, the weights and the
/// validation figures, then the owner's explanation.
pub fn blend_text(fit: &crate::recommend::blend::BlendFit) -> String {
    use crate::recommend::blend::{ListFit, SIGNAL_NAMES};
    let mut s = format!(
        "  blend fitted {} on {} purchases, validated on the next {}\n",
        fit.fitted_at.format("%Y-%m-%d %H:%M UTC"),
        fit.fit_orders,
        fit.validation_orders
    );
    let line = |name: &str, peer: &str, l: &ListFit| {
        let weights: Vec<String> = SIGNAL_NAMES
            .iter()
            .zip(l.weights.as_array())
            .filter(|(_, w)| *w > 0.0)
            .map(|(n, w)| format!("{n} {w:.2}"))
            .collect();
        format!(
            "  {name}: {:?} on {} cases — {}\n    NDCG@5 {:.3} (best-sellers {:.3}, {peer} {:.3}), hit@5 {:.3} (best-sellers {:.3})\n",
            l.mode,
            l.cases,
            weights.join(", "),
            l.blend.ndcg,
            l.best_sellers.ndcg,
            l.peer.ndcg,
            l.blend.hit_rate,
            l.best_sellers.hit_rate
        )
    };
    s.push_str(&line("product pages", "co-purchase alone", &fit.item));
    s.push_str(&line("for you", "own most-bought", &fit.personal));
    for e in fit.explain(true) {
        s.push_str(&format!("  {e}\n"));
    }
    s
}

fn rebuild(settings: &Settings, data_dir: &Path, shop: Option<&str>) -> anyhow::Result<()> {
    let shops: Vec<ShopId> = match shop {
        Some(s) => vec![shop_id(settings, s)?],
        None => settings.shops.iter().map(|s| s.id.clone()).collect(),
    };
    let service = ServiceClient::find(settings, data_dir)?;
    let store = match service {
        Some(_) => None,
        None => Some(open_store(data_dir)?),
    };
    for id in shops {
        let summary: crate::rebuild::ModelSummary = match (&service, &store) {
            (Some(client), _) => {
                client.post(&format!("/admin/api/shops/{id}/rebuild"), &serde_json::json!({}))?
            }
            (None, Some(store)) => {
                let shop = settings.shop(&id).expect("checked");
                crate::rebuild::summary(&crate::rebuild::rebuild_shop(store, shop)?)
            }
            (None, None) => unreachable!("either a service or a store"),
        };
        println!(
            "{id}: {} products, {} paid orders, {} rules, {} price clusters (silhouette {}), built in {} ms",
            summary.products,
            summary.paid_orders,
            summary.rules,
            summary
                .price_clusters
                .map(|k| k.to_string())
                .unwrap_or_else(|| "no".into()),
            summary
                .price_silhouette
                .map(|s| format!("{s:.3}"))
                .unwrap_or_else(|| "-".into()),
            summary.build_ms
        );
        print!("{}", blend_text(&summary.blend));
    }
    if let Some(store) = store {
        store.flush_blocking()?;
    }
    Ok(())
}

struct RecommendArgs<'a> {
    shop: &'a str,
    product: &'a str,
    customer: Option<&'a str>,
    cart: Option<&'a str>,
    limit: Option<usize>,
    lang: &'a str,
    json: bool,
}

fn recommend(settings: &Settings, data_dir: &Path, a: &RecommendArgs) -> anyhow::Result<()> {
    use crate::recommend::serve::{Lang, Recommendations, Request};
    let shop = shop_id(settings, a.shop)?;
    let lang = Lang::parse(a.lang).ok_or_else(|| anyhow!("--lang {:?}: use id or en", a.lang))?;
    let product = crate::domain::ProductId::parse(a.product)?;
    let cart: Vec<crate::domain::ProductId> = a
        .cart
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| crate::domain::ProductId::parse(s.trim()))
        .collect::<Result<_, _>>()?;
    let recs: Recommendations = match ServiceClient::find(settings, data_dir)? {
        Some(client) => {
            let mut path = format!(
                "/admin/api/shops/{shop}/recommendations?product={}&lang={}",
                urlencode(a.product),
                a.lang
            );
            if let Some(c) = a.customer {
                path.push_str(&format!("&customer_id={}", urlencode(c)));
            }
            if let Some(c) = a.cart {
                path.push_str(&format!("&cart={}", urlencode(c)));
            }
            if let Some(l) = a.limit {
                path.push_str(&format!("&limit={l}"));
            }
            client.get(&path)?
        }
        None => {
            let store = open_store(data_dir)?;
            let shop_settings = settings.shop(&shop).expect("checked");
            let model = crate::rebuild::load_or_rebuild(&store, shop_settings)?;
            let customer = a.customer.map(|c| crate::domain::CustomerId(c.to_string()));
            let req = Request {
                product: &product,
                customer: customer.as_ref(),
                cart: &cart,
                limit: a.limit.unwrap_or(shop_settings.recommend.limit),
                lang,
            };
            crate::recommend::serve::recommend(
                &model,
                shop.as_str(),
                &shop_settings.recommend,
                &shop_settings.offers,
                &req,
            )
            .ok_or_else(|| {
                anyhow!(
                    "unknown product {:?} in shop {shop}: `laris status --shop {shop}` counts its products",
                    a.product
                )
            })?
        }
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&recs)?);
    } else {
        print!("{}", crate::analyst::recommendations_text(&recs));
    }
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn token(settings: &Settings, shop: &str, customer: &str, ttl: i64) -> anyhow::Result<()> {
    let id = shop_id(settings, shop)?;
    let secret = settings.shop(&id).and_then(|s| s.customer_secret.clone()).ok_or_else(|| {
        anyhow!("shop {id} has no customer_secret: set customer_secret in its [[shops]] block or LARIS_SHOP_{}_CUSTOMER_SECRET", id.as_str().to_uppercase().replace('-', "_"))
    })?;
    if ttl <= 0 {
        bail!("--ttl {ttl}: use a lifetime in seconds above 0");
    }
    let exp = chrono::Utc::now().timestamp() + ttl;
    println!("{}", crate::token::make(customer, secret.as_bytes(), exp));
    Ok(())
}

fn customers(
    settings: &Settings,
    data_dir: &Path,
    shop: &str,
    segment: Option<&str>,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let shop = shop_id(settings, shop)?;
    if let Some(s) = segment {
        if !crate::recommend::segments::SEGMENTS.contains(&s) {
            bail!(
                "--segment {s:?}: use one of {}",
                crate::recommend::segments::SEGMENTS.join(", ")
            );
        }
    }
    // The dashboard's customer list, highest spend first, whether the service or the store
    // answers.
    let all: Vec<crate::records::Customer> = match ServiceClient::find(settings, data_dir)? {
        Some(client) => client.get(&match segment {
            Some(s) => format!("/admin/api/shops/{shop}/customers?segment={}", urlencode(s)),
            None => format!("/admin/api/shops/{shop}/customers"),
        })?,
        None => {
            let query = crate::admin::pages::CustomerQuery {
                segment: segment.map(str::to_string),
                tier: None,
            };
            let store = open_store(data_dir)?;
            crate::admin::pages::customers(&store, settings.shop(&shop).expect("checked"), &query)
                .map_err(|e| anyhow!("{e}"))?
        }
    };
    let rows: Vec<&crate::records::Customer> = all.iter().collect();
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        OutputFormat::Csv => crate::analyst::customers_csv(&rows, &mut std::io::stdout().lock())?,
    }
    Ok(())
}

/// A spinner on a terminal, nothing otherwise (logs still say what happens).
struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    fn new() -> Spinner {
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

    fn finish(&self) {
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
fn report_lines(shop: &str, report: &SyncReport) -> String {
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

fn print_runs(runs: &[crate::sync::agent::ShopSync], json: bool) -> anyhow::Result<()> {
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

fn sync(
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
            let store = open_store(data_dir)?;
            let models = std::sync::Arc::new(crate::rebuild::Models::default());
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

fn import(
    settings: &Settings,
    data_dir: &Path,
    shop: &str,
    products: &[PathBuf],
    orders: &[PathBuf],
    json: bool,
) -> anyhow::Result<()> {
    let shop = shop_id(settings, shop)?;
    if products.is_empty() && orders.is_empty() {
        bail!(
            "nothing to import: give --products FILE and/or --orders FILE (CSV or XLSX exports: see the README, section Sources and sync)"
        );
    }
    if let Some(client) = ServiceClient::find(settings, data_dir)? {
        bail!(
            "the running service at {} holds the store: configure the files as an export_files source and run `laris sync --shop {shop}`, or stop the service first",
            client.base
        );
    }
    let store = open_store(data_dir)?;
    let mut importer = crate::sync::pipeline::Importer::new(&store, shop.clone());
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
        crate::sync::files::import_file(&mut importer, kind, &name, &bytes, modified)?;
    }
    let names: Vec<String> = products
        .iter()
        .chain(orders)
        .map(|p| p.display().to_string())
        .collect();
    let report = importer.finish("import", &names.join(", "))?;
    // Stale as well when an earlier run was interrupted before its rebuild.
    let model = if report.changed() || store.model_stale(&shop)? {
        let shop_settings = settings.shop(&shop).expect("checked");
        Some(crate::rebuild::summary(&crate::rebuild::rebuild_shop(
            &store,
            shop_settings,
        )?))
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
    Ok(())
}

fn mock_marketplace(dir: &Path, addr: &str, token_lifetime: u64) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|_| anyhow!("--addr {addr:?} is not HOST:PORT with an IP address, e.g. 127.0.0.1:9090"))?;
    let mock = crate::sync::mock::MockMarketplace::open(dir)?;
    mock.set_token_lifetime(token_lifetime);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}: pass another --addr"))?;
        let local = listener.local_addr()?;
        // Said once at start; a closed stdout (a tester's `| head`) must not stop the mock.
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "mock marketplace serving {} at http://{local}",
            dir.display()
        );
        let _ = writeln!(
            out,
            "  base_url  = \"http://{local}\"\n  token_url = \"http://{local}/token\""
        );
        let _ = out.flush();
        crate::sync::mock::serve(mock, listener, app::shutdown_signal()).await?;
        Ok(())
    })
}
