//! Settings: `config/laris.toml` merged with `LARIS_…` environment variables, validated once.
//!
//! Every key except a shop's `id` has a default, so a shop block of a few lines works. A bad
//! value is refused here with the key, the value and the fix; inner code only sees
//! [`Settings`], whose values are already domain types.

pub mod chat;
mod env;
mod error;
pub mod experiment;
pub mod limits;
pub mod outreach;
pub mod overlay;
mod raw;
mod schedule;
pub mod source;
pub mod weights;

pub use error::ConfigError;
pub use schedule::{Schedule, ScheduleError};

use env::apply_env_overrides;
use error::invalid;
use raw::RawSettings;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::password::{PhcHash, ADMIN_USER};
use crate::domain::zone::Zone;
use crate::domain::{ProductId, ShopId};

/// Everything the service and the CLI need to know, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub log: LogSettings,
    /// The admin bearer token from config or `LARIS_ADMIN_TOKEN`; `None` means the service
    /// keeps a generated one in the data directory.
    pub admin_token: Option<String>,
    /// Password login to the admin pages (`[admin]`).
    pub admin: AdminSettings,
    pub shops: Vec<ShopSettings>,
    /// Where the data is kept (`[store]`): the embedded sled store or PostgreSQL.
    pub store: StoreSettings,
    /// Directory the config was read from: relative paths in it are resolved against the
    /// working directory, as a shop owner running `laris` from their project would expect.
    pub source: PathBuf,
}

/// `[admin]`: how the shop owner signs in to the admin pages.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminSettings {
    /// Hash of the password of user `admin` (every shop); `laris admin set-password`
    /// writes one to the data directory instead, which wins over this one.
    pub password_hash: Option<PhcHash>,
    /// A signed-in session lasts this long.
    pub session_hours: u32,
    /// How many sign-ins may check a password at once, wait, or fail.
    pub sign_in: SignInSettings,
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub addr: SocketAddr,
    /// Directory served at `/demo/images/` (the demo shop's product pictures).
    pub demo_images: PathBuf,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: u64,
    /// Connection cap and time limits of the HTTP server.
    pub limits: limits::Limits,
    /// How long widget events are kept, in days (older ones are pruned daily).
    pub event_retention_days: u32,
    /// Widget events a second one shop accepts from all its visitors together (ten
    /// seconds' worth at once).
    pub shop_events_per_second: u32,
    /// Events kept per shop at most; beyond it the oldest are pruned.
    pub max_events_per_shop: usize,
    /// Widget events held in memory at most while the database is unreachable
    /// (`[server] event_buffer`, default 10000); beyond it events are dropped and counted.
    pub event_buffer: usize,
    /// Bytes the widget's prepared answers (`web::prepared`) may take, compressed
    /// variants included: `[server] prepared_cache_mib` (default 64) times 2^20.
    pub prepared_cache_bytes: u64,
    /// Largest export file the dashboard's upload takes (`[server] max_upload_bytes`,
    /// default 50 MiB); a larger one is answered 413 and nothing of it is kept.
    pub max_upload_bytes: u64,
    /// Reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
    pub trusted_proxies: limits::TrustedProxies,
    /// Where customers reach this service: the base of every absolute link it builds
    /// (a shop's own `public_url` wins). `None`: the request's `Host`, when it is valid.
    pub public_url: Option<PublicUrl>,
}

/// The address a service is reached at, `https://shop.example` or with a path prefix
/// (`https://shop.example/laris`), parsed once: scheme http(s), a host, no user, query
/// or fragment, no trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    base: String,
    origin: String,
}

/// Why a text is not a [`PublicUrl`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicUrlError {
    #[error("{0}")]
    Unreadable(#[from] url::ParseError),
    #[error("the scheme is {0:?}, not http or https")]
    Scheme(String),
    #[error("it names no host")]
    NoHost,
    #[error("it carries a user name or password")]
    Credentials,
    #[error("it has a ?query or #fragment")]
    QueryOrFragment,
}

impl PublicUrl {
    pub fn parse(raw: &str) -> Result<PublicUrl, PublicUrlError> {
        let url = url::Url::parse(raw)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(PublicUrlError::Scheme(url.scheme().to_string()));
        }
        if url.host_str().is_none() {
            return Err(PublicUrlError::NoHost);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(PublicUrlError::Credentials);
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(PublicUrlError::QueryOrFragment);
        }
        Ok(PublicUrl {
            base: url.as_str().trim_end_matches('/').to_string(),
            origin: url.origin().ascii_serialization(),
        })
    }

    /// The base links are built on: `{base}/demo/images/x.svg`.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// Scheme, host and port, as a browser names the origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

