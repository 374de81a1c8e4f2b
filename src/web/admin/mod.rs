//! The shop owner's dashboard over HTTP: sign-in ([`login`]), the server-rendered pages per
//! shop ([`pages`]) and the JSON admin API over the same data ([`api`]); uploaded exports
//! are received and imported by [`upload`]. Both call one
//! function per page in [`crate::admin::views`], so a figure on a page and in the API is
//! the same figure. The filters that admit a session cookie or the admin bearer token are
//! in [`auth`].
//!
//! Pages take the session cookie only; without one they send the browser to
//! `/admin/login`. The API takes the cookie or the admin bearer token and answers 401 JSON
//! without either. A shop's user sees that shop alone (403 elsewhere). Every form carries the
//! session's CSRF token; the API's state-changing calls from a cookie session need it in the
//! `X-CSRF-Token` header.

pub mod api;
pub mod auth;
pub mod forms;
pub mod i18n;
pub mod install;
pub mod login;
pub mod outreach;
pub mod pages;
pub mod upload;

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;
use warp::filters::BoxedFilter;
use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::admin::views::PageError;
use crate::admin_auth::{Access, Session, COOKIE_NAME};
use crate::config::ShopSettings;
use crate::model::ShopModel;
use crate::store::{ShopStore, StoreError};
use crate::web::admin::i18n::{tr, tr_with, Lang};
use crate::web::errors::{internal, reject, store_failed};
use crate::web::state::{with_state, AppState};
use crate::web::templates;

/// Every admin route: sign-in, pages and API.
pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    login::routes(state.clone())
        .or(i18n::routes())
        .unify()
        .or(pages::routes(state.clone()))
        .unify()
        .or(forms::routes(state.clone()))
        .unify()
        .or(outreach::page_routes(state.clone()))
        .unify()
        .or(outreach::api_routes(state.clone()))
        .unify()
        .or(api::routes(state.clone()))
        .unify()
        .or(upload::api_import(state))
        .unify()
        .boxed()
}

/// Admits `Authorization: Bearer <admin token>` (every shop) or a signed-in session cookie
/// (its user's shops), for reading; 401 otherwise.
pub fn admin_access(state: &AppState) -> impl Filter<Extract = (Access,), Error = Rejection> + Clone {
    crate::web::admin::auth::access(state.sessions.clone(), state.admin_token.clone())
}

/// Like [`admin_access`], for calls that change state: a cookie session must also send its
/// CSRF token in `X-CSRF-Token` (403 otherwise).
pub fn admin_access_csrf(state: &AppState) -> impl Filter<Extract = (Access,), Error = Rejection> + Clone {
    crate::web::admin::auth::access_with_csrf(state.sessions.clone(), state.admin_token.clone())
}

/// Admin pages load nothing from elsewhere and run no script: the stylesheet is ours, the
/// charts are inline SVG without `style` attributes, forms post to us.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The stylesheet of the admin pages, compiled into the binary.
pub const ADMIN_CSS: &str = include_str!("../../../templates/admin/admin.css");

/// An HTML answer with the headers every admin page carries: no caching (personal data),
/// no framing, the strict CSP.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut resp = warp::reply::html(body).into_response();
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    resp
}

/// `303 See Other` to `location` (after a form, or to the sign-in page).
pub fn see_other(location: &str) -> Response {
    let mut resp = Response::new("".into());
    *resp.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub fn render_failed(e: minijinja::Error) -> Response {
    tracing::error!(error = %e, "rendering an admin page");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        "<!doctype html><title>Error</title><p>Internal error; the server log has the details.</p>\
         <p lang=\"id\">Kesalahan internal; rinciannya ada di log server.</p>"
            .into(),
    )
}

/// The title of an error page of `status`, in `lang`.
fn status_title(lang: Lang, status: StatusCode) -> String {
    match status {
        StatusCode::BAD_REQUEST => tr(lang, "Bad request"),
        StatusCode::FORBIDDEN => tr(lang, "Forbidden"),
        StatusCode::NOT_FOUND => tr(lang, "Not found"),
        StatusCode::SERVICE_UNAVAILABLE => tr(lang, "Not ready yet"),
        StatusCode::INTERNAL_SERVER_ERROR => tr(lang, "Internal error"),
        _ => tr(lang, "Error"),
    }
    .into_owned()
}

