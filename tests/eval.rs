//! `laris eval` end to end: every metric on a tiny hand-made shop against the value worked out
//! by hand (in the comments), the absence of leakage from test orders into training, and the
//! binary run on the demo shop (store, `--orders FILE`, a service holding the store) and on a
//! plain basket file (`--baskets FILE`, no config).

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use laris::config::RecommendSettings;
use laris::domain::{CustomerId, OrderStatus, ProductId, Rupiah};
use laris::eval::protocols::{basket_completion, next_order, next_order_new};
use laris::eval::recommenders::bundles;
use laris::eval::report::{EvalReport, ResultRow};
use laris::eval::{evaluate, split_orders, train_model, EvalConfig, ModelKind, Protocol, Query, SplitRule};
use laris::records::{Order, OrderLine, Product};

const TOL: f64 = 1e-9;

fn product(id: &str, price: i64, category: &str) -> Product {
    let mut p = Product::new(
        ProductId::parse(id).unwrap(),
        &format!("Produk {id}"),
        Rupiah(price),
        vec!["Makanan".into(), category.into()],
    );
    p.sku = Some(id.to_string());
    p.stock = Some(0);
    p
}

fn day(month: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, d, 10, 0, 0).unwrap()
}

/// A finished order: (product, quantity) lines at the catalogue's prices.
fn order(
    invoice: &str,
    customer: &str,
    paid: DateTime<Utc>,
    lines: &[(&str, u32)],
    catalogue: &[Product],
) -> Order {
    let lines: Vec<OrderLine> = lines
        .iter()
        .map(|&(p, q)| OrderLine {
            product: Some(ProductId::parse(p).unwrap()),
            marketplace_product_id: None,
            sku: Some(p.to_string()),
            name: p.to_string(),
            quantity: q,
            unit_price: catalogue.iter().find(|x| x.id.as_str() == p).unwrap().price,
        })
        .collect();
    Order {
        invoice: invoice.to_string(),
        marketplace_id: None,
        customer: CustomerId(customer.to_string()),
        buyer_name: None,
        phone: None,
        city: None,
        status: OrderStatus(700),
        created_at: paid,
        paid_at: paid,
        updated_at: paid,
        products_total: Rupiah(lines.iter().map(|l| l.total().0).sum()),
        shipping: Rupiah(0),
        lines,
    }
}

fn cancelled(mut o: Order) -> Order {
    o.status = OrderStatus(0);
    o
}

/// Six products A–F (every one out of stock today: the evaluation must not care).
fn tiny_catalogue() -> Vec<Product> {
    vec![
        product("A", 10_000, "Lauk"),
        product("B", 20_000, "Bumbu"),
        product("C", 15_000, "Bumbu"),
        product("D", 12_000, "Sambal"),
        product("E", 30_000, "Camilan"),
        product("F", 25_000, "Hampers"),
    ]
}

/// Training purchases in January, test purchases in February, one cancellation on each side.
///
/// ```text
/// train  INV-1 u1 Jan 5  A×4              spend u1 40 000
///        INV-2 u2 Jan 6  A×3 B×3          spend u2 90 000
///        INV-3 u3 Jan 7  B×2 C×3          spend u3 85 000
///        INV-4 u4 Jan 8  C×1 D×2          spend u4 39 000
///        INV-5 u5 Jan 9  E×1              spend u5 30 000
///        INV-X1 u1 Jan 10 F×5 A×1  cancelled: not a purchase (else F would sell most)
/// test   INV-6 u1 Feb 2  A B
///        INV-7 u6 Feb 3  C D     (u6's first purchase)
///        INV-8 u2 Feb 4  F E
///        INV-9 u3 Feb 5  A
///        INV-X2 u6 Feb 6 A B C  cancelled
/// ```
///
/// Units sold in training: A 7, B 5, C 4, D 2, E 1, F 0 → best-sellers A, B, C, D, E.
fn tiny_orders(c: &[Product]) -> Vec<Order> {
    vec![
        order("INV-1", "u1", day(1, 5), &[("A", 4)], c),
        order("INV-2", "u2", day(1, 6), &[("A", 3), ("B", 3)], c),
        order("INV-3", "u3", day(1, 7), &[("B", 2), ("C", 3)], c),
        order("INV-4", "u4", day(1, 8), &[("C", 1), ("D", 2)], c),
        order("INV-5", "u5", day(1, 9), &[("E", 1)], c),
        cancelled(order("INV-X1", "u1", day(1, 10), &[("F", 5), ("A", 1)], c)),
        order("INV-6", "u1", day(2, 2), &[("A", 1), ("B", 1)], c),
        order("INV-7", "u6", day(2, 3), &[("C", 1), ("D", 1)], c),
        order("INV-8", "u2", day(2, 4), &[("F", 1), ("E", 1)], c),
        order("INV-9", "u3", day(2, 5), &[("A", 1)], c),
        cancelled(order(
            "INV-X2",
            "u6",
            day(2, 6),
            &[("A", 1), ("B", 1), ("C", 1)],
            c,
        )),
    ]
}

