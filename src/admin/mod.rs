//! The shop owner's dashboard: what the admin pages show, computed here as pure functions
//! over plain data (orders, customers, widget events) and drawn as server-rendered SVG, so
//! the pages need no JavaScript and no external assets; [`views`] gathers each page's data
//! from the store and the model, once for the HTML page and the admin API alike. The HTTP
//! side (routes, auth, templates) lives in `web::admin` and only calls into this module.

pub mod analytics;
pub mod charts;
pub mod csv;
pub mod settings;
pub mod views;
