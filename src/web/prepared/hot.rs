//! The widget's hot path: a [`Shortcut`] the server asks before the route table
//! ([`PreparedShortcut`]), answering GET and HEAD of `/v1/shops/{shop}/fragments[/{slot}]`
//! from the prepared answers with every header the route table sends (ETag and `304`,
//! `Cache-Control`, CORS, `Vary`, `Content-Encoding`); HEAD is the GET answer, whose body
//! hyper leaves out. It counts each answer in `/metrics` and logs it at `debug` (the route
//! table logs each request at `info`: two lines, and a span, cost more than the answer).
//!
//! It declines (the route table answers instead) anything it does not know to be the
//! same: a parameter other than `product`, `slots`, `lang`, `limit`, `cart`, `customer`
//! and `page`, or one given twice; an invalid customer token; a header that is not text; an
//! escaped path; the slots that are made per request; any error. `page` (the page the chat
//! button's question names) is part of the raw query the cache is keyed on, so each page
//! has its own answer; a chat button with opening hours is made per request
//! (`render::keepable`).

use warp::http::header::{self, HeaderMap, HeaderValue};
use warp::http::{Method, Uri};
use warp::reply::Response;

use crate::config::ShopSettings;
use crate::domain::CustomerId;
use crate::server::Shortcut;
use crate::web::encoding::Encoding;
use crate::web::experiment::{arm_of, control_shows, visitor_id};
use crate::web::fragments::{finish, headed, not_modified, with_arm};
use crate::web::links::public_url;
use crate::web::metrics::count_answer;
use crate::web::prepared::cache::KeyRef;
use crate::web::prepared::render::{prepare, Ask};
use crate::web::public::customer_from_token;
use crate::web::state::AppState;

/// The prepared answers as the server's [`Shortcut`]: fragment answers from the cache (made
/// and kept on a miss), everything else handed on to the route table.
pub struct PreparedShortcut(pub AppState);

impl Shortcut for PreparedShortcut {
    fn answer(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
        let resp = answer(&self.0, method, uri.path(), uri.query(), headers)?;
        tracing::debug!(%method, path = uri.path(), status = resp.status().as_u16(), "prepared answer");
        Some(resp)
    }
}

/// The shop and slot a fragment path names: `(shop, None)` for the batched path,
/// `(shop, Some(slot))` for a single fragment. `None` for any other path, and for an
/// escaped or empty segment (the route table reads those).
fn fragment_path(path: &str) -> Option<(&str, Option<&str>)> {
    let rest = path.strip_prefix("/v1/shops/")?;
    let (shop, rest) = rest.split_once('/')?;
    let slot = match rest {
        "fragments" => None,
        _ => Some(rest.strip_prefix("fragments/")?),
    };
    let plain = |s: &str| !s.is_empty() && !s.contains(['/', '%']);
    (plain(shop) && slot.is_none_or(plain)).then_some((shop, slot))
}

/// The customer token and visitor id of a query whose parameters are all known and
/// distinct: `Some((None, None))` without them, `None` when the query is not one to answer
/// here.
fn checked_query(query: &str) -> Option<(Option<String>, Option<String>)> {
    let mut seen = 0u8;
    let mut token = None;
    let mut visitor = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let bit = match &*k {
            "product" => 1,
            "slots" => 2,
            "lang" => 4,
            "limit" => 8,
            "cart" => 16,
            "customer" => 32,
            "page" => 64,
            "visitor" => 128,
            _ => return None,
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        if bit == 32 {
            token = Some(v.into_owned());
        } else if bit == 128 {
            visitor = Some(v.into_owned());
        }
    }
    Some((token, visitor))
}

/// The query without its `visitor=` parameter, for the cache key: answers are kept per arm,
/// not per visitor. `None` when the parameter is not written plainly (the route table
/// answers then).
fn without_visitor(query: &str) -> Option<String> {
    let mut dropped = 0;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|part| {
            let is_visitor = part.starts_with("visitor=");
            dropped += usize::from(is_visitor);
            !is_visitor
        })
        .collect();
    (dropped == 1).then(|| kept.join("&"))
}

/// A header's text; `Err` when it is there but not text (the route table answers that).
fn text(headers: &HeaderMap, name: header::HeaderName) -> Result<Option<&str>, ()> {
    headers.get(name).map(|v| v.to_str().map_err(drop)).transpose()
}

