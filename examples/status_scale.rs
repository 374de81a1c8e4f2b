//! A data directory with one large shop, to time the answers that report on a whole shop
//! (`/metrics`, `/admin/api/status`, the admin overview) against a release server:
//!
//! ```text
//! cargo build --release --bin laris --example status_scale
//! target/release/examples/status_scale target/status-scale 10000 100000
//! LARIS_ADMIN_TOKEN=status-scale-token-0123456789 target/release/laris \
//!     --config target/status-scale/laris.toml --data-dir target/status-scale/data serve --addr 127.0.0.1:8099
//! for i in $(seq 20); do curl -s -o /dev/null -w '%{time_total}\n' \
//!     -H 'authorization: Bearer status-scale-token-0123456789' http://127.0.0.1:8099/metrics; done | sort -n
//! ```
//!
//! Arguments: the output directory (must not hold a store yet), products (10,000) and orders
//! (100,000, one to four lines each, nine in ten paid). It writes `laris.toml` (shop `besar`,
//! Asia/Jakarta) and the store under `data/`, with 1,000 widget events and 20 feedback
//! messages; the first start of `laris serve` builds the model.

use std::time::Instant;

use chrono::DateTime;
use laris::domain::{CustomerId, OrderStatus, ProductId, Rupiah, ShopId};
use laris::records::{Event, EventKind, Feedback, FeedbackStatus, Order, OrderLine, Product, ProductStatus};
use laris::store::{ImportBatch, ShopStore, Store};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Records per import batch, as an import page would write them.
const PAGE: usize = 1000;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().map(std::path::PathBuf::from) else {
        eprintln!("usage: status_scale OUT_DIR [PRODUCTS] [ORDERS]");
        std::process::exit(2);
    };
    let number = |raw: Option<String>, default: usize| match raw {
        None => default,
        Some(s) => s.parse().unwrap_or_else(|_| {
            eprintln!("{s:?} is not a count: give a whole number such as 100000");
            std::process::exit(2)
        }),
    };
    let n_products = number(args.next(), 10_000).max(1);
    let n_orders = number(args.next(), 100_000);
    let data = out.join("data");
    if data.join("store").exists() {
        eprintln!(
            "{} already holds a store: remove it or choose another directory",
            data.display()
        );
        std::process::exit(2);
    }
    std::fs::create_dir_all(&out).expect("the output directory can be created");
    std::fs::write(
        out.join("laris.toml"),
        "[[shops]]\nid = \"besar\"\nname = \"Toko Besar\"\ntimezone = \"Asia/Jakarta\"\n",
    )
    .expect("laris.toml can be written");

    let t0 = Instant::now();
    let store = Store::open(&data).expect("the store opens");
    let shop = ShopId::parse("besar").unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let at = |secs: i64| DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap();
    let products: Vec<Product> = (0..n_products)
        .map(|i| Product {
            id: ProductId::parse(&format!("P{i:06}")).unwrap(),
            marketplace_id: Some(format!("{}", 900_000 + i)),
            name: format!("Produk {i}"),
            sku: None,
            price: Rupiah(rng.gen_range(5..300) * 500),
            stock: Some(rng.gen_range(0..50)),
            status: if i % 20 == 0 {
                ProductStatus::Inactive
            } else {
                ProductStatus::Active
            },
            category: vec![format!("Kategori {}", i % 40)],
            weight_grams: Some(250),
            pack: None,
            attributes: Default::default(),
            description: String::new(),
            image: None,
            url: None,
            sold_count: None,
            updated_at: at(0),
        })
        .collect();
    for page in products.chunks(PAGE) {
        let mut batch = ImportBatch::new(&shop);
        for p in page {
            batch.upsert_product(p.clone());
        }
        store.apply(batch).expect("products are stored");
    }
    let mut batch = ImportBatch::new(&shop);
    for k in 0..n_orders {
        let lines: Vec<OrderLine> = (0..rng.gen_range(1..5))
            .map(|_| {
                let p = &products[rng.gen_range(0..n_products)];
                OrderLine {
                    product: Some(p.id.clone()),
                    marketplace_product_id: p.marketplace_id.clone(),
                    sku: None,
                    name: p.name.clone(),
                    quantity: rng.gen_range(1..3),
                    unit_price: p.price,
                }
            })
            .collect();
        let paid_at = at(k as i64 * 600);
        batch.upsert_order(Order {
            invoice: format!("INV/{k:07}"),
            marketplace_id: None,
            customer: CustomerId(format!("c{}", rng.gen_range(0..20_000))),
            buyer_name: None,
            phone: None,
            city: None,
            status: OrderStatus(if rng.gen_range(0..10) == 0 { 0 } else { 700 }),
            created_at: paid_at,
            paid_at,
            updated_at: paid_at,
            products_total: Rupiah(lines.iter().map(|l| l.total().0).sum()),
            lines,
            shipping: Rupiah(9_000),
        });
        if (k + 1) % PAGE == 0 {
            store
                .apply(std::mem::replace(&mut batch, ImportBatch::new(&shop)))
                .expect("orders are stored");
        }
    }
    store.apply(batch).expect("orders are stored");
    let events: Vec<Event> = (0..1000)
        .map(|i| Event {
            kind: EventKind::Click,
            slot: None,
            product: None,
            item: Some(products[i % n_products].id.clone()),
            at: Some(at(n_orders as i64 * 600 - 1000 + i as i64)),
            customer: None,
            visitor: None,
            arm: None,
            order: None,
            total: None,
            items: Vec::new(),
        })
        .collect();
    store.append_events(&shop, &events).expect("events are stored");
    for i in 0..20 {
        let mut f = Feedback {
            id: 0,
            at: at(i),
            message: format!("pesan {i}"),
            contact: None,
            page: None,
            product: None,
            status: FeedbackStatus::New,
        };
        store.put_feedback(&shop, &mut f).expect("feedback is stored");
    }
    store.flush_blocking().expect("the store is flushed");
    println!(
        "{}: {n_products} products, {n_orders} orders, 1000 events, 20 feedback messages in {:.2?}",
        data.display(),
        t0.elapsed()
    );
}
