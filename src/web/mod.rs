//! HTTP: routes, handlers and the one `.recover()` that turns every rejection into a JSON
//! error `{"error": "…"}` with the right status. Handlers only read the store and
//! precomputed models; nothing here computes a model.

pub mod admin;
pub mod events;
pub mod feedback;
pub mod fragments;
pub mod metrics;
pub mod openapi;
pub mod recommendations;
pub mod sync;
pub mod templates;

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use warp::http::{header, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::admin_auth::{Access, CsrfMismatch, Sessions, Unauthenticated};
use crate::config::Settings;
use crate::domain::{ProductId, ShopId};
use crate::records::Product;
use crate::store::Store;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    /// Bearer token for `/admin/api/*` (from config, env, or the data directory).
    pub admin_token: Arc<String>,
    /// Admin sign-in: password hashes, live sessions and the count of wrong passwords.
    pub sessions: Arc<Sessions>,
    /// The data directory, where `laris admin set-password` keeps the password hashes that
    /// each sign-in reads again (a new password works without a restart).
    pub data_dir: Arc<PathBuf>,
    pub templates: Arc<minijinja::Environment<'static>>,
    /// Every shop's current model snapshot, swapped atomically by rebuilds.
    pub models: Arc<crate::rebuild::Models>,
    /// Per-client limit on widget events, so one page cannot flood the store.
    pub event_limiter: Arc<events::RateLimiter>,
    /// Per-client limit on feedback messages, much slower than events: a person writes a
    /// few, a spammer many.
    pub feedback_limiter: Arc<events::RateLimiter>,
    /// Runs syncs (on schedule and on demand), one at a time per shop.
    pub sync: Arc<crate::sync::agent::SyncAgent>,
}

/// A request that cannot be answered, with the status and a message for the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl warp::reject::Reject for ApiError {}

pub fn reject(status: StatusCode, message: impl Into<String>) -> Rejection {
    warp::reject::custom(ApiError {
        status,
        message: message.into(),
    })
}

/// An internal failure: the cause goes to the log, the client gets an opaque 500.
pub fn internal(context: &str, err: impl std::fmt::Display) -> Rejection {
    tracing::error!(%err, "{context}");
    reject(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; the server log has the details",
    )
}

