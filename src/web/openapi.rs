//! `GET /openapi.json`: the OpenAPI 3.1 description of the HTTP API, kept as
//! `openapi/openapi.json` in the repository and compiled into the binary, so the document a
//! client reads is the one this build was tested against (`tests/api/openapi.rs` checks
//! real answers against it).

use warp::http::header;
use warp::{Filter, Rejection, Reply};

/// The document, as checked in.
pub const OPENAPI_JSON: &str = include_str!("../../openapi/openapi.json");

/// GET /openapi.json
pub fn openapi_json() -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("openapi.json").and(warp::get()).map(|| {
        let reply = warp::reply::with_header(OPENAPI_JSON, header::CONTENT_TYPE, "application/json");
        // Tools on other origins (API explorers) may read it.
        warp::reply::with_header(reply, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_json_and_names_openapi_3_1() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI_JSON).expect("openapi.json is JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["paths"]["/openapi.json"].is_object());
    }
}
