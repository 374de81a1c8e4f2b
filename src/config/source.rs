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
}

pub const KINDS: &[&str] = &["marketplace_api", "export_files", "storefront"];

impl SourceSettings {
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSettings::MarketplaceApi(_) => "marketplace_api",
            SourceSettings::ExportFiles(_) => "export_files",
            SourceSettings::Storefront(_) => "storefront",
        }
    }

    pub fn http(&self) -> &HttpSettings {
        match self {
            SourceSettings::MarketplaceApi(s) => &s.http,
            SourceSettings::ExportFiles(s) => &s.http,
            SourceSettings::Storefront(s) => &s.http,
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
                    "use one of marketplace_api, export_files, storefront",
                ))
            }
            None => {
                return Err(invalid(
                    "kind",
                    "",
                    "every source needs kind = \"marketplace_api\", \"export_files\" or \"storefront\"",
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
            other => {
                return Err(invalid(
                    "kind",
                    other,
                    "use one of marketplace_api, export_files, storefront",
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
