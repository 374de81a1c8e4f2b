//! HTTP: routes, handlers and the one place that turns every rejection into a JSON error
//! `{"error": "…"}` with the right status ([`rejection_answer`]). Handlers only read the
//! store and precomputed models; nothing here computes a model.
//!
//! Every GET route also answers HEAD ([`head_as_get`]); absolute links are built on the
//! shop's `public_url` ([`link_base`]); the Host header is used only when no `public_url`
//! is set and only when it is a valid host[:port], and such answers say `Vary: Host`.

pub mod admin;
pub mod client;
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
use std::time::Duration;

use serde::{Deserialize, Serialize};
use warp::filters::path::FullPath;
use warp::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::admin_auth::{Access, CsrfMismatch, Sessions, Unauthenticated};
use crate::config::Settings;
use crate::domain::{ProductId, ShopId};
use crate::records::Product;
use crate::store::{ShopStore, Store};

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
    pub models: Arc<crate::model::rebuild::Models>,
    /// Per-client limit on widget events, so one page cannot flood the store.
    pub event_limiter: Arc<events::RateLimiter>,
    /// Every shop's event summary (what the performance page reads), its shared event
    /// rate, cap and retention.
    pub event_log: Arc<events::EventLog>,
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

/// A client over a rate limit: answered `429` with `Retry-After` (whole seconds, at least 1).
#[derive(Debug)]
pub struct RateLimited {
    pub message: String,
    pub retry_after_secs: u64,
}

impl warp::reject::Reject for RateLimited {}

/// `429 Too Many Requests` with `Retry-After` from how long the limiter says to wait.
pub fn too_many(message: impl Into<String>, wait: Duration) -> Rejection {
    warp::reject::custom(RateLimited {
        message: message.into(),
        retry_after_secs: retry_after_secs(wait),
    })
}

/// A wait as `Retry-After` seconds: rounded up, at least 1 (0 would invite a retry storm).
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
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
    let routes = healthz()
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
        .map(Reply::into_response)
        // Boxed: the nested type of every route, wrapped again for HEAD and compression,
        // is deeper than the compiler's recursion limit when warp::serve lays it out.
        .boxed()
        .map(Ok)
        .or_else(|rejection| async move { Ok::<_, Infallible>((Err(rejection),)) });
    request_facts()
        .and(routes)
        .map(move |facts: RequestFacts, answer: Result<Response, Rejection>| {
            answer.unwrap_or_else(|rejection| rejection_answer(&rejection, &facts, max_body))
        })
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

/// Every route, answered with brotli or gzip when the client accepts it; HEAD as GET.
pub fn routes(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let get = compressed(state);
    head_as_get(get.clone()).or(get).unify()
}

/// HEAD on every GET route: the request is answered as a GET with the same path, query and
/// headers, and the answer goes back whole; hyper, which knows the request was a HEAD, sends
/// its status and headers (Content-Length included) and leaves the body out.
///
/// warp offers no way to change a request's method inside a filter, and each route checks
/// `warp::get()` itself, so the GET is run as a request of its own through the same filters
/// (on a task of its own: warp allows one request per task at a time). The client address
/// does not carry over (warp keeps it private): GET routes do not use it.
fn head_as_get<F>(get: F) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone
where
    F: Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    warp::head()
        .and(warp::path::full())
        .and(raw_query())
        .and(warp::header::headers_cloned())
        .and_then(move |path: FullPath, query: Option<String>, headers: HeaderMap| {
            let get = get.clone();
            async move {
                let uri = match query {
                    Some(q) => format!("{}?{q}", path.as_str()),
                    None => path.as_str().to_string(),
                };
                let mut request = warp::http::Request::new(String::new());
                *request.method_mut() = Method::GET;
                *request.uri_mut() = uri.parse().map_err(|e| internal("HEAD as GET: the URI", e))?;
                *request.headers_mut() = headers;
                let mut service = warp::service(get);
                let answer =
                    tokio::spawn(async move { tower_service::Service::call(&mut service, request).await })
                        .await
                        .map_err(|e| internal("HEAD as GET: the task", e))?;
                Ok::<_, Rejection>(answer.unwrap_or_else(|never| match never {}))
            }
        })
}

