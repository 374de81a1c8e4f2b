//! Customer identity from a phone number: one normal form for the ways Indonesian shops
//! and marketplaces write a number, so that a shop's website backend can compute the same
//! customer key Laris derives from a sales report (README: "Customer identity").
//!
//! The key is the number in international form, digits only, country code 62:
//! `0812-3456-789`, `+62 812 3456 789`, `62812…` and `812…` all become `628123456789`.

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::domain::CustomerId;

/// Digits a national number (after `0` or `62`) has at least and at most: the shortest
/// fixed lines have 8, mobile numbers up to 12.
const NATIONAL_DIGITS: std::ops::RangeInclusive<usize> = 8..=12;

/// Why a text is not a phone number we can key a customer by.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhoneError {
    #[error("phone {0:?} is empty")]
    Empty(String),
    #[error("phone {0:?} has a character other than digits, spaces, '+', '-', '.', '(' and ')': write it like 0812-3456-789 or +62 812 3456 789")]
    NotDigits(String),
    #[error("phone {raw:?} has {digits} digits after the country code or leading 0: a number has 8 to 12 (0812-3456-789 has 10)")]
    Length { raw: String, digits: usize },
    #[error(
        "phone {0:?} is not an Indonesian number: write it with 0, 62 or +62 in front (0812…, +62 812…)"
    )]
    Foreign(String),
}

/// The customer key of a phone number, e.g. `628123456789`, or why it has none.
pub fn normalise(raw: &str) -> Result<String, PhoneError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty(raw.to_string()));
    }
    let mut digits = String::with_capacity(trimmed.len());
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(PhoneError::NotDigits(raw.to_string())),
        }
    }
    let international = trimmed.starts_with('+');
    let national = if let Some(rest) = digits.strip_prefix("62") {
        rest
    } else if international {
        return Err(PhoneError::Foreign(raw.to_string()));
    } else if let Some(rest) = digits.strip_prefix('0') {
        rest
    } else if digits.starts_with('8') {
        // A mobile number without its leading 0, as some exports write it.
        digits.as_str()
    } else {
        return Err(PhoneError::Foreign(raw.to_string()));
    };
    if !NATIONAL_DIGITS.contains(&national.len()) {
        return Err(PhoneError::Length {
            raw: raw.to_string(),
            digits: national.len(),
        });
    }
    Ok(format!("62{national}"))
}

/// The id Laris up to 0.x gave a buyer with no marketplace id: `h` and 16 hex digits of
/// SHA-256 over `name|phone` (name trimmed and lower-cased, phone digits with `62` read as
/// a leading `0`). Kept so that orders stored under it can be linked to the phone key.
pub fn legacy_customer_hash(name: Option<&str>, phone: Option<&str>) -> Option<CustomerId> {
    let name = name.unwrap_or("").trim().to_lowercase();
    let mut digits: String = phone.unwrap_or("").chars().filter(char::is_ascii_digit).collect();
    if let Some(national) = digits.strip_prefix("62") {
        digits = format!("0{national}");
    }
    if name.is_empty() && digits.is_empty() {
        return None;
    }
    let hash = Sha256::digest(format!("{name}|{digits}").as_bytes());
    Some(CustomerId(format!("h{}", &hex::encode(hash)[..16])))
}

/// A WhatsApp link for a normalised number (`628…`), for the owner's pages.
pub fn whatsapp_link(key: &str) -> String {
    format!("https://wa.me/{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ways_a_number_is_written_give_one_key() {
        for raw in [
            "0812-3456-789",
            "+62 812 3456 789",
            "628123456789",
            "8123456789",
            " (0812) 3456.789 ",
            "+62-812-3456-789",
        ] {
            assert_eq!(normalise(raw).as_deref(), Ok("628123456789"), "{raw}");
        }
        assert_eq!(normalise("021-5550123").as_deref(), Ok("62215550123"));
    }

    #[test]
    fn short_long_lettered_and_foreign_numbers_have_no_key_and_say_why() {
        let short = normalise("0812-999").unwrap_err();
        assert_eq!(
            short,
            PhoneError::Length {
                raw: "0812-999".into(),
                digits: 6
            }
        );
        assert!(short.to_string().contains("8 to 12"), "{short}");
        let long = normalise("0812-3456-7890-123").unwrap_err();
        assert!(matches!(long, PhoneError::Length { digits: 14, .. }), "{long:?}");
        let letters = normalise("0812-34x6-789").unwrap_err();
        assert_eq!(letters, PhoneError::NotDigits("0812-34x6-789".into()));
        assert!(letters.to_string().contains("0812-34x6-789"));
        assert_eq!(normalise("  "), Err(PhoneError::Empty("  ".into())));
        assert_eq!(
            normalise("+65 6123 4567"),
            Err(PhoneError::Foreign("+65 6123 4567".into()))
        );
        assert!(matches!(normalise("12345678"), Err(PhoneError::Foreign(_))));
        assert!(matches!(normalise("0812+3456789"), Err(PhoneError::NotDigits(_))));
    }

    #[test]
    fn the_legacy_hash_is_the_one_old_stores_hold() {
        // Pinned: the id `laris import` gave "Sri W." with 0812-3456-789 before phone keys.
        let old = legacy_customer_hash(Some("Sri W."), Some("0812-3456-789")).unwrap();
        let digest = Sha256::digest(b"sri w.|08123456789");
        assert_eq!(old.0, format!("h{}", &hex::encode(digest)[..16]));
        assert_eq!(
            legacy_customer_hash(Some(" SRI W. "), Some("+62 812 3456 789")),
            Some(old)
        );
        assert_eq!(legacy_customer_hash(None, None), None);
    }

    #[test]
    fn a_whatsapp_link_carries_the_key() {
        assert_eq!(whatsapp_link("628123456789"), "https://wa.me/628123456789");
    }
}
