//! What every handler shares ([`AppState`]), and the shop a request names: one this service
//! knows ([`known_shop`]) and, on the admin API, one the caller may see ([`allowed_shop`]).
//! Both hand back the shop's settings, so a handler never looks the shop up again.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use warp::http::StatusCode;
use warp::{Filter, Rejection};

use crate::admin_auth::{Access, Sessions};
use crate::config::{Settings, ShopSettings};
use crate::domain::ShopId;
use crate::store::SharedStore;
use crate::web::errors::reject;
use crate::web::event_log::EventLog;
use crate::web::rate_limit::RateLimiter;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    /// The store, whichever backend `app::open_store` opened.
    pub store: SharedStore,
    /// Bearer token for `/admin/api/*` (from config, env, or the data directory).
    pub admin_token: Arc<String>,
    /// Admin sign-in: password hashes, live sessions and the count of wrong passwords.
    pub sessions: Arc<Sessions>,
    /// The data directory, where `laris admin set-password` keeps the password hashes that
    /// each sign-in reads again (a new password works without a restart).
    pub data_dir: Arc<PathBuf>,
    pub templates: Arc<minijinja::Environment<'static>>,
    /// Every shop's current model snapshot, swapped atomically by rebuilds.
    pub models: Arc<crate::model::rebuild::Models>,
    /// Per-client limit on widget events, so one page cannot flood the store.
    pub event_limiter: Arc<RateLimiter>,
    /// Every shop's event summary (what the performance page reads), its shared event
    /// rate, cap and retention.
    pub event_log: Arc<EventLog>,
    /// Writes widget events in groups, and holds them in memory while the database is
    /// unreachable.
    pub event_writer: Arc<crate::web::event_writer::EventWriter>,
    /// Runs syncs (on schedule and on demand), one at a time per shop.
    pub sync: Arc<crate::sync::agent::SyncAgent>,
    /// The admin overviews computed at each shop's current data generation.
    pub overviews: Arc<crate::admin::views::OverviewCache>,
    /// The widget's fragment answers kept ready as bytes, per model generation.
    pub prepared: Arc<crate::web::prepared::cache::PreparedAnswers>,
    /// The visitors whose exposure to a running experiment was noted.
    pub exposures: Arc<crate::web::exposure::Exposures>,
}

/// Hands each request the shared state.
pub(crate) fn with_state(state: AppState) -> impl Filter<Extract = (AppState,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

/// The shop named in a path, known to this service: its settings (`shop.id` is its id).
/// 404 for a shop that is not configured.
pub fn known_shop<'a>(state: &'a AppState, raw: &str) -> Result<&'a ShopSettings, Rejection> {
    let id = ShopId::parse(raw).map_err(|e| reject(StatusCode::NOT_FOUND, format!("unknown shop: {e}")))?;
    state.settings.shop(&id).ok_or_else(|| {
        reject(
            StatusCode::NOT_FOUND,
            format!("unknown shop {raw:?}: shops are configured as [[shops]] in laris.toml"),
        )
    })
}

/// The shop named in an admin path, known to this service and open to `access`: its
/// settings. 403 for another shop's user (whether or not that shop exists), 404 for an
/// unknown shop.
pub fn allowed_shop<'a>(
    state: &'a AppState,
    access: &Access,
    raw: &str,
) -> Result<&'a ShopSettings, Rejection> {
    if let Access::Shop(own) = access {
        if own.as_str() != raw {
            return Err(reject(
                StatusCode::FORBIDDEN,
                format!("user {own} may see shop {own} only, not {raw:?}"),
            ));
        }
    }
    known_shop(state, raw)
}
