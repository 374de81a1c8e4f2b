//! The HTTP server around the routes, with the limits a service on the open internet needs:
//! a cap on open connections, time limits on reading a request's headers and body and on
//! idle keep-alive connections, and a bounded grace period at shutdown.
//!
//! warp's own server has none of these knobs, so connections are served here with hyper
//! (which warp runs on) and the routes as a warp service. At the cap, the oldest connection
//! that is not answering a request (idle keep-alive, or still sending its headers) is closed
//! to make room; only when every connection is busy does a newcomer get a `503` with
//! `Retry-After`. A flood of idle connections therefore cannot keep `/healthz` from
//! answering, and file descriptors stay below the process's limit.
//!
//! A [`Shortcut`] may answer a request before the routes see it: the widget's prepared
//! answers (`web::prepared::hot`) are sent from bytes kept ready, without warp's per-request
//! routing, its request span and log lines, or a copy of the request's headers.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::time::{Instant, Sleep};
use warp::http::{HeaderMap, Method, Uri};
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::config::limits::Limits;

/// Answers some requests ahead of the routes, from what it reads of the request line and
/// headers alone (no body, no peer address). `Some` is sent as it is; `None` hands the
/// request on to the routes unchanged, so a shortcut declines whatever it is unsure of.
/// A shortcut counts and logs what it answers itself.
pub trait Shortcut: Send + Sync + 'static {
    fn answer(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response>;
}

/// The TCP peer of a request, as the routes see it (see [`peer`]).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// The connection's peer address: set by this server, or by warp's own server and test
/// requests (`warp::addr::remote`).
pub fn peer() -> impl Filter<Extract = (Option<SocketAddr>,), Error = Infallible> + Clone {
    warp::ext::optional::<Peer>()
        .and(warp::addr::remote())
        .map(|ours: Option<Peer>, warps: Option<SocketAddr>| ours.map(|p| p.0).or(warps))
}

/// Raises the soft limit on open files to the hard one, and returns the connection cap
/// that fits in it (leaving room for the store's files and outgoing requests).
pub fn fit_connections(wanted: usize) -> usize {
    #[cfg(unix)]
    {
        // SAFETY: getrlimit/setrlimit read and write a plain struct we own.
        let limit = unsafe {
            let mut l = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) != 0 {
                return wanted;
            }
            if l.rlim_cur < l.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: l.rlim_max,
                    rlim_max: l.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    l.rlim_cur = l.rlim_max;
                }
            }
            l.rlim_cur
        };
        let room = usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_sub(128)
            .max(16);
        if room < wanted {
            tracing::warn!(
                wanted,
                fits = room,
                open_files_limit = limit,
                "server.max_connections is more than the open-files limit allows: using {room} (raise `ulimit -n` to allow more)"
            );
            return room;
        }
    }
    wanted
}

/// Serves `routes` on `listener` until `shutdown` resolves, then lets requests in flight
/// finish for at most `limits.shutdown_grace`. `shortcut`, when given, is asked first.
pub async fn serve<F, R>(
    listener: tokio::net::TcpListener,
    routes: F,
    shortcut: Option<Arc<dyn Shortcut>>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    F: Filter<Extract = (R,), Error = Infallible> + Clone + Send + Sync + 'static,
    R: Reply + 'static,
{
    let conns = Arc::new(Connections::new(limits.max_connections));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors or a reset before accept: wait a moment
                    // rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(conn) = conns.open() else {
            // Answer a few refusals politely; beyond that, close at once.
            if REFUSING.fetch_add(1, Ordering::SeqCst) < 64 {
                tokio::spawn(async move {
                    refuse(stream).await;
                    REFUSING.fetch_sub(1, Ordering::SeqCst);
                });
            } else {
                REFUSING.fetch_sub(1, Ordering::SeqCst);
            }
            continue;
        };
        let routes = routes.clone();
        let limits = limits.clone();
        let stop = stop_rx.clone();
        let shortcut = shortcut.clone();
        tokio::spawn(serve_connection(
            stream, addr, routes, shortcut, limits, conn, stop,
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let deadline = Instant::now() + limits.shutdown_grace;
    while conns.open_count() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let left = conns.open_count();
    if left > 0 {
        tracing::warn!(
            connections = left,
            grace_secs = limits.shutdown_grace.as_secs(),
            "requests still running after the shutdown grace: stopping without them"
        );
    }
}

async fn serve_connection<F, R>(
    stream: tokio::net::TcpStream,
    addr: SocketAddr,
    routes: F,
    shortcut: Option<Arc<dyn Shortcut>>,
    limits: Limits,
    conn: Conn,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    F: Filter<Extract = (R,), Error = Infallible> + Clone + Send + Sync + 'static,
    R: Reply + 'static,
{
    let _ = stream.set_nodelay(true);
    let state = conn.state.clone();
    let body_timeout = limits.body_timeout;
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let busy = BusyGuard::new(state.clone());
        let short = shortcut
            .as_deref()
            .and_then(|s| s.answer(req.method(), req.uri(), req.headers()));
        let answer = match short {
            Some(resp) => Err(resp),
            None => {
                let mut svc = warp::service(routes.clone());
                let mut req = req.map(|body| TimeoutBody::new(body, body_timeout));
                req.extensions_mut().insert(Peer(addr));
                Ok(tower_service::Service::call(&mut svc, req))
            }
        };
        async move {
            let resp = match answer {
                Err(short) => Ok(short),
                Ok(routed) => routed.await,
            };
            drop(busy);
            resp
        }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let connection = http.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let mut tick = tokio::time::interval(
        limits
            .idle_timeout
            .min(Duration::from_secs(5))
            .max(Duration::from_millis(100)),
    );
    // How long a closing connection may take to finish what it is sending.
    let closing = loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %addr, "connection ended with an error");
                }
                return;
            }
            // Made room for a newcomer, or idle too long: it has no request in flight,
            // but may still be sending the last answer's body.
            _ = conn.state.evict.notified() => break Duration::from_secs(1),
            _ = tick.tick() => {
                if conn.state.idle_for() >= limits.idle_timeout {
                    break Duration::from_secs(1);
                }
            }
            _ = stop.changed() => break limits.shutdown_grace,
        }
    };
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(closing, connection).await;
}

