//! Parameter recovery with simulated data, and the sampling helpers it shares with
//! equating and readiness.

use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};

use super::{calibrate, mean, prior_logit, Response, Settings};
use crate::domain::mastery::sigmoid;

/// Figures of [`simulate_recovery`].
#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    pub persons: usize,
    pub items: usize,
    pub responses: usize,
    /// Pearson correlation between fitted and true difficulties.
    pub correlation: f64,
    /// Share of items whose interval fitted ± 1.96 SE covers the true difficulty, after moving
    /// the fitted values to the true values' mean (the same origin).
    pub coverage: f64,
    /// Root mean squared error after that alignment (logits).
    pub rmse: f64,
    /// Mean standard error (logits).
    pub mean_se: f64,
    /// Sweeps run and whether the fit converged.
    pub iterations: usize,
    pub converged: bool,
}

/// Parameter recovery with simulated data (deterministic for a `seed`): abilities and true
/// difficulties ~ N(0, 1); each person answers `per_person` distinct items drawn at random;
/// the author difficulty is a noisy label of the truth (true b plus N(0, 0.5²) noise, cut at
/// ±0.5 into 1/2/3) that gives the prior. Calibrates with the default [`Settings`].
pub fn simulate_recovery(persons: usize, items: usize, per_person: usize, seed: u64) -> Recovery {
    let mut rng = StdRng::seed_from_u64(seed);
    let truth: Vec<f64> = (0..items).map(|_| standard_normal(&mut rng)).collect();
    let priors: Vec<f64> = truth
        .iter()
        .map(|b| {
            let noisy = b + 0.5 * standard_normal(&mut rng);
            prior_logit(if noisy < -0.5 {
                1
            } else if noisy > 0.5 {
                3
            } else {
                2
            })
        })
        .collect();
    let per_person = per_person.min(items);
    let mut responses = Vec::with_capacity(persons * per_person);
    for person in 0..persons {
        let ability = standard_normal(&mut rng);
        for item in sample(&mut rng, items, per_person) {
            let correct = rng.gen::<f64>() < sigmoid(ability - truth[item]);
            responses.push(Response {
                person,
                item,
                correct,
            });
        }
    }
    let fit = calibrate(persons, &priors, &responses, &Settings::default());
    let fitted: Vec<f64> = fit.items.iter().map(|e| e.difficulty).collect();
    let shift =
        mean(truth.iter().copied()).unwrap_or(0.0) - mean(fitted.iter().copied()).unwrap_or(0.0);
    let n = items.max(1) as f64;
    let covered = fit
        .items
        .iter()
        .zip(&truth)
        .filter(|(e, b)| (e.difficulty + shift - **b).abs() <= 1.96 * e.se)
        .count();
    let rmse = (fit
        .items
        .iter()
        .zip(&truth)
        .map(|(e, b)| (e.difficulty + shift - b).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    Recovery {
        persons,
        items,
        responses: responses.len(),
        correlation: pearson(&fitted, &truth),
        coverage: covered as f64 / n,
        rmse,
        mean_se: fit.items.iter().map(|e| e.se).sum::<f64>() / n,
        iterations: fit.iterations,
        converged: fit.converged,
    }
}

/// Pearson correlation of two equally long samples (0 when either has no variance).
pub(crate) fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len()) as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// A standard normal draw by Box–Muller (u1 in (0, 1] keeps the logarithm finite).
pub(crate) fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = 1.0 - rng.gen::<f64>();
    let u2 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
