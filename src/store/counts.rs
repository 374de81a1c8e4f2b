//! [`Counts`]: how many records of each kind a shop holds. A backend keeps them up to date
//! in the same atomic write as the records they count, so that reading them (`laris
//! status`, `/metrics`) costs a lookup, not a scan of every product and order.
//!
//! An upsert that replaces a record takes the old record's share out and puts the new
//! one's in: a product going inactive moves `active_products` down, an order cancelled
//! after payment moves `paid_orders` down. [`recount`] counts the same figures the slow
//! way, from the records themselves; the contract tests hold the two equal after every
//! kind of write.

use serde::{Deserialize, Serialize};

use crate::domain::{OrderStatus, ShopId};
use crate::records::{Order, Product, ProductStatus};
use crate::store::{codec, ShopStore, StoreError};

/// A shop's records by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub products: u64,
    /// Products whose status is active.
    pub active_products: u64,
    /// Orders of any status.
    pub orders: u64,
    /// Orders that count as purchases ([`Order::is_purchase`]).
    pub paid_orders: u64,
    /// Customers the last rebuild derived.
    pub customers: u64,
    pub quarantined: u64,
    /// Widget events stored.
    pub events: u64,
    /// Feedback messages stored.
    pub feedback: u64,
}

/// What one stored product or order adds to its shop's [`Counts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Share {
    Product { active: bool },
    Order { paid: bool },
}

impl Share {
    pub fn of_product(p: &Product) -> Share {
        Share::Product {
            active: p.status == ProductStatus::Active,
        }
    }

    pub fn of_order(o: &Order) -> Share {
        Share::Order {
            paid: o.is_purchase(),
        }
    }

    /// The share of a stored product, from its bytes. A record that does not decode still
    /// counts as a product, not an active one (the same rule for the running count and a
    /// store's first count, so that the two agree).
    pub fn of_stored_product(bytes: &[u8]) -> Share {
        #[derive(Deserialize)]
        struct Status {
            status: ProductStatus,
        }
        Share::Product {
            active: codec::decode::<Status>(bytes).is_ok_and(|p| p.status == ProductStatus::Active),
        }
    }

    /// The share of a stored order, from its bytes; one that does not decode is not paid.
    pub fn of_stored_order(bytes: &[u8]) -> Share {
        #[derive(Deserialize)]
        struct Status {
            status: OrderStatus,
        }
        Share::Order {
            paid: codec::decode::<Status>(bytes).is_ok_and(|o| o.status.is_purchase()),
        }
    }
}

impl Counts {
    /// Counts a record that is now stored.
    pub(crate) fn add(&mut self, share: Share) {
        match share {
            Share::Product { active } => {
                self.products += 1;
                self.active_products += u64::from(active);
            }
            Share::Order { paid } => {
                self.orders += 1;
                self.paid_orders += u64::from(paid);
            }
        }
    }

    /// Takes out a record that is replaced.
    pub(crate) fn remove(&mut self, share: Share) {
        match share {
            Share::Product { active } => {
                self.products = self.products.saturating_sub(1);
                self.active_products = self.active_products.saturating_sub(u64::from(active));
            }
            Share::Order { paid } => {
                self.orders = self.orders.saturating_sub(1);
                self.paid_orders = self.paid_orders.saturating_sub(u64::from(paid));
            }
        }
    }
}

/// The shop's counts the slow way: every record of every kind read and counted. What
/// [`ShopStore::counts`] must equal; the tests compare the two.
pub fn recount(store: &dyn ShopStore, shop: &ShopId) -> Result<Counts, StoreError> {
    let mut counts = Counts::default();
    for p in store.products(shop)? {
        counts.add(Share::of_product(&p));
    }
    for o in store.orders(shop)? {
        counts.add(Share::of_order(&o));
    }
    counts.customers = store.customers(shop)?.len() as u64;
    counts.quarantined = store.quarantined(shop)?.len() as u64;
    counts.events = store.events(shop)?.len() as u64;
    counts.feedback = store.feedback(shop)?.len() as u64;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract::{order, product};

    #[test]
    fn a_stored_record_has_the_share_of_the_record() {
        let mut p = product("A-1", 1000);
        assert_eq!(
            Share::of_stored_product(&codec::encode(&p)),
            Share::of_product(&p)
        );
        p.status = ProductStatus::Inactive;
        assert_eq!(
            Share::of_stored_product(&codec::encode(&p)),
            Share::Product { active: false }
        );
        let mut o = order("INV/1", "A-1", 1);
        assert_eq!(
            Share::of_stored_order(&codec::encode(&o)),
            Share::Order { paid: true }
        );
        o.status = OrderStatus(0);
        assert_eq!(Share::of_stored_order(&codec::encode(&o)), Share::of_order(&o));
        assert_eq!(
            Share::of_stored_order(b"\x01{not json"),
            Share::Order { paid: false }
        );
    }

    #[test]
    fn removing_what_was_added_gives_back_the_counts() {
        let mut c = Counts::default();
        for s in [
            Share::Product { active: true },
            Share::Product { active: false },
            Share::Order { paid: true },
        ] {
            c.add(s);
        }
        assert_eq!(
            (c.products, c.active_products, c.orders, c.paid_orders),
            (2, 1, 1, 1)
        );
        c.remove(Share::Product { active: true });
        c.remove(Share::Order { paid: true });
        assert_eq!(
            (c.products, c.active_products, c.orders, c.paid_orders),
            (1, 0, 0, 0)
        );
    }
}
