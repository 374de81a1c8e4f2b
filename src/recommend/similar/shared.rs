//! What two products share ([`SharedTraits`]), for the human reason shown with a similar
//! product, and whether that is evidence of likeness ([`Neighbour::evidence`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::recommend::features::{
    category_prefixes, distinct_name_words, in_parallel, read_attributes, FeatureSpace,
};
use crate::recommend::units::Quantity;
use crate::records::Product;

/// One similar product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neighbour {
    /// Position in the products slice.
    pub index: u32,
    /// Cosine similarity, in (0, 1].
    pub score: f32,
    pub traits: SharedTraits,
    /// Whether the pair has *positive evidence* of similarity, judged against the catalogue it
    /// was built from: the two share an informative full category path (one that not every
    /// product of the catalogue is under), an attribute value or a name word that not every
    /// product has, or a close numeric attribute ([`SharedTraits::numbers`]). Close price or
    /// pack alone is no evidence, nor is what every product shares (a shop whose products are
    /// all `Produk N` in one category has neighbours by price only, and none with evidence).
    #[serde(default)]
    pub evidence: bool,
}

/// What two products share, for the human reason ("mirip: kategori & rasa sama"): bit sets
/// over the first product's own traits, so that a neighbour costs a few bytes however many
/// products there are (a catalogue of 100,000 has a million neighbours). The words behind
/// the bits are read back from the two products by [`SharedTraits::text`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SharedTraits {
    /// The same full category path (not just the same top-level category).
    pub same_category: bool,
    /// Bit `i`: the `i`-th of this product's attribute values as compared
    /// ([`compared_attributes`]) is the other's too.
    attributes: u64,
    /// Bit `i`: the `i`-th distinct word of this product's name is in the other's name.
    words: u64,
    /// Bit `i`: the other product has the `i`-th of this product's numeric attributes with a
    /// close value.
    numbers: u64,
    /// The other product's price divided by this one's; 0 when this one has no positive price.
    pub price_ratio: f32,
}

/// The first this many attribute values, words and numeric attributes of a product have a bit
/// in [`SharedTraits`]; later ones still count as evidence but are not named in a reason.
const MARKED: usize = 64;

/// What two products share, in words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SharedText {
    /// Attributes with the same value in both, as compared: key and value trimmed and
    /// lower-case, in key order.
    pub attributes: Vec<(String, String)>,
    /// Words both names have (as the name block reads them), in the order of this product's name.
    pub words: Vec<String>,
    /// Numeric attributes both have with the same key and close values (the larger at most
    /// [`CLOSE_RATIO`] times the smaller), as (key, the other product's value as written):
    /// `("ram", "16 GB")`, in key order. See
    /// [`super::features::numeric_attributes`](crate::recommend::features::numeric_attributes).
    pub numbers: Vec<(String, String)>,
}

impl SharedTraits {
    /// The shared traits in words: `a` is the product these traits were found for, `b` the
    /// other one (as in [`shared_traits`]`(a, b)`).
    pub fn text(&self, a: &Product, b: &Product) -> SharedText {
        let (one_hot, numbers) = compared_attributes(a);
        // The other product is read only for the values of close numeric attributes.
        let b_numbers = if self.numbers == 0 {
            Vec::new()
        } else {
            compared_attributes(b).1
        };
        SharedText {
            attributes: marked(self.attributes, one_hot),
            words: marked(self.words, distinct_name_words(&a.name)),
            numbers: marked(self.numbers, numbers)
                .into_iter()
                .filter_map(|q| {
                    b_numbers
                        .iter()
                        .find(|o| o.key == q.key && o.dimension == q.dimension)
                        .map(|o| (o.key.clone(), o.text.clone()))
                })
                .collect(),
        }
    }
}

/// The items whose bit is set in `bits`, in order.
fn marked<T>(bits: u64, items: Vec<T>) -> Vec<T> {
    items
        .into_iter()
        .take(MARKED)
        .enumerate()
        .filter(|(i, _)| bits >> i & 1 == 1)
        .map(|(_, x)| x)
        .collect()
}

/// Sets bit `i` (when it has one).
fn mark(bits: &mut u64, i: usize) {
    if i < MARKED {
        *bits |= 1 << i;
    }
}

