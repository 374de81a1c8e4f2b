//! Generates the demo shop `lengkuas`: a small galangal shop (seed 000) as a marketplace
//! API recording that `laris replay` can feed through the normal sync pipeline.
//!
//! ```text
//! cargo run --example gen_demo_shop -- --seed 42 --out demo/lengkuas
//! ```
//!
//! writes, under `--out`:
//!
//! - `recording/`: a cassette (docs/feeds.md: recordings) of the Tokopedia-shaped API (docs/feeds.md: marketplace API): the
//!   token exchange (body never written), one product page, then the order list walked in
//!   3-day windows from 2026-05-01 to 2026-11-01 WIB;
//! - `images/{sku}.svg`: one small tile per product;
//! - `events.jsonl`: synthetic widget events (impressions, clicks, add-to-carts) over the
//!   last eight weeks, some of them clicks by a buyer 1–48 h before a real order, so that the
//!   dashboard's performance page has figures; drawn from their own stream (5);
//! - `experiment.json`: a simulated holdout experiment after the recorded period (its
//!   settings, its start and stop, its visitors' views and purchases, with their arms), for
//!   the dashboard's experiment report; drawn from its own stream (6);
//! - `README.md`: what the data is, how to regenerate it, and the counts it came out with.
//!
//! What it models, so that the recommenders have something true to find: 10 products in
//! five lines; 600 orders from 200 customers over six months (seed 000: 500 training + 100
//! test transactions, 200 customers) with demand growing slowly and mostly in daytime WIB;
//! a heavy-tailed number of orders per customer with a few big spenders who buy more and
//! buy hampers; customer tastes (classic, spicy, home cook, snacker); complementary pairs
//! bought together (serundeng + tepung, sambal + keripik, bumbu rendang + tepung); some
//! customers who come back for the Premium 250 g version of what they bought before; and
//! recent orders still on their way (statuses 220–600) plus ~3% cancelled, rejected or
//! returned.
//!
//! Determinism: every random draw comes from `ChaCha8Rng::seed_from_u64(seed)` (one stream
//! per concern), uses no `usize` ranges, no hash-map order, no transcendental float
//! functions and no clock, so the same seed gives byte-identical files on any machine.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------
// Constants of the shop and of the period
// ---------------------------------------------------------------------------------------

const SHOP_ID: u64 = 479_573;
const FS_ID: u64 = 15_001;
const FIRST_PRODUCT_ID: u64 = 15_001_001;
const FIRST_BUYER_ID: u64 = 777_001;
const FIRST_ORDER_ID: u64 = 880_000_001;
const TOKEN_URL: &str = "https://accounts.tokopedia.com/token?grant_type=client_credentials";
const BASE_URL: &str = "https://fs.tokopedia.net";

const CUSTOMERS: u32 = 200;
const ORDERS: u32 = 600;
const BIG_SPENDERS: u32 = 10;
const PRODUCTS_PER_PAGE: usize = 50;
const ORDERS_PER_PAGE: usize = 100;

const DAY: i64 = 86_400;
const WIB: i64 = 7 * 3_600;
/// The longest order window the API allows (docs/feeds.md: marketplace API).
const WINDOW: i64 = 3 * DAY;
/// 2026-05-01T00:00:00+07:00, the first order window starts here.
const PERIOD_START: i64 = 1_777_568_400;
/// 2026-11-01T00:00:00+07:00, the last order window ends here.
const PERIOD_END: i64 = 1_793_466_000;
/// 2026-11-01T00:00:00Z: the recorded sync ran then; seq N is stamped this + (N − 1) s.
const RECORDED_AT: i64 = 1_793_491_200;
/// 2025-06-01 and 2026-04-01 WIB: products were listed between these.
const LISTED_FROM: i64 = 1_748_710_800;
const LISTED_UNTIL: i64 = 1_774_976_400;
/// 2026-10-01 WIB: every product was last edited in October.
const EDITED_FROM: i64 = 1_790_787_600;

/// Demand grows linearly: the last day sees `1 + GROWTH` times the orders of the first.
const GROWTH: f64 = 0.7;
/// Orders (3%) that end cancelled (0), rejected (10) or returned (550).
const FAILED_ORDERS: u32 = 18;
/// Failures are drawn among orders at least this old, so that each has had time to fail.
const FAILURE_MIN_AGE: i64 = 12 * DAY;

// ---------------------------------------------------------------------------------------
// Catalogue
// ---------------------------------------------------------------------------------------

// Indexes into `CATALOGUE`.
const SRD_100: usize = 0;
const SRD_PEDAS: usize = 1;
const SRD_PREMIUM: usize = 2;
const TPG_100: usize = 3;
const TPG_INSTAN: usize = 4;
const TPG_PREMIUM: usize = 5;
const SAMBAL: usize = 6;
const RENDANG: usize = 7;
const KERIPIK: usize = 8;
const HAMPERS: usize = 9;

struct Category {
    id: u32,
    name: &'static str,
}

const ROOT_CATEGORY: Category = Category {
    id: 35,
    name: "Makanan & Minuman",
};
const LAUK_KERING: Category = Category {
    id: 2788,
    name: "Lauk Kering",
};
const BUMBU_REMPAH: Category = Category {
    id: 2795,
    name: "Bumbu & Rempah",
};
const SAMBAL_CAT: Category = Category {
    id: 2796,
    name: "Sambal",
};
const CAMILAN: Category = Category {
    id: 2801,
    name: "Camilan",
};
const PAKET_HAMPERS: Category = Category {
    id: 2810,
    name: "Paket & Hampers",
};

/// How the tile of a product is drawn: one shape per form (`bentuk`).
#[derive(Clone, Copy)]
enum Shape {
    Granules,
    Powder,
    Jar,
    Chips,
    Gift,
}

struct Item {
    sku: &'static str,
    name: &'static str,
    price: i64,
    grams: u32,
    /// Written as `{"value": 0.25, "unit": 2}` instead of grams, to exercise kilograms.
    weight_in_kg: bool,
    category: &'static Category,
    bentuk: &'static str,
    rasa: &'static str,
    short_desc: &'static str,
    /// Relative chance of being the first thing put in a basket.
    popularity: f64,
    /// Tile: two lines of text, background, accent, shape, and a star for Premium.
    title: &'static str,
    subtitle: &'static str,
    background: &'static str,
    accent: &'static str,
    shape: Shape,
    premium: bool,
}

const CATALOGUE: [Item; 10] = [
    Item {
        sku: "SRD-100",
        name: "Serundeng Lengkuas 100 g",
        price: 20_000,
        grams: 100,
        weight_in_kg: false,
        category: &LAUK_KERING,
        bentuk: "butiran",
        rasa: "gurih",
        short_desc: "Serundeng lengkuas gurih dari kelapa parut dan lengkuas segar, disangrai \
                     perlahan. Teman nasi hangat, tanpa pengawet.",
        popularity: 22.0,
        title: "Serundeng",
        subtitle: "Lengkuas · 100 g",
        background: "#b45309",
        accent: "#fcd34d",
        shape: Shape::Granules,
        premium: false,
    },
    Item {
        sku: "SRD-PDS-100",
        name: "Serundeng Lengkuas Pedas 100 g",
        price: 21_000,
        grams: 100,
        weight_in_kg: false,
        category: &LAUK_KERING,
        bentuk: "butiran",
        rasa: "pedas",
        short_desc: "Serundeng lengkuas dengan cabai rawit, pedasnya nendang. Cocok untuk \
                     lauk kering dan bekal.",
        popularity: 10.0,
        title: "Serundeng",
        subtitle: "Pedas · 100 g",
        background: "#b91c1c",
        accent: "#fca5a5",
        shape: Shape::Granules,
        premium: false,
    },
    Item {
        sku: "SRD-250P",
        name: "Serundeng Lengkuas Premium 250 g",
        price: 45_000,
        grams: 250,
        weight_in_kg: false,
        category: &LAUK_KERING,
        bentuk: "butiran",
        rasa: "gurih",
        short_desc: "Serundeng lengkuas premium kemasan 250 g: lengkuas pilihan, kelapa tua \
                     dan minyak kelapa. Lebih hemat untuk keluarga.",
        popularity: 4.0,
        title: "Serundeng",
        subtitle: "Premium · 250 g",
        background: "#78350f",
        accent: "#fbbf24",
        shape: Shape::Granules,
        premium: true,
    },
    Item {
        sku: "TPG-100",
        name: "Tepung Lengkuas 100 g",
        price: 15_000,
        grams: 100,
        weight_in_kg: false,
        category: &BUMBU_REMPAH,
        bentuk: "bubuk",
        rasa: "original",
        short_desc: "Tepung lengkuas murni dari rimpang lengkuas yang dikeringkan dan digiling \
                     halus. Untuk bumbu masakan dan minuman herbal.",
        popularity: 15.0,
        title: "Tepung",
        subtitle: "Lengkuas · 100 g",
        background: "#57534e",
        accent: "#fef3c7",
        shape: Shape::Powder,
        premium: false,
    },
    Item {
        sku: "TPG-INS-100",
        name: "Tepung Lengkuas Instan 100 g",
        price: 17_000,
        grams: 100,
        weight_in_kg: false,
        category: &BUMBU_REMPAH,
        bentuk: "bubuk",
        rasa: "gurih",
        short_desc: "Tepung lengkuas instan berbumbu, tinggal tabur untuk gorengan, ayam \
                     ungkep dan tumisan.",
        popularity: 8.0,
        title: "Tepung Instan",
        subtitle: "Lengkuas · 100 g",
        background: "#0f766e",
        accent: "#fef9c3",
        shape: Shape::Powder,
        premium: false,
    },
    Item {
        sku: "TPG-250P",
        name: "Tepung Lengkuas Premium 250 g",
        price: 32_000,
        grams: 250,
        weight_in_kg: true,
        category: &BUMBU_REMPAH,
        bentuk: "bubuk",
        rasa: "original",
        short_desc: "Tepung lengkuas premium 250 g, digiling ekstra halus dari lengkuas merah \
                     pilihan. Aromanya lebih kuat.",
        popularity: 3.0,
        title: "Tepung",
        subtitle: "Premium · 250 g",
        background: "#44403c",
        accent: "#fde68a",
        shape: Shape::Powder,
        premium: true,
    },
    Item {
        sku: "SBL-150",
        name: "Sambal Lengkuas 150 g",
        price: 18_000,
        grams: 150,
        weight_in_kg: false,
        category: &SAMBAL_CAT,
        bentuk: "pasta",
        rasa: "pedas",
        short_desc: "Sambal lengkuas dalam toples 150 g, pedas gurih dengan aroma lengkuas \
                     bakar. Nikmat dengan keripik dan gorengan.",
        popularity: 12.0,
        title: "Sambal",
        subtitle: "Lengkuas · 150 g",
        background: "#dc2626",
        accent: "#7f1d1d",
        shape: Shape::Jar,
        premium: false,
    },
    Item {
        sku: "BMB-RDG-100",
        name: "Bumbu Rendang Lengkuas 100 g",
        price: 19_000,
        grams: 100,
        weight_in_kg: false,
        category: &BUMBU_REMPAH,
        bentuk: "pasta",
        rasa: "gurih",
        short_desc: "Bumbu rendang lengkuas siap masak untuk 1 kg daging. Tambahkan santan, \
                     masak hingga kering.",
        popularity: 9.0,
        title: "Bumbu Rendang",
        subtitle: "Lengkuas · 100 g",
        background: "#7c2d12",
        accent: "#ea580c",
        shape: Shape::Jar,
        premium: false,
    },
    Item {
        sku: "KRP-80",
        name: "Keripik Lengkuas 80 g",
        price: 12_000,
        grams: 80,
        weight_in_kg: false,
        category: &CAMILAN,
        bentuk: "keripik",
        rasa: "manis-gurih",
        short_desc: "Keripik lengkuas renyah, manis gurih, dari irisan tipis lengkuas muda. \
                     Camilan untuk keluarga.",
        popularity: 12.0,
        title: "Keripik",
        subtitle: "Lengkuas · 80 g",
        background: "#a16207",
        accent: "#fde047",
        shape: Shape::Chips,
        premium: false,
    },
    Item {
        sku: "HMP-01",
        name: "Paket Hampers Lengkuas",
        price: 55_000,
        grams: 600,
        weight_in_kg: false,
        category: &PAKET_HAMPERS,
        bentuk: "paket",
        rasa: "campuran",
        short_desc: "Paket hampers berisi serundeng, tepung, sambal dan keripik lengkuas \
                     dalam kotak anyaman. Cocok untuk hadiah.",
        popularity: 2.0,
        title: "Hampers",
        subtitle: "Paket Lengkuas",
        background: "#15803d",
        accent: "#fbbf24",
        shape: Shape::Gift,
        premium: false,
    },
];

