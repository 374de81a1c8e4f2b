//! Product feature vectors for content-based similarity (README "Recommendations"): this
//! module owns how a [`Product`] becomes a vector, and the vector arithmetic that similarity
//! and customer profiles need (dot product, cosine, the profile mean of seed 000 eq. 1–2).
//!
//! Seed 000 describes a product as `[kategori, harga, bentuk, rasa]`, e.g. `[1, 20000, 1, 0]`,
//! and compares with cosine similarity. Next to 0/1 features the raw price (20000) decides the
//! direction of every vector on its own, so every pair of its products scores above 0.999 and
//! the ranking says nothing (see the first test). Here a product is made of *blocks*:
//!
//! | block | features | encoding |
//! |---|---|---|
//! | category | `category:Makanan & Minuman`, `category:Makanan & Minuman > Lauk Kering` | one-hot over every prefix of the path, so sibling categories share their parent |
//! | price | `price:cos`, `price:sin` | ln(price) standardised over the catalogue, as an angle (below) |
//! | pack | `pack:gram:cos`, `pack:gram:sin`, … per unit | ln(pack amount) standardised within its unit, as an angle; no pack, no block |
//! | attributes | `attr:rasa=pedas`, `num:ram:B:68` | one-hot over key=value (trimmed, lower-case); numeric attributes (below) |
//! | name | `word:serundeng` | TF-IDF over the lower-case alphabetic words of the name, without numbers and units |
//!
//! **Numeric attributes.** Numbers with units in the name and the attribute values (`RAM 16GB`,
//! `Layar 14in`, `50MHz`, an attribute `ram` = `16 GB`) are read by [`super::units`] into a
//! key, a dimension and a value in a base unit ([`read_attributes`] says which). Each becomes
//! a few features of the attribute block, `num:<key>:<base unit>:<bin>`: the value is placed on
//! a log₂ scale with [`BINS_PER_OCTAVE`] bins per doubling and spread over its nearest bins by
//! a triangular kernel, then normalised, so that one numeric attribute weighs as much as one
//! attribute value. The cosine of two products' numeric attribute of the same key is then 1
//! for equal values, about 0.97 for values 10 % apart, 0.85 at 25 %, 0.6 at 50 %, 0.2 for
//! twice the value and (almost) 0 from three times on; different keys (RAM and disk, both
//! bytes) never meet. (Four bins per doubling, a kernel half as wide, would tell 14 from
//! 15.6 inches better but already gives 0 at twice the value: on a catalogue of 300 PCs whose
//! specs come in steps it then ranks machines by how many specs are near rather than by how
//! near; the nearest by score was among the three nearest by specs for 247 of them, against
//! 299 with two bins.) Being ordinary sparse features, they keep the exact pruned search of
//! [`super::similar`] exact. Mass and volume that the pack block already has are not read
//! again; numbers never become name words.
//!
//! Each block is normalised to unit length, then scaled by `sqrt(weight / W)` where `W` is the
//! sum of the weights of the blocks this product has. The whole vector then has unit length,
//! and the cosine of two products with the same blocks is the weighted average of their block
//! cosines: a block counts as much as its weight says, whatever its units.
//!
//! **Why an angle for price and pack.** Cosine similarity sees directions, not distances. A
//! single scalar feature contributes `x_a · x_b` to the dot product: raw prices are all
//! positive, so they all point the same way (seed 000's problem); z-scored prices only say
//! whether both are on the same side of the mean (z = 0.1 and z = 2.5 agree fully, z = 0.1
//! and z = −0.1 disagree fully). Mapping z (clamped to ±3) to an angle θ = z·π/12 and encoding
//! it as the unit vector (cos θ, sin θ) makes the block's dot product cos(θa − θb): 1 for equal
//! prices, falling smoothly with the difference on the log scale (so 10 000 vs 20 000 is as far
//! apart as 100 000 vs 200 000), and 0 for prices six standard deviations apart. It is never
//! negative, so a far price only stops adding similarity; it never subtracts any.
//!
//! Layout of the feature indices: price (0–1) and pack (2–7) come first and are dense; then the
//! sparse blocks category, attributes (one-hot values, then numeric bins) and name words, each
//! sorted by name. [`FeatureSpace`]
//! keeps the readable name of every index, so a score can be explained.
//!
//! The module also holds `in_parallel`, the chunked 2+-thread map over products that the
//! feature build and the similar-products search share.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::f64::consts::PI;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::units::{self, Dimension, Quantity};
use crate::domain::PackUnit;
use crate::records::Product;

/// Feature indices of the price block: `price:cos`, `price:sin`.
pub const PRICE_FEATURES: Range<u32> = 0..2;
/// Feature indices of the pack block: a (cos, sin) pair per unit, gram, millilitre, piece.
pub const PACK_FEATURES: Range<u32> = 2..8;
/// Indices below this are dense blocks (price, pack); from it on the sparse blocks begin.
pub const DENSE_FEATURES: u32 = 8;

/// Standardised log values are clamped to ±this many standard deviations.
const Z_CLAMP: f64 = 3.0;
/// Radians per standard deviation: ±3σ spans ±π/4, so the two ends are π/2 apart (cosine 0).
const RADIANS_PER_SIGMA: f64 = PI / 12.0;

pub use crate::config::weights::{Block, FeatureWeights, FeatureWeightsError};

/// A sparse vector: indices strictly increasing, one value per index. Product vectors and
/// profiles built here are L2-normalised (or empty, when there is nothing to describe).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SparseVec {
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

impl SparseVec {
    /// The dot product, summed in index order (so it is the same bit for bit whichever
    /// argument comes first).
    pub fn dot(&self, other: &SparseVec) -> f32 {
        let (mut i, mut j) = (0, 0);
        let mut sum = 0.0f32;
        while i < self.idx.len() && j < other.idx.len() {
            match self.idx[i].cmp(&other.idx[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    sum += self.val[i] * other.val[j];
                    i += 1;
                    j += 1;
                }
            }
        }
        sum
    }

