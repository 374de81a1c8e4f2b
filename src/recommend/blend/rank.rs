//! The candidates of a query with their signals, and their ranking under some weights.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::data::{log_share, BlendData, HistoryItem};
use super::weights::{sig, Weights, SIGNALS};
use crate::recommend::similar::Neighbour;

/// History products of one customer considered (most bought first).
const MAX_HISTORY: usize = 60;
/// Of a customer's history, the co-purchase neighbours of the (first) most-bought products
/// are candidates, (second) at most so many each.
const HISTORY_NEIGHBOURS: (usize, usize) = (10, 20);

/// What a list is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The viewed product and the cart (or the rest of a basket); sorted, distinct.
    pub context: &'a [u32],
    /// The customer's earlier purchases; empty for an anonymous visitor.
    pub history: &'a [HistoryItem],
    pub now: DateTime<Utc>,
    /// Whether products of the context and the history may be listed (a repurchase).
    pub allow_repeats: bool,
}

/// A candidate and its signals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub index: u32,
    pub signals: [f32; SIGNALS],
}

/// Of the baskets holding a context product, the latest this many are read.
const BASKETS_READ: usize = 2000;
/// The most similar baskets that vote.
const BASKETS_VOTING: usize = 500;
/// Products a vote adds as candidates at most.
const VOTED: usize = 50;

/// The similar-baskets vote: earlier baskets are scored by how much of the context they
/// hold (overlap / √(|basket|·|context|)); the best [`BASKETS_VOTING`] vote for their other
/// products with that score. The best-voted [`VOTED`] products, votes scaled to the best 1.
fn similar_baskets_vote(data: &BlendData, context: &[u32]) -> Vec<(u32, f32)> {
    if context.is_empty() || data.baskets.len() == 0 {
        return Vec::new();
    }
    let mut overlap: HashMap<u32, u32> = HashMap::new();
    for &c in context {
        let rows = data.holding.row(c as usize);
        for &b in &rows[rows.len().saturating_sub(BASKETS_READ)..] {
            *overlap.entry(b).or_default() += 1;
        }
    }
    let ctx = context.len() as f32;
    let mut sims: Vec<(f32, u32)> = overlap
        .into_iter()
        .map(|(b, o)| {
            (
                o as f32 / (data.baskets.row(b as usize).len() as f32 * ctx).sqrt(),
                b,
            )
        })
        .collect();
    let order = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1));
    if sims.len() > BASKETS_VOTING {
        sims.select_nth_unstable_by(BASKETS_VOTING, order);
        sims.truncate(BASKETS_VOTING);
    }
    let mut votes: HashMap<u32, f32> = HashMap::new();
    for (w, b) in sims {
        for &i in data.baskets.row(b as usize) {
            if context.binary_search(&i).is_err() {
                *votes.entry(i).or_default() += w;
            }
        }
    }
    let mut ranked: Vec<(u32, f32)> = votes.into_iter().collect();
    ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(VOTED);
    let best = ranked.first().map_or(1.0, |r| r.1).max(f32::MIN_POSITIVE);
    ranked.into_iter().map(|(i, v)| (i, v / best)).collect()
}

/// Whether a similar-products neighbour is evidence of likeness (not price alone).
pub fn content_evidence(n: &Neighbour) -> bool {
    n.evidence
}

