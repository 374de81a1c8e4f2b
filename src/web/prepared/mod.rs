//! Prepared widget answers: the fragment answers (`GET /v1/shops/{shop}/fragments[/{slot}]`)
//! kept ready as bytes, so that a product page asked for again is answered without a
//! model lookup, a template render or a compression.
//!
//! - [`cache`]: the bounded cache of whole answers (`[server] prepared_cache_mib`, 64 MiB
//!   unless set; counted in bytes), each
//!   with its ETag and its gzip and brotli bodies, compressed once, on first demand. It is
//!   keyed on the models' generation (`model::rebuild::Models::generation`), so a rebuild
//!   never serves an answer of the model it replaced.
//! - [`render`]: what an answer not kept yet is made from: the very functions the normal
//!   routes answer with (`web::fragments`), templates and per-shop overrides included.
//! - [`hot`]: the server's shortcut (`server::Shortcut`), asked before the route table, that
//!   answers from the cache, and hands anything unusual (other parameters, an invalid
//!   customer token, the feedback slot, an error) on to the normal routes.
//!
//! Answers are prepared when first asked for, not all at rebuild: at 100,000 products, four
//! slots and two languages the whole set would not fit the memory bound; the cache keeps the
//! pages that are asked for. The templates are read once at start (`web::templates`), and
//! the cache lives beside them in `AppState`, so a template change (a restart) starts it
//! empty.
//!
//! A signed-in customer's answer is kept under their token: its loyalty part says how much
//! *that* customer has left to spend for the next tier, and its similar list leans towards
//! what they bought, so one answer per tier would not be the same bytes. A customer's
//! own list (`for_you`) counts days since their last purchase and is never kept, nor is the
//! feedback form (its token is made per request).

pub mod cache;
pub mod hot;
pub mod render;