    /// The Euclidean length.
    pub fn norm(&self) -> f32 {
        self.val.iter().map(|v| v * v).sum::<f32>().sqrt()
    }

    /// Seed 000 eq. 1–2: a customer's profile is the mean of the vectors of what they bought,
    /// `(1/N) Σ v_i`; it is then re-normalised to unit length so that it compares with product
    /// vectors by dot product like any product does. No vectors (or vectors that cancel out)
    /// give the empty vector, which is similar to nothing.
    pub fn mean(vectors: &[&SparseVec]) -> SparseVec {
        if vectors.is_empty() {
            return SparseVec::default();
        }
        let mut sums: BTreeMap<u32, f64> = BTreeMap::new();
        for v in vectors {
            for (&i, &x) in v.idx.iter().zip(&v.val) {
                *sums.entry(i).or_insert(0.0) += f64::from(x);
            }
        }
        let n = vectors.len() as f64;
        let entries: Vec<(u32, f64)> = sums
            .into_iter()
            .map(|(i, s)| (i, s / n))
            .filter(|&(_, x)| x != 0.0)
            .collect();
        from_entries_normalised(entries)
    }
}

/// Cosine similarity: `a·b / (|a| |b|)`, 0 when either is empty or zero, clamped to [−1, 1]
/// against rounding. For the unit vectors of a [`FeatureSpace`] it equals the dot product up
/// to rounding.
pub fn cosine(a: &SparseVec, b: &SparseVec) -> f32 {
    let norms = a.norm() * b.norm();
    if norms == 0.0 || !norms.is_finite() {
        return 0.0;
    }
    (a.dot(b) / norms).clamp(-1.0, 1.0)
}

/// Mean and standard deviation of ln(amount) over a catalogue: what turns an amount into an
/// angle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LogStats {
    pub mean: f64,
    /// Population standard deviation; 0 when all amounts are equal (then every angle is 0).
    pub std: f64,
    /// How many amounts the statistics were taken over.
    pub count: u32,
}

impl LogStats {
    fn of(amounts: impl Iterator<Item = f64>) -> LogStats {
        let logs: Vec<f64> = amounts
            .filter(|&a| a > 0.0 && a.is_finite())
            .map(f64::ln)
            .collect();
        if logs.is_empty() {
            return LogStats::default();
        }
        let n = logs.len() as f64;
        let mean = logs.iter().sum::<f64>() / n;
        let var = logs.iter().map(|l| (l - mean) * (l - mean)).sum::<f64>() / n;
        LogStats {
            mean,
            std: var.sqrt(),
            count: logs.len() as u32,
        }
    }

    /// θ = clamp(z, ±3)·π/12 for z the standard score of ln(amount); `amount` must be > 0.
    pub fn angle(&self, amount: f64) -> f64 {
        let z = if self.std > 1e-12 {
            ((amount.ln() - self.mean) / self.std).clamp(-Z_CLAMP, Z_CLAMP)
        } else {
            0.0
        };
        z * RADIANS_PER_SIGMA
    }
}

/// The feature vectors of a catalogue and what is needed to read them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeatureSpace {
    /// Feature index → readable name: `price:cos`, `pack:gram:sin`,
    /// `category:Makanan & Minuman > Lauk Kering`, `attr:rasa=pedas`, `num:ram:B:68` (a bin of
    /// a numeric attribute: key, base unit, bin), `word:serundeng`.
    pub names: Vec<String>,
    /// One unit-length vector per product (empty when a product has no usable block), in the
    /// order of the products slice.
    pub vectors: Vec<SparseVec>,
    /// The weights the vectors were built with.
    pub weights: FeatureWeights,
    /// ln(price) over the products with a positive price.
    pub price: LogStats,
    /// ln(pack amount) per unit, in the order gram, millilitre, piece.
    pub pack: [LogStats; 3],
    /// First index of the attribute block, one-hot values then numeric bins (the category
    /// block starts at [`DENSE_FEATURES`]).
    pub attributes_start: u32,
    /// First index of the name-word block; it runs to the end.
    pub words_start: u32,
}

impl FeatureSpace {
    /// How many features (dimensions) there are.
    pub fn feature_count(&self) -> usize {
        self.names.len()
    }

    /// The block a feature index belongs to.
    pub fn block_of(&self, index: u32) -> Block {
        if PRICE_FEATURES.contains(&index) {
            Block::Price
        } else if index < DENSE_FEATURES {
            Block::Pack
        } else if index < self.attributes_start {
            Block::Category
        } else if index < self.words_start {
            Block::Attributes
        } else {
            Block::Name
        }
    }
}

const PACK_UNITS: [PackUnit; 3] = [PackUnit::Gram, PackUnit::Millilitre, PackUnit::Piece];

fn pack_slot(unit: PackUnit) -> usize {
    match unit {
        PackUnit::Gram => 0,
        PackUnit::Millilitre => 1,
        PackUnit::Piece => 2,
    }
}

fn pack_unit_name(unit: PackUnit) -> &'static str {
    match unit {
        PackUnit::Gram => "gram",
        PackUnit::Millilitre => "ml",
        PackUnit::Piece => "piece",
    }
}

/// The category features of a path: every non-empty prefix, joined with " > ".
pub(crate) fn category_prefixes(path: &[String]) -> Vec<String> {
    let mut prefixes = Vec::with_capacity(path.len());
    let mut joined = String::new();
    for segment in path.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if !joined.is_empty() {
            joined.push_str(" > ");
        }
        joined.push_str(segment);
        prefixes.push(joined.clone());
    }
    prefixes
}