/// The raw query string, if the request has one.
fn raw_query() -> impl Filter<Extract = (Option<String>,), Error = Infallible> + Clone {
    warp::query::raw().map(Some).or(warp::any().map(|| None)).unify()
}

fn compressed(state: AppState) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
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
/// owner would (README "HTTP"), for the first configured shop.
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

/// GET /demo/images/{file} — the demo shop's product pictures. A name that cannot be a
/// picture there (a sub-path, NUL, a name longer than a file system takes) is a 404 before
/// the file system is asked, which would call it an open error.
fn demo_images(dir: PathBuf) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("demo" / "images" / ..)
        .and(warp::path::peek())
        .and_then(|name: warp::path::Peek| async move {
            let name = name.as_str();
            let plain = (1..=255).contains(&name.len())
                && !name.starts_with('.')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if plain {
                Ok(())
            } else {
                Err(reject(
                    StatusCode::NOT_FOUND,
                    format!(
                        "no picture {} in /demo/images/: picture names are letters, digits, '-', '_' and '.', e.g. /demo/images/SRD-100.svg",
                        quoted(name.as_bytes())
                    ),
                ))
            }
        })
        .untuple_one()
        .and(warp::fs::dir(dir))
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

/// `raw` with its `%XX` escapes decoded (invalid UTF-8 replaced, a stray `%` kept).
pub(crate) fn percent_decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
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
            let (settings, store, models) =
                (state.settings.clone(), state.store.clone(), state.models.clone());
            let mut report = tokio::task::spawn_blocking(move || {
                crate::status::status(&settings, &store, q.shop.as_deref(), Some(&models))
            })
            .await
            .map_err(|e| internal("status task", e))?
            .map_err(|e| internal("status", e))?;
            report
                .shops
                .retain(|s| ShopId::parse(&s.id).is_ok_and(|id| access.allows(&id)));
            for s in &mut report.shops {
                // A run under way now is not an interrupted one.
                if ShopId::parse(&s.id).is_ok_and(|id| state.sync.busy(&id)) {
                    s.interrupted_run = None;
                }
            }
            Ok::<_, Rejection>(warp::reply::json(&report))
        })
}

#[derive(Deserialize)]
struct ReplayRequest {
    dir: String,
}

/// Where the admin API may read a shop's recordings: the data directory's
/// `recordings/{shop}` and the shop's `replay_dirs`.
pub fn replay_roots(data_dir: &std::path::Path, shop: &crate::config::ShopSettings) -> Vec<PathBuf> {
    let mut roots = vec![data_dir.join("recordings").join(shop.id.as_str())];
    roots.extend(shop.replay_dirs.iter().cloned());
    roots
}

/// The recording a replay request names, when it lies inside one of the shop's replay
/// roots (a relative name is taken inside `recordings/{shop}`). Anything else — another
/// shop's recording, `/etc`, a path that does not exist — gets the same refusal, which
/// names no server path.
fn replay_dir(state: &AppState, shop: &ShopId, raw: &str) -> Result<PathBuf, Rejection> {
    let settings = state.settings.shop(shop).expect("known shop");
    let roots = replay_roots(&state.data_dir, settings);
    let asked = PathBuf::from(raw);
    let asked = if asked.is_absolute() {
        asked
    } else {
        roots[0].join(asked)
    };
    let inside = std::fs::canonicalize(&asked).ok().filter(|dir| {
        roots
            .iter()
            .filter_map(|r| std::fs::canonicalize(r).ok())
            .any(|root| dir.starts_with(root))
    });
    inside.ok_or_else(|| {
        reject(
            StatusCode::FORBIDDEN,
            format!(
                "no recording {raw:?} among shop {shop}'s recordings: the service replays only from the data directory's recordings/{shop}/ and the shop's replay_dirs (laris.toml); `laris replay --dir DIR` copies a recording there by itself"
            ),
        )
    })
}

