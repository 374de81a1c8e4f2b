//! Customers derived from orders: only purchases (docs/feeds.md: marketplace API) count toward spend, so a
//! cancellation lowers a customer's total when the order's status changes.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::config::LoyaltySettings;
use crate::domain::{CustomerId, Rupiah};
use crate::loyalty::segments::{rfm_scores, segment, RfmInput};
use crate::loyalty::tiers::{assign_tiers, LoyaltyModel, Standing};
use crate::records::{Customer, Order};

pub fn derive_customers(orders: &[Order]) -> Vec<Customer> {
    let mut by_id: BTreeMap<&CustomerId, Customer> = BTreeMap::new();
    let mut sorted: Vec<&Order> = orders.iter().filter(|o| o.is_purchase()).collect();
    sorted.sort_by_key(|o| o.paid_at);
    for o in sorted {
        let c = by_id
            .entry(&o.customer)
            .or_insert_with(|| Customer::first_seen(o.customer.clone(), o.paid_at));
        c.total_spend.0 += o.products_total.0;
        c.order_count += 1;
        c.last_order = o.paid_at;
        if o.buyer_name.is_some() {
            c.name = o.buyer_name.clone();
        }
        if o.phone.is_some() {
            c.phone = o.phone.clone();
        }
        if o.city.is_some() {
            c.city = o.city.clone();
        }
    }
    by_id
        .into_values()
        .map(|mut c| {
            c.average_order_value = Rupiah(c.total_spend.0 / i64::from(c.order_count.max(1)));
            c
        })
        .collect()
}

/// Places customers on the loyalty ladder (spend within the configured window) and in RFM
/// segments, returning the enriched records and the ladder for serving.
pub fn tiers_and_segments(
    mut customers: Vec<Customer>,
    orders: &[Order],
    settings: &LoyaltySettings,
    previous: &HashMap<CustomerId, Standing>,
    history: &HashMap<CustomerId, Vec<(DateTime<Utc>, String)>>,
    now: DateTime<Utc>,
) -> (Vec<Customer>, LoyaltyModel) {
    let since =
        (settings.window_days > 0).then(|| now - chrono::Duration::days(i64::from(settings.window_days)));
    let mut spend: BTreeMap<CustomerId, Rupiah> =
        customers.iter().map(|c| (c.id.clone(), Rupiah(0))).collect();
    for o in orders
        .iter()
        .filter(|o| o.is_purchase() && since.is_none_or(|s| o.paid_at >= s))
    {
        if let Some(total) = spend.get_mut(&o.customer) {
            total.0 += o.products_total.0;
        }
    }
    let model = assign_tiers(&spend, previous, settings, now);
    let inputs: Vec<RfmInput> = customers
        .iter()
        .map(|c| RfmInput {
            last_order: c.last_order,
            orders: c.order_count,
            spend: c.total_spend.0,
        })
        .collect();
    let scores = rfm_scores(&inputs, now);
    for (c, score) in customers.iter_mut().zip(scores) {
        if let Some(st) = model.standing(&c.id) {
            c.tier = model.ladder.get(st.tier).map(|t| t.name.clone());
            c.tier_history = history.get(&c.id).cloned().unwrap_or_default();
            if let Some(name) = &c.tier {
                if c.tier_history.last().map(|(_, t)| t) != Some(name) {
                    c.tier_history.push((st.since, name.clone()));
                }
            }
            c.tier_since = Some(st.since);
            c.next_tier_needed = model.progress(st).map(|p| p.needed);
        }
        c.segment = Some(segment(score).to_string());
        c.rfm = Some(score);
    }
    (customers, model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderStatus;
    use chrono::DateTime;

    fn order(inv: &str, who: &str, status: i64, total: i64, t: i64) -> Order {
        let at = DateTime::from_timestamp(t, 0).unwrap();
        Order {
            invoice: inv.into(),
            marketplace_id: None,
            customer: CustomerId(who.into()),
            buyer_name: Some(format!("Nama {who}")),
            phone: None,
            city: None,
            status: OrderStatus(status),
            created_at: at,
            paid_at: at,
            updated_at: at,
            lines: vec![],
            products_total: Rupiah(total),
            shipping: Rupiah(0),
        }
    }

    #[test]
    fn spend_counts_only_purchases_and_a_cancellation_lowers_it() {
        let mut orders = vec![
            order("1", "a", 700, 20000, 10),
            order("2", "a", 700, 30000, 20),
            order("3", "b", 0, 5000, 30),
        ];
        let c = derive_customers(&orders);
        assert_eq!(c.len(), 1, "b only has a cancelled order");
        assert_eq!(c[0].total_spend, Rupiah(50000));
        assert_eq!(c[0].order_count, 2);
        assert_eq!(c[0].average_order_value, Rupiah(25000));
        assert_eq!(c[0].first_order.timestamp(), 10);
        assert_eq!(c[0].last_order.timestamp(), 20);

        orders[1].status = OrderStatus(0);
        let c = derive_customers(&orders);
        assert_eq!(c[0].total_spend, Rupiah(20000));
    }
}