/// An attribute as it is compared: key and value trimmed and lower-cased; `None` when either
/// is empty.
pub(crate) fn normalised_attribute(key: &str, value: &str) -> Option<(String, String)> {
    let (key, value) = (key.trim().to_lowercase(), value.trim().to_lowercase());
    (!key.is_empty() && !value.is_empty()).then_some((key, value))
}

/// Numeric attributes are read on a log₂ scale with this many bins per doubling.
pub const BINS_PER_OCTAVE: f64 = 2.0;
/// Half-width, in bins, of the triangular kernel that spreads a value over its nearest bins:
/// two values share features (and similarity) only when less than twice this apart, i.e.
/// when the larger is less than 2^(2·2/2) = 4 times the smaller.
const KERNEL_HALF_WIDTH: f64 = 2.0;

/// Whether the pack block already describes quantities of `dimension` for this product: a
/// gram pack owns its mass, a millilitre pack its volume (see [`read_attributes`]).
fn pack_owns(product: &Product, dimension: Dimension) -> bool {
    matches!(
        (dimension, product.pack.map(|pk| pk.unit)),
        (Dimension::Mass, Some(PackUnit::Gram)) | (Dimension::Volume, Some(PackUnit::Millilitre))
    )
}

/// A product's attributes as the attribute block reads them: the one-hot `(key, value)` pairs
/// (trimmed, lower-case, as [`normalised_attribute`]) and the numeric attributes
/// ([`numeric_attributes`]).
///
/// An attribute value that is exactly one quantity (`ram` = `16 GB`) is numeric only, keyed
/// by the attribute's key; any other value stays one-hot, and quantities inside it (with keys
/// as in a name) are numeric attributes too. Then come the name's quantities. A key
/// (with its dimension) counts once, the first time it is met. Mass and volume are left to the
/// pack block when the product has a gram or millilitre pack (the pack is read from the same
/// name, so `Kopi 250 g` would count twice otherwise); an attribute value of such a quantity
/// then stays one-hot, as before numbers were read.
pub(crate) fn read_attributes(product: &Product) -> (Vec<(String, String)>, Vec<Quantity>) {
    let mut one_hot = Vec::new();
    let mut numbers: Vec<Quantity> = Vec::new();
    for (key, value) in &product.attributes {
        let Some((key, value)) = normalised_attribute(key, value) else {
            continue;
        };
        match units::single_quantity(&value, &key) {
            Some(q) if !pack_owns(product, q.dimension) => {
                numbers.push(q);
                continue;
            }
            Some(_) => {}
            None => numbers.extend(units::quantities_in(&value)),
        }
        one_hot.push((key, value));
    }
    numbers.extend(units::quantities_in(&product.name));
    let mut seen: Vec<(String, Dimension)> = Vec::new();
    numbers.retain(|q| {
        let fresh =
            !pack_owns(product, q.dimension) && !seen.iter().any(|(k, d)| *k == q.key && *d == q.dimension);
        if fresh {
            seen.push((q.key.clone(), q.dimension));
        }
        fresh
    });
    (one_hot, numbers)
}

/// The numeric attributes of a product, as the features use them: each (key, dimension) once,
/// value in the base unit (see [`read_attributes`] for where they come from).
pub fn numeric_attributes(product: &Product) -> Vec<Quantity> {
    read_attributes(product).1
}

/// The features of a numeric attribute: `(name without the "num:" prefix, value)`, unit
/// length. The value is placed at x = log₂(value)·[`BINS_PER_OCTAVE`] and spread over the
/// integer bins j with |x − j| < 2 with the triangular weight 1 − |x − j|/2 (`ram:B:68`,
/// …). The dot product of two such vectors is 1 for equal values and falls smoothly with
/// the ratio of the values, to 0 when one is four times the other or more; since the weights sum
/// to 2 whatever x, two different values never have proportional vectors, so only equal
/// values score 1.
pub(crate) fn numeric_features(q: &Quantity) -> Vec<(String, f64)> {
    let x = q.value.log2() * BINS_PER_OCTAVE;
    let first = (x - KERNEL_HALF_WIDTH).floor() as i64;
    let mut entries: Vec<(String, f64)> = Vec::with_capacity(4);
    for bin in first..=first + 2 * KERNEL_HALF_WIDTH as i64 + 1 {
        let weight = 1.0 - (x - bin as f64).abs() / KERNEL_HALF_WIDTH;
        if weight > 1e-9 {
            entries.push((format!("{}:{}:{bin}", q.key, q.dimension.base_unit()), weight));
        }
    }
    let norm = entries.iter().map(|e| e.1 * e.1).sum::<f64>().sqrt();
    for e in &mut entries {
        e.1 /= norm;
    }
    entries
}

/// Units that are never a word of the name ("100 g", "1,5 kg", "250ml").
const UNIT_WORDS: &[&str] = &[
    "g", "gr", "grm", "gm", "gram", "grams", "kg", "kgs", "mg", "ml", "l", "lt", "ltr", "liter", "litre",
    "cc", "oz", "pcs", "pc",
];
/// Counting words that are units only right after a number ("isi 2 buah", "3 pack"); "buah"
/// alone also means fruit.
const COUNT_WORDS: &[&str] = &[
    "buah", "biji", "pack", "pak", "sachet", "saset", "bungkus", "botol", "lembar", "butir", "x",
];

