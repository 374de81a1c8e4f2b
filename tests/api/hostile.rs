//! Hostile requests garbage in every path segment, huge and malformed query
//! strings, wrong methods, bad bodies, NUL and control bytes, very long headers, header
//! values that are not visible ASCII on every header the service reads. Whatever comes in,
//! the answer is never a 500; a 4xx where the route is JSON carries `{"error": …}`; each
//! case gets the status it deserves.
//!
//! Bytes reqwest refuses to send go over a raw `TcpStream`. Everything goes to the test's
//! own service on 127.0.0.1, each exchange under a timeout; the file sends about a thousand
//! small requests and runs in a few seconds.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app, spawn_app_with, test_settings, TestApp, SECRET, TOKEN};

// ---- a raw HTTP/1.1 client ------------------------------------------------------------

/// An answer read off the socket.
struct Raw {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// Every value of a header that may repeat (`Vary`), lower-cased, split at commas.
    fn header_values(&self, name: &str) -> Vec<String> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|line| {
                let (n, v) = line.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.to_string())
            })
            .flat_map(|v| {
                v.split(',')
                    .map(|p| p.trim().to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `error` of a JSON error body; fails the test when there is none.
    fn error(&self) -> String {
        let v: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}\n{}", self.status, self.head, self.text()));
        v["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {v}"))
            .to_string()
    }
}

/// Decodes a chunked body (the service streams pictures and compressed answers).
fn unchunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap().trim(), 16).ok())
            .unwrap_or(0);
        raw = &raw[end + 2..];
        if size == 0 || raw.len() < size {
            break;
        }
        out.extend_from_slice(&raw[..size]);
        raw = raw.get(size + 2..).unwrap_or_default();
    }
    out
}

/// Sends `request` as it is and reads the answer until the server closes; `None` when the
/// server closed without an answer (it may refuse a request that way).
async fn exchange(app: &TestApp, request: &[u8]) -> Option<Raw> {
    let addr = app.base.trim_start_matches("http://").to_string();
    let read = async {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        // A server may answer and close before a huge request is written: read anyway.
        let _ = stream.write_all(request).await;
        let mut buf = Vec::new();
        let _ = stream.read_to_end(&mut buf).await;
        buf
    };
    let buf = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the service answers within 10 s");
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let mut raw = Raw {
        status,
        head,
        body: buf[end + 4..].to_vec(),
    };
    if raw
        .header("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        raw.body = unchunk(&raw.body);
    }
    Some(raw)
}

