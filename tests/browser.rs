//! The widget in a real browser: headless Chromium driven through chromedriver with the W3C
//! WebDriver protocol (plain HTTP, spoken with reqwest), against the real laris server on
//! port 0 and, for pages of another origin, a tiny HTTP server of this file.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); without them
//! every test here fails and says how to install them.
//!
//! Each test starts its own laris, page server, chromedriver and browser, and stops them
//! when it ends (also on panic). Every wait polls against a deadline.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use laris::app::Application;
use laris::config::Settings;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHROMIUM: &str = "/usr/bin/chromium";
const INSTALL_HINT: &str = "the browser tests need Debian's Chromium and ChromeDriver: run `apt-get install -y chromium chromium-driver` (as .ci/run does)";
/// How long a page may take to reach the state a test waits for.
const DEADLINE: Duration = Duration::from_secs(20);
const SLOTS: [&str; 4] = ["similar", "upsell", "bundle", "loyalty"];

// ---- the laris server -------------------------------------------------------------------

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The demo shop, allowing the widget endpoints from `origin` only (not `*`), so that the
/// cross-origin pages prove the shop's CORS setting works.
fn config_text(origin: &str, recording: &Path) -> String {
    format!(
        r#"
[server]
demo_images = "{images}"
[admin]
token = "browser-test-admin-token-0123456789"
[[shops]]
id = "lengkuas"
name = "Lengkuas Nusantara"
seed_recording = "{rec}"
allowed_origins = ["{origin}"]
customer_secret = "browser-test-customer-secret-0123456789"
[shops.chat]
whatsapp = "62812000000"
"#,
        images = repo().join("demo/lengkuas/images").display(),
        rec = recording.display(),
    )
}

/// A running laris on 127.0.0.1:0 with a temporary store, stopped when dropped.
struct Laris {
    base: String,
    /// The running service's store, to check what it kept.
    store: laris::store::SharedStore,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// The service's task: dropping `Laris` waits for it to stop.
    service: Option<tokio::task::JoinHandle<()>>,
    /// The data directory, the last field: removed only after the service has stopped and
    /// every store handle is dropped (a store that loses its directory under it never
    /// finishes its final flush).
    _data_dir: tempfile::TempDir,
}

impl Laris {
    async fn start(allowed_origin: &str, recording: &Path) -> Laris {
        Laris::start_config(config_text(allowed_origin, recording)).await
    }

    async fn start_config(config: String) -> Laris {
        let settings = Settings::from_toml(&config, Path::new("browser-test.toml"), &[])
            .expect("the browser test config is valid");
        let data_dir = tempfile::tempdir().unwrap();
        let app = Application::build(settings, data_dir.path(), "127.0.0.1:0".parse().unwrap())
            .await
            .expect("laris builds");
        let base = format!("http://{}", app.local_addr());
        let store = app.state().store.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let service = tokio::spawn(async move {
            let _ = app
                .run_until_stopped(async {
                    let _ = rx.await;
                })
                .await;
        });
        Laris {
            base,
            store,
            shutdown: Some(tx),
            service: Some(service),
            _data_dir: data_dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Laris {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(service) = self.service.take() {
            // The browser tests run on the multi-threaded runtime, where a drop may wait.
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async {
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(60), service).await;
                })
            });
        }
    }
}

// ---- a tiny page server of another origin -----------------------------------------------

/// What the page server answers on one path (the query string is ignored).
#[derive(Clone)]
enum Reply {
    Ok {
        content_type: &'static str,
        headers: Vec<(String, String)>,
        body: String,
    },
    Status(u16, String),
    /// Reads the request, then closes the connection without answering: a network error.
    Hangup,
    /// Never answers (until the test ends).
    Silence,
}

fn html(body: String) -> Reply {
    Reply::Ok {
        content_type: "text/html; charset=utf-8",
        headers: Vec::new(),
        body,
    }
}

fn script(body: &str) -> Reply {
    Reply::Ok {
        content_type: "text/javascript; charset=utf-8",
        headers: Vec::new(),
        body: body.to_string(),
    }
}

fn css(body: &str) -> Reply {
    Reply::Ok {
        content_type: "text/css; charset=utf-8",
        headers: Vec::new(),
        body: body.to_string(),
    }
}

/// Hand-written HTTP/1.1 on 127.0.0.1:0, one request per connection: the shop's own
/// site in these tests, a different origin (port) from laris.
struct PageServer {
    origin: String,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    task: tokio::task::JoinHandle<()>,
}

impl PageServer {
    async fn start() -> PageServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        routes
            .lock()
            .unwrap()
            .insert("/watch.js".into(), script(WATCHER_JS));
        let table = routes.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_connection(stream, table.clone()));
            }
        });
        PageServer { origin, routes, task }
    }

    fn route(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_string(), reply);
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_connection(mut stream: tokio::net::TcpStream, routes: Arc<Mutex<HashMap<String, Reply>>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/").to_string();
    let reply = routes.lock().unwrap().get(&path).cloned();
    let (status, content_type, headers, body) = match reply {
        Some(Reply::Ok {
            content_type,
            headers,
            body,
        }) => (200, content_type, headers, body),
        Some(Reply::Status(code, body)) => (code, "application/json", Vec::new(), body),
        Some(Reply::Hangup) => return,
        Some(Reply::Silence) => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            return;
        }
        None => (404, "text/plain", Vec::new(), format!("no route {path}")),
    };
    let mut response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&body);
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Loaded (synchronously, before the widget) by every page of the page server: records CSP
/// violations, uncaught errors and alerts, beacons and add-to-cart events, the globals present before
/// the widget, and keeps clicks inside slots (but on a form's submit button) from navigating away.
const WATCHER_JS: &str = r#"
window.__violations = [];
window.__errors = [];
window.__beacons = [];
window.__cart = [];
document.addEventListener("securitypolicyviolation", function (e) {
  __violations.push(e.violatedDirective + " blocked " + e.blockedURI + " (" + e.sourceFile + ":" + e.lineNumber + ")");
});
window.addEventListener("error", function (e) { __errors.push("error: " + e.message); });
window.addEventListener("unhandledrejection", function (e) { __errors.push("unhandled rejection: " + e.reason); });
var realSendBeacon = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = function (url, data) {
  var call = { url: String(url), type: data && data.type, body: null };
  __beacons.push(call);
  if (data && data.text) data.text().then(function (t) { call.body = t; });
  return realSendBeacon(url, data);
};
window.alert = function (message) { __errors.push("alert: " + message); };
document.addEventListener("laris:add-to-cart", function (e) { __cart.push(e.detail); });
document.addEventListener("click", function (e) {
  var submit = e.composedPath()[0].type === "submit";
  if (!submit && e.target.closest && e.target.closest("[data-laris-slot]")) e.preventDefault();
});
window.__keysBefore = Object.keys(window);
"#;

/// A shop page on the page server: the watcher, optional stylesheet, the embed snippet
/// with `script_src`, and the slots.
fn shop_page(script_src: &str, shop: &str, product: &str, extra_head: &str, extra_body: &str) -> String {
    let slots: String = SLOTS
        .iter()
        .map(|s| format!("<div data-laris-slot=\"{s}\" data-product=\"{product}\"></div>\n"))
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"id\"><head><meta charset=\"utf-8\"><title>Toko</title>\n\
         <link rel=\"icon\" href=\"data:,\">\n<script src=\"/watch.js\"></script>\n{extra_head}</head>\n\
         <body>\n<h1>Serundeng</h1>\n{extra_body}\n\
         <script async src=\"{script_src}\" data-shop=\"{shop}\"></script>\n{slots}</body></html>\n"
    )
}

// ---- chromedriver and the browser -------------------------------------------------------

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A chromedriver child process, killed when dropped.
struct ChromeDriver {
    child: Child,
    base: String,
}