/// The featured product (`basic.status` 2); every other product is plain active (1).
const FEATURED: usize = SRD_PREMIUM;
/// The one product that is nearly sold out.
const LOW_STOCK: (usize, u32) = (RENDANG, 3);

/// Regular product → its Premium 250 g version (the up-sell a customer may come back for).
const UPGRADES: [(usize, usize); 2] = [(SRD_100, SRD_PREMIUM), (TPG_100, TPG_PREMIUM)];

/// `(in basket, add one of, chance)`: complements, tried for every item in the basket in
/// turn (including the ones they added).
const COMPLEMENTS: [(usize, &[usize], f64); 10] = [
    (SRD_100, &[TPG_100], 0.36),
    (TPG_100, &[SRD_100], 0.32),
    (SRD_PEDAS, &[TPG_100], 0.12),
    (SRD_PEDAS, &[SAMBAL], 0.10),
    (SRD_PREMIUM, &[TPG_PREMIUM], 0.30),
    (TPG_PREMIUM, &[SRD_PREMIUM], 0.30),
    (SAMBAL, &[KERIPIK], 0.30),
    (KERIPIK, &[SAMBAL], 0.30),
    (RENDANG, &[TPG_100, TPG_INSTAN], 0.70),
    (TPG_INSTAN, &[RENDANG], 0.15),
];

/// Chance that a basket also gets one unrelated item (so that no pair is "always").
const NOISE_ITEM: f64 = 0.18;
const MAX_LINES: usize = 4;

// ---------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------

const FIRST_NAMES: [&str; 50] = [
    "Sri", "Budi", "Siti", "Agus", "Dewi", "Rina", "Andi", "Wulan", "Eko", "Yuni", "Rudi", "Fitri", "Hendra",
    "Ayu", "Dian", "Bayu", "Nur", "Putri", "Joko", "Indah", "Rizki", "Lestari", "Fajar", "Maya", "Yoga",
    "Ratna", "Ahmad", "Nining", "Dedi", "Ani", "Wayan", "Made", "Ketut", "Komang", "Ina", "Reny", "Taufik",
    "Rahmat", "Intan", "Citra", "Bambang", "Sari", "Teguh", "Wati", "Irfan", "Nanda", "Gilang", "Mega",
    "Hadi", "Lina",
];
const INITIALS: &[u8] = b"ABDFGHIKLMNPRSTWY";

/// What a customer tends to start a basket with.
#[derive(Clone, Copy)]
enum Taste {
    /// Serundeng and tepung, the shop's classics.
    Classic,
    /// Pedas serundeng, sambal, keripik.
    Spicy,
    /// Tepung and bumbu rendang for cooking.
    HomeCook,
    /// Keripik and sambal.
    Snacker,
}

const TASTES: [(Taste, f64); 4] = [
    (Taste::Classic, 35.0),
    (Taste::Spicy, 20.0),
    (Taste::HomeCook, 30.0),
    (Taste::Snacker, 15.0),
];

/// Orders per ordinary customer: 1..=7, most 1–3.
const ORDERS_PER_CUSTOMER: [f64; 7] = [36.0, 26.0, 17.0, 9.0, 6.0, 4.0, 2.0];

struct Customer {
    id: u64,
    name: String,
    taste: Taste,
    big_spender: bool,
    /// Comes back for the Premium version of a regular item bought before.
    upgrader: bool,
    order_count: u32,
}

// ---------------------------------------------------------------------------------------
// Orders (internal form; the JSON shapes follow further down)
// ---------------------------------------------------------------------------------------

struct OrderLine {
    item: usize,
    quantity: u32,
}

struct Order {
    customer: usize,
    create_time: i64,
    payment_date: i64,
    update_time: i64,
    status: u16,
    lines: Vec<OrderLine>,
    shipping_cost: i64,
}

impl Order {
    fn product_total(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| CATALOGUE[l.item].price * i64::from(l.quantity))
            .sum()
    }

    fn contains(&self, item: usize) -> bool {
        self.lines.iter().any(|l| l.item == item)
    }
}

/// docs/feeds.md: marketplace API: a purchase is 220–600 or 700–701, never cancelled, rejected or returned.
fn is_purchase(status: u16) -> bool {
    matches!(status, 220..=600 | 700 | 701) && status != 550
}

// ---------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------

/// Writes the demo shop `lengkuas` (recording, images, README) from a seed.
#[derive(Parser)]
struct Args {
    /// Seed of the random generator; the same seed gives byte-identical output.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Directory to write; its `recording/` and `images/` are removed and rewritten.
    #[arg(long, default_value = "demo/lengkuas")]
    out: PathBuf,
}

fn main() {
    let args = Args::parse();
    if let Err(err) = run(&args) {
        eprintln!("gen_demo_shop: could not write {}: {err}", args.out.display());
        std::process::exit(1);
    }
}

fn run(args: &Args) -> io::Result<()> {
    let customers = make_customers(&mut stream(args.seed, 1));
    let orders = make_orders(&customers, &mut stream(args.seed, 2));
    let products = make_products(&orders, &mut stream(args.seed, 3));
    let invoices = make_invoices(&orders, &mut stream(args.seed, 4));
    let exchanges = make_exchanges(&products, &orders, &customers, &invoices)?;

    fs::create_dir_all(&args.out)?;
    let recording_bytes = write_recording(&args.out.join("recording"), &exchanges)?;
    write_images(&args.out.join("images"))?;
    let events = make_events(&orders, &customers, &mut stream(args.seed, 5));
    write_events(&args.out.join("events.jsonl"), &events)?;
    let mut stats = Stats::of(&orders, &customers, &exchanges, recording_bytes);
    stats.events = EventStats::of(&orders, &customers, &events);
    let (experiment, experiment_stats) = make_experiment(&mut stream(args.seed, 6));
    write_experiment(&args.out.join("experiment.json"), &experiment)?;
    let text = readme(args, &stats) + &experiment_readme(&experiment_stats);
    fs::write(args.out.join("README.md"), text)?;

    println!(
        "wrote {}: {} exchanges ({} KB), {} orders from {} customers, {} images, {} events",
        args.out.display(),
        exchanges.len(),
        recording_bytes.div_ceil(1024),
        orders.len(),
        customers.len(),
        CATALOGUE.len(),
        events.len()
    );
    Ok(())
}

/// One independent random stream per concern, so that changing how one thing is drawn
/// does not reshuffle everything else.
fn stream(seed: u64, n: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(n);
    rng
}

// ---------------------------------------------------------------------------------------
// Random helpers (portable: no usize ranges, no transcendental functions)
// ---------------------------------------------------------------------------------------

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

/// An index drawn with the given non-negative weights.
fn pick_weighted(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.gen::<f64>() * total;
    let mut last_positive = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w <= 0.0 {
            continue;
        }
        if x < w {
            return i;
        }
        x -= w;
        last_positive = i;
    }
    last_positive
}

/// An index in `0..len`, uniformly.
fn pick_index(rng: &mut ChaCha8Rng, len: usize) -> usize {
    let len = u32::try_from(len.max(1)).unwrap_or(u32::MAX);
    rng.gen_range(0..len) as usize
}

// ---------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------

fn make_customers(rng: &mut ChaCha8Rng) -> Vec<Customer> {
    let big_spenders = pick_distinct(rng, BIG_SPENDERS, CUSTOMERS);
    let taste_weights: Vec<f64> = TASTES.iter().map(|t| t.1).collect();
    let mut used_names = BTreeSet::new();
    let mut customers: Vec<Customer> = (0..CUSTOMERS)
        .map(|i| {
            let big_spender = big_spenders.contains(&i);
            let order_count = if big_spender {
                rng.gen_range(8..=15)
            } else {
                pick_weighted(rng, &ORDERS_PER_CUSTOMER) as u32 + 1
            };
            Customer {
                id: FIRST_BUYER_ID + u64::from(i),
                name: unique_name(rng, &mut used_names),
                taste: TASTES[pick_weighted(rng, &taste_weights)].0,
                big_spender,
                upgrader: chance(rng, if big_spender { 0.6 } else { 0.3 }),
                order_count,
            }
        })
        .collect();
    fit_total_orders(rng, &mut customers);
    customers
}

/// `count` distinct numbers in `0..below`.
fn pick_distinct(rng: &mut ChaCha8Rng, count: u32, below: u32) -> BTreeSet<u32> {
    let mut picked = BTreeSet::new();
    while picked.len() < count.min(below) as usize {
        picked.insert(rng.gen_range(0..below));
    }
    picked
}

/// "Sri W.": a first name and an initial, distinct while the lists allow.
fn unique_name(rng: &mut ChaCha8Rng, used: &mut BTreeSet<String>) -> String {
    let mut name = String::new();
    for _ in 0..50 {
        let first = FIRST_NAMES[pick_index(rng, FIRST_NAMES.len())];
        let initial = char::from(INITIALS[pick_index(rng, INITIALS.len())]);
        name = format!("{first} {initial}.");
        if used.insert(name.clone()) {
            break;
        }
    }
    name
}

