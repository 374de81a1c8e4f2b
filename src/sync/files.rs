//! The `export_files` source and `laris import`: Seller Center spreadsheets (CSV or XLSX,
//! docs/feeds.md: export files) from paths or http(s) URLs, each file one page through the pipeline.
//! Products files go first, so that the orders' lines find their products.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::config::source::ExportSource;
use crate::feeds::exports;
use crate::records::RecordKind;
use crate::sync::api::Progress;
use crate::sync::http::{FetchError, Fetcher};
use crate::sync::pipeline::{ImportError, Importer, Incoming, Page};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Products,
    Orders,
}

impl FileKind {
    /// The role its exchange has in a recording.
    pub fn role(self) -> &'static str {
        match self {
            FileKind::Products => "export_products",
            FileKind::Orders => "export_orders",
        }
    }
}

/// Reads every configured file; a file that cannot be fetched or read is an error of the
/// run (the other files are still imported).
pub async fn run(
    source: &ExportSource,
    fetcher: &Fetcher,
    importer: &mut Importer<'_>,
    progress: &dyn Progress,
    now: DateTime<Utc>,
) -> Result<(), ImportError> {
    let files = source
        .products
        .iter()
        .map(|f| (FileKind::Products, f))
        .chain(source.orders.iter().map(|f| (FileKind::Orders, f)));
    for (kind, location) in files {
        progress.step(location);
        match load(location, kind, fetcher).await {
            Ok(bytes) => import_file(importer, kind, location, &bytes, now)?,
            Err(e) => importer.record_error(e.to_string()),
        }
    }
    Ok(())
}

/// Why an export file could not be had.
#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(
        "cannot read export file {location}: {source} (paths are relative to the directory laris runs in)"
    )]
    Read {
        location: String,
        source: std::io::Error,
    },
    #[error("{location} is larger than {limit} bytes (http.max_response_bytes)")]
    TooLarge { location: String, limit: u64 },
}

/// A file's bytes, from an http(s) URL (with retries) or a path (recorded as it is read).
async fn load(location: &str, kind: FileKind, fetcher: &Fetcher) -> Result<Vec<u8>, LoadError> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Ok(fetcher.get(location, kind.role()).await?.body.to_vec());
    }
    let path = Path::new(location);
    let bytes = tokio::fs::read(path).await.map_err(|source| LoadError::Read {
        location: location.to_string(),
        source,
    })?;
    let limit = fetcher.settings().max_response_bytes;
    if bytes.len() as u64 > limit {
        return Err(LoadError::TooLarge {
            location: location.to_string(),
            limit,
        });
    }
    fetcher.record_file(
        &std::fs::canonicalize(path).unwrap_or(path.to_path_buf()),
        kind.role(),
        &bytes,
    );
    Ok(bytes)
}

/// One export file through the pipeline: a file without the required columns is an error
/// naming them; a bad row is quarantined; the rest is stored.
///
/// `fetched_at` stands in for the products' update time (exports carry none): the run's
/// time, the recorded time on replay, a file's modification time on `laris import`.
pub fn import_file(
    importer: &mut Importer<'_>,
    kind: FileKind,
    name: &str,
    bytes: &[u8],
    fetched_at: DateTime<Utc>,
) -> Result<(), ImportError> {
    let rows = match exports::read_rows(bytes, name) {
        Ok(rows) => rows,
        Err(e) => {
            importer.record_error(format!("{name}: {e}"));
            return Ok(());
        }
    };
    let records = match kind {
        FileKind::Products => exports::parse_products(&rows, name, fetched_at).map(|file| {
            file.rows
                .into_iter()
                .map(|row| match row.parsed {
                    Ok(product) => Incoming::Product(product),
                    Err(reason) => Incoming::Bad {
                        kind: RecordKind::Product,
                        origin: row.origin,
                        raw: row.raw,
                        reason,
                    },
                })
                .collect::<Vec<_>>()
        }),
        FileKind::Orders => exports::parse_orders(&rows, name).map(|file| {
            for w in file.warnings {
                importer.warn(format!("{name}: {w}"));
            }
            file.orders
                .into_iter()
                .map(|row| match row.parsed {
                    Ok(order) => Incoming::Order(order),
                    Err(reason) => Incoming::Bad {
                        kind: RecordKind::Order,
                        origin: row.origin,
                        raw: row.raw,
                        reason,
                    },
                })
                .collect()
        }),
    };
    match records {
        Ok(records) => importer.import_page(Page::new(name, records)),
        Err(e) => {
            importer.record_error(format!("{name}: {e}"));
            Ok(())
        }
    }
}
