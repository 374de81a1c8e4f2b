//! One run of a `tiktok_shop` source (docs/tiktok-shop.md): the product search walked with
//! `page_token` over every product updated since the products cursor, then the order
//! search in update-time windows from the orders cursor minus the overlap (or
//! `history_days` back on the first run), each window walked with `page_token`. Pages go
//! through the [`Importer`] in groups, as the marketplace API's walks do
//! ([`crate::sync::pipeline::GROUP_BOUNDS`]: consecutive pages committed together with the
//! cursor of the last); the products cursor is written with the walk's last page, the
//! orders cursor with the last page of each window, so a failed page leaves the cursor
//! where it was (the group before it is committed) and the next run reads the same records
//! again.
//!
//! Every request is signed ([`super::signed_query`]) and carries the access token in the
//! `x-tts-access-token` header. The token is refreshed with the refresh token when TikTok
//! says it expired, and once on an HTTP 401; the new pair is sealed into the shop's store
//! ([`super::vault`]) before it is used, so that a restart or another replica goes on with
//! it, and kept in memory ([`TikTokTokens`]) for the later runs of the process. It is never
//! written back to the configuration.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::Value;

use crate::config::source::TiktokShopSource;
use crate::domain::{CustomerId, ShopId};
use crate::feeds::tiktok_shop::{envelope_data, error_kind, ErrorKind};
use crate::feeds::FeedError;
use crate::loyalty::identity::CustomerLinks;
use crate::records::{OrderCursor, ProductCursor, SyncCursor};
use crate::store::ShopStore;
use crate::sync::api::{day, windows, with_query, Progress};
use crate::sync::http::{Answer, Failure, FetchError, Fetcher, Request};
use crate::sync::pipeline::{
    tiktok_orders, tiktok_products, ImportError, Importer, Incoming, Page, GROUP_BOUNDS,
};

use super::{
    order_search_body, page_params, product_search_body, refresh_query, signed_query, vault, App,
    ACCESS_TOKEN_HEADER, ORDER_SEARCH_PATH, PRODUCT_SEARCH_PATH, TOKEN_REFRESH_PATH,
};

/// The order search is read in windows of at most a week of update times.
pub const ORDER_WINDOW_SECS: i64 = 7 * 86_400;
/// A walk never reads more pages than this in one run.
const MAX_PAGES: u32 = 10_000;
/// TikTok's code for a signature it refuses.
const SIGN_INVALID: i64 = 106001;

/// An access token and the refresh token that renews it. A refreshed pair has the time it
/// was obtained and its origin ([`vault::origin`] of the configured refresh token it
/// descends from); the configured pair has neither.
#[derive(Clone, Default, PartialEq, Eq)]
struct TokenPair {
    access: Option<String>,
    refresh: Option<String>,
    obtained: Option<DateTime<Utc>>,
    origin: Option<String>,
}

/// Tokens obtained by a refresh, by their credential name ([`vault::credential_name`]: auth
/// URL, app key, shop cipher), for the later runs of the same process; each run also reads
/// the shop's store, where another replica may have refreshed since.
#[derive(Default)]
pub struct TikTokTokens {
    pairs: Mutex<HashMap<String, TokenPair>>,
}