/// POST /admin/api/shops/{shop}/replay `{"dir": "name or path"}` — `laris replay` through
/// the running service, which holds the store. Only the shop's own recordings (see
/// [`replay_dir`]).
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
                let dir = replay_dir(&state, &shop, &req.dir)?;
                let _claim = state
                    .sync
                    .claim(&shop)
                    .map_err(|e| reject(StatusCode::CONFLICT, e.to_string()))?;
                let store = state.store.clone();
                let settings = state.settings.shop(&shop).expect("known shop").clone();
                let result = tokio::task::spawn_blocking(move || {
                    crate::sync::replay::replay_and_rebuild(&store, &settings, &dir)
                })
                .await
                .map_err(|e| internal("replay task", e))?;
                match result {
                    Ok((report, model)) => {
                        state.models.put(shop.clone(), model);
                        state.store.durable().await.map_err(|e| internal("flush", e))?;
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
    let model = tokio::task::spawn_blocking(move || crate::model::rebuild::rebuild_shop(&store, &settings))
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
            Ok::<_, Rejection>(warp::reply::json(&crate::model::rebuild::summary(&model)))
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
    crate::loyalty::token::verify(token, secret.as_bytes(), chrono::Utc::now().timestamp()).ok()
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

/// Adds CORS headers for the shop's `allowed_origins`. Unless any origin is allowed (`*`),
/// the answer depends on the request's `Origin` (named back, or no header), so it says
/// `Vary: Origin` either way: a cache must not hand one origin's answer to another.
pub fn with_cors(state: &AppState, shop: &ShopId, origin: Option<&str>, reply: impl Reply) -> Response {
    let mut resp = reply.into_response();
    let allowed = &state.settings.shop(shop).expect("known shop").allowed_origins;
    let any = allowed.iter().any(|o| o == "*");
    let value = if any {
        Some("*")
    } else {
        origin.filter(|o| allowed.iter().any(|a| a == o))
    };
    let headers = resp.headers_mut();
    if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    if !any {
        headers.append(header::VARY, HeaderValue::from_static("origin"));
    }
    resp
}

/// The base of the absolute links built for `shop`, and whether it came from the request's
/// `Host` (then the answer must say `Vary: Host`).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkBase {
    /// `https://shop.example`, `http://host:port`, or empty: links stay root-relative.
    pub base: String,
    pub from_host: bool,
}

/// The shop's `public_url`, else `server.public_url`.
pub fn public_url<'a>(state: &'a AppState, shop: &ShopId) -> Option<&'a crate::config::PublicUrl> {
    state
        .settings
        .shop(shop)
        .and_then(|s| s.public_url.as_ref())
        .or(state.settings.server.public_url.as_ref())
}

/// Where absolute links for `shop` point: its `public_url`; with none, the request's `Host`
/// when that is a valid host[:port]; else nowhere (root-relative links).
pub fn link_base(state: &AppState, shop: &ShopId, host: Option<&str>) -> LinkBase {
    match public_url(state, shop) {
        Some(url) => LinkBase {
            base: url.as_str().to_string(),
            from_host: false,
        },
        None => LinkBase {
            base: host
                .and_then(valid_host)
                .map(|h| format!("http://{h}"))
                .unwrap_or_default(),
            from_host: true,
        },
    }
}

