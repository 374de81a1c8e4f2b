//! `POST /v1/shops/{shop}/events`: the widget's beacons (impression, click, add_to_cart,
//! purchase), as JSON or as the `text/plain` body `navigator.sendBeacon` sends; validated,
//! rate-limited per client address (`429` with `Retry-After` over the rate), stored for
//! analytics and attribution. Answers 202 `{"accepted": n}` once the events are on disk
//! (written in groups with other beacons: [`crate::web::event_writer`]). While the database
//! is unreachable the events are held in memory and the answer is 202 `{"accepted": n,
//! "buffered": true}` (written when it is back; lost if the service stops first); when that
//! queue is full, 503 and the events are dropped and counted.
//!
//! A body may carry the visitor's customer token at the top level (`customer_token`, next
//! to `events` or to a single event's fields); when it verifies, every event of the body
//! is stored with that customer's id, so attribution credits only their own orders.
//!
//! A body may also carry the widget's `visitor` id at the top level (32 lowercase hex
//! digits; anything else is a 400). While the shop runs an experiment each event is stored
//! with it and with the arm this server decides (`web::experiment`); an `arm` in the body
//! is never read. A `purchase` event (`Laris.purchase` on a thank-you page) carries the
//! order id, the total in whole rupiah and the product ids, each checked.

use std::net::IpAddr;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::domain::{ProductId, Rupiah, Slot};
use crate::records::{Event, EventKind};
use crate::web::cors::with_cors;
use crate::web::errors::{internal, reject, retry_after_secs, too_many};
use crate::web::event_writer::Written;
use crate::web::experiment::{arm_name, arm_of, visitor_id};
use crate::web::public::customer_from_token;
use crate::web::state::{known_shop, with_state, AppState};

/// Largest beacon body: a batch of a few dozen events.
const MAX_BODY: u64 = 16 * 1024;
const MAX_EVENTS_PER_BODY: usize = 50;

