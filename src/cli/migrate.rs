//! `laris migrate [--url URL]`: brings a PostgreSQL store's schema up to this laris's
//! version (what `laris serve` on PostgreSQL also does when it starts) and says what it did.

use anyhow::bail;

use crate::config::Settings;
use crate::store::postgres::{self, PgOptions, SCHEMA_VERSION};

/// Migrates the database `url` names (default: `[store] url` / `LARIS_STORE_URL`) and
/// returns the line to print.
pub(super) fn migrate(settings: &Settings, url: Option<&str>) -> anyhow::Result<String> {
    let Some(url) = url.or(settings.store.url.as_deref()) else {
        bail!(
            "no PostgreSQL store to migrate: pass --url postgres://USER:PASSWORD@HOST:PORT/DATABASE, or set url under [store] in {} (or LARIS_STORE_URL)",
            settings.source.display()
        );
    };
    let options = PgOptions {
        url: url.to_string(),
        pool_size: 1,
        statement_timeout: settings.store.statement_timeout,
    };
    let applied = postgres::migrate(&options)?;
    Ok(report(&options.redacted_url(), &applied))
}

/// "applied 1, 2 (schema version 2)" or "already at version 2".
fn report(url: &str, applied: &[u32]) -> String {
    if applied.is_empty() {
        format!("{url}: already at version {SCHEMA_VERSION}, nothing to apply")
    } else {
        let list: Vec<String> = applied.iter().map(u32::to_string).collect();
        format!(
            "{url}: applied {} (schema version {SCHEMA_VERSION})",
            list.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::postgres::testing::fresh_database;

    fn settings(toml: &str) -> Settings {
        Settings::from_toml(toml, std::path::Path::new("laris.toml"), &[]).unwrap()
    }

    #[test]
    fn migrate_applies_the_schema_once_then_says_it_is_current() {
        let url = fresh_database();
        let first = migrate(&settings(""), Some(&url)).unwrap();
        let all: Vec<String> = (1..=SCHEMA_VERSION).map(|v| v.to_string()).collect();
        assert_eq!(
            first,
            format!(
                "{url}: applied {} (schema version {SCHEMA_VERSION})",
                all.join(", ")
            )
        );
        // The config's URL when --url is left out.
        let configured = settings(&format!("[store]\nbackend = \"postgres\"\nurl = \"{url}\"\n"));
        assert_eq!(
            migrate(&configured, None).unwrap(),
            format!("{url}: already at version {SCHEMA_VERSION}, nothing to apply")
        );
    }

    #[test]
    fn migrate_without_a_url_says_where_to_give_one() {
        let msg = migrate(&settings(""), None).unwrap_err().to_string();
        assert!(
            msg.contains("--url") && msg.contains("LARIS_STORE_URL") && msg.contains("laris.toml"),
            "{msg}"
        );
    }
}