pub(crate) fn with_state(state: AppState) -> impl Filter<Extract = (AppState,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

/// The shop named in a path, known to this service.
pub fn known_shop(state: &AppState, raw: &str) -> Result<ShopId, Rejection> {
    let id = ShopId::parse(raw).map_err(|e| reject(StatusCode::NOT_FOUND, format!("unknown shop: {e}")))?;
    if state.settings.shop(&id).is_none() {
        return Err(reject(
            StatusCode::NOT_FOUND,
            format!("unknown shop {raw:?}: shops are configured as [[shops]] in laris.toml"),
        ));
    }
    Ok(id)
}

fn uncompressed(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let max_body = state.settings.server.max_body_bytes;
    healthz()
        .or(openapi::openapi_json())
        .or(metrics::metrics(state.clone()))
        .or(widget_js())
        .or(demo_page(state.clone()))
        .or(demo_images(state.settings.server.demo_images.clone()))
        .or(products_list(state.clone()))
        .or(product_detail(state.clone()))
        .or(admin_status(state.clone()))
        .or(recommendations::recommendations(state.clone()))
        .or(fragments::batched(state.clone()))
        .or(fragments::single(state.clone()))
        .or(events::events(state.clone()))
        .or(events_preflight(state.clone()))
        .or(feedback::feedback(state.clone()))
        .or(recommendations::admin_recommendations(state.clone()))
        .or(admin_rebuild(state.clone()))
        .or(sync::admin_sync(state.clone()))
        .or(admin_replay(state.clone(), max_body))
        .or(admin::routes(state))
        .recover(handle_rejection)
        .with(warp::log::custom(|info| {
            metrics::count_answer(info.status().as_u16())
        }))
        .with(warp::trace::request())
}

/// Whether the client accepts `encoding` (`br`, `gzip`).
fn accepts(encoding: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("accept-encoding")
        .and_then(move |h: Option<String>| async move {
            let ok = h.is_some_and(|h| {
                h.split(',').any(|part| {
                    let mut it = part.trim().split(';');
                    it.next() == Some(encoding) && it.all(|q| q.trim() != "q=0")
                })
            });
            if ok {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one()
}

/// Every route, answered with brotli or gzip when the client accepts it.
pub fn routes(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let plain = uncompressed(state);
    accepts("br")
        .and(plain.clone())
        .with(warp::compression::brotli())
        .map(with_vary)
        .or(accepts("gzip")
            .and(plain.clone())
            .with(warp::compression::gzip())
            .map(with_vary))
        .unify()
        .or(plain.map(with_vary))
        .unify()
}

fn with_vary<R: Reply>(reply: R) -> Response {
    let mut resp = reply.into_response();
    resp.headers_mut()
        .append(header::VARY, "accept-encoding".parse().unwrap());
    resp
}

/// GET /healthz
fn healthz() -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("healthz")
        .and(warp::get())
        .map(|| warp::reply::json(&serde_json::json!({"status": "ok"})))
}

/// The widget script, compiled into the binary so that `laris` runs from any directory.
pub const WIDGET_JS: &str = include_str!("../../widget/widget.js");

/// The widget's version: a hash of its source, for `?v=` cache busting and the ETag.
pub fn widget_version() -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    WIDGET_JS.hash(&mut h);
    format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
}

/// GET /widget.js[?v=VERSION] — five minutes of cache, or a year (immutable) when the URL
/// carries the current version; `ETag` and `304` either way.
fn widget_js() -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("widget.js")
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::optional::<String>("if-none-match"))
        .map(|q: HashMap<String, String>, inm: Option<String>| {
            let version = widget_version();
            let etag = format!("\"{version}\"");
            let mut resp = if inm.is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
                let mut r = Response::new("".into());
                *r.status_mut() = StatusCode::NOT_MODIFIED;
                r
            } else {
                Response::new(WIDGET_JS.into())
            };
            let cache = if q.get("v") == Some(&version) {
                "public, max-age=31536000, immutable"
            } else {
                "public, max-age=300"
            };
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                "text/javascript; charset=utf-8".parse().unwrap(),
            );
            h.insert(header::CACHE_CONTROL, cache.parse().unwrap());
            h.insert(header::ETAG, etag.parse().unwrap());
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*".parse().unwrap());
            resp
        })
}

#[derive(Deserialize)]
struct DemoQuery {
    product: Option<String>,
}

/// GET /demo[?product=ID] — a shop product page that embeds the widget exactly as a shop
/// owner would (SPEC §6), for the first configured shop.
fn demo_page(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("demo")
        .and(warp::get())
        .and(warp::query::<DemoQuery>())
        .and(with_state(state))
        .and_then(|q: DemoQuery, state: AppState| async move {
            let shop = state.settings.shops.first().ok_or_else(|| {
                reject(
                    StatusCode::NOT_FOUND,
                    "no shop is configured: add a [[shops]] block to laris.toml",
                )
            })?;
            let wanted = q.product.unwrap_or_else(|| "SRD-100".to_string());
            let id = ProductId::parse(&wanted).map_err(|e| reject(StatusCode::BAD_REQUEST, e.to_string()))?;
            let product = state
                .store
                .product(&shop.id, &id)
                .map_err(|e| internal("reading demo product", e))?
                .ok_or_else(|| {
                    reject(
                        StatusCode::NOT_FOUND,
                        format!("unknown product {wanted:?} in shop {}", shop.id),
                    )
                })?;
            let others: Vec<PublicProduct> = state
                .store
                .products(&shop.id)
                .map_err(|e| internal("reading demo products", e))?
                .iter()
                .filter(|p| p.id != product.id)
                .map(PublicProduct::from)
                .collect();
            let html = templates::render(
                &state.templates,
                "demo.html",
                minijinja::context! {
                    shop => minijinja::context! { id => shop.id.as_str(), name => &shop.name },
                    product => minijinja::Value::from(minijinja::value::Serde(PublicProduct::from(&product))),
                    others => minijinja::Value::from(minijinja::value::Serde(&others)),
                },
            )
            .map_err(|e| internal("rendering demo page", e))?;
            Ok::<_, Rejection>(warp::reply::html(html))
        })
}

