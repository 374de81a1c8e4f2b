//! `POST /v1/shops/{shop}/events`: the widget's beacons (impression, click, add_to_cart,
//! purchase), as JSON or as the `text/plain` body `navigator.sendBeacon` sends; validated,
//! rate-limited per client address, stored for analytics and attribution. Answers 202.
//!
//! A body may carry the visitor's customer token at the top level (`customer_token`, next
//! to `events` or to a single event's fields); when it verifies, every event of the body
//! is stored with that customer's id, so attribution credits only their own orders.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::domain::ProductId;
use crate::web::{known_shop, reject, with_cors, with_state, AppState};

pub const EVENT_TYPES: &[&str] = &["impression", "click", "add_to_cart", "purchase"];
/// Largest beacon body: a batch of a few dozen events.
const MAX_BODY: u64 = 16 * 1024;
const MAX_EVENTS_PER_BODY: usize = 50;

/// A stored widget event. No personal data: product ids, slot, time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub slot: Option<String>,
    /// The product page the event happened on.
    #[serde(default)]
    pub product: Option<String>,
    /// The recommended product clicked, added or bought.
    #[serde(default)]
    pub item: Option<String>,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    /// The pseudonymous customer id, set by the server from a verified customer token (never
    /// from the body, never personal data); attribution then only credits that customer's orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Body {
    Batch { events: Vec<Event> },
    One(Event),
}

/// A token bucket per client address: `burst` events at once, `per_second` refill.
pub struct RateLimiter {
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
    burst: f64,
    per_second: f64,
}

impl RateLimiter {
    pub fn new(burst: f64, per_second: f64) -> Self {
        RateLimiter {
            buckets: Mutex::new(HashMap::new()),
            burst,
            per_second,
        }
    }

    /// Takes `n` tokens for `ip`; false when the client is over its rate.
    pub fn allow(&self, ip: IpAddr, n: f64) -> bool {
        self.take(ip, n).is_ok()
    }

    /// Takes `n` tokens for `ip`, or says how long until the bucket would hold them
    /// (for `Retry-After`; a day at most).
    pub fn take(&self, ip: IpAddr, n: f64) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let refilled = |tokens: f64, last: Instant, per_second: f64| {
            tokens + now.duration_since(last).as_secs_f64() * per_second
        };
        if buckets.len() > 100_000 {
            // Forget clients whose bucket has filled up again rather than grow without bound.
            let (burst, per_second) = (self.burst, self.per_second);
            buckets.retain(|_, (tokens, last)| refilled(*tokens, *last, per_second) < burst);
        }
        let (tokens, last) = buckets.entry(ip).or_insert((self.burst, now));
        *tokens = refilled(*tokens, *last, self.per_second).min(self.burst);
        *last = now;
        if *tokens >= n {
            *tokens -= n;
            Ok(())
        } else {
            let wait = ((n - *tokens) / self.per_second).min(86_400.0);
            Err(Duration::from_secs_f64(if wait.is_finite() {
                wait
            } else {
                86_400.0
            }))
        }
    }
}

/// Checks an event's type, slot and product ids; the error quotes the bad value.
pub fn check(e: &Event) -> Result<(), String> {
    if !EVENT_TYPES.contains(&e.kind.as_str()) {
        return Err(format!(
            "event type {:?} is unknown: use {}",
            e.kind,
            EVENT_TYPES.join(", ")
        ));
    }
    if let Some(s) = &e.slot {
        if !crate::web::fragments::SLOTS.contains(&s.as_str()) {
            return Err(format!(
                "slot {s:?} is unknown: use {}",
                crate::web::fragments::SLOTS.join(", ")
            ));
        }
    }
    for id in e.product.iter().chain(e.item.iter()) {
        ProductId::parse(id).map_err(|err| err.to_string())?;
    }
    Ok(())
}

fn validate(e: &mut Event) -> Result<(), String> {
    check(e)?;
    // The server's clock, not the client's, dates events.
    e.at = Some(Utc::now());
    // Only a verified customer token may name the customer; a body cannot claim one.
    e.customer = None;
    Ok(())
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
            let parsed: Body = serde_json::from_value(value)
                .map_err(|e| bad(format!("event body is not valid: {e}; {example}")))?;
            let mut events = match parsed {
                Body::Batch { events } => events,
                Body::One(e) => vec![e],
            };
            if events.is_empty() || events.len() > MAX_EVENTS_PER_BODY {
                return Err(bad(format!("send 1 to {MAX_EVENTS_PER_BODY} events per request, not {}", events.len())));
            }
            // After validate(), which clears any `customer` the body claimed.
            let customer = token
                .as_ref()
                .and_then(|t| t.as_str())
                .and_then(|t| crate::web::customer_from_token(&state, &shop, t))
                .map(|id| id.0);
            for e in &mut events {
                validate(e).map_err(bad)?;
                e.customer = customer.clone();
            }
            let ip = client_ip;
            if !state.event_limiter.allow(ip, events.len() as f64) {
                return Err(reject(StatusCode::TOO_MANY_REQUESTS, "too many events from this address: slow down"));
            }
            for e in &events {
                state.store.append_event(&shop, e).map_err(|err| crate::web::internal("storing an event", err))?;
            }
            let reply = warp::reply::with_status(warp::reply::json(&serde_json::json!({"accepted": events.len()})), StatusCode::ACCEPTED);
            Ok::<_, Rejection>(with_cors(&state, &shop, origin.as_deref(), reply))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_rate_is_refused_and_others_are_not() {
        let limiter = RateLimiter::new(3.0, 0.0);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        assert!(limiter.allow(a, 2.0));
        assert!(limiter.allow(a, 1.0));
        assert!(!limiter.allow(a, 1.0));
        assert!(limiter.allow(b, 3.0));
    }

    #[test]
    fn a_refused_client_is_told_how_long_until_it_may_send_again() {
        let limiter = RateLimiter::new(1.0, 1.0 / 60.0);
        let a: IpAddr = [10, 0, 0, 1].into();
        assert_eq!(limiter.take(a, 1.0), Ok(()));
        let wait = limiter.take(a, 1.0).unwrap_err();
        assert!(
            wait > Duration::from_secs(59) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        let never = RateLimiter::new(1.0, 0.0);
        assert_eq!(never.take(a, 1.0), Ok(()));
        assert_eq!(never.take(a, 1.0), Err(Duration::from_secs(86_400)));
    }

    #[test]
    fn unknown_types_and_slots_are_refused_by_name() {
        let mut e = Event {
            kind: "view".into(),
            slot: None,
            product: None,
            item: None,
            at: None,
            customer: None,
        };
        assert!(validate(&mut e).unwrap_err().contains("\"view\""));
        let mut e = Event {
            kind: "click".into(),
            slot: Some("sidebar".into()),
            product: None,
            item: None,
            at: None,
            customer: None,
        };
        assert!(validate(&mut e).unwrap_err().contains("\"sidebar\""));
    }
}
