//! The TikTok Shop side of `laris mock-marketplace` (docs/tiktok-shop.md): the product and
//! order searches and the token refresh, answered from a recording of a `tiktok_shop` sync
//! so that a laris can be synced from it as from TikTok, and fail as it would live.
//!
//! How a request is answered:
//!
//! 1. `GET /api/v2/token/refresh` needs the mock's app key and secret and a refresh token it
//!    knows; a recorded refresh that is not 200 is played first (a scripted failure). It
//!    issues a new access token and, when asked to (`--tiktok-rotate-refresh-token`), a new
//!    refresh token that replaces the old one.
//! 2. A search is checked as TikTok does: `app_key`, a `timestamp` at most 5 minutes from
//!    the mock's clock (else 36009004), the `sign` computed with `sync::tiktok_shop::sign`
//!    over the path, the query and the body as received (else HTTP 401, 106001: a wrong
//!    app secret fails here), and an `x-tts-access-token` the mock issued or was given, not
//!    expired (else HTTP 401, 105002).
//! 3. Exact match: recorded exchanges with the same method, path, query (without `sign`,
//!    `timestamp`, `access_token`, `app_key`) and request body answer in recorded order, the
//!    last one again once all were served, so faults are scripted as for the legacy API.
//! 4. Fallback: pages cut from every product / order of the recording's 200 search pages
//!    (a record recorded again replaces the earlier version) in the body's update-time
//!    window (`update_time_ge ≤ t ≤ update_time_le` for products, `update_time_ge ≤ t <
//!    update_time_lt` for orders), sorted by `sort_field` (`update_time` by default)
//!    ascending unless `sort_order=DESC`, `page_size` 1 to 100, with opaque page tokens and
//!    an empty `next_page_token` on the last page.
//!
//! Errors come in TikTok's envelope `{code, message, request_id, data}`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use warp::http::StatusCode;

use super::{next_answer, recorded_url, Answer, ExchangeError, MockError, Request};
use crate::feeds::tiktok_shop::{order_page, product_page};
use crate::sync::recording::Recording;
use crate::sync::tiktok_shop::sign::sign;
use crate::sync::tiktok_shop::{
    App, ACCESS_TOKEN_HEADER, MAX_PAGE_SIZE, ORDER_SEARCH_PATH, PRODUCT_SEARCH_PATH, TOKEN_REFRESH_PATH,
};

/// The app the mock accepts unless told otherwise (`--tiktok-app-key`, `--tiktok-app-secret`);
/// the demo's `tiktok_shop` source uses them.
pub const DEFAULT_APP_KEY: &str = "laris-demo-app";
pub const DEFAULT_APP_SECRET: &str = "laris-demo-secret";
/// The access and refresh tokens the mock accepts from the start (`--tiktok-access-token`,
/// `--tiktok-refresh-token`).
pub const DEFAULT_ACCESS_TOKEN: &str = "TTP_laris_demo_access";
pub const DEFAULT_REFRESH_TOKEN: &str = "TTP_laris_demo_refresh";
/// TikTok refuses a `timestamp` further than this from its clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// TikTok's codes the mock answers with (docs/tiktok-shop.md: error codes).
const SIGN_INVALID: i64 = 106001;
const TOKEN_INVALID: i64 = 105002;
const REQUEST_FAULT: i64 = 36009004;
/// A parameter out of range (page size, page token, window): TikTok's generic
/// "invalid parameter" class.
const BAD_PARAMETER: i64 = 12019001;

/// What the mock's TikTok side accepts: the app, the tokens given at start and whether a
/// refresh rotates the refresh token.
#[derive(Debug, Clone)]
pub struct TikTokSettings {
    pub app: App,
    pub access_token: String,
    pub refresh_token: String,
    pub rotate_refresh_token: bool,
}

impl Default for TikTokSettings {
    fn default() -> TikTokSettings {
        TikTokSettings {
            app: App {
                key: DEFAULT_APP_KEY.into(),
                secret: DEFAULT_APP_SECRET.into(),
            },
            access_token: DEFAULT_ACCESS_TOKEN.into(),
            refresh_token: DEFAULT_REFRESH_TOKEN.into(),
            rotate_refresh_token: false,
        }
    }
}

