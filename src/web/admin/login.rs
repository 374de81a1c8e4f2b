//! Signing in and out: `GET`/`POST /admin/login`, `POST /admin/logout`, `GET /admin` (the
//! first shop the user may see) and the admin stylesheet.
//!
//! Each sign-in reads the password hashes again (a few small files), so a password set with
//! `laris admin set-password` works at the next sign-in without restarting the service.
//! A sign-in first needs a place among the password checks (429 when all are taken), then
//! passes the limits on wrong passwords ([`crate::admin_auth::limits`]). The client's
//! address and HTTPS come from [`crate::web::client`], which believes `X-Forwarded-For` /
//! `X-Forwarded-Proto` from `server.trusted_proxies` only.
//!
//! `POST /admin/api/signin/unlock` (what `laris admin unlock` calls) clears wrong-password
//! counts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use serde::Deserialize;

use warp::filters::BoxedFilter;
use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::admin_auth::{clearing_cookie, csrf_ok, session_cookie, Access, LoginError, Session};
use crate::web::admin::i18n::{tr, tr_with};
use crate::web::admin::{
    admin_access_csrf, error_page, html, render_failed, see_other, viewer, visible_shops, without_session,
    Viewer, ADMIN_CSS,
};
use crate::web::client::{self, Client};
use crate::web::errors::reject;
use crate::web::rejections::CsrfMismatch;
use crate::web::state::{with_state, AppState};
use crate::web::templates;

/// Largest sign-in or sign-out form accepted.
const MAX_FORM_BYTES: u64 = 8 * 1024;

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    home(state.clone())
        .or(login_form(state.clone()))
        .unify()
        .or(login(state.clone()))
        .unify()
        .or(logout(state.clone()))
        .unify()
        .or(unlock(state))
        .unify()
        .or(stylesheet())
        .unify()
        .boxed()
}

/// The sign-in page with an optional message, answered with `status`.
fn login_page(v: &Viewer, status: StatusCode, user: &str, message: Option<String>) -> Response {
    let ctx = minijinja::context! {
        layout => minijinja::Value::from(()),
        lang => v.lang.code(),
        here => &v.here,
        user => user,
        message => message,
    };
    match templates::render(&v.state.templates, "admin/login.html", ctx) {
        Ok(body) => html(status, body),
        Err(e) => render_failed(e),
    }
}

/// GET /admin — the overview of the first shop the user may see.
fn home(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin")
        .and(warp::get())
        .and(viewer(state))
        .map(|v: Viewer| {
            let Some(session) = &v.session else {
                return without_session(&v);
            };
            match visible_shops(&v.state, &session.access).next() {
                Some(shop) => see_other(&format!("/admin/shops/{}", shop.id)),
                None => error_page(
                    &v,
                    None,
                    StatusCode::NOT_FOUND,
                    &tr(
                        v.lang,
                        "No shop is configured for this user: add a [[shops]] block to laris.toml.",
                    ),
                ),
            }
        })
        .boxed()
}

/// GET /admin/login — the sign-in form (or on to `/admin` when signed in already).
fn login_form(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "login")
        .and(warp::get())
        .and(viewer(state))
        .map(|v: Viewer| match v.session {
            Some(_) => see_other("/admin"),
            None => login_page(&v, StatusCode::OK, crate::admin_auth::ADMIN_USER, None),
        })
        .boxed()
}

/// Reads the password hashes again; a broken file keeps the previous hashes (and is logged).
fn reload_credentials(state: &AppState) {
    match crate::admin_auth::load_password_hashes(&state.data_dir, &state.settings) {
        Ok(credentials) => state.sessions.set_credentials(credentials),
        Err(e) => tracing::warn!(error = %e, "admin passwords not reloaded; the previous ones stay"),
    }
}

/// Takes a place among the password checks (refused at once when all are taken, before the
/// sign-in costs a file read or a thread), reads the hashes again, and signs in.
async fn sign_in(state: &AppState, user: &str, password: &str, ip: IpAddr) -> Result<Session, LoginError> {
    let admission = state.sessions.admit()?;
    let worker = state.clone();
    if let Err(e) = tokio::task::spawn_blocking(move || reload_credentials(&worker)).await {
        tracing::warn!(error = %e, "admin passwords not reloaded; the previous ones stay");
    }
    state
        .sessions
        .login(admission, user, password, ip, Instant::now())
        .await
}

