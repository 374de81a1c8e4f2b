//! Answering one recommendation request from a [`ShopModel`]: filter, fall back, explain.
//! Pure and cheap: a few lookups and short sorts, whatever the catalogue size.
//!
//! Never recommended: the viewed product, an inactive or out-of-stock product, one already
//! in the cart, one the shop owner excluded. Every list falls back to best-sellers when the
//! model has too little (the up-sell list only to pricier best-sellers: a cheaper product
//! is not an upgrade).
//!
//! The work is split by step: `picks` chooses catalogue indices with their evidence,
//! `reasons` words the evidence, `items` and `bundles` dress the picks as the answer's
//! items and offers, and `loyalty` adds the customer's tier.

mod bundles;
mod items;
mod loyalty;
mod picks;
mod reasons;

use std::collections::HashSet;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::config::{FixedOffer, RecommendSettings};
use crate::domain::{CustomerId, ProductId};
use crate::model::ShopModel;
use crate::records::Product;

pub use bundles::{BundleKind, BundleOffer};
pub use items::Item;
pub use loyalty::{loyalty_view, LoyaltyView, TierStanding, TierStep};
pub use picks::{for_you, pick, BundlePick, Pick, PickRequest, Picks, Why};
pub use reasons::Lang;

use bundles::{bundle_offer, fixed_offers};
use items::{item, items};

/// The answer for one product page (`GET …/recommendations`, `laris recommend --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendations {
    pub shop: String,
    pub product: Item,
    pub similar: Vec<Item>,
    pub upsell: Vec<Item>,
    pub bundles: Vec<BundleOffer>,
    /// A signed-in customer's own list (their products due again, and what goes with them);
    /// empty for an anonymous visitor.
    #[serde(default)]
    pub for_you: Vec<Item>,
    /// The customer's tier or the shop's ladder; `null` when the shop has no tiers.
    pub loyalty: Option<LoyaltyView>,
}

/// One product page's request: the viewed product, who is looking, what is in the cart.
pub struct Request<'a> {
    pub product: &'a ProductId,
    pub customer: Option<&'a CustomerId>,
    pub cart: &'a [ProductId],
    pub limit: usize,
    pub lang: Lang,
}

/// What may be shown at all for this request.
struct Allowed<'a> {
    model: &'a ShopModel,
    blocked: HashSet<usize>,
}

impl<'a> Allowed<'a> {
    fn new(model: &'a ShopModel, viewed: usize, cart: &[usize], exclude: &[ProductId]) -> Self {
        let mut blocked: HashSet<usize> = cart.iter().copied().collect();
        blocked.insert(viewed);
        blocked.extend(exclude.iter().filter_map(|p| model.product_index(p)));
        Allowed { model, blocked }
    }

    fn ok(&self, i: usize) -> bool {
        !self.blocked.contains(&i) && self.model.products.get(i).is_some_and(Product::is_available)
    }
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
    let cart: Vec<usize> = req.cart.iter().filter_map(|p| model.product_index(p)).collect();
    let allowed = Allowed::new(model, viewed, &cart, &settings.exclude);
    let (fixed, offered) = fixed_offers(model, offers, viewed, req.lang);
    // A token for a buyer id or an old name hash stands for the phone key it links to.
    let customer = req.customer.map(|c| model.customer(c));
    let picks = pick(
        model,
        settings,
        &PickRequest {
            viewed,
            cart: &cart,
            customer,
            limit: req.limit,
            keep: &|i| allowed.ok(i),
            offered: &offered,
            now: Utc::now(),
        },
    );
    let mut bundles = fixed;
    bundles.extend(
        picks
            .bundles
            .iter()
            .map(|b| bundle_offer(model, viewed, b, settings.bundle_discount_pct, req.lang)),
    );
    Some(Recommendations {
        shop: shop.to_string(),
        product: item(&model.products[viewed], 1.0, String::new()),
        similar: items(model, viewed, &picks.similar, None, req.lang),
        upsell: items(model, viewed, &picks.upsell, Some(settings), req.lang),
        bundles,
        for_you: items(model, viewed, &picks.for_you, None, req.lang),
        loyalty: loyalty_view(&model.loyalty, customer, req.lang),
    })
}