fn tiny_settings() -> RecommendSettings {
    RecommendSettings {
        price_clusters: 2,
        ..RecommendSettings::default()
    }
}

fn tiny_report() -> EvalReport {
    let c = tiny_catalogue();
    let config = EvalConfig {
        split: SplitRule::At(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()),
        top_n: vec![2, 3],
        models: vec![ModelKind::BestSellers, ModelKind::Bundles],
        compare: vec![(ModelKind::Bundles, ModelKind::BestSellers)],
        seed: 7,
        tiers_k: 4,
    };
    evaluate(
        "tiny",
        c.clone(),
        &tiny_orders(&c),
        &tiny_settings(),
        &config,
        &mut |_| {},
    )
    .unwrap()
}

fn row(r: &EvalReport, protocol: Protocol, model: ModelKind, n: usize) -> &ResultRow {
    r.results
        .iter()
        .find(|x| x.protocol == protocol && x.model == model && x.n == n)
        .unwrap_or_else(|| panic!("no row {protocol:?} {model:?} {n}"))
}

/// Compares a row with hand values: P mean, P std, R mean, R std, F1, hit rate, NDCG, coverage.
fn assert_row(r: &ResultRow, expected: [f64; 8], orders: usize) {
    let got = [
        r.precision.mean.unwrap(),
        r.precision.std.unwrap(),
        r.recall.mean.unwrap(),
        r.recall.std.unwrap(),
        r.f1.unwrap(),
        r.hit_rate.unwrap(),
        r.ndcg.unwrap(),
        r.coverage,
    ];
    let names = [
        "P mean", "P std", "R mean", "R std", "F1", "hit rate", "NDCG", "coverage",
    ];
    for ((name, g), e) in names.iter().zip(got).zip(expected) {
        assert!(
            (g - e).abs() < TOL,
            "{:?} {:?} N={} {name}: got {g}, by hand {e}",
            r.protocol,
            r.model,
            r.n
        );
    }
    assert_eq!(r.orders, orders);
}

#[test]
fn the_split_and_the_skipped_orders_are_counted_as_worked_out_by_hand() {
    let r = tiny_report();
    // Jan: 5 purchases train; Feb: 4 test; the two cancellations take no side.
    assert_eq!(
        (r.split.train_orders, r.split.test_orders, r.not_purchases),
        (5, 4, 2)
    );
    assert_eq!(r.catalogue_products, 6);
    let basket = &r.protocols[0];
    assert_eq!(
        (basket.protocol, basket.test_orders, basket.used),
        (Protocol::BasketCompletion, 4, 3)
    );
    assert_eq!(
        basket.skipped.get("one_product"),
        Some(&1),
        "INV-9 has one product"
    );
    let next = &r.protocols[1];
    assert_eq!((next.protocol, next.used), (Protocol::NextOrder, 3));
    assert_eq!(
        next.skipped.get("no_earlier_purchases"),
        Some(&1),
        "INV-7 is u6's first"
    );
    // Repeats allowed: every product of G can be recommended.
    assert_eq!(next.recall_ceiling, Some(1.0));
    let new = &r.protocols[2];
    assert_eq!((new.protocol, new.used), (Protocol::NextOrderNew, 3));
    assert_eq!(new.skipped, next.skipped);
    // Share of G not bought before: INV-6 1/2 (A was), INV-8 1, INV-9 1 → 2.5 / 3.
    assert!((new.recall_ceiling.unwrap() - 2.5 / 3.0).abs() < TOL);
}

