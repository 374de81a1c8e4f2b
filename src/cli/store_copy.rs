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
    fn an_unreachable_postgres_store_is_named_without_its_password() {
        let url = StoreUrl::parse("postgres://laris:rahasia@127.0.0.1:1/laris").unwrap();
        assert_eq!(url.to_string(), "postgres://laris:***@127.0.0.1:1/laris");
        let err = open_store_at(&url, false)
            .err()
            .expect("nothing listens on port 1");
        let err = format!("{err:#}");
        assert!(!err.contains("rahasia"), "{err}");
        assert!(err.contains("127.0.0.1:1"), "{err}");
    }

    #[test]
    fn a_shop_copied_from_sled_to_postgres_and_back_is_equal() {
        use crate::store::contract::{order, product};
        use crate::store::{ImportBatch, ShopStore, Store};
        let tmp = tempfile::tempdir().unwrap();
        let (first, back) = (tmp.path().join("first"), tmp.path().join("back"));
        let toko = crate::domain::ShopId::parse("toko").unwrap();
        {
            let store = Store::open(&first).unwrap();
            let mut batch = ImportBatch::new(&toko);
            batch.upsert_product(product("A-1", 15_000));
            batch.upsert_product(product("B-2", 27_500));
            batch.upsert_order(order("INV/1", "A-1", 2));
            store.apply(batch).unwrap();
            store.flush_blocking().unwrap();
        }
        let database = crate::store::postgres::testing::fresh_database();
        let sled = |dir: &std::path::Path| format!("sled:{}", dir.display());
        store_copy(&sled(&first), &database).unwrap();
        let err = store_copy(&sled(&first), &database).unwrap_err().to_string();
        assert!(err.contains("toko"), "a second copy into it is refused: {err}");
        store_copy(&database, &sled(&back)).unwrap();
        let (a, b) = (Store::open(&first).unwrap(), Store::open(&back).unwrap());
        assert_eq!(a.products(&toko).unwrap(), b.products(&toko).unwrap());
        assert_eq!(a.orders(&toko).unwrap(), b.orders(&toko).unwrap());
        assert_eq!(a.fingerprint(&toko).unwrap(), b.fingerprint(&toko).unwrap());
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
