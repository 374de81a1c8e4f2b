//! The product export (the product template or product list) read into [`Product`]s.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::{PackSize, ProductId};
use crate::feeds::exports::cells::{money, whole_number, CellError};
use crate::feeds::exports::rows::{Cells, Rows};
use crate::feeds::exports::table::{data_rows, origin, Column, Header, Row, PRODUCT_ID, PRODUCT_NAME};
use crate::feeds::FeedError;
use crate::records::{Product, ProductStatus};

/// A product export, one [`Row`] per non-blank data row in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductsFile {
    /// One per product row, in file order.
    pub rows: Vec<Row<Product>>,
}

/// Parses a product export (the product template or product list). `fetched_at` is used as
/// every product's `updated_at`: exports carry no update time.
pub fn parse_products(rows: &Rows, name: &str, fetched_at: DateTime<Utc>) -> Result<ProductsFile, FeedError> {
    let header = Header::find(rows, PRODUCT_COLUMNS, PRODUCT_REQUIRED, name, "A product export")?;
    let rows = data_rows(rows, &header)
        .map(|(i, row)| {
            let origin = origin(name, i);
            let parsed = product_from_row(row, &header, fetched_at).map_err(|e| e.at(&origin));
            Row {
                raw: Value::Object(header.raw(row)),
                origin,
                parsed,
            }
        })
        .collect();
    Ok(ProductsFile { rows })
}

const PRICE: &str = "Harga (Rp)";
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

fn product_from_row(row: Cells<'_>, h: &Header, fetched_at: DateTime<Utc>) -> Result<Product, CellError> {
    let name = h.text(row, PRODUCT_NAME).ok_or(CellError::Empty {
        column: PRODUCT_NAME,
        fix: "every product needs a name",
    })?;
    let price = money(h.cell(row, PRICE), PRICE)?;
    if price.0 < 0 {
        return Err(CellError::Negative {
            column: PRICE,
            value: h.cell(row, PRICE).to_string(),
        });
    }
    let sku = h.text(row, SKU_NAME);
    let (id_column, id_source) = match (h.text(row, PRODUCT_ID), &sku) {
        (Some(id), _) => (PRODUCT_ID, id),
        (None, Some(sku)) => (SKU_NAME, sku.clone()),
        (None, None) => (PRODUCT_NAME, slug(&name)),
    };
    let id = ProductId::parse(&id_source).map_err(|source| CellError::ProductId {
        column: id_column,
        source,
    })?;
    let status = match h.cell(row, PRODUCT_STATUS).to_lowercase().as_str() {
        "" | "aktif" => ProductStatus::Active,
        "nonaktif" => ProductStatus::Inactive,
        _ => {
            return Err(CellError::ProductStatus {
                column: PRODUCT_STATUS,
                value: h.cell(row, PRODUCT_STATUS).to_string(),
            })
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
                return Err(CellError::Weight {
                    column: WEIGHT,
                    value: w,
                });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Rupiah;
    use crate::feeds::exports::read::read_rows;
    use crate::feeds::exports::testing::{err, fetched, ok, table};

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
        assert_eq!(
            &rows.row(0)[0],
            "Nama Produk",
            "the BOM is not part of the first name"
        );
        let file = parse_products(&rows, "produk.csv", fetched()).unwrap();
        let p = ok(&file.rows[0]);
        assert_eq!(p.id.as_str(), "P-7");
        assert_eq!(p.price, Rupiah(20000));
        assert_eq!(p.description, "Halus, tanpa gluten");
        assert_eq!(p.image.as_deref(), Some("https://img.example/m.jpg"));
        assert_eq!(p.url.as_deref(), Some("https://toko.example/m"));
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
    fn a_negative_price_an_odd_weight_or_a_bad_id_names_the_column_and_the_fix() {
        let rows = table(&[
            "Nama Produk|Harga (Rp)|Berat (Gram)|SKU Name",
            "Kopi|-5000||",
            "Teh|10000|2000000000|",
            "Gula|12000||GL\u{7}1",
        ]);
        let file = parse_products(&rows, "produk.csv", fetched()).unwrap();
        assert_eq!(
            err(&file.rows[0]),
            "produk.csv row 2: Harga (Rp) \"-5000\" is negative: write a price of 0 or more"
        );
        assert_eq!(
            err(&file.rows[1]),
            "produk.csv row 3: Berat (Gram) \"2000000000\" is not a sensible weight in grams: \
             write grams such as 250"
        );
        let id = err(&file.rows[2]);
        assert!(
            id.starts_with("produk.csv row 4: column SKU Name: invalid product id \"GL\\u{7}1\""),
            "{id}"
        );
    }
}