/// GET /demo/images/{file} — the demo shop's product pictures.
fn demo_images(dir: PathBuf) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("demo" / "images" / ..).and(warp::fs::dir(dir))
}

/// A product as the public may see it: no stock counts beyond availability, nothing personal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PublicProduct {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub price_text: String,
    pub url: Option<String>,
    pub image: Option<String>,
    pub category: Vec<String>,
    pub description: String,
    pub available: bool,
}

impl From<&Product> for PublicProduct {
    fn from(p: &Product) -> Self {
        PublicProduct {
            id: p.id.to_string(),
            name: p.name.clone(),
            price: p.price.0,
            price_text: p.price.to_string(),
            url: p.url.clone(),
            image: p.image.clone(),
            category: p.category.clone(),
            description: p.description.clone(),
            available: p.is_available(),
        }
    }
}

pub(crate) fn parse_limit(raw: Option<&String>, default: usize, max: usize) -> Result<usize, Rejection> {
    match raw {
        None => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(reject(
                StatusCode::BAD_REQUEST,
                format!("limit={s:?} is not valid: use a whole number from 1 to {max}"),
            )),
        },
    }
}

/// GET /v1/shops/{shop}/products[?limit=N] — the shop's available products, public fields.
fn products_list(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / "products")
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state(state))
        .and_then(
            |shop: String, q: HashMap<String, String>, state: AppState| async move {
                let shop = known_shop(&state, &shop)?;
                let limit = parse_limit(q.get("limit"), 50, 500)?;
                let products: Vec<PublicProduct> = state
                    .store
                    .products(&shop)
                    .map_err(|e| internal("listing products", e))?
                    .iter()
                    .filter(|p| p.is_available())
                    .take(limit)
                    .map(PublicProduct::from)
                    .collect();
                Ok::<_, Rejection>(warp::reply::json(
                    &serde_json::json!({"shop": shop, "products": products}),
                ))
            },
        )
}

/// GET /v1/shops/{shop}/products/{id}
fn product_detail(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / "products" / String)
        .and(warp::get())
        .and(with_state(state))
        .and_then(|shop: String, id: String, state: AppState| async move {
            let shop = known_shop(&state, &shop)?;
            let id = percent_decode(&id);
            let pid = ProductId::parse(&id)
                .map_err(|e| reject(StatusCode::NOT_FOUND, format!("unknown product: {e}")))?;
            let product = state
                .store
                .product(&shop, &pid)
                .map_err(|e| internal("reading product", e))?
                .ok_or_else(|| {
                    reject(
                        StatusCode::NOT_FOUND,
                        format!("unknown product {id:?} in shop {shop}"),
                    )
                })?;
            Ok::<_, Rejection>(warp::reply::json(&PublicProduct::from(&product)))
        })
}

