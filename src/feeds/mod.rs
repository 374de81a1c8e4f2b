//! Feed parsers: one module per source kind, pure functions from raw bytes to records.
//! Fetching, retries and storing belong to the sync layer.

pub mod baskets;
pub mod exports;
pub mod marketplace;
pub mod storefront;

use thiserror::Error;

use crate::domain::Rupiah;
use crate::records::OrderLine;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FeedError {
    /// A whole page (response) is unusable: nothing of it is imported.
    #[error("page refused: {0}")]
    Page(String),
    /// One record is unusable: it is quarantined, the rest of the page is imported.
    #[error("{0}")]
    Record(String),
}

/// The sum of an order's lines (unit price × quantity), or `None` when it does not fit in
/// an `i64` of rupiah: no real order does, and such a record is refused with a reason rather
/// than wrapped around (release) or panicked on (debug).
pub(crate) fn lines_total(lines: &[OrderLine]) -> Option<Rupiah> {
    lines
        .iter()
        .try_fold(0i64, |sum, l| {
            l.unit_price
                .0
                .checked_mul(i64::from(l.quantity))?
                .checked_add(sum)
        })
        .map(Rupiah)
}
