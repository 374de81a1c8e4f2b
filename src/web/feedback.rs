//! Feedback capture (seed 001's "kritik & saran"): the `feedback` slot's form and
//! `POST /v1/shops/{shop}/feedback`, which validates a message, keeps spam out without any
//! third-party service, and stores it with status `new` for the admin's feedback page.
//!
//! Spam resistance, cheapest check first:
//! - a *honeypot*: the form's `website` field is hidden from people and assistive tech; a
//!   body that fills it is answered `202` as if accepted, and nothing is kept;
//! - a *form token* the fragment carries, `"{unix}.{nonce}.{hex HMAC-SHA256}"` (the nonce 16
//!   random bytes in hex) signed with the shop's `customer_secret` over
//!   `feedback.{unix}.{nonce}` (so it can never pass for a customer token): a message needs
//!   a genuine one at least [`MIN_FILL_SECS`] and at most [`FORM_TOKEN_MAX_AGE_SECS`] old,
//!   and each token is taken once (spent in the store's shared state, so on every replica:
//!   issuing one writes nothing, a page view costs no database write);
//! - a per-address limit: [`MAX_MESSAGES_PER_ADDRESS`] within [`MESSAGE_WINDOW_SECS`] of
//!   the first, counted in the store's shared state (global across replicas on PostgreSQL).
//!
//! The form works with the widget (JSON by `fetch`, answers `201 {"id", "status"}`) and
//! without JavaScript (a plain form post, answered `303` back to the page when that page is
//! a relative path or on one of the shop's own origins, else a thank-you page). Error texts
//! follow the form's `lang` (Indonesian or English; English when a body names none). The
//! contact a customer leaves is personal data: it is stored, never logged, never echoed.

use std::net::IpAddr;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use warp::http::{header, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::config::ShopSettings;
use crate::domain::{ProductId, ShopId};
use crate::model::serve::Lang;
use crate::records::{Feedback, FeedbackStatus};
use crate::store::{SharedState, StoreError};
use crate::web::cors::with_cors;
use crate::web::errors::{internal, reject, retry_after_secs};
use crate::web::links::public_url;
use crate::web::state::{known_shop, with_state, AppState};
use crate::web::templates;

/// Largest body: a 2000-character message with its fields fits with room to spare.
pub const MAX_BODY: u64 = 8 * 1024;
pub const MIN_MESSAGE_CHARS: usize = 3;
pub const MAX_MESSAGE_CHARS: usize = 2000;
pub const MAX_CONTACT_CHARS: usize = 200;
pub const MAX_PAGE_CHARS: usize = 500;
/// A form sent sooner than this after it was served was not filled in by a person.
pub const MIN_FILL_SECS: i64 = 3;
/// A form token older than this is refused: the page is reloaded for a fresh one.
pub const FORM_TOKEN_MAX_AGE_SECS: i64 = 24 * 3600;

/// Messages one address (an IPv6 client by its /64) may send within [`MESSAGE_WINDOW_SECS`].
pub const MAX_MESSAGES_PER_ADDRESS: u32 = 3;
pub const MESSAGE_WINDOW_SECS: i64 = 180;

// ---- form tokens ------------------------------------------------------------------------

fn form_mac(secret: &[u8], issued: i64, nonce: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(format!("feedback.{issued}.{nonce}").as_bytes());
    mac
}

/// A form token issued at `now` (Unix seconds), with a fresh random nonce: no two visitors
/// get the same one, so each can be taken once.
pub fn form_token(secret: &[u8], now: i64) -> String {
    let mut nonce = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
    form_token_with(secret, now, &hex::encode(nonce))
}

/// A form token issued at `now` with this `nonce` (32 lowercase hex digits).
pub fn form_token_with(secret: &[u8], now: i64, nonce: &str) -> String {
    let sig = hex::encode(form_mac(secret, now, nonce).finalize().into_bytes());
    format!("{now}.{nonce}.{sig}")
}

fn lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormTokenError {
    Missing,
    Forged,
    TooYoung,
    Expired,
    /// A genuine token that already carried a message.
    Used,
}

/// Whether `token` was issued by this shop between [`FORM_TOKEN_MAX_AGE_SECS`] and
/// [`MIN_FILL_SECS`] before `now`. The signature is compared in constant time.
pub fn check_form_token(token: &str, secret: &[u8], now: i64) -> Result<(), FormTokenError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(FormTokenError::Missing);
    }
    let mut parts = token.split('.');
    let (Some(issued), Some(nonce), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(FormTokenError::Forged);
    };
    let issued: i64 = issued.parse().map_err(|_| FormTokenError::Forged)?;
    if !lower_hex(nonce, 32) || !lower_hex(sig, 64) {
        return Err(FormTokenError::Forged);
    }
    let sig = hex::decode(sig).map_err(|_| FormTokenError::Forged)?;
    form_mac(secret, issued, nonce)
        .verify_slice(&sig)
        .map_err(|_| FormTokenError::Forged)?;
    let age = now.saturating_sub(issued);
    if age < MIN_FILL_SECS {
        Err(FormTokenError::TooYoung)
    } else if age > FORM_TOKEN_MAX_AGE_SECS {
        Err(FormTokenError::Expired)
    } else {
        Ok(())
    }
}

