//! Recommendation models: pure code over plain data. Nothing here does I/O.

pub mod fpgrowth;
pub mod kmeans;