impl TikTokTokens {
    fn get(&self, name: &str) -> Option<TokenPair> {
        self.pairs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// Keeps `pair` unless the one kept is more recent.
    fn put(&self, name: &str, pair: TokenPair) {
        let mut pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        let kept = pairs.get(name).and_then(|p| p.obtained);
        if kept.is_none() || pair.obtained >= kept {
            pairs.insert(name.to_string(), pair);
        }
    }
}

/// Everything one run of one TikTok Shop source needs.
pub struct TikTokRun<'a> {
    settings: &'a TiktokShopSource,
    source: usize,
    fetcher: &'a Fetcher,
    tokens: &'a TikTokTokens,
    /// Where refreshed tokens are sealed and read back.
    store: &'a dyn ShopStore,
    shop: &'a ShopId,
    now: DateTime<Utc>,
    progress: &'a dyn Progress,
    /// Whether this run has read the stored tokens yet.
    read_stored: AtomicBool,
    /// TikTok buyers (`user_id`) of this run's orders, and whether any of their orders
    /// carried a phone key that can link them to other sources' customers.
    buyers: Mutex<HashMap<CustomerId, bool>>,
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

impl<'a> TikTokRun<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        settings: &'a TiktokShopSource,
        source: usize,
        fetcher: &'a Fetcher,
        tokens: &'a TikTokTokens,
        store: &'a dyn ShopStore,
        shop: &'a ShopId,
        now: DateTime<Utc>,
        progress: &'a dyn Progress,
    ) -> TikTokRun<'a> {
        TikTokRun {
            settings,
            source,
            fetcher,
            tokens,
            store,
            shop,
            now,
            progress,
            read_stored: AtomicBool::new(false),
            buyers: Mutex::new(HashMap::new()),
        }
    }

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

    fn credential_name(&self) -> String {
        vault::credential_name(
            &self.settings.auth_url,
            &self.settings.app_key,
            &self.settings.shop_cipher,
        )
    }

    fn configured_tokens(&self) -> Result<TokenPair, Failure> {
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
            obtained: None,
            origin: None,
        })
    }

    /// The tokens to use: the latest refreshed pair (this process's, or the store's, read
    /// once a run) that descends from the configured refresh token, else the configured ones.
    fn current_tokens(&self, app: &App) -> Result<TokenPair, Failure> {
        let configured = self.configured_tokens()?;
        let name = self.credential_name();
        if !self.read_stored.swap(true, Ordering::SeqCst) {
            if let Some(stored) = self.stored_tokens(app, &name, &configured) {
                self.tokens.put(&name, stored);
            }
        }
        let origin = vault::origin(configured.refresh.as_deref());
        Ok(match self.tokens.get(&name) {
            Some(pair) if pair.origin.as_deref() == Some(origin.as_str()) => pair,
            _ => configured,
        })
    }

    /// The pair sealed in the store for this source, when it opens and descends from the
    /// configured refresh token.
    fn stored_tokens(&self, app: &App, name: &str, configured: &TokenPair) -> Option<TokenPair> {
        let sealed = match self.store.credentials(self.shop) {
            Ok(all) => all.into_iter().find(|(n, _)| n == name)?.1,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the stored TikTok Shop tokens: using the configured ones");
                return None;
            }
        };
        let stored = match vault::Vault::new(&app.secret).open(&sealed) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(app_key = %app.key, error = %e, "the stored TikTok Shop tokens cannot be used: using the configured ones");
                return None;
            }
        };
        if stored.origin != vault::origin(configured.refresh.as_deref()) {
            tracing::info!(app_key = %app.key, "the configured refresh token changed since the stored tokens were obtained: using the configured ones");
            return None;
        }
        Some(TokenPair {
            access: Some(stored.access),
            refresh: Some(stored.refresh),
            obtained: Some(stored.obtained_at),
            origin: Some(stored.origin),
        })
    }

    /// Renews the access token with the refresh token (`grant_type=refresh_token`), seals
    /// the new pair into the store and keeps it for this process.
    async fn refresh(&self, app: &App) -> Result<String, Failure> {
        let pair = self.current_tokens(app)?;
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
        let origin = vault::origin(self.configured_tokens()?.refresh.as_deref());
        let obtained = Utc::now();
        let sealed = vault::Vault::new(&app.secret).seal(&vault::StoredTokens {
            origin: origin.clone(),
            access: access.clone(),
            refresh: new_refresh.clone(),
            obtained_at: obtained,
        });
        let name = self.credential_name();
        match self.store.put_credentials(self.shop, &name, &sealed) {
            Ok(()) => tracing::info!(
                app_key = %self.settings.app_key,
                rotated = new_refresh != refresh,
                "TikTok Shop access token refreshed; the new tokens are sealed in the shop's store"
            ),
            Err(e) => tracing::warn!(
                app_key = %self.settings.app_key,
                error = %e,
                rotated = new_refresh != refresh,
                "TikTok Shop access token refreshed, but the new tokens could not be stored: they are kept in memory until the service stops"
            ),
        }
        self.tokens.put(
            &name,
            TokenPair {
                access: Some(access.clone()),
                refresh: Some(new_refresh),
                obtained: Some(obtained),
                origin: Some(origin),
            },
        );
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
        let refreshed = AtomicBool::new(false);
        let refreshed = &refreshed;
        let params = &params;
        self.fetcher
            .retrying(move || async move {
                let app = self.app()?;
                let access = match self.current_tokens(&app)?.access {
                    Some(a) if !a.trim().is_empty() => a,
                    _ => {
                        refreshed.store(true, Ordering::SeqCst);
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
        refreshed: &AtomicBool,
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
            if refreshed.swap(true, Ordering::SeqCst) {
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
    /// status, page by page until TikTok gives no next page token. Pages are committed in
    /// groups ([`GROUP_BOUNDS`]), the last one when the walk ends or stops.
    pub async fn products(&self, importer: &mut Importer<'_>) -> Result<(), ImportError> {
        importer.group_pages(GROUP_BOUNDS);
        self.walk_products(importer).await?;
        Ok(importer.commit_group()?)
    }

    async fn walk_products(&self, importer: &mut Importer<'_>) -> Result<(), ImportError> {
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
    /// by page; the cursor moves to a window's end with its last page. Pages, of one window
    /// or several, are committed in groups ([`GROUP_BOUNDS`]) with the cursor of the last
    /// window read whole, the last group when the walk ends or stops.
    pub async fn orders(&self, importer: &mut Importer<'_>) -> Result<(), ImportError> {
        importer.group_pages(GROUP_BOUNDS);
        self.walk_orders(importer).await?;
        Ok(importer.commit_group()?)
    }

    async fn walk_orders(&self, importer: &mut Importer<'_>) -> Result<(), ImportError> {
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
                self.note_buyers(&answer.records);
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

impl TikTokRun<'_> {
    /// Notes the buyers of a page's orders and whether an order gave each a phone key.
    fn note_buyers(&self, records: &[Incoming]) {
        let mut buyers = self.buyers.lock().unwrap_or_else(|e| e.into_inner());
        for r in records {
            if let Incoming::Order(o) = r {
                *buyers.entry(o.customer.clone()).or_default() |= o.phone.is_some();
            }
        }
    }

    /// What the sync report says about this run's buyers when the shop has other sources
    /// of orders (`others`, as `kind#index`): how many are one customer with a customer of
    /// those sources through a phone key ([`CustomerLinks`]), and how many nothing links —
    /// TikTok's `user_id` is its own id space and it masks most phones, so those stay
    /// customers of their own rather than being matched by name. `None` for a shop with no
    /// other source of orders, or a run that read no orders.
    pub fn identity_note(&self, others: &[String]) -> Result<Option<String>, ImportError> {
        let buyers = self.buyers.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if others.is_empty() || buyers.is_empty() {
            return Ok(None);
        }
        let orders = self.store.orders(self.shop)?;
        let links = CustomerLinks::from_orders(&orders);
        // Canonical id → the ids of the shop's orders that resolve to it.
        let mut known: HashMap<&CustomerId, HashSet<&CustomerId>> = HashMap::new();
        for o in &orders {
            known
                .entry(links.resolve(&o.customer))
                .or_default()
                .insert(&o.customer);
        }
        let mut linked = 0;
        let mut no_phone = 0;
        for (buyer, has_phone) in &buyers {
            let others_ids = known.get(links.resolve(buyer)).map_or(0, |ids| {
                ids.iter()
                    .filter(|id| **id != buyer && !buyers.contains_key(**id))
                    .count()
            });
            if others_ids > 0 {
                linked += 1;
            } else if !has_phone {
                no_phone += 1;
            }
        }
        Ok(Some(format!(
            "customer identities: {} TikTok Shop buyers in this run; {linked} share a phone with customers of the shop's other sources ({}) and are counted as one customer with them; {no_phone} carry no phone TikTok did not mask, so nothing links them to those sources' customers: they are kept as customers of their own (their TikTok user id), not matched by name",
            buyers.len(),
            others.join(", "),
        )))
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
