//! Generates synthetic shops for offline evaluation (`laris eval`), shaped like real shops
//! whose data cannot be shipped, as Tokopedia Seller Center exports that `laris import` reads.
//!
//! ```text
//! cargo run --release --example gen_eval_shops -- --out target/eval-shops [--seed 42] [--shop longtail|komputer|all]
//! laris --config target/eval-shops/laris.toml --data-dir target/eval-shops/data \
//!     import --shop longtail --products target/eval-shops/longtail/produk.csv \
//!     --orders target/eval-shops/longtail/laporan-penjualan.csv
//! laris --config target/eval-shops/laris.toml --data-dir target/eval-shops/data \
//!     eval --shop longtail --compare hybrid,best_sellers
//! ```
//!
//! (`benches/compare/eval_shops.sh` does all of it for both shops.) `--longtail-products
//! 14190 --longtail-orders 15183 --shop longtail` writes the long-tail shop (about 150k
//! sales-report lines, every product in one product line), the memory benchmark of
//! docs/performance.md. Under `--out` it writes,
//! per shop, `{shop}/produk.csv` (the product list export: `Product ID`, `Nama Produk`,
//! `SKU Name`, `Kategori`, `Harga (Rp)`, stock, weight, status), `{shop}/laporan-penjualan.csv`
//! (the sales report, title rows above the header on row 5, one row per order line, buyers by
//! name and phone only, as the real report has no buyer id), `{shop}/baskets.csv` (the paid
//! orders in time order, one per line, their distinct `Product ID`s comma-separated: the
//! input of `benches/compare/itemknn_peer.py`) with `{shop}/basket_customers.csv` (the
//! buyer of each line of `baskets.csv`), and `laris.toml` with both shops (Asia/Jakarta).
//! Nothing is written anywhere else.
//!
//! ## `longtail`: a grocery shop whose names say nothing
//!
//! 14,000 products `Produk 1` … `Produk 14000` in one category, prices drawn per product
//! (Rp5.000–Rp150.000 in steps of Rp500) with no relation to anything else; 593 customers;
//! 15,450 orders over two years (2024-11-01 to 2026-11-01 WIB), about 97% of them paid,
//! about 10 lines an order. Buying behaviour, the structure a recommender can find:
//!
//! - *Popularity* is a long tail: product weights 1/(rank + 30) over a random ranking (the
//!   rank is unrelated to the product's number or price).
//! - *Repurchase*: each customer has a personal set of staples (3–24, more for frequent
//!   buyers), each with its own period (1–8 of the customer's usual gaps between orders) and
//!   reliability (0.55–0.95): a staple that is due goes into the basket with that
//!   probability, one that is not due rarely (4%). The core staples (a period of one or two
//!   gaps) are mostly popular products; the others as often any product. Tastes drift: a
//!   staple is given up after 150–600 days on average (core ones four times later) and
//!   another taken up. Customers' order counts are heavy-tailed (1 to about 300) and their
//!   usual gap (5–45 days, shorter when the orders would not fit) is their own.
//! - *Co-purchase*: 3,000 latent groups of 3–12 products ("recipes"), each member with its
//!   own inclusion probability (0.2–0.7); an order activates 0–3 groups (1.1 on average),
//!   45% of the time one of the customer's 2–8 favourite groups, else by the groups' own
//!   long-tailed popularity, and takes at least two members of each.
//! - *Noise*: 0–4 lines an order (2.2 on average) drawn by popularity or uniformly from the
//!   whole catalogue, explained by nothing.
//!
//! So the customer's own history predicts the next order best, item-item co-occurrence
//! predicts a hidden basket item several times better than best-sellers (partly through
//! the groups, partly through a customer's staples bought together), and content (name,
//! category, price) predicts nothing. With seed 42: 14,980 paid orders, 161,644 lines
//! (10.8 an order); `itemknn_peer.py` gives basket completion P@5 0.038 for item-kNN and
//! 0.012 for best-sellers, next order P@5 0.376 for the customer's five most-bought
//! earlier products and 0.115 for best-sellers (the real shop: 0.032, 0.012 and 0.37).
//!
//! ## `komputer`: a computer shop whose names carry the specs
//!
//! About 300 products in ten categories: assembled PCs that differ only in specs (`PC
//! Rakitan Premium 50MHz RAM 16GB HDD 452MB Layar 14in`), monitors, keyboards, mice, RAM
//! sticks, printers and their ink, cables, flash disks and external disks, priced by their
//! specs; 400 customers; 3,000 orders over the same two years. Each customer has a segment
//! (office, gamer, home, technician) and a spec tier; products are picked near that tier
//! within their category. Orders are PC sets (a PC with a matching monitor, keyboard, mouse,
//! cable, maybe a printer), returns for a sibling or an upgrade of something bought before (a
//! PC of nearly the same spec, a bigger RAM stick or flash disk, a larger monitor), several
//! items of one family (cables of one kind in several lengths, RAM of one generation), ink
//! for the customer's printer, or single accessories, plus a random product in one order
//! of eight. Here content similarity is informative: with seed 42, `laris eval` gives
//! `similar` basket completion hit@5 0.227 against best-sellers' 0.088.
//!
//! Statuses in both shops: orders of the last three days still `Perlu Dikirim` or `Pesanan
//! Dikirim`, of the last week `Pesanan Tiba`, the rest `Pesanan Selesai` (with a finish
//! date), and about 2.5% `Dibatalkan Pembeli` and 0.7% `Pengembalian Dana`, which are not
//! purchases.
//!
//! Determinism: every random draw comes from `ChaCha8Rng::seed_from_u64(seed)` (one stream
//! per concern), with no `usize` ranges, no hash-map order, no float function but
//! + − × ÷ and no clock, so the same seed gives byte-identical files on any machine.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------------------------------
// The period, shared by both shops
// ---------------------------------------------------------------------------------------

const WIB: i64 = 7 * 3_600;
/// 2024-11-01T00:00:00+07:00.
const PERIOD_START: i64 = 1_730_394_000;
/// Two years: 2026-11-01T00:00:00+07:00.
const PERIOD_DAYS: f64 = 730.0;

const CANCELLED_SHARE: f64 = 0.025;
const REFUNDED_SHARE: f64 = 0.007;

// ---------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    Longtail,
    Komputer,
    All,
}

/// Writes synthetic Seller Center exports of the evaluation shops and a config for them.
#[derive(Parser)]
struct Args {
    /// Directory to write into (created); each shop goes to DIR/{shop}/, the config to
    /// DIR/laris.toml.
    #[arg(long)]
    out: PathBuf,
    /// Seed of the random generator; the same seed gives byte-identical files.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Which shop to write.
    #[arg(long, value_enum, default_value = "all")]
    shop: Which,
    /// Products of `longtail` (the long-tail benchmark shop: `--longtail-products 14190
    /// --longtail-orders 15183`, about 150k lines, the shape whose rebuild took 4 GB).
    #[arg(long, default_value_t = LT_PRODUCTS)]
    longtail_products: u32,
    /// Orders of `longtail`.
    #[arg(long, default_value_t = LT_ORDERS)]
    longtail_orders: u32,
}

