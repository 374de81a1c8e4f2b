//! The customer pages: the shop's customers with tier and segment, one customer's orders,
//! and the loyalty tiers as the model built them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::admin::analytics::{spend_histogram, tier_boundaries, Histogram};
use crate::admin::views::queries::{msg, CustomerQuery, PageError};
use crate::config::{ShopSettings, TierMethod};
use crate::domain::Rupiah;
use crate::model::ShopModel;
use crate::records::Customer;
use crate::store::ShopStore;

/// The shop's customers with tier and segment (names included: the owner's own data),
/// highest spend first, filtered by segment and tier.
pub fn customers(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    q: &CustomerQuery,
) -> Result<Vec<Customer>, PageError> {
    let mut all: Vec<Customer> = store
        .customers(&shop.id)?
        .into_iter()
        .filter(|c| q.segment.is_none() || c.segment == q.segment)
        .filter(|c| q.tier.is_none() || c.tier == q.tier)
        .collect();
    all.sort_by(|a, b| b.total_spend.cmp(&a.total_spend).then_with(|| a.id.cmp(&b.id)));
    Ok(all)
}

/// One line of an order, as the customer page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderLineRow {
    pub product: Option<String>,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Rupiah,
    pub total: Rupiah,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRow {
    pub invoice: String,
    pub status: i64,
    pub status_label: String,
    /// Counts toward spend (not cancelled, rejected, returned or fraud).
    pub purchase: bool,
    pub created_at: DateTime<Utc>,
    pub paid_at: DateTime<Utc>,
    pub lines: Vec<OrderLineRow>,
    pub products_total: Rupiah,
    pub shipping: Rupiah,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerPage {
    pub customer: Customer,
    /// Every order of the customer, purchases or not, newest first.
    pub orders: Vec<OrderRow>,
}

pub fn customer(store: &dyn ShopStore, shop: &ShopSettings, id: &str) -> Result<CustomerPage, PageError> {
    let customer = store
        .customers(&shop.id)?
        .into_iter()
        .find(|c| c.id.0 == id || c.aliases.iter().any(|a| a.0 == id))
        .ok_or_else(|| {
            PageError::NotFound(msg(
                "unknown customer {id} in shop {shop}",
                &[("id", &format!("{id:?}")), ("shop", shop.id.as_str())],
            ))
        })?;
    let mut orders: Vec<OrderRow> = store
        .orders(&shop.id)?
        .into_iter()
        .filter(|o| o.customer == customer.id || customer.aliases.contains(&o.customer))
        .map(|o| OrderRow {
            status: o.status.0,
            status_label: o.status.label().to_string(),
            purchase: o.is_purchase(),
            created_at: o.created_at,
            paid_at: o.paid_at,
            lines: o
                .lines
                .iter()
                .map(|l| OrderLineRow {
                    product: l.product.as_ref().map(|p| p.to_string()),
                    name: l.name.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    total: l.total(),
                })
                .collect(),
            products_total: o.products_total,
            shipping: o.shipping,
            invoice: o.invoice,
        })
        .collect();
    orders.sort_by(|a, b| b.paid_at.cmp(&a.paid_at).then_with(|| a.invoice.cmp(&b.invoice)));
    Ok(CustomerPage { customer, orders })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierRow {
    pub name: String,
    pub discount_pct: f64,
    /// Spend from which a customer is in this tier.
    pub min_spend: Rupiah,
    /// Mean spend of the customers the clustering put in the tier (rounded).
    pub centre: Rupiah,
    /// Customers the clustering put in the tier.
    pub size: usize,
    /// Customers holding the tier now (differs from `size` only where a tier was kept
    /// because spend did not fall, or with `never_demote`).
    pub customers: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TiersPage {
    /// As configured: `kmeans` or `thresholds`.
    pub configured_method: String,
    /// As built (k-means falls back to thresholds with too few customers).
    pub method: String,
    pub window_days: u32,
    pub never_demote: bool,
    pub tiers: Vec<TierRow>,
    pub sse: f64,
    /// The SSE for people: how far, typically, a customer's spend lies from their tier's
    /// centre (the root of the mean squared distance), in rupiah.
    pub typical_distance: Rupiah,
    pub silhouette: f64,
    /// Customers placed on the ladder.
    pub customers: usize,
    pub histogram: Histogram,
}

/// Bins of the spend histogram.
const HISTOGRAM_BINS: usize = 20;

pub fn tiers(shop: &ShopSettings, model: Option<&ShopModel>) -> Result<TiersPage, PageError> {
    let model = model.ok_or_else(|| PageError::NotReady(shop.id.to_string()))?;
    let loyalty = &model.loyalty;
    let mut holding = vec![0usize; loyalty.ladder.len()];
    for s in loyalty.standings.values() {
        if let Some(n) = holding.get_mut(s.tier) {
            *n += 1;
        }
    }
    let tiers = loyalty
        .ladder
        .iter()
        .enumerate()
        .map(|(i, t)| TierRow {
            name: t.name.clone(),
            discount_pct: t.discount_pct,
            min_spend: t.min_spend,
            centre: Rupiah(loyalty.stats.centres.get(i).copied().unwrap_or(0.0).round() as i64),
            size: loyalty.stats.sizes.get(i).copied().unwrap_or(0),
            customers: holding[i],
        })
        .collect();
    let spends: Vec<Rupiah> = loyalty.standings.values().map(|s| s.spend).collect();
    Ok(TiersPage {
        configured_method: match shop.loyalty.method {
            TierMethod::Kmeans => "kmeans",
            TierMethod::Thresholds => "thresholds",
        }
        .to_string(),
        method: loyalty.stats.method.clone(),
        window_days: shop.loyalty.window_days,
        never_demote: shop.loyalty.never_demote,
        tiers,
        sse: loyalty.stats.sse,
        typical_distance: Rupiah(match loyalty.standings.len() {
            0 => 0,
            n => (loyalty.stats.sse / n as f64).sqrt().round() as i64,
        }),
        silhouette: loyalty.stats.silhouette,
        customers: loyalty.standings.len(),
        histogram: spend_histogram(&spends, HISTOGRAM_BINS, &tier_boundaries(&loyalty.ladder)),
    })
}
