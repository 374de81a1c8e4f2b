//! The `loyalty` part of an answer: a known customer's own tier and progress, or for anyone
//! else the ladder and the best discount on it.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::domain::CustomerId;
use crate::loyalty::tiers::LoyaltyModel;
use crate::model::serve::reasons::{decimal, Lang};

/// One rung of the ladder as the widget shows it. Fields in the order the answer lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierStep {
    pub discount_pct: f64,
    /// Whole rupiah spent from which a customer is in this tier.
    pub min_spend: i64,
    pub name: String,
}

/// A signed-in customer's place on the ladder: theirs only, nothing about anyone else.
#[derive(Debug, Clone, PartialEq)]
pub struct TierStanding {
    pub tier: String,
    pub discount_pct: f64,
    /// The next tier up; `None` at the top.
    pub next_tier: Option<String>,
    /// Whole rupiah still to spend for the next tier; `None` at the top.
    pub needed: Option<i64>,
}

/// The `loyalty` part. On the wire an object with `known`, `message` and `ladder`, and for a
/// known customer also `tier`, `discount_pct`, `next_tier` and `needed` (these two `null` at
/// the top tier); keys in alphabetical order, as the answer has always listed them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "LoyaltyWire")]
pub struct LoyaltyView {
    /// The signed-in customer's own tier and progress; `None` for an anonymous visitor or a
    /// customer without a tier.
    pub standing: Option<TierStanding>,
    /// What the slot says: the way to the next tier, or the best discount on the ladder.
    pub message: String,
    pub ladder: Vec<TierStep>,
}

impl Serialize for LoyaltyView {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(s) = &self.standing {
            map.serialize_entry("discount_pct", &s.discount_pct)?;
        }
        map.serialize_entry("known", &self.standing.is_some())?;
        map.serialize_entry("ladder", &self.ladder)?;
        map.serialize_entry("message", &self.message)?;
        if let Some(s) = &self.standing {
            map.serialize_entry("needed", &s.needed)?;
            map.serialize_entry("next_tier", &s.next_tier)?;
            map.serialize_entry("tier", &s.tier)?;
        }
        map.end()
    }
}

/// The `loyalty` object as read back (`laris recommend` through the service).
#[derive(Deserialize)]
struct LoyaltyWire {
    known: bool,
    #[serde(default)]
    tier: Option<String>,
    #[serde(default)]
    discount_pct: Option<f64>,
    #[serde(default)]
    next_tier: Option<String>,
    #[serde(default)]
    needed: Option<i64>,
    message: String,
    ladder: Vec<TierStep>,
}

impl TryFrom<LoyaltyWire> for LoyaltyView {
    type Error = String;

    fn try_from(w: LoyaltyWire) -> Result<Self, Self::Error> {
        let standing = match (w.known, w.tier, w.discount_pct) {
            (false, _, _) => None,
            (true, Some(tier), Some(discount_pct)) => Some(TierStanding {
                tier,
                discount_pct,
                next_tier: w.next_tier,
                needed: w.needed,
            }),
            (true, _, _) => {
                return Err("a loyalty part with \"known\": true needs \"tier\" and \"discount_pct\"".into())
            }
        };
        Ok(LoyaltyView {
            standing,
            message: w.message,
            ladder: w.ladder,
        })
    }
}