fn public_url(key: &str, raw: Option<&str>) -> Result<Option<PublicUrl>, ConfigError> {
    raw.map(|raw| {
        PublicUrl::parse(raw).map_err(|e| {
            invalid(
                key,
                raw,
                format!("{e}; write the address customers reach this service at, scheme and host, e.g. \"https://shop.example\" (a path prefix such as \"https://shop.example/laris\" is fine)"),
            )
        })
    })
    .transpose()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// `[store]`: which backend keeps the shops' data.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreSettings {
    pub backend: StoreBackend,
    /// The PostgreSQL database (`url`, or `LARIS_STORE_URL`, which wins): required by
    /// `backend = "postgres"`, and what `laris migrate` migrates by default.
    pub url: Option<String>,
    /// PostgreSQL connections one laris process keeps open at most (`pool_size`, default 8).
    pub pool_size: usize,
    /// A PostgreSQL statement running longer is cancelled (`statement_timeout_secs`,
    /// default 5).
    pub statement_timeout: std::time::Duration,
    /// How long a shop's sync lease lasts unless renewed (`sync_lease_secs`, default 60):
    /// the longest a replica that died mid-sync keeps the shop from the others. A running
    /// sync renews it every third of this time.
    pub sync_lease: std::time::Duration,
}

/// Which store keeps the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreBackend {
    /// The embedded sled store in the data directory (the default): one process.
    Sled,
    /// A PostgreSQL database (`url`): several `laris serve` replicas may share it.
    Postgres,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            backend: StoreBackend::Sled,
            url: None,
            pool_size: 8,
            statement_timeout: std::time::Duration::from_secs(5),
            sync_lease: std::time::Duration::from_secs(60),
        }
    }
}

/// The URL carries a password: `Debug` says only whether one is set.
impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("backend", &self.backend)
            .field("url", &self.url.as_ref().map(|_| "(hidden)"))
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .field("sync_lease", &self.sync_lease)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct ShopSettings {
    pub id: ShopId,
    pub name: String,
    pub timezone: TimeZone,
    /// When `laris serve` syncs the shop's sources: cron with seconds, in the shop's time zone.
    pub sync_schedule: Schedule,
    /// A recording replayed on first start when the store holds no data for this shop.
    pub seed_recording: Option<PathBuf>,
    /// Widget events (JSON lines) stored on the same first start, when the shop had no data.
    pub seed_events: Option<PathBuf>,
    /// A finished experiment (settings, start, stop, events) stored on the same first start.
    pub seed_experiment: Option<PathBuf>,
    /// Directories the admin API may replay recordings from, besides the data directory's
    /// `recordings/{shop}` (default: the `seed_recording`, when set). A replay request naming
    /// any other place is refused, so a shop's user cannot import another shop's data.
    pub replay_dirs: Vec<PathBuf>,
    /// Origins allowed to call the widget endpoints (`*` for any).
    pub allowed_origins: Vec<String>,
    /// Where the sync agent gets the shop's data (`[[shops.sources]]`, docs/feeds.md: sources).
    pub sources: Vec<crate::config::source::SourceSettings>,
    /// HMAC secret of the shop's customer tokens; `None`: every visitor is anonymous.
    pub customer_secret: Option<String>,
    /// How recommendations are built and served (`[shops.recommend]`).
    pub recommend: RecommendSettings,
    /// Fixed bundle offers defined by the shop owner (`[[shops.offers]]`).
    pub offers: Vec<FixedOffer>,
    /// Loyalty tiers (`[shops.loyalty]`).
    pub loyalty: LoyaltySettings,
    /// A directory whose `fragments/{slot}.html` override the built-in fragment templates.
    pub templates: Option<PathBuf>,
    /// Hash of the password of the user named by this shop's id, who sees only this shop.
    pub admin_password_hash: Option<PhcHash>,
    /// How the admin dashboard counts (`[shops.analytics]`).
    pub analytics: AnalyticsSettings,
    /// This shop's own `public_url`, overriding `server.public_url`.
    pub public_url: Option<PublicUrl>,
    /// Slots whose title or visibility the owner changed from the dashboard (the config
    /// file has none: [`overlay::effective`] fills it).
    pub slots: std::collections::BTreeMap<crate::domain::Slot, overlay::SlotSetting>,
    /// The chat button's WhatsApp number and opening hours (`[shops.chat]`); `None`: the
    /// chat slot renders nothing.
    pub chat: Option<chat::ChatSettings>,
    /// How follow-up messages go out and the rules they keep (`[shops.outreach]`).
    pub outreach: outreach::OutreachSettings,
    /// The shop's automations (`[[shops.automations]]`); none: no messages are made.
    pub automations: Vec<outreach::Automation>,
    /// The shop's holdout experiment (`[shops.experiment]`); `None`: no experiment.
    pub experiment: Option<experiment::ExperimentSettings>,
}

