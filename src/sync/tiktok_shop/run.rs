//! One run of a `tiktok_shop` source (docs/tiktok-shop.md): the product search walked with
//! `page_token` over every product updated since the products cursor, then the order
//! search in update-time windows from the orders cursor minus the overlap (or
//! `history_days` back on the first run), each window walked with `page_token`. Every page
//! is one batch through the [`Importer`]; the products cursor is written with the walk's
//! last page, the orders cursor with the last page of each window, so a failed page leaves
//! the cursor where it was and the next run reads the same records again.
//!
//! Every request is signed ([`super::signed_query`]) and carries the access token in the
//! `x-tts-access-token` header. The token is refreshed with the refresh token when TikTok
//! says it expired, and once on an HTTP 401; the new pair is kept in memory ([`TikTokTokens`],
//! shared by the runs of one process), never written back to the configuration.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::Value;

use crate::config::source::TiktokShopSource;
use crate::feeds::tiktok_shop::{envelope_data, error_kind, ErrorKind};
use crate::feeds::FeedError;
use crate::records::{OrderCursor, ProductCursor, SyncCursor};
use crate::sync::api::{day, windows, with_query, Progress};
use crate::sync::http::{Answer, Failure, FetchError, Fetcher, Request};
use crate::sync::pipeline::{tiktok_orders, tiktok_products, ImportError, Importer, Incoming, Page};

use super::{
    order_search_body, page_params, product_search_body, refresh_query, signed_query, App,
    ACCESS_TOKEN_HEADER, ORDER_SEARCH_PATH, PRODUCT_SEARCH_PATH, TOKEN_REFRESH_PATH,
};

/// The order search is read in windows of at most a week of update times.
pub const ORDER_WINDOW_SECS: i64 = 7 * 86_400;
/// A walk never reads more pages than this in one run.
const MAX_PAGES: u32 = 10_000;
/// TikTok's code for a signature it refuses.
const SIGN_INVALID: i64 = 106001;

/// An access token and the refresh token that renews it.
#[derive(Clone, Default, PartialEq, Eq)]
struct TokenPair {
    access: Option<String>,
    refresh: Option<String>,
}

/// Tokens obtained by a refresh, by (auth URL, app key, shop cipher), kept for the later
/// runs of the same process. Lost when the process ends: see docs/tiktok-shop.md, tokens.
#[derive(Default)]
pub struct TikTokTokens {
    pairs: Mutex<HashMap<(String, String, String), TokenPair>>,
}

impl TikTokTokens {
    fn get(&self, key: &(String, String, String)) -> Option<TokenPair> {
        self.pairs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    fn put(&self, key: (String, String, String), pair: TokenPair) {
        self.pairs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, pair);
    }
}

/// Everything one run of one TikTok Shop source needs.
pub struct TikTokRun<'a> {
    pub settings: &'a TiktokShopSource,
    pub source: usize,
    pub fetcher: &'a Fetcher,
    pub tokens: &'a TikTokTokens,
    pub now: DateTime<Utc>,
    pub progress: &'a dyn Progress,
}

/// A search page read and parsed: where it came from, its records and the next page token.
struct SearchAnswer {
    origin: String,
    records: Vec<Incoming>,
    next_page_token: Option<String>,
}

type ParsePage = fn(&str, &str) -> Result<(Vec<Incoming>, Option<String>), FeedError>;

/// A secret from the configuration or from the environment variable it names.
fn configured(direct: &Option<String>, env: &Option<String>, key: &str) -> Result<Option<String>, Failure> {
    match (direct, env) {
        (Some(v), _) => Ok(Some(v.clone())),
        (None, Some(var)) => std::env::var(var).map(Some).map_err(|_| {
            Failure::Fatal(format!(
                "{key} is read from the environment variable {var}, which is not set: export it before `laris serve` / `laris sync`"
            ))
        }),
        (None, None) => Ok(None),
    }
}

/// `code` and `message` of a TikTok envelope, when the body is one.
fn envelope_code(body: &[u8]) -> Option<(i64, String)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let code = v.get("code")?.as_i64()?;
    let message = v.get("message").and_then(Value::as_str).unwrap_or("").to_string();
    Some((code, message))
}

