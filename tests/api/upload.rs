//! Uploading Seller Center exports from the dashboard while the service runs (issue 14):
//! the page's multipart form and `POST /admin/api/shops/{shop}/imports`, with the same
//! import as `laris import`, the report shown, and the limits: size (413, nothing kept),
//! CSRF (403), another shop's user (403), files that are not exports (415).

use std::path::Path;

use laris::domain::{ProductId, ShopId};
use serde_json::Value;

use crate::admin::{admin_config_text, client, get_page, sign_in, SignedIn, OTHER, OWNER_PW, SHOP_PW};
use crate::helpers::{spawn_app_with, TestApp, TOKEN};

/// The upload limit of these tests: small, so that a too-big file is quick to send.
const LIMIT: usize = 65536;

async fn spawn_upload_app() -> TestApp {
    let text = admin_config_text().replacen(
        "max_body_bytes = 4096\n",
        &format!("max_body_bytes = 4096\nmax_upload_bytes = {LIMIT}\n"),
        1,
    );
    let settings = laris::config::Settings::from_toml(&text, Path::new("upload-test.toml"), &[])
        .expect("the upload test config is valid");
    spawn_app_with(settings).await
}

fn shop() -> ShopId {
    ShopId::parse("lengkuas").unwrap()
}

/// A `multipart/form-data` body of text fields and one file, as a browser sends the form.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----laris-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some((filename, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_form(
    app: &TestApp,
    me: &SignedIn,
    shop: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> reqwest::Response {
    let (content_type, body) = multipart(fields, file);
    client()
        .post(format!("{}/admin/shops/{shop}/upload", app.base))
        .header("cookie", &me.cookie)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A product list as Seller Center writes it, with a title row above the header.
const PRODUCTS_CSV: &str = "Daftar Produk Lengkuas Nusantara\n\
Nama Produk*;Harga (Rp)*;SKU Name;Jumlah Stok;Status\n\
Kopi Gayo Lengkuas 250 g;Rp85.000;KOPI-GAYO-250;30;Aktif\n";

/// A sales report of two orders of the new coffee, as an XLSX workbook.
fn sales_report_xlsx() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let rows: [[&str; 7]; 4] = [
        ["Laporan Penjualan", "", "", "", "", "", ""],
        [
            "Nomor Invoice",
            "Tanggal Pembayaran",
            "Nama Produk",
            "Nomor SKU",
            "Jumlah Produk Dibeli",
            "Harga Jual (IDR)",
            "ID Pembeli",
        ],
        [
            "INV/20261120/UPL/1",
            "20-11-2026 09:00:00",
            "Kopi Gayo Lengkuas 250 g",
            "KOPI-GAYO-250",
            "2",
            "85000",
            "buyer-upl-1",
        ],
        [
            "INV/20261121/UPL/2",
            "21-11-2026 10:30:00",
            "Kopi Gayo Lengkuas 250 g",
            "KOPI-GAYO-250",
            "1",
            "85000",
            "buyer-upl-2",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(r as u32, c as u16, *cell).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// Files left in the data directory's upload folder.
fn leftover_uploads(app: &TestApp) -> Vec<String> {
    match std::fs::read_dir(app.data_dir().join("uploads")) {
        Ok(dir) => dir
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn a_csv_product_list_through_the_page_and_an_xlsx_sales_report_through_the_api_are_imported_and_served(
) {
    let app = spawn_upload_app().await;
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/upload").await;
    assert!(
        page.contains("enctype=\"multipart/form-data\"") && page.contains("64 KiB"),
        "{page}"
    );
    let coffee = ProductId::parse("KOPI-GAYO-250").unwrap();
    assert!(app.store.product(&shop(), &coffee).unwrap().is_none());

    let resp = post_form(
        &app,
        &me,
        "lengkuas",
        &[("csrf", me.csrf.as_str()), ("kind", "auto")],
        Some(("produk.csv", PRODUCTS_CSV.as_bytes())),
    )
    .await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("/admin/shops/lengkuas/upload?report="),
        "{location}"
    );
    let product = app
        .store
        .product(&shop(), &coffee)
        .unwrap()
        .expect("the product is stored");
    assert_eq!((product.price.0, product.stock), (85_000, Some(30)));
    let report = get_page(&app, &me.cookie, location.split('#').next().unwrap()).await;
    assert!(report.contains("upload produk.csv (products)"), "{report}");
    assert!(
        report.contains(
            "<tr data-kind=\"products\"><th>Products</th><td class=\"num\">1</td><td class=\"num\">1</td>"
        ),
        "one product read, one new: {report}"
    );
    assert!(report.contains("None: every row was imported."), "{report}");
    // The served model has it without a restart.
    let model = app.models.get(&shop()).expect("a model");
    assert!(
        model.index.contains_key(&coffee),
        "the rebuilt model holds the new product"
    );
    // The products page lists it.
    let products = get_page(&app, &me.cookie, "/admin/shops/lengkuas/products").await;
    assert!(products.contains("Kopi Gayo Lengkuas 250 g"));

    // The sales report, as XLSX through the JSON twin with the admin token; the kind is read
    // from its header row.
    let orders_before = app.store.orders(&shop()).unwrap().len();
    let (content_type, body) = multipart(&[], Some(("penjualan.xlsx", &sales_report_xlsx())));
    let resp = client()
        .post(format!("{}/admin/api/shops/lengkuas/imports", app.base))
        .bearer_auth(TOKEN)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let run: Value = resp.json().await.unwrap();
    assert_eq!(run["kind"], "orders", "{run}");
    assert_eq!(run["report"]["orders"]["inserted"], 2, "{run}");
    assert_eq!(run["report"]["quarantined"], 0, "{run}");
    assert!(run["model"].is_object(), "the model was rebuilt: {run}");
    assert_eq!(app.store.orders(&shop()).unwrap().len(), orders_before + 2);
    let sold = app
        .store
        .orders(&shop())
        .unwrap()
        .into_iter()
        .filter(|o| o.lines.iter().any(|l| l.product.as_ref() == Some(&coffee)))
        .count();
    assert_eq!(sold, 2, "the lines found the uploaded product by SKU");

    // Again: nothing changes, and both imports are listed on the page.
    let (content_type, body) = multipart(&[], Some(("penjualan.xlsx", &sales_report_xlsx())));
    let again: Value = client()
        .post(format!("{}/admin/api/shops/lengkuas/imports", app.base))
        .bearer_auth(TOKEN)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["report"]["orders"]["unchanged"], 2, "{again}");
    let page = get_page(&app, &me.cookie, "/admin/shops/lengkuas/upload").await;
    assert_eq!(page.matches("<tr data-import>").count(), 3, "{page}");
    assert!(leftover_uploads(&app).is_empty(), "{:?}", leftover_uploads(&app));
    app.stop().await;
}

#[tokio::test]
async fn a_bad_row_is_quarantined_and_shown_while_the_good_rows_are_imported() {
    let app = spawn_upload_app().await;
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let csv = "Nama Produk,Harga (Rp),SKU Name\n\
               Teh Lengkuas 50 g,Rp25.000,TEH-50\n\
               Produk Rusak,dua puluh ribu,RUSAK-1\n";
    // The raw file as the body, with its kind and name in the query.
    let resp = client()
        .post(format!(
            "{}/admin/api/shops/lengkuas/imports?kind=products&name=produk-rusak.csv",
            app.base
        ))
        .bearer_auth(TOKEN)
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let run: Value = resp.json().await.unwrap();
    assert_eq!(run["report"]["products"]["inserted"], 1, "{run}");
    assert_eq!(run["report"]["quarantined"], 1, "{run}");
    assert_eq!(run["quarantined"][0]["origin"], "produk-rusak.csv row 3", "{run}");
    let reason = run["quarantined"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("dua puluh ribu"),
        "the reason names the value: {reason}"
    );
    assert!(app
        .store
        .product(&shop(), &ProductId::parse("TEH-50").unwrap())
        .unwrap()
        .is_some());
    assert!(app
        .store
        .product(&shop(), &ProductId::parse("RUSAK-1").unwrap())
        .unwrap()
        .is_none());

    // The page shows that import's report with the quarantined row.
    let id = chrono::DateTime::parse_from_rfc3339(run["report"]["started_at"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    let page = get_page(
        &app,
        &me.cookie,
        &format!("/admin/shops/lengkuas/upload?report={id}"),
    )
    .await;
    assert!(page.contains("Quarantined rows (1)"), "{page}");
    assert!(
        page.contains("<tr data-quarantined><td class=\"long\">produk-rusak.csv row 3</td>"),
        "{page}"
    );
    assert!(page.contains("dua puluh ribu"), "{page}");
    // An unknown report is a 404 page, a bad one a 400.
    let resp = client()
        .get(format!("{}/admin/shops/lengkuas/upload?report=12", app.base))
        .header("cookie", &me.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn a_too_big_file_is_answered_413_and_nothing_of_it_is_kept() {
    let app = spawn_upload_app().await;
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let before = app.store.products(&shop()).unwrap().len();
    let mut csv = String::from(PRODUCTS_CSV);
    let mut i = 0;
    while csv.len() <= LIMIT + 1000 {
        csv.push_str(&format!("Produk Besar {i};10000;BESAR-{i};1;Aktif\n"));
        i += 1;
    }
    let resp = post_form(
        &app,
        &me,
        "lengkuas",
        &[("csrf", me.csrf.as_str()), ("kind", "products")],
        Some(("besar.csv", csv.as_bytes())),
    )
    .await;
    assert_eq!(resp.status(), 413);
    let page = resp.text().await.unwrap();
    assert!(page.contains("besar.csv is larger than 64 KiB"), "{page}");
    assert!(
        page.contains("enctype=\"multipart/form-data\""),
        "the form is there to try again"
    );
    // A declared length far over the limit is refused before reading, as JSON on the API.
    let resp = client()
        .post(format!(
            "{}/admin/api/shops/lengkuas/imports?name=besar.csv",
            app.base
        ))
        .bearer_auth(TOKEN)
        .body(csv.repeat(2))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("server.max_upload_bytes"),
        "{body}"
    );
    assert_eq!(app.store.products(&shop()).unwrap().len(), before);
    assert!(leftover_uploads(&app).is_empty(), "{:?}", leftover_uploads(&app));
    app.stop().await;
}

#[tokio::test]
async fn an_upload_needs_the_csrf_token_the_shops_own_user_and_an_export_file() {
    let app = spawn_upload_app().await;
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let coffee = ProductId::parse("KOPI-GAYO-250").unwrap();
    for fields in [vec![("csrf", "not-the-token")], vec![]] {
        let resp = post_form(
            &app,
            &me,
            "lengkuas",
            &fields,
            Some(("produk.csv", PRODUCTS_CSV.as_bytes())),
        )
        .await;
        assert_eq!(resp.status(), 403, "{fields:?}");
        assert!(resp.text().await.unwrap().contains("reload the page"));
    }
    assert!(app.store.product(&shop(), &coffee).unwrap().is_none());

    // The other shop's user may not upload to lengkuas, on the page or through the API.
    let other = sign_in(&app, OTHER, SHOP_PW).await;
    let resp = post_form(
        &app,
        &other,
        "lengkuas",
        &[("csrf", other.csrf.as_str())],
        Some(("produk.csv", PRODUCTS_CSV.as_bytes())),
    )
    .await;
    assert_eq!(resp.status(), 403);
    let (content_type, body) = multipart(&[], Some(("produk.csv", PRODUCTS_CSV.as_bytes())));
    let resp = client()
        .post(format!("{}/admin/api/shops/lengkuas/imports", app.base))
        .header("cookie", &other.cookie)
        .header("x-csrf-token", &other.csrf)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(app.store.product(&shop(), &coffee).unwrap().is_none());

    // A picture is not an export: 415 naming the file and the accepted forms.
    let resp = post_form(
        &app,
        &me,
        "lengkuas",
        &[("csrf", me.csrf.as_str())],
        Some(("foto.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")),
    )
    .await;
    assert_eq!(resp.status(), 415);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("foto.png") && page.contains(".xlsx") && page.contains(".csv"),
        "{page}"
    );
    // No file chosen: 400.
    let resp = post_form(&app, &me, "lengkuas", &[("csrf", me.csrf.as_str())], None).await;
    assert_eq!(resp.status(), 400);
    assert!(leftover_uploads(&app).is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_upload_while_the_shop_syncs_is_answered_409_and_imports_nothing() {
    let app = spawn_upload_app().await;
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let coffee = ProductId::parse("KOPI-GAYO-250").unwrap();
    let claim = app.sync.claim(&shop()).expect("the shop is free");
    let resp = post_form(
        &app,
        &me,
        "lengkuas",
        &[("csrf", me.csrf.as_str())],
        Some(("produk.csv", PRODUCTS_CSV.as_bytes())),
    )
    .await;
    assert_eq!(resp.status(), 409);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("a sync is running, try again in a minute"),
        "the page says why"
    );
    let resp = client()
        .post(format!(
            "{}/admin/api/shops/lengkuas/imports?name=produk.csv",
            app.base
        ))
        .bearer_auth(TOKEN)
        .body(PRODUCTS_CSV)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    assert!(app.store.product(&shop(), &coffee).unwrap().is_none());
    assert!(leftover_uploads(&app).is_empty());
    drop(claim);
    let resp = post_form(
        &app,
        &me,
        "lengkuas",
        &[("csrf", me.csrf.as_str())],
        Some(("produk.csv", PRODUCTS_CSV.as_bytes())),
    )
    .await;
    assert_eq!(
        resp.status(),
        303,
        "once the sync is done the same upload goes in"
    );
    assert!(app.store.product(&shop(), &coffee).unwrap().is_some());
    app.stop().await;
}
