//! The server's limits as a hostile client meets them: a flood of idle connections does not
//! keep `/healthz` from answering, a request whose headers or body stall is cut off, and a
//! slow client cannot hold a shutdown beyond its grace.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app_with, test_config_text, TestApp};

/// The test config with these `[server]` keys added.
async fn spawn_limited(keys: &str) -> TestApp {
    let text = test_config_text().replacen("[server]\n", &format!("[server]\n{keys}\n"), 1);
    let settings = laris::config::Settings::from_toml(&text, Path::new("limits.toml"), &[])
        .expect("the limits test config is valid");
    spawn_app_with(settings).await
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection (or 10 s pass: the test then fails).
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    assert!(
        read.is_ok(),
        "the server kept the connection open: {:?}",
        String::from_utf8_lossy(&out)
    );
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_flood_of_idle_connections_does_not_keep_healthz_from_answering() {
    let app = spawn_limited("max_connections = 20").await;
    let mut idle = Vec::new();
    for _ in 0..100 {
        // Connections that never send a byte: each newcomer at the cap closes the one idle
        // longest.
        if let Ok(s) = TcpStream::connect(addr(&app)).await {
            idle.push(s);
        }
    }
    for _ in 0..5 {
        let r = app.get("/healthz").await;
        assert_eq!(r.status(), 200);
    }
    // Most of the idle ones were closed to make room.
    let mut closed = 0;
    for s in &mut idle {
        let mut buf = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await {
            closed += 1;
        }
    }
    assert!(closed >= 70, "only {closed} of 100 idle connections were closed");
    app.stop().await;
}

#[tokio::test]
async fn stalled_headers_and_a_stalled_body_are_cut_off() {
    let app = spawn_limited("header_timeout_secs = 1\nbody_timeout_secs = 1").await;
    // Half a request line, then nothing.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(b"GET /healthz HT").await.unwrap();
    read_until_closed(&mut s).await;

    // The headers of an event batch, a tenth of its body, then nothing.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(
        b"POST /v1/shops/lengkuas/events HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n[{\"type\"",
    )
    .await
    .unwrap();
    let answer = read_until_closed(&mut s).await;
    assert!(!answer.contains(" 500 "), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn a_slow_client_holds_a_shutdown_no_longer_than_its_grace() {
    let app = spawn_limited("shutdown_grace_secs = 1\nbody_timeout_secs = 60").await;
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(
        b"POST /v1/shops/lengkuas/events HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n[",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.stop()).await;
    assert!(
        stopped.is_ok(),
        "the service waited for the slow client past its grace"
    );
    drop(s);
}
