//! Which customer ids are one person: the links between a marketplace buyer id, the phone
//! key (`628…`, [`crate::domain::phone`]) and the name-and-phone hash older Laris gave
//! buyers from sales reports. Built from the orders at every rebuild, so nothing is stored
//! twice and a store written by an older Laris links as soon as an order names the phone.
//!
//! The phone key is the canonical id whenever one is known: an order carrying both a
//! buyer id and a phone links that buyer id to the phone key, and an order with a phone
//! links the old hash of its buyer's name and that phone. A buyer id seen with two phones
//! goes to the phone of its latest order.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::domain::phone::legacy_customer_hash;
use crate::domain::CustomerId;
use crate::records::{Customer, Order};

/// Alias id → canonical id (never itself an alias).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerLinks {
    aliases: BTreeMap<CustomerId, CustomerId>,
}

impl CustomerLinks {
    pub fn from_orders(orders: &[Order]) -> CustomerLinks {
        // Alias → (canonical, the paid time of the order that said so): the latest wins.
        let mut found: HashMap<CustomerId, (CustomerId, DateTime<Utc>)> = HashMap::new();
        let mut note = |alias: CustomerId, key: &str, at: DateTime<Utc>| {
            if alias.0 == key {
                return;
            }
            let entry = found
                .entry(alias)
                .or_insert_with(|| (CustomerId(key.to_string()), at));
            if at > entry.1 {
                *entry = (CustomerId(key.to_string()), at);
            }
        };
        for o in orders {
            let Some(key) = o.phone.as_deref() else {
                continue;
            };
            note(o.customer.clone(), key, o.paid_at);
            // The ids older Laris gave this buyer: the phone written 08… (as reports write
            // it, or +62 …, which it read as 08…) or without its 0 (812…).
            let national = key.strip_prefix("62").unwrap_or(key);
            for written in [format!("0{national}"), national.to_string()] {
                if let Some(old) = legacy_customer_hash(o.buyer_name.as_deref(), Some(&written)) {
                    note(old, key, o.paid_at);
                }
            }
        }
        let phone_keys: HashSet<&str> = orders.iter().filter_map(|o| o.phone.as_deref()).collect();
        let ids: HashSet<&CustomerId> = orders.iter().map(|o| &o.customer).collect();
        let aliases = found
            .into_iter()
            // Only ids that orders carry; a phone key is canonical itself, never an alias.
            .filter(|(alias, _)| ids.contains(alias) && !phone_keys.contains(alias.0.as_str()))
            .map(|(alias, (canonical, _))| (alias, canonical))
            .collect();
        CustomerLinks { aliases }
    }

    /// The canonical id of `id` (itself when it is no alias).
    pub fn resolve<'a>(&'a self, id: &'a CustomerId) -> &'a CustomerId {
        self.aliases.get(id).unwrap_or(id)
    }

    /// Re-keys every order to its customer's canonical id.
    pub fn apply(&self, orders: &mut [Order]) {
        for o in orders {
            if let Some(canonical) = self.aliases.get(&o.customer) {
                o.customer = canonical.clone();
            }
        }
    }

    /// Re-keys a map by customer id; where two ids become one, the entry of the canonical
    /// id itself wins.
    pub fn rekey<V>(&self, map: HashMap<CustomerId, V>) -> HashMap<CustomerId, V> {
        let mut out = HashMap::with_capacity(map.len());
        let mut aliased = Vec::new();
        for (id, v) in map {
            match self.aliases.get(&id) {
                Some(canonical) => aliased.push((canonical.clone(), v)),
                None => {
                    out.insert(id, v);
                }
            }
        }
        for (id, v) in aliased {
            out.entry(id).or_insert(v);
        }
        out
    }

    /// Lists on each customer the ids linked to theirs.
    pub fn note_aliases(&self, customers: &mut [Customer]) {
        let mut by_canonical: HashMap<&CustomerId, Vec<CustomerId>> = HashMap::new();
        for (alias, canonical) in &self.aliases {
            by_canonical.entry(canonical).or_default().push(alias.clone());
        }
        for c in customers {
            if let Some(aliases) = by_canonical.remove(&c.id) {
                c.aliases = aliases;
            }
        }
    }

