//! The records Laris keeps per shop: products, orders, customers, sync reports,
//! quarantined feed records, the widget's events, and the markers and cursors that say how
//! far a run, a source or the first-start seeding got. Plain data; the store encodes them,
//! feeds produce them.
//!
//! Every field added later must carry `#[serde(default)]` so that records written by an
//! older Laris still decode (the store's encoding is versioned JSON).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{CustomerId, OrderStatus, PackSize, ProductId, Rupiah, Slot};

pub mod outreach;
pub use outreach::{AutomationKind, Channel, Message, MessageProduct, MessageStatus, OptOut, Why};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProductStatus {
    Active,
    Inactive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    /// The marketplace's own product id (order lines refer to it), kept as text.
    #[serde(default)]
    pub marketplace_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub sku: Option<String>,
    pub price: Rupiah,
    /// `None`: the shop does not track stock for it.
    #[serde(default)]
    pub stock: Option<i64>,
    pub status: ProductStatus,
    /// Category path from the root, e.g. `["Makanan & Minuman", "Bumbu & Rempah"]`.
    #[serde(default)]
    pub category: Vec<String>,
    #[serde(default)]
    pub weight_grams: Option<u32>,
    #[serde(default)]
    pub pack: Option<PackSize>,
    /// Form, flavour, colour, … (keys lower-case, e.g. `bentuk`, `rasa`).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub sold_count: Option<u64>,
    pub updated_at: DateTime<Utc>,
}

impl Product {
    /// An active product with its name, price and category path, its pack size read from
    /// the name, and nothing else known yet (stock untracked, no attributes, SKU or links).
    pub fn new(id: ProductId, name: &str, price: Rupiah, category: Vec<String>) -> Product {
        Product {
            id,
            marketplace_id: None,
            name: name.to_string(),
            sku: None,
            price,
            stock: None,
            status: ProductStatus::Active,
            category,
            weight_grams: None,
            pack: PackSize::find_in(name),
            attributes: Default::default(),
            description: String::new(),
            image: None,
            url: None,
            sold_count: None,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    /// Active and in stock (or stock not tracked): the only products that may be recommended.
    pub fn is_available(&self) -> bool {
        self.status == ProductStatus::Active && self.stock.is_none_or(|s| s > 0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Our product id when the line's product is known; a line for an unknown product is kept.
    #[serde(default)]
    pub product: Option<ProductId>,
    #[serde(default)]
    pub marketplace_product_id: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Rupiah,
}

impl OrderLine {
    pub fn total(&self) -> Rupiah {
        Rupiah(self.unit_price.0 * i64::from(self.quantity))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// The invoice number (`INV/20261102/MPL/3512345678`): the order's key.
    pub invoice: String,
    #[serde(default)]
    pub marketplace_id: Option<String>,
    pub customer: CustomerId,
    /// Personal data: admin pages and the owner's exports only, never a widget fragment.
    #[serde(default)]
    pub buyer_name: Option<String>,
    /// The buyer's phone as its customer key (`628…`, [`crate::domain::phone::normalise`]).
    /// Personal data, like `buyer_name`.
    #[serde(default)]
    pub phone: Option<String>,
    /// The city the order was shipped to. Personal data, like `buyer_name`.
    #[serde(default)]
    pub city: Option<String>,
    pub status: OrderStatus,
    pub created_at: DateTime<Utc>,
    pub paid_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub lines: Vec<OrderLine>,
    /// Sum of the lines, without shipping.
    pub products_total: Rupiah,
    #[serde(default)]
    pub shipping: Rupiah,
}

impl Order {
    pub fn is_purchase(&self) -> bool {
        self.status.is_purchase()
    }
}

/// A customer as derived from their orders (only purchases count toward spend).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    /// Personal data, from the latest order that named them.
    #[serde(default)]
    pub name: Option<String>,
    /// Personal data: the phone key (`628…`) and city of the latest order that had them.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    /// Other ids their orders carry (a marketplace buyer id, the name hash older Laris
    /// gave), linked to this one ([`crate::domain::phone`]); a token for any of them is theirs.
    #[serde(default)]
    pub aliases: Vec<CustomerId>,
    pub total_spend: Rupiah,
    pub order_count: u32,
    pub first_order: DateTime<Utc>,
    pub last_order: DateTime<Utc>,
    pub average_order_value: Rupiah,
    /// Loyalty tier name, set by the model rebuild.
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub tier_since: Option<DateTime<Utc>>,
    /// Every tier change: (date, new tier), oldest first.
    #[serde(default)]
    pub tier_history: Vec<(DateTime<Utc>, String)>,
    /// Rupiah still needed for the next tier (none at the top).
    #[serde(default)]
    pub next_tier_needed: Option<Rupiah>,
    /// RFM segment name and scores, set by the model rebuild.
    #[serde(default)]
    pub segment: Option<String>,
    #[serde(default)]
    pub rfm: Option<Rfm>,
}

impl Customer {
    /// A customer seen first (and last) at `at`, with nothing counted yet.
    pub fn first_seen(id: CustomerId, at: DateTime<Utc>) -> Customer {
        Customer {
            id,
            name: None,
            phone: None,
            city: None,
            aliases: Vec::new(),
            total_spend: Rupiah(0),
            order_count: 0,
            first_order: at,
            last_order: at,
            average_order_value: Rupiah(0),
            tier: None,
            tier_since: None,
            tier_history: Vec::new(),
            next_tier_needed: None,
            segment: None,
            rfm: None,
        }
    }
}

/// A customer's RFM scores, each 1..=5 (5 best): recency, frequency, monetary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rfm {
    pub r: u8,
    pub f: u8,
    pub m: u8,
}

/// Counts of one record kind in one import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertCounts {
    pub seen: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl UpsertCounts {
    pub fn add(&mut self, other: &UpsertCounts) {
        self.seen += other.seen;
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// What kind of run wrote a [`SyncReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    /// A recorded feed replayed (`laris replay`, the admin replay button, serve-seeding).
    Replay,
    /// A scheduled or manual pull from the shop's sources.
    Sync,
    /// Export files read by `laris import`.
    Import,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Replay => "replay",
            RunKind::Sync => "sync",
            RunKind::Import => "import",
        }
    }
}

impl std::fmt::Display for RunKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of feed record a quarantined record was meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Product,
    Order,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Product => "product",
            RecordKind::Order => "order",
        }
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a feed record was quarantined. Stored with the record; shown by `laris status` and
/// the admin page as its [`Display`](std::fmt::Display) text, which names the field and
/// what was found there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum QuarantineReason {
    /// A field every record of its kind needs is absent.
    Missing { missing_field: String },
    /// A field is there but its value cannot be used; `detail` names the value and the rule.
    Invalid { field: String, detail: String },
    /// The record as a whole cannot be read (a row with too few cells, no product markup).
    /// Stores written before reasons were typed hold plain text, read back as this.
    Unreadable(String),
}