#[test]
fn basket_completion_metrics_equal_the_hand_computation() {
    // Best-sellers A, B, C, D, E. The three test baskets are built so that whichever item
    // the seed hides, it lands at the same rank (the other one is its neighbour in the list):
    //   INV-6 {A, B}: hide A → [A, C, D…], hide B → [B, C, D…]: hit at rank 1.
    //   INV-7 {C, D}: hide C → [A, B, C], hide D → [A, B, D]: hit at rank 3.
    //   INV-8 {F, E}: context E or F → [A, B, C]: F never sold, E is 5th: no hit.
    // N = 2: P = (1/2, 0, 0), R = (1, 0, 0).
    //   P mean 1/6, sample std √((1/9 + 1/36 + 1/36) / 2) = √(1/12) = 0.288675…
    //   R mean 1/3, std √((4/9 + 1/9 + 1/9) / 2) = √(1/3) = 0.577350…
    //   F1 = 2·(1/6)(1/3) / (1/6 + 1/3) = 2/9; hit rate 1/3; NDCG (1 + 0 + 0)/3 = 1/3;
    //   coverage: {A or B, C} ∪ {A, B} ∪ {A, B} = {A, B, C} → 3/6.
    let r = tiny_report();
    let bs = |n| row(&r, Protocol::BasketCompletion, ModelKind::BestSellers, n);
    let (s12, s3) = ((1.0f64 / 12.0).sqrt(), (1.0f64 / 3.0).sqrt());
    assert_row(
        bs(2),
        [
            1.0 / 6.0,
            s12,
            1.0 / 3.0,
            s3,
            2.0 / 9.0,
            1.0 / 3.0,
            1.0 / 3.0,
            0.5,
        ],
        3,
    );
    // N = 3: P = (1/3, 1/3, 0), R = (1, 1, 0).
    //   P mean 2/9, std √((1/81 + 1/81 + 4/81) / 2) = √(1/27) = 0.192450…
    //   R mean 2/3, std √((1/9 + 1/9 + 4/9) / 2) = √(1/3)
    //   F1 = 2·(2/9)(2/3) / (2/9 + 2/3) = 1/3; hit rate 2/3;
    //   NDCG (1 + 1/log2(4) + 0)/3 = 1.5/3 = 0.5; coverage {A, B, C, D} → 4/6.
    let s27 = (1.0f64 / 27.0).sqrt();
    assert_row(
        bs(3),
        [
            2.0 / 9.0,
            s27,
            2.0 / 3.0,
            s3,
            1.0 / 3.0,
            2.0 / 3.0,
            0.5,
            4.0 / 6.0,
        ],
        3,
    );
}

/// 1 / (1 + 1/log2 3): one hit at rank 1 when |G| = 2 (ideal DCG 1 + 1/log2 3 = 1.6309298).
fn ndcg_first_of_two() -> f64 {
    1.0 / (1.0 + 1.0 / 3f64.log2())
}

#[test]
fn next_order_new_metrics_equal_the_hand_computation() {
    // Cases (context = the customer's earlier purchases; G = the order; R never repeats the
    // context):
    //   INV-6 u1: context {A} (the cancelled INV-X1 is no purchase), G {A, B}
    //   INV-8 u2: context {A, B}, G {E, F}
    //   INV-9 u3: context {B, C}, G {A}
    let r = tiny_report();
    let nd = ndcg_first_of_two();
    // Best-sellers at N = 3: INV-6 [B, C, D] (B at 1), INV-8 [C, D, E] (E at 3),
    // INV-9 [A, D, E] (A at 1).
    //   P = (1/3, 1/3, 1/3): mean 1/3, std 0.   R = (1/2, 1/2, 1): mean 2/3, std √(1/12).
    //   F1 = 2·(1/3)(2/3) / 1 = 4/9; hit rate 1;
    //   NDCG = (0.6131472 + 0.5/1.6309298 + 1) / 3 = (0.6131472 + 0.3065736 + 1) / 3 = 0.6399069;
    //   coverage {A, B, C, D, E} → 5/6.
    let bs = |n| row(&r, Protocol::NextOrderNew, ModelKind::BestSellers, n);
    let s12 = (1.0f64 / 12.0).sqrt();
    let ndcg3 = (nd + 0.5 * nd + 1.0) / 3.0;
    assert!((ndcg3 - 0.639_906_9).abs() < 1e-7);
    assert_row(
        bs(3),
        [1.0 / 3.0, 0.0, 2.0 / 3.0, s12, 4.0 / 9.0, 1.0, ndcg3, 5.0 / 6.0],
        3,
    );
    // At N = 2: [B, C] hit, [C, D] miss, [A, D] hit.
    //   P = (1/2, 0, 1/2): mean 1/3, std √(1/12).   R = (1/2, 0, 1): mean 1/2, std 1/2.
    //   F1 = 2·(1/3)(1/2) / (5/6) = 2/5; hit rate 2/3; NDCG (0.6131472 + 0 + 1)/3 = 0.5377157;
    //   coverage {A, B, C, D} → 4/6.
    assert_row(
        bs(2),
        [
            1.0 / 3.0,
            s12,
            0.5,
            0.5,
            0.4,
            2.0 / 3.0,
            (nd + 1.0) / 3.0,
            4.0 / 6.0,
        ],
        3,
    );

    // Bundles. Training baskets {A} {A,B} {B,C} {C,D} {E}, n = 5; rules with lift ≥ 1:
    //   A→B, B→A, B→C, C→B: confidence 1/2, lift 1.25;  C→D: conf 1/2, lift 2.5;  D→C: conf 1, lift 2.5.
    //   INV-6 context {A}: A→B → [B]; G {A, B}: P 1, R 1/2, NDCG 0.6131472.
    //   INV-8 context {A, B}: B→C → [C]; miss: 0, 0, 0.
    //   INV-9 context {B, C}: C→D (1/2, 2.5) before B→A (1/2, 1.25) → [D, A]; A at rank 2:
    //   P 1/2, R 1, NDCG 1/log2(3) = 0.6309298.
    //   P (1, 0, 1/2): mean 1/2, std √((1/4 + 1/4 + 0)/2) = 1/2.  R (1/2, 0, 1): mean 1/2, std 1/2.
    //   F1 1/2; hit rate 2/3; NDCG (0.6131472 + 0 + 0.6309298)/3 = 0.4146923; coverage {A, B, C, D} 4/6.
    //   The lists are shorter than 2, so N = 2 and N = 3 agree.
    let ndcg_b = (nd + 1.0 / 3f64.log2()) / 3.0;
    assert!((ndcg_b - 0.414_692_3).abs() < 1e-7);
    for n in [2, 3] {
        let b = row(&r, Protocol::NextOrderNew, ModelKind::Bundles, n);
        assert_row(b, [0.5, 0.5, 0.5, 0.5, 0.5, 2.0 / 3.0, ndcg_b, 4.0 / 6.0], 3);
    }
}

