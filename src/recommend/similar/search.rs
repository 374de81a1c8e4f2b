//! The pruned search for one product's best `n` over the [`Index`]: regions by category,
//! lists walked cheapest first, bounds from the cards, a scan of what is left (see the module
//! doc of [`super`]).

use std::ops::Range;

use super::index::{Card, Index, CATEGORY, MAX_VALUE_SCALE, NO_BIT, NO_PACK, SPARSE_BLOCK};
use super::top::{Ranked, TopN};
use crate::recommend::features::DENSE_FEATURES;

/// No cuts known for a feature (see `Scratch::cuts_at`).
const NO_CUTS: u32 = u32::MAX;

/// Per-thread working memory, reused from one product to the next.
pub(super) struct Scratch {
    /// The current product's vector, scattered over all features (zero elsewhere).
    p_value: Vec<f32>,
    /// Slots already scored or ruled out for the current product, one bit each (small enough
    /// to stay in the first-level cache).
    seen: Vec<u64>,
    /// The current product's category features, root first, with the slots that have each.
    categories: Vec<(u32, Range<usize>)>,
    /// The current product's attribute and word features.
    others: Vec<u32>,
    /// The starts and ends of the current product's category runs, in slot order
    /// (`R1.start ≤ … ≤ Rd.start ≤ Rd.end ≤ … ≤ R1.end`).
    boundaries: Vec<usize>,
    /// By feature: where in `cuts` the places of `boundaries` in its postings list start, or
    /// `NO_CUTS`. Kept while the boundaries stay the same — the products of one category come
    /// one after the other — since finding them is a binary search through a long list.
    cuts_at: Vec<u32>,
    cuts: Vec<usize>,
    /// The features with cuts, to forget them when the boundaries change.
    cut_features: Vec<u32>,
    /// Whether the current product's lists have their cuts.
    cut: bool,
    /// Those not walked yet in the current region, with their postings there.
    to_walk: Vec<RegionList>,
}

impl Scratch {
    pub(super) fn new(features: usize, products: usize) -> Self {
        Self {
            p_value: vec![0.0; features],
            seen: vec![0; products.div_ceil(64)],
            categories: Vec::new(),
            others: Vec::new(),
            boundaries: Vec::new(),
            cuts_at: vec![NO_CUTS; features],
            cuts: Vec::new(),
            cut_features: Vec::new(),
            cut: false,
            to_walk: Vec::new(),
        }
    }

    /// Marks `slot` seen; false when it already was.
    fn first_sight(&mut self, slot: usize) -> bool {
        let (word, bit) = (slot / 64, 1u64 << (slot % 64));
        let fresh = self.seen[word] & bit == 0;
        self.seen[word] |= bit;
        fresh
    }
}

/// A feature's postings within a region: up to two runs of its list.
#[derive(Debug, Clone)]
struct RegionList {
    feature: u32,
    runs: [Range<usize>; 2],
}

impl RegionList {
    fn len(&self) -> usize {
        self.runs[0].len() + self.runs[1].len()
    }
}

/// The product whose list is being built, as the bounds need it.
struct Current {
    /// Norms of its price and pack blocks.
    dense: [f32; 2],
    pack_unit: u8,
}

/// What a candidate met now may still share with the current product, per sparse block: the
/// masked features (each adds at most the largest of their values), and the sum of the values
/// of the features that are unmasked or shared for sure. Values are pre-divided by
/// `MAX_VALUE_SCALE`, the scale of the quantised maxima they multiply.
#[derive(Debug, Clone, Copy, Default)]
struct Later {
    mask: [u64; 3],
    value: [f32; 3],
    unmasked: [f32; 3],
}