impl QuarantineReason {
    pub fn missing(field: impl Into<String>) -> Self {
        QuarantineReason::Missing {
            missing_field: field.into(),
        }
    }

    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        QuarantineReason::Invalid {
            field: field.into(),
            detail: detail.into(),
        }
    }

    pub fn unreadable(detail: impl Into<String>) -> Self {
        QuarantineReason::Unreadable(detail.into())
    }
}

impl std::fmt::Display for QuarantineReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuarantineReason::Missing { missing_field } => {
                write!(f, "missing required field {missing_field}")
            }
            QuarantineReason::Invalid { detail, .. } => f.write_str(detail),
            QuarantineReason::Unreadable(detail) => f.write_str(detail),
        }
    }
}

/// What one sync, replay or import did; kept for `laris status` and the admin page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    pub kind: RunKind,
    /// Where the data came from: a recording directory, a source kind, a file.
    pub source: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub products: UpsertCounts,
    pub orders: UpsertCounts,
    pub quarantined: u64,
    #[serde(default)]
    pub errors: Vec<String>,
    pub ok: bool,
    /// Pages (answers, files, storefront pages) imported.
    #[serde(default)]
    pub pages: u64,
    /// Things kept but worth a look (an unknown status text, a duplicate page).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl SyncReport {
    /// Records fetched: products and orders seen, whatever became of them.
    pub fn fetched(&self) -> u64 {
        self.products.seen + self.orders.seen
    }

    /// Whether the run wrote any product or order.
    pub fn changed(&self) -> bool {
        self.products.inserted + self.products.updated + self.orders.inserted + self.orders.updated > 0
    }
}

/// A feed record that could not be imported, kept with the reason so nothing is lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quarantined {
    pub at: DateTime<Utc>,
    pub kind: RecordKind,
    /// Where it came from (URL or file and position).
    pub origin: String,
    pub reason: QuarantineReason,
    /// The raw record, truncated to a few kilobytes.
    pub record: String,
    /// The key the record would have had (an order's invoice, a product's id, SKU or
    /// marketplace id), when it could be read: a later import that writes a record under
    /// that key clears this entry.
    #[serde(default)]
    pub subject: Option<String>,
}

