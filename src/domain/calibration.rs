//! Rasch (1PL) calibration of item difficulties from learners' answers (issue 14), and the
//! pilot verdict that promotes an unscored question to a scored one.
//!
//! Model: P(correct | θ, b) = sigmoid(θ − b), with θ the person's ability and b the item's
//! difficulty, both in logits. Estimation is joint maximum a posteriori (JMAP): every person
//! has a normal prior N(μ, [`Settings::person_sd`]²) centred on the cohort's current mean μ,
//! and every fitted item a normal prior N(prior, [`Settings::item_sd`]²) around the value from
//! its author difficulty ([`prior_logit`]). The priors keep perfect and zero scores (of persons
//! and of items) finite; because they are used, no (L−1)/L JML bias correction is applied. The
//! fit alternates one damped Newton step per person and one per item over sparse response
//! lists, then moves the free parameters by a common shift that fixes the origin ([`Anchor`]).
//! See docs/measurement.md.
//!
//! The pilot rule is in `calibration/pilot.rs`, the recovery simulation (and the sampling
//! helpers other modules share) in `calibration/simulation.rs`, the tests in
//! `calibration/tests.rs`.

use std::collections::BTreeMap;

use super::mastery::{difficulty_offset, sigmoid};

mod pilot;
mod simulation;

pub use pilot::{
    pilot_verdict, FlagReason, Verdict, PILOT_MAX_FACILITY, PILOT_MIN_FACILITY,
    PILOT_MIN_POINT_BISERIAL, PILOT_MIN_RESPONSES,
};
pub(crate) use simulation::standard_normal;
pub use simulation::{simulate_recovery, Recovery};

/// Largest Newton step (logits) per parameter and sweep; keeps the first sweeps stable.
const MAX_STEP: f64 = 1.0;

/// Prior difficulty (logits) of an author difficulty: 1 (easy) → −1, 2 (medium) → 0,
/// 3 (hard) → +1, the same mapping as the learner model (`mastery::DIFFICULTY_OFFSET`);
/// values outside 1..=3 are clamped.
pub fn prior_logit(author_difficulty: i16) -> f64 {
    difficulty_offset(author_difficulty)
}

/// One answer: `person` and `item` are indices (`person < persons`, `item < priors.len()` in
/// [`calibrate`]); repeated answers of a person to an item count as separate responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub person: usize,
    pub item: usize,
    pub correct: bool,
}

/// How the origin of the logit scale is fixed (the Rasch model only identifies differences).
#[derive(Debug, Clone, PartialEq)]
pub enum Anchor {
    /// The mean difficulty of the fitted items equals the mean of their priors, so the
    /// calibrated scale stays comparable to the author scale (and to items that keep their
    /// prior).
    PriorMean,
    /// These items (index → difficulty in logits) keep the given difficulties and fix the
    /// origin; every other item with enough responses is fitted. Indices out of range are
    /// ignored.
    Fixed(BTreeMap<usize, f64>),
}

/// Settings of [`calibrate`]; [`Settings::default`] gives the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Responses an item needs to be fitted; with fewer it keeps its prior (default 30).
    pub min_responses: usize,
    /// Sweeps (one Newton step per person and per item each) before giving up (default 500).
    pub max_iterations: usize,
    /// Converged when no parameter moved more than this in a sweep (logits, default 1e-4).
    pub tolerance: f64,
    /// Standard deviation of the persons' prior around the cohort mean (default 1.5).
    pub person_sd: f64,
    /// Standard deviation of a fitted item's prior around its author value (default 1.5).
    pub item_sd: f64,
    /// How the origin is fixed (default [`Anchor::PriorMean`]).
    pub anchor: Anchor,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_responses: 30,
            max_iterations: 500,
            tolerance: 1e-4,
            person_sd: 1.5,
            item_sd: 1.5,
            anchor: Anchor::PriorMean,
        }
    }
}

/// Where an item's difficulty came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Estimated from its responses (at least `min_responses`).
    Fitted,
    /// Too few responses: kept its prior.
    Prior,
    /// An anchor of [`Anchor::Fixed`]: kept the given value.
    Anchored,
}

/// Calibration result and classical statistics for one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemEstimate {
    /// Difficulty in logits.
    pub difficulty: f64,
    /// Standard error (logits): 1 / sqrt(Σ p(1−p) over its responses + 1/item_sd²) when
    /// fitted, `item_sd` when it kept its prior, 0 for an anchor.
    pub se: f64,
    /// Number of responses.
    pub responses: usize,
    /// Share of responses that were correct; `None` without responses.
    pub facility: Option<f64>,
    /// Corrected item-total correlation: Pearson correlation, over the item's responses,
    /// between the item score (0/1) and the person's share correct on their *other* responses
    /// (persons with no other response are left out). `None` with fewer than two such
    /// responses or when either side has no variance.
    pub point_biserial: Option<f64>,
    /// Fitted, kept its prior, or anchored.
    pub source: Source,
}

