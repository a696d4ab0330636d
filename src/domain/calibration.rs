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

use std::collections::BTreeMap;
use std::fmt;

use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};

use super::mastery::{difficulty_offset, sigmoid};

/// Responses an unscored (pilot) item needs before [`pilot_verdict`] judges it.
pub const PILOT_MIN_RESPONSES: usize = 30;
/// Lowest facility (share correct) a promoted item may have.
pub const PILOT_MIN_FACILITY: f64 = 0.20;
/// Highest facility a promoted item may have.
pub const PILOT_MAX_FACILITY: f64 = 0.95;
/// Lowest corrected point-biserial correlation a promoted item may have.
pub const PILOT_MIN_POINT_BISERIAL: f64 = 0.15;

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

/// What to do with a pilot (unscored) item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Enough responses and good statistics: make it a scored item.
    Promote,
    /// Enough responses but a statistic is out of bounds: a person should review it.
    Flag(FlagReason),
    /// Fewer than [`PILOT_MIN_RESPONSES`] responses: keep piloting.
    Wait,
}

/// Why [`pilot_verdict`] flagged an item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FlagReason {
    /// Facility below [`PILOT_MIN_FACILITY`] (too hard, or a wrong key).
    TooHard { facility: f64 },
    /// Facility above [`PILOT_MAX_FACILITY`] (too easy to tell anyone apart).
    TooEasy { facility: f64 },
    /// Point-biserial below [`PILOT_MIN_POINT_BISERIAL`] (weak or negative discrimination).
    WeakDiscrimination { point_biserial: f64 },
    /// No point-biserial could be computed (no variance in the rest scores).
    NoDiscrimination,
}

impl fmt::Display for FlagReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlagReason::TooHard { facility } => write!(
                f,
                "too hard: facility {facility:.2} < {PILOT_MIN_FACILITY:.2} (check the key)"
            ),
            FlagReason::TooEasy { facility } => {
                write!(
                    f,
                    "too easy: facility {facility:.2} > {PILOT_MAX_FACILITY:.2}"
                )
            }
            FlagReason::WeakDiscrimination { point_biserial } => write!(
                f,
                "weak discrimination: point-biserial {point_biserial:.2} < \
                 {PILOT_MIN_POINT_BISERIAL:.2}"
            ),
            FlagReason::NoDiscrimination => write!(f, "no discrimination could be computed"),
        }
    }
}

