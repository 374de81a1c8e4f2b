//! The prepared widget answers (`web::prepared`): every fragment answer served from them is
//! the very answer the route table makes afresh — body, status and every header — for each
//! demo product, slot, language and customer tier; ETag/304, gzip and brotli, HEAD; and a
//! model swap or a shop's template override is never answered with stale bytes.
//!
//! "Afresh": the same request with one parameter the hot path does not know (`fresh=1`),
//! which the route table ignores and the hot path hands on to it.

use std::collections::BTreeMap;
use std::io::Read;

use laris::domain::ShopId;
use proptest::prelude::*;

use crate::helpers::{spawn_app, spawn_app_with, test_config_text, TestApp, SECRET};

fn shop() -> ShopId {
    ShopId::parse("lengkuas").unwrap()
}

/// Status, headers (name: values in order) and body of a GET.
#[derive(Debug, PartialEq)]
struct Seen {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn fetch(app: &TestApp, method: reqwest::Method, path: &str, headers: &[(&str, &str)]) -> Seen {
    let mut req = app.http.request(method, format!("{}{path}", app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        // The wire framing differs: a compressed answer today streams (chunked), a
        // prepared one has its length. `date` moves on.
        .filter(|(k, _)| !matches!(k.as_str(), "date" | "content-length" | "transfer-encoding"))
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
        .collect();
    Seen {
        status,
        headers,
        body: r.bytes().await.unwrap().to_vec(),
    }
}

async fn get(app: &TestApp, path: &str) -> Seen {
    fetch(app, reqwest::Method::GET, path, &[]).await
}

/// `path` answered afresh by the route table.
fn fresh(path: &str) -> String {
    format!("{path}&fresh=1")
}

fn tokens_by_tier(app: &TestApp) -> BTreeMap<String, String> {
    let exp = chrono::Utc::now().timestamp() + 3600;
    let mut out = BTreeMap::new();
    for c in app.store.customers(&shop()).unwrap() {
        if let Some(tier) = c.tier.clone() {
            out.entry(tier)
                .or_insert_with(|| laris::loyalty::token::make(&c.id.0, SECRET.as_bytes(), exp));
        }
    }
    out
}

fn products(app: &TestApp) -> Vec<String> {
    app.models
        .get(&shop())
        .unwrap()
        .products
        .iter()
        .map(|p| p.id.to_string())
        .collect()
}

#[tokio::test]
async fn every_prepared_answer_is_the_fresh_render_for_every_product_slot_language_and_tier() {
    let app = spawn_app().await;
    let tokens = tokens_by_tier(&app);
    assert_eq!(tokens.len(), 4, "a customer in each of the four tiers");
    let mut whos: Vec<String> = vec![String::new()];
    whos.extend(tokens.values().map(|t| format!("&customer={t}")));
    let mut answered = 0;
    for product in products(&app) {
        for lang in ["id", "en"] {
            for who in &whos {
                let paths = [
                    format!("/v1/shops/lengkuas/fragments?slots=similar,upsell,bundle,loyalty&product={product}&lang={lang}{who}"),
                    format!("/v1/shops/lengkuas/fragments?product={product}&lang={lang}{who}"),
                    format!("/v1/shops/lengkuas/fragments/similar?product={product}&lang={lang}{who}"),
                    format!("/v1/shops/lengkuas/fragments/upsell?product={product}&lang={lang}{who}"),
                    format!("/v1/shops/lengkuas/fragments/bundle?product={product}&lang={lang}{who}"),
                    format!("/v1/shops/lengkuas/fragments/loyalty?product={product}&lang={lang}{who}"),
                ];
                for path in paths {
                    let made = get(&app, &fresh(&path)).await;
                    assert_eq!(made.status, 200, "{path}");
                    // The first ask prepares it, the second is answered from the cache.
                    assert_eq!(get(&app, &path).await, made, "{path}");
                    assert_eq!(get(&app, &path).await, made, "{path} (kept)");
                    answered += 1;
                }
            }
        }
    }
    assert!(answered >= 10 * 2 * 5 * 6, "{answered}");
    // They were answered from the prepared answers, one kept per distinct request.
    let (kept, bytes) = app.prepared.usage();
    assert_eq!(kept, answered, "{bytes} bytes");
    app.stop().await;
}

#[tokio::test]
async fn etag_304_compression_and_head_are_as_the_route_table_answers() {
    let app = spawn_app().await;
    let path = "/v1/shops/lengkuas/fragments?slots=similar,upsell,bundle,loyalty&product=SRD-100";
    let plain = get(&app, path).await;
    let etag = plain
        .headers
        .iter()
        .find(|(k, _)| k == "etag")
        .map(|(_, v)| v.clone())
        .expect("an etag");
    for headers in [
        vec![("accept-encoding", "br")],
        vec![("accept-encoding", "gzip, deflate")],
        vec![("if-none-match", etag.as_str())],
        vec![("if-none-match", etag.as_str()), ("accept-encoding", "br")],
        vec![
            ("origin", "https://shop.example"),
            ("accept-encoding", "gzip;q=0, br"),
        ],
        vec![("if-none-match", "\"other\"")],
    ] {
        let kept = fetch(&app, reqwest::Method::GET, path, &headers).await;
        let made = fetch(&app, reqwest::Method::GET, &fresh(path), &headers).await;
        assert_eq!(kept.status, made.status, "{headers:?}");
        assert_eq!(kept.headers, made.headers, "{headers:?}");
        let encoding = kept.headers.iter().find(|(k, _)| k == "content-encoding");
        let decoded = |body: &[u8]| -> Vec<u8> {
            let mut out = Vec::new();
            match encoding.map(|(_, v)| v.as_str()) {
                _ if body.is_empty() => {}
                Some("br") => {
                    brotli::Decompressor::new(body, 4096)
                        .read_to_end(&mut out)
                        .unwrap();
                }
                Some("gzip") => {
                    flate2::read::GzDecoder::new(body).read_to_end(&mut out).unwrap();
                }
                _ => out = body.to_vec(),
            }
            out
        };
        assert_eq!(decoded(&kept.body), decoded(&made.body), "{headers:?}");
        if kept.status == 200 {
            assert_eq!(
                decoded(&kept.body),
                plain.body,
                "{headers:?} decodes to the plain body"
            );
        } else {
            assert_eq!(kept.status, 304);
            assert!(kept.body.is_empty());
        }
    }
    // HEAD: the GET's status and headers, no body.
    let head = fetch(&app, reqwest::Method::HEAD, path, &[]).await;
    let head_fresh = fetch(&app, reqwest::Method::HEAD, &fresh(path), &[]).await;
    assert_eq!(head, head_fresh);
    assert_eq!((head.status, &head.headers), (plain.status, &plain.headers));
    assert!(head.body.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_model_swap_is_answered_at_once_never_with_stale_bytes() {
    let app = spawn_app().await;
    let path = "/v1/shops/lengkuas/fragments?slots=similar,upsell,bundle&product=SRD-100";
    let before = get(&app, path).await;
    assert_eq!(get(&app, path).await, before, "kept");
    let mut model = (*app.models.get(&shop()).unwrap()).clone();
    for p in &mut model.products {
        p.name = format!("{} Baru", p.name);
    }
    app.models.put(shop(), model);
    let after = get(&app, path).await;
    assert_ne!(after.body, before.body);
    assert!(String::from_utf8_lossy(&after.body).contains(" Baru"));
    assert_eq!(after, get(&app, &fresh(path)).await);
    // A rebuild through the admin API swaps the model back to what the store holds.
    let r = app
        .admin_post("/admin/api/shops/lengkuas/rebuild", serde_json::json!({}))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let rebuilt = get(&app, path).await;
    assert!(!String::from_utf8_lossy(&rebuilt.body).contains(" Baru"));
    assert_eq!(rebuilt, get(&app, &fresh(path)).await);
    app.stop().await;
}

#[tokio::test]
async fn a_shops_template_override_is_what_the_prepared_answer_holds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("fragments")).unwrap();
    let write = |marker: &str| {
        std::fs::write(
            dir.path().join("fragments/similar.html"),
            format!(
                "<aside class=\"{marker}\">{{% for it in items %}}{{{{ it.name }}}};{{% endfor %}}</aside>"
            ),
        )
        .unwrap();
    };
    let settings = || {
        let text = test_config_text().replace(
            "customer_secret =",
            &format!("templates = \"{}\"\ncustomer_secret =", dir.path().display()),
        );
        laris::config::Settings::from_toml(&text, std::path::Path::new("test.toml"), &[]).unwrap()
    };
    let path = "/v1/shops/lengkuas/fragments/similar?product=SRD-100";
    write("mine-1");
    let app = spawn_app_with(settings()).await;
    let first = get(&app, path).await;
    assert!(String::from_utf8_lossy(&first.body).starts_with("<aside class=\"mine-1\">"));
    assert_eq!(first, get(&app, &fresh(path)).await);
    app.stop().await;
    // The templates are read at start: a changed override is what the next start serves.
    write("mine-2");
    let app = spawn_app_with(settings()).await;
    let second = get(&app, path).await;
    assert!(String::from_utf8_lossy(&second.body).starts_with("<aside class=\"mine-2\">"));
    assert_eq!(second, get(&app, &fresh(path)).await);
    app.stop().await;
}

#[tokio::test]
async fn a_customers_answer_shows_their_tier_and_nothing_personal() {
    let app = spawn_app().await;
    let exp = chrono::Utc::now().timestamp() + 3600;
    let customers = app.store.customers(&shop()).unwrap();
    for c in customers.iter().filter(|c| c.tier.is_some()).take(12) {
        let token = laris::loyalty::token::make(&c.id.0, SECRET.as_bytes(), exp);
        let path =
            format!("/v1/shops/lengkuas/fragments?slots=similar,loyalty&product=SRD-100&customer={token}");
        let seen = get(&app, &path).await;
        assert_eq!(seen, get(&app, &path).await);
        let v: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
        let loyalty = v["fragments"]["loyalty"].as_str().unwrap();
        let tier = c.tier.as_deref().unwrap();
        assert!(
            loyalty.contains(&format!("<strong>{tier}</strong>")),
            "{}: {loyalty}",
            c.id.0
        );
        let body = String::from_utf8_lossy(&seen.body);
        for personal in [c.name.as_deref(), Some(c.id.0.as_str())].into_iter().flatten() {
            assert!(!body.contains(personal), "{personal:?} in {body}");
        }
        assert!(seen
            .headers
            .contains(&("cache-control".into(), "private, max-age=60".into())));
    }
    // A forged token: the ladder only, as the route table answers it.
    let (kept, _) = app.prepared.usage();
    assert!(kept >= 12, "each customer's answer is kept: {kept}");
    let forged = laris::loyalty::token::make(&customers[0].id.0, b"not-the-shops-secret-000", exp);
    let path = format!("/v1/shops/lengkuas/fragments?slots=loyalty&product=SRD-100&customer={forged}");
    let seen = get(&app, &path).await;
    assert!(!String::from_utf8_lossy(&seen.body).contains("laris-tier"));
    assert_eq!(seen, get(&app, &fresh(&path)).await);
    assert_eq!(app.prepared.usage().0, kept, "nor is a forged token's");
    app.stop().await;
}

/// Any mix of the parameters the widget sends is answered as the route table answers it.
#[test]
fn any_widget_query_is_answered_as_the_route_table_answers_it() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(spawn_app());
    let ids = products(&app);
    let id = |i: usize| ids.get(i).cloned().unwrap_or_else(|| format!("NONE-{i}"));
    let strategy = (
        0usize..12,
        proptest::sample::subsequence(
            vec!["similar", "upsell", "bundle", "loyalty", "for_you", "nope"],
            0..4,
        ),
        proptest::option::of(proptest::sample::select(vec!["id", "en", "fr"])),
        proptest::option::of(0usize..25),
        proptest::sample::subsequence((0usize..10).collect::<Vec<_>>(), 0..3),
    );
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    });
    runner
        .run(&strategy, |(product, slots, lang, limit, cart)| {
            let mut path = format!("/v1/shops/lengkuas/fragments?product={}", id(product));
            if !slots.is_empty() {
                path.push_str(&format!("&slots={}", slots.join(",")));
            }
            if let Some(l) = lang {
                path.push_str(&format!("&lang={l}"));
            }
            if let Some(n) = limit {
                path.push_str(&format!("&limit={n}"));
            }
            if !cart.is_empty() {
                let c: Vec<String> = cart.iter().map(|&i| id(i)).collect();
                path.push_str(&format!("&cart={}", c.join(",")));
            }
            rt.block_on(async {
                let made = get(&app, &fresh(&path)).await;
                prop_assert_eq!(&get(&app, &path).await, &made, "{}", path);
                prop_assert_eq!(&get(&app, &path).await, &made, "{} (kept)", path);
                Ok(())
            })
        })
        .unwrap();
    rt.block_on(app.stop());
}

