//! The stored form of a [`ShopModel`]: compact and versioned.
//!
//! A snapshot is one format byte, then a small [`SnapshotHead`] and the model, both in
//! postcard (a compact binary serde format: varint integers, no field names), so that a
//! 100,000-product model is a fraction of its JSON size and decodes without parsing text.
//! The head comes first so that `laris status` reads a model's figures without decoding
//! the model, and a snapshot of another model version is recognised before its body is
//! touched.
//!
//! Format byte [`JSON_FORMAT`] is what Laris wrote before: the store's record encoding
//! (JSON). Such a snapshot is not loaded: the caller rebuilds it (saying so in the log),
//! keeping the customers' previous standings, which [`previous_standings`] still reads
//! from it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::loyalty::tiers::LoyaltyModel;
use crate::model::{ShopModel, MODEL_VERSION};
use crate::store::codec;

/// The format byte of snapshots older Laris wrote: the record encoding's version, then JSON.
pub const JSON_FORMAT: u8 = codec::VERSION;
/// The format byte this Laris writes: a postcard [`SnapshotHead`], then the postcard model.
pub const POSTCARD_FORMAT: u8 = 2;

/// What a snapshot says about its model without decoding it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotHead {
    /// The model's [`MODEL_VERSION`]: a body of another version is not decoded.
    pub model_version: u32,
    pub built_at: DateTime<Utc>,
    pub products: u64,
    pub paid_orders: u64,
    pub bundle_transactions: u64,
    pub bundle_rules: u64,
}

impl SnapshotHead {
    fn of(model: &ShopModel) -> SnapshotHead {
        SnapshotHead {
            model_version: model.version,
            built_at: model.built_at,
            products: model.products.len() as u64,
            paid_orders: model.paid_orders as u64,
            bundle_transactions: model.bundles.transactions as u64,
            bundle_rules: model.bundles.rules.len() as u64,
        }
    }
}

