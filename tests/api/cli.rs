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

    let out = laris(&config, &data)
        .args(["replay"])
        .arg(crate::helpers::demo_recording())
        .args(["--shop", "lengkuas"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
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
