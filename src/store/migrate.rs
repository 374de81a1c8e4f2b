//! The sled store's format version, and the one upgrade it has had.
//!
//! Format 1 (no marker) kept quarantined records under a `DefaultHasher` hash of the
//! record, whose output may change between Rust releases: a Laris built with another Rust
//! would have kept a second copy of a record quarantined again. Format 2 keys them by
//! [`quarantine_id`], a SHA-256 digest, and records `format = 2` under a key no shop can
//! have. Opening a format 1 store rewrites its quarantine keys and writes the marker in one
//! atomic batch; opening a format 2 store changes nothing.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::records::Quarantined;
use crate::store::sled_keys::{kind, Sled};
use crate::store::{codec, StoreError};

/// The format this Laris writes.
pub const FORMAT: u32 = 2;

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

/// Brings the records tree to [`FORMAT`]: `Some(rewritten quarantine keys)` when it
/// upgraded (a new store is upgraded from nothing), `None` when it was current.
pub(crate) fn upgrade(records: &sled::Tree, path: &Path) -> Result<Option<usize>, StoreError> {
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
    let fresh = records.is_empty();
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
    batch.insert(FORMAT_KEY, codec::encode(&FORMAT));
    records.apply_batch(batch).sled()?;
    if !fresh {
        tracing::info!(store = %path.display(), from = found, to = FORMAT, quarantine_keys = rewritten, "store format upgraded");
    }
    Ok(Some(rewritten))
}

/// Where the id starts in a key `{shop}\0q\0{id}`; `None` for any other key.
fn quarantine_id_start(key: &[u8]) -> Option<usize> {
    let shop_end = key.iter().position(|&b| b == 0).filter(|&i| i > 0)?;
    let rest = &key[shop_end + 1..];
    let kind_end = rest.iter().position(|&b| b == 0)?;
    (&rest[..kind_end] == kind::QUARANTINE.as_bytes()).then_some(shop_end + 1 + kind_end + 1)
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
            assert_eq!(upgrade(&tree, dir.path()).unwrap(), None);
        }
        let store = when_released(|| Store::open(dir.path()));
        assert_eq!(store.quarantined_count(&shop).unwrap(), 3);
        drop(store);
        assert_eq!(keys(dir.path()), after_first, "the second open rewrote nothing");
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
        assert!(err.contains("format 3") && err.contains("upgrade laris"), "{err}");
    }

    #[test]
    fn a_new_store_starts_at_the_current_format() {
        let dir = tempfile::tempdir().unwrap();
        drop(when_released(|| Store::open(dir.path())));
        let db = when_released(|| sled::open(dir.path().join("store")));
        let tree = db.open_tree("records").unwrap();
        assert_eq!(upgrade(&tree, dir.path()).unwrap(), None);
    }
}