/// One request: `headers` go as given (bytes), then `Host` unless given, a Content-Length
/// for a body unless given, and `Connection: close`.
fn request(method: &str, target: &[u8], headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let has = |n: &str| headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
    if !has("host") {
        out.extend_from_slice(b"Host: 127.0.0.1\r\n");
    }
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() && !has("content-length") && !has("transfer-encoding") {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(body);
    out
}

async fn send(app: &TestApp, method: &str, target: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Raw {
    exchange(app, &request(method, target.as_bytes(), headers, body))
        .await
        .unwrap_or_else(|| panic!("{method} {target}: no answer"))
}

/// Header names and raw values.
type Headers<'a> = Vec<(&'a str, &'a [u8])>;

const BEARER: &str = "Bearer test-admin-token-0123456789";

fn bearer() -> (&'static str, &'static [u8]) {
    assert!(BEARER.ends_with(TOKEN));
    ("authorization", BEARER.as_bytes())
}

/// Paths answered in JSON whatever happens (HTML pages and files answer their errors in
/// JSON too, but their successes are not JSON).
fn json_route(path: &str) -> bool {
    ["/v1/", "/admin/api/", "/healthz"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// The invariant of the whole file: no 5xx; a 4xx of a JSON route says `{"error": …}`.
fn assert_clean(what: &str, path: &str, r: &Raw) {
    assert!(r.status < 500, "{what}: {}\n{}", r.head, r.text());
    if (400..500).contains(&r.status) && json_route(path) && !r.body.is_empty() {
        let e = r.error();
        assert!(!e.is_empty(), "{what}: an empty error");
    }
}

// ---- the routes ------------------------------------------------------------------------

/// Every route with real values; `{…}` marks a segment or parameter the garbage goes into.
const GETS: &[&str] = &[
    "/healthz",
    "/widget.js?v={x}",
    "/demo?product={SRD-100}",
    "/demo/images/{srd-100.svg}",
    "/v1/shops/{lengkuas}/products?limit={5}",
    "/v1/shops/{lengkuas}/products/{SRD-100}",
    "/v1/shops/{lengkuas}/recommendations?product={SRD-100}&cart={TPG-100}&limit={3}&lang={en}",
    "/v1/shops/{lengkuas}/fragments?product={SRD-100}&slots={similar,feedback}",
    "/v1/shops/{lengkuas}/fragments/{upsell}?product={SRD-100}",
    "/metrics",
    "/admin/api/status?shop={lengkuas}",
    "/admin/api/shops/{lengkuas}/recommendations?product={SRD-100}&customer_id={1}",
    "/admin/api/shops/{lengkuas}/{overview}?period={month}",
    "/admin/api/shops/{lengkuas}/products/{SRD-100}",
    "/admin/api/shops/{lengkuas}/customers/{1}",
    "/admin",
    "/admin/login",
    "/admin/assets/admin.css",
    "/admin/shops/{lengkuas}?period={month}",
    "/admin/shops/{lengkuas}/overview.csv",
    "/admin/shops/{lengkuas}/products",
    "/admin/shops/{lengkuas}/products/{SRD-100}",
    "/admin/shops/{lengkuas}/customers?segment={champions}",
    "/admin/shops/{lengkuas}/customers.csv",
    "/admin/shops/{lengkuas}/customers/{1}",
    "/admin/shops/{lengkuas}/tiers",
    "/admin/shops/{lengkuas}/bundles",
    "/admin/shops/{lengkuas}/performance",
    "/admin/shops/{lengkuas}/sync",
    "/admin/shops/{lengkuas}/feedback",
];

/// State-changing routes with a body that would be taken, and whether the path also has a
/// GET route. Only garbage variants are sent, so nothing is synced, rebuilt or stored.
const POSTS: &[(&str, &str, bool)] = &[
    (
        "/v1/shops/{lengkuas}/events",
        r#"{"type":"impression","slot":"similar","product":"SRD-100"}"#,
        false,
    ),
    ("/v1/shops/{lengkuas}/feedback", r#"{"message":"halo"}"#, false),
    (
        "/admin/api/shops/{lengkuas}/replay",
        r#"{"dir":"/nonexistent"}"#,
        false,
    ),
    ("/admin/api/shops/{lengkuas}/rebuild", "{}", false),
    ("/admin/api/shops/{lengkuas}/sync?full={true}", "{}", true),
    (
        "/admin/api/shops/{lengkuas}/feedback/{1}",
        r#"{"status":"read"}"#,
        false,
    ),
    ("/admin/shops/{lengkuas}/sync", "csrf=x", true),
    (
        "/admin/shops/{lengkuas}/feedback/{1}",
        "csrf=x&status=read",
        false,
    ),
];

/// The template with its real values.
fn real(template: &str) -> String {
    template.replace(['{', '}'], "")
}

/// One variant per marked place, that place replaced by `garbage`.
fn variants(template: &str, garbage: &str) -> Vec<String> {
    let marks = template.matches('{').count();
    (0..marks)
        .map(|n| {
            let mut out = String::new();
            let mut rest = template;
            let mut i = 0;
            while let Some(start) = rest.find('{') {
                let end = rest.find('}').unwrap();
                out.push_str(&rest[..start]);
                if i == n {
                    out.push_str(garbage);
                } else {
                    out.push_str(&rest[start + 1..end]);
                }
                rest = &rest[end + 1..];
                i += 1;
            }
            out.push_str(rest);
            out
        })
        .collect()
}

fn auth_for(path: &str) -> Vec<(&'static str, &'static [u8])> {
    if path.starts_with("/admin/api/") || path.starts_with("/metrics") {
        vec![bearer()]
    } else {
        vec![]
    }
}

/// Percent-encoded garbage: what a path segment or a query value may carry on the wire.
fn garbage() -> Vec<String> {
    vec![
        "%00".into(),
        "%FF%FE".into(),
        "..".into(),
        "..%2F..%2Fconfig%2Flaris.toml".into(),
        "%".into(),
        "%E2%80%AE%F0%9F%98%80".into(),
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E".into(),
        "%0D%0ASet-Cookie:%20x=1".into(),
        "99999999999999999999999".into(),
        "a".repeat(10_000),
    ]
}

// ---- the tests -------------------------------------------------------------------------

#[tokio::test]
async fn garbage_in_any_path_segment_or_parameter_of_any_route_is_never_a_500() {
    let app = spawn_app().await;
    let mut sent = 0;
    for g in garbage() {
        for template in GETS {
            for path in variants(template, &g) {
                let r = send(&app, "GET", &path, &auth_for(&path), b"").await;
                assert_clean(&format!("GET {}", &path[..path.len().min(120)]), &path, &r);
                sent += 1;
            }
        }
        for (template, body, _) in POSTS {
            for path in variants(template, &g) {
                let mut headers = auth_for(&path);
                headers.push(("content-type", b"application/json"));
                let r = send(&app, "POST", &path, &headers, body.as_bytes()).await;
                assert_clean(&format!("POST {}", &path[..path.len().min(120)]), &path, &r);
                sent += 1;
            }
        }
    }
    assert!(sent > 400, "{sent}");
    // Nothing was taken in: the garbage changed no state.
    let shop = laris::domain::ShopId::parse("lengkuas").unwrap();
    assert!(app.store.feedback(&shop).unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_picture_name_with_nul_a_sub_path_or_10_kb_is_a_404_naming_it_not_a_500() {
    let app = spawn_app().await;
    let good = send(&app, "GET", "/demo/images/srd-100.svg", &[], b"").await;
    assert_eq!(good.status, 200, "{}", good.head);
    assert!(good.text().contains("<svg"));
    for name in [
        "%00",
        "srd-100.svg%00.png",
        ".hidden",
        "..%2F..%2FCargo.toml",
        "a/b.svg",
        "nope.svg",
        &"a".repeat(10_000),
    ] {
        let r = send(&app, "GET", &format!("/demo/images/{name}"), &[], b"").await;
        assert_eq!(r.status, 404, "{name:.40}: {}", r.head);
        let e = r.error();
        assert!(e.len() < 400, "a long name is not echoed whole: {e}");
        if name != "nope.svg" {
            assert!(e.contains("picture names are letters, digits"), "{e}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn huge_and_malformed_query_strings_get_a_400_naming_the_parameter() {
    let app = spawn_app().await;
    let rec = "/v1/shops/lengkuas/recommendations";
    let cart = vec!["SRD-100"; 101].join(",");
    let cases: Vec<(String, &str)> = vec![
        (format!("{rec}?product=SRD-100&limit=-1"), "limit=\"-1\""),
        (
            format!("{rec}?product=SRD-100&limit=99999999999999999999999"),
            "limit=",
        ),
        (format!("{rec}?product=SRD-100&limit=abc"), "limit=\"abc\""),
        (format!("{rec}?product=SRD-100&lang=xx"), "lang=\"xx\""),
        (format!("{rec}?product=SRD-100&cart={cart}"), "at most 100"),
        (format!("{rec}?product=%00"), "product"),
        (format!("{rec}?limit=3"), "missing product=ID"),
        (
            "/v1/shops/lengkuas/fragments?product=SRD-100&slots=similar,sidebar".into(),
            "slot \"sidebar\" is unknown",
        ),
        ("/v1/shops/lengkuas/products?limit=0".into(), "limit=\"0\""),
        (
            "/admin/api/status?shop=lengkuas&shop=lengkuas".into(),
            "query string \"shop=lengkuas&shop=lengkuas\"",
        ),
        ("/demo?product=SRD-100&product=TPG-100".into(), "each name once"),
    ];
    for (path, says) in &cases {
        let r = send(&app, "GET", path, &auth_for(path), b"").await;
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        let e = r.error();
        assert!(e.contains(says), "{path}: {e}");
    }
    // Odd but harmless: read as parameters that mean nothing, never a 500.
    let long = format!("{rec}?product=SRD-100&x={}", "y".repeat(30_000));
    for path in [
        format!("{rec}?product=SRD-100&%%%"),
        format!("{rec}?product=SRD-100&=&=&&"),
        format!("{rec}?product=SRD-100&a[]=1&a[b]=2"),
        format!("{rec}?product=SRD-100&product=TPG-100"),
        long,
        "/healthz?%FF=%FE".into(),
    ] {
        let r = send(&app, "GET", &path, &[], b"").await;
        assert_clean("an odd query", &path, &r);
        assert!(r.status == 200 || r.status == 400, "{}: {}", r.status, r.text());
    }
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_method_is_a_405_naming_it_and_head_is_not_wrong_on_a_get_route() {
    let app = spawn_app().await;
    for template in GETS {
        let path = real(template);
        for method in ["PUT", "DELETE", "PATCH", "BREW"] {
            let r = send(&app, method, &path, &auth_for(&path), b"").await;
            assert_eq!(r.status, 405, "{method} {path}: {}", r.text());
            let e = r.error();
            assert!(e.contains(&format!("method \"{method}\"")), "{e}");
        }
    }
    for (template, _, _) in POSTS.iter().filter(|(_, _, get_too)| !get_too) {
        let path = real(template);
        let r = send(&app, "GET", &path, &auth_for(&path), b"").await;
        assert_eq!(r.status, 405, "GET {path}: {}", r.text());
        assert!(r.error().contains("method \"GET\""));
        // HEAD is a GET without the body: refused where GET is.
        let r = send(&app, "HEAD", &path, &auth_for(&path), b"").await;
        assert_eq!(r.status, 405, "HEAD {path}");
        assert!(r.body.is_empty());
    }
    let r = send(&app, "OPTIONS", "/healthz", &[], b"").await;
    assert_eq!(r.status, 405);
    let r = send(&app, "HEAD", "/no/such/page", &[], b"").await;
    assert_eq!(r.status, 404);
    assert!(r.body.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn head_answers_every_get_route_with_the_get_headers_and_no_body() {
    let app = spawn_app().await;
    for template in GETS {
        let path = real(template);
        let auth = auth_for(&path);
        let get = send(&app, "GET", &path, &auth, b"").await;
        let head = send(&app, "HEAD", &path, &auth, b"").await;
        assert_eq!(head.status, get.status, "HEAD {path}");
        assert!(get.status < 500, "GET {path}: {}", get.head);
        assert!(head.body.is_empty(), "HEAD {path} has no body");
        for name in [
            "content-type",
            "cache-control",
            "location",
            "access-control-allow-origin",
            "content-security-policy",
        ] {
            assert_eq!(head.header(name), get.header(name), "{name} of HEAD {path}");
        }
        assert_eq!(
            head.header_values("vary"),
            get.header_values("vary"),
            "HEAD {path}"
        );
        // /metrics counts answers, the GET just sent among them: its length may differ.
        if let Some(length) = head.header("content-length").filter(|_| path != "/metrics") {
            assert_eq!(
                length,
                get.body.len().to_string(),
                "HEAD {path} announces the GET's length"
            );
        }
    }
    // The routes a browser and a monitor use most, with their real status.
    for (path, status) in [
        ("/healthz", 200),
        ("/widget.js", 200),
        ("/demo", 200),
        ("/demo/images/srd-100.svg", 200),
        ("/v1/shops/lengkuas/fragments?product=SRD-100", 200),
        ("/admin/login", 200),
        ("/admin/api/status", 200),
        ("/admin/shops/lengkuas", 303),
    ] {
        let r = send(&app, "HEAD", path, &auth_for(path), b"").await;
        assert_eq!(r.status, status, "HEAD {path}");
        if status == 200 {
            let n: usize = r
                .header("content-length")
                .unwrap_or_else(|| panic!("HEAD {path} has a Content-Length"))
                .parse()
                .unwrap();
            assert!(n > 0, "HEAD {path}");
        }
    }
    // Conditional HEAD: the widget's ETag gives 304 as for GET.
    let etag = send(&app, "HEAD", "/widget.js", &[], b"")
        .await
        .header("etag")
        .unwrap();
    let r = send(
        &app,
        "HEAD",
        "/widget.js",
        &[("if-none-match", etag.as_bytes())],
        b"",
    )
    .await;
    assert_eq!(r.status, 304);
    app.stop().await;
}

#[tokio::test]
async fn bad_content_types_bad_json_and_oversized_bodies_get_the_4xx_they_deserve() {
    let app = spawn_app().await;
    let events = "/v1/shops/lengkuas/events";
    let feedback = "/v1/shops/lengkuas/feedback";
    let replay = "/admin/api/shops/lengkuas/replay";
    let status_api = "/admin/api/shops/lengkuas/feedback/1";
    let json_ct = ("content-type", &b"application/json"[..]);
    let too_many_events = json!({
        "events": vec![json!({"type": "impression", "product": "SRD-100"}); 51]
    })
    .to_string();
    let nul_product = r#"{"type":"click","product":"SRD\u0000100"}"#;
    let cases: Vec<(&str, Headers, Vec<u8>, u16, &str)> = vec![
        (
            events,
            vec![],
            b"not json".to_vec(),
            400,
            "event body is not valid",
        ),
        (
            events,
            vec![json_ct],
            b"{".to_vec(),
            400,
            "event body is not valid",
        ),
        (
            events,
            vec![json_ct],
            b"{}".to_vec(),
            400,
            "event body is not valid",
        ),
        (
            events,
            vec![json_ct],
            br#"{"events":[]}"#.to_vec(),
            400,
            "send 1 to 50 events",
        ),
        (events, vec![json_ct], too_many_events.into_bytes(), 400, "not 51"),
        (
            events,
            vec![json_ct],
            br#"{"type":"view"}"#.to_vec(),
            400,
            "\"view\"",
        ),
        (
            events,
            vec![json_ct],
            nul_product.as_bytes().to_vec(),
            400,
            "product id",
        ),
        (
            events,
            vec![json_ct],
            vec![0u8; 64],
            400,
            "event body is not valid",
        ),
        (events, vec![json_ct], vec![b' '; 17 * 1024], 413, "too large"),
        (
            feedback,
            vec![json_ct],
            b"{".to_vec(),
            400,
            "feedback body is not valid",
        ),
        (
            feedback,
            vec![],
            vec![0xff, 0xfe, 0],
            400,
            "feedback body is not valid",
        ),
        (feedback, vec![json_ct], vec![b' '; 9 * 1024], 413, "at most 8192"),
        (
            replay,
            vec![bearer(), ("content-type", &b"text/plain"[..])],
            br#"{"dir":"/x"}"#.to_vec(),
            415,
            "Content-Type \"text/plain\"",
        ),
        (
            replay,
            vec![bearer(), json_ct],
            br#"{"dir":5}"#.to_vec(),
            400,
            "bad request body",
        ),
        (
            replay,
            vec![bearer(), json_ct],
            b"{".to_vec(),
            400,
            "bad request body",
        ),
        (
            replay,
            vec![bearer(), json_ct],
            br#"{"dir":"/nonexistent/recording"}"#.to_vec(),
            403,
            "nonexistent",
        ),
        (
            replay,
            vec![bearer(), json_ct],
            vec![b' '; 5000],
            413,
            "server.max_body_bytes = 4096",
        ),
        (
            status_api,
            vec![bearer(), json_ct],
            br#"{"status":"lost"}"#.to_vec(),
            400,
            "lost",
        ),
    ];
    for (path, headers, body, status, says) in &cases {
        let r = send(&app, "POST", path, headers, body).await;
        assert_eq!(
            r.status,
            *status,
            "{path} {:.60?}: {}",
            String::from_utf8_lossy(body),
            r.text()
        );
        let e = r.error();
        assert!(e.contains(says), "{path}: {e:?} does not say {says:?}");
    }
    // A form post is answered as a page, in the form's language (Indonesian by default).
    let r = send(
        &app,
        "POST",
        feedback,
        &[("content-type", b"application/x-www-form-urlencoded")],
        b"message=%FF%FE%00",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("Formulir tidak lengkap"), "{}", r.text());
    // A body with no length (chunked) where a length is needed: 411, saying so.
    let r = send(
        &app,
        "POST",
        events,
        &[json_ct, ("transfer-encoding", b"chunked")],
        b"5\r\n{\"a\":\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 411, "{}", r.text());
    assert!(r.error().contains("Content-Length"));
    // A body cut short (the client stops writing): the service says it could not read it.
    let cut = request(
        "POST",
        events.as_bytes(),
        &[json_ct, ("content-length", b"100")],
        b"{\"type\":",
    );
    let r = exchange_half_closed(&app, &cut).await.expect("an answer");
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.error().contains("could not be read"), "{}", r.text());
    // Absent content type on the widget's beacon: taken, as navigator.sendBeacon may send it.
    let r = send(
        &app,
        "POST",
        events,
        &[],
        br#"{"type":"impression","product":"SRD-100"}"#,
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    app.stop().await;
}

/// Sends `request`, then closes the writing half (a client that stops mid-body).
async fn exchange_half_closed(app: &TestApp, request: &[u8]) -> Option<Raw> {
    let addr = app.base.trim_start_matches("http://").to_string();
    let read = async {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        stream.shutdown().await.unwrap();
        let mut buf = Vec::new();
        let _ = stream.read_to_end(&mut buf).await;
        buf
    };
    let buf = tokio::time::timeout(Duration::from_secs(10), read).await.unwrap();
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some(Raw {
        status: String::from_utf8_lossy(&buf[..end])
            .split(' ')
            .nth(1)?
            .parse()
            .ok()?,
        head: String::from_utf8_lossy(&buf[..end]).into_owned(),
        body: buf[end + 4..].to_vec(),
    })
}

/// Header values that are not visible ASCII: not UTF-8, UTF-8 but not ASCII, a lone high byte.
const NOT_ASCII: &[&[u8]] = &[b"\xff\xfe", "café.example".as_bytes(), b"\x80"];

#[tokio::test]
async fn a_header_value_that_is_not_visible_ascii_is_a_400_naming_the_header_on_every_header_read() {
    let app = spawn_app().await;
    let frag = "/v1/shops/lengkuas/fragments?product=SRD-100";
    let event = br#"{"type":"impression","product":"SRD-100"}"#.as_slice();
    let message = br#"{"message":"halo"}"#.as_slice();
    let form = b"message=halo&page=%2F".as_slice();
    let json_ct: (&str, &[u8]) = ("content-type", b"application/json");
    // (header, method, path, other headers, body)
    type Case<'a> = (&'a str, &'a str, &'a str, Headers<'a>, &'a [u8]);
    let cases: Vec<Case> = vec![
        ("origin", "GET", frag, vec![], b""),
        (
            "origin",
            "GET",
            "/v1/shops/lengkuas/fragments/similar?product=SRD-100",
            vec![],
            b"",
        ),
        (
            "origin",
            "GET",
            "/v1/shops/lengkuas/recommendations?product=SRD-100",
            vec![],
            b"",
        ),
        (
            "origin",
            "POST",
            "/v1/shops/lengkuas/events",
            vec![json_ct],
            event,
        ),
        (
            "origin",
            "POST",
            "/v1/shops/lengkuas/feedback",
            vec![json_ct],
            message,
        ),
        ("origin", "OPTIONS", "/v1/shops/lengkuas/events", vec![], b""),
        ("host", "GET", frag, vec![], b""),
        (
            "host",
            "GET",
            "/v1/shops/lengkuas/fragments/feedback",
            vec![],
            b"",
        ),
        ("if-none-match", "GET", "/widget.js", vec![], b""),
        ("if-none-match", "GET", frag, vec![], b""),
        (
            "referer",
            "POST",
            "/v1/shops/lengkuas/feedback",
            vec![json_ct],
            message,
        ),
        (
            "content-type",
            "POST",
            "/v1/shops/lengkuas/feedback",
            vec![],
            form,
        ),
        ("authorization", "GET", "/admin/api/status", vec![], b""),
        ("authorization", "GET", "/metrics", vec![], b""),
        (
            "authorization",
            "POST",
            "/admin/api/shops/lengkuas/rebuild",
            vec![],
            b"{}",
        ),
        (
            "x-csrf-token",
            "POST",
            "/admin/api/shops/lengkuas/rebuild",
            vec![bearer()],
            b"{}",
        ),
        // `x-forwarded-proto` is not read at all unless the peer is a trusted proxy
        // (`server.trusted_proxies`): from anyone else a bad value is ignored, not refused.
    ];
    for (name, method, path, others, body) in &cases {
        for value in NOT_ASCII {
            let mut headers = others.clone();
            headers.push((name, value));
            let r = send(&app, method, path, &headers, body).await;
            let what = format!("{name}: {value:?} on {method} {path}");
            assert_eq!(r.status, 400, "{what}: {}\n{}", r.head, r.text());
            let e = r.error();
            assert!(e.starts_with(&format!("header {name}: ")), "{what}: {e}");
            assert!(e.contains("only visible ASCII"), "{what}: {e}");
            if *name == "authorization" {
                assert!(e.contains("(not shown)"), "credentials are not echoed: {e}");
            } else {
                let shown = value.escape_ascii().to_string();
                assert!(e.contains(&shown), "the value is quoted: {e}");
            }
        }
    }
    // Accept-Encoding and Cookie are read leniently: a value that cannot be read means no
    // compression, or no session (the API asks to sign in, a page sends to the sign-in).
    for value in NOT_ASCII {
        let r = send(&app, "GET", "/healthz", &[("accept-encoding", value)], b"").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-encoding"), None);
        for (path, status) in [
            ("/admin/api/shops/lengkuas/overview", 401),
            ("/admin/shops/lengkuas", 303),
            ("/admin/login", 200),
        ] {
            let r = send(&app, "GET", path, &[("cookie", value)], b"").await;
            assert_eq!(r.status, status, "cookie {value:?} on {path}: {}", r.text());
        }
    }
    // Control bytes and NUL in a header value or the request line never reach a handler:
    // the HTTP layer refuses them with 400.
    for raw in [
        request("GET", frag.as_bytes(), &[("origin", b"a\x01b")], b""),
        request("GET", frag.as_bytes(), &[("if-none-match", b"\"a\x00b\"")], b""),
        request("GET", b"/v1/shops/lengkuas/products/SRD\x00100", &[], b""),
        request("GET", b"/v1/shops/\xff/products", &[], b""),
        request("GET", b"/healthz\x7f", &[], b""),
    ] {
        let r = exchange(&app, &raw).await.expect("an answer");
        assert_eq!(r.status, 400, "{:?}: {}", String::from_utf8_lossy(&raw), r.head);
    }
    app.stop().await;
}

#[tokio::test]
async fn very_long_and_very_many_headers_are_refused_or_ignored_never_a_500() {
    let app = spawn_app().await;
    let frag = "/v1/shops/lengkuas/fragments?product=SRD-100";
    let long = "x".repeat(20_000);
    let long_bearer = format!("Bearer {long}");
    let cases: Vec<(&str, &str, Headers, u16)> = vec![
        ("GET", frag, vec![("origin", long.as_bytes())], 200),
        ("GET", frag, vec![("host", long.as_bytes())], 200),
        ("GET", frag, vec![("if-none-match", long.as_bytes())], 200),
        ("GET", "/widget.js", vec![("if-none-match", long.as_bytes())], 200),
        (
            "GET",
            "/admin/api/status",
            vec![("authorization", long_bearer.as_bytes())],
            401,
        ),
        (
            "GET",
            "/admin/shops/lengkuas",
            vec![("cookie", long.as_bytes())],
            303,
        ),
        ("GET", "/healthz", vec![("accept-encoding", long.as_bytes())], 200),
        ("GET", "/healthz", vec![("x-anything", long.as_bytes())], 200),
    ];
    for (method, path, headers, status) in &cases {
        let r = send(&app, method, path, headers, b"").await;
        assert_eq!(
            r.status,
            *status,
            "{method} {path} {}: {}",
            headers[0].0,
            r.text()
        );
    }
    // More headers than the HTTP layer keeps, or one larger than its buffer: refused
    // (431) before anything is read. The huge one may be cut off while still being written,
    // and the answer lost with the connection; never a 500.
    let many: Vec<(String, Vec<u8>)> = (0..200).map(|i| (format!("x-h{i}"), b"1".to_vec())).collect();
    let many: Vec<(&str, &[u8])> = many.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
    let r = exchange(&app, &request("GET", b"/healthz", &many, b""))
        .await
        .expect("an answer");
    assert_eq!(r.status, 431, "200 headers: {}", r.head);
    let huge = "y".repeat(600_000);
    if let Some(r) = exchange(
        &app,
        &request("GET", b"/healthz", &[("x-big", huge.as_bytes())], b""),
    )
    .await
    {
        assert_eq!(r.status, 431, "a 600 KB header: {}", r.head);
    }
    // The service still answers.
    assert_eq!(send(&app, "GET", "/healthz", &[], b"").await.status, 200);
    app.stop().await;
}

/// The fragments of the demo product with `host` as the Host header.
async fn fragments_with_host(app: &TestApp, host: &[u8]) -> Raw {
    let r = send(
        app,
        "GET",
        "/v1/shops/lengkuas/fragments?product=SRD-100&slots=similar,feedback",
        &[("host", host)],
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r
}

#[tokio::test]
async fn without_public_url_links_follow_a_valid_host_only_and_the_answer_varies_by_host() {
    let app = spawn_app().await;
    // A valid host: links on it, and a cache keeps one copy per host.
    let r = fragments_with_host(&app, b"shop.example:8080").await;
    assert!(
        r.text()
            .contains("http:&#x2f;&#x2f;shop.example:8080&#x2f;demo&#x2f;images"),
        "{}",
        r.text()
    );
    assert!(
        r.header_values("vary").contains(&"host".to_string()),
        "{}",
        r.head
    );
    // Anything that is not exactly host[:port] builds no link: root-relative ones instead.
    for bad in [
        &b"evil.example/x"[..],
        b"user@evil.example",
        b"evil.example:",
        b"a b",
        b"\"><i>",
    ] {
        let r = fragments_with_host(&app, bad).await;
        let body = r.text();
        assert!(
            !body.contains("evil") && !body.contains("http:"),
            "{:?}: {body}",
            String::from_utf8_lossy(bad)
        );
        assert!(body.contains("src=\\\"&#x2f;demo&#x2f;images&#x2f;"), "{body}");
        assert!(r.header_values("vary").contains(&"host".to_string()));
    }
    // With allowed_origins "*" the CORS answer is the same for every Origin: no Vary on it.
    assert!(
        !r.header_values("vary").contains(&"origin".to_string()),
        "{}",
        r.head
    );
    app.stop().await;
}

#[tokio::test]
async fn public_url_builds_every_link_whatever_the_host_header_says() {
    // The shop's own public_url wins over the server's.
    let mut settings = test_settings();
    settings.server.public_url = Some(laris::config::PublicUrl::parse("https://laris.example").unwrap());
    settings.shops[0].public_url =
        Some(laris::config::PublicUrl::parse("https://toko.example/laris/").unwrap());
    settings.shops[0].allowed_origins = vec!["https://toko.example".into()];
    let app = spawn_app_with(settings).await;
    for host in [&b"evil.example"[..], b"127.0.0.1", b"evil.example/x"] {
        let r = fragments_with_host(&app, host).await;
        let body = r.text();
        assert!(!body.contains("evil"), "{body}");
        assert!(
            body.contains("https:&#x2f;&#x2f;toko.example&#x2f;laris&#x2f;demo&#x2f;images&#x2f;"),
            "pictures: {body}"
        );
        assert!(
            body.contains("action=\\\"https:&#x2f;&#x2f;toko.example&#x2f;laris&#x2f;v1&#x2f;shops&#x2f;lengkuas&#x2f;feedback\\\""),
            "the form's action: {body}"
        );
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("private, max-age=60"),
            "a feedback form's one-time token is for one visitor, not for shared caches"
        );
        let vary = r.header_values("vary");
        assert!(!vary.contains(&"host".to_string()), "{vary:?}");
        // A listed origin is named back or not at all: the answer varies by Origin.
        assert!(vary.contains(&"origin".to_string()), "{vary:?}");
    }
    let r = send(
        &app,
        "GET",
        "/v1/shops/lengkuas/recommendations?product=SRD-100",
        &[("origin", b"https://toko.example")],
        b"",
    )
    .await;
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://toko.example")
    );
    assert!(r.header_values("vary").contains(&"origin".to_string()));
    let r = send(
        &app,
        "GET",
        "/v1/shops/lengkuas/recommendations?product=SRD-100",
        &[("origin", b"https://evil.example")],
        b"",
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert!(r.header_values("vary").contains(&"origin".to_string()));
    app.stop().await;

    // The server's public_url for a shop with none of its own.
    let mut settings = test_settings();
    settings.server.public_url = Some(laris::config::PublicUrl::parse("https://laris.example").unwrap());
    let app = spawn_app_with(settings).await;
    let body = fragments_with_host(&app, b"evil.example").await.text();
    assert!(!body.contains("evil"), "{body}");
    assert!(
        body.contains("https:&#x2f;&#x2f;laris.example&#x2f;demo&#x2f;images&#x2f;"),
        "{body}"
    );
    app.stop().await;
}

/// A form post the way a browser without JavaScript sends it.
async fn form_post(app: &TestApp, fields: &[(&str, &str)], referer: Option<&str>) -> Raw {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut headers: Vec<(&str, &[u8])> = vec![("content-type", b"application/x-www-form-urlencoded")];
    if let Some(r) = referer {
        headers.push(("referer", r.as_bytes()));
    }
    send(
        app,
        "POST",
        "/v1/shops/lengkuas/feedback",
        &headers,
        body.as_bytes(),
    )
    .await
}

fn token() -> String {
    laris::web::feedback::form_token(SECRET.as_bytes(), chrono::Utc::now().timestamp() - 60)
}

#[tokio::test]
async fn the_feedback_form_sends_people_back_only_to_the_shops_own_pages() {
    // The tester's case: allowed_origins = ["*"], the honeypot filled, page elsewhere.
    let app = spawn_app().await;
    let spam = |page: &'static str| {
        vec![
            ("message", "Beli obat murah"),
            ("website", "https://spam.example"),
            ("page", page),
        ]
    };
    for page in [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example/phish",
        "http://evil.example:80@toko.example/",
        "javascript:alert(1)",
    ] {
        let r = form_post(&app, &spam(page), None).await;
        assert_eq!(r.status, 200, "{page}: {}", r.head);
        assert_eq!(r.header("location"), None, "{page}");
        assert!(
            r.text().contains("Terima kasih!"),
            "the service's own thank-you page"
        );
        assert!(!r.text().contains("evil"), "no link to it either: {}", r.text());
    }
    let r = form_post(
        &app,
        &[("message", "Beli obat murah"), ("website", "x")],
        Some("https://evil.example/phish"),
    )
    .await;
    assert_eq!((r.status, r.header("location")), (200, None), "a foreign Referer");
    // A path of this service is fine.
    let r = form_post(&app, &spam("/demo?product=SRD-100"), None).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location").as_deref(), Some("/demo?product=SRD-100"));
    let stored = laris::domain::ShopId::parse("lengkuas").unwrap();
    assert!(
        app.store.feedback(&stored).unwrap().is_empty(),
        "spam is never kept"
    );
    app.stop().await;

    // The shop's own pages: an origin it lists, or its public_url's.
    let mut settings = test_settings();
    settings.shops[0].allowed_origins = vec!["*".into(), "https://toko.example".into()];
    settings.shops[0].public_url =
        Some(laris::config::PublicUrl::parse("https://laris.toko.example").unwrap());
    let app = spawn_app_with(settings).await;
    for page in [
        "https://toko.example/serundeng?ref=x",
        "https://laris.toko.example/demo",
    ] {
        let r = form_post(
            &app,
            &[
                ("message", "Mantap sekali"),
                ("form_token", &token()),
                ("page", page),
            ],
            None,
        )
        .await;
        assert_eq!(r.status, 303, "{page}: {}", r.text());
        assert_eq!(r.header("location").as_deref(), Some(page));
    }
    assert_eq!(app.store.feedback(&stored).unwrap().len(), 2, "both kept");
    // Look-alikes of the shop's origins are someone else's (spam: honeypot filled, not kept).
    for page in ["https://toko.example.evil.example/", "http://toko.example/"] {
        let r = form_post(
            &app,
            &[("message", "Mantap sekali"), ("website", "x"), ("page", page)],
            None,
        )
        .await;
        assert_eq!((r.status, r.header("location")), (200, None), "{page}");
    }
    app.stop().await;
}

#[tokio::test]
async fn every_429_says_in_seconds_when_to_retry() {
    let app = spawn_app().await;
    // Events: 60 at once, then 5 a second.
    let batch = json!({"events": vec![json!({"type": "impression", "product": "SRD-100"}); 50]}).to_string();
    let events = "/v1/shops/lengkuas/events";
    let json_ct: (&str, &[u8]) = ("content-type", b"application/json");
    assert_eq!(
        send(&app, "POST", events, &[json_ct], batch.as_bytes())
            .await
            .status,
        202
    );
    let r = send(&app, "POST", events, &[json_ct], batch.as_bytes()).await;
    assert_eq!(r.status, 429, "{}", r.text());
    let wait: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=10).contains(&wait), "{wait}");
    assert!(
        r.error().contains(&format!("send again in {wait} seconds")),
        "{}",
        r.text()
    );

    // Feedback, as JSON and as a form post: 3 within 3 minutes (a fresh form each time:
    // a form token carries one message).
    for i in 0..3 {
        let body = json!({"message": format!("Pesan {i}"), "form_token": token()}).to_string();
        let r = send(
            &app,
            "POST",
            "/v1/shops/lengkuas/feedback",
            &[json_ct],
            body.as_bytes(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let body = json!({"message": "Pesan keempat", "form_token": token()}).to_string();
    let r = send(
        &app,
        "POST",
        "/v1/shops/lengkuas/feedback",
        &[json_ct],
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 429);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=180).contains(&wait), "{wait}");
    let r = form_post(
        &app,
        &[("message", "Pesan kelima"), ("form_token", &token())],
        None,
    )
    .await;
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").unwrap().parse::<u64>().is_ok());
    assert!(
        r.text().contains("detik"),
        "the person is told, in the form's language"
    );
    app.stop().await;
}
