//! Exact one-dimensional k-means, and the silhouette score to pick k.
//!
//! This module owns the clustering of plain numbers on a line: price bands for product
//! recommendations ("more in this price range", up to ~100,000 products) and loyalty tiers of
//! customers by total spend. Nothing here does I/O.
//!
//! Why it exists: seed 002 (Fernandez, Mulyawan & Lauro 2023, the Maniak Mainan shop) calls its
//! method "k-means" but really cuts the line into equal-width bins: its four loyalty tier centres
//! 1,560,000 / 3,120,000 / 4,680,000 / 6,240,000 IDR are just multiples of (max − min) / 5. Such
//! bins ignore where the data are: on seed 002's own 73 customers one of its four tiers is empty
//! and 62 customers share the lowest. In one dimension we need no heuristics at all: the
//! clusters of an optimal k-means solution are contiguous runs of the sorted values, so the
//! minimum-SSE solution is found exactly by dynamic programming (Wang & Song 2011,
//! *Ckmeans.1d.dp*, The R Journal 3/2). [`kmeans_1d`] computes it in O(k·n·log n) time with the
//! divide-and-conquer optimisation (the optimal start of the last cluster is monotone in the
//! prefix length, because the segment cost satisfies the quadrangle inequality).
//!
//! [`silhouette_1d`] is Rousseeuw's (1987) mean silhouette, computed exactly in O(n log n):
//! in 1-D the clusters are contiguous blocks of the sorted values, the mean distance from a point
//! to its own block comes from prefix sums, and the nearest other cluster is always an adjacent
//! block. [`best_k_by_silhouette`] tries a range of k with one DP run and keeps the best score.
//!
//! Numerics: the DP works on the distinct values (with multiplicities, so equal values can never
//! be split between clusters), scaled by a power of two (exact) so that squares cannot overflow,
//! and shifted by the median to limit cancellation in "sum of squares − sum² / n". The reported
//! centres and SSE are recomputed per cluster with a two-pass mean.

use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

/// The result of clustering values on a line: clusters are contiguous ranges of the sorted values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Number of clusters (after clipping to the number of distinct values).
    pub k: usize,
    /// Mean of each cluster, ascending.
    pub centres: Vec<f64>,
    /// Inclusive lower and upper value of each cluster (min and max of its members), ascending.
    pub ranges: Vec<(f64, f64)>,
    /// Members per cluster.
    pub sizes: Vec<usize>,
    /// Sum of squared distances to the cluster centre, total.
    pub sse: f64,
}

impl Clustering {
    /// Cluster index for any value (also ones not in the training set): the nearest centre, with
    /// a value exactly on a boundary (see [`Clustering::boundaries`]) going to the lower cluster.
    /// Equivalently, the number of boundaries strictly below `value`.
    ///
    /// For the values a clustering was trained on this is the cluster the DP put them in (up to
    /// rounding): in an optimal 1-D k-means solution every point is strictly nearer to its own
    /// centre than to any other. `-inf` maps to 0, `+inf` to `k - 1`, and NaN to 0. Assumes ascending
    /// centres (as produced here); with no centres it returns 0.
    pub fn cluster_of(&self, value: f64) -> usize {
        // Smallest t with boundary[t] >= value, where boundary[t] lies between centres t and t+1;
        // t = k - 1 when every boundary is below the value.
        let (mut lo, mut hi) = (0, self.centres.len().saturating_sub(1));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if midpoint(self.centres[mid], self.centres[mid + 1]) < value {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Boundaries between adjacent clusters (midpoints between centres), length k-1.
    pub fn boundaries(&self) -> Vec<f64> {
        self.centres.windows(2).map(|w| midpoint(w[0], w[1])).collect()
    }
}

/// Why values could not be clustered.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KMeansError {
    /// No values at all.
    #[error("cannot cluster an empty set of values")]
    Empty,
    /// k (or the start of a range of k) is 0.
    #[error("k must be at least 1, got 0")]
    ZeroK,
    /// A range of k with no k in it, such as `5..=2`.
    #[error("empty range of k: {start}..={end}")]
    EmptyKRange { start: usize, end: usize },
    /// A NaN or infinite value; the value and its position are quoted.
    #[error("value {value} at index {index} is not finite")]
    NonFinite { index: usize, value: f64 },
}

/// Optimal (minimum SSE) k-means in one dimension by dynamic programming. k is clipped to the
/// number of distinct values.
///
/// Errors, checked in this order: [`KMeansError::Empty`], [`KMeansError::ZeroK`],
/// [`KMeansError::NonFinite`] (the first offending value). Time O(n log n + k·m·log m) and
/// memory O(k·m) for m distinct values; meant for k much smaller than m.
pub fn kmeans_1d(values: &[f64], k: usize) -> Result<Clustering, KMeansError> {
    if values.is_empty() {
        return Err(KMeansError::Empty);
    }
    if k == 0 {
        return Err(KMeansError::ZeroK);
    }
    let data = Prepared::new(values)?;
    let k = k.min(data.distinct.len());
    let solver = Solver::new(&data, k);
    Ok(data.clustering(&solver.bounds(k)))
}

/// Mean silhouette coefficient of a clustering of `values` (Rousseeuw 1987; a point alone in
/// its cluster scores 0; k = 1 → 0). Exact, O(n log n) using sorted values and prefix sums (in
/// 1-D the mean distance from x to a sorted set is computable from prefix sums).
///
/// Each value is assigned with [`Clustering::cluster_of`], so `values` need not be the training
/// set. Clusters with no member among `values` are ignored; fewer than two non-empty clusters,
/// or no values, score 0. Any NaN or infinite value makes the result NaN.
pub fn silhouette_1d(values: &[f64], clustering: &Clustering) -> f64 {
    if values.iter().any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    silhouette_sorted(&sorted, clustering)
}

/// Try k in the range, return the clustering with the best silhouette (ties → smaller k), with
/// its score.
///
/// k above the number of distinct values is clipped (so such k give the same clustering as the
/// clipped k and can never win a tie). All k share one DP run, so the cost is about that of
/// [`kmeans_1d`] with the largest k, plus one O(n) silhouette per k on the already sorted values. Errors, in this order:
/// [`KMeansError::Empty`], [`KMeansError::ZeroK`] (range starts at 0),
/// [`KMeansError::EmptyKRange`], [`KMeansError::NonFinite`].
pub fn best_k_by_silhouette(
    values: &[f64],
    ks: RangeInclusive<usize>,
) -> Result<(Clustering, f64), KMeansError> {
    if values.is_empty() {
        return Err(KMeansError::Empty);
    }
    let (start, end) = (*ks.start(), *ks.end());
    if start == 0 {
        return Err(KMeansError::ZeroK);
    }
    if ks.is_empty() {
        return Err(KMeansError::EmptyKRange { start, end });
    }
    let data = Prepared::new(values)?;
    let m = data.distinct.len();
    let (k_lo, k_hi) = (start.min(m), end.min(m));
    let solver = Solver::new(&data, k_hi);
    let mut best: Option<(Clustering, f64)> = None;
    for k in k_lo..=k_hi {
        let clustering = data.clustering(&solver.bounds(k));
        let score = silhouette_sorted(&data.sorted, &clustering);
        if best.as_ref().is_none_or(|(_, s)| score > *s) {
            best = Some((clustering, score));
        }
    }
    Ok(best.expect("k_lo <= k_hi, so at least one k was tried"))
}

/// Midpoint that cannot overflow for finite inputs.
fn midpoint(a: f64, b: f64) -> f64 {
    let m = (a + b) * 0.5;
    if m.is_finite() {
        m
    } else {
        a * 0.5 + b * 0.5
    }
}

/// A power of two (so dividing by it is exact) that brings sorted, finite values into (-2, 2):
/// 2^floor(log2(max |x|)), or 1 when the values are all zero or subnormal.
fn power_of_two_scale(sorted: &[f64]) -> f64 {
    let max_abs = match (sorted.first(), sorted.last()) {
        (Some(lo), Some(hi)) => lo.abs().max(hi.abs()),
        _ => return 1.0,
    };
    // Clearing the mantissa of a normal number leaves 2^floor(log2(max_abs)).
    let pow2 = f64::from_bits(max_abs.to_bits() & 0x7ff0_0000_0000_0000);
    if pow2.is_normal() {
        pow2
    } else {
        1.0
    }
}

/// Validated, sorted input with its distinct values and their multiplicities.
struct Prepared {
    /// All values, ascending.
    sorted: Vec<f64>,
    /// Distinct values, strictly ascending.
    distinct: Vec<f64>,
    /// Multiplicity of each distinct value.
    counts: Vec<usize>,
    /// Power of two near the largest magnitude; values are divided by it (exactly) for the DP.
    scale: f64,
}

impl Prepared {
    fn new(values: &[f64]) -> Result<Self, KMeansError> {
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(KMeansError::NonFinite { index, value });
        }
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let mut distinct: Vec<f64> = Vec::new();
        let mut counts: Vec<usize> = Vec::new();
        for &v in &sorted {
            // `==` also merges -0.0 with 0.0, which total_cmp keeps adjacent.
            match distinct.last() {
                Some(&last) if last == v => *counts.last_mut().expect("parallel to distinct") += 1,
                _ => {
                    distinct.push(v);
                    counts.push(1);
                }
            }
        }
        let scale = power_of_two_scale(&sorted);
        Ok(Prepared {
            sorted,
            distinct,
            counts,
            scale,
        })
    }

