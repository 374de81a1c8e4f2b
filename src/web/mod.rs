//! HTTP: routes, handlers and the one place that turns every rejection into a JSON error
//! `{"error": "…"}` with the right status ([`errors`]). Handlers only read the store and
//! precomputed models; nothing here computes a model.
//!
//! Every GET route also answers HEAD (the route table, `routes.rs`); absolute links are
//! built on the shop's `public_url` ([`links`]); the Host header is used only when no
//! `public_url` is set and only when it is a valid host[:port], and such answers say
//! `Vary: Host`.

pub mod admin;
pub mod chat;
pub mod client;
pub mod cors;
pub mod demo;
pub mod encoding;
pub mod errors;
pub mod event_log;
pub mod event_writer;
pub mod events;
pub mod experiment;
pub mod exposure;
pub mod feedback;
pub mod fragments;
pub mod links;
pub mod metrics;
pub mod openapi;
pub mod operations;
pub mod prepared;
pub mod public;
pub mod rate_limit;
pub mod recommendations;
pub mod rejections;
pub mod routes;
pub mod state;
pub mod sync;
pub mod templates;
pub mod widget;

pub use routes::routes;
pub use state::AppState;