/// Takes a genuine form token (checked by [`check_form_token`]) for one message of `shop`:
/// true the first time on any replica sharing `shared`, false after. It stays spent for as
/// long as it could be accepted.
pub fn take_form_token(
    shared: &dyn SharedState,
    shop: &ShopId,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let spent_until = now + chrono::Duration::seconds(FORM_TOKEN_MAX_AGE_SECS + 60);
    let signature = token.trim().rsplit('.').next().unwrap_or_default();
    shared.spend_token(&format!("feedback:form:{shop}:{signature}"), spent_until, now)
}

/// Counts a message from `ip` at `now` against [`MAX_MESSAGES_PER_ADDRESS`]; `Err` with
/// the wait when the address is over it.
pub fn count_message(
    shared: &dyn SharedState,
    ip: IpAddr,
    now: DateTime<Utc>,
) -> Result<Result<(), std::time::Duration>, StoreError> {
    let address = crate::admin_auth::client_key(ip);
    let hits = shared.counter_hit(
        &format!("feedback:{address}"),
        chrono::Duration::seconds(MESSAGE_WINDOW_SECS),
        now,
    )?;
    if hits.count > MAX_MESSAGES_PER_ADDRESS {
        return Ok(Err((hits.window_ends - now).to_std().unwrap_or_default()));
    }
    Ok(Ok(()))
}

// ---- the fragment -----------------------------------------------------------------------

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Id => "id",
        Lang::En => "en",
    }
}

/// The form's texts, Indonesian first.
fn texts(lang: Lang) -> minijinja::Value {
    let id = lang == Lang::Id;
    let pick = |i: &'static str, e: &'static str| if id { i } else { e };
    minijinja::context! {
        title => pick("Kritik & saran", "Feedback"),
        message => pick("Pesan", "Message"),
        contact => pick("Kontak (opsional)", "Contact (optional)"),
        contact_hint => pick(
            "Email atau nomor WhatsApp, hanya untuk membalas pesan Anda.",
            "Email or WhatsApp number, only to answer you.",
        ),
        honeypot => pick("Jangan isi kolom ini", "Leave this field empty"),
        send => pick("Kirim", "Send"),
        sent => pick("Terima kasih! Pesan Anda sudah kami terima.", "Thank you! We have received your message."),
        failed => pick(
            "Pesan belum terkirim. Periksa koneksi lalu coba lagi.",
            "Your message was not sent. Check your connection and try again.",
        ),
    }
}

/// The `feedback` slot: the form with a fresh form token. Nothing personal goes in, so it
/// is the same for every visitor but for the token's time.
pub fn render_fragment(
    state: &AppState,
    shop: &ShopSettings,
    lang: Lang,
    product: Option<&ProductId>,
    base: &str,
) -> Result<String, Rejection> {
    let secret = shop_secret(shop)?;
    let ctx = minijinja::context! {
        t => texts(lang),
        lang => lang_code(lang),
        action => format!("{base}/v1/shops/{}/feedback", shop.id),
        form_token => form_token(secret.as_bytes(), Utc::now().timestamp()),
        product => product.map(ProductId::as_str),
    };
    templates::render_fragment(
        &state.templates,
        &shop.id,
        crate::domain::Slot::Feedback.as_str(),
        ctx,
    )
    .map_err(|e| internal("rendering the feedback fragment", e))
}