/// An error page in the viewer's language: inside the layout for a signed-in user, bare
/// otherwise. `message` is shown as given (callers translate it).
pub fn error_page(v: &Viewer, shop: Option<&ShopSettings>, status: StatusCode, message: &str) -> Response {
    let title = status_title(v.lang, status);
    let layout = v
        .session
        .as_ref()
        .map(|s| Layout::new(&v.state, s, shop, "", title.clone()));
    let ctx = minijinja::context! {
        layout => minijinja::Value::from(minijinja::value::Serde(&layout)),
        lang => v.lang.code(),
        here => &v.here,
        status => status.as_u16(),
        title => title,
        message => message,
    };
    match templates::render(&v.state.templates, "admin/error.html", ctx) {
        Ok(body) => html(status, body),
        Err(e) => render_failed(e),
    }
}

/// A shop as the navigation shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ShopNav {
    pub id: String,
    pub name: String,
    /// Seconds east of UTC, for the `localtime` filter.
    pub offset: i32,
    /// `WIB`, `WITA`, `WIT`, `UTC`.
    pub zone: String,
}

impl ShopNav {
    pub fn of(shop: &ShopSettings) -> ShopNav {
        ShopNav {
            id: shop.id.to_string(),
            name: shop.name.clone(),
            offset: shop.timezone.offset_seconds,
            zone: crate::domain::zone::offset_label(shop.timezone.offset_seconds),
        }
    }
}

/// What the base layout needs: who is signed in, their CSRF token for the sign-out form,
/// the shop shown and the shops they may switch to.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    pub user: String,
    pub csrf: String,
    pub shop: Option<ShopNav>,
    pub shops: Vec<ShopNav>,
    /// The navigation entry to highlight.
    pub active: &'static str,
    /// The page's `<title>` and heading.
    pub title: String,
}

impl Layout {
    pub fn new(
        state: &AppState,
        session: &Session,
        shop: Option<&ShopSettings>,
        active: &'static str,
        title: String,
    ) -> Layout {
        Layout {
            user: session.access.user_name().to_string(),
            csrf: session.csrf.clone(),
            shop: shop.map(ShopNav::of),
            shops: visible_shops(state, &session.access).map(ShopNav::of).collect(),
            active,
            title,
        }
    }
}

/// The configured shops `access` may see, in configuration order.
pub fn visible_shops<'a>(
    state: &'a AppState,
    access: &'a Access,
) -> impl Iterator<Item = &'a ShopSettings> + 'a {
    state.settings.shops.iter().filter(|s| access.allows(&s.id))
}

/// The signed-in session named by the request's cookie, if it is live; an error when the
/// store that keeps sessions does not answer.
pub fn session_of(state: &AppState, cookie: Option<&str>) -> Result<Option<Session>, StoreError> {
    match cookie {
        Some(id) => state.sessions.check(id, Instant::now()),
        None => Ok(None),
    }
}

/// The request's state, live session (if any), language and path; never rejects, so pages
/// decide what a missing session means (a redirect).
pub fn viewer(state: AppState) -> impl Filter<Extract = (Viewer,), Error = std::convert::Infallible> + Clone {
    let raw_query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::cookie::optional::<String>(COOKIE_NAME)
        .and(warp::cookie::optional::<String>(i18n::COOKIE))
        .and(warp::path::full())
        .and(raw_query)
        .and(with_state(state))
        .map(
            |cookie: Option<String>,
             lang: Option<String>,
             path: warp::path::FullPath,
             query: String,
             state: AppState| {
                let here = if query.is_empty() {
                    path.as_str().to_string()
                } else {
                    format!("{}?{query}", path.as_str())
                };
                let (session, store_down) = match session_of(&state, cookie.as_deref()) {
                    Ok(session) => (session, None),
                    Err(e) => {
                        tracing::warn!(error = %e, "admin session could not be read");
                        (None, Some(e))
                    }
                };
                Viewer {
                    session,
                    store_down,
                    lang: Lang::from_cookie(lang.as_deref()),
                    here,
                    state,
                }
            },
        )
}

pub struct Viewer {
    pub state: AppState,
    pub session: Option<Session>,
    /// Why the session could not be read (the store did not answer): a page then answers
    /// with that failure instead of sending a signed-in user to the sign-in page.
    pub store_down: Option<StoreError>,
    /// The dashboard's language (cookie `laris_lang`; Indonesian without one).
    pub lang: Lang,
    /// The request's path and query, where the language switch comes back to.
    pub here: String,
}

