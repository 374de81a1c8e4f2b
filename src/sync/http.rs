//! Fetching for the sync agent: one HTTP client per source with connect and read timeouts,
//! a size limit on answers, pacing (a delay between requests, and the marketplace's
//! `X-Ratelimit-*` headers), retries with exponential backoff and jitter that honour
//! `429` + `Retry-After`, and the recorder that writes every exchange of a run as a
//! cassette (docs/feeds.md: recordings) without its secrets. Given the service's shutdown signal, a
//! fetcher lets the request under way finish and starts no other, so a run stops after the
//! page it is on.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use rand::Rng;
use reqwest::Method;
use tokio::time::Instant;

use crate::config::source::HttpSettings;
use crate::sync::recording::Exchange;

/// Answer headers worth keeping in a recording (the rest is noise or private).
const RECORDED_HEADERS: &[&str] = &[
    "content-type",
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-full-reset-after",
];

/// Why a request was not made once the service began to stop (ends the source's error).
pub const STOPPING: &str = "the service is stopping; the next run carries on from here";

/// One HTTP answer, its body read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Bytes,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `Retry-After` in seconds (the HTTP-date form is not used by marketplaces).
    pub fn retry_after(&self) -> Option<Duration> {
        self.headers
            .get("retry-after")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
    }

    /// The envelope's `reason` (docs/feeds.md: marketplace API), for error messages.
    pub fn reason(&self) -> String {
        let value: Option<serde_json::Value> = serde_json::from_slice(&self.body).ok();
        let value = value.map(crate::feeds::marketplace::lowercase_keys);
        let header = value.as_ref().and_then(|v| v.get("header"));
        let text = |k: &str| {
            header
                .and_then(|h| h.get(k))
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string()
        };
        match (text("reason"), text("error_code")) {
            (r, c) if r.is_empty() && c.is_empty() => String::new(),
            (r, c) if c.is_empty() => r,
            (r, c) => format!("{r} ({c})"),
        }
    }
}

/// Why one attempt failed, and whether another may succeed.
#[derive(Debug)]
pub enum Failure {
    /// Worth another attempt, after `wait` when the server said how long.
    Retry { error: String, wait: Option<Duration> },
    /// Another attempt would fail the same way.
    Fatal(String),
}

impl Failure {
    /// Judges an answer's status: 2xx passes; 429, 408 and 5xx may pass later; others won't.
    pub fn check(what: &str, answer: Answer) -> Result<Answer, Failure> {
        let status = answer.status;
        if (200..300).contains(&status) {
            return Ok(answer);
        }
        let reason = answer.reason();
        let error = if reason.is_empty() {
            format!("{what}: HTTP {status}")
        } else {
            format!("{what}: HTTP {status}: {reason}")
        };
        match status {
            429 | 408 | 500..=599 => Err(Failure::Retry {
                error,
                wait: answer.retry_after(),
            }),
            _ => Err(Failure::Fatal(error)),
        }
    }
}

/// A request to make: everything but secrets is recorded.
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    /// `Authorization` value; never recorded.
    pub authorization: Option<String>,
    /// What the answer is, for the recording (see [`Exchange::role`]).
    pub role: &'a str,
    /// Whether the body may be recorded (token answers hold secrets: never).
    pub record_body: bool,
    /// More request headers; never recorded (they may carry a token).
    pub headers: Vec<(&'static str, String)>,
    /// A JSON request body, sent as `application/json`; recorded as `{seq}.request.json`
    /// (a search's window is in it; secrets travel in headers and refresh queries, never here).
    pub body: Option<String>,
}

/// Query parameters whose values are secrets: written as `(hidden)` in a recording.
const SECRET_PARAMS: &[&str] = &["app_secret", "client_secret", "refresh_token", "access_token"];

