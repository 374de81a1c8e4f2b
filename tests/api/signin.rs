//! Sign-in under attack: a flood of wrong passwords from many addresses does not lock the
//! owner out, a full password-check queue answers 429 with `Retry-After`, `laris admin
//! unlock` clears a locked address, and `X-Forwarded-For` / `X-Forwarded-Proto` count only
//! from `server.trusted_proxies`. The many client addresses are 127.x.y.z in
//! `X-Forwarded-For`, sent by the test from 127.0.0.1 as a trusted proxy.

use std::path::Path;
use std::process::{Command, Output};

use std::future::Future;

use argon2::password_hash::{PasswordHasher, SaltString};

use crate::admin::{admin_config_text, client, OWNER_PW};
use crate::helpers::{spawn_app_with, TestApp};

/// The admin test config with `[server]` and `[admin]` lines added.
fn config_text(server: &str, admin: &str) -> String {
    admin_config_text()
        .replacen("[server]\n", &format!("[server]\n{server}\n"), 1)
        .replacen("[admin]\n", &format!("[admin]\n{admin}\n"), 1)
}

async fn spawn(server: &str, admin: &str) -> TestApp {
    let text = config_text(server, admin);
    let settings = laris::config::Settings::from_toml(&text, Path::new("signin-test.toml"), &[])
        .expect("the sign-in test config is valid");
    spawn_app_with(settings).await
}

const BEHIND_PROXY: &str = r#"trusted_proxies = ["127.0.0.1"]"#;

/// Runs the futures at once and gives their outputs in order.
async fn concurrently<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

/// A sign-in at `base` as the proxy (this test, at 127.0.0.1) forwards it for `client_ip`.
async fn login_via(base: &str, client_ip: &str, user: &str, password: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/admin/login"))
        .header("x-forwarded-for", client_ip)
        .form(&[("user", user), ("password", password)])
        .send()
        .await
        .unwrap()
}

async fn login_from(app: &TestApp, client_ip: &str, user: &str, password: &str) -> reqwest::Response {
    login_via(&app.base, client_ip, user, password).await
}

fn retry_after(resp: &reqwest::Response) -> u64 {
    resp.headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("a {} without Retry-After", resp.status()))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_flood_of_wrong_passwords_from_many_addresses_never_locks_the_owner_out() {
    // One token a second for wrong passwords, 60 at once.
    let app = spawn(BEHIND_PROXY, "failed_signins_per_minute = 60").await;
    let attempts = (0..40).flat_map(|a| (0..5).map(move |i| (a, i)));
    let answers = concurrently(attempts.map(|(a, i)| {
        let base = app.base.clone();
        async move {
            let resp = login_via(
                &base,
                &format!("127.1.0.{}", a + 1),
                "admin",
                &format!("tebakan-{i}"),
            )
            .await;
            let status = resp.status().as_u16();
            let wait = (status == 429).then(|| retry_after(&resp));
            (status, wait)
        }
    }))
    .await;
    let wrong = answers.iter().filter(|(s, _)| *s == 401).count();
    let slowed = answers.iter().filter(|(s, _)| *s == 429).count();
    assert_eq!(wrong + slowed, 200, "only 401 and 429: {answers:?}");
    // Some were checked; the rest found every check busy or the shared budget spent.
    assert!((1..200).contains(&wrong), "{wrong} answered 401");
    assert!(
        answers
            .iter()
            .filter_map(|(_, w)| *w)
            .all(|w| (1..=60).contains(&w)),
        "429s ask for seconds, not a lockout: {answers:?}"
    );

    // The owner, from an address that has never signed in: at worst a short wait, then in.
    let mut waited = Vec::new();
    let signed_in = loop {
        let resp = login_from(&app, "127.2.0.1", "admin", OWNER_PW).await;
        match resp.status().as_u16() {
            303 => break resp,
            429 => {
                let wait = retry_after(&resp);
                assert!(wait <= 60, "the owner was told to wait {wait} s");
                let page = resp.text().await.unwrap();
                assert!(page.contains("tunggu") && page.contains("detik"), "{page}");
                waited.push(wait);
                assert!(waited.len() < 5, "still refused after waiting {waited:?}");
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            }
            other => panic!("the owner's sign-in answered {other}"),
        }
    };
    assert!(signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("laris_session="));
    // Signed in once, the owner's address is no longer slowed by strangers' failures.
    let flood = concurrently((0..80).map(|a| {
        let base = app.base.clone();
        async move {
            login_via(&base, &format!("127.3.0.{}", a + 1), "admin", "salah")
                .await
                .status()
        }
    }))
    .await;
    assert!(flood.iter().any(|s| *s == 429), "the flood is refused again");
    assert_eq!(
        login_from(&app, "127.2.0.1", "admin", OWNER_PW).await.status(),
        303
    );
    app.stop().await;
}

/// A hash whose check takes a while even in an optimised build (32 MiB, 4 passes), so that
/// concurrent sign-ins find the single check busy.
fn slow_hash(plain: &str) -> String {
    let params = argon2::Params::new(32 * 1024, 4, 1, None).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon.hash_password(plain.as_bytes(), &salt).unwrap().to_string()
}

