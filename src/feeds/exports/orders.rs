//! The sales report ("Laporan Penjualan") read into [`Order`]s, one per invoice.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde_json::Value;

use crate::domain::phone;
use crate::domain::zone::WIB;
use crate::domain::{CustomerId, OrderStatus, Rupiah};
use crate::feeds::exports::cells::{money, whole_number, CellError};
use crate::feeds::exports::rows::{Cells, Rows};
use crate::feeds::exports::table::{
    data_rows, origin, Column, Header, NumberedRow, Row, PRODUCT_ID, PRODUCT_NAME,
};
use crate::feeds::FeedError;
use crate::records::{Order, OrderLine};

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

/// Parses a sales report: one row per order line, grouped into orders by `Nomor Invoice`.
/// Lines' products are not looked up here (`product: None`); the importer resolves
/// `marketplace_product_id`, then `sku`, then the name.
pub fn parse_orders(rows: &Rows, name: &str) -> Result<OrdersFile, FeedError> {
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
        let parsed = match order_from_rows(invoice, lines, &header, name) {
            Ok((order, order_warnings)) => {
                warnings.extend(order_warnings);
                Ok(order)
            }
            Err(e) => Err(e),
        };
        // The cells are kept for quarantine only: as JSON objects they took more memory than
        // the rest of a 150k-line report's import together.
        let raw = if parsed.is_err() {
            Value::Array(lines.iter().map(|(_, r)| Value::Object(header.raw(*r))).collect())
        } else {
            Value::Null
        };
        orders.push(Row {
            origin: first,
            raw,
            parsed,
        });
    }
    Ok(OrdersFile { orders, warnings })
}

const INVOICE: &str = "Nomor Invoice";
const PAID_AT: &str = "Tanggal Pembayaran";
const QUANTITY: &str = "Jumlah Produk Dibeli";
const SELLING_PRICE: &str = "Harga Jual (IDR)";
const ORDER_STATUS: &str = "Status Terakhir";
const SKU_NUMBER: &str = "Nomor SKU";
const BUYER_NAME: &str = "Nama Pembeli";
const BUYER_PHONE: &str = "No Telp Pembeli";
const BUYER_ID: &str = "ID Pembeli";
const BUYER_CITY: &str = "Kota";
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
    (BUYER_CITY, &["Kota Pengiriman", "Kota/Kabupaten"]),
    (FINISHED_DATE, &[]),
    (FINISHED_TIME, &[]),
];
const ORDER_REQUIRED: &[&str] = &[INVOICE, PAID_AT, PRODUCT_NAME, QUANTITY, SELLING_PRICE];