/// Pilot promotion rule: [`Verdict::Wait`] below [`PILOT_MIN_RESPONSES`] responses; otherwise
/// [`Verdict::Promote`] when the facility is within
/// [[`PILOT_MIN_FACILITY`], [`PILOT_MAX_FACILITY`]] and the point-biserial is at least
/// [`PILOT_MIN_POINT_BISERIAL`] (bounds inclusive), else [`Verdict::Flag`] with the first
/// failed check (facility before discrimination).
pub fn pilot_verdict(stats: &ItemEstimate) -> Verdict {
    let Some(facility) = stats.facility else {
        return Verdict::Wait;
    };
    if stats.responses < PILOT_MIN_RESPONSES {
        return Verdict::Wait;
    }
    if facility < PILOT_MIN_FACILITY {
        return Verdict::Flag(FlagReason::TooHard { facility });
    }
    if facility > PILOT_MAX_FACILITY {
        return Verdict::Flag(FlagReason::TooEasy { facility });
    }
    match stats.point_biserial {
        None => Verdict::Flag(FlagReason::NoDiscrimination),
        Some(r) if r < PILOT_MIN_POINT_BISERIAL => {
            Verdict::Flag(FlagReason::WeakDiscrimination { point_biserial: r })
        }
        Some(_) => Verdict::Promote,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn r(person: usize, item: usize, correct: bool) -> Response {
        Response {
            person,
            item,
            correct,
        }
    }

    fn settings(min_responses: usize) -> Settings {
        Settings {
            min_responses,
            ..Settings::default()
        }
    }

    /// `persons` persons with abilities ~ N(0, 1) answering every item of `truth`.
    fn full_design(persons: usize, truth: &[f64], seed: u64) -> Vec<Response> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut out = Vec::new();
        for person in 0..persons {
            let theta = standard_normal(&mut rng);
            for (item, b) in truth.iter().enumerate() {
                out.push(r(person, item, rng.gen::<f64>() < sigmoid(theta - b)));
            }
        }
        out
    }

    #[test]
    fn author_difficulty_maps_to_minus_one_zero_one() {
        assert_eq!(prior_logit(1), -1.0);
        assert_eq!(prior_logit(2), 0.0);
        assert_eq!(prior_logit(3), 1.0);
        assert_eq!(prior_logit(0), -1.0);
        assert_eq!(prior_logit(9), 1.0);
    }

    #[test]
    fn defaults_are_documented_values() {
        let s = Settings::default();
        assert_eq!(s.min_responses, 30);
        assert_eq!((s.person_sd, s.item_sd), (1.5, 1.5));
        assert_eq!(s.anchor, Anchor::PriorMean);
    }

    #[test]
    fn no_responses_keeps_priors() {
        let fit = calibrate(3, &[-1.0, 0.0, 1.0], &[], &Settings::default());
        assert!(fit.converged);
        assert_eq!(fit.abilities, vec![0.0; 3]);
        for (e, prior) in fit.items.iter().zip([-1.0, 0.0, 1.0]) {
            assert_eq!(e.difficulty, prior);
            assert_eq!(e.source, Source::Prior);
            assert_eq!((e.responses, e.facility, e.point_biserial), (0, None, None));
            assert_eq!(e.se, 1.5);
        }
        let empty = calibrate(0, &[], &[], &Settings::default());
        assert!(empty.items.is_empty() && empty.abilities.is_empty() && empty.converged);
    }

    #[test]
    fn items_below_the_minimum_keep_their_prior_but_inform_abilities() {
        let truth = [-1.0, -0.5, 0.0, 0.5, 1.0];
        let mut responses = full_design(60, &truth, 1);
        // Item 5 is new: only 10 answers, all correct, yet it stays at its prior +1.
        responses.extend((0..10).map(|p| r(p, 5, true)));
        let priors = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        let fit = calibrate(60, &priors, &responses, &Settings::default());
        assert!(fit.converged);
        let new = &fit.items[5];
        assert_eq!(
            (new.source, new.difficulty, new.se),
            (Source::Prior, 1.0, 1.5)
        );
        assert_eq!((new.responses, new.facility), (10, Some(1.0)));
        assert!(fit.items[..5].iter().all(|e| e.source == Source::Fitted));
        // The persons who got the extra right answer look (a little) abler than the rest.
        let with: f64 = fit.abilities[..10].iter().sum::<f64>() / 10.0;
        let without = calibrate(60, &priors, &responses[..300], &Settings::default());
        let before: f64 = without.abilities[..10].iter().sum::<f64>() / 10.0;
        assert!(with > before);
    }

    #[test]
    fn extreme_persons_and_items_stay_finite_and_ordered() {
        let truth: Vec<f64> = (0..40).map(|i| -2.0 + i as f64 * 0.1).collect();
        let mut responses = full_design(50, &truth, 2);
        // Person 50 gets everything right, person 51 everything wrong.
        responses.extend((0..40).map(|i| r(50, i, true)));
        responses.extend((0..40).map(|i| r(51, i, false)));
        // Item 40 everyone gets right, item 41 nobody.
        responses.extend((0..52).map(|p| r(p, 40, true)));
        responses.extend((0..52).map(|p| r(p, 41, false)));
        let fit = calibrate(52, &vec![0.0; 42], &responses, &Settings::default());
        assert!(fit.converged, "{} sweeps", fit.iterations);
        assert!(fit.abilities.iter().all(|t| t.is_finite()));
        let others = &fit.abilities[..50];
        assert!(others.iter().all(|t| *t < fit.abilities[50]));
        assert!(others.iter().all(|t| *t > fit.abilities[51]));
        let b: Vec<f64> = fit.items.iter().map(|e| e.difficulty).collect();
        assert!(b.iter().all(|b| b.is_finite()));
        assert!(b[..40].iter().all(|x| *x > b[40] && *x < b[41]), "{b:?}");
        assert_eq!(fit.items[40].facility, Some(1.0));
        assert_eq!(
            fit.items[40].point_biserial, None,
            "no variance in the item"
        );
    }

    #[test]
    fn prior_mean_anchor_keeps_the_author_mean() {
        let truth: Vec<f64> = (0..20).map(|i| 1.0 + i as f64 * 0.1).collect();
        let responses = full_design(200, &truth, 3);
        let priors: Vec<f64> = (0..20).map(|i| prior_logit(1 + (i % 3) as i16)).collect();
        let fit = calibrate(200, &priors, &responses, &Settings::default());
        assert!(fit.converged);
        let fitted: f64 = fit.items.iter().map(|e| e.difficulty).sum::<f64>() / 20.0;
        let prior: f64 = priors.iter().sum::<f64>() / 20.0;
        assert!((fitted - prior).abs() < 1e-9, "{fitted} vs {prior}");
        // The differences are still recovered: item 19 is 1.9 logits harder than item 0.
        let spread = fit.items[19].difficulty - fit.items[0].difficulty;
        assert!((spread - 1.9).abs() < 0.6, "{spread}");
    }

    #[test]
    fn fixed_anchors_keep_their_values_and_set_the_origin() {
        let truth: Vec<f64> = (0..30).map(|i| -1.5 + i as f64 * 0.1 + 0.7).collect();
        let responses = full_design(400, &truth, 4);
        let anchors: BTreeMap<usize, f64> = [0, 10, 20].iter().map(|i| (*i, truth[*i])).collect();
        let fit = calibrate(
            400,
            &vec![0.0; 30],
            &responses,
            &Settings {
                anchor: Anchor::Fixed(anchors.clone()),
                ..Settings::default()
            },
        );
        assert!(fit.converged, "{} sweeps", fit.iterations);
        for (i, value) in &anchors {
            let e = &fit.items[*i];
            assert_eq!(
                (e.difficulty, e.se, e.source),
                (*value, 0.0, Source::Anchored)
            );
        }
        // No alignment needed: the free items land on the true scale (their true mean is 0.7
        // and their priors 0; the origin carries the anchors' sampling error, SE ≈ 0.07).
        let free: Vec<usize> = (0..30).filter(|i| !anchors.contains_key(i)).collect();
        let bias: f64 = free
            .iter()
            .map(|i| fit.items[*i].difficulty - truth[*i])
            .sum::<f64>()
            / free.len() as f64;
        assert!(bias.abs() < 0.2, "mean error {bias}");
        let covered = free
            .iter()
            .filter(|i| (fit.items[**i].difficulty - truth[**i]).abs() <= 2.58 * fit.items[**i].se)
            .count();
        assert!(covered >= 25, "{covered} of 27");
    }

    #[test]
    fn out_of_range_responses_are_ignored() {
        let responses = [r(0, 0, true), r(5, 0, true), r(0, 7, false), r(1, 0, false)];
        let fit = calibrate(2, &[0.0], &responses, &settings(1));
        assert_eq!(fit.items[0].responses, 2);
        assert_eq!(fit.abilities.len(), 2);
    }

    /// The table of `itemstats` (four learners, three items), with corrected correlations:
    /// rest share = (total − item) / 2.
    ///
    /// | learner | item 0 | item 1 | item 2 | total |
    /// |---|---|---|---|---|
    /// | 0 | 1 | 1 | 0 | 2 |
    /// | 1 | 1 | 0 | 0 | 1 |
    /// | 2 | 0 | 0 | 1 | 1 |
    /// | 3 | 1 | 1 | 0 | 2 |
    ///
    /// Item 0: x = 1,1,0,1; rest = .5,0,.5,.5; cov = −1/32, var x = 3/16, var rest = 3/64
    /// → r = −1/3 (uncorrected it would be +0.577: the item's own score inflates it).
    /// Item 1: rest = .5 for everyone → None.
    /// Item 2: x = 0,0,1,0; rest = 1,.5,0,1; cov = −5/32, var rest = 11/64 → r = −0.8704.
    #[test]
    fn point_biserial_is_corrected_item_total() {
        let table = [[1, 1, 0], [1, 0, 0], [0, 0, 1], [1, 1, 0]];
        let responses: Vec<Response> = table
            .iter()
            .enumerate()
            .flat_map(|(p, row)| row.iter().enumerate().map(move |(i, x)| r(p, i, *x == 1)))
            .collect();
        let fit = calibrate(4, &[0.0; 3], &responses, &settings(1));
        let pb: Vec<Option<f64>> = fit.items.iter().map(|e| e.point_biserial).collect();
        assert!((pb[0].unwrap() + 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(pb[1], None);
        let expected = -(5.0 / 32.0) / ((3.0f64 / 16.0) * (11.0 / 64.0)).sqrt();
        assert!((pb[2].unwrap() - expected).abs() < 1e-12);
        assert_eq!(fit.items[0].facility, Some(0.75));
    }

    #[test]
    fn standard_error_shrinks_with_responses() {
        let truth = vec![0.0; 10];
        let small = calibrate(
            50,
            &truth,
            &full_design(50, &truth, 5),
            &Settings::default(),
        );
        let large = calibrate(
            800,
            &truth,
            &full_design(800, &truth, 5),
            &Settings::default(),
        );
        let (s, l) = (small.items[0].se, large.items[0].se);
        // SE ~ 1/sqrt(n p(1-p)): 16 times the responses, about a quarter of the error.
        assert!((s / l - 4.0).abs() < 0.6, "{s} vs {l}");
        assert!(s > 0.25 && s < 0.4, "{s}");
    }

    #[test]
    fn pilot_verdicts() {
        let item = |responses, facility, point_biserial| ItemEstimate {
            difficulty: 0.0,
            se: 0.3,
            responses,
            facility: Some(facility),
            point_biserial,
            source: Source::Fitted,
        };
        assert_eq!(pilot_verdict(&item(29, 0.6, Some(0.4))), Verdict::Wait);
        assert_eq!(pilot_verdict(&item(30, 0.6, Some(0.4))), Verdict::Promote);
        assert_eq!(pilot_verdict(&item(30, 0.20, Some(0.15))), Verdict::Promote);
        assert_eq!(pilot_verdict(&item(30, 0.95, Some(0.15))), Verdict::Promote);
        assert_eq!(
            pilot_verdict(&item(40, 0.1, Some(0.4))),
            Verdict::Flag(FlagReason::TooHard { facility: 0.1 })
        );
        assert_eq!(
            pilot_verdict(&item(40, 0.97, Some(0.4))),
            Verdict::Flag(FlagReason::TooEasy { facility: 0.97 })
        );
        assert_eq!(
            pilot_verdict(&item(40, 0.5, Some(0.1))),
            Verdict::Flag(FlagReason::WeakDiscrimination {
                point_biserial: 0.1
            })
        );
        assert_eq!(
            pilot_verdict(&item(40, 0.5, Some(-0.3))),
            Verdict::Flag(FlagReason::WeakDiscrimination {
                point_biserial: -0.3
            })
        );
        assert_eq!(
            pilot_verdict(&item(40, 0.5, None)),
            Verdict::Flag(FlagReason::NoDiscrimination)
        );
        // Facility is judged before discrimination.
        assert_eq!(
            pilot_verdict(&item(40, 0.1, Some(-0.3))),
            Verdict::Flag(FlagReason::TooHard { facility: 0.1 })
        );
        let mut none = item(0, 0.0, None);
        none.facility = None;
        assert_eq!(pilot_verdict(&none), Verdict::Wait);
        assert_eq!(
            FlagReason::TooHard { facility: 0.123 }.to_string(),
            "too hard: facility 0.12 < 0.20 (check the key)"
        );
        assert_eq!(
            FlagReason::WeakDiscrimination {
                point_biserial: 0.05
            }
            .to_string(),
            "weak discrimination: point-biserial 0.05 < 0.15"
        );
    }

    #[test]
    fn pilot_items_from_a_simulation_are_promoted_or_flagged_sensibly() {
        // A good item (b = 0) is promoted, a miskeyed one (b = +4) flagged as too hard.
        let truth = [-1.0, -0.5, 0.0, 0.5, 1.0, 0.0, 4.0];
        let fit = calibrate(
            300,
            &[0.0; 7],
            &full_design(300, &truth, 6),
            &Settings::default(),
        );
        assert_eq!(pilot_verdict(&fit.items[5]), Verdict::Promote);
        assert!(matches!(
            pilot_verdict(&fit.items[6]),
            Verdict::Flag(FlagReason::TooHard { .. })
        ));
    }

    /// Issue 14 acceptance: 1,000 learners, 300 items, 50 answers each (~167 per item).
    #[test]
    fn recovers_simulated_difficulties() {
        let r = simulate_recovery(1000, 300, 50, 14);
        println!(
            "calibration recovery: {} persons, {} items, {} responses: correlation {:.4}, \
             95% coverage {:.3}, rmse {:.3}, mean se {:.3}, {} sweeps",
            r.persons,
            r.items,
            r.responses,
            r.correlation,
            r.coverage,
            r.rmse,
            r.mean_se,
            r.iterations
        );
        assert!(r.converged);
        assert!(r.correlation >= 0.95, "{r:?}");
        assert!((0.90..=0.99).contains(&r.coverage), "{r:?}");
    }

    /// The production size: 2,000 persons × 800 items, 130,000 responses.
    #[test]
    fn scales_to_the_bank() {
        let mut rng = StdRng::seed_from_u64(7);
        let truth: Vec<f64> = (0..800).map(|_| standard_normal(&mut rng)).collect();
        let mut responses = Vec::new();
        for person in 0..2000 {
            let theta = standard_normal(&mut rng);
            for item in sample(&mut rng, 800, 65) {
                responses.push(r(
                    person,
                    item,
                    rng.gen::<f64>() < sigmoid(theta - truth[item]),
                ));
            }
        }
        let start = Instant::now();
        let fit = calibrate(2000, &vec![0.0; 800], &responses, &Settings::default());
        println!(
            "calibration of 2000 x 800, {} responses: {} sweeps in {:?} (this build's profile)",
            responses.len(),
            fit.iterations,
            start.elapsed()
        );
        assert!(fit.converged);
        let b: Vec<f64> = fit.items.iter().map(|e| e.difficulty).collect();
        assert!(pearson(&b, &truth) > 0.95);
    }

    #[test]
    fn is_deterministic() {
        assert_eq!(
            simulate_recovery(100, 40, 20, 1),
            simulate_recovery(100, 40, 20, 1)
        );
    }
}
