//! The errors handlers reject with ([`ApiError`], [`RateLimited`], [`internal`], and
//! [`store_failed`]: 503 while the database is unreachable) and the
//! one place that turns every rejection into a JSON error `{"error": "…"}` with the right
//! status (`rejection_answer`).

use std::convert::Infallible;
use std::time::Duration;

use serde::Serialize;
use warp::filters::path::FullPath;
use warp::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::store::StoreError;
use crate::web::rejections::{CsrfMismatch, Unauthenticated};

/// A request that cannot be answered, with the status and a message for the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl warp::reject::Reject for ApiError {}

/// A rejection the client is answered with: `status` and `{"error": message}`.
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

/// What a client is told while the database is unreachable. It names no host: the
/// server log has the store's error.
pub const UNAVAILABLE_MESSAGE: &str = "the database is unreachable right now; Laris retries by itself and recovers when it is back: try again in a few seconds (Retry-After)";

/// Seconds of `Retry-After` on a 503 for an unreachable database.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// The store cannot be reached right now: answered `503` with `Retry-After` and
/// [`UNAVAILABLE_MESSAGE`].
#[derive(Debug)]
pub struct StoreUnavailable;

impl warp::reject::Reject for StoreUnavailable {}

/// A store failure as the client sees it: 503 with [`UNAVAILABLE_MESSAGE`] when the
/// database is unreachable (a passing state: the cause is logged as a warning), else the
/// opaque 500 of [`internal`].
pub fn store_failed(context: &str, err: &StoreError) -> Rejection {
    if err.is_unavailable() {
        tracing::warn!(%err, "{context}: the database is unreachable");
        warp::reject::custom(StoreUnavailable)
    } else {
        internal(context, err)
    }
}

/// The raw query string, if the request has one.
pub(crate) fn raw_query() -> impl Filter<Extract = (Option<String>,), Error = Infallible> + Clone {
    warp::query::raw().map(Some).or(warp::any().map(|| None)).unify()
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

/// What the rejection answer may quote from the request: the path, the method, the query
/// and the headers (warp hands a rejection over without its request).
pub(crate) struct RequestFacts {
    method: Method,
    path: FullPath,
    query: Option<String>,
    headers: HeaderMap,
}

pub(crate) fn request_facts() -> impl Filter<Extract = (RequestFacts,), Error = Infallible> + Clone {
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
pub(crate) fn rejection_answer(err: &Rejection, facts: &RequestFacts, max_body: u64) -> Response {
    let path = quoted(facts.path.as_str().as_bytes());
    let mut retry_after = None;
    let (status, message) = if let Some(e) = err.find::<RateLimited>() {
        retry_after = Some(e.retry_after_secs);
        (StatusCode::TOO_MANY_REQUESTS, e.message.clone())
    } else if err.find::<StoreUnavailable>().is_some() {
        retry_after = Some(UNAVAILABLE_RETRY_SECS);
        (StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE.to_string())
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
