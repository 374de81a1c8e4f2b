//! The statistics of an evaluation: mean and sample standard deviation over test orders, and
//! the paired t-test that compares two models on the same orders (seed 000 §2F.4).
//!
//! Student's t distribution is computed here rather than taken from a crate: its CDF is the
//! regularized incomplete beta function, `P(T ≤ t) = 1 − ½·I_{ν/(ν+t²)}(ν/2, ½)` for t ≥ 0,
//! which is a few dozen lines (Lanczos log-gamma and Lentz's continued fraction, as in
//! *Numerical Recipes* §6.1 and §6.4) and accurate to about 1e-14 for the degrees of freedom
//! an evaluation meets. The two-sided p-value is `I_{ν/(ν+t²)}(ν/2, ½)` itself, so a tiny p is
//! not lost to `1 − 0.99999…`. The 95% quantile for the confidence interval is found by
//! bisection on the CDF.

use serde::{Deserialize, Serialize};

/// Arithmetic mean; `None` for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Sample standard deviation (divisor n − 1); `None` for fewer than two values.
pub fn sample_std(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values)?;
    let ss: f64 = values.iter().map(|x| (x - m) * (x - m)).sum();
    Some((ss / (values.len() - 1) as f64).sqrt())
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients; relative error about 1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, &c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The regularized incomplete beta function I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1.
pub fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry
    // I_x(a, b) = 1 − I_{1−x}(b, a) on the other side.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

/// The continued fraction of the incomplete beta function, by the modified Lentz method.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=1000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        // Even step.
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        // Odd step.
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// P(|T| ≥ |t|) for Student's t with `df` degrees of freedom: the two-sided p-value.
pub fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * student_t_two_sided_p(t, df);
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The `p` quantile (0.5 ≤ p < 1) of Student's t with `df` degrees of freedom, by bisection.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    assert!((0.5..1.0).contains(&p), "quantile {p} outside [0.5, 1)");
    let mut hi = 1.0;
    while student_t_cdf(hi, df) < p {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if student_t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// A paired t-test of `a − b` over the same units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedTTest {
    pub n: usize,
    /// Mean of the differences a − b.
    pub mean_diff: f64,
    /// 95% confidence interval of the mean difference.
    pub ci95: [f64; 2],
    /// The t statistic; infinite when every difference is the same non-zero number.
    pub t: f64,
    pub df: f64,
    /// Two-sided.
    pub p_value: f64,
}

