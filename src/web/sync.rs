//! `POST /admin/api/shops/{shop}/sync[?full=true]`: runs the shop's sources now, the same
//! run the schedule makes, and answers with its reports (`laris sync` uses it when the
//! service holds the store). A shop already syncing answers 409.

use std::collections::HashMap;

use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::sync::agent::{SyncError, SyncOptions};
use crate::web::{admin_auth, internal, known_shop, reject, with_state, AppState};

pub fn admin_sync(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("admin" / "api" / "shops" / String / "sync")
        .and(warp::post())
        .and(admin_auth(state.clone()))
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state(state))
        .and_then(
            |shop: String, q: HashMap<String, String>, state: AppState| async move {
                let shop = known_shop(&state, &shop)?;
                let options = SyncOptions {
                    full: q.get("full").is_some_and(|v| v == "true" || v == "1"),
                    ..Default::default()
                };
                run(&state, shop.as_str(), options).await
            },
        )
}

async fn run(state: &AppState, shop: &str, options: SyncOptions) -> Result<warp::reply::Json, Rejection> {
    match state.sync.sync_shop(shop, &options).await {
        Ok(outcome) => Ok(warp::reply::json(&outcome)),
        Err(e @ SyncError::Busy(_)) => Err(reject(StatusCode::CONFLICT, e.to_string())),
        Err(e @ SyncError::UnknownShop(_)) => Err(reject(StatusCode::NOT_FOUND, e.to_string())),
        Err(e) => Err(internal("sync", e)),
    }
}