fn shop_secret(shop: &ShopSettings) -> Result<&str, Rejection> {
    shop.customer_secret
        .as_deref()
        .ok_or_else(|| internal("feedback form token", "the shop has no customer_secret"))
}

// ---- the request ------------------------------------------------------------------------

/// The fields a message is sent with, as JSON or as a form; unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FeedbackForm {
    pub message: Option<String>,
    pub contact: Option<String>,
    pub page: Option<String>,
    pub product: Option<String>,
    /// The honeypot: people never see it, so it stays empty.
    pub website: Option<String>,
    pub form_token: Option<String>,
    /// `id` or `en`: the language of the error texts.
    pub lang: Option<String>,
}

impl FeedbackForm {
    fn from_urlencoded(body: &[u8]) -> FeedbackForm {
        let mut form = FeedbackForm::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            let field = match k.as_ref() {
                "message" => &mut form.message,
                "contact" => &mut form.contact,
                "page" => &mut form.page,
                "product" => &mut form.product,
                "website" => &mut form.website,
                "form_token" => &mut form.form_token,
                "lang" => &mut form.lang,
                _ => continue,
            };
            *field = Some(v.into_owned());
        }
        form
    }
}

/// Why a message was not taken: the status, a text for the person who wrote it, and for
/// `429` how many seconds to wait.
#[derive(Debug, PartialEq)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
    pub retry_after: Option<u64>,
}

fn refuse(status: StatusCode, lang: Lang, id: String, en: String) -> Refusal {
    Refusal {
        status,
        message: if lang == Lang::Id { id } else { en },
        retry_after: None,
    }
}

/// A message's fields after validation: trimmed, within their limits, empty ones `None`.
/// (`page` is checked too; the handler may take it from the `Referer` instead.)
#[derive(Debug, PartialEq)]
pub struct Checked {
    pub message: String,
    pub contact: Option<String>,
    pub product: Option<ProductId>,
}

