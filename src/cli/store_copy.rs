//! `laris store copy --from STORE --to STORE`: moves every shop of one store into another
//! (`store::copy`), printing progress per shop, then the comparison of counts and content
//! fingerprints; exits non-zero when anything differs.
//!
//! A store is named by a [`StoreUrl`]: `sled:DIR` (the data directory `laris serve` uses)
//! or `postgres://…`. The PostgreSQL backend is not built in yet: naming one fails with a
//! message saying so.

use std::io::Write;
use std::path::Path;

use anyhow::bail;

use crate::app::{open_store_at, StoreUrl};
use crate::store::copy::{copy_all, CopyProgress, PAGE};

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

pub(super) fn store_copy(from: &str, to: &str) -> anyhow::Result<()> {
    let (from, to) = (StoreUrl::parse(from)?, StoreUrl::parse(to)?);
    if let (StoreUrl::Sled(a), StoreUrl::Sled(b)) = (&from, &to) {
        if same_dir(a, b) {
            bail!(
                "--from and --to both name {}: copy into another, empty directory",
                a.display()
            );
        }
    }
    // The source first: a source held by a running service stops the copy before the
    // target is created.
    let source = open_store_at(&from, true)?;
    let target = open_store_at(&to, false)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "copying {from} to {to}")?;
    let mut current = None;
    let report = copy_all(&*source, &*target, &mut |p: &CopyProgress| {
        if current.as_ref() != Some(p.shop) {
            current = Some(p.shop.clone());
            let _ = writeln!(out, "{}:", p.shop);
        }
        // A line per kind, and one every 100 pages of a big one.
        if p.copied == p.total || p.copied.is_multiple_of(100 * PAGE as u64) {
            let _ = writeln!(out, "  {} {}/{}", p.what, p.copied, p.total);
            let _ = out.flush();
        }
    })?;
    writeln!(out, "comparison (counts and content fingerprints):")?;
    for shop in &report.shops {
        writeln!(out, "  {}", shop.to_text())?;
    }
    drop(out);
    target.flush_blocking()?;
    if !report.equal() {
        let differ: Vec<String> = report
            .shops
            .iter()
            .filter(|s| !s.equal())
            .map(|s| s.shop.to_string())
            .collect();
        bail!(
            "the copy in {to} differs from {from} for {} (listed above): do not switch to it; copy again into a new, empty store",
            differ.join(", ")
        );
    }
    println!(
        "equal: {to} holds the same content as {from} ({} shop{})",
        report.shops.len(),
        if report.shops.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_parse_and_a_bare_path_is_told_the_syntax() {
        assert_eq!(
            StoreUrl::parse("sled:/var/lib/laris/data").unwrap(),
            StoreUrl::Sled("/var/lib/laris/data".into())
        );
        assert_eq!(
            StoreUrl::parse("postgres://laris@db/laris").unwrap(),
            StoreUrl::Postgres("postgres://laris@db/laris".into())
        );
        assert!(matches!(
            StoreUrl::parse("postgresql://db/laris").unwrap(),
            StoreUrl::Postgres(_)
        ));
        let err = StoreUrl::parse("data").unwrap_err().to_string();
        assert!(err.contains("sled:data") && err.contains("postgres://"), "{err}");
        let err = StoreUrl::parse("sled:").unwrap_err().to_string();
        assert!(err.contains("names no directory"), "{err}");
    }

    #[test]
    fn a_postgres_url_is_shown_without_its_password_and_not_opened_yet() {
        let url = StoreUrl::parse("postgres://laris:rahasia@db:5432/laris").unwrap();
        assert_eq!(url.to_string(), "postgres://laris:***@db:5432/laris");
        let err = open_store_at(&url, false)
            .err()
            .expect("no PostgreSQL backend yet")
            .to_string();
        assert!(!err.contains("rahasia"), "{err}");
        assert!(err.contains("no PostgreSQL backend"), "{err}");
    }

    #[test]
    fn a_missing_source_is_named_and_not_created() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("dta");
        let err = store_copy(
            &format!("sled:{}", missing.display()),
            &format!("sled:{}", tmp.path().join("copy").display()),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no store at") && err.contains("dta"), "{err}");
        assert!(!missing.exists() && !tmp.path().join("copy").exists());
        let same = format!("sled:{}", tmp.path().display());
        let err = store_copy(&same, &same).unwrap_err().to_string();
        assert!(err.contains("both name"), "{err}");
    }
}
