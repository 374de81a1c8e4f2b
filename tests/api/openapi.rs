//! `openapi/openapi.json` against the real service: every documented operation is called with
//! valid input (and some with bad input), and each answer's status, content type and body
//! must be what the document describes — a status it does not list, a field it does not
//! name or a value of another type fails. Bodies are checked with the `jsonschema` crate
//! (draft 2020-12, as OpenAPI 3.1 uses), formats (`date`, `date-time`) included. Every
//! route the README lists must be in the document.

use std::collections::BTreeSet;
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::admin::{client, sign_in, spawn_admin_app, OTHER, OWNER_PW, SHOP_PW};
use crate::helpers::{demo_recording, repo, TestApp, SECRET, TOKEN};

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "options", "head"];

/// The document, and which of its operations a test has called.
struct Api {
    doc: Value,
    called: Mutex<BTreeSet<(String, String)>>,
}

/// One answer, read whole.
struct Answer {
    status: u16,
    content_type: Option<String>,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    async fn read(resp: reqwest::Response) -> Answer {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let content_type = headers.get("content-type").map(|v| {
            v.to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .trim()
                .to_ascii_lowercase()
        });
        Answer {
            status,
            content_type,
            headers,
            body: resp.text().await.unwrap(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// `/` and `~` escaped for a JSON pointer.
fn pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

impl Api {
    fn load() -> Api {
        let text = std::fs::read_to_string(repo().join("openapi/openapi.json")).unwrap();
        Api {
            doc: serde_json::from_str(&text).expect("openapi/openapi.json is JSON"),
            called: Mutex::new(BTreeSet::new()),
        }
    }

    /// Follows a `$ref` within the document.
    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => self
                .doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling $ref {r}")),
            None => v,
        }
    }

    /// Every operation of the document as (method, path template).
    fn operations(&self) -> BTreeSet<(String, String)> {
        let mut ops = BTreeSet::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for m in item.as_object().unwrap().keys() {
                if METHODS.contains(&m.as_str()) {
                    ops.insert((m.clone(), path.clone()));
                }
            }
        }
        ops
    }

    /// Validates `instance` against the schema at `pointer` (a JSON pointer into the
    /// document), resolving `$ref`s against the whole document.
    fn validate(&self, pointer: &str, instance: &Value) -> Result<(), Vec<String>> {
        let mut root = self.doc.clone();
        // A URI fragment: the braces of path templates are percent-encoded.
        let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
        root["$ref"] = Value::String(format!("#{fragment}"));
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("the schema at {pointer} does not compile: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("at {}: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Checks an answer of `method path` (the document's path template) against the
    /// document and returns it; panics naming what the document does not describe.
    fn check(&self, method: &str, path: &str, answer: Answer) -> Answer {
        let what = format!("{} {path}", method.to_uppercase());
        let op_pointer = format!("/paths/{}/{method}", pointer_token(path));
        let op = self
            .doc
            .pointer(&op_pointer)
            .unwrap_or_else(|| panic!("{what} is not in the document"));
        self.called
            .lock()
            .unwrap()
            .insert((method.to_string(), path.to_string()));
        let status = answer.status.to_string();
        let described = op["responses"].get(&status).unwrap_or_else(|| {
            panic!(
                "{what} answered {status}, which the document does not describe: {}",
                answer.body
            )
        });
        let response = self.resolve(described);
        // The pointer to the response object itself, for the schema's location.
        let response_pointer = match described.get("$ref").and_then(Value::as_str) {
            Some(r) => r.trim_start_matches('#').to_string(),
            None => format!("{op_pointer}/responses/{status}"),
        };
        for (name, header) in response
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if header["required"] == true {
                assert!(
                    answer.headers.contains_key(name.as_str()),
                    "{what} {status}: no {name} header"
                );
            }
        }
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            assert!(
                answer.body.is_empty(),
                "{what} {status} has no content in the document but answered {:?}",
                answer.body
            );
            return answer;
        };
        let media = answer
            .content_type
            .clone()
            .unwrap_or_else(|| panic!("{what} {status} answered without a Content-Type"));
        let wildcard = format!("{}/*", media.split('/').next().unwrap());
        let key = [media.as_str(), wildcard.as_str()]
            .into_iter()
            .find(|k| content.contains_key(*k))
            .unwrap_or_else(|| {
                panic!(
                    "{what} {status} answered {media}; the document has {:?}",
                    content.keys().collect::<Vec<_>>()
                )
            });
        let instance = if media.ends_with("json") {
            answer.json()
        } else {
            Value::String(answer.body.clone())
        };
        let schema_pointer = format!("{response_pointer}/content/{}/schema", pointer_token(key));
        if let Err(errors) = self.validate(&schema_pointer, &instance) {
            let shown: String = answer.body.chars().take(2000).collect();
            panic!(
                "{what} {status} does not match the document:\n  {}\nbody: {shown}",
                errors.join("\n  ")
            );
        }
        answer
    }
}

/// Calls the service and checks the answer against the document.
struct Caller<'a> {
    api: &'a Api,
    app: &'a TestApp,
    http: reqwest::Client,
}

impl Caller<'_> {
    /// `url` is the concrete path and query; `template` the document's path.
    async fn call(&self, req: reqwest::RequestBuilder, method: &str, template: &str) -> Answer {
        let answer = Answer::read(req.send().await.unwrap()).await;
        self.api.check(method, template, answer)
    }

