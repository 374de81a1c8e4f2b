//! CORS for the widget endpoints: the headers of each answer ([`with_cors`]), the
//! preflight some browsers send first ([`events_preflight`]), and the origins a shop's
//! `allowed_origins` refused ([`refused_origins`]), logged once each and listed on the
//! dashboard's "Pasang widget" page, so a widget that shows nothing on a shop's own site
//! says why.
//!
//! The widget endpoints carry only public data, so any origin may call them unless the
//! shop lists `allowed_origins` (then only those, or any with `"*"`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
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

/// Whether any site may embed the shop's widget: no `allowed_origins`, or `"*"` among them.
pub fn any_origin(shop: &ShopSettings) -> bool {
    shop.allowed_origins.is_empty() || shop.allowed_origins.iter().any(|o| o == "*")
}

/// Adds CORS headers for the shop's `allowed_origins` (none listed: any origin). Unless
/// any origin is allowed, the answer depends on the request's `Origin` (named back, or no
/// header), so it says `Vary: Origin` either way: a cache must not hand one origin's answer
/// to another. A refused origin is noted (see [`refused_origins`]).
pub fn with_cors(shop: &ShopSettings, origin: Option<&str>, reply: impl Reply) -> Response {
    let mut resp = reply.into_response();
    let allowed = &shop.allowed_origins;
    let any = any_origin(shop);
    let value = if any {
        Some("*")
    } else {
        let named = origin.filter(|o| allowed.iter().any(|a| a == o));
        if let (None, Some(refused)) = (named, origin) {
            note_refused(shop, refused);
        }
        named
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

/// Most refused origins remembered per shop; more are counted, not named.
const MAX_REFUSED_PER_SHOP: usize = 50;
/// Longest origin kept or logged; a longer `Origin` header is cut.
const MAX_ORIGIN_CHARS: usize = 200;

/// An origin the shop's `allowed_origins` refused: when first and last, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub origin: String,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub count: u64,
}

#[derive(Default)]
struct Refused {
    named: BTreeMap<String, Refusal>,
    /// Refusals of origins beyond the first [`MAX_REFUSED_PER_SHOP`].
    others: u64,
}

/// Refused origins per shop id, for this process (they are a diagnosis, not data: a
/// restart starts the list afresh, and a page shows them while the owner fixes the config).
static REFUSED: LazyLock<Mutex<HashMap<String, Refused>>> = LazyLock::new(Default::default);

fn note_refused(shop: &ShopSettings, origin: &str) {
    let origin: String = origin.chars().take(MAX_ORIGIN_CHARS).collect();
    let now = Utc::now();
    let mut all = REFUSED.lock().unwrap_or_else(|e| e.into_inner());
    let refused = all.entry(shop.id.to_string()).or_default();
    if let Some(r) = refused.named.get_mut(&origin) {
        r.count += 1;
        r.last = now;
        return;
    }
    if refused.named.len() >= MAX_REFUSED_PER_SHOP {
        refused.others += 1;
        return;
    }
    tracing::warn!(
        shop = %shop.id,
        origin = %origin.escape_debug(),
        "widget request from an origin the shop's allowed_origins does not list: its page shows no widget; \
         add the origin to allowed_origins (or remove allowed_origins to allow any); the dashboard's \
         \"Pasang widget\" page lists such origins"
    );
    refused.named.insert(
        origin.clone(),
        Refusal {
            origin,
            first: now,
            last: now,
            count: 1,
        },
    );
}

/// The origins refused for `shop` since the service started, most recent first, and the
/// count of refusals of origins beyond those named.
pub fn refused_origins(shop: &ShopSettings) -> (Vec<Refusal>, u64) {
    let all = REFUSED.lock().unwrap_or_else(|e| e.into_inner());
    let Some(refused) = all.get(shop.id.as_str()) else {
        return (Vec::new(), 0);
    };
    let mut named: Vec<Refusal> = refused.named.values().cloned().collect();
    named.sort_by(|a, b| b.last.cmp(&a.last).then_with(|| a.origin.cmp(&b.origin)));
    (named, refused.others)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn shop(id: &str, allowed: &str) -> ShopSettings {
        let text = format!("[[shops]]\nid = \"{id}\"\nname = \"T\"\n{allowed}\n");
        Settings::from_toml(&text, std::path::Path::new("t.toml"), &[])
            .unwrap()
            .shops
            .remove(0)
    }

    fn allow_origin(shop: &ShopSettings, origin: &str) -> Option<String> {
        let resp = with_cors(shop, Some(origin), warp::reply());
        resp.headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .map(|v| v.to_str().unwrap().to_string())
    }

    #[test]
    fn any_origin_may_embed_the_widget_unless_the_shop_lists_its_own() {
        let open = shop("cors-open", "");
        assert_eq!(allow_origin(&open, "https://toko.example").as_deref(), Some("*"));
        assert_eq!(refused_origins(&open), (Vec::new(), 0));

        let listed = shop("cors-listed", "allowed_origins = [\"https://toko.example\"]");
        assert_eq!(
            allow_origin(&listed, "https://toko.example").as_deref(),
            Some("https://toko.example")
        );
        assert_eq!(allow_origin(&listed, "https://lain.example"), None);
        assert_eq!(allow_origin(&listed, "https://lain.example"), None);
        let (refused, others) = refused_origins(&listed);
        assert_eq!(others, 0);
        assert_eq!(refused.len(), 1);
        assert_eq!(
            (refused[0].origin.as_str(), refused[0].count),
            ("https://lain.example", 2)
        );
    }

    #[test]
    fn refused_origins_are_bounded_per_shop() {
        let listed = shop("cors-flood", "allowed_origins = [\"https://toko.example\"]");
        for i in 0..(MAX_REFUSED_PER_SHOP + 7) {
            allow_origin(&listed, &format!("https://{i}.example"));
        }
        allow_origin(&listed, &format!("https://x{}.example", "y".repeat(500)));
        let (refused, others) = refused_origins(&listed);
        assert_eq!(refused.len(), MAX_REFUSED_PER_SHOP);
        assert_eq!(others, 8);
    }
}