fn optional(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Validates the fields people fill in (not the token or the honeypot).
pub fn check_fields(form: &FeedbackForm, lang: Lang) -> Result<Checked, Refusal> {
    let bad = |id: String, en: String| Err(refuse(StatusCode::BAD_REQUEST, lang, id, en));
    let message = optional(&form.message).unwrap_or_default();
    let n = message.chars().count();
    if n < MIN_MESSAGE_CHARS {
        return bad(
            format!("Pesan terlalu pendek: tulis minimal {MIN_MESSAGE_CHARS} karakter."),
            if n == 0 {
                format!("message is missing: write {MIN_MESSAGE_CHARS} to {MAX_MESSAGE_CHARS} characters")
            } else {
                format!("message {message:?} is too short: write at least {MIN_MESSAGE_CHARS} characters")
            },
        );
    }
    if n > MAX_MESSAGE_CHARS {
        return bad(
            format!(
                "Pesan terlalu panjang ({n} karakter): tulis paling banyak {MAX_MESSAGE_CHARS} karakter."
            ),
            format!("message has {n} characters: shorten it to at most {MAX_MESSAGE_CHARS}"),
        );
    }
    let contact = optional(&form.contact);
    if let Some(n) = contact
        .as_ref()
        .map(|c| c.chars().count())
        .filter(|n| *n > MAX_CONTACT_CHARS)
    {
        return bad(
            format!("Kontak terlalu panjang: tulis paling banyak {MAX_CONTACT_CHARS} karakter (email atau nomor telepon)."),
            format!("contact has {n} characters: give at most {MAX_CONTACT_CHARS} (an email address or a phone number), or leave it out"),
        );
    }
    if let Some(n) = optional(&form.page)
        .as_ref()
        .map(|p| p.chars().count())
        .filter(|n| *n > MAX_PAGE_CHARS)
    {
        return bad(
            format!("Alamat halaman terlalu panjang (paling banyak {MAX_PAGE_CHARS} karakter)."),
            format!(
                "page has {n} characters: send at most {MAX_PAGE_CHARS} (the page's URL), or leave it out"
            ),
        );
    }
    let product = match optional(&form.product) {
        None => None,
        Some(raw) => Some(ProductId::parse(&raw).map_err(|e| {
            refuse(
                StatusCode::BAD_REQUEST,
                lang,
                format!("Kode produk {raw:?} tidak valid."),
                format!("product: {e}; or leave product out"),
            )
        })?),
    };
    Ok(Checked {
        message,
        contact,
        product,
    })
}

fn token_refusal(err: FormTokenError, lang: Lang) -> Refusal {
    let (id, en) = match err {
        FormTokenError::Missing => (
            "Formulir tidak lengkap: muat ulang halaman lalu kirim lagi.",
            "form_token is missing: reload the page to get a fresh form",
        ),
        FormTokenError::Forged => (
            "Formulir tidak valid: muat ulang halaman lalu kirim lagi.",
            "form_token is not valid: reload the page to get a fresh form",
        ),
        FormTokenError::TooYoung => (
            "Terlalu cepat terkirim; tunggu sebentar lalu kirim lagi.",
            "sent too fast; wait a moment and send again",
        ),
        FormTokenError::Expired => (
            "Formulir sudah kedaluwarsa; muat ulang halaman.",
            "the form expired; reload the page",
        ),
        FormTokenError::Used => (
            "Pesan dari formulir ini sudah terkirim; muat ulang halaman untuk mengirim pesan lain.",
            "this form was already sent: reload the page to send another message",
        ),
    };
    refuse(StatusCode::BAD_REQUEST, lang, id.into(), en.into())
}

/// What became of a message that was not refused.
enum Outcome {
    Stored(u64),
    /// The honeypot was filled: answered as if accepted, nothing kept.
    Ignored,
}

/// How the body came, which decides how the answer looks.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Json,
    /// A plain form post: the person sees the answer as a page.
    Form,
}

/// Headers the endpoint reads.
struct RequestInfo {
    /// The client's address ([`crate::web::client`]).
    addr: IpAddr,
    origin: Option<String>,
    referer: Option<String>,
    content_type: Option<String>,
}

fn request_info(state: &AppState) -> impl Filter<Extract = (RequestInfo,), Error = Rejection> + Clone {
    crate::web::client::address(state)
        .and(warp::header::optional::<String>("origin"))
        .and(warp::header::optional::<String>("referer"))
        .and(warp::header::optional::<String>("content-type"))
        .map(|addr, origin, referer, content_type| RequestInfo {
            addr,
            origin,
            referer,
            content_type,
        })
}

/// Refuses a body over [`MAX_BODY`] by its `Content-Length` with a message of its own,
/// before anything is read.
fn body_fits() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and_then(|len: Option<u64>| async move {
            match len {
                Some(n) if n > MAX_BODY => Err(reject(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("feedback body has {n} bytes: send at most {MAX_BODY} (shorten the message)"),
                )),
                _ => Ok(()),
            }
        })
        .untuple_one()
}

/// POST /v1/shops/{shop}/feedback
pub fn feedback(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / "feedback")
        .and(warp::post())
        .and(request_info(&state))
        .and(body_fits())
        .and(warp::body::content_length_limit(MAX_BODY))
        .and(warp::body::bytes())
        .and(with_state(state))
        .and_then(
            |shop: String, info: RequestInfo, body: Bytes, state: AppState| async move {
                let shop = known_shop(&state, &shop)?;
                let kind = match &info.content_type {
                    Some(ct)
                        if ct
                            .to_ascii_lowercase()
                            .starts_with("application/x-www-form-urlencoded") =>
                    {
                        Kind::Form
                    }
                    _ => Kind::Json,
                };
                let span = tracing::info_span!("feedback", shop = %shop.id);
                let mut handled = span.in_scope(|| receive(&state, shop, kind, &info, &body));
                // On disk before the 201 says it was received.
                if matches!(handled.outcome, Ok(Outcome::Stored(_))) {
                    if let Err(e) = state.store.durable().await {
                        handled.outcome = Err(store_refusal(&e));
                    }
                }
                Ok::<_, Rejection>(answer(&state, shop, kind, &info, handled))
            },
        )
}