/// Nudges ordinary customers' order counts (staying in 1..=7) until the total is `ORDERS`.
fn fit_total_orders(rng: &mut ChaCha8Rng, customers: &mut [Customer]) {
    let mut total: u32 = customers.iter().map(|c| c.order_count).sum();
    let mut guard = 0;
    while total != ORDERS && guard < 100_000 {
        guard += 1;
        let c = &mut customers[pick_index(rng, customers.len())];
        if c.big_spender {
            continue;
        }
        if total < ORDERS && c.order_count < 7 {
            c.order_count += 1;
            total += 1;
        } else if total > ORDERS && c.order_count > 1 {
            c.order_count -= 1;
            total -= 1;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------

fn make_orders(customers: &[Customer], rng: &mut ChaCha8Rng) -> Vec<Order> {
    let mut orders = Vec::new();
    for (index, customer) in customers.iter().enumerate() {
        let mut bought = BTreeSet::new();
        for create_time in order_times(rng, customer.order_count) {
            let lines = basket(rng, customer, &bought);
            bought.extend(lines.iter().map(|l| l.item));
            orders.push(order_at(rng, index, create_time, lines));
        }
    }
    orders.sort_by_key(|o| (o.create_time, o.customer));
    fail_some_orders(rng, &mut orders);
    orders
}

/// `count` sorted order times for one customer, at least a day apart when possible.
fn order_times(rng: &mut ChaCha8Rng, count: u32) -> Vec<i64> {
    let mut times: Vec<i64> = Vec::new();
    for _ in 0..count {
        let mut t = sample_order_time(rng);
        for _ in 0..30 {
            if times.iter().all(|&u| (u - t).abs() >= DAY) {
                break;
            }
            t = sample_order_time(rng);
        }
        times.push(t);
    }
    times.sort_unstable();
    times
}

/// A moment in the period: the day from a linearly growing density, the hour mostly daytime.
fn sample_order_time(rng: &mut ChaCha8Rng) -> i64 {
    let days = (PERIOD_END - PERIOD_START) / DAY;
    // Inverse of the CDF of density ∝ 1 + GROWTH·x on [0, 1].
    let u = rng.gen::<f64>();
    let x = ((1.0 + 2.0 * GROWTH * u * (1.0 + GROWTH / 2.0)).sqrt() - 1.0) / GROWTH;
    let day = ((x * days as f64) as i64).clamp(0, days - 1);
    PERIOD_START + day * DAY + sample_second_of_day_wib(rng)
}

/// Seconds after midnight WIB; shoppers order from breakfast to late evening.
fn sample_second_of_day_wib(rng: &mut ChaCha8Rng) -> i64 {
    const BY_HOUR: [f64; 24] = [
        1.0, 0.5, 0.3, 0.3, 0.5, 1.0, 2.0, 4.0, 6.0, 7.0, 8.0, 8.0, 9.0, 8.0, 7.0, 7.0, 7.0, 6.0, 7.0, 9.0,
        10.0, 9.0, 6.0, 3.0,
    ];
    let hour = pick_weighted(rng, &BY_HOUR) as i64;
    hour * 3_600 + rng.gen_range(0..3_600)
}

/// One basket: a first item by the customer's taste (or its Premium version for an
/// upgrader), its complements, now and then an unrelated item, and the quantities.
fn basket(rng: &mut ChaCha8Rng, customer: &Customer, bought: &BTreeSet<usize>) -> Vec<OrderLine> {
    let wanted = first_item(rng, customer);
    let first = upgrade(rng, customer, bought, wanted);
    let mut items = vec![first];
    if first == HAMPERS {
        // Hampers are mostly bought alone, as a gift.
        if chance(rng, 0.15) {
            add_noise_item(rng, &mut items);
        }
    } else {
        add_complements(rng, &mut items);
        if chance(rng, NOISE_ITEM) {
            add_noise_item(rng, &mut items);
        }
    }
    items
        .into_iter()
        .map(|item| OrderLine {
            item,
            quantity: quantity(rng, customer, item),
        })
        .collect()
}

/// Popularity × taste × (for big spenders) a liking for hampers and Premium.
fn first_item(rng: &mut ChaCha8Rng, customer: &Customer) -> usize {
    let weights: Vec<f64> = (0..CATALOGUE.len())
        .map(|i| CATALOGUE[i].popularity * taste_factor(customer.taste, i) * spend_factor(customer, i))
        .collect();
    pick_weighted(rng, &weights)
}

fn taste_factor(taste: Taste, item: usize) -> f64 {
    match (taste, item) {
        (Taste::Classic, SRD_100) => 2.0,
        (Taste::Classic, TPG_100 | SRD_PREMIUM) => 1.5,
        (Taste::Spicy, SRD_PEDAS) => 3.0,
        (Taste::Spicy, SAMBAL) => 2.5,
        (Taste::Spicy, KERIPIK) => 1.5,
        (Taste::HomeCook, TPG_100 | TPG_INSTAN) => 2.0,
        (Taste::HomeCook, RENDANG) => 2.5,
        (Taste::HomeCook, TPG_PREMIUM) => 1.5,
        (Taste::Snacker, KERIPIK) => 2.5,
        (Taste::Snacker, SAMBAL) => 1.5,
        _ => 1.0,
    }
}

fn spend_factor(customer: &Customer, item: usize) -> f64 {
    match (customer.big_spender, item) {
        (true, HAMPERS) => 6.0,
        (true, SRD_PREMIUM | TPG_PREMIUM) => 2.0,
        _ => 1.0,
    }
}

/// An upgrader who bought the regular item before takes the Premium one instead, mostly.
fn upgrade(rng: &mut ChaCha8Rng, customer: &Customer, bought: &BTreeSet<usize>, item: usize) -> usize {
    for &(regular, premium) in &UPGRADES {
        if item == regular && customer.upgrader && bought.contains(&regular) && chance(rng, 0.65) {
            return premium;
        }
    }
    item
}

/// Walks the basket (including what it adds) and adds each complement by its chance.
fn add_complements(rng: &mut ChaCha8Rng, items: &mut Vec<usize>) {
    let mut i = 0;
    while i < items.len() && items.len() < MAX_LINES {
        let current = items[i];
        for &(have, choices, p) in &COMPLEMENTS {
            if have != current || items.len() >= MAX_LINES || !chance(rng, p) {
                continue;
            }
            let add = choices[pick_index(rng, choices.len())];
            if !items.contains(&add) {
                items.push(add);
            }
        }
        i += 1;
    }
}

/// One more item by plain popularity, unrelated to the rest of the basket.
fn add_noise_item(rng: &mut ChaCha8Rng, items: &mut Vec<usize>) {
    if items.len() >= MAX_LINES {
        return;
    }
    let weights: Vec<f64> = (0..CATALOGUE.len())
        .map(|i| {
            if items.contains(&i) {
                0.0
            } else {
                CATALOGUE[i].popularity
            }
        })
        .collect();
    items.push(pick_weighted(rng, &weights));
}

fn quantity(rng: &mut ChaCha8Rng, customer: &Customer, item: usize) -> u32 {
    let weights: &[f64] = match (customer.big_spender, item) {
        (false, HAMPERS) => &[1.0],
        (true, HAMPERS) => &[5.0, 3.0, 2.0],
        (false, _) => &[65.0, 25.0, 10.0],
        (true, _) => &[25.0, 30.0, 25.0, 10.0, 10.0],
    };
    pick_weighted(rng, weights) as u32 + 1
}

/// Payment, shipping cost and the status the order has reached when the sync ran.
fn order_at(rng: &mut ChaCha8Rng, customer: usize, create_time: i64, lines: Vec<OrderLine>) -> Order {
    let payment_date = create_time + rng.gen_range(60..=900);
    let (status, update_time) = status_at_recording(rng, payment_date);
    let grams: u32 = lines.iter().map(|l| CATALOGUE[l.item].grams * l.quantity).sum();
    Order {
        customer,
        create_time,
        payment_date,
        update_time,
        status,
        lines,
        shipping_cost: shipping_cost(rng, grams),
    }
}

/// Couriers charge per started kilogram, at a rate that depends on the destination.
fn shipping_cost(rng: &mut ChaCha8Rng, grams: u32) -> i64 {
    let rate = 9_000 + 500 * rng.gen_range(0..=10);
    let kilograms = i64::from(grams.div_ceil(1_000).max(1));
    (rate * kilograms).min(25_000)
}

/// Turns `FAILED_ORDERS` orders, scattered over the period, into cancelled, rejected or
/// returned ones. `orders` is sorted by time, so the old enough ones are a prefix.
fn fail_some_orders(rng: &mut ChaCha8Rng, orders: &mut [Order]) {
    let old_enough = orders
        .iter()
        .filter(|o| o.create_time < RECORDED_AT - FAILURE_MIN_AGE)
        .count();
    let old_enough = u32::try_from(old_enough).unwrap_or(u32::MAX);
    for i in pick_distinct(rng, FAILED_ORDERS, old_enough) {
        let order = &mut orders[i as usize];
        let paid = order.payment_date;
        (order.status, order.update_time) = match pick_weighted(rng, &[40.0, 30.0, 30.0]) {
            0 => (0, paid + rng.gen_range(2 * 3_600..=DAY)),
            1 => (10, paid + rng.gen_range(3_600..=2 * DAY)),
            _ => (550, paid + rng.gen_range(6 * DAY..=11 * DAY)),
        };
    }
}

/// Walks the order through accepted → shipped → delivered → finished and
/// returns the last status reached before the recording, with the time it was reached.
fn status_at_recording(rng: &mut ChaCha8Rng, paid: i64) -> (u16, i64) {
    let accepted = accepted_at(rng, paid);
    let shipped = shipped_at(rng, accepted);
    let delivered = shipped + rng.gen_range(2 * DAY..=4 * DAY);
    let finished = delivered + rng.gen_range(DAY..=3 * DAY);
    [(700, finished), (600, delivered), (500, shipped), (400, accepted)]
        .into_iter()
        .find(|&(_, at)| at <= RECORDED_AT)
        .unwrap_or((220, paid))
}

/// The owner goes through new orders before noon: what is paid between 06:00 and 12:00
/// WIB is accepted within 1–3 hours, the rest the next morning (08:00–11:00).
fn accepted_at(rng: &mut ChaCha8Rng, paid: i64) -> i64 {
    let hour = wib_hour(paid);
    if (6..12).contains(&hour) {
        return paid + rng.gen_range(3_600..=3 * 3_600);
    }
    let morning = if hour >= 12 {
        wib_midnight(paid) + DAY
    } else {
        wib_midnight(paid)
    };
    morning + 8 * 3_600 + rng.gen_range(0..3 * 3_600)
}

/// The courier picks up between 13:00 and 17:00 WIB: what is accepted before 09:00 leaves
/// the same day, the rest (packed in the afternoon) the next day.
fn shipped_at(rng: &mut ChaCha8Rng, accepted: i64) -> i64 {
    let pickup_day = if wib_hour(accepted) < 9 {
        wib_midnight(accepted)
    } else {
        wib_midnight(accepted) + DAY
    };
    pickup_day + 13 * 3_600 + rng.gen_range(0..4 * 3_600)
}

/// The hour (0–23) on a WIB clock.
fn wib_hour(unix: i64) -> i64 {
    (unix + WIB).rem_euclid(DAY) / 3_600
}

/// The instant of the WIB midnight that starts the day of `unix`.
fn wib_midnight(unix: i64) -> i64 {
    unix - (unix + WIB).rem_euclid(DAY)
}

/// `INV/YYYYMMDD/MPL/{10 digits}`, the date in WIB, the digits unique.
fn make_invoices(orders: &[Order], rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut used = BTreeSet::new();
    orders
        .iter()
        .map(|o| {
            let mut digits = rng.gen_range(1_000_000_000_u64..10_000_000_000);
            while !used.insert(digits) {
                digits = rng.gen_range(1_000_000_000_u64..10_000_000_000);
            }
            let date = utc(o.create_time + WIB).format("%Y%m%d");
            format!("INV/{date}/MPL/{digits}")
        })
        .collect()
}

fn utc(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------

struct ProductTimes {
    created: i64,
    updated: i64,
    price_updated: i64,
}

/// The product page as the API answers it: newest update first (`sort=2`).
fn make_products(orders: &[Order], rng: &mut ChaCha8Rng) -> Vec<ProductJson> {
    let mut updated_seen = BTreeSet::new();
    let mut products: Vec<ProductJson> = CATALOGUE
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let times = product_times(rng, &mut updated_seen);
            let stock = if i == LOW_STOCK.0 {
                LOW_STOCK.1
            } else {
                rng.gen_range(20..=80)
            };
            product_json(i, item, &times, stock, count_sold(orders, i))
        })
        .collect();
    products.sort_by_key(|p| std::cmp::Reverse(p.basic.update_time_unix));
    products
}

fn product_times(rng: &mut ChaCha8Rng, updated_seen: &mut BTreeSet<i64>) -> ProductTimes {
    let created = rng.gen_range(LISTED_FROM..LISTED_UNTIL);
    let mut updated = rng.gen_range(EDITED_FROM..PERIOD_END - DAY);
    while !updated_seen.insert(updated) {
        updated += 1;
    }
    let price_updated = (updated - rng.gen_range(0..=60) * DAY).max(created);
    ProductTimes {
        created,
        updated,
        price_updated,
    }
}

/// Units sold in the recorded purchases (so `GMStats.countSold` agrees with the orders).
fn count_sold(orders: &[Order], item: usize) -> u32 {
    orders
        .iter()
        .filter(|o| is_purchase(o.status))
        .flat_map(|o| &o.lines)
        .filter(|l| l.item == item)
        .map(|l| l.quantity)
        .sum()
}

fn image_path(item: &Item) -> String {
    format!("/demo/images/{}.svg", item.sku.to_lowercase())
}

fn product_json(index: usize, item: &Item, times: &ProductTimes, stock: u32, sold: u32) -> ProductJson {
    let weight = if item.weight_in_kg {
        WeightJson {
            value: json!(f64::from(item.grams) / 1000.0),
            unit: 2,
        }
    } else {
        WeightJson {
            value: json!(item.grams),
            unit: 1,
        }
    };
    ProductJson {
        basic: BasicJson {
            product_id: FIRST_PRODUCT_ID + index as u64,
            shop_id: SHOP_ID,
            status: if index == FEATURED { 2 } else { 1 },
            name: item.name,
            condition: 1,
            child_category_id: item.category.id,
            short_desc: item.short_desc,
            create_time_unix: times.created,
            update_time_unix: times.updated,
        },
        price: PriceJson {
            value: item.price,
            currency: 1,
            last_update_unix: times.price_updated,
        },
        weight,
        stock: StockJson {
            use_stock: true,
            value: stock,
        },
        variant: VariantJson {
            is_parent: false,
            is_variant: false,
            children_id: Vec::new(),
        },
        category_tree: [&ROOT_CATEGORY, item.category]
            .iter()
            .map(|c| CategoryJson {
                id: c.id,
                name: c.name,
                title: c.name,
            })
            .collect(),
        pictures: vec![PictureJson {
            original_url: image_path(item),
            thumbnail_url: image_path(item),
        }],
        other: OtherJson {
            sku: item.sku,
            url: format!("/demo?product={}", item.sku),
        },
        gm_stats: GmStatsJson { count_sold: sold },
        attributes: vec![
            AttributeJson {
                name: "bentuk",
                value: item.bentuk,
            },
            AttributeJson {
                name: "rasa",
                value: item.rasa,
            },
        ],
    }
}

// ---------------------------------------------------------------------------------------
// JSON shapes (docs/feeds.md: marketplace API, recordings); field order as documented
// ---------------------------------------------------------------------------------------

#[derive(Serialize)]
struct Envelope<T: Serialize> {
    header: HeaderJson,
    data: T,
}

#[derive(Serialize)]
struct HeaderJson {
    process_time: f64,
    messages: &'static str,
    reason: &'static str,
    error_code: &'static str,
}

fn envelope<T: Serialize>(data: T) -> Envelope<T> {
    Envelope {
        header: HeaderJson {
            process_time: 0.02,
            messages: "Your request has been processed successfully",
            reason: "",
            error_code: "",
        },
        data,
    }
}

#[derive(Serialize)]
struct ProductJson {
    basic: BasicJson,
    price: PriceJson,
    weight: WeightJson,
    stock: StockJson,
    variant: VariantJson,
    #[serde(rename = "categoryTree")]
    category_tree: Vec<CategoryJson>,
    pictures: Vec<PictureJson>,
    other: OtherJson,
    #[serde(rename = "GMStats")]
    gm_stats: GmStatsJson,
    /// Our extension: the form and flavour features of seed 000.
    attributes: Vec<AttributeJson>,
}

#[derive(Serialize)]
struct BasicJson {
    #[serde(rename = "productID")]
    product_id: u64,
    #[serde(rename = "shopID")]
    shop_id: u64,
    status: i8,
    name: &'static str,
    condition: u8,
    #[serde(rename = "childCategoryID")]
    child_category_id: u32,
    #[serde(rename = "shortDesc")]
    short_desc: &'static str,
    #[serde(rename = "createTimeUnix")]
    create_time_unix: i64,
    #[serde(rename = "updateTimeUnix")]
    update_time_unix: i64,
}

#[derive(Serialize)]
struct PriceJson {
    value: i64,
    currency: u8,
    #[serde(rename = "LastUpdateUnix")]
    last_update_unix: i64,
}

#[derive(Serialize)]
struct WeightJson {
    value: Value,
    unit: u8,
}

#[derive(Serialize)]
struct StockJson {
    #[serde(rename = "useStock")]
    use_stock: bool,
    value: u32,
}

#[derive(Serialize)]
struct VariantJson {
    #[serde(rename = "isParent")]
    is_parent: bool,
    #[serde(rename = "isVariant")]
    is_variant: bool,
    #[serde(rename = "childrenID")]
    children_id: Vec<u64>,
}

#[derive(Serialize)]
struct CategoryJson {
    id: u32,
    name: &'static str,
    title: &'static str,
}

#[derive(Serialize)]
struct PictureJson {
    #[serde(rename = "OriginalURL")]
    original_url: String,
    #[serde(rename = "ThumbnailURL")]
    thumbnail_url: String,
}

#[derive(Serialize)]
struct OtherJson {
    sku: &'static str,
    url: String,
}

#[derive(Serialize)]
struct GmStatsJson {
    #[serde(rename = "countSold")]
    count_sold: u32,
}

#[derive(Serialize)]
struct AttributeJson {
    name: &'static str,
    value: &'static str,
}

#[derive(Serialize)]
struct OrderJson<'a> {
    order_id: u64,
    invoice_ref_num: &'a str,
    buyer: BuyerJson<'a>,
    products: Vec<OrderProductJson>,
    order_status: u16,
    create_time: i64,
    payment_date: i64,
    update_time: i64,
    amt: AmountJson,
}

#[derive(Serialize)]
struct BuyerJson<'a> {
    id: u64,
    name: &'a str,
    email: &'static str,
    phone: &'static str,
}

