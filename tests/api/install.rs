//! The dashboard's "Pasang widget" page: the snippet with the real address, refused origins
//! named, a page check, and each slot previewed.

use std::path::Path;

use crate::admin::{admin_config_text, client, get_page, sign_in, OWNER_PW};
use crate::helpers::{spawn_app_with, TestApp};

/// The page as a browser shows it (the templates escape `/` too).
/// The page in the dashboard's default language, Indonesian (the session cookie alone).
async fn page(app: &TestApp, cookie: &str, path: &str) -> String {
    let session = cookie.split("; ").next().unwrap_or_default();
    get_page(app, session, path).await.replace("&#x2f;", "/")
}

#[tokio::test]
async fn a_refused_origin_is_named_on_the_page_with_the_snippet_a_check_and_previews() {
    let text = admin_config_text().replacen(
        "allowed_origins = [\"*\"]",
        "allowed_origins = [\"https://toko.example\"]",
        1,
    );
    let settings = laris::config::Settings::from_toml(&text, Path::new("t.toml"), &[]).unwrap();
    let app = spawn_app_with(settings).await;

    // The shop's own site gets the answer; another site's browser is refused (no header)…
    let fragments = format!(
        "{}/v1/shops/lengkuas/fragments?slots=similar&product=SRD-100",
        app.base
    );
    let own = client()
        .get(&fragments)
        .header("origin", "https://toko.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.headers()["access-control-allow-origin"],
        "https://toko.example"
    );
    for _ in 0..3 {
        let other = client()
            .get(&fragments)
            .header("origin", "https://lain.example")
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 200);
        assert!(other.headers().get("access-control-allow-origin").is_none());
    }

    // …and the owner sees which origin, how often, and how to fix it.
    let me = sign_in(&app, "admin", OWNER_PW).await;
    let html = page(&app, &me.cookie, "/admin/shops/lengkuas/install").await;
    let refused = html
        .split("data-refused=\"https://lain.example\"")
        .nth(1)
        .expect("the refused origin is listed");
    assert!(
        refused.starts_with("><td><code>https://lain.example</code></td><td class=\"num\">3</td>"),
        "{refused}"
    );
    assert!(!html.contains("data-refused=\"https://toko.example\""));
    assert!(
        html.contains(&format!(
            "&lt;script async src=&quot;{}/widget.js&quot; data-shop=&quot;lengkuas&quot;&gt;",
            app.base
        )),
        "the snippet names this service's address: {html}"
    );
    for slot in ["similar", "upsell", "bundle", "loyalty"] {
        assert!(html.contains(&format!("data-preview=\"{slot}\"")), "{slot}");
    }
    assert!(
        html.contains("class=\"laris laris-similar\""),
        "a rendered preview"
    );

    // Checking the demo page, which embeds the widget for this shop: script and slots
    // found, and its origin named as the one thing that stops it.
    let demo = format!("{}/demo?product=SRD-100", app.base);
    let html = page(
        &app,
        &me.cookie,
        &format!(
            "/admin/shops/lengkuas/install?check={}",
            laris::domain::url_component(&demo)
        ),
    )
    .await;
    let problems = html
        .split("data-attr=\"check-problems\"")
        .nth(1)
        .expect("problems listed")
        .split("</ul>")
        .next()
        .unwrap();
    assert_eq!(problems.matches("<li").count(), 1, "{problems}");
    assert!(problems.contains(&format!("asal {}", app.base)), "{problems}");
    assert!(
        html.contains("<code>/widget.js</code> data-shop <code>lengkuas</code>"),
        "{html}"
    );
    assert!(html.contains("produk <code>SRD-100</code> <span class=\"good\">ada di katalog</span>"));

    // A page that cannot be fetched says so.
    let html = page(
        &app,
        &me.cookie,
        "/admin/shops/lengkuas/install?check=bukan-alamat",
    )
    .await;
    assert!(html.contains("data-attr=\"check-error\""), "{html}");
    app.stop().await;
}
