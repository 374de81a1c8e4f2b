//! `laris mock-marketplace`: a recording (docs/feeds.md: recordings) served over real HTTP as a live
//! marketplace API (docs/feeds.md: marketplace API), so that any laris can be pointed at a recorded feed, and
//! the server our sync tests talk to, with faults scripted in recordings.
//!
//! How a request is answered:
//!
//! 1. `POST …/token` needs `Authorization: Basic …`. A recorded exchange for it whose status
//!    is not 200 is played (a scripted auth failure); otherwise a fresh token is issued
//!    (recorded token bodies are never stored, so there is nothing to play).
//! 2. Every other request needs `Authorization: Bearer <a token issued here, not expired>`.
//! 3. Exact match: the recorded exchanges with the same method, path and query (host
//!    ignored, query parameters as a multiset) answer in recorded order, one per request;
//!    when all have been served the last one answers again. So "429 then 200", "500 then
//!    200", "401 then 200", a duplicate page or a truncated body are scripted by writing
//!    them in that order. A recorded `x-laris-mock-delay-ms: N` header is not sent: the
//!    answer waits N ms instead.
//! 4. Fallback, so that a laris whose clock differs from the recording's still syncs
//!    completely: product pages are cut from every product of the recording's 200 product
//!    pages, newest update first; order pages from every order of its 200 order pages with
//!    `from_date ≤ create_time < to_date` (the rule `examples/gen_demo_shop.rs` recorded the
//!    demo with), oldest first. Anything else is 404.
//!
//! Errors are answered in the API's envelope with `reason` saying what was wrong.
//!
//! Requests on the TikTok Shop paths (the searches and the token refresh) are answered by
//! [`tiktok`] from the same recording instead.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use warp::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use warp::Filter;

use crate::sync::recording::{Exchange, Recording, RecordingError};

pub mod tiktok;

/// The largest request body read (a TikTok search body is a few dozen bytes).
const MAX_REQUEST_BODY: u64 = 64 * 1024;

/// A recorded header that delays the answer by this many milliseconds instead of being sent.
pub const DELAY_HEADER: &str = "x-laris-mock-delay-ms";
/// How long an issued token lives unless [`MockMarketplace::set_token_lifetime`] says otherwise.
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 3600;
/// The API's limits (docs/feeds.md: marketplace API), enforced by the fallback as the real API does.
const MAX_PRODUCTS_PER_PAGE: u64 = 50;
const MAX_ORDERS_PER_PAGE: u64 = 100;
const MAX_ORDER_WINDOW_SECS: i64 = 3 * 86_400;
/// Recorded headers that described the recorded transfer, not the answer: hyper frames the
/// body we send itself, and bodies are stored decoded.
const TRANSFER_HEADERS: [&str; 4] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "content-encoding",
];

#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error(transparent)]
    Recording(#[from] RecordingError),
    #[error("{index} seq {seq}: {reason}")]
    Exchange {
        index: PathBuf,
        seq: u64,
        reason: ExchangeError,
    },
}

/// Why a recorded exchange cannot be answered again; the message quotes the bad value.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("url {0:?} is not a URL: {1}")]
    Url(String, url::ParseError),
    #[error("status {0} is not an HTTP status code")]
    Status(u16),
    #[error("header {DELAY_HEADER} should be a whole number of milliseconds, found {0:?}")]
    Delay(String),
    #[error("header name {0:?} is not a valid HTTP header name")]
    HeaderName(String),
    #[error("header {0}: {1:?} is not a valid HTTP header value")]
    HeaderValue(String, String),
}

/// One request the mock answered, for tests and for the tester's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub method: String,
    /// Path and query as requested: `/v2/order/list?from_date=…`.
    pub target: String,
    pub status: u16,
    /// The recorded exchange that answered; `None` for issued tokens, fallback pages and refusals.
    pub seq: Option<u64>,
}

/// What a request must share with a recorded exchange to be answered by it. The host is not
/// part of it (the mock runs on another one); the query is kept sorted, so that parameter
/// order does not matter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RequestKey {
    method: String,
    path: String,
    query: Vec<(String, String)>,
}

impl RequestKey {
    fn new(method: &str, path: &str, query: &str) -> RequestKey {
        let mut query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        query.sort();
        RequestKey {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            query,
        }
    }