/// A product's attribute values as compared — one-hot values (key and value trimmed and
/// lower-case) sorted and distinct — and its numeric attributes sorted by key and dimension:
/// the orders the bits of [`SharedTraits`] count in.
fn compared_attributes(p: &Product) -> (Vec<(String, String)>, Vec<Quantity>) {
    let (mut one_hot, mut numbers) = read_attributes(p);
    one_hot.sort();
    one_hot.dedup();
    numbers.sort_by(|a, b| (&a.key, a.dimension).cmp(&(&b.key, b.dimension)));
    (one_hot, numbers)
}

/// Two values of a numeric attribute are *close* when the larger is at most this many times
/// the smaller (their features' cosine is then about 0.6 or more).
pub const CLOSE_RATIO: f64 = 1.25;

/// What `b` shares with `a` (see [`SharedTraits`]). Without a catalogue to judge against,
/// evidence is not told here: a [`Neighbour`] has it.
pub fn shared_traits(a: &Product, b: &Product) -> SharedTraits {
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut id = |key: &str| {
        let next = ids.len() as u32;
        *ids.entry(key.to_string()).or_insert(next)
    };
    let a_keys = TraitKeys::of(a, &mut id);
    a_keys.shared_with(a, &TraitKeys::of(b, &mut id), b, |_| true).0
}

/// The trait keys of a whole catalogue (in some order), and in how many products each id
/// occurs, which tells what every product shares.
pub(super) struct CatalogueKeys {
    pub(super) keys: Vec<TraitKeys>,
    /// By id (feature index): how many products have it (a category prefix, an attribute value,
    /// a name word).
    count: Vec<u32>,
    products: usize,
}

impl CatalogueKeys {
    /// The keys of `products[order[0]]`, `products[order[1]]`, …, with the ids of the feature
    /// space's names.
    pub(super) fn of_all(space: &FeatureSpace, products: &[Product], order: &[u32]) -> CatalogueKeys {
        let keys = TraitKeys::of_all(space, products, order);
        let mut count = vec![0u32; space.names.len()];
        for k in &keys {
            for &id in k.categories.iter().chain(&k.attribute_ids).chain(&k.word_ids) {
                if id != NO_ID {
                    count[id as usize] += 1;
                }
            }
        }
        CatalogueKeys {
            keys,
            count,
            products: products.len(),
        }
    }

    /// Whether sharing `id` says something: not every product of the catalogue has it.
    pub(super) fn informative(&self, id: u32) -> bool {
        id != NO_ID && (self.count[id as usize] as usize) < self.products
    }
}

/// A product's category path, attributes, name words and numeric attributes as they are
/// compared, read once: as ids (equal for equal feature names) to compare, and as text for
/// the reason.
pub(super) struct TraitKeys {
    /// Every prefix of the category path, root first (distinct ids).
    categories: Vec<u32>,
    /// The full category path; `None` without one.
    path: Option<u32>,
    /// Of the attribute values, in [`compared_attributes`] order.
    attribute_ids: Vec<u32>,
    /// Of the distinct name words, in the order of the name.
    word_ids: Vec<u32>,
    /// Sorted by key and dimension.
    numbers: Vec<Quantity>,
}

/// An id no key gets: never shared.
const NO_ID: u32 = u32::MAX;

impl TraitKeys {
    /// `id` gives the same id to the same feature name (`category:…`, `attr:key=value`,
    /// `word:…`), or `NO_ID`.
    fn of(p: &Product, id: &mut impl FnMut(&str) -> u32) -> TraitKeys {
        let categories: Vec<u32> = category_prefixes(&p.category)
            .iter()
            .map(|prefix| id(&format!("category:{prefix}")))
            .collect();
        let (one_hot, numbers) = compared_attributes(p);
        TraitKeys {
            path: categories.last().copied(),
            categories,
            attribute_ids: one_hot
                .iter()
                .map(|(k, v)| id(&format!("attr:{k}={v}")))
                .collect(),
            word_ids: distinct_name_words(&p.name)
                .iter()
                .map(|w| id(&format!("word:{w}")))
                .collect(),
            numbers,
        }
    }