/// `url` with the values of [`SECRET_PARAMS`] hidden, for a recording or a message.
pub fn without_secrets(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    if !parsed
        .query_pairs()
        .any(|(k, _)| SECRET_PARAMS.contains(&k.as_ref()))
    {
        return url.to_string();
    }
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                "(hidden)".to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

/// The HTTP side of one source in one run.
pub struct Fetcher {
    client: reqwest::Client,
    settings: HttpSettings,
    recorder: Option<std::sync::Arc<Recorder>>,
    source: usize,
    /// Earliest moment the next request may start.
    next_slot: tokio::sync::Mutex<Instant>,
    /// Least time between two requests' starts.
    interval: Duration,
    /// The service's shutdown signal: once true, no new request starts.
    stop: Option<tokio::sync::watch::Receiver<bool>>,
}

/// Why a fetch failed for good; the message says what was tried.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot build an HTTP client: {0}")]
    Client(String),
    /// Another attempt would have failed the same way.
    #[error("{0}")]
    Refused(String),
    /// Every attempt failed in a way worth retrying.
    #[error("{error} (gave up after {attempts} attempts)")]
    GaveUp { error: String, attempts: u32 },
    /// The service is stopping: the failed attempt was not repeated.
    #[error("{0} (not tried again: {STOPPING})")]
    Stopped(String),
}