    /// The first value of a query parameter.
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An answer ready to send: recorded ones are checked and their bodies read at start.
#[derive(Debug, Clone)]
struct Answer {
    seq: Option<u64>,
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    delay: Duration,
    body: Bytes,
}

impl Answer {
    fn json(status: StatusCode, value: &Value) -> Answer {
        Answer {
            seq: None,
            status,
            headers: vec![(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            delay: Duration::ZERO,
            body: Bytes::from(value.to_string()),
        }
    }

    /// A page of records in the API's envelope.
    fn page(records: &[Value]) -> Answer {
        Answer::json(
            StatusCode::OK,
            &json!({
                "header": {
                    "process_time": 0,
                    "messages": "Your request has been processed successfully",
                    "reason": "",
                    "error_code": "",
                },
                "data": records,
            }),
        )
    }

    /// A refusal in the API's envelope, `reason` saying what was wrong.
    fn refusal(status: StatusCode, error_code: &str, reason: impl Into<String>) -> Answer {
        Answer::json(
            status,
            &json!({
                "header": {
                    "process_time": 0,
                    "messages": "",
                    "reason": reason.into(),
                    "error_code": error_code,
                },
                "data": null,
            }),
        )
    }

    fn unauthorized(reason: impl Into<String>) -> Answer {
        Answer::refusal(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", reason)
    }

    fn bad_request(reason: impl Into<String>) -> Answer {
        Answer::refusal(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", reason)
    }

    fn recorded(ex: &Exchange, body: Option<String>) -> Result<Answer, ExchangeError> {
        let status = StatusCode::from_u16(ex.status).map_err(|_| ExchangeError::Status(ex.status))?;
        let mut headers = Vec::new();
        let mut delay = Duration::ZERO;
        for (name, value) in &ex.headers {
            if name.eq_ignore_ascii_case(DELAY_HEADER) {
                let ms: u64 = value
                    .trim()
                    .parse()
                    .map_err(|_| ExchangeError::Delay(value.clone()))?;
                delay = Duration::from_millis(ms);
                continue;
            }
            if TRANSFER_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
                continue;
            }
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ExchangeError::HeaderName(name.clone()))?;
            let header_value = HeaderValue::from_str(value)
                .map_err(|_| ExchangeError::HeaderValue(name.clone(), value.clone()))?;
            headers.push((header_name, header_value));
        }
        Ok(Answer {
            seq: Some(ex.seq),
            status,
            headers,
            delay,
            body: body.map(Bytes::from).unwrap_or_default(),
        })
    }

    fn into_response(self) -> Response<Bytes> {
        let mut response = Response::new(self.body);
        *response.status_mut() = self.status;
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

pub struct MockMarketplace {
    /// Recorded answers per request, in recorded order; `State::served_per_key` picks among them.
    recorded: HashMap<RequestKey, Vec<Answer>>,
    /// Every product of the recording's 200 product pages, once, newest update first: the
    /// fallback for product pages asked differently from how they were recorded.
    products: Vec<Value>,
    /// Every order of the recording's 200 order pages, once, with its `create_time`, oldest
    /// first: the fallback for order windows that differ from the recorded ones.
    orders: Vec<(i64, Value)>,
    /// Seconds an issued token lives; settable so that a test can watch one expire.
    token_lifetime_secs: AtomicU64,
    /// The TikTok Shop API, answered from the recording's TikTok exchanges.
    tiktok: tiktok::TikTok,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// How many of each request's recorded answers were served: the next one answers.
    served_per_key: HashMap<RequestKey, usize>,
    /// Tokens issued and when they expire (`None`: never); only these open the API.
    tokens: HashMap<String, Option<Instant>>,
    /// Tokens issued so far, numbering them `mock-1`, `mock-2`, …
    issued: u64,
    /// Every request answered, in order.
    log: Vec<Served>,
}

/// A request as the mock sees it.
struct Request {
    method: Method,
    path: String,
    query: String,
    authorization: Option<String>,
    /// The `x-tts-access-token` header (TikTok Shop).
    tts_token: Option<String>,
    /// The body as received (empty when none, or larger than [`MAX_REQUEST_BODY`]).
    body: Bytes,
}

impl MockMarketplace {
    /// The recording in `dir`, ready to serve.
    pub fn open(dir: &Path) -> Result<Arc<MockMarketplace>, MockError> {
        MockMarketplace::new(Recording::open(dir)?)
    }

    /// Reads every body and checks every exchange now, so that a missing body file or a bad
    /// status or header fails here, naming it, rather than in the middle of a sync.
    pub fn new(recording: Recording) -> Result<Arc<MockMarketplace>, MockError> {
        let index = recording.dir.join("index.jsonl");
        let tiktok = tiktok::TikTok::new(&recording)?;
        let mut recorded: HashMap<RequestKey, Vec<Answer>> = HashMap::new();
        // By id: a record recorded again later replaces the earlier version.
        let mut products: HashMap<String, Value> = HashMap::new();
        let mut orders: HashMap<String, Value> = HashMap::new();
        for ex in &recording.exchanges {
            let bad = |reason: ExchangeError| MockError::Exchange {
                index: index.clone(),
                seq: ex.seq,
                reason,
            };
            let body = recording.body(ex)?;
            let url = recorded_url(&ex.url).map_err(|e| bad(ExchangeError::Url(ex.url.clone(), e)))?;
            let key = RequestKey::new(&ex.method, url.path(), url.query().unwrap_or(""));
            if ex.status == 200 && key.method == "GET" {
                let body = body.as_deref().unwrap_or("");
                if key.path.ends_with("/product/info") {
                    for product in page_data(ex.seq, body) {
                        match field(&product, &["basic", "productID"]).and_then(id_text) {
                            Some(id) => {
                                products.insert(id, product);
                            }
                            None => tracing::warn!(
                                seq = ex.seq,
                                "a product without basic.productID is left out of the fallback"
                            ),
                        }
                    }
                } else if key.path.ends_with("/order/list") {
                    for order in page_data(ex.seq, body) {
                        match field(&order, &["order_id"]).and_then(id_text) {
                            Some(id) => {
                                orders.insert(id, order);
                            }
                            None => {
                                tracing::warn!(
                                    seq = ex.seq,
                                    "an order without order_id is left out of the fallback"
                                )
                            }
                        }
                    }
                }
            }
            recorded
                .entry(key)
                .or_default()
                .push(Answer::recorded(ex, body).map_err(bad)?);
        }

        let mut products: Vec<(i64, String, Value)> = products
            .into_iter()
            .map(|(id, p)| (product_update_time(&p), id, p))
            .collect();
        products.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let mut orders: Vec<(i64, String, Value)> = orders
            .into_iter()
            .filter_map(|(id, o)| match field(&o, &["create_time"]).and_then(integer) {
                Some(t) => Some((t, id, o)),
                None => {
                    tracing::warn!(order = %id, "an order without create_time is left out of the fallback");
                    None
                }
            })
            .collect();
        orders.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));

        Ok(Arc::new(MockMarketplace {
            recorded,
            products: products.into_iter().map(|(_, _, p)| p).collect(),
            orders: orders.into_iter().map(|(t, _, o)| (t, o)).collect(),
            token_lifetime_secs: AtomicU64::new(DEFAULT_TOKEN_LIFETIME_SECS),
            tiktok,
            state: Mutex::new(State::default()),
        }))
    }

    /// Tokens issued from now on live `secs` seconds (and say so in `expires_in`).
    pub fn set_token_lifetime(&self, secs: u64) {
        self.token_lifetime_secs.store(secs, Ordering::Relaxed);
    }

    /// The TikTok Shop side: its app and tokens are set there.
    pub fn tiktok(&self) -> &tiktok::TikTok {
        &self.tiktok
    }

    /// Requests served so far, in order.
    pub fn requests(&self) -> Vec<Served> {
        self.state().log.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every await-free step, so a panic elsewhere leaves it usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn handle(&self, request: Request) -> Response<Bytes> {
        let answer = self.answer(&request);
        if !answer.delay.is_zero() {
            tokio::time::sleep(answer.delay).await;
        }
        // A token refresh carries the app secret in its query: never logged as is.
        let target = if request.query.is_empty() {
            request.path
        } else {
            let shown =
                crate::sync::http::without_secrets(&format!("http://mock{}?{}", request.path, request.query));
            shown.strip_prefix("http://mock").unwrap_or(&shown).to_string()
        };
        tracing::info!(
            method = %request.method,
            path = %target,
            status = answer.status.as_u16(),
            seq = ?answer.seq,
            "mock marketplace answered"
        );
        self.state().log.push(Served {
            method: request.method.to_string(),
            target,
            status: answer.status.as_u16(),
            seq: answer.seq,
        });
        answer.into_response()
    }

    fn answer(&self, request: &Request) -> Answer {
        let lifetime = self.token_lifetime_secs.load(Ordering::Relaxed);
        if let Some(answer) = self.tiktok.answer(request, lifetime) {
            return answer;
        }
        let key = RequestKey::new(request.method.as_str(), &request.path, &request.query);
        if request.method == Method::POST && request.path.ends_with("/token") {
            return self.answer_token(&key, request.authorization.as_deref());
        }
        if let Err(refusal) = self.check_bearer(request.authorization.as_deref()) {
            return refusal;
        }
        if let Some(answer) = self.next_recorded(&key) {
            return answer;
        }
        if key.method == "GET" && key.path.ends_with("/product/info") {
            return self.product_page(&key);
        }
        if key.method == "GET" && key.path.ends_with("/order/list") {
            return self.order_page(&key);
        }
        Answer::refusal(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!(
                "no recorded exchange for {} {}, and the mock pages only GET …/product/info and GET …/order/list by itself",
                key.method, request.path
            ),
        )
    }

    fn answer_token(&self, key: &RequestKey, authorization: Option<&str>) -> Answer {
        const HOW: &str = "send `Authorization: Basic base64(client_id:client_secret)`";
        match authorization.map(split_scheme) {
            None => {
                return Answer::unauthorized(format!("the token request has no Authorization header: {HOW}"))
            }
            Some((scheme, credentials)) => {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(credentials)
                    .unwrap_or_default();
                if !scheme.eq_ignore_ascii_case("basic") || !decoded.contains(&b':') {
                    return Answer::unauthorized(format!(
                        "the token request's Authorization is not Basic client_id:client_secret (scheme {scheme:?}): {HOW}"
                    ));
                }
            }
        }
        match self.next_recorded(key) {
            Some(scripted) if scripted.status != StatusCode::OK => scripted,
            _ => self.issue_token(),
        }
    }

    fn issue_token(&self) -> Answer {
        let lifetime = self.token_lifetime_secs.load(Ordering::Relaxed);
        let mut state = self.state();
        state.issued += 1;
        let token = format!("mock-{}", state.issued);
        let expires = Instant::now().checked_add(Duration::from_secs(lifetime));
        state.tokens.insert(token.clone(), expires);
        Answer::json(
            StatusCode::OK,
            &json!({"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}),
        )
    }

    fn check_bearer(&self, authorization: Option<&str>) -> Result<(), Answer> {
        const HOW: &str = "get a token from POST …/token and send `Authorization: Bearer <token>`";
        let Some((scheme, token)) = authorization.map(split_scheme) else {
            return Err(Answer::unauthorized(format!("no Authorization header: {HOW}")));
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Answer::unauthorized(format!(
                "Authorization must be `Bearer <token>`, found scheme {scheme:?}: {HOW}"
            )));
        }
        match self.state().tokens.get(token) {
            None => Err(Answer::unauthorized(format!(
                "token {token:?} was not issued by this mock marketplace: {HOW}"
            ))),
            Some(Some(expires)) if Instant::now() >= *expires => Err(Answer::unauthorized(format!(
                "token {token:?} expired: get a new one from POST …/token"
            ))),
            Some(_) => Ok(()),
        }
    }

    /// The first recorded answer to `key` not yet served, else the last one again.
    fn next_recorded(&self, key: &RequestKey) -> Option<Answer> {
        next_answer(&self.recorded, &mut self.state().served_per_key, key)
    }

    /// GET …/product/info: all recorded products, newest update first (`sort=2`; other sorts
    /// are answered the same way), paged.
    fn product_page(&self, key: &RequestKey) -> Answer {
        match page_bounds(key, MAX_PRODUCTS_PER_PAGE, "products") {
            Ok((skip, take)) => Answer::page(
                &self
                    .products
                    .iter()
                    .skip(skip)
                    .take(take)
                    .cloned()
                    .collect::<Vec<_>>(),
            ),
            Err(refusal) => refusal,
        }
    }

    /// GET …/order/list: the recorded orders with `from_date ≤ create_time < to_date`,
    /// oldest first, paged.
    fn order_page(&self, key: &RequestKey) -> Answer {
        let (from, to) = match (unix_param(key, "from_date"), unix_param(key, "to_date")) {
            (Ok(from), Ok(to)) => (from, to),
            (Err(refusal), _) | (_, Err(refusal)) => return refusal,
        };
        if to < from {
            return Answer::bad_request(format!("to_date={to} is before from_date={from}"));
        }
        if to - from > MAX_ORDER_WINDOW_SECS {
            return Answer::bad_request(format!(
                "the window to_date - from_date = {} s is longer than 3 days ({MAX_ORDER_WINDOW_SECS} s): walk a longer period in windows",
                to - from
            ));
        }
        let (skip, take) = match page_bounds(key, MAX_ORDERS_PER_PAGE, "orders") {
            Ok(bounds) => bounds,
            Err(refusal) => return refusal,
        };
        let start = self.orders.partition_point(|(t, _)| *t < from);
        let end = self.orders.partition_point(|(t, _)| *t < to);
        let page: Vec<Value> = self.orders[start..end]
            .iter()
            .skip(skip)
            .take(take)
            .map(|(_, o)| o.clone())
            .collect();
        Answer::page(&page)
    }
}

/// Serves `mock` on `listener` until `shutdown` resolves.
pub async fn serve(
    mock: Arc<MockMarketplace>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        products = mock.products.len(),
        orders = mock.orders.len(),
        tiktok_products = mock.tiktok.counts().0,
        tiktok_orders = mock.tiktok.counts().1,
        "mock marketplace listening"
    );
    warp::serve(routes(mock))
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
    tracing::info!(%addr, "mock marketplace stopped");
    Ok(())
}

/// Any method, any path: which endpoint a request is for is the recording's to say, so there
/// is one catch-all filter rather than one per endpoint, and it never rejects.
fn routes(
    mock: Arc<MockMarketplace>,
) -> impl Filter<Extract = (Response<Bytes>,), Error = Infallible> + Clone + Send + Sync + 'static {
    warp::method()
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::headers_cloned())
        .and(
            warp::body::content_length_limit(MAX_REQUEST_BODY)
                .and(warp::body::bytes())
                .or(warp::any().map(Bytes::new))
                .unify(),
        )
        .then(
            move |method: Method,
                  path: warp::path::FullPath,
                  query: String,
                  headers: HeaderMap,
                  body: Bytes| {
                let mock = mock.clone();
                async move {
                    let text = |name: &str| {
                        headers
                            .get(name)
                            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    };
                    let request = Request {
                        method,
                        path: path.as_str().to_string(),
                        query,
                        authorization: text(header::AUTHORIZATION.as_str()),
                        tts_token: text(crate::sync::tiktok_shop::ACCESS_TOKEN_HEADER),
                        body,
                    };
                    mock.handle(request).await
                }
            },
        )
}

/// `Scheme credentials` → (scheme, credentials).
fn split_scheme(value: &str) -> (&str, &str) {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) => (scheme, rest.trim()),
        None => (value, ""),
    }
}