/// Which search a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Search {
    Products,
    Orders,
}

impl Search {
    fn of(path: &str) -> Option<Search> {
        match path {
            PRODUCT_SEARCH_PATH => Some(Search::Products),
            ORDER_SEARCH_PATH => Some(Search::Orders),
            _ => None,
        }
    }

    fn list(self) -> &'static str {
        match self {
            Search::Products => "products",
            Search::Orders => "orders",
        }
    }

    /// The body's name of the window's upper bound, and whether it is inclusive.
    fn upper(self) -> (&'static str, bool) {
        match self {
            Search::Products => ("update_time_le", true),
            Search::Orders => ("update_time_lt", false),
        }
    }
}

/// What a TikTok request must share with a recorded one to be answered by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TikTokKey {
    method: String,
    path: String,
    /// Sorted, without the parameters that change on every call.
    query: Vec<(String, String)>,
    body: String,
}

/// Query parameters that differ between two asks of the same page.
const VOLATILE_PARAMS: [&str; 4] = ["sign", "timestamp", "access_token", "app_key"];

impl TikTokKey {
    fn new(method: &str, path: &str, query: &[(String, String)], body: &str) -> TikTokKey {
        let mut query: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| !VOLATILE_PARAMS.contains(&k.as_str()))
            .cloned()
            .collect();
        query.sort();
        TikTokKey {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            query,
            body: body.trim().to_string(),
        }
    }
}

/// One record of the fallback with the times it is windowed and sorted by.
#[derive(Debug, Clone)]
struct Held {
    id: String,
    update_time: i64,
    create_time: i64,
    record: Value,
}

pub struct TikTok {
    settings: Mutex<TikTokSettings>,
    recorded: HashMap<TikTokKey, Vec<Answer>>,
    /// Recorded refreshes that were refused, played in order before tokens are issued.
    refusals: Vec<Answer>,
    /// Every product / order of the recording's 200 search pages, by update time.
    products: Vec<Held>,
    orders: Vec<Held>,
    state: Mutex<State>,
    requests: AtomicU64,
}

#[derive(Default)]
struct State {
    served_per_key: HashMap<TikTokKey, usize>,
    refusals_served: usize,
    /// Access tokens accepted, and when they expire (`None`: never).
    access: HashMap<String, Option<Instant>>,
    refresh: HashSet<String>,
    issued: u64,
}

impl TikTok {
    /// The TikTok exchanges of `recording`, checked and read now.
    pub(super) fn new(recording: &Recording) -> Result<TikTok, MockError> {
        let index = recording.dir.join("index.jsonl");
        let mut recorded: HashMap<TikTokKey, Vec<Answer>> = HashMap::new();
        let mut refusals = Vec::new();
        let mut products: HashMap<String, Held> = HashMap::new();
        let mut orders: HashMap<String, Held> = HashMap::new();
        for ex in &recording.exchanges {
            let bad = |reason: ExchangeError| MockError::Exchange {
                index: index.clone(),
                seq: ex.seq,
                reason,
            };
            let url = recorded_url(&ex.url).map_err(|e| bad(ExchangeError::Url(ex.url.clone(), e)))?;
            let path = url.path().to_string();
            if path == TOKEN_REFRESH_PATH {
                if ex.status != 200 {
                    refusals.push(Answer::recorded(ex, recording.body(ex)?).map_err(bad)?);
                }
                continue;
            }
            let Some(search) = Search::of(&path) else { continue };
            let body = recording.body(ex)?;
            if ex.status == 200 {
                let held = match search {
                    Search::Products => &mut products,
                    Search::Orders => &mut orders,
                };
                for record in page_records(search, ex.seq, body.as_deref().unwrap_or("")) {
                    held.insert(record.id.clone(), record);
                }
            }
            let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            let request_body = recording.request_body(ex)?.unwrap_or_default();
            let key = TikTokKey::new(&ex.method, &path, &query, &request_body);
            recorded
                .entry(key)
                .or_default()
                .push(Answer::recorded(ex, body).map_err(bad)?);
        }
        let settings = TikTokSettings::default();
        let tiktok = TikTok {
            settings: Mutex::new(settings.clone()),
            recorded,
            refusals,
            products: sorted(products),
            orders: sorted(orders),
            state: Mutex::new(State::default()),
            requests: AtomicU64::new(0),
        };
        tiktok.configure(settings);
        Ok(tiktok)
    }

