//! Recalibrating readiness's pass probability against real outcomes (Platt scaling).
//!
//! Readiness simulates the exam from the learner model's beliefs, and those beliefs come from
//! an approximate online update with a fixed prior. Its pass probability is therefore close to
//! calibrated but not exactly: in the calibration check it runs a few points low where the
//! equated pass point lies in the population's tail (docs/mastery.md, "Readiness"). The
//! remedy used in practice is to fit the prediction to what actually happened: every `exam`
//! attempt of a scaled blueprint stores the pass probability readiness predicted when it
//! started, its result says whether it passed, and calibration fits
//! P(pass) = sigmoid(slope · logit(predicted) + intercept) by maximum likelihood.
//!
//! The fit has a Gaussian prior centred on the identity (slope 1, intercept 0), so a small or
//! one-sided sample moves the map little, and it is only used from [`MIN_OUTCOMES`] outcomes
//! with at least [`MIN_EACH`] passes and fails. The map is monotone (slope > 0), so it never
//! reorders learners.

use super::super::mastery::sigmoid;

/// Outcomes needed before a fitted map is used.
pub const MIN_OUTCOMES: usize = 200;
/// Passes and fails each needed before a fitted map is used.
pub const MIN_EACH: usize = 10;
/// Precision of the prior on (slope − 1) and on intercept. An outcome near p = 0.2 carries
/// about 0.16 of information on the intercept, so this weighs like some 120 outcomes: 200
/// outcomes move the map about halfway, 2,000 almost all the way.
const PRIOR_PRECISION: f64 = 20.0;
/// The fitted map is used only when it explains the outcomes better than the identity by a
/// likelihood-ratio test at 5 % (χ² with 2 degrees of freedom): a predictor that is already
/// calibrated is not moved by the noise of a finite sample.
const LR_THRESHOLD: f64 = 5.991;
/// Predictions are clamped to [EPS, 1 − EPS] before the logit (0 and 1 happen: a prediction is
/// a share of simulated sittings).
const EPS: f64 = 1e-3;

/// P(pass) = sigmoid(slope · logit(predicted) + intercept).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recalibration {
    pub slope: f64,
    pub intercept: f64,
}

impl Recalibration {
    pub const IDENTITY: Recalibration = Recalibration {
        slope: 1.0,
        intercept: 0.0,
    };

    /// The recalibrated probability. Identity maps p to itself (up to the clamp at the ends).
    pub fn apply(&self, predicted: f64) -> f64 {
        if *self == Self::IDENTITY || !predicted.is_finite() {
            return predicted;
        }
        sigmoid(self.slope * logit(predicted) + self.intercept)
    }
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(EPS, 1.0 - EPS);
    (p / (1.0 - p)).ln()
}

