//! What every file of the sled backend shares: its error conversion and the record kinds
//! that make up the middle part of a key.

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
    pub const CUSTOMER: &str = "c";
    pub const QUARANTINE: &str = "q";
    /// sync reports keyed by start time (big-endian millis) so the newest is last
    pub const REPORT: &str = "r";
    /// markers, cursors and generations, by name ([`super::state`])
    pub const STATE: &str = "s";
    /// model snapshots by name
    pub const MODEL: &str = "m";
    /// customers' feedback messages by id (big-endian u64, so the newest is last)
    pub const FEEDBACK: &str = "f";
}
