//! What every file of the sled backend shares: its error conversion, the record kinds that
//! make up the middle part of a key, and the keys themselves.

use crate::domain::ShopId;
use crate::store::StoreError;

/// Turns sled's errors into [`StoreError::Backend`], so that no signature names sled.
pub(crate) trait Sled<T> {
    fn sled(self) -> Result<T, StoreError>;
}

impl<T> Sled<T> for Result<T, sled::Error> {
    fn sled(self) -> Result<T, StoreError> {
        self.map_err(StoreError::backend)
    }
}

/// Record kinds: the middle part of a key.
pub(crate) mod kind {
    pub const PRODUCT: &str = "p";
    /// marketplace product id → our product id
    pub const PRODUCT_REF: &str = "pr";
    pub const ORDER: &str = "o";
    /// one customer per record: stores of format 3 and older (the upgrade to 4 chunks them)
    pub const CUSTOMER: &str = "c";
    /// the customers a rebuild derived, [`crate::store::sled_import::CUSTOMERS_PER_CHUNK`]
    /// to a record, by id, under the chunk's number (big-endian u32)
    pub const CUSTOMER_CHUNK: &str = "cc";
    pub const QUARANTINE: &str = "q";
    /// sync reports keyed by start time (big-endian millis) so the newest is last
    pub const REPORT: &str = "r";
    /// markers, cursors and generations, by name ([`super::state`])
    pub const STATE: &str = "s";
    /// model snapshots by name
    pub const MODEL: &str = "m";
    /// customers' feedback messages by id (big-endian u64, so the newest is last)
    pub const FEEDBACK: &str = "f";
    /// the owner's settings overlay (`config::overlay`), one record named `overlay`
    pub const SETTINGS: &str = "g";
    /// the settings changes, by id (big-endian u64, so the newest is last)
    pub const SETTINGS_CHANGE: &str = "gc";
    /// follow-up messages by their key (`records::Message::key`)
    pub const MESSAGE: &str = "mk";
    /// opt-outs by customer id
    pub const OPT_OUT: &str = "oo";
}

/// A record's key in the records tree: `{shop}\0{kind}\0{id}`.
pub(crate) fn key(shop: &ShopId, kind: &str, id: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(shop.as_str().len() + kind.len() + id.len() + 2);
    k.extend_from_slice(shop.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(kind.as_bytes());
    k.push(0);
    k.extend_from_slice(id);
    k
}

/// Where every record of one kind of a shop starts.
pub(crate) fn prefix(shop: &ShopId, kind: &str) -> Vec<u8> {
    key(shop, kind, b"")
}

/// The shop and the kind of a key in the records tree; `None` for a key outside every shop
/// (the format marker starts with a zero byte, which no shop id has).
pub(crate) fn shop_and_kind(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let shop_end = key.iter().position(|&b| b == 0).filter(|&i| i > 0)?;
    let rest = &key[shop_end + 1..];
    let kind_end = rest.iter().position(|&b| b == 0)?;
    Some((&key[..shop_end], &rest[..kind_end]))
}

/// Where the shop's [`crate::store::Counts`] are kept, among its state.
pub(crate) fn counts_key(shop: &ShopId) -> Vec<u8> {
    key(shop, kind::STATE, b"counts")
}
