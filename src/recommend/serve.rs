//! Answering one recommendation request from a [`ShopModel`]: filter, fall back, explain.
//! Pure and cheap: a few lookups and short sorts, whatever the catalogue size.
//!
//! Never recommended: the viewed product, an inactive or out-of-stock product, one already
//! in the cart, one the shop owner excluded. Every list falls back to best-sellers when the
//! model has too little (the up-sell list only to pricier best-sellers: a cheaper product
//! is not an upgrade).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::config::{FixedOffer, RecommendSettings};
use crate::domain::{CustomerId, ProductId, Rupiah};
use crate::recommend::features::SparseVec;
use crate::recommend::model::ShopModel;
use crate::recommend::similar::SharedTraits;
use crate::recommend::upsell::UpgradeKind;
use crate::records::Product;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl Lang {
    pub fn parse(raw: &str) -> Option<Lang> {
        match raw {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    fn pick(self, id: String, en: String) -> String {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }
}

/// One recommended product, as the JSON contract (SPEC §6) has it. Prices in whole rupiah.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub url: Option<String>,
    pub image: Option<String>,
    pub score: f32,
    pub reason: String,
    /// Up-sell only: the price after the configured upgrade discount.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub discounted_price: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub discount_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleOffer {
    pub items: Vec<Item>,
    /// Sum of the items' prices (times quantities for fixed offers).
    pub price: i64,
    pub bundle_price: i64,
    pub discount_pct: f64,
    pub support: Option<f64>,
    pub confidence: Option<f64>,
    pub lift: Option<f64>,
    pub reason: String,
    /// `mined` (association rule), `fixed` (shop owner's offer) or `best_sellers` (fallback).
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendations {
    pub shop: String,
    pub product: Item,
    pub similar: Vec<Item>,
    pub upsell: Vec<Item>,
    pub bundles: Vec<BundleOffer>,
    /// Filled by the loyalty layer; `null` when it has nothing to say.
    pub loyalty: serde_json::Value,
}

pub struct Request<'a> {
    pub product: &'a ProductId,
    pub customer: Option<&'a CustomerId>,
    pub cart: &'a [ProductId],
    pub limit: usize,
    pub lang: Lang,
}

fn item(p: &Product, score: f32, reason: String) -> Item {
    Item {
        id: p.id.to_string(),
        name: p.name.clone(),
        price: p.price.0,
        url: p.url.clone(),
        image: p.image.clone(),
        score: (score * 1000.0).round() / 1000.0,
        reason,
        discounted_price: None,
        discount_pct: None,
    }
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn decimal(x: f64, lang: Lang) -> String {
    let s = format!("{x:.1}");
    match lang {
        Lang::Id => s.replace('.', ","),
        Lang::En => s,
    }
}

fn similar_reason(t: &SharedTraits, same_price_cluster: bool, lang: Lang) -> String {
    let mut id_parts: Vec<String> = Vec::new();
    let mut en_parts: Vec<String> = Vec::new();
    if t.same_category {
        id_parts.push("kategori sama".into());
        en_parts.push("same category".into());
    }
    for (k, v) in t.attributes.iter().take(2) {
        id_parts.push(format!("{k} {v}"));
        en_parts.push(format!("{k} {v}"));
    }
    if id_parts.len() < 2 && !t.words.is_empty() {
        let words = t.words.iter().take(2).cloned().collect::<Vec<_>>().join(" ");
        id_parts.push(format!("sama-sama \"{words}\""));
        en_parts.push(format!("both \"{words}\""));
    }
    if same_price_cluster || (0.8..=1.25).contains(&t.price_ratio) {
        id_parts.push("harga serupa".into());
        en_parts.push("similar price".into());
    }
    if id_parts.is_empty() {
        return lang.pick("Mirip produk ini".into(), "Similar to this product".into());
    }
    lang.pick(
        format!("Mirip: {}", id_parts.join(", ")),
        format!("Similar: {}", en_parts.join(", ")),
    )
}

fn best_seller_reason(units: u64, lang: Lang) -> String {
    lang.pick(
        format!("Terlaris: {units} terjual"),
        format!("Best-seller: {units} sold"),
    )
}

/// What may be shown at all for this request.
struct Allowed<'a> {
    model: &'a ShopModel,
    blocked: HashSet<usize>,
}

impl<'a> Allowed<'a> {
    fn new(model: &'a ShopModel, viewed: usize, cart: &[ProductId], exclude: &[String]) -> Self {
        let mut blocked: HashSet<usize> = cart.iter().filter_map(|p| model.product_index(p)).collect();
        blocked.insert(viewed);
        for raw in exclude {
            if let Some(i) = ProductId::parse(raw).ok().and_then(|p| model.product_index(&p)) {
                blocked.insert(i);
            }
        }
        Allowed { model, blocked }
    }

    fn ok(&self, i: usize) -> bool {
        !self.blocked.contains(&i) && self.model.products.get(i).is_some_and(Product::is_available)
    }
}

fn profile(model: &ShopModel, customer: Option<&CustomerId>) -> Option<SparseVec> {
    let bought = model.purchases_by_customer.get(customer?)?;
    let vectors: Vec<&SparseVec> = bought
        .iter()
        .filter_map(|&i| model.features.vectors.get(i as usize))
        .collect();
    (!vectors.is_empty()).then(|| SparseVec::mean(&vectors))
}

fn fill_with_best_sellers(
    model: &ShopModel,
    allowed: &Allowed,
    out: &mut Vec<Item>,
    limit: usize,
    min_price: Option<Rupiah>,
    lang: Lang,
) {
    for &(i, units) in &model.best_sellers {
        if out.len() >= limit {
            break;
        }
        let i = i as usize;
        let p = &model.products[i];
        let id = p.id.to_string();
        if !allowed.ok(i) || out.iter().any(|x| x.id == id) || min_price.is_some_and(|m| p.price <= m) {
            continue;
        }
        out.push(item(p, 0.0, best_seller_reason(units, lang)));
    }
}

fn similar_list(
    model: &ShopModel,
    s: &RecommendSettings,
    viewed: usize,
    allowed: &Allowed,
    req: &Request,
) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    let viewed_p = &model.products[viewed];
    if let Some(pins) = s.pin.get(viewed_p.id.as_str()) {
        for raw in pins {
            if let Some(i) = ProductId::parse(raw).ok().and_then(|p| model.product_index(&p)) {
                if allowed.ok(i) && out.len() < req.limit {
                    let reason = req.lang.pick("Pilihan toko".into(), "The shop's pick".into());
                    out.push(item(&model.products[i], 1.0, reason));
                }
            }
        }
    }
    let clusters = model.price_clusters.as_ref();
    let same_cluster = |i: usize| clusters.is_some_and(|c| c.of_product[i] == c.of_product[viewed]);
    let prof = profile(model, req.customer);
    let mut scored: Vec<(usize, f32, String)> = model.similar[viewed]
        .iter()
        .filter(|n| allowed.ok(n.index as usize))
        .map(|n| {
            let i = n.index as usize;
            let reason = similar_reason(&n.traits, same_cluster(i), req.lang);
            match &prof {
                Some(pv) => {
                    let fit = pv.dot(&model.features.vectors[i]);
                    let score = 0.7 * n.score + 0.3 * fit;
                    let reason = if fit > n.score {
                        req.lang.pick(
                            format!("{reason}; cocok dengan riwayat belanja Anda"),
                            format!("{reason}; matches your purchases"),
                        )
                    } else {
                        reason
                    };
                    (i, score, reason)
                }
                None => (i, n.score, reason),
            }
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for (i, score, reason) in scored {
        if out.len() >= req.limit {
            break;
        }
        let id = model.products[i].id.to_string();
        if !out.iter().any(|x| x.id == id) {
            out.push(item(&model.products[i], score, reason));
        }
    }
    fill_with_best_sellers(model, allowed, &mut out, req.limit, None, req.lang);
    out
}

fn upsell_list(
    model: &ShopModel,
    s: &RecommendSettings,
    viewed: usize,
    allowed: &Allowed,
    req: &Request,
) -> Vec<Item> {
    let viewed_p = &model.products[viewed];
    let mut out: Vec<Item> = Vec::new();
    for u in &model.upsell[viewed] {
        let i = u.index as usize;
        if out.len() >= req.limit || !allowed.ok(i) {
            continue;
        }
        let p = &model.products[i];
        let reason = match (u.kind, u.pack_ratio) {
            (UpgradeKind::BiggerPack, Some(r)) => req.lang.pick(
                format!(
                    "Kemasan lebih besar ({}×), per gram lebih hemat",
                    decimal(r, Lang::Id)
                ),
                format!("Bigger pack ({}×), less per gram", decimal(r, Lang::En)),
            ),
            _ => req.lang.pick(
                format!("Versi lebih premium dari {}", viewed_p.name),
                format!("A premium step up from {}", viewed_p.name),
            ),
        };
        let reason = if u.kind == UpgradeKind::BiggerPack && u.pack_ratio.is_some_and(|r| u.price_ratio >= r)
        {
            // Not cheaper per gram: do not claim it is.
            req.lang.pick(
                format!(
                    "Kemasan lebih besar ({}×)",
                    decimal(u.pack_ratio.unwrap_or(1.0), Lang::Id)
                ),
                format!(
                    "Bigger pack ({}×)",
                    decimal(u.pack_ratio.unwrap_or(1.0), Lang::En)
                ),
            )
        } else {
            reason
        };
        let mut it = item(p, u.score, reason);
        if s.upsell_discount_pct > 0.0 {
            it.discounted_price = Some(p.price.discounted(s.upsell_discount_pct).0);
            it.discount_pct = Some(s.upsell_discount_pct);
        }
        out.push(it);
    }
    if out.is_empty() {
        fill_with_best_sellers(
            model,
            allowed,
            &mut out,
            req.limit,
            Some(viewed_p.price),
            req.lang,
        );
    }
    out
}

fn bundle_list(
    model: &ShopModel,
    s: &RecommendSettings,
    offers: &[FixedOffer],
    viewed: usize,
    allowed: &Allowed,
    req: &Request,
) -> Vec<BundleOffer> {
    let viewed_p = &model.products[viewed];
    let mut out: Vec<BundleOffer> = Vec::new();
    // The shop owner's fixed offers that involve the viewed product come first.
    for offer in offers {
        let lines: Vec<(usize, u32, bool)> = offer
            .buy
            .iter()
            .map(|l| (l, false))
            .chain(offer.free.iter().map(|l| (l, true)))
            .filter_map(|(l, free)| {
                let i = ProductId::parse(&l.product)
                    .ok()
                    .and_then(|p| model.product_index(&p))?;
                Some((i, l.quantity, free))
            })
            .collect();
        let complete = lines.len() == offer.buy.len() + offer.free.len();
        let involves = lines.iter().any(|(i, _, _)| *i == viewed);
        let available = lines.iter().all(|(i, _, _)| model.products[*i].is_available());
        if !complete || !involves || !available {
            continue;
        }
        let price: i64 = lines
            .iter()
            .map(|(i, q, _)| model.products[*i].price.0 * i64::from(*q))
            .sum();
        let paid: i64 = lines
            .iter()
            .filter(|(_, _, free)| !free)
            .map(|(i, q, _)| model.products[*i].price.0 * i64::from(*q))
            .sum();
        let bundle_price = Rupiah(paid).discounted(offer.discount_pct).0;
        let title = match req.lang {
            Lang::En => offer.title_en.clone().unwrap_or_else(|| offer.title.clone()),
            Lang::Id => offer.title.clone(),
        };
        out.push(BundleOffer {
            items: lines
                .iter()
                .map(|(i, q, free)| {
                    let p = &model.products[*i];
                    let note = match (free, req.lang) {
                        (true, Lang::Id) => format!("{q}× gratis"),
                        (true, Lang::En) => format!("{q}× free"),
                        (false, _) => format!("{q}×"),
                    };
                    item(p, 1.0, note)
                })
                .collect(),
            price,
            bundle_price,
            discount_pct: if price > 0 {
                ((price - bundle_price) as f64 * 1000.0 / price as f64).round() / 10.0
            } else {
                0.0
            },
            support: None,
            confidence: None,
            lift: None,
            reason: title,
            kind: "fixed".into(),
        });
    }
    // Mined offers: the viewed product plus its strongest consequents.
    let rules: Vec<_> = model.bundles.by_product[viewed]
        .iter()
        .filter(|r| r.with.is_empty() && allowed.ok(r.consequent as usize))
        .collect();
    let max_extra = s.bundle_max_items.saturating_sub(1).max(1);
    for r in rules.iter().take(max_extra.min(2)) {
        let other = &model.products[r.consequent as usize];
        let reason = req.lang.pick(
            format!(
                "Sering dibeli bersama: {} pembeli {} juga membeli {} (lift {})",
                pct(r.confidence),
                viewed_p.name,
                other.name,
                decimal(r.lift, Lang::Id)
            ),
            format!(
                "Often bought together: {} of buyers of {} also bought {} (lift {})",
                pct(r.confidence),
                viewed_p.name,
                other.name,
                decimal(r.lift, Lang::En)
            ),
        );
        let other = item(other, r.confidence as f32, reason);
        let stats = Some((r.support, r.confidence, r.lift));
        out.push(pair_offer(
            viewed_p,
            other,
            s.bundle_discount_pct,
            stats,
            req.lang,
        ));
    }
    if out.is_empty() {
        let mut fallback = Vec::new();
        fill_with_best_sellers(model, allowed, &mut fallback, 1, None, req.lang);
        if let Some(best) = fallback.pop() {
            out.push(pair_offer(viewed_p, best, s.bundle_discount_pct, None, req.lang));
        }
    }
    out
}

/// A two-item offer: the viewed product and `other`, with the bundle discount; `stats` are
/// the rule's (support, confidence, lift) when it was mined. The reason is `other`'s.
fn pair_offer(
    viewed: &Product,
    other: Item,
    discount_pct: f64,
    stats: Option<(f64, f64, f64)>,
    lang: Lang,
) -> BundleOffer {
    let price = viewed.price.0 + other.price;
    let reason = other.reason.clone();
    BundleOffer {
        price,
        bundle_price: Rupiah(price).discounted(discount_pct).0,
        discount_pct,
        support: stats.map(|t| t.0),
        confidence: stats.map(|t| t.1),
        lift: stats.map(|t| t.2),
        reason,
        kind: if stats.is_some() { "mined" } else { "best_sellers" }.into(),
        items: vec![
            item(viewed, 1.0, lang.pick("Produk ini".into(), "This product".into())),
            other,
        ],
    }
}

/// The `loyalty` part: for a known customer their tier, discount and progress; for an
/// anonymous visitor the ladder. Never anything personal beyond the customer's own tier.
pub fn loyalty_view(model: &ShopModel, customer: Option<&CustomerId>, lang: Lang) -> serde_json::Value {
    let l = &model.loyalty;
    if l.ladder.is_empty() {
        return serde_json::Value::Null;
    }
    let ladder: Vec<serde_json::Value> = l
        .ladder
        .iter()
        .map(|t| serde_json::json!({"name": t.name, "discount_pct": t.discount_pct, "min_spend": t.min_spend.0}))
        .collect();
    if let Some(st) = customer.and_then(|c| l.standing(c)) {
        let tier = &l.ladder[st.tier];
        let progress = l.progress(st);
        let message = match &progress {
            Some(p) => lang.pick(
                format!("Belanja {} lagi untuk naik ke {}", p.needed, p.next_tier),
                format!("Spend {} more to reach {}", p.needed, p.next_tier),
            ),
            None => lang.pick(
                format!("Anda di tingkat tertinggi: {}", tier.name),
                format!("You are in our top tier: {}", tier.name),
            ),
        };
        return serde_json::json!({
            "known": true,
            "tier": tier.name,
            "discount_pct": tier.discount_pct,
            "next_tier": progress.as_ref().map(|p| p.next_tier.clone()),
            "needed": progress.as_ref().map(|p| p.needed.0),
            "message": message,
            "ladder": ladder,
        });
    }
    let best = l.best_discount();
    let best_text = decimal(best, lang)
        .trim_end_matches(",0")
        .trim_end_matches(".0")
        .to_string();
    serde_json::json!({
        "known": false,
        "message": lang.pick(
            format!("Diskon hingga {best_text}% untuk pelanggan setia"),
            format!("Up to {best_text}% off for loyal customers"),
        ),
        "ladder": ladder,
    })
}

/// Recommendations for one product page; `None` when the product is not in the model.
pub fn recommend(
    model: &ShopModel,
    shop: &str,
    settings: &RecommendSettings,
    offers: &[FixedOffer],
    req: &Request,
) -> Option<Recommendations> {
    let viewed = model.product_index(req.product)?;
    let allowed = Allowed::new(model, viewed, req.cart, &settings.exclude);
    let product = item(&model.products[viewed], 1.0, String::new());
    Some(Recommendations {
        shop: shop.to_string(),
        product,
        similar: similar_list(model, settings, viewed, &allowed, req),
        upsell: upsell_list(model, settings, viewed, &allowed, req),
        bundles: bundle_list(model, settings, offers, viewed, &allowed, req),
        loyalty: loyalty_view(model, req.customer, req.lang),
    })
}