#[derive(Serialize)]
struct OrderProductJson {
    id: u64,
    name: &'static str,
    sku: &'static str,
    quantity: u32,
    price: i64,
    total_price: i64,
    currency: &'static str,
}

#[derive(Serialize)]
struct AmountJson {
    ttl_product_price: i64,
    shipping_cost: i64,
    ttl_amount: i64,
}

/// One line of `index.jsonl`.
#[derive(Serialize)]
struct IndexLine<'a> {
    seq: usize,
    source: u32,
    method: &'a str,
    url: &'a str,
    status: u16,
    headers: HeadersJson,
    body: Option<String>,
    at: String,
}

#[derive(Serialize)]
struct HeadersJson {
    #[serde(rename = "content-type")]
    content_type: &'static str,
}

// ---------------------------------------------------------------------------------------
// The recording
// ---------------------------------------------------------------------------------------

/// One HTTP exchange of the recorded sync; `body` is `None` for secrets (the token).
struct Exchange {
    method: &'static str,
    url: String,
    body: Option<String>,
    /// For the README: how many orders this page holds (None for non-order exchanges).
    orders_on_page: Option<usize>,
}

fn make_exchanges(
    products: &[ProductJson],
    orders: &[Order],
    customers: &[Customer],
    invoices: &[String],
) -> io::Result<Vec<Exchange>> {
    let mut exchanges = vec![Exchange {
        method: "POST",
        url: TOKEN_URL.to_string(),
        body: None,
        orders_on_page: None,
    }];
    exchanges.extend(product_pages(products)?);
    let mut from = PERIOD_START;
    while from < PERIOD_END {
        let to = (from + WINDOW).min(PERIOD_END);
        let in_window: Vec<OrderJson> = orders
            .iter()
            .enumerate()
            .filter(|(_, o)| o.create_time >= from && o.create_time < to)
            .map(|(i, o)| order_json(i, o, customers, invoices))
            .collect();
        exchanges.extend(order_pages(from, to, &in_window)?);
        from = to;
    }
    Ok(exchanges)
}

/// Pages of up to `per_page`; a full last page is followed by an empty one, because a
/// client stops only at a page shorter than `per_page`.
fn pages<T>(items: &[T], per_page: usize) -> Vec<&[T]> {
    let mut pages: Vec<&[T]> = items.chunks(per_page).collect();
    if items.len().is_multiple_of(per_page) {
        pages.push(&[]);
    }
    pages
}

