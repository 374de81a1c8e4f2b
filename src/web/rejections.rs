//! The rejections the admin filters raise and [`crate::web::errors`] answers: kept apart
//! from both, so that the filters may use the error answers and the answers may name the
//! rejections without the two importing each other.

/// The request is not signed in. The integrator answers it with a redirect to
/// `/admin/login` for pages and a 401 JSON body for `/admin/api`.
#[derive(Debug)]
pub struct Unauthenticated;

impl warp::reject::Reject for Unauthenticated {}

impl Unauthenticated {
    pub const MESSAGE: &'static str = "sign in at /admin/login, or send Authorization: Bearer <admin token>";
}

/// A state-changing request from a cookie session without the session's CSRF token
/// (answer 403).
#[derive(Debug)]
pub struct CsrfMismatch;

impl warp::reject::Reject for CsrfMismatch {}

impl CsrfMismatch {
    pub const MESSAGE: &'static str =
        "the form is out of date or came from another site: reload the page and try again";

    /// [`Self::MESSAGE`] in the dashboard's language, for the 403 page.
    pub fn page_message(lang: crate::web::admin::i18n::Lang) -> String {
        crate::web::admin::i18n::tr(
            lang,
            "the form is out of date or came from another site: reload the page and try again",
        )
        .into_owned()
    }
}
