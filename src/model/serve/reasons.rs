//! The language of an answer and the reason shown for each pick, in Indonesian or English.

use serde::{Deserialize, Serialize};

use crate::model::serve::picks::Why;
use crate::model::ShopModel;
use crate::recommend::similar::{SharedText, SharedTraits};
use crate::recommend::upsell::{Upgrade, UpgradeKind};
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

    /// The text in this language.
    pub(super) fn pick(self, id: String, en: String) -> String {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// `1,5` in Indonesian, `1.5` in English.
pub(super) fn decimal(x: f64, lang: Lang) -> String {
    let s = format!("{x:.1}");
    match lang {
        Lang::Id => s.replace('.', ","),
        Lang::En => s,
    }
}

fn similar_reason(traits: &SharedTraits, text: SharedText, same_price_cluster: bool, lang: Lang) -> String {
    let t = text;
    let mut id_parts: Vec<String> = Vec::new();
    let mut en_parts: Vec<String> = Vec::new();
    if traits.same_category {
        id_parts.push("kategori sama".into());
        en_parts.push("same category".into());
    }
    for (k, v) in t.attributes.iter().chain(&t.numbers).take(2) {
        id_parts.push(format!("{k} {v}"));
        en_parts.push(format!("{k} {v}"));
    }
    if id_parts.len() < 2 && !t.words.is_empty() {
        let words = t.words.iter().take(2).cloned().collect::<Vec<_>>().join(" ");
        id_parts.push(format!("sama-sama \"{words}\""));
        en_parts.push(format!("both \"{words}\""));
    }
    if same_price_cluster || (0.8..=1.25).contains(&traits.price_ratio) {
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

/// The reason shown for a pick.
pub(super) fn reason(
    model: &ShopModel,
    viewed: usize,
    pick: usize,
    why: &Why,
    same_cluster: bool,
    lang: Lang,
) -> String {
    let viewed_p = &model.products[viewed];
    match why {
        Why::Pin => lang.pick("Pilihan toko".into(), "The shop's pick".into()),
        Why::Similar(t) => similar_reason(t, t.text(viewed_p, &model.products[pick]), same_cluster, lang),
        Why::Bought { confidence } => lang.pick(
            format!(
                "Sering dibeli bersama: {} pembeli {} juga membeli produk ini",
                pct(f64::from(*confidence)),
                viewed_p.name
            ),
            format!(
                "Often bought together: {} of buyers of {} also bought this",
                pct(f64::from(*confidence)),
                viewed_p.name
            ),
        ),
        Why::Goes => lang.pick(
            "Sering dibeli bersama produk pilihan Anda".into(),
            "Often bought with what you chose".into(),
        ),
        Why::CategoryBest { units } => lang.pick(
            format!("Terlaris di kategori ini: {units} terjual"),
            format!("Best-seller in this category: {units} sold"),
        ),
        Why::BestSeller { units } => best_seller_reason(*units, lang),
        Why::Upgrade(u) => upgrade_reason(u, viewed_p, lang),
        Why::Again { orders, due } => match (due, orders) {
            (true, _) => lang.pick("Waktunya beli lagi".into(), "Time to buy it again".into()),
            (false, n) if *n > 1 => lang.pick(
                format!("Anda membelinya {n}× sebelumnya"),
                format!("You bought it {n}× before"),
            ),
            _ => lang.pick("Beli lagi".into(), "Buy it again".into()),
        },
    }
}

fn upgrade_reason(u: &Upgrade, viewed_p: &Product, lang: Lang) -> String {
    match (u.kind, u.pack_ratio) {
        (UpgradeKind::BiggerPack, Some(r)) if u.price_ratio < r => lang.pick(
            format!(
                "Kemasan lebih besar ({}×), per gram lebih hemat",
                decimal(r, Lang::Id)
            ),
            format!("Bigger pack ({}×), less per gram", decimal(r, Lang::En)),
        ),
        // Not cheaper per gram: do not claim it is.
        (UpgradeKind::BiggerPack, Some(r)) => lang.pick(
            format!("Kemasan lebih besar ({}×)", decimal(r, Lang::Id)),
            format!("Bigger pack ({}×)", decimal(r, Lang::En)),
        ),
        _ => lang.pick(
            format!("Versi lebih premium dari {}", viewed_p.name),
            format!("A premium step up from {}", viewed_p.name),
        ),
    }
}