/// The words of a product name as the name block sees them: lower-case runs of letters, in
/// order, repeats kept; numbers, units and one-letter words dropped (any unit of
/// [`units::unit`] right after a number: `16GB`, `2,4 GHz`, `14 inch` add no word).
pub fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut after_number = false;
    let mut chars = name.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_alphabetic() {
            let mut word = String::new();
            while let Some(&c) = chars.peek().filter(|c| c.is_alphabetic()) {
                word.extend(c.to_lowercase());
                chars.next();
            }
            let is_unit = UNIT_WORDS.contains(&word.as_str())
                || (after_number && (COUNT_WORDS.contains(&word.as_str()) || units::is_unit(&word)));
            if !is_unit && word.chars().count() > 1 {
                words.push(word);
            }
            after_number = false;
        } else if c.is_ascii_digit() {
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
            {
                chars.next();
            }
            after_number = true;
        } else {
            if !c.is_whitespace() {
                after_number = false;
            }
            chars.next();
        }
    }
    words
}

/// The distinct words of a name in order of first appearance.
pub(crate) fn distinct_name_words(name: &str) -> Vec<String> {
    let mut words = name_words(name);
    let mut seen = BTreeSet::new();
    words.retain(|w| seen.insert(w.clone()));
    words
}

/// Builds the feature vector of every product (see the module doc for the blocks).
///
/// Statistics (price and pack spreads, word document frequencies) are taken over `products`
/// itself, so the vectors of one catalogue compare with each other, not with another build's.
/// Time and memory are linear in the total size of the products; the per-product work runs on
/// 2+ threads.
pub fn build_features(products: &[Product], weights: &FeatureWeights) -> FeatureSpace {
    let price = LogStats::of(products.iter().map(|p| p.price.0 as f64));
    let pack = PACK_UNITS.map(|unit| {
        LogStats::of(
            products
                .iter()
                .filter_map(|p| p.pack)
                .filter(|pk| pk.unit == unit)
                .map(|pk| f64::from(pk.amount)),
        )
    });

    // What every product has, read once.
    let read = |_: &mut (), i: usize| {
        let p = &products[i];
        let (one_hot, quantities) = read_attributes(p);
        let attributes: Vec<String> = one_hot.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        let numbers: (Vec<String>, Vec<f64>) = quantities.iter().flat_map(numeric_features).unzip();
        (
            category_prefixes(&p.category),
            attributes,
            numbers,
            name_words(&p.name),
        )
    };
    let (mut categories, mut attributes, mut number_names, mut number_weights, mut words) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (c, a, (x, y), w) in in_parallel(products.len(), || (), read) {
        categories.push(c);
        attributes.push(a);
        number_names.push(x);
        number_weights.push(y);
        words.push(w);
    }

    // Indices: dense blocks, then each sparse block's distinct keys sorted by name.
    let mut names: Vec<String> = vec!["price:cos".into(), "price:sin".into()];
    for unit in PACK_UNITS {
        names.push(format!("pack:{}:cos", pack_unit_name(unit)));
        names.push(format!("pack:{}:sin", pack_unit_name(unit)));
    }
    debug_assert_eq!(names.len() as u32, DENSE_FEATURES);
    fn index_block<'a>(
        keys: &'a [Vec<String>],
        prefix: &str,
        names: &mut Vec<String>,
    ) -> HashMap<&'a str, u32> {
        let distinct: HashSet<&str> = keys.iter().flatten().map(String::as_str).collect();
        let mut sorted: Vec<&str> = distinct.into_iter().collect();
        sorted.sort_unstable();
        sorted
            .into_iter()
            .map(|key| {
                names.push(format!("{prefix}:{key}"));
                (key, names.len() as u32 - 1)
            })
            .collect()
    }
    let category_index = index_block(&categories, "category", &mut names);
    let attributes_start = DENSE_FEATURES + category_index.len() as u32;
    let attribute_index = index_block(&attributes, "attr", &mut names);
    // Numeric attributes are part of the attribute block, after the one-hot values.
    let number_index = index_block(&number_names, "num", &mut names);
    let words_start = attributes_start + (attribute_index.len() + number_index.len()) as u32;
    let word_index = index_block(&words, "word", &mut names);

    let sorted_ids = |keys: &[String], index: &HashMap<&str, u32>| -> Vec<u32> {
        let mut ids: Vec<u32> = keys.iter().map(|k| index[k.as_str()]).collect();
        ids.sort_unstable();
        ids
    };
    let word_ids: Vec<Vec<u32>> =
        in_parallel(products.len(), || (), |_, i| sorted_ids(&words[i], &word_index));
    // Document frequency by feature index: in how many names each word occurs.
    let mut document_frequency = vec![0u32; names.len()];
    for ids in &word_ids {
        for (k, &id) in ids.iter().enumerate() {
            if k == 0 || ids[k - 1] != id {
                document_frequency[id as usize] += 1;
            }
        }
    }

    let n = products.len() as f64;
    let vectors = in_parallel(
        products.len(),
        || (),
        |_, i| {
            let product = &products[i];
            let mut blocks: Vec<(Block, Vec<(u32, f64)>)> = Vec::with_capacity(5);
            if product.price.0 > 0 {
                let theta = price.angle(product.price.0 as f64);
                blocks.push((Block::Price, vec![(0, theta.cos()), (1, theta.sin())]));
            }
            if let Some(pk) = product.pack.filter(|pk| pk.amount > 0) {
                let slot = pack_slot(pk.unit);
                let theta = pack[slot].angle(f64::from(pk.amount));
                let base = PACK_FEATURES.start + 2 * slot as u32;
                blocks.push((Block::Pack, vec![(base, theta.cos()), (base + 1, theta.sin())]));
            }
            let one_hot = |ids: Vec<u32>| -> Vec<(u32, f64)> {
                let mut entries: Vec<(u32, f64)> = ids.into_iter().map(|id| (id, 1.0)).collect();
                entries.dedup_by_key(|e| e.0);
                entries
            };
            blocks.push((
                Block::Category,
                one_hot(sorted_ids(&categories[i], &category_index)),
            ));
            let mut attribute_entries = one_hot(sorted_ids(&attributes[i], &attribute_index));
            if !number_names[i].is_empty() {
                attribute_entries.extend(
                    number_names[i]
                        .iter()
                        .zip(&number_weights[i])
                        .map(|(name, &weight)| (number_index[name.as_str()], weight)),
                );
                attribute_entries.sort_by_key(|e| e.0);
            }
            blocks.push((Block::Attributes, attribute_entries));
            // Term frequency times smooth idf, over the runs of equal ids.
            let mut tf_idf: Vec<(u32, f64)> = Vec::with_capacity(word_ids[i].len());
            for &id in &word_ids[i] {
                match tf_idf.last_mut() {
                    Some((last, count)) if *last == id => *count += 1.0,
                    _ => tf_idf.push((id, 1.0)),
                }
            }
            for (id, count) in &mut tf_idf {
                let df = f64::from(document_frequency[*id as usize]);
                *count *= ((1.0 + n) / (1.0 + df)).ln() + 1.0;
            }
            blocks.push((Block::Name, tf_idf));
            combine_blocks(blocks, weights)
        },
    );

    FeatureSpace {
        names,
        vectors,
        weights: *weights,
        price,
        pack,
        attributes_start,
        words_start,
    }
}