/// POST /admin/login — form `user`, `password`. Success: 303 to `/admin` with the session
/// cookie; wrong: 401; refused (too many wrong passwords from the address or from everyone,
/// or every password check busy): 429 with `Retry-After`; no password set: 503 saying how
/// to set one.
fn login(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "login")
        .and(warp::post())
        .and(client::client(&state))
        .and(warp::body::content_length_limit(MAX_FORM_BYTES))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(viewer(state))
        .then(|client: Client, form: HashMap<String, String>, v: Viewer| async move {
            let state = &v.state;
            let lang = v.lang;
            let user = form.get("user").map(|u| u.trim().to_string()).unwrap_or_default();
            let password = form.get("password").map_or("", String::as_str);
            let ip = client.ip;
            match sign_in(state, &user, password, ip).await {
                Ok(session) => {
                    tracing::info!(user = %session.access.user_name(), %ip, "admin signed in");
                    let mut resp = see_other("/admin");
                    if let Ok(v) = HeaderValue::from_str(&session_cookie(&session, client.https)) {
                        resp.headers_mut().append(header::SET_COOKIE, v);
                    }
                    resp
                }
                Err(LoginError::Invalid) => {
                    // The typed user name is not logged: people type passwords into it by mistake.
                    tracing::warn!(%ip, "wrong admin user name or password");
                    login_page(
                        &v,
                        StatusCode::UNAUTHORIZED,
                        &user,
                        Some(tr(lang, "Wrong user name or password.").into_owned()),
                    )
                }
                Err(LoginError::NotConfigured) => login_page(
                    &v,
                    StatusCode::SERVICE_UNAVAILABLE,
                    &user,
                    Some(tr(lang, "No admin password is set yet. On the server, run `laris admin set-password` (or `laris admin set-password --shop ID` for one shop's user), or put an argon2id hash in admin.password_hash in the config; then sign in here.").into_owned()),
                ),
                Err(LoginError::Unavailable) => login_page(
                    &v,
                    StatusCode::SERVICE_UNAVAILABLE,
                    &user,
                    Some(tr(lang, "Sign-in is not possible right now: the server cannot reach its database. Try again in a minute.").into_owned()),
                ),
                Err(refused) => {
                    let secs = refused.retry_after_secs().unwrap_or(1);
                    let message = match refused {
                        LoginError::TooMany { .. } => {
                            tracing::warn!(%ip, "admin sign-in refused: too many wrong passwords from this address");
                            tr_with(lang, "Too many wrong passwords from this address: wait {secs} seconds and try again. (The owner can clear this with `laris admin unlock` on the server.)", &[("secs", &secs.to_string())])
                        }
                        LoginError::SlowDown { .. } => {
                            tracing::warn!(%ip, "admin sign-in refused: many wrong passwords from many addresses lately");
                            tr_with(lang, "Many wrong passwords on this server lately: wait {secs} seconds and try again.", &[("secs", &secs.to_string())])
                        }
                        _ => {
                            tracing::warn!(%ip, "admin sign-in refused: every password check is busy");
                            tr_with(lang, "The server is checking other sign-ins: wait {secs} seconds and try again.", &[("secs", &secs.to_string())])
                        }
                    };
                    let mut resp = login_page(&v, StatusCode::TOO_MANY_REQUESTS, &user, Some(message));
                    resp.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                    resp
                }
            }
        })
        .boxed()
}

/// POST /admin/logout — form `csrf`; ends the session and clears the cookie.
fn logout(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "logout")
        .and(warp::post())
        .and(client::client(&state))
        .and(warp::body::content_length_limit(MAX_FORM_BYTES))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(viewer(state))
        .map(|client: Client, form: HashMap<String, String>, v: Viewer| {
            let Some(session) = &v.session else {
                return without_session(&v);
            };
            if !csrf_ok(session, form.get("csrf").map_or("", String::as_str)) {
                return error_page(
                    &v,
                    None,
                    StatusCode::FORBIDDEN,
                    &CsrfMismatch::page_message(v.lang),
                );
            }
            v.state.sessions.logout(&session.id);
            let mut resp = see_other("/admin/login");
            if let Ok(v) = HeaderValue::from_str(&clearing_cookie(client.https)) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        })
        .boxed()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnlockRequest {
    user: Option<String>,
    address: Option<String>,
}

/// POST /admin/api/signin/unlock `{"user": "admin", "address": "203.0.113.7"}` (both
/// optional; neither clears everything) — clears wrong-password counts and answers
/// `{"counts": N, "locked": M}` (counts removed, and how many of them were locking someone
/// out). User `admin` or the bearer token only: `laris admin unlock` calls it.
fn unlock(state: AppState) -> BoxedFilter<(Response,)> {
    let max_body = state.settings.server.max_body_bytes;
    warp::path!("admin" / "api" / "signin" / "unlock")
        .and(warp::post())
        .and(admin_access_csrf(&state))
        .and(warp::body::content_length_limit(max_body))
        .and(warp::body::json::<UnlockRequest>())
        .and(with_state(state))
        .and_then(|access: Access, req: UnlockRequest, state: AppState| async move {
            if access != Access::All {
                return Err(reject(
                    StatusCode::FORBIDDEN,
                    format!("user {} may not clear sign-in limits: sign in as admin, or use the admin token", access.user_name()),
                ));
            }
            if let Some(user) = &req.user {
                if Access::for_user(user).is_none() {
                    return Err(reject(
                        StatusCode::BAD_REQUEST,
                        format!("user {user:?} is no user name: use admin or a shop's id"),
                    ));
                }
            }
            let address = match &req.address {
                None => None,
                Some(raw) => Some(raw.trim().parse::<IpAddr>().map_err(|_| {
                    reject(
                        StatusCode::BAD_REQUEST,
                        format!("address {raw:?} is not an IP address: write it as 203.0.113.7 or 2001:db8::1, without a port"),
                    )
                })?),
            };
            let cleared = state
                .sessions
                .unlock(req.user.as_deref(), address)
                .map_err(|e| {
                    reject(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("the sign-in counts could not be cleared ({e}): try again when the store answers"),
                    )
                })?;
            tracing::info!(
                user = req.user.as_deref().unwrap_or("(any)"),
                address = req.address.as_deref().unwrap_or("(any)"),
                counts = cleared.counts,
                locked = cleared.locked,
                "sign-in limits cleared"
            );
            Ok::<_, Rejection>(warp::reply::json(&cleared).into_response())
        })
        .boxed()
}

/// GET /admin/assets/admin.css
fn stylesheet() -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "assets" / "admin.css")
        .and(warp::get())
        .map(|| {
            let mut resp = Response::new(ADMIN_CSS.into());
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            resp.into_response()
        })
        .boxed()
}