fn answer(
    state: &AppState,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let (shop_raw, slot) = fragment_path(path)?;
    let shop: &ShopSettings = state.settings.shops.iter().find(|s| s.id.as_str() == shop_raw)?;
    let query = query?;
    let (token, visitor) = checked_query(query)?;
    // The arm first (an id the widget does not make goes to the route table's 400), then
    // the answer kept for that arm: at most two per query, whatever the visitors.
    let stripped;
    let (query, arm) = match &visitor {
        None => (query, None),
        Some(v) => {
            let v = visitor_id(v).ok()?;
            stripped = without_visitor(query)?;
            (stripped.as_str(), arm_of(shop, v))
        }
    };
    if let (Some(a), Some(v)) = (arm, &visitor) {
        // The product is read from the query only for a visitor not noted before.
        let product = || {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "product")
                .map(|(_, p)| p.into_owned())
        };
        state
            .exposures
            .note(&state.event_log, &state.event_writer, shop, v, a, product);
    }
    let control = control_shows(shop, arm);
    let customer: Option<CustomerId> = match &token {
        Some(t) => Some(customer_from_token(shop, t)?),
        None => None,
    };
    let origin = text(headers, header::ORIGIN).ok()?;
    let inm = text(headers, header::IF_NONE_MATCH).ok()?;
    let host = text(headers, header::HOST).ok()?;
    let accept = text(headers, header::ACCEPT_ENCODING).ok()?;
    // Links are built on the Host only when the shop has no public_url.
    let host = if public_url(state, shop).is_none() {
        host
    } else {
        None
    };
    // Read before the model is (in `prepare`): an answer is never older than its key.
    let generation = state.models.generation();
    let key = KeyRef {
        generation,
        shop: shop_raw,
        slot,
        query,
        host,
        control: control.is_some(),
    };
    let prepared = match state.prepared.get(&key) {
        Some(p) => p,
        None => {
            let ask = Ask {
                shop,
                slot,
                query,
                customer: customer.as_ref(),
                host,
                control,
            };
            let p = std::sync::Arc::new(prepare(state, &ask)?);
            state.prepared.insert(key, p.clone());
            p
        }
    };
    let etag = prepared.etag.to_str().ok()?;
    let fresh = not_modified(inm, etag);
    let encoding = Encoding::chosen(accept);
    let body = if fresh {
        bytes::Bytes::new()
    } else {
        prepared.encoded(encoding)
    };
    let resp = headed(
        body,
        prepared.content_type,
        prepared.etag.clone(),
        prepared.private,
        fresh,
    );
    let mut resp = with_arm(finish(shop, origin, prepared.vary_host, resp), arm);
    let h = resp.headers_mut();
    if let Some(e) = encoding.header_value() {
        h.append(header::CONTENT_ENCODING, HeaderValue::from_static(e));
    }
    h.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    count_answer(resp.status().as_u16());
    Some(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_fragment_paths_are_read() {
        assert_eq!(
            fragment_path("/v1/shops/lengkuas/fragments"),
            Some(("lengkuas", None))
        );
        assert_eq!(
            fragment_path("/v1/shops/lengkuas/fragments/similar"),
            Some(("lengkuas", Some("similar")))
        );
        for other in [
            "/v1/shops/lengkuas/fragments/",
            "/v1/shops/lengkuas/fragments/a/b",
            "/v1/shops/leng%6Buas/fragments",
            "/v1/shops/lengkuas/recommendations",
            "/v1/shops//fragments",
            "/demo",
        ] {
            assert_eq!(fragment_path(other), None, "{other}");
        }
    }

    #[test]
    fn unknown_or_repeated_parameters_go_to_the_route_table() {
        assert_eq!(
            checked_query("product=A&slots=similar&lang=en"),
            Some((None, None))
        );
        assert_eq!(
            checked_query("product=A&customer=t%2B1"),
            Some((Some("t+1".into()), None))
        );
        assert_eq!(
            checked_query("product=A&slots=chat&page=https%3A%2F%2Fx.id%2Fp"),
            Some((None, None))
        );
        assert_eq!(
            checked_query("product=A&visitor=ab"),
            Some((None, Some("ab".into())))
        );
        assert_eq!(checked_query("product=A&visitor=a&visitor=b"), None);
        assert_eq!(checked_query("product=A&page=a&page=b"), None);
        assert_eq!(checked_query("product=A&x=1"), None);
        assert_eq!(checked_query("product=A&product=B"), None);
    }

    #[test]
    fn the_cache_key_leaves_the_visitor_out() {
        assert_eq!(
            without_visitor("slots=similar&product=A&visitor=0f&lang=en").as_deref(),
            Some("slots=similar&product=A&lang=en")
        );
        assert_eq!(without_visitor("visitor=0f").as_deref(), Some(""));
        // Written escaped: not read here.
        assert_eq!(without_visitor("product=A&visit%6Fr=0f"), None);
    }
}
