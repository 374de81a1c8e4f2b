//! The sled store's format version, and the upgrades it has had.
//!
//! Format 1 (no marker) kept quarantined records under a `DefaultHasher` hash of the
//! record, whose output may change between Rust releases: a Laris built with another Rust
//! would have kept a second copy of a record quarantined again. Format 2 keys them by
//! [`quarantine_id`], a SHA-256 digest, and records `format = 2` under a key no shop can
//! have. Opening a format 1 store rewrites its quarantine keys and writes the marker in one
//! atomic batch.
//!
//! Format 3 keeps each shop's [`Counts`] beside its records, moved by every write. Opening
//! a format 2 store counts every shop's records once (the events' counts first, in the
//! events tree; then the other counts and `format = 3` in one batch, so a crash between the
//! two only makes the next open count again).
//!
//! Format 4 keeps a shop's customers in chunks of
//! [`CUSTOMERS_PER_CHUNK`](crate::store::sled_import::CUSTOMERS_PER_CHUNK) instead of one
//! record each, which made a rebuild of a large shop spend most of its write inserting them.
//! Opening a format 3 store rechunks every shop's customers, each shop in one batch, and then
//! writes `format = 4`; a crash between shops leaves some chunked and the rest to the next
//! open (a shop's customers are in one form or the other, never both). Opening a format 4
//! store changes nothing.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::domain::ShopId;
use crate::records::{Customer, Quarantined};
use crate::store::counts::{Counts, Share};
use crate::store::sled_import::{customers_batch, encode_counts};
use crate::store::sled_keys::{counts_key, kind, prefix, shop_and_kind, Sled};
use crate::store::{codec, events, StoreError};

/// The format this Laris writes.
pub const FORMAT: u32 = 4;

/// Where the format is kept in the records tree: it starts with a zero byte, which no shop
/// id does, so no shop's scan meets it.
pub(crate) const FORMAT_KEY: &[u8] = b"\0meta\0format";