fn product_pages(products: &[ProductJson]) -> io::Result<Vec<Exchange>> {
    pages(products, PRODUCTS_PER_PAGE)
        .into_iter()
        .enumerate()
        .map(|(i, page)| {
            Ok(Exchange {
                method: "GET",
                url: format!(
                    "{BASE_URL}/inventory/v1/fs/{FS_ID}/product/info?shop_id={SHOP_ID}&page={}&per_page={PRODUCTS_PER_PAGE}&sort=2",
                    i + 1
                ),
                body: Some(pretty(&envelope(page))?),
                orders_on_page: None,
            })
        })
        .collect()
}

fn order_pages(from: i64, to: i64, orders: &[OrderJson]) -> io::Result<Vec<Exchange>> {
    pages(orders, ORDERS_PER_PAGE)
        .into_iter()
        .enumerate()
        .map(|(i, page)| {
            Ok(Exchange {
                method: "GET",
                url: format!(
                    "{BASE_URL}/v2/order/list?fs_id={FS_ID}&shop_id={SHOP_ID}&from_date={from}&to_date={to}&page={}&per_page={ORDERS_PER_PAGE}",
                    i + 1
                ),
                body: Some(pretty(&envelope(page))?),
                orders_on_page: Some(page.len()),
            })
        })
        .collect()
}

fn order_json<'a>(
    index: usize,
    order: &Order,
    customers: &'a [Customer],
    invoices: &'a [String],
) -> OrderJson<'a> {
    let customer = &customers[order.customer];
    let ttl_product_price = order.product_total();
    OrderJson {
        order_id: FIRST_ORDER_ID + index as u64,
        invoice_ref_num: &invoices[index],
        buyer: BuyerJson {
            id: customer.id,
            name: &customer.name,
            email: "",
            phone: "",
        },
        products: order
            .lines
            .iter()
            .map(|l| {
                let item = &CATALOGUE[l.item];
                OrderProductJson {
                    id: FIRST_PRODUCT_ID + l.item as u64,
                    name: item.name,
                    sku: item.sku,
                    quantity: l.quantity,
                    price: item.price,
                    total_price: item.price * i64::from(l.quantity),
                    currency: "Rp",
                }
            })
            .collect(),
        order_status: order.status,
        create_time: order.create_time,
        payment_date: order.payment_date,
        update_time: order.update_time,
        amt: AmountJson {
            ttl_product_price,
            shipping_cost: order.shipping_cost,
            ttl_amount: ttl_product_price + order.shipping_cost,
        },
    }
}

fn pretty<T: Serialize>(value: &T) -> io::Result<String> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

/// Writes `index.jsonl` and the body files; returns the total size in bytes.
fn write_recording(dir: &Path, exchanges: &[Exchange]) -> io::Result<u64> {
    recreate_dir(dir)?;
    let mut index = String::new();
    let mut bytes = 0;
    for (i, exchange) in exchanges.iter().enumerate() {
        let seq = i + 1;
        let body_file = exchange.body.as_ref().map(|_| format!("{seq:04}.json"));
        if let (Some(file), Some(body)) = (&body_file, &exchange.body) {
            fs::write(dir.join(file), body)?;
            bytes += body.len() as u64;
        }
        let line = IndexLine {
            seq,
            source: 0,
            method: exchange.method,
            url: &exchange.url,
            status: 200,
            headers: HeadersJson {
                content_type: "application/json",
            },
            body: body_file,
            at: utc(RECORDED_AT + i as i64)
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
        };
        index.push_str(&serde_json::to_string(&line)?);
        index.push('\n');
    }
    bytes += index.len() as u64;
    fs::write(dir.join("index.jsonl"), index)?;
    Ok(bytes)
}

fn recreate_dir(dir: &Path) -> io::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir)
}

// ---------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------

fn write_images(dir: &Path) -> io::Result<()> {
    recreate_dir(dir)?;
    for item in &CATALOGUE {
        let file = format!("{}.svg", item.sku.to_lowercase());
        fs::write(dir.join(file), svg_tile(item))?;
    }
    Ok(())
}

/// A 240×240 tile: coloured background, a halo, the product's shape, two lines of text.
fn svg_tile(item: &Item) -> String {
    let star = if item.premium {
        r##"<path d="M206 14l6 12 13 2-9 9 2 13-12-6-12 6 2-13-9-9 13-2z" fill="#fbbf24"/>"##
    } else {
        ""
    };
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 240" width="240" height="240" role="img" aria-label="{label}">"#,
            "\n",
            r#"<rect width="240" height="240" rx="24" fill="{bg}"/>"#,
            r##"<circle cx="120" cy="92" r="66" fill="#fff" fill-opacity=".14"/>"##,
            "\n{shape}{star}\n",
            r##"<g font-family="system-ui,-apple-system,'Segoe UI',sans-serif" text-anchor="middle" fill="#fff">"##,
            r#"<text x="120" y="194" font-size="24" font-weight="700">{title}</text>"#,
            r#"<text x="120" y="220" font-size="15" fill-opacity=".85">{subtitle}</text></g>"#,
            "\n</svg>\n"
        ),
        label = xml_escape(item.name),
        bg = item.background,
        shape = svg_shape(item.shape, item.accent),
        star = star,
        title = xml_escape(item.title),
        subtitle = xml_escape(item.subtitle),
    )
}

