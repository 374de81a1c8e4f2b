//! The shop owner's changes made from the dashboard: a [`SettingsOverlay`] kept in the store
//! that holds only what was changed (fixed offers, pins, exclusions, loyalty tiers, slot
//! titles and slots switched off). The config file stays the default: [`effective`] lays the
//! overlay over a shop's configured settings field by field, and [`SettingsOverlay::validate`]
//! refuses a bad value with the field, the value and the fix.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{FixedOffer, ShopSettings, TierMethod, TierSetting};
use crate::domain::{ProductId, Slot};

/// What the owner changed from the dashboard; `None` (or an absent slot) keeps the config
/// file's value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SettingsOverlay {
    /// Replaces `[[shops.offers]]`.
    pub offers: Option<Vec<FixedOffer>>,
    /// Replaces `recommend.pin`.
    pub pin: Option<BTreeMap<ProductId, Vec<ProductId>>>,
    /// Replaces `recommend.exclude`.
    pub exclude: Option<Vec<ProductId>>,
    /// Replaces `loyalty.tiers`.
    pub tiers: Option<Vec<TierSetting>>,
    /// Per slot: its titles and whether it is shown.
    pub slots: BTreeMap<Slot, SlotSetting>,
}

/// A slot's title in Indonesian and English (`None`: the built-in one) and whether the
/// widget shows it at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlotSetting {
    pub title: Option<String>,
    pub title_en: Option<String>,
    pub off: bool,
}

impl SlotSetting {
    /// Nothing changed: the slot as built in.
    pub fn is_default(&self) -> bool {
        self == &SlotSetting::default()
    }
}

/// A value the dashboard refuses: which field, what was given, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} = {value:?}: {fix}")]
pub struct SettingsError {
    pub field: String,
    pub value: String,
    pub fix: Fix,
}

/// How to fix a refused value: one of the rules below, so that the dashboard can say it in
/// the owner's language (`admin::settings`); in English here, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    OfferTitle,
    OfferBuys,
    Quantity,
    Percentage,
    OfferGives,
    TierCount,
    TierName,
    TierNamesDiffer,
    TierMinimumNeeded,
    TierMinimumRises,
    PinSomething,
    PinOthers,
    TitleLength,
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Fix::OfferTitle => "give the offer a title customers see, e.g. \"Beli 2, gratis 1\"",
            Fix::OfferBuys => "name at least one product the customer buys",
            Fix::Quantity => "use a quantity of at least 1",
            Fix::Percentage => "use a percentage from 0 to 99",
            Fix::OfferGives => "give something free or a discount above 0 %, else the offer offers nothing",
            Fix::TierCount => "keep 1 to 10 tiers, lowest first",
            Fix::TierName => "give every tier a name",
            Fix::TierNamesDiffer => "give each tier its own name",
            Fix::TierMinimumNeeded => {
                "this shop places customers by thresholds: give every tier a minimum spend in rupiah"
            }
            Fix::TierMinimumRises => {
                "start the first tier at 0 and let the minimum spend rise from tier to tier"
            }
            Fix::PinSomething => "name at least one product to show first, or remove the pin",
            Fix::PinOthers => "pin other products, not the product itself",
            Fix::TitleLength => "write 1 to 80 characters, or leave it empty for the built-in title",
        })
    }
}

fn refuse(field: impl Into<String>, value: impl Into<String>, fix: Fix) -> SettingsError {
    SettingsError {
        field: field.into(),
        value: value.into(),
        fix,
    }
}

/// Longest title a slot may get, in characters (as [`Fix::TitleLength`] says).
pub const MAX_TITLE_CHARS: usize = 80;

/// The shop's settings as the service uses them: `shop` (from the config file) with every
/// field the overlay holds replaced by the overlay's value.
pub fn effective(shop: &ShopSettings, overlay: &SettingsOverlay) -> ShopSettings {
    let mut out = shop.clone();
    if let Some(offers) = &overlay.offers {
        out.offers = offers.clone();
    }
    if let Some(pin) = &overlay.pin {
        out.recommend.pin = pin.clone();
    }
    if let Some(exclude) = &overlay.exclude {
        out.recommend.exclude = exclude.clone();
    }
    if let Some(tiers) = &overlay.tiers {
        out.loyalty.tiers = tiers.clone();
    }
    for (slot, setting) in &overlay.slots {
        if !setting.is_default() {
            out.slots.insert(*slot, setting.clone());
        }
    }
    out
}