/// Normalises each non-empty block with a positive weight, scales it by
/// `sqrt(weight / sum of the weights of such blocks)` and concatenates (blocks come in index
/// order, so the result is sorted).
fn combine_blocks(blocks: Vec<(Block, Vec<(u32, f64)>)>, weights: &FeatureWeights) -> SparseVec {
    let norm = |entries: &[(u32, f64)]| entries.iter().map(|e| e.1 * e.1).sum::<f64>().sqrt();
    let present: Vec<(f64, &[(u32, f64)])> = blocks
        .iter()
        .map(|(block, entries)| (weights.effective(*block), entries.as_slice()))
        .filter(|&(weight, entries)| weight > 0.0 && norm(entries) > 0.0)
        .collect();
    let total: f64 = present.iter().map(|b| b.0).sum();
    let mut out = SparseVec::default();
    for (weight, entries) in present {
        let scale = (weight / total).sqrt() / norm(entries);
        for &(index, value) in entries {
            let value = (value * scale) as f32;
            if value != 0.0 {
                out.idx.push(index);
                out.val.push(value);
            }
        }
    }
    out
}

/// Sorted entries → a unit-length vector (empty when all are zero).
fn from_entries_normalised(entries: Vec<(u32, f64)>) -> SparseVec {
    let norm = entries.iter().map(|e| e.1 * e.1).sum::<f64>().sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return SparseVec::default();
    }
    let (idx, val) = entries.into_iter().map(|(i, x)| (i, (x / norm) as f32)).unzip();
    SparseVec { idx, val }
}

