//! Reading an export file, XLSX or CSV, into rows of cell text.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use crate::feeds::exports::rows::Rows;
use crate::feeds::FeedError;

/// Reads a file's first sheet (XLSX, detected by the zip magic `PK\x03\x04` or a .xlsx name)
/// or CSV (delimiter sniffed among `,` `;` `\t`, UTF-8 BOM stripped) into rows of trimmed cell
/// text. XLSX date/datetime cells become "DD-MM-YYYY HH:MM:SS" (a time-only cell "HH:MM:SS");
/// whole-number floats print without ".0" (so 20000.0 → "20000", and an SKU like 00123 stays
/// text if the cell is text).
///
/// Row `i` of the result is spreadsheet row `i + 1`: leading empty rows and blank CSV lines
/// are kept as empty rows so that positions quoted in errors match what the owner sees.
pub fn read_rows(bytes: &[u8], name: &str) -> Result<Rows, FeedError> {
    if bytes.starts_with(b"PK\x03\x04") || name.to_lowercase().ends_with(".xlsx") {
        read_xlsx(bytes, name)
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        Err(FeedError::Page(format!(
            "{name} is an old Excel 97–2003 (.xls) workbook: save it as .xlsx or CSV and import that"
        )))
    } else {
        read_csv(bytes, name)
    }
}

fn read_xlsx(bytes: &[u8], name: &str) -> Result<Rows, FeedError> {
    let unreadable =
        |e: &dyn std::fmt::Display| FeedError::Page(format!("{name} is not a readable XLSX workbook: {e}"));
    // calamine 0.38 panics on some malformed sheets (found by fuzzing: a `<dimension>` whose
    // end lies before its start, a cell reference past u32); such a file is refused like any
    // other unreadable workbook instead of taking the sync down with it. (Under cargo fuzz,
    // whose panic hook aborts, these still show as crashes.)
    let read = std::panic::catch_unwind(|| {
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
        match workbook.worksheet_range_at(0) {
            Some(range) => range.map_err(|e| unreadable(&e)),
            None => Err(FeedError::Page(format!("{name} has no worksheet"))),
        }
    });
    let range = read.unwrap_or_else(|_| Err(unreadable(&"its first sheet could not be parsed")))?;
    let Some((top, left)) = range.start() else {
        return Ok(Rows::new());
    };
    // The range starts at the first non-empty cell: pad so positions are the sheet's own.
    let mut rows = Rows::new();
    for _ in 0..top {
        rows.push_empty();
    }
    let mut texts: Vec<String> = Vec::new();
    for cells in range.rows() {
        texts.clear();
        texts.extend(cells.iter().map(cell_text));
        let padding = std::iter::repeat_n("", left as usize);
        rows.push(padding.chain(texts.iter().map(String::as_str)), name)?;
    }
    rows.shrink_to_fit();
    Ok(rows)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) => excel_datetime_text(dt),
        Data::DateTimeIso(s) => iso_datetime_text(s.trim()),
        Data::Error(e) => e.to_string(),
    }
}

/// Spreadsheets store every number as a float: `20000.0` is the integer people typed.
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

const DATETIME_TEXT: &str = "%d-%m-%Y %H:%M:%S";

fn excel_datetime_text(dt: &calamine::ExcelDateTime) -> String {
    let value = dt.as_f64();
    if dt.is_duration() || (0.0..1.0).contains(&value) {
        // A time of day (or a duration): there is no date to print.
        let secs = (value * 86_400.0).round().max(0.0) as i64;
        return format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    }
    let (year, month, day, hour, min, sec, milli) = dt.to_ymd_hms_milli();
    NaiveDate::from_ymd_opt(year.into(), month.into(), day.into())
        .and_then(|d| d.and_hms_opt(hour.into(), min.into(), sec.into()))
        .map(|t| t + Duration::seconds(i64::from(milli >= 500)))
        .map(|t| t.format(DATETIME_TEXT).to_string())
        // Excel's fictitious 29-02-1900 and the like: keep the serial number.
        .unwrap_or_else(|| number_text(value))
}

fn iso_datetime_text(s: &str) -> String {
    if let Ok(t) = s.parse::<NaiveDateTime>() {
        t.format(DATETIME_TEXT).to_string()
    } else if let Ok(d) = s.parse::<NaiveDate>() {
        format!("{} 00:00:00", d.format("%d-%m-%Y"))
    } else if let Ok(t) = s.parse::<NaiveTime>() {
        t.format("%H:%M:%S").to_string()
    } else {
        s.to_string()
    }
}

