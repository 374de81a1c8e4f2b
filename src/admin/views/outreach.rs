//! The outbox and opt-out pages: the follow-up messages the shop's automations recorded —
//! those that wait for the owner to send by hand (a `wa.me` link each), the recent ones of
//! every status — and the customers who asked for no messages.
//!
//! Opting a customer out also cancels their due messages, so they leave the outbox and the
//! webhook never gets them. Removing an opt-out does not bring cancelled messages back:
//! the automations write again when the customer next qualifies for a new period.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::admin::csv::text_cell as cell;
use crate::admin::views::queries::{msg, quoted, PageError};
use crate::config::ShopSettings;
use crate::domain::{phone, CustomerId};
use crate::outreach::webhook::whatsapp_url;
use crate::records::{Channel, Customer, Message, MessageStatus, OptOut, Why};
use crate::store::ShopStore;

/// Messages of every status the outbox page lists under "recent".
pub const RECENT_LISTED: usize = 200;

/// The longest note an opt-out keeps.
pub const MAX_NOTE_CHARS: usize = 500;

/// What `last_error` says of a message cancelled by an opt-out.
pub const OPTED_OUT: &str = "opted out";

/// A due message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxRow {
    pub key: String,
    pub customer: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub automation: String,
    pub reason: String,
    /// The reason as the dashboard translates it (none for messages recorded before).
    pub why: Option<Why>,
    pub text: String,
    pub created_at: DateTime<Utc>,
    /// Whole days it has waited.
    pub waiting_days: i64,
    /// Opens WhatsApp with the text: to the customer's number, or (without one) letting the
    /// owner pick the chat.
    pub whatsapp_url: String,
}

/// A message as the API and the "recent" list show it: the record and its `wa.me` link.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRow {
    #[serde(flatten)]
    pub message: Message,
    pub whatsapp_url: String,
}

