//! The co-purchase model: which products are bought in the same basket, item by item.
//!
//! From the paid baskets (distinct catalogue products per order) it counts, for every pair of
//! products, the baskets that hold both — `c(i, j)` — and for every product the baskets that
//! hold it — `n(i)` — out of `N` baskets. From those counts each product keeps its `K` best
//! neighbours (K = `recommend.neighbours`, default 50) with everything a list or a reason
//! needs (plus, beyond K, the K/4 partners with the highest confidence that the K best by
//! score left out: a popular partner has a modest cosine with everything, yet it is what most
//! baskets add):
//!
//! | figure | formula | meaning |
//! |---|---|---|
//! | `count` | c(i, j) | baskets with both |
//! | `cosine` | c / √(n(i)·n(j)) | plain item–item cosine on co-occurrence counts (the classic item-kNN) |
//! | `score` | cosine · c / (c + λ) | the cosine *shrunk* toward 0 when it rests on few baskets (λ = `co_purchase_shrink`, default 5): two products that met once in two baskets have cosine 0.5 but say little |
//! | `confidence` | c / n(i) | share of the baskets with i that also hold j |
//! | `confidence_low` | Wilson lower bound (95 %) of that share | how sure the share is |
//! | `lift` | confidence / (n(j)/N) | how much more often j joins i than a random basket |
//!
//! Neighbours are ranked by `score` (`co_purchase_similarity = "cosine"`, the default) or by
//! the lower bound of the lift, `confidence_low / (n(j)/N)`, among pairs met at least
//! `pair_min_count` times (`"lift"`). Through the blend on the synthetic shops the two are level
//! (README "Recommendations"); the cosine is the default because it needs no minimum count.
//!
//! **Cost.** One pass builds the product → baskets index (compressed rows, 4 bytes per order
//! line); then each product walks its baskets and counts its partners in a dense counter that
//! is reset by the list of touched slots, so the work is Σ over baskets of (size)² and the
//! extra memory one counter per thread plus the K-lists. A basket of more than
//! [`MAX_BASKET`] distinct products (a wholesale order) counts only its first [`MAX_BASKET`]
//! products, so a single huge order cannot make the pass quadratic in the catalogue.
//!
//! **Repurchase.** Consumables are bought again. For every product the model keeps how many of
//! its buyers bought it in more than one order, and the median number of days between two
//! orders of it by the same customer (its usual interval); the blend
//! ([`super::blend`]) reads them to tell when a customer's own product is due again.

use serde::{Deserialize, Serialize};

use super::features::in_parallel;

/// Distinct products of one basket counted at most; the rest of a larger basket is ignored.
pub const MAX_BASKET: usize = 200;
/// z of the two-sided 95 % Wilson interval used for `confidence_low`.
const WILSON_Z: f64 = 1.96;

pub use crate::config::weights::CoSimilarity;

/// What the build needs to know.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoPurchaseSettings {
    /// Neighbours kept per product.
    pub k: usize,
    pub similarity: CoSimilarity,
    /// λ of the shrinkage c / (c + λ); 0 leaves the cosine as it is.
    pub shrink: f64,
    /// With `Lift`: pairs met fewer times are not neighbours.
    pub min_count: u32,
}

impl Default for CoPurchaseSettings {
    fn default() -> Self {
        CoPurchaseSettings {
            k: 50,
            similarity: CoSimilarity::Cosine,
            shrink: 5.0,
            min_count: 2,
        }
    }
}

/// One product bought together with another: 16 bytes, the rest of the figures derived from
/// the counts ([`CoPurchase::cosine`], [`CoPurchase::lift`], [`CoPurchase::confidence_low`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CoNeighbour {
    pub index: u32,
    /// Baskets holding both.
    pub count: u32,
    /// The ranking score (shrunk cosine, or the lift's lower bound).
    pub score: f32,
    /// Share of the baskets with the product that also hold this one.
    pub confidence: f32,
}

/// How a product is bought again.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RepeatStats {
    /// Customers who bought it.
    pub buyers: u32,
    /// Of those, customers who bought it in two or more orders.
    pub repeat_buyers: u32,
    /// Median days between two orders of it by one customer; `None` without repeats.
    pub interval_days: Option<f32>,
}

/// The co-purchase neighbours of every product, and its repurchase figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CoPurchase {
    /// Baskets counted (paid orders with at least one catalogue product).
    pub baskets: u32,
    /// Baskets holding each product, in catalogue order.
    pub item_baskets: Vec<u32>,
    /// Best first, by `score`; ties by index.
    pub neighbours: Vec<Vec<CoNeighbour>>,
    /// Per product, in catalogue order.
    pub repeats: Vec<RepeatStats>,
}