    /// Accepts `settings`' app and tokens from now on; tokens issued before stay valid.
    pub fn configure(&self, settings: TikTokSettings) {
        let mut state = self.state();
        state.access.insert(settings.access_token.clone(), None);
        state.refresh.insert(settings.refresh_token.clone());
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings;
    }

    /// How many products and orders the fallback holds.
    pub fn counts(&self) -> (usize, usize) {
        (self.products.len(), self.orders.len())
    }

    fn settings(&self) -> TikTokSettings {
        self.settings.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The answer to a TikTok request; `None` when `request` is not one (the legacy API's).
    pub(super) fn answer(&self, request: &Request, lifetime_secs: u64) -> Option<Answer> {
        let query: Vec<(String, String)> = url::form_urlencoded::parse(request.query.as_bytes())
            .into_owned()
            .collect();
        if request.path == TOKEN_REFRESH_PATH {
            return Some(self.refresh(&query, lifetime_secs));
        }
        let search = Search::of(&request.path)?;
        let body = String::from_utf8_lossy(&request.body);
        if let Err(refusal) = self.check(&request.path, &query, &body, request.tts_token.as_deref()) {
            return Some(refusal);
        }
        let key = TikTokKey::new(request.method.as_str(), &request.path, &query, &body);
        if let Some(answer) = self.next_recorded(&key) {
            return Some(answer);
        }
        Some(match fallback_page(self.held(search), search, &query, &body) {
            Ok(data) => self.envelope(StatusCode::OK, 0, "Success", data),
            Err(message) => self.envelope(StatusCode::BAD_REQUEST, BAD_PARAMETER, &message, Value::Null),
        })
    }

    fn held(&self, search: Search) -> &[Held] {
        match search {
            Search::Products => &self.products,
            Search::Orders => &self.orders,
        }
    }

    /// TikTok's checks of a signed call: app key, timestamp, signature, access token.
    fn check(
        &self,
        path: &str,
        query: &[(String, String)],
        body: &str,
        token: Option<&str>,
    ) -> Result<(), Answer> {
        let settings = self.settings();
        let param = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
        let fault = |message: String| {
            Err(self.envelope(StatusCode::BAD_REQUEST, REQUEST_FAULT, &message, Value::Null))
        };
        if param("app_key") != Some(settings.app.key.as_str()) {
            return fault(format!(
                "The 'app_key' query parameter {:?} is invalid: this mock accepts app_key {:?} (--tiktok-app-key)",
                param("app_key").unwrap_or(""),
                settings.app.key
            ));
        }
        let Some(timestamp) = param("timestamp").and_then(|t| t.parse::<i64>().ok()) else {
            return fault(format!(
                "The 'timestamp' query parameter {:?} is missing or not Unix seconds",
                param("timestamp").unwrap_or("")
            ));
        };
        let skew = (chrono::Utc::now().timestamp() - timestamp).abs();
        if skew > MAX_CLOCK_SKEW_SECS {
            return fault(format!(
                "The 'timestamp' query parameter {timestamp} is expired: it is {skew} s from the server's clock, more than {MAX_CLOCK_SKEW_SECS} s; check the client's clock"
            ));
        }
        let expected = sign(&settings.app.secret, path, query, Some(body));
        if param("sign") != Some(expected.as_str()) {
            return Err(self.envelope(
                StatusCode::UNAUTHORIZED,
                SIGN_INVALID,
                "The 'sign' query parameter is invalid: it was not made with this app's app_secret",
                Value::Null,
            ));
        }
        let refused = |message: String| {
            Err(self.envelope(StatusCode::UNAUTHORIZED, TOKEN_INVALID, &message, Value::Null))
        };
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return refused(format!(
                "The {ACCESS_TOKEN_HEADER} header is missing: send the shop's access token"
            ));
        };
        match self.state().access.get(token) {
            None => refused(format!(
                "The access token in {ACCESS_TOKEN_HEADER} is invalid: it was not issued by this mock; refresh it"
            )),
            Some(Some(expires)) if Instant::now() >= *expires => {
                refused("The access token is expired: refresh it".to_string())
            }
            Some(_) => Ok(()),
        }
    }

    /// `GET /api/v2/token/refresh`: a new access token for a known refresh token.
    fn refresh(&self, query: &[(String, String)], lifetime_secs: u64) -> Answer {
        if let Some(scripted) = self.next_refusal() {
            return scripted;
        }
        let settings = self.settings();
        let param = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
        if param("app_key") != Some(settings.app.key.as_str())
            || param("app_secret") != Some(settings.app.secret.as_str())
        {
            return self.envelope(
                StatusCode::UNAUTHORIZED,
                REQUEST_FAULT,
                "app_key or app_secret is invalid: they must be the mock's (--tiktok-app-key, --tiktok-app-secret)",
                Value::Null,
            );
        }
        if param("grant_type") != Some("refresh_token") {
            return self.envelope(
                StatusCode::BAD_REQUEST,
                BAD_PARAMETER,
                &format!(
                    "grant_type {:?} is invalid: send grant_type=refresh_token",
                    param("grant_type").unwrap_or("")
                ),
                Value::Null,
            );
        }
        let old = param("refresh_token").unwrap_or("");
        let mut state = self.state();
        if !state.refresh.contains(old) {
            drop(state);
            return self.envelope(
                StatusCode::UNAUTHORIZED,
                TOKEN_INVALID,
                "refresh_token is invalid or expired: authorise the shop again",
                Value::Null,
            );
        }
        state.issued += 1;
        let n = state.issued;
        let access = format!("TTP_mock_access_{n}");
        state.access.insert(
            access.clone(),
            Instant::now().checked_add(Duration::from_secs(lifetime_secs)),
        );
        let refresh = if settings.rotate_refresh_token {
            let new = format!("TTP_mock_refresh_{n}");
            state.refresh.remove(old);
            state.refresh.insert(new.clone());
            new
        } else {
            old.to_string()
        };
        drop(state);
        let now = chrono::Utc::now().timestamp();
        let data = json!({
            "access_token": access,
            "access_token_expire_in": now + lifetime_secs as i64,
            "refresh_token": refresh,
            "refresh_token_expire_in": now + 365 * 86_400,
            "open_id": "mock-open-id",
            "seller_name": "Laris mock",
        });
        self.envelope(StatusCode::OK, 0, "success", data)
    }

    fn next_refusal(&self) -> Option<Answer> {
        let mut state = self.state();
        let answer = self.refusals.get(state.refusals_served)?.clone();
        state.refusals_served += 1;
        Some(answer)
    }

    /// The first recorded answer to `key` not yet served, else the last one again.
    fn next_recorded(&self, key: &TikTokKey) -> Option<Answer> {
        next_answer(&self.recorded, &mut self.state().served_per_key, key)
    }

    fn envelope(&self, status: StatusCode, code: i64, message: &str, data: Value) -> Answer {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        Answer::json(
            status,
            &json!({"code": code, "message": message, "request_id": format!("MOCK{n:012}"), "data": data}),
        )
    }
}

/// The records of a recorded 200 search page, with their ids and times; a page that does
/// not parse gives none (it is still played to a request that matches it exactly).
fn page_records(search: Search, seq: u64, body: &str) -> Vec<Held> {
    let page = match search {
        Search::Products => product_page(body),
        Search::Orders => order_page(body),
    };
    let records = match page {
        Ok(page) => page.records,
        Err(e) => {
            tracing::warn!(seq, error = %e, "a recorded search page is left out of the fallback");
            return Vec::new();
        }
    };
    records
        .into_iter()
        .filter_map(|record| {
            let id = match record.get("id") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    tracing::warn!(
                        seq,
                        "a recorded {} record without id is left out of the fallback",
                        search.list()
                    );
                    return None;
                }
            };
            let time = |k: &str| record.get(k).and_then(Value::as_i64);
            let create_time = time("create_time").unwrap_or(0);
            let update_time = time("update_time").unwrap_or(create_time);
            Some(Held {
                id,
                update_time,
                create_time,
                record,
            })
        })
        .collect()
}