/// A message's fate, with what the answer needs: the page it came from and its language.
struct Handled {
    outcome: Result<Outcome, Refusal>,
    page: Option<String>,
    lang: Lang,
}

fn internal_refusal() -> Refusal {
    Refusal {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: "internal error; the server log has the details".into(),
        retry_after: None,
    }
}

/// A store failure: 503 with `Retry-After` while the database is unreachable (the visitor
/// may send again shortly), else the opaque 500.
fn store_refusal(e: &crate::store::StoreError) -> Refusal {
    if e.is_unavailable() {
        tracing::warn!(err = %e, "storing feedback: the database is unreachable");
        Refusal {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: crate::web::errors::UNAVAILABLE_MESSAGE.into(),
            retry_after: Some(crate::web::errors::UNAVAILABLE_RETRY_SECS),
        }
    } else {
        tracing::error!(err = %e, "storing feedback");
        internal_refusal()
    }
}

/// Reads the body, then checks and stores the message.
fn receive(state: &AppState, shop: &ShopSettings, kind: Kind, info: &RequestInfo, body: &[u8]) -> Handled {
    let form = match kind {
        Kind::Form => FeedbackForm::from_urlencoded(body),
        Kind::Json => match serde_json::from_slice(body) {
            Ok(form) => form,
            Err(e) => {
                let message = format!(
                    r#"feedback body is not valid: {e}; send JSON such as {{"message": "…", "contact": "…", "form_token": "…"}} or a form"#
                );
                return Handled {
                    outcome: Err(Refusal {
                        status: StatusCode::BAD_REQUEST,
                        message,
                        retry_after: None,
                    }),
                    page: None,
                    lang: Lang::En,
                };
            }
        },
    };
    let lang = form.lang.as_deref().and_then(Lang::parse).unwrap_or(match kind {
        Kind::Form => Lang::Id,
        Kind::Json => Lang::En,
    });
    // The page the form was on: as sent, else as the browser's Referer names it.
    let referer = info
        .referer
        .clone()
        .filter(|r| r.chars().count() <= MAX_PAGE_CHARS);
    let page = optional(&form.page).or(referer);
    Handled {
        outcome: check_and_store(state, shop, info, &form, lang, page.clone()),
        page,
        lang,
    }
}

/// The fields, the honeypot, the form token, the rate limit, in this order; then the store.
fn check_and_store(
    state: &AppState,
    shop: &ShopSettings,
    info: &RequestInfo,
    form: &FeedbackForm,
    lang: Lang,
    page: Option<String>,
) -> Result<Outcome, Refusal> {
    let checked = check_fields(form, lang)?;
    if optional(&form.website).is_some() {
        tracing::info!("feedback with the honeypot field filled: answered as accepted, not kept");
        return Ok(Outcome::Ignored);
    }
    let secret = shop_secret(shop).map_err(|_| internal_refusal())?;
    let token = form.form_token.as_deref().unwrap_or("");
    let now = Utc::now();
    check_form_token(token, secret.as_bytes(), now.timestamp()).map_err(|e| token_refusal(e, lang))?;
    let shared = state.store.shared_state();
    let unavailable = |e: crate::store::StoreError| {
        tracing::error!(err = %e, "feedback limits could not be checked");
        Refusal {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: if lang == Lang::Id {
                "Pesan belum bisa diterima sekarang; coba lagi sebentar lagi.".into()
            } else {
                "messages cannot be taken right now; try again in a minute".into()
            },
            retry_after: Some(60),
        }
    };
    if let Err(wait) = count_message(shared, info.addr, now).map_err(unavailable)? {
        let secs = retry_after_secs(wait);
        let mut refusal = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            format!("Terlalu banyak pesan dari alamat ini: coba lagi dalam {secs} detik."),
            format!("too many messages from this address: try again in {secs} seconds"),
        );
        refusal.retry_after = Some(secs);
        return Err(refusal);
    }
    if !take_form_token(shared, &shop.id, token, now).map_err(unavailable)? {
        return Err(token_refusal(FormTokenError::Used, lang));
    }
    let mut record = Feedback {
        id: 0,
        at: Utc::now(),
        message: checked.message,
        contact: checked.contact,
        page,
        product: checked.product.map(|p| p.as_str().to_string()),
        status: FeedbackStatus::New,
    };
    let id = state
        .store
        .put_feedback(&shop.id, &mut record)
        .map_err(|e| store_refusal(&e))?;
    tracing::info!(id, "feedback received");
    Ok(Outcome::Stored(id))
}