    /// Builds the clustering whose clusters are the distinct-value index ranges
    /// `bounds[c]..bounds[c + 1]`.
    fn clustering(&self, bounds: &[usize]) -> Clustering {
        let k = bounds.len() - 1;
        let mut centres = Vec::with_capacity(k);
        let mut ranges = Vec::with_capacity(k);
        let mut sizes = Vec::with_capacity(k);
        let mut sse = 0.0;
        for w in bounds.windows(2) {
            let (xs, ns) = (&self.distinct[w[0]..w[1]], &self.counts[w[0]..w[1]]);
            let size: usize = ns.iter().sum();
            let weight = size as f64;
            let scaled = |x: f64| x / self.scale;
            // Two-pass mean: first estimate, then add the mean residual.
            let rough = xs
                .iter()
                .zip(ns)
                .map(|(&x, &c)| c as f64 * scaled(x))
                .sum::<f64>()
                / weight;
            let residual = xs
                .iter()
                .zip(ns)
                .map(|(&x, &c)| c as f64 * (scaled(x) - rough))
                .sum::<f64>();
            let mean = rough + residual / weight;
            let cluster_sse: f64 = xs
                .iter()
                .zip(ns)
                .map(|(&x, &c)| c as f64 * (scaled(x) - mean).powi(2))
                .sum();
            let (lo, hi) = (xs[0], xs[xs.len() - 1]);
            centres.push((mean * self.scale).clamp(lo, hi));
            ranges.push((lo, hi));
            sizes.push(size);
            sse += cluster_sse * self.scale * self.scale;
        }
        Clustering {
            k,
            centres,
            ranges,
            sizes,
            sse,
        }
    }
}

/// Prefix sums `[weight, Σ w·y, Σ w·y²]` of the transformed distinct values y, interleaved so
/// that the DP's inner scan reads one contiguous array.
struct Prefix {
    sums: Vec<[f64; 3]>,
}

impl Prefix {
    fn new(data: &Prepared) -> Self {
        let shift = data.sorted[data.sorted.len() / 2] / data.scale;
        let mut sums = Vec::with_capacity(data.distinct.len() + 1);
        let (mut acc_w, mut acc1, mut acc2) = (0.0, Neumaier::default(), Neumaier::default());
        sums.push([0.0; 3]);
        for (&x, &c) in data.distinct.iter().zip(&data.counts) {
            let (c, y) = (c as f64, x / data.scale - shift);
            acc_w += c; // exact: integer counts below 2^53
            acc1.add(c * y);
            acc2.add(c * y * y);
            sums.push([acc_w, acc1.value(), acc2.value()]);
        }
        Prefix { sums }
    }

    /// SSE of the distinct values with indices in `j..i` (j < i), in transformed units.
    fn cost(&self, j: usize, i: usize) -> f64 {
        segment_cost(&self.sums[j], &self.sums[i])
    }
}