fn main() {
    let args = Args::parse();
    if let Err(err) = run(&args) {
        eprintln!("gen_eval_shops: could not write {}: {err}", args.out.display());
        std::process::exit(1);
    }
}

fn run(args: &Args) -> io::Result<()> {
    fs::create_dir_all(&args.out)?;
    if matches!(args.shop, Which::Longtail | Which::All) {
        let shop = longtail(args.seed, args.longtail_products, args.longtail_orders);
        write_shop(&args.out, &shop, args.seed)?;
    }
    if matches!(args.shop, Which::Komputer | Which::All) {
        let shop = komputer(args.seed);
        write_shop(&args.out, &shop, args.seed)?;
    }
    fs::write(args.out.join("laris.toml"), config(args.seed))?;
    println!("wrote {}", args.out.join("laris.toml").display());
    Ok(())
}

/// One independent random stream per concern.
fn stream(seed: u64, n: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(n);
    rng
}

// ---------------------------------------------------------------------------------------
// What a shop is, whichever generated it
// ---------------------------------------------------------------------------------------

struct Product {
    /// `Product ID` in both exports.
    id: String,
    sku: String,
    name: String,
    category: String,
    price: i64,
    stock: u32,
    weight_grams: u32,
    description: String,
}

struct Buyer {
    name: String,
    phone: String,
    city: (&'static str, &'static str),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Finished,
    Delivered,
    Shipped,
    ToShip,
    Cancelled,
    Refunded,
}

impl Status {
    fn text(self) -> &'static str {
        match self {
            Status::Finished => "Pesanan Selesai",
            Status::Delivered => "Pesanan Tiba",
            Status::Shipped => "Pesanan Dikirim",
            Status::ToShip => "Perlu Dikirim",
            Status::Cancelled => "Dibatalkan Pembeli - Ingin mengubah pesanan",
            Status::Refunded => "Pengembalian Dana",
        }
    }

    fn is_purchase(self) -> bool {
        !matches!(self, Status::Cancelled | Status::Refunded)
    }
}

struct Order {
    /// Seconds since the epoch (UTC) of the payment.
    paid_at: i64,
    buyer: u32,
    /// Product index → quantity, in the order the lines were added.
    lines: Vec<(u32, u32)>,
    status: Status,
    /// Seconds after `paid_at` when a finished order was finished.
    finished_after: i64,
    invoice: String,
}

struct Shop {
    id: &'static str,
    name: &'static str,
    products: Vec<Product>,
    buyers: Vec<Buyer>,
    orders: Vec<Order>,
}

// ---------------------------------------------------------------------------------------
// Random helpers (portable: no usize ranges, no transcendental functions)
// ---------------------------------------------------------------------------------------

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.gen::<f64>()
}

fn below(rng: &mut ChaCha8Rng, n: u32) -> u32 {
    rng.gen_range(0..n.max(1))
}

/// Draws indices with fixed non-negative weights, by binary search over the running sums.
struct Cdf {
    cum: Vec<f64>,
}

impl Cdf {
    fn new(weights: impl IntoIterator<Item = f64>) -> Cdf {
        let mut total = 0.0;
        let cum = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Cdf { cum }
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> u32 {
        let total = *self.cum.last().expect("a non-empty distribution");
        let x = rng.gen::<f64>() * total;
        let i = self.cum.partition_point(|&c| c <= x);
        i.min(self.cum.len() - 1) as u32
    }
}

/// An index drawn with the given weights (small lists).
fn pick_weighted(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    Cdf::new(weights.iter().copied()).sample(rng) as usize
}

/// A random permutation of `0..n` (Fisher–Yates).
fn permutation(rng: &mut ChaCha8Rng, n: u32) -> Vec<u32> {
    let mut v: Vec<u32> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.gen_range(0..=i);
        v.swap(i as usize, j as usize);
    }
    v
}

/// Heavy-tailed order counts summing exactly to `total`: each customer's share is
/// 1/(a + u) − b for a uniform u, then scaled, rounded (at least 1) and nudged.
fn order_counts(rng: &mut ChaCha8Rng, customers: u32, total: u32, a: f64, b: f64, max: u32) -> Vec<u32> {
    let raw: Vec<f64> = (0..customers)
        .map(|_| (1.0 / (a + rng.gen::<f64>()) - b).max(0.0))
        .collect();
    let sum: f64 = raw.iter().sum();
    let mut counts: Vec<u32> = raw
        .iter()
        .map(|r| ((r * f64::from(total) / sum + 0.5) as u32).clamp(1, max))
        .collect();
    let mut now: u32 = counts.iter().sum();
    while now != total {
        let c = &mut counts[below(rng, customers) as usize];
        if now < total && *c < max && *c > 1 {
            *c += 1;
            now += 1;
        } else if now > total && *c > 1 {
            *c -= 1;
            now -= 1;
        }
    }
    counts
}

/// When a customer's orders fall: a usual gap of `preferred` days (shortened so that all
/// `n` orders fit in the period), a start drawn so that they do, each order jittered by
/// ±40% of the gap. Returns (days since the period start of each order, the gap in days).
fn order_days(rng: &mut ChaCha8Rng, n: u32, preferred: f64) -> (Vec<f64>, f64) {
    let span = (preferred * f64::from(n)).min(PERIOD_DAYS - 2.0);
    let gap = span / f64::from(n);
    let start = uniform(rng, 0.0, PERIOD_DAYS - 1.0 - span);
    let days = (0..n)
        .map(|k| start + (f64::from(k) + 0.5 + uniform(rng, -0.4, 0.4)) * gap)
        .collect();
    (days, gap)
}

/// A payment time on day `day` (fractional part ignored), mostly in the daytime WIB.
fn paid_at(rng: &mut ChaCha8Rng, day: f64) -> i64 {
    const HOURS: [f64; 24] = [
        0.3, 0.2, 0.1, 0.1, 0.2, 0.5, 1.0, 1.6, 2.2, 2.8, 3.0, 3.0, 3.2, 3.0, 2.8, 2.6, 2.6, 2.8, 3.0, 3.4,
        3.6, 3.0, 2.0, 0.9,
    ];
    let hour = pick_weighted(rng, &HOURS) as i64;
    let second = i64::from(below(rng, 3_600));
    PERIOD_START + (day as i64) * 86_400 + hour * 3_600 + second
}