#[test]
fn next_order_metrics_with_repeats_equal_the_hand_computation() {
    // The same cases as next order of new products, but a model may list what the customer
    // bought before. Best-sellers A, B, C, D, E unfiltered at N = 3 give [A, B, C] to all:
    //   INV-6 u1: context {A}, G {A, B}: A, B at ranks 1, 2: P 2/3, R 1, NDCG 1.
    //   INV-8 u2: context {A, B}, G {E, F}: miss: 0, 0, 0.
    //   INV-9 u3: context {B, C}, G {A}: A at rank 1: P 1/3, R 1, NDCG 1.
    //   P (2/3, 0, 1/3): mean 1/3, std √((1/9 + 1/9 + 0)/2) = 1/3.
    //   R (1, 0, 1): mean 2/3, std √((1/9 + 4/9 + 1/9)/2) = √(1/3).
    //   F1 = 2·(1/3)(2/3) / 1 = 4/9; hit rate 2/3; NDCG 2/3; coverage {A, B, C} → 3/6.
    let r = tiny_report();
    let bs = |n| row(&r, Protocol::NextOrder, ModelKind::BestSellers, n);
    let s3 = (1.0f64 / 3.0).sqrt();
    assert_row(
        bs(3),
        [
            1.0 / 3.0,
            1.0 / 3.0,
            2.0 / 3.0,
            s3,
            4.0 / 9.0,
            2.0 / 3.0,
            2.0 / 3.0,
            0.5,
        ],
        3,
    );
    // N = 2: [A, B] to all: INV-6 P 1, R 1, NDCG 1; INV-8 0; INV-9 P 1/2, R 1, NDCG 1.
    //   P (1, 0, 1/2): mean 1/2, std 1/2.  R (1, 0, 1): mean 2/3, std √(1/3).
    //   F1 = 2·(1/2)(2/3) / (7/6) = 4/7; hit rate 2/3; NDCG 2/3; coverage {A, B} → 2/6.
    assert_row(
        bs(2),
        [
            0.5,
            0.5,
            2.0 / 3.0,
            s3,
            4.0 / 7.0,
            2.0 / 3.0,
            2.0 / 3.0,
            2.0 / 6.0,
        ],
        3,
    );
    // Bundles skip the context under either next-order protocol: the same figures.
    for n in [2, 3] {
        let with = row(&r, Protocol::NextOrder, ModelKind::Bundles, n);
        let without = row(&r, Protocol::NextOrderNew, ModelKind::Bundles, n);
        assert_eq!(
            (&with.precision, &with.recall, with.ndcg, with.coverage),
            (
                &without.precision,
                &without.recall,
                without.ndcg,
                without.coverage
            )
        );
    }
}

