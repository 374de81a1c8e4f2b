//! The statistics of a holdout experiment: per-arm summaries of visitor-level outcomes, and
//! the differences treatment − control with 95% confidence intervals and two-sided p-values.
//!
//! - Conversion rate, average order value and revenue per visitor are compared with
//!   **Welch's t-test** (unequal variances, Welch–Satterthwaite degrees of freedom). Student's
//!   t distribution comes from [`crate::eval::stats`].
//! - Revenue per visitor also gets a **seeded percentile bootstrap** interval: it is mostly
//!   zeros with a few large orders, so a resampling interval is a useful check on the
//!   normal-theory one.
//! - The **sample-ratio-mismatch** (SRM) check is a chi-square goodness-of-fit test of the arm
//!   sizes against the configured split (df 1), flagged when p < 0.001.
//! - The **minimum detectable effect** of the conversion rate at the current sample size
//!   (two-sided α = 0.05, power 0.8, normal approximation).
//!
//! The chi-square tail is the regularized upper incomplete gamma function,
//! `P(χ²_k ≥ x) = Q(k/2, x/2)`, computed by its series and continued fraction (*Numerical
//! Recipes* §6.2); the normal quantile is Wichura's algorithm AS 241 (PPND16, relative error
//! about 1e-16). Both are checked against SciPy in the tests; `docs/experiment.md` explains
//! every number.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::eval::stats::{ln_gamma, student_t_quantile, student_t_two_sided_p};

use super::assign::Arm;

/// What one visitor in the experiment did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VisitorOutcome {
    /// Whether the visitor converted (placed at least one order). A visitor may be counted as
    /// converted without an order left in `order_values` (an order later cancelled and
    /// excluded from revenue), but never the other way round.
    pub converted: bool,
    /// The value of each of the visitor's orders, in whole rupiah. Their count is the
    /// visitor's orders and their sum the visitor's revenue; each value is kept (not just the
    /// sum) because the average order value's confidence interval needs the spread of the
    /// orders' values.
    pub order_values: Vec<i64>,
}

impl VisitorOutcome {
    /// A visitor who did not convert.
    pub fn bounced() -> VisitorOutcome {
        VisitorOutcome::default()
    }

    /// A converted visitor with these orders.
    pub fn converted(order_values: Vec<i64>) -> VisitorOutcome {
        VisitorOutcome {
            converted: true,
            order_values,
        }
    }
}

/// Bad input to the experiment's statistics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExperimentError {
    #[error("holdout_pct {0} is not a percentage of visitors: use 0 to 100 (the configuration allows 0 to 50; 0 turns the experiment off)")]
    HoldoutOutOfRange(u8),
    #[error("{arm:?} visitor #{index} has an order of {value} rupiah: an order's value is zero or more whole rupiah")]
    NegativeOrderValue { arm: Arm, index: usize, value: i64 },
    #[error("{arm:?} visitor #{index} has {orders} order(s) but is not marked converted: set `converted` for every visitor with an order")]
    OrdersWithoutConversion { arm: Arm, index: usize, orders: usize },
    #[error("the {arm:?} arm's revenue does not fit in i64 rupiah: check the order values for a unit mistake (rupiah, not sen)")]
    RevenueOverflow { arm: Arm },
    #[error(
        "bootstrap_resamples {0} is too few for a 95% percentile interval: use at least 100 (2000 is usual)"
    )]
    TooFewResamples(u32),
}

/// One arm's totals and rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmSummary {
    pub visitors: u64,
    pub converting_visitors: u64,
    /// converting_visitors / visitors; `None` with no visitors.
    pub conversion_rate: Option<f64>,
    pub orders: u64,
    /// Total revenue, rupiah.
    pub revenue: i64,
    /// revenue / orders, rounded to whole rupiah; `None` with no orders.
    pub average_order_value: Option<i64>,
    /// revenue / visitors, rounded to whole rupiah; `None` with no visitors.
    pub revenue_per_visitor: Option<i64>,
}

/// Welch's t-test of a mean, treatment − control.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WelchComparison {
    pub control_mean: f64,
    pub treatment_mean: f64,
    /// treatment_mean − control_mean.
    pub difference: f64,
    /// 95% confidence interval of the difference: difference ± t_{0.975, df} · se.
    pub ci95: [f64; 2],
    /// Standard error of the difference, √(s²_t/n_t + s²_c/n_c).
    pub standard_error: f64,
    /// difference / standard_error; 0 when both arms are constant and equal, ±∞ when both
    /// are constant and differ.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom; n_c + n_t − 2 when both arms are constant
    /// (the formula is 0/0 then).
    pub df: f64,
    /// Two-sided.
    pub p_value: f64,
}

