//! The owner's side of the follow-up automations: the outbox page with its WhatsApp links
//! and "mark sent", its CSV, opt-outs (by phone or customer id) cancelling due messages and
//! holding later runs, per-shop access, and the automations preview that records nothing.
//! The demo shop runs two win-back automations with a weekly cap of one: the first writes
//! to every lapsing customer, the second is held by the cap until the week is over (or
//! until the first message is cancelled, which no longer counts).

use std::collections::HashSet;
use std::path::Path;

use chrono::{Duration, Utc};
use laris::config::Settings;
use laris::domain::ShopId;
use laris::records::{Channel, Message, MessageStatus};
use serde_json::{json, Value};

use crate::admin::{admin_config_text, client, sign_in, SignedIn, OTHER, OWNER_PW, SHOP_PW};
use crate::helpers::{spawn_app_with, TestApp, TOKEN};

const AUTOMATIONS: &str = r#"
[shops.outreach]
weekly_cap = 1

[[shops.automations]]
kind = "win_back"
segments = ["At risk", "Hibernating", "Lost"]
message.id = "Halo {{ customer.name }}, kami kangen! Ada {{ product.name }} lagi di {{ shop.name }}."
message.en = "Hi {{ customer.name }}, we miss you! {{ product.name }} is back at {{ shop.name }}."

[[shops.automations]]
kind = "win_back"
name = "win_back_again"
segments = ["At risk", "Hibernating", "Lost"]
message.id = "Halo {{ customer.name }}, masih ingat {{ shop.name }}?"
message.en = "Hi {{ customer.name }}, remember {{ shop.name }}?"
"#;

fn settings() -> Settings {
    let other = format!("\n[[shops]]\nid = \"{OTHER}\"");
    let text = admin_config_text().replacen(&other, &format!("{AUTOMATIONS}{other}"), 1);
    assert!(
        text.contains("win_back_again"),
        "the automations are in the config"
    );
    Settings::from_toml(&text, Path::new("outreach-test.toml"), &[])
        .expect("the outreach test config is valid")
}

fn lengkuas() -> ShopId {
    ShopId::parse("lengkuas").unwrap()
}

/// Two lapsing customers with a phone (the demo's customers have none): one order each,
/// five months ago.
const WITH_PHONE: [(&str, &str); 2] = [("6281377771111", "Dewi Lestari"), ("6281377772222", "Agus Salim")];

fn lapsed_order(invoice: &str, phone: &str, name: &str) -> laris::records::Order {
    use laris::domain::{CustomerId, OrderStatus, ProductId, Rupiah};
    let at = Utc::now() - Duration::days(150);
    laris::records::Order {
        invoice: invoice.into(),
        marketplace_id: None,
        customer: CustomerId(phone.into()),
        buyer_name: Some(name.into()),
        phone: Some(phone.into()),
        city: None,
        status: OrderStatus(700),
        created_at: at,
        paid_at: at,
        updated_at: at,
        lines: vec![laris::records::OrderLine {
            product: Some(ProductId::parse("SRD-100").unwrap()),
            marketplace_product_id: None,
            sku: None,
            name: "Serundeng Lengkuas 100 g".into(),
            quantity: 1,
            unit_price: Rupiah(20_000),
        }],
        products_total: Rupiah(20_000),
        shipping: Rupiah(0),
    }
}

/// The app with the demo shop plus [`WITH_PHONE`], its model rebuilt with them.
async fn spawn() -> (TestApp, Settings) {
    let settings = settings();
    let app = spawn_app_with(settings.clone()).await;
    let mut batch = laris::store::ImportBatch::new(&lengkuas());
    for (i, (phone, name)) in WITH_PHONE.iter().enumerate() {
        batch.upsert_order(lapsed_order(&format!("INV/OUT/{i}"), phone, name));
    }
    app.store.apply(batch).unwrap();
    let r = app
        .admin_post("/admin/api/shops/lengkuas/rebuild", json!({}))
        .await;
    assert!(r.status().is_success(), "rebuild: {}", r.status());
    let customers = app.store.customers(&lengkuas()).unwrap();
    for (phone, _) in WITH_PHONE {
        let c = customers
            .iter()
            .find(|c| c.id.0 == phone)
            .expect("the customer is kept under the phone key");
        assert_eq!(c.phone.as_deref(), Some(phone));
        let segment = c.segment.as_deref().unwrap_or_default();
        assert!(
            ["At risk", "Hibernating", "Lost"].contains(&segment),
            "{phone} lapsed: {segment}"
        );
    }
    assert!(
        app.models.get(&lengkuas()).is_some(),
        "the rebuilt model is served"
    );
    (app, settings)
}