impl ChromeDriver {
    async fn start(log: &Path) -> ChromeDriver {
        let binary =
            on_path("chromedriver").unwrap_or_else(|| panic!("chromedriver is not on PATH: {INSTALL_HINT}"));
        assert!(
            Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: {INSTALL_HINT}"
        );
        let port = free_port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start chromedriver: {e}; {INSTALL_HINT}"));
        let driver = ChromeDriver {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = http
                .get(format!("{}/status", driver.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if let Ok(r) = ready {
                if let Ok(v) = r.json::<Value>().await {
                    if v["value"]["ready"] == true {
                        return driver;
                    }
                }
            }
            assert!(
                started.elapsed() < DEADLINE,
                "chromedriver did not answer /status within {DEADLINE:?} on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One headless Chromium session. Dropping it ends the session (closing Chromium), then
/// stops chromedriver.
struct Browser {
    http: reqwest::Client,
    /// Emptied once the session has ended.
    session: String,
    /// Dropped after `Drop::drop` has ended the session.
    driver: ChromeDriver,
    /// Chromium's profile and chromedriver's log, removed last.
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let log = profile.path().join("chromedriver.log");
        let driver = ChromeDriver::start(&log).await;
        let user_data = profile.path().join("chromium");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", user_data.display()),
                ],
            },
        }}});
        let http = reqwest::Client::new();
        let resp = http
            .post(format!("{}/session", driver.base))
            .json(&caps)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .expect("chromedriver answers POST /session");
        let body: Value = resp.json().await.expect("a JSON answer to POST /session");
        let session = match body["value"]["sessionId"].as_str() {
            Some(id) => id.to_string(),
            None => panic!(
                "Chromium did not start: {body}\nchromedriver log tail:\n{}",
                log_tail(&log)
            ),
        };
        Browser {
            http,
            session,
            driver,
            _profile: profile,
        }
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.driver.base, self.session)
    }

    /// One WebDriver command; its `value`, or the WebDriver error as Err.
    async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut req = self
            .http
            .request(method.clone(), self.endpoint(path))
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let ok = resp.status().is_success();
        let v: Value = resp.json().await.map_err(|e| format!("{method} {path}: {e}"))?;
        if ok {
            Ok(v["value"].clone())
        } else {
            Err(format!("{method} {path}: {}", v["value"]))
        }
    }

    /// The window as a PNG.
    async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let png = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await
            .expect("a screenshot");
        base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("a base64 string"))
            .expect("base64")
    }

    async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await
            .unwrap_or_else(|e| panic!("navigating to {url}: {e}"));
    }

    /// Runs `body` as a function body in the page and returns what it returns.
    async fn run(&self, body: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": body, "args": [] })),
        )
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{body}"))
    }

    /// Polls `body` until it returns something other than null/false, or panics naming
    /// `what` after the deadline.
    async fn wait_for(&self, what: &str, body: &str) -> Value {
        self.wait_for_within(what, body, DEADLINE).await
    }

    async fn wait_for_within(&self, what: &str, body: &str, deadline: Duration) -> Value {
        let started = Instant::now();
        loop {
            let v = self.run(body).await;
            if !(v.is_null() || v == false) {
                return v;
            }
            if started.elapsed() > deadline {
                let debug = self
                    .run(
                        "return {url: location.href, slots: window.__slotStates && __slotStates(), \
                         errors: window.__errors, violations: window.__violations}",
                    )
                    .await;
                panic!("timed out after {deadline:?} waiting for {what}; page: {debug}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until every slot on the page has settled (ready, empty or error) and returns
    /// `{slot: state}`.
    async fn slots_settled(&self) -> HashMap<String, String> {
        let v = self
            .wait_for(
                "every slot to settle",
                "const s = __slotStates(); \
                 return Object.values(s).every(x => ['ready','empty','error'].includes(x)) && Object.keys(s).length ? s : null",
            )
            .await;
        serde_json::from_value(v).unwrap()
    }

    /// The element id of the first match of `inner` inside the shadow root of `host`.
    async fn shadow_element(&self, host: &str, inner: &str) -> String {
        let host_el = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": host})),
            )
            .await
            .unwrap_or_else(|e| panic!("finding {host}: {e}"));
        let host_id = element_id(&host_el);
        let root = self
            .command(reqwest::Method::GET, &format!("/element/{host_id}/shadow"), None)
            .await
            .unwrap_or_else(|e| panic!("{host} has no open shadow root: {e}"));
        let root_id = root["shadow-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap()
            .to_string();
        let el = self
            .command(
                reqwest::Method::POST,
                &format!("/shadow/{root_id}/element"),
                Some(json!({"using": "css selector", "value": inner})),
            )
            .await
            .unwrap_or_else(|e| panic!("finding {inner} in the shadow root of {host}: {e}"));
        element_id(&el)
    }

    /// The element id of the first match of `css` on the page.
    async fn find(&self, css: &str) -> String {
        let el = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await
            .unwrap_or_else(|e| panic!("finding {css}: {e}"));
        element_id(&el)
    }

    /// Types `text` into an element, key by key, as a person would.
    async fn type_text(&self, element: &str, text: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await
        .unwrap_or_else(|e| panic!("typing {text:?}: {e}"));
    }

    /// A real click (scrolled into view, hit-tested) on an element.
    async fn click(&self, element: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await
        .unwrap_or_else(|e| panic!("clicking: {e}"));
    }

    async fn press_tab(&self) {
        let tab = "\u{E004}";
        self.command(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": tab}, {"type": "keyUp", "value": tab}
            ]}]})),
        )
        .await
        .unwrap_or_else(|e| panic!("pressing Tab: {e}"));
    }

    /// Ends the session now, while the servers still answer Chromium's last requests.
    async fn quit(mut self) {
        let _ = self.command(reqwest::Method::DELETE, "", None).await;
        self.session.clear();
    }
}

impl Drop for Browser {
    /// On a panic the session is ended with a blocking request (no runtime here), so that
    /// no Chromium outlives the test.
    fn drop(&mut self) {
        if self.session.is_empty() {
            return;
        }
        let addr: SocketAddr = self.driver.base.trim_start_matches("http://").parse().unwrap();
        if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                s,
                "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session
            );
            let _ = s.read_to_end(&mut Vec::new());
        }
    }
}