impl Later {
    /// At most what a product with `card` scores beyond `known`. Summed as a tree, with a fast
    /// path for the usual case of no masked feature shared: this runs for every posting walked.
    fn bound(&self, known: f32, card: &Card, q_norms: &[f32; 5], p: &Current) -> f32 {
        let q_max = card.max_value.map(f32::from);
        let same_pack = u8::from(p.pack_unit != NO_PACK && p.pack_unit == card.pack_unit);
        let dense = p.dense[0] * q_norms[0] + f32::from(same_pack) * p.dense[1] * q_norms[1];
        let unmasked =
            self.unmasked[0] * q_max[0] + (self.unmasked[1] * q_max[1] + self.unmasked[2] * q_max[2]);
        let bound = (known + dense) + unmasked;
        let mask = card.mask();
        if mask & (self.mask[0] | self.mask[1] | self.mask[2]) == 0 {
            return bound;
        }
        let shared = |b: usize| (mask & self.mask[b]).count_ones() as f32 * self.value[b] * q_max[b];
        bound + (shared(0) + (shared(1) + shared(2)))
    }
}

impl Index {
    /// The most that a product sharing with `p` nothing but some of the sparse features whose
    /// squared values sum to `rest[b]` per sparse block can score, price and pack included:
    /// Cauchy–Schwarz per block against each profile's block norms, and over the whole. Also
    /// returns the profile that gives the bound.
    fn rest_bound(&self, rest: &[f32; 3], p_dense: [f32; 2]) -> (f32, usize) {
        let rest_norm = rest.map(f32::sqrt);
        let (mut best, mut best_profile) = (0.0f32, 0);
        for (i, q) in self.profiles.iter().enumerate() {
            let bound = p_dense[0] * q[0]
                + p_dense[1] * q[1]
                + rest_norm[0] * q[SPARSE_BLOCK]
                + rest_norm[1] * q[SPARSE_BLOCK + 1]
                + rest_norm[2] * q[SPARSE_BLOCK + 2];
            if bound > best {
                (best, best_profile) = (bound, i);
            }
        }
        let whole = (rest.iter().sum::<f32>() + p_dense[0] * p_dense[0] + p_dense[1] * p_dense[1]).sqrt();
        (best.min(whole), best_profile)
    }

    /// The best `n` for the product in `slot`, exactly (see the module doc of [`super`]).
    pub(super) fn top_n(&self, slot: usize, n: usize, s: &mut Scratch) -> Vec<Ranked> {
        let mut top = TopN::new(n);
        let p_entries = self.vector(slot);
        if p_entries.is_empty() {
            return Vec::new();
        }
        s.seen.fill(0);
        s.first_sight(slot);
        s.categories.clear();
        s.others.clear();
        s.cut = false;
        let mut dense_sq = [0f32; 2];
        for &(f, x) in p_entries {
            s.p_value[f as usize] = x;
            let b = self.block[f as usize] as usize;
            if f < DENSE_FEATURES {
                dense_sq[b] += x * x;
            } else if b == SPARSE_BLOCK + CATEGORY
                && s.others.is_empty()
                && self.extends_path(f, &s.categories)
            {
                let list = self.posting_slots(f);
                s.categories
                    .push((f, list[0] as usize..list[list.len() - 1] as usize + 1));
            } else {
                // Including a category level that is not one run of slots nested in the level
                // above (a segment named "A > B" next to a path A, B): searched like a word.
                s.others.push(f);
            }
        }
        let p = Current {
            dense: dense_sq.map(f32::sqrt),
            pack_unit: self.cards[slot].pack_unit,
        };
        // Regions from the innermost out: the products under all of p's category path, those
        // under all but its last level, …, the rest of the catalogue.
        for shared in (0..=s.categories.len()).rev() {
            let runs = self.region(shared, &s.categories);
            self.search_region(shared, runs, &p, &mut top, s);
        }
        for &(f, _) in p_entries {
            s.p_value[f as usize] = 0.0;
        }
        top.into_sorted()
    }

    /// Whether the products with category feature `f` are one run of slots within the run of
    /// the last level in `path` (so that the runs can be searched region by region).
    fn extends_path(&self, f: u32, path: &[(u32, Range<usize>)]) -> bool {
        let list = self.posting_slots(f);
        let (first, last) = (list[0] as usize, list[list.len() - 1] as usize);
        let one_run = last + 1 - first == list.len();
        one_run
            && path
                .last()
                .is_none_or(|(_, outer)| outer.start <= first && last < outer.end)
    }

