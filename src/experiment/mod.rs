//! The pure core of a per-shop randomised holdout experiment: a share of visitors (the
//! control arm) sees no recommendations, or best sellers, and the rest (the treatment arm)
//! sees them; comparing the arms measures what the recommendations earn.
//!
//! - [`assign`]: which arm a visitor is in, a stable hash of the visitor id and the
//!   experiment's salt.
//! - [`outcomes`]: from stored events (and marketplace orders tied through customer
//!   tokens) to each arm's visitor-level outcomes, counting what cannot be tied to an arm.
//! - [`stats`]: per-arm summaries of visitor-level outcomes, the differences between the arms
//!   with 95% confidence intervals and p-values (Welch's t-test; a seeded percentile
//!   bootstrap for revenue per visitor), the sample-ratio-mismatch check and the minimum
//!   detectable effect; plus the distributions they need (the normal quantile, the
//!   chi-square tail via the regularized incomplete gamma function).
//! - [`report`]: the owner's report: the settings, the period, the numbers and the untied
//!   counts, read from the store; the current experiment's, else the last stopped one's.
//! - [`runs`]: the experiments a shop has run, from its settings-change log.
//!
//! Plain functions over plain data (only [`report::report`] reads the store), no HTTP.
//! `docs/experiment.md` explains each number and its formula.

pub mod assign;
pub mod outcomes;
pub mod report;
pub mod runs;
pub mod stats;

#[cfg(test)]
mod simulation;
