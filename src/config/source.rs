//! A shop's sources (`[[shops.sources]]`, docs/feeds.md: sources), validated when the config loads:
//! the `kind` picks the variant, every other key is checked against it (an unknown key is
//! an error naming it), and every key but the source's address has a default.

use std::time::Duration;

use serde::Deserialize;

use super::error::ConfigError;

/// How a source's HTTP requests behave. Every source kind takes these keys.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Seconds to wait for a connection.
    pub connect_timeout_secs: u64,
    /// Seconds to wait for a whole answer (a slow server counts as a failed attempt).
    pub read_timeout_secs: u64,
    /// Attempts after the first for a request that failed in a way that may pass: a timeout,
    /// a refused connection, 5xx, 429, a cut-off body.
    pub retries: u32,
    /// First retry delay in milliseconds; doubled per attempt, with ±50 % jitter.
    pub backoff_ms: u64,
    /// Longest wait between attempts, also the cap on a `Retry-After` we honour.
    pub max_backoff_secs: u64,
    /// Largest answer accepted, in bytes; a bigger one fails the request.
    pub max_response_bytes: u64,
    /// Sent as `User-Agent`.
    pub user_agent: String,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout_secs: 10,
            read_timeout_secs: 30,
            retries: 4,
            backoff_ms: 500,
            max_backoff_secs: 60,
            max_response_bytes: 32 * 1024 * 1024,
            user_agent: format!("laris/{} (+https://github.com/laris)", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl HttpSettings {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }
    pub fn read_timeout(&self) -> Duration {
        Duration::from_secs(self.read_timeout_secs)
    }
    pub fn max_backoff(&self) -> Duration {
        Duration::from_secs(self.max_backoff_secs)
    }
}

/// `kind = "marketplace_api"` (docs/feeds.md: marketplace API).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSource {
    pub base_url: String,
    pub token_url: String,
    pub fs_id: String,
    pub shop_id: String,
    pub client_id: String,
    /// The secret itself; prefer `client_secret_env`.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Name of the environment variable holding the secret, read at each sync.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// How far back the first order sync reaches.
    #[serde(default = "default_history_days")]
    pub history_days: u32,
    /// Orders are re-read from the last cursor minus this many days, so status changes
    /// (a cancellation, a completion) reach the stored order.
    #[serde(default = "default_overlap_days")]
    pub overlap_days: u32,
    /// Hours between full product passes (which mark vanished products inactive).
    #[serde(default = "default_full_pass_hours")]
    pub full_pass_hours: u32,
    /// Products per page, at most 50.
    #[serde(default = "default_products_per_page")]
    pub products_per_page: u32,
    /// Orders per page, at most 100.
    #[serde(default = "default_orders_per_page")]
    pub orders_per_page: u32,
    #[serde(default)]
    pub http: HttpSettings,
}

fn default_history_days() -> u32 {
    365
}
fn default_overlap_days() -> u32 {
    7
}
fn default_full_pass_hours() -> u32 {
    24
}
fn default_products_per_page() -> u32 {
    50
}
fn default_orders_per_page() -> u32 {
    100
}

/// `kind = "tiktok_shop"` (docs/tiktok-shop.md): a shop on the TikTok Shop Open Platform
/// (Tokopedia shops since the merger). Secrets are given directly or, better, by the name
/// of an environment variable; `Debug` never prints them.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TiktokShopSource {
    /// The app key from TikTok Shop Partner Center.
    pub app_key: String,
    /// The app secret itself; prefer `app_secret_env`.
    #[serde(default)]
    pub app_secret: Option<String>,
    /// Name of the environment variable holding the app secret, read at each sync.
    #[serde(default)]
    pub app_secret_env: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub access_token_env: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub refresh_token_env: Option<String>,
    /// The shop's cipher (from Get Authorized Shops), sent with every shop call.
    pub shop_cipher: String,
    /// Host of the shop APIs.
    #[serde(default = "default_tiktok_base_url")]
    pub base_url: String,
    /// Host of the token refresh endpoint.
    #[serde(default = "default_tiktok_auth_url")]
    pub auth_url: String,
    /// How far back the first order sync reaches.
    #[serde(default = "default_history_days")]
    pub history_days: u32,
    /// Orders are re-read from the last cursor minus this many days.
    #[serde(default = "default_overlap_days")]
    pub overlap_days: u32,
    /// Products per page, 1 to 100.
    #[serde(default = "default_tiktok_per_page")]
    pub products_per_page: u32,
    /// Orders per page, 1 to 100.
    #[serde(default = "default_tiktok_per_page")]
    pub orders_per_page: u32,
    #[serde(default)]
    pub http: HttpSettings,
}

