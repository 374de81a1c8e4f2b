//! The admin dashboard: sign-in and its limits, CSRF, per-shop access, every page with the
//! demo shop's figures recomputed here from the store, and attribution on a hand-made
//! sequence of clicks and orders and on the demo shop's synthetic events.

use std::collections::HashMap;
use std::path::Path;

use argon2::password_hash::{PasswordHasher, SaltString};
use chrono::{DateTime, Datelike, Duration, Utc};
use laris::domain::{ProductId, ShopId};
use laris::records::{Event, EventKind};
use laris::records::{Feedback, FeedbackStatus};
use serde_json::{json, Value};

use crate::helpers::{demo_events, repo, spawn_app_with, test_config_text, TestApp, TOKEN};

pub const OWNER_PW: &str = "kopi-susu-gula-aren";
pub const SHOP_PW: &str = "tepung-lengkuas-100g";
/// A second, empty shop with its own user.
pub const OTHER: &str = "toko-uji";

/// An argon2id hash with tiny parameters, so that the debug-built tests sign in quickly
/// (verification reads the parameters from the hash).
pub fn cheap_hash(plain: &str) -> String {
    let params = argon2::Params::new(8, 1, 1, None).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon.hash_password(plain.as_bytes(), &salt).unwrap().to_string()
}

/// The demo shop with user `admin` (`OWNER_PW`), plus the empty shop `toko-uji` whose own
/// user has `SHOP_PW`.
pub fn admin_config_text() -> String {
    let base = test_config_text().replacen(
        "[admin]\n",
        &format!("[admin]\npassword_hash = \"{}\"\n", cheap_hash(OWNER_PW)),
        1,
    );
    format!(
        "{base}\n[[shops]]\nid = \"{OTHER}\"\nname = \"Toko Uji\"\nadmin_password_hash = \"{}\"\n",
        cheap_hash(SHOP_PW)
    )
}

pub async fn spawn_admin_app() -> TestApp {
    let settings =
        laris::config::Settings::from_toml(&admin_config_text(), Path::new("admin-test.toml"), &[])
            .expect("the admin test config is valid");
    spawn_app_with(settings).await
}

/// A client that shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A signed-in browser: its cookie header and the session's CSRF token. The cookie header
/// also picks English (`laris_lang=en`), the language these tests read the pages in;
/// [`SignedIn::session`] is the session cookie alone (the default language, Indonesian).
pub struct SignedIn {
    pub cookie: String,
    pub csrf: String,
}

impl SignedIn {
    /// The session cookie without the language choice.
    pub fn session(&self) -> &str {
        self.cookie.split("; ").next().unwrap_or_default()
    }
}

