//! Widget events in the sled store: append-only at a high rate, so they live in a tree of
//! their own keyed `{shop}\0{sequence as big-endian u64}`, which sorts them oldest first.
//!
//! Each shop's count of events sits in the same tree under `\0count\0{shop}` (a zero byte
//! first: no shop's scan meets it) and changes in the same batch as the events it counts.
//! Writers take the tree's lock around reading the count and applying their batch, so two
//! appends never both add to the same old count.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::ShopId;
use crate::records::Event;
use crate::store::codec;
use crate::store::sled_keys::Sled;
use crate::store::StoreError;

/// A big prune removes in batches of this many keys, never one huge write.
const PRUNE_CHUNK: usize = 10_000;

/// The events tree, with the database that hands out sequence numbers and the lock its
/// writers share.
pub(crate) struct EventTree<'a> {
    pub db: &'a sled::Db,
    pub tree: &'a sled::Tree,
    pub writes: &'a Mutex<()>,
}

const COUNT_PREFIX: &[u8] = b"\0count\0";

/// Where the shop's count of events is kept.
fn count_key(shop: &[u8]) -> Vec<u8> {
    let mut k = COUNT_PREFIX.to_vec();
    k.extend_from_slice(shop);
    k
}

/// Every shop's events counted from the events themselves, as counts to store (a store's
/// first count, [`crate::store::migrate`]): a batch that sets each shop's count and removes
/// any count of a shop without events.
pub(crate) fn first_count(tree: &sled::Tree) -> Result<sled::Batch, StoreError> {
    let mut per_shop: HashMap<Vec<u8>, u64> = HashMap::new();
    for k in tree.iter().keys() {
        let k = k.sled()?;
        let Some(end) = k.iter().position(|&b| b == 0).filter(|&i| i > 0) else {
            continue;
        };
        *per_shop.entry(k[..end].to_vec()).or_default() += 1;
    }
    let mut batch = sled::Batch::default();
    for k in tree.scan_prefix(COUNT_PREFIX).keys() {
        let k = k.sled()?;
        if !per_shop.contains_key(&k[COUNT_PREFIX.len()..]) {
            batch.remove(k);
        }
    }
    for (shop, n) in per_shop {
        batch.insert(count_key(&shop), codec::encode(&n));
    }
    Ok(batch)
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
    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The count of the shop's events, as stored beside them.
    pub fn count(&self, shop: &ShopId) -> Result<usize, StoreError> {
        let k = count_key(shop.as_str().as_bytes());
        match self.tree.get(&k).sled()? {
            Some(bytes) => codec::decode::<u64>(&bytes)
                .map(|n| n as usize)
                .map_err(|reason| StoreError::Decode {
                    key: String::from_utf8_lossy(&k).replace('\0', "/"),
                    reason,
                }),
            None => Ok(0),
        }
    }

    /// Adds the shop's new count to `batch`, `removed` fewer and `added` more than now, and
    /// applies it. Call it holding the lock.
    fn apply_counted(
        &self,
        shop: &ShopId,
        mut batch: sled::Batch,
        added: usize,
        removed: usize,
    ) -> Result<(), StoreError> {
        let n = (self.count(shop)? + added).saturating_sub(removed) as u64;
        batch.insert(count_key(shop.as_str().as_bytes()), codec::encode(&n));
        self.tree.apply_batch(batch).sled()
    }

    pub fn append(&self, shop: &ShopId, events: &[Event]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let _writing = self.lock();
        for e in events {
            batch.insert(event_key(shop, self.db.generate_id().sled()?), codec::encode(e));
        }
        self.apply_counted(shop, batch, events.len(), 0)
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

    /// Every event of `shop`, oldest first, one at a time.
    pub fn each(&self, shop: &ShopId, each: &mut dyn FnMut(Event)) -> Result<(), StoreError> {
        for value in self.tree.scan_prefix(shop_prefix(shop)).values() {
            each(decode(&value.sled()?)?);
        }
        Ok(())
    }

    pub fn all(&self, shop: &ShopId) -> Result<Vec<Event>, StoreError> {
        let mut events = Vec::new();
        self.each(shop, &mut |e| events.push(e))?;
        Ok(events)
    }

    /// Removes in chunks of [`PRUNE_CHUNK`], each with its count and under the lock only
    /// while it is applied, so that appends go on meanwhile.
    pub fn prune(
        &self,
        shop: &ShopId,
        old: &dyn Fn(&Event) -> bool,
        keep: usize,
    ) -> Result<usize, StoreError> {
        let p = shop_prefix(shop);
        let mut excess = self.count(shop)?.saturating_sub(keep);
        let mut removed = 0;
        let mut chunk = Vec::new();
        for item in self.tree.scan_prefix(&p) {
            let (k, v) = item.sled()?;
            let gone = excess > 0 || codec::decode::<Event>(&v).is_ok_and(|e| old(&e));
            if !gone {
                continue;
            }
            excess = excess.saturating_sub(1);
            chunk.push(k);
            if chunk.len() == PRUNE_CHUNK {
                removed += self.remove_counted(shop, std::mem::take(&mut chunk))?;
            }
        }
        removed += self.remove_counted(shop, chunk)?;
        Ok(removed)
    }

    /// Removes those of `keys` that are still there, and counts them out; returns how many.
    fn remove_counted(&self, shop: &ShopId, keys: Vec<sled::IVec>) -> Result<usize, StoreError> {
        if keys.is_empty() {
            return Ok(0);
        }
        let _writing = self.lock();
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for k in keys {
            if self.tree.contains_key(&k).sled()? {
                batch.remove(k);
                n += 1;
            }
        }
        self.apply_counted(shop, batch, 0, n)?;
        Ok(n)
    }

    pub fn remove_all(&self, shop: &ShopId) -> Result<usize, StoreError> {
        let _writing = self.lock();
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for k in self.tree.scan_prefix(shop_prefix(shop)).keys() {
            batch.remove(k.sled()?);
            n += 1;
        }
        batch.remove(count_key(shop.as_str().as_bytes()));
        self.tree.apply_batch(batch).sled()?;
        Ok(n)
    }
}
