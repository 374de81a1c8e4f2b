//! What the blend is built from: paid baskets, each customer's history, and the
//! order-derived signals of a shop ([`BlendData`]).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::CustomerId;
use crate::recommend::copurchase::{
    build_co_purchase, repeat_stats, CoPurchase, CoPurchaseSettings, Purchase,
};

/// Best-sellers per category and of the shop offered as candidates.
const TOP_CANDIDATES: usize = 30;

/// What one customer bought before, per product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub product: u32,
    /// Orders in which they bought it.
    pub orders: u32,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// One paid basket of one customer at one time: what the blend is built from.
#[derive(Debug, Clone)]
pub struct Basket {
    pub customer: CustomerId,
    pub at: DateTime<Utc>,
    /// Sorted, distinct catalogue indices.
    pub products: Vec<u32>,
    /// Units per product, in the order of `products`.
    pub units: Vec<u64>,
}

/// The order-derived signals of a shop: co-purchase, popularity, category best-sellers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BlendData {
    pub co: CoPurchase,
    /// Per product: units sold in paid orders.
    pub units: Vec<u64>,
    /// Per product: ln(1 + units sold) / ln(1 + the best-seller's units).
    pub popular: Vec<f32>,
    /// Per product: the same within its category.
    pub category_popular: Vec<f32>,
    /// Per product: its category's number, `u32::MAX` without a category.
    pub category: Vec<u32>,
    /// Per category: its best-sellers, best first.
    pub category_top: Vec<Vec<u32>>,
    /// The shop's best-sellers, best first.
    pub top: Vec<u32>,
    /// Median days between repurchases over all products (for products without their own).
    pub interval_days: Option<f32>,
    /// The baskets themselves, in time order, for the similar-baskets vote.
    #[serde(default)]
    pub baskets: Csr,
    /// Per product, the baskets holding it (ascending, so the latest last).
    #[serde(default)]
    pub holding: Csr,
}

/// Rows of numbers in one array: row `r` is `items[start[r]..start[r + 1]]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Csr {
    pub start: Vec<u32>,
    pub items: Vec<u32>,
}

impl Csr {
    fn from_rows<'a>(rows: impl Iterator<Item = &'a [u32]>) -> Csr {
        let mut c = Csr {
            start: vec![0],
            items: Vec::new(),
        };
        for r in rows {
            c.items.extend_from_slice(r);
            c.start.push(c.items.len() as u32);
        }
        c
    }

    pub fn row(&self, r: usize) -> &[u32] {
        match (self.start.get(r), self.start.get(r + 1)) {
            (Some(&a), Some(&b)) => &self.items[a as usize..b as usize],
            _ => &[],
        }
    }

    pub(super) fn len(&self) -> usize {
        self.start.len().saturating_sub(1)
    }
}

pub(super) fn log_share(units: u64, best: u64) -> f32 {
    if best == 0 {
        0.0
    } else {
        ((1.0 + units as f64).ln() / (1.0 + best as f64).ln()) as f32
    }
}

/// Days since the epoch, for intervals.
fn day(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(86_400)
}

impl BlendData {
    /// The distinct category numbers of some products, sorted.
    pub fn categories_of(&self, products: &[u32]) -> Vec<u32> {
        let mut cats: Vec<u32> = products
            .iter()
            .filter_map(|&c| self.category.get(c as usize).copied())
            .filter(|&c| c != u32::MAX)
            .collect();
        cats.sort_unstable();
        cats.dedup();
        cats
    }

    /// `categories` gives each product's category (any stable text; `None` without one).
    pub fn build(
        baskets: &[Basket],
        categories: &[Option<String>],
        co_settings: &CoPurchaseSettings,
    ) -> BlendData {
        let n = categories.len();
        let products: Vec<Vec<u32>> = baskets.iter().map(|b| b.products.clone()).collect();
        let mut co = build_co_purchase(&products, n, co_settings);
        let purchases: Vec<Purchase> = baskets
            .iter()
            .map(|b| Purchase {
                customer: b.customer.0.as_str(),
                day: day(b.at),
                products: &b.products,
            })
            .collect();
        co.repeats = repeat_stats(&purchases, n);
        let mut units = vec![0u64; n];
        for b in baskets {
            for (&p, &u) in b.products.iter().zip(&b.units) {
                units[p as usize] += u;
            }
        }
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let category: Vec<u32> = categories
            .iter()
            .map(|c| match c {
                Some(c) => {
                    let next = ids.len() as u32;
                    *ids.entry(c.as_str()).or_insert(next)
                }
                None => u32::MAX,
            })
            .collect();
        let by_units = |a: &u32, b: &u32| units[*b as usize].cmp(&units[*a as usize]).then(a.cmp(b));
        let mut all: Vec<u32> = (0..n as u32).filter(|&i| units[i as usize] > 0).collect();
        all.sort_by(by_units);
        let best = all.first().map_or(0, |&i| units[i as usize]);
        let popular: Vec<f32> = units.iter().map(|&u| log_share(u, best)).collect();
        let mut category_top: Vec<Vec<u32>> = vec![Vec::new(); ids.len()];
        for &i in &all {
            let c = category[i as usize];
            if c != u32::MAX && category_top[c as usize].len() < TOP_CANDIDATES {
                category_top[c as usize].push(i);
            }
        }
        let category_popular = (0..n)
            .map(|i| match category[i] {
                u32::MAX => 0.0,
                c => {
                    let best = category_top[c as usize].first().map_or(0, |&b| units[b as usize]);
                    log_share(units[i], best)
                }
            })
            .collect();
        let mut intervals: Vec<f32> = co.repeats.iter().filter_map(|r| r.interval_days).collect();
        intervals.sort_by(f32::total_cmp);
        let interval_days = intervals.get(intervals.len() / 2).copied();
        all.truncate(TOP_CANDIDATES);
        let mut holding: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (k, b) in baskets.iter().enumerate() {
            for &p in &b.products {
                holding[p as usize].push(k as u32);
            }
        }
        BlendData {
            baskets: Csr::from_rows(baskets.iter().map(|b| b.products.as_slice())),
            holding: Csr::from_rows(holding.iter().map(Vec::as_slice)),
            co,
            units,
            popular,
            category_popular,
            category,
            category_top,
            top: all,
            interval_days,
        }
    }
}

/// The customer histories at each basket: every customer's purchases up to a time.
pub fn histories_at(baskets: &[Basket]) -> BTreeMap<&CustomerId, Vec<HistoryItem>> {
    let mut out: BTreeMap<&CustomerId, Vec<HistoryItem>> = BTreeMap::new();
    for b in baskets {
        add_to_history(out.entry(&b.customer).or_default(), b);
    }
    out
}

/// Adds one basket to a customer's history (kept sorted by product).
pub fn add_to_history(h: &mut Vec<HistoryItem>, b: &Basket) {
    for &p in &b.products {
        match h.binary_search_by_key(&p, |x| x.product) {
            Ok(k) => {
                let x = &mut h[k];
                x.orders += 1;
                x.first = x.first.min(b.at);
                x.last = x.last.max(b.at);
            }
            Err(k) => h.insert(
                k,
                HistoryItem {
                    product: p,
                    orders: 1,
                    first: b.at,
                    last: b.at,
                },
            ),
        }
    }
}
