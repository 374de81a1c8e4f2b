//! `POST /admin/api/shops/{shop}/sync[?full=true]`: runs the shop's sources now, the same
//! run the schedule makes, and answers with its reports (`laris sync` uses it when the
//! service holds the store). A shop already syncing answers 409, here or on another
//! replica (then the error names the replica holding the shop's sync lease).

use std::collections::HashMap;

use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::admin_auth::Access;
use crate::sync::agent::{SyncError, SyncOptions};
use crate::web::admin::admin_access_csrf;
use crate::web::errors::{internal, reject, store_failed};
use crate::web::state::{allowed_shop, with_state, AppState};

pub fn admin_sync(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("admin" / "api" / "shops" / String / "sync")
        .and(warp::post())
        .and(admin_access_csrf(&state))
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state(state))
        .and_then(
            |shop: String, access: Access, q: HashMap<String, String>, state: AppState| async move {
                let shop = allowed_shop(&state, &access, &shop)?;
                let options = SyncOptions {
                    full: q.get("full").is_some_and(|v| v == "true" || v == "1"),
                    ..Default::default()
                };
                run(&state, shop.id.as_str(), options).await
            },
        )
}

pub(crate) async fn run(
    state: &AppState,
    shop: &str,
    options: SyncOptions,
) -> Result<warp::reply::Json, Rejection> {
    match state.sync.sync_shop(shop, &options).await {
        Ok(outcome) => Ok(warp::reply::json(&outcome)),
        Err(e @ (SyncError::Busy(_) | SyncError::Leased { .. })) => {
            Err(reject(StatusCode::CONFLICT, e.to_string()))
        }
        Err(e @ SyncError::UnknownShop(_)) => Err(reject(StatusCode::NOT_FOUND, e.to_string())),
        Err(e) => match e.unavailable() {
            Some(store) => Err(store_failed("sync", store)),
            None => Err(internal("sync", e)),
        },
    }
}
