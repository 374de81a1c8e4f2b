//! [`Writes`]: one atomic write of the sled backend being put together, with what it does
//! to the shop's [`Counts`]. Each upsert is compared with the stored record to tell an
//! insert from a replacement (and to skip an unchanged one); a replacement takes the old
//! record's share out of the counts before the new one's goes in. A record written twice
//! in one batch is compared the second time with what the batch wrote the first time, so
//! the counts follow the record as the batch leaves it.
//!
//! The caller holds the store's write lock from [`Writes::new`] (which reads the counts)
//! to [`Writes::apply`], so that no other write moves the counts or the records meanwhile.

use std::collections::{HashMap, HashSet};

use crate::domain::ShopId;
use crate::records::{Customer, UpsertCounts};
use crate::store::counts::{Counts, Share};
use crate::store::sled_keys::{counts_key, key, kind, prefix, Sled};
use crate::store::{codec, StoreError};

pub(crate) struct Writes<'a> {
    records: &'a sled::Tree,
    shop: ShopId,
    batch: sled::Batch,
    /// Keys of upserted records this batch writes, with the share of the value it writes.
    written: HashMap<Vec<u8>, Option<Share>>,
    /// Keys of quarantined records this batch writes.
    quarantined: HashSet<Vec<u8>>,
    /// Keys of stored quarantined records this batch removes.
    cleared: HashSet<Vec<u8>>,
    before: Counts,
    pub counts: Counts,
}

/// How a kind of record counts: the share of a stored value.
pub(crate) type StoredShare = fn(&[u8]) -> Share;

/// The shop's counts as stored in the records tree (without its events, which the events
/// tree counts).
pub(crate) fn stored_counts(records: &sled::Tree, shop: &ShopId) -> Result<Counts, StoreError> {
    let k = counts_key(shop);
    match records.get(&k).sled()? {
        Some(bytes) => codec::decode(&bytes).map_err(|reason| StoreError::Decode {
            key: String::from_utf8_lossy(&k).replace('\0', "/"),
            reason,
        }),
        None => Ok(Counts::default()),
    }
}

/// The bytes of counts as the records tree keeps them: events are kept in the events tree
/// and always 0 here.
pub(crate) fn encode_counts(counts: &Counts) -> Vec<u8> {
    codec::encode(&Counts { events: 0, ..*counts })
}

impl<'a> Writes<'a> {
    pub fn new(records: &'a sled::Tree, shop: &ShopId) -> Result<Writes<'a>, StoreError> {
        let counts = stored_counts(records, shop)?;
        Ok(Writes {
            records,
            shop: shop.clone(),
            batch: sled::Batch::default(),
            written: HashMap::new(),
            quarantined: HashSet::new(),
            cleared: HashSet::new(),
            before: counts,
            counts,
        })
    }

    /// Writes `value` under `k` unless it equals the record as it stands (stored, or
    /// written earlier in this batch). `share` is what the new value counts for, with
    /// `stored_share` to tell what a stored one did; `None` for a record that is not
    /// counted (the product-id map). The result compares with what was stored before the
    /// batch, as [`crate::store::ShopStore::apply`] reports it.
    pub fn upsert(
        &mut self,
        k: Vec<u8>,
        value: Vec<u8>,
        share: Option<(Share, StoredShare)>,
    ) -> Result<UpsertCounts, StoreError> {
        let mut result = UpsertCounts {
            seen: 1,
            ..Default::default()
        };
        let stored = self.records.get(&k).sled()?;
        let earlier = self.written.get(&k).copied();
        match &stored {
            Some(old) if old.as_ref() == value.as_slice() => {
                result.unchanged = 1;
                if earlier.is_none() {
                    return Ok(result);
                }
                // Written differently earlier in this batch: this later value wins.
            }
            Some(_) => result.updated = 1,
            None => result.inserted = 1,
        }
        if let Some((new, stored_share)) = share {
            let old = match earlier {
                Some(s) => s,
                None => stored.as_deref().map(stored_share),
            };
            if let Some(old) = old {
                self.counts.remove(old);
            }
            self.counts.add(new);
        }
        self.written.insert(k.clone(), share.map(|(s, _)| s));
        self.batch.insert(k, value);
        Ok(result)
    }

    /// Keeps a quarantined record under `k`, counting it unless it is there already.
    pub fn quarantine(&mut self, k: Vec<u8>, value: Vec<u8>) -> Result<(), StoreError> {
        if self.cleared.remove(&k)
            || (!self.quarantined.contains(&k) && !self.records.contains_key(&k).sled()?)
        {
            self.counts.quarantined += 1;
        }
        self.quarantined.insert(k.clone());
        self.batch.insert(k, value);
        Ok(())
    }

    /// Removes the stored quarantined record under `k` (a later import wrote the record it
    /// was meant to be), unless this batch quarantined it again or removed it already.
    pub fn clear_quarantined(&mut self, k: Vec<u8>) {
        if self.quarantined.contains(&k) || self.cleared.contains(&k) {
            return;
        }
        self.counts.quarantined = self.counts.quarantined.saturating_sub(1);
        self.batch.remove(k.clone());
        self.cleared.insert(k);
    }

    /// A write that the counts do not follow (cursors, markers, the generation).
    pub fn insert(&mut self, k: Vec<u8>, value: Vec<u8>) {
        self.batch.insert(k, value);
    }

    pub fn remove(&mut self, k: Vec<u8>) {
        self.batch.remove(k);
    }

    /// Applies every write, with the counts when they changed, atomically.
    pub fn apply(mut self) -> Result<(), StoreError> {
        if self.counts != self.before {
            self.batch
                .insert(counts_key(&self.shop), encode_counts(&self.counts));
        }
        self.records.apply_batch(self.batch).sled()
    }
}

/// Customers per record. A rebuild replaces every customer of a shop in one atomic batch:
/// one record each made that batch 173,000 sled inserts for the 100k/1M shop, 12 s of its
/// rebuild (docs/performance.md); chunks of this many make it a few hundred.
pub const CUSTOMERS_PER_CHUNK: usize = 512;

/// The customers as they are kept: one per id (the last of equal ids), ordered by id.
fn customers_kept(customers: &[Customer]) -> Vec<&Customer> {
    let mut kept: Vec<&Customer> = customers.iter().collect();
    // Stable, so that among equal ids the last given is last, and survives the dedup.
    kept.sort_by(|a, b| a.id.0.as_bytes().cmp(b.id.0.as_bytes()));
    kept.reverse();
    kept.dedup_by(|a, b| a.id == b.id);
    kept.reverse();
    kept
}

/// A batch that replaces the shop's customers, in either form, with `customers` in chunks;
/// and how many customers it keeps.
pub(crate) fn customers_batch(
    records: &sled::Tree,
    shop: &ShopId,
    customers: &[Customer],
) -> Result<(sled::Batch, u64), StoreError> {
    let mut batch = sled::Batch::default();
    for k in [kind::CUSTOMER, kind::CUSTOMER_CHUNK] {
        for old in records.scan_prefix(prefix(shop, k)).keys() {
            batch.remove(old.sled()?);
        }
    }
    let kept = customers_kept(customers);
    for (n, chunk) in kept.chunks(CUSTOMERS_PER_CHUNK).enumerate() {
        let n = u32::try_from(n).expect("fewer than 2^32 chunks of customers");
        batch.insert(
            key(shop, kind::CUSTOMER_CHUNK, &n.to_be_bytes()),
            codec::encode(chunk),
        );
    }
    Ok((batch, kept.len() as u64))
}
