//! The warp filters that admit an admin request: `Authorization: Bearer <admin token>` or
//! a live session cookie ([`crate::admin_auth::sessions`]), and for state-changing API calls
//! from a cookie session its CSRF token in the `X-CSRF-Token` header. What they refuse is an
//! [`Unauthenticated`] or a [`CsrfMismatch`] rejection, which the routes' rejection answer
//! turns into 401 and 403.

use std::sync::Arc;
use std::time::Instant;

use subtle::ConstantTimeEq;
use warp::{Filter, Rejection};

use crate::admin_auth::sessions::{csrf_ok, Session, Sessions, COOKIE_NAME, CSRF_HEADER};
use crate::admin_auth::Access;
use crate::web::errors::store_failed;
use crate::web::rejections::{CsrfMismatch, Unauthenticated};

/// How a request proved who it is.
enum Caller {
    Bearer,
    Cookie(Session),
}

/// A wrong bearer token is refused even when a valid cookie comes with it: a credential
/// that was sent and is wrong should not pass quietly.
fn authenticate(
    sessions: &Sessions,
    admin_token: &str,
    authorization: Option<&str>,
    cookie: Option<&str>,
    now: Instant,
) -> Result<Caller, Rejection> {
    if let Some(auth) = authorization {
        let given = auth.strip_prefix("Bearer ").unwrap_or_default();
        let ok = !admin_token.is_empty() && bool::from(given.as_bytes().ct_eq(admin_token.as_bytes()));
        return if ok {
            Ok(Caller::Bearer)
        } else {
            Err(warp::reject::custom(Unauthenticated))
        };
    }
    let Some(cookie) = cookie else {
        return Err(warp::reject::custom(Unauthenticated));
    };
    match sessions.check(cookie, now) {
        Ok(Some(session)) => Ok(Caller::Cookie(session)),
        Ok(None) => Err(warp::reject::custom(Unauthenticated)),
        Err(e) => Err(store_failed("admin session", &e)),
    }
}

fn caller(
    sessions: Arc<Sessions>,
    admin_token: Arc<String>,
) -> impl Filter<Extract = (Caller,), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization")
        .and(warp::cookie::optional::<String>(COOKIE_NAME))
        .and_then(move |auth: Option<String>, cookie: Option<String>| {
            let found = authenticate(
                &sessions,
                &admin_token,
                auth.as_deref(),
                cookie.as_deref(),
                Instant::now(),
            );
            async move { found }
        })
}

/// Admits `Authorization: Bearer <admin token>` (every shop) or a live session cookie (its
/// user's shops); rejects with [`Unauthenticated`] otherwise. For reading; routes that
/// change state take [`access_with_csrf`] or [`session`] and [`csrf_ok`].
pub fn access(
    sessions: Arc<Sessions>,
    admin_token: Arc<String>,
) -> impl Filter<Extract = (Access,), Error = Rejection> + Clone {
    caller(sessions, admin_token).map(|caller: Caller| match caller {
        Caller::Bearer => Access::All,
        Caller::Cookie(session) => session.access,
    })
}

/// Like [`access`], for API calls that change state: a cookie session must also send its
/// CSRF token in the `X-CSRF-Token` header ([`CsrfMismatch`] otherwise). Bearer-token
/// calls are not made by a browser on its own and need none.
pub fn access_with_csrf(
    sessions: Arc<Sessions>,
    admin_token: Arc<String>,
) -> impl Filter<Extract = (Access,), Error = Rejection> + Clone {
    caller(sessions, admin_token)
        .and(warp::header::optional::<String>(CSRF_HEADER))
        .and_then(|caller: Caller, token: Option<String>| async move {
            match caller {
                Caller::Bearer => Ok(Access::All),
                Caller::Cookie(session) if csrf_ok(&session, token.as_deref().unwrap_or("")) => {
                    Ok(session.access)
                }
                Caller::Cookie(_) => Err(warp::reject::custom(CsrfMismatch)),
            }
        })
}