impl std::fmt::Debug for TiktokShopSource {
    /// Never prints a secret or a token, only whether and where it is configured.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "(hidden)");
        f.debug_struct("TiktokShopSource")
            .field("app_key", &self.app_key)
            .field("app_secret", &hidden(&self.app_secret))
            .field("app_secret_env", &self.app_secret_env)
            .field("access_token", &hidden(&self.access_token))
            .field("access_token_env", &self.access_token_env)
            .field("refresh_token", &hidden(&self.refresh_token))
            .field("refresh_token_env", &self.refresh_token_env)
            .field("shop_cipher", &self.shop_cipher)
            .field("base_url", &self.base_url)
            .field("auth_url", &self.auth_url)
            .field("history_days", &self.history_days)
            .field("overlap_days", &self.overlap_days)
            .field("products_per_page", &self.products_per_page)
            .field("orders_per_page", &self.orders_per_page)
            .field("http", &self.http)
            .finish()
    }
}

fn default_tiktok_base_url() -> String {
    "https://open-api.tiktokglobalshop.com".into()
}
fn default_tiktok_auth_url() -> String {
    "https://auth.tiktok-shops.com".into()
}
fn default_tiktok_per_page() -> u32 {
    50
}

/// `kind = "export_files"` (docs/feeds.md: export files).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSource {
    /// Product lists: paths (relative to the working directory) or http(s) URLs.
    #[serde(default)]
    pub products: Vec<String>,
    /// Sales reports ("Laporan Penjualan").
    #[serde(default)]
    pub orders: Vec<String>,
    #[serde(default)]
    pub http: HttpSettings,
}

/// `kind = "storefront"` (docs/feeds.md: storefront).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorefrontSource {
    #[serde(default)]
    pub sitemap: Option<String>,
    #[serde(default)]
    pub urls: Vec<String>,
    /// Pages fetched at the same time.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Milliseconds between two requests (politeness toward the shop's own server).
    #[serde(default = "default_delay_ms")]
    pub delay_ms: u64,
    /// Pages read per run at most.
    #[serde(default = "default_max_pages")]
    pub max_pages: usize,
    #[serde(default)]
    pub http: HttpSettings,
}

fn default_concurrency() -> usize {
    2
}
fn default_delay_ms() -> u64 {
    500
}
fn default_max_pages() -> usize {
    5000
}

#[derive(Debug, Clone, PartialEq)]
pub enum SourceSettings {
    MarketplaceApi(ApiSource),
    ExportFiles(ExportSource),
    Storefront(StorefrontSource),
    TiktokShop(TiktokShopSource),
}

pub const KINDS: &[&str] = &["marketplace_api", "export_files", "storefront", "tiktok_shop"];