impl MessageRow {
    fn of(message: Message) -> MessageRow {
        MessageRow {
            whatsapp_url: whatsapp_url(&message),
            message,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxPage {
    /// Due outbox messages, oldest first (the order to send them in).
    pub due: Vec<OutboxRow>,
    /// The latest [`RECENT_LISTED`] messages of every status and channel, newest first.
    pub recent: Vec<MessageRow>,
    /// Messages per status (`due`, `sent`, `failed`, `cancelled`), every channel.
    pub counts: BTreeMap<String, usize>,
    /// Whether the shop has a webhook (its messages go there, not to the outbox).
    pub webhook: bool,
    /// Whether the shop has any automation.
    pub automations: usize,
}

fn counts(messages: &[Message]) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, usize> = MessageStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    for m in messages {
        *counts.entry(m.status.as_str().to_string()).or_default() += 1;
    }
    counts
}

/// The outbox page: the due outbox messages, the recent messages and the counts.
pub fn outbox(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    now: DateTime<Utc>,
) -> Result<OutboxPage, PageError> {
    let messages = store.messages(&shop.id)?;
    let counts = counts(&messages);
    let due = messages
        .iter()
        .filter(|m| m.status == MessageStatus::Due && m.channel == Channel::Outbox)
        .map(|m| OutboxRow {
            key: m.key.clone(),
            customer: m.customer.0.clone(),
            name: m.name.clone(),
            phone: m.phone.clone(),
            automation: m.automation.clone(),
            reason: m.reason.clone(),
            why: m.why.clone(),
            text: m.text.clone(),
            created_at: m.created_at,
            waiting_days: (now - m.created_at).num_days().max(0),
            whatsapp_url: whatsapp_url(m),
        })
        .collect();
    let recent = messages
        .into_iter()
        .rev()
        .take(RECENT_LISTED)
        .map(MessageRow::of)
        .collect();
    Ok(OutboxPage {
        due,
        recent,
        counts,
        webhook: shop.outreach.webhook.is_some(),
        automations: shop.automations.len(),
    })
}

/// `?status=` of the messages API.
pub fn parse_message_status(raw: &str) -> Result<MessageStatus, PageError> {
    let wanted = raw.trim().to_ascii_lowercase();
    MessageStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == wanted)
        .ok_or_else(|| {
            PageError::BadQuery(msg(
                "status={value} is not valid: use {choices}",
                &[
                    ("value", &quoted(raw)),
                    ("choices", "due, sent, failed or cancelled"),
                ],
            ))
        })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessagesPage {
    /// Newest first.
    pub messages: Vec<MessageRow>,
    /// Messages per status, every channel (whatever the filter).
    pub counts: BTreeMap<String, usize>,
}

/// Every message of the shop, newest first, optionally of one status.
pub fn messages(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    status: Option<MessageStatus>,
) -> Result<MessagesPage, PageError> {
    let all = store.messages(&shop.id)?;
    let counts = counts(&all);
    let messages = all
        .into_iter()
        .rev()
        .filter(|m| status.is_none_or(|s| m.status == s))
        .map(MessageRow::of)
        .collect();
    Ok(MessagesPage { messages, counts })
}

/// Marks a message sent by hand (the owner sent it on WhatsApp) and returns it as it now
/// is. A due message, or a webhook message that failed every try, becomes sent at `now`;
/// one already sent stays as it was; a cancelled one (the customer opted out) is refused.
pub fn mark_sent(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Message, PageError> {
    let Some(mut m) = store.message(&shop.id, key)? else {
        return Err(PageError::NotFound(msg(
            "unknown message {key} in shop {shop}",
            &[("key", &quoted(key)), ("shop", shop.id.as_str())],
        )));
    };
    match m.status {
        MessageStatus::Sent => return Ok(m),
        MessageStatus::Cancelled => {
            return Err(PageError::BadQuery(msg(
                "message {key} was cancelled because the customer opted out: do not send it, or remove the opt-out first and let the automations write again",
                &[("key", &quoted(key))],
            )))
        }
        MessageStatus::Due | MessageStatus::Failed => {}
    }
    m.status = MessageStatus::Sent;
    m.sent_at = Some(now);
    m.next_try = None;
    m.last_error = None;
    if !store.update_message(&shop.id, &m)? {
        return Err(PageError::NotFound(msg(
            "unknown message {key} in shop {shop}",
            &[("key", &quoted(key)), ("shop", shop.id.as_str())],
        )));
    }
    Ok(m)
}

/// An opt-out as the page lists it, with the customer's name when the shop knows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptOutRow {
    pub customer: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub at: DateTime<Utc>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptOutsPage {
    /// Newest first.
    pub opt_outs: Vec<OptOutRow>,
}

/// The shop's opt-outs, newest first.
pub fn opt_outs(store: &dyn ShopStore, shop: &ShopSettings) -> Result<OptOutsPage, PageError> {
    let mut list = store.opt_outs(&shop.id)?;
    list.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.customer.0.cmp(&b.customer.0)));
    let customers = if list.is_empty() {
        Vec::new()
    } else {
        store.customers(&shop.id)?
    };
    let opt_outs = list
        .into_iter()
        .map(|o| OptOutRow {
            name: customers
                .iter()
                .find(|c| c.id == o.customer)
                .and_then(|c| c.name.clone()),
            customer: o.customer.0,
            phone: o.phone,
            at: o.at,
            note: o.note,
        })
        .collect();
    Ok(OptOutsPage { opt_outs })
}

/// What adding an opt-out did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptOutAdded {
    pub opt_out: OptOut,
    /// The customer's due messages it cancelled.
    pub cancelled: usize,
}

/// The customer `input` names: a customer id (or one of a customer's linked ids), or a
/// phone number of a customer; `None` when no customer matches.
fn find_customer<'a>(
    customers: &'a [Customer],
    input: &str,
    phone_key: Option<&str>,
) -> Option<&'a Customer> {
    customers
        .iter()
        .find(|c| c.id.0 == input || c.aliases.iter().any(|a| a.0 == input))
        .or_else(|| {
            let key = phone_key?;
            customers.iter().find(|c| c.phone.as_deref() == Some(key))
        })
}