/// Why stored bytes are not a snapshot this Laris loads.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("empty model snapshot")]
    Empty,
    #[error(
        "the model snapshot is in the JSON encoding of an older laris; rebuilding it stores it in the compact encoding"
    )]
    Json,
    #[error(
        "the model snapshot is of model version {found}, this laris builds version {MODEL_VERSION}; rebuilding it replaces it"
    )]
    ModelVersion { found: u32 },
    #[error(
        "model snapshot format {0} is not known to this laris (it writes {POSTCARD_FORMAT}); upgrade laris, or rebuild the model with this one"
    )]
    Format(u8),
    #[error("the model snapshot is damaged: {0}; rebuilding the model replaces it")]
    Postcard(#[from] postcard::Error),
    #[error("the model snapshot is damaged: {0}; rebuilding the model replaces it")]
    Codec(#[from] codec::CodecError),
}

/// The model as the store keeps it.
pub fn encode(model: &ShopModel) -> Vec<u8> {
    let head = SnapshotHead::of(model);
    // Sized first, so that the buffer is allocated once: grown by doubling, a 170 MB snapshot
    // of 100,000 products would pass through buffers of 128 and 256 MB.
    let size = 1
        + postcard::experimental::serialized_size(&head).expect("a snapshot head serialises")
        + postcard::experimental::serialized_size(model).expect("a model serialises");
    let mut out = Vec::with_capacity(size);
    out.push(POSTCARD_FORMAT);
    let out = postcard::to_extend(&head, out).expect("a snapshot head serialises");
    postcard::to_extend(model, out).expect("a model serialises")
}

/// The head alone; for an older JSON snapshot, read from its JSON without building the model.
pub fn head(bytes: &[u8]) -> Result<SnapshotHead, SnapshotError> {
    match bytes.split_first() {
        None => Err(SnapshotError::Empty),
        Some((&POSTCARD_FORMAT, rest)) => Ok(postcard::take_from_bytes::<SnapshotHead>(rest)?.0),
        Some((&JSON_FORMAT, _)) => {
            #[derive(Deserialize)]
            struct Counted {
                version: u32,
                built_at: DateTime<Utc>,
                products: Vec<serde::de::IgnoredAny>,
                paid_orders: u64,
                bundles: Bundles,
            }
            #[derive(Deserialize)]
            struct Bundles {
                transactions: u64,
                rules: Vec<serde::de::IgnoredAny>,
            }
            let m: Counted = codec::decode(bytes)?;
            Ok(SnapshotHead {
                model_version: m.version,
                built_at: m.built_at,
                products: m.products.len() as u64,
                paid_orders: m.paid_orders,
                bundle_transactions: m.bundles.transactions,
                bundle_rules: m.bundles.rules.len() as u64,
            })
        }
        Some((&other, _)) => Err(SnapshotError::Format(other)),
    }
}

/// The model, when the snapshot is of this Laris's format and model version.
pub fn decode(bytes: &[u8]) -> Result<ShopModel, SnapshotError> {
    match bytes.split_first() {
        None => Err(SnapshotError::Empty),
        Some((&POSTCARD_FORMAT, rest)) => {
            let (head, body) = postcard::take_from_bytes::<SnapshotHead>(rest)?;
            if head.model_version != MODEL_VERSION {
                return Err(SnapshotError::ModelVersion {
                    found: head.model_version,
                });
            }
            Ok(postcard::from_bytes(body)?)
        }
        Some((&JSON_FORMAT, _)) => Err(SnapshotError::Json),
        Some((&other, _)) => Err(SnapshotError::Format(other)),
    }
}

/// The loyalty ladder of a stored snapshot, of this format or the older JSON one (customers'
/// standings carry over a rebuild, so that a tier is not lost to an encoding change).
pub fn previous_standings(bytes: &[u8]) -> Result<LoyaltyModel, SnapshotError> {
    match bytes.first() {
        Some(&JSON_FORMAT) => {
            #[derive(Deserialize)]
            struct Loyalty {
                #[serde(default)]
                loyalty: LoyaltyModel,
            }
            Ok(codec::decode::<Loyalty>(bytes)?.loyalty)
        }
        _ => match decode(bytes) {
            Ok(model) => Ok(model.loyalty),
            // Version 2 is version 3 without the aliases at its end: its loyalty reads alike.
            Err(SnapshotError::ModelVersion { found: 2 }) => {
                let rest = &bytes[1..];
                let (_, body) = postcard::take_from_bytes::<SnapshotHead>(rest)?;
                Ok(postcard::from_bytes::<ShopModel>(body)?.loyalty)
            }
            Err(e) => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RecommendSettings;
    use crate::eval::fixtures::{catalogue, orders};
    use crate::model::build_model;

    fn model() -> ShopModel {
        build_model(catalogue(), &orders(), &RecommendSettings::default())
    }

    #[test]
    fn a_compact_snapshot_gives_back_the_same_model_and_its_head_alone() {
        let m = model();
        let bytes = encode(&m);
        assert_eq!(bytes[0], POSTCARD_FORMAT);
        let back = decode(&bytes).unwrap();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&m).unwrap()
        );
        let h = head(&bytes).unwrap();
        assert_eq!(h, SnapshotHead::of(&m));
        assert_eq!(h.products, m.products.len() as u64);
        assert!(
            bytes.len() < codec::encode(&m).len(),
            "smaller than the JSON snapshot"
        );
    }

    #[test]
    fn an_older_json_snapshot_is_rebuilt_but_keeps_its_head_and_standings() {
        let m = model();
        let old = codec::encode(&m);
        assert_eq!(old[0], JSON_FORMAT);
        assert!(matches!(decode(&old), Err(SnapshotError::Json)));
        assert_eq!(head(&old).unwrap(), SnapshotHead::of(&m));
        assert_eq!(previous_standings(&old).unwrap(), m.loyalty);
    }

    #[test]
    fn another_model_version_or_format_is_refused_with_the_way_out() {
        let m = model();
        let mut h = SnapshotHead::of(&m);
        h.model_version = MODEL_VERSION + 1;
        let bytes = postcard::to_extend(&h, vec![POSTCARD_FORMAT]).unwrap();
        let bytes = postcard::to_extend(&m, bytes).unwrap();
        let err = decode(&bytes).err().unwrap();
        assert!(matches!(err, SnapshotError::ModelVersion { .. }));
        assert!(err.to_string().contains("rebuilding it replaces it"));
        let err = decode(&[9, 1, 2]).err().unwrap();
        assert!(matches!(err, SnapshotError::Format(9)), "{err}");
        assert!(matches!(decode(&[]), Err(SnapshotError::Empty)));
    }

    #[test]
    fn a_model_version_2_snapshot_is_rebuilt_but_keeps_its_standings() {
        use crate::domain::{CustomerId, Rupiah};
        use crate::loyalty::tiers::Standing;
        let mut m = model();
        m.loyalty.standings.insert(
            CustomerId("777001".into()),
            Standing {
                tier: 1,
                spend: Rupiah(500_000),
                since: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            },
        );
        // Version 2 wrote the same fields without the aliases at the end (an empty map is
        // the one byte 0 in postcard).
        let mut h = SnapshotHead::of(&m);
        h.model_version = 2;
        let bytes = postcard::to_extend(&h, vec![POSTCARD_FORMAT]).unwrap();
        let mut bytes = postcard::to_extend(&m, bytes).unwrap();
        assert_eq!(bytes.pop(), Some(0));
        assert!(matches!(
            decode(&bytes),
            Err(SnapshotError::ModelVersion { found: 2 })
        ));
        assert_eq!(previous_standings(&bytes).unwrap(), m.loyalty);
    }
}