/// Builds one order from its rows; warnings when its status text is unknown or its phone
/// is not a number.
fn order_from_rows(
    invoice: &str,
    rows: &[NumberedRow],
    h: &Header,
    name: &str,
) -> Result<(Order, Vec<String>), FeedError> {
    let first = origin(name, rows[0].0);
    // Order-level cells may be blank on continuation lines: the first filled one counts.
    let order_cell = |column: &str| -> Option<(usize, String)> {
        rows.iter()
            .find_map(|(i, row)| h.text(*row, column).map(|text| (*i, text)))
    };

    let mut lines = Vec::with_capacity(rows.len());
    for (i, row) in rows {
        lines.push(order_line(*row, h).map_err(|e| e.at(&origin(name, *i)))?);
    }

    let (paid_row, paid_text) = order_cell(PAID_AT).ok_or_else(|| {
        FeedError::invalid(
            PAID_AT,
            format!("{first}: {PAID_AT} is empty for invoice {invoice}"),
        )
    })?;
    let paid_at = wib_datetime(&paid_text).ok_or_else(|| {
        FeedError::invalid(
            PAID_AT,
            format!(
                "{}: column {PAID_AT}: {paid_text:?} {}: write DD-MM-YYYY HH:mm:ss ({})",
                origin(name, paid_row),
                date_problem(&paid_text),
                WIB.label
            ),
        )
    })?;
    let finished_at = match order_cell(FINISHED_DATE) {
        None => None,
        Some((row, date)) => {
            let time = order_cell(FINISHED_TIME).map(|(_, t)| t);
            Some(finish_datetime(&date, time.as_deref()).ok_or_else(|| {
                FeedError::invalid(
                    FINISHED_DATE,
                    format!(
                        "{}: columns {FINISHED_DATE} + {FINISHED_TIME}: {date:?} {:?} {}: \
                     write DD-MM-YYYY and HH:mm:ss ({})",
                        origin(name, row),
                        time.unwrap_or_default(),
                        date_problem(&date),
                        WIB.label
                    ),
                )
            })?)
        }
    };

    let mut warnings = Vec::new();
    let phone_cell = order_cell(BUYER_PHONE);
    let phone = match &phone_cell {
        None => None,
        Some((row, text)) => match phone::normalise(text) {
            Ok(key) => Some(key),
            Err(e) => {
                warnings.push(format!(
                    "{}: column {BUYER_PHONE}: {e}; invoice {invoice} is kept, its buyer known by name and \
                     number as written",
                    origin(name, *row)
                ));
                None
            }
        },
    };
    let customer = customer_id(
        order_cell(BUYER_ID).map(|(_, t)| t).as_deref(),
        phone.as_deref(),
        order_cell(BUYER_NAME).map(|(_, t)| t).as_deref(),
        phone_cell.as_ref().map(|(_, t)| t.as_str()),
    )
    .ok_or_else(|| {
        FeedError::invalid(
            BUYER_NAME,
            format!("{first}: invoice {invoice} names no buyer: {BUYER_NAME}, {BUYER_PHONE} and {BUYER_ID} are all empty"),
        )
    })?;

    let status = match order_cell(ORDER_STATUS) {
        Some((row, text)) => status_from_text(&text).unwrap_or_else(|| {
            warnings.push(format!(
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
        FeedError::invalid(
            SELLING_PRICE,
            format!(
            "{first}: the lines' total of invoice {invoice} (price × quantity) is too large for any order: \
             check column {SELLING_PRICE}"
        ),
        )
    })?;
    let order = Order {
        invoice: invoice.to_string(),
        marketplace_id: None,
        customer,
        buyer_name: order_cell(BUYER_NAME).map(|(_, t)| t),
        phone,
        city: order_cell(BUYER_CITY).map(|(_, t)| t),
        status,
        created_at: paid_at,
        paid_at,
        updated_at: finished_at.unwrap_or(paid_at),
        lines,
        products_total,
        shipping: Rupiah(0),
    };
    Ok((order, warnings))
}

/// One line of an order, from its row (its product is looked up by the importer).
fn order_line(row: Cells<'_>, h: &Header) -> Result<OrderLine, CellError> {
    let name = h.text(row, PRODUCT_NAME).ok_or(CellError::Empty {
        column: PRODUCT_NAME,
        fix: "every order line needs a product name",
    })?;
    let quantity = whole_number(h.cell(row, QUANTITY), QUANTITY)?;
    if !(1..=100_000).contains(&quantity) {
        return Err(CellError::Quantity {
            column: QUANTITY,
            value: quantity,
        });
    }
    Ok(OrderLine {
        product: None,
        marketplace_product_id: h.text(row, PRODUCT_ID),
        sku: h.text(row, SKU_NUMBER),
        name,
        quantity: quantity as u32,
        unit_price: money(h.cell(row, SELLING_PRICE), SELLING_PRICE)?,
    })
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

/// A local time in WIB, the zone exports write every date in.
fn from_wib(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    WIB.offset()
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

/// Why a date cell is not a date, for the error: a day or month the calendar does not have
/// (`31-09-2026`: September has 30 days), or else not in a form the exports use.
fn date_problem(text: &str) -> String {
    let day_part = text.split_whitespace().next().unwrap_or("");
    let numbers: Vec<u32> = day_part.split('-').filter_map(|n| n.parse().ok()).collect();
    let (day, month, year) = match numbers[..] {
        [d, m, y] if day_part.split('-').next().is_some_and(|f| f.len() <= 2) => (d, m, y),
        [y, m, d] if y > 31 => (d, m, y),
        _ => return "is not a date and time".to_string(),
    };
    if !(1..=12).contains(&month) {
        return format!("has month {month}, and a year has 12");
    }
    let first = NaiveDate::from_ymd_opt(year as i32, month, 1);
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year as i32 + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year as i32, month + 1, 1)
    };
    match (first, next) {
        (Some(first), Some(next)) => {
            let days = (next - first).num_days();
            if day == 0 || i64::from(day) > days {
                format!("is not a day of the calendar: {month:02}-{year} has {days} days")
            } else {
                "is not a date and time".to_string()
            }
        }
        _ => "is not a date and time".to_string(),
    }
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

/// `ID Pembeli` when present; else the phone key (`628…`, which a shop's backend can
/// compute too); else, for a buyer known only by name (or by a phone that is no number),
/// a stable hash of name and phone as written, so that the same person gets the same id in
/// every report without their details being in it.
fn customer_id(
    id: Option<&str>,
    phone_key: Option<&str>,
    name: Option<&str>,
    phone_text: Option<&str>,
) -> Option<CustomerId> {
    if let Some(id) = id {
        return Some(CustomerId(id.to_string()));
    }
    if let Some(key) = phone_key {
        return Some(CustomerId(key.to_string()));
    }
    phone::legacy_customer_hash(name, phone_text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::exports::read::read_rows;
    use crate::feeds::exports::testing::{err, ok, table, utc};

    const REPORT_HEADER: &str = "Nomor Invoice|Tanggal Pembayaran|Status Terakhir|Nama Produk|Nomor SKU|\
                                 Product ID|Jumlah Produk Dibeli|Harga Jual (IDR)|Nama Pembeli|No Telp Pembeli|\
                                 Biaya Pengiriman";

    #[test]
    fn a_refused_order_keeps_the_cells_of_each_of_its_rows_for_quarantine() {
        let rows = table(&[
            "Laporan Penjualan",
            REPORT_HEADER,
            "INV/1|kemarin|Pesanan Selesai|Serundeng 100 g|SRD-100|15001001|2|20000|Sri W.|0812-3456-789|Non Tunai",
            "|||Kopi 1 kg|KOPI-1||1|Rp 45.000|||",
        ]);
        let file = parse_orders(&rows, "penjualan.csv").unwrap();
        assert!(file.orders[0].parsed.is_err());
        let raw = file.orders[0].raw.as_array().unwrap();
        assert_eq!(raw.len(), 2);
        assert_eq!(raw[1]["Nama Produk"], "Kopi 1 kg");
    }

    #[test]
    fn continuation_lines_with_blank_order_level_cells_join_their_order() {
        let rows = table(&[
            "Laporan Penjualan",
            REPORT_HEADER,
            "INV/1|02-11-2026 10:15:00|Pesanan Selesai|Serundeng 100 g|SRD-100|15001001|2|20000|Sri W.|0812-3456-789|Non Tunai",
            "|||Kopi 1 kg|KOPI-1||1|Rp 45.000|||",
            "INV/2|03-11-2026 08:00|Pesanan Dikirim|Teh 50 g|TEH-50||3|10.000|Budi|+62 811 1111 222|9000",
            "INV/1|||Gula 1 kg|||1|12000|||",
        ]);
        let file = parse_orders(&rows, "penjualan.csv").unwrap();
        assert!(file.warnings.is_empty(), "{:?}", file.warnings);
        assert_eq!(file.orders.len(), 2);
        assert_eq!(file.orders[0].origin, "penjualan.csv row 3");
        assert!(
            file.orders[0].raw.is_null(),
            "a parsed order keeps no copy of its cells"
        );

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
        assert_eq!(wib_datetime("31-09-2026 10:15"), None);
        assert_eq!(
            date_problem("31-09-2026 10:15"),
            "is not a day of the calendar: 09-2026 has 30 days"
        );
        assert_eq!(
            date_problem("29-02-2026"),
            "is not a day of the calendar: 02-2026 has 28 days"
        );
        assert_eq!(
            date_problem("2026-02-30 10:00:00"),
            "is not a day of the calendar: 02-2026 has 28 days"
        );
        assert_eq!(
            date_problem("12-13-2026 10:15"),
            "has month 13, and a year has 12"
        );
        assert_eq!(date_problem("02/11/2026"), "is not a date and time");
        assert_eq!(date_problem("02-11-2026 25:00"), "is not a date and time");

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
    fn phone_numbers_written_differently_give_the_same_phone_key_as_customer_id() {
        let rows = table(&[
            &format!("{REPORT_HEADER}|Kota"),
            "INV/1|02-11-2026 10:15:00|Pesanan Selesai|Kopi|||1|45000|Sri W.|0812-3456-789||Bandung",
            "INV/2|03-11-2026 10:15:00|Pesanan Selesai|Kopi|||1|45000|sri w|+62 812 3456 789||",
            "INV/3|04-11-2026 10:15:00|Pesanan Selesai|Kopi|||1|45000|Sri|628123456789||",
            "INV/4|05-11-2026 10:15:00|Pesanan Selesai|Kopi|||1|45000|Sri W.|0812-999||",
            "INV/5|06-11-2026 10:15:00|Pesanan Selesai|Kopi|||1|45000|Sri W.|||",
        ]);
        let file = parse_orders(&rows, "penjualan.csv").unwrap();
        for o in &file.orders[..3] {
            let o = ok(o);
            assert_eq!(o.customer, CustomerId("628123456789".into()), "{}", o.invoice);
            assert_eq!(o.phone.as_deref(), Some("628123456789"));
        }
        assert_eq!(ok(&file.orders[0]).city.as_deref(), Some("Bandung"));
        assert_eq!(ok(&file.orders[1]).city, None);
        // A number too short for a key: the order is kept under the old hash, with a word.
        let short = ok(&file.orders[3]);
        assert_eq!(
            Some(short.customer.clone()),
            phone::legacy_customer_hash(Some("Sri W."), Some("0812-999"))
        );
        assert_eq!(short.phone, None);
        assert_eq!(file.warnings.len(), 1, "{:?}", file.warnings);
        let w = &file.warnings[0];
        assert!(
            w.contains("penjualan.csv row 5") && w.contains("\"0812-999\"") && w.contains("INV/4"),
            "{w}"
        );
        // Name only: the name hash, as before.
        let by_name = ok(&file.orders[4]);
        assert_eq!(
            Some(by_name.customer.clone()),
            phone::legacy_customer_hash(Some("Sri W."), None)
        );
        assert_eq!(
            customer_id(Some("777001"), Some("628123456789"), Some("Sri"), None),
            Some(CustomerId("777001".into())),
            "a marketplace buyer id wins (it is linked to the phone key at rebuild)"
        );
        assert_eq!(customer_id(None, None, None, None), None);
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
            &rows.row(4)[1],
            "Nomor Invoice",
            "the sheet's own row numbers are kept"
        );
        assert_eq!(&rows.row(5)[2], "02-11-2026 10:15:00");
        assert_eq!(&rows.row(5)[4], "05-11-2026 00:00:00");
        assert_eq!(&rows.row(5)[5], "18:30:00");
        assert_eq!(&rows.row(5)[10], "20000");

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
        assert_eq!(order.customer, CustomerId("6281234567890".into()));
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
}