/// Where a form post goes back to: the page it came from, when that is a path on this
/// service or an http(s) page of the shop's own: an origin `allowed_origins` names, or its
/// `public_url`'s. Never elsewhere, so the form is no open redirect: `"*"` lets any page
/// *call* the widget endpoints, it makes no page the shop's own.
fn back_to(state: &AppState, shop: &ShopSettings, page: Option<&str>) -> Option<String> {
    let page = page?;
    if let Some(path) = relative_path(page) {
        return Some(path);
    }
    let url = url::Url::parse(page).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    let named = shop.allowed_origins.contains(&origin);
    let public = public_url(state, shop).is_some_and(|p| p.origin() == origin);
    (named || public).then(|| url.to_string())
}

/// `page` as a path of this service (`/terima-kasih?x=1`), percent-encoded for a
/// `Location`; `None` when it is not one: `//host/…` and `/\host/…` are other hosts to a
/// browser, and control characters have no place in a path.
fn relative_path(page: &str) -> Option<String> {
    let plain = page.starts_with('/')
        && !page.starts_with("//")
        && !page.contains('\\')
        && !page.chars().any(char::is_control);
    if !plain {
        return None;
    }
    let here = url::Url::parse("http://laris.invalid/").expect("a valid URL");
    let joined = here.join(page).ok()?;
    (joined.origin() == here.origin()).then(|| joined[url::Position::BeforePath..].to_string())
}