    /// The slots that share exactly the first `shared` levels of the category path: up to two
    /// runs.
    fn region(&self, shared: usize, categories: &[(u32, Range<usize>)]) -> [Range<usize>; 2] {
        let all = 0..self.product_of.len();
        let outer = if shared == 0 {
            all
        } else {
            categories[shared - 1].1.clone()
        };
        match categories.get(shared) {
            Some((_, inner)) => [outer.start..inner.start, inner.end..outer.end],
            None => [outer, 0..0],
        }
    }

    /// Offers every product of one region that could make the list. A product there shares
    /// the first `shared` category levels with `p` for sure, and any of `p`'s attribute values
    /// and words maybe: those lists are walked within the region, the one that lowers the
    /// bound most per posting first, until a product on none of those walked cannot qualify;
    /// if that never happens the rest of the region is scanned (at once, while there are not
    /// `n` yet and the region is smaller than its lists).
    fn search_region(
        &self,
        shared: usize,
        runs: [Range<usize>; 2],
        p: &Current,
        top: &mut TopN,
        s: &mut Scratch,
    ) {
        let size = runs[0].len() + runs[1].len();
        if size == 0 {
            return;
        }
        let (mut category_sum, mut category_sq) = (0.0f32, 0.0f32);
        for &(f, _) in &s.categories[..shared] {
            category_sum += s.p_value[f as usize];
            category_sq += s.p_value[f as usize].powi(2);
        }
        // Often nothing in the region can qualify: no need to look for p's lists there.
        let mut rest = [category_sq, 0.0, 0.0];
        for &f in &s.others {
            rest[self.block[f as usize] as usize - SPARSE_BLOCK] += s.p_value[f as usize].powi(2);
        }
        if !top.could_enter(self.rest_bound(&rest, p.dense).0) {
            return;
        }
        if !s.cut {
            self.cut_lists(s);
        }
        s.to_walk.clear();
        let levels = s.categories.len();
        for &f in &s.others {
            let cut = |j: usize| s.cuts[s.cuts_at[f as usize] as usize + j];
            let len = self.postings(f).len();
            let runs = match shared {
                _ if levels == 0 => [0..len, 0..0],
                0 => [0..cut(0), cut(2 * levels - 1)..len],
                k if k == levels => [cut(k - 1)..cut(k), 0..0],
                k => [cut(k - 1)..cut(k), cut(2 * levels - k - 1)..cut(2 * levels - k)],
            };
            let list = RegionList { feature: f, runs };
            if list.len() > 0 {
                s.to_walk.push(list);
            }
        }

        loop {
            let mut rest = [category_sq, 0.0, 0.0];
            let mut left = 0;
            for list in s.to_walk.iter() {
                rest[self.block[list.feature as usize] as usize - SPARSE_BLOCK] +=
                    s.p_value[list.feature as usize].powi(2);
                left += list.len();
            }
            let (bound, profile) = self.rest_bound(&rest, p.dense);
            if !top.could_enter(bound) {
                return;
            }
            // Until there are n, nothing can be ruled out: a small region is scanned at once.
            if s.to_walk.is_empty() || (top.threshold().is_none() && left >= size) {
                break;
            }
            // Next, the list that lowers the bound most per posting (for the bounding profile).
            let q_norms = &self.profiles[profile];
            let cut_per_posting = |list: &RegionList| {
                let g = list.feature as usize;
                let b = self.block[g] as usize - SPARSE_BLOCK;
                let after = (rest[b] - s.p_value[g].powi(2)).max(0.0);
                q_norms[SPARSE_BLOCK + b] * (rest[b].sqrt() - after.sqrt()) / list.len() as f32
            };
            let pick = (0..s.to_walk.len())
                .max_by(|&a, &b| {
                    let (la, lb) = (&s.to_walk[a], &s.to_walk[b]);
                    cut_per_posting(la)
                        .total_cmp(&cut_per_posting(lb))
                        .then(lb.feature.cmp(&la.feature))
                })
                .unwrap_or(0);
            let list = s.to_walk.swap_remove(pick);
            let later = self.later(category_sum, s);
            let p_f = s.p_value[list.feature as usize];
            let (postings, slots) = (self.postings(list.feature), self.posting_slots(list.feature));
            let mut cut = top.cut();
            for run in &list.runs {
                // The slots alone first: a product already met costs 4 bytes of the stream.
                for (posting, &q) in postings[run.clone()].iter().zip(&slots[run.clone()]) {
                    let q = q as usize;
                    if !s.first_sight(q) {
                        continue;
                    }
                    let q_norms = &self.profiles[posting.card.profile as usize];
                    if later.bound(p_f * posting.value, &posting.card, q_norms, p) < cut {
                        continue;
                    }
                    top.offer(self.score(q, &s.p_value), self.product_of[q]);
                    cut = top.cut();
                }
            }
        }

        // Nothing left that is cheaper to walk than the region is to scan.
        if shared == 0 && s.to_walk.is_empty() {
            // Outside p's categories, sharing no sparse feature: price and pack only, at most
            // |p_dense|·|q_dense|, so by decreasing dense norm until that cannot qualify.
            let p_dense_norm = (p.dense[0] * p.dense[0] + p.dense[1] * p.dense[1]).sqrt();
            let in_region = |q: usize| runs.iter().any(|r| r.contains(&q));
            for &q in &self.by_dense_norm {
                let q = q as usize;
                let q_norm = self.dense_norm[q];
                if p_dense_norm == 0.0 || q_norm == 0.0 || !top.could_enter(p_dense_norm * q_norm) {
                    break;
                }
                if in_region(q) && s.first_sight(q) {
                    top.offer(self.score(q, &s.p_value), self.product_of[q]);
                }
            }
            return;
        }
        let later = self.later(category_sum, s);
        let mut cut = top.cut();
        for run in &runs {
            for q in run.clone() {
                if !s.first_sight(q) {
                    continue;
                }
                let card = &self.cards[q];
                if later.bound(0.0, card, &self.profiles[card.profile as usize], p) < cut {
                    continue;
                }
                top.offer(self.score(q, &s.p_value), self.product_of[q]);
                cut = top.cut();
            }
        }
    }

