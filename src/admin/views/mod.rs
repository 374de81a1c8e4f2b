//! What each admin page shows: one function per page reading the store, the shop's settings
//! and its model snapshot, returning a serialisable struct. The HTML page renders it and the
//! admin API returns it as JSON, so the two never disagree. Query parameters are parsed
//! once into typed queries (`queries.rs`); a bad value is a [`PageError::BadQuery`] that
//! quotes it and lists the choices.
//!
//! A file per page group: sales (overview, performance), catalogue (products, a product
//! and its fit panel), customers (customers, a customer, tiers), bundles, sync, upload, feedback,
//! outreach (the outbox and opt-outs).
//!
//! These functions read sled and scan every order of a shop: callers run them in
//! `spawn_blocking`. The overview, which the dashboard opens on, is kept per shop and query
//! until the shop's data changes ([`OverviewCache`]).

mod bundles;
mod cache;
mod catalogue;
mod customers;
mod feedback;
mod outreach;
mod queries;
mod sales;
mod sync;
mod upload;

pub use bundles::{bundles, BundleThresholds, BundlesPage, OfferLineRow, OfferRow, ProductRef, RuleRow};
pub use cache::{OverviewCache, OVERVIEWS_KEPT};
pub use catalogue::{
    fit_panel, product, products, FitList, FitPanel, ProductPage, ProductRow, ProductsPage, WeightRow,
    BEST_SELLERS_LISTED,
};
pub use customers::{customer, customers, tiers, CustomerPage, OrderLineRow, OrderRow, TierRow, TiersPage};
pub use feedback::{feedback, set_feedback_status, FeedbackPage};
pub use outreach::{
    add_opt_out, mark_sent, messages, opt_outs, outbox, outbox_csv, parse_message_status, remove_opt_out,
    MessageRow, MessagesPage, OptOutAdded, OptOutRow, OptOutsPage, OutboxPage, OutboxRow, RECENT_LISTED,
};
pub use queries::{
    msg, parse_feedback_id, parse_feedback_status, CustomerQuery, OverviewQuery, PageError, ProductQuery,
};
pub use sales::{attribution_rule, overview, performance_page, PerformancePage, MAX_BUCKETS};
pub use sync::{
    source_view, sync_page, QuarantinedRow, SourceView, SyncPage, QUARANTINE_LISTED, REPORTS_LISTED,
};
pub use upload::{
    parse_upload_query, quarantined_by, size_text, upload_page, ImportReport, ImportRow, UploadPage,
    IMPORTS_LISTED,
};
