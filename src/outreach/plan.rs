//! From candidates to messages: the rules every automation keeps, applied in one place so
//! that the preview (`laris automations preview`) and the run decide exactly alike.
//!
//! In order, for each automation of the shop (config order) and each candidate:
//! 1. a message with the same key (shop, automation, customer, period) recorded before is
//!    never made again, whatever happened to it;
//! 2. a customer on the opt-out list (by their id, any id linked to them, or their phone)
//!    gets nothing;
//! 3. a customer who has `weekly_cap` messages from the last 7 days (recorded before or in
//!    this run, cancelled ones aside) gets no more now — the candidate comes back at the
//!    next run while it still qualifies;
//! 4. the message is written from the automation's template in the shop's language.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::ShopSettings;
use crate::domain::CustomerId;
use crate::outreach::qualify::{candidates, Candidate, ShopData};
use crate::outreach::render::render;
use crate::records::{Channel, Customer, Message, MessageStatus, OptOut};

/// What a run would do: the new messages, and the candidates held back with the reason.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Plan {
    pub messages: Vec<Message>,
    pub held: Vec<Held>,
    /// Candidates whose message was recorded before (rule 1): how many, and each with the
    /// status it has now.
    pub recorded_before: usize,
    #[serde(default)]
    pub already: Vec<Recorded>,
}

/// A candidate whose message is recorded already.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub automation: String,
    pub customer: CustomerId,
    pub key: String,
    pub status: MessageStatus,
    pub created_at: DateTime<Utc>,
    /// Why the candidate qualifies now.
    pub qualified: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Held {
    pub automation: String,
    pub customer: CustomerId,
    pub reason: String,
    /// Why the candidate qualified.
    pub qualified: String,
}

/// The idempotency key of the message of `automation` to `customer` about `period`.
pub fn message_key(shop: &ShopSettings, automation: &str, customer: &CustomerId, period: &str) -> String {
    let mut h = Sha256::new();
    for part in [shop.id.as_str(), automation, customer.0.as_str(), period] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `customer` is on the opt-out list, by any of their ids or their phone.
pub fn opted_out(customer: &Customer, opt_outs: &[OptOut]) -> bool {
    opt_outs.iter().any(|o| {
        o.customer == customer.id
            || customer.aliases.contains(&o.customer)
            || (o.phone.is_some() && o.phone == customer.phone)
            || customer.phone.as_deref() == Some(o.customer.0.as_str())
    })
}

/// The plan for `shop` at `now` (see the module doc).
pub fn plan(
    shop: &ShopSettings,
    data: &ShopData,
    existing: &[Message],
    opt_outs: &[OptOut],
    now: DateTime<Utc>,
) -> Plan {
    let known: HashMap<&str, &Message> = existing.iter().map(|m| (m.key.as_str(), m)).collect();
    let week_ago = now - Duration::days(7);
    let mut this_week: HashMap<CustomerId, u32> = HashMap::new();
    for m in existing {
        if m.created_at > week_ago && m.created_at <= now && m.status != MessageStatus::Cancelled {
            *this_week.entry(m.customer.clone()).or_default() += 1;
        }
    }
    let customers: HashMap<&CustomerId, &Customer> = data.customers.iter().map(|c| (&c.id, c)).collect();
    let channel = if shop.outreach.webhook.is_some() {
        Channel::Webhook
    } else {
        Channel::Outbox
    };
    let language = shop.outreach.language.as_str();
    let mut out = Plan::default();
    for automation in &shop.automations {
        for c in candidates(automation, data, now) {
            let Some(customer) = customers.get(&c.customer) else {
                continue;
            };
            let key = message_key(shop, &automation.name, &c.customer, &c.period);
            let held = |reason: String, c: &Candidate| Held {
                automation: automation.name.clone(),
                customer: c.customer.clone(),
                reason,
                qualified: c.reason.english(),
            };
            if let Some(m) = known.get(key.as_str()) {
                out.recorded_before += 1;
                out.already.push(Recorded {
                    automation: automation.name.clone(),
                    customer: c.customer.clone(),
                    key: key.clone(),
                    status: m.status,
                    created_at: m.created_at,
                    qualified: c.reason.english(),
                });
                continue;
            }
            if opted_out(customer, opt_outs) {
                out.held.push(held("opted out".into(), &c));
                continue;
            }
            let sent = this_week.entry(c.customer.clone()).or_default();
            if *sent >= shop.outreach.weekly_cap {
                out.held.push(held(
                    format!(
                        "weekly cap: {} message(s) in the last 7 days, at most {}",
                        sent, shop.outreach.weekly_cap
                    ),
                    &c,
                ));
                continue;
            }
            let text = match render(automation, language, shop, customer, &c) {
                Ok(text) => text,
                Err(e) => {
                    out.held
                        .push(held(format!("the {language} template failed: {e}"), &c));
                    continue;
                }
            };
            *sent += 1;
            out.messages.push(Message {
                key,
                automation: automation.name.clone(),
                kind: automation.kind,
                customer: c.customer.clone(),
                name: customer.name.clone(),
                phone: customer.phone.clone(),
                period: c.period.clone(),
                reason: c.reason.english(),
                why: Some(c.reason.clone()),
                language: language.to_string(),
                text,
                products: c.products.clone(),
                channel,
                status: MessageStatus::Due,
                created_at: now,
                tries: 0,
                next_try: (channel == Channel::Webhook).then_some(now),
                last_error: None,
                sent_at: None,
            });
        }
    }
    out
}