impl SourceSettings {
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSettings::MarketplaceApi(_) => "marketplace_api",
            SourceSettings::ExportFiles(_) => "export_files",
            SourceSettings::Storefront(_) => "storefront",
            SourceSettings::TiktokShop(_) => "tiktok_shop",
        }
    }

    pub fn http(&self) -> &HttpSettings {
        match self {
            SourceSettings::MarketplaceApi(s) => &s.http,
            SourceSettings::ExportFiles(s) => &s.http,
            SourceSettings::Storefront(s) => &s.http,
            SourceSettings::TiktokShop(s) => &s.http,
        }
    }

    /// Validates one `[[shops.sources]]` table; `key` is its place, e.g. `shops[0].sources[1]`.
    pub fn from_table(table: &toml::Table, key: &str) -> Result<SourceSettings, ConfigError> {
        let invalid = |k: &str, value: &str, fix: &str| ConfigError::Invalid {
            key: format!("{key}.{k}"),
            value: value.to_string(),
            fix: fix.to_string(),
        };
        let kind = match table.get("kind") {
            Some(toml::Value::String(k)) => k.clone(),
            Some(other) => {
                return Err(invalid(
                    "kind",
                    &other.to_string(),
                    "use one of marketplace_api, export_files, storefront, tiktok_shop",
                ))
            }
            None => {
                return Err(invalid(
                    "kind",
                    "",
                    "every source needs kind = \"marketplace_api\", \"export_files\", \"storefront\" or \"tiktok_shop\"",
                ))
            }
        };
        let mut rest = table.clone();
        rest.remove("kind");
        let rest = toml::Value::Table(rest);
        let parse_err = |e: toml::de::Error| ConfigError::Invalid {
            key: key.to_string(),
            value: format!("kind = {kind:?}"),
            fix: format!("{} (docs/feeds.md: sources lists the keys)", e.message().trim()),
        };
        let source = match kind.as_str() {
            "marketplace_api" => SourceSettings::MarketplaceApi(rest.try_into().map_err(parse_err)?),
            "export_files" => SourceSettings::ExportFiles(rest.try_into().map_err(parse_err)?),
            "storefront" => SourceSettings::Storefront(rest.try_into().map_err(parse_err)?),
            "tiktok_shop" => SourceSettings::TiktokShop(rest.try_into().map_err(parse_err)?),
            other => {
                return Err(invalid(
                    "kind",
                    other,
                    "use one of marketplace_api, export_files, storefront, tiktok_shop",
                ))
            }
        };
        match &source {
            SourceSettings::MarketplaceApi(api) => {
                for (k, v) in [("base_url", &api.base_url), ("token_url", &api.token_url)] {
                    check_url(v).map_err(|fix| invalid(k, v, &fix.to_string()))?;
                }
                for (k, v) in [
                    ("fs_id", &api.fs_id),
                    ("shop_id", &api.shop_id),
                    ("client_id", &api.client_id),
                ] {
                    if v.trim().is_empty() {
                        return Err(invalid(
                            k,
                            v,
                            "give the value from the marketplace's app settings",
                        ));
                    }
                }
                match (&api.client_secret, &api.client_secret_env) {
                    (Some(_), Some(_)) => {
                        return Err(invalid("client_secret", "(hidden)", "give client_secret or client_secret_env, not both"))
                    }
                    (None, None) => {
                        return Err(invalid(
                            "client_secret_env",
                            "",
                            "name the environment variable holding the client secret, e.g. client_secret_env = \"LARIS_LENGKUAS_CLIENT_SECRET\"",
                        ))
                    }
                    _ => {}
                }
                if !(1..=50).contains(&api.products_per_page) {
                    return Err(invalid(
                        "products_per_page",
                        &api.products_per_page.to_string(),
                        "use 1 to 50 (the API's limit)",
                    ));
                }
                if !(1..=100).contains(&api.orders_per_page) {
                    return Err(invalid(
                        "orders_per_page",
                        &api.orders_per_page.to_string(),
                        "use 1 to 100 (the API's limit)",
                    ));
                }
                if api.history_days == 0 {
                    return Err(invalid("history_days", "0", "use at least 1 day"));
                }
                if api.full_pass_hours == 0 {
                    return Err(invalid(
                        "full_pass_hours",
                        "0",
                        "use at least 1 hour (24 = daily)",
                    ));
                }
            }
            SourceSettings::TiktokShop(tts) => {
                for (k, v) in [("base_url", &tts.base_url), ("auth_url", &tts.auth_url)] {
                    check_url(v).map_err(|fix| invalid(k, v, &fix.to_string()))?;
                }
                for (k, v) in [("app_key", &tts.app_key), ("shop_cipher", &tts.shop_cipher)] {
                    if v.trim().is_empty() {
                        return Err(invalid(
                            k,
                            v,
                            "give the value from TikTok Shop Partner Center (shop_cipher: from Get Authorized Shops)",
                        ));
                    }
                }
                for (name, direct, env) in [
                    ("app_secret", &tts.app_secret, &tts.app_secret_env),
                    ("access_token", &tts.access_token, &tts.access_token_env),
                    ("refresh_token", &tts.refresh_token, &tts.refresh_token_env),
                ] {
                    match (direct, env) {
                        (Some(_), Some(_)) => {
                            return Err(invalid(
                                name,
                                "(hidden)",
                                &format!("give {name} or {name}_env, not both"),
                            ))
                        }
                        (Some(v), None) if v.trim().is_empty() => {
                            return Err(invalid(name, "", &format!("give {name}_env = \"VARIABLE\" naming the environment variable that holds it")))
                        }
                        (None, Some(var)) if var.trim().is_empty() => {
                            return Err(invalid(&format!("{name}_env"), var, "name an environment variable, e.g. LARIS_TIKTOK_APP_SECRET"))
                        }
                        (None, None) if name == "app_secret" => {
                            return Err(invalid(
                                "app_secret_env",
                                "",
                                "name the environment variable holding the app secret, e.g. app_secret_env = \"LARIS_TIKTOK_APP_SECRET\"",
                            ))
                        }
                        _ => {}
                    }
                }
                if tts.access_token.is_none()
                    && tts.access_token_env.is_none()
                    && tts.refresh_token.is_none()
                    && tts.refresh_token_env.is_none()
                {
                    return Err(invalid(
                        "refresh_token_env",
                        "",
                        "give access_token_env and refresh_token_env (the tokens of the shop's authorisation); with only a refresh token the first sync refreshes",
                    ));
                }
                for (k, v) in [
                    ("products_per_page", tts.products_per_page),
                    ("orders_per_page", tts.orders_per_page),
                ] {
                    if !(1..=100).contains(&v) {
                        return Err(invalid(
                            k,
                            &v.to_string(),
                            "use 1 to 100 (TikTok Shop's page_size limit)",
                        ));
                    }
                }
                if tts.history_days == 0 {
                    return Err(invalid("history_days", "0", "use at least 1 day"));
                }
            }
            SourceSettings::ExportFiles(files) => {
                if files.products.is_empty() && files.orders.is_empty() {
                    return Err(invalid(
                        "products",
                        "[]",
                        "list at least one products or orders file (a path or an http(s) URL)",
                    ));
                }
                for f in files.products.iter().chain(&files.orders) {
                    if f.trim().is_empty() {
                        return Err(invalid("products", f, "a file is a path or an http(s) URL"));
                    }
                }
            }
            SourceSettings::Storefront(front) => {
                match (&front.sitemap, front.urls.is_empty()) {
                    (None, true) => {
                        return Err(invalid(
                            "sitemap",
                            "",
                            "give sitemap = \"https://…/sitemap.xml\" or urls = [\"…\"]",
                        ))
                    }
                    (Some(s), _) => check_url(s).map_err(|fix| invalid("sitemap", s, &fix.to_string()))?,
                    _ => {}
                }
                for u in &front.urls {
                    check_url(u).map_err(|fix| invalid("urls", u, &fix.to_string()))?;
                }
                if !(1..=16).contains(&front.concurrency) {
                    return Err(invalid(
                        "concurrency",
                        &front.concurrency.to_string(),
                        "use 1 to 16 pages at a time",
                    ));
                }
            }
        }
        let http = source.http();
        if http.read_timeout_secs == 0 || http.connect_timeout_secs == 0 {
            return Err(invalid("http.read_timeout_secs", "0", "use at least 1 second"));
        }
        if http.max_response_bytes < 1024 {
            return Err(invalid(
                "http.max_response_bytes",
                &http.max_response_bytes.to_string(),
                "use at least 1024 bytes",
            ));
        }
        Ok(source)
    }
}