    fn url(&self, url: &str) -> String {
        format!("{}{url}", self.app.base)
    }

    async fn get(&self, url: &str, template: &str) -> Answer {
        self.call(self.http.get(self.url(url)), "get", template).await
    }

    async fn admin_get(&self, url: &str, template: &str) -> Answer {
        self.call(self.http.get(self.url(url)).bearer_auth(TOKEN), "get", template)
            .await
    }

    async fn admin_post(&self, url: &str, template: &str, body: Option<Value>) -> Answer {
        let mut req = self.http.post(self.url(url)).bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.call(req, "post", template).await
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

const SHOP: &str = "/v1/shops/{shop}";
const ADMIN: &str = "/admin/api/shops/{shop}";

#[tokio::test]
async fn every_documented_operation_answers_as_the_document_says() {
    let api = Api::load();
    let app = spawn_admin_app().await;
    let c = Caller {
        api: &api,
        app: &app,
        http: client(),
    };

    // The service: health, this document (as checked in), metrics, the widget and the demo.
    assert_eq!(
        c.get("/healthz", "/healthz").await.json(),
        json!({"status": "ok", "store": "sled", "sync_leases": []})
    );
    let served = c.get("/openapi.json", "/openapi.json").await;
    assert_eq!(served.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        served.json(),
        api.doc,
        "/openapi.json serves openapi/openapi.json"
    );
    let metrics = c.admin_get("/metrics", "/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.body.contains("laris_products{shop=\"lengkuas\"}"));
    assert_eq!(c.get("/metrics", "/metrics").await.status, 401);
    let widget = c.get("/widget.js", "/widget.js").await;
    assert_eq!(widget.status, 200);
    let etag = widget.headers["etag"].to_str().unwrap().to_string();
    let again = c
        .call(
            c.http.get(c.url("/widget.js")).header("if-none-match", &etag),
            "get",
            "/widget.js",
        )
        .await;
    assert_eq!(again.status, 304);
    assert_eq!(c.get("/demo?product=SRD-100", "/demo").await.status, 200);
    assert_eq!(c.get("/demo?product=NOPE", "/demo").await.status, 404);
    let image = c.get("/demo/images/srd-100.svg", "/demo/images/{file}").await;
    assert_eq!(image.status, 200);
    assert_eq!(
        c.get("/demo/images/none.svg", "/demo/images/{file}").await.status,
        404
    );

    // The public API.
    let list = c
        .get("/v1/shops/lengkuas/products?limit=3", &format!("{SHOP}/products"))
        .await;
    assert_eq!(list.json()["products"].as_array().unwrap().len(), 3);
    assert_eq!(
        c.get("/v1/shops/lengkuas/products", &format!("{SHOP}/products"))
            .await
            .status,
        200
    );
    assert_eq!(
        c.get(
            "/v1/shops/lengkuas/products?limit=abc",
            &format!("{SHOP}/products")
        )
        .await
        .status,
        400
    );
    assert_eq!(
        c.get("/v1/shops/nope/products", &format!("{SHOP}/products"))
            .await
            .status,
        404
    );
    let one = c
        .get(
            "/v1/shops/lengkuas/products/SRD-100",
            &format!("{SHOP}/products/{{id}}"),
        )
        .await;
    assert_eq!(one.json()["price"], 20000);
    assert_eq!(
        c.get(
            "/v1/shops/lengkuas/products/NOPE",
            &format!("{SHOP}/products/{{id}}")
        )
        .await
        .status,
        404
    );

    let recs = format!("{SHOP}/recommendations");
    let anonymous = c
        .get("/v1/shops/lengkuas/recommendations?product=SRD-100", &recs)
        .await;
    assert_eq!(anonymous.json()["loyalty"]["known"], false);
    // A known customer: their tier (the loyalty object's other shape) and their own list.
    let token = laris::loyalty::token::make("777001", SECRET.as_bytes(), now() + 3600);
    let known = c
        .get(
            &format!("/v1/shops/lengkuas/recommendations?product=SRD-100&customer={token}&cart=TPG-100&limit=2&lang=en"),
            &recs,
        )
        .await
        .json();
    assert_eq!(known["loyalty"]["known"], true, "{known}");
    assert!(!known["for_you"].as_array().unwrap().is_empty(), "{known}");
    for bad in ["", "?product=SRD-100&lang=fr", "?product=SRD-100&limit=0"] {
        let url = format!("/v1/shops/lengkuas/recommendations{bad}");
        assert_eq!(c.get(&url, &recs).await.status, 400, "{url}");
    }
    assert_eq!(
        c.get("/v1/shops/lengkuas/recommendations?product=NOPE", &recs)
            .await
            .status,
        404
    );

    let batched = format!("{SHOP}/fragments");
    let all = c
        .get(
            "/v1/shops/lengkuas/fragments?product=SRD-100&slots=similar,upsell,bundle,loyalty,for_you,feedback,chat&page=https%3A%2F%2Ftoko.example%2Fp",
            &batched,
        )
        .await;
    assert_eq!(all.json()["fragments"].as_object().unwrap().len(), 7);
    let etag = all.headers["etag"].to_str().unwrap().to_string();
    let cached = c
        .call(
            c.http
                .get(c.url("/v1/shops/lengkuas/fragments?product=SRD-100&slots=similar,upsell,bundle,loyalty,for_you,feedback"))
                .header("if-none-match", etag),
            "get",
            &batched,
        )
        .await;
    // The feedback form carries a fresh token, so its ETag may have moved on; either is documented.
    assert!(matches!(cached.status, 200 | 304));
    assert_eq!(
        c.get("/v1/shops/lengkuas/fragments?slots=feedback", &batched)
            .await
            .status,
        200
    );
    assert_eq!(
        c.get("/v1/shops/lengkuas/fragments?product=SRD-100", &batched)
            .await
            .status,
        200
    );
    assert_eq!(
        c.get(
            "/v1/shops/lengkuas/fragments?product=SRD-100&slots=sidebar",
            &batched
        )
        .await
        .status,
        400
    );
    let arm = format!("{SHOP}/arm");
    let none = c
        .get(
            "/v1/shops/lengkuas/arm?visitor=0123456789abcdef0123456789abcdef",
            &arm,
        )
        .await;
    assert_eq!(none.status, 200);
    assert_eq!(none.json()["arm"], serde_json::Value::Null, "no experiment here");
    for bad in ["", "?visitor=XYZ"] {
        let url = format!("/v1/shops/lengkuas/arm{bad}");
        assert_eq!(c.get(&url, &arm).await.status, 400, "{url}");
    }
    assert_eq!(
        c.get(
            "/v1/shops/nope/arm?visitor=0123456789abcdef0123456789abcdef",
            &arm
        )
        .await
        .status,
        404
    );
    let single = format!("{SHOP}/fragments/{{slot}}");
    for slot in [
        "similar", "upsell", "bundle", "loyalty", "for_you", "feedback", "chat",
    ] {
        let url = format!("/v1/shops/lengkuas/fragments/{slot}?product=SRD-100&lang=en");
        let answer = c.get(&url, &single).await;
        assert_eq!(answer.status, 200, "{url}");
        // for_you is empty without a customer, chat without `[shops.chat]` (the test shop's case).
        if slot != "for_you" && slot != "chat" {
            assert!(answer.body.contains("laris"), "{url}: {}", answer.body);
        }
    }
    let similar = c
        .get("/v1/shops/lengkuas/fragments/similar?product=SRD-100", &single)
        .await;
    let etag = similar.headers["etag"].to_str().unwrap().to_string();
    let unchanged = c
        .call(
            c.http
                .get(c.url("/v1/shops/lengkuas/fragments/similar?product=SRD-100"))
                .header("if-none-match", etag),
            "get",
            &single,
        )
        .await;
    assert_eq!(unchanged.status, 304);
    assert_eq!(
        c.get("/v1/shops/lengkuas/fragments/similar", &single)
            .await
            .status,
        400
    );
    assert_eq!(
        c.get("/v1/shops/lengkuas/fragments/sidebar?product=SRD-100", &single)
            .await
            .status,
        400
    );

    let events = format!("{SHOP}/events");
    let click = json!({"type": "click", "slot": "similar", "product": "SRD-100", "item": "SRD-250P"});
    let one = c
        .call(
            c.http.post(c.url("/v1/shops/lengkuas/events")).json(&click),
            "post",
            &events,
        )
        .await;
    assert_eq!(one.json(), json!({"accepted": 1}));
    let batch = json!({"events": [click, {"type": "impression", "slot": "bundle", "product": "SRD-100"}], "customer_token": token});
    let two = c
        .call(
            c.http
                .post(c.url("/v1/shops/lengkuas/events"))
                .header("content-type", "text/plain")
                .body(batch.to_string()),
            "post",
            &events,
        )
        .await;
    assert_eq!(two.json(), json!({"accepted": 2}));
    let bad = c
        .call(
            c.http
                .post(c.url("/v1/shops/lengkuas/events"))
                .json(&json!({"type": "view"})),
            "post",
            &events,
        )
        .await;
    assert_eq!(bad.status, 400);
    let preflight = c
        .call(
            c.http
                .request(reqwest::Method::OPTIONS, c.url("/v1/shops/lengkuas/events"))
                .header("origin", "https://shop.example"),
            "options",
            &events,
        )
        .await;
    assert_eq!(preflight.status, 200);

    let feedback = format!("{SHOP}/feedback");
    let form_token = laris::web::feedback::form_token(SECRET.as_bytes(), now() - 10);
    let message = json!({"message": "Sambalnya kurang pedas", "contact": "a@b.id", "product": "SRD-100", "website": "", "form_token": form_token});
    let created = c
        .call(
            c.http.post(c.url("/v1/shops/lengkuas/feedback")).json(&message),
            "post",
            &feedback,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let message_id = created.json()["id"].as_u64().unwrap();
    let trapped = c
        .call(
            c.http
                .post(c.url("/v1/shops/lengkuas/feedback"))
                .json(&json!({"message": "Beli obat murah", "website": "http://spam.example", "form_token": form_token})),
            "post",
            &feedback,
        )
        .await;
    assert_eq!(trapped.json(), json!({"status": "received"}));
    let refused = c
        .call(
            c.http
                .post(c.url("/v1/shops/lengkuas/feedback"))
                .json(&json!({"message": "ok", "form_token": form_token})),
            "post",
            &feedback,
        )
        .await;
    assert_eq!(refused.status, 400);
    // Each form token is taken once: the form post without JavaScript brings its own.
    let second_token = laris::web::feedback::form_token(SECRET.as_bytes(), now() - 10);
    let posted = c
        .call(
            c.http.post(c.url("/v1/shops/lengkuas/feedback")).form(&[
                ("message", "Kemasan bagus"),
                ("form_token", second_token.as_str()),
                ("page", "/p/SRD-100"),
            ]),
            "post",
            &feedback,
        )
        .await;
    assert_eq!(posted.status, 303);
    assert_eq!(posted.headers["location"], "/p/SRD-100");
    let page_refused = c
        .call(
            c.http
                .post(c.url("/v1/shops/lengkuas/feedback"))
                .form(&[("message", "x"), ("form_token", "1.00")]),
            "post",
            &feedback,
        )
        .await;
    assert_eq!(page_refused.status, 400);
    assert_eq!(page_refused.content_type.as_deref(), Some("text/html"));
    let preflight = c
        .call(
            c.http
                .request(reqwest::Method::OPTIONS, c.url("/v1/shops/lengkuas/feedback")),
            "options",
            &feedback,
        )
        .await;
    assert_eq!(preflight.status, 200);

    // Signing in: the session cookie and its CSRF token are the document's other scheme.
    let wrong = c
        .call(
            c.http
                .post(c.url("/admin/login"))
                .form(&[("user", "admin"), ("password", "not-the-password")]),
            "post",
            "/admin/login",
        )
        .await;
    assert_eq!(wrong.status, 401);
    let login = c
        .call(
            c.http
                .post(c.url("/admin/login"))
                .form(&[("user", "admin"), ("password", OWNER_PW)]),
            "post",
            "/admin/login",
        )
        .await;
    assert_eq!(login.status, 303);
    assert!(login.headers.contains_key("set-cookie"));

    // The admin API, with the bearer token.
    let status = c.admin_get("/admin/api/status", "/admin/api/status").await.json();
    assert_eq!(status["shops"].as_array().unwrap().len(), 2);
    let one_shop = c
        .admin_get("/admin/api/status?shop=lengkuas", "/admin/api/status")
        .await;
    assert_eq!(one_shop.json()["shops"][0]["products"], 10);
    assert_eq!(c.get("/admin/api/status", "/admin/api/status").await.status, 401);
    assert_eq!(
        c.admin_get("/admin/api/status?shop=nope", "/admin/api/status")
            .await
            .status,
        404
    );
    let shop_user = sign_in(&app, OTHER, SHOP_PW).await;
    let other = c
        .call(
            c.http
                .get(c.url("/admin/api/status?shop=lengkuas"))
                .header("cookie", &shop_user.cookie),
            "get",
            "/admin/api/status",
        )
        .await;
    assert_eq!(other.status, 403);

    for period in ["day", "week", "month"] {
        let url = format!("/admin/api/shops/lengkuas/overview?period={period}&from=2026-06-01&to=2026-06-30");
        assert_eq!(c.admin_get(&url, &format!("{ADMIN}/overview")).await.status, 200);
    }
    assert_eq!(
        c.admin_get("/admin/api/shops/lengkuas/overview", &format!("{ADMIN}/overview"))
            .await
            .status,
        200
    );
    assert_eq!(
        c.admin_get(
            "/admin/api/shops/lengkuas/overview?period=year",
            &format!("{ADMIN}/overview")
        )
        .await
        .status,
        400
    );
    assert_eq!(
        c.admin_get("/admin/api/shops/lengkuas/products", &format!("{ADMIN}/products"))
            .await
            .status,
        200
    );
    for url in [
        "/admin/api/shops/lengkuas/products/SRD-100",
        "/admin/api/shops/lengkuas/products/SRD-100?lang=en",
    ] {
        assert_eq!(
            c.admin_get(url, &format!("{ADMIN}/products/{{id}}")).await.status,
            200,
            "{url}"
        );
    }
    assert_eq!(
        c.admin_get(
            "/admin/api/shops/lengkuas/products/NOPE",
            &format!("{ADMIN}/products/{{id}}")
        )
        .await
        .status,
        404
    );
    let customers = c
        .admin_get(
            "/admin/api/shops/lengkuas/customers",
            &format!("{ADMIN}/customers"),
        )
        .await
        .json();
    let first = customers[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        c.admin_get(
            "/admin/api/shops/lengkuas/customers?segment=Champions&tier=Gold",
            &format!("{ADMIN}/customers")
        )
        .await
        .status,
        200
    );
    assert_eq!(
        c.admin_get(
            "/admin/api/shops/lengkuas/customers?segment=VIP",
            &format!("{ADMIN}/customers")
        )
        .await
        .status,
        400
    );
    let customer = c
        .admin_get(
            &format!("/admin/api/shops/lengkuas/customers/{first}"),
            &format!("{ADMIN}/customers/{{id}}"),
        )
        .await;
    assert!(!customer.json()["orders"].as_array().unwrap().is_empty());
    for page in [
        "tiers",
        "bundles",
        "performance",
        "experiment",
        "sync",
        "feedback",
        "settings",
    ] {
        let answer = c
            .admin_get(
                &format!("/admin/api/shops/lengkuas/{page}"),
                &format!("{ADMIN}/{page}"),
            )
            .await;
        assert_eq!(answer.status, 200, "{page}");
        // The empty shop answers too (a model with nothing in it).
        let empty = c
            .admin_get(
                &format!("/admin/api/shops/{OTHER}/{page}"),
                &format!("{ADMIN}/{page}"),
            )
            .await;
        assert!(matches!(empty.status, 200 | 503), "{page}: {}", empty.body);
    }
    let admin_recs = c
        .admin_get(
            "/admin/api/shops/lengkuas/recommendations?product=SRD-100&customer_id=777001",
            &format!("{ADMIN}/recommendations"),
        )
        .await;
    assert_eq!(admin_recs.json()["loyalty"]["known"], true);

    let settings_change = format!("{ADMIN}/settings/{{section}}");
    let saved = c
        .admin_post(
            "/admin/api/shops/lengkuas/settings/exclusions",
            &settings_change,
            Some(json!({"action": "set", "products": "srd-250p"})),
        )
        .await;
    assert!(
        saved.json()["summary"].as_str().unwrap().contains("SRD-250P"),
        "{}",
        saved.body
    );
    let page = c
        .admin_get("/admin/api/shops/lengkuas/settings", &format!("{ADMIN}/settings"))
        .await;
    assert_eq!(page.json()["exclude"], "SRD-250P");
    assert_eq!(page.json()["changes"][0]["section"], "exclusions");
    assert_eq!(
        c.admin_post(
            "/admin/api/shops/lengkuas/settings/exclusions",
            &settings_change,
            Some(json!({"action": "set", "products": "NO-SUCH-1"}))
        )
        .await
        .status,
        400
    );
    assert_eq!(
        c.admin_post(
            "/admin/api/shops/lengkuas/settings/exclusions",
            &settings_change,
            Some(json!({"action": "reset"}))
        )
        .await
        .status,
        200
    );

    let feedback_status = format!("{ADMIN}/feedback/{{id}}");
    let read = c
        .admin_post(
            &format!("/admin/api/shops/lengkuas/feedback/{message_id}"),
            &feedback_status,
            Some(json!({"status": "read"})),
        )
        .await;
    assert_eq!(read.json()["status"], "read");
    assert_eq!(
        c.admin_post(
            "/admin/api/shops/lengkuas/feedback/999999",
            &feedback_status,
            Some(json!({"status": "read"}))
        )
        .await
        .status,
        404
    );
    assert_eq!(
        c.admin_post(
            &format!("/admin/api/shops/lengkuas/feedback/{message_id}"),
            &feedback_status,
            Some(json!({"status": "done"}))
        )
        .await
        .status,
        400
    );
    // A cookie session without its CSRF token is refused; with it, accepted.
    let owner = sign_in(&app, "admin", OWNER_PW).await;
    let url = format!("/admin/api/shops/lengkuas/feedback/{message_id}");
    let no_csrf = c
        .call(
            c.http
                .post(c.url(&url))
                .header("cookie", &owner.cookie)
                .json(&json!({"status": "answered"})),
            "post",
            &feedback_status,
        )
        .await;
    assert_eq!(no_csrf.status, 403);
    let with_csrf = c
        .call(
            c.http
                .post(c.url(&url))
                .header("cookie", &owner.cookie)
                .header("x-csrf-token", &owner.csrf)
                .json(&json!({"status": "answered"})),
            "post",
            &feedback_status,
        )
        .await;
    assert_eq!(with_csrf.json()["status"], "answered");

    let synced = c
        .admin_post(
            "/admin/api/shops/lengkuas/sync?full=true",
            &format!("{ADMIN}/sync"),
            None,
        )
        .await;
    assert_eq!(synced.json()["ok"], true);
    let rebuilt = c
        .admin_post(
            "/admin/api/shops/lengkuas/rebuild",
            &format!("{ADMIN}/rebuild"),
            None,
        )
        .await;
    assert_eq!(rebuilt.json()["products"], 10);
    let replay = format!("{ADMIN}/replay");
    let replayed = c
        .admin_post(
            "/admin/api/shops/lengkuas/replay",
            &replay,
            Some(json!({"dir": demo_recording().display().to_string()})),
        )
        .await;
    assert_eq!(replayed.json()["orders"]["unchanged"], 600);
    let missing = c
        .admin_post(
            "/admin/api/shops/lengkuas/replay",
            &replay,
            Some(json!({"dir": "/nonexistent/recording"})),
        )
        .await;
    assert_eq!(missing.status, 403);
    let unknown = c
        .admin_post("/admin/api/shops/nope/rebuild", &format!("{ADMIN}/rebuild"), None)
        .await;
    assert_eq!(unknown.status, 404);

    // Sign-in lockouts: cleared by the admin token, never by a shop's user.
    let unlock = "/admin/api/signin/unlock";
    let cleared = c
        .admin_post(unlock, unlock, Some(json!({"address": "203.0.113.7"})))
        .await;
    assert_eq!(cleared.json(), json!({"counts": 0, "locked": 0}));
    let bad_address = c
        .admin_post(unlock, unlock, Some(json!({"address": "203.0.113.7:80"})))
        .await;
    assert_eq!(bad_address.status, 400);
    let shop_user = sign_in(&app, OTHER, SHOP_PW).await;
    let refused = c
        .call(
            c.http
                .post(c.url(unlock))
                .header("cookie", &shop_user.cookie)
                .header("x-csrf-token", &shop_user.csrf)
                .json(&json!({})),
            "post",
            unlock,
        )
        .await;
    assert_eq!(refused.status, 403);

    // An export uploaded to the running service (last: it adds a product).
    let imports = format!("{ADMIN}/imports");
    let imported = c
        .call(
            c.http
                .post(c.url("/admin/api/shops/lengkuas/imports?kind=products&name=produk.csv"))
                .bearer_auth(TOKEN)
                .body("Nama Produk,Harga (Rp),SKU Name\nTeh Lengkuas 50 g,Rp25.000,TEH-50\nRusak,dua puluh,R-1\n"),
            "post",
            &imports,
        )
        .await;
    assert_eq!(imported.json()["report"]["products"]["inserted"], 1);
    assert_eq!(imported.json()["quarantined"][0]["origin"], "produk.csv row 3");
    let not_an_export = c
        .call(
            c.http
                .post(c.url("/admin/api/shops/lengkuas/imports?name=foto.png"))
                .bearer_auth(TOKEN)
                .body(&b"\x89PNG\r\n\x1a\n"[..]),
            "post",
            &imports,
        )
        .await;
    assert_eq!(not_an_export.status, 415);

    // Outreach: the automations' preview, messages, mark sent, opt-outs.
    let preview = c
        .admin_get(
            "/admin/api/shops/lengkuas/automations/preview?at=2026-11-05T09:00:00%2B07:00",
            &format!("{ADMIN}/automations/preview"),
        )
        .await;
    assert_eq!(preview.status, 200);
    assert_eq!(
        c.admin_get(
            "/admin/api/shops/lengkuas/automations/preview?at=yesterday",
            &format!("{ADMIN}/automations/preview"),
        )
        .await
        .status,
        400
    );
    let messages_op = format!("{ADMIN}/messages");
    // A message as an automation records it (this test's shop has no automations).
    let message: laris::records::Message = serde_json::from_value(json!({
        "key": "openapi-test-message", "automation": "win_back", "kind": "win_back",
        "customer": "777001", "name": "Andi T.", "phone": null, "period": "At risk@2026-10-01",
        "reason": "in segment At risk", "language": "id", "text": "Halo Andi, kangen? Rp15.000 & 🎁",
        "products": [], "channel": "outbox", "status": "due", "created_at": "2026-12-01T02:00:00Z"
    }))
    .unwrap();
    let shop = laris::domain::ShopId::parse("lengkuas").unwrap();
    assert_eq!(app.store.add_messages(&shop, &[message]).unwrap(), 1);
    let listed = c
        .admin_get("/admin/api/shops/lengkuas/messages?status=due", &messages_op)
        .await;
    let due = listed.json()["messages"][0]["key"].as_str().unwrap().to_string();
    let sent_op = format!("{ADMIN}/messages/{{key}}/sent");
    let sent = c
        .admin_post(
            &format!("/admin/api/shops/lengkuas/messages/{due}/sent"),
            &sent_op,
            None,
        )
        .await;
    assert_eq!(sent.json()["status"], "sent");
    assert_eq!(
        c.admin_post(
            "/admin/api/shops/lengkuas/messages/no-such-key/sent",
            &sent_op,
            None
        )
        .await
        .status,
        404
    );
    assert_eq!(
        c.admin_get("/admin/api/shops/lengkuas/messages?status=later", &messages_op)
            .await
            .status,
        400
    );
    let opt_outs_op = format!("{ADMIN}/opt-outs");
    let added = c
        .admin_post(
            "/admin/api/shops/lengkuas/opt-outs",
            &opt_outs_op,
            Some(json!({"customer": "0812-0000-1111", "note": "asked by phone"})),
        )
        .await;
    assert_eq!(added.status, 201);
    assert_eq!(added.json()["opt_out"]["customer"], "6281200001111");
    assert_eq!(
        c.admin_post(
            "/admin/api/shops/lengkuas/opt-outs",
            &opt_outs_op,
            Some(json!({"customer": "not a phone"}))
        )
        .await
        .status,
        400
    );
    let listed = c
        .admin_get("/admin/api/shops/lengkuas/opt-outs", &opt_outs_op)
        .await;
    assert_eq!(listed.json()["opt_outs"][0]["customer"], "6281200001111");
    let remove_op = format!("{ADMIN}/opt-outs/{{customer}}");
    for want in [200, 404] {
        let removed = c
            .call(
                c.http
                    .delete(c.url("/admin/api/shops/lengkuas/opt-outs/6281200001111"))
                    .bearer_auth(TOKEN),
                "delete",
                &remove_op,
            )
            .await;
        assert_eq!(removed.status, want);
    }

    // Every operation of the document was called above.
    let called = api.called.lock().unwrap().clone();
    let missed: Vec<_> = api.operations().difference(&called).cloned().collect();
    assert!(missed.is_empty(), "documented but not called here: {missed:?}");
    app.stop().await;
}

#[tokio::test]
async fn an_undocumented_field_status_or_type_is_caught() {
    let api = Api::load();
    let app = crate::helpers::spawn_app().await;
    let recs = app
        .get_json("/v1/shops/lengkuas/recommendations?product=SRD-100")
        .await;
    let pointer = "/components/schemas/Recommendations";
    assert_eq!(api.validate(pointer, &recs), Ok(()));
    let mut extra = recs.clone();
    extra["similar"][0]["stock"] = json!(52);
    let errors = api.validate(pointer, &extra).unwrap_err();
    assert!(errors.iter().any(|e| e.contains("stock")), "{errors:?}");
    let mut price_as_text = recs.clone();
    price_as_text["product"]["price"] = json!("Rp20.000");
    assert!(api.validate(pointer, &price_as_text).is_err());
    let mut product = app.get_json("/v1/shops/lengkuas/products/SRD-100").await;
    assert_eq!(
        api.validate("/components/schemas/PublicProduct", &product),
        Ok(())
    );
    product["available"] = json!("yes");
    assert!(api
        .validate("/components/schemas/PublicProduct", &product)
        .is_err());
    let sync = json!({"kind": "sync", "source": "x", "started_at": "yesterday", "finished_at": "2026-11-01T00:00:00Z",
        "duration_ms": 1, "products": {"seen": 0, "inserted": 0, "updated": 0, "unchanged": 0},
        "orders": {"seen": 0, "inserted": 0, "updated": 0, "unchanged": 0}, "quarantined": 0, "errors": [], "ok": true,
        "pages": 0, "warnings": []});
    let errors = api.validate("/components/schemas/SyncReport", &sync).unwrap_err();
    assert!(errors.iter().any(|e| e.contains("started_at")), "{errors:?}");

    let teapot = Answer {
        status: 418,
        content_type: Some("application/json".into()),
        headers: reqwest::header::HeaderMap::new(),
        body: "{}".into(),
    };
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        api.check("get", "/healthz", teapot);
    }));
    let message = caught.unwrap_err();
    let message = message.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("418") && message.contains("does not describe"),
        "{message}"
    );
    app.stop().await;
}