impl TikTokRun<'_> {
    fn app(&self) -> Result<App, Failure> {
        let secret = configured(
            &self.settings.app_secret,
            &self.settings.app_secret_env,
            "app_secret",
        )?
        .ok_or_else(|| Failure::Fatal("no app_secret or app_secret_env configured".into()))?;
        Ok(App {
            key: self.settings.app_key.clone(),
            secret,
        })
    }

    fn token_key(&self) -> (String, String, String) {
        (
            self.settings.auth_url.clone(),
            self.settings.app_key.clone(),
            self.settings.shop_cipher.clone(),
        )
    }

    /// The tokens to use: those of an earlier refresh in this process, else the configured ones.
    fn current_tokens(&self) -> Result<TokenPair, Failure> {
        if let Some(pair) = self.tokens.get(&self.token_key()) {
            return Ok(pair);
        }
        Ok(TokenPair {
            access: configured(
                &self.settings.access_token,
                &self.settings.access_token_env,
                "access_token",
            )?,
            refresh: configured(
                &self.settings.refresh_token,
                &self.settings.refresh_token_env,
                "refresh_token",
            )?,
        })
    }

    /// Renews the access token with the refresh token (`grant_type=refresh_token`) and keeps
    /// the new pair for this process.
    async fn refresh(&self, app: &App) -> Result<String, Failure> {
        let pair = self.current_tokens()?;
        let Some(refresh) = pair.refresh.filter(|r| !r.trim().is_empty()) else {
            return Err(Failure::Fatal(
                "the access token expired or was refused and no refresh_token / refresh_token_env is configured: give the shop's refresh token, or a new access token".into(),
            ));
        };
        let query = refresh_query(app, &refresh).map_err(|e| Failure::Fatal(e.to_string()))?;
        let url = with_query(
            &format!(
                "{}{TOKEN_REFRESH_PATH}",
                self.settings.auth_url.trim_end_matches('/')
            ),
            &query
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect::<Vec<_>>(),
        );
        let req = Request {
            method: Method::GET,
            url: &url,
            authorization: None,
            role: "token",
            record_body: false,
            headers: Vec::new(),
            body: None,
        };
        let what = format!("token refresh at {}", self.settings.auth_url);
        let answer = self.fetcher.once(&req).await?;
        if answer.status == 429 || answer.status >= 500 {
            return Err(Failure::Retry {
                error: format!("{what}: HTTP {}", answer.status),
                wait: answer.retry_after(),
            });
        }
        let data = envelope_data(&answer.text()).map_err(|e| {
            Failure::Fatal(format!(
                "{what} refused (HTTP {}): {e}; check app_key and app_secret, or authorise the shop again in TikTok Shop Seller Center if the refresh token expired",
                answer.status
            ))
        })?;
        let text = |k: &str| {
            data.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let access = text("access_token")
            .ok_or_else(|| Failure::Fatal(format!("{what}: the answer has no data.access_token")))?;
        let new_refresh = text("refresh_token").unwrap_or(refresh.clone());
        if new_refresh != refresh {
            tracing::warn!(
                app_key = %self.settings.app_key,
                "TikTok Shop rotated the refresh token: the new one is kept in memory only; update refresh_token / refresh_token_env before the service restarts if the old one stops working"
            );
        }
        self.tokens.put(
            self.token_key(),
            TokenPair {
                access: Some(access.clone()),
                refresh: Some(new_refresh),
            },
        );
        tracing::info!(app_key = %self.settings.app_key, "TikTok Shop access token refreshed");
        Ok(access)
    }

    /// One search page: signed, with the token, retried through the fetcher. An expired
    /// token (TikTok's token codes, or a 401 once) is refreshed and the page asked again;
    /// rate limits (429, code 36009002) and server faults wait and ask again; an answer that
    /// is not a readable page (cut off) counts as a failed attempt; a refused signature or
    /// another error code stops the walk with TikTok's code, message and request id.
    async fn page(
        &self,
        path: &str,
        params: Vec<(String, String)>,
        body: &str,
        role: &str,
        parse: ParsePage,
    ) -> Result<SearchAnswer, FetchError> {
        let refreshed = std::sync::atomic::AtomicBool::new(false);
        let refreshed = &refreshed;
        let params = &params;
        self.fetcher
            .retrying(move || async move {
                let app = self.app()?;
                let access = match self.current_tokens()?.access {
                    Some(a) if !a.trim().is_empty() => a,
                    _ => {
                        refreshed.store(true, std::sync::atomic::Ordering::SeqCst);
                        self.refresh(&app).await?
                    }
                };
                let timestamp = Utc::now().timestamp();
                let query = signed_query(
                    &app,
                    Some(&self.settings.shop_cipher),
                    path,
                    params,
                    Some(body),
                    timestamp,
                );
                let url = with_query(
                    &format!("{}{path}", self.settings.base_url.trim_end_matches('/')),
                    &query
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.clone()))
                        .collect::<Vec<_>>(),
                );
                let what = format!("POST {path}");
                let req = Request {
                    method: Method::POST,
                    url: &url,
                    authorization: None,
                    role,
                    record_body: true,
                    headers: vec![(ACCESS_TOKEN_HEADER, access)],
                    body: Some(body.to_string()),
                };
                let answer = self.fetcher.once(&req).await?;
                self.judge(&app, &what, &answer, refreshed).await?;
                let origin = url_without_sign(&url);
                let (records, next_page_token) =
                    parse(&origin, &answer.text()).map_err(|e| Failure::Retry {
                        error: format!("{what}: {e}"),
                        wait: None,
                    })?;
                Ok(SearchAnswer {
                    origin,
                    records,
                    next_page_token,
                })
            })
            .await
    }

    /// Decides what an answer means before its page is parsed: `Ok` for a page to read.
    async fn judge(
        &self,
        app: &App,
        what: &str,
        answer: &Answer,
        refreshed: &std::sync::atomic::AtomicBool,
    ) -> Result<(), Failure> {
        let status = answer.status;
        let envelope = envelope_code(&answer.body);
        let told = envelope
            .as_ref()
            .filter(|(code, _)| *code != 0)
            .map(|(code, message)| {
                let detail = envelope_data(&answer.text()).err().map(|e| e.to_string());
                (
                    *code,
                    message.clone(),
                    detail.unwrap_or_else(|| format!("error {code}: {message}")),
                )
            });
        if let Some((code, _, detail)) = &told {
            if *code == SIGN_INVALID {
                return Err(Failure::Fatal(format!(
                    "{what}: TikTok Shop refused the request's signature (HTTP {status}, {detail}): check app_secret / app_secret_env — it must be the secret of app_key {}",
                    app.key
                )));
            }
        }
        let token_expired = told
            .as_ref()
            .is_some_and(|(code, message, _)| error_kind(*code, message) == ErrorKind::Token);
        if status == 401 || token_expired {
            let detail = told.as_ref().map_or(String::new(), |(_, _, d)| format!(": {d}"));
            if refreshed.swap(true, std::sync::atomic::Ordering::SeqCst) {
                return Err(Failure::Fatal(format!(
                    "{what}: HTTP {status}{detail}, again with a refreshed access token: authorise the shop again in TikTok Shop Seller Center"
                )));
            }
            tracing::info!(
                what,
                status,
                "TikTok Shop refused the access token: refreshing it"
            );
            self.refresh(app).await?;
            return Err(Failure::Retry {
                error: format!("{what}: HTTP {status}{detail}"),
                wait: Some(Duration::ZERO),
            });
        }
        let rate_limited = told
            .as_ref()
            .is_some_and(|(code, message, _)| error_kind(*code, message) == ErrorKind::RateLimited);
        if status == 429 || status == 408 || status >= 500 || rate_limited {
            let detail = told.as_ref().map_or(String::new(), |(_, _, d)| format!(": {d}"));
            return Err(Failure::Retry {
                error: format!("{what}: HTTP {status}{detail}"),
                wait: answer.retry_after(),
            });
        }
        if let Some((_, _, detail)) = told {
            return Err(Failure::Fatal(format!("{what}: HTTP {status}: {detail}")));
        }
        if !(200..300).contains(&status) {
            return Err(Failure::Fatal(format!("{what}: HTTP {status}")));
        }
        Ok(())
    }

    /// Products updated since the products cursor (every product on a first run), in every
    /// status, page by page until TikTok gives no next page token.
    pub async fn products(&self, importer: &mut Importer<'_>) -> Result<(), ImportError> {
        let cursor = importer.product_cursor(self.source)?.unwrap_or_default();
        let now = self.now.timestamp();
        // Inclusive bounds: products updated in the cursor's second are read again (unchanged).
        let from = cursor.newest_update.unwrap_or(0).clamp(0, now - 1);
        let body = match product_search_body(from, now) {
            Ok(b) => b,
            Err(e) => {
                importer.record_error(format!("products: {e}"));
                return Ok(());
            }
        };
        let per_page = self.settings.products_per_page;
        let mut newest = cursor.newest_update;
        let mut token: Option<String> = None;
        let mut tokens_seen = std::collections::HashSet::new();
        for page_no in 1..=MAX_PAGES {
            let params = match page_params(per_page, token.as_deref()) {
                Ok(p) => p,
                Err(e) => {
                    importer.record_error(format!("products: {e}"));
                    return Ok(());
                }
            };
            self.progress.step(&format!("products page {page_no}"));
            let answer = match self
                .page(
                    PRODUCT_SEARCH_PATH,
                    params,
                    &body,
                    "tiktok_products",
                    tiktok_products,
                )
                .await
            {
                Ok(a) => a,
                Err(e) => {
                    importer.record_error(format!(
                        "products page {page_no}: {e}; the cursor stays where it was"
                    ));
                    return Ok(());
                }
            };
            for r in &answer.records {
                if let Incoming::ApiProduct(feed) = r {
                    newest = newest.max(Some(feed.product.updated_at.timestamp()));
                }
            }
            let next = answer.next_page_token.clone();
            if let Some(t) = &next {
                if !tokens_seen.insert(t.clone()) {
                    importer.record_error(format!(
                        "products page {page_no}: TikTok Shop gave the page token {t} a second time; stopped, the cursor stays where it was"
                    ));
                    return Ok(());
                }
            }
            let mut page = Page::new(&answer.origin, answer.records);
            if next.is_none() {
                page.cursor = Some(SyncCursor::Products {
                    source: self.source,
                    cursor: ProductCursor {
                        newest_update: newest,
                        last_full_pass: cursor.last_full_pass,
                    },
                });
            }
            importer.import_page(page)?;
            match next {
                None => return Ok(()),
                Some(t) => token = Some(t),
            }
        }
        importer.record_error(format!("products: more than {MAX_PAGES} pages; stopped"));
        Ok(())
    }

    /// Orders updated from the orders cursor minus `overlap_days` (or `history_days` back on
    /// a first run) until now, in windows of at most [`ORDER_WINDOW_SECS`], each walked page
    /// by page; the cursor moves to a window's end with its last page.
    pub async fn orders(&self, importer: &mut Importer<'_>) -> Result<(), ImportError> {
        let cursor = importer.order_cursor(self.source)?;
        let now = self.now.timestamp();
        let from = match &cursor {
            Some(c) => c.synced_to - i64::from(self.settings.overlap_days) * 86_400,
            None => now - i64::from(self.settings.history_days) * 86_400,
        }
        .max(0);
        let windows = windows(from, now, ORDER_WINDOW_SECS);
        let per_page = self.settings.orders_per_page;
        for (i, (start, end)) in windows.iter().copied().enumerate() {
            let body = match order_search_body(start, end) {
                Ok(b) => b,
                Err(e) => {
                    importer.record_error(format!("orders: {e}"));
                    return Ok(());
                }
            };
            let mut token: Option<String> = None;
            let mut tokens_seen = std::collections::HashSet::new();
            let mut complete = false;
            for page_no in 1..=MAX_PAGES {
                let mut params = match page_params(per_page, token.as_deref()) {
                    Ok(p) => p,
                    Err(e) => {
                        importer.record_error(format!("orders: {e}"));
                        return Ok(());
                    }
                };
                params.push(("sort_field".into(), "update_time".into()));
                params.push(("sort_order".into(), "ASC".into()));
                self.progress.step(&format!(
                    "orders window {}/{} ({}), page {page_no}",
                    i + 1,
                    windows.len(),
                    day(start)
                ));
                let answer = match self
                    .page(ORDER_SEARCH_PATH, params, &body, "tiktok_orders", tiktok_orders)
                    .await
                {
                    Ok(a) => a,
                    Err(e) => {
                        importer.record_error(format!(
                            "orders updated from {}, page {page_no}: {e}; the cursor stays at {}",
                            day(start),
                            cursor.as_ref().map_or("(none)".to_string(), |c| day(c.synced_to))
                        ));
                        return Ok(());
                    }
                };
                let next = answer.next_page_token.clone();
                if let Some(t) = &next {
                    if !tokens_seen.insert(t.clone()) {
                        importer.record_error(format!(
                            "orders updated from {}: TikTok Shop gave the page token {t} a second time; stopped, the cursor stays where it was",
                            day(start)
                        ));
                        return Ok(());
                    }
                }
                let mut page = Page::new(&answer.origin, answer.records);
                if next.is_none() {
                    page.cursor = Some(SyncCursor::Orders {
                        source: self.source,
                        cursor: OrderCursor { synced_to: end },
                    });
                }
                importer.import_page(page)?;
                match next {
                    None => {
                        complete = true;
                        break;
                    }
                    Some(t) => token = Some(t),
                }
            }
            if !complete {
                importer.record_error(format!(
                    "orders updated from {}: more than {MAX_PAGES} pages; stopped",
                    day(start)
                ));
                return Ok(());
            }
        }
        Ok(())
    }
}

/// A request URL without its `sign` and `timestamp`, as a page's origin in reports and
/// quarantine (the same page asked twice has the same origin).
pub fn url_without_sign(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != "sign" && k != "timestamp")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_windows_cover_the_period_a_week_at_most() {
        assert_eq!(
            windows(0, 10 * 86_400, ORDER_WINDOW_SECS),
            vec![(0, 604_800), (604_800, 864_000)]
        );
        assert!(windows(5, 5, ORDER_WINDOW_SECS).is_empty());
    }

    #[test]
    fn a_page_origin_has_no_sign_or_timestamp() {
        let u = url_without_sign("https://h.example/p?page_size=2&app_key=k&timestamp=17&sign=abc");
        assert_eq!(u, "https://h.example/p?page_size=2&app_key=k");
    }
}
