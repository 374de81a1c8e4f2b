//! Rebuild and lookup on the demo shop: `cargo bench --bench recommend`.
//!
//! The lookup is what a request costs once the model is built (README "Performance": serving reads
//! precomputed results); the rebuild is what a sync pays.

use criterion::{criterion_group, criterion_main, Criterion};
use laris::config::RecommendSettings;
use laris::domain::{ProductId, ShopId};
use laris::model::build_model;
use laris::model::serve::{recommend, Lang, Request};
use laris::store::ShopStore;

fn demo() -> (Vec<laris::records::Product>, Vec<laris::records::Order>) {
    let dir = tempfile::tempdir().unwrap();
    let store = laris::store::Store::open(dir.path()).unwrap();
    let shop = ShopId::parse("lengkuas").unwrap();
    let rec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/lengkuas/recording");
    laris::sync::replay::replay(&store, &shop, &rec).unwrap();
    (store.products(&shop).unwrap(), store.orders(&shop).unwrap())
}

fn benches(c: &mut Criterion) {
    let (products, orders) = demo();
    let settings = RecommendSettings::default();
    c.bench_function("demo: build_model (10 products, 600 orders)", |b| {
        b.iter(|| build_model(products.clone(), &orders, &settings))
    });
    let model = build_model(products, &orders, &settings);
    let product = ProductId::parse("SRD-100").unwrap();
    let cart = vec![ProductId::parse("KRP-80").unwrap()];
    c.bench_function("demo: recommend lookup for SRD-100", |b| {
        b.iter(|| {
            let req = Request {
                product: &product,
                customer: None,
                cart: &cart,
                limit: 4,
                lang: Lang::Id,
            };
            recommend(&model, "lengkuas", &settings, &[], &req)
        })
    });
}

criterion_group!(group, benches);
criterion_main!(group);
