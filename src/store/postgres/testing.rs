//! A throwaway PostgreSQL for the tests: one server per test process, one fresh database
//! per test ([`fresh_database`]). Test support only, for the unit tests and the integration
//! tests under `tests/` (which is why it is compiled always); the service never uses it.
//!
//! With `LARIS_TEST_POSTGRES_URL` set (`postgres://USER@HOST:PORT/postgres`, a user who may
//! create databases), the tests use that server. Otherwise the first test that asks starts
//! one: Debian's PostgreSQL 15 (`/usr/lib/postgresql/15/bin`, from `apt-get install -y
//! postgresql`), `initdb` into a temporary directory and `pg_ctl start` on a free port of
//! 127.0.0.1 with `trust` sign-in and fsync off. The server refuses to run as root, so as
//! root both run as the `postgres` user (`runuser -u postgres --`), the directory owned by
//! it. The server is stopped (`pg_ctl stop -m immediate`) and its directory removed when
//! the test process exits (an `atexit` hook), and by a watchdog process when the test
//! process dies without exiting (killed, or a crash): no server outlives its tests. On a
//! `LARIS_TEST_POSTGRES_URL` server the test databases (`t_<pid>_<n>`) are left for a look
//! afterwards: drop them there.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Where Debian keeps PostgreSQL 15's programs.
const BIN: &str = "/usr/lib/postgresql/15/bin";

/// The server the tests of this process use.
struct Server {
    /// A URL of the server without a database name: `postgres://postgres@127.0.0.1:PORT`.
    url: url::Url,
    /// The cluster this process started, `None` for `LARIS_TEST_POSTGRES_URL`'s.
    own: Option<Cluster>,
}

/// A cluster started by this process: its directory (data, socket, log) and port.
struct Cluster {
    root: PathBuf,
}

