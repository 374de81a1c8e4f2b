//! CORS for the widget endpoints: the headers of each answer ([`with_cors`]) and the
//! preflight some browsers send first ([`events_preflight`]).

use warp::http::{header, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::config::ShopSettings;
use crate::web::state::{known_shop, with_state, AppState};

/// OPTIONS /v1/shops/{shop}/… — CORS preflight for browsers that send one.
pub fn events_preflight(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / ..)
        .and(warp::options())
        .and(warp::header::optional::<String>("origin"))
        .and(with_state(state))
        .and_then(
            |shop: String, origin: Option<String>, state: AppState| async move {
                let shop = known_shop(&state, &shop)?;
                let mut resp = with_cors(shop, origin.as_deref(), warp::reply());
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
pub fn with_cors(shop: &ShopSettings, origin: Option<&str>, reply: impl Reply) -> Response {
    let mut resp = reply.into_response();
    let allowed = &shop.allowed_origins;
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