/// The answer as JSON, or for a form post as a redirect or a small page.
fn answer(
    state: &AppState,
    shop: &ShopSettings,
    kind: Kind,
    info: &RequestInfo,
    handled: Handled,
) -> Response {
    let Handled { outcome, page, lang } = handled;
    let back = back_to(state, shop, page.as_deref());
    let mut resp = match (kind, &outcome) {
        (Kind::Json, Ok(Outcome::Stored(id))) => warp::reply::with_status(
            warp::reply::json(&serde_json::json!({"id": id, "status": FeedbackStatus::New.as_str()})),
            StatusCode::CREATED,
        )
        .into_response(),
        (Kind::Json, Ok(Outcome::Ignored)) => warp::reply::with_status(
            warp::reply::json(&serde_json::json!({"status": "received"})),
            StatusCode::ACCEPTED,
        )
        .into_response(),
        (Kind::Json, Err(refusal)) => warp::reply::with_status(
            warp::reply::json(&serde_json::json!({"error": refusal.message})),
            refusal.status,
        )
        .into_response(),
        (Kind::Form, Ok(_)) if back.is_some() => {
            let mut r = Response::new("".into());
            *r.status_mut() = StatusCode::SEE_OTHER;
            if let Some(v) = back.as_deref().and_then(|b| b.parse().ok()) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        (Kind::Form, _) => {
            let (status, message) = match &outcome {
                Ok(_) => (StatusCode::OK, None),
                Err(r) => (r.status, Some(r.message.as_str())),
            };
            let html = templates::render(
                &state.templates,
                "feedback_reply.html",
                minijinja::context! {
                    lang => lang_code(lang),
                    t => texts(lang),
                    error => message,
                    back => back,
                    back_label => if lang == Lang::Id { "Kembali" } else { "Back" },
                },
            )
            .unwrap_or_else(|e| {
                tracing::error!(err = %e, "rendering feedback_reply.html");
                "<!doctype html><p>OK</p>".into()
            });
            warp::reply::with_status(warp::reply::html(html), status).into_response()
        }
    };
    if let Some(secs) = outcome.as_ref().err().and_then(|r| r.retry_after) {
        resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    with_cors(shop, info.origin.as_deref(), resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"feedback-test-secret";

    #[test]
    fn a_form_token_is_good_from_three_seconds_to_a_day_after_it_was_issued() {
        let t = form_token(SECRET, 1_000_000);
        assert_eq!(
            check_form_token(&t, SECRET, 1_000_000),
            Err(FormTokenError::TooYoung)
        );
        assert_eq!(
            check_form_token(&t, SECRET, 1_000_002),
            Err(FormTokenError::TooYoung)
        );
        assert_eq!(check_form_token(&t, SECRET, 1_000_003), Ok(()));
        assert_eq!(check_form_token(&t, SECRET, 1_000_000 + 86_400), Ok(()));
        assert_eq!(
            check_form_token(&t, SECRET, 1_000_000 + 86_401),
            Err(FormTokenError::Expired)
        );
        assert_eq!(
            check_form_token(&t, SECRET, 999_000),
            Err(FormTokenError::TooYoung),
            "issued in the future"
        );
    }

    #[test]
    fn a_form_token_with_another_time_or_secret_or_shape_is_forged() {
        let t = form_token(SECRET, 1_000_000);
        let rest = t.split_once('.').unwrap().1;
        let older = format!("900000.{rest}");
        assert_eq!(
            check_form_token(&older, SECRET, 1_000_000),
            Err(FormTokenError::Forged)
        );
        assert_eq!(
            check_form_token(&t, b"another-secret", 1_000_010),
            Err(FormTokenError::Forged)
        );
        for bad in [
            "x",
            "1000000",
            "1000000.",
            "abc.00",
            "1000000.zz",
            &t.to_uppercase(),
        ] {
            assert_eq!(
                check_form_token(bad, SECRET, 1_000_010),
                Err(FormTokenError::Forged),
                "{bad:?}"
            );
        }
        assert_eq!(
            check_form_token("  ", SECRET, 1_000_010),
            Err(FormTokenError::Missing)
        );
        // A customer token signed with the same secret is no form token.
        let customer = crate::loyalty::token::make("777001", SECRET, 2_000_000_000);
        assert_eq!(
            check_form_token(&customer, SECRET, 1_000_010),
            Err(FormTokenError::Forged)
        );
    }

    #[test]
    fn the_hmac_matches_an_independent_computation() {
        // python3 -c "import hmac,hashlib; print(hmac.new(b'k', b'feedback.10', hashlib.sha256).hexdigest())"
        // import hmac,hashlib; print(hmac.new(b'k', b'feedback.10.000102030405060708090a0b0c0d0e0f', hashlib.sha256).hexdigest())
        assert_eq!(
            form_token_with(b"k", 10, "000102030405060708090a0b0c0d0e0f"),
            "10.000102030405060708090a0b0c0d0e0f.de39f3eb3acb6230b33997d748221132ac75d8b9c90bc4228c1fe03ba2023e20"
        );
        assert_ne!(
            form_token(b"k", 10),
            form_token(b"k", 10),
            "each has its own nonce"
        );
    }

    fn form(message: &str) -> FeedbackForm {
        FeedbackForm {
            message: Some(message.into()),
            ..FeedbackForm::default()
        }
    }

    #[test]
    fn fields_are_trimmed_and_empty_optional_ones_dropped() {
        let mut f = form("  Sambalnya enak!  ");
        f.contact = Some("  ".into());
        f.product = Some(" SRD-100 ".into());
        let c = check_fields(&f, Lang::En).unwrap();
        assert_eq!(c.message, "Sambalnya enak!");
        assert_eq!(c.contact, None);
        assert_eq!(c.product, Some(ProductId::parse("SRD-100").unwrap()));
    }

    #[test]
    fn each_limit_is_refused_naming_its_field_in_the_forms_language() {
        let too_long = "a".repeat(MAX_MESSAGE_CHARS + 1);
        let cases: Vec<(FeedbackForm, &str, &str)> = vec![
            (form(""), "message is missing", "Pesan terlalu pendek"),
            (
                form(" ab "),
                "message \"ab\" is too short",
                "Pesan terlalu pendek",
            ),
            (
                form(&too_long),
                "message has 2001 characters",
                "Pesan terlalu panjang",
            ),
            (
                FeedbackForm {
                    contact: Some("c".repeat(201)),
                    ..form("pesan")
                },
                "contact has 201 characters",
                "Kontak terlalu panjang",
            ),
            (
                FeedbackForm {
                    page: Some("p".repeat(501)),
                    ..form("pesan")
                },
                "page has 501 characters",
                "Alamat halaman",
            ),
            (
                FeedbackForm {
                    product: Some("A\u{1}B".into()),
                    ..form("pesan")
                },
                "product: invalid product id",
                "Kode produk",
            ),
        ];
        for (f, en, id) in cases {
            let e = check_fields(&f, Lang::En).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert!(
                e.message.starts_with(en),
                "{:?} does not start with {en:?}",
                e.message
            );
            assert!(check_fields(&f, Lang::Id).unwrap_err().message.starts_with(id));
        }
        // 2000 characters of a multi-byte letter are 2000 characters, not 4000 bytes.
        assert!(check_fields(&form(&"é".repeat(MAX_MESSAGE_CHARS)), Lang::En).is_ok());
    }

    #[test]
    fn only_a_path_of_this_service_counts_as_relative() {
        assert_eq!(relative_path("/terima-kasih").as_deref(), Some("/terima-kasih"));
        assert_eq!(
            relative_path("/produk/serundeng pedas?ref=a b").as_deref(),
            Some("/produk/serundeng%20pedas?ref=a%20b"),
            "percent-encoded for a Location header"
        );
        for other_host in [
            "//evil.example/x",
            "/\\evil.example/x",
            "/\tevil",
            "https://evil.example/",
            "evil.example/x",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(relative_path(other_host), None, "{other_host:?}");
        }
    }

    #[test]
    fn a_form_post_body_is_read_like_json() {
        let f = FeedbackForm::from_urlencoded(b"message=Kurang+pedas%21&contact=a%40b.id&website=&other=x");
        assert_eq!(f.message.as_deref(), Some("Kurang pedas!"));
        assert_eq!(f.contact.as_deref(), Some("a@b.id"));
        assert_eq!(f.website.as_deref(), Some(""));
        assert_eq!(f.form_token, None);
    }

    #[test]
    fn a_form_token_issued_on_one_replica_is_taken_once_on_any() {
        let url = crate::store::postgres::testing::fresh_database();
        let replica = || {
            let options = crate::store::postgres::PgOptions {
                url: url.clone(),
                pool_size: 2,
                statement_timeout: std::time::Duration::from_secs(5),
            };
            crate::store::postgres::PgStore::connect(&options).unwrap_or_else(|e| panic!("{e}"))
        };
        let (a, b) = (replica(), replica());
        let shop = ShopId::parse("lengkuas").unwrap();
        let now = Utc::now();
        // Issued by A (a page rendered there): nothing is written.
        let token = form_token(SECRET, now.timestamp() - 60);
        assert_eq!(check_form_token(&token, SECRET, now.timestamp()), Ok(()));
        assert!(
            take_form_token(&b, &shop, &token, now).unwrap(),
            "accepted once on B"
        );
        assert!(
            !take_form_token(&b, &shop, &token, now).unwrap(),
            "refused the second time on B"
        );
        assert!(!take_form_token(&a, &shop, &token, now).unwrap(), "and on A");
        let other = form_token(SECRET, now.timestamp() - 60);
        assert!(
            take_form_token(&a, &shop, &other, now).unwrap(),
            "another visitor's form"
        );

        // Messages from one address count on every replica together.
        let ip: IpAddr = [198, 51, 100, 7].into();
        for on in [&a, &b, &a] {
            assert_eq!(count_message(on, ip, now).unwrap(), Ok(()));
        }
        let wait = count_message(&b, ip, now).unwrap().unwrap_err();
        let window = std::time::Duration::from_secs(MESSAGE_WINDOW_SECS as u64);
        assert!(
            wait <= window && wait > window - std::time::Duration::from_secs(1),
            "{wait:?}"
        );
        assert_eq!(count_message(&a, [198, 51, 100, 8].into(), now).unwrap(), Ok(()));
    }
}