/// `host` when it is exactly a host name or IP address with an optional port (what a
/// `Host` header may hold), lower-cased; `None` for anything with a path, a user, spaces,
/// percent signs or other bytes a host cannot have.
pub fn valid_host(host: &str) -> Option<String> {
    let ok_bytes = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !ok_bytes {
        return None;
    }
    let url = url::Url::parse(&format!("http://{host}/")).ok()?;
    let name = url.host_str()?;
    if url.path() != "/" || !url.username().is_empty() {
        return None;
    }
    // The parser drops a default port and normalises case; anything else it changed
    // (an empty port, a bare IPv6 address) was not a plain host[:port].
    let written = [
        name.to_string(),
        format!("{name}:{}", url.port_or_known_default()?),
    ];
    written
        .iter()
        .any(|w| w.eq_ignore_ascii_case(host))
        .then(|| host.to_ascii_lowercase())
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

/// What the rejection answer may quote from the request: the path, the method, the query
/// and the headers (warp hands a rejection over without its request).
struct RequestFacts {
    method: Method,
    path: FullPath,
    query: Option<String>,
    headers: HeaderMap,
}

fn request_facts() -> impl Filter<Extract = (RequestFacts,), Error = Infallible> + Clone {
    warp::method()
        .and(warp::path::full())
        .and(raw_query())
        .and(warp::header::headers_cloned())
        .map(|method, path, query, headers| RequestFacts {
            method,
            path,
            query,
            headers,
        })
}

/// Bytes from a request, quoted for an error message: escaped, and cut after 80 bytes so a
/// 10 KB value is not echoed back whole.
pub fn quoted(bytes: &[u8]) -> String {
    const MAX: usize = 80;
    let shown = &bytes[..bytes.len().min(MAX)];
    let more = if bytes.len() > MAX {
        format!("… ({} bytes)", bytes.len())
    } else {
        String::new()
    };
    format!("\"{}\"{more}", shown.escape_ascii())
}

/// What to do about a header whose value warp could not read as visible ASCII.
fn header_fix(name: &str) -> &'static str {
    match name {
        "authorization" => "send `Authorization: Bearer <admin token>` or leave it out",
        "host" => "send the host[:port] this service is reached at",
        "if-none-match" => "send the ETag exactly as this service gave it, or leave it out",
        "origin" | "referer" => "send the page's address in ASCII (percent-encode the rest), or leave it out",
        "content-type" => "send application/json, text/plain or application/x-www-form-urlencoded",
        _ => "send visible ASCII only (percent-encode anything else), or leave it out",
    }
}

/// Whether the request's body broke off or was badly chunked. warp keeps that rejection's
/// type private, so it is known by its name (`tests/api/hostile.rs` sends a body cut short
/// and would see a 500 if the name changed).
fn body_unreadable(err: &Rejection) -> bool {
    format!("{err:?}").contains("BodyReadError(")
}