/// Every candidate of a query with its signals, by index.
pub fn candidates(data: &BlendData, similar: &[Vec<Neighbour>], q: &Query) -> Vec<Candidate> {
    let mut at: HashMap<u32, usize> = HashMap::new();
    let mut out: Vec<Candidate> = Vec::new();
    let mut slot = |i: u32, out: &mut Vec<Candidate>| -> usize {
        *at.entry(i).or_insert_with(|| {
            out.push(Candidate {
                index: i,
                signals: [0.0; SIGNALS],
            });
            out.len() - 1
        })
    };
    let context = q.context;
    let inv = 1.0 / context.len().max(1) as f32;
    for &c in context {
        for n in data.co.neighbours.get(c as usize).into_iter().flatten() {
            let k = slot(n.index, &mut out);
            out[k].signals[sig::CO_PURCHASE] += n.score;
            out[k].signals[sig::CO_CONFIDENCE] += n.confidence;
        }
        for n in similar.get(c as usize).into_iter().flatten() {
            if content_evidence(n) {
                let k = slot(n.index, &mut out);
                out[k].signals[sig::CONTENT] += n.score * inv;
            }
        }
    }
    let mut history: Vec<&HistoryItem> = q.history.iter().collect();
    history.sort_by(|a, b| b.orders.cmp(&a.orders).then(b.last.cmp(&a.last)));
    history.truncate(MAX_HISTORY);
    let most = history.first().map_or(0, |h| h.orders);
    for h in &history {
        let k = slot(h.product, &mut out);
        out[k].signals[sig::REPURCHASE] = log_share(u64::from(h.orders), u64::from(most));
        let interval = data
            .co
            .repeats
            .get(h.product as usize)
            .and_then(|r| r.interval_days)
            .or(data.interval_days)
            .unwrap_or(30.0)
            .max(1.0);
        let elapsed = ((q.now - h.last).num_seconds() as f32 / 86_400.0).max(0.5);
        let r = elapsed / interval;
        out[k].signals[sig::DUE] = r.min(1.0 / r);
    }
    // What goes with the customer's most-bought products.
    for h in history.iter().take(HISTORY_NEIGHBOURS.0) {
        for n in data
            .co
            .neighbours
            .get(h.product as usize)
            .into_iter()
            .flatten()
            .take(HISTORY_NEIGHBOURS.1)
        {
            let k = slot(n.index, &mut out);
            out[k].signals[sig::CO_PURCHASE] += n.score;
            out[k].signals[sig::CO_CONFIDENCE] += n.confidence;
        }
    }
    let cats = data.categories_of(context);
    for &c in &cats {
        for &i in &data.category_top[c as usize] {
            slot(i, &mut out);
        }
    }
    for &i in &data.top {
        slot(i, &mut out);
    }
    for (i, vote) in similar_baskets_vote(data, context) {
        let k = slot(i, &mut out);
        out[k].signals[sig::SIMILAR_BASKETS] = vote;
    }
    let max_of = |s: usize, out: &[Candidate]| out.iter().map(|c| c.signals[s]).fold(0.0f32, f32::max);
    let (max_co, max_conf) = (max_of(sig::CO_PURCHASE, &out), max_of(sig::CO_CONFIDENCE, &out));
    for c in &mut out {
        let i = c.index as usize;
        if max_co > 0.0 {
            c.signals[sig::CO_PURCHASE] /= max_co;
        }
        if max_conf > 0.0 {
            c.signals[sig::CO_CONFIDENCE] /= max_conf;
        }
        c.signals[sig::CONTENT] = c.signals[sig::CONTENT].min(1.0);
        c.signals[sig::CATEGORY_POPULAR] = if data
            .category
            .get(i)
            .is_some_and(|k| cats.binary_search(k).is_ok())
        {
            data.category_popular[i]
        } else {
            0.0
        };
        c.signals[sig::POPULAR] = data.popular.get(i).copied().unwrap_or(0.0);
    }
    if !q.allow_repeats {
        out.retain(|c| {
            context.binary_search(&c.index).is_err() && !q.history.iter().any(|h| h.product == c.index)
        });
    }
    out
}

/// A ranked candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    pub index: u32,
    pub score: f32,
    pub signals: [f32; SIGNALS],
}

impl Ranked {
    /// The signal that adds most to the score under `w`.
    pub fn main_signal(&self, w: &Weights) -> usize {
        let a = w.as_array();
        (0..SIGNALS)
            .max_by(|&x, &y| {
                (a[x] * self.signals[x])
                    .total_cmp(&(a[y] * self.signals[y]))
                    .then(y.cmp(&x))
            })
            .unwrap_or(0)
    }
}