/// SSE of a segment from the prefix sums at its two ends: Σy² − (Σy)²/w, clamped at 0.
#[inline(always)]
fn segment_cost(&[w0, s0, q0]: &[f64; 3], &[w1, s1, q1]: &[f64; 3]) -> f64 {
    let (w, s) = (w1 - w0, s1 - s0);
    (q1 - q0 - s * s / w).max(0.0)
}

/// Neumaier's compensated summation, so long prefix sums keep their low-order bits.
#[derive(Default)]
struct Neumaier {
    sum: f64,
    compensation: f64,
}

impl Neumaier {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// The DP over (cluster count, prefix length), keeping for every layer the optimal start of
/// the last cluster so that any k up to `k_max` can be backtracked.
struct Solver {
    m: usize,
    k_max: usize,
    /// Row `c - 2` (for c = 2..=k_max) holds, for each prefix length i, the start of the last
    /// cluster in an optimal partition of the first i distinct values into c clusters.
    splits: Vec<usize>,
}

impl Solver {
    /// Runs the DP for 1..=k_max clusters, 1 <= k_max <= number of distinct values.
    fn new(data: &Prepared, k_max: usize) -> Self {
        let m = data.distinct.len();
        debug_assert!((1..=m).contains(&k_max));
        let prefix = Prefix::new(data);
        let mut splits = vec![0usize; k_max.saturating_sub(1) * (m + 1)];
        // prev[i]: minimum SSE of the first i distinct values in c - 1 clusters.
        let mut prev: Vec<f64> = (0..=m)
            .map(|i| if i == 0 { f64::INFINITY } else { prefix.cost(0, i) })
            .collect();
        let mut cur = vec![f64::INFINITY; m + 1];
        let mut stack = Vec::new();
        for c in 2..=k_max {
            let split = &mut splits[(c - 2) * (m + 1)..(c - 1) * (m + 1)];
            if c == k_max {
                // The top layer is only ever read at i = m: a plain scan.
                let (value, j) = argmin(&prefix, &prev, c - 1, m - 1, m);
                cur[m] = value;
                split[m] = j;
            } else {
                // Divide and conquer over i in c..=m. The optimal j for i lies in
                // [opt(lo), opt(hi)]; every j >= c - 1 leaves c - 1 values for c - 1 clusters.
                stack.push((c, m, c - 1, m - 1));
                while let Some((lo, hi, opt_lo, opt_hi)) = stack.pop() {
                    let mid = lo + (hi - lo) / 2;
                    let (value, j) = argmin(&prefix, &prev, opt_lo, opt_hi.min(mid - 1), mid);
                    cur[mid] = value;
                    split[mid] = j;
                    if mid > lo {
                        stack.push((lo, mid - 1, opt_lo, j));
                    }
                    if mid < hi {
                        stack.push((mid + 1, hi, j, opt_hi));
                    }
                }
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        Solver { m, k_max, splits }
    }

    /// Cluster bounds (k + 1 indices into the distinct values, from 0 to m) for k clusters.
    fn bounds(&self, k: usize) -> Vec<usize> {
        debug_assert!((1..=self.k_max).contains(&k));
        let mut bounds = vec![0; k + 1];
        let mut i = self.m;
        for c in (1..=k).rev() {
            bounds[c] = i;
            if c >= 2 {
                i = self.splits[(c - 2) * (self.m + 1) + i];
            }
        }
        bounds
    }
}

/// Minimum over j in `j_lo..=j_hi` of `prev[j] + cost(j, i)`, and the smallest j attaining it.
#[inline]
fn argmin(prefix: &Prefix, prev: &[f64], j_lo: usize, j_hi: usize, i: usize) -> (f64, usize) {
    let end = &prefix.sums[i];
    let candidates = prev[j_lo..=j_hi].iter().zip(&prefix.sums[j_lo..=j_hi]);
    let mut best = (f64::INFINITY, j_lo);
    for (j, (&p, start)) in (j_lo..).zip(candidates) {
        let value = p + segment_cost(start, end);
        if value < best.0 {
            best = (value, j);
        }
    }
    best
}

/// [`silhouette_1d`] on already sorted, finite values.
fn silhouette_sorted(sorted: &[f64], clustering: &Clustering) -> f64 {
    let n = sorted.len();
    // cluster_of is monotone in the value, so each cluster is a contiguous block of the sorted
    // values: block c ends after the last value <= boundary c (ties go to the lower cluster).
    let mut blocks = Vec::with_capacity(clustering.centres.len());
    let mut start = 0;
    for b in clustering.boundaries() {
        let end = sorted.partition_point(|&x| x <= b).max(start);
        blocks.push((start, end));
        start = end;
    }
    blocks.push((start, n));
    blocks.retain(|&(s, e)| e > s);
    if blocks.len() < 2 {
        return 0.0;
    }
    // Silhouettes are ratios of distances, so values can be scaled (exactly, by a power of two)
    // to keep differences of huge values finite.
    let inverse_scale = 1.0 / power_of_two_scale(sorted);
    let scaled: Vec<f64> = sorted.iter().map(|&x| x * inverse_scale).collect();
    let sorted = &scaled[..];
    // Mean of each block, relative to its first value for accuracy.
    let means: Vec<f64> = blocks
        .iter()
        .map(|&(s, e)| {
            let base = sorted[s];
            base + sorted[s..e].iter().map(|&x| x - base).sum::<f64>() / (e - s) as f64
        })
        .collect();
    let mut total = 0.0;
    let mut local = Vec::new();
    for (c, &(s, e)) in blocks.iter().enumerate() {
        let len = e - s;
        if len == 1 {
            continue; // a point alone in its cluster scores 0
        }
        // Prefix sums of the block's values relative to its first value.
        let base = sorted[s];
        local.clear();
        local.push(0.0);
        let mut acc = 0.0;
        for &x in &sorted[s..e] {
            acc += x - base;
            local.push(acc);
        }
        for (t, &x) in sorted[s..e].iter().enumerate() {
            let r = x - base;
            let (below, above) = (t as f64, (len - t - 1) as f64);
            let own = r * below - local[t] + (local[len] - local[t + 1]) - r * above;
            let a = (own / (len - 1) as f64).max(0.0);
            // The nearest other cluster is an adjacent block: every value of a block below is
            // <= x, so its mean distance to x is x - mean, smallest for the highest block below.
            let mut b = f64::INFINITY;
            if c > 0 {
                b = b.min(x - means[c - 1]);
            }
            if c + 1 < blocks.len() {
                b = b.min(means[c + 1] - x);
            }
            let b = b.max(0.0);
            let denom = a.max(b);
            if denom > 0.0 {
                total += (b - a) / denom;
            }
        }
    }
    total / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator (Knuth's MMIX LCG), so tests need no extra crates.
    struct Lcg(u64);

    impl Lcg {
        fn next_u64(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0
        }

        /// Uniform in [0, 1).
        fn unit(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }

        /// Uniform in 0..n.
        fn below(&mut self, n: u64) -> u64 {
            (self.next_u64() >> 33) % n
        }
    }

    /// 1 to `max_n` random values: sometimes small integers (many duplicates), sometimes reals.
    fn random_values(rng: &mut Lcg, max_n: u64) -> Vec<f64> {
        let n = 1 + rng.below(max_n);
        let integers = rng.below(2) == 0;
        (0..n)
            .map(|_| {
                if integers {
                    rng.below(8) as f64
                } else {
                    (rng.unit() * 1000.0).round() / 10.0 - 20.0
                }
            })
            .collect()
    }

    fn sse_of(group: &[f64]) -> f64 {
        let mean = group.iter().sum::<f64>() / group.len() as f64;
        group.iter().map(|x| (x - mean).powi(2)).sum()
    }

    /// Minimum SSE over every way to cut the sorted values into exactly k contiguous groups.
    fn brute_force_contiguous(values: &[f64], k: usize) -> f64 {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mut best = f64::INFINITY;
        // Each subset of the n - 1 gaps with k - 1 members is a partition.
        for mask in 0u32..(1 << (n - 1)) {
            if mask.count_ones() as usize != k - 1 {
                continue;
            }
            let mut start = 0;
            let mut total = 0.0;
            for gap in 0..n - 1 {
                if mask & (1 << gap) != 0 {
                    total += sse_of(&sorted[start..gap + 1]);
                    start = gap + 1;
                }
            }
            total += sse_of(&sorted[start..]);
            best = best.min(total);
        }
        best
    }

    /// Rousseeuw's silhouette straight from the definition, O(n²), for any labelling.
    fn naive_silhouette(values: &[f64], labels: &[usize]) -> f64 {
        let mut present: Vec<usize> = labels.to_vec();
        present.sort_unstable();
        present.dedup();
        if present.len() < 2 {
            return 0.0;
        }
        let mean_distance = |x: f64, label: usize, skip: Option<usize>| {
            let (mut sum, mut count) = (0.0, 0usize);
            for (j, (&y, &l)) in values.iter().zip(labels).enumerate() {
                if l == label && Some(j) != skip {
                    sum += (x - y).abs();
                    count += 1;
                }
            }
            (sum, count)
        };
        let mut total = 0.0;
        for (i, (&x, &l)) in values.iter().zip(labels).enumerate() {
            let (own_sum, own_count) = mean_distance(x, l, Some(i));
            if own_count == 0 {
                continue;
            }
            let a = own_sum / own_count as f64;
            let b = present
                .iter()
                .filter(|&&other| other != l)
                .map(|&other| {
                    let (sum, count) = mean_distance(x, other, None);
                    sum / count as f64
                })
                .fold(f64::INFINITY, f64::min);
            if a.max(b) > 0.0 {
                total += (b - a) / a.max(b);
            }
        }
        total / values.len() as f64
    }

    fn labels(values: &[f64], clustering: &Clustering) -> Vec<usize> {
        values.iter().map(|&v| clustering.cluster_of(v)).collect()
    }

    fn distinct_count(values: &[f64]) -> usize {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        sorted.len()
    }

    fn assert_close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance * (1.0 + expected.abs()),
            "{actual} != {expected} (tolerance {tolerance})"
        );
    }

    /// The invariants every clustering of `values` must satisfy.
    fn assert_well_formed(values: &[f64], clustering: &Clustering) {
        let k = clustering.k;
        assert_eq!(clustering.centres.len(), k);
        assert_eq!(clustering.ranges.len(), k);
        assert_eq!(clustering.sizes.len(), k);
        assert_eq!(clustering.sizes.iter().sum::<usize>(), values.len());
        for c in 0..k {
            let (lo, hi) = clustering.ranges[c];
            assert!(lo <= clustering.centres[c] && clustering.centres[c] <= hi);
            if c > 0 {
                // Strictly: equal values are never split between clusters.
                assert!(clustering.ranges[c - 1].1 < lo, "{clustering:?}");
            }
            let members: Vec<f64> = values.iter().copied().filter(|&v| lo <= v && v <= hi).collect();
            assert_eq!(members.len(), clustering.sizes[c]);
            assert_close(
                clustering.centres[c],
                members.iter().sum::<f64>() / members.len() as f64,
                1e-12,
            );
        }
        let sse: f64 = clustering
            .ranges
            .iter()
            .map(|&(lo, hi)| {
                let members: Vec<f64> = values.iter().copied().filter(|&v| lo <= v && v <= hi).collect();
                sse_of(&members)
            })
            .sum();
        assert_close(clustering.sse, sse, 1e-9);
        // Every training value goes back to the cluster whose range holds it.
        for &v in values {
            let (lo, hi) = clustering.ranges[clustering.cluster_of(v)];
            assert!(lo <= v && v <= hi, "{v} outside {lo}..={hi}");
        }
    }

    #[test]
    fn dp_sse_equals_the_brute_force_minimum_over_all_contiguous_partitions() {
        let mut rng = Lcg(2024);
        for _ in 0..2000 {
            let values = random_values(&mut rng, 10);
            let k = 1 + rng.below(4) as usize;
            let clustering = kmeans_1d(&values, k).unwrap();
            assert_eq!(clustering.k, k.min(distinct_count(&values)));
            assert_well_formed(&values, &clustering);
            let brute = brute_force_contiguous(&values, clustering.k);
            assert_close(clustering.sse, brute, 1e-9);
        }
    }

    #[test]
    fn silhouette_equals_a_naive_quadratic_computation_on_random_inputs() {
        let mut rng = Lcg(7);
        for _ in 0..2000 {
            let values = random_values(&mut rng, 10);
            let k = 1 + rng.below(4) as usize;
            let clustering = kmeans_1d(&values, k).unwrap();
            let fast = silhouette_1d(&values, &clustering);
            let naive = naive_silhouette(&values, &labels(&values, &clustering));
            assert_close(fast, naive, 1e-9);
            assert!((-1.0..=1.0).contains(&fast));
        }
    }

    #[test]
    fn silhouette_of_values_outside_the_training_set_matches_the_naive_computation() {
        let mut rng = Lcg(99);
        for _ in 0..500 {
            let train = random_values(&mut rng, 10);
            let clustering = kmeans_1d(&train, 1 + rng.below(4) as usize).unwrap();
            let other: Vec<f64> = (0..1 + rng.below(12))
                .map(|_| rng.unit() * 140.0 - 30.0)
                .collect();
            let fast = silhouette_1d(&other, &clustering);
            let naive = naive_silhouette(&other, &labels(&other, &clustering));
            assert_close(fast, naive, 1e-9);
        }
    }

    /// Textbook O(k·n²) DP over the sorted values, with SSE of each segment from scratch.
    fn reference_dp(values: &[f64], k: usize) -> f64 {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mut prev: Vec<f64> = (0..=n)
            .map(|i| if i == 0 { 0.0 } else { f64::INFINITY })
            .collect();
        for _ in 0..k {
            let mut cur = vec![f64::INFINITY; n + 1];
            for (i, best) in cur.iter_mut().enumerate().skip(1) {
                // Walk j down from i - 1 keeping a running mean and SSE (Welford) of j..i.
                let (mut mean, mut m2) = (0.0, 0.0);
                for j in (0..i).rev() {
                    let count = (i - j) as f64;
                    let delta = sorted[j] - mean;
                    mean += delta / count;
                    m2 += delta * (sorted[j] - mean);
                    *best = best.min(prev[j] + m2);
                }
            }
            prev = cur;
        }
        prev[n]
    }

    #[test]
    fn divide_and_conquer_dp_matches_the_quadratic_dp_on_medium_inputs() {
        let mut rng = Lcg(123);
        for round in 0..40 {
            let n = 50 + rng.below(250) as usize;
            let values: Vec<f64> = if round % 2 == 0 {
                (0..n).map(|_| (rng.unit() * 60.0).floor()).collect()
            } else {
                (0..n).map(|_| (rng.unit() * 4.0).exp() * 1000.0).collect()
            };
            for k in [2, 3, 5, 8] {
                let clustering = kmeans_1d(&values, k).unwrap();
                assert_well_formed(&values, &clustering);
                let expected = reference_dp(&values, clustering.k);
                assert_close(clustering.sse, expected, 1e-9);
            }
        }
    }

    #[test]
    fn dp_is_never_beaten_by_any_assignment_even_non_contiguous_ones() {
        let mut rng = Lcg(31337);
        for _ in 0..300 {
            let values = random_values(&mut rng, 6);
            let k = 1 + rng.below(4) as usize;
            let clustering = kmeans_1d(&values, k).unwrap();
            let mut best = f64::INFINITY;
            for code in 0..k.pow(values.len() as u32) {
                let (mut code, mut groups) = (code, vec![Vec::new(); k]);
                for &v in &values {
                    groups[code % k].push(v);
                    code /= k;
                }
                let total: f64 = groups.iter().filter(|g| !g.is_empty()).map(|g| sse_of(g)).sum();
                best = best.min(total);
            }
            assert_close(clustering.sse, best, 1e-9);
        }
    }

    #[test]
    fn hand_computed_example_has_centres_2_and_11_sse_4_and_silhouette_1837_over_2160() {
        // values [1, 2, 3, 10, 11, 12], k = 2 → clusters {1, 2, 3} and {10, 11, 12}.
        // Centres 2 and 11; SSE = (1 + 0 + 1) + (1 + 0 + 1) = 4; boundary (2 + 11) / 2 = 6.5.
        // Silhouette, s = (b - a) / max(a, b), a = mean distance to the own cluster's others,
        // b = mean distance to the other cluster:
        //   x = 1: a = (1 + 2) / 2 = 1.5, b = (9 + 10 + 11) / 3 = 10, s = 8.5 / 10 = 17/20
        //   x = 2: a = (1 + 1) / 2 = 1,   b = (8 + 9 + 10) / 3 = 9,   s = 8 / 9
        //   x = 3: a = (2 + 1) / 2 = 1.5, b = (7 + 8 + 9) / 3 = 8,    s = 6.5 / 8 = 13/16
        //   12, 11, 10 mirror 1, 2, 3.
        // Mean = (17/20 + 8/9 + 13/16) / 3 = (612 + 640 + 585) / 720 / 3 = 1837/2160 ≈ 0.850463.
        let values = [10.0, 1.0, 12.0, 3.0, 11.0, 2.0];
        let clustering = kmeans_1d(&values, 2).unwrap();
        assert_eq!(
            clustering,
            Clustering {
                k: 2,
                centres: vec![2.0, 11.0],
                ranges: vec![(1.0, 3.0), (10.0, 12.0)],
                sizes: vec![3, 3],
                sse: 4.0,
            }
        );
        assert_eq!(clustering.boundaries(), vec![6.5]);
        assert_close(silhouette_1d(&values, &clustering), 1837.0 / 2160.0, 1e-15);
        // k = 1: centre 6.5, SSE = 2 * (5.5² + 4.5² + 3.5²) = 2 * 62.75 = 125.5, silhouette 0.
        let one = kmeans_1d(&values, 1).unwrap();
        assert_eq!((one.centres.clone(), one.sse), (vec![6.5], 125.5));
        assert_eq!(silhouette_1d(&values, &one), 0.0);
    }

    #[test]
    fn the_hand_computed_example_survives_a_large_common_offset() {
        // Same example shifted by 1e9: "sum of squares − sum² / n" would lose everything
        // without the median shift.
        let values: Vec<f64> = [1.0, 2.0, 3.0, 10.0, 11.0, 12.0]
            .iter()
            .map(|v| v + 1e9)
            .collect();
        let clustering = kmeans_1d(&values, 2).unwrap();
        assert_eq!(clustering.centres, vec![1e9 + 2.0, 1e9 + 11.0]);
        assert_eq!(clustering.sse, 4.0);
        assert_close(silhouette_1d(&values, &clustering), 1837.0 / 2160.0, 1e-12);
    }

    #[test]
    fn huge_and_tiny_magnitudes_neither_overflow_nor_underflow() {
        let huge = kmeans_1d(&[-1e300, -0.9e300, 1e300, 1.1e300], 2).unwrap();
        assert_eq!(huge.sizes, vec![2, 2]);
        assert_close(huge.centres[0], -0.95e300, 1e-15);
        assert_close(huge.centres[1], 1.05e300, 1e-15);
        // Squares of 1e-200 underflow to 0 without the power-of-two scaling.
        let tiny = kmeans_1d(&[1e-200, 2e-200, 10e-200, 11e-200], 2).unwrap();
        assert_eq!(tiny.ranges, vec![(1e-200, 2e-200), (10e-200, 11e-200)]);
        // (The SSE itself, 1e-400, is below the smallest f64 and honestly reported as 0.)
        assert_eq!(tiny.sse, 0.0);
    }

    #[test]
    fn silhouette_of_values_near_the_f64_limit_does_not_overflow() {
        // Differences such as 1e308 - (-1e308) overflow; the silhouette must not care.
        // For ±{10, 11, 12}: s(12) = (23 - 1.5) / 23, s(11) = (22 - 1) / 22, s(10) = (21 - 1.5) / 21.
        let expected = (21.5 / 23.0 + 21.0 / 22.0 + 19.5 / 21.0) / 3.0;
        let small = [-12.0, -11.0, -10.0, 10.0, 11.0, 12.0];
        let huge: Vec<f64> = small.iter().map(|v| v * 1e307).collect();
        for values in [&small[..], &huge[..]] {
            let clustering = kmeans_1d(values, 2).unwrap();
            assert_eq!(clustering.sizes, vec![3, 3]);
            assert_close(silhouette_1d(values, &clustering), expected, 1e-12);
        }
    }

    #[test]
    fn k_is_clipped_to_the_number_of_distinct_values() {
        let clustering = kmeans_1d(&[5.0, 5.0, 5.0], 3).unwrap();
        assert_eq!(clustering.k, 1);
        assert_eq!(clustering.centres, vec![5.0]);
        assert_eq!(clustering.sizes, vec![3]);
        assert_eq!(clustering.sse, 0.0);
        assert!(clustering.boundaries().is_empty());
        assert_eq!(silhouette_1d(&[5.0, 5.0, 5.0], &clustering), 0.0);

        let values = [1.0, 1.0, 4.0, 4.0, 4.0, 9.0];
        let clustering = kmeans_1d(&values, 10).unwrap();
        assert_eq!(clustering.k, 3);
        assert_eq!(clustering.sizes, vec![2, 3, 1]);
        assert_eq!(clustering.sse, 0.0);
        // Duplicates sit at distance 0 from their cluster (s = 1); the singleton scores 0.
        assert_close(silhouette_1d(&values, &clustering), 5.0 / 6.0, 1e-15);
    }

    #[test]
    fn negative_zero_and_zero_count_as_one_value() {
        let clustering = kmeans_1d(&[0.0, -0.0, 3.0], 3).unwrap();
        assert_eq!(clustering.k, 2);
        assert_eq!(clustering.sizes, vec![2, 1]);
    }

    // Seed 002, Table 3: total purchases (IDR) of 73 Maniak Mainan customers in February 2022,
    // in table order (customer 01 first).
    #[rustfmt::skip]
    const CUSTOMER_TOTALS_2022_02: [f64; 73] = [
        /* 01–06 */ 1_800_000.0, 360_000.0, 1_500_000.0, 750_000.0, 350_000.0, 750_000.0,
        /* 07–12 */ 600_000.0, 1_100_000.0, 350_000.0, 350_000.0, 720_000.0, 7_330_000.0,
        /* 13–18 */ 400_000.0, 2_570_000.0, 400_000.0, 360_000.0, 620_000.0, 2_350_000.0,
        /* 19–24 */ 600_000.0, 3_000_000.0, 670_000.0, 1_600_000.0, 360_000.0, 2_680_000.0,
        /* 25–30 */ 380_000.0, 440_000.0, 1_220_000.0, 320_000.0, 280_000.0, 1_400_000.0,
        /* 31–36 */ 3_000_000.0, 360_000.0, 1_000_000.0, 280_000.0, 320_000.0, 215_000.0,
        /* 37–42 */ 200_000.0, 300_000.0, 360_000.0, 1_540_000.0, 350_000.0, 390_000.0,
        /* 43–48 */ 350_000.0, 2_000_000.0, 100_000.0, 200_000.0, 3_000_000.0, 1_800_000.0,
        /* 49–54 */ 550_000.0, 1_650_000.0, 2_100_000.0, 400_000.0, 300_000.0, 100_000.0,
        /* 55–60 */ 480_000.0, 780_000.0, 1_910_000.0, 360_000.0, 7_900_000.0, 700_000.0,
        /* 61–66 */ 2_800_000.0, 500_000.0, 840_000.0, 900_000.0, 200_000.0, 200_000.0,
        /* 67–72 */ 200_000.0, 440_000.0, 350_000.0, 3_650_000.0, 5_600_000.0, 380_000.0,
        /* 73–73 */ 780_000.0,
    ];

    #[test]
    fn seed_002_optimal_tiers_beat_the_papers_equal_width_bins() {
        let values = &CUSTOMER_TOTALS_2022_02;
        let optimal = kmeans_1d(values, 4).unwrap();
        assert_well_formed(values, &optimal);

        // Seed 002's "k-means": fixed centres, each customer to the nearest (ties to the lower).
        let fixed = [1_560_000.0, 3_120_000.0, 4_680_000.0, 6_240_000.0];
        let equal_width: Vec<usize> = values
            .iter()
            .map(|&x| {
                (0..fixed.len())
                    .min_by(|&a, &b| (x - fixed[a]).abs().total_cmp(&(x - fixed[b]).abs()))
                    .unwrap()
            })
            .collect();
        let sizes: Vec<usize> = (0..4)
            .map(|c| equal_width.iter().filter(|&&l| l == c).count())
            .collect();
        assert_eq!(sizes, vec![62, 8, 0, 3]); // the 4,680,000 tier is empty
        let sse_to_fixed_centres: f64 = values
            .iter()
            .zip(&equal_width)
            .map(|(&x, &l)| (x - fixed[l]).powi(2))
            .sum();
        let sse_to_bin_means: f64 = (0..4)
            .map(|c| {
                let members: Vec<f64> = values
                    .iter()
                    .zip(&equal_width)
                    .filter(|&(_, &l)| l == c)
                    .map(|(&x, _)| x)
                    .collect();
                if members.is_empty() {
                    0.0
                } else {
                    sse_of(&members)
                }
            })
            .sum();
        let equal_width_silhouette = naive_silhouette(values, &equal_width);

        // Optimal tiers: 100,000–1,000,000 (50 customers), 1,100,000–2,100,000 (12),
        // 2,350,000–3,650,000 (8), 5,600,000–7,900,000 (3).
        assert_eq!(
            optimal.ranges,
            vec![
                (100_000.0, 1_000_000.0),
                (1_100_000.0, 2_100_000.0),
                (2_350_000.0, 3_650_000.0),
                (5_600_000.0, 7_900_000.0),
            ]
        );
        assert_eq!(optimal.sizes, vec![50, 12, 8, 3]);
        let silhouette = silhouette_1d(values, &optimal);
        assert_close(
            silhouette,
            naive_silhouette(values, &labels(values, &optimal)),
            1e-12,
        );

        // Numbers (also checked against an independent O(k·n²) DP in Python):
        //   optimal k = 4:  SSE 7,149,518,666,666.7   silhouette 0.72654
        //   equal width:    SSE 20,994,569,086,021.5 around the bin means
        //                   (72,000,325,000,000 around the paper's fixed centres),
        //                   silhouette 0.69579 (3 non-empty bins)
        //   paper reports silhouette 0.689 for its tiers.
        assert_close(optimal.sse, 7_149_518_666_666.667, 1e-12);
        assert_close(sse_to_bin_means, 20_994_569_086_021.5, 1e-12);
        assert_close(sse_to_fixed_centres, 72_000_325_000_000.0, 1e-12);
        assert_close(silhouette, 0.726_539_278_424_048, 1e-12);
        assert_close(equal_width_silhouette, 0.695_791_449_348_075, 1e-12);
        assert!(optimal.sse <= sse_to_bin_means && sse_to_bin_means <= sse_to_fixed_centres);
        assert!(silhouette > equal_width_silhouette);
    }

    #[test]
    fn empty_input_is_an_error() {
        assert_eq!(kmeans_1d(&[], 3), Err(KMeansError::Empty));
        assert_eq!(best_k_by_silhouette(&[], 2..=5), Err(KMeansError::Empty));
    }

    #[test]
    fn k_zero_is_an_error() {
        assert_eq!(kmeans_1d(&[1.0, 2.0], 0), Err(KMeansError::ZeroK));
        assert_eq!(best_k_by_silhouette(&[1.0, 2.0], 0..=3), Err(KMeansError::ZeroK));
        assert_eq!(KMeansError::ZeroK.to_string(), "k must be at least 1, got 0");
    }

    #[test]
    #[allow(clippy::reversed_empty_ranges)]
    fn an_empty_range_of_k_is_an_error() {
        let err = best_k_by_silhouette(&[1.0, 2.0], 5..=2).unwrap_err();
        assert_eq!(err, KMeansError::EmptyKRange { start: 5, end: 2 });
        assert_eq!(err.to_string(), "empty range of k: 5..=2");
    }

    #[test]
    fn nan_is_an_error_that_quotes_the_value_and_its_index() {
        let err = kmeans_1d(&[1.0, 2.0, f64::NAN, 4.0], 2).unwrap_err();
        assert!(matches!(err, KMeansError::NonFinite { index: 2, value } if value.is_nan()));
        assert_eq!(err.to_string(), "value NaN at index 2 is not finite");
        let err = best_k_by_silhouette(&[f64::NEG_INFINITY], 1..=2).unwrap_err();
        assert_eq!(err.to_string(), "value -inf at index 0 is not finite");
        assert!(silhouette_1d(&[1.0, f64::NAN], &kmeans_1d(&[1.0, 2.0], 2).unwrap()).is_nan());
    }

    #[test]
    fn cluster_of_sends_values_between_and_outside_the_ranges_to_the_nearest_centre() {
        // Centres 2, 11, 31; boundaries 6.5 and 21.
        let values = [1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 30.0, 31.0, 32.0];
        let clustering = kmeans_1d(&values, 3).unwrap();
        assert_eq!(clustering.centres, vec![2.0, 11.0, 31.0]);
        assert_eq!(clustering.boundaries(), vec![6.5, 21.0]);
        let cases = [
            (f64::NEG_INFINITY, 0),
            (-1e12, 0),
            (0.0, 0),
            (2.0, 0),
            (6.4, 0),
            (6.5, 0), // exactly on the boundary: the lower cluster
            (6.6, 1),
            (9.0, 1),
            (15.0, 1),
            (21.0, 1),
            (21.000_001, 2),
            (40.0, 2),
            (1e12, 2),
            (f64::INFINITY, 2),
            (f64::NAN, 0),
        ];
        for (value, expected) in cases {
            assert_eq!(clustering.cluster_of(value), expected, "value {value}");
        }
        // A single cluster takes everything.
        let one = kmeans_1d(&values, 1).unwrap();
        assert!(cases.iter().all(|&(v, _)| one.cluster_of(v) == 0));
    }

    #[test]
    fn cluster_of_agrees_with_the_nearest_centre_on_random_values() {
        let mut rng = Lcg(5);
        for _ in 0..300 {
            let values = random_values(&mut rng, 10);
            let clustering = kmeans_1d(&values, 1 + rng.below(4) as usize).unwrap();
            for _ in 0..20 {
                let v = rng.unit() * 200.0 - 50.0;
                let nearest = (0..clustering.k)
                    .min_by(|&a, &b| {
                        let (da, db) = (clustering.centres[a] - v, clustering.centres[b] - v);
                        da.abs().total_cmp(&db.abs())
                    })
                    .unwrap();
                assert_eq!(clustering.cluster_of(v), nearest, "{v} in {clustering:?}");
            }
        }
    }

    #[test]
    fn best_k_agrees_with_clustering_each_k_separately() {
        let mut rng = Lcg(11);
        for _ in 0..300 {
            let values = random_values(&mut rng, 10);
            let (lo, hi) = (1 + rng.below(3) as usize, 1 + rng.below(6) as usize);
            let (lo, hi) = (lo.min(hi), lo.max(hi));
            let (clustering, score) = best_k_by_silhouette(&values, lo..=hi).unwrap();
            let mut expected: Option<(Clustering, f64)> = None;
            for k in lo..=hi {
                let c = kmeans_1d(&values, k).unwrap();
                let s = silhouette_1d(&values, &c);
                if expected.as_ref().is_none_or(|(_, best)| s > *best) {
                    expected = Some((c, s));
                }
            }
            let (expected, expected_score) = expected.unwrap();
            assert_eq!(clustering.k, expected.k);
            assert_close(clustering.sse, expected.sse, 1e-9);
            assert_close(score, expected_score, 1e-12);
            assert_close(score, silhouette_1d(&values, &clustering), 1e-12);
        }
    }

    #[test]
    fn best_k_prefers_the_smaller_k_on_ties() {
        // Two groups of duplicates: k = 2 scores 1 and larger k clip to 2, tying with it.
        let (clustering, score) = best_k_by_silhouette(&[1.0, 1.0, 1.0, 5.0, 5.0, 5.0], 1..=6).unwrap();
        assert_eq!((clustering.k, score), (2, 1.0));
        // Every k clipped: 3..=9 on two distinct values gives k = 2.
        let (clustering, _) = best_k_by_silhouette(&[1.0, 5.0, 5.0], 3..=9).unwrap();
        assert_eq!(clustering.k, 2);
    }

    #[test]
    fn seed_002_customers_pick_k_by_silhouette() {
        let (clustering, score) = best_k_by_silhouette(&CUSTOMER_TOTALS_2022_02, 2..=8).unwrap();
        // Silhouette of the optimum per k (matches an independent Python computation):
        // k = 2: 0.8300 (70 + 3 customers), 3: 0.7501, 4: 0.7265, 5: 0.7223, 6: 0.6588,
        // 7: 0.6486, 8: 0.6340. Silhouette alone would pick 2 tiers, not the paper's 4.
        assert_eq!(clustering.sizes, vec![70, 3]);
        assert_close(score, 0.830_023_002_919_345, 1e-12);
    }

    #[test]
    fn clustering_round_trips_through_json() {
        let clustering = kmeans_1d(&CUSTOMER_TOTALS_2022_02, 4).unwrap();
        let json = serde_json::to_string(&clustering).unwrap();
        assert_eq!(serde_json::from_str::<Clustering>(&json).unwrap(), clustering);
    }

    /// Log-normal-ish prices (median about 250,000 IDR), whole rupiah, deterministic.
    fn lognormal_prices(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Lcg(seed);
        (0..n)
            .map(|_| {
                // Irwin–Hall: the sum of 12 uniforms minus 6 is close to a standard normal.
                let z: f64 = (0..12).map(|_| rng.unit()).sum::<f64>() - 6.0;
                (250_000f64.ln() + 1.1 * z).exp().round()
            })
            .collect()
    }

    #[test]
    fn optimal_sse_decreases_with_k_on_many_prices() {
        let prices = lognormal_prices(5_000, 3);
        let mut last = f64::INFINITY;
        for k in 1..=12 {
            let clustering = kmeans_1d(&prices, k).unwrap();
            assert_well_formed(&prices, &clustering);
            assert!(clustering.sse <= last, "k = {k}");
            last = clustering.sse;
        }
    }

    /// Run with `cargo test --release --lib recommend::kmeans -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing; run in release mode"]
    fn timing_100k_prices_into_20_clusters_takes_well_under_a_second() {
        use std::time::{Duration, Instant};
        let prices = lognormal_prices(100_000, 42);
        let median = |mut times: Vec<Duration>| {
            times.sort();
            times[times.len() / 2]
        };
        let (mut fits, mut silhouettes, mut best_ks) = (Vec::new(), Vec::new(), Vec::new());
        let mut clustering = None;
        for _ in 0..11 {
            let start = Instant::now();
            clustering = Some(kmeans_1d(&prices, 20).unwrap());
            fits.push(start.elapsed());
        }
        let clustering = clustering.unwrap();
        for _ in 0..11 {
            let start = Instant::now();
            std::hint::black_box(silhouette_1d(&prices, &clustering));
            silhouettes.push(start.elapsed());
        }
        for _ in 0..3 {
            let start = Instant::now();
            std::hint::black_box(best_k_by_silhouette(&prices, 2..=20).unwrap());
            best_ks.push(start.elapsed());
        }
        let (fit, silhouette, best_k) = (median(fits), median(silhouettes), median(best_ks));
        println!(
            "n = 100,000 ({} distinct), k = 20: kmeans_1d median {fit:?}, silhouette_1d median \
             {silhouette:?}, best_k_by_silhouette(2..=20) median {best_k:?}; sse {:e}, score {}",
            distinct_count(&prices),
            clustering.sse,
            silhouette_1d(&prices, &clustering),
        );
        if !cfg!(debug_assertions) {
            assert!(fit < Duration::from_millis(500), "{fit:?}");
        }
    }
}
