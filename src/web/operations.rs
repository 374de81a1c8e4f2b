//! The admin API's operations on the running service: `GET /admin/api/status` and
//! `POST /admin/api/shops/{shop}/replay` and `/rebuild` — `laris status`, `replay` and
//! `rebuild` through the service, which holds the store (`laris sync` goes through
//! [`crate::web::sync`]).

use std::path::PathBuf;

use serde::Deserialize;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::admin_auth::Access;
use crate::config::ShopSettings;
use crate::domain::ShopId;
use crate::sync::agent::SyncError;
use crate::web::admin::{admin_access, admin_access_csrf};
use crate::web::errors::{internal, reject, store_failed};
use crate::web::state::{allowed_shop, with_state, AppState};

#[derive(Deserialize)]
struct StatusQuery {
    shop: Option<String>,
}

/// GET /admin/api/status[?shop=ID] — what `laris status --json` prints; a shop's user sees
/// only that shop.
pub fn admin_status(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("admin" / "api" / "status")
        .and(warp::get())
        .and(admin_access(&state))
        .and(warp::query::<StatusQuery>())
        .and(with_state(state))
        .and_then(|access: Access, q: StatusQuery, state: AppState| async move {
            if let Some(shop) = &q.shop {
                allowed_shop(&state, &access, shop)?;
            }
            let (settings, store, models) =
                (state.settings.clone(), state.store.clone(), state.models.clone());
            let mut report = tokio::task::spawn_blocking(move || {
                crate::status::status(&settings, &*store, q.shop.as_deref(), Some(&models))
            })
            .await
            .map_err(|e| internal("status task", e))?
            .map_err(|e| store_failed("status", &e))?;
            report
                .shops
                .retain(|s| ShopId::parse(&s.id).is_ok_and(|id| access.allows(&id)));
            for s in &mut report.shops {
                // A run under way now is not an interrupted one.
                if ShopId::parse(&s.id).is_ok_and(|id| state.sync.busy(&id)) {
                    s.interrupted_run = None;
                }
            }
            Ok::<_, Rejection>(warp::reply::json(&report))
        })
}

#[derive(Deserialize)]
struct ReplayRequest {
    dir: String,
}

/// Where the admin API may read a shop's recordings: the data directory's
/// `recordings/{shop}` and the shop's `replay_dirs`.
pub fn replay_roots(data_dir: &std::path::Path, shop: &ShopSettings) -> Vec<PathBuf> {
    let mut roots = vec![data_dir.join("recordings").join(shop.id.as_str())];
    roots.extend(shop.replay_dirs.iter().cloned());
    roots
}

/// The recording a replay request names, when it lies inside one of the shop's replay
/// roots (a relative name is taken inside `recordings/{shop}`). Anything else — another
/// shop's recording, `/etc`, a path that does not exist — gets the same refusal, which
/// names no server path.
fn replay_dir(state: &AppState, shop: &ShopSettings, raw: &str) -> Result<PathBuf, Rejection> {
    let roots = replay_roots(&state.data_dir, shop);
    let asked = PathBuf::from(raw);
    let asked = if asked.is_absolute() {
        asked
    } else {
        roots[0].join(asked)
    };
    let inside = std::fs::canonicalize(&asked).ok().filter(|dir| {
        roots
            .iter()
            .filter_map(|r| std::fs::canonicalize(r).ok())
            .any(|root| dir.starts_with(root))
    });
    inside.ok_or_else(|| {
        reject(
            StatusCode::FORBIDDEN,
            format!(
                "no recording {raw:?} among shop {shop}'s recordings: the service replays only from the data directory's recordings/{shop}/ and the shop's replay_dirs (laris.toml); `laris replay --dir DIR` copies a recording there by itself",
                shop = shop.id
            ),
        )
    })
}

/// POST /admin/api/shops/{shop}/replay `{"dir": "name or path"}` — `laris replay` through
/// the running service, which holds the store. Only the shop's own recordings (see
/// `replay_dir`).
pub fn admin_replay(
    state: AppState,
    max_body: u64,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("admin" / "api" / "shops" / String / "replay")
        .and(warp::post())
        .and(admin_access_csrf(&state))
        .and(warp::body::content_length_limit(max_body))
        .and(warp::body::json::<ReplayRequest>())
        .and(with_state(state))
        .and_then(
            |shop: String, access: Access, req: ReplayRequest, state: AppState| async move {
                let shop = allowed_shop(&state, &access, &shop)?;
                let dir = replay_dir(&state, shop, &req.dir)?;
                let _claim = state.sync.claim(&shop.id).map_err(|e| match e {
                    // Running here, or on another replica (named).
                    SyncError::Busy(_) | SyncError::Leased { .. } => {
                        reject(StatusCode::CONFLICT, e.to_string())
                    }
                    e => internal("claiming the shop for a replay", e),
                })?;
                let store = state.store.clone();
                let settings = shop.clone();
                let result = tokio::task::spawn_blocking(move || {
                    crate::sync::replay::replay_and_rebuild(&*store, &settings, &dir)
                })
                .await
                .map_err(|e| internal("replay task", e))?;
                match result {
                    Ok((report, model)) => {
                        state.models.put(shop.id.clone(), model);
                        state
                            .store
                            .durable()
                            .await
                            .map_err(|e| store_failed("flush", &e))?;
                        Ok::<_, Rejection>(warp::reply::json(&report))
                    }
                    Err(crate::sync::replay::ReplayError::Recording(e)) => {
                        Err(reject(StatusCode::BAD_REQUEST, e.to_string()))
                    }
                    Err(crate::sync::replay::ReplayError::Import(
                        crate::sync::pipeline::ImportError::Store(e),
                    )) => Err(store_failed("replay", &e)),
                    Err(e) => Err(internal("replay", e)),
                }
            },
        )
}

/// Rebuilds one shop's model off the request threads and swaps it in.
pub async fn rebuild_in_background(state: &AppState, shop: &ShopSettings) -> Result<(), Rejection> {
    let settings = shop.clone();
    let store = state.store.clone();
    let model = tokio::task::spawn_blocking(move || crate::model::rebuild::rebuild_shop(&*store, &settings))
        .await
        .map_err(|e| internal("rebuild task", e))?
        .map_err(|e| store_failed("rebuild", &e))?;
    state.models.put(shop.id.clone(), model);
    Ok(())
}

/// POST /admin/api/shops/{shop}/rebuild — `laris rebuild` through the running service.
pub fn admin_rebuild(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("admin" / "api" / "shops" / String / "rebuild")
        .and(warp::post())
        .and(admin_access_csrf(&state))
        .and(with_state(state))
        .and_then(|shop: String, access: Access, state: AppState| async move {
            let shop = allowed_shop(&state, &access, &shop)?;
            rebuild_in_background(&state, shop).await?;
            let model = state.models.get(&shop.id).expect("just built");
            Ok::<_, Rejection>(warp::reply::json(&crate::model::rebuild::summary(&model)))
        })
}