/// A percentile bootstrap interval of a difference of means, treatment − control.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapInterval {
    /// The observed difference of means.
    pub difference: f64,
    /// The 2.5th and 97.5th percentiles of the resampled differences.
    pub ci95: [f64; 2],
    pub resamples: u32,
    /// The seed of the resampling (ChaCha8): the same data and seed give the same interval.
    pub seed: u64,
}

/// The sample-ratio-mismatch check: do the arm sizes fit the configured split?
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleRatioCheck {
    pub control: u64,
    pub treatment: u64,
    /// The configured share of control, holdout_pct / 100.
    pub expected_control_share: f64,
    /// The observed share of control; `None` with no visitors.
    pub observed_control_share: Option<f64>,
    /// Pearson's χ² = Σ (observed − expected)² / expected over the two arms.
    pub chi_square: f64,
    /// P(χ²₁ ≥ chi_square).
    pub p_value: f64,
    /// p_value < [`SRM_ALPHA`]: the assignment or the counting is broken and the
    /// experiment's other numbers should not be trusted.
    pub mismatch: bool,
}

/// The p-value below which the arm sizes are flagged as a sample-ratio mismatch.
pub const SRM_ALPHA: f64 = 0.001;

/// The smallest difference in conversion rate the experiment can detect now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinimumDetectableEffect {
    /// The pooled conversion rate of both arms, p.
    pub baseline_rate: f64,
    /// (z_{0.975} + z_{0.8}) · √(p(1−p)(1/n_c + 1/n_t)), in conversion-rate units.
    pub absolute: f64,
    /// absolute / p.
    pub relative: f64,
}

/// Everything the experiment reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentReport {
    pub control: ArmSummary,
    pub treatment: ArmSummary,
    /// Welch on 0/1 per visitor; `None` with fewer than two visitors in an arm.
    pub conversion_rate: Option<WelchComparison>,
    /// Welch over the orders' values; `None` with fewer than two orders in an arm.
    pub average_order_value: Option<WelchComparison>,
    /// Welch over revenue per visitor; `None` with fewer than two visitors in an arm.
    pub revenue_per_visitor: Option<WelchComparison>,
    /// The bootstrap interval of revenue per visitor; `None` with no visitor in an arm.
    pub revenue_per_visitor_bootstrap: Option<BootstrapInterval>,
    pub sample_ratio: SampleRatioCheck,
    /// `None` until both arms have visitors and the pooled rate is strictly between 0 and 1.
    pub conversion_mde: Option<MinimumDetectableEffect>,
}

/// How the report is computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisOptions {
    /// The configured share of visitors in control, percent.
    pub holdout_pct: u8,
    /// Bootstrap resamples (at least 100; 2,000 by default).
    pub bootstrap_resamples: u32,
    /// The bootstrap's seed.
    pub seed: u64,
}

impl AnalysisOptions {
    pub fn new(holdout_pct: u8) -> AnalysisOptions {
        AnalysisOptions {
            holdout_pct,
            bootstrap_resamples: 2000,
            seed: 0x5eed,
        }
    }
}

/// Summarises and compares the two arms.
pub fn analyse(
    control: &[VisitorOutcome],
    treatment: &[VisitorOutcome],
    options: &AnalysisOptions,
) -> Result<ExperimentReport, ExperimentError> {
    if options.bootstrap_resamples < 100 {
        return Err(ExperimentError::TooFewResamples(options.bootstrap_resamples));
    }
    let sample_ratio = sample_ratio_check(control.len() as u64, treatment.len() as u64, options.holdout_pct)?;
    let control_summary = summarise(Arm::Control, control)?;
    let treatment_summary = summarise(Arm::Treatment, treatment)?;

    let conversions =
        |v: &[VisitorOutcome]| -> Vec<f64> { v.iter().map(|o| f64::from(u8::from(o.converted))).collect() };
    let order_values = |v: &[VisitorOutcome]| -> Vec<f64> {
        v.iter()
            .flat_map(|o| o.order_values.iter().map(|&x| x as f64))
            .collect()
    };
    // Each visitor's revenue fits in i64: summarise checked the arm's total.
    let revenues = |v: &[VisitorOutcome]| -> Vec<f64> {
        v.iter()
            .map(|o| o.order_values.iter().sum::<i64>() as f64)
            .collect()
    };
    let (rev_c, rev_t) = (revenues(control), revenues(treatment));

    Ok(ExperimentReport {
        conversion_rate: welch(&conversions(control), &conversions(treatment)),
        average_order_value: welch(&order_values(control), &order_values(treatment)),
        revenue_per_visitor: welch(&rev_c, &rev_t),
        revenue_per_visitor_bootstrap: bootstrap_mean_difference(
            &rev_c,
            &rev_t,
            options.bootstrap_resamples,
            options.seed,
        ),
        sample_ratio,
        conversion_mde: conversion_mde(
            control_summary.converting_visitors + treatment_summary.converting_visitors,
            control_summary.visitors,
            treatment_summary.visitors,
        ),
        control: control_summary,
        treatment: treatment_summary,
    })
}

