//! The `laris eval` command: its arguments, turned into an [`EvalConfig`] in one place; the
//! data read from the store (or `--orders FILE`), or a plain basket file (`--baskets FILE`,
//! no config and no store); a progress counter on a terminal; and the report printed as a
//! table, JSON or Markdown.
//!
//! The evaluation reads the store directly and builds its own models, so it needs the store
//! to itself: while `laris serve` holds it, the command says so instead of waiting.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};

use crate::app::ServeFile;
use crate::config::{Settings, ShopSettings};
use crate::domain::ShopId;
use crate::eval::{evaluate, EvalConfig, ModelKind, Progress, SplitRule};

/// `laris eval`: offline evaluation of every model on a shop's own purchases, or on a plain
/// basket file.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "\
Purchases paid before the split train the models; the later ones are the test set, in time
order. Three protocols are reported:
  basket_completion  one item of each test basket with 2+ products is hidden (drawn with
                     --seed); the rest is the context, as in a cart. Models never list the
                     context.
  next_order         the customer's earlier purchases are the context, the order's distinct
                     products the truth; models may list what the customer bought before,
                     so a repurchase counts (recall ceiling 1).
  next_order_new     the same cases, but models never list the context: only products new
                     to the customer count (recall ceiling: their mean share of the order).

Models: hybrid (what the widget serves: for a customer with earlier purchases their for_you
list; otherwise the bundle partners, the similar list and the upgrades of the basket's first
product, then best-sellers), blend (the product-page blend with the weights fitted on the
training purchases), personal (the customer's own blended list), item_knn (the plain
co-purchase peer: cosine on co-occurrence counts), popular_in_category, repurchase (the
customer's own most-bought products), similar, upsell, bundles, and the baselines best_sellers
and random. Under next_order, best_sellers, random, item_knn, popular_in_category, repurchase,
blend, personal and hybrid may list what the customer bought before; similar, upsell and
bundles never do.

--orders FILE reads marketplace API order records (the records `laris replay` imports: a JSON
array, JSON lines, or an order-list answer {\"data\": [...]}) instead of the store's orders.
Products still come from the store. Seller Center CSV exports are not read yet.

--baskets FILE evaluates a plain basket file with no config and no store: one basket per
line, in time order, items separated by commas and kept exactly as written (the format
`laris rules --baskets` reads). Each distinct item becomes a product (id item-00001, ... by
first appearance; the item is its name), each basket a paid order of its own anonymous
customer, a minute after the one before. Lines with no item are skipped and counted. With no
customers, the next-order protocols have no cases (reported as skipped: no_customers), and
no clustering is reported. Default settings; --shop only labels the report (default: the
file name without its extension).

Examples:
  laris eval --shop lengkuas
  laris eval --shop lengkuas --split-at 2026-10-01 --top-n 3,5,10 --compare hybrid,best_sellers
  laris eval --shop lengkuas --compare blend,item_knn --compare personal,repurchase
  laris eval --shop lengkuas --orders export.jsonl --format markdown
  laris eval --baskets groceries.csv --top-n 5,10 --format json")]
pub struct EvalArgs {
    /// The shop to evaluate (its id in the config); required unless --baskets is given, where
    /// it only labels the report.
    #[arg(long)]
    pub shop: Option<String>,
    /// Split point: purchases paid before it train. A date (midnight in the shop's timezone),
    /// or a time such as 2026-10-01T12:00:00+07:00.
    #[arg(long, value_name = "DATE", conflicts_with_all = ["test_fraction", "baskets"])]
    pub split_at: Option<String>,
    /// Share of the purchases, the latest by payment time, that form the test set [default: 0.2].
    #[arg(long, value_name = "F")]
    pub test_fraction: Option<f64>,
    /// List lengths N to measure at, comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "3,5")]
    pub top_n: Vec<usize>,
    /// Models to evaluate, comma-separated: similar, upsell, bundles, hybrid, best_sellers,
    /// random.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "similar,upsell,bundles,hybrid,blend,personal,item_knn,popular_in_category,repurchase,best_sellers,random"
    )]
    pub models: Vec<String>,
    /// Two models A,B: a paired t-test of A − B per protocol, N and metric (both are
    /// evaluated even when --models leaves them out). Repeat it for more pairs.
    #[arg(long, value_name = "A,B")]
    pub compare: Vec<String>,
    /// Seed of the hidden basket items and of the random model.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// A table for the terminal, JSON (every figure, for scripts) or Markdown.
    #[arg(long, value_enum, default_value = "table")]
    pub format: EvalFormat,
    /// Evaluate the orders of this file (marketplace API order records) instead of the
    /// store's; products come from the store.
    #[arg(long, value_name = "FILE")]
    pub orders: Option<PathBuf>,
    /// Evaluate a plain basket file (one basket per line, items comma-separated) with no
    /// config and no store.
    #[arg(long, value_name = "FILE", conflicts_with = "orders")]
    pub baskets: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalFormat {
    Table,
    Json,
    Markdown,
}

fn model(raw: &str) -> anyhow::Result<ModelKind> {
    ModelKind::parse(raw).ok_or_else(|| {
        let known: Vec<&str> = ModelKind::ALL.iter().map(|m| m.name()).collect();
        anyhow!("unknown model {raw:?}: use {}", known.join(", "))
    })
}

/// `--split-at`: a date is midnight in the shop's timezone; an RFC 3339 time is taken as is.
pub fn parse_split_at(raw: &str, shop: &ShopSettings) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        anyhow!(
            "--split-at {raw:?}: use a date such as 2026-10-01 or a time such as 2026-10-01T12:00:00+07:00"
        )
    })?;
    let offset = chrono::FixedOffset::east_opt(shop.timezone.offset_seconds)
        .ok_or_else(|| anyhow!("shop {} has an impossible timezone offset", shop.id))?;
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    let local = offset
        .from_local_datetime(&midnight)
        .single()
        .ok_or_else(|| anyhow!("--split-at {raw:?}: no such local time"))?;
    Ok(local.with_timezone(&Utc))
}