fn read_csv(bytes: &[u8], name: &str) -> Result<Rows, FeedError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv_reader(bytes, sniff_delimiter(bytes));
    let mut rows = Rows::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let before = reader.position().byte() as usize;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(FeedError::Page(format!("{name} is not a readable CSV file: {e}"))),
        }
        // The reader skips blank lines, which a spreadsheet shows as empty rows.
        for _ in 0..blank_lines_at(bytes, before) {
            rows.push_empty();
        }
        let cells: Vec<std::borrow::Cow<str>> = record.iter().map(String::from_utf8_lossy).collect();
        rows.push(cells.iter().map(|c| c.as_ref()), name)?;
    }
    rows.shrink_to_fit();
    Ok(rows)
}

/// How many blank lines start at byte `at` (where the reader stopped after the previous
/// record: possibly between the `\r` and `\n` of its line break).
fn blank_lines_at(bytes: &[u8], mut at: usize) -> usize {
    if at > 0 && bytes[at - 1] == b'\r' && bytes.get(at) == Some(&b'\n') {
        at += 1;
    }
    let mut blank = 0;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'\n' => at += 1,
            b'\r' if bytes.get(at + 1) == Some(&b'\n') => at += 2,
            b'\r' => at += 1,
            _ => break,
        }
        blank += 1;
    }
    blank
}

fn csv_reader(bytes: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes)
}

/// The delimiter under which most of the first records agree on one number of fields (more
/// than one); ties go to the one giving more fields. Counting agreement rather than raw
/// occurrences keeps `20.000,00` in a `;` file and commas in a tab file's descriptions from
/// winning.
fn sniff_delimiter(bytes: &[u8]) -> u8 {
    let mut best = (b',', 0usize, 0usize);
    for delimiter in [b',', b';', b'\t'] {
        let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
        for record in csv_reader(bytes, delimiter).byte_records().take(50).flatten() {
            if record.len() > 1 {
                *counts.entry(record.len()).or_default() += 1;
            }
        }
        if let Some((&fields, &agreeing)) = counts.iter().max_by_key(|(fields, n)| (**n, **fields)) {
            if (agreeing, fields) > (best.1, best.2) {
                best = (delimiter, agreeing, fields);
            }
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tab_separated_file_with_commas_in_descriptions_is_split_on_tabs() {
        let tsv = "Nama Produk\tHarga (Rp)\tDeskripsi Produk\n\
                   Serundeng\t20000\tgurih, renyah, pedas, manis, enak\n\
                   Kopi\t45000\tharum\n";
        let rows = read_rows(tsv.as_bytes(), "produk.txt").unwrap();
        assert_eq!(
            rows.row(1).iter().collect::<Vec<_>>(),
            vec!["Serundeng", "20000", "gurih, renyah, pedas, manis, enak"]
        );
    }

    #[test]
    fn a_workbook_that_makes_calamine_panic_is_refused_as_unreadable() {
        // Found by `cargo fuzz run export_xlsx`: a sheet dimension ending before it starts
        // (a subtraction overflow in calamine), and a cell reference whose position overflows
        // a multiplication.
        for bytes in [
            &include_bytes!("../../../tests/fixtures/exports/reversed-dimension.xlsx")[..],
            &include_bytes!("../../../tests/fixtures/exports/overflowing-cell-reference.xlsx")[..],
        ] {
            let Err(FeedError::Page(e)) = read_rows(bytes, "produk.xlsx") else {
                panic!("a workbook calamine cannot read must be a page error");
            };
            assert!(
                e.contains("produk.xlsx") && e.contains("not a readable XLSX"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_file_that_is_not_a_workbook_or_text_is_refused_whole() {
        let Err(FeedError::Page(e)) = read_rows(b"PK\x03\x04 not really a zip", "produk.xlsx") else {
            panic!("a broken workbook must be a page error");
        };
        assert!(e.contains("produk.xlsx"), "{e}");
        let Err(FeedError::Page(e)) = read_rows(b"\xD0\xCF\x11\xE0rest", "produk.xls") else {
            panic!("an .xls workbook must be a page error");
        };
        assert!(e.contains("save it as .xlsx"), "{e}");
    }
}
