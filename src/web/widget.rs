//! `GET /widget.js`: the widget script, compiled into the binary, with its version for
//! cache busting.

use std::collections::HashMap;

use warp::http::{header, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

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
pub fn widget_js() -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
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