/// One arm's totals, after checking its outcomes.
pub fn summarise(arm: Arm, visitors: &[VisitorOutcome]) -> Result<ArmSummary, ExperimentError> {
    let mut converting = 0u64;
    let mut orders = 0u64;
    let mut revenue = 0i128;
    for (index, v) in visitors.iter().enumerate() {
        if let Some(&value) = v.order_values.iter().find(|&&x| x < 0) {
            return Err(ExperimentError::NegativeOrderValue { arm, index, value });
        }
        if !v.converted && !v.order_values.is_empty() {
            return Err(ExperimentError::OrdersWithoutConversion {
                arm,
                index,
                orders: v.order_values.len(),
            });
        }
        converting += u64::from(v.converted);
        orders += v.order_values.len() as u64;
        revenue += v.order_values.iter().map(|&x| i128::from(x)).sum::<i128>();
    }
    let revenue = i64::try_from(revenue).map_err(|_| ExperimentError::RevenueOverflow { arm })?;
    let n = visitors.len() as u64;
    let rounded = |num: i64, den: u64| -> Option<i64> {
        // Half away from zero in integers (revenue is never negative here).
        (den > 0).then(|| {
            let (num, den) = (i128::from(num), i128::from(den));
            ((2 * num + den) / (2 * den)) as i64
        })
    };
    Ok(ArmSummary {
        visitors: n,
        converting_visitors: converting,
        conversion_rate: (n > 0).then(|| converting as f64 / n as f64),
        orders,
        revenue,
        average_order_value: rounded(revenue, orders),
        revenue_per_visitor: rounded(revenue, n),
    })
}

/// Mean and sample variance (divisor n − 1), two passes.
fn mean_and_variance(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let ss: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
    (mean, ss / (n - 1.0))
}

/// Welch's t-test of mean(treatment) − mean(control); `None` when an arm has fewer than two
/// values.
pub fn welch(control: &[f64], treatment: &[f64]) -> Option<WelchComparison> {
    if control.len() < 2 || treatment.len() < 2 {
        return None;
    }
    let (n_c, n_t) = (control.len() as f64, treatment.len() as f64);
    let (m_c, v_c) = mean_and_variance(control);
    let (m_t, v_t) = mean_and_variance(treatment);
    let (a, b) = (v_c / n_c, v_t / n_t);
    let se = (a + b).sqrt();
    let difference = m_t - m_c;
    let (t, df, p_value) = if se == 0.0 {
        let df = n_c + n_t - 2.0;
        if difference == 0.0 {
            (0.0, df, 1.0)
        } else {
            (difference.signum() * f64::INFINITY, df, 0.0)
        }
    } else {
        let df = (a + b) * (a + b) / (a * a / (n_c - 1.0) + b * b / (n_t - 1.0));
        let t = difference / se;
        (t, df, student_t_two_sided_p(t, df))
    };
    let half = student_t_quantile(0.975, df) * se;
    Some(WelchComparison {
        control_mean: m_c,
        treatment_mean: m_t,
        difference,
        ci95: [difference - half, difference + half],
        standard_error: se,
        t,
        df,
        p_value,
    })
}