impl SettingsOverlay {
    /// Every value checked against the same rules as the config file, so the effective
    /// settings are always ones the service can run with. `method` is the shop's tier
    /// method: `thresholds` needs a lower bound on every tier.
    pub fn validate(&self, method: TierMethod) -> Result<(), SettingsError> {
        if let Some(offers) = &self.offers {
            for (i, offer) in offers.iter().enumerate() {
                validate_offer(offer).map_err(|mut e| {
                    e.field = format!("offer {}: {}", i + 1, e.field);
                    e
                })?;
            }
        }
        if let Some(pin) = &self.pin {
            for (product, pinned) in pin {
                if pinned.is_empty() {
                    return Err(refuse(format!("pins of {product}"), "", Fix::PinSomething));
                }
                if pinned.contains(product) {
                    return Err(refuse(
                        format!("pins of {product}"),
                        product.as_str(),
                        Fix::PinOthers,
                    ));
                }
            }
        }
        if let Some(tiers) = &self.tiers {
            validate_tiers(tiers, method)?;
        }
        for (slot, s) in &self.slots {
            for (lang, title) in [("title", &s.title), ("title_en", &s.title_en)] {
                if let Some(t) = title {
                    if t.trim().is_empty() || t.chars().count() > MAX_TITLE_CHARS {
                        return Err(refuse(format!("{slot} {lang}"), t.as_str(), Fix::TitleLength));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A fixed offer: something to buy, quantities of at least 1, a discount from 0 to 99 %,
/// a title.
pub fn validate_offer(offer: &FixedOffer) -> Result<(), SettingsError> {
    if offer.title.trim().is_empty() {
        return Err(refuse("title", &offer.title, Fix::OfferTitle));
    }
    if offer.buy.is_empty() {
        return Err(refuse("buy", "", Fix::OfferBuys));
    }
    for line in offer.buy.iter().chain(&offer.free) {
        if line.quantity == 0 {
            return Err(refuse(
                format!("quantity of {}", line.product),
                "0",
                Fix::Quantity,
            ));
        }
    }
    if !(0.0..100.0).contains(&offer.discount_pct) {
        return Err(refuse(
            "discount",
            offer.discount_pct.to_string(),
            Fix::Percentage,
        ));
    }
    if offer.free.is_empty() && offer.discount_pct == 0.0 {
        return Err(refuse("free products and discount", "none", Fix::OfferGives));
    }
    Ok(())
}

/// A tier ladder: 1 to 10 tiers, named, discounts from 0 to 99 %, lower bounds starting at 0
/// and rising (required for the `thresholds` method).
pub fn validate_tiers(tiers: &[TierSetting], method: TierMethod) -> Result<(), SettingsError> {
    if !(1..=10).contains(&tiers.len()) {
        return Err(refuse("tiers", tiers.len().to_string(), Fix::TierCount));
    }
    let mut last_min = -1i64;
    for (i, t) in tiers.iter().enumerate() {
        let field = |k: &str| format!("tier {} {k}", i + 1);
        if t.name.trim().is_empty() {
            return Err(refuse(field("name"), &t.name, Fix::TierName));
        }
        if tiers[..i].iter().any(|o| o.name.trim() == t.name.trim()) {
            return Err(refuse(field("name"), &t.name, Fix::TierNamesDiffer));
        }
        if !(0.0..100.0).contains(&t.discount_pct) {
            return Err(refuse(
                field("discount"),
                t.discount_pct.to_string(),
                Fix::Percentage,
            ));
        }
        match (method, t.min_spend) {
            (TierMethod::Thresholds, None) => {
                return Err(refuse(field("minimum spend"), "", Fix::TierMinimumNeeded))
            }
            (_, Some(m)) if m <= last_min || (i == 0 && m != 0) => {
                return Err(refuse(
                    field("minimum spend"),
                    m.to_string(),
                    Fix::TierMinimumRises,
                ))
            }
            (_, Some(m)) => last_min = m,
            _ => {}
        }
    }
    Ok(())
}

/// The overlay as the store keeps it (JSON: readable in a backup, and a field added later
/// decodes from older bytes).
pub fn encode(overlay: &SettingsOverlay) -> Vec<u8> {
    serde_json::to_vec(overlay).expect("an overlay serialises")
}

/// The overlay from stored bytes.
pub fn decode(bytes: &[u8]) -> Result<SettingsOverlay, serde_json::Error> {
    serde_json::from_slice(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{OfferLine, Settings};

    fn shop() -> ShopSettings {
        let text = r#"
[[shops]]
id = "toko"
[shops.recommend]
exclude = ["X-1"]
pin = { "A-1" = ["B-1"] }
[[shops.offers]]
title = "Beli 2 A, gratis B"
buy = [{ product = "A-1", quantity = 2 }]
free = [{ product = "B-1" }]
"#;
        Settings::from_toml(text, std::path::Path::new("t.toml"), &[])
            .unwrap()
            .shops
            .remove(0)
    }

    fn id(s: &str) -> ProductId {
        ProductId::parse(s).unwrap()
    }

    fn offer(title: &str, discount_pct: f64) -> FixedOffer {
        FixedOffer {
            title: title.into(),
            title_en: None,
            buy: vec![OfferLine {
                product: id("C-1"),
                quantity: 1,
            }],
            free: vec![],
            discount_pct,
        }
    }

    #[test]
    fn an_empty_overlay_leaves_the_config_as_it_is() {
        let s = shop();
        let e = effective(&s, &SettingsOverlay::default());
        assert_eq!(e.offers, s.offers);
        assert_eq!(e.recommend, s.recommend);
        assert_eq!(e.loyalty, s.loyalty);
        assert!(e.slots.is_empty());
    }

    #[test]
    fn each_field_the_overlay_holds_replaces_the_config_value_and_only_that_one() {
        let s = shop();
        let overlay = SettingsOverlay {
            offers: Some(vec![offer("Diskon C", 10.0)]),
            exclude: Some(vec![]),
            slots: BTreeMap::from([(
                Slot::Bundle,
                SlotSetting {
                    title: Some("Paket hemat".into()),
                    ..Default::default()
                },
            )]),
            ..Default::default()
        };
        let e = effective(&s, &overlay);
        assert_eq!(e.offers, vec![offer("Diskon C", 10.0)]);
        assert!(e.recommend.exclude.is_empty(), "an empty list is a change too");
        assert_eq!(e.recommend.pin, s.recommend.pin, "pins were not changed");
        assert_eq!(e.loyalty.tiers, s.loyalty.tiers);
        assert_eq!(e.slots[&Slot::Bundle].title.as_deref(), Some("Paket hemat"));
        assert_eq!(e.name, s.name);
    }

    #[test]
    fn bad_values_are_refused_naming_the_value_and_the_fix() {
        let bad = SettingsOverlay {
            offers: Some(vec![offer("Diskon", 150.0)]),
            ..Default::default()
        };
        let msg = bad.validate(TierMethod::Kmeans).unwrap_err().to_string();
        assert!(
            msg.contains("offer 1: discount") && msg.contains("150") && msg.contains("0 to 99"),
            "{msg}"
        );

        let nothing = SettingsOverlay {
            offers: Some(vec![offer("Kosong", 0.0)]),
            ..Default::default()
        };
        assert!(nothing.validate(TierMethod::Kmeans).is_err());

        let tier = |name: &str, min: Option<i64>| TierSetting {
            name: name.into(),
            discount_pct: 1.0,
            min_spend: min,
        };
        let falling = SettingsOverlay {
            tiers: Some(vec![
                tier("Bronze", Some(0)),
                tier("Silver", Some(500)),
                tier("Gold", Some(100)),
            ]),
            ..Default::default()
        };
        let msg = falling.validate(TierMethod::Kmeans).unwrap_err().to_string();
        assert!(
            msg.contains("tier 3 minimum spend") && msg.contains("100") && msg.contains("rise"),
            "{msg}"
        );

        let unnamed = SettingsOverlay {
            tiers: Some(vec![tier(" ", Some(0))]),
            ..Default::default()
        };
        assert!(unnamed
            .validate(TierMethod::Kmeans)
            .unwrap_err()
            .to_string()
            .contains("name"));

        let no_bound = SettingsOverlay {
            tiers: Some(vec![tier("Bronze", Some(0)), tier("Silver", None)]),
            ..Default::default()
        };
        assert!(no_bound.validate(TierMethod::Kmeans).is_ok());
        assert!(no_bound.validate(TierMethod::Thresholds).is_err());

        let self_pin = SettingsOverlay {
            pin: Some(BTreeMap::from([(id("A-1"), vec![id("A-1")])])),
            ..Default::default()
        };
        assert!(self_pin.validate(TierMethod::Kmeans).is_err());

        let long = SettingsOverlay {
            slots: BTreeMap::from([(
                Slot::Similar,
                SlotSetting {
                    title: Some("x".repeat(81)),
                    ..Default::default()
                },
            )]),
            ..Default::default()
        };
        assert!(long
            .validate(TierMethod::Kmeans)
            .unwrap_err()
            .to_string()
            .contains("similar title"));
    }

    #[test]
    fn an_overlay_survives_its_stored_form() {
        let overlay = SettingsOverlay {
            offers: Some(vec![offer("Diskon C", 10.0)]),
            pin: Some(BTreeMap::from([(id("A-1"), vec![id("C-1")])])),
            slots: BTreeMap::from([(
                Slot::Loyalty,
                SlotSetting {
                    off: true,
                    ..Default::default()
                },
            )]),
            ..Default::default()
        };
        assert_eq!(decode(&encode(&overlay)).unwrap(), overlay);
    }
}