/// A recorded URL: absolute as recorded, or a bare path in a hand-written recording.
fn recorded_url(url: &str) -> Result<url::Url, url::ParseError> {
    let base = url::Url::parse("http://recording.invalid/").expect("a valid base URL");
    url::Url::options().base_url(Some(&base)).parse(url)
}

/// The records of a recorded page. A body that is not a page (a truncated body scripted as a
/// fault, say) gives none: it is still played to a request that matches it exactly.
fn page_data(seq: u64, body: &str) -> Vec<Value> {
    let value: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(
                seq,
                "body is not JSON ({e}); its records are left out of the fallback"
            );
            return Vec::new();
        }
    };
    match field(&value, &["data"]) {
        Some(Value::Array(records)) => records.clone(),
        _ => Vec::new(),
    }
}

/// The value at `path`, matching keys without regard to case (docs/feeds.md: marketplace API: `name`, `Name`).
fn field<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |cur, key| {
        cur.as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// An id as text, from a number or a string (ids may exceed 2^53).
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The later of `basic.updateTimeUnix` and `price.LastUpdateUnix` (docs/feeds.md: marketplace API).
fn product_update_time(product: &Value) -> i64 {
    [&["basic", "updateTimeUnix"][..], &["price", "LastUpdateUnix"][..]]
        .iter()
        .filter_map(|path| field(product, path).and_then(integer))
        .max()
        .unwrap_or(0)
}

/// (records to skip, records to take) for the `page`/`per_page` of a request.
fn page_bounds(key: &RequestKey, max_per_page: u64, what: &str) -> Result<(usize, usize), Answer> {
    let per_page = count_param(key, "per_page", max_per_page)?;
    if per_page == 0 || per_page > max_per_page {
        return Err(Answer::bad_request(format!(
            "per_page={per_page} is out of range: a page holds 1 to {max_per_page} {what}"
        )));
    }
    let page = count_param(key, "page", 1)?;
    if page == 0 {
        return Err(Answer::bad_request(
            "page=0 is out of range: pages are numbered from 1",
        ));
    }
    let skip = (page - 1).saturating_mul(per_page);
    Ok((usize::try_from(skip).unwrap_or(usize::MAX), per_page as usize))
}

fn count_param(key: &RequestKey, name: &str, default: u64) -> Result<u64, Answer> {
    match key.param(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| Answer::bad_request(format!("{name}={text:?} should be a whole number"))),
    }
}