/// The answer to a page request without a live session: the sign-in page, or 503 when
/// the store that keeps sessions did not answer (the viewer may well be signed in).
pub fn without_session(v: &Viewer) -> Response {
    if v.store_down.is_none() {
        return see_other("/admin/login");
    }
    let message = tr(
        v.lang,
        "The database is unreachable right now. Laris retries by itself and recovers when it is back: reload this page in a few seconds.",
    );
    let mut page = error_page(v, None, StatusCode::SERVICE_UNAVAILABLE, &message);
    page.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(crate::web::errors::UNAVAILABLE_RETRY_SECS),
    );
    page
}

/// HTTP status of a page's failure.
pub fn status_of(e: &PageError) -> StatusCode {
    match e {
        PageError::BadQuery(_) => StatusCode::BAD_REQUEST,
        PageError::NotFound(_) => StatusCode::NOT_FOUND,
        PageError::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
        PageError::Store(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
        PageError::Store(_) | PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A page's failure as the dashboard shows it, in `lang` (4xx and 503; a 500 shows a fixed
/// text and logs the cause).
pub fn page_error_message(lang: Lang, e: &PageError) -> String {
    match e {
        PageError::BadQuery(m) | PageError::NotFound(m) => i18n::translate_message(lang, m),
        PageError::NotReady(shop) => tr_with(
            lang,
            "the model of shop {shop} is still being built: retry shortly",
            &[("shop", &i18n::translate_message(lang, shop))],
        ),
        PageError::Store(e) if e.is_unavailable() => tr(
            lang,
            "The database is unreachable right now. Laris retries by itself and recovers when it is back: reload this page in a few seconds.",
        )
        .into_owned(),
        PageError::Store(_) | PageError::Internal(_) => {
            tr(lang, "Internal error; the server log has the details.").into_owned()
        }
    }
}

/// A page's failure as the API answers it: the message for 4xx, 503 while the database is
/// unreachable, an opaque 500 with the cause in the log.
pub fn api_error(e: PageError) -> Rejection {
    if let PageError::Store(store) = &e {
        if store.is_unavailable() {
            return store_failed("admin page data", store);
        }
    }
    match status_of(&e) {
        StatusCode::INTERNAL_SERVER_ERROR => internal("admin page data", e),
        status => reject(status, e.to_string()),
    }
}

/// Runs a page's data function for a shop off the async threads, with the shop's settings
/// and its current model snapshot.
pub async fn page_data<T, F>(state: &AppState, shop: &ShopSettings, f: F) -> Result<T, PageError>
where
    T: Send + 'static,
    F: FnOnce(&dyn ShopStore, &ShopSettings, Option<&ShopModel>) -> Result<T, PageError> + Send + 'static,
{
    let store = state.store.clone();
    let model = state.models.get(&shop.id);
    let shop = effective_shop(shop, model.as_deref());
    tokio::task::spawn_blocking(move || f(&*store, &shop, model.as_deref()))
        .await
        .unwrap_or_else(|e| Err(PageError::Internal(e.to_string())))
}

/// The shop's settings as its model serves them: the config file's with the owner's
/// dashboard changes (offers, tiers, …); the config file's before a model is built.
pub fn effective_shop(shop: &ShopSettings, model: Option<&ShopModel>) -> ShopSettings {
    model.and_then(|m| m.settings.as_deref()).unwrap_or(shop).clone()
}

/// Charts of a page, by name, as markup the template inserts unescaped (the chart code
/// escapes every text it draws).
pub fn charts(list: Vec<(&str, String)>) -> minijinja::Value {
    let map: BTreeMap<String, minijinja::Value> = list
        .into_iter()
        .map(|(name, svg)| (name.to_string(), minijinja::Value::from_safe_string(svg)))
        .collect();
    minijinja::Value::from(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_pages_forbid_caching_framing_and_foreign_resources() {
        let resp = html(StatusCode::OK, "<p>x</p>".into());
        let h = resp.headers();
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
    }

    #[test]
    fn a_redirect_after_a_form_is_303_to_the_location() {
        let resp = see_other("/admin/login");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(resp.headers()[header::LOCATION], "/admin/login");
    }
}