/// Sorts candidates by score (ties: popularity, then index) and keeps those `keep` allows,
/// the first `n` of them.
pub fn rank_candidates(
    mut cands: Vec<Candidate>,
    w: &Weights,
    n: usize,
    keep: &dyn Fn(u32) -> bool,
) -> Vec<Ranked> {
    cands.retain(|c| keep(c.index));
    let mut scored: Vec<Ranked> = cands
        .into_iter()
        .map(|c| Ranked {
            index: c.index,
            score: w.score(&c.signals),
            signals: c.signals,
        })
        .filter(|r| r.score > 0.0)
        .collect();
    let order = |a: &Ranked, b: &Ranked| {
        b.score
            .total_cmp(&a.score)
            .then(b.signals[sig::POPULAR].total_cmp(&a.signals[sig::POPULAR]))
            .then(a.index.cmp(&b.index))
    };
    if scored.len() > n {
        scored.select_nth_unstable_by(n, order);
        scored.truncate(n);
        // Without this the list keeps the room of every candidate (thousands of them), and so
        // does a `Vec<u32>` collected in place from it: `laris eval` kept a million such lists.
        scored.shrink_to_fit();
    }
    scored.sort_unstable_by(order);
    scored
}

/// The top `n` of a query under `w`, among the products `keep` allows.
pub fn rank(
    data: &BlendData,
    similar: &[Vec<Neighbour>],
    w: &Weights,
    q: &Query,
    n: usize,
    keep: &dyn Fn(u32) -> bool,
) -> Vec<Ranked> {
    rank_candidates(candidates(data, similar, q), w, n, keep)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::CustomerId;
    use crate::recommend::blend::Basket;
    use crate::recommend::copurchase::CoPurchaseSettings;
    use crate::records::Product;
    use chrono::TimeZone;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    pub(crate) fn at(k: usize) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(k as i64 * 3)
    }

    fn product(i: usize, name: &str) -> Product {
        let mut p = crate::eval::fixtures::product(
            &format!("P{i:04}"),
            name,
            10_000 + (i as i64 % 7) * 1000,
            &[],
            &[],
        );
        p.category = Vec::new();
        p.attributes.clear();
        p
    }

    /// 30 families of 10 products; each basket holds 2 products of one family, so the pairs
    /// rarely repeat (co-purchase is thin) but the family always shows. `named` gives the
    /// products their family's words; otherwise every name is `Produk N`.
    pub(crate) fn family_shop(named: bool) -> (Vec<Product>, Vec<Basket>) {
        const FAMILIES: [&str; 30] = [
            "kopi", "teh", "gula", "beras", "tepung", "minyak", "kecap", "sambal", "garam", "susu", "keju",
            "roti", "mie", "sabun", "sampo", "odol", "tisu", "lilin", "korek", "baterai", "lampu", "kabel",
            "pulpen", "buku", "kertas", "lem", "gunting", "piring", "gelas", "sendok",
        ];
        let products: Vec<Product> = (0..300)
            .map(|i| {
                let f = FAMILIES[i / 10];
                let name = if named {
                    format!(
                        "{f} varian {}",
                        [
                            "merah", "biru", "hijau", "kuning", "putih", "hitam", "ungu", "coklat", "abu",
                            "emas"
                        ][i % 10]
                    )
                } else {
                    format!("Produk {}", i + 1)
                };
                product(i, &name)
            })
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let baskets = (0..1500)
            .map(|k| {
                let f = rng.gen_range(0..30u32);
                let mut members: Vec<u32> = (f * 10..f * 10 + 10).collect();
                members.shuffle(&mut rng);
                let mut b = vec![members[0], members[1]];
                b.sort_unstable();
                Basket {
                    customer: CustomerId(format!("c{}", k % 200)),
                    at: at(k),
                    units: vec![1; b.len()],
                    products: b,
                }
            })
            .collect();
        (products, baskets)
    }

    #[test]
    fn candidates_carry_normalised_signals_and_respect_repeats() {
        let (products, baskets) = family_shop(false);
        let categories = vec![None; products.len()];
        let data = BlendData::build(&baskets, &categories, &CoPurchaseSettings::default());
        let similar = vec![Vec::new(); products.len()];
        let context = [0u32, 1];
        let q = Query {
            context: &context,
            history: &[],
            now: at(0),
            allow_repeats: false,
        };
        let cands = candidates(&data, &similar, &q);
        assert!(cands.iter().all(|c| c.index > 1), "never the context");
        assert!(cands
            .iter()
            .all(|c| c.signals.iter().all(|x| (0.0..=1.0).contains(x))));
        let best = cands
            .iter()
            .map(|c| c.signals[sig::CO_PURCHASE])
            .fold(0.0, f32::max);
        assert_eq!(best, 1.0, "co-purchase is scaled to the best candidate");
        // Partners of 0 and 1 are their family (2..10) first.
        let top = rank(&data, &similar, &Weights::ITEM_DEFAULT, &q, 3, &|_| true);
        assert!(top.iter().all(|r| r.index < 10), "{top:?}");
        // A customer's own product is listed again only when repeats are allowed.
        let history = [HistoryItem {
            product: 5,
            orders: 3,
            first: at(0),
            last: at(10),
        }];
        let own = Query {
            context: &[],
            history: &history,
            now: at(300),
            allow_repeats: true,
        };
        let got = rank(&data, &similar, &Weights::PERSONAL_DEFAULT, &own, 3, &|_| true);
        assert_eq!(got[0].index, 5);
        assert_eq!(got[0].signals[sig::REPURCHASE], 1.0);
        let no_repeats = Query {
            allow_repeats: false,
            ..own
        };
        assert!(rank(
            &data,
            &similar,
            &Weights::PERSONAL_DEFAULT,
            &no_repeats,
            10,
            &|_| true
        )
        .iter()
        .all(|r| r.index != 5));
    }

    #[test]
    fn the_baskets_most_like_the_cart_vote_for_what_completes_it() {
        // Five baskets hold the whole cart {0, 1} and 2; five hold 0 with 3, five 1 with 4.
        let mut rows: Vec<Vec<u32>> = Vec::new();
        rows.extend((0..5).map(|_| vec![0, 1, 2]));
        rows.extend((0..5).map(|_| vec![0, 3]));
        rows.extend((0..5).map(|_| vec![1, 4]));
        let baskets: Vec<Basket> = rows
            .into_iter()
            .enumerate()
            .map(|(k, p)| Basket {
                customer: CustomerId(format!("c{k}")),
                at: at(k),
                units: vec![1; p.len()],
                products: p,
            })
            .collect();
        let data = BlendData::build(&baskets, &vec![None; 5], &CoPurchaseSettings::default());
        let votes = similar_baskets_vote(&data, &[0, 1]);
        // Each basket votes with overlap / √(|basket|·|cart|): 2/√6 for 2, 1/√4 for 3 and 4.
        let expected = 0.5 / (2.0 / 6f32.sqrt());
        assert_eq!(votes[0], (2, 1.0), "{votes:?}");
        assert_eq!(votes.len(), 3);
        for &(i, v) in &votes[1..] {
            assert!((i == 3 || i == 4) && (v - expected).abs() < 1e-6, "{votes:?}");
        }
        assert!(similar_baskets_vote(&data, &[]).is_empty());
        // The cart itself is never voted for.
        assert!(votes.iter().all(|&(i, _)| i > 1));
    }

    #[test]
    fn the_due_signal_peaks_at_the_products_usual_interval() {
        // Customer c buys product 0 every 10 days.
        let baskets: Vec<Basket> = (0..10)
            .map(|k| Basket {
                customer: CustomerId("c".into()),
                at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::days(10 * k),
                products: vec![0],
                units: vec![1],
            })
            .collect();
        let data = BlendData::build(&baskets, &[None, None], &CoPurchaseSettings::default());
        assert_eq!(data.co.repeats[0].interval_days, Some(10.0));
        let last = baskets[9].at;
        let history = [HistoryItem {
            product: 0,
            orders: 10,
            first: baskets[0].at,
            last,
        }];
        let due_after = |days: i64| {
            let q = Query {
                context: &[],
                history: &history,
                now: last + chrono::Duration::days(days),
                allow_repeats: true,
            };
            candidates(&data, &[Vec::new(), Vec::new()], &q)[0].signals[sig::DUE]
        };
        assert!((due_after(10) - 1.0).abs() < 1e-6);
        assert!(due_after(2) < 0.3 && due_after(40) < 0.3);
        assert!(due_after(8) > due_after(3));
    }
}
