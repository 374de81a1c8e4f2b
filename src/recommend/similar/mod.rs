//! Similar products (README "Recommendations"): for every product of a catalogue, the `n` other
//! products whose feature vectors ([`super::features`]) have the highest cosine with it, and
//! what each pair shares, for the human reason ("mirip: kategori & rasa sama").
//!
//! The result is exactly the brute-force ranking — score descending, ties by index, the product
//! itself excluded, only positive scores — which [`similar_top_n_naive`] computes with n² dot
//! products. [`similar_top_n`] gets it from an inverted index over the sparse blocks (category
//! prefixes, attribute values and the bins of numeric attributes, name words), comparing a
//! product only with the products that could still make its list. For a product `p`:
//!
//! 1. **Regions by category.** Products are stored sorted by category path, so the products
//!    under each prefix of `p`'s path are one run of slots. That splits the catalogue into
//!    regions — under `p`'s whole path, under all but its last level, …, the rest — in each of
//!    which every product shares the same category levels with `p`. Regions are searched
//!    innermost first, which finds a high n-th best score early.
//! 2. **Walk lists, cheapest first.** Within a region, `p`'s attribute and word lists
//!    (restricted to the region by binary search: postings are sorted by slot) are walked one
//!    at a time, next the one that lowers the bound below most per posting. A product met for
//!    the first time is checked against its own bound, from the 16-byte card copied into its
//!    posting — the region's category levels, what it shares on this list, which of `p`'s
//!    lists not walked yet it is on (a 64-bit mask of the most frequent attribute values and
//!    words) times its largest value in that block, its price and pack terms at most the
//!    product of the block norms — and scored exactly only if it could still make the list.
//! 3. **Stop when no unseen product can qualify.** A product of the region on none of the lists
//!    walked shares with `p` at most the region's category levels and the lists left, plus
//!    price and pack: Cauchy–Schwarz per block bounds that by Σ_b |p's rest in b|·|q's block b|,
//!    and block norms take only the few values that the sets of blocks a product has give
//!    ("profiles"). Once that is below the n-th best score the region is done; the long lists
//!    (a common attribute value or word) are seldom walked, and the outermost region often not
//!    at all. (A fixed cap on list length with a price-only bound for the rest would not be
//!    exact: it would miss products that share only long-list features.)
//! 4. **Scan what is left.** When every list of a region was walked and an unseen product could
//!    still qualify — or while there are not `n` yet in a small region — the region's slots are
//!    checked card by card; outside `p`'s categories, where an unseen product shares only price
//!    and pack (at most |p_dense|·|q_dense|), by decreasing dense norm until that bound fails.
//!
//! Every score that reaches a list is computed like [`SparseVec::dot`](super::features::SparseVec::dot) (the same products,
//! summed in the same index order), so the two functions agree bit for bit, ties included;
//! bounds are rounded up and keep a small slack against rounding. Products are processed on
//! rayon's pool (`in_parallel`: a parallel iterator over the slots, one reusable `Scratch` per
//! split of the range), so neighbouring slots — products of one category, which walk the same
//! lists and share their cuts — mostly run on one thread one after the other.
//!
//! **Evidence.** A positive score is not always a reason to show a product as similar: in a
//! shop whose products are all named `Produk N` and filed under one category, every pair
//! shares that category and the word `produk`, and the price block ranks the rest. Each
//! [`Neighbour`] therefore says whether the pair has positive evidence (`evidence`), decided
//! when the lists are built: they share a full category path that not every product of the
//! catalogue is under, an attribute value or a name word that not every product has, or a
//! numeric attribute with close values (same key, within [`CLOSE_RATIO`]). Price and pack are
//! never evidence. The ranking itself is unchanged: what to do with neighbours without
//! evidence is the serving side's choice.

mod index;
mod search;
mod shared;
mod top;

use super::features::{in_parallel, FeatureSpace};
use crate::records::Product;
use index::{Index, MASK_BITS};
use search::Scratch;
use shared::CatalogueKeys;
pub use shared::{shared_traits, Neighbour, SharedText, SharedTraits, CLOSE_RATIO};
use top::{Ranked, TopN};