fn unix_param(key: &RequestKey, name: &str) -> Result<i64, Answer> {
    let text = key
        .param(name)
        .ok_or_else(|| Answer::bad_request(format!("{name} is required: a Unix time in seconds")))?;
    text.trim()
        .parse()
        .map_err(|_| Answer::bad_request(format!("{name}={text:?} should be a Unix time in seconds")))
}

/// The first of `recorded[key]` that `served` has not counted yet, else the last one again
/// (so a fault scripted before a good answer is played once, the good answer from then on).
fn next_answer<K: std::hash::Hash + Eq + Clone>(
    recorded: &HashMap<K, Vec<Answer>>,
    served: &mut HashMap<K, usize>,
    key: &K,
) -> Option<Answer> {
    let answers = recorded.get(key)?;
    let served = served.entry(key.clone()).or_insert(0);
    let answer = answers[(*served).min(answers.len() - 1)].clone();
    if *served < answers.len() {
        *served += 1;
    }
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;

    /// The mock on a free port of 127.0.0.1, with a client.
    struct Running {
        mock: Arc<MockMarketplace>,
        base: String,
        client: reqwest::Client,
        stop: oneshot::Sender<()>,
        task: JoinHandle<std::io::Result<()>>,
    }

    impl Running {
        async fn start(mock: Arc<MockMarketplace>) -> Running {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let (stop, stopped) = oneshot::channel::<()>();
            let task = tokio::spawn(serve(mock.clone(), listener, async {
                let _ = stopped.await;
            }));
            Running {
                mock,
                base,
                client: reqwest::Client::new(),
                stop,
                task,
            }
        }

        async fn token(&self) -> String {
            let answer: Value = self
                .client
                .post(format!("{}/token?grant_type=client_credentials", self.base))
                .basic_auth("client", Some("secret"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            answer["access_token"].as_str().unwrap().to_string()
        }

        async fn get(&self, target: &str, token: &str) -> reqwest::Response {
            self.client
                .get(format!("{}{target}", self.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }

        /// The status and the parsed body of a GET.
        async fn get_json(&self, target: &str, token: &str) -> (u16, Value) {
            let response = self.get(target, token).await;
            let status = response.status().as_u16();
            (status, response.json().await.unwrap())
        }

        async fn stop(self) {
            drop(self.client);
            self.stop.send(()).unwrap();
            self.task.await.unwrap().unwrap();
        }
    }

    /// Writes a recording: `exchanges` as `index.jsonl` lines (seq and at filled in), `bodies`
    /// as files.
    fn write_recording(dir: &Path, exchanges: &[Value], bodies: &[(&str, String)]) -> Recording {
        let lines: Vec<String> = exchanges
            .iter()
            .enumerate()
            .map(|(i, ex)| {
                let mut ex = ex.clone();
                ex["seq"] = json!(i + 1);
                ex["at"] = json!("2026-11-01T00:00:00Z");
                ex.to_string()
            })
            .collect();
        std::fs::write(dir.join("index.jsonl"), lines.join("\n")).unwrap();
        for (name, body) in bodies {
            std::fs::write(dir.join(name), body).unwrap();
        }
        Recording::open(dir).unwrap()
    }

    fn envelope(data: Value) -> String {
        json!({
            "header": {"process_time": 0.02, "messages": "", "reason": "", "error_code": ""},
            "data": data,
        })
        .to_string()
    }

    fn token_exchange() -> Value {
        json!({
            "method": "POST",
            "url": "https://accounts.example/token?grant_type=client_credentials",
            "status": 200,
            "body": null,
        })
    }

    fn reason(answer: &Value) -> &str {
        answer["header"]["reason"].as_str().unwrap()
    }

    fn ids(answer: &Value, key: &[&str]) -> Vec<String> {
        answer["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| field(r, key).and_then(id_text).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn a_request_is_answered_by_its_recorded_exchanges_in_order_then_the_last_again() {
        let dir = tempfile::tempdir().unwrap();
        let url = "https://fs.example/v2/order/list?from_date=10&to_date=20&page=1";
        let ok_body = envelope(json!([{"order_id": 1, "create_time": 15}]));
        let recording = write_recording(
            dir.path(),
            &[
                token_exchange(),
                json!({"method": "GET", "url": url, "status": 429,
                       "headers": {"retry-after": "2", "content-type": "application/json"}, "body": "0002.json"}),
                json!({"method": "GET", "url": url, "status": 200,
                       "headers": {"content-type": "application/json"}, "body": "0003.json"}),
            ],
            &[
                ("0002.json", envelope(Value::Null)),
                ("0003.json", ok_body.clone()),
            ],
        );
        let server = Running::start(MockMarketplace::new(recording).unwrap()).await;
        let token = server.token().await;
        // The query in another order, on another host: the same request.
        let target = "/v2/order/list?page=1&to_date=20&from_date=10";

        let first = server.get(target, &token).await;
        assert_eq!(first.status(), 429);
        assert_eq!(first.headers()["retry-after"], "2");
        for _ in 0..2 {
            let again = server.get(target, &token).await;
            assert_eq!(again.status(), 200);
            assert_eq!(again.text().await.unwrap(), ok_body);
        }

        let served: Vec<(String, u16, Option<u64>)> = server
            .mock
            .requests()
            .into_iter()
            .map(|s| (s.method, s.status, s.seq))
            .collect();
        let get = || "GET".to_string();
        assert_eq!(
            served,
            vec![
                ("POST".to_string(), 200, None),
                (get(), 429, Some(2)),
                (get(), 200, Some(3)),
                (get(), 200, Some(3))
            ]
        );
        assert_eq!(server.mock.requests()[1].target, target);
        server.stop().await;
    }

    #[tokio::test]
    async fn a_recorded_delay_holds_the_answer_back_and_is_not_sent() {
        let dir = tempfile::tempdir().unwrap();
        let recording = write_recording(
            dir.path(),
            &[
                token_exchange(),
                json!({"method": "GET", "url": "/slow", "status": 200,
                       "headers": {DELAY_HEADER: "300", "x-ratelimit-remaining": "9"}, "body": "slow.json"}),
            ],
            &[("slow.json", envelope(json!([])))],
        );
        let server = Running::start(MockMarketplace::new(recording).unwrap()).await;
        let token = server.token().await;
        let started = Instant::now();
        let response = server.get("/slow", &token).await;
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(response.status(), 200);
        assert!(response.headers().get(DELAY_HEADER).is_none());
        assert_eq!(response.headers()["x-ratelimit-remaining"], "9");
        server.stop().await;
    }

    #[tokio::test]
    async fn tokens_are_issued_for_basic_credentials_and_required_on_every_other_request() {
        let dir = tempfile::tempdir().unwrap();
        let recording = write_recording(
            dir.path(),
            &[json!({"method": "GET", "url": "/ping", "status": 200, "body": "ping.json"})],
            &[("ping.json", envelope(json!([])))],
        );
        let server = Running::start(MockMarketplace::new(recording).unwrap()).await;

        let no_basic = server
            .client
            .post(format!("{}/token", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(no_basic.status(), 401);
        let no_basic: Value = no_basic.json().await.unwrap();
        assert!(reason(&no_basic).contains("Basic"), "{no_basic}");
        assert!(no_basic["data"].is_null());

        let issued: Value = server
            .client
            .post(format!(
                "{}/oauth/token?grant_type=client_credentials",
                server.base
            ))
            .basic_auth("client", Some("secret"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            issued,
            json!({"access_token": "mock-1", "expires_in": 3600, "token_type": "Bearer"})
        );
        assert_eq!(server.token().await, "mock-2");

        let without = server
            .client
            .get(format!("{}/ping", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(without.status(), 401);
        let without: Value = without.json().await.unwrap();
        assert!(reason(&without).contains("no Authorization"), "{without}");

        let (status, unknown) = server.get_json("/ping", "forged").await;
        assert_eq!(status, 401);
        assert!(
            reason(&unknown).contains("\"forged\" was not issued"),
            "{unknown}"
        );

        assert_eq!(server.get("/ping", "mock-1").await.status(), 200);
        server.stop().await;
    }

    #[tokio::test]
    async fn an_expired_token_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let recording = write_recording(
            dir.path(),
            &[json!({"method": "GET", "url": "/ping", "status": 200, "body": "ping.json"})],
            &[("ping.json", envelope(json!([])))],
        );
        let mock = MockMarketplace::new(recording).unwrap();
        mock.set_token_lifetime(1);
        let server = Running::start(mock).await;
        let token = server.token().await;
        assert_eq!(server.get("/ping", &token).await.status(), 200);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (status, expired) = server.get_json("/ping", &token).await;
        assert_eq!(status, 401);
        assert!(reason(&expired).contains("expired"), "{expired}");
        server.stop().await;
    }

    #[tokio::test]
    async fn a_scripted_token_failure_is_played_then_tokens_are_issued() {
        let dir = tempfile::tempdir().unwrap();
        let mut refused = token_exchange();
        refused["status"] = json!(401);
        refused["body"] = json!("refused.json");
        let refused_body = json!({
            "header": {"process_time": 0, "messages": "", "reason": "invalid client", "error_code": "AUTH"},
            "data": null,
        })
        .to_string();
        let recording = write_recording(
            dir.path(),
            &[refused, token_exchange()],
            &[("refused.json", refused_body.clone())],
        );
        let server = Running::start(MockMarketplace::new(recording).unwrap()).await;
        let post = || {
            server
                .client
                .post(format!("{}/token?grant_type=client_credentials", server.base))
                .basic_auth("client", Some("secret"))
                .send()
        };
        let first = post().await.unwrap();
        assert_eq!(first.status(), 401);
        assert_eq!(first.text().await.unwrap(), refused_body);
        let second: Value = post().await.unwrap().json().await.unwrap();
        assert_eq!(second["access_token"], "mock-1");
        server.stop().await;
    }

    /// Products over two recorded pages, one product recorded twice with other key casing,
    /// a 429 page and a truncated page that hold no usable products; orders over two
    /// windows, one recorded twice with a later status.
    fn fallback_recording(dir: &Path) -> Recording {
        let product = |id: Value, name: &str, updated: i64, price_updated: i64| {
            json!({"basic": {"productID": id, "name": name, "updateTimeUnix": updated},
                   "price": {"value": 10000, "LastUpdateUnix": price_updated}})
        };
        let page1 = envelope(json!([
            product(json!(101), "A old", 1000, 1000),
            product(json!("102"), "B", 900, 2500),
            product(json!(103), "C", 2000, 0),
        ]));
        let a_new = json!({"Basic": {"ProductID": 101, "Name": "A new", "UpdateTimeUnix": 3000}});
        let page2 = envelope(json!([a_new, product(json!(104), "D", 100, 100)]));
        let throttled = envelope(json!([product(json!(105), "E", 9000, 9000)]));
        let order = |id: Value, created: i64, status: i64| json!({"order_id": id, "create_time": created, "order_status": status});
        let window1 = envelope(json!([
            order(json!(1), 10, 220),
            order(json!(2), 50, 700),
            order(json!(3), 100, 700)
        ]));
        let window2 = envelope(json!([
            order(json!(1), 10, 700),
            order(json!(4), 150, 700),
            order(json!("5"), 99, 700)
        ]));
        let products_url = |page: u32| {
            format!(
                "https://fs.example/inventory/v1/fs/1/product/info?shop_id=7&page={page}&per_page=50&sort=2"
            )
        };
        let orders_url = |from: i64, to: i64| {
            format!("https://fs.example/v2/order/list?fs_id=1&shop_id=7&from_date={from}&to_date={to}&page=1&per_page=100")
        };
        write_recording(
            dir,
            &[
                token_exchange(),
                json!({"method": "GET", "url": products_url(1), "status": 200, "body": "p1.json"}),
                json!({"method": "GET", "url": products_url(2), "status": 200, "body": "p2.json"}),
                json!({"method": "GET", "url": products_url(3), "status": 429, "body": "p3.json"}),
                json!({"method": "GET", "url": products_url(3), "status": 200, "body": "truncated.json"}),
                json!({"method": "GET", "url": orders_url(0, 100), "status": 200, "body": "o1.json"}),
                json!({"method": "GET", "url": orders_url(100, 200), "status": 200, "body": "o2.json"}),
            ],
            &[
                ("p1.json", page1),
                ("p2.json", page2),
                ("p3.json", throttled),
                (
                    "truncated.json",
                    r#"{"header":{},"data":[{"basic":{"productID":106"#.to_string(),
                ),
                ("o1.json", window1),
                ("o2.json", window2),
            ],
        )
    }

    #[tokio::test]
    async fn products_asked_otherwise_than_recorded_are_paged_from_all_recorded_products_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let server = Running::start(MockMarketplace::new(fallback_recording(dir.path())).unwrap()).await;
        let token = server.token().await;
        let path = "/inventory/v1/fs/1/product/info?shop_id=7&sort=2&per_page=3";

        let (status, first) = server.get_json(&format!("{path}&page=1"), &token).await;
        assert_eq!(status, 200);
        assert_eq!(ids(&first, &["basic", "productID"]), ["101", "102", "103"]);
        assert_eq!(
            field(&first["data"][0], &["basic", "name"]),
            Some(&json!("A new"))
        );
        let (_, second) = server.get_json(&format!("{path}&page=2"), &token).await;
        assert_eq!(ids(&second, &["basic", "productID"]), ["104"]);
        let (_, beyond) = server.get_json(&format!("{path}&page=3"), &token).await;
        assert_eq!(beyond["data"], json!([]));

        assert!(server.mock.requests().iter().all(|s| s.seq.is_none()));
        server.stop().await;
    }

    #[tokio::test]
    async fn orders_asked_otherwise_than_recorded_are_those_created_in_the_window_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let server = Running::start(MockMarketplace::new(fallback_recording(dir.path())).unwrap()).await;
        let token = server.token().await;
        let path = "/v2/order/list?fs_id=1&shop_id=7&from_date=10&to_date=100&per_page=2";

        let (status, first) = server.get_json(&format!("{path}&page=1"), &token).await;
        assert_eq!(status, 200);
        assert_eq!(ids(&first, &["order_id"]), ["1", "2"]);
        assert_eq!(
            first["data"][0]["order_status"], 700,
            "the later recorded version wins"
        );
        let (_, second) = server.get_json(&format!("{path}&page=2"), &token).await;
        assert_eq!(
            ids(&second, &["order_id"]),
            ["5"],
            "create_time = to_date is outside"
        );
        let (_, at_the_end) = server
            .get_json(
                "/v2/order/list?from_date=100&to_date=101&page=1&per_page=100",
                &token,
            )
            .await;
        assert_eq!(
            ids(&at_the_end, &["order_id"]),
            ["3"],
            "create_time = from_date is inside"
        );
        server.stop().await;
    }

    #[tokio::test]
    async fn a_page_larger_than_the_api_allows_or_a_window_over_three_days_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let server = Running::start(MockMarketplace::new(fallback_recording(dir.path())).unwrap()).await;
        let token = server.token().await;

        let (status, products) = server
            .get_json("/inventory/v1/fs/1/product/info?page=1&per_page=51", &token)
            .await;
        assert_eq!(status, 400);
        assert!(reason(&products).contains("per_page=51"), "{products}");
        let (status, orders) = server
            .get_json(
                "/v2/order/list?from_date=0&to_date=10&page=1&per_page=101",
                &token,
            )
            .await;
        assert_eq!(status, 400);
        assert!(reason(&orders).contains("per_page=101"), "{orders}");
        let (status, window) = server
            .get_json(
                "/v2/order/list?from_date=0&to_date=259201&page=1&per_page=100",
                &token,
            )
            .await;
        assert_eq!(status, 400);
        assert!(reason(&window).contains("3 days"), "{window}");
        let (status, _) = server
            .get_json(
                "/v2/order/list?from_date=1&to_date=259201&page=1&per_page=100",
                &token,
            )
            .await;
        assert_eq!(status, 200, "exactly 3 days is allowed");
        server.stop().await;
    }

    #[tokio::test]
    async fn an_unknown_endpoint_is_404_naming_method_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let server = Running::start(MockMarketplace::new(fallback_recording(dir.path())).unwrap()).await;
        let token = server.token().await;
        let (status, answer) = server.get_json("/v1/shop/info?shop_id=7", &token).await;
        assert_eq!(status, 404);
        assert!(reason(&answer).contains("GET /v1/shop/info"), "{answer}");
        server.stop().await;
    }

    #[test]
    fn a_missing_body_file_fails_at_start_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("index.jsonl"),
            r#"{"seq":1,"method":"GET","url":"/x","status":200,"body":"0001.json","at":"2026-11-01T00:00:00Z"}"#,
        )
        .unwrap();
        let err = MockMarketplace::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("0001.json"), "{err}");
    }

    #[test]
    fn a_bad_delay_header_fails_at_start_naming_the_exchange() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("index.jsonl"),
            r#"{"seq":7,"method":"GET","url":"/x","status":200,"headers":{"x-laris-mock-delay-ms":"soon"},"at":"2026-11-01T00:00:00Z"}"#,
        )
        .unwrap();
        let err = MockMarketplace::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("seq 7") && err.contains("soon"), "{err}");
    }

    #[tokio::test]
    async fn the_demo_recording_walked_on_another_clock_yields_all_10_products_and_600_orders() {
        // The demo's period (examples/gen_demo_shop.rs): 2026-05-01 to 2026-11-01 WIB.
        const PERIOD_START: i64 = 1_777_568_400;
        const PERIOD_END: i64 = 1_793_466_000;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/lengkuas/recording");
        let server = Running::start(MockMarketplace::open(&dir).unwrap()).await;
        let token = server.token().await;

        // Pages and windows that the recording does not hold, so the fallback answers.
        let mut products = std::collections::BTreeSet::new();
        for page in 1.. {
            let target =
                format!("/inventory/v1/fs/15001/product/info?shop_id=479573&page={page}&per_page=3&sort=2");
            let (status, answer) = server.get_json(&target, &token).await;
            assert_eq!(status, 200, "{answer}");
            let got = ids(&answer, &["basic", "productID"]);
            products.extend(got.iter().cloned());
            if got.len() < 3 {
                break;
            }
        }
        assert_eq!(products.len(), 10);

        let mut orders = std::collections::BTreeSet::new();
        let mut from = PERIOD_START - 43_200;
        while from < PERIOD_END {
            let to = from + MAX_ORDER_WINDOW_SECS;
            for page in 1.. {
                let target = format!(
                    "/v2/order/list?fs_id=15001&shop_id=479573&from_date={from}&to_date={to}&page={page}&per_page=5"
                );
                let (status, answer) = server.get_json(&target, &token).await;
                assert_eq!(status, 200, "{answer}");
                let got = ids(&answer, &["order_id"]);
                orders.extend(got.iter().cloned());
                if got.len() < 5 {
                    break;
                }
            }
            from = to;
        }
        assert_eq!(orders.len(), 600);
        let requests = server.mock.requests();
        assert!(requests.iter().all(|s| s.seq.is_none() && s.status == 200));
        server.stop().await;
    }
}