#[test]
fn the_paired_t_test_between_two_models_equals_the_hand_computation() {
    // Next order of new products, N = 3, precision: bundles (1, 0, 1/2) − best-sellers (1/3, 1/3, 1/3)
    //   = d (2/3, −1/3, 1/6): mean 1/6; sample sd √(((1/2)² + (1/2)² + 0²)/2) = 1/2;
    //   se = (1/2)/√3 = 0.2886751; t = (1/6)/se = 0.5773503 with 2 degrees of freedom.
    //   For ν = 2 the t CDF is ½ + t/(2√(2 + t²)): P(T ≤ 0.5773503) = 0.6889822, so the
    //   two-sided p = 2·(1 − 0.6889822) = 0.6220355.
    //   95% CI: 1/6 ± t(0.975; 2)·se = 1/6 ± 4.3026527·0.2886751 = [−1.0754022, 1.4087355].
    let r = tiny_report();
    let c = r
        .comparisons
        .iter()
        .find(|c| c.protocol == Protocol::NextOrderNew && c.n == 3 && c.metric == "precision")
        .unwrap();
    assert_eq!((c.a, c.b), (ModelKind::Bundles, ModelKind::BestSellers));
    assert!((c.mean_diff - 1.0 / 6.0).abs() < TOL);
    assert!((c.t.unwrap() - 0.577_350_3).abs() < 1e-7);
    assert!((c.p_value - 0.622_035_5).abs() < 1e-7, "{}", c.p_value);
    assert!(
        (c.ci95[0] + 1.075_402_2).abs() < 1e-7 && (c.ci95[1] - 1.408_735_5).abs() < 1e-7,
        "{:?}",
        c.ci95
    );
    // Recall: d = (0, −1/2, 0): mean −1/6, sd √(1/12), se 1/6, t = −1;
    //   P(T ≤ 1) = ½ + 1/(2√3) = 0.7886751 → p = 0.4226497.
    let c = r
        .comparisons
        .iter()
        .find(|c| c.protocol == Protocol::NextOrderNew && c.n == 3 && c.metric == "recall")
        .unwrap();
    assert!((c.t.unwrap() + 1.0).abs() < 1e-12 && (c.p_value - 0.422_649_7).abs() < 1e-7);
    // 3 protocols × 2 lengths × 4 metrics.
    assert_eq!(r.comparisons.len(), 24);
}

#[test]
fn cluster_sse_and_silhouette_equal_the_hand_computation() {
    let r = tiny_report();
    // Tiers: training spend 30 000 (u5), 39 000 (u4), 40 000 (u1), 85 000 (u3), 90 000 (u2);
    // the cancelled INV-X1 (Rp135.000) does not count. k = 4 merges the closest pair
    // {39 000, 40 000}: SSE = 2·500² = 500 000. Silhouettes: singletons 0; 39 000: a = 1 000,
    // b = 9 000 (to 30 000) → 8/9; 40 000: a = 1 000, b = 10 000 → 9/10;
    // mean (8/9 + 9/10)/5 = 0.3577778.
    let tiers = r.clusters.tiers.unwrap();
    assert_eq!(tiers.k, 4);
    assert!((tiers.sse - 500_000.0).abs() < 1e-6, "{}", tiers.sse);
    assert!(
        (tiers.silhouette - (8.0 / 9.0 + 0.9) / 5.0).abs() < TOL,
        "{}",
        tiers.silhouette
    );
    // Prices (thousands) 10, 12, 15, 20, 25, 30 with k = 2 ([shops.recommend] price_clusters):
    // the best cut is {10, 12, 15 | 20, 25, 30}: SSE = (2.333² + 0.333² + 2.667²) + (5² + 0 + 5²)
    // = 12.667 + 50 = 62.667 (thousand²) = 62 666 666.7 Rp² (the other cuts: 127, 69.25).
    // Silhouettes, a = own cluster, b = other: 10: 1 − 3.5/15; 12: 1 − 2.5/13; 15: 1 − 4/10;
    // 20: 1 − 7.5/7.667; 25: 1 − 5/12.667; 30: 1 − 7.5/17.667 → mean 0.5628055.
    let price = r.clusters.price.unwrap();
    assert_eq!(price.k, 2);
    assert!((price.sse - 62_666_666.666_666_7).abs() < 1e-3, "{}", price.sse);
    let s = [
        1.0 - 3.5 / 15.0,
        1.0 - 2.5 / 13.0,
        1.0 - 4.0 / 10.0,
        1.0 - 7.5 / (23.0 / 3.0),
        1.0 - 5.0 / (38.0 / 3.0),
        1.0 - 7.5 / (53.0 / 3.0),
    ];
    let by_hand = s.iter().sum::<f64>() / 6.0;
    assert!((by_hand - 0.562_805_5).abs() < 1e-7);
    assert!((price.silhouette - by_hand).abs() < TOL, "{}", price.silhouette);
}

#[test]
fn no_test_order_reaches_the_training_data() {
    let c = tiny_catalogue();
    let orders = tiny_orders(&c);
    let split = split_orders(
        &orders,
        SplitRule::At(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()),
    )
    .unwrap();
    let train: Vec<&str> = split.train.iter().map(|o| o.invoice.as_str()).collect();
    assert_eq!(train, ["INV-1", "INV-2", "INV-3", "INV-4", "INV-5"]);
    for t in &split.test {
        assert!(
            !train.contains(&t.invoice.as_str()),
            "{} on both sides",
            t.invoice
        );
        assert!(t.paid_at >= split.split_at);
    }
    assert!(split.train.iter().all(|o| o.paid_at < split.split_at));
    let model = train_model(c, &split, &tiny_settings()).model;
    assert_eq!(model.paid_orders, 5);
    assert_eq!(model.bundles.transactions, 5);
    // F sells only in the test period: it is no best-seller.
    let f = model.product_index(&ProductId::parse("F").unwrap()).unwrap() as u32;
    assert!(model.best_sellers.iter().all(|&(i, _)| i != f));
}