impl CoPurchase {
    /// c / √(n(i)·n(j)) for product `i` and its neighbour `n`.
    pub fn cosine(&self, i: usize, n: &CoNeighbour) -> f64 {
        let (ni, nj) = (self.item_baskets[i], self.item_baskets[n.index as usize]);
        f64::from(n.count) / (f64::from(ni) * f64::from(nj)).sqrt()
    }

    /// The confidence over the share of all baskets that hold the neighbour.
    pub fn lift(&self, n: &CoNeighbour) -> f64 {
        let nj = f64::from(self.item_baskets[n.index as usize]);
        f64::from(n.confidence) * f64::from(self.baskets.max(1)) / nj.max(1.0)
    }

    /// The 95% Wilson lower bound of the confidence of `i` → `n`.
    pub fn confidence_low(&self, i: usize, n: &CoNeighbour) -> f64 {
        wilson_low(n.count, self.item_baskets[i])
    }
}

/// Wilson score interval's lower end for `hits` of `n`.
pub fn wilson_low(hits: u32, n: u32) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    let p = f64::from(hits) / n;
    let z2 = WILSON_Z * WILSON_Z;
    let centre = p + z2 / (2.0 * n);
    let margin = WILSON_Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - margin) / (1.0 + z2 / n)).max(0.0)
}

/// Products → the baskets holding them, as compressed rows.
struct Postings {
    start: Vec<u32>,
    baskets: Vec<u32>,
}

impl Postings {
    fn of(&self, item: usize) -> &[u32] {
        &self.baskets[self.start[item] as usize..self.start[item + 1] as usize]
    }
}

fn postings(baskets: &[Vec<u32>], n_products: usize) -> Postings {
    let mut start = vec![0u32; n_products + 1];
    for b in baskets {
        for &i in b.iter().take(MAX_BASKET) {
            start[i as usize + 1] += 1;
        }
    }
    for i in 0..n_products {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut out = vec![0u32; start[n_products] as usize];
    for (bi, b) in baskets.iter().enumerate() {
        for &i in b.iter().take(MAX_BASKET) {
            out[fill[i as usize] as usize] = bi as u32;
            fill[i as usize] += 1;
        }
    }
    Postings { start, baskets: out }
}

/// Per-thread counter of partners, reset through the list of slots it touched.
struct Counter {
    counts: Vec<u32>,
    touched: Vec<u32>,
}

/// Builds the model from paid baskets (each sorted and distinct, indices below `n_products`).
pub fn build_co_purchase(baskets: &[Vec<u32>], n_products: usize, s: &CoPurchaseSettings) -> CoPurchase {
    let post = postings(baskets, n_products);
    let item_baskets: Vec<u32> = (0..n_products).map(|i| post.of(i).len() as u32).collect();
    let total = baskets.iter().filter(|b| !b.is_empty()).count() as u32;
    let neighbours = in_parallel(
        n_products,
        || Counter {
            counts: vec![0; n_products],
            touched: Vec::new(),
        },
        |ctr, i| neighbours_of(i, baskets, &post, &item_baskets, total, s, ctr),
    );
    CoPurchase {
        baskets: total,
        item_baskets,
        neighbours,
        repeats: Vec::new(),
    }
}

fn neighbours_of(
    i: usize,
    baskets: &[Vec<u32>],
    post: &Postings,
    item_baskets: &[u32],
    total: u32,
    s: &CoPurchaseSettings,
    ctr: &mut Counter,
) -> Vec<CoNeighbour> {
    for &b in post.of(i) {
        for &j in baskets[b as usize].iter().take(MAX_BASKET) {
            if j as usize == i {
                continue;
            }
            let c = &mut ctr.counts[j as usize];
            if *c == 0 {
                ctr.touched.push(j);
            }
            *c += 1;
        }
    }
    let ni = item_baskets[i];
    let mut out: Vec<CoNeighbour> = Vec::with_capacity(ctr.touched.len());
    for &j in &ctr.touched {
        let count = std::mem::take(&mut ctr.counts[j as usize]);
        let nj = item_baskets[j as usize];
        let cosine = f64::from(count) / (f64::from(ni) * f64::from(nj)).sqrt();
        let confidence = f64::from(count) / f64::from(ni);
        let confidence_low = wilson_low(count, ni);
        let base = f64::from(nj) / f64::from(total.max(1));
        let score = match s.similarity {
            CoSimilarity::Cosine => cosine * f64::from(count) / (f64::from(count) + s.shrink),
            CoSimilarity::Lift if count >= s.min_count => confidence_low / base,
            CoSimilarity::Lift => continue,
        };
        out.push(CoNeighbour {
            index: j,
            count,
            score: score as f32,
            confidence: confidence as f32,
        });
    }
    ctr.touched.clear();
    let by_rank = |a: &CoNeighbour, b: &CoNeighbour| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index));
    if out.len() > s.k {
        // The K best by score, and the few partners most often in the same baskets (popular
        // products with a modest cosine), which the blend's confidence signal needs.
        let by_confidence = |a: &CoNeighbour, b: &CoNeighbour| {
            b.confidence.total_cmp(&a.confidence).then(a.index.cmp(&b.index))
        };
        let extra = (s.k / 4).max(1);
        out.select_nth_unstable_by(s.k, by_rank);
        let (best, rest) = out.split_at_mut(s.k);
        let keep_extra = extra.min(rest.len());
        if keep_extra < rest.len() {
            rest.select_nth_unstable_by(keep_extra, by_confidence);
        }
        let mut kept: Vec<CoNeighbour> = best.to_vec();
        kept.extend(rest[..keep_extra].iter().copied());
        out = kept;
    }
    out.sort_unstable_by(by_rank);
    out.shrink_to_fit();
    out
}

