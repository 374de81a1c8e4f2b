//! Seeded simulations with a known truth: the intervals cover the true difference about as
//! often as they claim, and with no uplift about 5% of experiments come out "significant".

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::stats::{bootstrap_mean_difference, welch, VisitorOutcome};

/// Base conversion rate; order values are lognormal with median `MEDIAN` rupiah and log-sd
/// `SIGMA`, and a converted visitor places a second order with probability `SECOND_ORDER`.
const BASE_RATE: f64 = 0.05;
const MEDIAN: f64 = 150_000.0;
const SIGMA: f64 = 0.8;
const SECOND_ORDER: f64 = 0.2;

fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller; 1 − u keeps the logarithm's argument in (0, 1].
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn visitor(rng: &mut ChaCha8Rng, rate: f64) -> VisitorOutcome {
    if rng.gen::<f64>() >= rate {
        return VisitorOutcome::bounced();
    }
    let value = |rng: &mut ChaCha8Rng| (MEDIAN * (SIGMA * standard_normal(rng)).exp()).round() as i64;
    let mut orders = vec![value(rng)];
    if rng.gen::<f64>() < SECOND_ORDER {
        orders.push(value(rng));
    }
    VisitorOutcome::converted(orders)
}

fn arm(rng: &mut ChaCha8Rng, n: usize, rate: f64) -> Vec<VisitorOutcome> {
    (0..n).map(|_| visitor(rng, rate)).collect()
}

fn conversions(v: &[VisitorOutcome]) -> Vec<f64> {
    v.iter().map(|o| f64::from(u8::from(o.converted))).collect()
}

fn revenues(v: &[VisitorOutcome]) -> Vec<f64> {
    v.iter()
        .map(|o| o.order_values.iter().sum::<i64>() as f64)
        .collect()
}

/// Expected revenue per visitor: rate · (1 + SECOND_ORDER) · E[order value], with
/// E[value] = median · e^{σ²/2} for a lognormal.
fn true_revenue_per_visitor(rate: f64) -> f64 {
    rate * (1.0 + SECOND_ORDER) * MEDIAN * (SIGMA * SIGMA / 2.0).exp()
}

const RUNS: u64 = 200;
/// Visitors per arm (a 50/50 split of 4,000 visitors).
const PER_ARM: usize = 2000;

#[test]
fn the_welch_interval_covers_a_known_uplift_in_about_95_percent_of_runs() {
    let uplift = 1.2;
    let true_difference = BASE_RATE * uplift - BASE_RATE;
    let mut covered = 0;
    for run in 0..RUNS {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + run);
        let control = arm(&mut rng, PER_ARM, BASE_RATE);
        let treatment = arm(&mut rng, PER_ARM, BASE_RATE * uplift);
        let w = welch(&conversions(&control), &conversions(&treatment)).unwrap();
        if w.ci95[0] <= true_difference && true_difference <= w.ci95[1] {
            covered += 1;
        }
    }
    let share = covered as f64 / RUNS as f64;
    println!("Welch conversion interval: covered in {covered} of {RUNS} runs");
    assert!(
        (0.90..=0.99).contains(&share),
        "the 95% interval covered the true difference in {covered} of {RUNS} runs"
    );
}

#[test]
fn with_no_uplift_about_5_percent_of_runs_are_significant() {
    let mut significant = 0;
    for run in 0..RUNS {
        let mut rng = ChaCha8Rng::seed_from_u64(5000 + run);
        let control = arm(&mut rng, PER_ARM, BASE_RATE);
        let treatment = arm(&mut rng, PER_ARM, BASE_RATE);
        let w = welch(&conversions(&control), &conversions(&treatment)).unwrap();
        if w.p_value < 0.05 {
            significant += 1;
        }
    }
    let share = significant as f64 / RUNS as f64;
    println!("no uplift: p < 0.05 in {significant} of {RUNS} runs");
    assert!(
        (0.02..=0.09).contains(&share),
        "p < 0.05 in {significant} of {RUNS} runs with no uplift"
    );
}

#[test]
fn the_bootstrap_interval_of_revenue_per_visitor_covers_the_truth() {
    // Fewer runs and resamples than a real report (2,000) to keep a debug build quick: 100
    // runs of 200 resamples each.
    const BOOT_RUNS: u64 = 100;
    const RESAMPLES: u32 = 200;
    let uplift = 1.2;
    let truth = true_revenue_per_visitor(BASE_RATE * uplift) - true_revenue_per_visitor(BASE_RATE);
    let (mut boot_covered, mut welch_covered) = (0, 0);
    for run in 0..BOOT_RUNS {
        let mut rng = ChaCha8Rng::seed_from_u64(9000 + run);
        let control = revenues(&arm(&mut rng, PER_ARM, BASE_RATE));
        let treatment = revenues(&arm(&mut rng, PER_ARM, BASE_RATE * uplift));
        let b = bootstrap_mean_difference(&control, &treatment, RESAMPLES, run).unwrap();
        if b.ci95[0] <= truth && truth <= b.ci95[1] {
            boot_covered += 1;
        }
        let w = welch(&control, &treatment).unwrap();
        if w.ci95[0] <= truth && truth <= w.ci95[1] {
            welch_covered += 1;
        }
    }
    println!(
        "revenue per visitor: bootstrap covered in {boot_covered}, Welch in {welch_covered} of {BOOT_RUNS} runs"
    );
    assert!(
        (88..=99).contains(&boot_covered),
        "the bootstrap interval covered the true difference in {boot_covered} of {BOOT_RUNS} runs"
    );
    assert!(
        (88..=99).contains(&welch_covered),
        "the Welch interval covered the true difference in {welch_covered} of {BOOT_RUNS} runs"
    );
}
