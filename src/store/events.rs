//! Widget events in the sled store: append-only at a high rate, so they live in a tree of
//! their own keyed `{shop}\0{sequence as big-endian u64}`, which sorts them oldest first.

use crate::domain::ShopId;
use crate::records::Event;
use crate::store::codec;
use crate::store::sled_keys::Sled;
use crate::store::StoreError;

/// A big prune removes in batches of this many keys, never one huge write.
const PRUNE_CHUNK: usize = 10_000;

/// The events tree, with the database that hands out sequence numbers.
pub(crate) struct EventTree<'a> {
    pub db: &'a sled::Db,
    pub tree: &'a sled::Tree,
}

/// An event's key: the shop, then its sequence number (big-endian, so keys sort by it).
fn event_key(shop: &ShopId, seq: u64) -> Vec<u8> {
    let mut k = shop_prefix(shop);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn shop_prefix(shop: &ShopId) -> Vec<u8> {
    let mut p = Vec::with_capacity(shop.as_str().len() + 9);
    p.extend_from_slice(shop.as_str().as_bytes());
    p.push(0);
    p
}

fn decode(bytes: &[u8]) -> Result<Event, StoreError> {
    codec::decode(bytes).map_err(|reason| StoreError::Decode {
        key: "event".into(),
        reason,
    })
}

impl EventTree<'_> {
    pub fn append(&self, shop: &ShopId, events: &[Event]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for e in events {
            batch.insert(event_key(shop, self.db.generate_id().sled()?), codec::encode(e));
        }
        self.tree.apply_batch(batch).sled()
    }

    pub fn has_any(&self, shop: &ShopId) -> Result<bool, StoreError> {
        Ok(self
            .tree
            .scan_prefix(shop_prefix(shop))
            .next()
            .transpose()
            .sled()?
            .is_some())
    }

    pub fn count(&self, shop: &ShopId) -> Result<usize, StoreError> {
        let mut n = 0;
        for k in self.tree.scan_prefix(shop_prefix(shop)).keys() {
            k.sled()?;
            n += 1;
        }
        Ok(n)
    }

    pub fn all(&self, shop: &ShopId) -> Result<Vec<Event>, StoreError> {
        self.tree
            .scan_prefix(shop_prefix(shop))
            .values()
            .map(|v| decode(&v.sled()?))
            .collect()
    }

    pub fn prune(
        &self,
        shop: &ShopId,
        old: &dyn Fn(&Event) -> bool,
        keep: usize,
    ) -> Result<usize, StoreError> {
        let p = shop_prefix(shop);
        let mut excess = self.count(shop)?.saturating_sub(keep);
        let mut removed = 0;
        let mut batch = sled::Batch::default();
        let mut in_batch = 0;
        for item in self.tree.scan_prefix(&p) {
            let (k, v) = item.sled()?;
            let gone = excess > 0 || codec::decode::<Event>(&v).is_ok_and(|e| old(&e));
            if !gone {
                continue;
            }
            excess = excess.saturating_sub(1);
            batch.remove(k);
            removed += 1;
            in_batch += 1;
            if in_batch == PRUNE_CHUNK {
                self.tree.apply_batch(std::mem::take(&mut batch)).sled()?;
                in_batch = 0;
            }
        }
        self.tree.apply_batch(batch).sled()?;
        Ok(removed)
    }

    pub fn remove_all(&self, shop: &ShopId) -> Result<usize, StoreError> {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for k in self.tree.scan_prefix(shop_prefix(shop)).keys() {
            batch.remove(k.sled()?);
            n += 1;
        }
        self.tree.apply_batch(batch).sled()?;
        Ok(n)
    }
}