#[test]
fn co_purchases_that_happen_only_in_the_test_period_are_not_in_the_trained_rules() {
    // X and Y sell separately in training and only together afterwards.
    let c = vec![
        product("X", 10_000, "Lauk"),
        product("Y", 12_000, "Bumbu"),
        product("Z", 9_000, "Sambal"),
    ];
    let mut orders = Vec::new();
    for i in 0..6 {
        let (p, q) = if i % 2 == 0 { ("X", "Z") } else { ("Y", "Z") };
        orders.push(order(
            &format!("TR-{i}"),
            &format!("t{i}"),
            day(1, 1 + i),
            &[(p, 1), (q, 1)],
            &c,
        ));
    }
    for i in 0..4 {
        orders.push(order(
            &format!("TR-Z{i}"),
            &format!("z{i}"),
            day(1, 10 + i),
            &[("Z", 1)],
            &c,
        ));
    }
    for i in 0..6 {
        orders.push(order(
            &format!("TE-{i}"),
            &format!("t{i}"),
            day(3, 1 + i),
            &[("X", 1), ("Y", 1)],
            &c,
        ));
    }
    // Over all 16 orders X → Y has confidence 6/9 and lift 6·16/(9·9) = 1.19: a rule.
    let (x, y) = (0u32, 1u32);
    let split = split_orders(&orders, SplitRule::At(day(2, 1))).unwrap();
    assert!(split.test.iter().all(|o| o.invoice.starts_with("TE-")));
    let settings = RecommendSettings::default();
    let trained = train_model(c.clone(), &split, &settings).model;
    let pairs_xy = |m: &laris::model::ShopModel| {
        m.bundles.rules.iter().any(|r| {
            let mut items = r.antecedent.clone();
            items.push(r.consequent);
            items.contains(&x) && items.contains(&y)
        })
    };
    assert!(
        !pairs_xy(&trained),
        "a rule joins X and Y: {:?}",
        trained.bundles.rules
    );
    assert!(!bundles(&trained, &Query::cart(&[x]), 5).contains(&y));
    // The test can fail: trained on every order, the pair is there.
    let leaky = laris::model::build_model(c, &orders, &settings);
    assert!(pairs_xy(&leaky));
    assert!(bundles(&leaky, &Query::cart(&[x]), 5).contains(&y));
    // The protocols see the test orders only as cases: X hidden with Y as context (or the
    // reverse), and for next order the earlier purchases of the same customer as context.
    let bc = basket_completion(&split.test, &trained.index, 1);
    assert_eq!(bc.cases.len(), 6);
    for case in &bc.cases {
        let mut all = case.context.clone();
        all.extend(&case.truth);
        all.sort_unstable();
        assert_eq!(all, [x, y]);
    }
    let no = next_order(&split.train, &split.test, &trained.index);
    for case in &no.cases {
        let o = &split.test[case.order];
        let earlier: std::collections::BTreeSet<u32> = split
            .train
            .iter()
            .chain(&split.test)
            .filter(|e| e.customer == o.customer && e.paid_at < o.paid_at)
            .flat_map(|e| {
                e.lines
                    .iter()
                    .filter_map(|l| trained.product_index(l.product.as_ref().unwrap()))
            })
            .map(|i| i as u32)
            .collect();
        assert_eq!(
            case.context,
            earlier.into_iter().collect::<Vec<_>>(),
            "{}",
            o.invoice
        );
        assert!(case.history.iter().all(|h| h.last < o.paid_at), "{}", o.invoice);
    }
    assert_eq!(next_order_new(&no).cases, no.cases);
}

// --- The binary on the demo shop -------------------------------------------------------------

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn laris(dir: &Path) -> Command {
    let config = dir.join("laris.toml");
    if !config.exists() {
        std::fs::write(
            &config,
            "[[shops]]\nid = \"lengkuas\"\nname = \"Lengkuas Nusantara\"\n[shops.recommend]\nupsell_discount_pct = 10\n",
        )
        .unwrap();
    }
    let mut c = Command::new(env!("CARGO_BIN_EXE_laris"));
    c.arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.join("data"));
    c.env("RUST_LOG", "warn").env_remove("LARIS_ADMIN_TOKEN");
    c
}

fn run(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        c,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A temporary directory with the demo shop replayed into its store.
fn demo_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    run(laris(dir.path())
        .arg("replay")
        .arg(repo().join("demo/lengkuas/recording"))
        .args(["--shop", "lengkuas"]));
    dir
}

