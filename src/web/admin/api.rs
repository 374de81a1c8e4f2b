//! The admin API: each dashboard page's data as JSON under `/admin/api/shops/{shop}/…`,
//! from the same functions as the pages ([`crate::admin::views`]). Bearer token or session
//! cookie; a shop's user sees only that shop (403); a bad query answers 400 naming the value
//! and the choices. `POST …/feedback/{id}` changes state, so a cookie session must send
//! `X-CSRF-Token`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::admin::views::{self as data, PageError};
use crate::admin_auth::Access;
use crate::config::ShopSettings;
use crate::model::ShopModel;
use crate::store::ShopStore;
use crate::web::admin::{admin_access, admin_access_csrf, api_error, page_data};
use crate::web::public::percent_decode;
use crate::web::state::{allowed_shop, with_state, AppState};

type Query = HashMap<String, String>;

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    overview(state.clone())
        .or(products(state.clone()))
        .unify()
        .or(product(state.clone()))
        .unify()
        .or(customers(state.clone()))
        .unify()
        .or(customer(state.clone()))
        .unify()
        .or(tiers(state.clone()))
        .unify()
        .or(bundles(state.clone()))
        .unify()
        .or(performance(state.clone()))
        .unify()
        .or(experiment(state.clone()))
        .unify()
        .or(sync(state.clone()))
        .unify()
        .or(feedback(state.clone()))
        .unify()
        .or(feedback_status(state.clone()))
        .unify()
        .or(settings(state.clone()))
        .unify()
        .or(settings_save(state))
        .unify()
        .boxed()
}

/// The page data of an allowed shop as JSON.
pub(super) async fn answer<T, F>(
    state: AppState,
    access: Access,
    raw_shop: String,
    compute: F,
) -> Result<Response, Rejection>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&dyn ShopStore, &ShopSettings, Option<&ShopModel>) -> Result<T, PageError> + Send + 'static,
{
    let shop = allowed_shop(&state, &access, &raw_shop)?;
    let page = page_data(&state, shop, compute).await.map_err(api_error)?;
    Ok(warp::reply::json(&page).into_response())
}

fn no_params(q: &Query) -> Result<(), PageError> {
    match q.keys().next() {
        None => Ok(()),
        Some(k) => Err(PageError::BadQuery(format!(
            "unknown parameter {k:?}: this endpoint takes none"
        ))),
    }
}

/// A `GET /admin/api/shops/{shop}/{page}` route with its query.
fn get_page(
    state: &AppState,
    page: &'static str,
) -> impl Filter<Extract = (String, Access, Query, AppState), Error = Rejection> + Clone {
    warp::path!("admin" / "api" / "shops" / String / String)
        .and_then(move |shop: String, p: String| async move {
            if p == page {
                Ok(shop)
            } else {
                Err(warp::reject::not_found())
            }
        })
        .and(warp::get())
        .and(admin_access(state))
        .and(warp::query::<Query>())
        .and(with_state(state.clone()))
}

/// GET /admin/api/shops/{shop}/overview[?period=day|week|month&from=YYYY-MM-DD&to=YYYY-MM-DD]
fn overview(state: AppState) -> BoxedFilter<(Response,)> {
    get_page(&state, "overview")
        .and_then(|shop, access, q: Query, state: AppState| {
            let cache = state.overviews.clone();
            answer(state, access, shop, move |store, shop, _| {
                cache.overview(store, shop, &data::OverviewQuery::parse(&q)?)
            })
        })
        .boxed()
}

/// GET /admin/api/shops/{shop}/products
fn products(state: AppState) -> BoxedFilter<(Response,)> {
    get_page(&state, "products")
        .and_then(|shop, access, q: Query, state| {
            answer(state, access, shop, move |store, shop, _| {
                data::ProductQuery::parse(&q)?;
                data::products(store, shop)
            })
        })
        .boxed()
}

/// GET /admin/api/shops/{shop}/products/{id}[?lang=id|en]
fn product(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "api" / "shops" / String / "products" / String)
        .and(warp::get())
        .and(admin_access(&state))
        .and(warp::query::<Query>())
        .and(with_state(state))
        .and_then(|shop, id: String, access, q: Query, state| {
            let id = percent_decode(&id);
            answer(state, access, shop, move |store, shop, model| {
                data::product(store, shop, model, &id, &data::ProductQuery::parse(&q)?)
            })
        })
        .boxed()
}

/// GET /admin/api/shops/{shop}/customers[?segment=NAME&tier=NAME] — customers with tier and
/// segment, highest spend first (personal data: admin only).
fn customers(state: AppState) -> BoxedFilter<(Response,)> {
    get_page(&state, "customers")
        .and_then(|shop, access, q: Query, state| {
            answer(state, access, shop, move |store, shop, _| {
                data::customers(store, shop, &data::CustomerQuery::parse(&q, shop)?)
            })
        })
        .boxed()
}

/// GET /admin/api/shops/{shop}/customers/{id}
fn customer(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "api" / "shops" / String / "customers" / String)
        .and(warp::get())
        .and(admin_access(&state))
        .and(warp::query::<Query>())
        .and(with_state(state))
        .and_then(|shop, id: String, access, q: Query, state| {
            let id = percent_decode(&id);
            answer(state, access, shop, move |store, shop, _| {
                no_params(&q)?;
                data::customer(store, shop, &id)
            })
        })
        .boxed()
}

/// GET /admin/api/shops/{shop}/tiers
fn tiers(state: AppState) -> BoxedFilter<(Response,)> {
    get_page(&state, "tiers")
        .and_then(|shop, access, q: Query, state| {
            answer(state, access, shop, move |_, shop, model| {
                no_params(&q)?;
                data::tiers(shop, model)
            })
        })
        .boxed()
}

