//! Reading one cell of a data row: money, counts, and why a cell was refused.

use thiserror::Error;

use crate::domain::{DomainError, Rupiah};

/// A cell of an export that could not be read: its column, the value as written and what
/// to write instead. The row is added by whoever reports it (`produk.csv row 7: …`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CellError {
    /// A cell every record needs is empty.
    #[error("{column} is empty: {fix}")]
    Empty { column: &'static str, fix: &'static str },
    /// Not a price in whole rupiah (the domain error quotes the value and the forms accepted).
    #[error("column {column}: {source}")]
    Money {
        column: &'static str,
        source: DomainError,
    },
    #[error("{column} {value:?} is negative: write a price of 0 or more")]
    Negative { column: &'static str, value: String },
    #[error("column {column}: {value:?} is not a whole number: write digits such as 42 or 1.000")]
    NotWholeNumber { column: &'static str, value: String },
    #[error("column {column}: {value} is not a sensible quantity: write 1 to 100000")]
    Quantity { column: &'static str, value: i64 },
    #[error("{column} {value:?} is not a sensible weight in grams: write grams such as 250")]
    Weight { column: &'static str, value: String },
    #[error("{column} {value:?} is unknown: write Aktif or Nonaktif")]
    ProductStatus { column: &'static str, value: String },
    /// The product id the row gives (or its name makes) is not a valid id.
    #[error("column {column}: {source}")]
    ProductId {
        column: &'static str,
        source: DomainError,
    },
}

impl CellError {
    /// The column the error is about.
    pub fn column(&self) -> &'static str {
        match self {
            CellError::Empty { column, .. }
            | CellError::Money { column, .. }
            | CellError::Negative { column, .. }
            | CellError::NotWholeNumber { column, .. }
            | CellError::Quantity { column, .. }
            | CellError::Weight { column, .. }
            | CellError::ProductStatus { column, .. }
            | CellError::ProductId { column, .. } => column,
        }
    }

    /// What a row refused for this error keeps in quarantine: the column and the message.
    pub fn at(&self, origin: &str) -> crate::feeds::FeedError {
        crate::feeds::FeedError::invalid(self.column(), format!("{origin}: {self}"))
    }
}

/// A price in whole rupiah, written as shops write it (`20.000`, `Rp 1.250.000`, …).
pub(super) fn money(cell: &str, column: &'static str) -> Result<Rupiah, CellError> {
    Rupiah::parse(cell).map_err(|source| CellError::Money { column, source })
}

/// A count written `42`, `1.000` or `42,00`.
pub(super) fn whole_number(cell: &str, column: &'static str) -> Result<i64, CellError> {
    cell.parse::<i64>()
        .or_else(|_| {
            // Grouped thousands and zero decimals read as they do for money; a leading "Rp"
            // would be odd in a count but is harmless.
            Rupiah::parse(cell).map(|r| r.0)
        })
        .map_err(|_| CellError::NotWholeNumber {
            column,
            value: cell.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_shops_write_them() {
        assert_eq!(whole_number("42", "Jumlah Stok"), Ok(42));
        assert_eq!(whole_number("1.000", "Jumlah Stok"), Ok(1000));
        assert_eq!(whole_number("42,00", "Jumlah Stok"), Ok(42));
    }

    #[test]
    fn a_refused_cell_names_its_column_its_value_and_the_fix() {
        assert_eq!(
            whole_number("banyak", "Jumlah Stok").unwrap_err().to_string(),
            "column Jumlah Stok: \"banyak\" is not a whole number: write digits such as 42 or 1.000"
        );
        let price = money("dua puluh ribu", "Harga (Rp)").unwrap_err().to_string();
        assert!(
            price.starts_with("column Harga (Rp): invalid price \"dua puluh ribu\": write whole rupiah"),
            "{price}"
        );
    }
}