/// Result of [`calibrate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// One per item, in the order of `priors`.
    pub items: Vec<ItemEstimate>,
    /// Ability (logits) per person; a person without responses gets the cohort mean.
    pub abilities: Vec<f64>,
    /// Sweeps run.
    pub iterations: usize,
    /// Whether the last sweep moved no parameter more than `tolerance`.
    pub converged: bool,
}

/// Responses grouped by one side (person or item): `other[start[k]..start[k + 1]]` are the
/// indices on the other side of `k`'s responses and `correct` their outcomes.
struct Grouped {
    start: Vec<usize>,
    other: Vec<u32>,
    correct: Vec<bool>,
}

impl Grouped {
    fn new(n: usize, pairs: &[(u32, u32, bool)]) -> Self {
        let mut start = vec![0usize; n + 1];
        for &(k, _, _) in pairs {
            start[k as usize + 1] += 1;
        }
        for k in 0..n {
            start[k + 1] += start[k];
        }
        let mut next = start.clone();
        let mut other = vec![0u32; pairs.len()];
        let mut correct = vec![false; pairs.len()];
        for &(k, o, y) in pairs {
            let at = &mut next[k as usize];
            other[*at] = o;
            correct[*at] = y;
            *at += 1;
        }
        Grouped {
            start,
            other,
            correct,
        }
    }

    fn len(&self, k: usize) -> usize {
        self.start[k + 1] - self.start[k]
    }

    fn of(&self, k: usize) -> impl Iterator<Item = (usize, bool)> + '_ {
        let range = self.start[k]..self.start[k + 1];
        self.other[range.clone()]
            .iter()
            .zip(&self.correct[range])
            .map(|(o, y)| (*o as usize, *y))
    }

    /// Σ (y − p) and Σ p(1 − p) over `k`'s responses, p = sigmoid(sign · (x_k − x_other)).
    fn sums(&self, k: usize, own: f64, others: &[f64], person_side: bool) -> (f64, f64) {
        let (mut residual, mut info) = (0.0, 0.0);
        for (o, y) in self.of(k) {
            let p = if person_side {
                sigmoid(own - others[o])
            } else {
                sigmoid(others[o] - own)
            };
            residual += f64::from(u8::from(y)) - p;
            info += p * (1.0 - p);
        }
        (residual, info)
    }
}