#[test]
fn laris_eval_reports_the_three_protocols_for_every_model_on_the_demo_shop() {
    let dir = demo_store();
    let json: Value = serde_json::from_str(&run(laris(dir.path()).args([
        "eval",
        "--shop",
        "lengkuas",
        "--format",
        "json",
        "--compare",
        "hybrid,best_sellers",
    ])))
    .unwrap();
    assert_eq!(json["shop"], "lengkuas");
    // 582 purchases (demo/lengkuas/README.md); the last round(0.2 · 582) = 116 test.
    let split = &json["split"];
    assert_eq!(
        split["train_orders"].as_u64().unwrap() + split["test_orders"].as_u64().unwrap(),
        582
    );
    assert_eq!(split["test_orders"], 116);
    assert_eq!(json["not_purchases"], 18);
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 3 * 11 * 2);
    for protocol in ["basket_completion", "next_order", "next_order_new"] {
        for model in [
            "similar",
            "upsell",
            "bundles",
            "hybrid",
            "blend",
            "personal",
            "item_knn",
            "popular_in_category",
            "repurchase",
            "best_sellers",
            "random",
        ] {
            for n in [3, 5] {
                let r = results
                    .iter()
                    .find(|r| r["protocol"] == protocol && r["model"] == model && r["n"] == n)
                    .unwrap_or_else(|| panic!("{protocol} {model} {n}"));
                let p = r["precision"]["mean"].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&p), "{r}");
                assert!(r["orders"].as_u64().unwrap() > 0, "{r}");
            }
        }
    }
    assert_eq!(json["comparisons"].as_array().unwrap().len(), 3 * 2 * 4);
    assert_eq!(json["protocols"][1]["recall_ceiling"], 1.0);
    assert!(json["clusters"]["price"]["silhouette"].as_f64().is_some());
    assert_eq!(json["clusters"]["tiers"]["k"], 4);

    let table = run(laris(dir.path()).args(["eval", "--shop", "lengkuas"]));
    assert!(
        table.contains("Basket completion")
            && table.contains("Next order (")
            && table.contains("Next order, new products"),
        "{table}"
    );
    for model in ["similar", "upsell", "bundles", "hybrid", "best_sellers", "random"] {
        assert!(table.contains(model), "{model} missing:\n{table}");
    }
    let md = run(laris(dir.path()).args([
        "eval", "--shop", "lengkuas", "--format", "markdown", "--top-n", "3",
    ]));
    assert!(
        md.contains("| model | N | precision |") && md.contains("| hybrid | 3 |"),
        "{md}"
    );
}

#[test]
fn an_orders_file_of_the_same_records_gives_the_same_figures_as_the_store() {
    let dir = demo_store();
    // Every order record of the recording's order-list pages, one per line.
    let mut lines = String::new();
    for entry in std::fs::read_dir(repo().join("demo/lengkuas/recording")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let page: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for record in page["data"].as_array().into_iter().flatten() {
                if record.get("invoice_ref_num").is_some() {
                    lines.push_str(&format!("{record}\n"));
                }
            }
        }
    }
    let file = dir.path().join("orders.jsonl");
    std::fs::write(&file, lines).unwrap();
    let args = [
        "eval",
        "--shop",
        "lengkuas",
        "--format",
        "json",
        "--split-at",
        "2026-10-01",
    ];
    let from_store: Value = serde_json::from_str(&run(laris(dir.path()).args(args))).unwrap();
    let from_file: Value =
        serde_json::from_str(&run(laris(dir.path()).args(args).arg("--orders").arg(&file))).unwrap();
    assert_eq!(from_store["split"], from_file["split"]);
    assert_eq!(from_store["results"], from_file["results"]);
    // 2026-10-01 is midnight WIB: 2026-09-30T17:00:00Z.
    assert_eq!(from_store["split"]["split_at"], "2026-09-30T17:00:00Z");
}

#[test]
fn eval_says_so_when_a_running_service_holds_the_store() {
    let dir = demo_store();
    // A service file naming a live process (this test) is what a running `laris serve` leaves.
    let serve_file = serde_json::json!({"addr": "127.0.0.1:9", "pid": std::process::id()});
    std::fs::write(dir.path().join("data/laris.serve.json"), serve_file.to_string()).unwrap();
    let out = laris(dir.path())
        .args(["eval", "--shop", "lengkuas"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds the store") && err.contains("stop the service"),
        "{err}"
    );
}

#[test]
fn bad_options_are_refused_with_the_value_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = laris(dir.path())
        .args(["eval", "--shop", "lengkuas", "--models", "hybrid,collaborative"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown model \"collaborative\": use similar, upsell, bundles"),
        "{err}"
    );
    let out = laris(dir.path())
        .args(["eval", "--shop", "toko-lain"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown shop \"toko-lain\""));
}

