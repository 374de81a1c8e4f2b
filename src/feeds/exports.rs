//! Seller Center export files (docs/feeds.md: export files): the product list and the sales report
//! ("Laporan Penjualan"), as XLSX or CSV, parsed into [`crate::records`]. Pure functions over
//! bytes; fetching files and storing records belong to the sync layer.
//!
//! Exports are made for people, not programs: title and metadata rows sit above the header,
//! column order changes between export versions and most columns are of no use to us. So
//! [`read_rows`] turns either format into rows of cell text, and the header row is then found
//! by its column names. A row that cannot be read becomes a [`FeedError::Record`] naming the
//! column, the value and the row, and the rest of the file is imported; a file without the
//! required columns is a [`FeedError::Page`] and nothing of it is imported.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::domain::{CustomerId, OrderStatus, PackSize, ProductId, Rupiah};
use crate::feeds::FeedError;
use crate::records::{Order, OrderLine, Product, ProductStatus};

/// Reads a file's first sheet (XLSX, detected by the zip magic `PK\x03\x04` or a .xlsx name)
/// or CSV (delimiter sniffed among `,` `;` `\t`, UTF-8 BOM stripped) into rows of trimmed cell
/// text. XLSX date/datetime cells become "DD-MM-YYYY HH:MM:SS" (a time-only cell "HH:MM:SS");
/// whole-number floats print without ".0" (so 20000.0 → "20000", and an SKU like 00123 stays
/// text if the cell is text).
///
/// Row `i` of the result is spreadsheet row `i + 1`: leading empty rows and blank CSV lines
/// are kept as empty rows so that positions quoted in errors match what the owner sees.
pub fn read_rows(bytes: &[u8], name: &str) -> Result<Vec<Vec<String>>, FeedError> {
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

/// One data row's outcome (for orders: one order, which may span several rows).
#[derive(Debug, Clone, PartialEq)]
pub struct Row<T> {
    /// Where it came from, like "produk.xlsx row 7" (1-based spreadsheet row; for an order,
    /// its first row).
    pub origin: String,
    /// The row as a JSON object `{header: cell}` (non-empty cells only), kept for quarantine.
    /// For an order, a JSON array of such objects, one per row of the order.
    pub raw: Value,
    /// The record, or why it was refused.
    pub parsed: Result<T, FeedError>,
}

/// A product export, one [`Row`] per non-blank data row in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductsFile {
    /// One per product row, in file order.
    pub rows: Vec<Row<Product>>,
}

/// A sales report: one [`Row`] per order (its lines grouped by invoice, in the order the
/// invoices first appear), and what deserves the owner's look without being an error.
#[derive(Debug, Clone, PartialEq)]
pub struct OrdersFile {
    /// One per order; lines without an invoice before them come first, as record errors.
    pub orders: Vec<Row<Order>>,
    /// Unknown status texts (the order is kept with [`OrderStatus::UNKNOWN`]) and skipped
    /// rows with neither invoice nor product (footers, notes), each naming its row.
    pub warnings: Vec<String>,
}

/// Parses a product export (the product template or product list). `fetched_at` is used as
/// every product's `updated_at`: exports carry no update time.
pub fn parse_products(
    rows: &[Vec<String>],
    name: &str,
    fetched_at: DateTime<Utc>,
) -> Result<ProductsFile, FeedError> {
    let header = Header::find(rows, PRODUCT_COLUMNS, PRODUCT_REQUIRED, name, "A product export")?;
    let rows = data_rows(rows, &header)
        .map(|(i, row)| {
            let origin = origin(name, i);
            let parsed = product_from_row(row, &header, fetched_at)
                .map_err(|e| FeedError::unreadable(format!("{origin}: {e}")));
            Row {
                raw: Value::Object(header.raw(row)),
                origin,
                parsed,
            }
        })
        .collect();
    Ok(ProductsFile { rows })
}

/// Parses a sales report: one row per order line, grouped into orders by `Nomor Invoice`.
/// Lines' products are not looked up here (`product: None`); the importer resolves
/// `marketplace_product_id`, then `sku`, then the name.
pub fn parse_orders(rows: &[Vec<String>], name: &str) -> Result<OrdersFile, FeedError> {
    let header = Header::find(rows, ORDER_COLUMNS, ORDER_REQUIRED, name, "A sales report")?;
    let mut warnings = Vec::new();
    // Invoices in the order they first appear, each with its rows.
    let mut groups: Vec<(String, Vec<NumberedRow>)> = Vec::new();
    let mut by_invoice: HashMap<String, usize> = HashMap::new();
    let mut current: Option<usize> = None;
    let mut orphans = Vec::new();
    for (i, row) in data_rows(rows, &header) {
        let invoice = header.cell(row, INVOICE);
        let group = if invoice.is_empty() {
            let is_line = [PRODUCT_NAME, QUANTITY, SELLING_PRICE]
                .iter()
                .any(|c| !header.cell(row, c).is_empty());
            if !is_line {
                warnings.push(format!(
                    "{}: no {INVOICE} and no product: not an order line, skipped",
                    origin(name, i)
                ));
                continue;
            }
            match current {
                Some(g) => g,
                None => {
                    orphans.push((i, row));
                    continue;
                }
            }
        } else {
            *by_invoice.entry(invoice.to_string()).or_insert_with(|| {
                groups.push((invoice.to_string(), Vec::new()));
                groups.len() - 1
            })
        };
        groups[group].1.push((i, row));
        current = Some(group);
    }

    let mut orders: Vec<Row<Order>> = orphans
        .into_iter()
        .map(|(i, row)| Row {
            origin: origin(name, i),
            raw: Value::Array(vec![Value::Object(header.raw(row))]),
            parsed: Err(FeedError::unreadable(format!(
                "{}: {INVOICE} is empty and no invoice comes before it, so the line belongs to no order",
                origin(name, i)
            ))),
        })
        .collect();
    for (invoice, lines) in &groups {
        let first = origin(name, lines[0].0);
        let raw = Value::Array(lines.iter().map(|(_, r)| Value::Object(header.raw(r))).collect());
        let parsed = match order_from_rows(invoice, lines, &header, name) {
            Ok((order, warning)) => {
                warnings.extend(warning);
                Ok(order)
            }
            Err(e) => Err(FeedError::unreadable(e)),
        };
        orders.push(Row {
            origin: first,
            raw,
            parsed,
        });
    }
    Ok(OrdersFile { orders, warnings })
}