/// The shop's best sellers for one product page, the viewed product, the cart and
/// excluded or unavailable products left out: what a holdout experiment's control arm sees
/// in the recommendation slots with `control = "best_sellers"`. `None` when the product is
/// not in the model.
pub fn best_sellers(model: &ShopModel, settings: &RecommendSettings, req: &Request) -> Option<Vec<Item>> {
    let viewed = model.product_index(req.product)?;
    let cart: Vec<usize> = req.cart.iter().filter_map(|p| model.product_index(p)).collect();
    let allowed = Allowed::new(model, viewed, &cart, &settings.exclude);
    let mut best = Vec::new();
    picks::fill_with_best_sellers_picks(model, &|i| allowed.ok(i), &mut best, req.limit, None);
    Some(items(model, viewed, &best, None, req.lang))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::fixtures::{at, catalogue, order, orders, product};
    use crate::model::build_model;

    fn request<'a>(product: &'a ProductId, customer: Option<&'a CustomerId>) -> Request<'a> {
        Request {
            product,
            customer,
            cart: &[],
            limit: 4,
            lang: Lang::Id,
        }
    }

    #[test]
    fn a_product_with_nothing_alike_is_never_called_similar() {
        // Every name is `Produk N`, one category for all: no pair has real evidence.
        let products: Vec<Product> = (1..=40)
            .map(|i| {
                product(
                    &format!("P{i:02}"),
                    &format!("Produk {i}"),
                    10_000 + i * 500,
                    &["Semua"],
                    &[],
                )
            })
            .collect();
        let mut orders = Vec::new();
        for k in 0..120u32 {
            let a = format!("P{:02}", k % 40 + 1);
            let b = format!("P{:02}", (k * 7) % 40 + 1);
            orders.push(order(
                &format!("INV-{k}"),
                &format!("c{}", k % 15),
                at(k % 28 + 1, k % 20),
                &[&a, &b],
            ));
        }
        let m = build_model(products, &orders, &RecommendSettings::default());
        assert!(m.similar.iter().flatten().all(|n| !n.evidence));
        for p in &m.products {
            let r = recommend(
                &m,
                "toko",
                &RecommendSettings::default(),
                &[],
                &request(&p.id, None),
            )
            .unwrap();
            assert!(
                !r.similar.is_empty(),
                "the slot falls back instead of going empty"
            );
            for it in &r.similar {
                assert_ne!(it.source, "similar", "{}: {it:?}", p.id);
                assert!(!it.reason.starts_with("Mirip"), "{}: {it:?}", p.id);
            }
        }
    }

    #[test]
    fn mined_pairs_have_co_purchase_evidence() {
        let m = build_model(catalogue(), &orders(), &RecommendSettings::default());
        let s = RecommendSettings::default();
        let paid: Vec<Vec<String>> = orders()
            .iter()
            .filter(|o| o.is_purchase())
            .map(|o| {
                o.lines
                    .iter()
                    .filter_map(|l| l.product.as_ref())
                    .map(|p| p.to_string())
                    .collect()
            })
            .collect();
        let n = paid.len() as f64;
        let count = |ids: &[&str]| {
            paid.iter()
                .filter(|b| ids.iter().all(|i| b.contains(&i.to_string())))
                .count() as f64
        };
        let mut pairs = 0;
        for p in &m.products {
            let r = recommend(&m, "toko", &s, &[], &request(&p.id, None)).unwrap();
            for b in r
                .bundles
                .iter()
                .filter(|b| b.kind == BundleKind::Mined && b.items.len() == 2)
            {
                pairs += 1;
                let (a, other) = (b.items[0].id.as_str(), b.items[1].id.as_str());
                let both = count(&[a, other]);
                assert!(both >= f64::from(s.pair_min_count), "{a}+{other}: {both}");
                let confidence = both / count(&[a]);
                let lift = confidence / (count(&[other]) / n);
                assert!(lift > 1.0, "{a}+{other}: lift {lift}");
                assert!((b.confidence.unwrap() - confidence).abs() < 1e-6);
                assert!(
                    crate::recommend::copurchase::wilson_low(both as u32, count(&[a]) as u32)
                        >= s.pair_min_confidence
                );
                assert!(!b.reason.contains("lift"));
            }
        }
        assert!(pairs > 0, "the fixture has pairs bought together");
    }

    #[test]
    fn a_customer_who_buys_the_same_product_again_sees_it_for_them() {
        let mut orders = orders();
        // c-loyal buys KRP-80 every week.
        for w in 0..8u32 {
            orders.push(order(
                &format!("INV-L{w}"),
                "c-loyal",
                at(w * 3 + 1, 8),
                &["KRP-80"],
            ));
        }
        let m = build_model(catalogue(), &orders, &RecommendSettings::default());
        let me = CustomerId("c-loyal".into());
        let viewed = ProductId::parse("SRD-100").unwrap();
        let r = recommend(
            &m,
            "toko",
            &RecommendSettings::default(),
            &[],
            &request(&viewed, Some(&me)),
        )
        .unwrap();
        assert_eq!(r.for_you[0].id, "KRP-80", "{:?}", r.for_you);
        assert_eq!(r.for_you[0].source, "repurchase");
        assert!(
            r.for_you.iter().all(|it| it.id != "SRD-100"),
            "never the viewed product"
        );
        // Anonymous: no personal list.
        let anon = recommend(
            &m,
            "toko",
            &RecommendSettings::default(),
            &[],
            &request(&viewed, None),
        )
        .unwrap();
        assert!(anon.for_you.is_empty());
    }
}