// --- A plain basket file, no config and no store -------------------------------------------

/// The binary with no config file and no store anywhere.
fn laris_bare(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_laris"));
    c.arg("--config")
        .arg(dir.join("no-such-config.toml"))
        .arg("--data-dir")
        .arg(dir.join("no-such-data"))
        .current_dir(dir);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("LARIS_")) {
        c.env_remove(k);
    }
    c.env("RUST_LOG", "warn");
    c
}

#[test]
fn laris_eval_baskets_evaluates_a_basket_file_with_no_config_and_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = repo().join("tests/fixtures/eval/groceries_300.csv");
    let json: Value = serde_json::from_str(&run(laris_bare(dir.path())
        .args(["eval", "--baskets"])
        .arg(&fixture)
        .args(["--format", "json"])))
    .unwrap();
    // By hand from the file: 300 baskets, the last round(0.2 · 300) = 60 test; basket
    // completion uses those with two distinct items or more.
    let text = std::fs::read_to_string(&fixture).unwrap();
    let baskets: Vec<std::collections::BTreeSet<&str>> = text
        .lines()
        .map(|l| l.split(',').filter(|i| !i.is_empty()).collect())
        .collect();
    assert_eq!(baskets.len(), 300);
    let with_two = baskets[240..].iter().filter(|b| b.len() >= 2).count();
    let items: std::collections::BTreeSet<&str> = baskets.iter().flatten().copied().collect();
    assert!(items.contains("cream cheese ") && !items.contains("cream cheese"));

    assert_eq!(json["shop"], "groceries_300", "the file stem labels the report");
    assert_eq!(json["split"]["train_orders"], 240);
    assert_eq!(json["split"]["test_orders"], 60);
    assert_eq!(json["catalogue_products"], items.len());
    let protocols = json["protocols"].as_array().unwrap();
    let names: Vec<&str> = protocols
        .iter()
        .map(|p| p["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["basket_completion", "next_order", "next_order_new"]);
    assert_eq!(protocols[0]["used"], with_two);
    assert_eq!(protocols[0]["skipped"]["one_product"], 60 - with_two);
    for p in &protocols[1..] {
        assert_eq!(p["used"], 0, "{p}");
        assert_eq!(p["skipped"]["no_customers"], 60, "{p}");
        assert!(p["note"].as_str().unwrap().contains("anonymous customer"), "{p}");
    }
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 3 * 11 * 2);
    for r in results.iter().filter(|r| r["protocol"] == "basket_completion") {
        assert_eq!(r["orders"], with_two, "{r}");
        let hit = r["hit_rate"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&hit), "{r}");
    }
    let best = results
        .iter()
        .find(|r| r["protocol"] == "basket_completion" && r["model"] == "best_sellers" && r["n"] == 5)
        .unwrap();
    assert!(best["hit_rate"].as_f64().unwrap() > 0.0, "{best}");
    assert!(json["clusters"]["tiers"].is_null());

    // The table says why next order was not measured; --shop relabels.
    let table = run(laris_bare(dir.path())
        .args(["eval", "--shop", "toko-roti", "--baskets"])
        .arg(&fixture));
    assert!(table.contains("Offline evaluation of shop toko-roti"), "{table}");
    assert!(
        table.contains("60 no_customers") && table.contains("Not measured"),
        "{table}"
    );
}

#[test]
fn eval_baskets_refuses_an_empty_file_the_orders_option_and_a_missing_shop_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "\n,,\n").unwrap();
    let out = laris_bare(dir.path())
        .args(["eval", "--baskets"])
        .arg(&empty)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("empty.csv holds no basket (1 line with no item): write one basket per line"),
        "{err}"
    );
    let out = laris_bare(dir.path())
        .args(["eval", "--baskets", "b.csv", "--orders", "o.jsonl"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    // Without --baskets, --shop is required (and a config with it).
    let out = laris(dir.path()).args(["eval"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--shop: name the shop to evaluate") && err.contains("--baskets FILE"),
        "{err}"
    );
}

#[test]
fn eval_help_describes_the_three_protocols_and_the_basket_file() {
    let dir = tempfile::tempdir().unwrap();
    let help = run(laris_bare(dir.path()).args(["eval", "--help"]));
    for word in [
        "basket_completion",
        "next_order ",
        "next_order_new",
        "repurchase",
        "--baskets <FILE>",
        "no config and no store",
    ] {
        assert!(help.contains(word), "{word} missing:\n{help}");
    }
    for word in ["issue 8", "FEEDS", "SPEC"] {
        assert!(!help.contains(word), "{word} in:\n{help}");
    }
}
