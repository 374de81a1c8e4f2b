//! Domain types that every layer shares: identifiers, money, order statuses, pack sizes,
//! time zones.
//!
//! Each type is parsed once at the edge (config, query string, feed record) and then
//! trusted inside. Parse errors quote the value they refused and say what would be accepted.

pub mod password;
pub mod phone;
pub mod text;
pub mod zone;

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A value from outside (config, feed, query) that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("invalid shop id {0:?}: use 1–64 characters of a–z, 0–9, '-' and '_'")]
    ShopId(String),
    #[error("invalid product id {0:?}: use 1–128 printable characters without spaces at the ends")]
    ProductId(String),
    #[error("invalid price {0:?}: write whole rupiah such as 20000, \"20.000\", \"Rp20.000\", \"Rp 1.250.000\" or \"20.000,00\"")]
    Rupiah(String),
}

/// A shop's identifier, used in URLs and as the store's key prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShopId(String);

impl ShopId {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(DomainError::ShopId(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ShopId {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ShopId> for String {
    fn from(value: ShopId) -> Self {
        value.0
    }
}

impl fmt::Display for ShopId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A product's identifier within its shop: the SKU when the feed has a unique one, else the
/// marketplace's product id (kept as a string: newer ids exceed 2^53).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProductId(String);

impl ProductId {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let ok =
            !raw.is_empty() && raw.len() <= 128 && raw.trim() == raw && !raw.chars().any(|c| c.is_control());
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(DomainError::ProductId(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProductId {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProductId> for String {
    fn from(value: ProductId) -> Self {
        value.0
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A customer's identifier within a shop: the marketplace buyer id, or a stable hash of
/// name and phone when an export carries no id. Personal data never goes into it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerId(pub String);

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Money: a whole number of rupiah. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rupiah(pub i64);

impl Rupiah {
    /// Parses the ways shops write prices: `20000`, `20.000`, `Rp20.000`, `Rp 1.250.000`,
    /// `20.000,00` (Indonesian: `.` groups thousands, `,` starts the cents, which must be zero
    /// since rupiah have no sub-unit in practice). A plain `20000.00` is accepted too, and
    /// the currency before or after the amount in any case: `IDR 12.000`, `380000 IDR`,
    /// `rp20.000`, `20.000 Rp`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let err = || DomainError::Rupiah(raw.to_string());
        let mut s = raw.trim();
        let negative = s.starts_with('-');
        if negative {
            s = s[1..].trim_start();
        }
        let starts = |s: &str, word: &str| s.get(..word.len()).is_some_and(|w| w.eq_ignore_ascii_case(word));
        let ends = |s: &str, word: &str| {
            s.len() >= word.len()
                && s.get(s.len() - word.len()..)
                    .is_some_and(|w| w.eq_ignore_ascii_case(word))
        };
        if starts(s, "idr") {
            s = s[3..].trim_start();
        } else if starts(s, "rp") {
            s = s[2..].trim_start().trim_start_matches('.').trim_start();
        } else if ends(s, "idr") {
            s = s[..s.len() - 3].trim_end();
        } else if ends(s, "rp") {
            s = s[..s.len() - 2].trim_end();
        }
        if s.is_empty() {
            return Err(err());
        }
        let (whole, cents) = match s.split_once(',') {
            Some((w, c)) => (w, Some(c)),
            None => match s.split_once('.') {
                // `20000.00`: one dot followed by exactly two digits and no grouping before it.
                Some((w, c)) if c.len() == 2 && !c.contains('.') && w.len() > 3 && !w.contains('.') => {
                    (w, Some(c))
                }
                _ => (s, None),
            },
        };
        if let Some(c) = cents {
            if c.is_empty() || !c.bytes().all(|b| b == b'0') {
                return Err(err());
            }
        }
        let digits: String = if whole.contains('.') {
            // Grouped thousands: the first group has 1–3 digits, every later group exactly 3.
            let groups: Vec<&str> = whole.split('.').collect();
            let first_ok = (1..=3).contains(&groups[0].len());
            let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
            if !first_ok || !rest_ok {
                return Err(err());
            }
            groups.concat()
        } else {
            whole.to_string()
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let value: i64 = digits.parse().map_err(|_| err())?;
        Ok(Rupiah(if negative { -value } else { value }))
    }

    /// Reads a JSON number or string as rupiah. A fractional number must be whole.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, DomainError> {
        match value {
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Rupiah(i))
                } else if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15) {
                    Ok(Rupiah(f as i64))
                } else {
                    Err(DomainError::Rupiah(n.to_string()))
                }
            }
            serde_json::Value::String(s) => Self::parse(s),
            other => Err(DomainError::Rupiah(other.to_string())),
        }
    }

    /// `amount × (100 − percent) / 100`, rounded to the nearest rupiah.
    pub fn discounted(self, percent: f64) -> Rupiah {
        Rupiah(((self.0 as f64) * (100.0 - percent) / 100.0).round() as i64)
    }
}

impl fmt::Display for Rupiah {
    /// `Rp20.000`, `Rp1.250.000`, `-Rp5.000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.unsigned_abs().to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(ch);
        }
        if self.0 < 0 {
            write!(f, "-Rp{grouped}")
        } else {
            write!(f, "Rp{grouped}")
        }
    }
}

/// A marketplace order status code (docs/feeds.md: marketplace API), kept as the number Tokopedia uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderStatus(pub i64);

impl OrderStatus {
    /// A status text an export used that we do not know: the order is kept (labelled
    /// "unknown", never a purchase) and the text reported rather than guessed.
    pub const UNKNOWN: OrderStatus = OrderStatus(-1);

    /// A purchase for models and tiers: 220–600 and 700–701. Cancelled, rejected, returned
    /// (550) and fraud statuses are kept but never count.
    pub fn is_purchase(self) -> bool {
        matches!(self.0, 220..=549 | 551..=600 | 700..=701)
    }

    pub fn label(self) -> &'static str {
        match self.0 {
            0 => "cancelled by seller",
            2 | 3 | 6 | 10 | 15 => "rejected",
            5 => "fraud cancelled",
            100 | 103 => "awaiting payment",
            200 => "payment confirmation",
            220 => "payment verified",
            221 => "awaiting partner",
            400 => "accepted",
            450 => "awaiting pickup",
            500 => "shipped",
            501 | 520 | 530 => "shipping reference problem",
            540 => "at pickup point",
            550 => "returned to seller",
            600 => "delivered",
            601 => "buyer opened a case",
            690..=699 => "fraud review",
            700 => "finished",
            701 => "finished (not yet arrived)",
            _ => "unknown",
        }
    }
}

/// A pack size read from a product name or field: "100 g", "250 gr", "1 kg", "150ml".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackSize {
    pub amount: u32,
    pub unit: PackUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackUnit {
    Gram,
    Millilitre,
    Piece,
}

impl PackSize {
    /// Finds the first number followed by a weight, volume or count unit in `text`,
    /// normalising kilograms to grams and litres to millilitres.
    pub fn find_in(text: &str) -> Option<PackSize> {
        let lower = text.to_lowercase();
        let bytes = lower.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b',' || bytes[i] == b'.') {
                    i += 1;
                }
                let number = lower[start..i].replace(',', ".");
                let rest = lower[i..].trim_start();
                let unit_word: String = rest.chars().take_while(|c| c.is_alphabetic()).collect();
                if let Ok(value) = number.trim_end_matches('.').parse::<f64>() {
                    let (factor, unit) = match unit_word.as_str() {
                        "g" | "gr" | "gram" | "grams" | "gm" => (1.0, PackUnit::Gram),
                        "kg" | "kilo" | "kilogram" => (1000.0, PackUnit::Gram),
                        "ml" => (1.0, PackUnit::Millilitre),
                        "l" | "liter" | "litre" | "ltr" => (1000.0, PackUnit::Millilitre),
                        "pcs" | "pc" | "biji" | "buah" | "pack" | "pak" => (1.0, PackUnit::Piece),
                        _ => (0.0, PackUnit::Piece),
                    };
                    let amount = (value * factor).round();
                    if factor > 0.0 && (1.0..1e9).contains(&amount) {
                        return Some(PackSize {
                            amount: amount as u32,
                            unit,
                        });
                    }
                }
            }
            i += 1;
        }
        None
    }
}