// ---------------------------------------------------------------------------------------
// Reading XLSX and CSV into cell text
// ---------------------------------------------------------------------------------------

fn read_xlsx(bytes: &[u8], name: &str) -> Result<Vec<Vec<String>>, FeedError> {
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
        return Ok(Vec::new());
    };
    // The range starts at the first non-empty cell: pad so positions are the sheet's own.
    let mut rows = vec![Vec::new(); top as usize];
    for cells in range.rows() {
        let mut row = vec![String::new(); left as usize];
        row.extend(cells.iter().map(cell_text));
        rows.push(row);
    }
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

fn read_csv(bytes: &[u8], name: &str) -> Result<Vec<Vec<String>>, FeedError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv_reader(bytes, sniff_delimiter(bytes));
    let mut rows: Vec<Vec<String>> = Vec::new();
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
            rows.push(Vec::new());
        }
        rows.push(
            record
                .iter()
                .map(|field| String::from_utf8_lossy(field).trim().to_string())
                .collect(),
        );
    }
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

// ---------------------------------------------------------------------------------------
// Finding the header row and reading cells by column name
// ---------------------------------------------------------------------------------------

/// A column we read: its name as docs/feeds.md writes it (the name used in messages), then the
/// other names export versions use for it.
type Column = (&'static str, &'static [&'static str]);

const PRODUCT_NAME: &str = "Nama Produk";
const PRICE: &str = "Harga (Rp)";
const PRODUCT_ID: &str = "Product ID";
const SKU_NAME: &str = "SKU Name";
const STOCK: &str = "Jumlah Stok";
const PRODUCT_STATUS: &str = "Status";
const CATEGORY: &str = "Kode Kategori";
const WEIGHT: &str = "Berat (Gram)";
const DESCRIPTION: &str = "Deskripsi Produk";
const IMAGE: &str = "Foto Produk 1";
const URL: &str = "URL";

const PRODUCT_COLUMNS: &[Column] = &[
    (PRODUCT_NAME, &[]),
    (PRICE, &[]),
    (PRODUCT_ID, &[]),
    (SKU_NAME, &[]),
    (STOCK, &["Stok"]),
    (PRODUCT_STATUS, &[]),
    (CATEGORY, &["Kategori"]),
    (WEIGHT, &["Berat* (Gram)"]),
    (DESCRIPTION, &[]),
    (IMAGE, &["Gambar 1"]),
    (URL, &[]),
];
const PRODUCT_REQUIRED: &[&str] = &[PRODUCT_NAME, PRICE];

const INVOICE: &str = "Nomor Invoice";
const PAID_AT: &str = "Tanggal Pembayaran";
const QUANTITY: &str = "Jumlah Produk Dibeli";
const SELLING_PRICE: &str = "Harga Jual (IDR)";
const ORDER_STATUS: &str = "Status Terakhir";
const SKU_NUMBER: &str = "Nomor SKU";
const BUYER_NAME: &str = "Nama Pembeli";
const BUYER_PHONE: &str = "No Telp Pembeli";
const BUYER_ID: &str = "ID Pembeli";
const FINISHED_DATE: &str = "Tanggal Pesanan Selesai";
const FINISHED_TIME: &str = "Waktu Pesanan Selesai";

const ORDER_COLUMNS: &[Column] = &[
    (INVOICE, &[]),
    (PAID_AT, &[]),
    (PRODUCT_NAME, &[]),
    (QUANTITY, &["Jumlah Produk"]),
    (SELLING_PRICE, &[]),
    (ORDER_STATUS, &[]),
    (SKU_NUMBER, &[]),
    (PRODUCT_ID, &[]),
    (BUYER_NAME, &[]),
    (BUYER_PHONE, &[]),
    (BUYER_ID, &[]),
    (FINISHED_DATE, &[]),
    (FINISHED_TIME, &[]),
];
const ORDER_REQUIRED: &[&str] = &[INVOICE, PAID_AT, PRODUCT_NAME, QUANTITY, SELLING_PRICE];

/// A header name as compared: trimmed, lower-case, inner spaces collapsed, a trailing `*`
/// (templates mark required columns `Nama Produk*`) dropped.
fn normalise_name(raw: &str) -> String {
    let lower = raw.trim().trim_end_matches('*').to_lowercase();
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The header row of a file: where it is, its titles, and where each column we read is.
struct Header {
    row: usize,
    titles: Vec<String>,
    index: HashMap<&'static str, usize>,
}

impl Header {
    /// The first row holding every required column; otherwise a page error naming what the
    /// closest row lacks.
    fn find(
        rows: &[Vec<String>],
        columns: &[Column],
        required: &[&str],
        name: &str,
        kind: &str,
    ) -> Result<Header, FeedError> {
        let mut closest: Option<(usize, usize)> = None; // (required names found, row)
        for (i, row) in rows.iter().enumerate() {
            let names: Vec<String> = row.iter().map(|c| normalise_name(c)).collect();
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
                    titles: row.clone(),
                    index,
                });
            }
            if found > 0 && closest.is_none_or(|(best, _)| found > best) {
                closest = Some((found, i));
            }
        }
        let (missing, closest_note) = match closest {
            Some((_, i)) => {
                let names: Vec<String> = rows[i].iter().map(|c| normalise_name(c)).collect();
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
    fn cell<'a>(&self, row: &'a [String], column: &str) -> &'a str {
        self.index
            .get(column)
            .and_then(|&i| row.get(i))
            .map_or("", |c| c.as_str())
    }

    /// A non-empty cell, or `None`.
    fn text(&self, row: &[String], column: &str) -> Option<String> {
        Some(self.cell(row, column))
            .filter(|c| !c.is_empty())
            .map(str::to_string)
    }

    /// The row as `{title: cell}`, non-empty cells under a titled column only.
    fn raw(&self, row: &[String]) -> Map<String, Value> {
        let mut object = Map::new();
        for (title, cell) in self.titles.iter().zip(row) {
            if !title.is_empty() && !cell.is_empty() && !object.contains_key(title) {
                object.insert(title.clone(), Value::String(cell.clone()));
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
type NumberedRow<'a> = (usize, &'a [String]);

/// Non-blank rows below the header, with their index.
fn data_rows<'a>(rows: &'a [Vec<String>], header: &Header) -> impl Iterator<Item = NumberedRow<'a>> {
    rows.iter()
        .enumerate()
        .skip(header.row + 1)
        .filter(|(_, row)| row.iter().any(|c| !c.trim().is_empty()))
        .map(|(i, row)| (i, row.as_slice()))
}

fn origin(name: &str, index: usize) -> String {
    format!("{name} row {}", index + 1)
}

// ---------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------

fn product_from_row(row: &[String], h: &Header, fetched_at: DateTime<Utc>) -> Result<Product, String> {
    let name = h
        .text(row, PRODUCT_NAME)
        .ok_or_else(|| format!("{PRODUCT_NAME} is empty: every product needs a name"))?;
    let price = money(h.cell(row, PRICE), PRICE)?;
    if price.0 < 0 {
        return Err(format!("{PRICE} {:?} is negative", h.cell(row, PRICE)));
    }
    let sku = h.text(row, SKU_NAME);
    let id_source = h
        .text(row, PRODUCT_ID)
        .or_else(|| sku.clone())
        .unwrap_or_else(|| slug(&name));
    let id = ProductId::parse(&id_source).map_err(|e| e.to_string())?;
    let status = match h.cell(row, PRODUCT_STATUS).to_lowercase().as_str() {
        "" | "aktif" => ProductStatus::Active,
        "nonaktif" => ProductStatus::Inactive,
        _ => {
            return Err(format!(
                "{PRODUCT_STATUS} {:?} is unknown: write Aktif or Nonaktif",
                h.cell(row, PRODUCT_STATUS)
            ))
        }
    };
    let stock = h.text(row, STOCK).map(|s| whole_number(&s, STOCK)).transpose()?;
    let weight_grams = match h.text(row, WEIGHT) {
        None => None,
        Some(w) => {
            let grams = whole_number(&w, WEIGHT)
                .map(|g| g as f64)
                .or_else(|e| w.replace(',', ".").parse::<f64>().map_err(|_| e))?;
            if !(0.0..1e9).contains(&grams) {
                return Err(format!("{WEIGHT} {w:?} is not a sensible weight in grams"));
            }
            Some(grams.round() as u32)
        }
    };
    let category = h
        .cell(row, CATEGORY)
        .split('>')
        .map(str::trim)
        .filter(|level| !level.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Product {
        id,
        marketplace_id: None,
        pack: PackSize::find_in(&name),
        name,
        sku,
        price,
        stock,
        status,
        category,
        weight_grams,
        attributes: BTreeMap::new(),
        description: h.text(row, DESCRIPTION).unwrap_or_default(),
        image: h.text(row, IMAGE),
        url: h.text(row, URL),
        sold_count: None,
        updated_at: fetched_at,
    })
}

/// A stable id for a product the export gives no id or SKU: `Serundeng Lengkuas 100 g` →
/// `serundeng-lengkuas-100-g`, cut to the 128 characters a [`ProductId`] may have.
fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_end_matches('-').to_string();
    while slug.len() > 128 {
        slug.pop();
    }
    slug.trim_end_matches('-').to_string()
}

fn money(cell: &str, column: &str) -> Result<Rupiah, String> {
    Rupiah::parse(cell).map_err(|e| format!("column {column}: {e}"))
}

/// A count written `42`, `1.000` or `42,00`.
fn whole_number(cell: &str, column: &str) -> Result<i64, String> {
    cell.parse::<i64>()
        .or_else(|_| {
            // Grouped thousands and zero decimals read as they do for money; a leading "Rp"
            // would be odd in a count but is harmless.
            Rupiah::parse(cell).map(|r| r.0)
        })
        .map_err(|_| format!("column {column}: {cell:?} is not a whole number"))
}

// ---------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------

/// Builds one order from its rows; a warning when its status text is unknown.
fn order_from_rows(
    invoice: &str,
    rows: &[NumberedRow],
    h: &Header,
    name: &str,
) -> Result<(Order, Option<String>), String> {
    let first = origin(name, rows[0].0);
    // Order-level cells may be blank on continuation lines: the first filled one counts.
    let order_cell = |column: &str| -> Option<(usize, String)> {
        rows.iter()
            .find_map(|(i, row)| h.text(row, column).map(|text| (*i, text)))
    };

    let mut lines = Vec::with_capacity(rows.len());
    for (i, row) in rows {
        let at = origin(name, *i);
        let product_name = h
            .text(row, PRODUCT_NAME)
            .ok_or_else(|| format!("{at}: {PRODUCT_NAME} is empty: every order line needs a product name"))?;
        let quantity = whole_number(h.cell(row, QUANTITY), QUANTITY).map_err(|e| format!("{at}: {e}"))?;
        if !(1..=100_000).contains(&quantity) {
            return Err(format!(
                "{at}: column {QUANTITY}: {quantity} is not a sensible quantity"
            ));
        }
        let unit_price =
            money(h.cell(row, SELLING_PRICE), SELLING_PRICE).map_err(|e| format!("{at}: {e}"))?;
        lines.push(OrderLine {
            product: None,
            marketplace_product_id: h.text(row, PRODUCT_ID),
            sku: h.text(row, SKU_NUMBER),
            name: product_name,
            quantity: quantity as u32,
            unit_price,
        });
    }

    let (paid_row, paid_text) =
        order_cell(PAID_AT).ok_or_else(|| format!("{first}: {PAID_AT} is empty for invoice {invoice}"))?;
    let paid_at = wib_datetime(&paid_text).ok_or_else(|| {
        format!(
            "{}: column {PAID_AT}: {paid_text:?} is not a date and time: write DD-MM-YYYY HH:mm:ss (WIB)",
            origin(name, paid_row)
        )
    })?;
    let finished_at = match order_cell(FINISHED_DATE) {
        None => None,
        Some((row, date)) => {
            let time = order_cell(FINISHED_TIME).map(|(_, t)| t);
            Some(finish_datetime(&date, time.as_deref()).ok_or_else(|| {
                format!(
                    "{}: columns {FINISHED_DATE} + {FINISHED_TIME}: {date:?} {:?} is not a date and time: \
                     write DD-MM-YYYY and HH:mm:ss (WIB)",
                    origin(name, row),
                    time.unwrap_or_default()
                )
            })?)
        }
    };

    let customer = customer_id(
        order_cell(BUYER_ID).map(|(_, t)| t).as_deref(),
        order_cell(BUYER_NAME).map(|(_, t)| t).as_deref(),
        order_cell(BUYER_PHONE).map(|(_, t)| t).as_deref(),
    )
    .ok_or_else(|| {
        format!("{first}: invoice {invoice} names no buyer: {BUYER_NAME}, {BUYER_PHONE} and {BUYER_ID} are all empty")
    })?;

    let mut warning = None;
    let status = match order_cell(ORDER_STATUS) {
        Some((row, text)) => status_from_text(&text).unwrap_or_else(|| {
            warning = Some(format!(
                "{}: unknown {ORDER_STATUS} {text:?} for invoice {invoice}: the order is kept with status \
                 \"unknown\" and does not count as a purchase",
                origin(name, row)
            ));
            OrderStatus::UNKNOWN
        }),
        // The report only lists paid orders.
        None if finished_at.is_some() => OrderStatus(700),
        None => OrderStatus(220),
    };

    let products_total = crate::feeds::lines_total(&lines).ok_or_else(|| {
        format!(
            "{first}: the lines' total of invoice {invoice} (price × quantity) is too large for any order: \
             check column {SELLING_PRICE}"
        )
    })?;
    let order = Order {
        invoice: invoice.to_string(),
        marketplace_id: None,
        customer,
        buyer_name: order_cell(BUYER_NAME).map(|(_, t)| t),
        status,
        created_at: paid_at,
        paid_at,
        updated_at: finished_at.unwrap_or(paid_at),
        lines,
        products_total,
        shipping: Rupiah(0),
    };
    Ok((order, warning))
}

/// `Status Terakhir` texts and their codes (docs/feeds.md: marketplace API). Matched as prefixes: a cancellation
/// may be followed by ` -`, a line break and the reason.
const STATUS_TEXTS: &[(&str, i64)] = &[
    ("pesanan selesai", 700),
    ("transaksi selesai", 700),
    ("pesanan tiba", 600),
    ("pesanan dikirim", 500),
    ("perlu dikirim", 400),
    ("diproses penjual", 400),
    ("dibatalkan pembeli", 0),
    ("dibatalkan penjual", 0),
    ("dibatalkan sistem", 0),
    ("pengembalian dana", 550),
];

fn status_from_text(text: &str) -> Option<OrderStatus> {
    let text = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    STATUS_TEXTS.iter().find_map(|(prefix, code)| {
        let rest = text.strip_prefix(prefix)?;
        // A whole-word prefix: "pesanan selesai." matches, "pesanan selesaikan" does not.
        rest.chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric())
            .then_some(OrderStatus(*code))
    })
}