    /// Finds where each boundary of `p`'s category runs falls in each of `p`'s other lists
    /// (every region's part of a list lies between two of them), unless known already.
    fn cut_lists(&self, s: &mut Scratch) {
        let starts = s.categories.iter().map(|c| c.1.start);
        let boundaries = starts.chain(s.categories.iter().rev().map(|c| c.1.end));
        if !boundaries.clone().eq(s.boundaries.iter().copied()) {
            s.boundaries.clear();
            s.boundaries.extend(boundaries);
            for &f in &s.cut_features {
                s.cuts_at[f as usize] = NO_CUTS;
            }
            s.cut_features.clear();
            s.cuts.clear();
        }
        for &f in &s.others {
            if s.cuts_at[f as usize] != NO_CUTS {
                continue;
            }
            s.cuts_at[f as usize] = s.cuts.len() as u32;
            s.cut_features.push(f);
            let slots = self.posting_slots(f);
            let mut at = 0;
            for &boundary in &s.boundaries {
                at += slots[at..].partition_point(|&slot| (slot as usize) < boundary);
                s.cuts.push(at);
            }
        }
        s.cut = true;
    }

    /// What a product of the current region, met now, may still share with `p` (see `Later`):
    /// the category levels of the region for sure, the lists not walked yet maybe.
    fn later(&self, category_sum: f32, s: &Scratch) -> Later {
        let mut later = Later::default();
        later.unmasked[CATEGORY] = category_sum / MAX_VALUE_SCALE;
        for list in &s.to_walk {
            let g = list.feature as usize;
            let b = self.block[g] as usize - SPARSE_BLOCK;
            let value = s.p_value[g] / MAX_VALUE_SCALE;
            match self.bit[g] {
                NO_BIT => later.unmasked[b] += value,
                bit => {
                    later.mask[b] |= 1 << bit;
                    later.value[b] = later.value[b].max(value);
                }
            }
        }
        later
    }
}