/// Runs `work` on 0..count on rayon's pool, each worker thread with its own scratch (made
/// once per thread and reused), and returns the results in item order. Model rebuilds use it
/// for their per-product work (they run off the request path, in `spawn_blocking`).
pub(crate) fn in_parallel<S, R, F, W>(count: usize, make_scratch: F, work: W) -> Vec<R>
where
    R: Send,
    F: Fn() -> S + Sync + Send,
    W: Fn(&mut S, usize) -> R + Sync + Send,
{
    use rayon::prelude::*;
    (0..count)
        .into_par_iter()
        .map_init(make_scratch, |scratch, i| work(scratch, i))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{PackSize, ProductId, Rupiah};
    use crate::records::ProductStatus;
    use chrono::{DateTime, Utc};

    /// A product as a feed would give it; the pack is read from the name like the importer does.
    pub(crate) fn product(
        id: &str,
        name: &str,
        price: i64,
        category: &[&str],
        attrs: &[(&str, &str)],
    ) -> Product {
        Product {
            id: ProductId::parse(id).unwrap(),
            marketplace_id: None,
            name: name.to_string(),
            sku: Some(id.to_string()),
            price: Rupiah(price),
            stock: Some(10),
            status: ProductStatus::Active,
            category: category.iter().map(|s| s.to_string()).collect(),
            weight_grams: None,
            pack: PackSize::find_in(name),
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            description: String::new(),
            image: None,
            url: None,
            sold_count: None,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    /// The demo shop of seed 000 (demo/lengkuas), as its recording lists it.
    pub(crate) fn lengkuas_catalogue() -> Vec<Product> {
        const MM: &str = "Makanan & Minuman";
        vec![
            product(
                "SRD-100",
                "Serundeng Lengkuas 100 g",
                20000,
                &[MM, "Lauk Kering"],
                &[("bentuk", "butiran"), ("rasa", "gurih")],
            ),
            product(
                "SRD-100P",
                "Serundeng Lengkuas Pedas 100 g",
                21000,
                &[MM, "Lauk Kering"],
                &[("bentuk", "butiran"), ("rasa", "pedas")],
            ),
            product(
                "SRD-250P",
                "Serundeng Lengkuas Premium 250 g",
                45000,
                &[MM, "Lauk Kering"],
                &[("bentuk", "butiran"), ("rasa", "gurih")],
            ),
            product(
                "TPG-100",
                "Tepung Lengkuas 100 g",
                15000,
                &[MM, "Bumbu & Rempah"],
                &[("bentuk", "bubuk"), ("rasa", "original")],
            ),
            product(
                "TPG-100I",
                "Tepung Lengkuas Instan 100 g",
                17000,
                &[MM, "Bumbu & Rempah"],
                &[("bentuk", "bubuk"), ("rasa", "gurih")],
            ),
            product(
                "TPG-250P",
                "Tepung Lengkuas Premium 250 g",
                32000,
                &[MM, "Bumbu & Rempah"],
                &[("bentuk", "bubuk"), ("rasa", "original")],
            ),
            product(
                "BRL-100",
                "Bumbu Rendang Lengkuas 100 g",
                19000,
                &[MM, "Bumbu & Rempah"],
                &[("bentuk", "pasta"), ("rasa", "gurih")],
            ),
            product(
                "SMB-150",
                "Sambal Lengkuas 150 g",
                18000,
                &[MM, "Sambal"],
                &[("bentuk", "pasta"), ("rasa", "pedas")],
            ),
            product(
                "KRP-80",
                "Keripik Lengkuas 80 g",
                12000,
                &[MM, "Camilan"],
                &[("bentuk", "keripik"), ("rasa", "manis-gurih")],
            ),
            product(
                "HMP-1",
                "Paket Hampers Lengkuas",
                55000,
                &[MM, "Paket & Hampers"],
                &[("bentuk", "paket"), ("rasa", "campuran")],
            ),
        ]
    }

    fn find(products: &[Product], id: &str) -> usize {
        products.iter().position(|p| p.id.as_str() == id).unwrap()
    }

    fn raw_cosine(a: &[f64], b: &[f64]) -> f64 {
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
        dot(a, b) / (dot(a, a) * dot(b, b)).sqrt()
    }

    #[test]
    fn seed_000_raw_vectors_are_all_alike_because_the_price_swamps_the_cosine() {
        // Seed 000 table 3 and figure 4: [kategori, harga, bentuk, rasa].
        let serundeng = [1.0, 20000.0, 1.0, 0.0];
        let tepung = [1.0, 15000.0, 0.0, 1.0];
        let sambal = [0.0, 18000.0, 1.0, 0.7];
        // serundeng·tepung 0.999999996, serundeng·sambal 0.999999998, tepung·sambal 0.999999996:
        // a serundeng looks as much like flour as like itself, whatever form and flavour say.
        for (a, b) in [(&serundeng, &tepung), (&serundeng, &sambal), (&tepung, &sambal)] {
            assert!(raw_cosine(a, b) > 0.999, "{a:?} vs {b:?}: {}", raw_cosine(a, b));
        }
    }

    #[test]
    fn scaled_features_tell_serundeng_like_products_apart() {
        let products = lengkuas_catalogue();
        let space = build_features(&products, &FeatureWeights::default());
        let v = |id| &space.vectors[find(&products, id)];
        let pedas = cosine(v("SRD-100"), v("SRD-100P"));
        let tepung = cosine(v("SRD-100"), v("TPG-100"));
        let keripik = cosine(v("SRD-100"), v("KRP-80"));
        assert!(
            pedas > tepung,
            "serundeng pedas {pedas} should beat tepung {tepung}"
        );
        assert!(
            tepung > keripik,
            "tepung {tepung} (same pack, closer price) should beat keripik {keripik}"
        );
        // And the spread is real, not 0.999 against 0.998.
        assert!(pedas - keripik > 0.2, "pedas {pedas}, keripik {keripik}");
        // The same shop's flour in two forms is closer to itself than the serundeng is.
        let tepung_instan = cosine(v("TPG-100"), v("TPG-100I"));
        assert!(tepung_instan > tepung, "{tepung_instan} vs {tepung}");
    }

    #[test]
    fn identical_products_have_cosine_one() {
        let mut products = lengkuas_catalogue();
        let mut twin = products[0].clone();
        twin.id = ProductId::parse("SRD-100-TWIN").unwrap();
        products.push(twin);
        let space = build_features(&products, &FeatureWeights::default());
        let c = cosine(&space.vectors[0], &space.vectors[products.len() - 1]);
        assert!((c - 1.0).abs() < 1e-6, "{c}");
        assert_eq!(space.vectors[0], space.vectors[products.len() - 1]);
    }

    #[test]
    fn every_vector_has_unit_length_whatever_blocks_it_has() {
        let mut products = lengkuas_catalogue();
        products.push(product("X-1", "1000", 0, &[], &[]));
        products.push(product("X-2", "Gula Aren", 0, &[], &[]));
        products.push(product("X-3", "500 ml", 9000, &[], &[("rasa", " ")]));
        products.push(product("X-4", "", 9000, &["Lain"], &[("warna", "Merah")]));
        let space = build_features(&products, &FeatureWeights::default());
        for (p, v) in products.iter().zip(&space.vectors) {
            if p.id.as_str() == "X-1" {
                assert!(v.idx.is_empty(), "nothing to describe: {v:?}");
            } else {
                assert!((v.norm() - 1.0).abs() < 1e-6, "{}: {}", p.name, v.norm());
                assert!(
                    v.idx.windows(2).all(|w| w[0] < w[1]),
                    "{}: unsorted {:?}",
                    p.name,
                    v.idx
                );
            }
        }
    }

    #[test]
    fn the_profile_mean_of_two_vectors_lies_between_them() {
        let products = lengkuas_catalogue();
        let space = build_features(&products, &FeatureWeights::default());
        let a = &space.vectors[find(&products, "SRD-100")];
        let b = &space.vectors[find(&products, "TPG-100")];
        let profile = SparseVec::mean(&[a, b]);
        assert!((profile.norm() - 1.0).abs() < 1e-6);
        let (ca, cb, ab) = (cosine(&profile, a), cosine(&profile, b), cosine(a, b));
        assert!(ca > ab && cb > ab, "profile·a {ca}, profile·b {cb}, a·b {ab}");
        // For unit vectors the normalised mean bisects the angle: cos = sqrt((1 + a·b) / 2).
        let bisector = ((1.0 + ab) / 2.0).sqrt();
        assert!((ca - bisector).abs() < 1e-5 && (cb - bisector).abs() < 1e-5);
        assert_eq!(SparseVec::mean(&[]), SparseVec::default());
        assert_eq!(SparseVec::mean(&[a]), *a);
    }

    #[test]
    fn sibling_categories_share_their_parent() {
        let only_category = FeatureWeights {
            category: 1.0,
            price: 0.0,
            pack: 0.0,
            attributes: 0.0,
            name: 0.0,
        };
        let products = lengkuas_catalogue();
        let space = build_features(&products, &only_category);
        let v = |id| &space.vectors[find(&products, id)];
        assert!((cosine(v("SRD-100"), v("SRD-100P")) - 1.0).abs() < 1e-6);
        // Two levels each, one shared: 1/√2 · 1/√2.
        assert!((cosine(v("SRD-100"), v("TPG-100")) - 0.5).abs() < 1e-6);
        assert!(space
            .names
            .contains(&"category:Makanan & Minuman > Lauk Kering".to_string()));
    }

    #[test]
    fn the_price_block_is_the_cosine_of_the_angle_between_prices() {
        let only_price = FeatureWeights {
            category: 0.0,
            price: 1.0,
            pack: 0.0,
            attributes: 0.0,
            name: 0.0,
        };
        // Many products at 20 000 and two far out: they clamp at ±3σ, π/2 apart.
        let mut products: Vec<Product> = (0..50)
            .map(|i| product(&format!("P{i}"), "x", 20000, &[], &[]))
            .collect();
        products.push(product("CHEAP", "x", 100, &[], &[]));
        products.push(product("DEAR", "x", 4_000_000, &[], &[]));
        let space = build_features(&products, &only_price);
        let (cheap, dear) = (&space.vectors[50], &space.vectors[51]);
        assert!(
            (cosine(&space.vectors[0], &space.vectors[1]) - 1.0).abs() < 1e-6,
            "equal prices"
        );
        assert!(
            cosine(cheap, dear).abs() < 1e-6,
            "6σ apart: {}",
            cosine(cheap, dear)
        );
        let typical = cosine(&space.vectors[0], dear);
        assert!(typical > 0.0 && typical < 1.0, "{typical}");
        assert!(space.price.std > 0.0 && space.price.count == 52);
    }

    #[test]
    fn packs_compare_within_a_unit_only() {
        let only_pack = FeatureWeights {
            category: 0.0,
            price: 0.0,
            pack: 1.0,
            attributes: 0.0,
            name: 0.0,
        };
        let products = vec![
            product("A", "Kopi 100 g", 1, &[], &[]),
            product("B", "Kopi 250 g", 1, &[], &[]),
            product("C", "Sirup 100 ml", 1, &[], &[]),
            product("D", "Kopi", 1, &[], &[]),
        ];
        let space = build_features(&products, &only_pack);
        let c = |a: usize, b: usize| cosine(&space.vectors[a], &space.vectors[b]);
        assert!(c(0, 1) > 0.0 && c(0, 1) < 1.0, "{}", c(0, 1));
        assert_eq!(c(0, 2), 0.0);
        assert!(space.vectors[3].idx.is_empty());
    }

    #[test]
    fn name_words_are_lower_case_letters_without_numbers_or_units() {
        assert_eq!(name_words("Serundeng Lengkuas 100 g"), ["serundeng", "lengkuas"]);
        assert_eq!(
            name_words("Kopi Bubuk 1,5kg (isi 2 buah)"),
            ["kopi", "bubuk", "isi"]
        );
        assert_eq!(name_words("Keripik Buah 250gr"), ["keripik", "buah"]);
        assert_eq!(
            name_words("SAMBAL-Bawang 2x100 ml pedas pedas"),
            ["sambal", "bawang", "pedas", "pedas"]
        );
        assert_eq!(distinct_name_words("pedas Pedas manis"), ["pedas", "manis"]);
        assert!(name_words("100 250 ml").is_empty());
    }

    #[test]
    fn units_after_a_number_are_no_name_words_either() {
        assert_eq!(
            name_words("Komputer Rakitan 50MHz RAM 16 GB HDD 452MB Layar 14\" 2,4 GHz 500 W"),
            ["komputer", "rakitan", "ram", "hdd", "layar"]
        );
        assert_eq!(name_words("Kabel 2 meter"), ["kabel"]);
        // Away from a number a unit-looking word is a word.
        assert_eq!(name_words("Kabel meter"), ["kabel", "meter"]);
    }

    /// Only the attribute block, where numeric attributes live.
    const ONLY_ATTRIBUTES: FeatureWeights = FeatureWeights {
        category: 0.0,
        price: 0.0,
        pack: 0.0,
        attributes: 1.0,
        name: 0.0,
    };

    #[test]
    fn numeric_attributes_are_similar_when_their_values_are_close() {
        let pc = |id: &str, name: &str| product(id, name, 1, &[], &[]);
        let products = vec![
            pc("A", "PC RAM 16GB"),
            pc("B", "PC RAM 16 GB"),
            pc("C", "PC RAM 18GB"),
            pc("D", "PC RAM 24GB"),
            pc("E", "PC RAM 32GB"),
            pc("F", "PC HDD 16GB"),
            pc("G", "PC RAM 16000 MB"),
            pc("H", "PC RAM 64GB"),
        ];
        let space = build_features(&products, &ONLY_ATTRIBUTES);
        let c = |a: usize, b: usize| cosine(&space.vectors[a], &space.vectors[b]);
        assert!((c(0, 1) - 1.0).abs() < 1e-6, "the same value written apart");
        assert!((c(0, 6) - 1.0).abs() < 1e-6, "the same value in another unit");
        assert!(c(0, 2) > 0.7 && c(0, 2) < 0.999, "12 % apart: {}", c(0, 2));
        assert!(c(0, 3) > c(0, 4) && c(0, 3) < c(0, 2), "50 % apart: {}", c(0, 3));
        assert!(c(0, 4) > 0.0 && c(0, 4) < 0.35, "twice as much: {}", c(0, 4));
        assert_eq!(c(0, 7), 0.0, "four times as much");
        assert_eq!(c(0, 5), 0.0, "RAM is not a disk");
        // Closer is more similar, either way round.
        assert!(c(2, 0) > c(2, 3) && c(3, 4) > c(3, 0));
        assert!(
            space.names.iter().any(|n| n.starts_with("num:ram:B:")),
            "{:?}",
            space.names
        );
    }

    #[test]
    fn numeric_attribute_values_replace_their_one_hot_and_packs_keep_mass_and_volume() {
        let with = |name: &str, attrs: &[(&str, &str)]| product("X", name, 1, &[], attrs);
        // An attribute that is one quantity is numeric only, under the attribute's key.
        let (one_hot, numbers) = read_attributes(&with("Laptop", &[("RAM", "16 GB"), ("warna", "Hitam")]));
        assert_eq!(one_hot, [("warna".to_string(), "hitam".to_string())]);
        assert_eq!(numbers.len(), 1);
        assert_eq!(
            (numbers[0].key.as_str(), numbers[0].text.as_str()),
            ("ram", "16 GB")
        );
        // A key counts once: the attribute first, then the name.
        let (_, numbers) = read_attributes(&with("Laptop RAM 8GB 2,4 GHz", &[("ram", "16 GB")]));
        let read: Vec<(&str, &str)> = numbers
            .iter()
            .map(|q| (q.key.as_str(), q.text.as_str()))
            .collect();
        assert_eq!(read, [("ram", "16 GB"), ("frekuensi", "2,4 GHz")]);
        // The gram pack read from the name owns the mass: no numeric mass, the attribute stays
        // one-hot; a wattage is still read.
        let kopi = with("Kopi Bubuk 250 g", &[("berat", "250 g")]);
        assert!(kopi.pack.is_some());
        let (one_hot, numbers) = read_attributes(&kopi);
        assert_eq!(one_hot, [("berat".to_string(), "250 g".to_string())]);
        assert!(numbers.is_empty(), "{numbers:?}");
        let blender = with("Blender 1,5 L 350 W", &[]);
        let (_, numbers) = read_attributes(&blender);
        assert_eq!(
            numbers.iter().map(|q| q.key.as_str()).collect::<Vec<_>>(),
            ["daya"]
        );
        // Without a pack a mass is numeric.
        let mut loose = with("Timbangan Dapur Maks 5 kg", &[]);
        loose.pack = None;
        assert_eq!(numeric_attributes(&loose)[0].key, "berat");
    }

    #[test]
    fn the_demo_shop_has_no_numeric_attributes() {
        // Its numbers are pack sizes, which the pack block has.
        assert!(lengkuas_catalogue()
            .iter()
            .all(|p| numeric_attributes(p).is_empty()));
    }

    #[test]
    fn rare_words_weigh_more_than_words_every_product_has() {
        let only_name = FeatureWeights {
            category: 0.0,
            price: 0.0,
            pack: 0.0,
            attributes: 0.0,
            name: 1.0,
        };
        let products = lengkuas_catalogue();
        let space = build_features(&products, &only_name);
        let v = &space.vectors[find(&products, "SRD-100")];
        let value = |word: &str| {
            let i = space
                .names
                .iter()
                .position(|n| n == &format!("word:{word}"))
                .unwrap() as u32;
            v.val[v.idx.iter().position(|&j| j == i).unwrap()]
        };
        assert!(value("serundeng") > 1.5 * value("lengkuas"));
    }

    #[test]
    fn a_zero_weight_turns_its_block_off_and_bad_weights_are_refused_with_the_value() {
        let no_price = FeatureWeights {
            price: 0.0,
            ..FeatureWeights::default()
        };
        let products = lengkuas_catalogue();
        let space = build_features(&products, &no_price);
        assert!(space
            .vectors
            .iter()
            .all(|v| v.idx.iter().all(|i| !PRICE_FEATURES.contains(i))));
        assert_eq!(FeatureWeights::default().validate(), Ok(()));
        let err = FeatureWeights {
            pack: -1.0,
            ..FeatureWeights::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("pack = -1"), "{err}");
        let zero = FeatureWeights {
            category: 0.0,
            price: 0.0,
            pack: 0.0,
            attributes: 0.0,
            name: 0.0,
        };
        assert_eq!(zero.validate(), Err(FeatureWeightsError::AllZero));
        let parsed: FeatureWeights = serde_json::from_str(r#"{"price": 0.25}"#).unwrap();
        assert_eq!(parsed.price, 0.25);
        assert_eq!(parsed.category, 1.0);
        assert!(serde_json::from_str::<FeatureWeights>(r#"{"prize": 1}"#).is_err());
    }

    #[test]
    fn in_parallel_returns_every_result_in_item_order() {
        for count in [0, 1, 63, 64, 65, 1000] {
            let squares = in_parallel(
                count,
                || 0usize,
                |calls, i| {
                    *calls += 1;
                    i * i
                },
            );
            assert_eq!(
                squares,
                (0..count).map(|i| i * i).collect::<Vec<_>>(),
                "count {count}"
            );
        }
    }

    #[test]
    fn block_of_reads_the_layout() {
        let mut products = lengkuas_catalogue();
        products.push(product("PC-1", "PC RAM 16GB", 1, &[], &[("layar", "14 inch")]));
        let space = build_features(&products, &FeatureWeights::default());
        for (i, name) in space.names.iter().enumerate() {
            let block = space.block_of(i as u32);
            let expected = match name.split(':').next().unwrap() {
                "price" => Block::Price,
                "pack" => Block::Pack,
                "category" => Block::Category,
                "attr" => Block::Attributes,
                "word" => Block::Name,
                "num" => Block::Attributes,
                other => panic!("unexpected feature family {other}"),
            };
            assert_eq!(block, expected, "{name}");
        }
    }
}