/// Why a source's URL cannot be fetched from; the message is the fix.
#[derive(Debug, thiserror::Error)]
enum SourceUrlError {
    #[error("use an http(s) URL, not {0}:")]
    Scheme(String),
    #[error("write a full URL such as https://fs.tokopedia.net ({0})")]
    Unreadable(#[from] url::ParseError),
}

fn check_url(raw: &str) -> Result<(), SourceUrlError> {
    match url::Url::parse(raw)? {
        u if u.scheme() == "http" || u.scheme() == "https" => Ok(()),
        u => Err(SourceUrlError::Scheme(u.scheme().to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn a_marketplace_source_takes_the_feeds_md_keys_with_defaults() {
        let s = SourceSettings::from_table(
            &table(
                r#"kind = "marketplace_api"
                base_url = "https://fs.tokopedia.net"
                token_url = "https://accounts.tokopedia.com/token"
                fs_id = "15001"
                shop_id = "479573"
                client_id = "abc"
                client_secret_env = "LARIS_LENGKUAS_CLIENT_SECRET""#,
            ),
            "shops[0].sources[0]",
        )
        .unwrap();
        let SourceSettings::MarketplaceApi(api) = s else {
            panic!()
        };
        assert_eq!(
            (api.history_days, api.overlap_days, api.products_per_page),
            (365, 7, 50)
        );
        assert_eq!(api.http.retries, 4);
    }

    const TIKTOK: &str = r#"kind = "tiktok_shop"
        app_key = "6d1g0h1ksv8ar"
        app_secret = "e59af819cc"
        access_token = "ROW_access_secret"
        refresh_token_env = "LARIS_TTS_REFRESH"
        shop_cipher = "ROW_fUhjRwAAAAA""#;

    #[test]
    fn a_tiktok_shop_source_takes_its_keys_with_defaults_and_hides_secrets() {
        let s = SourceSettings::from_table(&table(TIKTOK), "shops[0].sources[0]").unwrap();
        assert_eq!(s.kind(), "tiktok_shop");
        let SourceSettings::TiktokShop(t) = &s else {
            panic!()
        };
        assert_eq!(t.base_url, "https://open-api.tiktokglobalshop.com");
        assert_eq!(t.auth_url, "https://auth.tiktok-shops.com");
        assert_eq!(
            (
                t.history_days,
                t.overlap_days,
                t.products_per_page,
                t.orders_per_page
            ),
            (365, 7, 50, 50)
        );
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("e59af819cc") && !debug.contains("ROW_access_secret"),
            "{debug}"
        );
        assert!(
            debug.contains("LARIS_TTS_REFRESH") && debug.contains("6d1g0h1ksv8ar"),
            "{debug}"
        );
    }

    #[test]
    fn bad_tiktok_shop_keys_are_named_with_value_and_fix() {
        let err = |extra: &str, drop: &str| {
            let text: String = TIKTOK
                .lines()
                .filter(|l| drop.is_empty() || !l.trim().starts_with(drop))
                .map(|l| format!("{}\n", l.trim()))
                .collect::<String>()
                + extra;
            SourceSettings::from_table(&table(&text), "shops[0].sources[2]")
                .unwrap_err()
                .to_string()
        };
        let e = err("orders_per_page = 101", "");
        assert!(
            e.contains("shops[0].sources[2].orders_per_page") && e.contains("101") && e.contains("1 to 100"),
            "{e}"
        );
        let e = err("products_per_page = 0", "");
        assert!(e.contains("products_per_page") && e.contains("1 to 100"), "{e}");
        let e = err("app_secret_env = \"X\"", "");
        assert!(
            e.contains("app_secret") && e.contains("not both") && !e.contains("e59af819cc"),
            "{e}"
        );
        let e = err("", "app_secret");
        assert!(
            e.contains("app_secret_env") && e.contains("environment variable"),
            "{e}"
        );
        let e = err("", "shop_cipher");
        assert!(e.contains("shop_cipher"), "{e}");
        let e = err("base_url = \"open-api.tiktokglobalshop.com\"", "");
        assert!(
            e.contains("base_url") && e.contains("open-api.tiktokglobalshop.com"),
            "{e}"
        );
        let e = err("partner_id = 3", "");
        assert!(e.contains("partner_id"), "{e}");
        let text = TIKTOK
            .lines()
            .filter(|l| !l.contains("token"))
            .map(|l| format!("{}\n", l.trim()))
            .collect::<String>();
        let e = SourceSettings::from_table(&table(&text), "s")
            .unwrap_err()
            .to_string();
        assert!(e.contains("refresh_token_env"), "{e}");
    }

    #[test]
    fn bad_source_keys_are_named_with_the_fix() {
        let err = SourceSettings::from_table(&table("kind = \"ftp\""), "shops[0].sources[1]")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("shops[0].sources[1].kind") && err.contains("\"ftp\""),
            "{err}"
        );
        let err = SourceSettings::from_table(
            &table("kind = \"storefront\"\nsitemap = \"https://a.example/s.xml\"\nspeed = 3"),
            "shops[0].sources[0]",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("speed"), "{err}");
        let err = SourceSettings::from_table(
            &table("kind = \"marketplace_api\"\nbase_url = \"fs.tokopedia.net\"\ntoken_url = \"https://a/t\"\nfs_id = \"1\"\nshop_id = \"2\"\nclient_id = \"c\"\nclient_secret = \"s\""),
            "shops[0].sources[0]",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("base_url") && err.contains("https://"), "{err}");
        let err = SourceSettings::from_table(&table("kind = \"export_files\""), "shops[0].sources[0]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least one"), "{err}");
    }
}