/// Runs the demo shop's automations at `now` as the service's loop does.
fn run(app: &TestApp, settings: &Settings, now: chrono::DateTime<Utc>) -> laris::outreach::Plan {
    let shop = settings.shop(&lengkuas()).unwrap();
    let model = app.models.get(&lengkuas()).unwrap();
    laris::outreach::run_automations(&*app.store, shop, &model, now)
        .expect("the automations run")
        .0
}

fn stored(app: &TestApp) -> Vec<Message> {
    app.store.messages(&lengkuas()).unwrap()
}

fn due(app: &TestApp) -> Vec<Message> {
    stored(app)
        .into_iter()
        .filter(|m| m.status == MessageStatus::Due)
        .collect()
}

async fn bearer(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = client()
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(TOKEN);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

async fn form(app: &TestApp, me: &SignedIn, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut fields = fields.to_vec();
    fields.push(("csrf", me.csrf.as_str()));
    client()
        .post(format!("{}{path}", app.base))
        .header("cookie", &me.cookie)
        .form(&fields)
        .send()
        .await
        .unwrap()
}

/// Undoes minijinja's escaping of an attribute value.
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x3d;", "=")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The HTML of the row that starts with `marker`; `None` when the page has none.
fn row<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let start = html.find(marker)?;
    let end = start + html[start..].find("</tr>").unwrap();
    Some(&html[start..end])
}

/// The `wa.me` link of an outbox row: (the number in its path, the decoded text).
fn whatsapp_link(row: &str) -> (String, String) {
    let marker = "class=\"whatsapp\" href=\"";
    let start = row.find(marker).expect("a WhatsApp link") + marker.len();
    let href = unescape(&row[start..start + row[start..].find('"').unwrap()]);
    let url = url::Url::parse(&href).unwrap_or_else(|e| panic!("{href}: {e}"));
    assert_eq!(url.scheme(), "https", "{href}");
    assert_eq!(url.host_str(), Some("wa.me"), "{href}");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs.len(), 1, "{href}");
    assert_eq!(pairs[0].0, "text", "{href}");
    (url.path().trim_start_matches('/').to_string(), pairs[0].1.clone())
}

async fn error_of(resp: reqwest::Response) -> String {
    let v: Value = resp.json().await.unwrap();
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {v}"))
        .to_string()
}