/// An event as a client sends it: names and ids still unchecked ([`check`] turns it into a
/// stored [`Event`]).
#[derive(Debug, Clone, Deserialize)]
pub struct Beacon {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub slot: Option<String>,
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub item: Option<String>,
    /// Read from seed files only: the server dates the events it receives.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    /// Read from seed files only: a received event names its customer by a verified token.
    #[serde(default)]
    pub customer: Option<String>,
    /// A purchase's order id (text, at most 64 characters).
    #[serde(default)]
    pub order: Option<String>,
    /// A purchase's total in whole rupiah; kept as sent so that a bad value is named.
    #[serde(default)]
    pub total: Option<serde_json::Value>,
    /// A purchase's product ids.
    #[serde(default)]
    pub items: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Body {
    Batch { events: Vec<Beacon> },
    One(Beacon),
}

/// Why a beacon is not an event; the message quotes the bad value and lists the choices.
#[derive(Debug, thiserror::Error)]
pub enum BeaconError {
    #[error("event type {0:?} is unknown: use {names}", names = EventKind::names())]
    Kind(String),
    #[error("slot {0:?} is unknown: use {names}", names = Slot::names(&Slot::RECOMMENDATIONS))]
    Slot(String),
    #[error(transparent)]
    Product(#[from] crate::domain::DomainError),
    #[error("{0}")]
    Purchase(String),
}

/// Longest order id a purchase may carry.
pub const MAX_ORDER_ID: usize = 64;
/// Most products a purchase may list.
pub const MAX_PURCHASE_ITEMS: usize = 100;

/// A purchase's order id, total and items, checked; `None`s and an empty list for any other
/// event, which must not carry them.
type PurchaseParts = (Option<String>, Option<Rupiah>, Vec<ProductId>);

fn purchase_parts(kind: EventKind, b: &Beacon) -> Result<PurchaseParts, BeaconError> {
    let bad = |m: String| BeaconError::Purchase(m);
    if kind != EventKind::Purchase {
        if b.order.is_some() || b.total.is_some() || !b.items.is_empty() {
            return Err(bad(format!(
                "a {} event carries no order, total or items: send those with type \"purchase\"",
                kind.as_str()
            )));
        }
        return Ok((None, None, Vec::new()));
    }
    let example = r#"e.g. {"type":"purchase","order":"INV-1001","total":150000,"items":["SRD-100"]}"#;
    let order = match &b.order {
        Some(o)
            if !o.trim().is_empty()
                && o.chars().count() <= MAX_ORDER_ID
                && !o.chars().any(char::is_control) =>
        {
            o.clone()
        }
        Some(o) => {
            let shown: String = o.chars().take(80).collect();
            return Err(bad(format!(
                "order {shown:?} is not an order id: send the shop's order id as text of 1 to {MAX_ORDER_ID} characters, {example}"
            )));
        }
        None => {
            return Err(bad(format!(
                "a purchase needs order (the shop's order id), {example}"
            )))
        }
    };
    let total = match &b.total {
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => Rupiah(n),
            _ => {
                return Err(bad(format!(
                    "total {v} is not a whole, non-negative number of rupiah: send e.g. 150000 for Rp150.000 (no dots, no decimals, no quotes)"
                )))
            }
        },
        None => return Err(bad(format!("a purchase needs total (whole rupiah), {example}"))),
    };
    if b.items.len() > MAX_PURCHASE_ITEMS {
        return Err(bad(format!(
            "a purchase lists at most {MAX_PURCHASE_ITEMS} items, not {}",
            b.items.len()
        )));
    }
    let items = b
        .items
        .iter()
        .map(|i| ProductId::parse(i))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((Some(order), Some(total), items))
}

/// Checks a beacon's type, slot and product ids and makes it an event.
pub fn check(b: &Beacon) -> Result<Event, BeaconError> {
    let kind = EventKind::parse(&b.kind).ok_or_else(|| BeaconError::Kind(b.kind.clone()))?;
    let slot = match &b.slot {
        None => None,
        Some(s) => Some(
            Slot::parse(s)
                .filter(|s| Slot::RECOMMENDATIONS.contains(s))
                .ok_or_else(|| BeaconError::Slot(s.clone()))?,
        ),
    };
    let id = |raw: &Option<String>| raw.as_deref().map(ProductId::parse).transpose();
    let (order, total, items) = purchase_parts(kind, b)?;
    Ok(Event {
        kind,
        slot,
        product: id(&b.product)?,
        item: id(&b.item)?,
        at: b.at,
        customer: b.customer.clone(),
        visitor: None,
        arm: None,
        order,
        total,
        items,
    })
}

/// POST /v1/shops/{shop}/events
pub fn events(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / "events")
        .and(warp::post())
        .and(crate::web::client::address(&state))
        .and(warp::header::optional::<String>("origin"))
        .and(warp::body::content_length_limit(MAX_BODY))
        .and(warp::body::bytes())
        .and(with_state(state))
        .and_then(|shop: String, client_ip: IpAddr, origin: Option<String>, body: Bytes, state: AppState| async move {
            let shop = known_shop(&state, &shop)?;
            let bad = |m: String| reject(StatusCode::BAD_REQUEST, m);
            let example = r#"send {"type":"click","slot":"similar","product":"SRD-100","item":"TPG-100"}"#;
            let mut value: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| bad(format!("event body is not valid: {e}; {example}")))?;
            let token = value.as_object_mut().and_then(|o| o.remove("customer_token"));
            // The visitor id sits next to the events, like the token; an arm in the body is
            // never read (the server decides it).
            let visitor = value.as_object_mut().and_then(|o| o.remove("visitor"));
            let visitor = match visitor {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(v)) => Some(visitor_id(&v).map_err(bad)?.to_string()),
                Some(other) => return Err(bad(visitor_id(&other.to_string()).unwrap_err())),
            };
            if let Some(o) = value.as_object_mut() {
                o.remove("arm");
            }
            let parsed: Body = serde_json::from_value(value)
                .map_err(|e| bad(format!("event body is not valid: {e}; {example}")))?;
            let beacons = match parsed {
                Body::Batch { events } => events,
                Body::One(e) => vec![e],
            };
            if beacons.is_empty() || beacons.len() > MAX_EVENTS_PER_BODY {
                return Err(bad(format!("send 1 to {MAX_EVENTS_PER_BODY} events per request, not {}", beacons.len())));
            }
            let customer = token
                .as_ref()
                .and_then(|t| t.as_str())
                .and_then(|t| customer_from_token(shop, t))
                .map(|id| id.0);
            let mut events = Vec::with_capacity(beacons.len());
            for b in &beacons {
                let mut e = check(b).map_err(|e| bad(e.to_string()))?;
                // The server's clock, not the client's, dates events, and only a verified
                // customer token names the customer.
                e.at = Some(Utc::now());
                e.customer = customer.clone();
                // A visitor id is kept only while the shop splits visitors, with its arm.
                if let Some(v) = &visitor {
                    if let Some(a) = arm_of(shop, v) {
                        e.visitor = Some(v.clone());
                        e.arm = Some(arm_name(a).to_string());
                    }
                }
                events.push(e);
            }
            let ip = client_ip;
            if let Err(wait) = state.event_limiter.take(ip, events.len() as f64) {
                let secs = retry_after_secs(wait);
                return Err(too_many(
                    format!("too many events from this address: send again in {secs} seconds (Retry-After), and batch events"),
                    wait,
                ));
            }
            if state.event_log.take(&shop.id, events.len()).is_err() {
                return Err(reject(StatusCode::TOO_MANY_REQUESTS, "too many events for this shop right now: slow down"));
            }
            // All or none, written with whatever else arrived meanwhile, and on disk before
            // the 202 says they were stored; while the database is unreachable, held in
            // memory and answered `"buffered": true`.
            let n = events.len();
            let body = match state.event_writer.write(shop.id.clone(), events).await {
                Written::Stored => serde_json::json!({"accepted": n}),
                Written::Buffered => serde_json::json!({"accepted": n, "buffered": true}),
                Written::Dropped => {
                    return Err(reject(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("the database is unreachable and the event queue is full: these {n} events were dropped (counted in /metrics); Laris retries by itself, send events again later"),
                    ))
                }
                Written::Failed(err) => return Err(internal("storing events", err)),
            };
            if state.event_log.over_cap(&shop.id) {
                let (log, store, shop) = (state.event_log.clone(), state.store.clone(), shop.id.clone());
                tokio::task::spawn_blocking(move || match log.prune(&*store, &shop, Utc::now()) {
                    Ok(n) => tracing::info!(shop = %shop, removed = n, "events over the shop's cap pruned, oldest first"),
                    Err(e) => tracing::warn!(shop = %shop, error = %e, "pruning events failed"),
                });
            }
            let reply = warp::reply::with_status(warp::reply::json(&body), StatusCode::ACCEPTED);
            Ok::<_, Rejection>(with_cors(shop, origin.as_deref(), reply))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_and_slots_are_refused_by_name() {
        let beacon = |kind: &str, slot: Option<&str>| Beacon {
            kind: kind.into(),
            slot: slot.map(String::from),
            product: Some("SRD-100".into()),
            item: None,
            at: None,
            customer: None,
            order: None,
            total: None,
            items: Vec::new(),
        };
        assert!(check(&beacon("view", None))
            .unwrap_err()
            .to_string()
            .contains("\"view\""));
        assert!(check(&beacon("click", Some("sidebar")))
            .unwrap_err()
            .to_string()
            .contains("\"sidebar\""));
        assert!(check(&beacon("click", Some("feedback"))).is_err());
        // The chat button is not a recommendation: its clicks would count as attributed sales.
        assert!(check(&beacon("click", Some("chat"))).is_err());
        let event = check(&beacon("add_to_cart", Some("for_you"))).unwrap();
        assert_eq!(
            (event.kind, event.slot),
            (EventKind::AddToCart, Some(Slot::ForYou))
        );
    }
}
