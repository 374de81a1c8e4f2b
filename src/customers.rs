//! Customers derived from orders: only purchases (FEEDS.md §1) count toward spend, so a
//! cancellation lowers a customer's total when the order's status changes.

use std::collections::BTreeMap;

use crate::domain::{CustomerId, Rupiah};
use crate::records::{Customer, Order};

pub fn derive_customers(orders: &[Order]) -> Vec<Customer> {
    let mut by_id: BTreeMap<&CustomerId, Customer> = BTreeMap::new();
    let mut sorted: Vec<&Order> = orders.iter().filter(|o| o.is_purchase()).collect();
    sorted.sort_by_key(|o| o.paid_at);
    for o in sorted {
        let c = by_id.entry(&o.customer).or_insert_with(|| Customer {
            id: o.customer.clone(),
            name: None,
            total_spend: Rupiah(0),
            order_count: 0,
            first_order: o.paid_at,
            last_order: o.paid_at,
            average_order_value: Rupiah(0),
        });
        c.total_spend.0 += o.products_total.0;
        c.order_count += 1;
        c.last_order = o.paid_at;
        if o.buyer_name.is_some() {
            c.name = o.buyer_name.clone();
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
