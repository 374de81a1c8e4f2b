//! The `marketplace_api` source (docs/feeds.md: marketplace API): a client-credentials token (cached until it
//! expires, renewed on a 401), product pages newest first until one is not newer than the
//! cursor (or every page, in the periodic full pass that marks vanished products
//! inactive), and order windows of at most three days from the last cursor minus an
//! overlap, so that later status changes reach stored orders.
//!
//! Cursors ([`ProductCursor`], [`OrderCursor`]) are records the store keeps per source,
//! written in the same batch as the last page they cover (pages are committed in groups:
//! `sync::pipeline`): a failed page stops the source, the pages before it are committed
//! with the cursor of the last window read whole, and a crash loses nothing that was
//! committed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use tokio::time::Instant;

use crate::config::source::ApiSource;
use crate::feeds::FeedError;
use crate::records::{OrderCursor, ProductCursor, SyncCursor};
use crate::sync::http::{Failure, FetchError, Fetcher, Request};
use crate::sync::pipeline::{api_orders, api_products, ImportError, Importer, Incoming, Page, GROUP_BOUNDS};

/// The longest order window the API accepts.
pub const WINDOW_SECS: i64 = 3 * 86_400;
/// Consecutive pages with nothing new before a walk gives up (a server stuck on a page).
const MAX_REPEATED_PAGES: u32 = 3;
/// A walk never reads more pages than this in one run.
const MAX_PAGES: u32 = 10_000;

/// Access tokens by (token URL, client id), shared by every run of the service.
#[derive(Default)]
pub struct Tokens {
    cache: Mutex<HashMap<(String, String), (String, Instant)>>,
}

impl Tokens {
    fn get(&self, key: &(String, String)) -> Option<String> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(key)
            .filter(|(_, expires)| *expires > Instant::now())
            .map(|(t, _)| t.clone())
    }

    fn put(&self, key: (String, String), token: String, lifetime: Duration) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        // Renew a minute early so that a request does not set out with a dying token.
        let margin = Duration::from_secs(60).min(lifetime / 2);
        cache.insert(key, (token, Instant::now() + lifetime - margin));
    }

    fn forget(&self, key: &(String, String)) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// What a source run reports while it goes (a progress bar, the log).
pub trait Progress: Send + Sync {
    fn step(&self, message: &str);
}

/// No progress shown.
pub struct Quiet;
impl Progress for Quiet {
    fn step(&self, _message: &str) {}
}

/// Everything one run of one API source needs.
pub struct ApiRun<'a> {
    pub api: &'a ApiSource,
    pub source: usize,
    pub fetcher: &'a Fetcher,
    pub tokens: &'a Tokens,
    pub now: DateTime<Utc>,
    pub progress: &'a dyn Progress,
    /// Force a full product pass whatever the schedule.
    pub full: bool,
}

/// Why the marketplace client secret is not at hand.
#[derive(Debug, thiserror::Error)]
enum SecretError {
    #[error("the client secret is read from the environment variable {0}, which is not set: export it before `laris serve` / `laris sync`")]
    Unset(String),
    #[error("no client_secret or client_secret_env configured")]
    NotConfigured,
}