/// `[shops.analytics]`: every key has a default.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsSettings {
    /// An order counts as following a recommendation click made at most this many hours
    /// before it.
    pub attribution_window_hours: u32,
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        AnalyticsSettings {
            attribution_window_hours: 72,
        }
    }
}

/// `[shops.recommend]`: every key has a default.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecommendSettings {
    /// Items per list when the request gives no `limit`.
    pub limit: usize,
    /// Similar products precomputed per product (the request filters and cuts from these).
    pub candidates: usize,
    /// Weights of the feature blocks in the similarity.
    pub weights: weights::FeatureWeights,
    /// Number of price clusters; 0 chooses k in 2..=8 by silhouette.
    pub price_clusters: usize,
    /// An upgrade costs at least this many times the viewed product (a bigger pack of the
    /// same thing always qualifies).
    pub upsell_min_price_ratio: f64,
    /// Discount shown on an upgrade, in percent (seed 000: "Premium 250g, 10% off").
    pub upsell_discount_pct: f64,
    pub bundle_min_support: f64,
    pub bundle_min_confidence: f64,
    pub bundle_min_lift: f64,
    /// Discount on a mined bundle's total, in percent.
    pub bundle_discount_pct: f64,
    /// Products per mined bundle, the viewed one included.
    pub bundle_max_items: usize,
    /// Products shown first in the similar list of a product: `{ "SRD-100" = ["HMP-01"] }`.
    pub pin: std::collections::BTreeMap<ProductId, Vec<ProductId>>,
    /// Products never recommended.
    pub exclude: Vec<ProductId>,
    /// Co-purchase neighbours kept per product (the blend's and the bundles' candidates).
    pub neighbours: usize,
    /// How co-purchase neighbours are ranked: `cosine` (shrunk) or `lift` (its lower bound).
    pub co_purchase_similarity: weights::CoSimilarity,
    /// λ of the co-purchase shrinkage c / (c + λ): pairs seen in few baskets count less.
    pub co_purchase_shrink: f64,
    /// A pair is offered as a bundle only when bought together in at least this many orders…
    pub pair_min_count: u32,
    /// …with a lift above 1 and the lower 95% bound of its confidence at least this.
    pub pair_min_confidence: f64,
}

impl Default for RecommendSettings {
    fn default() -> Self {
        RecommendSettings {
            limit: 4,
            candidates: 20,
            weights: Default::default(),
            price_clusters: 0,
            upsell_min_price_ratio: 1.15,
            upsell_discount_pct: 0.0,
            bundle_min_support: 0.01,
            bundle_min_confidence: 0.1,
            bundle_min_lift: 1.0,
            bundle_discount_pct: 0.0,
            bundle_max_items: 3,
            pin: Default::default(),
            exclude: Vec::new(),
            neighbours: 50,
            co_purchase_similarity: Default::default(),
            co_purchase_shrink: 5.0,
            pair_min_count: 3,
            pair_min_confidence: 0.05,
        }
    }
}

