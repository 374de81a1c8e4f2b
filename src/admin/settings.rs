//! The settings page's data and its changes: what the owner can change from the dashboard
//! (fixed offers, pins, exclusions, loyalty tiers, slot titles and slots switched off), the
//! forms' fields read into a new [`SettingsOverlay`], validated, stored with an audit record
//! of who changed what and when. Products may be named by id or SKU; an unknown one is
//! refused naming it and suggesting close ones. The HTTP side (`web::admin::settings`)
//! triggers the rebuild that brings a change to the widget.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::Utc;
use serde::Serialize;

use crate::admin::views::{msg, PageError};
use crate::config::overlay::{self, effective, Fix, SettingsError, SettingsOverlay, SlotSetting};
use crate::config::{FixedOffer, OfferLine, ShopSettings, TierMethod, TierSetting};
use crate::domain::{ProductId, Slot};
use crate::model::rebuild::stored_overlay;
use crate::model::ShopModel;
use crate::records::SettingsChange;
use crate::store::ShopStore;

/// Changes shown on the page, newest first.
pub const CHANGES_SHOWN: usize = 50;

/// The sections of the page, as forms post them.
pub const SECTIONS: [&str; 5] = ["offers", "pins", "exclusions", "tiers", "slots"];

/// One read-modify-write of an overlay at a time, so two owners saving at once both land.
static SAVING: Mutex<()> = Mutex::new(());

#[derive(Debug, Serialize)]
pub struct SettingsPage {
    pub offers: Vec<OfferForm>,
    pub pins: Vec<PinForm>,
    /// Excluded products, as the form shows them: ids joined by ", ".
    pub exclude: String,
    pub tiers: Vec<TierForm>,
    pub tier_method: &'static str,
    pub slots: Vec<SlotForm>,
    /// Which sections hold changes made here (the rest come from the config file).
    pub changed: BTreeMap<&'static str, bool>,
    pub changes: Vec<ChangeRow>,
}

/// A fixed offer as its form shows it: product lists as `ID*2, ID`.
#[derive(Debug, Serialize)]
pub struct OfferForm {
    pub title: String,
    pub title_en: String,
    pub buy: String,
    pub free: String,
    pub discount_pct: f64,
}

#[derive(Debug, Serialize)]
pub struct PinForm {
    pub product: String,
    pub pinned: String,
}

#[derive(Debug, Serialize)]
pub struct TierForm {
    pub name: String,
    pub min_spend: Option<i64>,
    pub discount_pct: f64,
}

#[derive(Debug, Serialize)]
pub struct SlotForm {
    pub slot: &'static str,
    pub title: String,
    pub title_en: String,
    pub on: bool,
}

#[derive(Debug, Serialize)]
pub struct ChangeRow {
    pub at: String,
    pub user: String,
    pub section: String,
    pub summary: String,
    pub old: String,
    pub new: String,
}

