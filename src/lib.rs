//! Laris ("laku laris": it sells) — a self-hosted service for small online shops. It keeps
//! an embedded sled store synchronised with a shop's marketplace feeds and serves a widget
//! and HTML fragments with similar products, premium upgrades, bundle offers and
//! loyalty-tier discounts, plus a small CRM for the shop owner.
//!
//! # Layout
//!
//! Data flows one way: feeds → sync → store → recommend (rebuild) → store → web.
//!
//! - [`analyst`]: `laris rules` and text renderings for analysts.
//! - [`cli`]: the command line; [`app`]: the running service (build, run, shutdown);
//!   [`server`]: the HTTP server's connection cap and time limits.
//! - [`config`]: `config/laris.toml` + `LARIS_…` variables, validated into [`config::Settings`].
//! - [`domain`]: ids, money ([`domain::Rupiah`]), order statuses, pack sizes: parsed once.
//! - [`records`]: products, orders, customers, reports: the data the store keeps.
//! - [`store`]: the store API ([`store::ShopStore`]) and its sled backend, the only code
//!   that knows sled.
//! - [`feeds`]: pure parsers of each source kind's raw data.
//! - [`sync`]: the import pipeline, recordings and replay.
//! - [`customers`]: customers derived from orders.
//! - [`recommend`]: the models, pure code over plain data.
//! - [`rebuild`]: model rebuilds and the live snapshots; [`token`]: signed customer tokens.
//! - [`status`]: what `laris status` reports.
//! - [`eval`]: offline evaluation (`laris eval`): time split, protocols, metrics, statistics.
//! - [`web`]: HTTP routes and handlers (widget fragments, events, feedback), templates;
//!   `web::admin` serves the dashboard's sign-in, pages and admin API.
//! - [`admin`]: the owner's dashboard: sales and recommendation analytics, SVG charts, and
//!   the data of each page (shared by the HTML page and the admin API).
//! - [`admin_auth`]: admin sign-in: password hashes, sessions and CSRF tokens, the limits on
//!   wrong passwords (`admin_auth::limits`), the bounded pool that checks passwords
//!   (`admin_auth::checks`), and the filters admitting a session cookie or the admin token.

pub mod admin;
pub mod admin_auth;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod eval;
pub mod feeds;
pub mod loyalty;
pub mod model;
pub mod recommend;
pub mod records;
pub mod server;
pub mod status;
pub mod store;
pub mod sync;
pub mod web;