/// GET /admin/api/shops/{shop}/experiment — the holdout experiment's report, the data of
/// the experiment page.
fn experiment(state: AppState) -> BoxedFilter<(Response,)> {
    get_page(&state, "experiment")
        .and_then(|shop, access, q: Query, state| {
            answer(state, access, shop, move |store, shop, _| {
                no_params(&q)?;
                super::pages::experiment_report(store, shop)
            })
        })
        .boxed()
}

/// GET /admin/api/shops/{shop}/bundles
fn bundles(state: AppState) -> BoxedFilter<(Response,)> {
    get_page(&state, "bundles")
        .and_then(|shop, access, q: Query, state| {
            answer(state, access, shop, move |_, shop, model| {
                no_params(&q)?;
                data::bundles(shop, model)
            })
        })
        .boxed()
}

/// GET /admin/api/shops/{shop}/performance
fn performance(state: AppState) -> BoxedFilter<(Response,)> {
    get_page(&state, "performance")
        .and_then(|shop, access, q: Query, state: AppState| {
            let log = state.event_log.clone();
            answer(state, access, shop, move |store, shop, _| {
                no_params(&q)?;
                data::performance_page(store, shop, &log.summary(&shop.id))
            })
        })
        .boxed()
}

/// GET /admin/api/shops/{shop}/sync — schedule, sources, run reports and quarantine.
fn sync(state: AppState) -> BoxedFilter<(Response,)> {
    get_page(&state, "sync")
        .and_then(|shop, access, q: Query, state| {
            answer(state, access, shop, move |store, shop, _| {
                no_params(&q)?;
                data::sync_page(store, shop)
            })
        })
        .boxed()
}

/// GET /admin/api/shops/{shop}/feedback
fn feedback(state: AppState) -> BoxedFilter<(Response,)> {
    get_page(&state, "feedback")
        .and_then(|shop, access, q: Query, state| {
            answer(state, access, shop, move |store, shop, _| {
                no_params(&q)?;
                data::feedback(store, shop)
            })
        })
        .boxed()
}

#[derive(Deserialize)]
struct StatusBody {
    status: Option<String>,
}

/// POST /admin/api/shops/{shop}/feedback/{id} `{"status": "read"}` — the message as it now is.
fn feedback_status(state: AppState) -> BoxedFilter<(Response,)> {
    let max_body = state.settings.server.max_body_bytes;
    warp::path!("admin" / "api" / "shops" / String / "feedback" / String)
        .and(warp::post())
        .and(admin_access_csrf(&state))
        .and(warp::body::content_length_limit(max_body))
        .and(warp::body::json::<StatusBody>())
        .and(with_state(state))
        .and_then(|shop, id: String, access, body: StatusBody, state| {
            answer(state, access, shop, move |store, shop, _| {
                let id = data::parse_feedback_id(&id)?;
                let status = data::parse_feedback_status(body.status.as_deref())?;
                data::set_feedback_status(store, shop, id, status)
            })
        })
        .boxed()
}

/// GET /admin/api/shops/{shop}/settings — the settings page's data: the effective offers,
/// pins, exclusions, tiers and slots, which sections were changed, and the change log.
fn settings(state: AppState) -> BoxedFilter<(Response,)> {
    get_page(&state, "settings")
        .and_then(|shop, access, q: Query, state: AppState| {
            let configured = state.settings.clone();
            answer(state, access, shop, move |store, shop, _| {
                no_params(&q)?;
                crate::admin::settings::settings_page(store, config_shop(&configured, shop)?)
            })
        })
        .boxed()
}

/// The shop as the config file sets it (what the owner's changes are laid over).
fn config_shop<'a>(
    settings: &'a crate::config::Settings,
    shop: &ShopSettings,
) -> Result<&'a ShopSettings, PageError> {
    settings
        .shop(&shop.id)
        .ok_or_else(|| PageError::NotFound(format!("unknown shop {}", shop.id)))
}

/// POST /admin/api/shops/{shop}/settings/{section} with the settings form's fields as a JSON
/// object of strings (`{"action": "add", "title": "…", "buy": "SRD-100*2"}`): saves the
/// change, rebuilds the shop's model, and answers `{"summary": "…"}`.
fn settings_save(state: AppState) -> BoxedFilter<(Response,)> {
    let max_body = state.settings.server.max_body_bytes;
    warp::path!("admin" / "api" / "shops" / String / "settings" / String)
        .and(warp::post())
        .and(admin_access_csrf(&state))
        .and(warp::body::content_length_limit(max_body))
        .and(warp::body::json::<HashMap<String, String>>())
        .and(with_state(state))
        .and_then(
            |raw: String, section: String, access: Access, form: HashMap<String, String>, state: AppState| async move {
                let shop = allowed_shop(&state, &access, &raw)?;
                let user = access.user_name().to_string();
                let configured = state.settings.clone();
                let summary = page_data(&state, shop, move |store, shop, model| {
                    let shop = config_shop(&configured, shop)?;
                    crate::admin::settings::save(store, shop, model, &user, &section, &form)
                })
                .await
                .map_err(api_error)?;
                state
                    .sync
                    .rebuild(shop)
                    .await
                    .map_err(|e| match e.unavailable() {
                        Some(store) => crate::web::errors::store_failed("rebuild after a settings change", store),
                        None => crate::web::errors::internal("rebuild after a settings change", e),
                    })?;
                Ok::<_, Rejection>(warp::reply::json(&serde_json::json!({ "summary": summary })).into_response())
            },
        )
        .boxed()
}