/// Refusals being written now.
static REFUSING: AtomicUsize = AtomicUsize::new(0);

/// Answers a connection over the cap with `503` and closes it.
async fn refuse(mut stream: tokio::net::TcpStream) {
    const BODY: &str = r#"{"error":"the server has too many open connections: try again in a second"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// The open connections and what each is doing.
struct Connections {
    max: usize,
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<ConnState>>>,
}

struct ConnState {
    opened: Instant,
    /// Requests in flight on the connection.
    busy: AtomicUsize,
    /// Milliseconds after `opened` of the last request's start or end.
    last_active_ms: AtomicU64,
    evict: tokio::sync::Notify,
}

impl ConnState {
    fn idle_for(&self) -> Duration {
        if self.busy.load(Ordering::SeqCst) > 0 {
            return Duration::ZERO;
        }
        let last = self.opened + Duration::from_millis(self.last_active_ms.load(Ordering::SeqCst));
        Instant::now().saturating_duration_since(last)
    }

    fn touch(&self) {
        let ms = self.opened.elapsed().as_millis();
        self.last_active_ms
            .store(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::SeqCst);
    }
}

/// A slot in [`Connections`], freed when dropped.
struct Conn {
    id: u64,
    state: Arc<ConnState>,
    all: Arc<Connections>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.all
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

impl Connections {
    fn new(max: usize) -> Connections {
        Connections {
            max: max.max(1),
            next: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        }
    }

    fn open_count(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// A slot for a new connection: free, or made by closing the longest-idle connection
    /// that has no request in flight; `None` when every connection is busy.
    fn open(self: &Arc<Self>) -> Option<Conn> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.len() >= self.max {
            let victim = open
                .iter()
                .filter(|(_, c)| c.busy.load(Ordering::SeqCst) == 0)
                .max_by_key(|(_, c)| c.idle_for())
                .map(|(id, _)| *id)?;
            if let Some(c) = open.remove(&victim) {
                c.evict.notify_one();
            }
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let state = Arc::new(ConnState {
            opened: Instant::now(),
            busy: AtomicUsize::new(0),
            last_active_ms: AtomicU64::new(0),
            evict: tokio::sync::Notify::new(),
        });
        open.insert(id, state.clone());
        Some(Conn {
            id,
            state,
            all: self.clone(),
        })
    }
}

/// Counts a request in flight on its connection while it lives.
struct BusyGuard(Arc<ConnState>);

impl BusyGuard {
    fn new(state: Arc<ConnState>) -> BusyGuard {
        state.busy.fetch_add(1, Ordering::SeqCst);
        state.touch();
        BusyGuard(state)
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A request body that fails when the client pauses longer than the limit between pieces
/// (a slow-loris upload), so that it cannot hold a connection and a handler forever.
struct TimeoutBody {
    inner: hyper::body::Incoming,
    limit: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl TimeoutBody {
    fn new(inner: hyper::body::Incoming, limit: Duration) -> TimeoutBody {
        TimeoutBody {
            inner,
            limit,
            sleep: Box::pin(tokio::time::sleep(limit)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request body stalled for more than {0:?}")]
struct BodyStalled(Duration);

impl http_body::Body for TimeoutBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let limit = self.limit;
                self.sleep.as_mut().reset(Instant::now() + limit);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match self.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyStalled(self.limit))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_longest_idle_connection_makes_room_and_busy_ones_do_not() {
        let conns = Arc::new(Connections::new(2));
        let a = conns.open().unwrap();
        let b = conns.open().unwrap();
        // Both busy: a newcomer is refused.
        let busy_a = BusyGuard::new(a.state.clone());
        let busy_b = BusyGuard::new(b.state.clone());
        assert!(conns.open().is_none());
        drop(busy_b);
        // b is idle now: it is closed to make room, a (busy) stays.
        let c = conns.open().unwrap();
        assert_eq!(conns.open_count(), 2);
        let open = conns.open.lock().unwrap();
        assert!(open.contains_key(&a.id) && open.contains_key(&c.id) && !open.contains_key(&b.id));
        drop(open);
        drop(busy_a);
    }

    #[test]
    fn a_freed_slot_is_reused() {
        let conns = Arc::new(Connections::new(1));
        let a = conns.open().unwrap();
        let _busy = BusyGuard::new(a.state.clone());
        assert!(conns.open().is_none());
        drop(_busy);
        drop(a);
        assert_eq!(conns.open_count(), 0);
        assert!(conns.open().is_some());
    }
}