#[tokio::test]
async fn the_outbox_lists_due_messages_with_their_whatsapp_link_and_mark_sent_takes_one_off() {
    let (app, settings) = spawn().await;
    let plan = run(&app, &settings, Utc::now());
    let waiting = due(&app);
    assert!(
        waiting.len() >= 3,
        "the demo shop has lapsing customers: {} due, plan {plan:?}",
        waiting.len()
    );
    assert!(waiting
        .iter()
        .all(|m| m.channel == Channel::Outbox && m.automation == "win_back"));
    // The weekly cap held the second automation for every one of them.
    let customers: HashSet<&str> = waiting.iter().map(|m| m.customer.0.as_str()).collect();
    assert_eq!(customers.len(), waiting.len(), "one message per customer");

    let me = sign_in(&app, "admin", OWNER_PW).await;
    let resp = page(&app, &me.cookie, "/admin/shops/lengkuas/outbox").await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Send by hand") || html.contains("send by hand"),
        "the page explains the outbox"
    );
    for m in &waiting {
        let r =
            row(&html, &format!("data-due=\"{}\"", m.key)).unwrap_or_else(|| panic!("no row for {}", m.key));
        let (number, text) = whatsapp_link(r);
        assert_eq!(text, m.text, "the link carries the message");
        assert_eq!(number, m.phone.clone().unwrap_or_default());
        assert!(r.contains("target=\"_blank\" rel=\"noopener\""), "{r}");
        assert!(
            r.contains(&format!("action=\"/admin/shops/lengkuas/outbox/{}\"", m.key)),
            "{r}"
        );
    }
    assert!(waiting.iter().any(|m| m.phone.is_some()) && waiting.iter().any(|m| m.phone.is_none()));
    // Indonesian by default.
    let id_html = page(&app, me.session(), "/admin/shops/lengkuas/outbox")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        id_html.contains("Kirim via WhatsApp") && id_html.contains("Kotak keluar"),
        "{id_html}"
    );
    // Why each customer qualifies, in the page's language, with the same figures.
    for m in &waiting {
        let key = format!("data-due=\"{}\"", m.key);
        let en = row(&html, &key).unwrap();
        assert!(
            m.reason.starts_with("in segment ") && en.contains(&m.reason),
            "{} in {en}",
            m.reason
        );
        let why = m.why.as_ref().expect("a new message keeps its reason's parts");
        let orders = &why.args.iter().find(|(k, _)| k == "orders").unwrap().1;
        let id = row(&id_html, &key).unwrap();
        assert!(
            id.contains(&format!(": {orders} pesanan, terakhir pada "))
                && id.contains("di segmen ")
                && !id.contains("in segment"),
            "{id}"
        );
    }

    // The CSV has the due rows, with the same text and link.
    let resp = page(&app, &me.cookie, "/admin/shops/lengkuas/outbox.csv").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("lengkuas-outbox.csv"));
    let body = resp.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header,
        [
            "key",
            "created_at",
            "customer",
            "name",
            "phone",
            "automation",
            "text",
            "whatsapp_url"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), waiting.len(), "{body}");
    for m in &waiting {
        let r = rows
            .iter()
            .find(|r| &r[0] == m.key.as_str())
            .expect("the message's row");
        assert_eq!(&r[2], m.customer.0.as_str());
        assert_eq!(&r[6], m.text.as_str());
        assert_eq!(&r[7], laris::outreach::webhook::whatsapp_url(m).as_str());
    }

    // Mark one sent with the page's form: it leaves the due list; the API says sent.
    let first = &waiting[0];
    let resp = client()
        .post(format!("{}/admin/shops/lengkuas/outbox/{}", app.base, first.key))
        .header("cookie", &me.cookie)
        .form(&[("csrf", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        403,
        "a form without the session's token changes nothing"
    );
    let resp = form(
        &app,
        &me,
        &format!("/admin/shops/lengkuas/outbox/{}", first.key),
        &[],
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/admin/shops/lengkuas/outbox");
    let html = page(&app, &me.cookie, "/admin/shops/lengkuas/outbox")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        row(&html, &format!("data-due=\"{}\"", first.key)).is_none(),
        "no longer due"
    );
    assert!(row(&html, &format!("data-due=\"{}\"", waiting[1].key)).is_some());

    let sent: Value = bearer(
        &app,
        reqwest::Method::GET,
        "/admin/api/shops/lengkuas/messages?status=sent",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let list = sent["messages"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{sent}");
    assert_eq!(list[0]["key"], first.key.as_str());
    assert_eq!(list[0]["status"], "sent");
    assert!(list[0]["sent_at"].is_string(), "{sent}");
    assert_eq!(sent["counts"]["sent"], 1);
    assert_eq!(sent["counts"]["due"], waiting.len() - 1);
    let still: Value = bearer(
        &app,
        reqwest::Method::GET,
        "/admin/api/shops/lengkuas/messages?status=due",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let keys: Vec<&str> = still["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), waiting.len() - 1);
    assert!(!keys.contains(&first.key.as_str()));

    // Through the API: marking it again keeps it sent at the same time; an unknown key is 404.
    let path = format!("/admin/api/shops/lengkuas/messages/{}/sent", waiting[1].key);
    let r = bearer(&app, reqwest::Method::POST, &path, None).await;
    assert_eq!(r.status(), 200);
    let once: Value = r.json().await.unwrap();
    assert_eq!(once["status"], "sent");
    let again: Value = bearer(&app, reqwest::Method::POST, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["sent_at"], once["sent_at"]);
    let r = bearer(
        &app,
        reqwest::Method::POST,
        "/admin/api/shops/lengkuas/messages/no-such-key/sent",
        None,
    )
    .await;
    assert_eq!(r.status(), 404);
    assert!(error_of(r).await.contains("\"no-such-key\""));
    let r = bearer(
        &app,
        reqwest::Method::GET,
        "/admin/api/shops/lengkuas/messages?status=done",
        None,
    )
    .await;
    assert_eq!(r.status(), 400);
    let e = error_of(r).await;
    assert!(
        e.contains("\"done\"") && e.contains("due, sent, failed or cancelled"),
        "{e}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_opt_out_by_phone_or_customer_id_cancels_due_messages_and_holds_later_runs() {
    let (app, settings) = spawn().await;
    run(&app, &settings, Utc::now());
    let waiting = due(&app);
    let a = waiting
        .iter()
        .find(|m| m.customer.0 == WITH_PHONE[0].0)
        .expect("a message to the customer with a phone")
        .clone();
    let b = waiting
        .iter()
        .find(|m| m.phone.is_none())
        .expect("a message to a customer without a phone")
        .clone();

    // A by their phone as people write it: 0812-3456-789 style.
    let phone = a.phone.clone().unwrap();
    let national = format!("0{}", &phone[2..]);
    let written = format!("{}-{}-{}", &national[..4], &national[4..8], &national[8..]);
    let r = bearer(
        &app,
        reqwest::Method::POST,
        "/admin/api/shops/lengkuas/opt-outs",
        Some(json!({"customer": written, "note": "asked on WhatsApp"})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let added: Value = r.json().await.unwrap();
    assert_eq!(
        added["opt_out"]["customer"],
        a.customer.0.as_str(),
        "resolved to the customer"
    );
    assert_eq!(added["opt_out"]["phone"], phone.as_str());
    assert_eq!(added["cancelled"], 1);
    let stored_a = app.store.message(&lengkuas(), &a.key).unwrap().unwrap();
    assert_eq!(stored_a.status, MessageStatus::Cancelled);
    assert_eq!(stored_a.last_error.as_deref(), Some("opted out"));

    // A later run: the second automation, no longer held by the cap (a cancelled message
    // does not count), is held for A because of the opt-out, and nothing is recorded.
    let before = stored(&app).len();
    let plan = run(&app, &settings, Utc::now());
    assert!(
        plan.held
            .iter()
            .any(|h| h.customer == a.customer && h.automation == "win_back_again" && h.reason == "opted out"),
        "{:?}",
        plan.held
    );
    assert!(
        plan.messages.iter().all(|m| m.customer != a.customer),
        "{:?}",
        plan.messages
    );
    assert_eq!(stored(&app).len(), before);
    assert!(due(&app).iter().all(|m| m.customer != a.customer));

    // B by customer id through the page's form.
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let resp = form(
        &app,
        &me,
        "/admin/shops/lengkuas/opt-outs",
        &[("customer", b.customer.0.as_str()), ("note", "by phone call")],
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/admin/shops/lengkuas/opt-outs");
    assert_eq!(
        app.store.message(&lengkuas(), &b.key).unwrap().unwrap().status,
        MessageStatus::Cancelled
    );
    let html = page(&app, &me.cookie, "/admin/shops/lengkuas/outbox")
        .await
        .text()
        .await
        .unwrap();
    assert!(row(&html, &format!("data-due=\"{}\"", a.key)).is_none());
    assert!(row(&html, &format!("data-due=\"{}\"", b.key)).is_none());
    let html = page(&app, &me.cookie, "/admin/shops/lengkuas/opt-outs")
        .await
        .text()
        .await
        .unwrap();
    let r = row(&html, &format!("data-opt-out=\"{}\"", b.customer.0)).expect("B is listed");
    assert!(r.contains("by phone call"), "{r}");
    assert!(row(&html, &format!("data-opt-out=\"{}\"", a.customer.0)).is_some());

    // Bad input: 400 naming the value, from the API and from the form (the page again).
    let r = bearer(
        &app,
        reqwest::Method::POST,
        "/admin/api/shops/lengkuas/opt-outs",
        Some(json!({"customer": "budi@example"})),
    )
    .await;
    assert_eq!(r.status(), 400);
    let e = error_of(r).await;
    assert!(
        e.contains("\"budi@example\"") && e.contains("0812-3456-789"),
        "{e}"
    );
    let resp = form(
        &app,
        &me,
        "/admin/shops/lengkuas/opt-outs",
        &[("customer", "budi@example"), ("note", "x")],
    )
    .await;
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("budi@example") && html.contains("is neither a customer"),
        "{html}"
    );
    assert!(
        html.contains("id=\"add-opt-out\""),
        "the page again, with its form: {html}"
    );
    // In Indonesian by default.
    let resp = client()
        .post(format!("{}/admin/shops/lengkuas/opt-outs", app.base))
        .header("cookie", me.session())
        .form(&[("customer", "budi@example"), ("csrf", me.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(html.contains("bukan pelanggan toko lengkuas"), "{html}");

    // A valid phone of nobody the shop knows is kept as the phone key.
    let r = bearer(
        &app,
        reqwest::Method::POST,
        "/admin/api/shops/lengkuas/opt-outs",
        Some(json!({"customer": "+62 899 1111 2222"})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let added: Value = r.json().await.unwrap();
    assert_eq!(added["opt_out"]["customer"], "6289911112222");
    assert_eq!(added["cancelled"], 0);

    let list: Value = bearer(
        &app,
        reqwest::Method::GET,
        "/admin/api/shops/lengkuas/opt-outs",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(list["opt_outs"].as_array().unwrap().len(), 3, "{list}");

    // Removing: by the API, and by the page's button; a second removal is 404.
    let path = format!("/admin/api/shops/lengkuas/opt-outs/{}", b.customer.0);
    assert_eq!(
        bearer(&app, reqwest::Method::DELETE, &path, None).await.status(),
        200
    );
    let r = bearer(&app, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(r.status(), 404);
    assert!(error_of(r).await.contains(&b.customer.0));
    let resp = form(
        &app,
        &me,
        "/admin/shops/lengkuas/opt-outs/6289911112222/remove",
        &[],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let left: Vec<String> = app
        .store
        .opt_outs(&lengkuas())
        .unwrap()
        .into_iter()
        .map(|o| o.customer.0)
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0], a.customer.0);
    app.stop().await;
}

#[tokio::test]
async fn another_shops_user_gets_403_on_the_outbox_and_its_api() {
    let (app, settings) = spawn().await;
    run(&app, &settings, Utc::now());
    let key = due(&app)[0].key.clone();
    let them = sign_in(&app, OTHER, SHOP_PW).await;
    for path in [
        "/admin/shops/lengkuas/outbox",
        "/admin/shops/lengkuas/outbox.csv",
        "/admin/shops/lengkuas/opt-outs",
        "/admin/api/shops/lengkuas/messages",
        "/admin/api/shops/lengkuas/opt-outs",
        "/admin/api/shops/lengkuas/automations/preview",
    ] {
        assert_eq!(page(&app, &them.cookie, path).await.status(), 403, "GET {path}");
    }
    let r = client()
        .post(format!(
            "{}/admin/api/shops/lengkuas/messages/{key}/sent",
            app.base
        ))
        .header("cookie", &them.cookie)
        .header("x-csrf-token", &them.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = form(
        &app,
        &them,
        "/admin/shops/lengkuas/opt-outs",
        &[("customer", "0812-3456-789")],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.store.message(&lengkuas(), &key).unwrap().unwrap().status,
        MessageStatus::Due
    );
    assert!(app.store.opt_outs(&lengkuas()).unwrap().is_empty());
    // Their own shop's outbox opens, empty.
    let own = page(&app, &them.cookie, &format!("/admin/shops/{OTHER}/outbox")).await;
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("Nothing waits to be sent."));
    app.stop().await;
}

#[tokio::test]
async fn the_preview_lists_what_a_run_would_record_and_records_nothing() {
    let (app, settings) = spawn().await;
    run(&app, &settings, Utc::now());
    let before = stored(&app);
    // A week on, the cap no longer holds the second automation.
    let at = (Utc::now() + Duration::days(8)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let r = bearer(
        &app,
        reqwest::Method::GET,
        &format!("/admin/api/shops/lengkuas/automations/preview?at={at}"),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let plan: Value = r.json().await.unwrap();
    let messages = plan["messages"].as_array().unwrap();
    assert!(!messages.is_empty(), "{plan}");
    assert!(messages.iter().all(|m| m["status"] == "due"), "{plan}");
    assert!(
        messages.iter().any(|m| m["automation"] == "win_back_again"),
        "the second automation, no longer capped: {plan}"
    );
    let keys: HashSet<&str> = before.iter().map(|m| m.key.as_str()).collect();
    assert!(messages
        .iter()
        .all(|m| !keys.contains(m["key"].as_str().unwrap())));
    assert_eq!(stored(&app), before, "the preview recorded nothing");

    let r = bearer(
        &app,
        reqwest::Method::GET,
        "/admin/api/shops/lengkuas/automations/preview?at=tomorrow",
        None,
    )
    .await;
    assert_eq!(r.status(), 400);
    let e = error_of(r).await;
    assert!(e.contains("\"tomorrow\"") && e.contains("RFC 3339"), "{e}");

    // A shop without automations would record nothing.
    let r = bearer(
        &app,
        reqwest::Method::GET,
        &format!("/admin/api/shops/{OTHER}/automations/preview"),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let plan: Value = r.json().await.unwrap();
    assert_eq!(plan["messages"], json!([]), "{plan}");
    app.stop().await;
}
