//! Rebuild at scale: 100,000 synthetic products and 1,000,000 order lines through
//! `build_model`, timing each step. Run with peak memory:
//!
//! ```text
//! cargo build --release --example rebuild_scale
//! /usr/bin/time -v target/release/examples/rebuild_scale 100000 1000000   # MIN_SUPPORT=0.0001 by default
//! ```
//!
//! `ONLY=data` stops after generating the shop (the baseline of peak memory), `ONLY=co_purchase`
//! builds just the co-purchase model from it, `ONLY=blend` the co-purchase model and the blend
//! fit: the difference of the peak RSS to the baseline is what each costs.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::DateTime;
use laris::config::RecommendSettings;
use laris::domain::{CustomerId, OrderStatus, PackSize, ProductId, Rupiah};
use laris::records::{Order, OrderLine, Product, ProductStatus};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n_products = args.first().copied().unwrap_or(100_000);
    let n_lines = args.get(1).copied().unwrap_or(1_000_000);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let words: Vec<String> = (0..2000).map(|i| format!("kata{i}")).collect();
    let t0 = Instant::now();
    let products: Vec<Product> = (0..n_products)
        .map(|i| {
            let parent = rng.gen_range(0..20);
            let leaf = parent * 15 + rng.gen_range(0..15);
            // Zipf-ish word choice: small indices far more often.
            let name: Vec<&str> = (0..rng.gen_range(3..6))
                .map(|_| {
                    let u: f64 = rng.gen_range(0.0f64..1.0);
                    words[((u * u * u) * 1999.0) as usize].as_str()
                })
                .collect();
            let grams = [50u32, 100, 250, 500, 1000][rng.gen_range(0..5)];
            let price = (rng.gen_range(8.5f64..13.5).exp()) as i64 / 100 * 100;
            let mut attributes = BTreeMap::new();
            attributes.insert("rasa".to_string(), format!("r{}", rng.gen_range(0..6)));
            attributes.insert("bentuk".to_string(), format!("b{}", rng.gen_range(0..4)));
            Product {
                id: ProductId::parse(&format!("P{i:06}")).unwrap(),
                marketplace_id: None,
                name: format!("{} {grams} g", name.join(" ")),
                sku: None,
                price: Rupiah(price.max(1000)),
                stock: Some(rng.gen_range(0..50)),
                status: ProductStatus::Active,
                category: vec![format!("Induk {parent}"), format!("Daun {leaf}")],
                weight_grams: Some(grams),
                pack: Some(PackSize {
                    amount: grams,
                    unit: laris::domain::PackUnit::Gram,
                }),
                attributes,
                description: String::new(),
                image: None,
                url: None,
                sold_count: None,
                updated_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            }
        })
        .collect();
    let mut orders = Vec::new();
    let mut lines_made = 0;
    let mut k = 0u64;
    while lines_made < n_lines {
        let n = rng.gen_range(1..5).min(n_lines - lines_made);
        let anchor = rng.gen_range(0..n_products);
        let lines = (0..n)
            .map(|j| {
                // Baskets cluster around an anchor so that rules exist.
                let p = if j == 0 {
                    anchor
                } else {
                    (anchor + rng.gen_range(1..40)) % n_products
                };
                let pid = &products[p];
                OrderLine {
                    product: Some(pid.id.clone()),
                    marketplace_product_id: None,
                    sku: None,
                    name: String::new(),
                    quantity: 1,
                    unit_price: pid.price,
                }
            })
            .collect::<Vec<_>>();
        lines_made += n;
        let at = DateTime::from_timestamp(1_700_000_000 + k as i64 * 60, 0).unwrap();
        orders.push(Order {
            invoice: format!("INV/{k}"),
            marketplace_id: None,
            customer: CustomerId(format!("c{}", rng.gen_range(0..200_000))),
            buyer_name: None,
            phone: None,
            city: None,
            status: OrderStatus(700),
            created_at: at,
            paid_at: at,
            updated_at: at,
            products_total: Rupiah(lines.iter().map(|l: &OrderLine| l.unit_price.0).sum()),
            lines,
            shipping: Rupiah(0),
        });
        k += 1;
    }
    println!(
        "generated {} products, {} orders, {} lines in {:.2?}",
        products.len(),
        orders.len(),
        lines_made,
        t0.elapsed()
    );
    match std::env::var("ONLY").as_deref() {
        Ok("data") => return,
        Ok(part @ ("co_purchase" | "blend")) => {
            let index: std::collections::HashMap<ProductId, u32> = products
                .iter()
                .enumerate()
                .map(|(i, p)| (p.id.clone(), i as u32))
                .collect();
            let settings = RecommendSettings::default();
            let co = laris::model::co_purchase_settings(&settings);
            let t = Instant::now();
            let timed = laris::model::timed_baskets(&orders, &index);
            let categories: Vec<Option<String>> = products.iter().map(laris::model::category_key).collect();
            let data = laris::recommend::blend::BlendData::build(&timed, &categories, &co);
            let neighbours: usize = data.co.neighbours.iter().map(Vec::len).sum();
            println!("co-purchase model: {:.2?}, {neighbours} neighbours", t.elapsed());
            if part == "blend" {
                let t = Instant::now();
                let similar = vec![Vec::new(); products.len()];
                let fit =
                    laris::recommend::blend::fit(&timed, &categories, &similar, &co, chrono::Utc::now());
                println!(
                    "blend fit: {:.2?}, product pages {:?}",
                    t.elapsed(),
                    fit.item.mode
                );
            }
            return;
        }
        _ => {}
    }
    let min_support: f64 = std::env::var("MIN_SUPPORT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0001);
    let settings = RecommendSettings {
        bundle_min_support: min_support,
        ..Default::default()
    };
    let t = Instant::now();
    let model = laris::model::build_model(products, &orders, &settings);
    println!(
        "build_model: {:.2?} ({} similar lists, {} rules, {} customers, price k = {:?})",
        t.elapsed(),
        model.similar.len(),
        model.bundles.rules.len(),
        model.histories.len(),
        model.price_clusters.as_ref().map(|c| c.clustering.k)
    );
    println!("steps (ms): {:?}", model.build_steps);
    let t = Instant::now();
    // The encoding the store keeps (versioned postcard, `model::snapshot`).
    let bytes = laris::model::snapshot::encode(&model);
    println!(
        "snapshot encode: {:.2?}, {:.1} MB",
        t.elapsed(),
        bytes.len() as f64 / 1e6
    );
}
