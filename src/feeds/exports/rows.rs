//! [`Rows`]: the cells of a whole export file in one text buffer, so that a 150k-line sales
//! report takes about its own size in memory rather than a `String` (and an allocation) per
//! cell: as `Vec<Vec<String>>` it took 100 MB, here about 35 MB (docs/performance.md).

use std::ops::Index;

use crate::feeds::FeedError;

/// Rows of trimmed cell text; row `i` is spreadsheet row `i + 1` (empty rows are kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    /// Every cell's text, one after the other.
    text: String,
    /// Where each cell ends in `text` (a cell starts where the one before it ends).
    ends: Vec<u32>,
    /// The index in `ends` of each row's first cell.
    starts: Vec<u32>,
}

/// One row of [`Rows`]: its cells by position.
#[derive(Debug, Clone, Copy)]
pub struct Cells<'a> {
    rows: &'a Rows,
    /// The index in `rows.ends` of the first cell, and the number of cells.
    first: usize,
    len: usize,
}

impl Rows {
    pub fn new() -> Rows {
        Rows::default()
    }

    /// Adds a row of cells (each is trimmed). Refuses a file whose text passes 4 GiB, the
    /// most the cell offsets can address.
    pub fn push<'c>(
        &mut self,
        cells: impl IntoIterator<Item = &'c str>,
        name: &str,
    ) -> Result<(), FeedError> {
        self.starts.push(self.offset(self.ends.len(), name)?);
        for cell in cells {
            self.text.push_str(cell.trim());
            let end = self.offset(self.text.len(), name)?;
            self.ends.push(end);
        }
        Ok(())
    }

    /// Adds an empty row.
    pub fn push_empty(&mut self) {
        // `ends.len()` fits: `push` checked every offset before it.
        self.starts.push(self.ends.len() as u32);
    }

    fn offset(&self, at: usize, name: &str) -> Result<u32, FeedError> {
        u32::try_from(at).map_err(|_| {
            FeedError::Page(format!(
                "{name} holds more than 4 GiB of cell text: split the export into several files"
            ))
        })
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Row `i`; panics when there is no such row, like indexing a slice.
    pub fn row(&self, i: usize) -> Cells<'_> {
        let first = self.starts[i] as usize;
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.ends.len(), |&next| next as usize);
        Cells {
            rows: self,
            first,
            len: end - first,
        }
    }

    /// Every row with its index.
    pub fn iter(&self) -> impl Iterator<Item = (usize, Cells<'_>)> {
        (0..self.len()).map(|i| (i, self.row(i)))
    }

    /// Gives back memory the buffers reserved beyond what they hold.
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.starts.shrink_to_fit();
    }
}

impl<'a> Cells<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Cell `j`, or `None` past the row's end.
    pub fn get(&self, j: usize) -> Option<&'a str> {
        if j >= self.len {
            return None;
        }
        let k = self.first + j;
        let start = if k == 0 { 0 } else { self.rows.ends[k - 1] as usize };
        Some(&self.rows.text[start..self.rows.ends[k] as usize])
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let cells = *self;
        (0..cells.len).filter_map(move |j| cells.get(j))
    }
}

impl Index<usize> for Cells<'_> {
    type Output = str;

    fn index(&self, j: usize) -> &str {
        match self.get(j) {
            Some(cell) => cell,
            None => panic!("cell {j} of a row of {} cells", self.len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_their_cells_trimmed_and_empty_rows_in_place() {
        let mut rows = Rows::new();
        rows.push(["Nama Produk ", " Harga"], "f").unwrap();
        rows.push_empty();
        rows.push(["", "Kopi", "45000"], "f").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows.row(0).iter().collect::<Vec<_>>(), ["Nama Produk", "Harga"]);
        assert!(rows.row(1).is_empty());
        assert_eq!(rows.row(1).get(0), None);
        let third = rows.row(2);
        assert_eq!(
            (third.len(), &third[0], &third[1], &third[2]),
            (3, "", "Kopi", "45000")
        );
        assert_eq!(third.get(3), None);
    }
}