impl Fetcher {
    pub fn new(
        settings: &HttpSettings,
        source: usize,
        interval: Duration,
        recorder: Option<std::sync::Arc<Recorder>>,
    ) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout())
            .timeout(settings.read_timeout())
            .user_agent(settings.user_agent.clone())
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Fetcher {
            client,
            settings: settings.clone(),
            recorder,
            source,
            next_slot: tokio::sync::Mutex::new(Instant::now()),
            interval,
            stop: None,
        })
    }

    /// Starts no request once `stop` turns true (the service is stopping): the one under
    /// way finishes, later ones fail with [`STOPPING`] and without waiting out a backoff.
    pub fn stop_on(mut self, stop: Option<tokio::sync::watch::Receiver<bool>>) -> Fetcher {
        self.stop = stop;
        self
    }

    /// Whether the service is stopping.
    pub fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }

    /// Resolves once the service is stopping; never without a shutdown signal.
    async fn stopped(&self) {
        if let Some(stop) = &self.stop {
            if stop.clone().wait_for(|s| *s).await.is_ok() {
                return;
            }
        }
        std::future::pending::<()>().await
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Waits for this request's turn: the pacing interval, or a rate-limit reset.
    async fn wait_turn(&self) {
        let mut next = self.next_slot.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::select! {
                _ = tokio::time::sleep_until(*next) => {}
                _ = self.stopped() => {}
            }
        }
        *next = Instant::now() + self.interval;
    }

    /// After an answer: when the marketplace says the quota is spent, hold the next request
    /// until it resets, rather than run into a 429.
    async fn note_rate_limit(&self, headers: &BTreeMap<String, String>) {
        let spent = headers
            .get("x-ratelimit-remaining")
            .is_some_and(|v| v.trim() == "0");
        if !spent {
            return;
        }
        let reset = headers
            .get("x-ratelimit-full-reset-after")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(Duration::from_secs(1))
            .min(self.settings.max_backoff());
        let mut next = self.next_slot.lock().await;
        *next = (*next).max(Instant::now() + reset);
    }

    /// One attempt: sends, reads the body within the size limit, records the exchange.
    /// A transport failure (refused, timed out, cut off) is worth a retry.
    pub async fn once(&self, req: &Request<'_>) -> Result<Answer, Failure> {
        self.wait_turn().await;
        if self.stopping() {
            return Err(Failure::Fatal(format!(
                "{} {} not requested: {STOPPING}",
                req.method, req.url
            )));
        }
        let mut builder = self.client.request(req.method.clone(), req.url);
        if let Some(auth) = &req.authorization {
            builder = builder.header(reqwest::header::AUTHORIZATION, auth);
        }
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let transport = |e: reqwest::Error| Failure::Retry {
            error: format!("{} {}: {}", req.method, req.url, describe(&e)),
            wait: None,
        };
        let mut resp = builder.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let headers: BTreeMap<String, String> = resp
            .headers()
            .iter()
            .filter(|(k, _)| RECORDED_HEADERS.contains(&k.as_str()))
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let limit = self.settings.max_response_bytes;
        let too_big = || {
            Failure::Fatal(format!(
                "{} {}: the answer is larger than {limit} bytes (http.max_response_bytes)",
                req.method, req.url
            ))
        };
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(too_big());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        let answer = Answer {
            status,
            headers,
            body: Bytes::from(body),
        };
        self.note_rate_limit(&answer.headers).await;
        if let Some(recorder) = &self.recorder {
            let body = req.record_body.then_some(answer.body.as_ref());
            if let Err(e) = recorder.record(self.source, req, &answer, body) {
                tracing::warn!(error = %e, "cannot write the recording");
            }
        }
        Ok(answer)
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are spent. Waits
    /// between attempts grow exponentially with jitter; a `Retry-After` is honoured (up to
    /// `http.max_backoff_secs`).
    pub async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T, FetchError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let retries = self.settings.retries;
        for n in 0..=retries {
            match attempt().await {
                Ok(value) => return Ok(value),
                Err(Failure::Fatal(error)) => return Err(FetchError::Refused(error)),
                Err(Failure::Retry { error, wait }) => {
                    if n == retries {
                        return Err(FetchError::GaveUp {
                            error,
                            attempts: n + 1,
                        });
                    }
                    let wait = wait
                        .unwrap_or_else(|| self.backoff(n))
                        .min(self.settings.max_backoff());
                    tracing::warn!(%error, wait_ms = wait.as_millis() as u64, attempt = n + 1, "retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = self.stopped() => return Err(FetchError::Stopped(error)),
                    }
                }
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// `backoff_ms · 2^n`, times a jitter factor in [0.5, 1.5).
    fn backoff(&self, n: u32) -> Duration {
        let base = self.settings.backoff_ms.saturating_mul(1u64 << n.min(16));
        let jitter: f64 = rand::thread_rng().gen_range(0.5..1.5);
        Duration::from_millis((base as f64 * jitter) as u64)
    }

    /// A GET with retries, returning the 2xx answer.
    pub async fn get(&self, url: &str, role: &str) -> Result<Answer, FetchError> {
        let req = Request {
            method: Method::GET,
            url,
            authorization: None,
            role,
            record_body: true,
            headers: Vec::new(),
            body: None,
        };
        let req = &req;
        self.retrying(move || async move { Failure::check(&format!("GET {url}"), self.once(req).await?) })
            .await
    }

    /// Records a local file read as part of the run (an export given as a path), so that the
    /// recording replays without the file.
    pub fn record_file(&self, path: &Path, role: &str, bytes: &[u8]) {
        if let Some(recorder) = &self.recorder {
            let url = format!("file://{}", path.display());
            let req = Request {
                method: Method::GET,
                url: &url,
                authorization: None,
                role,
                record_body: true,
                headers: Vec::new(),
                body: None,
            };
            let answer = Answer {
                status: 200,
                headers: BTreeMap::new(),
                body: Bytes::copy_from_slice(bytes),
            };
            if let Err(e) = recorder.record(self.source, &req, &answer, Some(bytes)) {
                tracing::warn!(error = %e, "cannot write the recording");
            }
        }
    }
}

/// A reqwest error in words a shop owner can act on.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out (http.read_timeout_secs / http.connect_timeout_secs)".into()
    } else if e.is_connect() {
        format!("cannot connect: {e}")
    } else if e.is_body() || e.is_decode() {
        format!("the answer was cut off: {e}")
    } else {
        e.to_string()
    }
}

/// Writes one run's exchanges as a recording: `index.jsonl` plus a file per body.
pub struct Recorder {
    dir: PathBuf,
    state: Mutex<(u64, std::fs::File)>,
}

