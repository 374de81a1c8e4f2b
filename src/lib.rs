//! Laris ("laku laris": it sells) — a self-hosted service for small online shops. It keeps
//! an embedded sled store synchronised with a shop's marketplace feeds and serves a widget
//! and HTML fragments with similar products, premium upgrades, bundle offers and
//! loyalty-tier discounts, plus a small CRM for the shop owner.
//!
//! # Layout
//!
//! Modules sit on floors and use only lower ones (`tests/layers.rs` checks it; see
//! `docs/architecture.md`), lowest first:
//!
//! 1. [`domain`]: ids, money ([`domain::Rupiah`]), order statuses, slots, password hashes.
//! 2. [`records`]: products, orders, customers, reports, quarantine, events, feedback.
//! 3. [`store`] (the [`store::ShopStore`] trait and its sled implementation), [`feeds`]
//!    (pure parsers of each source kind), [`config`] (validated [`config::Settings`]).
//! 4. [`recommend`]: the models, pure code over plain data.
//! 5. [`loyalty`]: customers derived from orders, segments, tiers, customer tokens.
//! 6. [`model`]: the served model, its rebuild and its answers.
//! 7. [`sync`] (pipeline, sources, recordings, schedule), [`eval`] (offline evaluation),
//!    [`status`] (what `laris status` reports).
//! 8. [`server`]: the HTTP server's connection cap and time limits; [`experiment`]: a holdout
//!    experiment's assignment and statistics.
//! 9. [`admin_auth`]: sessions, CSRF tokens, sign-in limits, the bounded password checks.
//! 10. [`admin`]: the dashboard's data: analytics, SVG charts, CSV.
//! 11. [`web`]: HTTP routes and handlers; `web::admin` serves the dashboard.
//! 12. [`app`]: the running service (build, run, shutdown).
//! 13. [`cli`]: the command line.

pub mod admin;
pub mod admin_auth;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod eval;
pub mod experiment;
pub mod feeds;
pub mod loyalty;
pub mod model;
pub mod outreach;
pub mod recommend;
pub mod records;
pub mod server;
pub mod status;
pub mod store;
pub mod sync;
pub mod web;