impl Cluster {
    fn data(&self) -> PathBuf {
        self.root.join("data")
    }
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The URL of a new, empty database on the tests' server (started on first use). Panics
/// with what to install or fix when there is no server to be had.
pub fn fresh_database() -> String {
    let server = match SERVER.get_or_init(start) {
        Ok(server) => server,
        Err(e) => panic!("no PostgreSQL for the tests: {e}"),
    };
    let name = format!(
        "t_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = server.url.clone();
    admin.set_path("/postgres");
    if let Err(e) = execute(admin.as_str(), &format!("CREATE DATABASE {name}")) {
        panic!("cannot create the test database {name}: {e}");
    }
    let mut url = server.url.clone();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A URL of the tests' server on which nothing listens: the port of a server that has
/// stopped.
pub fn stopped_server_url() -> String {
    let port = free_port().expect("a free port");
    format!("postgres://laris:s3cret@127.0.0.1:{port}/laris")
}

/// Runs `sql` (one or more statements) on the database `url` names, on a connection of its
/// own.
pub fn execute(url: &str, sql: &str) -> Result<(), String> {
    let (url, sql) = (url.to_string(), sql.to_string());
    on_own_runtime(
        move |client| async move { client.batch_execute(&sql).await.map_err(|e| e.to_string()) },
        url,
    )
}

/// The first column of `sql`'s rows, as numbers.
pub fn numbers(url: &str, sql: &str) -> Vec<i64> {
    let (url, query) = (url.to_string(), sql.to_string());
    on_own_runtime(
        move |client| async move {
            let rows = client.query(&query, &[]).await.map_err(|e| e.to_string())?;
            Ok(rows.iter().map(|r| r.get::<_, i64>(0)).collect())
        },
        url,
    )
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Connects to `url` on a thread and runtime of its own (callable from any test, async or
/// not) and runs `work` with the client.
fn on_own_runtime<T, F, Fut>(work: F, url: String) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(tokio_postgres::Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let connection = tokio::spawn(connection);
            let out = work(client).await;
            let _ = connection.await;
            out
        })
    })
    .join()
    .unwrap_or_else(|_| Err("the connection's thread panicked".into()))
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A command of PostgreSQL's, as the `postgres` user when this process is root.
fn postgres_command(program: &str) -> Command {
    let program = Path::new(BIN).join(program);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn start() -> Result<Server, String> {
    if let Ok(raw) = std::env::var("LARIS_TEST_POSTGRES_URL") {
        let mut url = url::Url::parse(&raw).map_err(|e| format!("LARIS_TEST_POSTGRES_URL {raw:?}: {e}"))?;
        url.set_path("");
        return Ok(Server { url, own: None });
    }
    if !Path::new(BIN).join("initdb").is_file() {
        return Err(format!(
            "{BIN}/initdb is missing: install PostgreSQL 15 with `apt-get install -y postgresql` (or set LARIS_TEST_POSTGRES_URL to a server the tests may create databases on)"
        ));
    }
    // In /tmp, whatever TMPDIR says: the `postgres` user must reach it, and the server's
    // socket path in it must stay short.
    let root = tempfile::Builder::new()
        .prefix("laris-test-postgres-")
        .tempdir_in("/tmp")
        .map_err(|e| format!("cannot make a temporary directory: {e}"))?
        .keep();
    let cluster = Cluster { root };
    let started = init_and_start(&cluster);
    match started {
        Ok(port) => {
            // SAFETY: `stop_at_exit` is an `extern "C" fn()` that never unwinds.
            unsafe { libc::atexit(stop_at_exit) };
            watch(&cluster);
            let url = url::Url::parse(&format!("postgres://postgres@127.0.0.1:{port}"))
                .map_err(|e| e.to_string())?;
            Ok(Server {
                url,
                own: Some(cluster),
            })
        }
        Err(e) => {
            stop(&cluster);
            Err(e)
        }
    }
}

/// `initdb`, then `pg_ctl start` on a free port (trying another when one was taken
/// meanwhile); returns the port.
fn init_and_start(cluster: &Cluster) -> Result<u16, String> {
    let root = &cluster.root;
    if is_root() {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("postgres:postgres").arg(root);
                c
            },
            "chown postgres of the test cluster's directory",
        )?;
    }
    let mut initdb = postgres_command("initdb");
    initdb.arg("-D").arg(cluster.data()).args([
        "--auth=trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
    ]);
    run(initdb, "initdb")?;
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        match start_on(cluster, port) {
            Ok(()) => return Ok(port),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// `pg_ctl start` of the cluster on `port`, waiting until it takes connections.
fn start_on(cluster: &Cluster, port: u16) -> Result<(), String> {
    let root = &cluster.root;
    let mut pg_ctl = postgres_command("pg_ctl");
    pg_ctl
        .arg("start")
        .arg("-w")
        .arg("-D")
        .arg(cluster.data())
        .arg("-l")
        .arg(root.join("server.log"))
        .arg("-o")
        .arg(format!(
            "-F -p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c synchronous_commit=off -c full_page_writes=off",
            root.display()
        ));
    run(pg_ctl, "pg_ctl start").map_err(|e| {
        let log = std::fs::read_to_string(root.join("server.log")).unwrap_or_default();
        format!("{e}\n{log}")
    })
}

/// Stops the cluster at once and removes its directory; quiet, for use at exit.
fn stop(cluster: &Cluster) {
    let mut pg_ctl = postgres_command("pg_ctl");
    pg_ctl
        .arg("stop")
        .arg("-D")
        .arg(cluster.data())
        .args(["-m", "immediate"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _ = run(pg_ctl, "pg_ctl stop");
    let _ = std::fs::remove_dir_all(&cluster.root);
}

extern "C" fn stop_at_exit() {
    if let Some(Ok(Server {
        own: Some(cluster), ..
    })) = SERVER.get()
    {
        stop(cluster);
    }
}

/// A process in a session of its own that waits for this one to end, however it ends, then
/// stops the cluster and removes its directory (nothing left to do after `stop_at_exit`).
fn watch(cluster: &Cluster) {
    let pg_ctl = Path::new(BIN).join("pg_ctl");
    let as_postgres = if is_root() { "runuser -u postgres -- " } else { "" };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         if [ -d '{data}' ]; then {as_postgres}'{pg_ctl}' stop -D '{data}' -m immediate; fi; \
         rm -rf '{root}'",
        pid = std::process::id(),
        data = cluster.data().display(),
        pg_ctl = pg_ctl.display(),
        root = cluster.root.display(),
    );
    let _ = Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

/// A PostgreSQL of a test's own, for an outage: [`OwnServer::stop`] shuts it down as an
/// operator would (`pg_ctl stop -m fast`: sessions are ended), [`OwnServer::start_again`]
/// brings it back on the same port. Removed when dropped (and by a watchdog if the test
/// process dies). Not for `LARIS_TEST_POSTGRES_URL`: it needs Debian's PostgreSQL 15.
pub struct OwnServer {
    cluster: Cluster,
    port: u16,
}

impl OwnServer {
    /// Starts a new cluster; panics naming what to install when there is none to be had.
    pub fn start() -> OwnServer {
        assert!(
            Path::new(BIN).join("initdb").is_file(),
            "{BIN}/initdb is missing: install PostgreSQL 15 with `apt-get install -y postgresql`"
        );
        let root = tempfile::Builder::new()
            .prefix("laris-test-outage-")
            .tempdir_in("/tmp")
            .expect("a temporary directory")
            .keep();
        let cluster = Cluster { root };
        match init_and_start(&cluster) {
            Ok(port) => {
                watch(&cluster);
                OwnServer { cluster, port }
            }
            Err(e) => {
                stop(&cluster);
                panic!("cannot start a PostgreSQL of the test's own: {e}");
            }
        }
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server, ending every session, and waits until it is down.
    pub fn stop(&self) {
        let mut pg_ctl = postgres_command("pg_ctl");
        pg_ctl
            .arg("stop")
            .arg("-w")
            .arg("-D")
            .arg(self.cluster.data())
            .args(["-m", "fast"]);
        run(pg_ctl, "pg_ctl stop").unwrap_or_else(|e| panic!("{e}"));
    }

    /// Starts the stopped server again on its port.
    pub fn start_again(&self) {
        start_on(&self.cluster, self.port).unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        stop(&self.cluster);
    }
}
