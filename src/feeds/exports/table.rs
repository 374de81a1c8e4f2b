//! Finding the header row of an export by its column names, and reading a data row's cells
//! by column name.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::feeds::exports::rows::{Cells, Rows};
use crate::feeds::FeedError;

/// One data row's outcome (for orders: one order, which may span several rows).
#[derive(Debug, Clone, PartialEq)]
pub struct Row<T> {
    /// Where it came from, like "produk.xlsx row 7" (1-based spreadsheet row; for an order,
    /// its first row).
    pub origin: String,
    /// The row as a JSON object `{header: cell}` (non-empty cells only), kept for quarantine.
    /// For an order, a JSON array of such objects, one per row of the order, and only when
    /// the order is refused (`Null` when it parsed).
    pub raw: Value,
    /// The record, or why it was refused.
    pub parsed: Result<T, FeedError>,
}

/// A column we read: its name as docs/feeds.md writes it (the name used in messages), then the
/// other names export versions use for it.
pub(super) type Column = (&'static str, &'static [&'static str]);

/// Columns both the product export and the sales report have.
pub(super) const PRODUCT_NAME: &str = "Nama Produk";
pub(super) const PRODUCT_ID: &str = "Product ID";

/// A header name as compared: trimmed, lower-case, inner spaces collapsed, a trailing `*`
/// (templates mark required columns `Nama Produk*`) dropped.
fn normalise_name(raw: &str) -> String {
    let lower = raw.trim().trim_end_matches('*').to_lowercase();
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The header row of a file: where it is, its titles, and where each column we read is.
pub(super) struct Header {
    row: usize,
    titles: Vec<String>,
    index: HashMap<&'static str, usize>,
}

impl Header {
    /// The first row holding every required column; otherwise a page error naming what the
    /// closest row lacks.
    pub(super) fn find(
        rows: &Rows,
        columns: &[Column],
        required: &[&str],
        name: &str,
        kind: &str,
    ) -> Result<Header, FeedError> {
        let mut closest: Option<(usize, usize)> = None; // (required names found, row)
        for (i, row) in rows.iter() {
            let names: Vec<String> = row.iter().map(normalise_name).collect();
            let mut index = HashMap::new();
            for (column, aliases) in columns {
                let wanted: Vec<String> = std::iter::once(column)
                    .chain(aliases.iter())
                    .map(|n| normalise_name(n))
                    .collect();
                if let Some(at) = names.iter().position(|n| wanted.contains(n)) {
                    index.insert(*column, at);
                }
            }
            let found = required.iter().filter(|c| index.contains_key(*c)).count();
            if found == required.len() {
                return Ok(Header {
                    row: i,
                    titles: row.iter().map(str::to_string).collect(),
                    index,
                });
            }
            if found > 0 && closest.is_none_or(|(best, _)| found > best) {
                closest = Some((found, i));
            }
        }
        let (missing, closest_note) = match closest {
            Some((_, i)) => {
                let names: Vec<String> = rows.row(i).iter().map(normalise_name).collect();
                let missing: Vec<&str> = required
                    .iter()
                    .copied()
                    .filter(|c| {
                        let (_, aliases) = columns
                            .iter()
                            .find(|(n, _)| n == c)
                            .expect("required is a column");
                        !std::iter::once(c)
                            .chain(aliases.iter())
                            .any(|n| names.contains(&normalise_name(n)))
                    })
                    .collect();
                (missing, format!(" (row {} came closest)", i + 1))
            }
            None => (required.to_vec(), String::new()),
        };
        Err(FeedError::Page(format!(
            "{name}: no header row found: missing column {}{closest_note}. {kind} must have a header row \
             naming at least the columns {}",
            quoted_list(&missing),
            quoted_list(required),
        )))
    }

    /// The trimmed cell of `column` in `row`, empty when the column or the cell is absent.
    pub(super) fn cell<'a>(&self, row: Cells<'a>, column: &str) -> &'a str {
        self.index.get(column).and_then(|&i| row.get(i)).unwrap_or("")
    }

    /// A non-empty cell, or `None`.
    pub(super) fn text(&self, row: Cells<'_>, column: &str) -> Option<String> {
        Some(self.cell(row, column))
            .filter(|c| !c.is_empty())
            .map(str::to_string)
    }

    /// The row as `{title: cell}`, non-empty cells under a titled column only.
    pub(super) fn raw(&self, row: Cells<'_>) -> Map<String, Value> {
        let mut object = Map::new();
        for (title, cell) in self.titles.iter().zip(row.iter()) {
            if !title.is_empty() && !cell.is_empty() && !object.contains_key(title) {
                object.insert(title.clone(), Value::String(cell.to_string()));
            }
        }
        object
    }
}

fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A row with its index in the file (row `i` is spreadsheet row `i + 1`).
pub(super) type NumberedRow<'a> = (usize, Cells<'a>);

/// Non-blank rows below the header, with their index.
pub(super) fn data_rows<'a>(rows: &'a Rows, header: &Header) -> impl Iterator<Item = NumberedRow<'a>> {
    rows.iter()
        .skip(header.row + 1)
        .filter(|(_, row)| row.iter().any(|c| !c.is_empty()))
}

pub(super) fn origin(name: &str, index: usize) -> String {
    format!("{name} row {}", index + 1)
}

/// Whether some row of the file holds this column name (compared as header names are):
/// how an uploaded file with no kind given is told apart, a sales report by its
/// `Nomor Invoice`.
pub fn names_column(rows: &Rows, column: &str) -> bool {
    let wanted = normalise_name(column);
    rows.iter()
        .any(|(_, row)| row.iter().any(|c| normalise_name(c) == wanted))
}

#[cfg(test)]
mod tests {
    use super::names_column;
    use crate::feeds::exports::orders::parse_orders;
    use crate::feeds::exports::products::parse_products;
    use crate::feeds::exports::testing::{fetched, table};
    use crate::feeds::FeedError;

    #[test]
    fn a_missing_required_column_is_named_with_the_file_in_a_page_error() {
        let rows = table(&[
            "Laporan",
            "Nomor Invoice|Nama Produk|Harga Jual (IDR)|Tanggal Pembayaran",
            "INV/1|Kopi|1|x",
        ]);
        let Err(FeedError::Page(e)) = parse_orders(&rows, "penjualan.csv") else {
            panic!("a report without a quantity column must be refused whole");
        };
        assert!(e.contains("penjualan.csv"), "{e}");
        assert!(
            e.contains("missing column \"Jumlah Produk Dibeli\" (row 2 came closest)"),
            "{e}"
        );
        assert!(!e.contains("missing column \"Nomor Invoice\""), "{e}");

        let Err(FeedError::Page(e)) = parse_products(&table(&["Judul", "a|b"]), "produk.csv", fetched())
        else {
            panic!("a file without any required column must be refused whole");
        };
        assert!(e.contains("\"Nama Produk\", \"Harga (Rp)\""), "{e}");
    }

    #[test]
    fn a_column_is_found_in_any_row_as_headers_are_compared() {
        let rows = table(&["Laporan Penjualan", "nomor  invoice*|Nama Produk", "INV/1|Kopi"]);
        assert!(names_column(&rows, "Nomor Invoice"));
        assert!(!names_column(
            &table(&["Nama Produk|Harga (Rp)"]),
            "Nomor Invoice"
        ));
    }
}
