//! The catalogue laid out for the pruned search: products in slots sorted by category path,
//! their vectors, the postings of every sparse feature with a 16-byte card per product, and
//! the block-norm profiles that bound what an unseen product can score.

use crate::recommend::features::{Block, FeatureSpace, SparseVec, DENSE_FEATURES, PACK_FEATURES};

/// The mask of frequent features a product has holds this many bits.
pub(super) const MASK_BITS: usize = 64;
pub(super) const NO_BIT: u8 = u8::MAX;
/// Beyond this many distinct block profiles the bound uses their component-wise maximum.
const MAX_PROFILES: usize = 64;
/// Block norms are rounded up to multiples of 1/PROFILE_GRID to find the distinct profiles.
const PROFILE_GRID: f32 = 4096.0;

/// Position of a block in per-block arrays (feature-index order).
fn block_slot(block: Block) -> usize {
    match block {
        Block::Price => 0,
        Block::Pack => 1,
        Block::Category => 2,
        Block::Attributes => 3,
        Block::Name => 4,
    }
}

/// The first sparse block's slot; sparse blocks are 2..5, and 0..3 in per-sparse-block arrays.
pub(super) const SPARSE_BLOCK: usize = 2;
pub(super) const CATEGORY: usize = 0;
pub(super) const NO_PACK: u8 = u8::MAX;
const PACK_START: u32 = PACK_FEATURES.start;
/// Scale of the quantised `Card::max_value` (values are at most 1).
pub(super) const MAX_VALUE_SCALE: f32 = 65535.0;

/// What a candidate's bound needs to know about it, in 16 bytes aligned to 4: kept by slot and
/// copied into every posting, so that most candidates are ruled out without a look at the
/// product itself (a random memory access on a large catalogue).
#[derive(Debug, Clone, Copy)]
pub(super) struct Card {
    /// Which of the masked (most frequent) features the product has, as two halves (low
    /// first) so that the card needs no 8-byte alignment and a posting packs into 20 bytes.
    mask: [u32; 2],
    /// The largest value in each sparse block (category, attributes, name), rounded up to
    /// 1/65535. Category values are all equal within a vector; attribute values are too
    /// unless the product has numeric attributes.
    pub(super) max_value: [u16; 3],
    /// Index into `Index::profiles`: the product's block norms.
    pub(super) profile: u8,
    /// The unit slot of the pack, or `NO_PACK`.
    pub(super) pack_unit: u8,
}

impl Card {
    const EMPTY: Card = Card {
        mask: [0; 2],
        max_value: [0; 3],
        profile: 0,
        pack_unit: NO_PACK,
    };

    /// Which of the masked features the product has: bit `b` for the feature with bit `b`.
    pub(super) fn mask(&self) -> u64 {
        u64::from(self.mask[0]) | (u64::from(self.mask[1]) << 32)
    }

    fn set_bit(&mut self, bit: u8) {
        self.mask[usize::from(bit / 32)] |= 1 << (bit % 32);
    }
}

/// One entry of a postings list, 20 bytes: the value of the feature in a product that has it,
/// and that product's card. The product's slot is in `Index::posting_slot`, at the same
/// position: the walk reads it first, and reads the posting only for a product it has not met
/// yet (for the current product), so already-met products cost 4 bytes of the stream, not 24.
#[derive(Debug, Clone, Copy)]
pub(super) struct Posting {
    pub(super) value: f32,
    pub(super) card: Card,
}