/// A synthetic product: price, product line (`LINES`), in stock, with a picture.
type SynProduct = (i64, usize, bool, bool);
/// A synthetic paid order: customer, lines of (product, quantity), days ago.
type SynOrder = (usize, Vec<(usize, u32)>, i64);

/// A small random shop: products and paid orders.
#[derive(Debug, Clone)]
struct SyntheticShop {
    products: Vec<SynProduct>,
    orders: Vec<SynOrder>,
}

const LINES: [&str; 3] = ["Sambal", "Keripik", "Bumbu"];

fn synthetic_shop() -> impl Strategy<Value = SyntheticShop> {
    let product = (
        (1i64..400).prop_map(|k| k * 2_500),
        0..LINES.len(),
        proptest::bool::weighted(0.85),
        any::<bool>(),
    );
    (2usize..7, proptest::collection::vec(product, 7)).prop_flat_map(|(n, products)| {
        let products: Vec<_> = products.into_iter().take(n).collect();
        let line = (0..n, 1u32..4);
        let order = (0usize..5, proptest::collection::vec(line, 1..4), 1i64..200);
        proptest::collection::vec(order, 1..14).prop_map(move |orders| SyntheticShop {
            products: products.clone(),
            orders,
        })
    })
}

/// The synthetic shop's config: one shop, `sintetis`, with no seed.
fn synthetic_settings() -> laris::config::Settings {
    let text = format!(
        r#"
[admin]
token = "{token}"
[[shops]]
id = "sintetis"
name = "Toko Sintetis"
allowed_origins = ["*"]
customer_secret = "{SECRET}"
"#,
        token = crate::helpers::TOKEN
    );
    laris::config::Settings::from_toml(&text, std::path::Path::new("test.toml"), &[]).unwrap()
}

