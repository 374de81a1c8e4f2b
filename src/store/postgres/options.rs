//! [`PgOptions`]: where the PostgreSQL store is and how the backend talks to it, and the
//! errors of reaching it. Plain values: the config layer maps `[store]` onto them.
//!
//! A store URL carries a password; no message, log line or `Debug` output shows it: they
//! show [`redacted`] URLs, whose password reads `***`.

use std::time::Duration;

use tokio_postgres::error::SqlState;

use crate::store::StoreError;

/// How to reach the PostgreSQL store.
#[derive(Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (or libpq's `key=value` form).
    pub url: String,
    /// Connections the backend keeps open at most.
    pub pool_size: usize,
    /// A statement running longer is cancelled by the server (and its transaction fails).
    pub statement_timeout: Duration,
}

impl PgOptions {
    /// Options for `url` with the defaults: 8 connections, statements of at most 5 s.
    pub fn new(url: impl Into<String>) -> PgOptions {
        PgOptions {
            url: url.into(),
            pool_size: 8,
            statement_timeout: Duration::from_secs(5),
        }
    }

    /// The URL as it may be shown: without its password.
    pub fn redacted_url(&self) -> String {
        redacted(&self.url)
    }
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("url", &self.redacted_url())
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

/// `url` with any password replaced by `***`: in the user part of a URL, in a
/// `?password=` parameter, or in a `password=` pair of the `key=value` form.
pub fn redacted(url: &str) -> String {
    if let Ok(mut parsed) = url::Url::parse(url) {
        if parsed.password().is_some() {
            let _ = parsed.set_password(Some("***"));
        }
        if parsed.query_pairs().any(|(k, _)| k == "password") {
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "password" {
                        "***".into()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            parsed.query_pairs_mut().clear().extend_pairs(pairs);
        }
        return parsed.to_string();
    }
    if let Some(start) = url.find("://") {
        // Not a URL the parser takes (a bad port, say): cut the password out of the user part.
        let rest = &url[start + 3..];
        let head = rest.split(['?', '#']).next().unwrap_or(rest);
        if let Some(at) = head.rfind('@') {
            if let Some(colon) = head[..at].find(':') {
                return format!("{}{}***{}", &url[..start + 3], &rest[..=colon], &rest[at..]);
            }
        }
        return url.to_string();
    }
    url.split_whitespace()
        .map(|pair| {
            if pair.trim_start().starts_with("password") && pair.contains('=') {
                "password=***"
            } else {
                pair
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a user fixes the store's address.
const WHERE: &str = "[store] url in the config file (or LARIS_STORE_URL)";

/// The driver's configuration for `options`: its URL, the statement timeout (added to any
/// `options` the URL sets), the application name, a connect timeout and TCP keepalives.
pub(crate) fn driver_config(options: &PgOptions) -> Result<tokio_postgres::Config, StoreError> {
    let mut config: tokio_postgres::Config = options.url.parse().map_err(|e| StoreError::Database {
        url: redacted(&options.url),
        problem: format!("the URL cannot be read ({e})"),
        fix: format!("write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE in {WHERE}"),
    })?;
    let timeout_ms = options.statement_timeout.as_millis().max(1);
    let mut server_options = format!("-c statement_timeout={timeout_ms}");
    if let Some(given) = config.get_options() {
        server_options = format!("{given} {server_options}");
    }
    config.options(server_options);
    if config.get_application_name().is_none() {
        config.application_name("laris");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.keepalives_idle(Duration::from_secs(30));
    Ok(config)
}

/// What went wrong reaching the store at `url`, with what to do about it: the server is
/// not there, refused the sign-in, has no such database, or something else the driver says.
pub(crate) fn connect_error(url: &str, error: &tokio_postgres::Error) -> StoreError {
    let database = |problem: String, fix: String| StoreError::Database {
        url: url.to_string(),
        problem,
        fix,
    };
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            return database(
                format!("it refused the sign-in ({})", db.message()),
                format!("fix the user name or password in {WHERE}, or let that user in through the server's pg_hba.conf"),
            );
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return database(
                db.message().to_string(),
                format!(
                    "create that database (`createdb NAME` on the server) or name an existing one in {WHERE}"
                ),
            );
        }
        if *code == SqlState::TOO_MANY_CONNECTIONS {
            return database(
                db.message().to_string(),
                "lower [store] pool_size, or raise max_connections on the server".into(),
            );
        }
        return database(
            db.message().to_string(),
            format!("check the server's log, and {WHERE}"),
        );
    }
    let refused = std::iter::successors(std::error::Error::source(error), |e| e.source())
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
    if refused {
        return database(
            "the connection was refused: no PostgreSQL listens there".into(),
            format!("start PostgreSQL on that host, or fix the host and port in {WHERE}; `pg_isready -h HOST -p PORT` tells whether it answers"),
        );
    }
    database(
        format!("cannot connect ({error})"),
        format!("check that PostgreSQL runs there and answers from this machine, and {WHERE}"),
    )
}

/// A connection-pool failure as a [`StoreError`] naming the store: a server that cannot be
/// reached now (refused, reset, shutting down, no connection in time) is
/// [`StoreError::Unavailable`]; a refused sign-in or a missing database is not.
pub(crate) fn pool_error(url: &str, error: deadpool_postgres::PoolError) -> StoreError {
    use deadpool_postgres::PoolError;
    match error {
        PoolError::Backend(e) if unreachable(&e) => unavailable(connect_error(url, &e)),
        PoolError::Backend(e) => connect_error(url, &e),
        PoolError::Timeout(_) => StoreError::Unavailable {
            url: url.to_string(),
            problem: "no connection became free in time (every one is busy, or the server does not answer)"
                .into(),
            fix: "check that the server answers; raise [store] pool_size if this replica is busy".into(),
        },
        other => StoreError::backend(other),
    }
}

/// Whether the driver's error says the server cannot be reached now, rather than that a
/// statement was wrong: the connection closed or broke (an I/O error underneath), the
/// connection class of SQL states (`08…`), or a server shutting down or starting up
/// (`57P01`–`57P03`).
pub(crate) fn unreachable(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    if let Some(code) = error.code() {
        return code.code().starts_with("08")
            || [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
            ]
            .contains(code);
    }
    error.to_string().starts_with("timeout waiting for server")
        || std::iter::successors(std::error::Error::source(error), |e| e.source())
            .any(|e| e.is::<std::io::Error>())
}

/// A [`StoreError::Database`] about reaching the server as [`StoreError::Unavailable`].
fn unavailable(error: StoreError) -> StoreError {
    match error {
        StoreError::Database { url, problem, fix } => StoreError::Unavailable { url, problem, fix },
        other => other,
    }
}

/// An error of a running store's call: the driver's error that says the server cannot be
/// reached becomes [`StoreError::Unavailable`], naming the store; others stay as they are.
pub(crate) fn classified(url: &str, error: StoreError) -> StoreError {
    let StoreError::Backend(source) = &error else {
        return error;
    };
    match source.downcast_ref::<tokio_postgres::Error>() {
        Some(e) if unreachable(e) => StoreError::Unavailable {
            url: url.to_string(),
            problem: format!("the connection broke: {e}"),
            fix: format!("check that PostgreSQL runs there and answers from this machine, and {WHERE}"),
        },
        _ => error,
    }
}

/// An unreachable server at start-up is no passing state to wait out: it is the
/// [`StoreError::Database`] naming the store and the fix.
pub(crate) fn at_start(error: StoreError) -> StoreError {
    match error {
        StoreError::Unavailable { url, problem, fix } => StoreError::Database { url, problem, fix },
        other => other,
    }
}

/// Turns the driver's errors into [`StoreError::Backend`], so that no signature names it.
pub(crate) trait Pg<T> {
    fn pg(self) -> Result<T, StoreError>;
}

impl<T> Pg<T> for Result<T, tokio_postgres::Error> {
    fn pg(self) -> Result<T, StoreError> {
        self.map_err(StoreError::backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_form_of_a_url_shows_its_password() {
        for (url, shown) in [
            (
                "postgres://laris:s3cret@db.example:5432/laris",
                "postgres://laris:***@db.example:5432/laris",
            ),
            (
                "postgres://laris@db.example/laris?password=s3cret&sslmode=disable",
                "postgres://laris@db.example/laris?password=***&sslmode=disable",
            ),
            (
                "host=db.example user=laris password=s3cret dbname=laris",
                "host=db.example user=laris password=*** dbname=laris",
            ),
            (
                "postgres://laris@db.example/laris",
                "postgres://laris@db.example/laris",
            ),
        ] {
            assert_eq!(redacted(url), shown);
            let options = PgOptions::new(url);
            assert!(!format!("{options:?}").contains("s3cret"));
        }
    }

    #[test]
    fn an_unreadable_url_is_named_without_its_password_with_the_form_to_use() {
        let err = driver_config(&PgOptions::new("postgres://laris:s3cret@db.example:port/laris"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("postgres://laris:***@db.example:port/laris"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
        assert!(
            err.contains("postgres://USER:PASSWORD@HOST:PORT/DATABASE"),
            "{err}"
        );
    }

    #[test]
    fn the_statement_timeout_is_added_to_the_urls_own_options() {
        let mut options = PgOptions::new("postgres://laris@localhost/laris?options=-c%20search_path%3Dshop");
        options.statement_timeout = Duration::from_millis(2500);
        let config = driver_config(&options).unwrap();
        assert_eq!(
            config.get_options(),
            Some("-c search_path=shop -c statement_timeout=2500")
        );
        assert_eq!(config.get_application_name(), Some("laris"));
    }
}