/// The catalogue laid out for the search. Products live in *slots*, sorted by category path,
/// so that the products under one category prefix are one run of slots (which the search
/// uses) and sit together in memory.
pub(super) struct Index {
    /// Slot → position in the products slice.
    pub(super) product_of: Vec<u32>,
    /// Vectors by slot, contiguous (index, value) pairs: slot s has
    /// `entries[vector_start[s]..vector_start[s + 1]]`.
    vector_start: Vec<u32>,
    entries: Vec<(u32, f32)>,
    /// Postings of each sparse feature, slot ascending: feature f has
    /// `postings[posting_start[f]..posting_start[f + 1]]`; dense features have none.
    pub(super) posting_start: Vec<u32>,
    postings: Vec<Posting>,
    /// The slots of `postings` alone, dense, for binary searches.
    pub(super) posting_slot: Vec<u32>,
    /// By feature: its block's slot (see `block_slot`).
    pub(super) block: Vec<u8>,
    /// By feature: its bit in the masks (the most frequent features have one) or `NO_BIT`.
    pub(super) bit: Vec<u8>,
    /// By slot.
    pub(super) cards: Vec<Card>,
    /// The distinct per-block norms of the vectors (price, pack, category, attributes, name),
    /// rounded up.
    pub(super) profiles: Vec<[f32; 5]>,
    /// By slot: the norm of the price and pack part.
    pub(super) dense_norm: Vec<f32>,
    /// Slots by decreasing dense norm.
    pub(super) by_dense_norm: Vec<u32>,
}

