//! Follow-up messages the shop's automations decide on, and the customers who asked for none.
//!
//! A [`Message`] is recorded once, under its [`Message::key`] (made from the shop, the
//! automation, the customer and the period it is about), before anything is sent: recording
//! the same key again changes nothing, so a message is never made twice for the same
//! customer, trigger and period, and a crash after "due" leaves it due, not lost. Its status
//! then moves from [`MessageStatus::Due`] to sent, failed or cancelled. The customer's phone
//! and name in it are personal data: the admin's outbox and the shop's own webhook only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::text::fill_places;
use crate::domain::{CustomerId, ProductId, Rupiah};

/// What an automation reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutomationKind {
    /// Some days after a purchase: products the model suggests with what was bought.
    PostPurchase,
    /// A product the customer buys again and again, once their usual interval has passed.
    Replenish,
    /// A customer who moved into a lapsing RFM segment ("At risk", "Hibernating").
    WinBack,
    /// A customer who reached a higher loyalty tier.
    TierUp,
}

impl AutomationKind {
    pub const ALL: [AutomationKind; 4] = [
        AutomationKind::PostPurchase,
        AutomationKind::Replenish,
        AutomationKind::WinBack,
        AutomationKind::TierUp,
    ];
    pub const CHOICES: &'static str = "post_purchase, replenish, win_back or tier_up";

    pub fn parse(raw: &str) -> Option<AutomationKind> {
        let wanted = raw.trim().replace('-', "_").to_ascii_lowercase();
        AutomationKind::ALL.into_iter().find(|k| k.as_str() == wanted)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AutomationKind::PostPurchase => "post_purchase",
            AutomationKind::Replenish => "replenish",
            AutomationKind::WinBack => "win_back",
            AutomationKind::TierUp => "tier_up",
        }
    }
}

/// How a message reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// POSTed, signed, to the shop's webhook (its mailer or WhatsApp Business provider).
    Webhook,
    /// Waits in the admin's outbox for the owner to send by hand (a `wa.me` link).
    Outbox,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::Outbox => "outbox",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Recorded, not sent yet (a webhook message may have failed tries: see `tries`).
    Due,
    /// The webhook answered 2xx, or the owner marked it sent.
    Sent,
    /// The webhook failed every try; `last_error` says why.
    Failed,
    /// Not sent because the customer opted out after it was recorded.
    Cancelled,
}

impl MessageStatus {
    pub const ALL: [MessageStatus; 4] = [
        MessageStatus::Due,
        MessageStatus::Sent,
        MessageStatus::Failed,
        MessageStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Due => "due",
            MessageStatus::Sent => "sent",
            MessageStatus::Failed => "failed",
            MessageStatus::Cancelled => "cancelled",
        }
    }
}

/// A product a message suggests or reminds of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageProduct {
    pub id: ProductId,
    pub name: String,
    pub price: Rupiah,
    /// The product's page, when the catalogue knows it.
    #[serde(default)]
    pub url: Option<String>,
}

/// Why a customer qualifies for a message, as the owner reads it: an English sentence
/// with `{name}` places (`"in segment {segment}: {orders} orders, …"`), their values, and
/// for a list (the products due again) its items, each a `Why` of its own, joined with
/// "; " into the place `{items}`. The dashboard translates each sentence before its
/// places are filled ([`Why::render`]); [`Why::english`] is the message's `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Why {
    pub text: String,
    #[serde(default)]
    pub args: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Why>,
}

impl Why {
    pub fn new(text: &str) -> Why {
        Why {
            text: text.to_string(),
            ..Why::default()
        }
    }

    /// The value of the place `{name}`.
    pub fn arg(mut self, name: &str, value: impl ToString) -> Why {
        self.args.push((name.to_string(), value.to_string()));
        self
    }

    /// The items of the place `{items}`.
    pub fn items(mut self, items: Vec<Why>) -> Why {
        self.items = items;
        self
    }

    /// The sentence, each text (this one's and its items') passed through `translate`
    /// before its places are filled. Values are put in as they are: a `{…}` inside a value
    /// (a product name) is not a place.
    pub fn render(&self, translate: &dyn Fn(&str) -> String) -> String {
        let items: Vec<String> = self.items.iter().map(|i| i.render(translate)).collect();
        let items = items.join("; ");
        fill_places(&translate(&self.text), |name| {
            if name == "items" {
                Some(items.as_str())
            } else {
                self.args.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
            }
        })
    }

    /// The sentence in English.
    pub fn english(&self) -> String {
        self.render(&|text| text.to_string())
    }
}

/// One follow-up message, as recorded (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The idempotency key: the same for the same shop, automation, customer and period,
    /// sent with every webhook try.
    pub key: String,
    /// The automation's name in config.
    pub automation: String,
    pub kind: AutomationKind,
    pub customer: CustomerId,
    /// Personal data: the customer's name and phone key (`628…`), when known.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// What the message is about: an invoice, a product and its last purchase, a segment
    /// entry, a tier.
    pub period: String,
    /// Why the customer qualifies, in plain English (for the owner).
    pub reason: String,
    /// The same, as the dashboard shows it in the owner's language. Messages recorded
    /// before it existed have none (the dashboard shows `reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<Why>,
    /// `id` or `en`.
    pub language: String,
    pub text: String,
    #[serde(default)]
    pub products: Vec<MessageProduct>,
    pub channel: Channel,
    pub status: MessageStatus,
    pub created_at: DateTime<Utc>,
    /// Webhook tries made so far.
    #[serde(default)]
    pub tries: u32,
    /// When the next webhook try is due (backoff, quiet hours).
    #[serde(default)]
    pub next_try: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub sent_at: Option<DateTime<Utc>>,
}

/// A customer who asked for no messages. Kept by customer id; `phone` (the phone key)
/// catches the same person under another id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    pub customer: CustomerId,
    #[serde(default)]
    pub phone: Option<String>,
    pub at: DateTime<Utc>,
    /// The owner's note (how they asked).
    #[serde(default)]
    pub note: String,
}