/// Writes `spec` into the shop's store (buyers' names are personal data: the answers must
/// never show them) and returns the product ids and customer ids.
fn store_synthetic(app: &TestApp, spec: &SyntheticShop) -> (Vec<String>, Vec<String>) {
    use laris::domain::{CustomerId, OrderStatus, ProductId, Rupiah};
    use laris::records::{Order, OrderLine, Product, ProductStatus};
    let shop = ShopId::parse("sintetis").unwrap();
    let now = chrono::Utc::now();
    let mut batch = laris::store::ImportBatch::new(&shop);
    let mut products = Vec::new();
    for (i, &(price, line, in_stock, picture)) in spec.products.iter().enumerate() {
        let p = Product {
            id: ProductId::parse(&format!("SYN-{i}")).unwrap(),
            marketplace_id: None,
            name: format!("{} Rasa {i}", LINES[line]),
            sku: None,
            price: Rupiah(price),
            stock: Some(if in_stock { 10 } else { 0 }),
            status: ProductStatus::Active,
            category: vec!["Makanan".into(), LINES[line].into()],
            weight_grams: Some(100),
            pack: None,
            attributes: Default::default(),
            description: String::new(),
            image: picture.then(|| format!("/demo/images/syn-{i}.svg")),
            url: Some(format!("https://toko.example/p/SYN-{i}")),
            sold_count: None,
            updated_at: now,
        };
        products.push(p.clone());
        batch.upsert_product(p);
    }
    let mut customers = std::collections::BTreeSet::new();
    for (n, (customer, lines, days)) in spec.orders.iter().enumerate() {
        let at = now - chrono::Duration::days(*days);
        let lines: Vec<OrderLine> = lines
            .iter()
            .map(|&(i, quantity)| OrderLine {
                product: Some(products[i].id.clone()),
                marketplace_product_id: None,
                sku: None,
                name: products[i].name.clone(),
                quantity,
                unit_price: products[i].price,
            })
            .collect();
        let total = lines.iter().map(|l| l.total().0).sum();
        customers.insert(format!("pelanggan-{customer}"));
        batch.upsert_order(Order {
            invoice: format!("INV/SYN/{n}"),
            marketplace_id: None,
            customer: CustomerId(format!("pelanggan-{customer}")),
            buyer_name: Some(format!("Pembeli Rahasia {customer}")),
            phone: None,
            city: None,
            status: OrderStatus(700),
            created_at: at,
            paid_at: at,
            updated_at: at,
            lines,
            products_total: Rupiah(total),
            shipping: Rupiah(0),
        });
    }
    app.store.apply(batch).unwrap();
    let ids = products.iter().map(|p| p.id.to_string()).collect();
    (ids, customers.into_iter().collect())
}