/// For every product, its `n` most similar other products: score descending, ties by index,
/// only products with a positive score (a product sharing nothing is not similar, so a list may
/// be shorter than `n`), never the product itself.
///
/// `space` must have been built from `products` (same length, same order).
pub fn similar_top_n(space: &FeatureSpace, products: &[Product], n: usize) -> Vec<Vec<Neighbour>> {
    similar_top_n_with(space, products, n, MASK_BITS)
}

/// The same by brute force: every pair's dot product. For tests and benches.
pub fn similar_top_n_naive(space: &FeatureSpace, products: &[Product], n: usize) -> Vec<Vec<Neighbour>> {
    check_lengths(space, products);
    if n == 0 || products.len() < 2 {
        return vec![Vec::new(); products.len()];
    }
    let identity: Vec<u32> = (0..products.len() as u32).collect();
    let keys = CatalogueKeys::of_all(space, products, &identity);
    let vectors = &space.vectors;
    in_parallel(
        products.len(),
        || (),
        |_, p| {
            let mut top = TopN::new(n);
            for q in (0..vectors.len()).filter(|&q| q != p) {
                top.offer(vectors[p].dot(&vectors[q]), q as u32);
            }
            neighbours(products, &keys, |i| i, p, top.into_sorted())
        },
    )
}

fn check_lengths(space: &FeatureSpace, products: &[Product]) {
    assert_eq!(
        space.vectors.len(),
        products.len(),
        "the feature space must be built from the same products slice"
    );
}

/// [`similar_top_n`] with a mask of `mask_bits` bits (fewer bits: looser candidate bounds, the
/// same result; tests use it to reach every path).
fn similar_top_n_with(
    space: &FeatureSpace,
    products: &[Product],
    n: usize,
    mask_bits: usize,
) -> Vec<Vec<Neighbour>> {
    check_lengths(space, products);
    if n == 0 || products.len() < 2 {
        return vec![Vec::new(); products.len()];
    }
    let index = Index::build(space, mask_bits);
    // Keys by slot, like everything else: a product's neighbours are mostly nearby slots.
    let keys = CatalogueKeys::of_all(space, products, &index.product_of);
    let mut slot_of = vec![0u32; products.len()];
    for (slot, &p) in index.product_of.iter().enumerate() {
        slot_of[p as usize] = slot as u32;
    }
    let by_slot = in_parallel(
        products.len(),
        || Scratch::new(space.feature_count(), products.len()),
        |scratch, slot| {
            let ranked = index.top_n(slot, n, scratch);
            let key_of = |p: usize| slot_of[p] as usize;
            neighbours(products, &keys, key_of, index.product_of[slot] as usize, ranked)
        },
    );
    let mut out: Vec<Vec<Neighbour>> = vec![Vec::new(); products.len()];
    for (slot, list) in by_slot.into_iter().enumerate() {
        out[index.product_of[slot] as usize] = list;
    }
    out
}