#[tokio::test]
async fn when_every_password_check_is_taken_a_sign_in_gets_429_with_retry_after_at_once() {
    let text = config_text(BEHIND_PROXY, "password_checks = 1\npassword_queue = 1");
    let cheap = text
        .split("password_hash = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let text = text.replacen(&cheap, &slow_hash(OWNER_PW), 1);
    let settings = laris::config::Settings::from_toml(&text, Path::new("busy.toml"), &[]).unwrap();
    let app = spawn_app_with(settings).await;

    let answers = concurrently((0..8).map(|a| {
        let base = app.base.clone();
        async move {
            let resp = login_via(&base, &format!("127.4.0.{}", a + 1), "admin", "salah-sandi-nya").await;
            let status = resp.status().as_u16();
            let wait = (status == 429).then(|| retry_after(&resp));
            (status, wait, resp.text().await.unwrap())
        }
    }))
    .await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _, _)| *s).collect();
    // One check runs and one waits: at least six of the eight find no place.
    assert!(
        statuses.iter().filter(|s| **s == 401).count() >= 1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().filter(|s| **s == 429).count() >= 6,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    for (_, wait, page) in answers.iter().filter(|(s, _, _)| *s == 429) {
        assert!(wait.unwrap() >= 1);
        assert!(
            page.contains("Server sedang memeriksa proses masuk lain") && page.contains("tunggu"),
            "{page}"
        );
    }
    // Once the flood is over the owner signs in.
    assert_eq!(
        login_from(&app, "127.4.1.1", "admin", OWNER_PW).await.status(),
        303
    );
    app.stop().await;
}

/// Runs `laris --config … --data-dir … ARGS` off the runtime's thread, which also serves the
/// app the command talks to.
async fn laris(config: &Path, data: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_laris"));
    c.arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(args);
    c.env_remove("LARIS_ADMIN_TOKEN").env("RUST_LOG", "warn");
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn laris_admin_unlock_clears_a_locked_address_through_the_running_service() {
    let app = spawn(BEHIND_PROXY, "").await;
    for _ in 0..5 {
        assert_eq!(
            login_from(&app, "127.5.0.1", "admin", "salah-sandi-nya")
                .await
                .status(),
            401
        );
    }
    let refused = login_from(&app, "127.5.0.1", "admin", OWNER_PW).await;
    assert_eq!(refused.status(), 429);
    assert!(
        retry_after(&refused) > 60,
        "a real lockout: {}",
        retry_after(&refused)
    );
    assert!(refused.text().await.unwrap().contains("laris admin unlock"));

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("laris.toml");
    std::fs::write(&config, config_text(BEHIND_PROXY, "")).unwrap();
    let bad = laris(
        &config,
        app.data_dir(),
        &["admin", "unlock", "--address", "127.5.0.1:80"],
    )
    .await;
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("127.5.0.1:80") && err.contains("without a port"),
        "{err}"
    );

    let out = laris(
        &config,
        app.data_dir(),
        &["admin", "unlock", "--address", "127.5.0.1", "--user", "admin"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 lockout") && stdout.contains("2 wrong-password counts"),
        "{stdout}"
    );
    assert_eq!(
        login_from(&app, "127.5.0.1", "admin", OWNER_PW).await.status(),
        303
    );

    // Without a running service nothing is locked, and the command says why.
    let idle = dir.path().join("idle-data");
    let out = laris(&config, &idle, &["admin", "unlock"]).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("no laris service") && text.contains("memory"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn forwarded_headers_count_only_from_a_trusted_proxy() {
    // Not trusted: every try comes from 127.0.0.1 whatever the header says, so five wrong
    // passwords lock that one address.
    let direct = spawn("", "").await;
    for a in 1..=5 {
        let resp = login_from(&direct, &format!("127.6.0.{a}"), "admin", "salah-sandi-nya").await;
        assert_eq!(resp.status(), 401);
    }
    assert_eq!(
        login_from(&direct, "127.6.0.9", "admin", OWNER_PW).await.status(),
        429
    );
    let https = client()
        .post(format!("{}/admin/login", direct.base))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-for", "127.6.1.1")
        .form(&[("user", "toko-uji"), ("password", crate::admin::SHOP_PW)])
        .send()
        .await
        .unwrap();
    assert_eq!(https.status(), 303);
    let cookie = https.headers()["set-cookie"].to_str().unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");
    direct.stop().await;

    // Trusted: each forwarded address is its own client, and HTTPS is believed.
    let proxied = spawn(BEHIND_PROXY, "").await;
    for a in 1..=5 {
        let resp = login_from(&proxied, &format!("127.6.0.{a}"), "admin", "salah-sandi-nya").await;
        assert_eq!(resp.status(), 401);
    }
    let resp = client()
        .post(format!("{}/admin/login", proxied.base))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-for", "198.51.100.1, 127.6.0.9")
        .form(&[("user", "admin"), ("password", OWNER_PW)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");

    // Widget events are limited per forwarded client too (60 at once per address).
    let events = |ip: &'static str| {
        let url = format!("{}/v1/shops/lengkuas/events", proxied.base);
        async move {
            let batch: Vec<_> = (0..30)
                .map(|_| serde_json::json!({"type": "impression", "slot": "similar", "product": "SRD-100"}))
                .collect();
            reqwest::Client::new()
                .post(url)
                .header("x-forwarded-for", ip)
                .json(&serde_json::json!({ "events": batch }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(events("127.7.0.1").await, 202);
    assert_eq!(events("127.7.0.1").await, 202);
    assert_eq!(events("127.7.0.1").await, 429);
    assert_eq!(events("127.7.0.2").await, 202);
    proxied.stop().await;
}
