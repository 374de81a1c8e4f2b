//! Signing in and out: `GET`/`POST /admin/login`, `POST /admin/logout`, `GET /admin` (the
//! first shop the user may see) and the admin stylesheet.
//!
//! Each sign-in reads the password hashes again (a few small files), so a password set with
//! `laris admin set-password` works at the next sign-in without restarting the service.
//! Wrong passwords are limited per client address and per user name
//! ([`crate::admin_auth::Sessions::login`]); the address is the TCP peer's, so behind a
//! reverse proxy every client shares the proxy's address and its limit.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use warp::filters::BoxedFilter;
use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::admin_auth::{clearing_cookie, csrf_ok, session_cookie, LoginError};
use crate::web::admin::{
    error_page, html, render_failed, see_other, viewer, visible_shops, Viewer, ADMIN_CSS,
};
use crate::web::{templates, with_state, AppState};

/// Largest sign-in or sign-out form accepted.
const MAX_FORM_BYTES: u64 = 8 * 1024;

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    home(state.clone())
        .or(login_form(state.clone()))
        .unify()
        .or(login(state.clone()))
        .unify()
        .or(logout(state))
        .unify()
        .or(stylesheet())
        .unify()
        .boxed()
}

/// The sign-in page with an optional message, answered with `status`.
fn login_page(state: &AppState, status: StatusCode, user: &str, message: Option<String>) -> Response {
    let ctx = minijinja::context! {
        layout => minijinja::Value::from(()),
        user => user,
        message => message,
    };
    match templates::render(&state.templates, "admin/login.html", ctx) {
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
                return see_other("/admin/login");
            };
            match visible_shops(&v.state, &session.access).next() {
                Some(shop) => see_other(&format!("/admin/shops/{}", shop.id)),
                None => error_page(
                    &v.state,
                    Some(session),
                    None,
                    StatusCode::NOT_FOUND,
                    "No shop is configured for this user: add a [[shops]] block to laris.toml.",
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
            None => login_page(&v.state, StatusCode::OK, crate::admin_auth::ADMIN_USER, None),
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

/// POST /admin/login — form `user`, `password`. Success: 303 to `/admin` with the session
/// cookie; wrong: 401; too many wrong: 429 with `Retry-After`; no password set: 503 saying how
/// to set one.
fn login(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "login")
        .and(warp::post())
        .and(crate::server::peer())
        .and(warp::header::optional::<String>("x-forwarded-proto"))
        .and(warp::body::content_length_limit(MAX_FORM_BYTES))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(with_state(state))
        .and_then(
            |addr: Option<SocketAddr>, proto: Option<String>, form: HashMap<String, String>, state: AppState| async move {
                let user = form.get("user").map(|u| u.trim().to_string()).unwrap_or_default();
                let password = form.get("password").cloned().unwrap_or_default();
                let ip = addr.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
                let (worker, name) = (state.clone(), user.clone());
                // argon2 takes tens of milliseconds of CPU: off the async threads.
                let outcome = tokio::task::spawn_blocking(move || {
                    reload_credentials(&worker);
                    worker.sessions.login(&name, &password, ip, Instant::now())
                })
                .await;
                let resp = match outcome {
                    Ok(Ok(session)) => {
                        tracing::info!(user = %session.access.user_name(), %ip, "admin signed in");
                        let secure = proto.is_some_and(|p| p.eq_ignore_ascii_case("https"));
                        let mut resp = see_other("/admin");
                        if let Ok(v) = HeaderValue::from_str(&session_cookie(&session, secure)) {
                            resp.headers_mut().append(header::SET_COOKIE, v);
                        }
                        resp
                    }
                    Ok(Err(LoginError::Invalid)) => {
                        // The typed user name is not logged: people type passwords into it by mistake.
                        tracing::warn!(%ip, "wrong admin user name or password");
                        login_page(
                            &state,
                            StatusCode::UNAUTHORIZED,
                            &user,
                            Some("Wrong user name or password.".into()),
                        )
                    }
                    Ok(Err(LoginError::TooMany { retry_after_secs })) => {
                        tracing::warn!(%ip, "admin sign-in refused: too many wrong passwords");
                        let mut resp = login_page(
                            &state,
                            StatusCode::TOO_MANY_REQUESTS,
                            &user,
                            Some(format!(
                                "Too many wrong passwords: try again in {retry_after_secs} seconds."
                            )),
                        );
                        resp.headers_mut()
                            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                        resp
                    }
                    Ok(Err(LoginError::NotConfigured)) => login_page(
                        &state,
                        StatusCode::SERVICE_UNAVAILABLE,
                        &user,
                        Some("No admin password is set yet. On the server, run `laris admin set-password` (or `laris admin set-password --shop ID` for one shop's user), or put an argon2id hash in admin.password_hash in the config; then sign in here.".into()),
                    ),
                    Err(e) => {
                        tracing::error!(error = %e, "sign-in task failed");
                        error_page(&state, None, None, StatusCode::INTERNAL_SERVER_ERROR, "Internal error; the server log has the details.")
                    }
                };
                Ok::<_, Rejection>(resp)
            },
        )
        .boxed()
}

/// POST /admin/logout — form `csrf`; ends the session and clears the cookie.
fn logout(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "logout")
        .and(warp::post())
        .and(warp::header::optional::<String>("x-forwarded-proto"))
        .and(warp::body::content_length_limit(MAX_FORM_BYTES))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(viewer(state))
        .map(
            |proto: Option<String>, form: HashMap<String, String>, v: Viewer| {
                let Some(session) = &v.session else {
                    return see_other("/admin/login");
                };
                if !csrf_ok(session, form.get("csrf").map_or("", String::as_str)) {
                    return error_page(
                        &v.state,
                        Some(session),
                        None,
                        StatusCode::FORBIDDEN,
                        crate::admin_auth::CsrfMismatch::MESSAGE,
                    );
                }
                v.state.sessions.logout(&session.id);
                let secure = proto.is_some_and(|p| p.eq_ignore_ascii_case("https"));
                let mut resp = see_other("/admin/login");
                if let Ok(v) = HeaderValue::from_str(&clearing_cookie(secure)) {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
                resp
            },
        )
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