/// A seeded percentile bootstrap of mean(treatment) − mean(control): each resample draws
/// each arm's values with replacement, as many as the arm has, independently per arm; the
/// interval is the 2.5th and 97.5th percentiles (linear interpolation between order
/// statistics) of the resampled differences. `None` when an arm is empty or `resamples` is 0.
///
/// Revenue per visitor is mostly zeros, and a zero drawn adds nothing to a resample's sum,
/// so only the draws that land on a non-zero value are made: the number of zero draws
/// before each non-zero one is geometric (see [`resample_sum`]). The resamples have exactly
/// the distribution of n plain draws, at the cost of the non-zero ones only.
pub fn bootstrap_mean_difference(
    control: &[f64],
    treatment: &[f64],
    resamples: u32,
    seed: u64,
) -> Option<BootstrapInterval> {
    if control.is_empty() || treatment.is_empty() || resamples == 0 {
        return None;
    }
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let nonzero = |xs: &[f64]| -> Vec<f64> { xs.iter().copied().filter(|&x| x != 0.0).collect() };
    let (nz_c, nz_t) = (nonzero(control), nonzero(treatment));
    let (n_c, n_t) = (control.len(), treatment.len());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut diffs: Vec<f64> = (0..resamples)
        .map(|_| {
            let c = resample_sum(&nz_c, n_c, &mut rng) / n_c as f64;
            resample_sum(&nz_t, n_t, &mut rng) / n_t as f64 - c
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    Some(BootstrapInterval {
        difference: mean(treatment) - mean(control),
        ci95: [percentile(&diffs, 0.025), percentile(&diffs, 0.975)],
        resamples,
        seed,
    })
}

/// The sum of `n` draws with replacement from a sample of `n` values whose non-zero values
/// are `nonzero`. Each draw is non-zero with probability q = nonzero.len() / n, so the number
/// of zero draws before the next non-zero one is geometric, P(skip ≥ k) = (1 − q)^k, drawn
/// by inversion as ⌊ln U / ln(1 − q)⌋ with U uniform on (0, 1]; each non-zero draw is then
/// uniform over `nonzero`.
fn resample_sum(nonzero: &[f64], n: usize, rng: &mut ChaCha8Rng) -> f64 {
    if nonzero.is_empty() {
        return 0.0;
    }
    if nonzero.len() == n {
        return (0..n).map(|_| nonzero[rng.gen_range(0..n)]).sum();
    }
    let ln_miss = (-(nonzero.len() as f64) / n as f64).ln_1p();
    let mut sum = 0.0;
    let mut drawn = 0usize;
    loop {
        let u = 1.0 - rng.gen::<f64>();
        let skip = (u.ln() / ln_miss).floor();
        if skip >= (n - drawn) as f64 {
            break;
        }
        drawn += skip as usize + 1;
        sum += nonzero[rng.gen_range(0..nonzero.len())];
        if drawn >= n {
            break;
        }
    }
    sum
}

/// The q quantile of sorted values, interpolating linearly between order statistics at
/// position q·(n − 1) (R's type 7, NumPy's default).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// The chi-square goodness-of-fit test of the arm sizes against a `holdout_pct`% control
/// share (df 1). A 0% holdout expects no control visitor: any is a certain mismatch.
pub fn sample_ratio_check(
    control: u64,
    treatment: u64,
    holdout_pct: u8,
) -> Result<SampleRatioCheck, ExperimentError> {
    if holdout_pct > 100 {
        return Err(ExperimentError::HoldoutOutOfRange(holdout_pct));
    }
    let share = f64::from(holdout_pct) / 100.0;
    let n = (control + treatment) as f64;
    let mut chi_square = 0.0;
    for (observed, expected) in [(control as f64, n * share), (treatment as f64, n * (1.0 - share))] {
        if expected > 0.0 {
            chi_square += (observed - expected) * (observed - expected) / expected;
        } else if observed > 0.0 {
            chi_square = f64::INFINITY;
        }
    }
    let p_value = chi_square_survival(chi_square, 1.0);
    Ok(SampleRatioCheck {
        control,
        treatment,
        expected_control_share: share,
        observed_control_share: (n > 0.0).then(|| control as f64 / n),
        chi_square,
        p_value,
        mismatch: p_value < SRM_ALPHA,
    })
}

/// z_{0.975} + z_{0.8}: a two-sided test at α = 0.05 with power 0.8.
fn mde_multiplier() -> f64 {
    normal_quantile(0.975) + normal_quantile(0.8)
}

/// The minimum detectable effect of the conversion rate with `converting` converted visitors
/// out of `n_control` + `n_treatment`, by the normal approximation:
/// (z_{0.975} + z_{0.8}) · √(p(1−p)(1/n_c + 1/n_t)), p the pooled rate.
pub fn conversion_mde(converting: u64, n_control: u64, n_treatment: u64) -> Option<MinimumDetectableEffect> {
    if n_control == 0 || n_treatment == 0 {
        return None;
    }
    let p = converting as f64 / (n_control + n_treatment) as f64;
    if p <= 0.0 || p >= 1.0 {
        return None;
    }
    let absolute =
        mde_multiplier() * (p * (1.0 - p) * (1.0 / n_control as f64 + 1.0 / n_treatment as f64)).sqrt();
    Some(MinimumDetectableEffect {
        baseline_rate: p,
        absolute,
        relative: absolute / p,
    })
}

/// P(χ²_df ≥ x), the chi-square survival function: Q(df/2, x/2).
pub fn chi_square_survival(x: f64, df: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    regularized_upper_incomplete_gamma(df / 2.0, x / 2.0)
}

/// The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), for a > 0 and
/// x ≥ 0: by the series of P(a, x) = 1 − Q(a, x) when x < a + 1, by the continued fraction
/// of Q (modified Lentz) otherwise, so a tiny upper tail keeps its relative precision.
pub fn regularized_upper_incomplete_gamma(a: f64, x: f64) -> f64 {
    assert!(a > 0.0, "the incomplete gamma function needs a > 0, got {a}");
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    let ln_front = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        // P(a, x) = e^{−x} x^a / Γ(a) · Σ_{n≥0} x^n / (a (a+1) … (a+n)).
        let mut term = 1.0 / a;
        let mut sum = term;
        let mut ap = a;
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        1.0 - sum * ln_front.exp()
    } else {
        // Q(a, x) = e^{−x} x^a / Γ(a) · 1/(x+1−a− 1·(1−a)/(x+3−a− 2·(2−a)/(x+5−a− …))).
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let i = i as f64;
            let an = -i * (i - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        ln_front.exp() * h
    }
}

/// Evaluates a polynomial with coefficients lowest power first (Horner).
fn poly(coefficients: &[f64], x: f64) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

/// The standard normal quantile Φ⁻¹(p): Wichura's AS 241 (PPND16), relative error about
/// 1e-16 over (0, 1). −∞ at 0, +∞ at 1, NaN outside [0, 1].
// The coefficients are copied digit for digit from the published algorithm (Applied
// Statistics 37(3), 1988), which gives more digits than an f64 holds.
#[allow(clippy::excessive_precision)]
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561e3,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_7e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_4e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        6.897_673_349_851_000_045_5e-1,
        1.481_039_764_274_800_745_9e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        2.965_605_718_285_048_912_3e-1,
        2.653_218_952_657_612_309_3e-2,
        1.242_660_947_388_078_438_6e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        5.998_322_065_558_879_376_9e-1,
        1.369_298_809_227_358_053_1e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let mut r = (-tail.ln()).sqrt();
    let value = if r <= 5.0 {
        r -= 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        r -= 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 {
        -value
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// |got − want| ≤ rel · |want| (or ≤ rel when want is 0).
    fn assert_rel(got: f64, want: f64, rel: f64, what: &str) {
        let tol = rel * want.abs().max(if want == 0.0 { 1.0 } else { 0.0 });
        assert!(
            (got - want).abs() <= tol,
            "{what}: got {got:e}, want {want:e} (relative error {:e})",
            ((got - want) / want).abs()
        );
    }

    fn ints(xs: &[i64]) -> Vec<f64> {
        xs.iter().map(|&x| x as f64).collect()
    }

    // Reference values: SciPy 1.17.1 with NumPy 2.4.6 on Python 3.11.7, from
    // `python3 tests/fixtures/experiment/reference.py`, which holds the same data. The
    // Welch values come from
    //   res = scipy.stats.ttest_ind(treatment, control, equal_var=False)
    //   res.statistic, res.pvalue, res.df, res.confidence_interval(0.95)

    #[test]
    fn welch_on_conversions_matches_scipy() {
        // Control 6 of 40 converted, treatment 11 of 45.
        let control: Vec<f64> = [vec![1.0; 6], vec![0.0; 34]].concat();
        let treatment: Vec<f64> = [vec![1.0; 11], vec![0.0; 34]].concat();
        let w = welch(&control, &treatment).unwrap();
        assert_rel(w.difference, 11.0 / 45.0 - 6.0 / 40.0, 1e-15, "difference");
        assert_rel(w.t, 1.0929751116080342, 1e-12, "t");
        assert_rel(w.df, 82.65930855106487, 1e-12, "df");
        assert_rel(w.p_value, 0.2775798793896904, 1e-10, "p");
        assert_rel(w.ci95[0], -0.07743289312049875, 1e-10, "ci low");
        assert_rel(w.ci95[1], 0.2663217820093876, 1e-10, "ci high");
    }

    #[test]
    fn welch_on_revenue_per_visitor_matches_scipy() {
        let control = ints(&[vec![0; 20], vec![150000, 89000, 0, 0, 240000, 0, 0, 75000, 0, 0]].concat());
        let treatment = ints(
            &[
                vec![0; 18],
                vec![120000, 0, 310000, 99000, 0, 0, 1250000, 0, 64000, 0, 0, 180000],
            ]
            .concat(),
        );
        let w = welch(&control, &treatment).unwrap();
        assert_rel(w.t, 1.1188818874880826, 1e-12, "t");
        assert_rel(w.df, 32.048051742505685, 1e-12, "df");
        assert_rel(w.p_value, 0.2715070621164113, 1e-10, "p");
        assert_rel(w.ci95[0], -40172.296370763564, 1e-10, "ci low");
        assert_rel(w.ci95[1], 138105.62970409688, 1e-10, "ci high");
    }

    #[test]
    fn welch_on_order_values_matches_scipy() {
        let control = ints(&[150000, 89000, 240000, 75000, 132500, 99900]);
        let treatment = ints(&[120000, 310000, 99000, 1250000, 64000, 180000, 45500]);
        let w = welch(&control, &treatment).unwrap();
        assert_rel(w.t, 1.0000563533590368, 1e-12, "t");
        assert_rel(w.df, 6.273290876760853, 1e-12, "df");
        assert_rel(w.p_value, 0.3542835706904817, 1e-10, "p");
        assert_rel(w.ci95[0], -233687.16968298785, 1e-10, "ci low");
        assert_rel(w.ci95[1], 562553.8363496545, 1e-10, "ci high");
    }

    #[test]
    fn welch_needs_two_values_per_arm_and_handles_constant_arms() {
        assert!(welch(&[1.0], &[1.0, 2.0]).is_none());
        let same = welch(&[0.0, 0.0, 0.0], &[0.0, 0.0]).unwrap();
        assert_eq!(
            (same.t, same.p_value, same.ci95, same.df),
            (0.0, 1.0, [0.0, 0.0], 3.0)
        );
        let apart = welch(&[0.0, 0.0], &[1.0, 1.0]).unwrap();
        assert_eq!(
            (apart.t, apart.p_value, apart.ci95),
            (f64::INFINITY, 0.0, [1.0, 1.0])
        );
        // One constant arm: df is the other arm's n − 1.
        let one = welch(&[0.0, 0.0, 0.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_rel(one.df, 3.0, 1e-15, "df");
    }

    #[test]
    fn the_chi_square_tail_matches_scipy() {
        // scipy.stats.chisquare([control, treatment], f_exp=[n·pct/100, n·(100−pct)/100]).
        for (control, treatment, pct, chi2, p) in [
            (2400, 17600, 10, 88.88888888888889, 4.176224919260252e-21),
            (2020, 17980, 10, 0.22222222222222224, 0.6373518882339371),
            (4890, 5110, 50, 4.84, 0.027806895026997264),
        ] {
            let srm = sample_ratio_check(control, treatment, pct).unwrap();
            let what = format!("{control}/{treatment} at {pct}%");
            assert_rel(srm.chi_square, chi2, 1e-14, &what);
            assert_rel(srm.p_value, p, 1e-12, &what);
        }
        // scipy.special.gammaincc(a, x).
        for (a, x, q) in [
            (0.5, 0.1, 0.6547208460185768),
            (0.5, 2.0, 0.04550026389635857),
            (0.5, 44.45, 4.15283399026714e-21),
            (1.0, 3.0, 0.04978706836786395),
            (2.5, 1.0, 0.8491450360846096),
            (7.0, 12.0, 0.04582230688865106),
            (30.0, 25.0, 0.8178960840225449),
        ] {
            assert_rel(
                regularized_upper_incomplete_gamma(a, x),
                q,
                1e-12,
                &format!("Q({a}, {x})"),
            );
        }
        // Closed forms: Q(1, x) = e^{−x}; Q(2, x) = (1 + x) e^{−x}.
        for x in [0.01, 0.5, 1.0, 2.0, 7.5, 40.0] {
            assert_rel(
                regularized_upper_incomplete_gamma(1.0, x),
                (-x).exp(),
                1e-13,
                "Q(1, x)",
            );
            assert_rel(
                regularized_upper_incomplete_gamma(2.0, x),
                (1.0 + x) * (-x).exp(),
                1e-13,
                "Q(2, x)",
            );
        }
        assert_eq!(chi_square_survival(0.0, 1.0), 1.0);
    }

    #[test]
    fn the_normal_quantile_matches_scipy() {
        // scipy.stats.norm.ppf(p).
        for (p, z) in [
            (1e-300, -37.0470962993612),
            (1e-20, -9.262340089798409),
            (1e-10, -6.361340902404056),
            (0.001, -3.090232306167813),
            (0.025, -1.9599639845400545),
            (0.2, -0.8416212335729142),
            (0.8, 0.8416212335729143),
            (0.975, 1.959963984540054),
            (0.999, 3.090232306167813),
            (0.9999999999, 6.361340889697422),
        ] {
            assert_rel(normal_quantile(p), z, 1e-14, &format!("ppf({p})"));
        }
        assert_eq!(normal_quantile(0.5), 0.0);
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(1.5).is_nan());
    }

    #[test]
    fn the_mde_matches_scipy() {
        // (norm.ppf(0.975) + norm.ppf(0.8)) * sqrt(p (1 − p) (1/2000 + 1/18000)), p = 0.05.
        let mde = conversion_mde(1000, 2000, 18000).unwrap();
        assert_eq!(mde.baseline_rate, 0.05);
        assert_rel(mde.absolute, 0.01439177595753873, 1e-14, "mde");
        assert_rel(mde.relative, 0.01439177595753873 / 0.05, 1e-14, "relative mde");
        // Four times the visitors halve it.
        let bigger = conversion_mde(4000, 8000, 72000).unwrap();
        assert_rel(bigger.absolute, mde.absolute / 2.0, 1e-14, "mde at 4n");
        assert!(conversion_mde(0, 100, 100).is_none());
        assert!(conversion_mde(5, 0, 100).is_none());
    }

    #[test]
    fn srm_is_flagged_for_a_10_percent_holdout_that_came_out_12_percent() {
        let srm = sample_ratio_check(2400, 17600, 10).unwrap();
        assert!(srm.mismatch, "{srm:?}");
        assert_eq!(srm.observed_control_share, Some(0.12));
        let fine = sample_ratio_check(2020, 17980, 10).unwrap();
        assert!(!fine.mismatch, "{fine:?}");
        // A 0% holdout expects no control visitor.
        assert!(!sample_ratio_check(0, 500, 0).unwrap().mismatch);
        assert!(sample_ratio_check(1, 500, 0).unwrap().mismatch);
        assert_eq!(
            sample_ratio_check(1, 1, 120).unwrap_err().to_string(),
            "holdout_pct 120 is not a percentage of visitors: use 0 to 100 (the configuration allows 0 to 50; 0 turns the experiment off)"
        );
    }

    #[test]
    fn arm_summaries_count_visitors_orders_and_rupiah() {
        let visitors = [
            VisitorOutcome::bounced(),
            VisitorOutcome::converted(vec![100_000, 50_001]),
            VisitorOutcome::bounced(),
            VisitorOutcome::converted(vec![]),
            VisitorOutcome::converted(vec![25_000]),
        ];
        let s = summarise(Arm::Treatment, &visitors).unwrap();
        assert_eq!(
            s,
            ArmSummary {
                visitors: 5,
                converting_visitors: 3,
                conversion_rate: Some(0.6),
                orders: 3,
                revenue: 175_001,
                // 175,001 / 3 = 58,333.67; / 5 = 35,000.2.
                average_order_value: Some(58_334),
                revenue_per_visitor: Some(35_000),
            }
        );
        let empty = summarise(Arm::Control, &[]).unwrap();
        assert_eq!((empty.conversion_rate, empty.average_order_value), (None, None));
    }

    #[test]
    fn bad_outcomes_are_refused_with_the_visitor_and_the_fix() {
        let negative = [VisitorOutcome::bounced(), VisitorOutcome::converted(vec![10, -5])];
        assert_eq!(
            summarise(Arm::Control, &negative).unwrap_err().to_string(),
            "Control visitor #1 has an order of -5 rupiah: an order's value is zero or more whole rupiah"
        );
        let unconverted = [VisitorOutcome {
            converted: false,
            order_values: vec![1000],
        }];
        assert_eq!(
            summarise(Arm::Treatment, &unconverted).unwrap_err().to_string(),
            "Treatment visitor #0 has 1 order(s) but is not marked converted: set `converted` for every visitor with an order"
        );
        let huge = [VisitorOutcome::converted(vec![i64::MAX, 1])];
        assert!(matches!(
            summarise(Arm::Control, &huge),
            Err(ExperimentError::RevenueOverflow { arm: Arm::Control })
        ));
        let options = AnalysisOptions {
            bootstrap_resamples: 10,
            ..AnalysisOptions::new(10)
        };
        assert_eq!(
            analyse(&[], &[], &options).unwrap_err(),
            ExperimentError::TooFewResamples(10)
        );
    }

    #[test]
    fn the_bootstrap_is_reproducible_and_brackets_the_difference() {
        let control = ints(&[0, 0, 0, 0, 150000, 0, 89000, 0, 0, 240000, 0, 0]);
        let treatment = ints(&[0, 120000, 0, 310000, 0, 0, 99000, 0, 1250000, 0, 64000, 0, 0]);
        let a = bootstrap_mean_difference(&control, &treatment, 2000, 7).unwrap();
        let b = bootstrap_mean_difference(&control, &treatment, 2000, 7).unwrap();
        assert_eq!(a, b);
        let other = bootstrap_mean_difference(&control, &treatment, 2000, 8).unwrap();
        assert_ne!(a.ci95, other.ci95);
        assert!(a.ci95[0] < a.difference && a.difference < a.ci95[1], "{a:?}");
        // Percentiles can only come from achievable resample differences: the widest
        // possible is every treatment draw the largest and every control draw zero.
        assert!(a.ci95[1] <= 1_250_000.0 && a.ci95[0] >= -240_000.0, "{a:?}");
        // Constant arms leave nothing to resample.
        let flat = bootstrap_mean_difference(&[5.0, 5.0], &[7.0, 7.0, 7.0], 500, 1).unwrap();
        assert_eq!(flat.ci95, [2.0, 2.0]);
        assert!(bootstrap_mean_difference(&[], &[1.0], 500, 1).is_none());
    }

    #[test]
    fn resampled_means_have_the_plain_bootstraps_mean_and_variance() {
        // 50 values, 6 of them non-zero. n plain draws with replacement give a resampled
        // mean with expectation m and variance σ²/n, σ² = Σ(x − m)²/n; the skipping of zero
        // draws must give the same.
        let mut xs = vec![0.0; 44];
        xs.extend([120.0, 80.0, 300.0, 45.0, 1000.0, 60.0]);
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n / n;
        let nonzero: Vec<f64> = xs.iter().copied().filter(|&x| x != 0.0).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let k = 40_000;
        let means: Vec<f64> = (0..k)
            .map(|_| resample_sum(&nonzero, xs.len(), &mut rng) / n)
            .collect();
        let got_m = means.iter().sum::<f64>() / k as f64;
        let got_var = means.iter().map(|x| (x - got_m) * (x - got_m)).sum::<f64>() / (k - 1) as f64;
        // Standard errors: √(var/k) for the mean, about var·√(2/k)·(kurtosis factor) for
        // the variance; the bounds are several of them wide.
        assert!(
            (got_m - m).abs() < 5.0 * (var / k as f64).sqrt(),
            "mean {got_m} vs {m}"
        );
        assert!((got_var / var - 1.0).abs() < 0.06, "variance {got_var} vs {var}");
        // All values non-zero: the plain draws.
        let all = [1.0, 2.0, 3.0];
        let s = resample_sum(&all, 3, &mut rng);
        assert!((3.0..=9.0).contains(&s) && s.fract() == 0.0, "{s}");
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        // numpy.percentile([1, 2, 3, 4, 10], [2.5, 97.5]) = [1.1, 9.4].
        let xs = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_rel(percentile(&xs, 0.025), 1.1, 1e-14, "2.5%");
        assert_rel(percentile(&xs, 0.975), 9.4, 1e-14, "97.5%");
    }

    #[test]
    fn the_report_puts_the_pieces_together_and_serialises() {
        let mut control = vec![VisitorOutcome::bounced(); 180];
        control.extend((0..20).map(|i| VisitorOutcome::converted(vec![100_000 + 1000 * i])));
        let mut treatment = vec![VisitorOutcome::bounced(); 1700];
        treatment.extend((0..300).map(|i| VisitorOutcome::converted(vec![90_000 + 500 * i])));
        let r = analyse(&control, &treatment, &AnalysisOptions::new(10)).unwrap();
        assert_eq!(r.control.converting_visitors, 20);
        assert_eq!(r.treatment.visitors, 2000);
        assert!(!r.sample_ratio.mismatch, "{:?}", r.sample_ratio);
        let conv = r.conversion_rate.as_ref().unwrap();
        assert_rel(conv.difference, 0.15 - 0.10, 1e-12, "conversion difference");
        assert!(conv.p_value < 0.05, "{conv:?}");
        let boot = r.revenue_per_visitor_bootstrap.as_ref().unwrap();
        let rpv = r.revenue_per_visitor.as_ref().unwrap();
        assert_eq!(boot.difference, rpv.difference);
        assert_eq!(boot.resamples, 2000);
        assert!(r.conversion_mde.is_some());
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["control"]["visitors"], 200);
        assert_eq!(json["sample_ratio"]["mismatch"], false);
        assert!(json["conversion_rate"]["ci95"].is_array());
    }
}
