//! Bundle offers: the shop owner's fixed offers with the viewed product, then the mined
//! (or best-seller) bundles the picking chose.

use serde::{Deserialize, Serialize};

use crate::config::FixedOffer;
use crate::domain::Rupiah;
use crate::model::serve::items::{item, Item};
use crate::model::serve::picks::BundlePick;
use crate::model::serve::reasons::{reason, Lang};
use crate::model::ShopModel;

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
    pub kind: BundleKind,
}

/// Where a bundle offer comes from; on the wire `mined`, `fixed` or `best_sellers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BundleKind {
    /// Bought together: co-purchase pairs and association rules mined from the orders.
    Mined,
    /// The shop owner's offer (`[[shops.offers]]`).
    Fixed,
    /// The fallback when nothing was bought together: the viewed product with a best-seller.
    BestSellers,
}

/// The shop owner's fixed offers that involve the viewed product, and the partners they
/// cover (a mined bundle of the same pair is not shown again).
pub(super) fn fixed_offers(
    model: &ShopModel,
    offers: &[FixedOffer],
    viewed: usize,
    lang: Lang,
) -> (Vec<BundleOffer>, Vec<usize>) {
    let mut out: Vec<BundleOffer> = Vec::new();
    let mut covered: Vec<usize> = Vec::new();
    for offer in offers {
        let lines: Vec<(usize, u32, bool)> = offer
            .buy
            .iter()
            .map(|l| (l, false))
            .chain(offer.free.iter().map(|l| (l, true)))
            .filter_map(|(l, free)| {
                let i = model.product_index(&l.product)?;
                Some((i, l.quantity, free))
            })
            .collect();
        let complete = lines.len() == offer.buy.len() + offer.free.len();
        let involves = lines.iter().any(|(i, _, _)| *i == viewed);
        let available = lines.iter().all(|(i, _, _)| model.products[*i].is_available());
        if !complete || !involves || !available {
            continue;
        }
        covered.extend(lines.iter().map(|(i, _, _)| *i).filter(|&i| i != viewed));
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
        let title = match lang {
            Lang::En => offer.title_en.clone().unwrap_or_else(|| offer.title.clone()),
            Lang::Id => offer.title.clone(),
        };
        out.push(BundleOffer {
            items: lines
                .iter()
                .map(|(i, q, free)| {
                    let p = &model.products[*i];
                    let note = match (free, lang) {
                        (true, Lang::Id) => format!("{q}× gratis"),
                        (true, Lang::En) => format!("{q}× free"),
                        (false, _) => format!("{q}×"),
                    };
                    Item {
                        quantity: Some(*q),
                        free: *free,
                        ..item(p, 1.0, note)
                    }
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
            kind: BundleKind::Fixed,
        });
    }
    (out, covered)
}

/// A mined (or best-seller) offer: the viewed product and its partners, with the bundle
/// discount. The reason is the first partner's.
pub(super) fn bundle_offer(
    model: &ShopModel,
    viewed: usize,
    b: &BundlePick,
    discount_pct: f64,
    lang: Lang,
) -> BundleOffer {
    let viewed_p = &model.products[viewed];
    let first = b.with.first().copied().unwrap_or(viewed);
    let reason = reason(model, viewed, first, &b.why, false, lang);
    let mut items = vec![item(
        viewed_p,
        1.0,
        lang.pick("Produk ini".into(), "This product".into()),
    )];
    for &i in &b.with {
        let mut it = item(
            &model.products[i],
            b.stats.map_or(0.0, |t| t.1 as f32),
            reason.clone(),
        );
        it.source = b.why.source().to_string();
        items.push(it);
    }
    let price: i64 = items.iter().map(|it| it.price).sum();
    BundleOffer {
        price,
        bundle_price: Rupiah(price).discounted(discount_pct).0,
        discount_pct,
        support: b.stats.map(|t| t.0),
        confidence: b.stats.map(|t| t.1),
        lift: b.stats.map(|t| t.2),
        reason,
        kind: if b.stats.is_some() {
            BundleKind::Mined
        } else {
            BundleKind::BestSellers
        },
        items,
    }
}
