//! The config file as written (every key optional, unknown keys refused) and its
//! validation into [`Settings`](super::Settings).

use std::path::Path;

use serde::Deserialize;

use super::error::{bounded, invalid, ConfigError};
use super::*;
use crate::domain::zone::zone_hint;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawSettings {
    server: RawServer,
    log: RawLog,
    admin: RawAdmin,
    shops: Vec<RawShop>,
    store: RawStore,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawStore {
    backend: String,
    url: Option<String>,
    pool_size: u64,
    statement_timeout_secs: u64,
    sync_lease_secs: u64,
}

impl Default for RawStore {
    fn default() -> Self {
        let d = StoreSettings::default();
        RawStore {
            backend: "sled".into(),
            url: None,
            pool_size: d.pool_size as u64,
            statement_timeout_secs: d.statement_timeout.as_secs(),
            sync_lease_secs: d.sync_lease.as_secs(),
        }
    }
}

impl RawStore {
    fn validate(self) -> Result<StoreSettings, ConfigError> {
        let backend = match self.backend.as_str() {
            "sled" => StoreBackend::Sled,
            "postgres" => StoreBackend::Postgres,
            other => {
                return Err(invalid(
                    "store.backend",
                    other,
                    "use \"sled\" (the embedded store in the data directory, the default) or \"postgres\" (with url)",
                ))
            }
        };
        let url = self.url.filter(|u| !u.trim().is_empty());
        if let Some(u) = &url {
            let scheme_ok = match url::Url::parse(u) {
                Ok(parsed) => matches!(parsed.scheme(), "postgres" | "postgresql"),
                // libpq's `host=… dbname=…` form
                Err(_) => u.contains('='),
            };
            if !scheme_ok {
                return Err(invalid(
                    "store.url",
                    "(hidden: it may hold a password)",
                    "write the database's address as postgres://USER:PASSWORD@HOST:PORT/DATABASE",
                ));
            }
        }
        if backend == StoreBackend::Postgres && url.is_none() {
            return Err(invalid(
                "store.url",
                "(missing)",
                "backend = \"postgres\" needs the database: set url = \"postgres://USER:PASSWORD@HOST:PORT/DATABASE\" under [store], or the environment variable LARIS_STORE_URL",
            ));
        }
        let pool_size = bounded(
            "store.pool_size",
            self.pool_size,
            1,
            1000,
            "connections (the default is 8)",
        )?;
        let timeout = bounded(
            "store.statement_timeout_secs",
            self.statement_timeout_secs,
            1,
            3600,
            "seconds (the default is 5)",
        )?;
        let lease = bounded(
            "store.sync_lease_secs",
            self.sync_lease_secs,
            5,
            3600,
            "seconds (the default is 60: how long a replica that died mid-sync keeps the shop from the others)",
        )?;
        Ok(StoreSettings {
            backend,
            url,
            pool_size: pool_size as usize,
            statement_timeout: std::time::Duration::from_secs(timeout),
            sync_lease: std::time::Duration::from_secs(lease),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawServer {
    addr: String,
    demo_images: String,
    max_body_bytes: u64,
    max_connections: u64,
    header_timeout_secs: u64,
    body_timeout_secs: u64,
    idle_timeout_secs: u64,
    shutdown_grace_secs: u64,
    event_retention_days: u64,
    shop_events_per_second: u64,
    max_events_per_shop: u64,
    event_buffer: u64,
    prepared_cache_mib: u64,
    max_upload_bytes: u64,
    public_url: Option<String>,
    trusted_proxies: Vec<String>,
}

impl Default for RawServer {
    fn default() -> Self {
        let limits = limits::Limits::default();
        RawServer {
            addr: "127.0.0.1:8080".into(),
            demo_images: "demo/lengkuas/images".into(),
            max_body_bytes: 64 * 1024,
            max_connections: limits.max_connections as u64,
            header_timeout_secs: limits.header_timeout.as_secs(),
            body_timeout_secs: limits.body_timeout.as_secs(),
            idle_timeout_secs: limits.idle_timeout.as_secs(),
            shutdown_grace_secs: limits.shutdown_grace.as_secs(),
            event_retention_days: 180,
            shop_events_per_second: 500,
            max_events_per_shop: 5_000_000,
            event_buffer: 10_000,
            prepared_cache_mib: 64,
            max_upload_bytes: 50 << 20,
            public_url: None,
            trusted_proxies: Vec::new(),
        }
    }
}

impl RawServer {
    /// The server's limits, each checked to lie in a range that keeps the service usable.
    fn limits(&self) -> Result<limits::Limits, ConfigError> {
        let secs = |key: &str, v: u64, max: u64| {
            bounded(&format!("server.{key}"), v, 1, max, "seconds").map(std::time::Duration::from_secs)
        };
        let max_connections = bounded(
            "server.max_connections",
            self.max_connections,
            1,
            1_000_000,
            "(the default is 512)",
        )?;
        Ok(limits::Limits {
            max_connections: max_connections as usize,
            header_timeout: secs("header_timeout_secs", self.header_timeout_secs, 3600)?,
            body_timeout: secs("body_timeout_secs", self.body_timeout_secs, 3600)?,
            idle_timeout: secs("idle_timeout_secs", self.idle_timeout_secs, 86_400)?,
            shutdown_grace: secs("shutdown_grace_secs", self.shutdown_grace_secs, 3600)?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawLog {
    format: String,
    level: String,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            format: "human".into(),
            level: "info".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAdmin {
    token: Option<String>,
    password_hash: Option<String>,
    session_hours: u32,
    password_checks: Option<usize>,
    password_queue: Option<usize>,
    failed_signins_per_minute: Option<u32>,
}

impl Default for RawAdmin {
    fn default() -> Self {
        RawAdmin {
            token: None,
            password_hash: None,
            session_hours: 12,
            password_checks: None,
            password_queue: None,
            failed_signins_per_minute: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShop {
    id: String,
    name: Option<String>,
    #[serde(default = "default_timezone")]
    timezone: String,
    #[serde(default = "default_schedule")]
    sync_schedule: String,
    seed_recording: Option<String>,
    seed_events: Option<String>,
    seed_experiment: Option<String>,
    replay_dirs: Option<Vec<String>>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default)]
    sources: Vec<toml::Table>,
    customer_secret: Option<String>,
    #[serde(default)]
    recommend: RecommendSettings,
    #[serde(default)]
    offers: Vec<FixedOffer>,
    #[serde(default)]
    loyalty: LoyaltySettings,
    templates: Option<String>,
    admin_password_hash: Option<String>,
    #[serde(default)]
    analytics: AnalyticsSettings,
    public_url: Option<String>,
    chat: Option<super::chat::RawChat>,
    outreach: Option<super::outreach::RawOutreach>,
    experiment: Option<super::experiment::RawExperiment>,
    #[serde(default)]
    automations: Vec<super::outreach::RawAutomation>,
}

fn default_timezone() -> String {
    "Asia/Jakarta".into()
}

fn default_schedule() -> String {
    "0 */30 * * * *".into()
}

impl RawSettings {
    pub(super) fn validate(self, path: &Path) -> Result<Settings, ConfigError> {
        let addr = self.server.addr.parse::<SocketAddr>().map_err(|_| {
            invalid(
                "server.addr",
                &self.server.addr,
                "write HOST:PORT with an IP address, e.g. 127.0.0.1:8080 (or LARIS_SERVER_ADDR / --addr)",
            )
        })?;
        let server_public_url = public_url("server.public_url", self.server.public_url.as_deref())?;
        let format = match self.log.format.as_str() {
            "human" => LogFormat::Human,
            "json" => LogFormat::Json,
            other => return Err(invalid("log.format", other, "use \"human\" or \"json\"")),
        };
        if self.log.level.trim().is_empty() {
            return Err(invalid(
                "log.level",
                &self.log.level,
                "use a tracing filter such as \"info\" or \"laris=debug,info\"",
            ));
        }
        let sign_in = sign_in(&self.admin)?;
        let admin_token = match self.admin.token {
            Some(t) if t.trim().len() < 16 => {
                return Err(invalid(
                    "admin.token",
                    "(hidden)",
                    "use at least 16 random characters, or remove it to let `laris serve` generate one",
                ))
            }
            other => other,
        };
        let admin = AdminSettings {
            password_hash: password_hash(
                "admin.password_hash",
                self.admin.password_hash.as_deref(),
                "laris admin set-password",
            )?,
            session_hours: match self.admin.session_hours {
                h @ 1..=720 => h,
                h => {
                    return Err(invalid(
                        "admin.session_hours",
                        h.to_string(),
                        "use 1 to 720 hours (30 days)",
                    ))
                }
            },
            sign_in,
        };
        let trusted_proxies = trusted_proxies(&self.server.trusted_proxies)?;
        let store = self.store.validate()?;
        let mut shops: Vec<ShopSettings> = Vec::new();
        for (i, raw) in self.shops.into_iter().enumerate() {
            let key = |k: &str| format!("shops[{i}].{k}");
            let id = ShopId::parse(&raw.id).map_err(|e| invalid(key("id"), &raw.id, e.to_string()))?;
            if shops.iter().any(|s| s.id == id) {
                return Err(invalid(key("id"), &raw.id, "each shop needs its own id"));
            }
            let timezone = TimeZone::parse(&raw.timezone)
                .ok_or_else(|| invalid(key("timezone"), &raw.timezone, zone_hint()))?;
            let sync_schedule = Schedule::parse(&raw.sync_schedule, &timezone)
                .map_err(|e| invalid(key("sync_schedule"), &raw.sync_schedule, e.to_string()))?;
            for origin in &raw.allowed_origins {
                let ok = origin == "*" || origin.starts_with("http://") || origin.starts_with("https://");
                if !ok || origin.ends_with('/') {
                    return Err(invalid(
                        key("allowed_origins"),
                        origin,
                        "write an origin such as \"https://shop.example\" (scheme and host, no path) or \"*\"",
                    ));
                }
            }
            let shop_public_url = public_url(&key("public_url"), raw.public_url.as_deref())?;
            if raw.customer_secret.as_ref().is_some_and(|s| s.len() < 16) {
                return Err(invalid(
                    key("customer_secret"),
                    "(hidden)",
                    "use at least 16 random characters (e.g. `openssl rand -hex 32`)",
                ));
            }
            let admin_password_hash = password_hash(
                &key("admin_password_hash"),
                raw.admin_password_hash.as_deref(),
                &format!("laris admin set-password --shop {}", raw.id),
            )?;
            if admin_password_hash.is_some() && id.as_str() == ADMIN_USER {
                return Err(invalid(
                    key("admin_password_hash"),
                    "(hidden)",
                    "the user name admin means every shop: give this shop another id, or use admin.password_hash",
                ));
            }
            if !(1..=720).contains(&raw.analytics.attribution_window_hours) {
                return Err(invalid(
                    key("analytics.attribution_window_hours"),
                    raw.analytics.attribution_window_hours.to_string(),
                    "use 1 to 720 hours (30 days)",
                ));
            }
            let chat = raw.chat.as_ref().map(|c| c.validate(&key)).transpose()?;
            let experiment = raw
                .experiment
                .as_ref()
                .map(|e| e.validate(&raw.id, &key))
                .transpose()?;
            let outreach = raw.outreach.clone().unwrap_or_default().validate(&key)?;
            let automations = raw
                .automations
                .iter()
                .enumerate()
                .map(|(j, a)| a.validate(&|k| key(&format!("automations[{j}].{k}"))))
                .collect::<Result<Vec<_>, _>>()?;
            super::outreach::unique_names(&automations, &key)?;
            let sources = raw
                .sources
                .iter()
                .enumerate()
                .map(|(j, t)| {
                    crate::config::source::SourceSettings::from_table(t, &key(&format!("sources[{j}]")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            validate_recommend(&raw.recommend, &key)?;
            validate_loyalty(&raw.loyalty, &key)?;
            for (j, offer) in raw.offers.iter().enumerate() {
                let okey = |k: &str| key(&format!("offers[{j}].{k}"));
                if offer.buy.is_empty() {
                    return Err(invalid(
                        okey("buy"),
                        "[]",
                        "list at least one { product = \"SKU\", quantity = N }",
                    ));
                }
                for line in offer.buy.iter().chain(&offer.free) {
                    if line.quantity == 0 {
                        return Err(invalid(okey("quantity"), "0", "use a quantity of at least 1"));
                    }
                }
                if !(0.0..100.0).contains(&offer.discount_pct) {
                    return Err(invalid(
                        okey("discount_pct"),
                        offer.discount_pct.to_string(),
                        "use a percentage from 0 to 99",
                    ));
                }
            }
            shops.push(ShopSettings {
                name: raw.name.unwrap_or_else(|| raw.id.clone()),
                id,
                timezone,
                sync_schedule,
                replay_dirs: match raw.replay_dirs {
                    Some(dirs) => dirs.into_iter().map(PathBuf::from).collect(),
                    None => raw.seed_recording.iter().map(PathBuf::from).collect(),
                },
                seed_recording: raw.seed_recording.map(PathBuf::from),
                seed_events: raw.seed_events.map(PathBuf::from),
                seed_experiment: raw.seed_experiment.map(PathBuf::from),
                allowed_origins: raw.allowed_origins,
                sources,
                customer_secret: raw.customer_secret,
                recommend: raw.recommend,
                offers: raw.offers,
                loyalty: raw.loyalty,
                templates: raw.templates.map(PathBuf::from),
                admin_password_hash,
                analytics: raw.analytics,
                public_url: shop_public_url,
                slots: Default::default(),
                chat,
                outreach,
                automations,
                experiment,
            });
        }
        Ok(Settings {
            server: ServerSettings {
                addr,
                limits: self.server.limits()?,
                demo_images: PathBuf::from(self.server.demo_images),
                max_body_bytes: self.server.max_body_bytes,
                event_retention_days: bounded(
                    "server.event_retention_days",
                    self.server.event_retention_days,
                    1,
                    36_500,
                    "days (the default is 180)",
                )? as u32,
                shop_events_per_second: bounded(
                    "server.shop_events_per_second",
                    self.server.shop_events_per_second,
                    1,
                    1_000_000,
                    "(the default is 500)",
                )? as u32,
                max_events_per_shop: bounded(
                    "server.max_events_per_shop",
                    self.server.max_events_per_shop,
                    1_000,
                    1_000_000_000,
                    "(the default is 5000000)",
                )? as usize,
                event_buffer: bounded(
                    "server.event_buffer",
                    self.server.event_buffer,
                    1,
                    10_000_000,
                    "events (the default is 10000)",
                )? as usize,
                prepared_cache_bytes: bounded(
                    "server.prepared_cache_mib",
                    self.server.prepared_cache_mib,
                    1,
                    1 << 20,
                    "MiB (the default is 64)",
                )? << 20,
                max_upload_bytes: bounded(
                    "server.max_upload_bytes",
                    self.server.max_upload_bytes,
                    1024,
                    4 << 30,
                    "bytes (the default is 52428800, 50 MiB)",
                )?,
                public_url: server_public_url,
                trusted_proxies,
            },
            log: LogSettings {
                format,
                level: self.log.level,
            },
            admin_token,
            admin,
            shops,
            store,
            source: path.to_path_buf(),
        })
    }
}

// ---- sign-in limits and reverse proxies ---------------------------------------------------

fn sign_in(raw: &RawAdmin) -> Result<SignInSettings, ConfigError> {
    let d = SignInSettings::default();
    let s = SignInSettings {
        password_checks: raw.password_checks.unwrap_or(d.password_checks),
        password_queue: raw.password_queue.unwrap_or(d.password_queue),
        failed_signins_per_minute: raw
            .failed_signins_per_minute
            .unwrap_or(d.failed_signins_per_minute),
    };
    if !(1..=64).contains(&s.password_checks) {
        return Err(invalid(
            "admin.password_checks",
            s.password_checks.to_string(),
            "use 1 to 64 (each check holds about 19 MiB while it runs; the number of cores is the default)",
        ));
    }
    if s.password_queue > 1000 {
        return Err(invalid(
            "admin.password_queue",
            s.password_queue.to_string(),
            "use 0 to 1000 (sign-ins that wait for a check; 8 is the default)",
        ));
    }
    if !(1..=10_000).contains(&s.failed_signins_per_minute) {
        return Err(invalid(
            "admin.failed_signins_per_minute",
            s.failed_signins_per_minute.to_string(),
            "use 1 to 10000 (30 is the default)",
        ));
    }
    Ok(s)
}

fn trusted_proxies(raw: &[String]) -> Result<limits::TrustedProxies, ConfigError> {
    limits::TrustedProxies::parse(raw).map_err(|(value, fix)| invalid("server.trusted_proxies", value, fix))
}

/// A password hash from config, parsed as a PHC string. The value is not echoed: even a
/// hash helps someone guessing the password offline.
fn password_hash(key: &str, raw: Option<&str>, command: &str) -> Result<Option<PhcHash>, ConfigError> {
    raw.map(|raw| {
        PhcHash::parse(raw).map_err(|e| {
            invalid(
                key,
                "(hidden)",
                format!("{e}; run `{command}` instead, which keeps a correct hash in the data directory"),
            )
        })
    })
    .transpose()
}

fn validate_loyalty(l: &LoyaltySettings, key: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
    let k = |name: &str| key(&format!("loyalty.{name}"));
    if !(1..=10).contains(&l.tiers.len()) {
        return Err(invalid(
            k("tiers"),
            l.tiers.len().to_string(),
            "list 1 to 10 tiers, lowest first",
        ));
    }
    let mut last_min = -1i64;
    for (i, t) in l.tiers.iter().enumerate() {
        if t.name.trim().is_empty() {
            return Err(invalid(
                k(&format!("tiers[{i}].name")),
                &t.name,
                "give every tier a name",
            ));
        }
        if !(0.0..100.0).contains(&t.discount_pct) {
            return Err(invalid(
                k(&format!("tiers[{i}].discount_pct")),
                t.discount_pct.to_string(),
                "use a percentage from 0 to 99",
            ));
        }
        match (l.method, t.min_spend) {
            (TierMethod::Thresholds, None) => {
                return Err(invalid(
                    k(&format!("tiers[{i}].min_spend")),
                    "(missing)",
                    "method = \"thresholds\" needs min_spend (rupiah) on every tier",
                ))
            }
            (_, Some(m)) if m <= last_min || (i == 0 && m != 0) => {
                return Err(invalid(
                    k(&format!("tiers[{i}].min_spend")),
                    m.to_string(),
                    "start the first tier at 0 and let min_spend rise from tier to tier",
                ))
            }
            (_, Some(m)) => last_min = m,
            _ => {}
        }
    }
    Ok(())
}

fn validate_recommend(r: &RecommendSettings, key: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
    let k = |name: &str| key(&format!("recommend.{name}"));
    if !(1..=50).contains(&r.limit) {
        return Err(invalid(
            k("limit"),
            r.limit.to_string(),
            "use 1 to 50 items per list",
        ));
    }
    if !(1..=200).contains(&r.candidates) {
        return Err(invalid(k("candidates"), r.candidates.to_string(), "use 1 to 200"));
    }
    if !(1..=500).contains(&r.neighbours) {
        return Err(invalid(k("neighbours"), r.neighbours.to_string(), "use 1 to 500"));
    }
    if !(r.co_purchase_shrink.is_finite() && r.co_purchase_shrink >= 0.0) {
        return Err(invalid(
            k("co_purchase_shrink"),
            r.co_purchase_shrink.to_string(),
            "use 0 (no shrinkage) or more, e.g. 5",
        ));
    }
    if r.pair_min_count == 0 || !(0.0..1.0).contains(&r.pair_min_confidence) {
        return Err(invalid(
            k("pair_min_count / pair_min_confidence"),
            format!("{} / {}", r.pair_min_count, r.pair_min_confidence),
            "use a count of at least 1 and a confidence from 0 to below 1, e.g. 3 / 0.05",
        ));
    }
    if r.price_clusters > 50 {
        return Err(invalid(
            k("price_clusters"),
            r.price_clusters.to_string(),
            "use 0 (choose by silhouette) to 50",
        ));
    }
    for (name, v) in [
        ("upsell_discount_pct", r.upsell_discount_pct),
        ("bundle_discount_pct", r.bundle_discount_pct),
    ] {
        if !(0.0..100.0).contains(&v) {
            return Err(invalid(k(name), v.to_string(), "use a percentage from 0 to 99"));
        }
    }
    for (name, v) in [
        ("bundle_min_support", r.bundle_min_support),
        ("bundle_min_confidence", r.bundle_min_confidence),
    ] {
        if !(v > 0.0 && v <= 1.0) {
            return Err(invalid(
                k(name),
                v.to_string(),
                "use a fraction above 0 and at most 1, e.g. 0.01",
            ));
        }
    }
    if r.bundle_min_lift < 0.0 || r.upsell_min_price_ratio < 1.0 {
        return Err(invalid(
            k("bundle_min_lift / upsell_min_price_ratio"),
            format!("{} / {}", r.bundle_min_lift, r.upsell_min_price_ratio),
            "use a lift of at least 0 and a price ratio of at least 1",
        ));
    }
    if !(2..=5).contains(&r.bundle_max_items) {
        return Err(invalid(
            k("bundle_max_items"),
            r.bundle_max_items.to_string(),
            "use 2 to 5",
        ));
    }
    let w = &r.weights;
    if [w.category, w.price, w.pack, w.attributes, w.name]
        .iter()
        .any(|x| !(x.is_finite() && *x >= 0.0))
        || w.category + w.price + w.pack + w.attributes + w.name <= 0.0
    {
        return Err(invalid(
            k("weights"),
            format!("{w:?}"),
            "use weights of 0 or more, not all 0",
        ));
    }
    Ok(())
}