    /// The keys of `products[order[0]]`, `products[order[1]]`, …, with the ids of the feature
    /// space's names.
    fn of_all(space: &FeatureSpace, products: &[Product], order: &[u32]) -> Vec<TraitKeys> {
        let ids: HashMap<&str, u32> = space
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i as u32))
            .collect();
        in_parallel(
            order.len(),
            || (),
            |_, i| {
                TraitKeys::of(&products[order[i] as usize], &mut |key| {
                    ids.get(key).copied().unwrap_or(NO_ID)
                })
            },
        )
    }

    /// What `other` (product `b`) shares with this one (product `a`), and whether that is
    /// evidence of similarity: something `informative` shared, or a close numeric attribute.
    pub(super) fn shared_with(
        &self,
        a: &Product,
        other: &TraitKeys,
        b: &Product,
        informative: impl Fn(u32) -> bool,
    ) -> (SharedTraits, bool) {
        let shared = |id: &u32, others: &[u32]| *id != NO_ID && others.contains(id);
        let same_category = self.path.is_some_and(|id| id != NO_ID && Some(id) == other.path);
        let mut evidence = same_category && self.path.is_some_and(&informative);
        let mut attributes = 0u64;
        for (i, id) in self.attribute_ids.iter().enumerate() {
            if shared(id, &other.attribute_ids) {
                evidence |= informative(*id);
                mark(&mut attributes, i);
            }
        }
        let mut words = 0u64;
        for (i, id) in self.word_ids.iter().enumerate() {
            if shared(id, &other.word_ids) {
                evidence |= informative(*id);
                mark(&mut words, i);
            }
        }
        let mut numbers = 0u64;
        for (i, q) in self.numbers.iter().enumerate() {
            let close = other
                .numbers
                .iter()
                .find(|o| o.key == q.key && o.dimension == q.dimension)
                .is_some_and(|o| q.value.max(o.value) <= CLOSE_RATIO * q.value.min(o.value));
            if close {
                evidence = true;
                mark(&mut numbers, i);
            }
        }
        let traits = SharedTraits {
            same_category,
            attributes,
            words,
            price_ratio: if a.price.0 > 0 {
                (b.price.0 as f64 / a.price.0 as f64) as f32
            } else {
                0.0
            },
            numbers,
        };
        (traits, evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::features::tests::product;

    #[test]
    fn shared_traits_compare_attributes_and_words_as_the_features_do() {
        let a = product(
            "A",
            "Sambal Bawang Pedas 150 g",
            18000,
            &["Makanan", "Sambal"],
            &[("Rasa", "Pedas "), ("bentuk", "pasta")],
        );
        let b = product(
            "B",
            "sambal PEDAS manis",
            27000,
            &["Makanan", "Sambal "],
            &[("rasa", "pedas"), ("bentuk", "cair")],
        );
        let traits = shared_traits(&a, &b);
        assert!(traits.same_category);
        assert!((traits.price_ratio - 1.5).abs() < 1e-6);
        let t = traits.text(&a, &b);
        assert_eq!(t.attributes, [("rasa".to_string(), "pedas".to_string())]);
        assert_eq!(t.words, ["sambal", "pedas"]);
        let free = product("F", "Gratis", 0, &[], &[]);
        assert_eq!(shared_traits(&free, &a).price_ratio, 0.0);
        assert!(!shared_traits(&free, &product("G", "Gratis", 0, &[], &[])).same_category);
    }

    #[test]
    fn shared_traits_list_close_numeric_attributes_with_the_other_value() {
        let a = product(
            "A",
            "Laptop RAM 8GB Layar 14in 1,2 kg",
            1,
            &[],
            &[("baterai", "5000 mAh")],
        );
        let b = product(
            "B",
            "Laptop RAM 8 GB Layar 15.6 inch",
            1,
            &[],
            &[("baterai", "4000mAh")],
        );
        let t = shared_traits(&a, &b).text(&a, &b);
        assert_eq!(
            t.numbers,
            [
                ("baterai".to_string(), "4000 mAh".to_string()),
                ("layar".to_string(), "15.6 in".to_string()),
                ("ram".to_string(), "8 GB".to_string()),
            ]
        );
        assert_eq!(t.words, ["laptop", "ram", "layar"]);
        assert!(
            t.attributes.is_empty(),
            "numeric attribute values are not one-hot"
        );
        // 5000 against 3000 mAh is not close.
        let c = product("C", "Laptop", 1, &[], &[("baterai", "3000 mAh")]);
        assert!(shared_traits(&a, &c).text(&a, &c).numbers.is_empty());
    }
}