/// Fits the map to (predicted pass probability, passed) pairs. `None` below the minimum
/// sample ([`MIN_OUTCOMES`], [`MIN_EACH`]), when the fit is no significant improvement on the
/// identity ([`LR_THRESHOLD`]), or when it does not converge.
pub fn fit(outcomes: &[(f64, bool)]) -> Option<Recalibration> {
    let passes = outcomes.iter().filter(|(_, y)| *y).count();
    if outcomes.len() < MIN_OUTCOMES
        || passes < MIN_EACH
        || outcomes.len() - passes < MIN_EACH
        || outcomes.iter().any(|(p, _)| !p.is_finite())
    {
        return None;
    }
    let xs: Vec<(f64, f64)> = outcomes
        .iter()
        .map(|(p, y)| (logit(*p), if *y { 1.0 } else { 0.0 }))
        .collect();
    // Newton–Raphson on the penalised log-likelihood, parameters (slope, intercept), each step
    // halved until it does not lower the objective (plain Newton can overshoot on data that
    // are nearly separable)
    let log_likelihood = |a: f64, c: f64| -> f64 {
        xs.iter()
            .map(|(x, y)| {
                let z = a * x + c;
                // log sigmoid(z) for y = 1, log sigmoid(−z) for y = 0, without overflow
                let s = if *y > 0.5 { z } else { -z };
                -(1.0 + (-s.abs()).exp()).ln() + s.min(0.0)
            })
            .sum::<f64>()
    };
    let objective = |a: f64, c: f64| -> f64 {
        log_likelihood(a, c) - 0.5 * PRIOR_PRECISION * ((a - 1.0).powi(2) + c * c)
    };
    let (mut a, mut c) = (1.0, 0.0);
    let mut current = objective(a, c);
    for _ in 0..100 {
        let (mut ga, mut gc) = (-PRIOR_PRECISION * (a - 1.0), -PRIOR_PRECISION * c);
        let (mut haa, mut hac, mut hcc) = (PRIOR_PRECISION, 0.0, PRIOR_PRECISION);
        for (x, y) in &xs {
            let p = sigmoid(a * x + c);
            let w = p * (1.0 - p);
            ga += (y - p) * x;
            gc += y - p;
            haa += w * x * x;
            hac += w * x;
            hcc += w;
        }
        let det = haa * hcc - hac * hac;
        if !det.is_finite() || det <= 0.0 {
            return None;
        }
        let (da, dc) = ((hcc * ga - hac * gc) / det, (haa * gc - hac * ga) / det);
        let mut step = 1.0;
        let next = loop {
            let value = objective(a + step * da, c + step * dc);
            if value >= current || step < 1e-6 {
                break value;
            }
            step /= 2.0;
        };
        a += step * da;
        c += step * dc;
        let gained = next - current;
        current = next;
        if (step * da).abs() < 1e-9 && (step * dc).abs() < 1e-9 || gained.abs() < 1e-12 {
            let significant =
                2.0 * (log_likelihood(a, c) - log_likelihood(1.0, 0.0)) >= LR_THRESHOLD;
            return (a.is_finite() && c.is_finite() && a > 0.0 && significant).then_some(
                Recalibration {
                    slope: a,
                    intercept: c,
                },
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// Predictions that run low in a known way: the fit recovers the distortion, and the
    /// recalibrated predictions match the outcomes decile by decile.
    #[test]
    fn recovers_a_known_distortion() {
        let mut rng = StdRng::seed_from_u64(14);
        let truth = Recalibration {
            slope: 0.9,
            intercept: 0.3,
        };
        let outcomes: Vec<(f64, bool)> = (0..20_000)
            .map(|_| {
                let predicted = sigmoid(rng.gen_range(-4.0..3.0));
                (predicted, rng.gen::<f64>() < truth.apply(predicted))
            })
            .collect();
        let fitted = fit(&outcomes).expect("enough outcomes");
        assert!((fitted.slope - 0.9).abs() < 0.05, "{fitted:?}");
        assert!((fitted.intercept - 0.3).abs() < 0.06, "{fitted:?}");
        let mut by: Vec<(f64, bool)> = outcomes
            .iter()
            .map(|(p, y)| (fitted.apply(*p), *y))
            .collect();
        by.sort_by(|a, b| a.0.total_cmp(&b.0));
        for decile in by.chunks(by.len() / 10) {
            let n = decile.len() as f64;
            let predicted = decile.iter().map(|r| r.0).sum::<f64>() / n;
            let observed = decile.iter().filter(|r| r.1).count() as f64 / n;
            assert!(
                (predicted - observed).abs() < 0.03,
                "{predicted} vs {observed}"
            );
        }
    }

    /// Outcomes that are a step in the prediction (everyone above a point passes, and many
    /// predictions are exactly 0, as a share of simulated sittings can be): the damped fit
    /// converges, raises the low predictions and keeps the order.
    #[test]
    fn nearly_separable_outcomes_converge() {
        let outcomes: Vec<(f64, bool)> = (0..300)
            .map(|i| {
                let p = if i < 120 {
                    0.0
                } else {
                    f64::from(i - 120) / 200.0
                };
                (p, i >= 100)
            })
            .collect();
        let fitted = fit(&outcomes).expect("a fit");
        assert!(fitted.slope > 0.0, "{fitted:?}");
        assert!(fitted.apply(0.05) > 0.05, "{fitted:?}");
        assert!(fitted.apply(0.2) < fitted.apply(0.3));
    }

    #[test]
    fn calibrated_predictions_stay_put() {
        let mut rng = StdRng::seed_from_u64(7);
        let outcomes: Vec<(f64, bool)> = (0..5_000)
            .map(|_| {
                let p = rng.gen::<f64>();
                (p, rng.gen::<f64>() < p)
            })
            .collect();
        // calibrated predictions: the identity explains them as well as any fit
        assert_eq!(fit(&outcomes), None);
        // with a real distortion on the same predictions the map is used
        let low: Vec<(f64, bool)> = outcomes
            .iter()
            .map(|(p, _)| (*p, rng.gen::<f64>() < (p + 0.08).min(1.0)))
            .collect();
        let fitted = fit(&low).expect("a significant distortion");
        assert!(fitted.apply(0.3) > 0.33, "{fitted:?}");
    }

    #[test]
    fn too_few_or_one_sided_outcomes_fit_nothing() {
        let few: Vec<(f64, bool)> = (0..MIN_OUTCOMES - 1).map(|i| (0.5, i % 2 == 0)).collect();
        assert_eq!(fit(&few), None);
        let all_fail: Vec<(f64, bool)> = (0..500).map(|i| (0.3, i < MIN_EACH - 1)).collect();
        assert_eq!(fit(&all_fail), None);
        assert_eq!(fit(&[(f64::NAN, true); 200]), None);
        assert_eq!(fit(&[]), None);
    }

    #[test]
    fn the_map_is_monotone_and_bounded() {
        let r = Recalibration {
            slope: 0.8,
            intercept: 0.4,
        };
        let mut last = 0.0;
        for i in 0..=100 {
            let p = r.apply(f64::from(i) / 100.0);
            assert!((0.0..=1.0).contains(&p) && p >= last, "{i}: {p}");
            last = p;
        }
        assert_eq!(Recalibration::IDENTITY.apply(0.0), 0.0);
        assert_eq!(Recalibration::IDENTITY.apply(0.37), 0.37);
    }
}