impl Recorder {
    /// Creates the recording directory (it must not exist yet, or be empty).
    pub fn create(dir: &Path) -> std::io::Result<Recorder> {
        if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists and is not empty: record into a new directory",
                    dir.display()
                ),
            ));
        }
        std::fs::create_dir_all(dir)?;
        let index = std::fs::File::create(dir.join("index.jsonl"))?;
        Ok(Recorder {
            dir: dir.to_path_buf(),
            state: Mutex::new((0, index)),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn record(
        &self,
        source: usize,
        req: &Request<'_>,
        answer: &Answer,
        body: Option<&[u8]>,
    ) -> std::io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += 1;
        let seq = state.0;
        let body_name = match body {
            Some(bytes) => {
                let name = format!("{seq:04}.{}", extension(req, answer, bytes));
                std::fs::write(self.dir.join(&name), bytes)?;
                Some(name)
            }
            None => None,
        };
        let request_body = match &req.body {
            Some(text) => {
                let name = format!("{seq:04}.request.json");
                std::fs::write(self.dir.join(&name), text)?;
                Some(name)
            }
            None => None,
        };
        let exchange = Exchange {
            seq,
            source,
            method: req.method.to_string(),
            url: without_secrets(req.url),
            status: answer.status,
            headers: answer.headers.clone(),
            body: body_name,
            at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            role: Some(req.role.to_string()),
            request_body,
        };
        let line = serde_json::to_string(&exchange).map_err(std::io::Error::other)?;
        writeln!(state.1, "{line}")?;
        state.1.flush()
    }
}