fn element_id(v: &Value) -> String {
    v["element-6066-11e4-a52e-4f735466cecf"]
        .as_str()
        .unwrap_or_else(|| panic!("not an element: {v}"))
        .to_string()
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Helpers the tests' scripts use, installed in each page through WebDriver (which the
/// page's CSP does not govern): slot states, a slot's host and shadow root, the fragments
/// requests made, and the events the widget sent by beacon (batches flattened).
const PAGE_HELPERS_JS: &str = r#"
const slots = () => [...document.querySelectorAll('[data-laris-slot]')];
window.__slotStates = () =>
  Object.fromEntries(slots().map(e => [e.dataset.larisSlot, e.dataset.larisState || 'none']));
window.__host = name => document.querySelector(`[data-laris-slot=${name}]`);
window.__shadow = name => __host(name).shadowRoot;
window.__fragmentRequests = () =>
  performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/fragments'));
window.__sent = type => (window.__beacons || [])
  .filter(c => c.body)
  .flatMap(c => { const b = JSON.parse(c.body); return b.events || [b]; })
  .filter(e => e.type === type);
"#;

/// Navigates and installs the page helpers the waits use.
async fn open(browser: &Browser, url: &str) {
    browser.goto(url).await;
    browser.run(PAGE_HELPERS_JS).await;
}

/// What a slot shows: `{state, html, items, minHeight}`, html null without a shadow root.
async fn slot(browser: &Browser, name: &str) -> Value {
    browser
        .run(&format!(
            "const el = __host('{name}'), sr = el.shadowRoot; \
             return {{state: el.dataset.larisState || null, html: sr ? sr.innerHTML : null, \
                      items: sr ? [...sr.querySelectorAll('[data-laris-item]')].map(a => a.dataset.larisItem) : [], \
                      minHeight: el.style.minHeight}}"
        ))
        .await
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Everything a test needs: laris, the shop's own site (another origin), a browser.
struct Rig {
    browser: Browser,
    pages: PageServer,
    laris: Laris,
}

impl Rig {
    /// The demo shop as recorded.
    async fn start() -> Rig {
        Rig::start_with(&repo().join("demo/lengkuas/recording")).await
    }

    async fn start_with(recording: &Path) -> Rig {
        let pages = PageServer::start().await;
        let laris = Laris::start(&pages.origin, recording).await;
        let browser = Browser::start().await;
        Rig {
            browser,
            pages,
            laris,
        }
    }

    /// The demo shop with a 50% holdout experiment whose control arm sees `control`.
    async fn start_experiment(control: &str) -> Rig {
        let pages = PageServer::start().await;
        let config = format!(
            "{}[shops.experiment]\nholdout_pct = {EXPERIMENT_PCT}\nname = \"t\"\ncontrol = \"{control}\"\n",
            config_text(&pages.origin, &repo().join("demo/lengkuas/recording"))
        );
        let laris = Laris::start_config(config).await;
        let browser = Browser::start().await;
        Rig {
            browser,
            pages,
            laris,
        }
    }

    /// The shop page of this rig embedding laris's own /widget.js, at `path`.
    fn shop_page_at(&self, path: &str, product: &str, extra_head: &str, extra_body: &str) -> String {
        let page = shop_page(
            &self.laris.url("/widget.js"),
            "lengkuas",
            product,
            extra_head,
            extra_body,
        );
        self.pages.route(path, html(page));
        self.pages.url(path)
    }

    async fn stop(self) {
        self.browser.quit().await;
    }
}

// ---- the tests --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_renders_all_four_slots_into_open_shadow_roots_with_the_right_products_and_prices() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    open(b, &rig.laris.url("/demo")).await;
    let states = b.slots_settled().await;
    for s in SLOTS {
        assert_eq!(states[s], "ready", "slot {s}: {states:?}");
    }
    let upsell = slot(b, "upsell").await;
    let bundle = slot(b, "bundle").await;
    let similar = slot(b, "similar").await;
    let loyalty = slot(b, "loyalty").await;
    assert!(
        str_list(&upsell["items"]).contains(&"SRD-250P".to_string()),
        "upsell: {upsell}"
    );
    assert!(
        str_list(&bundle["items"]).contains(&"TPG-100".to_string()),
        "bundle: {bundle}"
    );
    assert!(!str_list(&similar["items"]).is_empty(), "similar: {similar}");
    assert!(
        loyalty["html"].as_str().unwrap().contains("laris-loyalty"),
        "loyalty: {loyalty}"
    );
    for s in [&upsell, &bundle, &similar, &loyalty] {
        assert_eq!(
            s["minHeight"], "",
            "reserved space is released after rendering: {s}"
        );
    }

    // Each shown price is the product's price as the product API formats it.
    let http = reqwest::Client::new();
    let shown: Value = b
        .run(
            "return [...document.querySelectorAll('[data-laris-slot]')].flatMap(el => \
               [...el.shadowRoot.querySelectorAll('a[data-laris-item]')].map(a => \
                 [a.dataset.larisItem, (a.querySelector('.laris-price') || a).textContent]))",
        )
        .await;
    let shown = shown.as_array().unwrap();
    assert!(shown.len() >= 3, "{shown:?}");
    for pair in shown {
        let (id, text) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        let product: Value = http
            .get(rig.laris.url(&format!("/v1/shops/lengkuas/products/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let price = product["price_text"].as_str().unwrap();
        assert!(price.starts_with("Rp"), "{product}");
        assert!(text.contains(price), "{id} shows {text:?}, its price is {price}");
    }
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_strict_csp_on_another_origin_the_widget_renders_from_one_request_without_violations() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    let csp = format!(
        "default-src 'self'; script-src 'self' {l}; connect-src {l}; style-src 'self'; img-src * data:",
        l = rig.laris.base
    );
    let page = shop_page(&rig.laris.url("/widget.js"), "lengkuas", "SRD-100", "", "");
    rig.pages.route(
        "/strict",
        Reply::Ok {
            content_type: "text/html; charset=utf-8",
            headers: vec![("Content-Security-Policy".into(), csp)],
            body: page,
        },
    );
    b.goto(&rig.pages.url("/strict")).await;
    // Defined by a script run through WebDriver, which the page's CSP does not govern.
    b.run(PAGE_HELPERS_JS).await;
    let states = b.slots_settled().await;
    for s in SLOTS {
        assert_eq!(states[s], "ready", "slot {s}: {states:?}");
    }
    assert!(str_list(&slot(b, "upsell").await["items"]).contains(&"SRD-250P".to_string()));
    let report: Value = b.run("return {violations: __violations, errors: __errors}").await;
    assert_eq!(report, json!({"violations": [], "errors": []}));
    let styled: Value = b
        .run(
            "const sr = __shadow('similar'); \
             return getComputedStyle(sr.querySelector('.laris-list')).display",
        )
        .await;
    assert_eq!(styled, "grid", "the widget's own styles apply under the CSP");
    let requests: Value = b.run("return __fragmentRequests()").await;
    assert_eq!(
        requests.as_array().unwrap().len(),
        1,
        "one fragments request for four slots: {requests}"
    );

    // The watcher does see violations: a style attribute is one under this policy.
    b.run("const d = document.createElement('div'); d.setAttribute('style', 'color: red'); document.body.append(d)")
        .await;
    b.wait_for(
        "the control violation to be reported",
        "return __violations.length > 0",
    )
    .await;
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_page_css_does_not_reach_into_the_widget_and_widget_css_does_not_leak_out() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    rig.pages.route(
        "/host.css",
        css(
            "a { color: rgb(255, 0, 0); } .laris-item { display: none; } img { display: none; }\n\
             body { color: rgb(255, 0, 0); letter-spacing: 7px; text-align: right; }\n\
             .probe { padding: 0; margin: 0; border: 0; background: transparent; font: 16px serif; }",
        ),
    );
    // Host elements wearing the class names the widget styles, beside plain twins.
    let probes = "<div id=probes>\
        <ul class=\"laris-list probe\"><li class=probe>x</li></ul><ul class=probe><li class=probe>x</li></ul>\
        <a class=\"laris-link probe\" href=#>x</a><a class=probe href=#>x</a>\
        <button class=\"laris-add probe\">x</button><button class=probe>x</button>\
        <p class=\"laris-title probe\">x</p><p class=probe>x</p>\
        <span class=\"laris-price probe\">x</span><span class=probe>x</span>\
        <section class=\"laris probe\">x</section><section class=probe>x</section></div>";
    let url = rig.shop_page_at(
        "/styled",
        "SRD-100",
        "<link rel=\"stylesheet\" href=\"/host.css\">",
        probes,
    );
    open(b, &url).await;
    let states = b.slots_settled().await;
    assert_eq!(states["similar"], "ready", "{states:?}");

    let inside: Value = b
        .run(
            "const sr = __shadow('similar'); \
             const a = sr.querySelector('a[data-laris-item]'), item = sr.querySelector('.laris-item'), img = sr.querySelector('img'); \
             const cs = getComputedStyle(a); \
             return {linkColor: cs.color, letterSpacing: cs.letterSpacing, textAlign: cs.textAlign, \
                     itemDisplay: getComputedStyle(item).display, itemHeight: item.getBoundingClientRect().height, \
                     imgDisplay: img ? getComputedStyle(img).display : 'no image'}",
        )
        .await;
    assert_ne!(inside["linkColor"], "rgb(255, 0, 0)", "{inside}");
    assert_eq!(
        inside["letterSpacing"], "normal",
        "inherited page text styles stop at the slot: {inside}"
    );
    assert_ne!(inside["textAlign"], "right", "{inside}");
    assert_ne!(inside["itemDisplay"], "none", "{inside}");
    assert!(inside["itemHeight"].as_f64().unwrap() > 20.0, "{inside}");
    assert_ne!(inside["imgDisplay"], "none", "{inside}");

    let outside: Value = b
        .run(
            "const props = ['display','paddingTop','paddingLeft','marginTop','borderTopWidth','backgroundColor', \
                            'color','fontWeight','fontSize','listStyleType','gridTemplateColumns','textDecorationLine','borderRadius']; \
             const els = [...document.querySelectorAll('#probes .probe')].filter(e => e.parentElement.id === 'probes'); \
             const diffs = []; \
             for (let i = 0; i < els.length; i += 2) { \
               const a = getComputedStyle(els[i]), b = getComputedStyle(els[i + 1]); \
               for (const p of props) if (a[p] !== b[p]) diffs.push(els[i].className + ' ' + p + ': ' + a[p] + ' vs ' + b[p]); \
             } \
             return {pairs: els.length / 2, diffs}",
        )
        .await;
    assert_eq!(outside["pairs"], 6, "{outside}");
    assert_eq!(
        outside["diffs"],
        json!([]),
        "widget CSS leaked onto the host page"
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_server_leaves_the_slots_empty_releases_their_space_and_throws_nothing() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    let widget = reqwest::get(rig.laris.url("/widget.js"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let fragments = "/v1/shops/lengkuas/fragments";
    // A copy of the widget served by the page server under /{case}/, so that its
    // fragments request goes to /{case}/v1/… of the page server, which fails as told.
    let failures: Vec<(&str, Reply)> = vec![
        (
            "status-500",
            Reply::Status(500, "{\"error\":\"internal error\"}".into()),
        ),
        (
            "not-json",
            Reply::Ok {
                content_type: "application/json",
                headers: Vec::new(),
                body: "<html>proxy error</html>".into(),
            },
        ),
        (
            "wrong-shape",
            Reply::Ok {
                content_type: "application/json",
                headers: Vec::new(),
                body: "{\"fragments\": {\"similar\": 42, \"upsell\": null, \"bundle\": [\"<b>x</b>\"]}}"
                    .into(),
            },
        ),
        (
            "no-fragments",
            Reply::Ok {
                content_type: "application/json",
                headers: Vec::new(),
                body: "[]".into(),
            },
        ),
        ("hangup", Reply::Hangup),
        ("silence", Reply::Silence),
    ];
    let mut cases: Vec<(String, String)> = Vec::new();
    for (name, reply) in failures {
        rig.pages.route(&format!("/{name}/widget.js"), script(&widget));
        rig.pages.route(&format!("/{name}{fragments}"), reply);
        let page = shop_page(&format!("/{name}/widget.js"), "lengkuas", "SRD-100", "", "");
        rig.pages.route(&format!("/{name}/page"), html(page));
        cases.push((name.to_string(), rig.pages.url(&format!("/{name}/page"))));
    }
    // The real laris: a shop it does not know, a product the shop does not have.
    let unknown_shop = shop_page(&rig.laris.url("/widget.js"), "no-such-shop", "SRD-100", "", "");
    rig.pages.route("/unknown-shop", html(unknown_shop));
    cases.push(("unknown shop".into(), rig.pages.url("/unknown-shop")));
    let unknown_product = shop_page(&rig.laris.url("/widget.js"), "lengkuas", "NOPE-999", "", "");
    rig.pages.route("/unknown-product", html(unknown_product));
    cases.push(("unknown product".into(), rig.pages.url("/unknown-product")));

    for (name, url) in cases {
        open(b, &url).await;
        b.wait_for("the widget to start", "return window.Laris ? true : null")
            .await;
        if name == "silence" {
            b.wait_for(
                "every slot to hold its space while loading",
                "const s = [...document.querySelectorAll('[data-laris-slot]')]; \
                 return s.every(e => e.dataset.larisState === 'loading' && parseInt(e.style.minHeight) > 0)",
            )
            .await;
        }
        let started = Instant::now();
        let states = b.slots_settled().await;
        for s in SLOTS {
            assert!(
                states[s] == "error" || states[s] == "empty",
                "{name}: slot {s} is {:?}",
                states[s]
            );
            let shown = slot(b, s).await;
            assert!(
                shown["html"].is_null() || shown["html"] == "",
                "{name}: slot {s} shows {shown}"
            );
            assert_eq!(shown["minHeight"], "", "{name}: slot {s} still holds its space");
        }
        let report: Value = b.run("return {errors: __errors, violations: __violations}").await;
        assert_eq!(report, json!({"errors": [], "violations": []}), "{name}");
        if name == "silence" {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "a silent server is given up on within the widget's timeout"
            );
        }
    }
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicking_an_item_sends_a_click_beacon_after_the_impression_and_laris_accepts_both() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    let url = rig.shop_page_at("/click", "SRD-100", "", "");
    open(b, &url).await;
    assert_eq!(b.slots_settled().await["similar"], "ready");
    b.wait_for(
        "an impression beacon of the similar slot",
        "return __sent('impression').some(e => e.slot === 'similar')",
    )
    .await;

    let link = b
        .shadow_element("[data-laris-slot=similar]", "a[data-laris-item]")
        .await;
    let item: Value = b
        .run("return __shadow('similar').querySelector('a[data-laris-item]').dataset.larisItem")
        .await;
    b.click(&link).await;
    let click = b
        .wait_for(
            "a click beacon",
            "return __beacons.find(c => c.body && JSON.parse(c.body).type === 'click') || null",
        )
        .await;
    let mut body: Value = serde_json::from_str(click["body"].as_str().unwrap()).unwrap();
    // The widget's random visitor id rides along (the shop runs no experiment: laris
    // keeps none of it).
    let visitor = body.as_object_mut().unwrap().remove("visitor").unwrap();
    assert!(
        visitor
            .as_str()
            .is_some_and(|v| v.len() == 32 && v.bytes().all(|c| c.is_ascii_hexdigit())),
        "{visitor}"
    );
    assert_eq!(
        body,
        json!({"type": "click", "slot": "similar", "product": "SRD-100", "item": item})
    );
    assert_eq!(click["url"], rig.laris.url("/v1/shops/lengkuas/events"));
    assert_eq!(click["type"], "text/plain");
    assert_eq!(
        b.run("return location.href").await,
        url,
        "the watcher kept the page"
    );

    // Every beacon the widget sent is one laris accepts, sent the way sendBeacon sends it.
    let beacons: Value = b.run("return __beacons").await;
    let http = reqwest::Client::new();
    for beacon in beacons.as_array().unwrap() {
        let resp = http
            .post(beacon["url"].as_str().unwrap())
            .header("content-type", "text/plain;charset=UTF-8")
            .header("origin", &rig.pages.origin)
            .body(beacon["body"].as_str().unwrap().to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status();
        assert_eq!(
            status,
            202,
            "laris refused {beacon}: {}",
            resp.text().await.unwrap()
        );
    }
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundle_button_asks_the_page_to_add_the_bundle_and_sends_an_add_to_cart_beacon() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    let url = rig.shop_page_at("/bundle", "SRD-100", "", "");
    open(b, &url).await;
    assert_eq!(b.slots_settled().await["bundle"], "ready");
    let button = b
        .shadow_element("[data-laris-slot=bundle]", "button[data-laris-add]")
        .await;
    let ids: Value = b
        .run("return __shadow('bundle').querySelector('button[data-laris-add]').dataset.larisAdd.split(',')")
        .await;
    let quantities: Value = b
        .run("return __shadow('bundle').querySelector('button[data-laris-add]').dataset.larisQuantities.split(',').map(Number)")
        .await;
    assert_eq!(
        quantities.as_array().map(Vec::len),
        ids.as_array().map(Vec::len),
        "one quantity per product"
    );
    b.click(&button).await;
    let cart = b
        .wait_for(
            "a laris:add-to-cart event",
            "return __cart.length ? __cart : null",
        )
        .await;
    assert_eq!(
        cart,
        json!([{"products": ids, "quantities": quantities, "slot": "bundle", "product": "SRD-100"}])
    );
    let beacon = b
        .wait_for(
            "an add-to-cart beacon",
            "const c = __beacons.find(c => c.body && c.body.includes('add_to_cart')); return c ? JSON.parse(c.body) : null",
        )
        .await;
    let items: Vec<Value> = beacon["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(
                (&e["type"], &e["slot"], &e["product"]),
                (&json!("add_to_cart"), &json!("bundle"), &json!("SRD-100"))
            );
            e["item"].clone()
        })
        .collect();
    assert_eq!(Value::from(items), ids);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widgets_links_and_bundle_button_are_reachable_with_the_tab_key() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    let url = rig.shop_page_at("/keyboard", "SRD-100", "", "");
    open(b, &url).await;
    let states = b.slots_settled().await;
    assert_eq!(
        (states["similar"].as_str(), states["bundle"].as_str()),
        ("ready", "ready")
    );
    let mut reached = Vec::new();
    for _ in 0..40 {
        b.press_tab().await;
        let focus: Value = b
            .run(
                "const host = document.activeElement; const inner = host && host.shadowRoot && host.shadowRoot.activeElement; \
                 return inner ? host.dataset.larisSlot + ' ' + inner.tagName + '.' + inner.className : null",
            )
            .await;
        if let Some(f) = focus.as_str() {
            reached.push(f.to_string());
        }
    }
    assert!(reached.iter().any(|f| f == "similar A.laris-link"), "{reached:?}");
    assert!(
        reached.iter().any(|f| f == "bundle BUTTON.laris-add"),
        "{reached:?}"
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_button_is_reached_with_tab_and_named_for_screen_readers() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    let chat = "<div data-laris-slot=\"chat\" data-product=\"SRD-100\"></div>";
    let url = rig.shop_page_at("/chat", "SRD-100", "", chat);
    open(b, &url).await;
    let states = b.slots_settled().await;
    assert_eq!(states["chat"], "ready", "{states:?}");
    // It came with the other slots in the page's one request, naming this page.
    let requests = str_list(&b.run("return __fragmentRequests()").await);
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0].contains("chat") && requests[0].contains("page=http"),
        "{requests:?}"
    );
    let mut reached = false;
    for _ in 0..40 {
        b.press_tab().await;
        let focus: Value = b
            .run(
                "const host = document.activeElement; const inner = host && host.shadowRoot && host.shadowRoot.activeElement; \
                 return inner ? host.dataset.larisSlot + ' ' + inner.tagName + ' ' + inner.getAttribute('href') : null",
            )
            .await;
        if focus
            .as_str()
            .is_some_and(|f| f.starts_with("chat A https://wa.me/62812000000?text="))
        {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab never focused the chat link");
    // The accessible name, as the browser computes it for assistive technology.
    let link = b
        .shadow_element("[data-laris-slot=chat]", "a.laris-chat-link")
        .await;
    let name = b
        .command(
            reqwest::Method::GET,
            &format!("/element/{link}/computedlabel"),
            None,
        )
        .await
        .expect("the computed label");
    assert!(
        name.as_str()
            .unwrap_or_default()
            .contains("Tanya penjual via WhatsApp"),
        "accessible name: {name}"
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_customer_sees_their_own_list_and_an_anonymous_visitor_sees_none() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    let shop = laris::domain::ShopId::parse("lengkuas").unwrap();
    let me = rig
        .laris
        .store
        .customers(&shop)
        .unwrap()
        .into_iter()
        .max_by_key(|c| (c.order_count, c.id.clone()))
        .unwrap();
    let exp = chrono::Utc::now().timestamp() + 3600;
    let token = laris::loyalty::token::make(&me.id.0, b"browser-test-customer-secret-0123456789", exp);
    let own = format!(
        "<div data-laris-slot=\"for_you\" data-product=\"SRD-100\" data-customer-token=\"{token}\"></div>"
    );
    let url = rig.shop_page_at("/mine", "SRD-100", "", &own);
    open(b, &url).await;
    b.slots_settled().await;
    let mine = slot(b, "for_you").await;
    assert_eq!(mine["state"], "ready", "{mine}");
    let items = str_list(&mine["items"]);
    assert!(
        !items.is_empty() && !items.contains(&"SRD-100".to_string()),
        "{mine}"
    );
    let html = mine["html"].as_str().unwrap();
    assert!(html.contains("Untuk Anda"), "{html}");
    if let Some(name) = &me.name {
        assert!(!html.contains(name.as_str()), "no personal data in the fragment");
    }
    // The same slot without a token stays empty and gives its space back.
    let anon = "<div data-laris-slot=\"for_you\" data-product=\"SRD-100\"></div>";
    let url = rig.shop_page_at("/anon", "SRD-100", "", anon);
    open(b, &url).await;
    b.slots_settled().await;
    let none = slot(b, "for_you").await;
    assert_eq!(none["state"], "empty", "{none}");
    assert!(str_list(&none["items"]).is_empty());
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_laris_is_the_only_global_the_widget_adds() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    let url = rig.shop_page_at("/globals", "SRD-100", "", "");
    open(b, &url).await;
    b.slots_settled().await;
    let added: Value = b
        // `__*` are the watcher's and this file's; `ret_nodes` is leaked by chromedriver's own
        // execute-script wrapper.
        .run(
            "return Object.keys(window).filter(k => !__keysBefore.includes(k) && !k.startsWith('__') \
             && k !== 'ret_nodes')",
        )
        .await;
    assert_eq!(added, json!(["Laris"]));
    let api: Value = b
        .run("return {keys: Object.keys(Laris).sort(), rupiah: [Laris.formatRupiah(20000), Laris.formatRupiah(1250000), Laris.formatRupiah(0), Laris.formatRupiah(-1500)], version: typeof Laris.version}")
        .await;
    assert_eq!(
        api,
        json!({"keys": ["formatRupiah", "purchase", "refresh", "version"], "rupiah": ["Rp20.000", "Rp1.250.000", "Rp0", "-Rp1.500"], "version": "string"})
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn laris_refresh_reloads_the_slots_after_a_single_page_navigation() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    let url = rig.shop_page_at("/spa", "SRD-100", "", "");
    open(b, &url).await;
    assert_eq!(b.slots_settled().await["similar"], "ready");
    assert!(slot(b, "similar").await["html"]
        .as_str()
        .unwrap()
        .contains("laris_from=SRD-100"));
    b.run(
        "document.querySelectorAll('[data-laris-slot]').forEach(e => e.dataset.product = 'TPG-100'); Laris.refresh();",
    )
    .await;
    b.wait_for(
        "the similar slot to show TPG-100's neighbours",
        "const sr = __shadow('similar'); \
         return sr.innerHTML.includes('laris_from=TPG-100') && __host('similar').dataset.larisState === 'ready'",
    )
    .await;
    let requests: Value = b.run("return __fragmentRequests()").await;
    assert_eq!(
        requests.as_array().unwrap().len(),
        2,
        "one request per scan: {requests}"
    );
    let report: Value = b.run("return __errors").await;
    assert_eq!(report, json!([]));
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_far_below_the_fold_load_only_when_scrolled_near_and_count_one_impression_once_seen() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    rig.pages.route("/long.css", css(".spacer { height: 4000px; }"));
    let url = rig.shop_page_at(
        "/long",
        "SRD-100",
        "<link rel=\"stylesheet\" href=\"/long.css\">",
        "<div class=spacer></div>",
    );
    open(b, &url).await;
    b.wait_for("the widget to start", "return window.Laris ? true : null")
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before: Value = b
        .run(
            "return {requests: __fragmentRequests().length, states: __slotStates(), beacons: __beacons.length}",
        )
        .await;
    let loading =
        json!({"similar": "loading", "upsell": "loading", "bundle": "loading", "loyalty": "loading"});
    assert_eq!(
        before,
        json!({"requests": 0, "states": loading, "beacons": 0}),
        "nothing is fetched for slots 4000px below the viewport"
    );
    b.run("__host('similar').scrollIntoView()").await;
    let states = b.slots_settled().await;
    assert_eq!(states["similar"], "ready", "{states:?}");
    b.wait_for(
        "an impression of the similar slot",
        "return __sent('impression').some(e => e.slot === 'similar')",
    )
    .await;
    // Give a duplicate the time to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let impressions: Value = b.run("return __sent('impression')").await;
    let similar = impressions
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["slot"] == "similar")
        .count();
    assert_eq!(similar, 1, "{impressions}");
    let requests: Value = b.run("return __fragmentRequests().length").await;
    assert_eq!(requests, 1, "the four slots still share one request");
    rig.stop().await;
}

/// The demo recording with every "Tepung Lengkuas 100 g" (TPG-100, in SRD-100's bundle)
/// renamed to `name`, in a temporary directory.
fn demo_recording_renaming_tepung(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let quoted = serde_json::to_string(name).unwrap();
    for entry in std::fs::read_dir(repo().join("demo/lengkuas/recording")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let renamed = text.replace("\"Tepung Lengkuas 100 g\"", &quoted);
        std::fs::write(dir.path().join(path.file_name().unwrap()), renamed).unwrap();
    }
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_named_like_markup_shows_as_text_and_creates_no_element() {
    let payload = "<img src=x onerror=alert(1)>";
    let recording = demo_recording_renaming_tepung(payload);
    let rig = Rig::start_with(recording.path()).await;
    let b = &rig.browser;
    let url = rig.shop_page_at("/markup", "SRD-100", "", "");
    open(b, &url).await;
    let states = b.slots_settled().await;
    assert_eq!(states["bundle"], "ready", "{states:?}");
    let seen: Value = b
        .run(
            "const roots = Object.keys(__slotStates()).map(__shadow).filter(Boolean); \
             return {names: roots.flatMap(r => [...r.querySelectorAll('.laris-name')].map(n => n.textContent)), \
                     injected: roots.reduce((n, r) => n + r.querySelectorAll('img[src=x], img:not([src])').length, 0), \
                     errors: __errors}",
        )
        .await;
    assert!(str_list(&seen["names"]).iter().any(|n| n == payload), "{seen}");
    assert_eq!(seen["injected"], 0, "{seen}");
    assert_eq!(seen["errors"], json!([]), "{seen}");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_types_feedback_waits_sends_it_and_is_thanked_and_laris_keeps_it() {
    let rig = Rig::start().await;
    let b = &rig.browser;
    let url = rig.shop_page_at(
        "/feedback",
        "SRD-100",
        "",
        "<div data-laris-slot=\"feedback\"></div>",
    );
    open(b, &url).await;
    let states = b.slots_settled().await;
    assert_eq!(states["feedback"], "ready", "{states:?}");
    let requests: Value = b.run("return __fragmentRequests()").await;
    assert_eq!(
        requests.as_array().unwrap().len(),
        1,
        "the feedback slot shares the page's one request: {requests}"
    );
    let shown: Value = b
        .run(
            "const sr = __shadow('feedback'), hp = sr.querySelector('.laris-hp'); \
             return {labels: [...sr.querySelectorAll('label')].filter(l => !hp.contains(l)).map(l => l.textContent), \
                     honeypotLeft: hp.getBoundingClientRect().right, minHeight: __host('feedback').style.minHeight}",
        )
        .await;
    assert_eq!(shown["labels"], json!(["Pesan", "Kontak (opsional)"]), "{shown}");
    assert!(
        shown["honeypotLeft"].as_f64().unwrap() < 0.0,
        "the honeypot is off-screen: {shown}"
    );
    assert_eq!(shown["minHeight"], "", "reserved space released: {shown}");

    let message = "Serundengnya enak, tapi kemasannya susah dibuka.";
    let textarea = b
        .shadow_element("[data-laris-slot=feedback]", "textarea[name=message]")
        .await;
    b.type_text(&textarea, message).await;
    // A person takes a while; the form refuses anything sent within 3 s of being served.
    b.wait_for(
        "the form to be more than 3 s old",
        "const t = __shadow('feedback').querySelector('[name=form_token]').value; \
         return Date.now() / 1000 > Number(t.split('.')[0]) + 3.5",
    )
    .await;
    let send = b
        .shadow_element("[data-laris-slot=feedback]", "button[type=submit]")
        .await;
    b.click(&send).await;
    let said = b
        .wait_for(
            "the thank-you in the live region",
            "const t = __shadow('feedback').querySelector('[aria-live]').textContent; return t || null",
        )
        .await;
    assert_eq!(said, "Terima kasih! Pesan Anda sudah kami terima.");
    assert_eq!(b.run("return location.href").await, url, "no navigation");
    let after: Value = b
        .run(
            "return {left: __shadow('feedback').querySelector('textarea').value, errors: __errors, \
                     violations: __violations, feedbackBeacons: __beacons.filter(c => (c.body || '').includes('feedback')).length}",
        )
        .await;
    assert_eq!(
        after,
        json!({"left": "", "errors": [], "violations": [], "feedbackBeacons": 0}),
        "the form is cleared, nothing thrown, no events for the feedback slot"
    );

    let shop = laris::domain::ShopId::parse("lengkuas").unwrap();
    let kept = rig.laris.store.feedback(&shop).unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].message, message);
    assert_eq!(kept[0].page.as_deref(), Some(url.as_str()));
    assert_eq!(kept[0].status, laris::records::FeedbackStatus::New);
    rig.stop().await;
}

// ---- the admin dashboard ------------------------------------------------------------------

const ADMIN_PW: &str = "kopi-susu-gula-aren";

/// The demo shop (widget endpoints from any origin) with user `admin`'s password, hashed with
/// tiny argon2 parameters so that the debug build signs in quickly.
fn admin_config_text() -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(8, 1, 1, None).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let hash = argon
        .hash_password(ADMIN_PW.as_bytes(), &salt)
        .unwrap()
        .to_string();
    config_text("*", &repo().join("demo/lengkuas/recording")).replacen(
        "[admin]\n",
        &format!("[admin]\npassword_hash = \"{hash}\"\n"),
        1,
    )
}

/// Paid revenue of October 2026 (WIB) summed straight from the demo recording's order pages.
fn october_revenue_in_the_demo_recording() -> i64 {
    let dir = repo().join("demo/lengkuas/recording");
    let mut by_invoice: HashMap<String, (i64, i64, i64)> = HashMap::new();
    for line in std::fs::read_to_string(dir.join("index.jsonl")).unwrap().lines() {
        let ex: Value = serde_json::from_str(line).unwrap();
        if !ex["url"].as_str().unwrap().contains("/order/list") || ex["status"] != 200 {
            continue;
        }
        let body: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(ex["body"].as_str().unwrap())).unwrap())
                .unwrap();
        for o in body["data"].as_array().unwrap() {
            let total: i64 = o["products"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["price"].as_i64().unwrap() * p["quantity"].as_i64().unwrap())
                .sum();
            let paid = o["payment_date"]
                .as_i64()
                .unwrap_or_else(|| o["create_time"].as_i64().unwrap());
            by_invoice.insert(
                o["invoice_ref_num"].as_str().unwrap().to_string(),
                (o["order_status"].as_i64().unwrap(), paid, total),
            );
        }
    }
    // October 2026 in WIB: from 2026-10-01T00:00+07:00 to 2026-11-01T00:00+07:00.
    let (start, end) = (1_790_787_600, 1_793_466_000);
    by_invoice
        .values()
        .filter(|(status, paid, _)| {
            matches!(status, 220..=549 | 551..=600 | 700..=701) && (start..end).contains(paid)
        })
        .map(|(_, _, total)| total)
        .sum()
}

/// Laris serving the demo shop with user `admin`'s password ([`admin_config_text`]).
async fn admin_laris() -> Laris {
    let settings = Settings::from_toml(&admin_config_text(), Path::new("browser-admin.toml"), &[])
        .expect("the browser admin config is valid");
    let data_dir = tempfile::tempdir().unwrap();
    let app = Application::build(settings, data_dir.path(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("laris builds");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let base = format!("http://{}", app.local_addr());
    let store = app.state().store.clone();
    let service = tokio::spawn(async move {
        let _ = app
            .run_until_stopped(async {
                let _ = rx.await;
            })
            .await;
    });
    Laris {
        base,
        store,
        shutdown: Some(tx),
        service: Some(service),
        _data_dir: data_dir,
    }
}

/// Signs in as `admin` through the sign-in form, as a person would, and waits for the
/// overview.
async fn sign_in(b: &Browser, laris: &Laris) {
    b.goto(&laris.url("/admin/shops/lengkuas")).await;
    b.wait_for(
        "the sign-in page (no session yet)",
        "return location.pathname === '/admin/login' && document.querySelector('#password') ? true : null",
    )
    .await;
    let password = b.find("#password").await;
    b.command(
        reqwest::Method::POST,
        &format!("/element/{password}/value"),
        Some(json!({ "text": ADMIN_PW })),
    )
    .await
    .unwrap();
    let submit = b.find("form.login button[type=submit]").await;
    b.click(&submit).await;
    b.wait_for(
        "the overview after signing in",
        "return location.pathname === '/admin/shops/lengkuas' && document.querySelector('tr[data-bucket]') ? true : null",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_signs_in_sees_octobers_revenue_and_the_charts_and_every_page_fits_a_desktop_and_a_phone() {
    let laris = admin_laris().await;
    let b = Browser::start().await;
    sign_in(&b, &laris).await;

    let revenue = october_revenue_in_the_demo_recording();
    assert!(revenue > 1_000_000, "{revenue}");
    let digits = revenue.to_string();
    let grouped: String = digits
        .chars()
        .enumerate()
        .flat_map(|(i, c)| {
            ((i > 0 && (digits.len() - i).is_multiple_of(3)).then_some('.'))
                .into_iter()
                .chain([c])
        })
        .collect();
    let seen: Value = b
        .run(
            "const row = document.querySelector('tr[data-bucket=\"2026-10\"]'); \
             const charts = [...document.querySelectorAll('.chart svg')]; \
             return {row: row && [...row.cells].map(c => c.textContent), \
                     charts: charts.length, \
                     widths: charts.map(s => s.getBoundingClientRect().width), \
                     lines: charts.map(s => s.querySelectorAll('polyline, path, circle').length), \
                     titles: charts.map(s => s.getAttribute('aria-label'))}",
        )
        .await;
    assert_eq!(seen["row"][3], format!("Rp{grouped}"), "{seen}");
    assert!(seen["charts"].as_u64().unwrap() >= 2, "{seen}");
    for (i, w) in seen["widths"].as_array().unwrap().iter().enumerate() {
        assert!(w.as_f64().unwrap() > 200.0, "chart {i} is laid out: {seen}");
        assert!(
            seen["lines"][i].as_u64().unwrap() > 0,
            "chart {i} draws its series: {seen}"
        );
    }

    let bytes = b.screenshot().await;
    assert!(
        bytes.len() > 1000 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "a PNG"
    );
    let out = repo().join("target/admin-overview.png");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, &bytes).unwrap();
    assert!(std::fs::metadata(&out).unwrap().len() > 0);

    // Every page at a desktop's width and at a phone's (390 px): nothing wider than the
    // window, so the page never scrolls sideways (a wide table scrolls inside itself); a
    // screenshot of each into target/screenshots/.
    let customer = laris
        .store
        .customers(&laris::domain::ShopId::parse("lengkuas").unwrap())
        .unwrap()[0]
        .id
        .0
        .clone();
    let pages = [
        ("overview", String::new()),
        ("products", "/products".to_string()),
        ("product", "/products/SRD-100".to_string()),
        ("customers", "/customers".to_string()),
        ("customer", format!("/customers/{customer}")),
        ("tiers", "/tiers".to_string()),
        ("bundles", "/bundles".to_string()),
        ("performance", "/performance".to_string()),
        ("sync", "/sync".to_string()),
        ("upload", "/upload".to_string()),
        ("feedback", "/feedback".to_string()),
        ("install", "/install".to_string()),
        ("settings", "/settings".to_string()),
    ];
    let shots = repo().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for width in [1280, 390] {
        b.command(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": 900})),
        )
        .await
        .expect("the window resizes");
        for (name, path) in &pages {
            b.goto(&laris.url(&format!("/admin/shops/lengkuas{path}"))).await;
            let seen = b
                .wait_for(
                    &format!("the {name} page"),
                    "return document.readyState === 'complete' && document.querySelector('main h1') \
                     ? {inner: window.innerWidth, scroll: document.documentElement.scrollWidth, \
                        h1: document.querySelector('main h1').textContent, \
                        lang: document.documentElement.lang, \
                        english: ['Overview', 'Products', 'Customers', 'Tiers', 'Bundles', 'Performance', \
                                  'Feedback', 'Sign out', 'Signed in as', 'Download CSV'] \
                          .filter(w => new RegExp('\\\\b' + w + '\\\\b').test(document.body.innerText))} : null",
                )
                .await;
            assert!(
                seen["scroll"].as_f64().unwrap() <= seen["inner"].as_f64().unwrap(),
                "{name} at {width} px scrolls sideways: {seen}"
            );
            // Indonesian by default: no English navigation or labels on any page.
            assert_eq!(seen["lang"], "id", "{name}: {seen}");
            assert_eq!(
                seen["english"],
                json!([]),
                "{name} at {width} px shows English: {seen}"
            );
            let bytes = b.screenshot().await;
            std::fs::write(shots.join(format!("admin-{name}-{width}.png")), &bytes).unwrap();
        }
    }

    // The switch in the header, once: the same page comes back in English, and stays so.
    b.goto(&laris.url("/admin/shops/lengkuas/customers")).await;
    let switch = b.find("a[data-lang-switch=en]").await;
    b.click(&switch).await;
    let seen = b
        .wait_for(
            "the customers page in English",
            "return document.documentElement.lang === 'en' && document.querySelector('nav.pages') \
             ? {path: location.pathname, nav: document.querySelector('nav.pages').innerText, \
                inner: window.innerWidth, scroll: document.documentElement.scrollWidth} : null",
        )
        .await;
    assert_eq!(seen["path"], "/admin/shops/lengkuas/customers", "{seen}");
    let nav = seen["nav"].as_str().unwrap();
    assert!(nav.contains("Customers") && !nav.contains("Pelanggan"), "{seen}");
    assert!(
        seen["scroll"].as_f64().unwrap() <= seen["inner"].as_f64().unwrap(),
        "{seen}"
    );
    let bytes = b.screenshot().await;
    std::fs::write(shots.join("admin-customers-390-en.png"), &bytes).unwrap();
    b.goto(&laris.url("/admin/shops/lengkuas/tiers")).await;
    b.wait_for(
        "the tiers page in English too",
        "return document.documentElement.lang === 'en' && document.querySelector('main h1') ? true : null",
    )
    .await;
    b.quit().await;
    drop(laris);
}

/// A product list as Seller Center exports it, as an XLSX workbook: a
/// title row, the header with required columns marked `*`, one new product.
fn product_list_xlsx(path: &Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let rows: [[&str; 5]; 3] = [
        ["Daftar Produk Lengkuas Nusantara", "", "", "", ""],
        ["Nama Produk*", "Harga (Rp)*", "SKU Name", "Jumlah Stok", "Status"],
        [
            "Kopi Gayo Lengkuas 250 g",
            "Rp85.000",
            "KOPI-GAYO-250",
            "30",
            "Aktif",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(r as u32, c as u16, *cell).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_uploads_an_xlsx_export_on_the_page_sees_the_report_and_finds_the_new_product() {
    let laris = admin_laris().await;
    let files = tempfile::tempdir().unwrap();
    let xlsx = files.path().join("produk-baru.xlsx");
    product_list_xlsx(&xlsx);
    let b = Browser::start().await;
    sign_in(&b, &laris).await;

    b.goto(&laris.url("/admin/shops/lengkuas/upload")).await;
    b.wait_for(
        "the upload page",
        "return document.readyState === 'complete' && document.querySelector('input[type=file]#file') ? true : null",
    )
    .await;
    let input = b.find("#file").await;
    b.type_text(&input, xlsx.to_str().unwrap()).await;
    let submit = b.find("form.upload button[type=submit]").await;
    b.click(&submit).await;
    let seen = b
        .wait_for(
            "the import report after the upload",
            "const counts = document.querySelector('[data-import-counts] tr[data-kind=products]'); \
             return location.search.startsWith('?report=') && counts \
               ? {cells: [...counts.cells].map(c => c.textContent), \
                  source: document.querySelector('[data-import-source]').textContent, \
                  quarantined: document.querySelectorAll('tr[data-quarantined]').length, \
                  listed: document.querySelectorAll('tr[data-import]').length} : null",
        )
        .await;
    // Products (the dashboard speaks Indonesian by default): read 1, new 1, updated 0, unchanged 0.
    assert_eq!(seen["cells"], json!(["Produk", "1", "1", "0", "0"]), "{seen}");
    assert!(
        seen["source"]
            .as_str()
            .unwrap()
            .contains("upload produk-baru.xlsx (products)"),
        "{seen}"
    );
    assert_eq!(seen["quarantined"], 0, "{seen}");
    assert_eq!(seen["listed"], 1, "{seen}");
    let shots = repo().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::write(shots.join("admin-upload-report-1280.png"), b.screenshot().await).unwrap();

    // The products page lists it, and the store holds it as the file says.
    b.goto(&laris.url("/admin/shops/lengkuas/products")).await;
    b.wait_for(
        "the new product on the products page",
        "return document.readyState === 'complete' && document.body.textContent.includes('Kopi Gayo Lengkuas 250 g') ? true : null",
    )
    .await;
    let product = laris
        .store
        .product(
            &laris::domain::ShopId::parse("lengkuas").unwrap(),
            &laris::domain::ProductId::parse("KOPI-GAYO-250").unwrap(),
        )
        .unwrap()
        .expect("the uploaded product is stored");
    assert_eq!(product.price.0, 85_000);
    b.quit().await;
    drop(laris);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_adds_an_offer_on_the_settings_page_and_the_demo_page_shows_it_without_a_restart() {
    const TITLE: &str = "Borong Serundeng: beli 3, gratis Tepung";
    let laris = admin_laris().await;
    // Asked outside the browser: the browser may keep a fragment for its max-age (60 s).
    let before = reqwest::get(laris.url("/v1/shops/lengkuas/fragments/bundle?product=SRD-100"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!before.contains(TITLE), "{before}");
    let b = Browser::start().await;

    sign_in(&b, &laris).await;
    b.goto(&laris.url("/admin/shops/lengkuas/settings")).await;
    b.wait_for(
        "the settings page",
        "return document.querySelector('#add-offer') ? true : null",
    )
    .await;
    for (field, text) in [("title", TITLE), ("buy", "srd-100*3"), ("free", "TPG-100")] {
        let input = b.find(&format!("#add-offer input[name={field}]")).await;
        b.type_text(&input, text).await;
    }
    let add = b.find("#add-offer button[type=submit]").await;
    b.click(&add).await;
    let notice = b
        .wait_for(
            "the settings page after saving",
            "const n = document.querySelector('.notice'); \
             return location.search === '?saved=offers' && n ? n.textContent : null",
        )
        .await;
    assert!(
        notice.as_str().unwrap().contains("Penawaran tetap tersimpan"),
        "{notice}"
    );
    let logged = b
        .run("return [...document.querySelectorAll('tr[data-change]')].map(r => r.textContent)")
        .await;
    assert!(logged[0].as_str().unwrap().contains(TITLE), "{logged}");

    // The same server, no restart: the widget on the demo page shows the new offer's card.
    open(&b, &laris.url("/demo?product=SRD-100")).await;
    b.slots_settled().await;
    let after = slot(&b, "bundle").await;
    let html = after["html"].as_str().unwrap_or("");
    assert!(html.contains(TITLE), "the bundle slot shows the offer: {after}");
    b.quit().await;
    drop(laris);
}

// ---- the holdout experiment ---------------------------------------------------------------

const EXPERIMENT_PCT: u8 = 50;

/// A visitor id as the widget makes them, in `want` under the experiment of
/// [`Rig::start_experiment`] (salt `lengkuas/t`).
fn visitor_in(want: laris::experiment::assign::Arm) -> String {
    (1u128..)
        .map(|i| {
            format!(
                "{:032x}",
                i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
            )
        })
        .find(|v| laris::experiment::assign::arm(v, "lengkuas/t", EXPERIMENT_PCT) == want)
        .unwrap()
}

/// Head scripts that run before the widget: `visitor` written to localStorage (none:
/// nothing written), and, from the first frame, every layout shift and the largest height
/// each slot ever had, sampled each frame.
fn experiment_head(visitor: Option<&str>) -> String {
    let write = visitor
        .map(|v| format!("localStorage.setItem('laris-visitor', '{v}');"))
        .unwrap_or_default();
    format!(
        "<script>{write}\n\
         window.__shifts = [];\n\
         new PerformanceObserver(l => l.getEntries().forEach(e => __shifts.push(e.value)))\
           .observe({{type: 'layout-shift', buffered: true}});\n\
         window.__tallest = {{}};\n\
         (function sample() {{\n\
           document.querySelectorAll('[data-laris-slot]').forEach(e => {{\n\
             const k = e.dataset.larisSlot, h = e.getBoundingClientRect().height;\n\
             __tallest[k] = Math.max(__tallest[k] || 0, h);\n\
           }});\n\
           requestAnimationFrame(sample);\n\
         }})();\n\
         </script>"
    )
}

/// The events laris stored for `visitor`, once at least `n` are there.
async fn stored_for(laris: &Laris, visitor: &str, n: usize) -> Vec<laris::records::Event> {
    let shop = laris::domain::ShopId::parse("lengkuas").unwrap();
    let started = Instant::now();
    loop {
        let found: Vec<_> = laris
            .store
            .events(&shop)
            .unwrap()
            .into_iter()
            .filter(|e| e.visitor.as_deref() == Some(visitor))
            .collect();
        if found.len() >= n {
            return found;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{n} events of {visitor} never arrived: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_visitor_sees_no_recommendation_slots_and_nothing_moves_from_the_first_page_on() {
    use laris::experiment::assign::Arm;
    let rig = Rig::start_experiment("nothing").await;
    let b = &rig.browser;
    let c = visitor_in(Arm::Control);

    // The first page: the widget asks for the arm before it holds space for any slot, so
    // the empty slots never take space and nothing moves, from the very first frame.
    let url = rig.shop_page_at("/first", "SRD-100", &experiment_head(Some(&c)), "");
    open(b, &url).await;
    let states = b.slots_settled().await;
    for s in ["similar", "upsell", "bundle"] {
        assert_eq!(states[s], "empty", "{states:?}");
        let shown = slot(b, s).await;
        assert_eq!(shown["items"], json!([]), "{s}: {shown}");
        assert_eq!(shown["minHeight"], "", "{s}: no space held");
    }
    assert_eq!(
        states["loyalty"], "ready",
        "loyalty is not a recommendation: {states:?}"
    );
    let requests = str_list(&b.run("return __fragmentRequests()").await);
    assert!(
        requests.len() == 1 && requests[0].contains(&format!("visitor={c}")),
        "{requests:?}"
    );
    let first: Value = b
        .run("return {tallest: __tallest, shifts: __shifts, arm: performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/arm?'))}")
        .await;
    for s in ["similar", "upsell", "bundle"] {
        assert_eq!(
            first["tallest"][s], 0,
            "{s} never took space on the first page: {first}"
        );
    }
    assert_eq!(
        first["shifts"],
        json!([]),
        "no layout shift on the first page: {first}"
    );
    let asked = str_list(&first["arm"]);
    assert!(
        asked.len() == 1 && asked[0].contains(&format!("visitor={c}")),
        "the arm asked once: {asked:?}"
    );

    // Every later page: no space is ever reserved for the empty slots and nothing moves.
    let url = rig.shop_page_at("/next", "SRD-100", &experiment_head(None), "");
    open(b, &url).await;
    let states = b.slots_settled().await;
    assert_eq!(states["similar"], "empty", "{states:?}");
    assert_eq!(states["loyalty"], "ready", "{states:?}");
    b.wait_for(
        "a loyalty impression beacon",
        "return __sent('impression').length > 0",
    )
    .await;
    let seen: Value = b
        .run("return {tallest: __tallest, shifts: __shifts, now: Object.fromEntries(['similar','upsell','bundle'].map(k => [k, __host(k).getBoundingClientRect().height])), arm: performance.getEntriesByType('resource').filter(e => e.name.includes('/arm?')).length}")
        .await;
    assert_eq!(seen["arm"], 0, "the arm is asked on the first page only: {seen}");
    for s in ["similar", "upsell", "bundle"] {
        assert_eq!(seen["tallest"][s], 0, "{s} never took space: {seen}");
        assert_eq!(seen["now"][s], 0, "{s}: {seen}");
    }
    assert_eq!(seen["shifts"], json!([]), "no layout shift at all: {seen}");

    // Beacons carry the visitor id; laris stores them with the control arm.
    let beacons: Value = b.run("return __sent('impression')").await;
    assert!(
        beacons.as_array().unwrap().iter().all(|e| e["slot"] == "loyalty"),
        "{beacons}"
    );
    let raw: Value = b
        .run("return __beacons.filter(c => c.body).map(c => c.body)")
        .await;
    let raw = str_list(&raw);
    assert!(
        !raw.is_empty() && raw.iter().all(|body| body.contains(&c)),
        "{raw:?}"
    );
    let stored = stored_for(&rig.laris, &c, 1).await;
    assert!(
        stored.iter().all(|e| e.arm.as_deref() == Some("control")),
        "{stored:?}"
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_treatment_visitor_sees_the_slots_and_data_no_tracking_sends_no_visitor_id() {
    use laris::experiment::assign::Arm;
    let rig = Rig::start_experiment("nothing").await;
    let b = &rig.browser;
    let t = visitor_in(Arm::Treatment);
    let url = rig.shop_page_at("/treated", "SRD-100", &experiment_head(Some(&t)), "");
    open(b, &url).await;
    let states = b.slots_settled().await;
    for s in SLOTS {
        assert_eq!(states[s], "ready", "{states:?}");
    }
    assert!(!str_list(&slot(b, "similar").await["items"]).is_empty());
    let requests = str_list(&b.run("return __fragmentRequests()").await);
    assert!(requests[0].contains(&format!("visitor={t}")), "{requests:?}");
    b.wait_for("an impression beacon", "return __sent('impression').length > 0")
        .await;
    let stored = stored_for(&rig.laris, &t, 1).await;
    assert!(
        stored.iter().all(|e| e.arm.as_deref() == Some("treatment")),
        "{stored:?}"
    );

    // The thank-you page's call: a purchase with the visitor id and, from laris, the arm.
    let before = stored.len();
    b.run("Laris.purchase({order: 'INV-9001', total: 150000, items: ['SRD-100']})")
        .await;
    let stored = stored_for(&rig.laris, &t, before + 1).await;
    let bought = stored
        .iter()
        .find(|e| e.kind == laris::records::EventKind::Purchase)
        .expect("the purchase is stored");
    assert_eq!(bought.order.as_deref(), Some("INV-9001"));
    assert_eq!(bought.total, Some(laris::domain::Rupiah(150_000)));
    assert_eq!(bought.arm.as_deref(), Some("treatment"));

    // data-no-tracking: nothing is made, read or sent, and the visitor sees the usual widget.
    let page = shop_page(
        &rig.laris.url("/widget.js"),
        "lengkuas",
        "SRD-100",
        "<script>localStorage.clear()</script>",
        "",
    )
    .replace(
        "data-shop=\"lengkuas\"",
        "data-shop=\"lengkuas\" data-no-tracking",
    );
    rig.pages.route("/private", html(page));
    open(b, &rig.pages.url("/private")).await;
    let states = b.slots_settled().await;
    for s in SLOTS {
        assert_eq!(states[s], "ready", "{states:?}");
    }
    b.wait_for("an impression beacon", "return __sent('impression').length > 0")
        .await;
    let requests = str_list(&b.run("return __fragmentRequests()").await);
    assert!(
        requests.len() == 1 && !requests[0].contains("visitor="),
        "{requests:?}"
    );
    let raw: Value = b
        .run("return __beacons.filter(c => c.body).map(c => c.body)")
        .await;
    let raw = str_list(&raw);
    assert!(
        !raw.is_empty() && raw.iter().all(|body| !body.contains("visitor")),
        "{raw:?}"
    );
    assert_eq!(b.run("return localStorage.length").await, 0, "nothing kept");

    // Global Privacy Control: the same, without any attribute on the script tag.
    let head = "<script>localStorage.clear(); \
                Object.defineProperty(navigator, 'globalPrivacyControl', {value: true});</script>";
    let url = rig.shop_page_at("/gpc", "SRD-100", head, "");
    open(b, &url).await;
    let states = b.slots_settled().await;
    assert_eq!(states["similar"], "ready", "{states:?}");
    b.wait_for("an impression beacon", "return __sent('impression').length > 0")
        .await;
    let requests = str_list(&b.run("return __fragmentRequests()").await);
    assert!(!requests[0].contains("visitor="), "{requests:?}");
    let raw = str_list(
        &b.run("return __beacons.filter(c => c.body).map(c => c.body)")
            .await,
    );
    assert!(raw.iter().all(|body| !body.contains("visitor")), "{raw:?}");
    assert_eq!(b.run("return localStorage.length").await, 0, "nothing kept");
    rig.stop().await;
}
