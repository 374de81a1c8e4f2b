//! The route table ([`routes`]): every path, answered with brotli or gzip when the client
//! accepts it, `Vary: accept-encoding`, HEAD as GET, and every rejection turned into its
//! JSON error by `web::errors::rejection_answer`.

use std::convert::Infallible;

use warp::filters::path::FullPath;
use warp::http::{header, HeaderMap, Method};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::web::errors::{internal, raw_query, rejection_answer, request_facts, RequestFacts};
use crate::web::state::AppState;
use crate::web::{
    admin, cors, demo, encoding, events, feedback, fragments, metrics, openapi, operations, public,
    recommendations, sync, widget,
};

fn uncompressed(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let max_body = state.settings.server.max_body_bytes;
    let routes = healthz(state.clone())
        .or(openapi::openapi_json())
        .or(metrics::metrics(state.clone()))
        .or(widget::widget_js())
        .or(demo::demo_page(state.clone()))
        .or(demo::demo_images(state.settings.server.demo_images.clone()))
        .or(public::products_list(state.clone()))
        .or(public::product_detail(state.clone()))
        .or(operations::admin_status(state.clone()))
        .or(recommendations::recommendations(state.clone()))
        .or(fragments::batched(state.clone()))
        .or(fragments::single(state.clone()))
        .or(fragments::arm(state.clone()))
        .or(events::events(state.clone()))
        .or(cors::events_preflight(state.clone()))
        .or(feedback::feedback(state.clone()))
        .or(recommendations::admin_recommendations(state.clone()))
        .or(operations::admin_rebuild(state.clone()))
        .or(sync::admin_sync(state.clone()))
        .or(operations::admin_replay(state.clone(), max_body))
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
}

/// Whether the client accepts `encoding` (`br`, `gzip`).
fn accepts(encoding: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("accept-encoding")
        .and_then(move |h: Option<String>| async move {
            if encoding::accepts(h.as_deref(), encoding) {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one()
}

/// Every route, answered with brotli or gzip when the client accepts it; HEAD as GET; each
/// request logged (`warp::trace`, at `info`). The widget's fragment answers are mostly
/// answered before this table, by the server's shortcut (`web::prepared::hot`), which hands
/// anything unusual on to it.
pub fn routes(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let get = compressed(state);
    head_as_get(get.clone())
        .or(get)
        .unify()
        .with(warp::trace::request())
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

/// GET /healthz: up, which store backend serves, and the shops whose sync lease this
/// replica holds now (`{"status":"ok","store":"sled","sync_leases":[]}`).
fn healthz(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let store = state.store.backend_name();
    let sync = state.sync.clone();
    warp::path!("healthz").and(warp::get()).map(move || {
        let leases: Vec<String> = sync.leases_held().into_iter().map(String::from).collect();
        warp::reply::json(&serde_json::json!({"status": "ok", "store": store, "sync_leases": leases}))
    })
}