    pub fn into_map(self) -> BTreeMap<CustomerId, CustomerId> {
        self.aliases
    }

    pub fn len(&self) -> usize {
        self.aliases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.aliases.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrderStatus, Rupiah};

    fn order(inv: &str, who: &str, name: &str, phone: Option<&str>, t: i64) -> Order {
        let at = DateTime::from_timestamp(t, 0).unwrap();
        Order {
            invoice: inv.into(),
            marketplace_id: None,
            customer: CustomerId(who.into()),
            buyer_name: Some(name.into()),
            phone: phone.map(str::to_string),
            city: None,
            status: OrderStatus(700),
            created_at: at,
            paid_at: at,
            updated_at: at,
            lines: vec![],
            products_total: Rupiah(10_000),
            shipping: Rupiah(0),
        }
    }

    fn id(s: &str) -> CustomerId {
        CustomerId(s.into())
    }

    #[test]
    fn a_buyer_id_and_the_old_hash_link_to_the_phone_key() {
        let key = "628123456789";
        let old = legacy_customer_hash(Some("Sri W."), Some("0812-3456-789")).unwrap();
        let mut orders = vec![
            // Stored by an older Laris: the hash, no phone.
            order("1", &old.0, "Sri W.", None, 10),
            // From the API: the buyer id with the phone.
            order("2", "777001", "Sri W.", Some(key), 20),
            // From a new sales report: the phone key.
            order("3", key, "sri w.", Some(key), 30),
            // Someone else with the same name and another phone.
            order("4", "628777000111", "Sri W.", Some("628777000111"), 40),
        ];
        let links = CustomerLinks::from_orders(&orders);
        assert_eq!(links.resolve(&old), &id(key));
        assert_eq!(links.resolve(&id("777001")), &id(key));
        assert_eq!(links.resolve(&id(key)), &id(key));
        assert_eq!(links.resolve(&id("628777000111")), &id("628777000111"));
        links.apply(&mut orders);
        let ids: Vec<&str> = orders.iter().map(|o| o.customer.0.as_str()).collect();
        assert_eq!(ids, [key, key, key, "628777000111"]);
        let mut customers = crate::loyalty::customers::derive_customers(&orders);
        assert_eq!(customers.len(), 2, "one customer per person");
        links.note_aliases(&mut customers);
        let sri = customers.iter().find(|c| c.id.0 == key).unwrap();
        assert_eq!(sri.order_count, 3);
        assert_eq!(sri.phone.as_deref(), Some(key));
        let mut aliases = sri.aliases.clone();
        aliases.sort();
        let mut expected = vec![old, id("777001")];
        expected.sort();
        assert_eq!(aliases, expected);
    }

    #[test]
    fn a_buyer_id_seen_with_two_phones_goes_to_the_latest() {
        let orders = vec![
            order("1", "777001", "Sri", Some("628111111111"), 10),
            order("2", "777001", "Sri", Some("628222222222"), 20),
        ];
        let links = CustomerLinks::from_orders(&orders);
        assert_eq!(links.resolve(&id("777001")), &id("628222222222"));
        let mut tiers = HashMap::new();
        tiers.insert(id("777001"), "Perak");
        tiers.insert(id("628222222222"), "Emas");
        tiers.insert(id("x"), "Perunggu");
        let rekeyed = links.rekey(tiers);
        assert_eq!(rekeyed.len(), 2);
        assert_eq!(
            rekeyed[&id("628222222222")],
            "Emas",
            "the canonical id's own entry wins"
        );
    }

    #[test]
    fn orders_without_phones_link_nothing() {
        let orders = vec![order("1", "777001", "Sri", None, 10)];
        assert!(CustomerLinks::from_orders(&orders).is_empty());
    }
}