/// Statuses, finish delays and invoice numbers, once the orders are in time order.
fn settle_orders(rng: &mut ChaCha8Rng, orders: &mut [Order], invoice_prefix: &str) {
    orders.sort_by_key(|o| (o.paid_at, o.buyer));
    let end = PERIOD_START + (PERIOD_DAYS as i64) * 86_400;
    for (i, o) in orders.iter_mut().enumerate() {
        let age = end - o.paid_at;
        o.status = if chance(rng, CANCELLED_SHARE) {
            Status::Cancelled
        } else if age > 14 * 86_400 && chance(rng, REFUNDED_SHARE / (1.0 - CANCELLED_SHARE)) {
            Status::Refunded
        } else if age < 2 * 86_400 {
            Status::ToShip
        } else if age < 4 * 86_400 {
            Status::Shipped
        } else if age < 8 * 86_400 {
            Status::Delivered
        } else {
            Status::Finished
        };
        o.finished_after = 2 * 86_400 + i64::from(below(rng, 5 * 86_400));
        let date = wib_text(o.paid_at, "%Y%m%d");
        o.invoice = format!(
            "INV/{date}/{invoice_prefix}/{}",
            3_000_000_000u64 + 7_919 * i as u64
        );
    }
}

fn wib_text(at: i64, format: &str) -> String {
    chrono::DateTime::from_timestamp(at + WIB, 0)
        .expect("a time in range")
        .naive_utc()
        .format(format)
        .to_string()
}

// ---------------------------------------------------------------------------------------
// Buyers
// ---------------------------------------------------------------------------------------

const FIRST_NAMES: &[&str] = &[
    "Agus", "Budi", "Sri", "Dewi", "Rina", "Andi", "Putri", "Wahyu", "Siti", "Joko", "Indah", "Rudi",
    "Yanti", "Eko", "Fitri", "Hendra", "Lestari", "Bayu", "Nur", "Dian", "Ayu", "Rizky", "Fajar", "Maya",
    "Teguh", "Wulan", "Irfan", "Novi", "Yusuf", "Ratna", "Dedi", "Sari", "Anton", "Mega", "Bambang",
    "Kartika", "Hadi", "Nita", "Galih", "Intan", "Arif", "Desi", "Surya", "Ani", "Reza", "Tuti", "Adi",
    "Lina", "Yoga", "Evi", "Ilham", "Wati", "Doni", "Tika", "Gilang", "Ratih", "Fikri", "Yuni", "Hasan",
    "Melati",
];
const INITIALS: &[u8] = b"ABCDEFGHIJKLMNOPRSTUWY";
const CITIES: &[(&str, &str)] = &[
    ("Jakarta Selatan", "DKI Jakarta"),
    ("Jakarta Timur", "DKI Jakarta"),
    ("Jakarta Barat", "DKI Jakarta"),
    ("Bekasi", "Jawa Barat"),
    ("Depok", "Jawa Barat"),
    ("Bogor", "Jawa Barat"),
    ("Bandung", "Jawa Barat"),
    ("Tangerang", "Banten"),
    ("Tangerang Selatan", "Banten"),
    ("Semarang", "Jawa Tengah"),
    ("Surakarta", "Jawa Tengah"),
    ("Sleman", "DI Yogyakarta"),
    ("Surabaya", "Jawa Timur"),
    ("Malang", "Jawa Timur"),
    ("Medan", "Sumatera Utara"),
    ("Palembang", "Sumatera Selatan"),
    ("Denpasar", "Bali"),
    ("Makassar", "Sulawesi Selatan"),
];
const PHONE_PREFIXES: &[&str] = &["0812", "0813", "0821", "0852", "0857", "0878", "0896", "0838"];