pub async fn post_login(app: &TestApp, user: &str, password: &str) -> reqwest::Response {
    client()
        .post(format!("{}/admin/login", app.base))
        .form(&[("user", user), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// The shared login helper: signs in through the form, then reads the CSRF token from the
/// sign-out form of the page `/admin` leads to.
pub async fn sign_in(app: &TestApp, user: &str, password: &str) -> SignedIn {
    let resp = post_login(app, user, password).await;
    assert_eq!(resp.status(), 303, "sign-in of {user}");
    assert_eq!(resp.headers()["location"], "/admin");
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    assert!(
        cookie.starts_with("laris_session=") && cookie.len() > 30,
        "{set_cookie}"
    );
    let home = client()
        .get(format!("{}/admin", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 303);
    let first = home.headers()["location"].to_str().unwrap().to_string();
    let page = get_page(app, &cookie, &first).await;
    let csrf = hidden_csrf(&page);
    SignedIn {
        cookie: format!("{cookie}; laris_lang=en"),
        csrf,
    }
}

fn hidden_csrf(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("the page carries a csrf field") + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

/// A signed-in CSV download of the demo shop: its text, after checking that it comes as the
/// attachment `lengkuas-{name}.csv`.
async fn download_csv(app: &TestApp, cookie: &str, name: &str) -> String {
    let resp = client()
        .get(format!("{}/admin/shops/lengkuas/{name}.csv", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains(&format!("lengkuas-{name}.csv")),
        "{disposition}"
    );
    resp.text().await.unwrap()
}

pub async fn get_page(app: &TestApp, cookie: &str, path: &str) -> String {
    let resp = client()
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "GET {path}");
    assert_eq!(resp.headers()["cache-control"], "no-store", "{path}");
    resp.text().await.unwrap()
}

async fn bearer_get(app: &TestApp, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", app.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
}

async fn bearer_json(app: &TestApp, path: &str) -> Value {
    let resp = bearer_get(app, path).await;
    assert_eq!(resp.status(), 200, "GET {path}");
    resp.json().await.unwrap()
}

fn lengkuas() -> ShopId {
    ShopId::parse("lengkuas").unwrap()
}

/// `Rp1.234.567`, written here rather than borrowed from the code under test.
fn rupiah(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("Rp{out}")
}

/// How minijinja escapes text in HTML.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// The HTML of the table row that starts with `marker` (an attribute such as `data-tier="Gold"`).
fn row<'a>(page: &'a str, marker: &str) -> &'a str {
    let start = page.find(marker).unwrap_or_else(|| panic!("no row {marker}"));
    let end = start + page[start..].find("</tr>").unwrap();
    &page[start..end]
}

// ---- access ---------------------------------------------------------------------------

#[tokio::test]
async fn without_a_session_pages_go_to_the_sign_in_page_and_the_api_answers_401() {
    let app = spawn_admin_app().await;
    for path in [
        "/admin",
        "/admin/shops/lengkuas",
        "/admin/shops/lengkuas/customers",
        "/admin/shops/lengkuas/overview.csv",
        "/admin/shops/lengkuas/feedback",
    ] {
        let resp = client().get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(resp.status(), 303, "{path}");
        assert_eq!(resp.headers()["location"], "/admin/login", "{path}");
    }
    // A made-up cookie is no session.
    let resp = client()
        .get(format!("{}/admin/shops/lengkuas", app.base))
        .header("cookie", "laris_session=made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    for path in [
        "/admin/api/status",
        "/admin/api/shops/lengkuas/overview",
        "/admin/api/shops/lengkuas/customers",
        "/admin/api/shops/lengkuas/sync",
    ] {
        let resp = client().get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("/admin/login"), "{body}");
    }
    let resp = client()
        .post(format!("{}/admin/api/shops/lengkuas/rebuild", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // The sign-in page itself is open, with a form and no CDN.
    let resp = client()
        .get(format!("{}/admin/login", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let page = resp.text().await.unwrap();
    assert!(page.contains("name=\"password\"") && page.contains("action=\"/admin/login\""));
    assert!(!page.contains("https://"), "no external asset");
    app.stop().await;
}

#[tokio::test]
async fn wrong_passwords_get_401_and_after_five_even_the_right_one_gets_429() {
    let app = spawn_admin_app().await;
    for i in 0..5 {
        let resp = post_login(&app, "admin", "salah-sandi-nya").await;
        assert_eq!(resp.status(), 401, "attempt {i}");
        assert!(resp.headers().get("set-cookie").is_none());
        let page = resp.text().await.unwrap();
        // The sign-in page speaks Indonesian unless the browser chose English.
        assert!(page.contains("Nama pengguna atau kata sandi salah"), "{page}");
    }
    let resp = post_login(&app, "admin", OWNER_PW).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(resp.headers().get("set-cookie").is_none());
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Terlalu banyak kata sandi salah"));
    app.stop().await;
}

#[tokio::test]
async fn the_right_password_sets_an_http_only_same_site_strict_cookie_that_opens_the_pages_until_sign_out() {
    let app = spawn_admin_app().await;
    let resp = post_login(&app, "admin", OWNER_PW).await;
    assert_eq!(resp.status(), 303);
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age="] {
        assert!(set_cookie.contains(attribute), "{attribute} in {set_cookie}");
    }
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas").await;
    assert!(page.contains("Signed in as <strong>admin</strong>"), "{page}");
    // The API takes the cookie too.
    let resp = client()
        .get(format!("{}/admin/api/shops/lengkuas/tiers", app.base))
        .header("cookie", &me.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // Signing out needs the token, then ends the session.
    let resp = client()
        .post(format!("{}/admin/logout", app.base))
        .header("cookie", &me.cookie)
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = client()
        .post(format!("{}/admin/logout", app.base))
        .header("cookie", &me.cookie)
        .form(&[("csrf", me.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let resp = client()
        .get(format!("{}/admin/shops/lengkuas", app.base))
        .header("cookie", &me.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "the session ended");
    app.stop().await;
}

#[tokio::test]
async fn forms_and_cookie_api_calls_need_the_sessions_csrf_token_and_bearer_calls_do_not() {
    let app = spawn_admin_app().await;
    let shop = lengkuas();
    let mut message = Feedback {
        id: 0,
        at: Utc::now(),
        message: "Kemasannya bocor <b>sedikit</b>".into(),
        contact: Some("0812-0000-0000".into()),
        page: Some("/demo?product=SRD-100".into()),
        product: Some("SRD-100".into()),
        status: FeedbackStatus::New,
    };
    let id = app.store.put_feedback(&shop, &mut message).unwrap();
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let path = format!("{}/admin/shops/lengkuas/feedback/{id}", app.base);

    for form in [
        vec![("status", "answered")],
        vec![("status", "answered"), ("csrf", "not-the-token")],
    ] {
        let resp = client()
            .post(&path)
            .header("cookie", &me.cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{form:?}");
    }
    assert_eq!(app.store.feedback(&shop).unwrap()[0].status, FeedbackStatus::New);

    let resp = client()
        .post(&path)
        .header("cookie", &me.cookie)
        .form(&[("status", "answered"), ("csrf", me.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/admin/shops/lengkuas/feedback");
    assert_eq!(
        app.store.feedback(&shop).unwrap()[0].status,
        FeedbackStatus::Answered
    );

    // The owner's CSV has the message whole, with its contact.
    let text = download_csv(&app, &me.cookie, "feedback").await;
    assert!(
        text.starts_with("id,at,status,message,contact,page,product\n")
            && text.contains(&format!(
                "\n{id},{},answered,Kemasannya bocor <b>sedikit</b>,0812-0000-0000,/demo?product=SRD-100,SRD-100\n",
                message.at.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap()).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
            )),
        "{text}"
    );

    // The page shows the message escaped, with its contact and new status.
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/feedback").await;
    let r = row(&page, &format!("data-feedback=\"{id}\""));
    assert!(
        r.contains("Kemasannya bocor &lt;b&gt;sedikit&lt;&#x2f;b&gt;"),
        "{r}"
    );
    assert!(
        r.contains("0812-0000-0000")
            && r.contains("<span class=\"status-answered\" data-status>answered</span>"),
        "{r}"
    );

    // The API from a cookie session: the token goes in X-CSRF-Token.
    let api = format!("{}/admin/api/shops/lengkuas/feedback/{id}", app.base);
    let resp = client()
        .post(&api)
        .header("cookie", &me.cookie)
        .json(&json!({"status": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = client()
        .post(&api)
        .header("cookie", &me.cookie)
        .header("x-csrf-token", &me.csrf)
        .json(&json!({"status": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (body["id"].as_u64(), body["status"].as_str()),
        (Some(id), Some("read"))
    );

    // The bearer token needs no CSRF token; a bad status is refused with the choices.
    let resp = app
        .admin_post(
            &format!("/admin/api/shops/lengkuas/feedback/{id}"),
            json!({"status": "new"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.store.feedback(&shop).unwrap()[0].status, FeedbackStatus::New);
    let resp = app
        .admin_post(
            &format!("/admin/api/shops/lengkuas/feedback/{id}"),
            json!({"status": "done"}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["error"],
        "status=\"done\" is not valid: use new, read or answered"
    );
    let resp = app
        .admin_post(
            "/admin/api/shops/lengkuas/feedback/999999",
            json!({"status": "read"}),
        )
        .await;
    assert_eq!(resp.status(), 404);
    let listed = bearer_json(&app, "/admin/api/shops/lengkuas/feedback").await;
    assert_eq!(listed["messages"][0]["contact"], "0812-0000-0000");
    assert_eq!(listed["counts"]["new"], 1);

    // "Sync now" is a form too: without the token it is refused.
    let resp = client()
        .post(format!("{}/admin/shops/lengkuas/sync", app.base))
        .header("cookie", &me.cookie)
        .form(&[("csrf", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = client()
        .post(format!("{}/admin/shops/lengkuas/sync", app.base))
        .header("cookie", &me.cookie)
        .form(&[("csrf", me.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/admin/shops/lengkuas/sync?result=none"
    );
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/sync?result=none").await;
    assert!(page.contains("No sources are configured"), "{page}");
    app.stop().await;
}

#[tokio::test]
async fn a_shop_user_sees_its_own_shop_only_and_the_bearer_token_sees_all() {
    let app = spawn_admin_app().await;
    let me = sign_in(&app, OTHER, SHOP_PW).await;
    // `/admin` led the shop's user to its shop (sign_in followed it).
    let page = get_page(&app, &me.cookie, &format!("/admin/shops/{OTHER}")).await;
    assert!(
        page.contains("Toko Uji") && !page.contains("Lengkuas Nusantara"),
        "{page}"
    );

    for path in [
        "/admin/shops/lengkuas",
        "/admin/shops/lengkuas/customers",
        "/admin/shops/no-such-shop",
    ] {
        let resp = client()
            .get(format!("{}{path}", app.base))
            .header("cookie", &me.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{path}");
    }
    for path in [
        "/admin/api/shops/lengkuas/overview",
        "/admin/api/shops/lengkuas/customers",
        "/admin/api/status?shop=lengkuas",
    ] {
        let resp = client()
            .get(format!("{}{path}", app.base))
            .header("cookie", &me.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{path}");
    }
    let resp = client()
        .post(format!("{}/admin/api/shops/lengkuas/rebuild", app.base))
        .header("cookie", &me.cookie)
        .header("x-csrf-token", &me.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let status: Value = client()
        .get(format!("{}/admin/api/status", app.base))
        .header("cookie", &me.cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = status["shops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![OTHER]);

    // The shop's password is not the owner's, and the bearer token sees both shops.
    assert_eq!(post_login(&app, "admin", SHOP_PW).await.status(), 401);
    let status = bearer_json(&app, "/admin/api/status").await;
    assert_eq!(status["shops"].as_array().unwrap().len(), 2);
    assert_eq!(
        bearer_get(&app, "/admin/api/shops/lengkuas/bundles")
            .await
            .status(),
        200
    );
    assert_eq!(
        bearer_get(&app, "/admin/api/shops/no-such-shop/bundles")
            .await
            .status(),
        404
    );
    let resp = client()
        .get(format!("{}/admin/api/shops/lengkuas/bundles", app.base))
        .bearer_auth("not-the-token-at-all")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn set_password_saves_a_hash_that_the_running_service_takes_at_the_next_sign_in() {
    use std::io::Write;
    let app = spawn_admin_app().await;
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), admin_config_text()).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_laris"))
        .arg("--config")
        .arg(config.path())
        .arg("--data-dir")
        .arg(app.data_dir())
        .args(["admin", "set-password", "--shop", OTHER])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"sandi-baru-yang-panjang\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = app.data_dir().join(format!("admin-password-{OTHER}"));
    assert!(stdout.contains(&file.display().to_string()), "{stdout}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("$argon2id$") && !text.contains("sandi-baru"),
        "{text}"
    );

    assert_eq!(
        post_login(&app, OTHER, SHOP_PW).await.status(),
        401,
        "the old password is gone"
    );
    sign_in(&app, OTHER, "sandi-baru-yang-panjang").await;

    // Too short a password is refused with the rule.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_laris"))
        .arg("--config")
        .arg(config.path())
        .arg("--data-dir")
        .arg(app.data_dir())
        .args(["admin", "set-password"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"pendek\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10"));
    app.stop().await;
}

// ---- pages with the demo shop's figures --------------------------------------------------

const WIB: i64 = 7 * 3600;

fn local_month(at: DateTime<Utc>) -> (i32, u32) {
    let local = at + Duration::seconds(WIB);
    (local.year(), local.month())
}

#[tokio::test]
async fn the_month_overview_and_its_csv_show_octobers_orders_and_revenue_computed_from_the_store() {
    let app = spawn_admin_app().await;
    let orders = app.store.orders(&lengkuas()).unwrap();
    let october: Vec<_> = orders
        .iter()
        .filter(|o| local_month(o.paid_at) == (2026, 10))
        .collect();
    let paid: Vec<_> = october.iter().filter(|o| o.is_purchase()).collect();
    let revenue: i64 = paid.iter().map(|o| o.products_total.0).sum();
    assert!(paid.len() > 50 && revenue > 1_000_000, "the demo has an October");
    let aov = revenue / paid.len() as i64;

    let me = sign_in(&app, "admin", OWNER_PW).await;
    let page = get_page(
        &app,
        &me.cookie,
        "/admin/shops/lengkuas?period=month&from=2026-10-01&to=2026-10-31",
    )
    .await;
    let r = row(&page, "data-bucket=\"2026-10\"");
    assert!(
        r.contains(&format!(">{}<", rupiah(revenue))),
        "{r} should show {}",
        rupiah(revenue)
    );
    assert!(
        r.contains(&format!(">{}<", paid.len())) && r.contains(&format!(">{}<", october.len())),
        "{r}"
    );
    assert!(page.contains(&format!("data-total=\"revenue\">{}<", rupiah(revenue))));
    assert!(
        page.contains("<svg") && page.contains("Paid revenue per month"),
        "the revenue chart"
    );
    assert!(page.contains("New and returning customers per month"));

    // The default view (12 months to the latest order) holds October too.
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas").await;
    assert!(row(&page, "data-bucket=\"2026-10\"").contains(&rupiah(revenue)));
    // Weeks and days render too.
    get_page(&app, &me.cookie, "/admin/shops/lengkuas?period=week").await;
    get_page(
        &app,
        &me.cookie,
        "/admin/shops/lengkuas?period=day&from=2026-10-01&to=2026-10-31",
    )
    .await;

    let resp = client()
        .get(format!(
            "{}/admin/shops/lengkuas/overview.csv?period=month&from=2026-10-01&to=2026-10-31",
            app.base
        ))
        .header("cookie", &me.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(".csv"),
        "{disposition}"
    );
    let text = resp.text().await.unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("2026-10,"))
        .unwrap_or_else(|| panic!("{text}"));
    let fields: Vec<&str> = line.split(',').collect();
    assert_eq!(fields[1], "2026-10-01");
    assert_eq!(fields[2], october.len().to_string());
    assert_eq!(fields[3], paid.len().to_string());
    assert_eq!(fields[4], revenue.to_string());
    assert_eq!(fields[5], aov.to_string());

    // The API has the same figures.
    let api = bearer_json(
        &app,
        "/admin/api/shops/lengkuas/overview?period=month&from=2026-10-01&to=2026-10-31",
    )
    .await;
    assert_eq!(api["buckets"][0]["revenue"], revenue);
    assert_eq!(api["totals"]["paid_orders"], paid.len());
    app.stop().await;
}

#[tokio::test]
async fn bad_query_values_answer_400_naming_the_value_and_the_choices() {
    let app = spawn_admin_app().await;
    for (path, wanted) in [
        (
            "/admin/api/shops/lengkuas/overview?period=year",
            "period=\"year\" is not valid: use day, week, month",
        ),
        (
            "/admin/api/shops/lengkuas/overview?from=1-10-2026",
            "from=\"1-10-2026\" is not a date: use YYYY-MM-DD",
        ),
        (
            "/admin/api/shops/lengkuas/overview?period=day&from=1900-01-01&to=2026-10-31",
            "at most 1000 days",
        ),
        (
            "/admin/api/shops/lengkuas/customers?segment=VIP",
            "segment=\"VIP\" is unknown: use Champions, Loyal",
        ),
        (
            "/admin/api/shops/lengkuas/customers?tier=Diamond",
            "tier=\"Diamond\" is unknown: use Bronze, Silver, Gold, Platinum",
        ),
        (
            "/admin/api/shops/lengkuas/products/SRD-100?lang=fr",
            "lang=\"fr\" is not supported: use id or en",
        ),
        (
            "/admin/api/shops/lengkuas/tiers?sort=size",
            "unknown parameter \"sort\"",
        ),
    ] {
        let resp = bearer_get(&app, path).await;
        assert_eq!(resp.status(), 400, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains(wanted), "{path}: {body}");
    }
    assert_eq!(
        bearer_get(&app, "/admin/api/shops/lengkuas/products/NOPE-1")
            .await
            .status(),
        404
    );
    assert_eq!(
        bearer_get(&app, "/admin/api/shops/lengkuas/customers/nobody")
            .await
            .status(),
        404
    );
    // A page says the same as a page.
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let resp = client()
        .get(format!("{}/admin/shops/lengkuas?period=year", app.base))
        .header("cookie", &me.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("period=&quot;year&quot; is not valid: use day, week, month"));
    app.stop().await;
}

#[tokio::test]
async fn products_customers_tiers_and_bundles_pages_show_figures_recomputed_from_the_store() {
    let app = spawn_admin_app().await;
    let shop = lengkuas();
    let orders = app.store.orders(&shop).unwrap();
    let purchases: Vec<_> = orders.iter().filter(|o| o.is_purchase()).collect();
    let me = sign_in(&app, "admin", OWNER_PW).await;

    // Products: the top best-seller by units, first in the best-seller table.
    let mut units: HashMap<String, (u64, i64)> = HashMap::new();
    for o in &purchases {
        for l in &o.lines {
            let e = units.entry(l.product.as_ref().unwrap().to_string()).or_default();
            e.0 += u64::from(l.quantity);
            e.1 += l.unit_price.0 * i64::from(l.quantity);
        }
    }
    let (top, (top_units, top_revenue)) = units
        .iter()
        .max_by(|a, b| a.1 .0.cmp(&b.1 .0).then(a.1 .1.cmp(&b.1 .1)).then(b.0.cmp(a.0)))
        .unwrap();
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/products").await;
    let first = page.find("data-best-seller=\"").unwrap() + "data-best-seller=\"".len();
    assert!(
        page[first..].starts_with(&format!("{top}\"")),
        "the first best-seller is {top}"
    );
    let r = row(&page, &format!("data-best-seller=\"{top}\""));
    assert!(
        r.contains(&format!(">{top_units}<")) && r.contains(&rupiah(*top_revenue)),
        "{r}"
    );
    assert!(page.contains("<svg") && page.contains("Best-sellers"));
    let catalogue = row(&page, "data-product=\"SRD-100\"");
    assert!(
        catalogue.contains("Rp20.000") || catalogue.contains("Rp"),
        "{catalogue}"
    );
    let products = app.store.products(&shop).unwrap();
    assert!(page.contains(&format!("Catalogue ({} products)", products.len())));

    // One product: the widget's lists with their reasons.
    // ?lang=id: the widget's reasons in Indonesian while the dashboard is in English.
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/products/SRD-100?lang=id").await;
    assert!(page.contains("Serundeng Lengkuas Premium 250 g"), "the upgrade");
    assert!(page.contains("Tepung Lengkuas 100 g"), "the bundle");
    assert!(page.contains("Mirip"), "a reason");
    assert!(
        page.contains("Beli 2 Serundeng, gratis Tepung Lengkuas"),
        "the fixed offer"
    );
    let en = get_page(&app, &me.cookie, "/admin/shops/lengkuas/products/SRD-100?lang=en").await;
    assert!(en.contains("Similar: "), "English reasons");

    // Customers: every customer, and the CSV has them all with segments.
    let customers = app.store.customers(&shop).unwrap();
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/customers").await;
    assert!(page.contains(&format!(
        "<strong data-count=\"customers\">{}</strong>",
        customers.len()
    )));
    let named = customers.iter().find(|c| c.name.is_some()).unwrap();
    // The owner's list names each customer (ids alone cannot tell two people apart).
    let listed = row(&page, &format!("data-customer=\"{}\"", named.id));
    assert!(
        listed.contains(&html_escape(named.name.as_ref().unwrap())),
        "{listed}"
    );
    let champions = customers
        .iter()
        .filter(|c| c.segment.as_deref() == Some("Champions"))
        .count();
    let page = get_page(
        &app,
        &me.cookie,
        "/admin/shops/lengkuas/customers?segment=Champions",
    )
    .await;
    assert!(page.contains(&format!("<strong data-count=\"customers\">{champions}</strong>")));
    let text = download_csv(&app, &me.cookie, "customers").await;
    assert!(text.starts_with("customer,name,total_spend,orders"), "{text}");
    assert_eq!(text.lines().count(), customers.len() + 1);
    let text = download_csv(&app, &me.cookie, "products").await;
    assert!(text.starts_with("id,sku,name,price,stock,status"), "{text}");
    assert!(
        text.contains("\nSRD-100,SRD-100,Serundeng Lengkuas 100 g,20000,"),
        "{text}"
    );

    // One customer: the name, every order and the tier history.
    let page = get_page(
        &app,
        &me.cookie,
        &format!("/admin/shops/lengkuas/customers/{}", named.id),
    )
    .await;
    assert!(page.contains(&html_escape(named.name.as_ref().unwrap())));
    let theirs = orders.iter().filter(|o| o.customer == named.id).count();
    assert!(page.contains(&format!("Orders ({theirs})")));
    assert!(page.contains(named.tier.as_deref().unwrap()));

    // Tiers: each tier's customers.
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/tiers").await;
    for tier in ["Bronze", "Silver", "Gold", "Platinum"] {
        let n = customers
            .iter()
            .filter(|c| c.tier.as_deref() == Some(tier))
            .count();
        let r = row(&page, &format!("data-tier=\"{tier}\""));
        assert!(r.contains(&format!("data-col=\"customers\">{n}<")), "{tier}: {r}");
    }
    assert!(page.contains("Customers by spend") && page.contains("<svg"));

    // Bundles: SRD-100 → TPG-100, its support, confidence and lift from the baskets.
    let has = |o: &&&laris::records::Order, id: &str| {
        o.lines
            .iter()
            .any(|l| l.product.as_ref().is_some_and(|p| p.as_str() == id))
    };
    let n = purchases.len() as f64;
    let a = purchases.iter().filter(|o| has(o, "SRD-100")).count() as f64;
    let b = purchases.iter().filter(|o| has(o, "TPG-100")).count() as f64;
    let ab = purchases
        .iter()
        .filter(|o| has(o, "SRD-100") && has(o, "TPG-100"))
        .count() as f64;
    let (support, confidence, lift) = (ab / n, ab / a, ab * n / (a * b));
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/bundles").await;
    let r = row(&page, "data-rule=\"SRD-100:TPG-100\"");
    for figure in [
        format!("{support:.3}"),
        format!("{confidence:.3}"),
        format!("{lift:.2}"),
    ] {
        assert!(r.contains(&format!(">{figure}<")), "{figure} in {r}");
    }
    assert!(page.contains("Beli 2 Serundeng, gratis Tepung Lengkuas"));
    let api = bearer_json(&app, "/admin/api/shops/lengkuas/bundles").await;
    let rule = api["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["antecedent"][0]["id"] == "SRD-100"
                && r["antecedent"].as_array().unwrap().len() == 1
                && r["consequent"]["id"] == "TPG-100"
        })
        .unwrap();
    assert!((rule["lift"].as_f64().unwrap() - lift).abs() < 1e-9);
    app.stop().await;
}

/// A recording of one order page: a good order and one whose price cannot be read.
fn recording_with_a_bad_order(dir: &Path) {
    let order = |invoice: &str, price: Value| {
        json!({
            "order_id": 990000001, "invoice_ref_num": invoice,
            "buyer": {"id": 990001, "name": "Uji C."},
            "products": [{"id": 15001001, "name": "Serundeng Lengkuas 100 g", "sku": "SRD-100", "quantity": 1, "price": price}],
            "order_status": 700, "create_time": 1793000000, "payment_date": 1793000100, "update_time": 1793000200,
            "amt": {"ttl_product_price": 20000, "shipping_cost": 9000}
        })
    };
    let body = json!({"header": {}, "data": [order("INV/20261026/MPL/990000001", json!(20000)), order("INV/20261026/MPL/990000002", json!("20.000,50"))]});
    std::fs::write(dir.join("0001.json"), body.to_string()).unwrap();
    let index = json!({"seq": 1, "source": 0, "method": "GET",
        "url": "https://fs.tokopedia.net/v2/order/list?fs_id=15001&shop_id=479573&from_date=1792990000&to_date=1793100000&page=1&per_page=100",
        "status": 200, "headers": {"content-type": "application/json"}, "body": "0001.json", "at": "2026-11-02T00:00:00Z"});
    std::fs::write(dir.join("index.jsonl"), format!("{index}\n")).unwrap();
}

#[tokio::test]
async fn the_sync_page_lists_the_replay_report_and_a_quarantined_records_reason() {
    let app = spawn_admin_app().await;
    // The service replays the shop's own recordings: those in recordings/{shop}.
    let dir = app.data_dir().join("recordings/lengkuas/bad-order");
    std::fs::create_dir_all(&dir).unwrap();
    recording_with_a_bad_order(&dir);
    let resp = app
        .admin_post(
            "/admin/api/shops/lengkuas/replay",
            json!({"dir": dir.display().to_string()}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["quarantined"], 1);
    let quarantined = app.store.quarantined(&lengkuas()).unwrap();
    assert_eq!(quarantined.len(), 1);
    let reason = &quarantined[0].reason.to_string();
    assert!(reason.contains("20.000,50"), "{reason}");

    let me = sign_in(&app, "admin", OWNER_PW).await;
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/sync").await;
    assert!(
        page.contains(&html_escape(reason)),
        "the reason {reason:?} is on the page"
    );
    assert!(page.contains("Quarantined records (1)"));
    assert!(page.contains(&html_escape("0 */30 * * * *")), "the schedule");
    assert!(page.contains("<button class=\"primary\" type=\"submit\">Sync now</button>"));
    // Two runs: the seeding replay and this one, newest first.
    let reports = app.store.sync_reports(&lengkuas(), 100).unwrap();
    assert!(page.contains(&format!("Runs ({} newest)", reports.len())));
    assert!(page.contains(&html_escape(&dir.display().to_string())));
    let api = bearer_json(&app, "/admin/api/shops/lengkuas/sync").await;
    assert_eq!(api["quarantined"][0]["reason"], reason.as_str());
    assert_eq!(api["reports"][0]["quarantined"], 1);
    app.stop().await;
}

// ---- attribution on a hand-made sequence ---------------------------------------------------

fn product_record(id: u64, sku: &str, name: &str, price: i64) -> Value {
    json!({
        "basic": {"productID": id, "shopID": 1, "status": 1, "name": name},
        "price": {"value": price},
        "stock": {"useStock": false, "value": 0},
        "other": {"sku": sku}
    })
}

fn order_record(n: u64, buyer: u64, status: u64, paid: DateTime<Utc>, lines: &[(u64, &str, i64)]) -> Value {
    let products: Vec<Value> = lines
        .iter()
        .map(|(id, sku, price)| json!({"id": id, "name": sku, "sku": sku, "quantity": 1, "price": price}))
        .collect();
    json!({
        "order_id": n, "invoice_ref_num": format!("INV/UJI/{n}"),
        "buyer": {"id": buyer, "name": format!("Pembeli {buyer}")},
        "products": products, "order_status": status,
        "create_time": paid.timestamp() - 60, "payment_date": paid.timestamp(), "update_time": paid.timestamp(),
    })
}

fn event(kind: &str, slot: &str, item: &str, at: DateTime<Utc>) -> Event {
    Event {
        kind: EventKind::parse(kind).unwrap(),
        slot: Some(laris::domain::Slot::parse(slot).unwrap()),
        product: Some(ProductId::parse("A-1").unwrap()),
        item: Some(ProductId::parse(item).unwrap()),
        at: Some(at),
        customer: None,
        visitor: None,
        arm: None,
        order: None,
        total: None,
        items: Vec::new(),
    }
}

#[tokio::test]
async fn orders_are_attributed_to_the_latest_click_on_an_item_they_contain_within_the_window() {
    let app = spawn_admin_app().await;
    let shop = ShopId::parse(OTHER).unwrap();
    let t0: DateTime<Utc> = "2026-09-01T00:00:00Z".parse().unwrap();
    let h = |hours: i64| t0 + Duration::hours(hours);

    let mut importer = laris::sync::pipeline::Importer::new(&*app.store, shop.clone());
    let products = json!({"data": [
        product_record(1, "A-1", "Produk A", 20_000),
        product_record(2, "B-1", "Produk B", 50_000),
        product_record(3, "C-1", "Produk C", 30_000),
    ]});
    importer
        .import_products_page("test products", &products.to_string())
        .unwrap();
    let orders = json!({"data": [
        // Before any widget event: neither attributed nor in the comparison group.
        order_record(1, 101, 700, h(-1), &[(2, "B-1", 50_000)]),
        // B clicked at t0 (similar), bought 2 h later with A: attributed to similar.
        order_record(2, 102, 700, h(2), &[(2, "B-1", 50_000), (1, "A-1", 20_000)]),
        // Cancelled: never counts.
        order_record(3, 103, 0, h(3), &[(2, "B-1", 50_000)]),
        // C clicked at t0+1 h (upsell), bought 4 h later: attributed to upsell.
        order_record(4, 104, 700, h(5), &[(3, "C-1", 30_000), (3, "C-1", 30_000)]),
        // C bought 100 h after its click: outside the 72 h window, an "other" order.
        order_record(5, 105, 700, h(101), &[(3, "C-1", 30_000)]),
        // A was never clicked: an "other" order.
        order_record(6, 106, 700, h(6), &[(1, "A-1", 20_000)]),
    ]});
    importer
        .import_orders_page("test orders", &orders.to_string())
        .unwrap();
    let report = importer
        .finish(laris::records::RunKind::Import, "hand-made")
        .unwrap();
    assert_eq!(report.orders.inserted, 6);

    for e in [
        event("impression", "similar", "B-1", h(0)),
        event("impression", "upsell", "C-1", h(0)),
        event("click", "similar", "B-1", h(0)),
        event("click", "upsell", "C-1", h(1)),
        event("add_to_cart", "bundle", "A-1", h(1)),
        event("impression", "similar", "B-1", h(2)),
    ] {
        app.event_log.append(&*app.store, &shop, &[e]).unwrap();
    }

    let p = bearer_json(&app, &format!("/admin/api/shops/{OTHER}/performance")).await;
    let a = &p["attribution"];
    assert_eq!(a["window_hours"], 72);
    assert_eq!(a["attributed_orders"], 2);
    assert_eq!(a["attributed_revenue"], 70_000 + 60_000);
    assert_eq!(a["clicked_item_revenue"], 50_000 + 60_000);
    assert_eq!(a["aov_after_click"], 65_000);
    assert_eq!(a["other_orders"], 2);
    assert_eq!(a["other_revenue"], 30_000 + 20_000);
    assert_eq!(a["aov_other"], 25_000);
    assert!((a["uplift"].as_f64().unwrap() - (65_000.0 / 25_000.0 - 1.0)).abs() < 1e-12);
    assert_eq!(
        a["per_slot"],
        json!([{"slot": "similar", "orders": 1, "revenue": 70_000}, {"slot": "upsell", "orders": 1, "revenue": 60_000}])
    );
    let slot = |name: &str| {
        p["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["slot"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            slot("similar")["impressions"].as_u64(),
            slot("similar")["clicks"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(slot("similar")["ctr"], 0.5);
    assert_eq!(slot("bundle")["add_to_carts"], 1);
    assert_eq!(p["events"], 6);

    // The page states the rule and shows the same figures.
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let page = get_page(&app, &me.cookie, &format!("/admin/shops/{OTHER}/performance")).await;
    assert!(
        page.contains("paid within 72 hours after a click on a recommended product"),
        "{page}"
    );
    assert!(page.contains("data-attr=\"orders\">2<"));
    assert!(page.contains("data-attr=\"revenue\">Rp130.000<"));
    assert!(page.contains("data-attr=\"aov_after_click\">Rp65.000<"));
    assert!(page.contains("data-attr=\"aov_other\">Rp25.000<"));
    assert!(page.contains("data-attr=\"uplift\">+160.0%<"));
    assert!(row(&page, "data-slot=\"similar\"").contains(">50.0%<"));
    app.stop().await;
}

#[tokio::test]
async fn the_demo_shops_synthetic_clicks_are_credited_with_their_customers_orders_paid_within_72_hours() {
    let app = spawn_admin_app().await;
    let lines: Vec<Value> = std::fs::read_to_string(demo_events())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // (customer, clicked item, time) of every click that carries a customer.
    let clicks: Vec<(&str, &str, DateTime<Utc>)> = lines
        .iter()
        .filter(|e| e["type"] == "click")
        .filter_map(|e| {
            Some((
                e["customer"].as_str()?,
                e["item"].as_str().unwrap(),
                e["at"].as_str().unwrap().parse().unwrap(),
            ))
        })
        .collect();
    let window = Duration::hours(72);
    let orders = app.store.orders(&lengkuas()).unwrap();
    let contains = |o: &laris::records::Order, item: &str| {
        o.lines
            .iter()
            .any(|l| l.product.as_ref().map(|p| p.as_str()).or(l.sku.as_deref()) == Some(item))
    };
    // The documented rule, each order once: a purchase of the clicking customer that contains
    // the clicked item and was paid after the click, at most 72 hours after it.
    let expected = orders
        .iter()
        .filter(|o| o.is_purchase())
        .filter(|o| {
            clicks.iter().any(|&(customer, item, at)| {
                customer == o.customer.0 && contains(o, item) && at < o.paid_at && o.paid_at <= at + window
            })
        })
        .count();
    assert!(expected > 0, "the demo's events credit no order");

    let p = bearer_json(&app, "/admin/api/shops/lengkuas/performance").await;
    assert_eq!(p["events"], lines.len());
    assert_eq!(p["attribution"]["window_hours"], 72);
    assert_eq!(p["attribution"]["attributed_orders"], expected);
    // The demo's README states the same figure.
    let readme = std::fs::read_to_string(repo().join("demo/lengkuas/README.md")).unwrap();
    assert!(
        readme.contains(&format!(", {expected} are attributed")),
        "{expected}"
    );
    app.stop().await;
}

// ---- the blend fit ----------------------------------------------------------------------

/// The HTML of one list's block in the fit panel.
fn fit_list<'a>(page: &'a str, list: &str) -> &'a str {
    let marker = format!("data-fit-list=\"{list}\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no {marker}"));
    let end = start + page[start..].find("</table>").unwrap();
    &page[start..end]
}

#[tokio::test]
async fn the_product_page_explains_how_the_lists_are_made_with_the_models_fit() {
    let app = spawn_admin_app().await;
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let model = app.models.get(&lengkuas()).expect("the demo shop's model");
    let fit = &model.fit;
    assert!(fit.fitted_at.timestamp() > 0, "the demo shop's model was fitted");

    for (lang, en, heading) in [
        ("id", false, "Bagaimana daftar disusun"),
        ("en", true, "How the lists are made"),
    ] {
        let page = get_page(
            &app,
            &me.cookie,
            &format!("/admin/shops/lengkuas/products/SRD-100?lang={lang}"),
        )
        .await;
        assert!(page.contains(heading), "{lang}: the panel's heading");
        let lines = fit.explain(en);
        assert!(!lines.is_empty());
        for line in &lines {
            assert!(page.contains(&html_escape(line)), "{lang}: explanation {line:?}");
        }
        // The fit date in the shop's time zone (Asia/Jakarta, UTC+7).
        let local = (fit.fitted_at + Duration::hours(7))
            .format("%Y-%m-%d %H:%M")
            .to_string();
        assert!(
            page.contains(&format!("{local} (Asia&#x2f;Jakarta)")),
            "{lang}: fitted {local}"
        );
        for (list, l) in [("item", &fit.item), ("personal", &fit.personal)] {
            let block = fit_list(&page, list);
            assert!(
                block.contains(&format!("data-mode=\"{}\"", l.mode.as_str())),
                "{lang} {list}: mode"
            );
            for (signal, w) in laris::recommend::blend::SIGNAL_NAMES
                .iter()
                .zip(l.weights.as_array())
            {
                let r = row(block, &format!("data-signal=\"{signal}\""));
                assert!(
                    r.contains(&format!(">{w:.2}<")) && r.contains("<meter"),
                    "{lang} {list} {signal} = {w}: {r}"
                );
            }
        }
        if fit.item.mode != laris::recommend::blend::BlendMode::Defaults {
            let hit = format!("{:.1}%", fit.item.blend.hit_rate * 100.0);
            let best = format!("{:.1}%", fit.item.best_sellers.hit_rate * 100.0);
            assert!(
                page.contains(&hit) && page.contains(&best),
                "{lang}: hit rates {hit} vs {best}"
            );
        }
    }
    // The admin API has the same panel.
    let v = bearer_json(&app, "/admin/api/shops/lengkuas/products/SRD-100?lang=en").await;
    assert_eq!(v["fit"]["heading"], "How the lists are made");
    assert_eq!(v["fit"]["lists"][0]["list"], "item");
    assert_eq!(
        v["fit"]["lists"][0]["weights"][0]["weight"].as_f64().unwrap() as f32,
        fit.item.weights.co_purchase
    );
    app.stop().await;
}

/// The value of the one series line of `/metrics` that starts with `series`.
fn metric(text: &str, series: &str) -> f64 {
    let mut found = text
        .lines()
        .filter(|l| l.starts_with(series) && l[series.len()..].starts_with(' '));
    let line = found.next().unwrap_or_else(|| panic!("no {series} in\n{text}"));
    assert!(found.next().is_none(), "one {series}");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn metrics_carry_the_blend_fit_of_every_list() {
    let app = spawn_admin_app().await;
    let resp = bearer_get(&app, "/metrics").await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let model = app.models.get(&lengkuas()).unwrap();
    let fit = &model.fit;
    for name in [
        "laris_blend_weight",
        "laris_blend_mode",
        "laris_blend_validation_hit_rate",
        "laris_blend_validation_ndcg",
        "laris_blend_fitted_timestamp_seconds",
    ] {
        assert!(
            text.contains(&format!("# HELP {name} ")) && text.contains(&format!("# TYPE {name} gauge\n")),
            "{name}"
        );
    }
    let s = "shop=\"lengkuas\"";
    for (list, l) in [("item", &fit.item), ("personal", &fit.personal)] {
        for (signal, w) in laris::recommend::blend::SIGNAL_NAMES
            .iter()
            .zip(l.weights.as_array())
        {
            let got = metric(
                &text,
                &format!("laris_blend_weight{{{s},list=\"{list}\",signal=\"{signal}\"}}"),
            );
            assert_eq!(got as f32, w, "{list} {signal}");
        }
        for mode in laris::recommend::blend::BlendMode::ALL {
            let got = metric(
                &text,
                &format!(
                    "laris_blend_mode{{{s},list=\"{list}\",mode=\"{}\"}}",
                    mode.as_str()
                ),
            );
            assert_eq!(got, if mode == l.mode { 1.0 } else { 0.0 }, "{list} {mode:?}");
        }
        for (model, f) in [
            ("blend", l.blend),
            ("best_sellers", l.best_sellers),
            ("peer", l.peer),
        ] {
            let labels = format!("{{{s},list=\"{list}\",model=\"{model}\"}}");
            assert_eq!(
                metric(&text, &format!("laris_blend_validation_hit_rate{labels}")),
                f.hit_rate
            );
            assert_eq!(
                metric(&text, &format!("laris_blend_validation_ndcg{labels}")),
                f.ndcg
            );
        }
    }
    assert_eq!(
        metric(&text, &format!("laris_blend_fitted_timestamp_seconds{{{s}}}")),
        fit.fitted_at.timestamp() as f64
    );
    // The empty shop has a model too, with the default fit.
    assert!(text.contains(&format!(
        "laris_blend_mode{{shop=\"{OTHER}\",list=\"item\",mode=\"defaults\"}} 1"
    )));
    app.stop().await;
}

#[tokio::test]
async fn the_dashboard_speaks_indonesian_until_the_switch_picks_english() {
    let app = spawn_admin_app().await;
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let path = "/admin/shops/lengkuas/customers";

    // No language cookie: Indonesian navigation, headings and <html lang>.
    let id = get_page(&app, me.session(), path).await;
    assert!(id.contains("<html lang=\"id\">"), "{id}");
    assert!(
        id.contains(">Pelanggan</a>") && id.contains(">Ringkasan</a>"),
        "{id}"
    );
    assert!(
        id.contains("Masuk sebagai") && !id.contains(">Customers</a>"),
        "{id}"
    );
    assert!(
        id.contains("data-lang-switch=\"en\""),
        "the switch offers English"
    );
    // The cookie's English.
    let en = get_page(&app, &format!("{}; laris_lang=en", me.session()), path).await;
    assert!(
        en.contains("<html lang=\"en\">") && en.contains(">Customers</a>"),
        "{en}"
    );
    assert!(en.contains("data-lang-switch=\"id\"") && !en.contains(">Pelanggan</a>"));

    // The switch: sets the cookie for a year on /admin and goes back to the page.
    let switch = |query: &'static str| {
        let url = format!("{}/admin/language/en?{query}", app.base);
        async move { client().get(url).send().await.unwrap() }
    };
    let resp = switch("back=/admin/shops/x/customers").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/admin/shops/x/customers");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in ["laris_lang=en", "Path=/admin", "SameSite=Lax", "Max-Age=31536000"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    // Only a dashboard path: elsewhere goes to /admin.
    for bad in [
        "back=https://evil.example",
        "back=//evil.example/admin",
        "back=/demo",
        "",
    ] {
        let resp = switch(bad).await;
        assert_eq!(resp.status(), 303, "{bad}");
        assert_eq!(resp.headers()["location"], "/admin", "{bad}");
    }
    // The query of the page comes back too.
    let resp = switch("back=%2Fadmin%2Fshops%2Flengkuas%2Fcustomers%3Fsegment%3DLoyal").await;
    assert_eq!(
        resp.headers()["location"],
        "/admin/shops/lengkuas/customers?segment=Loyal"
    );
    // An unknown language is no switch.
    let resp = client()
        .get(format!("{}/admin/language/fr?back=/admin", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // Messages too: a bad query value in Indonesian, naming the value.
    let resp = client()
        .get(format!("{}/admin/shops/lengkuas/customers?tier=Emas", app.base))
        .header("cookie", me.session())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("tier=&quot;Emas&quot; tidak dikenal: pakai"),
        "{page}"
    );
    assert!(page.contains("Permintaan tidak valid"), "{page}");
    app.stop().await;
}