/// The id a quarantined record is kept under: the first 16 bytes, in hex, of SHA-256 over
/// its kind, origin and raw record, each preceded by its length (8 bytes, big-endian) so
/// that no two different records share a byte form.
pub fn quarantine_id(record: &Quarantined) -> String {
    let mut h = Sha256::new();
    for part in [record.kind.as_str(), &record.origin, &record.record] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// Brings the store to [`FORMAT`]: `Some(rewritten quarantine keys)` when it upgraded (a
/// new store is upgraded from nothing), `None` when it was current.
pub(crate) fn upgrade(
    records: &sled::Tree,
    events: &sled::Tree,
    path: &Path,
) -> Result<Option<usize>, StoreError> {
    let found = match records.get(FORMAT_KEY).sled()? {
        Some(bytes) => codec::decode::<u32>(&bytes).map_err(|reason| StoreError::Decode {
            key: "meta/format".into(),
            reason,
        })?,
        None => 1,
    };
    if found == FORMAT {
        return Ok(None);
    }
    if found > FORMAT {
        return Err(StoreError::NewerFormat {
            path: path.to_path_buf(),
            found,
            supported: FORMAT,
        });
    }
    let fresh = records.is_empty() && events.is_empty();
    let rewritten = if found < 2 {
        stable_quarantine_keys(records)?
    } else {
        0
    };
    let shops = if found < 3 {
        first_count(records, events)?
    } else {
        0
    };
    let chunked = chunk_customers(records)?;
    if !fresh {
        tracing::info!(store = %path.display(), from = found, to = FORMAT, quarantine_keys = rewritten, shops_counted = shops, customers_chunked = chunked, "store format upgraded");
    }
    Ok(Some(rewritten))
}

/// Format 1 to 2: rekeys every quarantined record by [`quarantine_id`] and writes
/// `format = 2`, in one batch; returns how many keys it rewrote.
fn stable_quarantine_keys(records: &sled::Tree) -> Result<usize, StoreError> {
    let mut batch = sled::Batch::default();
    let mut rewritten = 0;
    for item in records.iter() {
        let (k, v) = item.sled()?;
        let Some(id_at) = quarantine_id_start(&k) else {
            continue;
        };
        let record: Quarantined = match codec::decode(&v) {
            Ok(r) => r,
            Err(reason) => {
                tracing::warn!(key = %String::from_utf8_lossy(&k).replace('\0', "/"), %reason, "a quarantined record cannot be decoded: left under its old key");
                continue;
            }
        };
        let id = quarantine_id(&record);
        if &k[id_at..] == id.as_bytes() {
            continue;
        }
        let mut new_key = k[..id_at].to_vec();
        new_key.extend_from_slice(id.as_bytes());
        batch.remove(k);
        batch.insert(new_key, v);
        rewritten += 1;
    }
    batch.insert(FORMAT_KEY, codec::encode(&2u32));
    records.apply_batch(batch).sled()?;
    Ok(rewritten)
}

/// Format 2 to 3: counts every shop's records and events and stores the counts, then
/// `format = 3`; returns how many shops it counted.
fn first_count(records: &sled::Tree, events: &sled::Tree) -> Result<usize, StoreError> {
    events.apply_batch(events::first_count(events)?).sled()?;
    let mut per_shop: BTreeMap<Vec<u8>, Counts> = BTreeMap::new();
    for item in records.iter() {
        let (k, v) = item.sled()?;
        let Some((shop, what)) = shop_and_kind(&k) else {
            continue;
        };
        let counts = per_shop.entry(shop.to_vec()).or_default();
        if what == kind::PRODUCT.as_bytes() {
            counts.add(Share::of_stored_product(&v));
        } else if what == kind::ORDER.as_bytes() {
            counts.add(Share::of_stored_order(&v));
        } else if what == kind::CUSTOMER.as_bytes() {
            counts.customers += 1;
        } else if what == kind::QUARANTINE.as_bytes() {
            counts.quarantined += 1;
        } else if what == kind::FEEDBACK.as_bytes() {
            counts.feedback += 1;
        }
    }
    let mut batch = sled::Batch::default();
    for (raw, counts) in &per_shop {
        match std::str::from_utf8(raw).ok().and_then(|s| ShopId::parse(s).ok()) {
            Some(shop) => batch.insert(counts_key(&shop), encode_counts(counts)),
            None => {
                tracing::warn!(shop = %String::from_utf8_lossy(raw), "records under a key that names no valid shop: not counted")
            }
        }
    }
    batch.insert(FORMAT_KEY, codec::encode(&3u32));
    records.apply_batch(batch).sled()?;
    Ok(per_shop.len())
}

/// Format 3 to 4: moves each shop's customers from one record each into chunks, one shop
/// per batch, then writes `format = 4`; returns how many customers it moved.
fn chunk_customers(records: &sled::Tree) -> Result<usize, StoreError> {
    let mut shops: Vec<Vec<u8>> = Vec::new();
    for k in records.iter().keys() {
        let k = k.sled()?;
        if let Some((shop, what)) = shop_and_kind(&k) {
            if what == kind::CUSTOMER.as_bytes() && shops.last().map(Vec::as_slice) != Some(shop) {
                shops.push(shop.to_vec());
            }
        }
    }
    let mut moved = 0;
    for raw in &shops {
        let Some(shop) = std::str::from_utf8(raw).ok().and_then(|s| ShopId::parse(s).ok()) else {
            tracing::warn!(shop = %String::from_utf8_lossy(raw), "customers under a key that names no valid shop: left as they are");
            continue;
        };
        let mut customers: Vec<Customer> = Vec::new();
        for item in records.scan_prefix(prefix(&shop, kind::CUSTOMER)) {
            let (k, v) = item.sled()?;
            customers.push(codec::decode(&v).map_err(|reason| StoreError::Decode {
                key: String::from_utf8_lossy(&k).replace('\0', "/"),
                reason,
            })?);
        }
        let (batch, kept) = customers_batch(records, &shop, &customers)?;
        records.apply_batch(batch).sled()?;
        moved += kept as usize;
    }
    records.insert(FORMAT_KEY, codec::encode(&FORMAT)).sled()?;
    Ok(moved)
}

/// Where the id starts in a key `{shop}\0q\0{id}`; `None` for any other key.
fn quarantine_id_start(key: &[u8]) -> Option<usize> {
    let (shop, what) = shop_and_kind(key)?;
    (what == kind::QUARANTINE.as_bytes()).then_some(shop.len() + 1 + what.len() + 1)
}

#[cfg(test)]
mod tests {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    use super::*;
    use crate::domain::ShopId;
    use crate::records::{QuarantineReason, RecordKind};
    use crate::store::sled_backend::when_released;
    use crate::store::{ImportBatch, ShopStore, Store};

    fn bad(origin: &str) -> Quarantined {
        Quarantined {
            at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            kind: RecordKind::Product,
            origin: origin.into(),
            reason: QuarantineReason::invalid("price.value", "price.value: \"harga?\" is not a number"),
            record: format!("{{\"origin\":\"{origin}\"}}"),
            subject: None,
        }
    }

    /// The key format 1 gave a quarantined record.
    fn v1_key(shop: &str, record: &Quarantined) -> Vec<u8> {
        let mut h = DefaultHasher::new();
        (record.kind.as_str(), &record.origin, &record.record).hash(&mut h);
        let mut k = format!("{shop}\0q\0").into_bytes();
        k.extend_from_slice(&h.finish().to_be_bytes());
        k
    }

    fn keys(dir: &Path) -> Vec<Vec<u8>> {
        let db = when_released(|| sled::open(dir.join("store")));
        let tree = db.open_tree("records").unwrap();
        tree.iter().keys().map(|k| k.unwrap().to_vec()).collect()
    }

    #[test]
    fn quarantine_ids_are_fixed_digests_of_kind_origin_and_record() {
        let a = bad("page 1 #0");
        assert_eq!(quarantine_id(&a), quarantine_id(&a.clone()));
        assert_eq!(quarantine_id(&a).len(), 32);
        let other_reason = Quarantined {
            reason: QuarantineReason::unreadable("another reason"),
            ..a.clone()
        };
        assert_eq!(quarantine_id(&a), quarantine_id(&other_reason));
        // Moving a byte from one field to the next makes another record.
        let shifted = Quarantined {
            origin: format!("{}{{", a.origin),
            record: a.record[1..].to_string(),
            ..a.clone()
        };
        assert_ne!(quarantine_id(&a), quarantine_id(&shifted));
        // Pinned: the id must not change between builds, or re-quarantining would pile up.
        let pinned = Quarantined {
            at: a.at,
            kind: RecordKind::Order,
            origin: "o".into(),
            reason: QuarantineReason::unreadable(""),
            record: "{}".into(),
            subject: Some("INV/1".into()),
        };
        let mut h = Sha256::new();
        h.update(b"\0\0\0\0\0\0\0\x05order\0\0\0\0\0\0\0\x01o\0\0\0\0\0\0\0\x02{}");
        assert_eq!(quarantine_id(&pinned), hex::encode(&h.finalize()[..16]));
    }

    #[test]
    fn a_format_1_store_gets_stable_quarantine_keys_once() {
        let dir = tempfile::tempdir().unwrap();
        let shop = ShopId::parse("toko").unwrap();
        let records = [bad("page 1 #0"), bad("page 1 #3"), bad("page 2 #1")];
        let product_key = b"toko\0p\0A-1".to_vec();
        {
            // A store as format 1 left it, written straight through sled: no marker.
            let db = when_released(|| sled::open(dir.path().join("store")));
            let tree = db.open_tree("records").unwrap();
            for r in &records {
                tree.insert(v1_key("toko", r), codec::encode(r)).unwrap();
            }
            tree.insert(&product_key, b"kept as it is".to_vec()).unwrap();
            db.flush().unwrap();
        }

        let store = when_released(|| Store::open(dir.path()));
        let mut kept = store.quarantined(&shop).unwrap();
        kept.sort_by(|a, b| a.origin.cmp(&b.origin));
        assert_eq!(kept, records.to_vec(), "every quarantined record is still there");
        // Quarantining one again finds it under its new key: no second copy.
        let mut batch = ImportBatch::new(&shop);
        batch.quarantine(records[1].clone());
        store.apply(batch).unwrap();
        assert_eq!(store.quarantined_count(&shop).unwrap(), 3);
        store.flush_blocking().unwrap();
        drop(store);

        let after_first = keys(dir.path());
        let mut expected: Vec<Vec<u8>> = records
            .iter()
            .map(|r| format!("toko\0q\0{}", quarantine_id(r)).into_bytes())
            .collect();
        expected.extend([FORMAT_KEY.to_vec(), product_key.clone()]);
        for k in &expected {
            assert!(
                after_first.contains(k),
                "{:?} missing",
                String::from_utf8_lossy(k)
            );
        }
        for r in &records {
            assert!(!after_first.contains(&v1_key("toko", r)), "old keys are gone");
        }
        {
            let db = when_released(|| sled::open(dir.path().join("store")));
            let tree = db.open_tree("records").unwrap();
            assert_eq!(
                codec::decode::<u32>(&tree.get(FORMAT_KEY).unwrap().unwrap()).unwrap(),
                FORMAT
            );
            // A second open has nothing to do.
            let events = db.open_tree("events").unwrap();
            assert_eq!(upgrade(&tree, &events, dir.path()).unwrap(), None);
        }
        let store = when_released(|| Store::open(dir.path()));
        assert_eq!(store.quarantined_count(&shop).unwrap(), 3);
        drop(store);
        assert_eq!(keys(dir.path()), after_first, "the second open rewrote nothing");
    }

    #[test]
    fn a_format_3_store_gets_its_customers_chunked_once() {
        use crate::store::contract::customer;
        use crate::store::{recount, Snapshot};
        let dir = tempfile::tempdir().unwrap();
        let (toko, lain) = (ShopId::parse("toko").unwrap(), ShopId::parse("lain").unwrap());
        let many: Vec<Customer> = (0..1100)
            .map(|i| customer(&format!("c{i:05}"), 1000 + i))
            .collect();
        let snapshot = Snapshot {
            generation: None,
            bytes: b"model".to_vec(),
        };
        let (counts, fingerprint) = {
            let store = when_released(|| Store::open(dir.path()));
            store.put_rebuild(&toko, &many, &snapshot).unwrap();
            store
                .put_rebuild(&lain, &[customer("solo", 5)], &snapshot)
                .unwrap();
            store.flush_blocking().unwrap();
            (store.counts(&toko).unwrap(), store.fingerprint(&toko).unwrap())
        };
        {
            // As format 3 left it: one record per customer, marker 3.
            let db = when_released(|| sled::open(dir.path().join("store")));
            let records = db.open_tree("records").unwrap();
            for (shop, customers) in [(&toko, many.clone()), (&lain, vec![customer("solo", 5)])] {
                for k in records.scan_prefix(format!("{shop}\0cc\0")).keys() {
                    records.remove(k.unwrap()).unwrap();
                }
                for c in &customers {
                    records
                        .insert(format!("{shop}\0c\0{}", c.id.0), codec::encode(c))
                        .unwrap();
                }
            }
            records.insert(FORMAT_KEY, codec::encode(&3u32)).unwrap();
            db.flush().unwrap();
        }

        let store = when_released(|| Store::open(dir.path()));
        assert_eq!(store.customers(&toko).unwrap(), many);
        assert_eq!(store.customers(&lain).unwrap(), vec![customer("solo", 5)]);
        assert_eq!(store.counts(&toko).unwrap(), counts);
        assert_eq!(recount(&store, &toko).unwrap(), counts);
        assert_eq!(
            store.fingerprint(&toko).unwrap(),
            fingerprint,
            "the same chunks as a rebuild writes"
        );
        store.flush_blocking().unwrap();
        drop(store);
        let db = when_released(|| sled::open(dir.path().join("store")));
        let records = db.open_tree("records").unwrap();
        assert!(
            records
                .iter()
                .keys()
                .all(|k| !k.unwrap().windows(3).any(|w| w == b"\0c\0")),
            "no customer left one to a record"
        );
        let events = db.open_tree("events").unwrap();
        assert_eq!(
            upgrade(&records, &events, dir.path()).unwrap(),
            None,
            "chunked once"
        );
    }

    #[test]
    fn a_format_2_store_gets_its_counts_once() {
        use crate::store::contract::{order, product};
        use crate::store::{recount, Counts};
        let dir = tempfile::tempdir().unwrap();
        let (toko, lain) = (ShopId::parse("toko").unwrap(), ShopId::parse("lain").unwrap());
        {
            let store = when_released(|| Store::open(dir.path()));
            let mut batch = ImportBatch::new(&toko);
            let mut inactive = product("B-2", 2000);
            inactive.status = crate::records::ProductStatus::Inactive;
            batch.upsert_product(product("A-1", 1000));
            batch.upsert_product(inactive);
            batch.upsert_order(order("INV/1", "A-1", 1));
            let mut cancelled = order("INV/2", "A-1", 1);
            cancelled.status = crate::domain::OrderStatus(0);
            batch.upsert_order(cancelled);
            batch.quarantine(bad("page 1 #0"));
            store.apply(batch).unwrap();
            let mut batch = ImportBatch::new(&lain);
            batch.upsert_order(order("INV/7", "X-1", 2));
            store.apply(batch).unwrap();
            let event = crate::records::Event {
                kind: crate::records::EventKind::Click,
                slot: None,
                product: None,
                item: None,
                at: None,
                customer: None,
                visitor: None,
                arm: None,
                order: None,
                total: None,
                items: Vec::new(),
            };
            store
                .append_events(&toko, &[event.clone(), event.clone()])
                .unwrap();
            store.append_events(&lain, &[event]).unwrap();
            store.flush_blocking().unwrap();
        }
        {
            // As format 2 left it: no counts anywhere, marker 2.
            let db = when_released(|| sled::open(dir.path().join("store")));
            let records = db.open_tree("records").unwrap();
            let events = db.open_tree("events").unwrap();
            for k in records.iter().keys() {
                let k = k.unwrap();
                if k.ends_with(b"\0s\0counts") {
                    records.remove(k).unwrap();
                }
            }
            for k in events.scan_prefix(b"\0count\0").keys() {
                events.remove(k.unwrap()).unwrap();
            }
            records.insert(FORMAT_KEY, codec::encode(&2u32)).unwrap();
            db.flush().unwrap();
        }

        let store = when_released(|| Store::open(dir.path()));
        let counts = store.counts(&toko).unwrap();
        assert_eq!(
            counts,
            Counts {
                products: 2,
                active_products: 1,
                orders: 2,
                paid_orders: 1,
                quarantined: 1,
                events: 2,
                ..Counts::default()
            }
        );
        for shop in [&toko, &lain] {
            assert_eq!(store.counts(shop).unwrap(), recount(&store, shop).unwrap());
        }
        // Writes after the upgrade move the counted figures on.
        let mut batch = ImportBatch::new(&toko);
        batch.upsert_product(product("C-3", 3000));
        store.apply(batch).unwrap();
        assert_eq!(store.counts(&toko).unwrap().active_products, 2);
        store.flush_blocking().unwrap();
        drop(store);
        let db = when_released(|| sled::open(dir.path().join("store")));
        let records = db.open_tree("records").unwrap();
        let events = db.open_tree("events").unwrap();
        assert_eq!(
            upgrade(&records, &events, dir.path()).unwrap(),
            None,
            "counted once"
        );
    }

    #[test]
    fn a_store_of_a_newer_format_is_refused_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = when_released(|| sled::open(dir.path().join("store")));
            let tree = db.open_tree("records").unwrap();
            tree.insert(FORMAT_KEY, codec::encode(&(FORMAT + 1))).unwrap();
            db.flush().unwrap();
        }
        let err = when_released(|| match Store::open(dir.path()) {
            Err(e @ StoreError::NewerFormat { .. }) => Ok(e.to_string()),
            Err(e) => Err(e),
            Ok(_) => panic!("a store of a newer format opened"),
        });
        assert!(
            err.contains(&format!("format {}", FORMAT + 1)) && err.contains("upgrade laris"),
            "{err}"
        );
    }

    #[test]
    fn a_new_store_starts_at_the_current_format() {
        let dir = tempfile::tempdir().unwrap();
        drop(when_released(|| Store::open(dir.path())));
        let db = when_released(|| sled::open(dir.path().join("store")));
        let tree = db.open_tree("records").unwrap();
        let events = db.open_tree("events").unwrap();
        assert_eq!(upgrade(&tree, &events, dir.path()).unwrap(), None);
    }
}
