//! The best `n` scored products so far, as both searches keep them.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Slack for upper bounds, which are summed in another order than the exact scores.
const SLACK: f32 = 1e-4;

/// A scored product. Ordered so that *greater is worse* (lower score, then higher index): the
/// top of a `BinaryHeap` is the entry to evict, and an ascending sort is the ranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Ranked {
    pub(super) score: f32,
    pub(super) index: u32,
}

impl Eq for Ranked {}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.index.cmp(&other.index))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The best `n` offers so far.
pub(super) struct TopN {
    n: usize,
    heap: BinaryHeap<Ranked>,
}

impl TopN {
    pub(super) fn new(n: usize) -> Self {
        Self {
            n,
            heap: BinaryHeap::with_capacity(n + 1),
        }
    }

    /// The n-th best score, once there are `n`.
    pub(super) fn threshold(&self) -> Option<f32> {
        (self.heap.len() == self.n).then(|| self.heap.peek().map_or(0.0, |r| r.score))
    }

    /// A product whose score is at most a bound below this cannot enter: the n-th best score
    /// less the slack, or −∞ while there are fewer than n.
    pub(super) fn cut(&self) -> f32 {
        self.threshold().map_or(f32::NEG_INFINITY, |t| t - SLACK)
    }

    /// Whether a product whose score is at most `bound` could still enter.
    pub(super) fn could_enter(&self, bound: f32) -> bool {
        bound >= self.cut()
    }

    pub(super) fn offer(&mut self, score: f32, index: u32) {
        if score <= 0.0 || self.n == 0 {
            return;
        }
        let entry = Ranked { score, index };
        if self.heap.len() < self.n {
            self.heap.push(entry);
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if entry < *worst {
                *worst = entry;
            }
        }
    }

    pub(super) fn into_sorted(self) -> Vec<Ranked> {
        self.heap.into_sorted_vec()
    }
}