/// The arguments as an [`EvalConfig`]; `shop` is `None` for a basket file (no timezone for
/// `--split-at`, the default number of tiers).
pub fn eval_config(args: &EvalArgs, shop: Option<&ShopSettings>) -> anyhow::Result<EvalConfig> {
    let split = match (&args.split_at, args.test_fraction) {
        (Some(raw), _) => match shop {
            Some(shop) => SplitRule::At(parse_split_at(raw, shop)?),
            None => bail!("--split-at {raw:?}: a basket file has no dates; use --test-fraction"),
        },
        (None, Some(f)) => {
            if !(f > 0.0 && f < 1.0) {
                bail!("--test-fraction {f}: use a fraction between 0 and 1, e.g. 0.2");
            }
            SplitRule::TestFraction(f)
        }
        (None, None) => SplitRule::TestFraction(0.2),
    };
    let mut top_n = args.top_n.clone();
    if top_n.is_empty() {
        bail!("--top-n: give at least one list length, e.g. 3,5");
    }
    if let Some(bad) = top_n.iter().find(|&&n| n == 0 || n > 100) {
        bail!("--top-n {bad}: use list lengths from 1 to 100, e.g. 3,5");
    }
    top_n.sort_unstable();
    top_n.dedup();
    let mut models = Vec::new();
    for raw in args.models.iter().filter(|m| !m.trim().is_empty()) {
        let m = model(raw)?;
        if !models.contains(&m) {
            models.push(m);
        }
    }
    if models.is_empty() {
        bail!("--models: name at least one model, e.g. hybrid,best_sellers");
    }
    let mut compare = Vec::new();
    for raw in &args.compare {
        let parts: Vec<&str> = raw.split(',').map(str::trim).collect();
        let [a, b] = parts[..] else {
            bail!("--compare {raw:?}: name two models, e.g. hybrid,best_sellers");
        };
        let (a, b) = (model(a)?, model(b)?);
        if a == b {
            bail!("--compare {raw:?}: name two different models, e.g. hybrid,best_sellers");
        }
        if !compare.contains(&(a, b)) {
            compare.push((a, b));
        }
    }
    Ok(EvalConfig {
        split,
        top_n,
        models,
        compare,
        seed: args.seed,
        tiers_k: shop.map_or(crate::eval::TIERS_K, |s| s.loyalty.tiers.len()),
    })
}