/// Calibrate `priors.len()` items (priors in logits, see [`prior_logit`]) from `responses` of
/// `persons` persons. Responses with an index out of range are ignored. Deterministic.
///
/// Each sweep takes one damped Newton step on every person's ability (prior N(μ, person_sd²),
/// μ the mean ability of the persons with responses) and then on every fitted item's
/// difficulty (prior N(prior, item_sd²)); items with fewer than `min_responses` responses keep
/// their prior but still inform the abilities. Then the fitted items and the persons move by
/// one common shift: with [`Anchor::PriorMean`] the shift that makes the fitted items' mean
/// equal their priors' mean, with [`Anchor::Fixed`] a Newton step on the shift against the
/// fixed (anchored or prior-kept) items and the item priors.
pub fn calibrate(
    persons: usize,
    priors: &[f64],
    responses: &[Response],
    settings: &Settings,
) -> Calibration {
    let items = priors.len();
    let kept: Vec<&Response> = responses
        .iter()
        .filter(|r| r.person < persons && r.item < items)
        .collect();
    let by_person = Grouped::new(
        persons,
        &kept
            .iter()
            .map(|r| (r.person as u32, r.item as u32, r.correct))
            .collect::<Vec<_>>(),
    );
    let by_item = Grouped::new(
        items,
        &kept
            .iter()
            .map(|r| (r.item as u32, r.person as u32, r.correct))
            .collect::<Vec<_>>(),
    );

    let mut b = priors.to_vec();
    let mut source: Vec<Source> = (0..items)
        .map(|i| {
            if by_item.len(i) >= settings.min_responses.max(1) {
                Source::Fitted
            } else {
                Source::Prior
            }
        })
        .collect();
    if let Anchor::Fixed(anchors) = &settings.anchor {
        for (&i, &value) in anchors.iter().filter(|(i, _)| **i < items) {
            b[i] = value;
            source[i] = Source::Anchored;
        }
    }
    let fitted: Vec<usize> = (0..items)
        .filter(|i| source[*i] == Source::Fitted)
        .collect();
    let active: Vec<usize> = (0..persons).filter(|j| by_person.len(*j) > 0).collect();

    // Start: the mean difficulty of the person's items plus the logit of their smoothed share.
    let mut theta = vec![0.0; persons];
    for &j in &active {
        let (mut sum_b, mut right) = (0.0, 0.0);
        for (i, y) in by_person.of(j) {
            sum_b += b[i];
            right += f64::from(u8::from(y));
        }
        let n = by_person.len(j) as f64;
        theta[j] = sum_b / n + ((right + 0.5) / (n - right + 0.5)).ln();
    }

    let person_precision = 1.0 / settings.person_sd.powi(2);
    let item_precision = 1.0 / settings.item_sd.powi(2);
    let mut converged = false;
    let mut iterations = 0;
    let (mut old_theta, mut old_b) = (theta.clone(), b.clone());
    while iterations < settings.max_iterations && !converged {
        iterations += 1;
        old_theta.copy_from_slice(&theta);
        old_b.copy_from_slice(&b);

        let mu = mean(active.iter().map(|j| theta[*j])).unwrap_or(0.0);
        for &j in &active {
            let (residual, info) = by_person.sums(j, theta[j], &b, true);
            let gradient = residual - (theta[j] - mu) * person_precision;
            let step = gradient / (info + person_precision);
            theta[j] += step.clamp(-MAX_STEP, MAX_STEP);
        }
        for &i in &fitted {
            let (residual, info) = by_item.sums(i, b[i], &theta, false);
            // d/db log-likelihood = Σ (p − y) = −residual.
            let gradient = -residual - (b[i] - priors[i]) * item_precision;
            let step = gradient / (info + item_precision);
            b[i] += step.clamp(-MAX_STEP, MAX_STEP);
        }

        let shift = match &settings.anchor {
            Anchor::PriorMean => mean(fitted.iter().map(|i| priors[*i] - b[*i])).unwrap_or(0.0),
            Anchor::Fixed(_) => {
                // Moving every free parameter by s changes only the fit to the fixed items and
                // the item priors (the person prior follows the cohort mean).
                let (mut gradient, mut info) = (0.0, 0.0);
                for i in (0..items).filter(|i| source[*i] != Source::Fitted) {
                    let (residual, inf) = by_item.sums(i, b[i], &theta, false);
                    gradient += residual;
                    info += inf;
                }
                for &i in &fitted {
                    gradient -= (b[i] - priors[i]) * item_precision;
                    info += item_precision;
                }
                if info > 0.0 {
                    (gradient / info).clamp(-MAX_STEP, MAX_STEP)
                } else {
                    0.0
                }
            }
        };
        for &i in &fitted {
            b[i] += shift;
        }
        for &j in &active {
            theta[j] += shift;
        }

        let moved = active
            .iter()
            .map(|j| (theta[*j] - old_theta[*j]).abs())
            .chain(fitted.iter().map(|i| (b[*i] - old_b[*i]).abs()))
            .fold(0.0, f64::max);
        converged = moved <= settings.tolerance;
    }
    if items == 0 || (active.is_empty() && fitted.is_empty()) {
        converged = true;
    }

    let mu = mean(active.iter().map(|j| theta[*j])).unwrap_or(0.0);
    for j in (0..persons).filter(|j| by_person.len(*j) == 0) {
        theta[j] = mu;
    }

    let point_biserials = point_biserials(items, persons, &by_person, &by_item);
    let estimates = (0..items)
        .map(|i| {
            let n = by_item.len(i);
            let right = by_item.of(i).filter(|(_, y)| *y).count();
            let se = match source[i] {
                Source::Fitted => {
                    let (_, info) = by_item.sums(i, b[i], &theta, false);
                    1.0 / (info + item_precision).sqrt()
                }
                Source::Prior => settings.item_sd,
                Source::Anchored => 0.0,
            };
            ItemEstimate {
                difficulty: b[i],
                se,
                responses: n,
                facility: (n > 0).then(|| right as f64 / n as f64),
                point_biserial: point_biserials[i],
                source: source[i],
            }
        })
        .collect();
    Calibration {
        items: estimates,
        abilities: theta,
        iterations,
        converged,
    }
}

/// Corrected item-total correlation per item (see [`ItemEstimate::point_biserial`]).
fn point_biserials(
    items: usize,
    persons: usize,
    by_person: &Grouped,
    by_item: &Grouped,
) -> Vec<Option<f64>> {
    let right: Vec<f64> = (0..persons)
        .map(|j| by_person.of(j).filter(|(_, y)| *y).count() as f64)
        .collect();
    (0..items)
        .map(|i| {
            let (mut n, mut sx, mut sr, mut srr, mut sxr) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (j, y) in by_item.of(i) {
                let others = by_person.len(j);
                if others < 2 {
                    continue;
                }
                let x = f64::from(u8::from(y));
                let rest = (right[j] - x) / (others - 1) as f64;
                n += 1.0;
                sx += x;
                sr += rest;
                srr += rest * rest;
                sxr += x * rest;
            }
            let var_x = n * sx - sx * sx;
            let var_r = n * srr - sr * sr;
            if n < 2.0 || var_x <= 1e-12 || var_r <= 1e-12 {
                None
            } else {
                Some((n * sxr - sx * sr) / (var_x * var_r).sqrt())
            }
        })
        .collect()
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

#[cfg(test)]
mod tests;
