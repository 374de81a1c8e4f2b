//! One shop's user reaches nothing of another shop: every admin route, read or write, page
//! or API, answers 403 without a trace of the other shop's data; replay reads only the
//! shop's own recordings and its refusal tells nothing about the server's files; the data
//! directory is its owner's alone.

use laris::domain::ShopId;
use serde_json::json;

use crate::admin::{client, sign_in, spawn_admin_app, OTHER, SHOP_PW};
use crate::helpers::demo_recording;

fn lengkuas() -> ShopId {
    ShopId::parse("lengkuas").unwrap()
}

#[tokio::test]
async fn a_shop_user_reaches_nothing_of_another_shop_by_any_admin_route() {
    let app = spawn_admin_app().await;
    let me = sign_in(&app, OTHER, SHOP_PW).await;
    let shop = lengkuas();
    let product = app.store.products(&shop).unwrap()[0].id.to_string();
    let customers = app.store.customers(&shop).unwrap();
    let customer = customers[0].id.0.clone();
    // What must never show: the other shop's customers' names and its products' names.
    let secrets: Vec<String> = customers
        .iter()
        .filter_map(|c| c.name.clone())
        .filter(|n| n.len() > 4)
        .take(20)
        .chain(
            app.store
                .products(&shop)
                .unwrap()
                .iter()
                .take(20)
                .map(|p| p.name.clone()),
        )
        .collect();
    assert!(!secrets.is_empty());

    let mut gets: Vec<String> = [
        "overview",
        "products",
        "customers",
        "tiers",
        "bundles",
        "performance",
        "sync",
        "feedback",
        "recommendations?product=X",
    ]
    .iter()
    .map(|p| format!("/admin/api/shops/lengkuas/{p}"))
    .collect();
    gets.extend([
        format!("/admin/api/shops/lengkuas/products/{product}"),
        format!("/admin/api/shops/lengkuas/customers/{customer}"),
        "/admin/api/status?shop=lengkuas".to_string(),
        "/admin/shops/lengkuas".to_string(),
        "/admin/shops/lengkuas/overview.csv".to_string(),
        "/admin/shops/lengkuas/products".to_string(),
        format!("/admin/shops/lengkuas/products/{product}"),
        "/admin/shops/lengkuas/customers".to_string(),
        "/admin/shops/lengkuas/customers.csv".to_string(),
        format!("/admin/shops/lengkuas/customers/{customer}"),
        "/admin/shops/lengkuas/tiers".to_string(),
        "/admin/shops/lengkuas/bundles".to_string(),
        "/admin/shops/lengkuas/performance".to_string(),
        "/admin/shops/lengkuas/sync".to_string(),
        "/admin/shops/lengkuas/feedback".to_string(),
        "/admin/shops/lengkuas/feedback.csv".to_string(),
        "/admin/shops/lengkuas/products.csv".to_string(),
        "/admin/shops/lengkuas/install".to_string(),
    ]);
    for path in &gets {
        let resp = client()
            .get(format!("{}{path}", app.base))
            .header("cookie", &me.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "GET {path}");
        let body = resp.text().await.unwrap();
        for s in &secrets {
            assert!(!body.contains(s.as_str()), "GET {path} shows {s:?}");
        }
    }

    let posts = [
        (
            "/admin/api/shops/lengkuas/replay",
            json!({"dir": demo_recording()}),
        ),
        ("/admin/api/shops/lengkuas/rebuild", json!({})),
        ("/admin/api/shops/lengkuas/sync", json!({})),
        ("/admin/api/shops/lengkuas/feedback/1", json!({"status": "read"})),
    ];
    for (path, body) in &posts {
        let resp = client()
            .post(format!("{}{path}", app.base))
            .header("cookie", &me.cookie)
            .header("x-csrf-token", &me.csrf)
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "POST {path}");
    }
    for path in ["/admin/shops/lengkuas/sync", "/admin/shops/lengkuas/feedback/1"] {
        let resp = client()
            .post(format!("{}{path}", app.base))
            .header("cookie", &me.cookie)
            .form(&[("csrf", me.csrf.as_str()), ("status", "read")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "POST {path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn replay_reads_only_the_shops_own_recordings_and_names_no_server_path() {
    let app = spawn_admin_app().await;
    let me = sign_in(&app, OTHER, SHOP_PW).await;
    let other = ShopId::parse(OTHER).unwrap();
    let replay = |dir: String| {
        let (base, cookie, csrf) = (app.base.clone(), me.cookie.clone(), me.csrf.clone());
        async move {
            client()
                .post(format!("{base}/admin/api/shops/{OTHER}/replay"))
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .json(&json!({ "dir": dir }))
                .send()
                .await
                .unwrap()
        }
    };
    // Lengkuas's recording (it exists), a server path that exists, one that does not, and
    // a way out of the shop's own directory: one and the same refusal, bar the echo.
    let mut messages = Vec::new();
    for dir in [
        demo_recording().display().to_string(),
        "/etc".to_string(),
        "/no/such/recording".to_string(),
        "../lengkuas".to_string(),
    ] {
        let resp = replay(dir.clone()).await;
        assert_eq!(resp.status(), 403, "{dir}");
        let body: serde_json::Value = resp.json().await.unwrap();
        let message = body["error"].as_str().unwrap().to_string();
        assert!(!message.contains("No such file"), "{message}");
        assert!(message.contains("replay_dirs"), "the fix is named: {message}");
        messages.push(message.replace(&format!("{dir:?}"), "DIR"));
    }
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:#?}");
    assert_eq!(
        app.store.order_count(&other).unwrap(),
        0,
        "nothing of lengkuas came in"
    );

    // The shop's own recordings directory works.
    let own = app.data_dir().join("recordings").join(OTHER).join("copy");
    std::fs::create_dir_all(&own).unwrap();
    for f in std::fs::read_dir(demo_recording()).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), own.join(f.file_name())).unwrap();
    }
    let resp = replay("copy".to_string()).await;
    assert_eq!(resp.status(), 200);
    assert!(app.store.order_count(&other).unwrap() > 0);
    app.stop().await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_is_its_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_admin_app().await;
    for dir in [app.data_dir().to_path_buf(), app.data_dir().join("store")] {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", dir.display());
    }
    app.stop().await;

    // The binary creates every file for its user only.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("laris.toml");
    std::fs::write(&config, crate::helpers::test_config_text()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_laris"))
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .arg("replay")
        .arg(demo_recording())
        .args(["--shop", "lengkuas"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut seen = 0;
    let mut stack = vec![data.clone()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::metadata(&p).unwrap();
        assert_eq!(meta.permissions().mode() & 0o077, 0, "{}", p.display());
        seen += 1;
        if meta.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
    assert!(seen > 3, "the store's files were checked");
}