impl ApiRun<'_> {
    fn secret(&self) -> Result<String, SecretError> {
        match (&self.api.client_secret, &self.api.client_secret_env) {
            (Some(s), _) => Ok(s.clone()),
            (None, Some(var)) => std::env::var(var).map_err(|_| SecretError::Unset(var.clone())),
            (None, None) => Err(SecretError::NotConfigured),
        }
    }

    fn token_key(&self) -> (String, String) {
        (self.api.token_url.clone(), self.api.client_id.clone())
    }

    /// A cached token, or a fresh one by client credentials.
    async fn token(&self) -> Result<String, Failure> {
        if let Some(t) = self.tokens.get(&self.token_key()) {
            return Ok(t);
        }
        let secret = self.secret().map_err(|e| Failure::Fatal(e.to_string()))?;
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.api.client_id, secret));
        let url = with_query(
            &self.api.token_url,
            &[("grant_type", "client_credentials".into())],
        );
        let req = Request {
            method: Method::POST,
            url: &url,
            authorization: Some(format!("Basic {basic}")),
            role: "token",
            record_body: false,
            headers: Vec::new(),
            body: None,
        };
        let answer = Failure::check("token", self.fetcher.once(&req).await?).map_err(|f| match f {
            Failure::Fatal(e) => Failure::Fatal(format!("{e}: check client_id and the client secret")),
            retry => retry,
        })?;
        #[derive(Deserialize)]
        struct TokenAnswer {
            access_token: String,
            #[serde(default)]
            expires_in: Option<u64>,
        }
        let parsed: TokenAnswer = serde_json::from_slice(&answer.body)
            .map_err(|e| Failure::Fatal(format!("the token answer is not {{\"access_token\": …}}: {e}")))?;
        let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3600).max(1));
        self.tokens
            .put(self.token_key(), parsed.access_token.clone(), lifetime);
        Ok(parsed.access_token)
    }

    /// One page, with the token, retries and the page parsed: a 401 renews the token and
    /// tries once more; an answer that is not a readable page (cut off, an error envelope)
    /// counts as a failed attempt.
    async fn page(
        &self,
        url: &str,
        role: &str,
        parse: fn(&str, &str) -> Result<Vec<Incoming>, FeedError>,
    ) -> Result<Vec<Incoming>, FetchError> {
        let renewed = std::sync::atomic::AtomicBool::new(false);
        let renewed = &renewed;
        self.fetcher
            .retrying(move || async move {
                let token = self.token().await?;
                let req = Request {
                    method: Method::GET,
                    url,
                    authorization: Some(format!("Bearer {token}")),
                    role,
                    record_body: true,
                    headers: Vec::new(),
                    body: None,
                };
                let answer = self.fetcher.once(&req).await?;
                if answer.status == 401 {
                    self.tokens.forget(&self.token_key());
                    if !renewed.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        tracing::info!(url, "token refused (expired?): renewing it");
                        return Err(Failure::Retry {
                            error: format!("GET {url}: HTTP 401"),
                            wait: Some(Duration::ZERO),
                        });
                    }
                    return Err(Failure::Fatal(format!(
                        "GET {url}: HTTP 401 with a fresh token: {}",
                        answer.reason()
                    )));
                }
                let answer = Failure::check(&format!("GET {url}"), answer)?;
                parse(url, &answer.text()).map_err(|e| Failure::Retry {
                    error: format!("GET {url}: {e}"),
                    wait: None,
                })
            })
            .await
    }

    /// Products, newest first. Incremental: stops at the first product not newer than the
    /// cursor. Full pass (every `full_pass_hours`, or forced): every page, then products that
    /// vanished are marked inactive. Pages are committed in groups ([`GROUP_BOUNDS`]), the
    /// last one when the walk ends or stops.
    pub async fn products(&self, importer: &mut Importer<'_>) -> Result<(), ImportError> {
        importer.group_pages(GROUP_BOUNDS);
        self.walk_products(importer).await?;
        Ok(importer.commit_group()?)
    }

    async fn walk_products(&self, importer: &mut Importer<'_>) -> Result<(), ImportError> {
        let cursor = importer.product_cursor(self.source)?.unwrap_or_default();
        let full = self.full
            || cursor.last_full_pass.is_none_or(|at| {
                self.now - at >= chrono::Duration::hours(i64::from(self.api.full_pass_hours))
            });
        if full {
            importer.begin_full_pass();
        }
        let role = if full { "products_full" } else { "products" };
        let per_page = self.api.products_per_page;
        let mut newest = cursor.newest_update;
        let mut seen = std::collections::HashSet::new();
        let mut repeated = 0;
        for page_no in 1..=MAX_PAGES {
            let url = with_query(
                &format!(
                    "{}/inventory/v1/fs/{}/product/info",
                    self.api.base_url.trim_end_matches('/'),
                    self.api.fs_id
                ),
                &[
                    ("shop_id", self.api.shop_id.clone()),
                    ("page", page_no.to_string()),
                    ("per_page", per_page.to_string()),
                    ("sort", "2".into()),
                ],
            );
            self.progress.step(&format!("products page {page_no}"));
            let records = match self.page(&url, role, api_products).await {
                Ok(r) => r,
                Err(e) => {
                    importer.record_error(format!("products: {e}; the cursor stays where it was"));
                    return Ok(());
                }
            };
            let count = records.len();
            let mut reached_cursor = false;
            let mut fresh = 0;
            for r in &records {
                if let Incoming::ApiProduct(feed) = r {
                    let t = feed.product.updated_at.timestamp();
                    if !full && cursor.newest_update.is_some_and(|c| t <= c) {
                        reached_cursor = true;
                    }
                    newest = newest.max(Some(t));
                    if seen.insert(feed.marketplace_id.clone()) {
                        fresh += 1;
                    }
                }
            }
            if fresh == 0 && count > 0 {
                repeated += 1;
                importer.warn(format!(
                    "products page {page_no} repeated products already read in this run"
                ));
            } else {
                repeated = 0;
            }
            let last = count < per_page as usize || reached_cursor;
            if repeated >= MAX_REPEATED_PAGES {
                importer.record_error(format!(
                    "products: the marketplace answered {MAX_REPEATED_PAGES} pages in a row with products already read (page {page_no}); stopped, the cursor stays where it was"
                ));
                return Ok(());
            }
            let mut page = Page::new(&url, records);
            if last {
                let next = ProductCursor {
                    newest_update: newest,
                    last_full_pass: if full {
                        Some(self.now)
                    } else {
                        cursor.last_full_pass
                    },
                };
                page.cursor = Some(SyncCursor::Products {
                    source: self.source,
                    cursor: next,
                });
                page.ends_full_pass = full;
            }
            importer.import_page(page)?;
            if last {
                return Ok(());
            }
        }
        importer.record_error(format!("products: more than {MAX_PAGES} pages; stopped"));
        Ok(())
    }

    /// Orders in windows of at most three days, from the cursor minus the overlap (or
    /// `history_days` back on the first run) up to now. Pages, of one window or several,
    /// are committed in groups ([`GROUP_BOUNDS`]) with the cursor of the last window read
    /// whole, the last group when the walk ends or stops.
    pub async fn orders(&self, importer: &mut Importer<'_>) -> Result<(), ImportError> {
        importer.group_pages(GROUP_BOUNDS);
        self.walk_orders(importer).await?;
        Ok(importer.commit_group()?)
    }

    async fn walk_orders(&self, importer: &mut Importer<'_>) -> Result<(), ImportError> {
        let cursor = importer.order_cursor(self.source)?;
        let now = self.now.timestamp();
        let from = match &cursor {
            Some(c) => c.synced_to - i64::from(self.api.overlap_days) * 86_400,
            None => now - i64::from(self.api.history_days) * 86_400,
        };
        let windows = windows(from, now, WINDOW_SECS);
        let per_page = self.api.orders_per_page;
        for (i, (start, end)) in windows.iter().copied().enumerate() {
            let mut seen = std::collections::HashSet::new();
            let mut repeated = 0;
            for page_no in 1..=MAX_PAGES {
                let url = with_query(
                    &format!("{}/v2/order/list", self.api.base_url.trim_end_matches('/')),
                    &[
                        ("fs_id", self.api.fs_id.clone()),
                        ("shop_id", self.api.shop_id.clone()),
                        ("from_date", start.to_string()),
                        ("to_date", end.to_string()),
                        ("page", page_no.to_string()),
                        ("per_page", per_page.to_string()),
                    ],
                );
                self.progress.step(&format!(
                    "orders window {}/{} ({}), page {page_no}",
                    i + 1,
                    windows.len(),
                    day(start)
                ));
                let records = match self.page(&url, "orders", api_orders).await {
                    Ok(r) => r,
                    Err(e) => {
                        importer.record_error(format!(
                            "orders from {}: {e}; the cursor stays at {}",
                            day(start),
                            cursor.as_ref().map_or("(none)".to_string(), |c| day(c.synced_to))
                        ));
                        return Ok(());
                    }
                };
                let count = records.len();
                let fresh = records
                    .iter()
                    .filter(|r| matches!(r, Incoming::Order(o) if seen.insert(o.invoice.clone())))
                    .count();
                if fresh == 0 && count > 0 {
                    repeated += 1;
                    importer.warn(format!(
                        "orders page {page_no} from {} repeated orders already read",
                        day(start)
                    ));
                    if repeated >= MAX_REPEATED_PAGES {
                        importer.record_error(format!(
                            "orders from {}: {MAX_REPEATED_PAGES} pages in a row repeated orders already read; stopped, the cursor stays where it was",
                            day(start)
                        ));
                        return Ok(());
                    }
                } else {
                    repeated = 0;
                }
                let last = count < per_page as usize;
                let mut page = Page::new(&url, records);
                if last {
                    let next = OrderCursor { synced_to: end };
                    page.cursor = Some(SyncCursor::Orders {
                        source: self.source,
                        cursor: next,
                    });
                }
                importer.import_page(page)?;
                if last {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// `[from, to)` cut into windows of at most `width` seconds (this API's: [`WINDOW_SECS`]).
pub fn windows(from: i64, to: i64, width: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + width).min(to);
        out.push((start, end));
        start = end;
    }
    out
}

/// A unix time as its UTC date, for reports (`2026-11-02`).
pub(crate) fn day(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// `base?k=v&…`, values percent-encoded.
pub fn with_query(base: &str, params: &[(&str, String)]) -> String {
    let mut url = match url::Url::parse(base) {
        Ok(u) => u,
        Err(_) => return base.to_string(),
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_walked_in_windows_of_at_most_three_days() {
        let w = windows(0, 7 * 86_400, WINDOW_SECS);
        assert_eq!(w, vec![(0, 259_200), (259_200, 518_400), (518_400, 604_800)]);
        assert!(windows(10, 10, WINDOW_SECS).is_empty());
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            with_query(
                "https://a.example/token",
                &[("grant_type", "client_credentials".into())]
            ),
            "https://a.example/token?grant_type=client_credentials"
        );
        assert_eq!(
            with_query("https://a.example/x", &[("q", "a b&c".into())]),
            "https://a.example/x?q=a+b%26c"
        );
    }
}