fn make_buyers(rng: &mut ChaCha8Rng, n: u32) -> Vec<Buyer> {
    let mut names = BTreeSet::new();
    let mut phones = BTreeSet::new();
    (0..n)
        .map(|i| {
            let mut name = String::new();
            for attempt in 0..50 {
                let first = FIRST_NAMES[below(rng, FIRST_NAMES.len() as u32) as usize];
                let initial = char::from(INITIALS[below(rng, INITIALS.len() as u32) as usize]);
                name = if attempt < 40 {
                    format!("{first} {initial}.")
                } else {
                    format!("{first} {initial}. {i}")
                };
                if names.insert(name.clone()) {
                    break;
                }
            }
            let mut phone = String::new();
            while phone.is_empty() || !phones.insert(phone.clone()) {
                let prefix = PHONE_PREFIXES[below(rng, PHONE_PREFIXES.len() as u32) as usize];
                phone = format!("{prefix}{:08}", below(rng, 100_000_000));
            }
            Buyer {
                name,
                phone,
                city: CITIES[below(rng, CITIES.len() as u32) as usize],
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// longtail
// ---------------------------------------------------------------------------------------

const LT_PRODUCTS: u32 = 14_000;
const LT_CUSTOMERS: u32 = 593;
const LT_ORDERS: u32 = 15_450;
const LT_GROUPS: u32 = 3_000;
/// Product popularity 1/(rank + this).
const LT_POP_OFFSET: f64 = 5.0;
/// Group popularity 1/(rank + this).
const LT_GROUP_OFFSET: f64 = 40.0;

struct Staple {
    product: u32,
    /// Its period, in the customer's usual gaps.
    every: f64,
    /// Bought when due with this probability.
    reliability: f64,
    /// Day of its last purchase (or of a notional one before the first order).
    last: f64,
    /// Mean days until the customer gives it up (0: never).
    life: f64,
}

struct Group {
    members: Vec<(u32, f64)>,
}

fn longtail(seed: u64, n_products: u32, n_orders: u32) -> Shop {
    let mut rng = stream(seed, 1);
    let products: Vec<Product> = (1..=n_products)
        .map(|i| Product {
            id: format!("{}", 11_200_000_000u64 + u64::from(i) * 37),
            sku: format!("LT-{i:05}"),
            name: format!("Produk {i}"),
            category: "Makanan & Minuman > Bahan Pokok".to_string(),
            price: 5_000 + 500 * i64::from(rng.gen_range(0..=290u32)),
            stock: rng.gen_range(0..=400),
            weight_grams: 100 * rng.gen_range(1..=30),
            description: String::new(),
        })
        .collect();

    // Popularity over a random ranking.
    let mut rng = stream(seed, 2);
    let ranking = permutation(&mut rng, n_products);
    let mut pop = vec![0.0; n_products as usize];
    for (rank, &p) in ranking.iter().enumerate() {
        pop[p as usize] = 1.0 / (rank as f64 + LT_POP_OFFSET);
    }
    let popular = Cdf::new(pop.iter().copied());
    // A product by popularity, or (with `p_uniform`) any product.
    let any_product = |rng: &mut ChaCha8Rng, p_uniform: f64| -> u32 {
        if chance(rng, p_uniform) {
            below(rng, n_products)
        } else {
            popular.sample(rng)
        }
    };

    // Co-purchase groups.
    let mut rng = stream(seed, 3);
    let groups: Vec<Group> = (0..LT_GROUPS)
        .map(|_| {
            let size = rng.gen_range(3..=12u32);
            let mut seen = BTreeSet::new();
            let mut members = Vec::new();
            while members.len() < size as usize {
                let p = any_product(&mut rng, 0.5);
                if seen.insert(p) {
                    members.push((p, uniform(&mut rng, 0.2, 0.7)));
                }
            }
            Group { members }
        })
        .collect();
    let group_pop = Cdf::new((0..LT_GROUPS).map(|g| 1.0 / (f64::from(g) + LT_GROUP_OFFSET)));

    // Customers and their orders.
    let mut rng = stream(seed, 4);
    let buyers = make_buyers(&mut rng, LT_CUSTOMERS);
    let mut rng = stream(seed, 5);
    let counts = order_counts(&mut rng, LT_CUSTOMERS, n_orders, 0.03, 0.9, 330);
    let mut orders = Vec::with_capacity(n_orders as usize);
    for (buyer, &n) in counts.iter().enumerate() {
        let preferred = uniform(&mut rng, 5.0, 45.0);
        let (days, gap) = order_days(&mut rng, n, preferred);
        let staple_count = 3 + rng.gen_range(0..=9) + (n / 10).min(12);
        let new_staple = |rng: &mut ChaCha8Rng, staples: &[Staple], day: f64| -> Staple {
            let every = [1.0, 2.0, 3.0, 4.0, 6.0, 8.0][pick_weighted(rng, &[2.0, 3.0, 3.0, 2.0, 1.0, 1.0])];
            let core = every <= 2.0;
            loop {
                let product = any_product(rng, if core { 0.05 } else { 0.5 });
                if staples.iter().any(|s| s.product == product) {
                    continue;
                }
                return Staple {
                    product,
                    every,
                    reliability: uniform(rng, 0.55, 0.95),
                    last: day - uniform(rng, 0.0, every * gap),
                    life: uniform(rng, 150.0, 600.0) * if core { 4.0 } else { 1.0 },
                };
            }
        };
        let mut staples: Vec<Staple> = Vec::new();
        while staples.len() < staple_count as usize {
            let s = new_staple(&mut rng, &staples, days[0]);
            staples.push(s);
        }
        let favourites: Vec<u32> = (0..rng.gen_range(2..=8u32))
            .map(|_| group_pop.sample(&mut rng))
            .collect();

        let mut previous = days[0];
        for &day in &days {
            // Tastes drift: a staple may be given up, and another taken up.
            for i in 0..staples.len() {
                if staples[i].life > 0.0 && chance(&mut rng, (day - previous) / staples[i].life) {
                    staples[i] = new_staple(&mut rng, &staples, day);
                }
            }
            previous = day;
            let mut basket: Vec<(u32, u32)> = Vec::new();
            let add = |basket: &mut Vec<(u32, u32)>, rng: &mut ChaCha8Rng, p: u32| {
                if !basket.iter().any(|(q, _)| *q == p) {
                    let qty = [1, 2, 3, 4, 6][pick_weighted(rng, &[75.0, 15.0, 5.0, 3.0, 2.0])];
                    basket.push((p, qty));
                }
            };
            for s in &mut staples {
                let due = day - s.last >= s.every * gap * uniform(&mut rng, 0.7, 1.3);
                if (due && chance(&mut rng, s.reliability)) || (!due && chance(&mut rng, 0.04)) {
                    add(&mut basket, &mut rng, s.product);
                    s.last = day;
                }
            }
            let activations = pick_weighted(&mut rng, &[0.25, 0.45, 0.22, 0.08]);
            for _ in 0..activations {
                let g = if chance(&mut rng, 0.45) {
                    favourites[below(&mut rng, favourites.len() as u32) as usize]
                } else {
                    group_pop.sample(&mut rng)
                };
                let members = &groups[g as usize].members;
                let mut taken: Vec<u32> = members
                    .iter()
                    .filter(|(_, p)| chance(&mut rng, *p))
                    .map(|(m, _)| *m)
                    .collect();
                while taken.len() < 2 {
                    let m = members[below(&mut rng, members.len() as u32) as usize].0;
                    if !taken.contains(&m) {
                        taken.push(m);
                    }
                }
                for m in taken {
                    add(&mut basket, &mut rng, m);
                }
            }
            let noise = pick_weighted(&mut rng, &[0.1, 0.2, 0.3, 0.2, 0.2]);
            for _ in 0..noise {
                let p = any_product(&mut rng, 0.5);
                add(&mut basket, &mut rng, p);
            }
            if basket.is_empty() {
                let p = any_product(&mut rng, 0.4);
                add(&mut basket, &mut rng, p);
            }
            orders.push(Order {
                paid_at: paid_at(&mut rng, day),
                buyer: buyer as u32,
                lines: basket,
                status: Status::Finished,
                finished_after: 0,
                invoice: String::new(),
            });
        }
    }
    let mut rng = stream(seed, 6);
    settle_orders(&mut rng, &mut orders, "MPL");
    Shop {
        id: "longtail",
        name: "Toko Longtail (sintetis)",
        products,
        buyers,
        orders,
    }
}

// ---------------------------------------------------------------------------------------
// komputer
// ---------------------------------------------------------------------------------------

const KP_CUSTOMERS: u32 = 400;
const KP_ORDERS: u32 = 3_000;
const KP_PCS: u32 = 146;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Pc,
    Monitor,
    Keyboard,
    Mouse,
    Ram,
    Printer,
    Ink,
    Cable,
    Flashdisk,
    ExternalDisk,
}

impl Kind {
    fn category(self) -> &'static str {
        match self {
            Kind::Pc => "Komputer & Laptop > Desktop > PC Rakitan",
            Kind::Monitor => "Komputer & Laptop > Monitor",
            Kind::Keyboard => "Komputer & Laptop > Aksesoris Komputer > Keyboard",
            Kind::Mouse => "Komputer & Laptop > Aksesoris Komputer > Mouse",
            Kind::Ram => "Komputer & Laptop > Komponen Komputer > RAM",
            Kind::Printer => "Komputer & Laptop > Printer & Scanner > Printer",
            Kind::Ink => "Komputer & Laptop > Printer & Scanner > Tinta & Toner",
            Kind::Cable => "Komputer & Laptop > Aksesoris Komputer > Kabel & Konverter",
            Kind::Flashdisk => "Komputer & Laptop > Media Penyimpanan > Flashdisk",
            Kind::ExternalDisk => "Komputer & Laptop > Media Penyimpanan > Harddisk Eksternal",
        }
    }

    fn weight_grams(self) -> u32 {
        match self {
            Kind::Pc => 9_000,
            Kind::Monitor => 4_500,
            Kind::Printer => 5_000,
            Kind::Keyboard => 700,
            Kind::ExternalDisk => 300,
            Kind::Mouse | Kind::Ink | Kind::Cable => 150,
            Kind::Ram | Kind::Flashdisk => 50,
        }
    }
}

/// What the generator knows of a product beyond its export row.
struct Item {
    kind: Kind,
    /// Products of one family go together: a cable type, a RAM generation, a printer
    /// technology (and its ink), a PC line.
    family: &'static str,
    /// Rank of its price within its kind, 0 (cheapest) to 1.
    level: f64,
    /// How much the shop's customers like it beyond their tier.
    appeal: f64,
}

fn round_to(x: f64, step: i64) -> i64 {
    ((x / step as f64 + 0.5) as i64).max(1) * step
}

/// The catalogue: (name, kind, family, price).
fn komputer_catalogue(rng: &mut ChaCha8Rng) -> Vec<(String, Kind, &'static str, i64)> {
    let mut c: Vec<(String, Kind, &'static str, i64)> = Vec::new();
    // PCs: four lines, specs near the line's level.
    const LINES: [&str; 4] = ["Basic", "Standar", "Premium", "Gaming"];
    const MHZ: [u32; 8] = [25, 33, 40, 50, 66, 75, 100, 133];
    const RAM_GB: [u32; 5] = [2, 4, 8, 16, 32];
    const SCREENS: [u32; 4] = [12, 14, 15, 17];
    let mut names = BTreeSet::new();
    while (names.len() as u32) < KP_PCS {
        let line = below(rng, 4);
        let near = |rng: &mut ChaCha8Rng, len: u32| -> u32 {
            let centre = line * (len - 1) / 3;
            let step = rng.gen_range(0..=2u32);
            if chance(rng, 0.5) {
                (centre + step).min(len - 1)
            } else {
                centre.saturating_sub(step)
            }
        };
        let mhz = MHZ[near(rng, 8) as usize];
        let ram = RAM_GB[near(rng, 5) as usize];
        let hdd = 120 + 4 * rng.gen_range(0..=270u32) + 100 * line;
        let screen = SCREENS[near(rng, 4) as usize];
        let name = format!(
            "PC Rakitan {} {mhz}MHz RAM {ram}GB HDD {hdd}MB Layar {screen}in",
            LINES[line as usize]
        );
        if names.insert(name.clone()) {
            let price = 2_000_000.0
                + 900_000.0 * f64::from(line)
                + 18_000.0 * f64::from(mhz)
                + 160_000.0 * f64::from(ram)
                + 1_500.0 * f64::from(hdd)
                + 90_000.0 * f64::from(screen);
            c.push((name, Kind::Pc, LINES[line as usize], round_to(price, 50_000)));
        }
    }
    for size in [19u32, 20, 22, 24, 27, 32] {
        for (variant, extra, family) in [
            ("", 0.0, "standar"),
            (" IPS", 350_000.0, "ips"),
            (" Full HD", 250_000.0, "standar"),
            (" Gaming 144Hz", 1_100_000.0, "gaming"),
        ] {
            let price = 700_000.0 + 75_000.0 * f64::from(size) + extra;
            c.push((
                format!("Monitor LED {size}in{variant}"),
                Kind::Monitor,
                family,
                round_to(price, 25_000),
            ));
        }
    }
    for (name, family, price) in [
        ("Keyboard USB Standar", "kantor", 65_000),
        ("Keyboard USB Slim", "kantor", 85_000),
        ("Keyboard Wireless", "wireless", 140_000),
        ("Keyboard Wireless Slim", "wireless", 175_000),
        ("Keyboard + Mouse Combo USB", "kantor", 120_000),
        ("Keyboard + Mouse Combo Wireless", "wireless", 210_000),
        ("Keyboard Mechanical Red Switch", "gaming", 390_000),
        ("Keyboard Mechanical Blue Switch", "gaming", 420_000),
        ("Keyboard Mechanical RGB", "gaming", 550_000),
        ("Keyboard Gaming RGB TKL", "gaming", 610_000),
        ("Keyboard Gaming RGB Full Size", "gaming", 690_000),
        ("Keyboard Numeric USB", "kantor", 55_000),
    ] {
        c.push((name.to_string(), Kind::Keyboard, family, price));
    }
    for (name, family, price) in [
        ("Mouse USB Optical 1000DPI", "kantor", 35_000),
        ("Mouse USB Optical 1600DPI", "kantor", 55_000),
        ("Mouse Wireless 1200DPI", "wireless", 85_000),
        ("Mouse Wireless 1600DPI", "wireless", 110_000),
        ("Mouse Wireless Silent 1600DPI", "wireless", 130_000),
        ("Mouse Vertical Wireless 2400DPI", "wireless", 190_000),
        ("Mouse Gaming 3200DPI", "gaming", 150_000),
        ("Mouse Gaming RGB 6400DPI", "gaming", 240_000),
        ("Mouse Gaming RGB 12000DPI", "gaming", 380_000),
        ("Mouse Gaming Wireless 16000DPI", "gaming", 560_000),
        ("Mousepad Gaming XL", "gaming", 95_000),
        ("Mousepad Standar", "kantor", 20_000),
    ] {
        c.push((name.to_string(), Kind::Mouse, family, price));
    }
    for (generation, speeds, per_gb) in [
        ("DDR3", &[1333u32, 1600][..], 70_000.0),
        ("DDR4", &[2666, 3200][..], 55_000.0),
        ("DDR5", &[4800, 5600][..], 80_000.0),
    ] {
        for gb in [4u32, 8, 16, 32] {
            for (s, &speed) in speeds.iter().enumerate() {
                if generation == "DDR5" && gb == 4 {
                    continue;
                }
                let price = 90_000.0 + per_gb * f64::from(gb) * (1.0 + 0.12 * s as f64);
                c.push((
                    format!("RAM {generation} {gb}GB {speed}MHz"),
                    Kind::Ram,
                    generation,
                    round_to(price, 5_000),
                ));
            }
        }
    }
    for (name, family, price) in [
        ("Printer Inkjet Warna", "inkjet", 850_000),
        ("Printer Inkjet Warna WiFi", "inkjet", 1_250_000),
        ("Printer Inkjet All-in-One Scan Copy", "inkjet", 1_650_000),
        ("Printer Inkjet Infus A3", "inkjet", 3_400_000),
        ("Printer Laser Mono", "laser", 1_550_000),
        ("Printer Laser Mono Duplex", "laser", 2_300_000),
        ("Printer Laser Warna", "laser", 4_200_000),
        ("Printer Dot Matrix 9 Pin", "dotmatrix", 2_600_000),
        ("Printer Dot Matrix 24 Pin", "dotmatrix", 3_900_000),
        ("Printer Thermal 58mm", "thermal", 320_000),
        ("Printer Thermal 80mm", "thermal", 650_000),
        ("Printer Thermal 80mm Bluetooth", "thermal", 820_000),
    ] {
        c.push((name.to_string(), Kind::Printer, family, price));
    }
    for (name, family, price) in [
        ("Tinta Printer Hitam 70ml", "inkjet", 35_000),
        ("Tinta Printer Warna 70ml", "inkjet", 38_000),
        ("Tinta Printer Hitam 100ml", "inkjet", 48_000),
        ("Tinta Printer Warna 100ml Set 4", "inkjet", 175_000),
        ("Cartridge Tinta Hitam", "inkjet", 210_000),
        ("Toner Laser Hitam", "laser", 320_000),
        ("Toner Laser Hitam Refill", "laser", 140_000),
        ("Toner Laser Warna Set 4", "laser", 1_250_000),
        ("Pita Dot Matrix 9 Pin", "dotmatrix", 45_000),
        ("Pita Dot Matrix 24 Pin", "dotmatrix", 60_000),
        ("Kertas Thermal 58mm 10 Roll", "thermal", 55_000),
        ("Kertas Thermal 80mm 10 Roll", "thermal", 85_000),
        ("Kertas Continuous Form 9.5in", "dotmatrix", 210_000),
        ("Kertas HVS A4 70gsm 1 Rim", "inkjet", 48_000),
    ] {
        c.push((name.to_string(), Kind::Ink, family, price));
    }
    for (kind, family, base, per_m, lengths) in [
        (
            "HDMI",
            "hdmi",
            25_000.0,
            9_000.0,
            &["1m", "1.5m", "3m", "5m", "10m", "20m"][..],
        ),
        ("VGA", "vga", 22_000.0, 7_000.0, &["1.5m", "3m", "5m", "10m"][..]),
        (
            "DisplayPort",
            "displayport",
            55_000.0,
            12_000.0,
            &["1.5m", "3m", "5m"][..],
        ),
        ("USB Type-C", "usb", 20_000.0, 10_000.0, &["1m", "2m", "3m"][..]),
        ("USB Printer", "usb", 18_000.0, 6_000.0, &["1.5m", "3m", "5m"][..]),
        (
            "LAN Cat5e",
            "lan",
            12_000.0,
            2_000.0,
            &["3m", "5m", "10m", "20m", "30m"][..],
        ),
        (
            "LAN Cat6",
            "lan",
            18_000.0,
            3_000.0,
            &["3m", "5m", "10m", "20m", "30m"][..],
        ),
        ("Power PC", "power", 15_000.0, 5_000.0, &["1.5m", "3m"][..]),
    ] {
        for length in lengths {
            let metres: f64 = length.trim_end_matches('m').parse().expect("a length");
            let price = base + per_m * metres;
            c.push((
                format!("Kabel {kind} {length}"),
                Kind::Cable,
                family,
                round_to(price, 1_000),
            ));
        }
    }
    for gb in [8u32, 16, 32, 64, 128, 256] {
        for (usb, extra) in [("USB 2.0", 0.0), ("USB 3.0", 25_000.0)] {
            let price = 40_000.0 + 900.0 * f64::from(gb) + extra;
            c.push((
                format!("Flashdisk {gb}GB {usb}"),
                Kind::Flashdisk,
                "flashdisk",
                round_to(price, 1_000),
            ));
        }
    }
    for (size, gb) in [
        ("500GB", 500.0),
        ("1TB", 1_000.0),
        ("2TB", 2_000.0),
        ("4TB", 4_000.0),
    ] {
        c.push((
            format!("Harddisk Eksternal {size} USB 3.0"),
            Kind::ExternalDisk,
            "hdd",
            round_to(450_000.0 + 280.0 * gb, 10_000),
        ));
        c.push((
            format!("SSD Eksternal {size} USB-C"),
            Kind::ExternalDisk,
            "ssd",
            round_to(600_000.0 + 900.0 * gb, 10_000),
        ));
    }
    c
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Segment {
    Office,
    Gamer,
    Home,
    Technician,
}

struct KpCustomer {
    segment: Segment,
    tier: f64,
    ram: &'static str,
    cable: &'static str,
    printer: Option<&'static str>,
    history: Vec<u32>,
}

/// Picks a product of `kind` (and `family`, when given) near level `target`, with the
/// products' own appeal; `None` when the kind has none of that family.
fn pick_near(
    rng: &mut ChaCha8Rng,
    items: &[Item],
    kind: Kind,
    family: Option<&str>,
    target: f64,
    not: &[u32],
) -> Option<u32> {
    let candidates: Vec<(u32, f64)> = items
        .iter()
        .enumerate()
        .filter(|(i, it)| {
            it.kind == kind && family.is_none_or(|f| it.family == f) && !not.contains(&(*i as u32))
        })
        .map(|(i, it)| {
            let d = 6.0 * (it.level - target);
            (i as u32, it.appeal / (1.0 + d * d))
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let w: Vec<f64> = candidates.iter().map(|c| c.1).collect();
    Some(candidates[pick_weighted(rng, &w)].0)
}

fn komputer(seed: u64) -> Shop {
    let mut rng = stream(seed, 11);
    let catalogue = komputer_catalogue(&mut rng);
    let mut items: Vec<Item> = catalogue
        .iter()
        .map(|(_, kind, family, _)| Item {
            kind: *kind,
            family,
            level: 0.0,
            appeal: uniform(&mut rng, 0.4, 1.6),
        })
        .collect();
    // Levels: price rank within the kind.
    let mut by_kind: BTreeMap<Kind, Vec<(i64, u32)>> = BTreeMap::new();
    for (i, (_, kind, _, price)) in catalogue.iter().enumerate() {
        by_kind.entry(*kind).or_default().push((*price, i as u32));
    }
    for list in by_kind.values_mut() {
        list.sort();
        let last = (list.len().max(2) - 1) as f64;
        for (rank, &(_, i)) in list.iter().enumerate() {
            items[i as usize].level = rank as f64 / last;
        }
    }
    let products: Vec<Product> = catalogue
        .iter()
        .enumerate()
        .map(|(i, (name, kind, _, price))| Product {
            id: format!("{}", 9_870_000_000u64 + 1_013 * i as u64),
            sku: format!("KJ-{:04}", i + 1),
            name: name.clone(),
            category: kind.category().to_string(),
            price: *price,
            stock: match kind {
                Kind::Pc => rng.gen_range(0..=8),
                Kind::Monitor | Kind::Printer => rng.gen_range(0..=20),
                _ => rng.gen_range(5..=150),
            },
            weight_grams: kind.weight_grams(),
            description: format!("{name}. Barang baru, garansi resmi toko 1 tahun."),
        })
        .collect();

    let mut rng = stream(seed, 12);
    let buyers = make_buyers(&mut rng, KP_CUSTOMERS);
    let mut rng = stream(seed, 13);
    let counts = order_counts(&mut rng, KP_CUSTOMERS, KP_ORDERS, 0.1, 0.8, 60);
    let mut orders = Vec::with_capacity(KP_ORDERS as usize);
    for (buyer, &n) in counts.iter().enumerate() {
        let segment = [
            Segment::Office,
            Segment::Gamer,
            Segment::Home,
            Segment::Technician,
        ][pick_weighted(&mut rng, &[0.2, 0.25, 0.4, 0.15])];
        let tier = match segment {
            Segment::Office => uniform(&mut rng, 0.15, 0.6),
            Segment::Gamer => uniform(&mut rng, 0.6, 1.0),
            Segment::Home => uniform(&mut rng, 0.0, 0.5),
            Segment::Technician => uniform(&mut rng, 0.1, 0.9),
        };
        let mut customer = KpCustomer {
            segment,
            tier,
            ram: ["DDR3", "DDR4", "DDR5"][pick_weighted(&mut rng, &[0.25, 0.55, 0.2])],
            cable: ["hdmi", "vga", "displayport", "usb", "lan", "power"]
                [pick_weighted(&mut rng, &[0.35, 0.15, 0.1, 0.15, 0.2, 0.05])],
            printer: None,
            history: Vec::new(),
        };
        let preferred = uniform(&mut rng, 20.0, 120.0);
        let (days, _) = order_days(&mut rng, n, preferred);
        for (k, &day) in days.iter().enumerate() {
            let basket = komputer_basket(&mut rng, &items, &mut customer, k == 0);
            customer.history.extend(basket.iter().map(|(p, _)| *p));
            orders.push(Order {
                paid_at: paid_at(&mut rng, day),
                buyer: buyer as u32,
                lines: basket,
                status: Status::Finished,
                finished_after: 0,
                invoice: String::new(),
            });
        }
    }
    let mut rng = stream(seed, 14);
    settle_orders(&mut rng, &mut orders, "MPL");
    Shop {
        id: "komputer",
        name: "Komputer Jaya (sintetis)",
        products,
        buyers,
        orders,
    }
}

/// One order of a komputer customer.
fn komputer_basket(rng: &mut ChaCha8Rng, items: &[Item], c: &mut KpCustomer, first: bool) -> Vec<(u32, u32)> {
    let mut basket: Vec<(u32, u32)> = Vec::new();
    fn add(basket: &mut Vec<(u32, u32)>, p: Option<u32>, qty: u32) {
        if let Some(p) = p {
            if !basket.iter().any(|(q, _)| *q == p) {
                basket.push((p, qty));
            }
        }
    }
    let jitter = |rng: &mut ChaCha8Rng, tier: f64| (tier + uniform(rng, -0.12, 0.12)).clamp(0.0, 1.0);
    // The order's kind, by segment: PC set, sibling or upgrade, several of one family,
    // consumables, single accessories.
    let weights: [f64; 5] = match c.segment {
        Segment::Office => [0.15, 0.45, 0.15, 0.15, 0.1],
        Segment::Gamer => [0.1, 0.55, 0.15, 0.0, 0.2],
        Segment::Home => [0.05, 0.5, 0.15, 0.1, 0.2],
        Segment::Technician => [0.05, 0.45, 0.4, 0.0, 0.1],
    };
    let pc_first = first && matches!(c.segment, Segment::Office | Segment::Gamer) && chance(rng, 0.6);
    let kind = if pc_first {
        0
    } else {
        let k = pick_weighted(rng, &weights);
        if (k == 1 && c.history.is_empty()) || (k == 3 && c.printer.is_none()) {
            4
        } else {
            k
        }
    };
    match kind {
        0 => {
            let qty = if c.segment == Segment::Office {
                [1, 2, 3, 5][pick_weighted(rng, &[0.4, 0.3, 0.2, 0.1])]
            } else {
                1
            };
            let t = jitter(rng, c.tier);
            add(&mut basket, pick_near(rng, items, Kind::Pc, None, t, &[]), qty);
            for (kind, p) in [(Kind::Monitor, 0.7), (Kind::Keyboard, 0.55), (Kind::Mouse, 0.65)] {
                if chance(rng, p) {
                    let t = jitter(rng, c.tier);
                    add(&mut basket, pick_near(rng, items, kind, None, t, &[]), qty);
                }
            }
            if chance(rng, 0.4) {
                let family = if chance(rng, 0.7) { c.cable } else { "power" };
                let t = jitter(rng, 0.3);
                add(
                    &mut basket,
                    pick_near(rng, items, Kind::Cable, Some(family), t, &[]),
                    qty,
                );
            }
            if c.printer.is_none() && chance(rng, if c.segment == Segment::Office { 0.45 } else { 0.1 }) {
                let t = jitter(rng, c.tier);
                let printer = pick_near(rng, items, Kind::Printer, None, t, &[]);
                if let Some(p) = printer {
                    c.printer = Some(items[p as usize].family);
                }
                add(&mut basket, printer, 1);
            }
        }
        1 => {
            // Back for something like what they bought: a sibling of nearly the same spec
            // or an upgrade, of the same family most of the time.
            let before = c.history[below(rng, c.history.len() as u32) as usize];
            let it = &items[before as usize];
            let target = (it.level + uniform(rng, -0.05, 0.2)).clamp(0.0, 1.0);
            let family = if chance(rng, 0.85) { Some(it.family) } else { None };
            let not = if chance(rng, 0.85) {
                vec![before]
            } else {
                Vec::new()
            };
            let qty = if c.segment == Segment::Office && it.kind == Kind::Pc {
                rng.gen_range(1..=3)
            } else {
                1
            };
            let p = pick_near(rng, items, it.kind, family, target, &not)
                .or_else(|| pick_near(rng, items, it.kind, None, target, &not));
            add(&mut basket, p, qty);
            if chance(rng, 0.35) {
                let kind = [Kind::Cable, Kind::Mouse, Kind::Flashdisk][pick_weighted(rng, &[0.4, 0.3, 0.3])];
                let t = jitter(rng, c.tier);
                add(&mut basket, pick_near(rng, items, kind, None, t, &[]), 1);
            }
        }
        2 => {
            // Several of one family: cables of one kind in several lengths, RAM of one
            // generation, flash disks of several sizes, monitors for a dual screen.
            let (kind, family) = match pick_weighted(rng, &[0.35, 0.25, 0.25, 0.15]) {
                0 => (Kind::Cable, Some(c.cable)),
                1 => (Kind::Ram, Some(c.ram)),
                2 => (Kind::Flashdisk, None),
                _ => (Kind::Monitor, None),
            };
            let count = rng.gen_range(2..=3u32);
            let mut not = Vec::new();
            for _ in 0..count {
                let t = jitter(rng, c.tier);
                let p = pick_near(rng, items, kind, family, t, &not);
                if let Some(p) = p {
                    not.push(p);
                }
                add(
                    &mut basket,
                    p,
                    [1, 1, 2, 3][pick_weighted(rng, &[0.5, 0.2, 0.2, 0.1])],
                );
            }
        }
        3 => {
            let family = c.printer.expect("checked above");
            for _ in 0..rng.gen_range(1..=2u32) {
                let t = uniform(rng, 0.0, 1.0);
                add(
                    &mut basket,
                    pick_near(rng, items, Kind::Ink, Some(family), t, &[]),
                    rng.gen_range(1..=4),
                );
            }
        }
        _ => {
            let kinds = match c.segment {
                Segment::Gamer => [
                    Kind::Mouse,
                    Kind::Keyboard,
                    Kind::Monitor,
                    Kind::Ram,
                    Kind::ExternalDisk,
                ],
                Segment::Technician => [
                    Kind::Ram,
                    Kind::Cable,
                    Kind::Flashdisk,
                    Kind::ExternalDisk,
                    Kind::Mouse,
                ],
                _ => [
                    Kind::Flashdisk,
                    Kind::Mouse,
                    Kind::Keyboard,
                    Kind::Cable,
                    Kind::ExternalDisk,
                ],
            };
            for _ in 0..rng.gen_range(1..=2u32) {
                let kind = kinds[pick_weighted(rng, &[0.3, 0.25, 0.2, 0.15, 0.1])];
                let family = match kind {
                    Kind::Ram => Some(c.ram),
                    Kind::Cable => Some(c.cable),
                    _ => None,
                };
                let t = jitter(rng, c.tier);
                add(&mut basket, pick_near(rng, items, kind, family, t, &[]), 1);
            }
        }
    }
    // Noise: something unrelated, about one order in eight.
    if chance(rng, 0.12) || basket.is_empty() {
        let p = below(rng, items.len() as u32);
        add(&mut basket, Some(p), 1);
    }
    basket
}

// ---------------------------------------------------------------------------------------
// Writing the files
// ---------------------------------------------------------------------------------------

fn write_shop(out: &Path, shop: &Shop, seed: u64) -> io::Result<()> {
    let dir = out.join(shop.id);
    fs::create_dir_all(&dir)?;
    write_products(&dir.join("produk.csv"), shop)?;
    write_sales(&dir.join("laporan-penjualan.csv"), shop)?;
    write_baskets(&dir, shop)?;
    let purchases: Vec<&Order> = shop.orders.iter().filter(|o| o.status.is_purchase()).collect();
    let lines: usize = purchases.iter().map(|o| o.lines.len()).sum();
    println!(
        "{}: seed {seed}, {} products, {} customers, {} orders ({} paid, {} lines in paid orders, {:.1} per order) in {}",
        shop.id,
        shop.products.len(),
        shop.buyers.len(),
        shop.orders.len(),
        purchases.len(),
        lines,
        lines as f64 / purchases.len().max(1) as f64,
        dir.display()
    );
    Ok(())
}

fn csv_writer(path: &Path) -> io::Result<csv::Writer<fs::File>> {
    Ok(csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(fs::File::create(path)?))
}

fn write_products(path: &Path, shop: &Shop) -> io::Result<()> {
    let mut w = csv_writer(path)?;
    w.write_record([
        "Product ID",
        "Nama Produk",
        "SKU Name",
        "Kategori",
        "Deskripsi Produk",
        "Harga (Rp)",
        "Jumlah Stok",
        "Berat (Gram)",
        "Kondisi",
        "Status",
    ])?;
    for p in &shop.products {
        w.write_record([
            p.id.as_str(),
            &p.name,
            &p.sku,
            &p.category,
            &p.description,
            &p.price.to_string(),
            &p.stock.to_string(),
            &p.weight_grams.to_string(),
            "Baru",
            "Aktif",
        ])?;
    }
    w.flush()
}

fn write_sales(path: &Path, shop: &Shop) -> io::Result<()> {
    // Title rows above the header (the real report's header is on row 5).
    let mut file = fs::File::create(path)?;
    let end = PERIOD_START + (PERIOD_DAYS as i64 - 1) * 86_400;
    write!(
        file,
        "Laporan Penjualan\nNama Toko: {}\nPeriode: {} - {}\n\n",
        shop.name,
        wib_text(PERIOD_START, "%d-%m-%Y"),
        wib_text(end, "%d-%m-%Y")
    )?;
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(file);
    w.write_record([
        "No",
        "Nomor Invoice",
        "Tanggal Pembayaran",
        "Status Terakhir",
        "Tanggal Pesanan Selesai",
        "Waktu Pesanan Selesai",
        "Product ID",
        "Nama Produk",
        "Nomor SKU",
        "Jumlah Produk Dibeli",
        "Harga Awal (IDR)",
        "Harga Jual (IDR)",
        "Total Penjualan (IDR)",
        "Nama Pembeli",
        "No Telp Pembeli",
        "Kota",
        "Provinsi",
    ])?;
    let mut no = 0;
    for o in &shop.orders {
        no += 1;
        let buyer = &shop.buyers[o.buyer as usize];
        let (finish_date, finish_time) = if o.status == Status::Finished {
            let at = o.paid_at + o.finished_after;
            (wib_text(at, "%d-%m-%Y"), wib_text(at, "%H:%M:%S"))
        } else {
            (String::new(), String::new())
        };
        let paid = wib_text(o.paid_at, "%d-%m-%Y %H:%M:%S");
        for &(p, qty) in &o.lines {
            let product = &shop.products[p as usize];
            w.write_record([
                no.to_string().as_str(),
                &o.invoice,
                &paid,
                o.status.text(),
                &finish_date,
                &finish_time,
                &product.id,
                &product.name,
                &product.sku,
                &qty.to_string(),
                &product.price.to_string(),
                &product.price.to_string(),
                &(product.price * i64::from(qty)).to_string(),
                &buyer.name,
                &buyer.phone,
                buyer.city.0,
                buyer.city.1,
            ])?;
        }
    }
    w.flush()
}

/// The paid orders in time order as plain baskets (distinct product ids), and their buyers.
fn write_baskets(dir: &Path, shop: &Shop) -> io::Result<()> {
    let mut baskets = io::BufWriter::new(fs::File::create(dir.join("baskets.csv"))?);
    let mut buyers = io::BufWriter::new(fs::File::create(dir.join("basket_customers.csv"))?);
    for o in shop.orders.iter().filter(|o| o.status.is_purchase()) {
        let ids: Vec<&str> = o
            .lines
            .iter()
            .map(|(p, _)| shop.products[*p as usize].id.as_str())
            .collect();
        writeln!(baskets, "{}", ids.join(","))?;
        writeln!(buyers, "c{}", o.buyer)?;
    }
    baskets.flush()?;
    buyers.flush()
}

fn config(seed: u64) -> String {
    format!(
        r#"# Synthetic evaluation shops written by `cargo run --release --example gen_eval_shops -- --seed {seed}`.
# Their data is imported from the Seller Center exports beside this file:
#   laris --config DIR/laris.toml --data-dir DIR/data import --shop longtail \
#       --products DIR/longtail/produk.csv --orders DIR/longtail/laporan-penjualan.csv
#   laris --config DIR/laris.toml --data-dir DIR/data eval --shop longtail --compare hybrid,best_sellers

[[shops]]
id = "longtail"
name = "Toko Longtail (sintetis)"
timezone = "Asia/Jakarta"

[[shops]]
id = "komputer"
name = "Komputer Jaya (sintetis)"
timezone = "Asia/Jakarta"
"#
    )
}
