//! Best-sellers: units sold in purchases, the fallback for every list when a model has
//! nothing to say (a new shop, a new product).

use std::collections::HashMap;

use crate::domain::ProductId;
use crate::records::Order;

/// Units sold per product over purchases, highest first (ties by id, for determinism).
pub fn best_sellers(orders: &[Order]) -> Vec<(ProductId, u64)> {
    let mut units: HashMap<&ProductId, u64> = HashMap::new();
    for o in orders.iter().filter(|o| o.is_purchase()) {
        for line in &o.lines {
            if let Some(p) = &line.product {
                *units.entry(p).or_default() += u64::from(line.quantity);
            }
        }
    }
    let mut out: Vec<(ProductId, u64)> = units.into_iter().map(|(p, n)| (p.clone(), n)).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}
