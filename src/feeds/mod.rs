//! Feed parsers: one module per source kind, pure functions from raw bytes to records.
//! Fetching, retries and storing belong to the sync layer.

pub mod exports;
pub mod marketplace;
pub mod storefront;

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FeedError {
    /// A whole page (response) is unusable: nothing of it is imported.
    #[error("page refused: {0}")]
    Page(String),
    /// One record is unusable: it is quarantined, the rest of the page is imported.
    #[error("{0}")]
    Record(String),
}