fn svg_shape(shape: Shape, accent: &str) -> String {
    match shape {
        // A bowl heaped with granules.
        Shape::Granules => format!(
            concat!(
                r##"<path d="M64 100h112a56 44 0 0 1-112 0z" fill="#fff" fill-opacity=".9"/>"##,
                r#"<g fill="{a}"><circle cx="86" cy="92" r="9"/><circle cx="104" cy="84" r="10"/>"#,
                r#"<circle cx="124" cy="80" r="11"/><circle cx="144" cy="85" r="10"/>"#,
                r#"<circle cx="160" cy="93" r="8"/><circle cx="114" cy="94" r="8"/>"#,
                r#"<circle cx="136" cy="95" r="8"/></g>"#
            ),
            a = accent
        ),
        // A mound of powder with a few specks blown off.
        Shape::Powder => format!(
            concat!(
                r#"<path d="M56 140Q120 24 184 140z" fill="{a}"/>"#,
                r#"<g fill="{a}"><circle cx="62" cy="70" r="4"/><circle cx="178" cy="62" r="5"/>"#,
                r#"<circle cx="168" cy="40" r="3"/></g>"#
            ),
            a = accent
        ),
        // A jar with a lid, half full.
        Shape::Jar => format!(
            concat!(
                r#"<rect x="90" y="40" width="60" height="16" rx="4" fill="{a}"/>"#,
                r##"<rect x="80" y="54" width="80" height="90" rx="16" fill="#fff" fill-opacity=".92"/>"##,
                r#"<rect x="88" y="92" width="64" height="44" rx="11" fill="{a}"/>"#
            ),
            a = accent
        ),
        // Three overlapping chips.
        Shape::Chips => format!(
            concat!(
                r##"<g fill="{a}" stroke="#fff" stroke-width="3">"##,
                r#"<ellipse cx="94" cy="104" rx="36" ry="22" transform="rotate(-25 94 104)"/>"#,
                r#"<ellipse cx="146" cy="104" rx="36" ry="22" transform="rotate(25 146 104)"/>"#,
                r#"<ellipse cx="120" cy="78" rx="36" ry="22"/></g>"#
            ),
            a = accent
        ),
        // A gift box with a ribbon and a bow.
        Shape::Gift => format!(
            concat!(
                r##"<rect x="68" y="76" width="104" height="70" rx="6" fill="#fff" fill-opacity=".92"/>"##,
                r##"<rect x="62" y="62" width="116" height="22" rx="5" fill="#fff"/>"##,
                r#"<g fill="{a}"><rect x="112" y="62" width="16" height="84"/>"#,
                r#"<ellipse cx="104" cy="54" rx="16" ry="10"/><ellipse cx="136" cy="54" rx="16" ry="10"/></g>"#
            ),
            a = accent
        ),
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

// ---------------------------------------------------------------------------------------
// Statistics for the README
// ---------------------------------------------------------------------------------------

/// How often two products share a basket, among purchases.
struct PairStat {
    with_a: usize,
    with_b: usize,
    both: usize,
}

impl PairStat {
    /// Share of baskets with either product that hold both.
    fn share_of_either(&self) -> f64 {
        ratio(self.both, self.with_a + self.with_b - self.both)
    }
    fn lift(&self, baskets: usize) -> f64 {
        ratio(self.both * baskets, self.with_a * self.with_b)
    }
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Pairs reported in the README: the designed complements, then two unrelated controls.
/// A side may be a group of products ("any tepung"): a basket has it if it has one of them.
const REPORTED_PAIRS: [(&[usize], &[usize], &str); 8] = [
    (&[SRD_100], &[TPG_100], "designed"),
    (&[SAMBAL], &[KERIPIK], "designed"),
    (&[RENDANG], &[TPG_100, TPG_INSTAN, TPG_PREMIUM], "designed"),
    (&[RENDANG], &[TPG_INSTAN], "designed"),
    (&[RENDANG], &[TPG_100], "designed"),
    (&[SRD_PREMIUM], &[TPG_PREMIUM], "designed"),
    (&[SRD_100], &[KERIPIK], "control"),
    (&[TPG_100], &[SAMBAL], "control"),
];

struct Stats {
    orders: usize,
    purchases: usize,
    customers: usize,
    revenue: i64,
    big_spender_revenue: i64,
    orders_per_customer: BTreeMap<u32, usize>,
    statuses: BTreeMap<u16, usize>,
    basket_sizes: BTreeMap<usize, usize>,
    quantities: BTreeMap<u32, usize>,
    by_month: BTreeMap<String, usize>,
    daytime_orders: usize,
    pairs: Vec<PairStat>,
    /// (regular, premium, customers who bought the premium after the regular)
    upgrades: Vec<(usize, usize, usize)>,
    hampers_alone: usize,
    hampers_orders: usize,
    exchanges: usize,
    windows: usize,
    empty_windows: usize,
    largest_window: usize,
    recording_bytes: u64,
    events: EventStats,
}

/// What `events.jsonl` came out with.
#[derive(Default)]
struct EventStats {
    by_kind: BTreeMap<&'static str, usize>,
    clicks_by_slot: BTreeMap<&'static str, usize>,
    impressions_by_slot: BTreeMap<&'static str, usize>,
    /// Purchases paid in the events' period.
    purchases: usize,
    /// Purchases the server attributes (the rule of `attributed_orders`).
    attributed: usize,
}

impl EventStats {
    fn of(orders: &[Order], customers: &[Customer], events: &[Event]) -> EventStats {
        let by_slot = |kind: &str| histogram(events.iter().filter(|e| e.kind == kind).map(|e| e.slot));
        EventStats {
            by_kind: histogram(events.iter().map(|e| e.kind)),
            clicks_by_slot: by_slot("click"),
            impressions_by_slot: by_slot("impression"),
            purchases: orders
                .iter()
                .filter(|o| {
                    is_purchase(o.status) && o.payment_date >= EVENTS_FROM && o.payment_date < PERIOD_END
                })
                .count(),
            attributed: attributed_orders(orders, customers, events),
        }
    }
}

impl Stats {
    fn of(orders: &[Order], customers: &[Customer], exchanges: &[Exchange], recording_bytes: u64) -> Stats {
        let purchases: Vec<&Order> = orders.iter().filter(|o| is_purchase(o.status)).collect();
        let order_pages: Vec<usize> = exchanges.iter().filter_map(|e| e.orders_on_page).collect();
        Stats {
            orders: orders.len(),
            purchases: purchases.len(),
            customers: customers.len(),
            revenue: purchases.iter().map(|o| o.product_total()).sum(),
            big_spender_revenue: purchases
                .iter()
                .filter(|o| customers[o.customer].big_spender)
                .map(|o| o.product_total())
                .sum(),
            orders_per_customer: histogram(customers.iter().map(|c| c.order_count)),
            statuses: histogram(orders.iter().map(|o| o.status)),
            basket_sizes: histogram(orders.iter().map(|o| o.lines.len())),
            quantities: histogram(orders.iter().flat_map(|o| o.lines.iter().map(|l| l.quantity))),
            by_month: histogram(
                orders
                    .iter()
                    .map(|o| utc(o.create_time + WIB).format("%Y-%m").to_string()),
            ),
            daytime_orders: orders
                .iter()
                .filter(|o| (7..22).contains(&wib_hour(o.create_time)))
                .count(),
            pairs: REPORTED_PAIRS
                .iter()
                .map(|&(a, b, _)| pair_stat(&purchases, a, b))
                .collect(),
            upgrades: UPGRADES
                .iter()
                .map(|&(r, p)| (r, p, customers_upgrading(orders, r, p)))
                .collect(),
            hampers_alone: orders
                .iter()
                .filter(|o| o.contains(HAMPERS) && o.lines.len() == 1)
                .count(),
            hampers_orders: orders.iter().filter(|o| o.contains(HAMPERS)).count(),
            exchanges: exchanges.len(),
            windows: order_pages.len(),
            empty_windows: order_pages.iter().filter(|&&n| n == 0).count(),
            largest_window: order_pages.iter().copied().max().unwrap_or(0),
            recording_bytes,
            events: EventStats::default(),
        }
    }
}

fn histogram<K: Ord>(keys: impl Iterator<Item = K>) -> BTreeMap<K, usize> {
    let mut counts = BTreeMap::new();
    for key in keys {
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

fn pair_stat(purchases: &[&Order], a: &[usize], b: &[usize]) -> PairStat {
    let has = |o: &Order, side: &[usize]| side.iter().any(|&i| o.contains(i));
    PairStat {
        with_a: purchases.iter().filter(|o| has(o, a)).count(),
        with_b: purchases.iter().filter(|o| has(o, b)).count(),
        both: purchases.iter().filter(|o| has(o, a) && has(o, b)).count(),
    }
}

/// Customers whose first purchase of `premium` came after a purchase of `regular`.
fn customers_upgrading(orders: &[Order], regular: usize, premium: usize) -> usize {
    let mut first_regular: BTreeMap<usize, i64> = BTreeMap::new();
    let mut first_premium: BTreeMap<usize, i64> = BTreeMap::new();
    for o in orders.iter().filter(|o| is_purchase(o.status)) {
        if o.contains(regular) {
            first_regular.entry(o.customer).or_insert(o.create_time);
        }
        if o.contains(premium) {
            first_premium.entry(o.customer).or_insert(o.create_time);
        }
    }
    first_premium
        .iter()
        .filter(|(c, &p)| first_regular.get(c).is_some_and(|&r| r < p))
        .count()
}

// ---------------------------------------------------------------------------------------
// Widget events (synthetic, from their own random stream)
// ---------------------------------------------------------------------------------------

/// The events cover the last eight weeks of the period.
const EVENTS_FROM: i64 = PERIOD_END - 56 * DAY;
/// Product-page views with the widget per day.
const VIEWS_PER_DAY: u32 = 16;
/// Share of viewers signed in (their events carry their customer id).
const SIGNED_IN: f64 = 0.4;
/// Share of impressions that are clicked, and of clicks followed by an add to cart.
const CLICK_RATE: f64 = 0.04;
const ADD_TO_CART_RATE: f64 = 0.3;
/// Share of the purchases paid in the events' period that follow a click on one of their items.
const ORDERS_AFTER_A_CLICK: f64 = 0.25;
/// The server's default `attribution_window_hours`, in seconds.
const ATTRIBUTION_WINDOW: i64 = 72 * 3_600;
const SLOTS: [&str; 3] = ["similar", "upsell", "bundle"];

/// One line of `events.jsonl`: a `web::events::Event` as the server stores it.
#[derive(Serialize)]
struct EventJson {
    #[serde(rename = "type")]
    kind: &'static str,
    slot: &'static str,
    product: &'static str,
    item: Option<&'static str>,
    at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer: Option<String>,
}

struct Event {
    kind: &'static str,
    slot: &'static str,
    product: usize,
    item: Option<usize>,
    at: i64,
    customer: Option<u64>,
}

impl Event {
    fn json(&self) -> EventJson {
        EventJson {
            kind: self.kind,
            slot: self.slot,
            product: CATALOGUE[self.product].sku,
            item: self.item.map(|i| CATALOGUE[i].sku),
            at: utc(self.at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            customer: self.customer.map(|c| c.to_string()),
        }
    }
}

/// What the widget shows in `slot` on `product`'s page, as the generator knows the shop:
/// similar = the same category, filled up to three with the nearest prices; upsell = the
/// Premium version; bundle = the complements.
fn recommended(slot: &str, product: usize) -> Vec<usize> {
    match slot {
        "similar" => {
            let mut others: Vec<usize> = (0..CATALOGUE.len()).filter(|&i| i != product).collect();
            let of = &CATALOGUE[product];
            others.sort_by_key(|&i| {
                let item = &CATALOGUE[i];
                (
                    item.category.name != of.category.name,
                    (item.price - of.price).abs(),
                    i,
                )
            });
            others.truncate(3);
            others
        }
        "upsell" => UPGRADES
            .iter()
            .filter(|&&(regular, _)| regular == product)
            .map(|&(_, premium)| premium)
            .collect(),
        _ => {
            let mut partners = Vec::new();
            for &(item, adds, _) in &COMPLEMENTS {
                for &add in adds.iter().filter(|_| item == product) {
                    if !partners.contains(&add) {
                        partners.push(add);
                    }
                }
            }
            partners
        }
    }
}

/// Whether a purchase containing `item` is paid within the attribution window after `at`.
fn purchase_follows(orders: &[Order], item: usize, at: i64) -> bool {
    orders.iter().any(|o| {
        is_purchase(o.status)
            && o.contains(item)
            && at < o.payment_date
            && o.payment_date <= at + ATTRIBUTION_WINDOW
    })
}

/// Product-page views with impressions, a few clicks and add-to-carts; a click 1–48 h before
/// a quarter of the purchases paid in the period, by the buyer; sorted by time.
fn make_events(orders: &[Order], customers: &[Customer], rng: &mut ChaCha8Rng) -> Vec<Event> {
    let mut events = Vec::new();
    let popularity: Vec<f64> = CATALOGUE.iter().map(|i| i.popularity).collect();
    for _ in 0..VIEWS_PER_DAY * ((PERIOD_END - EVENTS_FROM) / DAY) as u32 {
        let at = EVENTS_FROM + rng.gen_range(0..PERIOD_END - EVENTS_FROM);
        let product = pick_weighted(rng, &popularity);
        let signed_in = chance(rng, SIGNED_IN);
        let customer = customers[pick_index(rng, customers.len())].id;
        let customer = signed_in.then_some(customer);
        for slot in SLOTS {
            let items = recommended(slot, product);
            if items.is_empty() {
                continue;
            }
            let shown = at + rng.gen_range(2..30);
            events.push(Event {
                kind: "impression",
                slot,
                product,
                item: None,
                at: shown,
                customer,
            });
            if !chance(rng, CLICK_RATE) {
                continue;
            }
            let item = items[pick_index(rng, items.len())];
            let clicked = shown + rng.gen_range(5..120);
            // An anonymous click would be credited with any buyer's order of the item (the
            // server's rule 3); keep only those no purchase follows, so that every attributed
            // order comes from a signed-in customer's click.
            if customer.is_none() && purchase_follows(orders, item, clicked) {
                continue;
            }
            events.push(Event {
                kind: "click",
                slot,
                product,
                item: Some(item),
                at: clicked,
                customer,
            });
            if chance(rng, ADD_TO_CART_RATE) {
                let added = clicked + rng.gen_range(20..600);
                events.push(Event {
                    kind: "add_to_cart",
                    slot,
                    product,
                    item: Some(item),
                    at: added,
                    customer,
                });
            }
        }
    }
    let paid_in_period = orders
        .iter()
        .filter(|o| is_purchase(o.status) && o.payment_date >= EVENTS_FROM && o.payment_date < PERIOD_END);
    for order in paid_in_period {
        if !chance(rng, ORDERS_AFTER_A_CLICK) {
            continue;
        }
        let item = order.lines[pick_index(rng, order.lines.len())].item;
        let pages: Vec<(&'static str, usize)> = SLOTS
            .iter()
            .flat_map(|&slot| (0..CATALOGUE.len()).map(move |p| (slot, p)))
            .filter(|&(slot, p)| recommended(slot, p).contains(&item))
            .collect();
        if pages.is_empty() {
            continue;
        }
        let (slot, product) = pages[pick_index(rng, pages.len())];
        let customer = Some(customers[order.customer].id);
        let clicked = order.payment_date - rng.gen_range(3_600..=48 * 3_600);
        let shown = clicked - rng.gen_range(5..120);
        events.push(Event {
            kind: "impression",
            slot,
            product,
            item: None,
            at: shown,
            customer,
        });
        events.push(Event {
            kind: "click",
            slot,
            product,
            item: Some(item),
            at: clicked,
            customer,
        });
        if chance(rng, 0.5) {
            let added = clicked + rng.gen_range(20..600);
            events.push(Event {
                kind: "add_to_cart",
                slot,
                product,
                item: Some(item),
                at: added,
                customer,
            });
        }
    }
    events.sort_by_key(|e| e.at);
    events
}

/// Purchases the server attributes to a click with the default window: a click by the
/// buyer on an item of the order, at most 72 h before it was paid (each order once).
fn attributed_orders(orders: &[Order], customers: &[Customer], events: &[Event]) -> usize {
    orders
        .iter()
        .filter(|o| is_purchase(o.status))
        .filter(|o| {
            events.iter().any(|e| {
                e.kind == "click"
                    && e.customer == Some(customers[o.customer].id)
                    && e.item.is_some_and(|i| o.contains(i))
                    && e.at < o.payment_date
                    && o.payment_date <= e.at + ATTRIBUTION_WINDOW
            })
        })
        .count()
}

fn write_events(path: &Path, events: &[Event]) -> io::Result<()> {
    let mut text = String::new();
    for e in events {
        text.push_str(&serde_json::to_string(&e.json())?);
        text.push('\n');
    }
    fs::write(path, text)
}

// ---------------------------------------------------------------------------------------
// README
// ---------------------------------------------------------------------------------------

fn readme(args: &Args, s: &Stats) -> String {
    format!(
        r##"# Demo shop `lengkuas`

Synthetic data for a small galangal shop modelled on seed 000 (serundeng and tepung lengkuas;
10 products, 200 customers, 500 + 100 transactions over six months), shaped as a recording of
the Tokopedia-style marketplace API (docs/feeds.md: marketplace API, recordings) so that `laris replay` feeds it
through the same parse–normalise–store pipeline as a real sync. Nothing here is real: the
buyers' names are drawn from lists of first names and initials, and Laris still treats them as
personal data.

Generated by `examples/gen_demo_shop.rs`; do not edit by hand, regenerate with

```sh
cargo run --example gen_demo_shop -- --seed {seed} --out {out}
```

The same seed gives byte-identical files on any machine (ChaCha8 streams, no clock, no
hash-map order, no platform-dependent float functions).

## Files

- `recording/index.jsonl`: one line per HTTP exchange, in the order made: the token exchange
  (`POST`, status 200, `"body": null`: token bodies are secrets), the product list, then the
  order list walked in 3-day windows (`to_date − from_date` = 259200 s, the last one clipped)
  from 2026-05-01 00:00 WIB to 2026-11-01 00:00 WIB. An order is in the window with
  `from_date ≤ create_time < to_date`; a window without orders still has its page, with
  `"data": []`. `at` is 2026-11-01T00:00:00Z + (seq − 1) s.
- `recording/NNNN.json`: the body of exchange `seq` = NNNN (so there is no `0001.json`).
- `images/{{sku}}.svg`: one tile per product, referenced from the product as
  `/demo/images/{{sku}}.svg`.
- `events.jsonl`: synthetic widget events for the dashboard (below, "Widget events").
- `experiment.json`: a simulated holdout experiment (below, "The simulated experiment").

{recording}

## Products

Our product id is the SKU (`other.sku`); `basic.productID` runs from 15001001. Each product
carries an extension field `attributes` with `bentuk` (form) and `rasa` (flavour), the
features seed 000 uses. `GMStats.countSold` is the number of units sold in the recorded
purchases. The product page lists them newest `updateTimeUnix` first (`sort=2`).

{products}
`{featured}` is featured (`status` 2), the rest are active (1). `{low_stock}` has only
{low_stock_units} in stock; the rest have 20–80. `TPG-250P` gives its weight in kilograms
(`{{"value": 0.25, "unit": 2}}`), the rest in grams. The Premium 250 g items are the
"bigger pack of the same thing" for the up-sell.

## Orders

{orders} orders from {customers} customers (buyer ids 777001–777200), order ids from 880000001
in time order. {purchases} of them are purchases (status 220–600 or 700, not 550), worth
Rp{revenue} in products.

{statuses}
Orders by month (WIB): {months}.

## Structure built in

- **Time.** Demand grows linearly over the period (the last day ~{growth:.1}× the first);
  {daytime} of orders are placed between 07:00 and 22:00 WIB. Payment follows 1–15 minutes
  after the order; the seller accepts orders paid in the morning within hours and the rest
  the next morning, the courier picks up in the afternoon, delivery takes 2–4 days and
  the order is finished 1–3 days after that, so orders from the last ~10 days are still
  220/400/500/600 when the sync runs.
- **Failures.** {failed} orders ({failed_share}), drawn at random among those older than
  {failure_age} days, end cancelled (0), rejected (10) or returned (550); they are kept in the
  feed but are not purchases.
- **Customers.** A heavy tail of orders per customer (orders: customers): {per_customer}.
  {big_spenders} big spenders (8–15 orders) buy larger quantities and hampers more often; they
  bring {big_share} of product revenue. Each customer has a taste (classic serundeng & tepung,
  spicy, home cook, snacker) that weights the first item of each basket.
- **Baskets.** 1–{max_lines} lines (lines: orders): {basket_sizes}. Quantity per line (units:
  lines): {quantities}. Hampers are mostly bought alone ({hampers_alone} of {hampers_orders}
  orders with hampers).
- **Up-sell.** Some customers come back for the Premium 250 g version of a regular item they
  bought before: {upgrades}.
- **Bought together.** Complements join a basket with a fixed chance (serundeng ↔ tepung,
  sambal ↔ keripik, bumbu rendang → a tepung, Premium ↔ Premium), and an unrelated item joins
  now and then. Among the purchases (share = baskets with both / baskets with either;
  confidence A→B = both / with A; lift = confidence / share of baskets with B):

{pairs}
For an evaluation in the manner of seed 000, the first 500 orders by `create_time` can serve as
training transactions and the last 100 as test transactions.

## Widget events

`events.jsonl` holds invented widget events, one `web::events::Event` per line
(`{{"type","slot","product","item","at","customer"}}`, `customer` only when signed in), which
`shops[].seed_events` loads on first start so that the dashboard's "Recommendation
performance" page has something to show for the demo. **No widget ever ran: these events are
synthetic.** They come from their own random stream, so the recording does not depend on
them. The story, over the last {event_weeks} weeks of the period (from {events_from} 00:00 WIB):

- **Views.** {views} product-page views a day at random times, the product weighted like the
  first item of a basket; {signed_in} of the viewers are signed in, and their events carry
  their buyer id (as the server sets it from a verified customer token). Each view gives one
  impression per slot with something to show: `similar` (the same category, filled up to
  three with the nearest prices), `upsell` (the Premium 250 g version of SRD-100 and TPG-100)
  and `bundle` (the complements of "Bought together").
- **Clicks that lead to nothing in particular.** {click_rate} of impressions are clicked (an
  item of the slot's list), {cart_rate} of those clicks are followed by an add to cart. An
  anonymous click that a purchase of its item happens to follow within 72 h is left out (the
  server would credit it with any buyer's order), so every attributed order comes from a
  signed-in customer's click.
- **Clicks before purchases.** For {after_click} of the purchases paid in the period, the
  buyer clicked one of the order's items 1–48 h before paying, in a slot that recommends it
  on some product page (with its impression, and half the time an add to cart).

Events (type: count): {event_kinds}.
Impressions per slot: {impressions_by_slot}.
Clicks per slot: {clicks_by_slot}.

Of the {event_purchases} purchases paid in the period, {attributed} are attributed with the
default 72 h window (a click by the buyer on an item of the order, at most 72 h before it was
paid; each order once): the `attributed_orders` of `/admin/api/shops/lengkuas/performance`.
"##,
        seed = args.seed,
        out = args.out.display(),
        recording = recording_summary(s),
        products = products_table(),
        featured = CATALOGUE[FEATURED].sku,
        low_stock = CATALOGUE[LOW_STOCK.0].sku,
        low_stock_units = LOW_STOCK.1,
        orders = s.orders,
        customers = s.customers,
        purchases = s.purchases,
        revenue = s.revenue,
        statuses = status_table(s),
        months = join_counts(&s.by_month),
        growth = 1.0 + GROWTH,
        daytime = percent(s.daytime_orders, s.orders),
        failed = FAILED_ORDERS,
        failed_share = percent(FAILED_ORDERS as usize, s.orders),
        failure_age = FAILURE_MIN_AGE / DAY,
        per_customer = join_counts(&s.orders_per_customer),
        big_spenders = BIG_SPENDERS,
        big_share = percent_of(s.big_spender_revenue as f64 / s.revenue.max(1) as f64),
        max_lines = MAX_LINES,
        basket_sizes = join_counts(&s.basket_sizes),
        quantities = join_counts(&s.quantities),
        hampers_alone = s.hampers_alone,
        hampers_orders = s.hampers_orders,
        upgrades = upgrades_sentence(s),
        pairs = pairs_table(s),
        event_weeks = (PERIOD_END - EVENTS_FROM) / (7 * DAY),
        events_from = utc(EVENTS_FROM + WIB).format("%Y-%m-%d"),
        views = VIEWS_PER_DAY,
        signed_in = percent_of(SIGNED_IN),
        click_rate = percent_of(CLICK_RATE),
        cart_rate = percent_of(ADD_TO_CART_RATE),
        after_click = percent_of(ORDERS_AFTER_A_CLICK),
        event_kinds = join_counts(&s.events.by_kind),
        impressions_by_slot = join_counts(&s.events.impressions_by_slot),
        clicks_by_slot = join_counts(&s.events.clicks_by_slot),
        event_purchases = s.events.purchases,
        attributed = s.events.attributed,
    )
}

fn recording_summary(s: &Stats) -> String {
    let pages = if s.largest_window < ORDERS_PER_PAGE {
        "so every window fits on one page"
    } else {
        "so some windows take more than one page"
    };
    format!(
        "Recording: {} exchanges (1 token, 1 product page, {} order pages of which {} are empty; \
         at most {} orders in one window, {pages}), {} KB in all.",
        s.exchanges,
        s.windows,
        s.empty_windows,
        s.largest_window,
        s.recording_bytes.div_ceil(1024)
    )
}

fn products_table() -> String {
    let mut table =
        String::from("| SKU | name | price (Rp) | category | bentuk | rasa |\n|---|---|---:|---|---|---|\n");
    for item in &CATALOGUE {
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            item.sku, item.name, item.price, item.category.name, item.bentuk, item.rasa
        ));
    }
    table
}

fn status_table(s: &Stats) -> String {
    let mut table = String::from("| order_status | meaning | orders |\n|---:|---|---:|\n");
    for (status, n) in &s.statuses {
        table.push_str(&format!("| {status} | {} | {n} |\n", status_name(*status)));
    }
    table
}

fn pairs_table(s: &Stats) -> String {
    let mut table = String::from(
        "| A | B | kind | with A | with B | both | share | conf A→B | conf B→A | lift |\n\
         |---|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for (p, &(a, b, kind)) in s.pairs.iter().zip(REPORTED_PAIRS.iter()) {
        table.push_str(&format!(
            "| {} | {} | {kind} | {} | {} | {} | {} | {} | {} | {:.2} |\n",
            skus(a),
            skus(b),
            p.with_a,
            p.with_b,
            p.both,
            percent_of(p.share_of_either()),
            percent(p.both, p.with_a),
            percent(p.both, p.with_b),
            p.lift(s.purchases)
        ));
    }
    table
}

/// `TPG-100` or, for a group, `TPG-100 / TPG-INS-100 / TPG-250P`.
fn skus(items: &[usize]) -> String {
    items
        .iter()
        .map(|&i| CATALOGUE[i].sku)
        .collect::<Vec<_>>()
        .join(" / ")
}

fn upgrades_sentence(s: &Stats) -> String {
    s.upgrades
        .iter()
        .map(|&(regular, premium, n)| {
            format!(
                "{n} customers bought {} and later {}",
                CATALOGUE[regular].sku, CATALOGUE[premium].sku
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn percent(num: usize, den: usize) -> String {
    percent_of(ratio(num, den))
}

fn percent_of(fraction: f64) -> String {
    format!("{:.1}%", 100.0 * fraction)
}

fn status_name(status: u16) -> &'static str {
    match status {
        0 => "cancelled by seller",
        10 => "rejected",
        220 => "payment verified",
        400 => "accepted by seller",
        500 => "shipped",
        550 => "returned to seller",
        600 => "delivered",
        700 => "finished",
        _ => "other",
    }
}

/// `1: 70, 2: 52, …` (key: count).
fn join_counts<K: std::fmt::Display>(counts: &BTreeMap<K, usize>) -> String {
    counts
        .iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    //! Run with `cargo test --example gen_demo_shop`.
    use super::*;

    #[test]
    fn a_window_without_orders_still_gets_one_empty_page() {
        let none: [u32; 0] = [];
        assert_eq!(pages(&none, 100).len(), 1);
        assert!(pages(&none, 100)[0].is_empty());
    }

    #[test]
    fn a_full_last_page_is_followed_by_an_empty_one() {
        let items: Vec<u32> = (0..200).collect();
        let lens: Vec<usize> = pages(&items, 100).iter().map(|p| p.len()).collect();
        assert_eq!(lens, [100, 100, 0]);
        let items: Vec<u32> = (0..150).collect();
        let lens: Vec<usize> = pages(&items, 100).iter().map(|p| p.len()).collect();
        assert_eq!(lens, [100, 50]);
    }

    #[test]
    fn wib_clock_helpers_agree_with_the_period_start() {
        assert_eq!(wib_hour(PERIOD_START), 0);
        assert_eq!(wib_midnight(PERIOD_START + 5 * 3_600), PERIOD_START);
        assert_eq!(wib_hour(PERIOD_START + 13 * 3_600 + 59), 13);
    }

    #[test]
    fn the_same_seed_gives_the_same_orders_and_every_order_is_consistent() {
        let customers = make_customers(&mut stream(7, 1));
        let a = make_orders(&customers, &mut stream(7, 2));
        let b = make_orders(&customers, &mut stream(7, 2));
        assert_eq!(a.len(), ORDERS as usize);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (x.create_time, x.status, x.lines.len()),
                (y.create_time, y.status, y.lines.len())
            );
            assert!(x.create_time >= PERIOD_START && x.create_time < PERIOD_END);
            assert!(x.payment_date > x.create_time && x.update_time >= x.payment_date);
            assert!(x.update_time <= RECORDED_AT);
            assert!((1..=MAX_LINES).contains(&x.lines.len()));
        }
    }
}

// ---------------------------------------------------------------------------------------
// The simulated holdout experiment
// ---------------------------------------------------------------------------------------

const EXPERIMENT_NAME: &str = "simulasi-2026-11";
const EXPERIMENT_SALT: &str = "lengkuas/simulasi-2026-11";
const EXPERIMENT_HOLDOUT_PCT: u8 = 10;
/// 2026-11-02 00:00 WIB, the day after the recorded period: no other demo event is in it.
const EXPERIMENT_FROM: i64 = PERIOD_END + DAY;
const EXPERIMENT_DAYS: i64 = 28;
const EXPERIMENT_VISITORS: u32 = 3_600;
/// The true conversion of each arm: the recommendations lift it by a quarter.
const CONVERSION_CONTROL: f64 = 0.040;
const CONVERSION_TREATMENT: f64 = 0.050;
/// Share of visitors who come back for a second page.
const SECOND_VIEW: f64 = 0.25;

/// The simulated experiment as `laris::app` seeds it (`shops[].seed_experiment`).
#[derive(Serialize)]
struct ExperimentHeader {
    experiment: laris::config::experiment::ExperimentSettings,
    started_at: String,
    stopped_at: String,
}

/// What the simulation came out with, per arm: (visitors, converting visitors, revenue).
#[derive(Default)]
struct ExperimentStats {
    control: (u32, u32, i64),
    treatment: (u32, u32, i64),
    events: usize,
}

fn stamp(unix: i64) -> String {
    utc(unix).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn product_id(item: usize) -> laris::domain::ProductId {
    laris::domain::ProductId::parse(CATALOGUE[item].sku).expect("catalogue SKUs are ids")
}

/// A visitor's page view: a loyalty impression in control (its recommendation slots are
/// empty), a `similar` impression in treatment.
fn view(item: usize, at: i64, visitor: &str, control: bool) -> laris::records::Event {
    use laris::domain::Slot;
    laris::records::Event {
        kind: laris::records::EventKind::Impression,
        slot: Some(if control { Slot::Loyalty } else { Slot::Similar }),
        product: Some(product_id(item)),
        item: None,
        at: Some(utc(at)),
        customer: None,
        visitor: Some(visitor.to_string()),
        arm: Some(if control { "control" } else { "treatment" }.to_string()),
        order: None,
        total: None,
        items: Vec::new(),
    }
}

/// Visitors split by `laris::experiment::assign::arm` exactly as the server splits them,
/// each with one or two page views and, converting with its arm's rate, one purchase (a
/// basket of one to three products) 10 minutes to 2 days after the first view, inside
/// the period. Sorted by time.
fn make_experiment(rng: &mut ChaCha8Rng) -> (Vec<laris::records::Event>, ExperimentStats) {
    let until = EXPERIMENT_FROM + EXPERIMENT_DAYS * DAY;
    let popularity: Vec<f64> = CATALOGUE.iter().map(|i| i.popularity).collect();
    let mut events = Vec::new();
    let mut stats = ExperimentStats::default();
    for n in 0..EXPERIMENT_VISITORS {
        let visitor = hex::encode(rng.gen::<[u8; 16]>());
        let arm = laris::experiment::assign::arm(&visitor, EXPERIMENT_SALT, EXPERIMENT_HOLDOUT_PCT);
        let control = arm == laris::experiment::assign::Arm::Control;
        let first = EXPERIMENT_FROM + rng.gen_range(0..until - EXPERIMENT_FROM - DAY);
        events.push(view(pick_weighted(rng, &popularity), first, &visitor, control));
        if chance(rng, SECOND_VIEW) {
            let at = first + rng.gen_range(60..DAY);
            events.push(view(pick_weighted(rng, &popularity), at, &visitor, control));
        }
        let arm_stats = if control {
            &mut stats.control
        } else {
            &mut stats.treatment
        };
        arm_stats.0 += 1;
        let rate = if control {
            CONVERSION_CONTROL
        } else {
            CONVERSION_TREATMENT
        };
        if !chance(rng, rate) {
            continue;
        }
        let mut items = Vec::new();
        let mut total = 0;
        for _ in 0..rng.gen_range(1..=3u32) {
            let item = pick_weighted(rng, &popularity);
            total += CATALOGUE[item].price * i64::from(rng.gen_range(1..=2u32));
            if !items.contains(&product_id(item)) {
                items.push(product_id(item));
            }
        }
        arm_stats.1 += 1;
        arm_stats.2 += total;
        let at = (first + rng.gen_range(600..2 * DAY)).min(until - 1);
        events.push(laris::records::Event {
            kind: laris::records::EventKind::Purchase,
            slot: None,
            product: None,
            at: Some(utc(at)),
            order: Some(format!("SIM-{:05}", n + 1)),
            total: Some(laris::domain::Rupiah(total)),
            items,
            ..view(0, at, &visitor, control)
        });
    }
    events.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.visitor.cmp(&b.visitor)));
    stats.events = events.len();
    (events, stats)
}

/// `experiment.json`: the settings and the period, then one stored event per line.
fn write_experiment(path: &Path, events: &[laris::records::Event]) -> io::Result<()> {
    let header = ExperimentHeader {
        experiment: laris::config::experiment::ExperimentSettings {
            holdout_pct: EXPERIMENT_HOLDOUT_PCT,
            name: EXPERIMENT_NAME.into(),
            started: Some(utc(EXPERIMENT_FROM + WIB).date_naive()),
            control: laris::config::experiment::ControlShows::Nothing,
            salt: EXPERIMENT_SALT.into(),
        },
        started_at: stamp(EXPERIMENT_FROM),
        stopped_at: stamp(EXPERIMENT_FROM + EXPERIMENT_DAYS * DAY),
    };
    let head = serde_json::to_string(&header)?;
    let mut text = format!("{},\"events\":[\n", &head[..head.len() - 1]);
    for (i, e) in events.iter().enumerate() {
        text.push_str(&serde_json::to_string(e)?);
        text.push_str(if i + 1 < events.len() { ",\n" } else { "\n" });
    }
    text.push_str("]}\n");
    fs::write(path, text)
}

fn experiment_readme(s: &ExperimentStats) -> String {
    let arm = |(visitors, converting, revenue): (u32, u32, i64)| {
        format!("{visitors} visitors, {converting} converting, Rp{revenue} in purchases")
    };
    format!(
        r##"
## The simulated experiment

`experiment.json` holds a **simulated** holdout experiment, `{name}`, which
`shops[].seed_experiment` loads on first start: its settings ({pct}% holdout, control sees
nothing), its start and stop in the shop's settings log ({from} to {to}, {days} days from
2026-11-02 00:00 WIB), and its events stored as the server stores real ones: each
visitor's page views (a `loyalty` impression in control, whose recommendation slots are
empty, a `similar` one in treatment) and purchases (`Laris.purchase`: order id `SIM-…`,
total, items), with the visitor id and the arm. **No visitor and no order is real**; the
purchases are not in the recording. {visitors} random visitor ids are split by
`experiment::assign::arm` with the salt `{salt}`, exactly as the server splits them; a
quarter of them view a second page. The true conversion is {control_rate} in control and
{treatment_rate} in treatment (a modest uplift), with the same baskets (one to three
products, one or two of each) in both arms. The dashboard's "Eksperimen" page, its JSON and
`laris experiment report --shop lengkuas` compute the report from these events.

- control: {control}
- treatment: {treatment}
- {events} events in all
"##,
        name = EXPERIMENT_NAME,
        pct = EXPERIMENT_HOLDOUT_PCT,
        from = stamp(EXPERIMENT_FROM),
        to = stamp(EXPERIMENT_FROM + EXPERIMENT_DAYS * DAY),
        days = EXPERIMENT_DAYS,
        visitors = EXPERIMENT_VISITORS,
        salt = EXPERIMENT_SALT,
        control_rate = percent_of(CONVERSION_CONTROL),
        treatment_rate = percent_of(CONVERSION_TREATMENT),
        control = arm(s.control),
        treatment = arm(s.treatment),
        events = s.events,
    )
}