fn sorted(records: HashMap<String, Held>) -> Vec<Held> {
    let mut records: Vec<Held> = records.into_values().collect();
    records.sort_by(|a, b| a.update_time.cmp(&b.update_time).then_with(|| a.id.cmp(&b.id)));
    records
}

/// A page token: the offset into the search's hits, wrapped so that a client treats it as
/// opaque.
fn page_token(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("laris-mock:{offset}"))
}

fn token_offset(token: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("laris-mock:")?
        .parse()
        .ok()
}

/// A bound of the body's window: absent is no bound; present must be Unix seconds.
fn bound(filter: &Value, name: &str) -> Result<Option<i64>, String> {
    match filter.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .filter(|t| *t >= 0)
            .map(Some)
            .ok_or_else(|| format!("{name} {v} is invalid: send Unix seconds")),
    }
}

/// The `data` of a fallback search page: the held records in the body's window, in the
/// query's order, from the page token's offset.
fn fallback_page(
    held: &[Held],
    search: Search,
    query: &[(String, String)],
    body: &str,
) -> Result<Value, String> {
    let param = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
    let size_text = param("page_size").unwrap_or("");
    let size = size_text
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_PAGE_SIZE as usize).contains(n))
        .ok_or_else(|| format!("page_size {size_text:?} is invalid: send 1 to {MAX_PAGE_SIZE}"))?;
    let offset = match param("page_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => token_offset(t).ok_or_else(|| {
            format!("page_token {t:?} is invalid: send the previous page's next_page_token")
        })?,
    };
    let filter: Value = if body.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(body).map_err(|e| format!("the request body is not JSON ({e})"))?
    };
    let from = bound(&filter, "update_time_ge")?.unwrap_or(i64::MIN);
    let (upper_name, inclusive) = search.upper();
    let to = bound(&filter, upper_name)?;
    let status = filter
        .get("status")
        .and_then(Value::as_str)
        .filter(|s| *s != "ALL" && search == Search::Products);
    let by_create = match param("sort_field") {
        None | Some("update_time") => false,
        Some("create_time") => true,
        Some(other) => {
            return Err(format!(
                "sort_field {other:?} is invalid: send update_time or create_time"
            ))
        }
    };
    let descending = match param("sort_order") {
        None | Some("ASC") => false,
        Some("DESC") => true,
        Some(other) => return Err(format!("sort_order {other:?} is invalid: send ASC or DESC")),
    };
    let mut hits: Vec<&Held> = held
        .iter()
        .filter(|h| h.update_time >= from)
        .filter(|h| match to {
            None => true,
            Some(to) if inclusive => h.update_time <= to,
            Some(to) => h.update_time < to,
        })
        .filter(|h| status.is_none_or(|s| h.record.get("status").and_then(Value::as_str) == Some(s)))
        .collect();
    if by_create {
        hits.sort_by(|a, b| a.create_time.cmp(&b.create_time).then_with(|| a.id.cmp(&b.id)));
    }
    if descending {
        hits.reverse();
    }
    let page: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(size)
        .map(|h| h.record.clone())
        .collect();
    let next = if offset.saturating_add(size) < hits.len() {
        page_token(offset + size)
    } else {
        String::new()
    };
    Ok(json!({search.list(): page, "total_count": hits.len(), "next_page_token": next}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(id: &str, update_time: i64) -> Held {
        Held {
            id: id.into(),
            update_time,
            create_time: 1000 - update_time,
            record: json!({"id": id, "update_time": update_time, "status": if update_time % 20 == 0 { "ACTIVATE" } else { "FREEZE" }}),
        }
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ids(data: &Value, list: &str) -> Vec<String> {
        data[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    }

    fn five() -> Vec<Held> {
        (1..=5).map(|i| held(&format!("r{i}"), i * 10)).collect()
    }

    #[test]
    fn pages_follow_the_next_page_token_until_it_is_empty() {
        let records = five();
        let mut seen = Vec::new();
        let mut token = String::new();
        for _ in 0..10 {
            let query = q(&[("page_size", "2"), ("page_token", &token)]);
            let data = fallback_page(&records, Search::Orders, &query, "{}").unwrap();
            assert_eq!(data["total_count"], 5);
            seen.extend(ids(&data, "orders"));
            token = data["next_page_token"].as_str().unwrap().to_string();
            if token.is_empty() {
                break;
            }
            assert!(
                !token.contains('2') && !token.contains('4'),
                "the token is opaque: {token}"
            );
        }
        assert_eq!(seen, ["r1", "r2", "r3", "r4", "r5"]);
    }

    #[test]
    fn the_product_window_includes_its_upper_bound_and_the_order_window_excludes_it() {
        let records = five();
        let products = fallback_page(
            &records,
            Search::Products,
            &q(&[("page_size", "100")]),
            r#"{"status":"ALL","update_time_ge":20,"update_time_le":40}"#,
        )
        .unwrap();
        assert_eq!(ids(&products, "products"), ["r2", "r3", "r4"]);
        let orders = fallback_page(
            &records,
            Search::Orders,
            &q(&[("page_size", "100")]),
            r#"{"update_time_ge":20,"update_time_lt":40}"#,
        )
        .unwrap();
        assert_eq!(ids(&orders, "orders"), ["r2", "r3"]);
        let active = fallback_page(
            &records,
            Search::Products,
            &q(&[("page_size", "100")]),
            r#"{"status":"ACTIVATE"}"#,
        )
        .unwrap();
        assert_eq!(ids(&active, "products"), ["r2", "r4"]);
    }

    #[test]
    fn create_time_and_descending_orders_are_honoured() {
        let records = five();
        let query = q(&[
            ("page_size", "3"),
            ("sort_field", "create_time"),
            ("sort_order", "DESC"),
        ]);
        let data = fallback_page(&records, Search::Orders, &query, "").unwrap();
        assert_eq!(
            ids(&data, "orders"),
            ["r1", "r2", "r3"],
            "create_time falls as update_time rises"
        );
    }

    #[test]
    fn bad_page_sizes_tokens_windows_and_bodies_are_refused_naming_the_value() {
        let records = five();
        let refuse = |query: &[(&str, &str)], body: &str| {
            fallback_page(&records, Search::Orders, &q(query), body).unwrap_err()
        };
        assert!(refuse(&[("page_size", "101")], "{}").contains("\"101\""));
        assert!(refuse(&[], "{}").contains("page_size"));
        assert!(refuse(&[("page_size", "0")], "{}").contains("1 to 100"));
        assert!(refuse(&[("page_size", "5"), ("page_token", "off-2")], "{}").contains("off-2"));
        assert!(refuse(&[("page_size", "5")], r#"{"update_time_ge":"yesterday"}"#).contains("yesterday"));
        assert!(refuse(&[("page_size", "5")], "{oops").contains("not JSON"));
        assert!(refuse(&[("page_size", "5"), ("sort_field", "price")], "{}").contains("price"));
    }

    fn empty_mock(rotate: bool) -> (TikTok, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.jsonl"), "").unwrap();
        let tiktok = TikTok::new(&Recording::open(dir.path()).unwrap()).unwrap();
        tiktok.configure(TikTokSettings {
            rotate_refresh_token: rotate,
            ..TikTokSettings::default()
        });
        (tiktok, dir)
    }

    fn request(path: &str, query: &[(String, String)], token: Option<&str>, body: &str) -> Request {
        Request {
            method: if path == TOKEN_REFRESH_PATH {
                warp::http::Method::GET
            } else {
                warp::http::Method::POST
            },
            path: path.into(),
            query: url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query)
                .finish(),
            authorization: None,
            tts_token: token.map(str::to_string),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    /// (HTTP status, envelope) of the mock's answer.
    fn ask(tiktok: &TikTok, req: &Request, lifetime: u64) -> (u16, Value) {
        let answer = tiktok.answer(req, lifetime).expect("a TikTok path");
        (
            answer.status.as_u16(),
            serde_json::from_slice(&answer.body).unwrap(),
        )
    }

    fn refresh_query(secret: &str, refresh: &str) -> Vec<(String, String)> {
        q(&[
            ("app_key", DEFAULT_APP_KEY),
            ("app_secret", secret),
            ("refresh_token", refresh),
            ("grant_type", "refresh_token"),
        ])
    }

    fn search(token: &str) -> Request {
        let app = TikTokSettings::default().app;
        let body = r#"{"update_time_ge":0,"update_time_lt":10}"#;
        let query = crate::sync::tiktok_shop::signed_query(
            &app,
            Some("c"),
            ORDER_SEARCH_PATH,
            &q(&[("page_size", "10")]),
            Some(body),
            chrono::Utc::now().timestamp(),
        );
        request(ORDER_SEARCH_PATH, &query, Some(token), body)
    }

    #[test]
    fn a_refresh_issues_a_token_that_opens_the_searches_and_rotation_retires_the_old_refresh_token() {
        let (tiktok, _dir) = empty_mock(true);
        assert_eq!(ask(&tiktok, &search(DEFAULT_ACCESS_TOKEN), 60).0, 200);
        let (status, unknown) = ask(&tiktok, &search("TTP_unknown"), 60);
        assert_eq!(
            (status, unknown["code"].as_i64()),
            (401, Some(105002)),
            "{unknown}"
        );

        let refresh = request(
            TOKEN_REFRESH_PATH,
            &refresh_query(DEFAULT_APP_SECRET, DEFAULT_REFRESH_TOKEN),
            None,
            "",
        );
        let (status, issued) = ask(&tiktok, &refresh, 60);
        assert_eq!((status, issued["code"].as_i64()), (200, Some(0)), "{issued}");
        let access = issued["data"]["access_token"].as_str().unwrap();
        let rotated = issued["data"]["refresh_token"].as_str().unwrap();
        assert_ne!(rotated, DEFAULT_REFRESH_TOKEN);
        assert_eq!(ask(&tiktok, &search(access), 60).0, 200);

        let (status, old) = ask(&tiktok, &refresh, 60);
        assert_eq!(
            (status, old["code"].as_i64()),
            (401, Some(105002)),
            "the old refresh token is retired: {old}"
        );
        let again = request(
            TOKEN_REFRESH_PATH,
            &refresh_query(DEFAULT_APP_SECRET, rotated),
            None,
            "",
        );
        assert_eq!(ask(&tiktok, &again, 60).0, 200);
    }

    #[test]
    fn an_expired_token_and_a_wrong_secret_at_refresh_are_refused() {
        let (tiktok, _dir) = empty_mock(false);
        let refresh = request(
            TOKEN_REFRESH_PATH,
            &refresh_query(DEFAULT_APP_SECRET, DEFAULT_REFRESH_TOKEN),
            None,
            "",
        );
        let (_, issued) = ask(&tiktok, &refresh, 0);
        assert_eq!(
            issued["data"]["refresh_token"], DEFAULT_REFRESH_TOKEN,
            "not rotated unless asked"
        );
        let short_lived = issued["data"]["access_token"].as_str().unwrap();
        let (status, expired) = ask(&tiktok, &search(short_lived), 0);
        assert_eq!(
            (status, expired["code"].as_i64()),
            (401, Some(105002)),
            "{expired}"
        );
        assert!(
            expired["message"].as_str().unwrap().contains("expired"),
            "{expired}"
        );

        let wrong = request(
            TOKEN_REFRESH_PATH,
            &refresh_query("guess", DEFAULT_REFRESH_TOKEN),
            None,
            "",
        );
        let (status, refused) = ask(&tiktok, &wrong, 60);
        assert_eq!(status, 401);
        assert!(
            refused["message"].as_str().unwrap().contains("app_secret"),
            "{refused}"
        );
        assert!(!refused.to_string().contains("guess"), "{refused}");
    }

    #[test]
    fn the_volatile_parameters_are_not_part_of_the_key() {
        let a = TikTokKey::new(
            "post",
            ORDER_SEARCH_PATH,
            &q(&[
                ("page_size", "2"),
                ("sign", "a"),
                ("timestamp", "1"),
                ("app_key", "k"),
                ("shop_cipher", "c"),
            ]),
            "{}",
        );
        let b = TikTokKey::new(
            "POST",
            ORDER_SEARCH_PATH,
            &q(&[
                ("shop_cipher", "c"),
                ("timestamp", "2"),
                ("sign", "b"),
                ("page_size", "2"),
            ]),
            "{}",
        );
        assert_eq!(a, b);
        let other_window = TikTokKey::new(
            "POST",
            ORDER_SEARCH_PATH,
            &q(&[("page_size", "2"), ("shop_cipher", "c")]),
            r#"{"update_time_ge":1}"#,
        );
        assert_ne!(a, other_window);
    }
}