impl Quarantined {
    /// The key a refused record would have had, when its raw form names one: an order's
    /// invoice (`invoice_ref_num`, or a sales report's `Nomor Invoice`), a product's SKU or
    /// marketplace id (`other.sku`, `basic.productID`, or a product export's `Product ID`,
    /// `SKU Name`). A later import that writes a record under that key clears the entry.
    pub fn subject_of(kind: RecordKind, raw: &serde_json::Value) -> Option<String> {
        use serde_json::Value;
        // An order from a sales report is an array of its rows.
        let first = match raw {
            Value::Array(rows) => rows.first()?,
            other => other,
        };
        let field = |path: &[&str]| -> Option<String> {
            let mut at = first;
            for part in path {
                at = at
                    .as_object()?
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(part))
                    .map(|(_, v)| v)?;
            }
            match at {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        match kind {
            RecordKind::Order => field(&["invoice_ref_num"]).or_else(|| field(&["Nomor Invoice"])),
            RecordKind::Product => field(&["other", "sku"])
                .or_else(|| field(&["basic", "productID"]))
                .or_else(|| field(&["Product ID"]))
                .or_else(|| field(&["SKU Name"])),
        }
    }

    /// The subject this entry names, or for an entry kept before subjects were, the one
    /// its raw record names (when the record was kept whole).
    pub fn subject(&self) -> Option<String> {
        self.subject.clone().or_else(|| {
            let raw: serde_json::Value = serde_json::from_str(&self.record).ok()?;
            Quarantined::subject_of(self.kind, &raw)
        })
    }
}

/// One change the shop owner made to the shop's settings from the dashboard: who, when,
/// what (a short summary) and the section's value before and after, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsChange {
    /// Set by the store when the change is kept (rises with time).
    #[serde(default)]
    pub id: u64,
    pub at: DateTime<Utc>,
    /// The signed-in admin user (`admin` or the shop's own user).
    pub user: String,
    /// `offers`, `pins`, `exclusions`, `tiers` or `slots`.
    pub section: String,
    /// What changed, for people: "added offer \"Beli 2, gratis 1\"".
    pub summary: String,
    /// The section before and after, as JSON (`null`: the config file's value).
    pub old: String,
    pub new: String,
}

/// A message a customer left through the feedback slot (seed 001's "kritik & saran").
/// `contact` is personal data: admin pages only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// Set by the store when the message is kept.
    pub id: u64,
    pub at: DateTime<Utc>,
    pub message: String,
    #[serde(default)]
    pub contact: Option<String>,
    /// The page it was sent from.
    #[serde(default)]
    pub page: Option<String>,
    /// The product page it was sent from, when on one.
    #[serde(default)]
    pub product: Option<String>,
    pub status: FeedbackStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackStatus {
    New,
    Read,
    Answered,
}

impl FeedbackStatus {
    pub const CHOICES: &'static str = "new, read or answered";

    pub fn parse(raw: &str) -> Option<FeedbackStatus> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "new" => Some(FeedbackStatus::New),
            "read" => Some(FeedbackStatus::Read),
            "answered" => Some(FeedbackStatus::Answered),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackStatus::New => "new",
            FeedbackStatus::Read => "read",
            FeedbackStatus::Answered => "answered",
        }
    }
}

/// What a widget event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Impression,
    Click,
    AddToCart,
    Purchase,
    /// The server's note that a visitor in a running experiment reached the widget (their
    /// first request for fragments or their arm, once per visitor and process): what makes
    /// the arms' visitors comparable whatever slots a page has. Never sent by a client.
    Exposure,
}

impl EventKind {
    /// The kinds a beacon may send ([`EventKind::Exposure`] is the server's own).
    pub const ALL: [EventKind; 4] = [
        EventKind::Impression,
        EventKind::Click,
        EventKind::AddToCart,
        EventKind::Purchase,
    ];

    /// The name on the wire and in the store.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Impression => "impression",
            EventKind::Click => "click",
            EventKind::AddToCart => "add_to_cart",
            EventKind::Purchase => "purchase",
            EventKind::Exposure => "exposure",
        }
    }

    /// A beacon's kind by its name.
    pub fn parse(raw: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Every name, joined for an error message.
    pub fn names() -> String {
        EventKind::ALL.map(EventKind::as_str).join(", ")
    }
}