/// A place on a product page the widget fills: the recommendation slots, the feedback
/// form (no product, no recommendations) and the chat button (a WhatsApp link to the seller).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    Similar,
    Upsell,
    Bundle,
    Loyalty,
    ForYou,
    Feedback,
    Chat,
}

impl Slot {
    /// The recommendation slots (each needs a product), also the slots events may name.
    pub const RECOMMENDATIONS: [Slot; 5] = [
        Slot::Similar,
        Slot::Upsell,
        Slot::Bundle,
        Slot::Loyalty,
        Slot::ForYou,
    ];
    /// Every slot, the feedback form and the chat button last.
    pub const ALL: [Slot; 7] = [
        Slot::Similar,
        Slot::Upsell,
        Slot::Bundle,
        Slot::Loyalty,
        Slot::ForYou,
        Slot::Feedback,
        Slot::Chat,
    ];

    /// The name in URLs, templates (`fragments/{name}.html`) and events.
    pub const fn as_str(self) -> &'static str {
        match self {
            Slot::Similar => "similar",
            Slot::Upsell => "upsell",
            Slot::Bundle => "bundle",
            Slot::Loyalty => "loyalty",
            Slot::ForYou => "for_you",
            Slot::Feedback => "feedback",
            Slot::Chat => "chat",
        }
    }

    /// The slot named `raw` exactly, if any.
    pub fn parse(raw: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Names joined for an error message: "similar, upsell, …".
    pub fn names(slots: &[Slot]) -> String {
        slots.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bytes left as they are in a URL component: letters, digits and `-_.~` (RFC 3986
/// "unreserved"); everything else is percent-encoded.
const URL_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `s` percent-encoded for a URL path segment or query value.
pub fn url_component(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URL_COMPONENT).to_string()
}

/// `https://wa.me/NUMBER?text=…`, the text percent-encoded byte by byte (UTF-8), so `&`,
/// `#`, `?`, `+`, line breaks and emoji reach WhatsApp as written. Without a number
/// (`""`), WhatsApp opens with the text and lets the sender pick the chat.
pub fn wa_link(number: &str, text: &str) -> String {
    format!("https://wa.me/{number}?text={}", url_component(text))
}

/// The RFM segments' names (`loyalty::segments` says which scores make each).
pub const SEGMENTS: &[&str] = &[
    "Champions",
    "Loyal",
    "New",
    "Potential",
    "At risk",
    "Hibernating",
    "Lost",
];

/// The segment `name` means, however it is typed: any case, `_` or `-` for the space
/// (`champions`, `AT_RISK`, `at-risk` → `Champions`, `At risk`).
pub fn canonical_segment(name: &str) -> Option<&'static str> {
    let wanted = name.trim().replace(['_', '-'], " ");
    SEGMENTS.iter().copied().find(|s| s.eq_ignore_ascii_case(&wanted))
}

#[cfg(test)]
mod tests {
    #[test]
    fn url_components_keep_only_unreserved_bytes() {
        assert_eq!(url_component("MM-021_a.b~c"), "MM-021_a.b~c");
        assert_eq!(
            url_component("Kopi Susu/100 g&x=é"),
            "Kopi%20Susu%2F100%20g%26x%3D%C3%A9"
        );
    }

    use super::*;

    #[test]
    fn rupiah_parses_every_price_format_shops_write() {
        for (raw, want) in [
            ("20000", 20000),
            ("20.000", 20000),
            ("Rp20.000", 20000),
            ("Rp 1.250.000", 1_250_000),
            ("20.000,00", 20000),
            ("Rp. 15.000", 15000),
            ("  45000 ", 45000),
            ("20000.00", 20000),
            ("0", 0),
            ("IDR 12.000", 12000),
            ("380000 IDR", 380_000),
            ("380.000 idr", 380_000),
            ("rp20.000", 20000),
            ("20.000 Rp", 20000),
            ("Idr 5.000", 5000),
        ] {
            assert_eq!(Rupiah::parse(raw), Ok(Rupiah(want)), "parsing {raw:?}");
        }
    }

    #[test]
    fn rupiah_refuses_ambiguous_or_broken_prices_and_quotes_them() {
        for raw in [
            "",
            "Rp",
            "abc",
            "20.00.0",
            "1.2345",
            "20.000,50",
            "20,000.5",
            "12a",
            "--5",
            "IDR",
            "idr 5 idr",
            "Rp 20.000 IDR",
        ] {
            let err = Rupiah::parse(raw).unwrap_err();
            assert!(
                err.to_string().contains(&format!("{raw:?}")),
                "{err} should quote {raw:?}"
            );
        }
    }

    #[test]
    fn rupiah_reads_json_numbers_and_strings() {
        assert_eq!(Rupiah::from_json(&serde_json::json!(20000)), Ok(Rupiah(20000)));
        assert_eq!(Rupiah::from_json(&serde_json::json!(20000.0)), Ok(Rupiah(20000)));
        assert_eq!(
            Rupiah::from_json(&serde_json::json!("Rp20.000")),
            Ok(Rupiah(20000))
        );
        assert!(Rupiah::from_json(&serde_json::json!(19999.5)).is_err());
        assert!(Rupiah::from_json(&serde_json::json!(null)).is_err());
    }

    #[test]
    fn rupiah_formats_with_dots_between_thousands() {
        assert_eq!(Rupiah(20000).to_string(), "Rp20.000");
        assert_eq!(Rupiah(1_250_000).to_string(), "Rp1.250.000");
        assert_eq!(Rupiah(500).to_string(), "Rp500");
        assert_eq!(Rupiah(0).to_string(), "Rp0");
        assert_eq!(Rupiah(-5000).to_string(), "-Rp5.000");
    }

    #[test]
    fn discount_rounds_to_whole_rupiah() {
        assert_eq!(Rupiah(45000).discounted(10.0), Rupiah(40500));
        assert_eq!(Rupiah(19999).discounted(3.0), Rupiah(19399));
    }

    #[test]
    fn only_paid_and_not_undone_statuses_count_as_purchases() {
        for code in [220, 221, 400, 450, 500, 501, 540, 600, 700, 701] {
            assert!(OrderStatus(code).is_purchase(), "{code} is a purchase");
        }
        for code in [0, 2, 3, 5, 6, 10, 15, 100, 103, 200, 550, 601, 690, 699, 702] {
            assert!(!OrderStatus(code).is_purchase(), "{code} is not a purchase");
        }
    }

    #[test]
    fn pack_sizes_are_read_from_names() {
        let g = |n| PackSize {
            amount: n,
            unit: PackUnit::Gram,
        };
        assert_eq!(PackSize::find_in("Serundeng Lengkuas 100 g"), Some(g(100)));
        assert_eq!(PackSize::find_in("Tepung 250 gr premium"), Some(g(250)));
        assert_eq!(PackSize::find_in("Kopi 1 kg"), Some(g(1000)));
        assert_eq!(PackSize::find_in("Kopi 0,5kg"), Some(g(500)));
        assert_eq!(
            PackSize::find_in("Sirup 150ml"),
            Some(PackSize {
                amount: 150,
                unit: PackUnit::Millilitre
            })
        );
        assert_eq!(PackSize::find_in("Paket Hampers Lengkuas"), None);
        assert_eq!(PackSize::find_in("Nendoroid 303 Ichigo"), None);
    }

    #[test]
    fn ids_refuse_values_that_would_break_urls_or_keys() {
        assert!(ShopId::parse("lengkuas").is_ok());
        assert!(ShopId::parse("Lengkuas").is_err());
        assert!(ShopId::parse("").is_err());
        assert!(ShopId::parse("a/b").is_err());
        assert!(ProductId::parse("SRD-100").is_ok());
        assert!(ProductId::parse(" SRD").is_err());
        assert!(ProductId::parse("a\nb").is_err());
    }
}