/// Opts a customer out: `input` is a customer id as `laris customers` lists it, or a phone
/// number in any usual form (`0812-3456-789`, `+62 812 3456 789`). A phone number that
/// matches no customer is kept as it is (a customer not imported yet). The customer's due
/// messages are cancelled.
pub fn add_opt_out(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    input: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<OptOutAdded, PageError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(PageError::BadQuery(msg(
            "customer is empty: give a customer id as laris customers lists it, or a phone number like 0812-3456-789",
            &[],
        )));
    }
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(PageError::BadQuery(msg(
            "the note has {n} characters: keep it to {max}",
            &[
                ("n", &note.chars().count().to_string()),
                ("max", &MAX_NOTE_CHARS.to_string()),
            ],
        )));
    }
    let phone_key = phone::normalise(input).ok();
    let customers = store.customers(&shop.id)?;
    let (customer, phone, aliases) = match find_customer(&customers, input, phone_key.as_deref()) {
        Some(c) => (c.id.clone(), c.phone.clone().or(phone_key), c.aliases.clone()),
        None => match phone_key {
            Some(key) => (CustomerId(key.clone()), Some(key), Vec::new()),
            None => {
                return Err(PageError::BadQuery(msg(
                    "{value} is neither a customer of shop {shop} nor a phone number: give a customer id as laris customers lists it, or a phone number like 0812-3456-789",
                    &[("value", &quoted(input)), ("shop", shop.id.as_str())],
                )))
            }
        },
    };
    let opt_out = OptOut {
        customer,
        phone,
        at: now,
        note: note.to_string(),
    };
    store.put_opt_out(&shop.id, &opt_out)?;
    let list = std::slice::from_ref(&opt_out);
    let mut cancelled = 0;
    for mut m in store.messages(&shop.id)? {
        let theirs = crate::outreach::is_opted_out(&m, list) || aliases.contains(&m.customer);
        if m.status == MessageStatus::Due && theirs {
            m.status = MessageStatus::Cancelled;
            m.next_try = None;
            m.last_error = Some(OPTED_OUT.to_string());
            if store.update_message(&shop.id, &m)? {
                cancelled += 1;
            }
        }
    }
    Ok(OptOutAdded { opt_out, cancelled })
}

/// Removes a customer's opt-out (`customer` as the opt-out list names it). Messages it
/// cancelled stay cancelled.
pub fn remove_opt_out(store: &dyn ShopStore, shop: &ShopSettings, customer: &str) -> Result<(), PageError> {
    let id = CustomerId(customer.trim().to_string());
    if store.remove_opt_out(&shop.id, &id)? {
        return Ok(());
    }
    Err(PageError::NotFound(msg(
        "no opt-out of customer {customer} in shop {shop}",
        &[("customer", &quoted(customer)), ("shop", shop.id.as_str())],
    )))
}

/// The due outbox messages as CSV, oldest first: times in RFC 3339 in the shop's zone
/// (`offset`), to the second.
pub fn outbox_csv(
    rows: &[OutboxRow],
    offset: chrono::FixedOffset,
    out: &mut dyn std::io::Write,
) -> Result<(), PageError> {
    let failed = |e: csv::Error| PageError::Internal(e.to_string());
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "key",
        "created_at",
        "customer",
        "name",
        "phone",
        "automation",
        "text",
        "whatsapp_url",
    ])
    .map_err(failed)?;
    for r in rows {
        w.write_record([
            cell(&r.key),
            r.created_at
                .with_timezone(&offset)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            cell(&r.customer),
            cell(r.name.as_deref().unwrap_or_default()),
            cell(r.phone.as_deref().unwrap_or_default()),
            cell(&r.automation),
            cell(&r.text),
            cell(&r.whatsapp_url),
        ])
        .map_err(failed)?;
    }
    w.flush().map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_that_a_spreadsheet_would_run_as_a_formula_is_quoted() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+62812"), "'+62812");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("Halo Budi"), "Halo Budi");
        assert_eq!(cell("https://wa.me/62812?text=x"), "https://wa.me/62812?text=x");
    }

    #[test]
    fn a_message_status_parses_or_names_the_value_and_the_choices() {
        assert_eq!(parse_message_status("Sent").unwrap(), MessageStatus::Sent);
        let e = parse_message_status("done").unwrap_err().to_string();
        assert_eq!(
            e,
            "status=\"done\" is not valid: use due, sent, failed or cancelled"
        );
    }
}
