//! The `laris` binary as a user runs it: status with and without a running service, the
//! store's lock, bad config.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{orders_in_demo_recording, repo, test_config_text};

fn laris(config: &std::path::Path, data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_laris"));
    c.arg("--config").arg(config).arg("--data-dir").arg(data);
    c.env_remove("LARIS_ADMIN_TOKEN").env("RUST_LOG", "warn");
    c
}

fn write_config(dir: &std::path::Path, with_token: bool) -> std::path::PathBuf {
    let mut text = test_config_text();
    if !with_token {
        text = text.replace(&format!("token = \"{}\"", crate::helpers::TOKEN), "");
    }
    let path = dir.join("laris.toml");
    std::fs::write(&path, text).unwrap();
    path
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `laris serve` on a free port and waits (bounded) for its address file.
fn start_server(config: &std::path::Path, data: &std::path::Path) -> Server {
    let child = laris(config, data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !data.join("laris.serve.json").exists() {
        assert!(Instant::now() < deadline, "laris serve did not start within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// Replays the demo recording into `data` offline, as a tester seeds a store.
fn replay_demo(config: &std::path::Path, data: &std::path::Path) {
    let out = laris(config, data)
        .args(["replay"])
        .arg(crate::helpers::demo_recording())
        .args(["--shop", "lengkuas"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn status_json(config: &std::path::Path, data: &std::path::Path) -> Value {
    let out = laris(config, data).args(["status", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "status failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn status_json_shows_the_demo_shop_offline_and_while_the_service_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), false);
    let data = tmp.path().join("data");

    replay_demo(&config, &data);
    let offline = status_json(&config, &data);
    let shop = &offline["shops"][0];
    assert_eq!(shop["id"], "lengkuas");
    assert_eq!(shop["products"], 10);
    assert_eq!(shop["active_products"], 10);
    assert_eq!(
        shop["orders"].as_u64().unwrap() as usize,
        orders_in_demo_recording()
    );
    assert_eq!(shop["quarantined"], 0);

    let server = start_server(&config, &data);
    // No token in config: the service generated one, readable only by its owner.
    let token_file = data.join("admin-token");
    assert!(token_file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let online = status_json(&config, &data);
    assert_eq!(online["shops"][0]["products"], 10);
    assert_eq!(online["shops"][0]["orders"], shop["orders"]);

    // The store is held: opening it directly is refused with a message naming the way.
    let err = laris::store::Store::open(&data)
        .err()
        .expect("the store is locked by the service");
    let msg = err.to_string();
    assert!(msg.contains("held by another laris process"), "{msg}");
    let second = laris(&config, &data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("already serves the store"));
    drop(server);
}

#[test]
fn token_warns_about_an_unknown_customer_and_read_commands_refuse_a_missing_store() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), false);
    let data = tmp.path().join("data");

    // A mistyped data directory is named, and nothing is created there.
    let mistyped = tmp.path().join("dta");
    let out = laris(&config, &mistyped).arg("status").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no store at") && err.contains("dta"), "{err}");
    assert!(!mistyped.exists());

    replay_demo(&config, &data);
    let out = laris(&config, &data)
        .args(["customers", "--shop", "lengkuas", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let customers: Value = serde_json::from_slice(&out.stdout).unwrap();
    let known = customers[0]["id"].as_str().unwrap().to_string();

    let token = |customer: &str| {
        let out = laris(&config, &data)
            .args(["token", "--shop", "lengkuas", "--customer", customer])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(!String::from_utf8_lossy(&out.stdout).trim().is_empty());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let check = |label: &str| {
        assert!(
            !token(&known).contains("warning"),
            "{label}: warned about {known}"
        );
        let err = token("no-such-customer");
        assert!(
            err.contains("no customer \"no-such-customer\"") && err.contains("laris customers"),
            "{label}: {err}"
        );
    };
    check("offline");
    let server = start_server(&config, &data);
    check("through the running service");

    // set-password names the address the running service really listens on.
    let served: Value =
        serde_json::from_slice(&std::fs::read(data.join("laris.serve.json")).unwrap()).unwrap();
    let mut child = laris(&config, &data)
        .args(["admin", "set-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "kopi susu gula aren 2026").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    let addr = served["addr"].as_str().unwrap();
    assert!(said.contains(&format!("http://{addr}/admin")), "{said}");
    drop(server);
}

#[test]
fn a_bad_config_value_is_named_with_its_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("bad.toml");
    std::fs::write(
        &config,
        "[[shops]]\nid = \"lengkuas\"\ntimezone = \"Mars/Olympus\"\n",
    )
    .unwrap();
    let out = laris(&config, &tmp.path().join("data"))
        .arg("status")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("shops[0].timezone") && err.contains("Mars/Olympus") && err.contains("Asia/Jakarta"),
        "{err}"
    );
}

#[test]
fn an_unknown_shop_on_the_command_line_lists_the_configured_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), true);
    let out = laris(&config, &tmp.path().join("data"))
        .args(["status", "--shop", "warung"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown shop \"warung\"") && err.contains("lengkuas"),
        "{err}"
    );
}

#[test]
fn the_shipped_config_runs_from_the_repository_root() {
    assert!(repo().join("config/laris.toml").exists());
}

/// `laris mock-marketplace` on a free port; returns the child and its base URL.
fn start_mock_marketplace(dir: &std::path::Path) -> (Server, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_laris"))
        .arg("mock-marketplace")
        .arg(dir)
        .args(["--addr", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    // Keep reading what it prints, so that it never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (Server(child), base)
}

/// The demo shop without its seed, synced from `base` (history reaching back to May 2026).
fn write_sync_config(dir: &std::path::Path, base: &str, retries: u32) -> std::path::PathBuf {
    let days = crate::helpers::demo_history_days();
    let text = test_config_text().replace("seed_", "# seed_")
        + &format!(
            r#"
[[shops.sources]]
kind = "marketplace_api"
base_url = "{base}"
token_url = "{base}/token"
fs_id = "15001"
shop_id = "479573"
client_id = "laris-demo"
client_secret = "demo-secret"
history_days = {days}
http = {{ retries = {retries}, backoff_ms = 10, connect_timeout_secs = 2 }}
"#
        );
    let path = dir.join("laris.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn laris_sync_pulls_the_demo_shop_from_laris_mock_marketplace_and_exits_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let (_mock, base) = start_mock_marketplace(&crate::helpers::demo_recording());
    let config = write_sync_config(tmp.path(), &base, 2);
    let data = tmp.path().join("data");
    let out = laris(&config, &data)
        .args(["sync", "--shop", "lengkuas"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("lengkuas marketplace_api#0") && stdout.contains("model rebuilt"),
        "{stdout}"
    );
    let s = status_json(&config, &data);
    assert_eq!(
        (
            s["shops"][0]["products"].as_u64(),
            s["shops"][0]["orders"].as_u64()
        ),
        (Some(10), Some(600))
    );

    // With the service running, `laris sync` goes through it.
    let _server = start_server(&config, &data);
    let out = laris(&config, &data)
        .args(["sync", "--shop", "lengkuas"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("syncing through it"));
}

#[test]
fn laris_sync_exits_non_zero_when_a_source_fails() {
    let tmp = tempfile::tempdir().unwrap();
    // Nothing listens on port 1.
    let config = write_sync_config(tmp.path(), "http://127.0.0.1:1", 0);
    let out = laris(&config, &tmp.path().join("data"))
        .args(["sync", "--shop", "lengkuas"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAILED") && stdout.contains("cannot connect"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("sync failed for lengkuas marketplace_api#0"));
}

#[test]
fn laris_import_reads_an_xlsx_product_list_and_a_csv_sales_report() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), true);
    let config_text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("seed_", "# seed_");
    std::fs::write(&config, config_text).unwrap();
    let data = tmp.path().join("data");

    // The product list as Seller Center gives it: a title row, the header on row 3, a
    // required column marked with `*`, money as text in two formats.
    let xlsx = tmp.path().join("produk.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let rows: [[&str; 4]; 5] = [
        ["Daftar Produk Lengkuas Nusantara", "", "", ""],
        ["", "", "", ""],
        ["SKU Name", "Nama Produk*", "Harga (Rp)*", "Jumlah Stok"],
        ["SRD-100", "Serundeng Lengkuas 100 g", "Rp20.000", "42"],
        ["SBL-150", "Sambal Lengkuas 150 g", "18.000,00", "7"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(r as u32, c as u16, *cell).unwrap();
            }
        }
    }
    sheet.write_number(5, 0, 777.0).unwrap();
    sheet.write_string(5, 1, "Produk Rusak").unwrap();
    sheet.write_string(5, 2, "dua puluh ribu").unwrap();
    book.save(&xlsx).unwrap();
    let csv = tmp.path().join("penjualan.csv");
    std::fs::write(
        &csv,
        "Laporan Penjualan\n\nTanggal Pembayaran,Nomor Invoice,Nama Produk,Jumlah Produk Dibeli,Harga Jual (IDR),Nama Pembeli,No Telp Pembeli\n\
         02-10-2026 10:15,INV/1,Serundeng Lengkuas 100 g,2,20000,Sri W.,081211112222\n",
    )
    .unwrap();

    let import = |extra: &[&str]| {
        laris(&config, &data)
            .args(["import", "--shop", "lengkuas", "--products"])
            .arg(&xlsx)
            .arg("--orders")
            .arg(&csv)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = import(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The good rows are in; the quarantined one is listed with where and why, and the
    // exit code (2, not 0 and not 1) tells a script to look.
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("products 2 new")
            && stdout.contains("orders 1 new")
            && stdout.contains("1 quarantined"),
        "{stdout}"
    );
    let table: Vec<&str> = stderr.lines().skip_while(|l| !l.starts_with("where")).collect();
    assert!(table[0].ends_with("reason"), "{stderr}");
    assert_eq!(table[1].matches("row 6").count(), 1, "the place once: {stderr}");
    assert!(
        table[1].contains("row 6") && table[1].contains("dua puluh ribu"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 rows were quarantined and not imported"),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-quarantine"), "{stderr}");
    // Accepted as it is: exit 0, nothing imported twice.
    let out = import(&["--allow-quarantine"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = status_json(&config, &data);
    assert_eq!(
        (
            s["shops"][0]["products"].as_u64(),
            s["shops"][0]["paid_orders"].as_u64()
        ),
        (Some(2), Some(1))
    );

    // `status --shop` lists the quarantined row with its reason.
    let out = laris(&config, &data)
        .args(["status", "--shop", "lengkuas"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("quarantined records") && text.contains("dua puluh ribu") && text.contains("row 6"),
        "{text}"
    );

    // While the service runs it holds the store: the import goes through it (the dashboard's
    // upload), with the same report, quarantine table and exit codes.
    let _server = start_server(&config, &data);
    let out = import(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stderr.contains("importing through it"), "{stderr}");
    assert!(
        stderr.contains("produk.xlsx row 6") && stderr.contains("dua puluh ribu"),
        "{stderr}"
    );
    let out = import(&["--allow-quarantine"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = status_json(&config, &data);
    assert_eq!(
        (
            s["shops"][0]["products"].as_u64(),
            s["shops"][0]["paid_orders"].as_u64()
        ),
        (Some(2), Some(1)),
        "importing the same files again changes nothing"
    );
}

#[test]
fn laris_products_lists_ids_and_skus_and_recommend_takes_either() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), true);
    let data = tmp.path().join("data");
    replay_demo(&config, &data);

    let out = laris(&config, &data)
        .args(["products", "--shop", "lengkuas", "--search", "serundeng"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,sku,name,price,stock,status,available,category,sold,revenue")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows.iter()
            .any(|r| r.starts_with("SRD-100,SRD-100,Serundeng Lengkuas 100 g,20000,")),
        "{csv}"
    );
    assert!(
        rows.iter().all(|r| r.to_lowercase().contains("serundeng")),
        "{csv}"
    );

    // The SKU in any case, and the marketplace's product id, name the same product.
    let recommend = |product: &str| {
        laris(&config, &data)
            .args(["recommend", "--shop", "lengkuas", "--json", "--product", product])
            .output()
            .unwrap()
    };
    for name in ["srd-100", "SRD-100"] {
        let out = recommend(name);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["product"]["id"], "SRD-100", "{name}");
    }
    let out = recommend("SRD-1000");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown product \"SRD-1000\" in shop lengkuas; did you mean SRD-100"),
        "{err}"
    );
}

/// A sales report with a bad row: the row's order is quarantined (exit 2); the owner fixes
/// the row and imports again, and the entry is gone, counted out of `laris status`. The
/// buyers are keyed by phone, so `laris token --phone` in any usual form names them.
#[test]
fn a_fixed_row_clears_its_quarantine_and_token_phone_signs_the_phone_key() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), false);
    let data = tmp.path().join("data");
    let csv = tmp.path().join("penjualan.csv");
    let report = |quantity: &str| {
        format!(
            "Nomor Invoice,Tanggal Pembayaran,Nama Produk,Jumlah Produk Dibeli,Harga Jual (IDR),Nama Pembeli,No Telp Pembeli,Kota\n\
             INV/1,02-10-2026 10:15,Serundeng Lengkuas 100 g,2,20000,Sri W.,0812-1111-2222,Bandung\n\
             INV/2,03-10-2026 11:00,Sambal Lengkuas 150 g,{quantity},18000,Budi,+62 813 3333 4444,Malang\n"
        )
    };
    let import = || {
        laris(&config, &data)
            .args(["import", "--shop", "lengkuas", "--orders"])
            .arg(&csv)
            .output()
            .unwrap()
    };
    let shop_status = || status_json(&config, &data)["shops"][0].clone();

    std::fs::write(&csv, report("dua")).unwrap();
    let out = import();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = shop_status();
    assert_eq!(
        (s["orders"].as_u64(), s["quarantined"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );

    // Imported again unfixed: still one entry, not two.
    assert_eq!(import().status.code(), Some(2));
    assert_eq!(shop_status()["quarantined"].as_u64(), Some(1));

    std::fs::write(&csv, report("1")).unwrap();
    let out = import();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = shop_status();
    assert_eq!(
        (
            s["orders"].as_u64(),
            s["paid_orders"].as_u64(),
            s["quarantined"].as_u64()
        ),
        (Some(2), Some(2), Some(0)),
        "{s}"
    );
    let out = laris(&config, &data)
        .args(["status", "--shop", "lengkuas"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("quarantined 0") && !text.contains("\"dua\""),
        "{text}"
    );

    // The customers are their phone keys; a token for a written-out number names the key.
    let out = laris(&config, &data)
        .args(["customers", "--shop", "lengkuas", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let customers: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ids: Vec<&str> = customers
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["6281211112222", "6281333334444"]);
    let token = |phone: &str| {
        laris(&config, &data)
            .args(["token", "--shop", "lengkuas", "--phone", phone])
            .output()
            .unwrap()
    };
    let secret = crate::helpers::SECRET.as_bytes();
    for written in ["0812-1111-2222", "+62 812 1111 2222", "81211112222"] {
        let out = token(written);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
        let signed = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let who = laris::loyalty::token::verify(&signed, secret, chrono::Utc::now().timestamp()).unwrap();
        assert_eq!(who.0, "6281211112222", "{written}");
    }
    let out = token("0812-9999-0000");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning") && err.contains("no customer \"6281299990000\""),
        "{err}"
    );
    let out = token("0812-99");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--phone") && err.contains("\"0812-99\"") && err.contains("8 to 12"),
        "{err}"
    );
}

fn experiment_report(config: &std::path::Path, data: &std::path::Path, format: &str) -> String {
    let out = laris(config, data)
        .args(["experiment", "report", "--shop", "lengkuas", "--format", format])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "experiment report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn experiment_report_answers_offline_and_through_the_service() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), true);
    let data = tmp.path().join("data");
    replay_demo(&config, &data);
    // Without an experiment: the report says so.
    let text = experiment_report(&config, &data, "text");
    assert!(text.contains("No experiment is configured"), "{text}");

    let with = format!(
        "{}[shops.experiment]\nholdout_pct = 10\nname = \"cli\"\n",
        std::fs::read_to_string(&config).unwrap()
    );
    std::fs::write(&config, with).unwrap();
    let offline: Value = serde_json::from_str(&experiment_report(&config, &data, "json")).unwrap();
    assert_eq!(offline["state"], "not_enough_data", "{offline}");
    assert_eq!(offline["experiment"]["holdout_pct"], 10);
    assert_eq!(offline["analysis"]["control"]["visitors"], 0);

    let _server = start_server(&config, &data);
    let online: Value = serde_json::from_str(&experiment_report(&config, &data, "json")).unwrap();
    assert_eq!(online["state"], "not_enough_data", "{online}");
    assert_eq!(online["experiment"]["name"], "cli");
    let text = experiment_report(&config, &data, "text");
    assert!(
        text.contains("experiment cli: 10% of visitors in control"),
        "{text}"
    );
    assert!(text.contains("sample ratio: 0 control / 0 treatment"), "{text}");
}

#[test]
fn laris_sync_pulls_the_demo_shop_as_tiktok_shop_from_laris_mock_marketplace_and_names_a_wrong_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let (_mock, base) = start_mock_marketplace(&repo().join("demo/lengkuas/tiktok-recording"));
    let config = |secret: &str| {
        let text = test_config_text().replace("seed_", "# seed_")
            + &format!(
                r#"
[[shops.sources]]
kind = "tiktok_shop"
app_key = "laris-demo-app"
app_secret = "{secret}"
access_token = "TTP_laris_demo_access"
refresh_token = "TTP_laris_demo_refresh"
shop_cipher = "ROW_lengkuasDemo"
base_url = "{base}"
auth_url = "{base}"
history_days = {days}
http = {{ retries = 1, backoff_ms = 10, connect_timeout_secs = 2 }}
"#,
                days = crate::helpers::demo_history_days() + 7
            );
        let path = tmp.path().join(format!("{secret}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    };

    let wrong = config("not-the-secret");
    let out = laris(&wrong, &tmp.path().join("wrong"))
        .args(["sync", "--shop", "lengkuas"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("106001")
            && stdout.contains("check app_secret")
            && !stdout.contains("not-the-secret"),
        "{stdout}"
    );
    let s = status_json(&wrong, &tmp.path().join("wrong"));
    assert_eq!(s["shops"][0]["products"].as_u64(), Some(0));

    let right = config("laris-demo-secret");
    let data = tmp.path().join("data");
    let out = laris(&right, &data)
        .args(["sync", "--shop", "lengkuas"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let s = status_json(&right, &data);
    assert_eq!(
        (
            s["shops"][0]["products"].as_u64(),
            s["shops"][0]["orders"].as_u64()
        ),
        (Some(10), Some(600))
    );
}
