//! The `export_files` source and `laris import`: Seller Center spreadsheets (CSV or XLSX,
//! docs/feeds.md: export files) from paths or http(s) URLs, each file one page through the pipeline.
//! Products files go first, so that the orders' lines find their products. A file uploaded
//! from the dashboard takes the same way ([`import_bytes`], [`check_upload`]).

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::config::source::ExportSource;
use crate::feeds::exports;
use crate::records::RecordKind;
use crate::sync::api::Progress;
use crate::sync::http::{FetchError, Fetcher};
use crate::sync::pipeline::{ImportError, Importer, Incoming, Page};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Products,
    Orders,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Products => "products",
            FileKind::Orders => "orders",
        }
    }

    /// The kind a form or query names: `products` or `orders`; `auto` or nothing means
    /// "read it from the header row" (`Ok(None)`).
    pub fn parse_choice(text: Option<&str>) -> Result<Option<FileKind>, String> {
        match text.map(str::trim).unwrap_or("") {
            "" | "auto" => Ok(None),
            "products" => Ok(Some(FileKind::Products)),
            "orders" => Ok(Some(FileKind::Orders)),
            other => Err(format!(
                "kind {other:?} is not known: use products (a product list), orders (a sales report) or auto"
            )),
        }
    }

    /// A file's kind from its rows: a sales report names `Nomor Invoice`; anything else is
    /// read as a product list, whose parser then names the columns it lacks.
    pub fn detect(rows: &exports::Rows) -> FileKind {
        if exports::names_column(rows, "Nomor Invoice") {
            FileKind::Orders
        } else {
            FileKind::Products
        }
    }

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
    match exports::read_rows(bytes, name) {
        Ok(rows) => import_rows(importer, kind, name, rows, fetched_at),
        Err(e) => {
            importer.record_error(format!("{name}: {e}"));
            Ok(())
        }
    }
}

/// One export file's bytes through the pipeline, as `laris import` and an upload from the
/// dashboard take it: `kind` `None` reads the kind from the header row ([`FileKind::detect`]).
/// The bytes go once the rows are read. Answers the kind imported, `None` when the file
/// could not be read at all (an error of the run, in its report).
pub fn import_bytes(
    importer: &mut Importer<'_>,
    kind: Option<FileKind>,
    name: &str,
    bytes: Vec<u8>,
    fetched_at: DateTime<Utc>,
) -> Result<Option<FileKind>, ImportError> {
    // The rows hold the cells: the file's bytes can go before the records are made.
    let rows = exports::read_rows(&bytes, name);
    drop(bytes);
    match rows {
        Ok(rows) => {
            let kind = kind.unwrap_or_else(|| FileKind::detect(&rows));
            import_rows(importer, kind, name, rows, fetched_at)?;
            Ok(Some(kind))
        }
        Err(e) => {
            importer.record_error(format!("{name}: {e}"));
            Ok(None)
        }
    }
}

/// What the dashboard says to an uploaded file that cannot be an export: each names the
/// file and what to upload instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAnExport {
    #[error("{name} is named .xlsx but is not an XLSX workbook: {ACCEPTED}")]
    FakeXlsx { name: String },
    #[error("{name} is an old Excel (.xls) workbook: save it as .xlsx or CSV and upload that")]
    OldExcel { name: String },
    #[error("{name} is not CSV text (UTF-8) nor an XLSX workbook: {ACCEPTED}")]
    NotText { name: String },
    #[error("{name} is a .{extension} file, not an export: {ACCEPTED}")]
    OtherKind { name: String, extension: String },
}

/// The forms an upload is accepted in.
const ACCEPTED: &str =
    "upload the Seller Center export as .xlsx or as .csv (comma, semicolon or tab separated)";

/// Whether an uploaded file may be an export, from its name and first bytes: an `.xlsx`
/// workbook (a zip) or CSV text (`.csv`, `.tsv`, `.txt`, or no extension). Anything else is
/// refused before the import with a message naming the file and the accepted forms.
pub fn check_upload(name: &str, head: &[u8]) -> Result<(), NotAnExport> {
    let zip = head.starts_with(b"PK\x03\x04");
    let extension = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase());
    let name = name.to_string();
    match extension.as_deref() {
        Some("xlsx") if zip => Ok(()),
        Some("xlsx") => Err(NotAnExport::FakeXlsx { name }),
        Some("xls") => Err(NotAnExport::OldExcel { name }),
        None | Some("csv" | "tsv" | "txt") if zip => Ok(()),
        None | Some("csv" | "tsv" | "txt") => {
            let text = match std::str::from_utf8(head) {
                Ok(_) => true,
                // Cut in the middle of a character at the end of `head`.
                Err(e) => e.error_len().is_none(),
            };
            if text && !head.contains(&0) {
                Ok(())
            } else {
                Err(NotAnExport::NotText { name })
            }
        }
        Some(other) => Err(NotAnExport::OtherKind {
            name,
            extension: other.to_string(),
        }),
    }
}