pub(crate) fn percent_decode(raw: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Admits `Authorization: Bearer <admin token>` (every shop) or a signed-in session cookie
/// (its user's shops), for reading; 401 otherwise.
pub(crate) fn admin_access(state: &AppState) -> impl Filter<Extract = (Access,), Error = Rejection> + Clone {
    crate::admin_auth::access(state.sessions.clone(), state.admin_token.clone())
}

/// Like [`admin_access`], for calls that change state: a cookie session must also send its
/// CSRF token in `X-CSRF-Token` (403 otherwise).
pub(crate) fn admin_access_csrf(
    state: &AppState,
) -> impl Filter<Extract = (Access,), Error = Rejection> + Clone {
    crate::admin_auth::access_with_csrf(state.sessions.clone(), state.admin_token.clone())
}

/// The shop named in an admin path, known to this service and open to `access`: 403 for
/// another shop's user (whether or not that shop exists), 404 for an unknown shop.
pub fn allowed_shop(state: &AppState, access: &Access, raw: &str) -> Result<ShopId, Rejection> {
    if let Access::Shop(own) = access {
        if own.as_str() != raw {
            return Err(reject(
                StatusCode::FORBIDDEN,
                format!("user {own} may see shop {own} only, not {raw:?}"),
            ));
        }
    }
    known_shop(state, raw)
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
struct StatusQuery {
    shop: Option<String>,
}

/// GET /admin/api/status[?shop=ID] — what `laris status --json` prints; a shop's user sees
/// only that shop.
fn admin_status(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("admin" / "api" / "status")
        .and(warp::get())
        .and(admin_access(&state))
        .and(warp::query::<StatusQuery>())
        .and(with_state(state))
        .and_then(|access: Access, q: StatusQuery, state: AppState| async move {
            if let Some(shop) = &q.shop {
                allowed_shop(&state, &access, shop)?;
            }
            let mut report = tokio::task::spawn_blocking(move || {
                crate::status::status(&state.settings, &state.store, q.shop.as_deref())
            })
            .await
            .map_err(|e| internal("status task", e))?
            .map_err(|e| internal("status", e))?;
            report
                .shops
                .retain(|s| ShopId::parse(&s.id).is_ok_and(|id| access.allows(&id)));
            Ok::<_, Rejection>(warp::reply::json(&report))
        })
}

#[derive(Deserialize)]
struct ReplayRequest {
    dir: String,
}

/// POST /admin/api/shops/{shop}/replay `{"dir": "/path/to/recording"}` — `laris replay`
/// through the running service, which holds the store.
fn admin_replay(
    state: AppState,
    max_body: u64,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("admin" / "api" / "shops" / String / "replay")
        .and(warp::post())
        .and(admin_access_csrf(&state))
        .and(warp::body::content_length_limit(max_body))
        .and(warp::body::json::<ReplayRequest>())
        .and(with_state(state))
        .and_then(
            |shop: String, access: Access, req: ReplayRequest, state: AppState| async move {
                let shop = allowed_shop(&state, &access, &shop)?;
                let _claim = state
                    .sync
                    .claim(&shop)
                    .map_err(|e| reject(StatusCode::CONFLICT, e.to_string()))?;
                let dir = PathBuf::from(&req.dir);
                let store = state.store.clone();
                let settings = state.settings.shop(&shop).expect("known shop").clone();
                let result = tokio::task::spawn_blocking(move || {
                    crate::rebuild::replay_and_rebuild(&store, &settings, &dir)
                })
                .await
                .map_err(|e| internal("replay task", e))?;
                match result {
                    Ok((report, model)) => {
                        state.models.put(shop.clone(), model);
                        state.store.flush().await.map_err(|e| internal("flush", e))?;
                        Ok::<_, Rejection>(warp::reply::json(&report))
                    }
                    Err(crate::sync::replay::ReplayError::Recording(e)) => {
                        Err(reject(StatusCode::BAD_REQUEST, e.to_string()))
                    }
                    Err(e) => Err(internal("replay", e)),
                }
            },
        )
}

/// Rebuilds one shop's model off the request threads and swaps it in.
pub async fn rebuild_in_background(state: &AppState, shop: &ShopId) -> Result<(), Rejection> {
    let settings = state.settings.shop(shop).expect("known shop").clone();
    let store = state.store.clone();
    let model = tokio::task::spawn_blocking(move || crate::rebuild::rebuild_shop(&store, &settings))
        .await
        .map_err(|e| internal("rebuild task", e))?
        .map_err(|e| internal("rebuild", e))?;
    state.models.put(shop.clone(), model);
    Ok(())
}

/// POST /admin/api/shops/{shop}/rebuild — `laris rebuild` through the running service.
fn admin_rebuild(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("admin" / "api" / "shops" / String / "rebuild")
        .and(warp::post())
        .and(admin_access_csrf(&state))
        .and(with_state(state))
        .and_then(|shop: String, access: Access, state: AppState| async move {
            let shop = allowed_shop(&state, &access, &shop)?;
            rebuild_in_background(&state, &shop).await?;
            let model = state.models.get(&shop).expect("just built");
            Ok::<_, Rejection>(warp::reply::json(&crate::rebuild::summary(&model)))
        })
}

/// The customer a request names with `customer=TOKEN`, when the token is valid; anonymous
/// otherwise (a forged, expired or malformed token never gets an error, nor anyone's data).
pub fn customer_from_query(
    state: &AppState,
    shop: &ShopId,
    q: &HashMap<String, String>,
) -> Option<crate::domain::CustomerId> {
    customer_from_token(state, shop, q.get("customer")?)
}

/// The customer a customer token names, when it is valid for the shop; `None` otherwise.
pub fn customer_from_token(
    state: &AppState,
    shop: &ShopId,
    token: &str,
) -> Option<crate::domain::CustomerId> {
    let secret = state.settings.shop(shop)?.customer_secret.as_deref()?;
    crate::token::verify(token, secret.as_bytes(), chrono::Utc::now().timestamp()).ok()
}

/// OPTIONS /v1/shops/{shop}/… — CORS preflight for browsers that send one.
fn events_preflight(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / ..)
        .and(warp::options())
        .and(warp::header::optional::<String>("origin"))
        .and(with_state(state))
        .and_then(
            |shop: String, origin: Option<String>, state: AppState| async move {
                let shop = known_shop(&state, &shop)?;
                let mut resp = with_cors(&state, &shop, origin.as_deref(), warp::reply());
                let h = resp.headers_mut();
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    "GET, POST, OPTIONS".parse().unwrap(),
                );
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    "content-type".parse().unwrap(),
                );
                h.insert(header::ACCESS_CONTROL_MAX_AGE, "86400".parse().unwrap());
                Ok::<_, Rejection>(resp)
            },
        )
}