/// Western Indonesian Time, in which exports write every date.
fn wib() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

fn from_wib(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    wib()
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// `DD-MM-YYYY HH:mm:ss` or `DD-MM-YYYY HH:mm` (as written, and as [`read_rows`] prints
/// XLSX datetimes), or `YYYY-MM-DD HH:mm:ss`, in WIB.
fn wib_datetime(text: &str) -> Option<DateTime<Utc>> {
    [
        "%d-%m-%Y %H:%M:%S",
        "%d-%m-%Y %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text.trim(), format).ok())
    .and_then(from_wib)
}

/// `Tanggal Pesanan Selesai` (`DD-MM-YYYY`, or an XLSX date printed with a time) plus
/// `Waktu Pesanan Selesai` (`HH:mm[:ss]`); without a time cell, the date cell's own time or
/// midnight.
fn finish_datetime(date: &str, time: Option<&str>) -> Option<DateTime<Utc>> {
    let mut parts = date.split_whitespace();
    let day = parts.next()?;
    let day = NaiveDate::parse_from_str(day, "%d-%m-%Y")
        .or_else(|_| NaiveDate::parse_from_str(day, "%Y-%m-%d"))
        .ok()?;
    // A time cell read from XLSX with a date part prints as "DD-MM-YYYY HH:MM:SS".
    let time_text = time.and_then(|t| t.split_whitespace().last()).or(parts.next());
    let time = match time_text {
        None => NaiveTime::MIN,
        Some(t) => NaiveTime::parse_from_str(t, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
            .ok()?,
    };
    from_wib(day.and_time(time))
}

/// `ID Pembeli` when present; else a stable hash of the buyer's name and phone, so that the
/// same person gets the same id in every report without their details being in it.
fn customer_id(id: Option<&str>, name: Option<&str>, phone: Option<&str>) -> Option<CustomerId> {
    if let Some(id) = id {
        return Some(CustomerId(id.to_string()));
    }
    let name = name.unwrap_or("").trim().to_lowercase();
    let mut digits: String = phone.unwrap_or("").chars().filter(char::is_ascii_digit).collect();
    if let Some(national) = digits.strip_prefix("62") {
        // +62 812… and 0812… are the same number.
        digits = format!("0{national}");
    }
    if name.is_empty() && digits.is_empty() {
        return None;
    }
    let hash = Sha256::digest(format!("{name}|{digits}").as_bytes());
    Some(CustomerId(format!("h{}", &hex::encode(hash)[..16])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched() -> DateTime<Utc> {
        "2026-11-05T00:00:00Z".parse().unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// Rows as if read from a file, from lines of `|`-separated cells.
    fn table(lines: &[&str]) -> Vec<Vec<String>> {
        lines
            .iter()
            .map(|l| {
                if l.is_empty() {
                    Vec::new()
                } else {
                    l.split('|').map(|c| c.trim().to_string()).collect()
                }
            })
            .collect()
    }

    fn ok<T: std::fmt::Debug>(row: &Row<T>) -> &T {
        row.parsed
            .as_ref()
            .unwrap_or_else(|e| panic!("{} should parse: {e}", row.origin))
    }

    fn err<T: std::fmt::Debug>(row: &Row<T>) -> String {
        match &row.parsed {
            Err(FeedError::Record(e)) => e.to_string(),
            other => panic!("{} should be a record error, got {other:?}", row.origin),
        }
    }

    #[test]
    fn a_csv_product_list_with_title_rows_and_shuffled_columns_is_read_by_header_names() {
        let csv = "Daftar Produk Toko Lengkuas,,,,,,,\n\
                   Diunduh 05-11-2026,,,,,,,\n\
                   Harga (Rp),Kategori,SKU Name,Stok,Nama Produk,Status,Berat (Gram),Catatan\n\
                   20000,Makanan & Minuman > Bumbu & Rempah ,SRD-100,42,Serundeng Lengkuas 100 g,Aktif,100,abaikan\n\
                   \n\
                   \"Rp 45.000\",,,,\"Kopi Gayo, 1 kg\",nonaktif,,\n";
        let rows = read_rows(csv.as_bytes(), "produk.csv").unwrap();
        let file = parse_products(&rows, "produk.csv", fetched()).unwrap();
        assert_eq!(file.rows.len(), 2);

        let srd = ok(&file.rows[0]);
        assert_eq!(file.rows[0].origin, "produk.csv row 4");
        assert_eq!(srd.id.as_str(), "SRD-100");
        assert_eq!(srd.sku.as_deref(), Some("SRD-100"));
        assert_eq!(srd.name, "Serundeng Lengkuas 100 g");
        assert_eq!(srd.price, Rupiah(20000));
        assert_eq!(srd.stock, Some(42));
        assert_eq!(srd.status, ProductStatus::Active);
        assert_eq!(srd.category, vec!["Makanan & Minuman", "Bumbu & Rempah"]);
        assert_eq!(srd.weight_grams, Some(100));
        assert_eq!(srd.pack.map(|p| p.amount), Some(100));
        assert_eq!(srd.marketplace_id, None);
        assert_eq!(srd.updated_at, fetched());
        assert_eq!(file.rows[0].raw["Catatan"], "abaikan");

        // The blank line is still counted as a row of the sheet.
        assert_eq!(file.rows[1].origin, "produk.csv row 6");
        let kopi = ok(&file.rows[1]);
        assert_eq!(
            kopi.id.as_str(),
            "kopi-gayo-1-kg",
            "no id or SKU: a slug of the name"
        );
        assert_eq!(kopi.price, Rupiah(45000));
        assert_eq!(kopi.status, ProductStatus::Inactive);
        assert_eq!(kopi.stock, None);
        assert!(kopi.category.is_empty());
        assert_eq!(kopi.pack.map(|p| p.amount), Some(1000));
    }

    #[test]
    fn a_semicolon_csv_with_a_byte_order_mark_is_read() {
        let csv = "\u{feff}Nama Produk;Harga (Rp);Product ID;Deskripsi Produk;Foto Produk 1;URL\r\n\
                   Tepung Mocaf 500 gr;20.000,00;P-7;Halus, tanpa gluten;https://img.example/m.jpg;https://toko.example/m\r\n";
        let rows = read_rows(csv.as_bytes(), "produk.csv").unwrap();
        assert_eq!(rows[0][0], "Nama Produk", "the BOM is not part of the first name");
        let file = parse_products(&rows, "produk.csv", fetched()).unwrap();
        let p = ok(&file.rows[0]);
        assert_eq!(p.id.as_str(), "P-7");
        assert_eq!(p.price, Rupiah(20000));
        assert_eq!(p.description, "Halus, tanpa gluten");
        assert_eq!(p.image.as_deref(), Some("https://img.example/m.jpg"));
        assert_eq!(p.url.as_deref(), Some("https://toko.example/m"));
    }

    #[test]
    fn a_tab_separated_file_with_commas_in_descriptions_is_split_on_tabs() {
        let tsv = "Nama Produk\tHarga (Rp)\tDeskripsi Produk\n\
                   Serundeng\t20000\tgurih, renyah, pedas, manis, enak\n\
                   Kopi\t45000\tharum\n";
        let rows = read_rows(tsv.as_bytes(), "produk.txt").unwrap();
        assert_eq!(
            rows[1],
            vec!["Serundeng", "20000", "gurih, renyah, pedas, manis, enak"]
        );
    }

    #[test]
    fn every_price_format_shops_write_is_accepted() {
        let mut lines = vec!["Nama Produk|Harga (Rp)"];
        let prices = [
            ("20000", 20000),
            ("20.000", 20000),
            ("Rp20.000", 20000),
            ("Rp 1.250.000", 1_250_000),
            ("20.000,00", 20000),
        ];
        let product_lines: Vec<String> = prices.iter().map(|(p, _)| format!("Produk {p}|{p}")).collect();
        lines.extend(product_lines.iter().map(String::as_str));
        let file = parse_products(&table(&lines), "produk.csv", fetched()).unwrap();
        for (row, (raw, want)) in file.rows.iter().zip(prices) {
            assert_eq!(ok(row).price, Rupiah(want), "price {raw:?}");
        }
    }

    #[test]
    fn a_bad_product_cell_refuses_that_row_only_naming_column_value_and_row() {
        let rows = table(&[
            "Nama Produk|Harga (Rp)|Status|Jumlah Stok",
            "Serundeng|dua puluh ribu||5",
            "Kopi|45000|Dihapus|",
            "Teh|10000||banyak",
            "Gula|12000|AKTIF|1.000",
        ]);
        let file = parse_products(&rows, "produk.csv", fetched()).unwrap();
        let price = err(&file.rows[0]);
        assert!(
            price.contains("produk.csv row 2")
                && price.contains("Harga (Rp)")
                && price.contains("dua puluh ribu"),
            "{price}"
        );
        let status = err(&file.rows[1]);
        assert!(status.contains("Dihapus") && status.contains("row 3"), "{status}");
        let stock = err(&file.rows[2]);
        assert!(
            stock.contains("Jumlah Stok") && stock.contains("banyak"),
            "{stock}"
        );
        let gula = ok(&file.rows[3]);
        assert_eq!((gula.status, gula.stock), (ProductStatus::Active, Some(1000)));
    }

    #[test]
    fn template_headers_marked_with_a_star_and_aliases_match() {
        let rows = table(&[
            "Nama Produk*|Harga (Rp)*|Berat* (Gram)|Gambar 1|Stok",
            "Serundeng 250 gr|20000|250|https://img.example/s.jpg|0",
        ]);
        let file = parse_products(&rows, "template.xlsx", fetched()).unwrap();
        let p = ok(&file.rows[0]);
        assert_eq!(p.name, "Serundeng 250 gr");
        assert_eq!(p.weight_grams, Some(250));
        assert_eq!(p.image.as_deref(), Some("https://img.example/s.jpg"));
        assert_eq!(p.stock, Some(0));
        assert!(!p.is_available());
    }

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

    const REPORT_HEADER: &str = "Nomor Invoice|Tanggal Pembayaran|Status Terakhir|Nama Produk|Nomor SKU|\
                                 Product ID|Jumlah Produk Dibeli|Harga Jual (IDR)|Nama Pembeli|No Telp Pembeli|\
                                 Biaya Pengiriman";

    #[test]
    fn continuation_lines_with_blank_order_level_cells_join_their_order() {
        let rows = table(&[
            "Laporan Penjualan",
            REPORT_HEADER,
            "INV/1|02-11-2026 10:15:00|Pesanan Selesai|Serundeng 100 g|SRD-100|15001001|2|20000|Sri W.|0812-3456-789|Non Tunai",
            "|||Kopi 1 kg|KOPI-1||1|Rp 45.000|||",
            "INV/2|03-11-2026 08:00|Pesanan Dikirim|Teh 50 g|TEH-50||3|10.000|Budi|+62 811 111|9000",
            "INV/1|||Gula 1 kg|||1|12000|||",
        ]);
        let file = parse_orders(&rows, "penjualan.csv").unwrap();
        assert!(file.warnings.is_empty(), "{:?}", file.warnings);
        assert_eq!(file.orders.len(), 2);
        assert_eq!(file.orders[0].origin, "penjualan.csv row 3");
        assert_eq!(file.orders[0].raw.as_array().unwrap().len(), 3);

        let first = ok(&file.orders[0]);
        assert_eq!(first.invoice, "INV/1");
        assert_eq!(first.lines.len(), 3);
        assert_eq!(first.lines[1].name, "Kopi 1 kg");
        assert_eq!(first.lines[1].sku.as_deref(), Some("KOPI-1"));
        assert_eq!(first.lines[1].marketplace_product_id, None);
        assert_eq!(first.lines[0].marketplace_product_id.as_deref(), Some("15001001"));
        assert_eq!(first.lines[0].product, None);
        assert_eq!(first.products_total, Rupiah(2 * 20000 + 45000 + 12000));
        assert_eq!(first.shipping, Rupiah(0));
        assert_eq!(first.status, OrderStatus(700));
        assert_eq!(first.buyer_name.as_deref(), Some("Sri W."));
        assert_eq!(first.paid_at, utc("2026-11-02T03:15:00Z"));
        assert_eq!(first.created_at, first.paid_at);
        assert_eq!(
            first.updated_at, first.paid_at,
            "no finish date: updated when paid"
        );

        let second = ok(&file.orders[1]);
        assert_eq!(
            (second.lines[0].quantity, second.lines[0].unit_price),
            (3, Rupiah(10000))
        );
        assert_eq!(second.status, OrderStatus(500));
        assert_ne!(second.customer, first.customer);
    }

    #[test]
    fn payment_and_finish_times_in_wib_become_utc() {
        assert_eq!(
            wib_datetime("02-11-2026 10:15:00"),
            Some(utc("2026-11-02T03:15:00Z"))
        );
        assert_eq!(
            wib_datetime("02-11-2026 10:15"),
            Some(utc("2026-11-02T03:15:00Z"))
        );
        assert_eq!(
            wib_datetime("2026-11-02 10:15:00"),
            Some(utc("2026-11-02T03:15:00Z"))
        );
        assert_eq!(
            wib_datetime("02-11-2026 03:00:00"),
            Some(utc("2026-11-01T20:00:00Z"))
        );
        assert_eq!(wib_datetime("02/11/2026"), None);

        let rows = table(&[
            "Nomor Invoice|Tanggal Pembayaran|Nama Produk|Jumlah Produk|Harga Jual (IDR)|ID Pembeli|\
             Tanggal Pesanan Selesai|Waktu Pesanan Selesai",
            "INV/9|02-11-2026 10:15|Kopi|1|45000|777001|05-11-2026|18:30",
            "INV/10|02-11-2026 10:15|Kopi|1|45000|777002|kemarin|",
        ]);
        let file = parse_orders(&rows, "penjualan.csv").unwrap();
        let order = ok(&file.orders[0]);
        assert_eq!(order.customer, CustomerId("777001".into()));
        assert_eq!(order.paid_at, utc("2026-11-02T03:15:00Z"));
        assert_eq!(order.updated_at, utc("2026-11-05T11:30:00Z"));
        assert_eq!(order.status, OrderStatus(700), "no status column but finished");
        let bad = err(&file.orders[1]);
        assert!(
            bad.contains("Tanggal Pesanan Selesai") && bad.contains("kemarin") && bad.contains("row 3"),
            "{bad}"
        );
    }

    #[test]
    fn without_a_status_column_an_unfinished_order_is_payment_verified() {
        let rows = table(&[
            "Nomor Invoice|Tanggal Pembayaran|Nama Produk|Jumlah Produk Dibeli|Harga Jual (IDR)|Nama Pembeli",
            "INV/3|02-11-2026 10:15:00|Kopi|1|45000|Sri",
        ]);
        let order = parse_orders(&rows, "p.csv")
            .unwrap()
            .orders
            .remove(0)
            .parsed
            .unwrap();
        assert_eq!(order.status, OrderStatus(220));
        assert!(order.is_purchase());
    }

    #[test]
    fn status_texts_map_to_codes_including_cancellations_with_a_reason() {
        for (text, code) in [
            ("Pesanan Selesai", 700),
            ("Transaksi selesai..", 700),
            ("Pesanan Tiba", 600),
            ("pesanan dikirim", 500),
            ("Perlu Dikirim", 400),
            ("Diproses Penjual", 400),
            ("Dibatalkan Pembeli -\nPembeli ingin mengubah pesanan", 0),
            ("Dibatalkan Penjual", 0),
            ("Dibatalkan Sistem - \r\nMelewati batas waktu", 0),
            ("Pengembalian Dana", 550),
        ] {
            assert_eq!(status_from_text(text), Some(OrderStatus(code)), "{text:?}");
        }
        assert_eq!(status_from_text("Pesanan Selesaikan"), None);
    }

    #[test]
    fn a_csv_cancellation_reason_on_a_second_line_stays_in_its_cell_and_rows_keep_their_numbers() {
        let csv = "Nomor Invoice,Tanggal Pembayaran,Status Terakhir,Nama Produk,Jumlah Produk Dibeli,\
                   Harga Jual (IDR),Nama Pembeli\r\n\
                   INV/1,02-11-2026 10:15:00,\"Dibatalkan Pembeli -\r\nIngin mengubah pesanan\",Kopi,1,45000,Sri\r\n\
                   \r\n\
                   INV/2,02-11-2026 10:16:00,Pesanan Tiba,Teh,2,\"10.000\",Budi";
        let rows = read_rows(csv.as_bytes(), "penjualan.csv").unwrap();
        let file = parse_orders(&rows, "penjualan.csv").unwrap();
        assert_eq!(file.orders[0].origin, "penjualan.csv row 2");
        let cancelled = ok(&file.orders[0]);
        assert_eq!(cancelled.status, OrderStatus(0));
        assert!(!cancelled.is_purchase());
        assert_eq!(file.orders[1].origin, "penjualan.csv row 4");
        let delivered = ok(&file.orders[1]);
        assert_eq!(
            (delivered.status, delivered.products_total),
            (OrderStatus(600), Rupiah(20000))
        );
    }

    #[test]
    fn an_unknown_status_keeps_the_order_and_reports_the_text() {
        let rows = table(&[
            REPORT_HEADER,
            "INV/4|02-11-2026 10:15:00|Menunggu Konfirmasi Kurir|Kopi|||1|45000|Sri|",
        ]);
        let file = parse_orders(&rows, "penjualan.csv").unwrap();
        let order = ok(&file.orders[0]);
        assert_eq!(order.status, OrderStatus::UNKNOWN);
        assert_eq!(order.status.label(), "unknown");
        assert!(!order.is_purchase());
        assert_eq!(file.warnings.len(), 1);
        let w = &file.warnings[0];
        assert!(
            w.contains("Menunggu Konfirmasi Kurir")
                && w.contains("INV/4")
                && w.contains("penjualan.csv row 2"),
            "{w}"
        );
    }

    #[test]
    fn phone_numbers_written_differently_give_the_same_customer_id() {
        let local = customer_id(None, Some("Sri W."), Some("0812-3456-789")).unwrap();
        let international = customer_id(None, Some("  sri w. "), Some("+62 812 3456 789")).unwrap();
        let bare = customer_id(None, Some("SRI W."), Some("628123456789")).unwrap();
        assert_eq!(local, international);
        assert_eq!(local, bare);
        assert!(local.0.starts_with('h') && local.0.len() == 17, "{local}");
        let expected = hex::encode(Sha256::digest(b"sri w.|08123456789"));
        assert_eq!(local.0[1..], expected[..16]);
        assert_ne!(local, customer_id(None, Some("Sri W."), Some("0812999")).unwrap());
        assert_eq!(
            customer_id(Some("777001"), Some("Sri"), None),
            Some(CustomerId("777001".into()))
        );
        assert_eq!(customer_id(None, None, None), None);
    }

    #[test]
    fn an_order_with_a_bad_line_is_refused_whole_and_the_others_kept() {
        let rows = table(&[
            REPORT_HEADER,
            "INV/5|02-11-2026 10:15:00|Pesanan Selesai|Kopi|||1|45000|Sri|",
            "INV/5|02-11-2026 10:15:00|Pesanan Selesai|Teh|||dua|10000|Sri|",
            "INV/6|02-11-2026 10:15:00|Pesanan Selesai|Teh|||1|10.000,50|Budi|",
            "INV/7|02-11-2026 10:15:00|Pesanan Selesai|Teh|||1|10000||",
            "INV/8|02-11-2026 10:15:00|Pesanan Selesai|Teh|||1|10000|Ani|",
        ]);
        let file = parse_orders(&rows, "penjualan.csv").unwrap();
        assert_eq!(file.orders.len(), 4);
        assert_eq!(file.orders[0].origin, "penjualan.csv row 2");
        let quantity = err(&file.orders[0]);
        assert!(
            quantity.contains("row 3")
                && quantity.contains("Jumlah Produk Dibeli")
                && quantity.contains("\"dua\""),
            "{quantity}"
        );
        let price = err(&file.orders[1]);
        assert!(
            price.contains("Harga Jual (IDR)") && price.contains("10.000,50"),
            "{price}"
        );
        assert!(err(&file.orders[2]).contains("names no buyer"));
        assert_eq!(ok(&file.orders[3]).invoice, "INV/8");
    }

    #[test]
    fn an_xlsx_sales_report_with_its_header_on_row_5_is_read() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("penjualan.xlsx");
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, "Laporan Penjualan").unwrap();
        sheet.write_string(1, 0, "Toko Lengkuas").unwrap();
        sheet
            .write_string(2, 0, "Periode: 01-11-2026 - 30-11-2026")
            .unwrap();
        let header = [
            "No",
            "Nomor Invoice",
            "Tanggal Pembayaran",
            "Status Terakhir",
            "Tanggal Pesanan Selesai",
            "Waktu Pesanan Selesai",
            "Nama Produk",
            "Nomor SKU",
            "Jumlah Produk Dibeli",
            "Harga Awal (IDR)",
            "Harga Jual (IDR)",
            "Nama Pembeli",
            "No Telp Pembeli",
            "Kota",
        ];
        for (col, title) in header.iter().enumerate() {
            sheet.write_string(4, col as u16, *title).unwrap();
        }
        let when = Format::new().set_num_format("dd-mm-yyyy hh:mm:ss");
        let day = Format::new().set_num_format("dd-mm-yyyy");
        let time = Format::new().set_num_format("hh:mm:ss");
        let paid = ExcelDateTime::from_ymd(2026, 11, 2)
            .unwrap()
            .and_hms(10, 15, 0)
            .unwrap();
        // Row 6: a finished order with a numeric SKU cell, dates as real Excel dates.
        sheet.write_number(5, 0, 1).unwrap();
        sheet.write_string(5, 1, "INV/20261102/MPL/3512345678").unwrap();
        sheet.write_datetime_with_format(5, 2, &paid, &when).unwrap();
        sheet.write_string(5, 3, "Pesanan Selesai").unwrap();
        sheet
            .write_datetime_with_format(5, 4, ExcelDateTime::from_ymd(2026, 11, 5).unwrap(), &day)
            .unwrap();
        sheet
            .write_datetime_with_format(5, 5, ExcelDateTime::from_hms(18, 30, 0).unwrap(), &time)
            .unwrap();
        sheet.write_string(5, 6, "Serundeng Lengkuas 100 g").unwrap();
        sheet.write_number(5, 7, 4711).unwrap();
        sheet.write_number(5, 8, 2).unwrap();
        sheet.write_number(5, 9, 25000).unwrap();
        sheet.write_number(5, 10, 20000.0).unwrap();
        sheet.write_string(5, 11, "Sri W.").unwrap();
        sheet.write_string(5, 12, "6281234567890").unwrap();
        sheet.write_string(5, 13, "Bandung").unwrap();
        // Row 7: a continuation line, order-level cells blank, a text SKU with leading zeros.
        sheet.write_string(6, 6, "Kopi Gayo 1 kg").unwrap();
        sheet.write_string(6, 7, "00123").unwrap();
        sheet.write_number(6, 8, 1).unwrap();
        sheet.write_string(6, 10, "Rp 45.000").unwrap();
        workbook.save(&path).unwrap();

        let bytes = std::fs::read(&path).unwrap();
        let rows = read_rows(&bytes, "penjualan.xlsx").unwrap();
        assert_eq!(
            rows[4][1], "Nomor Invoice",
            "the sheet's own row numbers are kept"
        );
        assert_eq!(rows[5][2], "02-11-2026 10:15:00");
        assert_eq!(rows[5][4], "05-11-2026 00:00:00");
        assert_eq!(rows[5][5], "18:30:00");
        assert_eq!(rows[5][10], "20000");

        let file = parse_orders(&rows, "penjualan.xlsx").unwrap();
        assert!(file.warnings.is_empty(), "{:?}", file.warnings);
        assert_eq!(file.orders.len(), 1);
        assert_eq!(file.orders[0].origin, "penjualan.xlsx row 6");
        let order = ok(&file.orders[0]);
        assert_eq!(order.invoice, "INV/20261102/MPL/3512345678");
        assert_eq!(order.paid_at, utc("2026-11-02T03:15:00Z"));
        assert_eq!(order.updated_at, utc("2026-11-05T11:30:00Z"));
        assert_eq!(order.status, OrderStatus(700));
        assert_eq!(order.lines[0].sku.as_deref(), Some("4711"));
        assert_eq!(order.lines[0].unit_price, Rupiah(20000));
        assert_eq!(order.lines[1].sku.as_deref(), Some("00123"));
        assert_eq!(order.lines[1].unit_price, Rupiah(45000));
        assert_eq!(order.products_total, Rupiah(85000));
        assert_eq!(
            order.customer,
            customer_id(None, Some("Sri W."), Some("081234567890")).unwrap()
        );
    }

    #[test]
    fn an_order_whose_lines_total_overflows_is_refused_not_wrapped() {
        // Found by the property tests: price × quantity past i64 panicked in debug builds.
        let rows = table(&[
            "Nomor Invoice|Tanggal Pembayaran|Nama Produk|Jumlah Produk Dibeli|Harga Jual (IDR)|ID Pembeli",
            "INV/1|02-11-2026 10:15|Kopi|2|5113495131018397393|777001",
            "INV/2|02-11-2026 10:15|Kopi|1|9223372036854775807|777001",
            "INV/2|02-11-2026 10:15|Teh|1|1|777001",
            "INV/3|02-11-2026 10:15|Kopi|2|20000|777001",
        ]);
        let file = parse_orders(&rows, "penjualan.csv").unwrap();
        for refused in &file.orders[..2] {
            let e = err(refused);
            assert!(e.contains("too large") && e.contains("Harga Jual (IDR)"), "{e}");
        }
        assert_eq!(ok(&file.orders[2]).products_total, Rupiah(40000));
    }

    #[test]
    fn a_workbook_that_makes_calamine_panic_is_refused_as_unreadable() {
        // Found by `cargo fuzz run export_xlsx`: a sheet dimension ending before it starts
        // (a subtraction overflow in calamine), and a cell reference whose position overflows
        // a multiplication.
        for bytes in [
            &include_bytes!("../../tests/fixtures/exports/reversed-dimension.xlsx")[..],
            &include_bytes!("../../tests/fixtures/exports/overflowing-cell-reference.xlsx")[..],
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
