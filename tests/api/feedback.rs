//! Feedback capture over HTTP: validation, the spam checks (honeypot, form token, rate
//! limit), the form post without JavaScript, the feedback fragment; and the customer id that
//! event beacons carry for attribution.

use laris::domain::ShopId;
use laris::records::Event;
use laris::records::FeedbackStatus;
use laris::web::feedback::{check_form_token, form_token};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, SECRET};

fn shop() -> ShopId {
    ShopId::parse("lengkuas").unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A form token as the fragment would have given it `age` seconds ago.
fn token_of_age(age: i64) -> String {
    form_token(SECRET.as_bytes(), now() - age)
}

/// A message a person would send: a valid token of a minute ago, the honeypot empty.
fn message(text: &str) -> Value {
    json!({"message": text, "website": "", "form_token": token_of_age(60)})
}

async fn post(app: &TestApp, body: &Value) -> reqwest::Response {
    app.http
        .post(format!("{}/v1/shops/lengkuas/feedback", app.base))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn error_of(resp: reqwest::Response) -> String {
    let v: Value = resp.json().await.unwrap();
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {v}"))
        .to_string()
}

#[tokio::test]
async fn a_message_with_a_valid_form_token_is_stored_with_status_new() {
    let app = spawn_app().await;
    let mut body = message("  Serundengnya kurang pedas, tolong ada varian ekstra pedas.  ");
    body["contact"] = json!("budi@example.id");
    body["page"] = json!("https://toko.example/serundeng");
    body["product"] = json!("SRD-100");
    let r = post(&app, &body).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "new");
    let id = v["id"].as_u64().expect("an id");

    let stored = app.store.feedback(&shop()).unwrap();
    assert_eq!(stored.len(), 1);
    let f = &stored[0];
    assert_eq!(f.id, id);
    assert_eq!(
        f.message,
        "Serundengnya kurang pedas, tolong ada varian ekstra pedas."
    );
    assert_eq!(f.contact.as_deref(), Some("budi@example.id"));
    assert_eq!(f.page.as_deref(), Some("https://toko.example/serundeng"));
    assert_eq!(f.product.as_deref(), Some("SRD-100"));
    assert_eq!(f.status, FeedbackStatus::New);
    assert!((chrono::Utc::now() - f.at).num_seconds().abs() < 60);
    app.stop().await;
}

#[tokio::test]
async fn an_empty_or_too_long_message_is_refused_naming_message() {
    let app = spawn_app().await;
    for text in ["", "  ", "ok", &"x".repeat(2001)] {
        let r = post(&app, &message(text)).await;
        assert_eq!(r.status(), 400, "{text:?}");
        let e = error_of(r).await;
        assert!(e.starts_with("message"), "{e}");
        assert!(
            e.contains("2000") || e.contains("at least 3"),
            "says the fix: {e}"
        );
    }
    let mut no_message = message("x");
    no_message.as_object_mut().unwrap().remove("message");
    let e = error_of(post(&app, &no_message).await).await;
    assert!(e.starts_with("message is missing"), "{e}");
    // In the form's language when it names one.
    let mut indonesian = message("");
    indonesian["lang"] = json!("id");
    let e = error_of(post(&app, &indonesian).await).await;
    assert!(e.starts_with("Pesan terlalu pendek"), "{e}");
    assert!(app.store.feedback(&shop()).unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_bad_product_id_a_long_contact_or_page_and_a_huge_body_are_refused() {
    let app = spawn_app().await;
    let cases = [
        ("product", json!("SRD\u{7}100"), "product"),
        ("contact", json!("c".repeat(201)), "contact has 201 characters"),
        ("page", json!("p".repeat(501)), "page has 501 characters"),
        ("message", json!(42), "feedback body is not valid"),
    ];
    for (field, value, says) in cases {
        let mut body = message("Pengiriman cepat, terima kasih!");
        body[field] = value;
        let r = post(&app, &body).await;
        assert_eq!(r.status(), 400, "{field}");
        let e = error_of(r).await;
        assert!(e.starts_with(says), "{field}: {e}");
    }
    let r = post(&app, &message(&"x".repeat(9000))).await;
    assert_eq!(r.status(), 413);
    assert!(error_of(r).await.contains("at most 8192"));
    assert!(app.store.feedback(&shop()).unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_filled_honeypot_is_answered_as_accepted_and_nothing_is_kept() {
    let app = spawn_app().await;
    let mut body = message("Beli obat murah di sini");
    body["website"] = json!("https://spam.example");
    let r = post(&app, &body).await;
    assert_eq!(r.status(), 202);
    assert!(app.store.feedback(&shop()).unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_missing_forged_too_young_or_expired_form_token_is_refused_with_what_to_do() {
    let app = spawn_app().await;
    let good = token_of_age(60);
    let (time, sig) = good.split_once('.').unwrap();
    let forged_time = format!("{}.{sig}", time.parse::<i64>().unwrap() - 100);
    let other_secret = form_token(b"not-the-shops-secret", now() - 60);
    let cases = [
        (None, "form_token is missing: reload the page"),
        (Some(forged_time), "form_token is not valid: reload the page"),
        (Some(other_secret), "form_token is not valid: reload the page"),
        (
            Some(token_of_age(0)),
            "sent too fast; wait a moment and send again",
        ),
        (
            Some(token_of_age(1)),
            "sent too fast; wait a moment and send again",
        ),
        (
            Some(token_of_age(24 * 3600 + 60)),
            "the form expired; reload the page",
        ),
    ];
    for (token, says) in cases {
        let mut body = message("Kemasannya bagus sekali.");
        match &token {
            Some(t) => body["form_token"] = json!(t),
            None => {
                body.as_object_mut().unwrap().remove("form_token");
            }
        }
        let r = post(&app, &body).await;
        assert_eq!(r.status(), 400, "{token:?}");
        let e = error_of(r).await;
        assert!(e.starts_with(says), "{token:?}: {e}");
    }
    assert!(app.store.feedback(&shop()).unwrap().is_empty());
    // The same message with a good token goes through: the refusals were the token's.
    assert_eq!(
        post(&app, &message("Kemasannya bagus sekali.")).await.status(),
        201
    );
    app.stop().await;
}

#[tokio::test]
async fn a_form_token_carries_one_message_and_the_second_is_refused() {
    let app = spawn_app().await;
    let token = token_of_age(60);
    let body = |text: &str| json!({"message": text, "form_token": token});
    assert_eq!(post(&app, &body("Pesan pertama")).await.status(), 201);
    let r = post(&app, &body("Pesan kedua")).await;
    assert_eq!(r.status(), 400);
    assert!(error_of(r)
        .await
        .starts_with("this form was already sent: reload the page"));
    assert_eq!(app.store.feedback(&shop()).unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn after_three_messages_an_address_must_wait_and_is_told_how_long() {
    let app = spawn_app().await;
    for i in 0..3 {
        let r = post(&app, &message(&format!("Pesan nomor {i}"))).await;
        assert_eq!(r.status(), 201, "message {i}");
    }
    let r = post(&app, &message("Pesan keempat")).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=180).contains(&wait), "{wait}");
    assert!(error_of(r).await.contains("try again in"));
    assert_eq!(app.store.feedback(&shop()).unwrap().len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn a_form_post_without_javascript_is_stored_and_sent_back_to_its_page() {
    // Back to the shop's own origin; "*" alone would make no page the shop's own.
    let mut settings = crate::helpers::test_settings();
    settings.shops[0].allowed_origins = vec!["*".into(), "https://toko.example".into()];
    let app = crate::helpers::spawn_app_with(settings).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{}/v1/shops/lengkuas/feedback", app.base);
    let r = http
        .post(&url)
        .form(&[
            ("message", "Tolong sediakan kemasan 1 kg."),
            ("contact", ""),
            ("website", ""),
            ("form_token", token_of_age(10).as_str()),
            ("lang", "id"),
            ("page", "https://toko.example/serundeng?ref=x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "https://toko.example/serundeng?ref=x");
    let stored = app.store.feedback(&shop()).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].message, "Tolong sediakan kemasan 1 kg.");
    assert_eq!(stored[0].contact, None);

    // Refused, the person sees why on a page, in the form's language, with a way back.
    let r = http
        .post(&url)
        .header("referer", "https://toko.example/tepung")
        .form(&[
            ("message", "ok"),
            ("form_token", token_of_age(10).as_str()),
            ("lang", "id"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = r.text().await.unwrap();
    assert!(page.contains("Pesan terlalu pendek"), "{page}");
    assert!(
        page.contains("href=\"https:&#x2f;&#x2f;toko.example&#x2f;tepung\""),
        "{page}"
    );

    // Not a web page to go back to: a thank-you page instead of a redirect anywhere.
    let r = http
        .post(&url)
        .form(&[
            ("message", "Terima kasih!"),
            ("form_token", token_of_age(10).as_str()),
            ("page", "javascript:alert(1)"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Terima kasih! Pesan Anda sudah kami terima."));
    app.stop().await;
}

#[tokio::test]
async fn a_form_post_goes_back_only_to_an_origin_the_shop_allows() {
    let mut settings = crate::helpers::test_settings();
    settings.shops[0].allowed_origins = vec!["https://toko.example".into()];
    let app = crate::helpers::spawn_app_with(settings).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{}/v1/shops/lengkuas/feedback", app.base);
    for (page, status) in [
        ("https://toko.example/a", 303),
        ("https://elsewhere.example/a", 200),
    ] {
        let r = http
            .post(&url)
            .header("origin", "https://toko.example")
            .form(&[
                ("message", "Mantap"),
                ("form_token", token_of_age(10).as_str()),
                ("page", page),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{page}");
        assert_eq!(r.headers()["access-control-allow-origin"], "https://toko.example");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_allowed_origin_may_post_feedback_from_the_browser() {
    let app = spawn_app().await;
    let url = format!("{}/v1/shops/lengkuas/feedback", app.base);
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://toko.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    assert!(preflight.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    // The widget's way: JSON as text/plain, a simple request.
    let r = app
        .http
        .post(&url)
        .header("origin", "https://toko.example")
        .header("content-type", "text/plain;charset=UTF-8")
        .body(message("Barang sampai dengan selamat.").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let refused = app
        .http
        .post(&url)
        .header("origin", "https://toko.example")
        .json(&message(""))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.headers()["access-control-allow-origin"], "*");
    app.stop().await;
}

/// The form token in a fragment's HTML (attributes are escaped: `.` stays `.`).
fn form_token_in(html: &str) -> String {
    let at = html
        .find("name=\"form_token\" value=\"")
        .expect("a form_token input")
        + 25;
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn the_feedback_fragment_has_a_fresh_form_token_a_honeypot_labels_and_nothing_personal() {
    let app = spawn_app().await;
    // Someone's feedback and a customer token exist; neither may show up in a fragment.
    let mut body = message("Rahasia: pesanan saya telat");
    body["contact"] = json!("rahasia@example.id");
    assert_eq!(post(&app, &body).await.status(), 201);
    let customer = laris::loyalty::token::make("777001", SECRET.as_bytes(), now() + 3600);

    let v = app
        .get_json(&format!(
            "/v1/shops/lengkuas/fragments?slots=feedback&customer={customer}"
        ))
        .await;
    let html = v["fragments"]["feedback"].as_str().unwrap().to_string();
    assert_eq!(
        v["fragments"].as_object().unwrap().len(),
        1,
        "only the slot asked for"
    );
    let token = form_token_in(&html);
    let issued: i64 = token.split('.').next().unwrap().parse().unwrap();
    assert!((now() - issued).abs() <= 5, "fresh: issued {issued}");
    assert_eq!(check_form_token(&token, SECRET.as_bytes(), issued + 3), Ok(()));
    for needle in [
        "<form",
        "<label class=\"laris-label\" for=\"laris-message\">Pesan</label>",
        "<textarea class=\"laris-input\" id=\"laris-message\" name=\"message\"",
        "for=\"laris-contact\">Kontak (opsional)</label>",
        "class=\"laris-hp\" aria-hidden=\"true\"",
        "name=\"website\" tabindex=\"-1\" autocomplete=\"off\"",
        "aria-live=\"polite\"",
        "<button type=\"submit\"",
        "action=\"http:&#x2f;&#x2f;127.0.0.1:",
    ] {
        assert!(html.contains(needle), "{needle} in {html}");
    }
    for secret in ["rahasia", "777001", "style="] {
        assert!(!html.contains(secret), "{secret} in {html}");
    }

    // Server-side include of the single fragment, in English, on a product page.
    let r = app
        .get("/v1/shops/lengkuas/fragments/feedback?lang=en&product=SRD-100")
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(">Feedback</h2>") && html.contains(">Send</button>"),
        "{html}"
    );
    assert!(html.contains("name=\"product\" value=\"SRD-100\""), "{html}");

    // With recommendation slots, in the same one request.
    let v = app
        .get_json("/v1/shops/lengkuas/fragments?product=SRD-100&slots=similar,feedback")
        .await;
    assert!(v["fragments"]["similar"]
        .as_str()
        .unwrap()
        .contains("laris-similar"));
    assert!(v["fragments"]["feedback"]
        .as_str()
        .unwrap()
        .contains("laris-feedback"));
    // Recommendation slots still need a product.
    assert_eq!(
        app.get("/v1/shops/lengkuas/fragments?slots=similar,feedback")
            .await
            .status(),
        400
    );
    app.stop().await;
}

/// The widget events stored for the shop whose `item` is `item`, past the first `skip`
/// (the demo shop's seeded ones).
fn events_with_item(app: &TestApp, skip: usize, item: &str) -> Vec<Event> {
    app.store
        .events(&shop())
        .unwrap()
        .into_iter()
        .skip(skip)
        .filter(|e| e.item.as_ref().map(|i| i.as_str()) == Some(item))
        .collect()
}

#[tokio::test]
async fn events_carry_the_customer_of_a_verified_token_and_never_one_the_body_claims() {
    let app = spawn_app().await;
    let seeded = app.store.events(&shop()).unwrap().len();
    let good = laris::loyalty::token::make("777001", SECRET.as_bytes(), now() + 3600);
    let forged = laris::loyalty::token::make("777001", b"someone-elses-secret-0123", now() + 3600);
    let click = |item: &str| json!({"type": "click", "slot": "similar", "product": "SRD-100", "item": item});
    let bodies = [
        ("SRD-250P", {
            let mut b = click("SRD-250P");
            b["customer_token"] = json!(good);
            b
        }),
        (
            "TPG-100",
            json!({"events": [click("TPG-100")], "customer_token": good}),
        ),
        ("SRD-PDS-100", {
            let mut b = click("SRD-PDS-100");
            b["customer_token"] = json!(forged);
            b
        }),
        ("HMP-01", {
            let mut b = click("HMP-01");
            b["customer"] = json!("777001");
            b
        }),
    ];
    for (item, body) in &bodies {
        let r = app
            .http
            .post(format!("{}/v1/shops/lengkuas/events", app.base))
            .header("content-type", "text/plain;charset=UTF-8")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{item}: {}", r.text().await.unwrap());
    }
    let customer_of = |item: &str| {
        let events = events_with_item(&app, seeded, item);
        assert_eq!(events.len(), 1, "{item}");
        events[0].customer.clone()
    };
    assert_eq!(customer_of("SRD-250P").as_deref(), Some("777001"));
    assert_eq!(customer_of("TPG-100").as_deref(), Some("777001"));
    assert_eq!(customer_of("SRD-PDS-100"), None, "a forged token names nobody");
    assert_eq!(customer_of("HMP-01"), None, "a body cannot name the customer");
    app.stop().await;
}