/// The routes of the README's "HTTP" and "Admin API" tables, as (method, path): the path
/// without its query, with `…` where the README means "and below".
fn readme_routes() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut routes = Vec::new();
    let mut in_table = false;
    for line in readme.lines() {
        if line.starts_with("| path | what |") || line.starts_with("| method and path | returns |") {
            in_table = true;
            continue;
        }
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        let first_cell = line.trim_start_matches('|').split(" | ").next().unwrap();
        let mut methods: Vec<String> = Vec::new();
        for (k, span) in first_cell.split('`').enumerate() {
            if k % 2 == 0 {
                continue;
            }
            let (method, path) = match span.split_once(' ') {
                Some((m, p)) if m.chars().all(|c| c.is_ascii_uppercase()) => (Some(m), p),
                _ if span.chars().all(|c| c.is_ascii_uppercase()) => {
                    methods.push(span.to_string());
                    continue;
                }
                _ => (None, span),
            };
            if let Some(m) = method {
                methods.push(m.to_string());
            }
            let path = path.split(['[', '?']).next().unwrap().to_string();
            assert!(path.starts_with('/'), "README route {span:?}");
            for m in &methods {
                routes.push((m.to_lowercase(), path.clone()));
            }
        }
    }
    routes
}

#[test]
fn every_route_the_readme_lists_is_in_the_document() {
    let api = Api::load();
    let routes = readme_routes();
    assert!(routes.len() > 25, "the README tables were not found: {routes:?}");
    // The dashboard's pages are HTML for browsers; the document says it leaves them out.
    let pages = [
        ("get", "/admin"),
        ("get", "/admin/login"),
        ("get", "/admin/shops/{shop}/…"),
    ];
    let about = api.doc["info"]["description"].as_str().unwrap();
    let ops = api.operations();
    for (method, path) in &routes {
        if pages.contains(&(method.as_str(), path.as_str())) {
            assert!(
                about.contains(&format!("`{path}`")),
                "the document should say it leaves out {path}"
            );
            continue;
        }
        let found = match path.strip_suffix('…') {
            Some(prefix) => ops.iter().any(|(m, p)| m == method && p.starts_with(prefix)),
            None => ops.contains(&(method.clone(), path.clone())),
        };
        assert!(
            found,
            "README lists {} {path}, the document does not",
            method.to_uppercase()
        );
    }
}

