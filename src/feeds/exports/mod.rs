//! Seller Center export files (docs/feeds.md: export files): the product list and the sales report
//! ("Laporan Penjualan"), as XLSX or CSV, parsed into [`crate::records`]. Pure functions over
//! bytes; fetching files and storing records belong to the sync layer.
//!
//! Exports are made for people, not programs: title and metadata rows sit above the header,
//! column order changes between export versions and most columns are of no use to us. So
//! [`read_rows`] turns either format into rows of cell text, and the header row is then found
//! by its column names. A row that cannot be read becomes a [`FeedError::Record`](crate::feeds::FeedError::Record) naming the
//! column, the value and the row, and the rest of the file is imported; a file without the
//! required columns is a
//! [`FeedError::Page`](crate::feeds::FeedError::Page) and nothing of it is imported.

mod cells;
mod orders;
mod products;
mod read;
mod rows;
mod table;

pub use cells::CellError;
pub use orders::{parse_orders, OrdersFile};
pub use products::{parse_products, ProductsFile};
pub use read::read_rows;
pub use rows::{Cells, Rows};
pub use table::{names_column, Row};

/// What the parsers' tests share: rows written as text, and a row's outcome unwrapped.
#[cfg(test)]
mod testing {
    use chrono::{DateTime, Utc};

    use crate::feeds::exports::rows::Rows;
    use crate::feeds::exports::table::Row;
    use crate::feeds::FeedError;

    pub(super) fn fetched() -> DateTime<Utc> {
        "2026-11-05T00:00:00Z".parse().unwrap()
    }

    pub(super) fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// Rows as if read from a file, from lines of `|`-separated cells.
    pub(super) fn table(lines: &[&str]) -> Rows {
        let mut rows = Rows::new();
        for l in lines {
            if l.is_empty() {
                rows.push_empty();
            } else {
                rows.push(l.split('|'), "table").unwrap();
            }
        }
        rows
    }

    pub(super) fn ok<T: std::fmt::Debug>(row: &Row<T>) -> &T {
        row.parsed
            .as_ref()
            .unwrap_or_else(|e| panic!("{} should parse: {e}", row.origin))
    }

    pub(super) fn err<T: std::fmt::Debug>(row: &Row<T>) -> String {
        match &row.parsed {
            Err(FeedError::Record(e)) => e.to_string(),
            other => panic!("{} should be a record error, got {other:?}", row.origin),
        }
    }
}
