//! Feed parsers: one module per source kind, pure functions from raw bytes to records.
//! Fetching, retries and storing belong to the sync layer.

pub mod baskets;
pub mod exports;
pub mod marketplace;
pub mod storefront;
pub mod tiktok_shop;

use thiserror::Error;

use crate::domain::Rupiah;
use crate::records::{OrderLine, QuarantineReason};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FeedError {
    /// A whole page (response) is unusable: nothing of it is imported.
    #[error("page refused: {0}")]
    Page(String),
    /// One record is unusable: it is quarantined, the rest of the page is imported.
    #[error("{0}")]
    Record(QuarantineReason),
}

impl FeedError {
    /// A record lacks a field its kind needs.
    pub fn missing(field: impl Into<String>) -> Self {
        FeedError::Record(QuarantineReason::missing(field))
    }

    /// A record's field holds a value that cannot be used; `detail` names it and the rule.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FeedError::Record(QuarantineReason::invalid(field, detail))
    }

    /// A record cannot be read as a whole.
    pub fn unreadable(detail: impl Into<String>) -> Self {
        FeedError::Record(QuarantineReason::unreadable(detail))
    }

    /// What a quarantined record keeps as its reason.
    pub fn reason(&self) -> QuarantineReason {
        match self {
            FeedError::Record(reason) => reason.clone(),
            FeedError::Page(_) => QuarantineReason::unreadable(self.to_string()),
        }
    }
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