fn shop_settings<'a>(settings: &'a Settings, raw: &str) -> anyhow::Result<&'a ShopSettings> {
    let id = ShopId::parse(raw)?;
    settings.shop(&id).ok_or_else(|| {
        let known: Vec<&str> = settings.shops.iter().map(|s| s.id.as_str()).collect();
        anyhow!(
            "unknown shop {raw:?}: {} configures {}",
            settings.source.display(),
            if known.is_empty() {
                "no shops".to_string()
            } else {
                known.join(", ")
            }
        )
    })
}

/// Prints `\r…` progress to stderr, only when stderr is a terminal, at most every 1%.
struct ProgressLine {
    on: bool,
    last_pct: Option<usize>,
}

impl ProgressLine {
    fn new() -> Self {
        ProgressLine {
            on: std::io::stderr().is_terminal(),
            last_pct: None,
        }
    }

    fn update(&mut self, p: Progress) {
        if !self.on || p.total == 0 {
            return;
        }
        let pct = p.done * 100 / p.total;
        if self.last_pct == Some(pct) && p.done != p.total {
            return;
        }
        self.last_pct = Some(pct);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\rlaris eval: {:>3}% {:<17} {:<12} {}/{}",
            pct,
            p.protocol.name(),
            p.model.name(),
            p.done,
            p.total
        );
        let _ = err.flush();
    }

    fn finish(&mut self) {
        if self.on && self.last_pct.is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}\r", " ".repeat(72));
            let _ = err.flush();
        }
    }
}

/// `laris eval …`.
pub fn run_cli(settings: &Settings, data_dir: &Path, args: &EvalArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.baskets {
        return run_baskets(path, args);
    }
    let Some(raw_shop) = &args.shop else {
        bail!("--shop: name the shop to evaluate (its id in the config), e.g. `laris eval --shop lengkuas`, or evaluate a plain basket file with --baskets FILE");
    };
    let shop = shop_settings(settings, raw_shop)?;
    let config = eval_config(args, Some(shop))?;
    if let Some(running) = ServeFile::find(data_dir) {
        bail!(
            "a laris service (pid {}) holds the store in {}: `laris eval` reads the store itself, so stop the service (Ctrl-C or SIGTERM) and run it again",
            running.pid,
            data_dir.display()
        );
    }
    if !data_dir.exists() {
        bail!(
            "no store in {}: replay the shop's data first (`laris --data-dir {} replay DIR --shop {}`) or pass the right --data-dir",
            data_dir.display(),
            data_dir.display(),
            shop.id
        );
    }
    let store = crate::cli::stores::open_existing_store(settings, data_dir)?;
    let products = store.products(&shop.id)?;
    if products.is_empty() {
        bail!(
            "shop {} has no products in the store in {}: replay or sync its data first (`laris replay DIR --shop {}`)",
            shop.id,
            data_dir.display(),
            shop.id
        );
    }
    let orders = match &args.orders {
        Some(path) => {
            let file = crate::eval::orders_file::read_orders_file(path, &products)?;
            eprintln!(
                "laris eval: {} orders read from {} ({} records left out, {} lines of products not in the catalogue)",
                file.orders.len(),
                path.display(),
                file.refused.len(),
                file.unknown_lines
            );
            for (at, why) in file.refused.iter().take(5) {
                eprintln!("  left out {at}: {why}");
            }
            file.orders
        }
        None => store.orders(&shop.id)?,
    };
    drop(store);
    let mut line = ProgressLine::new();
    let report = evaluate(
        shop.id.as_str(),
        products,
        &orders,
        &shop.recommend,
        &config,
        &mut |p| line.update(p),
    );
    line.finish();
    print_report(&report?, args.format)
}

/// `laris eval --baskets FILE …`: no config, no store.
fn run_baskets(path: &Path, args: &EvalArgs) -> anyhow::Result<()> {
    let config = eval_config(args, None)?;
    let label = match &args.shop {
        Some(shop) => shop.clone(),
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "baskets".to_string()),
    };
    let file = crate::eval::baskets::read_baskets_file(path)?;
    eprintln!(
        "laris eval: {} baskets of {} distinct items read from {}{}",
        file.orders.len(),
        file.products.len(),
        path.display(),
        match file.empty_lines {
            0 => String::new(),
            n => format!(" ({n} lines with no item skipped)"),
        }
    );
    let mut line = ProgressLine::new();
    let report = crate::eval::evaluate_baskets(&label, &file, &config, &mut |p| line.update(p));
    line.finish();
    print_report(&report?, args.format)
}