/// [`import_file`] from the file's rows, so that a caller can let go of the file's bytes
/// first. The rows are dropped once parsed; a sales report's orders are then written in
/// batches ([`Importer::import_in_batches`]), a product list in one.
pub fn import_rows(
    importer: &mut Importer<'_>,
    kind: FileKind,
    name: &str,
    rows: exports::Rows,
    fetched_at: DateTime<Utc>,
) -> Result<(), ImportError> {
    match kind {
        FileKind::Products => {
            let file = exports::parse_products(&rows, name, fetched_at);
            drop(rows);
            match file {
                Ok(file) => {
                    let records = file
                        .rows
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
                        .collect();
                    importer.import_page(Page::new(name, records))
                }
                Err(e) => {
                    importer.record_error(format!("{name}: {e}"));
                    Ok(())
                }
            }
        }
        FileKind::Orders => {
            let file = exports::parse_orders(&rows, name);
            drop(rows);
            match file {
                Ok(file) => {
                    for w in file.warnings {
                        importer.warn(format!("{name}: {w}"));
                    }
                    let records = file.orders.into_iter().map(|row| match row.parsed {
                        Ok(order) => Incoming::Order(order),
                        Err(reason) => Incoming::Bad {
                            kind: RecordKind::Order,
                            origin: row.origin,
                            raw: row.raw,
                            reason,
                        },
                    });
                    importer.import_in_batches(records)
                }
                Err(e) => {
                    importer.record_error(format!("{name}: {e}"));
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ShopId;
    use crate::store::{ShopStore, Store};
    use crate::sync::pipeline::FILE_BATCH_RECORDS;

    /// A sales report of `orders` two-line orders, one of them (the last) refused.
    fn report(orders: usize) -> String {
        let mut csv = String::from(
            "Nomor Invoice,Tanggal Pembayaran,Nama Produk,Jumlah Produk Dibeli,Harga Jual (IDR),Nama Pembeli\n",
        );
        for i in 0..orders {
            let quantity = if i + 1 == orders { "dua" } else { "1" };
            csv.push_str(&format!(
                "INV/{i},02-11-2026 10:15,Kopi,{quantity},45000,Pembeli {}\n",
                i % 7
            ));
            csv.push_str(&format!(
                "INV/{i},02-11-2026 10:15,Teh,2,10000,Pembeli {}\n",
                i % 7
            ));
        }
        csv
    }

    #[test]
    fn an_upload_is_an_xlsx_zip_or_csv_text_and_anything_else_is_refused_by_name() {
        assert!(check_upload("produk.xlsx", b"PK\x03\x04rest").is_ok());
        assert!(check_upload(
            "penjualan.csv",
            "Nomor Invoice;Nama Produk\nINV/1;Kopi é".as_bytes()
        )
        .is_ok());
        // A character cut at the end of the bytes looked at is still text.
        assert!(check_upload("penjualan.csv", &"é".as_bytes()[..1]).is_ok());
        let xls = check_upload("lama.xls", b"\xD0\xCF\x11\xE0")
            .unwrap_err()
            .to_string();
        assert!(xls.contains("lama.xls") && xls.contains(".xlsx"), "{xls}");
        let pdf = check_upload("laporan.pdf", b"%PDF-1.7").unwrap_err().to_string();
        assert!(
            pdf.contains("laporan.pdf") && pdf.contains(".xlsx") && pdf.contains(".csv"),
            "{pdf}"
        );
        let fake = check_upload("produk.xlsx", b"Nama Produk,Harga")
            .unwrap_err()
            .to_string();
        assert!(
            fake.contains("produk.xlsx") && fake.contains("not an XLSX"),
            "{fake}"
        );
        let binary = check_upload("foto.csv", b"\x89PNG\r\n\x1a\n\0\0")
            .unwrap_err()
            .to_string();
        assert!(binary.contains("foto.csv"), "{binary}");
    }

    #[test]
    fn a_file_without_a_kind_is_read_as_what_its_header_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let shop = ShopId::parse("lengkuas").unwrap();
        let mut importer = Importer::new(&store, shop.clone());
        let products = "Daftar Produk\nNama Produk*;Harga (Rp)*;SKU Name\nKopi Gayo 1 kg;Rp120.000;KOPI-1\n";
        let kind = import_bytes(&mut importer, None, "produk.csv", products.into(), Utc::now()).unwrap();
        assert_eq!(kind, Some(FileKind::Products));
        let kind = import_bytes(
            &mut importer,
            None,
            "penjualan.csv",
            report(2).into_bytes(),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(kind, Some(FileKind::Orders));
        let kind = import_bytes(
            &mut importer,
            None,
            "kosong.xlsx",
            b"PK\x03\x04".to_vec(),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(kind, None, "an unreadable workbook is an error of the run");
        let report = importer.finish(crate::records::RunKind::Import, "test").unwrap();
        assert_eq!((report.products.inserted, report.orders.inserted), (1, 1));
        assert!(
            !report.ok && report.errors[0].contains("kosong.xlsx"),
            "{:?}",
            report.errors
        );
    }

    #[test]
    fn a_report_larger_than_a_batch_is_stored_whole_as_one_page_and_again_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let shop = ShopId::parse("lengkuas").unwrap();
        let orders = 2 * FILE_BATCH_RECORDS + 17;
        let csv = report(orders);
        let at = Utc::now();
        for run in 0..2 {
            let mut importer = Importer::new(&store, shop.clone());
            import_file(
                &mut importer,
                FileKind::Orders,
                "penjualan.csv",
                csv.as_bytes(),
                at,
            )
            .unwrap();
            let report = importer
                .finish(crate::records::RunKind::Import, "penjualan.csv")
                .unwrap();
            assert!(report.ok, "{:?}", report.errors);
            assert_eq!(report.pages, 1, "one file is one page of the report");
            assert_eq!(report.orders.seen, orders as u64 - 1);
            let new = if run == 0 { orders as u64 - 1 } else { 0 };
            assert_eq!((report.orders.inserted, report.orders.updated), (new, 0));
            if run == 0 {
                assert_eq!(report.quarantined, 1);
            }
        }
        let stored = store.orders(&shop).unwrap();
        assert_eq!(stored.len(), orders - 1);
        assert!(stored.iter().all(|o| o.lines.len() == 2));
        assert_eq!(store.quarantined(&shop).unwrap().len(), 1);
    }
}