fn lines_text(lines: &[OfferLine]) -> String {
    lines
        .iter()
        .map(|l| match l.quantity {
            1 => l.product.to_string(),
            q => format!("{}*{q}", l.product),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn ids_text(ids: &[ProductId]) -> String {
    ids.iter()
        .map(ProductId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The page: the effective settings (config file with the owner's changes) and the log.
pub fn settings_page(store: &dyn ShopStore, shop: &ShopSettings) -> Result<SettingsPage, PageError> {
    let overlay = stored_overlay(store, &shop.id)?;
    let e = effective(shop, &overlay);
    let changes = store
        .settings_changes(&shop.id, CHANGES_SHOWN)?
        .into_iter()
        .map(|c| ChangeRow {
            at: c.at.to_rfc3339(),
            user: c.user,
            section: c.section,
            summary: c.summary,
            old: c.old,
            new: c.new,
        })
        .collect();
    Ok(SettingsPage {
        offers: e
            .offers
            .iter()
            .map(|o| OfferForm {
                title: o.title.clone(),
                title_en: o.title_en.clone().unwrap_or_default(),
                buy: lines_text(&o.buy),
                free: lines_text(&o.free),
                discount_pct: o.discount_pct,
            })
            .collect(),
        pins: e
            .recommend
            .pin
            .iter()
            .map(|(p, list)| PinForm {
                product: p.to_string(),
                pinned: ids_text(list),
            })
            .collect(),
        exclude: ids_text(&e.recommend.exclude),
        tiers: e
            .loyalty
            .tiers
            .iter()
            .map(|t| TierForm {
                name: t.name.clone(),
                min_spend: t.min_spend,
                discount_pct: t.discount_pct,
            })
            .collect(),
        tier_method: match e.loyalty.method {
            TierMethod::Kmeans => "kmeans",
            TierMethod::Thresholds => "thresholds",
        },
        slots: Slot::RECOMMENDATIONS
            .iter()
            .map(|s| {
                let set = e.slots.get(s).cloned().unwrap_or_default();
                SlotForm {
                    slot: s.as_str(),
                    title: set.title.unwrap_or_default(),
                    title_en: set.title_en.unwrap_or_default(),
                    on: !set.off,
                }
            })
            .collect(),
        changed: BTreeMap::from([
            ("offers", overlay.offers.is_some()),
            ("pins", overlay.pin.is_some()),
            ("exclusions", overlay.exclude.is_some()),
            ("tiers", overlay.tiers.is_some()),
            ("slots", !overlay.slots.is_empty()),
        ]),
        changes,
    })
}

type Form = HashMap<String, String>;

fn bad(msg: impl Into<String>) -> PageError {
    PageError::BadQuery(msg.into())
}

fn field<'a>(form: &'a Form, name: &str) -> &'a str {
    form.get(name).map_or("", |v| v.trim())
}

/// The product `raw` names (id or SKU, any case), or a 400 naming it with close ones.
pub fn resolve(model: &ShopModel, raw: &str) -> Result<ProductId, PageError> {
    let raw = raw.trim();
    match model.find_product(raw) {
        Some(i) => Ok(model.products[i].id.clone()),
        None => {
            let close = model.suggest_products(raw, 3);
            let raw = format!("{raw:?}");
            Err(bad(if close.is_empty() {
                msg(
                    "unknown product {product}: check the product list (Products page) for its id or SKU",
                    &[("product", &raw)],
                )
            } else {
                msg(
                    "unknown product {product}: did you mean {close}?",
                    &[("product", &raw), ("close", &close.join(", "))],
                )
            }))
        }
    }
}

/// `ID`, `SKU*2`, `SKU x2` or `SKU ×2`, separated by commas: products with quantities.
pub fn parse_lines(model: &ShopModel, raw: &str) -> Result<Vec<OfferLine>, PageError> {
    let mut out = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let split = item
            .char_indices()
            .rev()
            .find(|&(_, c)| matches!(c, '*' | 'x' | 'X' | '×'))
            .and_then(|(at, c)| {
                let n = item[at + c.len_utf8()..].trim();
                let name = item[..at].trim();
                (!name.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    .then_some((name, n))
            });
        let line = match split {
            Some((name, n)) if model.find_product(name).is_some() => {
                let quantity: u32 = n.parse().map_err(|_| {
                    bad(msg(
                        "quantity {n} of {name} is too large: use a number from 1 to 1000",
                        &[("n", &format!("{n:?}")), ("name", name)],
                    ))
                })?;
                if !(1..=1000).contains(&quantity) {
                    return Err(bad(msg(
                        "quantity {n} of {name}: use a number from 1 to 1000",
                        &[("n", &quantity.to_string()), ("name", name)],
                    )));
                }
                OfferLine {
                    product: resolve(model, name)?,
                    quantity,
                }
            }
            _ => OfferLine {
                product: resolve(model, item)?,
                quantity: 1,
            },
        };
        out.push(line);
    }
    Ok(out)
}

fn parse_ids(model: &ShopModel, raw: &str) -> Result<Vec<ProductId>, PageError> {
    let mut out: Vec<ProductId> = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let id = resolve(model, item)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn parse_pct(raw: &str, what: &str) -> Result<f64, PageError> {
    if raw.is_empty() {
        return Ok(0.0);
    }
    raw.replace(',', ".")
        .trim_end_matches('%')
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|p| p.is_finite())
        .ok_or_else(|| {
            bad(msg(
                "{what} {value} is not a number: write a percentage from 0 to 99, e.g. 10",
                &[("what", what), ("value", &format!("{raw:?}"))],
            ))
        })
}

fn parse_rupiah(raw: &str, what: &str) -> Result<Option<i64>, PageError> {
    if raw.is_empty() {
        return Ok(None);
    }
    let digits: String = raw.chars().filter(|c| !matches!(c, '.' | ' ' | '_')).collect();
    let digits = digits.trim_start_matches("Rp").trim_start_matches("rp");
    digits
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .map(Some)
        .ok_or_else(|| {
            bad(msg(
                "{what} {value} is not an amount: write whole rupiah, e.g. 250000",
                &[("what", what), ("value", &format!("{raw:?}"))],
            ))
        })
}

fn index(form: &Form, count: usize) -> Result<usize, PageError> {
    let raw = field(form, "index");
    raw.parse::<usize>().ok().filter(|i| *i < count).ok_or_else(|| {
        bad(msg(
            "offer number {value} does not exist: reload the page and try again",
            &[("value", &format!("{raw:?}"))],
        ))
    })
}

fn offer_from(model: &ShopModel, form: &Form) -> Result<FixedOffer, PageError> {
    let title_en = field(form, "title_en");
    Ok(FixedOffer {
        title: field(form, "title").to_string(),
        title_en: (!title_en.is_empty()).then(|| title_en.to_string()),
        buy: parse_lines(model, field(form, "buy"))?,
        free: parse_lines(model, field(form, "free"))?,
        discount_pct: parse_pct(field(form, "discount_pct"), "discount")?,
    })
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// The section's value in the effective settings, as JSON for the log.
fn section_json(e: &ShopSettings, section: &str) -> String {
    match section {
        "offers" => json(&e.offers),
        "pins" => json(&e.recommend.pin),
        "exclusions" => json(&e.recommend.exclude),
        "tiers" => json(&e.loyalty.tiers),
        _ => json(&e.slots),
    }
}

/// The new overlay a form makes of `old`, and a summary of the change for the log.
pub fn change(
    model: &ShopModel,
    shop: &ShopSettings,
    old: &SettingsOverlay,
    section: &str,
    form: &Form,
) -> Result<(SettingsOverlay, String), PageError> {
    let action = field(form, "action");
    let mut new = old.clone();
    let current = effective(shop, old);
    if action == "reset" {
        match section {
            "offers" => new.offers = None,
            "pins" => new.pin = None,
            "exclusions" => new.exclude = None,
            "tiers" => new.tiers = None,
            "slots" => new.slots.clear(),
            _ => return Err(unknown_section(section)),
        }
        return Ok((new, format!("{section} reset to the config file")));
    }
    let summary = match (section, action) {
        ("offers", "add") => {
            let offer = offer_from(model, form)?;
            let summary = format!("added offer {:?}", offer.title);
            new.offers.get_or_insert(current.offers).push(offer);
            summary
        }
        ("offers", "edit") => {
            let mut offers = current.offers;
            let i = index(form, offers.len())?;
            offers[i] = offer_from(model, form)?;
            let summary = format!("changed offer {:?}", offers[i].title);
            new.offers = Some(offers);
            summary
        }
        ("offers", "remove") => {
            let mut offers = current.offers;
            let i = index(form, offers.len())?;
            let gone = offers.remove(i);
            new.offers = Some(offers);
            format!("removed offer {:?}", gone.title)
        }
        ("pins", "set") => {
            let product = resolve(model, field(form, "product"))?;
            let pinned = parse_ids(model, field(form, "pinned"))?;
            let mut pins = current.recommend.pin;
            let summary = if pinned.is_empty() {
                pins.remove(&product);
                format!("removed the pins of {product}")
            } else {
                let s = format!("pinned {} first on {product}", ids_text(&pinned));
                pins.insert(product, pinned);
                s
            };
            new.pin = Some(pins);
            summary
        }
        ("exclusions", "set") => {
            let ids = parse_ids(model, field(form, "products"))?;
            let summary = if ids.is_empty() {
                "no product excluded".to_string()
            } else {
                format!("excluded {}", ids_text(&ids))
            };
            new.exclude = Some(ids);
            summary
        }
        ("tiers", "set") => {
            let mut tiers = Vec::new();
            for i in 0..10 {
                let name = field(form, &format!("name_{i}"));
                let min = field(form, &format!("min_spend_{i}"));
                let pct = field(form, &format!("discount_pct_{i}"));
                if name.is_empty() && min.is_empty() && pct.is_empty() {
                    continue;
                }
                let n = i + 1;
                tiers.push(TierSetting {
                    name: name.to_string(),
                    min_spend: parse_rupiah(min, &format!("tier {n} minimum spend"))?,
                    discount_pct: parse_pct(pct, &format!("tier {n} discount"))?,
                });
            }
            let names: Vec<&str> = tiers.iter().map(|t| t.name.as_str()).collect();
            let summary = format!("tiers set to {}", names.join(", "));
            new.tiers = Some(tiers);
            summary
        }
        ("slots", "set") => {
            let mut slots = BTreeMap::new();
            let mut off = Vec::new();
            for slot in Slot::RECOMMENDATIONS {
                let text = |k: &str| {
                    let v = field(form, &format!("{k}_{}", slot.as_str()));
                    (!v.is_empty()).then(|| v.to_string())
                };
                let s = SlotSetting {
                    title: text("title"),
                    title_en: text("title_en"),
                    off: !form.contains_key(&format!("on_{}", slot.as_str())),
                };
                if s.off {
                    off.push(slot.as_str());
                }
                if !s.is_default() {
                    slots.insert(slot, s);
                }
            }
            new.slots = slots;
            if off.is_empty() {
                "slot titles saved; every slot on".to_string()
            } else {
                format!("slot titles saved; switched off: {}", off.join(", "))
            }
        }
        (s, _) if !SECTIONS.contains(&s) => return Err(unknown_section(s)),
        (s, a) => {
            return Err(bad(msg(
                "action {action} does not apply to {section}: reload the page and use its buttons",
                &[("action", &format!("{a:?}")), ("section", s)],
            )))
        }
    };
    new.validate(shop.loyalty.method).map_err(refused)?;
    Ok((new, summary))
}

/// A value the overlay's rules refuse, in words the dashboard shows in either language.
fn refused(e: SettingsError) -> PageError {
    let value = format!("{:?}", e.value);
    let a = [("field", e.field.as_str()), ("value", value.as_str())];
    bad(match e.fix {
        Fix::OfferTitle => msg(
            "{field} = {value}: give the offer a title customers see, e.g. \"Beli 2, gratis 1\"",
            &a,
        ),
        Fix::OfferBuys => msg("{field} = {value}: name at least one product the customer buys", &a),
        Fix::Quantity => msg("{field} = {value}: use a quantity of at least 1", &a),
        Fix::Percentage => msg("{field} = {value}: use a percentage from 0 to 99", &a),
        Fix::OfferGives => msg(
            "{field} = {value}: give something free or a discount above 0 %, else the offer offers nothing",
            &a,
        ),
        Fix::TierCount => msg("{field} = {value}: keep 1 to 10 tiers, lowest first", &a),
        Fix::TierName => msg("{field} = {value}: give every tier a name", &a),
        Fix::TierNamesDiffer => msg("{field} = {value}: give each tier its own name", &a),
        Fix::TierMinimumNeeded => msg(
            "{field} = {value}: this shop places customers by thresholds: give every tier a minimum spend in rupiah",
            &a,
        ),
        Fix::TierMinimumRises => msg(
            "{field} = {value}: start the first tier at 0 and let the minimum spend rise from tier to tier",
            &a,
        ),
        Fix::PinSomething => msg(
            "{field} = {value}: name at least one product to show first, or remove the pin",
            &a,
        ),
        Fix::PinOthers => msg("{field} = {value}: pin other products, not the product itself", &a),
        Fix::TitleLength => msg(
            "{field} = {value}: write 1 to 80 characters, or leave it empty for the built-in title",
            &a,
        ),
    })
}

fn unknown_section(s: &str) -> PageError {
    bad(msg(
        "unknown settings section {section}: use {choices}",
        &[("section", &format!("{s:?}")), ("choices", &SECTIONS.join(", "))],
    ))
}

/// Applies a form to the stored overlay and logs it: the summary of what changed. The
/// caller rebuilds the shop's model so the widget shows it.
pub fn save(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    model: Option<&ShopModel>,
    user: &str,
    section: &str,
    form: &Form,
) -> Result<String, PageError> {
    let model = model.ok_or_else(|| PageError::NotReady(shop.id.to_string()))?;
    let _one_at_a_time = SAVING.lock().unwrap_or_else(|e| e.into_inner());
    let old = stored_overlay(store, &shop.id)?;
    let (new, summary) = change(model, shop, &old, section, form)?;
    let mut record = SettingsChange {
        id: 0,
        at: Utc::now(),
        user: user.to_string(),
        section: section.to_string(),
        summary: summary.clone(),
        old: section_json(&effective(shop, &old), section),
        new: section_json(&effective(shop, &new), section),
    };
    store.put_settings_change(&shop.id, &overlay::encode(&new), &mut record)?;
    tracing::info!(shop = %shop.id, user, section, "{summary}");
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{RecommendSettings, Settings};
    use crate::records::Product;

    fn model() -> ShopModel {
        let mut products = Vec::new();
        for (id, sku) in [("p1", "SRD-100"), ("p2", "TPG-100"), ("p3", "MM-021")] {
            let mut p = Product::new(
                ProductId::parse(id).unwrap(),
                &format!("Produk {id}"),
                crate::domain::Rupiah(10_000),
                vec!["Bumbu".into()],
            );
            p.sku = Some(sku.into());
            products.push(p);
        }
        crate::model::build_model(products, &[], &RecommendSettings::default())
    }

    fn shop() -> ShopSettings {
        Settings::from_toml("[[shops]]\nid = \"toko\"\n", std::path::Path::new("t.toml"), &[])
            .unwrap()
            .shops
            .remove(0)
    }

    fn form(pairs: &[(&str, &str)]) -> Form {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn products_are_named_by_sku_with_quantities() {
        let m = model();
        let lines = parse_lines(&m, "srd-100*2, TPG-100 x 3, p3").unwrap();
        let got: Vec<(String, u32)> = lines
            .iter()
            .map(|l| (l.product.to_string(), l.quantity))
            .collect();
        assert_eq!(got, [("p1".into(), 2), ("p2".into(), 3), ("p3".into(), 1)]);
        let msg = parse_lines(&m, "SRD-10O").unwrap_err().to_string();
        assert!(msg.contains("SRD-10O") && msg.contains("SRD-100"), "{msg}");
    }

    #[test]
    fn an_added_offer_joins_the_configured_ones_and_reset_restores_them() {
        let (m, s) = (model(), shop());
        let add = form(&[
            ("action", "add"),
            ("title", "Beli 2 Serundeng, gratis Tepung"),
            ("buy", "SRD-100*2"),
            ("free", "TPG-100"),
        ]);
        let (overlay, summary) = change(&m, &s, &SettingsOverlay::default(), "offers", &add).unwrap();
        assert!(summary.contains("Beli 2 Serundeng"), "{summary}");
        let offers = overlay.offers.clone().unwrap();
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].buy[0].quantity, 2);
        assert_eq!(offers[0].free[0].product.as_str(), "p2");

        let (reset, _) = change(&m, &s, &overlay, "offers", &form(&[("action", "reset")])).unwrap();
        assert_eq!(reset.offers, None);

        let bad_pct = form(&[
            ("action", "add"),
            ("title", "X"),
            ("buy", "p1"),
            ("discount_pct", "120"),
        ]);
        let msg = change(&m, &s, &overlay, "offers", &bad_pct)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("120") && msg.contains("0 to 99"), "{msg}");
    }

    #[test]
    fn tiers_must_rise_and_slots_switch_off_when_unticked() {
        let (m, s) = (model(), shop());
        let tiers = form(&[
            ("action", "set"),
            ("name_0", "Perunggu"),
            ("min_spend_0", "0"),
            ("discount_pct_0", "0"),
            ("name_1", "Perak"),
            ("min_spend_1", "100.000"),
            ("discount_pct_1", "2,5"),
        ]);
        let (o, _) = change(&m, &s, &SettingsOverlay::default(), "tiers", &tiers).unwrap();
        let t = o.tiers.unwrap();
        assert_eq!((t[1].min_spend, t[1].discount_pct), (Some(100_000), 2.5));
        let falling = form(&[
            ("action", "set"),
            ("name_0", "A"),
            ("min_spend_0", "0"),
            ("name_1", "B"),
            ("min_spend_1", "0"),
        ]);
        assert!(change(&m, &s, &SettingsOverlay::default(), "tiers", &falling).is_err());

        let slots = form(&[
            ("action", "set"),
            ("title_bundle", "Paket hemat"),
            ("on_similar", "on"),
            ("on_upsell", "on"),
            ("on_bundle", "on"),
            ("on_for_you", "on"),
        ]);
        let (o, summary) = change(&m, &s, &SettingsOverlay::default(), "slots", &slots).unwrap();
        assert!(o.slots[&Slot::Loyalty].off);
        assert_eq!(o.slots[&Slot::Bundle].title.as_deref(), Some("Paket hemat"));
        assert!(!o.slots.contains_key(&Slot::Similar));
        assert!(summary.contains("loyalty"), "{summary}");
    }
}