/// A body file's extension, so a tester opens it with the right program.
fn extension(req: &Request<'_>, answer: &Answer, bytes: &[u8]) -> &'static str {
    let path = req.url.split('?').next().unwrap_or(req.url).to_ascii_lowercase();
    let ctype = answer
        .headers
        .get("content-type")
        .map(|c| c.to_ascii_lowercase())
        .unwrap_or_default();
    if bytes.starts_with(b"PK\x03\x04") || path.ends_with(".xlsx") {
        "xlsx"
    } else if path.ends_with(".csv") || ctype.contains("csv") {
        "csv"
    } else if ctype.contains("json") || path.ends_with(".json") {
        "json"
    } else if ctype.contains("xml") || path.ends_with(".xml") {
        "xml"
    } else if ctype.contains("html") || req.role == "storefront_page" {
        "html"
    } else {
        "txt"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves `body` with `status` for every request on a free loopback port.
    async fn serve(status: u16, headers: Vec<(&'static str, &'static str)>, body: Vec<u8>) -> String {
        use warp::Filter;
        let route = warp::any().map(move || {
            let mut resp = warp::http::Response::builder().status(status);
            for (k, v) in &headers {
                resp = resp.header(*k, *v);
            }
            resp.body(body.clone()).unwrap()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(warp::serve(route).incoming(listener).run());
        base
    }

    fn fetcher(settings: HttpSettings) -> Fetcher {
        Fetcher::new(&settings, 0, Duration::ZERO, None).unwrap()
    }

    #[tokio::test]
    async fn an_answer_over_the_size_limit_fails_without_retrying() {
        let base = serve(200, vec![], vec![b'x'; 5000]).await;
        let f = fetcher(HttpSettings {
            max_response_bytes: 1024,
            retries: 3,
            ..Default::default()
        });
        let err = f
            .get(&format!("{base}/big"), "sitemap")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("larger than 1024 bytes") && err.contains("http.max_response_bytes"),
            "{err}"
        );
        assert!(!err.contains("gave up"), "a size failure is not retried: {err}");
    }

    #[tokio::test]
    async fn a_client_error_is_not_retried_and_names_the_reason() {
        let body = br#"{"header":{"reason":"shop not found","error_code":"404"},"data":null}"#.to_vec();
        let base = serve(404, vec![("content-type", "application/json")], body).await;
        let f = fetcher(HttpSettings {
            retries: 3,
            backoff_ms: 1,
            ..Default::default()
        });
        let err = f
            .get(&format!("{base}/x"), "products")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("HTTP 404") && err.contains("shop not found (404)"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn server_errors_are_retried_then_given_up_with_the_count() {
        let base = serve(503, vec![], Vec::new()).await;
        let f = fetcher(HttpSettings {
            retries: 2,
            backoff_ms: 1,
            ..Default::default()
        });
        let err = f
            .get(&format!("{base}/x"), "products")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("HTTP 503") && err.contains("gave up after 3 attempts"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn once_the_service_is_stopping_no_request_starts_and_a_backoff_is_cut_short() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use warp::Filter;
        let served = std::sync::Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        // Busy, come back in an hour: without the stop the fetcher would wait that hour.
        let route = warp::any().map(move || {
            count.fetch_add(1, Ordering::SeqCst);
            warp::http::Response::builder()
                .status(503)
                .header("retry-after", "3600")
                .body(Vec::<u8>::new())
                .unwrap()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/products", listener.local_addr().unwrap());
        tokio::spawn(warp::serve(route).incoming(listener).run());

        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let f = fetcher(HttpSettings {
            retries: 5,
            max_backoff_secs: 3600,
            ..Default::default()
        })
        .stop_on(Some(stop_rx));
        let get = tokio::spawn(async move { f.get(&url, "products").await });
        while served.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.send(true).unwrap();
        // A bound against a hang only: the backoff it cuts short is an hour.
        let err = tokio::time::timeout(Duration::from_secs(60), get)
            .await
            .expect("the backoff ends when the service stops")
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(err.contains("HTTP 503") && err.contains(STOPPING), "{err}");
        assert_eq!(served.load(Ordering::SeqCst), 1, "no attempt after the stop");

        let stopped = fetcher(HttpSettings::default()).stop_on(Some(tokio::sync::watch::channel(true).1));
        let err = stopped
            .get("http://127.0.0.1:9/x", "products")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("not requested") && err.contains(STOPPING), "{err}");
    }

    #[test]
    fn secrets_in_a_query_are_hidden() {
        let url = "https://auth.example/api/v2/token/refresh?app_key=k&app_secret=S3CRET&refresh_token=RT&grant_type=refresh_token";
        let shown = without_secrets(url);
        assert!(!shown.contains("S3CRET") && !shown.contains("=RT"), "{shown}");
        assert!(
            shown.contains("app_key=k") && shown.contains("grant_type=refresh_token"),
            "{shown}"
        );
        let legacy = without_secrets("https://a.example/x?access_token=TTP_AT&client_secret=CS&page=2");
        assert!(!legacy.contains("TTP_AT") && !legacy.contains("=CS"), "{legacy}");
        assert_eq!(
            without_secrets("https://a.example/x?page=2"),
            "https://a.example/x?page=2"
        );
    }

    #[tokio::test]
    async fn a_request_body_is_recorded_beside_the_answer_and_the_token_header_is_not() {
        let base = serve(200, vec![("content-type", "application/json")], b"{}".to_vec()).await;
        let dir = tempfile::tempdir().unwrap();
        let recorder = std::sync::Arc::new(Recorder::create(&dir.path().join("rec")).unwrap());
        let f = Fetcher::new(&HttpSettings::default(), 0, Duration::ZERO, Some(recorder)).unwrap();
        let url = format!("{base}/search?page_size=2");
        let req = Request {
            method: Method::POST,
            url: &url,
            authorization: None,
            role: "tiktok_orders",
            record_body: true,
            headers: vec![("x-tts-access-token", "TTP_SECRET".into())],
            body: Some(r#"{"update_time_ge":1,"update_time_lt":2}"#.into()),
        };
        f.once(&req).await.unwrap();
        let recording = crate::sync::recording::Recording::open(&dir.path().join("rec")).unwrap();
        let ex = &recording.exchanges[0];
        assert_eq!(ex.request_body.as_deref(), Some("0001.request.json"));
        assert_eq!(
            recording.request_body(ex).unwrap().as_deref(),
            Some(r#"{"update_time_ge":1,"update_time_lt":2}"#)
        );
        let index = std::fs::read_to_string(dir.path().join("rec/index.jsonl")).unwrap();
        assert!(!index.contains("TTP_SECRET"), "{index}");
    }

    #[test]
    fn backoff_doubles_with_jitter_within_half_and_one_and_a_half() {
        let f = fetcher(HttpSettings {
            backoff_ms: 100,
            ..Default::default()
        });
        for n in 0..4u32 {
            let base = 100u64 << n;
            let d = f.backoff(n).as_millis() as u64;
            assert!(d >= base / 2 && d < base * 3 / 2, "attempt {n}: {d} ms");
        }
    }
}