/// `[shops.loyalty]`: tiers by total paid spend (seed 002).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoyaltySettings {
    pub method: TierMethod,
    /// Spend counted over the last N days; 0 = lifetime.
    pub window_days: u32,
    /// Never lower a customer's tier, even when their spend falls.
    pub never_demote: bool,
    /// The ladder, lowest first.
    pub tiers: Vec<TierSetting>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TierMethod {
    /// Exact 1-D k-means on spend, k = number of tiers.
    #[default]
    Kmeans,
    /// Fixed lower bounds (`min_spend`) from config.
    Thresholds,
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TierSetting {
    pub name: String,
    #[serde(default)]
    pub discount_pct: f64,
    /// Lower bound in rupiah (required by `thresholds`; a fallback for `kmeans`).
    #[serde(default)]
    pub min_spend: Option<i64>,
}

impl Default for LoyaltySettings {
    fn default() -> Self {
        let tier = |name: &str, discount_pct: f64, min: i64| TierSetting {
            name: name.into(),
            discount_pct,
            min_spend: Some(min),
        };
        LoyaltySettings {
            method: TierMethod::Kmeans,
            window_days: 0,
            never_demote: false,
            tiers: vec![
                tier("Bronze", 0.0, 0),
                tier("Silver", 2.0, 250_000),
                tier("Gold", 3.0, 750_000),
                tier("Platinum", 5.0, 2_000_000),
            ],
        }
    }
}

/// `[[shops.offers]]`: "buy 2 SRD-100, get TPG-100 free".
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FixedOffer {
    /// Shown as the offer's reason, e.g. "Beli 2 Serundeng, gratis Tepung Lengkuas".
    pub title: String,
    #[serde(default)]
    pub title_en: Option<String>,
    /// What the customer pays for.
    pub buy: Vec<OfferLine>,
    /// What comes free with it.
    #[serde(default)]
    pub free: Vec<OfferLine>,
    /// Extra discount on the bought lines, in percent.
    #[serde(default)]
    pub discount_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfferLine {
    pub product: ProductId,
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

/// The shop's time zone. Indonesia has no daylight saving, so a fixed offset is exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZone {
    pub name: String,
    pub offset_seconds: i32,
}

impl TimeZone {
    /// The zone an IANA name (`Asia/Jakarta`) or its label (`WIB`, `WITA`, `WIT`) names, from
    /// the domain's table ([`crate::domain::zone::ZONES`]).
    pub fn parse(name: &str) -> Option<TimeZone> {
        Zone::find(name).map(|z| TimeZone {
            name: z.name.to_string(),
            offset_seconds: z.offset_seconds,
        })
    }

    pub fn offset(&self) -> chrono::FixedOffset {
        chrono::FixedOffset::east_opt(self.offset_seconds).expect("known offsets are valid")
    }
}

impl Settings {
    pub fn shop(&self, id: &ShopId) -> Option<&ShopSettings> {
        self.shops.iter().find(|s| &s.id == id)
    }

    /// Loads the file at `path`, applies `LARIS_…` overrides from `env`, validates.
    pub fn load(path: &Path, env: &[(String, String)]) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::from_toml(&text, path, env)
    }

    pub fn from_toml(text: &str, path: &Path, env: &[(String, String)]) -> Result<Settings, ConfigError> {
        let parse_err = |message: String| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| parse_err(e.to_string()))?;
        apply_env_overrides(&mut table, env)?;
        let raw: RawSettings = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| parse_err(e.to_string()))?;
        raw.validate(path)
    }
}

/// `[admin]` keys that bound sign-in: argon2 needs ~19 MiB and tens of milliseconds per
/// password, so how many run at once decides the service's memory under a flood of
/// sign-ins, and the failures of all addresses together decide how fast anyone may guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInSettings {
    /// Passwords checked at once, each on a blocking thread (default: the number of cores).
    pub password_checks: usize,
    /// Sign-ins that may wait for a check; more are answered 429 at once.
    pub password_queue: usize,
    /// Wrong passwords per minute over all addresses (and the burst allowed); over it, new
    /// sign-ins from addresses that have not signed in before get 429 for a few seconds.
    pub failed_signins_per_minute: u32,
}