/// Student's paired t-test of `a` against `b` (same length, same order); `None` for fewer than
/// two pairs. When every difference is equal the standard error is 0: t is 0 and p is 1 when
/// they are all 0 (the models agree everywhere), t is ±∞ and p is 0 otherwise.
pub fn paired_t_test(a: &[f64], b: &[f64]) -> Option<PairedTTest> {
    assert_eq!(a.len(), b.len(), "a paired test needs pairs");
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = d.len();
    let mean_diff = mean(&d)?;
    let sd = sample_std(&d)?;
    let df = (n - 1) as f64;
    let se = sd / (n as f64).sqrt();
    let (t, p_value) = if se == 0.0 {
        if mean_diff == 0.0 {
            (0.0, 1.0)
        } else {
            (mean_diff.signum() * f64::INFINITY, 0.0)
        }
    } else {
        let t = mean_diff / se;
        (t, student_t_two_sided_p(t, df))
    };
    let half = student_t_quantile(0.975, df) * se;
    Some(PairedTTest {
        n,
        mean_diff,
        ci95: [mean_diff - half, mean_diff + half],
        t,
        df,
        p_value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn mean_and_sample_std_use_n_minus_one() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, 32 / 7.
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&xs), Some(5.0));
        assert!(close(sample_std(&xs).unwrap(), (32.0f64 / 7.0).sqrt(), 1e-15));
        assert_eq!(sample_std(&[1.0]), None);
        assert_eq!(mean(&[]), None);
    }

    #[test]
    fn ln_gamma_matches_factorials_and_the_half_integer_values() {
        assert!(close(ln_gamma(1.0), 0.0, 1e-14));
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-13));
        assert!(close(ln_gamma(11.0), 3_628_800f64.ln(), 1e-12));
        // Γ(½) = √π, Γ(3/2) = √π / 2.
        let sqrt_pi = std::f64::consts::PI.sqrt();
        assert!(close(ln_gamma(0.5), sqrt_pi.ln(), 1e-14));
        assert!(close(ln_gamma(1.5), (sqrt_pi / 2.0).ln(), 1e-14));
    }

    #[test]
    fn the_incomplete_beta_matches_closed_forms() {
        // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 − (1 − x)^b.
        for &x in &[0.0, 0.1, 0.37, 0.5, 0.9, 1.0] {
            assert!(close(regularized_incomplete_beta(1.0, 1.0, x), x, 1e-14));
            assert!(close(regularized_incomplete_beta(3.0, 1.0, x), x.powi(3), 1e-14));
            assert!(close(
                regularized_incomplete_beta(1.0, 4.0, x),
                1.0 - (1.0 - x).powi(4),
                1e-14
            ));
        }
        // Symmetry: I_x(a, b) = 1 − I_{1−x}(b, a).
        let (a, b, x) = (2.5, 7.25, 0.3);
        assert!(close(
            regularized_incomplete_beta(a, b, x),
            1.0 - regularized_incomplete_beta(b, a, 1.0 - x),
            1e-14
        ));
    }

    #[test]
    fn the_t_cdf_matches_the_closed_forms_for_one_and_two_degrees_of_freedom() {
        for &t in &[-30.0, -4.0, -1.0, -0.3, 0.0, 0.5, 1.0, 2.5, 12.0, 100.0] {
            // ν = 1 is the Cauchy distribution: ½ + atan(t)/π.
            let cauchy = 0.5 + f64::atan(t) / std::f64::consts::PI;
            assert!(close(student_t_cdf(t, 1.0), cauchy, 1e-13), "t = {t}");
            // ν = 2: ½ + t / (2·√(2 + t²)).
            let two = 0.5 + t / (2.0 * (2.0 + t * t).sqrt());
            assert!(close(student_t_cdf(t, 2.0), two, 1e-13), "t = {t}");
        }
    }

    #[test]
    fn t_quantiles_match_the_printed_tables() {
        // Two-sided 5% critical values from any t table (e.g. NIST/SEMATECH e-Handbook §1.3.6.7.2).
        for &(df, q) in &[
            (1.0, 12.706_204_736),
            (2.0, 4.302_652_730),
            (5.0, 2.570_581_836),
            (9.0, 2.262_157_163),
            (30.0, 2.042_272_456),
            (120.0, 1.979_930_405),
        ] {
            let got = student_t_quantile(0.975, df);
            assert!(close(got, q, 1e-8), "df {df}: {got} vs {q}");
        }
        // Many degrees of freedom: the normal 1.959964.
        assert!(close(student_t_quantile(0.975, 1e7), 1.959_963_985, 1e-6));
    }

    #[test]
    fn the_paired_t_test_reproduces_students_sleep_data() {
        // Student (1908), "The probable error of a mean", Biometrika 6(1), table II: extra hours
        // of sleep of 10 patients under two soporifics (Cushny & Peebles' data; R's `sleep`).
        // R: t.test(extra ~ group, data = sleep, paired = TRUE) gives
        //   t = -4.0621, df = 9, p-value = 0.002833,
        //   95 percent CI -2.4598858 -0.7001142, mean difference -1.58.
        let drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
        let drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
        let r = paired_t_test(&drug1, &drug2).unwrap();
        assert_eq!(r.n, 10);
        assert_eq!(r.df, 9.0);
        assert!(close(r.mean_diff, -1.58, 1e-12), "{}", r.mean_diff);
        assert!(close(r.t, -4.062_127_683, 1e-8), "{}", r.t);
        assert!(close(r.p_value, 0.002_832_890, 1e-8), "{}", r.p_value);
        assert!(close(r.ci95[0], -2.459_885_8, 1e-7), "{:?}", r.ci95);
        assert!(close(r.ci95[1], -0.700_114_2, 1e-7), "{:?}", r.ci95);
    }

    #[test]
    fn equal_differences_give_a_degenerate_but_defined_test() {
        let same = paired_t_test(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!((same.t, same.p_value, same.ci95), (0.0, 1.0, [0.0, 0.0]));
        let shifted = paired_t_test(&[2.0, 3.0, 4.0], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(shifted.t, f64::INFINITY);
        assert_eq!(shifted.p_value, 0.0);
        assert!(paired_t_test(&[1.0], &[0.0]).is_none());
    }
}
