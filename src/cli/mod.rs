//! The command line: arguments (clap) turned into validated settings once, then each
//! subcommand. Commands that need the store go through a running `laris serve` when its
//! address file is in the data directory (sled lets one process hold a store).

mod admin;
pub mod analyst;
mod automations;
mod client;
pub mod eval;
mod experiment;
mod migrate;
pub mod mock_marketplace;
mod recommend;
mod rules_csv;
mod serve;
mod status;
mod store_copy;
mod stores;
mod sync;

pub use crate::app::StoreUrl;
use admin::{set_password, unlock};
use recommend::{customers, products, recommend, token, RecommendArgs};
use serve::{mock_marketplace, serve};
use status::{rebuild, status};
use store_copy::store_copy;
use stores::{open_existing_store, open_store};
use sync::{import, replay, sync};

use std::path::PathBuf;

use anyhow::bail;
use clap::{Parser, Subcommand};

use crate::app;
use crate::config::{LogFormat, Settings};
use crate::domain::ShopId;

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
    /// Feed a recording (docs/feeds.md: recordings) through the import pipeline, with no network.
    Replay {
        /// The recording directory (holding index.jsonl).
        dir: PathBuf,
        /// The shop to import into (its id in the config's [[shops]]).
        #[arg(long)]
        shop: String,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Sync now: run every source of one shop (or all) once, through the running service
    /// when it holds the store. Exits non-zero when a source failed.
    Sync {
        /// Only this shop (its id in the config); every shop when left out.
        #[arg(long)]
        shop: Option<String>,
        /// Write a recording of the run (one new directory per shop) under DIR.
        #[arg(long, value_name = "DIR")]
        record: Option<PathBuf>,
        /// Read every product page and mark vanished products inactive.
        #[arg(long)]
        full: bool,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Import Seller Center export files (CSV or XLSX, docs/feeds.md: export files) into a shop.
    Import {
        /// The shop to import into (its id in the config's [[shops]]).
        #[arg(long)]
        shop: String,
        /// A product list (repeatable).
        #[arg(long, value_name = "FILE")]
        products: Vec<PathBuf>,
        /// A sales report, "Laporan Penjualan" (repeatable).
        #[arg(long, value_name = "FILE")]
        orders: Vec<PathBuf>,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Exit 0 even when rows were quarantined (by default the import lists them and
        /// exits 2, so a script notices).
        #[arg(long)]
        allow_quarantine: bool,
    },
    /// Serve a recording as a live marketplace API, for testers (docs/feeds.md: marketplace API, recordings).
    MockMarketplace {
        /// The recording directory (holding index.jsonl).
        dir: PathBuf,
        /// Address to listen on, HOST:PORT (port 0: any free port, printed on start).
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: String,
        /// Lifetime of the tokens it issues, in seconds.
        #[arg(long, default_value_t = 3600)]
        token_lifetime: u64,
        /// TikTok Shop: the app key requests must carry.
        #[arg(long, env = "LARIS_MOCK_TIKTOK_APP_KEY", default_value = mock_marketplace::tiktok::DEFAULT_APP_KEY)]
        tiktok_app_key: String,
        /// TikTok Shop: the app secret signatures must be made with.
        #[arg(long, env = "LARIS_MOCK_TIKTOK_APP_SECRET", default_value = mock_marketplace::tiktok::DEFAULT_APP_SECRET, hide_env_values = true)]
        tiktok_app_secret: String,
        /// TikTok Shop: an access token accepted from the start (others are issued by refreshes).
        #[arg(long, env = "LARIS_MOCK_TIKTOK_ACCESS_TOKEN", default_value = mock_marketplace::tiktok::DEFAULT_ACCESS_TOKEN, hide_env_values = true)]
        tiktok_access_token: String,
        /// TikTok Shop: the refresh token accepted from the start.
        #[arg(long, env = "LARIS_MOCK_TIKTOK_REFRESH_TOKEN", default_value = mock_marketplace::tiktok::DEFAULT_REFRESH_TOKEN, hide_env_values = true)]
        tiktok_refresh_token: String,
        /// TikTok Shop: each refresh issues a new refresh token and retires the old one.
        #[arg(long)]
        tiktok_rotate_refresh_token: bool,
    },
    /// Per shop: products, orders, customers, quarantined records, last sync.
    Status {
        /// Only this shop (its id in the config); every shop when left out.
        #[arg(long)]
        shop: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the recommendation models of one shop or all.
    Rebuild {
        /// Only this shop (its id in the config); every shop when left out.
        #[arg(long)]
        shop: Option<String>,
    },
    /// What the widget would show on a product page: similar, upgrades, bundles.
    Recommend {
        /// The shop (its id in the config's [[shops]]).
        #[arg(long)]
        shop: String,
        /// The product whose page it is: its marketplace product id.
        #[arg(long)]
        product: String,
        /// A customer id (the owner's view: no token needed).
        #[arg(long)]
        customer: Option<String>,
        /// Products already in the cart, comma-separated.
        #[arg(long)]
        cart: Option<String>,
        /// Most items per list (default: the shop's configured limit).
        #[arg(long)]
        limit: Option<usize>,
        /// Language of the reasons: id or en.
        #[arg(long, default_value = "id")]
        lang: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Mine association rules (or itemsets) from any basket file: one transaction per line,
    /// items comma-separated, kept exactly as written.
    Rules {
        /// The basket file: one transaction per line, items comma-separated.
        #[arg(long)]
        baskets: PathBuf,
        /// Smallest share of baskets an itemset must appear in (0 to 1).
        #[arg(long, default_value_t = 0.01)]
        min_support: f64,
        /// Smallest confidence of a rule A → B: P(B | A), 0 to 1.
        #[arg(long, default_value_t = 0.1)]
        min_confidence: f64,
        /// Smallest lift of a rule: confidence over P(B); 1 means independent.
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
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: OutputFormat,
    },
    /// List the products of a shop: id, SKU, name, price, stock, units sold. The id or the
    /// SKU is what `recommend --product` and the widget's `data-product` take.
    Products {
        /// The shop (its id in the config's [[shops]]).
        #[arg(long)]
        shop: String,
        /// Only products whose id, SKU or name contains this text (any case).
        #[arg(long)]
        search: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: OutputFormat,
    },
    /// Export customers with tier and segment (personal data included: the owner's export).
    Customers {
        /// The shop (its id in the config's [[shops]]).
        #[arg(long)]
        shop: String,
        /// Only this segment (Champions, Loyal, New, Potential, At risk, Hibernating, Lost).
        #[arg(long)]
        segment: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: OutputFormat,
    },
    /// Cluster any CSV of `customer,total` (header row present) into tiers.
    Tiers {
        /// The CSV of `customer,total` (total in whole rupiah), header row first.
        #[arg(long)]
        totals: PathBuf,
        /// How many tiers to make.
        #[arg(long, default_value_t = 4)]
        k: usize,
        /// How to cluster the totals into tiers.
        #[arg(long, value_enum, default_value = "kmeans")]
        method: analyst::TierClustering,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print a signed customer token for the widget (what a shop's backend makes).
    Token {
        /// The shop whose customer secret signs the token.
        #[arg(long)]
        shop: String,
        /// The customer id the token names (as `laris customers` lists it).
        #[arg(long, required_unless_present = "phone", conflicts_with = "phone")]
        customer: Option<String>,
        /// The customer's phone number, in any usual form (0812-3456-789, +62 812 3456 789):
        /// the token names its customer key, 628123456789.
        #[arg(long)]
        phone: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 86_400)]
        ttl: i64,
    },
    /// Offline evaluation: train on earlier purchases, measure every model on later ones (a
    /// shop's, or a plain basket file's with --baskets).
    Eval {
        #[command(flatten)]
        args: crate::cli::eval::EvalArgs,
    },
    /// Bring a PostgreSQL store's schema up to this laris's version and say what was done
    /// (`laris serve` on PostgreSQL does it on start too).
    Migrate {
        /// The database, postgres://USER:PASSWORD@HOST:PORT/DATABASE (default: url under
        /// [store] in the config, or LARIS_STORE_URL).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
    /// The admin dashboard's sign-in.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The shop's follow-up automations ([[shops.automations]]).
    Automations {
        #[command(subcommand)]
        command: AutomationsCommand,
    },
    /// The shop's holdout experiment ([shops.experiment]).
    Experiment {
        #[command(subcommand)]
        command: ExperimentCommand,
    },
    /// The store as a whole: moving every shop to another store.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AutomationsCommand {
    /// A dry run: who would get which message now and why, and who is held back (opt-out,
    /// weekly cap) — recording and sending nothing. Goes through the running service when
    /// it holds the store.
    Preview {
        /// The shop (its id in the config's [[shops]]).
        #[arg(long)]
        shop: String,
        /// The moment to decide at, RFC 3339 (2026-11-02T09:00:00+07:00) or a date
        /// (2026-11-02, 09:00 in the shop's time zone); default: now.
        #[arg(long)]
        at: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExperimentCommand {
    /// The experiment's report: each arm's visitors, conversion, average order value and
    /// revenue per visitor, the differences with their 95% intervals, the sample-ratio check
    /// and the minimum detectable effect. Goes through the running service when it holds the
    /// store.
    Report {
        /// The shop (its id in the config's [[shops]]).
        #[arg(long)]
        shop: String,
        /// text (for reading) or json (the admin API's answer).
        #[arg(long, value_enum, default_value = "text")]
        format: experiment::ReportFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every shop (products, orders, customers, models, events, feedback, settings,
    /// sync state) into another, empty store, then compare counts and content
    /// fingerprints shop by shop; exits non-zero when anything differs. Stop `laris serve`
    /// on the source first.
    Copy {
        /// The store to copy: sled:DIR (a data directory) or postgres://USER@HOST/DATABASE.
        #[arg(long, value_name = "STORE")]
        from: String,
        /// The store to copy into, holding none of the source's shops: sled:DIR (created
        /// when missing) or postgres://USER@HOST/DATABASE.
        #[arg(long, value_name = "STORE")]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set the password of user `admin` (every shop), or with --shop of the user named by
    /// that shop's id (that shop only). Reads it from the first line of stdin; keeps only an
    /// argon2id hash, in DATA_DIR/admin-password[-SHOP].
    SetPassword {
        /// Set the password of that shop's own user instead of `admin`.
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
pub enum OutputFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// JSON.
    Json,
}

pub fn load_settings(cli: &Cli) -> anyhow::Result<Settings> {
    let env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("LARIS_"))
        .collect();
    // Commands that read no shop, run by testers and analysts anywhere, need no config file.
    let standalone = match &cli.command {
        Command::MockMarketplace { .. }
        | Command::Rules { .. }
        | Command::Tiers { .. }
        | Command::Store { .. } => true,
        Command::Eval { args } => args.baskets.is_some(),
        Command::Migrate { url } => url.is_some() || env.iter().any(|(k, _)| k == "LARIS_STORE_URL"),
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
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: piped or redirected logs stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match settings.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Human => builder.try_init(),
    };
}

/// A command that did its work but left something for the user to look at: `laris` exits
/// with [`Incomplete::EXIT_CODE`] instead of 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Incomplete(pub String);

impl Incomplete {
    pub const EXIT_CODE: i32 = 2;
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
            allow_quarantine,
        } => import(
            &settings,
            &cli.data_dir,
            shop,
            (products, orders),
            *json,
            *allow_quarantine,
        ),
        Command::MockMarketplace {
            dir,
            addr,
            token_lifetime,
            tiktok_app_key,
            tiktok_app_secret,
            tiktok_access_token,
            tiktok_refresh_token,
            tiktok_rotate_refresh_token,
        } => mock_marketplace(
            dir,
            addr,
            *token_lifetime,
            mock_marketplace::tiktok::TikTokSettings {
                app: crate::sync::tiktok_shop::App {
                    key: tiktok_app_key.clone(),
                    secret: tiktok_app_secret.clone(),
                },
                access_token: tiktok_access_token.clone(),
                refresh_token: tiktok_refresh_token.clone(),
                rotate_refresh_token: *tiktok_rotate_refresh_token,
            },
        ),
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
            crate::cli::analyst::rules(
                baskets,
                &t,
                *itemsets,
                *format == OutputFormat::Json,
                *timing,
                &mut std::io::stdout().lock(),
            )
        }
        Command::Token {
            shop,
            customer,
            phone,
            ttl,
        } => {
            let customer = match (customer, phone) {
                (Some(id), _) => id.clone(),
                (None, Some(phone)) => {
                    crate::domain::phone::normalise(phone).map_err(|e| anyhow::anyhow!("--phone: {e}"))?
                }
                (None, None) => anyhow::bail!("name the customer with --customer ID or --phone NUMBER"),
            };
            let mut settings = settings;
            app::fill_customer_secrets(&mut settings, &cli.data_dir)?;
            token(&settings, &cli.data_dir, shop, &customer, *ttl)
        }
        Command::Products { shop, search, format } => {
            products(&settings, &cli.data_dir, shop, search.as_deref(), *format)
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
        } => crate::cli::analyst::tiers(totals, *k, *method, *json),
        Command::Eval { args } => crate::cli::eval::run_cli(&settings, &cli.data_dir, args),
        Command::Migrate { url } => {
            println!("{}", migrate::migrate(&settings, url.as_deref())?);
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::SetPassword { shop },
        } => set_password(&settings, &cli.data_dir, shop.as_deref()),
        Command::Admin {
            command: AdminCommand::Unlock { user, address },
        } => unlock(&settings, &cli.data_dir, user.as_deref(), address.as_deref()),
        Command::Store {
            command: StoreCommand::Copy { from, to },
        } => store_copy(from, to),
        Command::Automations {
            command: AutomationsCommand::Preview { shop, at, json },
        } => automations::preview(&settings, &cli.data_dir, shop, at.as_deref(), *json),
        Command::Experiment {
            command: ExperimentCommand::Report { shop, format },
        } => experiment::report(&settings, &cli.data_dir, shop, *format),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every option and argument of every command says what it is in `--help`.
    #[test]
    fn every_option_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(format!("{path} {}", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "laris", &mut missing);
        assert!(missing.is_empty(), "options without help: {missing:?}");
    }

    #[test]
    fn read_commands_name_a_missing_store_and_create_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let mistyped = tmp.path().join("dta");
        let settings =
            Settings::from_toml("[[shops]]\nid = \"toko\"\n", std::path::Path::new("t.toml"), &[]).unwrap();
        let err = open_existing_store(&settings, &mistyped)
            .err()
            .expect("no store there")
            .to_string();
        assert!(err.contains("no store at") && err.contains("dta"), "{err}");
        assert!(
            !mistyped.exists(),
            "a read command created {}",
            mistyped.display()
        );
        drop(open_store(&settings, &mistyped).unwrap());
        assert!(crate::store::Store::exists(&mistyped));
        // sled's flusher lets go of the store's lock a moment after the handle is dropped.
        let mut tries = 0;
        while let Err(e) = open_existing_store(&settings, &mistyped) {
            tries += 1;
            let e = e.to_string();
            assert!(e.contains("held by another") && tries < 100, "{e}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}