/// Adds CORS headers for the shop's `allowed_origins`.
pub fn with_cors(state: &AppState, shop: &ShopId, origin: Option<&str>, reply: impl Reply) -> Response {
    let mut resp = reply.into_response();
    let allowed = &state.settings.shop(shop).expect("known shop").allowed_origins;
    let value = if allowed.iter().any(|o| o == "*") {
        Some("*".to_string())
    } else {
        origin
            .filter(|o| allowed.iter().any(|a| a == o))
            .map(str::to_string)
    };
    if let Some(v) = value.and_then(|v| v.parse().ok()) {
        resp.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        resp.headers_mut().insert(header::VARY, "Origin".parse().unwrap());
    }
    resp
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

/// Every rejection becomes `{"error": "…"}` with the right status.
pub async fn handle_rejection(err: Rejection) -> Result<Response, Infallible> {
    let (status, message) = if let Some(e) = err.find::<ApiError>() {
        (e.status, e.message.clone())
    } else if err.find::<Unauthenticated>().is_some() {
        (StatusCode::UNAUTHORIZED, Unauthenticated::MESSAGE.to_string())
    } else if err.find::<CsrfMismatch>().is_some() {
        (
            StatusCode::FORBIDDEN,
            format!(
                "{} (a signed-in browser sends its session's token in the {} header)",
                CsrfMismatch::MESSAGE,
                crate::admin_auth::CSRF_HEADER
            ),
        )
    } else if err.is_not_found() {
        (
            StatusCode::NOT_FOUND,
            "no such page: see README.md for the HTTP paths".to_string(),
        )
    } else if err.find::<warp::reject::PayloadTooLarge>().is_some() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large: send at most server.max_body_bytes bytes".to_string(),
        )
    } else if let Some(e) = err.find::<warp::reject::InvalidQuery>() {
        (StatusCode::BAD_REQUEST, format!("bad query string: {e}"))
    } else if let Some(e) = err.find::<warp::body::BodyDeserializeError>() {
        (StatusCode::BAD_REQUEST, format!("bad request body: {e}"))
    } else if err.find::<warp::reject::LengthRequired>().is_some() {
        (
            StatusCode::LENGTH_REQUIRED,
            "send a Content-Length header".to_string(),
        )
    } else if err.find::<warp::reject::UnsupportedMediaType>().is_some() {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as application/json".to_string(),
        )
    } else if err.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed on this path".to_string(),
        )
    } else if let Some(e) = err.find::<warp::reject::MissingHeader>() {
        (StatusCode::BAD_REQUEST, e.to_string())
    } else {
        tracing::error!(?err, "unhandled rejection");
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error".to_string())
    };
    let mut resp = warp::reply::json(&ErrorBody { error: message }).into_response();
    *resp.status_mut() = status;
    // Errors carry no data worth guarding, and a widget on any origin should see the real
    // message rather than a browser's CORS complaint.
    resp.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*".parse().unwrap());
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_product_ids_are_decoded() {
        assert_eq!(percent_decode("SRD%2D100"), "SRD-100");
        assert_eq!(percent_decode("A%20B"), "A B");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("plain"), "plain");
    }

    #[test]
    fn tokens_compare_equal_only_when_identical() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