/// The signed-in session, for pages: they show its CSRF token in their forms, and a form's
/// POST handler checks it with [`csrf_ok`]. A bearer token is no session and is rejected.
pub fn session(sessions: Arc<Sessions>) -> impl Filter<Extract = (Session,), Error = Rejection> + Clone {
    warp::cookie::optional::<String>(COOKIE_NAME).and_then(move |cookie: Option<String>| {
        let found = match cookie.map(|id| sessions.check(&id, Instant::now())) {
            Some(Ok(Some(session))) => Ok(session),
            Some(Err(e)) => Err(store_failed("admin session", &e)),
            None | Some(Ok(None)) => Err(warp::reject::custom(Unauthenticated)),
        };
        async move { found }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::admin_auth::sessions::tests::{ip, login_async, sessions, shop, OWNER_PW, SHOP_PW};

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn filter_parts() -> (Arc<Sessions>, Arc<String>) {
        (Arc::new(sessions()), Arc::new(TOKEN.to_string()))
    }

    fn cookie_header(session: &Session) -> String {
        format!("other=1; {COOKIE_NAME}={}", session.id)
    }

    #[tokio::test]
    async fn the_filter_admits_the_admin_bearer_token_to_every_shop() {
        let (s, t) = filter_parts();
        let got = warp::test::request()
            .header("authorization", format!("Bearer {TOKEN}"))
            .filter(&access(s, t))
            .await
            .unwrap();
        assert_eq!(got, Access::All);
    }

    #[tokio::test]
    async fn the_filter_admits_a_session_cookie_with_its_users_access() {
        let (s, t) = filter_parts();
        let session = login_async(&s, "toko-a", SHOP_PW, ip(1), Instant::now())
            .await
            .unwrap();
        let got = warp::test::request()
            .header("cookie", cookie_header(&session))
            .filter(&access(s.clone(), t))
            .await
            .unwrap();
        assert_eq!(got, Access::Shop(shop("toko-a")));
        let got = warp::test::request()
            .header("cookie", cookie_header(&session))
            .filter(&super::session(s))
            .await
            .unwrap();
        assert_eq!(got.csrf, session.csrf);
    }

    #[tokio::test]
    async fn the_filter_rejects_a_request_with_neither_token_nor_session() {
        let (s, t) = filter_parts();
        let rejection = warp::test::request()
            .filter(&access(s.clone(), t))
            .await
            .unwrap_err();
        assert!(rejection.find::<Unauthenticated>().is_some(), "{rejection:?}");
        let rejection = warp::test::request()
            .header("cookie", format!("{COOKIE_NAME}=made-up"))
            .filter(&super::session(s))
            .await
            .unwrap_err();
        assert!(rejection.find::<Unauthenticated>().is_some(), "{rejection:?}");
    }

    #[tokio::test]
    async fn the_filter_rejects_a_wrong_bearer_token_even_with_a_valid_cookie() {
        let (s, t) = filter_parts();
        let session = login_async(&s, "admin", OWNER_PW, ip(1), Instant::now())
            .await
            .unwrap();
        for auth in [
            format!("Bearer {TOKEN}x"),
            format!("Bearer {}", &TOKEN[1..]),
            "Bearer ".to_string(),
            format!("Basic {TOKEN}"),
        ] {
            let rejection = warp::test::request()
                .header("authorization", &auth)
                .filter(&access(s.clone(), t.clone()))
                .await
                .unwrap_err();
            assert!(rejection.find::<Unauthenticated>().is_some(), "{auth}");
            let rejection = warp::test::request()
                .header("authorization", &auth)
                .header("cookie", cookie_header(&session))
                .filter(&access(s.clone(), t.clone()))
                .await
                .unwrap_err();
            assert!(
                rejection.find::<Unauthenticated>().is_some(),
                "{auth} with cookie"
            );
        }
    }

    #[tokio::test]
    async fn the_session_filter_does_not_take_the_bearer_token() {
        let (s, _) = filter_parts();
        let rejection = warp::test::request()
            .header("authorization", format!("Bearer {TOKEN}"))
            .filter(&super::session(s))
            .await
            .unwrap_err();
        assert!(rejection.find::<Unauthenticated>().is_some());
    }

    #[tokio::test]
    async fn a_state_changing_call_from_a_cookie_needs_the_csrf_header_and_a_bearer_call_does_not() {
        let (s, t) = filter_parts();
        let session = login_async(&s, "admin", OWNER_PW, ip(1), Instant::now())
            .await
            .unwrap();
        let filter = access_with_csrf(s.clone(), t.clone());
        let rejection = warp::test::request()
            .method("POST")
            .header("cookie", cookie_header(&session))
            .filter(&filter)
            .await
            .unwrap_err();
        assert!(rejection.find::<CsrfMismatch>().is_some(), "{rejection:?}");
        let rejection = warp::test::request()
            .method("POST")
            .header("cookie", cookie_header(&session))
            .header(CSRF_HEADER, "wrong")
            .filter(&filter)
            .await
            .unwrap_err();
        assert!(rejection.find::<CsrfMismatch>().is_some(), "{rejection:?}");
        let got = warp::test::request()
            .method("POST")
            .header("cookie", cookie_header(&session))
            .header(CSRF_HEADER, &session.csrf)
            .filter(&filter)
            .await
            .unwrap();
        assert_eq!(got, Access::All);
        let got = warp::test::request()
            .method("POST")
            .header("authorization", format!("Bearer {TOKEN}"))
            .filter(&filter)
            .await
            .unwrap();
        assert_eq!(got, Access::All);
        let rejection = warp::test::request()
            .method("POST")
            .filter(&filter)
            .await
            .unwrap_err();
        assert!(rejection.find::<Unauthenticated>().is_some());
    }
}
