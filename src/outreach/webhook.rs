//! Delivering a message to the shop's webhook: a JSON POST, signed, with the message's
//! idempotency key, and what a try's outcome means for the message.
//!
//! Headers of every try:
//! - `Laris-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the secret>`
//!   — a receiver recomputes it over the raw body, compares in constant time, and refuses a
//!   `t` more than 5 minutes from its clock (a replayed request);
//! - `Idempotency-Key: <message key>` — the same on every try of a message (also `id` in
//!   the body): a receiver that already handled the key answers 2xx and does nothing, so a
//!   try repeated after a crash or a lost answer never sends twice;
//! - `Content-Type: application/json`, `User-Agent: laris/<version>`.
//!
//! A 2xx answer delivers the message. A 4xx other than 408, 425 and 429 is final (the
//! receiver refuses this message: retrying would not help): the message fails at once. Any
//! other answer, a refused connection or a timeout is retried after a backoff that doubles
//! from `webhook_backoff_secs` (at most 6 hours; a longer `Retry-After` wins), until
//! `webhook_tries` tries failed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::config::outreach::Webhook;
use crate::domain::{wa_link, ShopId};
use crate::records::{Message, MessageProduct};

/// The longest wait between two tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

/// How long a try may take before it counts as failed.
pub const TRY_TIMEOUT: Duration = Duration::from_secs(15);

/// The JSON body of a try.
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    /// The idempotency key.
    pub id: &'a str,
    pub event: &'static str,
    pub shop: &'a str,
    pub automation: &'a str,
    pub kind: &'static str,
    pub created_at: DateTime<Utc>,
    /// 1 for the first try.
    pub attempt: u32,
    pub customer: PayloadCustomer<'a>,
    pub language: &'a str,
    pub text: &'a str,
    pub products: &'a [MessageProduct],
    /// A `wa.me` link carrying the text (to the customer's number when known).
    pub whatsapp_url: String,
}

#[derive(Debug, Serialize)]
pub struct PayloadCustomer<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub phone: Option<&'a str>,
}

/// The `wa.me` link that sends `m` (to the customer's number when known).
pub fn whatsapp_url(m: &Message) -> String {
    wa_link(m.phone.as_deref().unwrap_or(""), &m.text)
}

pub fn payload<'a>(shop: &'a ShopId, m: &'a Message) -> Payload<'a> {
    Payload {
        id: &m.key,
        event: "message.due",
        shop: shop.as_str(),
        automation: &m.automation,
        kind: m.kind.as_str(),
        created_at: m.created_at,
        attempt: m.tries + 1,
        customer: PayloadCustomer {
            id: &m.customer.0,
            name: m.name.as_deref(),
            phone: m.phone.as_deref(),
        },
        language: &m.language,
        text: &m.text,
        products: &m.products,
        whatsapp_url: whatsapp_url(m),
    }
}

/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

/// What one try came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Try again (after at least `retry_after` when the receiver said so).
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// The receiver refused the message itself: give up now.
    Refused {
        error: String,
    },
}

/// The wait before try `tries + 1` after `tries` failed ones (at least 1).
pub fn backoff(base: Duration, tries: u32) -> Duration {
    let doubled = base.saturating_mul(1u32 << tries.saturating_sub(1).min(20));
    doubled.min(MAX_BACKOFF)
}

/// Makes one try of `m` to `hook` at `now`.
pub async fn try_once(
    client: &reqwest::Client,
    hook: &Webhook,
    shop: &ShopId,
    m: &Message,
    now: DateTime<Utc>,
) -> Outcome {
    let body = serde_json::to_vec(&payload(shop, m)).expect("a payload serialises to JSON");
    let sent = client
        .post(hook.url.clone())
        .timeout(TRY_TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Laris-Signature", signature(&hook.secret, now.timestamp(), &body))
        .header("Idempotency-Key", &m.key)
        .body(body)
        .send()
        .await;
    let resp = match sent {
        Ok(resp) => resp,
        Err(e) => {
            let what = if e.is_timeout() {
                format!("no answer within {} s", TRY_TIMEOUT.as_secs())
            } else if e.is_connect() {
                "cannot connect".to_string()
            } else {
                "the request failed".to_string()
            };
            return Outcome::Retry {
                error: format!("{what}: {e}"),
                retry_after: None,
            };
        }
    };
    let status = resp.status();
    if status.is_success() {
        return Outcome::Delivered;
    }
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = resp.text().await.unwrap_or_default();
    let snippet: String = text.chars().take(200).collect();
    let error = format!(
        "the webhook answered {status}{}",
        if snippet.is_empty() {
            String::new()
        } else {
            format!(": {snippet}")
        }
    );
    let code = status.as_u16();
    if status.is_client_error() && !matches!(code, 408 | 425 | 429) {
        Outcome::Refused {
            error: format!("{error} (a 4xx refuses the message itself, so it is not retried; fix the receiver, then send it again from the outbox)"),
        }
    } else {
        Outcome::Retry { error, retry_after }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Computed independently: python3 -c 'import hmac,hashlib;
        // print(hmac.new(b"0123456789abcdef", b"1733500000.{\"id\":\"k\"}", hashlib.sha256).hexdigest())'
        assert_eq!(
            signature("0123456789abcdef", 1_733_500_000, br#"{"id":"k"}"#),
            "t=1733500000,v1=de7af8797670bbbe2b43ca40abbf0b3dca6a136086ae86fee3e6147453e78308"
        );
    }

    #[test]
    fn the_backoff_doubles_up_to_six_hours() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), Duration::from_secs(30));
        assert_eq!(backoff(base, 2), Duration::from_secs(60));
        assert_eq!(backoff(base, 4), Duration::from_secs(240));
        assert_eq!(backoff(base, 30), MAX_BACKOFF);
    }
}