impl Default for SignInSettings {
    fn default() -> Self {
        SignInSettings {
            password_checks: std::thread::available_parallelism().map_or(1, |n| n.get()),
            password_queue: 8,
            failed_signins_per_minute: 30,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_toml(text, Path::new("test.toml"), &env)
    }

    #[test]
    fn a_shop_block_of_one_line_gets_defaults() {
        let s = load("[[shops]]\nid = \"toko\"\n", &[]).unwrap();
        let shop = &s.shops[0];
        assert_eq!(shop.name, "toko");
        assert_eq!(shop.timezone.offset_seconds, 7 * 3600);
        assert_eq!(shop.sync_schedule, "0 */30 * * * *");
        assert_eq!(s.server.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.log.format, LogFormat::Human);
        assert!(s.admin_token.is_none());
    }

    #[test]
    fn environment_variables_override_file_values() {
        let text = "[server]\naddr = \"127.0.0.1:1\"\n[[shops]]\nid = \"toko-a\"\nname = \"A\"\n";
        let s = load(
            text,
            &[
                ("LARIS_SERVER_ADDR", "0.0.0.0:9000"),
                ("LARIS_LOG_FORMAT", "json"),
                ("LARIS_ADMIN_TOKEN", "0123456789abcdef0123"),
                ("LARIS_SHOP_TOKO_A_NAME", "Toko A"),
                ("LARIS_SHOP_TOKO_A_SEED_EVENTS", "demo/a/events.jsonl"),
                (
                    "LARIS_SHOP_TOKO_A_ALLOWED_ORIGINS",
                    "https://a.example, https://b.example",
                ),
            ],
        )
        .unwrap();
        assert_eq!(s.server.addr.to_string(), "0.0.0.0:9000");
        assert_eq!(s.log.format, LogFormat::Json);
        assert_eq!(s.admin_token.as_deref(), Some("0123456789abcdef0123"));
        assert_eq!(s.shops[0].name, "Toko A");
        assert_eq!(
            s.shops[0].seed_events.as_deref(),
            Some(Path::new("demo/a/events.jsonl"))
        );
        assert_eq!(
            s.shops[0].allowed_origins,
            vec!["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn the_store_is_sled_unless_postgres_is_chosen_with_its_url() {
        let s = load("", &[]).unwrap();
        assert_eq!(s.store, StoreSettings::default());
        assert_eq!(s.store.backend, StoreBackend::Sled);

        let text = "[store]\nbackend = \"postgres\"\nurl = \"postgres://laris:s3cret@db.internal/laris\"\npool_size = 16\nstatement_timeout_secs = 30\nsync_lease_secs = 20\n";
        let s = load(text, &[]).unwrap();
        assert_eq!(s.store.backend, StoreBackend::Postgres);
        assert_eq!(
            s.store.url.as_deref(),
            Some("postgres://laris:s3cret@db.internal/laris")
        );
        assert_eq!(s.store.pool_size, 16);
        assert_eq!(s.store.statement_timeout, std::time::Duration::from_secs(30));
        assert_eq!(s.store.sync_lease, std::time::Duration::from_secs(20));
        assert!(!format!("{:?}", s.store).contains("s3cret"));

        // The environment's URL wins over the file's; the backend may come from it too.
        let s = load(
            text,
            &[
                ("LARIS_STORE_URL", "postgres://laris@10.0.0.5/laris"),
                ("LARIS_STORE_POOL_SIZE", "4"),
                ("LARIS_STORE_SYNC_LEASE_SECS", "7"),
            ],
        )
        .unwrap();
        assert_eq!(s.store.url.as_deref(), Some("postgres://laris@10.0.0.5/laris"));
        assert_eq!(s.store.pool_size, 4);
        assert_eq!(s.store.sync_lease, std::time::Duration::from_secs(7));
        let s = load(
            "",
            &[
                ("LARIS_STORE_BACKEND", "postgres"),
                ("LARIS_STORE_URL", "postgres://laris@10.0.0.5/laris"),
            ],
        )
        .unwrap();
        assert_eq!(s.store.backend, StoreBackend::Postgres);
    }

    #[test]
    fn a_sync_lease_out_of_range_is_refused_naming_the_value_and_the_range() {
        assert_eq!(
            load("", &[]).unwrap().store.sync_lease,
            std::time::Duration::from_secs(60)
        );
        for bad in [
            "[store]\nsync_lease_secs = 2\n",
            "[store]\nsync_lease_secs = 7200\n",
        ] {
            let msg = load(bad, &[]).unwrap_err().to_string();
            assert!(
                msg.contains("store.sync_lease_secs") && msg.contains("5 to 3600"),
                "{msg}"
            );
        }
        let msg = load("", &[("LARIS_STORE_SYNC_LEASE_SECS", "0")])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("store.sync_lease_secs") && msg.contains('0') && msg.contains("5 to 3600"),
            "{msg}"
        );
        let msg = load("", &[("LARIS_STORE_SYNC_LEASE_SECS", "soon")])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("LARIS_STORE_SYNC_LEASE_SECS") && msg.contains("soon"),
            "{msg}"
        );
    }

    #[test]
    fn a_postgres_store_without_its_url_or_with_a_bad_one_is_refused_with_the_fix() {
        let msg = load("[store]\nbackend = \"postgres\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("store.url")
                && msg.contains("postgres://USER:PASSWORD@HOST:PORT/DATABASE")
                && msg.contains("LARIS_STORE_URL"),
            "{msg}"
        );
        let msg = load("[store]\nbackend = \"postgresql\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("store.backend") && msg.contains("\"sled\"") && msg.contains("\"postgres\""),
            "{msg}"
        );
        let msg = load(
            "[store]\nbackend = \"postgres\"\nurl = \"mysql://root:s3cret@db/laris\"\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("store.url") && !msg.contains("s3cret"), "{msg}");
        let msg = load("[store]\npool_size = 0\n", &[]).unwrap_err().to_string();
        assert!(
            msg.contains("store.pool_size") && msg.contains("1 to 1000"),
            "{msg}"
        );
        let msg = load("", &[("LARIS_STORE_STATEMENT_TIMEOUT_SECS", "soon")])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("LARIS_STORE_STATEMENT_TIMEOUT_SECS"), "{msg}");
    }