/// Every rejection as `{"error": "…"}` with the status the request deserves. warp combines
/// the rejections of every route that was tried, so the most specific cause is looked for
/// first: a route's own answer, then what was wrong with the request (a header, the query,
/// the body), then a method another route would take, then "no such page". Only genuine
/// internal failures are 500, with an opaque message and the cause in the log.
fn rejection_answer(err: &Rejection, facts: &RequestFacts, max_body: u64) -> Response {
    let path = quoted(facts.path.as_str().as_bytes());
    let mut retry_after = None;
    let (status, message) = if let Some(e) = err.find::<RateLimited>() {
        retry_after = Some(e.retry_after_secs);
        (StatusCode::TOO_MANY_REQUESTS, e.message.clone())
    } else if let Some(e) = err.find::<ApiError>() {
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
    } else if let Some(e) = err.find::<warp::reject::InvalidHeader>() {
        let name = e.name();
        // Credentials are not echoed, not even mangled ones.
        let value = match name {
            "authorization" | "cookie" => "(not shown)".to_string(),
            _ => facts
                .headers
                .get(name)
                .map_or_else(|| "(unreadable)".to_string(), |v| quoted(v.as_bytes())),
        };
        (
            StatusCode::BAD_REQUEST,
            format!(
                "header {name}: {value} is not valid (only visible ASCII is read): {}",
                header_fix(name)
            ),
        )
    } else if let Some(e) = err.find::<warp::reject::MissingHeader>() {
        (
            StatusCode::BAD_REQUEST,
            format!(
                "header {} is missing: send it (README lists what each path needs)",
                e.name()
            ),
        )
    } else if let Some(e) = err.find::<warp::reject::MissingCookie>() {
        (
            StatusCode::BAD_REQUEST,
            format!("cookie {} is missing: sign in at /admin/login", e.name()),
        )
    } else if err.find::<warp::reject::InvalidQuery>().is_some() {
        let query = quoted(facts.query.as_deref().unwrap_or("").as_bytes());
        (
            StatusCode::BAD_REQUEST,
            format!(
                "query string {query} is not valid here: send name=value pairs joined by &, each name once, percent-encoded (README lists each path's parameters)"
            ),
        )
    } else if let Some(e) = err.find::<warp::body::BodyDeserializeError>() {
        (
            StatusCode::BAD_REQUEST,
            format!("bad request body: {e}; send JSON as README shows for {path}"),
        )
    } else if body_unreadable(err) {
        (
            StatusCode::BAD_REQUEST,
            "the request body could not be read: send it whole, with a correct Content-Length or valid chunks".to_string(),
        )
    } else if err.find::<warp::reject::PayloadTooLarge>().is_some() {
        let length = facts
            .headers
            .get(header::CONTENT_LENGTH)
            .map_or_else(|| "(no Content-Length)".to_string(), |v| quoted(v.as_bytes()));
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "request body of {length} bytes is too large for {path}: send less (the admin API takes server.max_body_bytes = {max_body}, the widget endpoints a few KB)"
            ),
        )
    } else if err.find::<warp::reject::LengthRequired>().is_some() {
        (
            StatusCode::LENGTH_REQUIRED,
            format!("{path} needs a Content-Length header: send the body with its length, not chunked"),
        )
    } else if err.find::<warp::reject::UnsupportedMediaType>().is_some() {
        let given = facts
            .headers
            .get(header::CONTENT_TYPE)
            .map_or_else(|| "(none)".to_string(), |v| quoted(v.as_bytes()));
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type {given} is not taken by {path}: send the body as application/json"),
        )
    } else if err.find::<warp::filters::cors::CorsForbidden>().is_some() {
        (
            StatusCode::FORBIDDEN,
            "this origin may not call this path: the shop's allowed_origins lists the ones that may"
                .to_string(),
        )
    } else if err.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "method {} is not allowed on {path}: README lists each path's method (every GET path also takes HEAD)",
                quoted(facts.method.as_str().as_bytes())
            ),
        )
    } else if err.is_not_found() {
        (
            StatusCode::NOT_FOUND,
            format!("no such page {path}: see README.md for the HTTP paths"),
        )
    } else {
        // FileOpenError (a picture that exists but cannot be read), a missing extension,
        // a body read twice, a rejection nobody maps: the service's fault, not the client's.
        tracing::error!(?err, path = %facts.path.as_str(), "unhandled rejection");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; the server log has the details".to_string(),
        )
    };
    let mut resp = warp::reply::json(&ErrorBody { error: message }).into_response();
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    // Errors carry no data worth guarding, and a widget on any origin should see the real
    // message rather than a browser's CORS complaint.
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    if let Some(secs) = retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
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
    fn a_host_header_is_used_only_when_it_is_exactly_host_and_port() {
        for good in [
            "shop.example",
            "Shop.Example:8080",
            "127.0.0.1:3000",
            "[::1]:8080",
            "localhost",
            "a.example:80",
        ] {
            assert_eq!(
                valid_host(good).as_deref(),
                Some(good.to_ascii_lowercase().as_str()),
                "{good}"
            );
        }
        for bad in [
            "",
            "evil.example/x",
            "evil.example?x",
            "user@evil.example",
            "evil.example:",
            "evil.example:99999",
            "evil.example:8o",
            "a b",
            "exa%41mple",
            "::1",
            "evil.example\\x",
            "\"><script>",
            &"a".repeat(300),
        ] {
            assert_eq!(valid_host(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn request_bytes_are_quoted_escaped_and_cut() {
        assert_eq!(quoted(b"caf\xc3\xa9"), "\"caf\\xc3\\xa9\"");
        assert_eq!(quoted(b"a\"b\0"), "\"a\\\"b\\x00\"");
        let long = quoted(&[b'x'; 10_000]);
        assert!(long.ends_with("… (10000 bytes)"), "{long}");
        assert!(long.len() < 120, "{long}");
    }

    #[test]
    fn a_wait_becomes_whole_seconds_of_retry_after_never_zero() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(59_001)), 60);
        assert_eq!(retry_after_secs(Duration::from_secs(12)), 12);
    }
}