/// A random small shop, rebuilt: every product × slot × language × customer (each with
/// their tier, and anonymous) is answered from prepared bytes exactly as the route table
/// renders it afresh, and no buyer's name or id reaches an answer.
#[test]
fn a_random_small_shop_is_answered_from_prepared_bytes_as_rendered_afresh() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 6,
        ..ProptestConfig::default()
    });
    runner
        .run(&synthetic_shop(), |spec| {
            rt.block_on(async {
                let app = spawn_app_with(synthetic_settings()).await;
                let (products, customers) = store_synthetic(&app, &spec);
                let r = app
                    .admin_post("/admin/api/shops/sintetis/rebuild", serde_json::json!({}))
                    .await;
                prop_assert!(r.status().is_success(), "rebuild: {}", r.status());
                let exp = chrono::Utc::now().timestamp() + 3600;
                let shop = ShopId::parse("sintetis").unwrap();
                let tiers: BTreeMap<String, String> = app
                    .store
                    .customers(&shop)
                    .unwrap()
                    .into_iter()
                    .filter_map(|c| Some((c.id.0.clone(), c.tier?)))
                    .collect();
                prop_assert_eq!(tiers.len(), customers.len(), "every buyer has a tier");
                // Anonymous, then each buyer with the tier their loyalty part must name.
                let mut whos = vec![(String::new(), None)];
                whos.extend(customers.iter().map(|c| {
                    let token = laris::loyalty::token::make(c, SECRET.as_bytes(), exp);
                    (format!("&customer={token}"), tiers.get(c))
                }));
                let mut answered = 0;
                for product in &products {
                    for lang in ["id", "en"] {
                        for (who, tier) in &whos {
                            if let Some(tier) = tier {
                                let path = format!(
                                    "/v1/shops/sintetis/fragments/loyalty?product={product}&lang={lang}{who}"
                                );
                                let body = String::from_utf8(get(&app, &path).await.body).unwrap();
                                prop_assert!(
                                    body.contains(&format!("<strong>{tier}</strong>")),
                                    "{}: {}",
                                    path,
                                    body
                                );
                            }
                            let q = format!("product={product}&lang={lang}{who}");
                            for path in [
                                format!(
                                    "/v1/shops/sintetis/fragments?slots=similar,upsell,bundle,loyalty&{q}"
                                ),
                                format!("/v1/shops/sintetis/fragments?{q}"),
                                format!("/v1/shops/sintetis/fragments/similar?{q}"),
                                format!("/v1/shops/sintetis/fragments/upsell?{q}"),
                                format!("/v1/shops/sintetis/fragments/bundle?{q}"),
                                format!("/v1/shops/sintetis/fragments/loyalty?{q}"),
                            ] {
                                let made = get(&app, &fresh(&path)).await;
                                let kept = get(&app, &path).await;
                                prop_assert_eq!(&kept, &made, "{}", path);
                                prop_assert_eq!(&get(&app, &path).await, &made, "{} (kept)", path);
                                if made.status == 200 {
                                    answered += 1;
                                }
                                let body = String::from_utf8_lossy(&kept.body);
                                prop_assert!(
                                    !body.contains("Pembeli Rahasia") && !body.contains("pelanggan-"),
                                    "personal data in {}: {}",
                                    path,
                                    body
                                );
                            }
                        }
                    }
                }
                prop_assert_eq!(app.prepared.usage().0, answered, "one kept per answer");
                app.stop().await;
                Ok(())
            })
        })
        .unwrap();
}

/// `laris_http_responses_total{class="…"}` as `/metrics` shows it now.
async fn answers_of_class(app: &TestApp, class: &str) -> u64 {
    let text = app
        .http
        .get(format!("{}/metrics", app.base))
        .bearer_auth(crate::helpers::TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = format!("laris_http_responses_total{{class=\"{class}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&series))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn prepared_answers_are_counted_in_metrics() {
    let app = spawn_app().await;
    let path = "/v1/shops/lengkuas/fragments?slots=similar,bundle&product=SRD-100";
    let etag = app.get(path).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let (ok, not_modified) = (
        answers_of_class(&app, "2xx").await,
        answers_of_class(&app, "3xx").await,
    );
    for _ in 0..5 {
        assert_eq!(app.get(path).await.status(), 200);
    }
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    // Other tests in this process count too: at least these.
    assert!(answers_of_class(&app, "2xx").await >= ok + 5);
    assert!(answers_of_class(&app, "3xx").await > not_modified);
    app.stop().await;
}
