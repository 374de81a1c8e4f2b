//! The shop owner's dashboard: what the admin pages show, computed here as pure functions
//! over plain data (orders, customers, widget events) and drawn as server-rendered SVG, so
//! the pages need no JavaScript and no external assets. The HTTP side (routes, auth) lives
//! with the web layer and only calls into this module.

pub mod analytics;
pub mod charts;
