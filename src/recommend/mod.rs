//! Recommendation models: pure code over plain data. Nothing here does I/O.

pub mod blend;
pub mod bundles;
pub mod copurchase;
pub mod features;
pub mod fpgrowth;
pub mod kmeans;
pub mod similar;
pub mod units;
pub mod upsell;