/// The ranking of product `p` with what each neighbour shares with it; `key_of` maps a
/// product to its position in `keys`.
fn neighbours(
    products: &[Product],
    keys: &CatalogueKeys,
    key_of: impl Fn(usize) -> usize,
    p: usize,
    ranked: Vec<Ranked>,
) -> Vec<Neighbour> {
    let p_keys = &keys.keys[key_of(p)];
    ranked
        .into_iter()
        .map(|r| {
            let q = r.index as usize;
            let (traits, evidence) =
                p_keys.shared_with(&products[p], &keys.keys[key_of(q)], &products[q], |id| {
                    keys.informative(id)
                });
            Neighbour {
                index: r.index,
                score: r.score,
                traits,
                evidence,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PackSize, PackUnit};
    use crate::recommend::features::tests::{lengkuas_catalogue, product};
    use crate::recommend::features::{build_features, FeatureWeights};

    /// A deterministic generator (Knuth's MMIX LCG), so failures replay.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 11
        }
        fn unit(&mut self) -> f64 {
            self.next() as f64 / (1u64 << 53) as f64
        }
        fn below(&mut self, n: usize) -> usize {
            (self.unit() * n as f64) as usize % n.max(1)
        }
        fn chance(&mut self, p: f64) -> bool {
            self.unit() < p
        }
        /// About standard normal (Irwin–Hall).
        fn normal(&mut self) -> f64 {
            (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
        }
    }

    /// The shape of a synthetic catalogue.
    struct Shape {
        parents: usize,
        leaves: usize,
        vocabulary: usize,
        /// (attribute, number of values); each product has each with probability 0.7.
        attributes: &'static [(&'static str, usize)],
        /// Probability that a product lacks its category, name words or price (edge cases).
        gaps: f64,
    }

    const BENCH_SHAPE: Shape = Shape {
        parents: 20,
        leaves: 300,
        vocabulary: 2000,
        attributes: &[
            ("bentuk", 6),
            ("rasa", 5),
            ("warna", 8),
            ("ukuran", 4),
            ("asal", 6),
        ],
        gaps: 0.0,
    };

    /// Letters only, so that the name block reads every one as a word: "bacidu", "bacife", …
    fn word(i: usize) -> String {
        const SYLLABLES: [&str; 16] = [
            "ba", "ci", "du", "fe", "go", "ha", "ji", "ku", "le", "mo", "na", "pi", "ru", "sa", "te", "wu",
        ];
        (0..3).map(|k| SYLLABLES[(i >> (4 * k)) & 15]).collect()
    }

    /// Categories under parents, attributes with a few values, names of 3–5 words drawn with a
    /// Zipf-like law (P(rank r) ∝ 1/(r+1)), log-normal prices, mostly gram packs.
    fn synthetic_catalogue(count: usize, shape: &Shape, seed: u64) -> Vec<Product> {
        let mut rng = Lcg(seed);
        let mut cumulative = Vec::with_capacity(shape.vocabulary);
        let mut total = 0.0;
        for r in 0..shape.vocabulary {
            total += 1.0 / (r as f64 + 1.0);
            cumulative.push(total);
        }
        let grams = [50, 80, 100, 150, 200, 250, 500, 1000];
        (0..count)
            .map(|i| {
                let leaf = rng.below(shape.leaves);
                let category = [
                    format!("Induk {:02}", leaf % shape.parents),
                    format!("Kategori {leaf:03}"),
                ];
                let category: Vec<&str> = if rng.chance(shape.gaps) {
                    Vec::new()
                } else {
                    category.iter().map(String::as_str).collect()
                };
                let words = if rng.chance(shape.gaps) {
                    0
                } else {
                    3 + rng.below(3)
                };
                let mut name: Vec<String> = (0..words)
                    .map(|_| {
                        let u = rng.unit() * total;
                        word(cumulative.partition_point(|&c| c < u).min(shape.vocabulary - 1))
                    })
                    .collect();
                let pack = match rng.below(20) {
                    0..=13 => Some(PackSize {
                        amount: grams[rng.below(grams.len())],
                        unit: PackUnit::Gram,
                    }),
                    14..=16 => Some(PackSize {
                        amount: [100, 250, 600, 1000][rng.below(4)],
                        unit: PackUnit::Millilitre,
                    }),
                    _ => None,
                };
                if let Some(pack) = pack {
                    name.push(match pack.unit {
                        PackUnit::Millilitre => format!("{} ml", pack.amount),
                        _ => format!("{} g", pack.amount),
                    });
                }
                let price = if rng.chance(shape.gaps) {
                    0
                } else {
                    ((50_000f64.ln() + 0.8 * rng.normal()).exp() / 500.0).round() as i64 * 500 + 500
                };
                let mut attributes: Vec<(String, String)> = Vec::new();
                for &(key, values) in shape.attributes {
                    if rng.chance(0.7) {
                        attributes.push((key.to_string(), format!("nilai{}", word(rng.below(values)))));
                    }
                }
                let attributes: Vec<(&str, &str)> =
                    attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let mut p = product(
                    &format!("SYN-{i}"),
                    &name.join(" "),
                    price,
                    &category,
                    &attributes,
                );
                p.pack = pack;
                p
            })
            .collect()
    }

    /// A catalogue small enough to compare by brute force, with many overlaps, gaps and exact
    /// duplicates (ties).
    fn tangled_catalogue(count: usize, seed: u64) -> Vec<Product> {
        const SHAPE: Shape = Shape {
            parents: 3,
            leaves: 10,
            vocabulary: 40,
            attributes: &[("bentuk", 3), ("rasa", 2), ("warna", 4)],
            gaps: 0.1,
        };
        let mut products = synthetic_catalogue(count, &SHAPE, seed);
        let mut rng = Lcg(seed ^ 0x5eed);
        // Deeper and shallower paths, and a segment that reads like a path of its own.
        for p in products.iter_mut().filter(|p| p.category.len() == 2) {
            match rng.below(8) {
                0 => p.category.push(format!("Sub {}", rng.below(2))),
                1 => p.category.truncate(1),
                2 => p.category = vec![p.category.join(" > ")],
                _ => {}
            }
        }
        for i in 0..count / 10 {
            let mut twin = products[rng.below(products.len())].clone();
            twin.id = crate::domain::ProductId::parse(&format!("TWIN-{i}")).unwrap();
            products.push(twin);
        }
        products
    }

    fn assert_same(pruned: &[Vec<Neighbour>], naive: &[Vec<Neighbour>], what: &str) {
        assert_eq!(pruned.len(), naive.len());
        for (p, (a, b)) in pruned.iter().zip(naive).enumerate() {
            assert_eq!(a, b, "{what}: product {p} differs");
        }
    }

    #[test]
    fn pruned_search_equals_brute_force_on_random_catalogues() {
        for (count, seed) in [(300, 1), (450, 7), (200, 42)] {
            let products = tangled_catalogue(count, seed);
            let space = build_features(&products, &FeatureWeights::default());
            for n in [1, 10, products.len()] {
                let naive = similar_top_n_naive(&space, &products, n);
                assert_same(
                    &similar_top_n(&space, &products, n),
                    &naive,
                    &format!("seed {seed}, n {n}"),
                );
                // With no mask (every later feature may be shared) and with a small one.
                for mask_bits in [0, 5] {
                    let pruned = similar_top_n_with(&space, &products, n, mask_bits);
                    assert_same(
                        &pruned,
                        &naive,
                        &format!("seed {seed}, n {n}, mask_bits {mask_bits}"),
                    );
                }
            }
        }
    }

    #[test]
    fn pruned_search_equals_brute_force_with_other_weights() {
        let products = tangled_catalogue(300, 3);
        for weights in [
            FeatureWeights {
                price: 3.0,
                pack: 2.0,
                ..FeatureWeights::default()
            },
            FeatureWeights {
                category: 0.0,
                name: 0.1,
                ..FeatureWeights::default()
            },
        ] {
            let space = build_features(&products, &weights);
            for mask_bits in [0, 20, 64] {
                assert_same(
                    &similar_top_n_with(&space, &products, 5, mask_bits),
                    &similar_top_n_naive(&space, &products, 5),
                    &format!("{weights:?}, mask_bits {mask_bits}"),
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 24,
            ..proptest::test_runner::Config::default()
        })]

        /// Any random tangled catalogue (gaps, uneven category depths, exact duplicates, so
        /// ties), any list length and mask width: the pruned search gives brute force's lists
        /// bit for bit — same neighbours, same order among equal scores, same scores.
        #[test]
        fn pruned_search_equals_brute_force_on_any_catalogue(
            seed in proptest::prelude::any::<u64>(),
            count in 2usize..160,
            n in 1usize..16,
            mask_bits in proptest::prop_oneof![proptest::strategy::Just(0usize), 1usize..8, proptest::strategy::Just(MASK_BITS)],
        ) {
            let products = tangled_catalogue(count, seed);
            let space = build_features(&products, &FeatureWeights::default());
            let naive = similar_top_n_naive(&space, &products, n);
            let pruned = similar_top_n_with(&space, &products, n, mask_bits);
            proptest::prop_assert_eq!(pruned.len(), naive.len());
            for (p, (a, b)) in pruned.iter().zip(&naive).enumerate() {
                proptest::prop_assert_eq!(a, b, "product {} differs", p);
            }
        }
    }

    #[test]
    fn lists_are_ranked_by_score_then_index_without_the_product_itself() {
        let products = tangled_catalogue(250, 11);
        let space = build_features(&products, &FeatureWeights::default());
        let lists = similar_top_n(&space, &products, 8);
        let mut ties = 0;
        for (p, list) in lists.iter().enumerate() {
            assert!(list.len() <= 8);
            for w in list.windows(2) {
                assert!(
                    w[0].score > w[1].score || (w[0].score == w[1].score && w[0].index < w[1].index),
                    "product {p}: {:?} before {:?}",
                    (w[0].index, w[0].score),
                    (w[1].index, w[1].score)
                );
                ties += usize::from(w[0].score == w[1].score);
            }
            assert!(list
                .iter()
                .all(|nb| nb.index as usize != p && nb.score > 0.0 && nb.score <= 1.0 + 1e-6));
        }
        assert!(ties > 0, "the duplicates should have produced ties to order");
    }

    #[test]
    fn empty_single_and_pair_catalogues_work() {
        let weights = FeatureWeights::default();
        let none: Vec<Product> = Vec::new();
        let space = build_features(&none, &weights);
        assert!(similar_top_n(&space, &none, 10).is_empty());
        assert!(similar_top_n_naive(&space, &none, 10).is_empty());

        let one = vec![product("A", "Serundeng Lengkuas 100 g", 20000, &["Lauk"], &[])];
        let space = build_features(&one, &weights);
        assert_eq!(similar_top_n(&space, &one, 10), vec![Vec::<Neighbour>::new()]);

        let two = vec![
            product("A", "Serundeng Lengkuas 100 g", 20000, &["Lauk"], &[]),
            product("B", "Serundeng Pedas 100 g", 21000, &["Lauk"], &[]),
        ];
        let space = build_features(&two, &weights);
        let lists = similar_top_n(&space, &two, 10);
        assert_eq!(lists, similar_top_n_naive(&space, &two, 10));
        assert_eq!(lists[0].len(), 1);
        assert_eq!(lists[0][0].index, 1);
        assert_eq!(lists[1][0].index, 0);
        assert_eq!(lists[0][0].score, lists[1][0].score);
        assert_eq!(similar_top_n(&space, &two, 0), vec![Vec::<Neighbour>::new(); 2]);
    }

    #[test]
    fn products_sharing_nothing_are_not_similar() {
        let products = vec![
            product("A", "Serundeng", 0, &["Lauk"], &[]),
            product("B", "Sambal", 0, &["Sambal"], &[]),
            product("C", "", 0, &[], &[]),
        ];
        let space = build_features(&products, &FeatureWeights::default());
        let lists = similar_top_n(&space, &products, 5);
        assert!(lists.iter().all(Vec::is_empty), "{lists:?}");
        assert_eq!(lists, similar_top_n_naive(&space, &products, 5));
    }

    #[test]
    fn the_demo_shop_ranks_serundeng_before_flour_before_crisps() {
        let products = lengkuas_catalogue();
        let space = build_features(&products, &FeatureWeights::default());
        let lists = similar_top_n(&space, &products, 9);
        let ids: Vec<&str> = lists[0]
            .iter()
            .map(|nb| products[nb.index as usize].id.as_str())
            .collect();
        assert_eq!(&ids[..2], ["SRD-250P", "SRD-100P"], "{ids:?}");
        let at = |id: &str| ids.iter().position(|&x| x == id).unwrap();
        assert!(at("TPG-100") < at("KRP-80"), "{ids:?}");
        let traits = lists[0][at("SRD-100P")].traits;
        assert!(traits.same_category);
        assert!((traits.price_ratio - 1.05).abs() < 1e-6);
        let pedas = traits.text(&products[0], &products[lists[0][at("SRD-100P")].index as usize]);
        assert_eq!(pedas.attributes, [("bentuk".to_string(), "butiran".to_string())]);
        assert_eq!(pedas.words, ["serundeng", "lengkuas"]);
    }

    /// Specs of a synthetic PC: MHz, GB of RAM, MB of disk, inches of screen.
    type Specs = (u32, u32, u32, u32);

    /// A PC of the computer shop, named the way it names them: every word the same, only the
    /// numbers tell machines apart. The price follows the specs.
    fn pc(id: &str, (mhz, ram, hdd, screen): Specs) -> Product {
        let price = 1_000_000
            + 20_000 * i64::from(mhz)
            + 150_000 * i64::from(ram)
            + 500 * i64::from(hdd)
            + 100_000 * i64::from(screen);
        product(
            id,
            &format!("PC Rakitan Premium {mhz}MHz RAM {ram}GB HDD {hdd}MB Layar {screen}in"),
            price,
            &["Komputer", "PC Rakitan"],
            &[],
        )
    }

    /// `count` PCs with random specs; some share all their specs by chance.
    fn computer_catalogue(count: usize, seed: u64) -> (Vec<Product>, Vec<Specs>) {
        let mut rng = Lcg(seed);
        let mut pick = |values: &[u32]| values[rng.below(values.len())];
        let specs: Vec<Specs> = (0..count)
            .map(|_| {
                (
                    pick(&[25, 33, 40, 50, 60, 66, 75, 90, 100, 120, 133, 166, 200]),
                    pick(&[1, 2, 4, 6, 8, 12, 16, 24, 32, 64]),
                    pick(&[120, 210, 340, 452, 540, 640, 850, 1000, 1200, 1600, 2000]),
                    pick(&[10, 11, 12, 13, 14, 15, 17, 19, 21]),
                )
            })
            .collect();
        let products = specs
            .iter()
            .enumerate()
            .map(|(i, &s)| pc(&format!("PC-{i:03}"), s))
            .collect();
        (products, specs)
    }

    /// How far apart two PCs' specs are: the summed |log₂| of the ratios.
    fn spec_distance(a: Specs, b: Specs) -> f64 {
        let d = |x: u32, y: u32| (f64::from(x) / f64::from(y)).log2().abs();
        d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2) + d(a.3, b.3)
    }

    #[test]
    fn the_nearest_pc_is_the_one_with_the_closest_specs() {
        let base = (50, 16, 452, 14);
        let products = vec![
            pc("BASE", base),
            pc("FASTER", (52, 16, 452, 14)),
            pc("MORE-RAM", (50, 32, 452, 14)),
            pc("BIGGER-DISK", (50, 16, 1200, 14)),
            pc("WIDER", (50, 16, 452, 17)),
            pc("ALL-DIFFERENT", (100, 4, 2000, 21)),
            pc("TWIN", base),
        ];
        let space = build_features(&products, &FeatureWeights::default());
        let lists = similar_top_n(&space, &products, 6);
        assert_eq!(lists, similar_top_n_naive(&space, &products, 6));
        let ranked: Vec<(&str, f32)> = lists[0]
            .iter()
            .map(|nb| (products[nb.index as usize].id.as_str(), nb.score))
            .collect();
        assert_eq!(ranked[0].0, "TWIN", "{ranked:?}");
        assert!((ranked[0].1 - 1.0).abs() < 1e-6, "{ranked:?}");
        assert_eq!(ranked[1].0, "FASTER", "{ranked:?}");
        assert!(ranked[1].1 < ranked[0].1 && ranked[1].1 < 0.9999, "{ranked:?}");
        let last = ranked.iter().position(|r| r.0 == "ALL-DIFFERENT");
        assert!(last.is_none_or(|at| at == ranked.len() - 1), "{ranked:?}");
        // The reason can name what is close.
        let text = |nb: &Neighbour| nb.traits.text(&products[0], &products[nb.index as usize]);
        let faster = &lists[0][1];
        assert!(faster.evidence);
        let numbers = text(faster).numbers;
        assert!(numbers.contains(&("frekuensi".to_string(), "52 MHz".to_string())));
        assert!(numbers.contains(&("ram".to_string(), "16 GB".to_string())));
        let more_ram = lists[0]
            .iter()
            .find(|nb| products[nb.index as usize].id.as_str() == "MORE-RAM")
            .unwrap();
        assert!(!text(more_ram).numbers.iter().any(|(k, _)| k == "ram"));
    }

    #[test]
    fn a_computer_shop_with_identical_words_ranks_by_specs_without_false_ties() {
        let (products, specs) = computer_catalogue(300, 5);
        let space = build_features(&products, &FeatureWeights::default());
        let lists = similar_top_n(&space, &products, 10);
        assert_same(&lists, &similar_top_n_naive(&space, &products, 10), "computers");
        for mask_bits in [0, 5] {
            assert_same(
                &similar_top_n_with(&space, &products, 10, mask_bits),
                &similar_top_n_naive(&space, &products, 10),
                &format!("computers, mask_bits {mask_bits}"),
            );
        }
        let (mut nearest_is_closest, mut within_three, mut checked) = (0, 0, 0);
        let (mut nearest_distance, mut closest_distance) = (0.0, 0.0);
        for (p, list) in lists.iter().enumerate() {
            for nb in list {
                let q = nb.index as usize;
                if specs[q] == specs[p] {
                    assert!((nb.score - 1.0).abs() < 1e-6, "twins {p} {q}: {}", nb.score);
                } else {
                    assert!(
                        nb.score < 0.9999,
                        "{p} vs {q}: {:?} {:?} score {}",
                        specs[p],
                        specs[q],
                        nb.score
                    );
                }
            }
            // Equal scores only between machines with equal specs.
            for w in list.windows(2) {
                if w[0].score == w[1].score {
                    assert_eq!(
                        specs[w[0].index as usize], specs[w[1].index as usize],
                        "tie in {p}'s list"
                    );
                }
            }
            // A twin, when there is one, comes first.
            let twin = (0..products.len()).any(|q| q != p && specs[q] == specs[p]);
            assert_eq!(twin, specs[list[0].index as usize] == specs[p], "product {p}");
            let mut distances: Vec<f64> = (0..products.len())
                .filter(|&q| q != p)
                .map(|q| spec_distance(specs[p], specs[q]))
                .collect();
            distances.sort_by(f64::total_cmp);
            let nearest = spec_distance(specs[p], specs[list[0].index as usize]);
            checked += 1;
            nearest_is_closest += usize::from(nearest <= distances[0] + 1e-9);
            within_three += usize::from(nearest <= distances[2] + 1e-9);
            nearest_distance += nearest;
            closest_distance += distances[0];
        }
        // Price and the kernel's shape make exceptions (one spec far against several a little
        // off, ties in distance broken otherwise): when this was written the nearest by score
        // was the nearest by specs for 246 of 300, among the three nearest for 299, and the
        // mean distances were 0.675 against 0.656 (a random pair is 4.8 apart).
        assert!(
            nearest_is_closest * 100 >= checked * 78,
            "{nearest_is_closest} of {checked} nearest are the closest"
        );
        assert!(within_three * 100 >= checked * 99, "{within_three} of {checked}");
        assert!(
            nearest_distance <= 1.05 * closest_distance,
            "{nearest_distance} vs {closest_distance}"
        );
    }

    #[test]
    fn a_shop_of_produk_n_in_one_category_has_neighbours_without_evidence() {
        let mut rng = Lcg(9);
        let products: Vec<Product> = (0..600)
            .map(|i| {
                let price = 1000 * (5 + rng.below(200)) as i64;
                product(
                    &format!("P{i}"),
                    &format!("Produk {}", rng.below(1000)),
                    price,
                    &["Semua Produk"],
                    &[("kondisi", "baru")],
                )
            })
            .collect();
        let space = build_features(&products, &FeatureWeights::default());
        let lists = similar_top_n(&space, &products, 10);
        assert_same(&lists, &similar_top_n_naive(&space, &products, 10), "produk n");
        assert!(
            lists.iter().all(|l| l.len() == 10),
            "they are still listed, by price"
        );
        for (p, list) in lists.iter().enumerate() {
            for nb in list {
                assert!(!nb.evidence, "{nb:?}");
                let words = nb.traits.text(&products[p], &products[nb.index as usize]).words;
                assert!(nb.traits.same_category && words == ["produk"]);
            }
        }
        // One product elsewhere makes the shared category say something.
        let mut products = products;
        products.push(product("OTHER", "Barang Lain", 5000, &["Lain"], &[]));
        let space = build_features(&products, &FeatureWeights::default());
        let lists = similar_top_n(&space, &products, 3);
        assert!(lists[0].iter().all(|nb| nb.evidence));
    }

    #[test]
    fn the_demo_shops_similar_items_have_evidence_and_the_crisps_do_not() {
        let products = crate::eval::fixtures::catalogue();
        let space = build_features(&products, &FeatureWeights::default());
        let lists = similar_top_n(&space, &products, 10);
        assert_eq!(lists, similar_top_n_naive(&space, &products, 10));
        let list = |id: &str| &lists[products.iter().position(|p| p.id.as_str() == id).unwrap()];
        let of = |id: &str| -> Vec<(&str, bool)> {
            list(id)
                .iter()
                .map(|nb| (products[nb.index as usize].id.as_str(), nb.evidence))
                .collect()
        };
        let srd = of("SRD-100");
        assert_eq!(&srd[..2], [("SRD-250P", true), ("SRD-PDS-100", true)], "{srd:?}");
        // Every name says "lengkuas" and every path starts with the same parent: the crisps
        // share nothing else with the serundeng.
        assert!(srd.contains(&("KRP-80", false)), "{srd:?}");
        assert_eq!(of("TPG-100")[0], ("TPG-250P", true));
        // The same in the features tests' copy of the demo shop.
        let products = lengkuas_catalogue();
        let space = build_features(&products, &FeatureWeights::default());
        let lists = similar_top_n(&space, &products, 2);
        assert!(lists[0].iter().all(|nb| nb.evidence), "{:?}", lists[0]);
    }

    /// CPU time of this process so far, all threads (Linux; `None` elsewhere): on a shared
    /// machine it says more than the wall clock.
    fn cpu_time() -> Option<std::time::Duration> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(std::time::Duration::from_millis(ticks * 10)) // USER_HZ is 100 on Linux
    }

    /// Runs `f` `runs` times; the median wall time, the median CPU time and the last result.
    fn timed<R>(runs: usize, mut f: impl FnMut() -> R) -> (std::time::Duration, std::time::Duration, R) {
        let (mut walls, mut cpus) = (Vec::new(), Vec::new());
        let mut last = None;
        for _ in 0..runs {
            let (start, cpu_start) = (std::time::Instant::now(), cpu_time());
            last = Some(f());
            walls.push(start.elapsed());
            cpus.push(
                cpu_time()
                    .zip(cpu_start)
                    .map(|(end, start)| end - start)
                    .unwrap_or_default(),
            );
        }
        walls.sort();
        cpus.sort();
        (walls[runs / 2], cpus[runs / 2], last.expect("runs > 0"))
    }

    /// Run with `cargo test --release --lib recommend::similar -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing; run in release mode"]
    fn timing_100k_products_top_10_and_the_ratio_to_brute_force_at_5k() {
        let weights = FeatureWeights::default();

        let small = synthetic_catalogue(5_000, &BENCH_SHAPE, 7);
        let space = build_features(&small, &weights);
        let (pruned, pruned_cpu, pruned_lists) = timed(3, || similar_top_n(&space, &small, 10));
        let (naive, naive_cpu, naive_lists) = timed(3, || similar_top_n_naive(&space, &small, 10));
        assert_same(&pruned_lists, &naive_lists, "5k");
        println!(
            "n = 5,000, top 10: similar_top_n {pruned:?} (cpu {pruned_cpu:?}), naive {naive:?} (cpu \
             {naive_cpu:?}): {:.1}x by wall clock, {:.1}x by cpu",
            naive.as_secs_f64() / pruned.as_secs_f64(),
            naive_cpu.as_secs_f64() / pruned_cpu.as_secs_f64().max(1e-3),
        );

        let products = synthetic_catalogue(100_000, &BENCH_SHAPE, 42);
        let (build, build_cpu, space) = timed(3, || build_features(&products, &weights));
        let (search, search_cpu, lists) = timed(3, || similar_top_n(&space, &products, 10));
        let full = lists.iter().filter(|l| l.len() == 10).count();
        let mean_tenth = lists
            .iter()
            .filter_map(|l| l.get(9))
            .map(|nb| f64::from(nb.score))
            .sum::<f64>()
            / full.max(1) as f64;
        println!(
            "n = 100,000 ({} features), top 10: build_features {build:?} (cpu {build_cpu:?}), \
             similar_top_n {search:?} (cpu {search_cpu:?}); medians of 3; {full} full lists, mean 10th \
             score {mean_tenth:.3}",
            space.feature_count(),
        );
    }
}
