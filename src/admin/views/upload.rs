//! The upload page ("Upload exports"): the form's limit, the newest imports (uploads and
//! `laris import` runs, from the shop's sync reports) and one import's report in full, its
//! counts and the rows it quarantined.

use std::collections::HashMap;

use serde::Serialize;

use crate::admin::views::queries::{msg, PageError};
use crate::admin::views::sync::{QuarantinedRow, QUARANTINE_LISTED, REPORTS_LISTED};
use crate::config::ShopSettings;
use crate::records::{Quarantined, RunKind, SyncReport};
use crate::store::ShopStore;

/// Imports listed on the page, newest first.
pub const IMPORTS_LISTED: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UploadPage {
    /// The largest file taken, in bytes (`server.max_upload_bytes`) and as text ("50 MiB").
    pub max_bytes: u64,
    pub max_size: String,
    /// The newest imports, at most [`IMPORTS_LISTED`].
    pub imports: Vec<ImportRow>,
    /// The import asked for with `?report=`.
    pub shown: Option<ImportReport>,
}

/// An import in the list: its report and the id its link uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportRow {
    /// Its start time in milliseconds since 1970 (`?report=` on the page).
    pub id: i64,
    pub report: SyncReport,
}

/// One import in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    pub id: i64,
    pub report: SyncReport,
    /// Rows it quarantined, in file order, at most [`QUARANTINE_LISTED`].
    pub quarantined: Vec<QuarantinedRow>,
    /// How many it quarantined in all.
    pub quarantined_total: usize,
}

/// A size in bytes as people read it: "50 MiB", "1.5 MiB", "512 KiB", "900 bytes".
pub fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    const KIB: u64 = 1 << 10;
    if bytes >= MIB {
        let tenths = (bytes * 10 + MIB / 2) / MIB;
        if tenths.is_multiple_of(10) {
            format!("{} MiB", tenths / 10)
        } else {
            format!("{}.{} MiB", tenths / 10, tenths % 10)
        }
    } else if bytes >= KIB {
        format!("{} KiB", (bytes + KIB / 2) / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// `?report=ID` of the page: which import to show in full.
pub fn parse_upload_query(q: &HashMap<String, String>) -> Result<Option<i64>, PageError> {
    if let Some(k) = q.keys().find(|k| k.as_str() != "report") {
        return Err(PageError::BadQuery(msg(
            "unknown parameter {name}: use {choices}",
            &[("name", &format!("{k:?}")), ("choices", "report")],
        )));
    }
    q.get("report")
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                PageError::BadQuery(msg(
                    "report={value} is not valid: follow a link from the list of imports on this page",
                    &[("value", &format!("{v:?}"))],
                ))
            })
        })
        .transpose()
}

/// An import's quarantined rows: those of the shop quarantined while it ran (a shop runs
/// one import or sync at a time), in file order.
pub fn quarantined_by(report: &SyncReport, all: Vec<Quarantined>) -> Vec<Quarantined> {
    let mut rows: Vec<Quarantined> = all
        .into_iter()
        .filter(|q| q.at >= report.started_at && q.at <= report.finished_at)
        .collect();
    rows.sort_by_key(|q| q.at);
    rows
}

pub fn upload_page(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    report: Option<i64>,
    max_bytes: u64,
) -> Result<UploadPage, PageError> {
    let imports: Vec<ImportRow> = store
        .sync_reports(&shop.id, REPORTS_LISTED)?
        .into_iter()
        .filter(|r| r.kind == RunKind::Import)
        .map(|report| ImportRow {
            id: report.started_at.timestamp_millis(),
            report,
        })
        .collect();
    let shown = match report {
        None => None,
        Some(id) => {
            let Some(row) = imports.iter().find(|r| r.id == id) else {
                return Err(PageError::NotFound(msg(
                    "no import of shop {shop} started at {id}: the newest imports are listed on the upload page",
                    &[("shop", shop.id.as_str()), ("id", &id.to_string())],
                )));
            };
            let rows = quarantined_by(&row.report, store.quarantined(&shop.id)?);
            Some(ImportReport {
                id,
                report: row.report.clone(),
                quarantined_total: rows.len(),
                quarantined: rows
                    .into_iter()
                    .take(QUARANTINE_LISTED)
                    .map(QuarantinedRow::from)
                    .collect(),
            })
        }
    };
    Ok(UploadPage {
        max_bytes,
        max_size: size_text(max_bytes),
        imports: imports.into_iter().take(IMPORTS_LISTED).collect(),
        shown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_text(50 << 20), "50 MiB");
        assert_eq!(size_text(3 << 19), "1.5 MiB");
        assert_eq!(size_text(4096), "4 KiB");
        assert_eq!(size_text(900), "900 bytes");
    }

    #[test]
    fn the_query_names_one_import_by_number_or_nothing() {
        let q = |k: &str, v: &str| HashMap::from([(k.to_string(), v.to_string())]);
        assert_eq!(parse_upload_query(&HashMap::new()).unwrap(), None);
        assert_eq!(
            parse_upload_query(&q("report", "1764979200123")).unwrap(),
            Some(1764979200123)
        );
        let bad = parse_upload_query(&q("report", "kemarin"))
            .unwrap_err()
            .to_string();
        assert!(bad.contains("\"kemarin\""), "{bad}");
        assert!(parse_upload_query(&q("x", "1")).is_err());
    }
}