/// One customer's purchase of some products on a day: input to [`repeat_stats`].
pub struct Purchase<'a> {
    pub customer: &'a str,
    /// Days since any fixed origin.
    pub day: i64,
    pub products: &'a [u32],
}

/// Repurchase figures per product from every purchase (any order).
pub fn repeat_stats(purchases: &[Purchase], n_products: usize) -> Vec<RepeatStats> {
    // (product, customer, day), sorted: each customer's days for each product in a run.
    let mut rows: Vec<(u32, &str, i64)> = purchases
        .iter()
        .flat_map(|p| p.products.iter().map(move |&i| (i, p.customer, p.day)))
        .collect();
    rows.sort_unstable();
    let mut out = vec![RepeatStats::default(); n_products];
    let mut gaps: Vec<Vec<f32>> = vec![Vec::new(); n_products];
    let mut k = 0;
    while k < rows.len() {
        let (item, customer, _) = rows[k];
        let mut end = k + 1;
        while end < rows.len() && rows[end].0 == item && rows[end].1 == customer {
            end += 1;
        }
        let stats = &mut out[item as usize];
        stats.buyers += 1;
        let days: Vec<i64> = rows[k..end].iter().map(|r| r.2).collect();
        if days.len() >= 2 {
            stats.repeat_buyers += 1;
            for w in days.windows(2) {
                gaps[item as usize].push((w[1] - w[0]) as f32);
            }
        }
        k = end;
    }
    for (stats, mut g) in out.iter_mut().zip(gaps) {
        if !g.is_empty() {
            g.sort_by(f32::total_cmp);
            stats.interval_days = Some(g[g.len() / 2]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baskets() -> Vec<Vec<u32>> {
        // 0 and 1 together 4×, 0 and 2 once, 3 alone twice, 1 alone once.
        vec![
            vec![0, 1],
            vec![0, 1],
            vec![0, 1, 2],
            vec![0, 1],
            vec![3],
            vec![3],
            vec![1],
        ]
    }

    fn plain() -> CoPurchaseSettings {
        CoPurchaseSettings {
            shrink: 0.0,
            ..Default::default()
        }
    }

    #[test]
    fn counts_cosine_confidence_and_lift_follow_the_baskets() {
        let m = build_co_purchase(&baskets(), 4, &plain());
        assert_eq!(m.baskets, 7);
        assert_eq!(m.item_baskets, vec![4, 5, 1, 2]);
        let n01 = m.neighbours[0].iter().find(|n| n.index == 1).unwrap();
        assert_eq!(n01.count, 4);
        assert!((m.cosine(0, n01) - 4.0 / (4.0f64 * 5.0).sqrt()).abs() < 1e-6);
        assert!(
            (f64::from(n01.score) - m.cosine(0, n01)).abs() < 1e-6,
            "no shrinkage"
        );
        assert!((n01.confidence - 1.0).abs() < 1e-6, "every basket with 0 has 1");
        // lift = 1 / (5/7)
        assert!((m.lift(n01) - 7.0 / 5.0).abs() < 1e-5);
        assert!((m.confidence_low(0, n01) - wilson_low(4, 4)).abs() < 1e-12);
        let n10 = m.neighbours[1].iter().find(|n| n.index == 0).unwrap();
        assert!((n10.confidence - 0.8).abs() < 1e-6);
        assert_eq!(m.cosine(1, n10), m.cosine(0, n01), "cosine is symmetric");
        // 3 never met anyone.
        assert!(m.neighbours[3].is_empty());
        // 2 met 0 and 1 once each; its list is ranked by cosine, ties by index.
        let two: Vec<u32> = m.neighbours[2].iter().map(|n| n.index).collect();
        assert_eq!(two, vec![0, 1]);
    }

    #[test]
    fn shrinkage_ranks_a_pair_met_often_above_a_pair_met_once() {
        // 0 met 1 in 20 of its 40 baskets (cosine 0.5); 0 met 2 once, and 2 is in 1 basket
        // (cosine 1/√40 ≈ 0.16) — but 3 met 4 once and both are rare: cosine 1.
        let mut b: Vec<Vec<u32>> = Vec::new();
        for k in 0..40 {
            b.push(if k < 20 { vec![0, 1] } else { vec![0] });
        }
        for _ in 0..20 {
            b.push(vec![1]);
        }
        b.push(vec![3, 4]);
        let plain = build_co_purchase(&b, 5, &plain());
        let shrunk = build_co_purchase(&b, 5, &CoPurchaseSettings::default());
        let top = |m: &CoPurchase, i: usize| m.neighbours[i][0];
        assert!((top(&plain, 3).score - 1.0).abs() < 1e-6);
        assert!(
            top(&plain, 3).score > top(&plain, 0).score,
            "unshrunk: the single meeting wins"
        );
        assert!(
            top(&shrunk, 0).score > top(&shrunk, 3).score,
            "shrunk: 20 meetings beat one ({} vs {})",
            top(&shrunk, 0).score,
            top(&shrunk, 3).score
        );
    }

    #[test]
    fn lift_ranking_needs_the_minimum_count_and_uses_the_lower_bound() {
        let s = CoPurchaseSettings {
            similarity: CoSimilarity::Lift,
            min_count: 2,
            ..Default::default()
        };
        let m = build_co_purchase(&baskets(), 4, &s);
        // 0–2 met once: not a neighbour under the lift rule.
        assert!(m.neighbours[0].iter().all(|n| n.index != 2));
        let n01 = m.neighbours[0][0];
        assert_eq!(n01.index, 1);
        let expected = wilson_low(4, 4) / (5.0 / 7.0);
        assert!((f64::from(n01.score) - expected).abs() < 1e-5);
    }

    #[test]
    fn only_the_k_best_neighbours_are_kept_in_order() {
        // Product 0 meets 1..=9, product j in j baskets with 0.
        let mut b = Vec::new();
        for j in 1..10u32 {
            for _ in 0..j {
                b.push(vec![0, j]);
            }
        }
        let s = CoPurchaseSettings { k: 3, ..plain() };
        let m = build_co_purchase(&b, 10, &s);
        let got: Vec<u32> = m.neighbours[0].iter().map(|n| n.index).collect();
        // The 3 best by cosine, then the one most often with 0 among the rest (K/4 = 0 → 1).
        assert_eq!(got, vec![9, 8, 7, 6]);
    }

    #[test]
    fn the_wilson_bound_is_below_the_share_and_tightens_with_more_baskets() {
        assert_eq!(wilson_low(0, 0), 0.0);
        let few = wilson_low(3, 6);
        let many = wilson_low(300, 600);
        assert!(few < 0.5 && many < 0.5);
        assert!(many > few);
        assert!((wilson_low(300, 600) - 0.46).abs() < 0.01, "{many}");
    }

    #[test]
    fn a_huge_basket_counts_only_its_first_products() {
        let big: Vec<u32> = (0..(MAX_BASKET as u32 + 50)).collect();
        let m = build_co_purchase(&[big], MAX_BASKET + 50, &plain());
        assert_eq!(m.item_baskets[0], 1);
        assert_eq!(m.item_baskets[MAX_BASKET + 10], 0);
        assert_eq!(m.neighbours[0].len(), plain().k + plain().k / 4);
    }

    #[test]
    fn repeat_stats_count_returning_buyers_and_their_median_interval() {
        let p = |customer, day, products| Purchase {
            customer,
            day,
            products,
        };
        let purchases = vec![
            p("a", 0, &[0, 1][..]),
            p("a", 10, &[0][..]),
            p("a", 30, &[0][..]),
            p("b", 5, &[0][..]),
            p("b", 11, &[0, 1][..]),
            p("c", 7, &[1][..]),
        ];
        let r = repeat_stats(&purchases, 3);
        assert_eq!((r[0].buyers, r[0].repeat_buyers), (2, 2));
        // a: gaps 10, 20; b: gap 6 → median of [6, 10, 20] is 10.
        assert_eq!(r[0].interval_days, Some(10.0));
        assert_eq!((r[1].buyers, r[1].repeat_buyers), (3, 0));
        assert_eq!(r[1].interval_days, None);
        assert_eq!(r[2], RepeatStats::default());
    }
}