/// The `loyalty` part: for a known customer their tier, discount and progress; for an
/// anonymous visitor the ladder. Never anything personal beyond the customer's own tier.
/// `None` when the shop has no tiers.
pub fn loyalty_view(l: &LoyaltyModel, customer: Option<&CustomerId>, lang: Lang) -> Option<LoyaltyView> {
    if l.ladder.is_empty() {
        return None;
    }
    let ladder: Vec<TierStep> = l
        .ladder
        .iter()
        .map(|t| TierStep {
            discount_pct: t.discount_pct,
            min_spend: t.min_spend.0,
            name: t.name.clone(),
        })
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
        return Some(LoyaltyView {
            standing: Some(TierStanding {
                tier: tier.name.clone(),
                discount_pct: tier.discount_pct,
                next_tier: progress.as_ref().map(|p| p.next_tier.clone()),
                needed: progress.as_ref().map(|p| p.needed.0),
            }),
            message,
            ladder,
        });
    }
    let best = l.best_discount();
    let best_text = decimal(best, lang)
        .trim_end_matches(",0")
        .trim_end_matches(".0")
        .to_string();
    Some(LoyaltyView {
        standing: None,
        message: lang.pick(
            format!("Diskon hingga {best_text}% untuk pelanggan setia"),
            format!("Up to {best_text}% off for loyal customers"),
        ),
        ladder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Rupiah;
    use crate::loyalty::tiers::{Standing, Tier};

    fn ladder() -> LoyaltyModel {
        let tier = |name: &str, discount_pct: f64, min_spend: i64| Tier {
            name: name.into(),
            discount_pct,
            min_spend: Rupiah(min_spend),
        };
        let standing = |tier: usize, spend: i64| Standing {
            tier,
            spend: Rupiah(spend),
            since: "2026-11-01T00:00:00Z".parse().unwrap(),
        };
        LoyaltyModel {
            ladder: vec![
                tier("Perunggu", 0.0, 0),
                tier("Perak", 2.5, 500_000),
                tier("Emas", 5.0, 2_000_000),
            ],
            standings: [
                (CustomerId("c-silver".into()), standing(1, 800_000)),
                (CustomerId("c-gold".into()), standing(2, 3_000_000)),
            ]
            .into_iter()
            .collect(),
            stats: Default::default(),
        }
    }

    const LADDER_JSON: &str = r#"[{"discount_pct":0.0,"min_spend":0,"name":"Perunggu"},{"discount_pct":2.5,"min_spend":500000,"name":"Perak"},{"discount_pct":5.0,"min_spend":2000000,"name":"Emas"}]"#;

    #[test]
    fn a_customer_on_the_way_up_sees_their_tier_and_what_is_left_to_spend() {
        let me = CustomerId("c-silver".into());
        let view = loyalty_view(&ladder(), Some(&me), Lang::Id).unwrap();
        assert_eq!(
            serde_json::to_string(&view).unwrap(),
            format!(
                r#"{{"discount_pct":2.5,"known":true,"ladder":{LADDER_JSON},"message":"Belanja Rp1.200.000 lagi untuk naik ke Emas","needed":1200000,"next_tier":"Emas","tier":"Perak"}}"#
            )
        );
    }

    #[test]
    fn at_the_top_tier_next_tier_and_needed_are_null() {
        let me = CustomerId("c-gold".into());
        let view = loyalty_view(&ladder(), Some(&me), Lang::En).unwrap();
        assert_eq!(
            serde_json::to_string(&view).unwrap(),
            format!(
                r#"{{"discount_pct":5.0,"known":true,"ladder":{LADDER_JSON},"message":"You are in our top tier: Emas","needed":null,"next_tier":null,"tier":"Emas"}}"#
            )
        );
    }

    #[test]
    fn anyone_else_sees_only_the_ladder_and_the_best_discount() {
        let stranger = CustomerId("c-unknown".into());
        for customer in [None, Some(&stranger)] {
            let view = loyalty_view(&ladder(), customer, Lang::Id).unwrap();
            assert_eq!(
                serde_json::to_string(&view).unwrap(),
                format!(
                    r#"{{"known":false,"ladder":{LADDER_JSON},"message":"Diskon hingga 5% untuk pelanggan setia"}}"#
                )
            );
        }
    }

    #[test]
    fn a_shop_without_tiers_has_no_loyalty_part() {
        let me = CustomerId("c-silver".into());
        assert_eq!(loyalty_view(&LoyaltyModel::default(), Some(&me), Lang::Id), None);
    }

    #[test]
    fn the_view_reads_back_as_it_was_written() {
        let l = ladder();
        let (silver, gold) = (CustomerId("c-silver".into()), CustomerId("c-gold".into()));
        for customer in [Some(&silver), Some(&gold), None] {
            let view = loyalty_view(&l, customer, Lang::Id).unwrap();
            let back: LoyaltyView = serde_json::from_str(&serde_json::to_string(&view).unwrap()).unwrap();
            assert_eq!(back, view);
        }
        let e = serde_json::from_str::<LoyaltyView>(r#"{"known":true,"message":"","ladder":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"tier\""), "{e}");
    }
}