fn print_report(report: &crate::eval::EvalReport, format: EvalFormat) -> anyhow::Result<()> {
    let text = match format {
        EvalFormat::Json => format!("{}\n", serde_json::to_string_pretty(report)?),
        EvalFormat::Table => report.to_text(),
        EvalFormat::Markdown => report.to_markdown(),
    };
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        // `laris eval … | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: EvalArgs,
    }

    fn shop(timezone: &str) -> ShopSettings {
        let text = format!("[[shops]]\nid = \"toko\"\ntimezone = \"{timezone}\"\n");
        let settings = Settings::from_toml(&text, Path::new("t.toml"), &[]).unwrap();
        settings.shops[0].clone()
    }

    fn config(argv: &[&str]) -> anyhow::Result<EvalConfig> {
        let mut full = vec!["eval", "--shop", "toko"];
        full.extend_from_slice(argv);
        let w = Wrapper::try_parse_from(full)?;
        eval_config(&w.args, Some(&shop("WIB")))
    }

    #[test]
    fn the_defaults_are_the_last_fifth_n_3_and_5_every_model_seed_42() {
        let c = config(&[]).unwrap();
        assert_eq!(c, EvalConfig::default());
        assert_eq!(c.models, ModelKind::ALL.to_vec());
    }

    #[test]
    fn lists_are_read_and_bad_values_are_quoted_with_the_fix() {
        let c = config(&[
            "--top-n",
            "5,3,5",
            "--models",
            "hybrid,best-sellers",
            "--compare",
            "hybrid,random",
        ])
        .unwrap();
        assert_eq!(c.top_n, vec![3, 5]);
        assert_eq!(c.models, vec![ModelKind::Hybrid, ModelKind::BestSellers]);
        assert_eq!(c.compare, vec![(ModelKind::Hybrid, ModelKind::Random)]);
        let err = |argv: &[&str]| config(argv).unwrap_err().to_string();
        assert!(err(&["--models", "cf"]).contains("unknown model \"cf\": use similar, upsell"));
        assert!(err(&["--top-n", "0"]).contains("--top-n 0: use list lengths from 1 to 100"));
        assert!(err(&["--compare", "hybrid"]).contains("name two models"));
        assert!(err(&["--compare", "random,random"]).contains("two different models"));
        assert!(err(&["--test-fraction", "0"]).contains("--test-fraction 0: use a fraction between 0 and 1"));
        assert!(err(&["--split-at", "1/10/2026"]).contains("--split-at \"1/10/2026\": use a date such as"));
        assert!(config(&["--split-at", "2026-10-01", "--test-fraction", "0.3"]).is_err());
    }

    #[test]
    fn a_basket_file_needs_no_shop_and_refuses_the_orders_file_and_a_split_date() {
        let parse = |argv: &[&str]| {
            let mut full = vec!["eval"];
            full.extend_from_slice(argv);
            Wrapper::try_parse_from(full).map(|w| w.args)
        };
        let args = parse(&["--baskets", "b.csv", "--test-fraction", "0.3"]).unwrap();
        assert_eq!(args.shop, None);
        let c = eval_config(&args, None).unwrap();
        assert_eq!(c.split, SplitRule::TestFraction(0.3));
        assert_eq!(c.tiers_k, crate::eval::TIERS_K);
        assert!(parse(&["--baskets", "b.csv", "--orders", "o.jsonl"]).is_err());
        assert!(parse(&["--baskets", "b.csv", "--split-at", "2026-10-01"]).is_err());
        let no_shop = parse(&["--split-at", "2026-10-01"]).unwrap();
        assert!(eval_config(&no_shop, None)
            .unwrap_err()
            .to_string()
            .contains("use --test-fraction"));
    }

    #[test]
    fn a_split_date_is_midnight_in_the_shops_timezone() {
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            parse_split_at("2026-10-01", &shop("WIB")).unwrap(),
            utc("2026-09-30T17:00:00Z")
        );
        assert_eq!(
            parse_split_at("2026-10-01", &shop("WIT")).unwrap(),
            utc("2026-09-30T15:00:00Z")
        );
        assert_eq!(
            parse_split_at("2026-10-01T12:00:00+07:00", &shop("UTC")).unwrap(),
            utc("2026-10-01T05:00:00Z")
        );
    }
}