impl Index {
    pub(super) fn build(space: &FeatureSpace, mask_bits: usize) -> Index {
        let vectors = &space.vectors;
        let features = space.feature_count();
        let block: Vec<u8> = (0..features as u32)
            .map(|f| block_slot(space.block_of(f)) as u8)
            .collect();

        // Category features come in path order (a prefix sorts before its extensions), so
        // sorting by them makes every category prefix one run of slots.
        fn category_of(v: &SparseVec, attributes_start: u32) -> &[u32] {
            let from = v.idx.partition_point(|&f| f < DENSE_FEATURES);
            let to = v.idx.partition_point(|&f| f < attributes_start);
            &v.idx[from..to]
        }
        let category_of = |p: u32| category_of(&vectors[p as usize], space.attributes_start);
        let mut product_of: Vec<u32> = (0..vectors.len() as u32).collect();
        product_of.sort_by(|&a, &b| category_of(a).cmp(category_of(b)).then(a.cmp(&b)));
        let slots = product_of.len();

        let total: usize = vectors.iter().map(|v| v.idx.len()).sum();
        let mut vector_start = Vec::with_capacity(slots + 1);
        let mut entries = Vec::with_capacity(total);
        vector_start.push(0);
        for &p in &product_of {
            let v = &vectors[p as usize];
            entries.extend(v.idx.iter().copied().zip(v.val.iter().copied()));
            vector_start.push(entries.len() as u32);
        }
        let vector = |slot: usize| &entries[vector_start[slot] as usize..vector_start[slot + 1] as usize];

        let mut df = vec![0u32; features];
        for &(f, _) in entries.iter().filter(|e| e.0 >= DENSE_FEATURES) {
            df[f as usize] += 1;
        }
        // The most frequent attribute values and words get mask bits: they are the lists most
        // often left unwalked.
        let mut by_df: Vec<u32> = (space.attributes_start..features as u32)
            .filter(|&f| df[f as usize] > 1)
            .collect();
        by_df.sort_by(|&a, &b| df[b as usize].cmp(&df[a as usize]).then(a.cmp(&b)));
        let mut bit = vec![NO_BIT; features];
        for (b, &f) in by_df.iter().take(mask_bits.min(MASK_BITS)).enumerate() {
            bit[f as usize] = b as u8;
        }

        let mut cards = Vec::with_capacity(slots);
        let mut norms = vec![[0f32; 5]; slots];
        for (slot, norm) in norms.iter_mut().enumerate() {
            let mut card = Card::EMPTY;
            let mut max_value = [0f32; 3];
            for &(f, x) in vector(slot) {
                let b = block[f as usize] as usize;
                norm[b] += x * x;
                if (PACK_START..DENSE_FEATURES).contains(&f) {
                    card.pack_unit = ((f - PACK_START) / 2) as u8;
                } else if f >= DENSE_FEATURES {
                    max_value[b - SPARSE_BLOCK] = max_value[b - SPARSE_BLOCK].max(x);
                    if bit[f as usize] != NO_BIT {
                        card.set_bit(bit[f as usize]);
                    }
                }
            }
            for x in norm.iter_mut() {
                *x = x.sqrt();
            }
            // Rounded up, so that the bounds built from them stay bounds.
            card.max_value = max_value.map(|x| (x * MAX_VALUE_SCALE).ceil().min(MAX_VALUE_SCALE) as u16);
            cards.push(card);
        }
        // Block norms differ in their last bits from product to product; rounded up (so that
        // bounds stay bounds) they take the few values that the sets of blocks give.
        let rounded: Vec<[f32; 5]> = norms
            .iter()
            .map(|n| n.map(|x| (x * PROFILE_GRID).ceil() / PROFILE_GRID))
            .collect();
        let key = |p: &[f32; 5]| p.map(f32::to_bits);
        let mut profiles = rounded.clone();
        profiles.sort_by_key(key);
        profiles.dedup();
        if profiles.len() > MAX_PROFILES {
            let mut max = [0f32; 5];
            for p in &profiles {
                for (m, x) in max.iter_mut().zip(p) {
                    *m = m.max(*x);
                }
            }
            profiles = vec![max];
        } else {
            for (card, r) in cards.iter_mut().zip(&rounded) {
                card.profile = profiles.binary_search_by_key(&key(r), key).unwrap_or(0) as u8;
            }
        }

        let mut posting_start = Vec::with_capacity(features + 1);
        posting_start.push(0u32);
        for &d in &df {
            posting_start.push(posting_start.last().copied().unwrap_or(0) + d);
        }
        let empty = Posting {
            value: 0.0,
            card: Card::EMPTY,
        };
        let mut postings = vec![empty; posting_start.last().copied().unwrap_or(0) as usize];
        let mut posting_slot = vec![0u32; postings.len()];
        let mut fill = posting_start.clone();
        for (slot, &card) in cards.iter().enumerate() {
            for &(f, x) in vector(slot).iter().filter(|e| e.0 >= DENSE_FEATURES) {
                postings[fill[f as usize] as usize] = Posting { value: x, card };
                posting_slot[fill[f as usize] as usize] = slot as u32;
                fill[f as usize] += 1;
            }
        }

        let dense_norm: Vec<f32> = norms.iter().map(|n| (n[0] * n[0] + n[1] * n[1]).sqrt()).collect();
        let mut by_dense_norm: Vec<u32> = (0..slots as u32).collect();
        by_dense_norm.sort_by(|&a, &b| {
            dense_norm[b as usize]
                .total_cmp(&dense_norm[a as usize])
                .then(a.cmp(&b))
        });

        Index {
            product_of,
            vector_start,
            entries,
            posting_start,
            postings,
            posting_slot,
            block,
            bit,
            cards,
            profiles,
            dense_norm,
            by_dense_norm,
        }
    }

    pub(super) fn vector(&self, slot: usize) -> &[(u32, f32)] {
        &self.entries[self.vector_start[slot] as usize..self.vector_start[slot + 1] as usize]
    }

    /// Where feature `f`'s list lies in `postings` and `posting_slot`.
    pub(super) fn posting_range(&self, f: u32) -> std::ops::Range<usize> {
        self.posting_start[f as usize] as usize..self.posting_start[f as usize + 1] as usize
    }

    pub(super) fn postings(&self, f: u32) -> &[Posting] {
        &self.postings[self.posting_range(f)]
    }

    /// The slots of feature `f`'s list, ascending.
    pub(super) fn posting_slots(&self, f: u32) -> &[u32] {
        &self.posting_slot[self.posting_range(f)]
    }

    /// The exact score of `slot` against the scattered product: the same products, summed in
    /// the same index order, as [`SparseVec::dot`] (terms of features only one side has are
    /// ±0 and change nothing).
    pub(super) fn score(&self, slot: usize, p_value: &[f32]) -> f32 {
        let mut sum = 0.0f32;
        for &(f, x) in self.vector(slot) {
            sum += p_value[f as usize] * x;
        }
        sum
    }
}