/// The experiment report in every state (the service's shops run none, so the answered one
/// is `no_experiment`) fits `ExperimentPage`, including the sample-ratio flag and the
/// differences.
#[test]
fn every_state_of_the_experiment_report_fits_the_document() {
    use chrono::{Duration, TimeZone, Utc};
    use laris::records::{Event, EventKind};
    let api = Api::load();
    let text = "[[shops]]\nid = \"toko\"\n[shops.experiment]\nholdout_pct = 50\nname = \"h\"\nstarted = 2026-11-01\n";
    let settings = laris::config::Settings::from_toml(text, std::path::Path::new("t.toml"), &[]).unwrap();
    let mut shop = settings.shops[0].clone();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 1, 0, 0).unwrap();
    let event = |i: usize, arm: &str, purchase: bool| Event {
        kind: if purchase {
            EventKind::Purchase
        } else {
            EventKind::Impression
        },
        slot: None,
        product: None,
        item: None,
        at: Some(t0 + Duration::minutes(i as i64)),
        customer: None,
        visitor: Some(format!("{arm}-{i}")),
        arm: Some(arm.into()),
        order: purchase.then(|| format!("INV-{arm}-{i}")),
        total: purchase.then_some(laris::domain::Rupiah(10_000 * (i as i64 % 7 + 1))),
        items: Vec::new(),
    };
    let mut events = Vec::new();
    for i in 0..30 {
        events.push(event(i, "control", false));
        if i % 4 == 0 {
            events.push(event(i, "control", true));
        }
    }
    for i in 0..8 {
        events.push(event(i, "treatment", false));
        if i % 2 == 0 {
            events.push(event(i, "treatment", true));
        }
    }
    let now = t0 + Duration::days(1);
    let ready = laris::experiment::report::build(&shop, &events, &[], now, None).unwrap();
    let few = laris::experiment::report::build(&shop, &events[..1], &[], now, None).unwrap();
    shop.experiment = None;
    let none = laris::experiment::report::build(&shop, &events, &[], now, None).unwrap();
    let ready = serde_json::to_value(&ready).unwrap();
    assert_eq!(ready["state"], "ready");
    assert_eq!(ready["analysis"]["sample_ratio"]["mismatch"], true);
    for (name, report) in [
        ("ready", ready),
        ("not enough data", serde_json::to_value(&few).unwrap()),
        ("no experiment", serde_json::to_value(&none).unwrap()),
    ] {
        if let Err(errors) = api.validate("/components/schemas/ExperimentPage", &report) {
            panic!("{name}: {}\n{report}", errors.join("\n"));
        }
    }
}