/// A stored widget event. No personal data: product ids, slot, time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: EventKind,
    #[serde(default)]
    pub slot: Option<Slot>,
    /// The product page the event happened on.
    #[serde(default)]
    pub product: Option<ProductId>,
    /// The recommended product clicked, added or bought.
    #[serde(default)]
    pub item: Option<ProductId>,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    /// The pseudonymous customer id, set by the server from a verified customer token (never
    /// from the body, never personal data); attribution then only credits that customer's orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// The widget's random visitor id, kept only while the shop runs an experiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor: Option<String>,
    /// `control` or `treatment`: the visitor's arm, set by the server from the visitor id
    /// and the shop's experiment (never from the body); `None` outside an experiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm: Option<String>,
    /// A purchase's order id, as the shop's thank-you page names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// A purchase's total, whole rupiah.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Rupiah>,
    /// A purchase's products.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ProductId>,
}

/// An import, sync or replay under way: written with its first page, removed in the batch
/// that stores its report. Found at rest, it says a run was interrupted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMarker {
    pub started_at: DateTime<Utc>,
    /// Pages committed so far.
    pub pages: u64,
}

/// How far a shop's first-start seeding got: `started` is on disk before the first seeded
/// record, `done` after the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seeding {
    Started,
    Done,
}

/// A marketplace source's products cursor: the newest update time imported, and when the
/// last full pass ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductCursor {
    pub newest_update: Option<i64>,
    pub last_full_pass: Option<DateTime<Utc>>,
}

/// A marketplace source's orders cursor: every window up to this Unix time has been read
/// completely.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderCursor {
    pub synced_to: i64,
}

/// Where one configured source (by its index in the shop's `sources`) stands, committed
/// with the last page it covers so that a cursor is never ahead of its data.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncCursor {
    Products { source: usize, cursor: ProductCursor },
    Orders { source: usize, cursor: OrderCursor },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarantine_reason_keeps_its_field_and_reads_plain_text_of_older_stores() {
        let missing = QuarantineReason::missing("basic.name");
        let invalid = QuarantineReason::invalid("price.value", "price.value -5 is negative");
        for r in [&missing, &invalid] {
            let text = serde_json::to_string(r).unwrap();
            assert_eq!(&serde_json::from_str::<QuarantineReason>(&text).unwrap(), r);
        }
        assert_eq!(missing.to_string(), "missing required field basic.name");
        assert_eq!(invalid.to_string(), "price.value -5 is negative");
        // Stores written before reasons were typed hold the text alone.
        let old = r#"{"at":"2026-01-01T00:00:00Z","kind":"order","origin":"page 1 #0","reason":"products is empty","record":"{}"}"#;
        let q: Quarantined = serde_json::from_str(old).unwrap();
        assert_eq!(q.kind, RecordKind::Order);
        assert_eq!(q.reason, QuarantineReason::unreadable("products is empty"));
        assert_eq!(q.reason.to_string(), "products is empty");
    }

    #[test]
    fn a_quarantined_record_names_its_subject_even_when_kept_before_subjects() {
        let old = |kind: RecordKind, record: &str| Quarantined {
            at: DateTime::<Utc>::UNIX_EPOCH,
            kind,
            origin: "penjualan.csv row 3".into(),
            reason: QuarantineReason::unreadable("bad"),
            record: record.into(),
            subject: None,
        };
        let report = old(
            RecordKind::Order,
            r#"[{"Nomor Invoice":" INV/2 ","Jumlah Produk Dibeli":"dua"},{"Nama Produk":"Teh"}]"#,
        );
        assert_eq!(report.subject().as_deref(), Some("INV/2"));
        let api = old(RecordKind::Order, r#"{"invoice_ref_num":"INV/9","products":[]}"#);
        assert_eq!(api.subject().as_deref(), Some("INV/9"));
        let product = old(
            RecordKind::Product,
            r#"{"basic":{"productID":15001001},"other":{"sku":""}}"#,
        );
        assert_eq!(
            product.subject().as_deref(),
            Some("15001001"),
            "an empty SKU names nothing"
        );
        let export = old(RecordKind::Product, r#"{"SKU Name":"SRD-100","Harga (Rp)":"x"}"#);
        assert_eq!(export.subject().as_deref(), Some("SRD-100"));
        let cut = old(RecordKind::Order, r#"{"invoice_ref_num":"INV/9","produ…"#);
        assert_eq!(cut.subject(), None, "a record cut short names nothing");
        let named = Quarantined {
            subject: Some("INV/7".into()),
            ..api
        };
        assert_eq!(named.subject().as_deref(), Some("INV/7"));
    }

    #[test]
    fn run_kinds_keep_their_stored_names() {
        for kind in [RunKind::Replay, RunKind::Sync, RunKind::Import] {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{kind}\""));
        }
    }
}