    #[test]
    fn a_bad_value_names_the_key_the_value_and_the_fix() {
        let err = load("[[shops]]\nid = \"toko\"\ntimezone = \"Asia/Jakrta\"\n", &[]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("shops[0].timezone"), "{msg}");
        assert!(msg.contains("Asia/Jakrta"), "{msg}");
        assert!(msg.contains("Asia/Jakarta (WIB)"), "{msg}");

        let msg = load("[server]\naddr = \"localhost\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("server.addr") && msg.contains("localhost") && msg.contains("HOST:PORT"),
            "{msg}"
        );

        let msg = load("[[shops]]\nid = \"Toko Saya\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("shops[0].id") && msg.contains("Toko Saya"), "{msg}");
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_name() {
        let msg = load("[[shops]]\nid = \"toko\"\ntimezon = \"UTC\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("timezon"), "{msg}");
    }

    #[test]
    fn a_short_admin_token_is_refused_without_echoing_it() {
        let msg = load("[admin]\ntoken = \"secret\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("admin.token") && !msg.contains("secret\""), "{msg}");
    }

    #[test]
    fn recommendation_settings_and_fixed_offers_are_read_and_checked() {
        let text = r#"
[[shops]]
id = "toko"
[shops.recommend]
upsell_discount_pct = 10
pin = { "SRD-100" = ["HMP-01"] }
[[shops.offers]]
title = "Beli 2 Serundeng, gratis Tepung"
buy = [{ product = "SRD-100", quantity = 2 }]
free = [{ product = "TPG-100" }]
"#;
        let s = load(text, &[]).unwrap();
        assert_eq!(s.shops[0].recommend.upsell_discount_pct, 10.0);
        assert_eq!(s.shops[0].recommend.limit, 4);
        assert_eq!(s.shops[0].offers[0].free[0].quantity, 1);
        let msg = load(
            &text.replace("upsell_discount_pct = 10", "upsell_discount_pct = 150"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("shops[0].recommend.upsell_discount_pct") && msg.contains("150"),
            "{msg}"
        );
        let msg = load(&text.replace("quantity = 2", "quantity = 0"), &[])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("offers[0]") && msg.contains("quantity"), "{msg}");
        // Product ids are parsed when the config loads: a bad one is refused there, naming it.
        let pin = ProductId::parse("HMP-01").unwrap();
        assert_eq!(
            s.shops[0].recommend.pin[&ProductId::parse("SRD-100").unwrap()],
            vec![pin]
        );
        for (from, to) in [
            ("[\"HMP-01\"]", "[\" HMP-01\"]"),
            ("{ product = \"TPG-100\" }", "{ product = \"\" }"),
        ] {
            let msg = load(&text.replace(from, to), &[]).unwrap_err().to_string();
            assert!(msg.contains("invalid product id"), "{msg}");
        }
        let msg = load(
            &text.replace("upsell_discount_pct = 10", "exclude = [\"A\\nB\"]"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("invalid product id") && msg.contains("exclude"),
            "{msg}"
        );
    }

    #[test]
    fn admin_password_hashes_are_parsed_and_a_bad_one_names_the_key_and_the_command() {
        let hash = crate::domain::password::cheap_hash("sandi-pemilik-toko");
        let text = format!(
            "[admin]\npassword_hash = \"{h}\"\n[[shops]]\nid = \"toko\"\nadmin_password_hash = \"{h}\"\n",
            h = hash.as_str()
        );
        let s = load(&text, &[]).unwrap();
        assert_eq!(s.admin.password_hash.as_ref(), Some(&hash));
        assert_eq!(s.shops[0].admin_password_hash.as_ref(), Some(&hash));

        let msg = load("[admin]\npassword_hash = \"hunter2-plain\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("admin.password_hash") && msg.contains("`laris admin set-password`"),
            "{msg}"
        );
        assert!(!msg.contains("hunter2"), "the value is not echoed: {msg}");
        let msg = load(
            "[[shops]]\nid = \"toko\"\nadmin_password_hash = \"$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\"\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("shops[0].admin_password_hash")
                && msg.contains("argon2i hash")
                && msg.contains("laris admin set-password --shop toko"),
            "{msg}"
        );
        let msg = load(
            &format!(
                "[[shops]]\nid = \"admin\"\nadmin_password_hash = \"{}\"\n",
                hash.as_str()
            ),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("admin means every shop"), "{msg}");
    }

    #[test]
    fn admin_and_analytics_settings_have_defaults_bounds_and_env_overrides() {
        let s = load("[[shops]]\nid = \"toko\"\n", &[]).unwrap();
        assert_eq!(s.admin.session_hours, 12);
        assert!(s.admin.password_hash.is_none());
        assert!(s.shops[0].admin_password_hash.is_none());
        assert_eq!(s.shops[0].analytics.attribution_window_hours, 72);

        let hash = crate::domain::password::cheap_hash("sandi-pemilik-toko");
        let s = load(
            "[[shops]]\nid = \"toko\"\n[shops.analytics]\nattribution_window_hours = 24\n",
            &[
                ("LARIS_ADMIN_SESSION_HOURS", "8"),
                ("LARIS_ADMIN_PASSWORD_HASH", hash.as_str()),
                ("LARIS_SHOP_TOKO_ADMIN_PASSWORD_HASH", hash.as_str()),
            ],
        )
        .unwrap();
        assert_eq!(s.admin.session_hours, 8);
        assert_eq!(s.admin.password_hash.as_ref(), Some(&hash));
        assert_eq!(s.shops[0].admin_password_hash.as_ref(), Some(&hash));
        assert_eq!(s.shops[0].analytics.attribution_window_hours, 24);

        let msg = load("[admin]\nsession_hours = 0\n", &[]).unwrap_err().to_string();
        assert!(
            msg.contains("admin.session_hours") && msg.contains("1 to 720"),
            "{msg}"
        );
        let msg = load("", &[("LARIS_ADMIN_SESSION_HOURS", "twelve")])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("LARIS_ADMIN_SESSION_HOURS") && msg.contains("twelve"),
            "{msg}"
        );
        let msg = load(
            "[[shops]]\nid = \"toko\"\n[shops.analytics]\nattribution_window_hours = 721\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("shops[0].analytics.attribution_window_hours") && msg.contains("721"),
            "{msg}"
        );
    }

    #[test]
    fn public_url_is_read_globally_and_per_shop_and_a_bad_one_names_the_key_and_the_fix() {
        let text = "[server]\npublic_url = \"https://laris.shop.example/\"\n[[shops]]\nid = \"toko-a\"\n[[shops]]\nid = \"toko-b\"\npublic_url = \"http://127.0.0.1:8080/laris\"\n";
        let s = load(text, &[]).unwrap();
        let global = s.server.public_url.as_ref().unwrap();
        assert_eq!(global.as_str(), "https://laris.shop.example", "no trailing slash");
        assert_eq!(global.origin(), "https://laris.shop.example");
        assert_eq!(s.shops[0].public_url, None);
        let own = s.shops[1].public_url.as_ref().unwrap();
        assert_eq!(own.as_str(), "http://127.0.0.1:8080/laris");
        assert_eq!(own.origin(), "http://127.0.0.1:8080");

        let s = load(
            "[[shops]]\nid = \"toko-a\"\n",
            &[
                ("LARIS_SERVER_PUBLIC_URL", "https://a.example"),
                ("LARIS_SHOP_TOKO_A_PUBLIC_URL", "https://b.example"),
            ],
        )
        .unwrap();
        assert_eq!(s.server.public_url.unwrap().as_str(), "https://a.example");
        assert_eq!(
            s.shops[0].public_url.as_ref().unwrap().as_str(),
            "https://b.example"
        );

        for (bad, says) in [
            ("shop.example", "relative URL"),
            ("ftp://shop.example", "\"ftp\""),
            ("https://shop.example/?a=1", "query"),
            ("https://user:pw@shop.example", "user name"),
            ("https://", "empty host"),
        ] {
            let msg = load(&format!("[server]\npublic_url = \"{bad}\"\n"), &[])
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains("server.public_url") && msg.contains(bad) && msg.contains(says),
                "{bad}: {msg}"
            );
            assert!(msg.contains("\"https://shop.example\""), "says the fix: {msg}");
            let msg = load(
                &format!("[[shops]]\nid = \"toko\"\npublic_url = \"{bad}\"\n"),
                &[],
            )
            .unwrap_err()
            .to_string();
            assert!(msg.contains("shops[0].public_url"), "{msg}");
        }
    }

    #[test]
    fn sign_in_limits_and_trusted_proxies_have_defaults_bounds_and_env_overrides() {
        let s = load("", &[]).unwrap();
        assert!(s.server.trusted_proxies.is_empty());
        assert!(s.admin.sign_in.password_checks >= 1);
        assert_eq!(s.admin.sign_in.password_queue, 8);
        assert_eq!(s.admin.sign_in.failed_signins_per_minute, 30);

        let s = load(
            "[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\n[admin]\npassword_checks = 3\npassword_queue = 0\n",
            &[("LARIS_ADMIN_FAILED_SIGNINS_PER_MINUTE", "120")],
        )
        .unwrap();
        assert!(s.server.trusted_proxies.contains("10.9.8.7".parse().unwrap()));
        assert!(!s.server.trusted_proxies.contains("192.168.0.1".parse().unwrap()));
        assert_eq!(
            (s.admin.sign_in.password_checks, s.admin.sign_in.password_queue),
            (3, 0)
        );
        assert_eq!(s.admin.sign_in.failed_signins_per_minute, 120);
        let s = load("", &[("LARIS_SERVER_TRUSTED_PROXIES", "::1, 192.168.0.0/16")]).unwrap();
        assert!(s.server.trusted_proxies.contains("192.168.4.4".parse().unwrap()));

        let msg = load(
            "[server]\ntrusted_proxies = [\"127.0.0.1\", \"proxy.local\"]\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("server.trusted_proxies") && msg.contains("proxy.local") && msg.contains("CIDR"),
            "{msg}"
        );
        for (text, key) in [
            ("[admin]\npassword_checks = 0\n", "admin.password_checks"),
            ("[admin]\npassword_queue = 5000\n", "admin.password_queue"),
            (
                "[admin]\nfailed_signins_per_minute = 0\n",
                "admin.failed_signins_per_minute",
            ),
        ] {
            let msg = load(text, &[]).unwrap_err().to_string();
            assert!(msg.contains(key) && msg.contains("use "), "{msg}");
        }
    }

    #[test]
    fn the_prepared_cache_size_has_a_default_a_bound_and_an_env_override() {
        assert_eq!(load("", &[]).unwrap().server.prepared_cache_bytes, 64 << 20);
        let s = load("[server]\nprepared_cache_mib = 8\n", &[]).unwrap();
        assert_eq!(s.server.prepared_cache_bytes, 8 << 20);
        let s = load("", &[("LARIS_SERVER_PREPARED_CACHE_MIB", "256")]).unwrap();
        assert_eq!(s.server.prepared_cache_bytes, 256 << 20);
        let msg = load("[server]\nprepared_cache_mib = 0\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("server.prepared_cache_mib") && msg.contains('0') && msg.contains("use 1 to"),
            "{msg}"
        );
    }

    #[test]
    fn the_upload_limit_has_a_default_a_bound_and_an_env_override() {
        assert_eq!(load("", &[]).unwrap().server.max_upload_bytes, 50 << 20);
        let s = load("[server]\nmax_upload_bytes = 4096\n", &[]).unwrap();
        assert_eq!(s.server.max_upload_bytes, 4096);
        let s = load("", &[("LARIS_SERVER_MAX_UPLOAD_BYTES", "2000000")]).unwrap();
        assert_eq!(s.server.max_upload_bytes, 2_000_000);
        let msg = load("[server]\nmax_upload_bytes = 10\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("server.max_upload_bytes") && msg.contains("use "),
            "{msg}"
        );
    }

    #[test]
    fn the_shipped_default_config_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/laris.toml");
        let s = Settings::load(&path, &[]).unwrap();
        assert_eq!(s.shops[0].id.as_str(), "lengkuas");
        assert!(s.admin_token.is_none(), "no default token in the repo");
        let chat = s.shops[0].chat.as_ref().expect("the demo shop has a chat button");
        assert_eq!(chat.whatsapp, "62812000000");
        assert!(chat.hours.is_some());
    }

    #[test]
    fn a_chat_block_is_read_and_checked_with_its_key() {
        let s = load(
            "[[shops]]\nid = \"toko\"\ntimezone = \"WITA\"\n[shops.chat]\nwhatsapp = \"6281234567890\"\nhours = \"08:00-21:00\"\n",
            &[],
        )
        .unwrap();
        let chat = s.shops[0].chat.as_ref().unwrap();
        assert_eq!(
            chat.hours.unwrap().days,
            [true; 7],
            "every day unless days says otherwise"
        );
        assert!(load("[[shops]]\nid = \"toko\"\n", &[]).unwrap().shops[0]
            .chat
            .is_none());
        let msg = load(
            "[[shops]]\nid = \"toko\"\n[shops.chat]\nwhatsapp = \"0812-3456-7890\"\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("shops[0].chat.whatsapp") && msg.contains("0812-3456-7890"),
            "{msg}"
        );
        let msg = load(
            "[[shops]]\nid = \"toko\"\n[shops.chat]\nwhatsapp = \"62812000000\"\nhour = \"8-9\"\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("hour"), "an unknown key is refused: {msg}");
    }
}
