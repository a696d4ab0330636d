//! Readiness (SPEC §2 "Readiness", issue 14): from a learner's per-area beliefs, the predicted
//! scaled score of a blueprint's exam, its 10th–90th percentile interval, the probability of
//! passing, and a prediction per exam-guide domain, by simulating many sittings of a typical
//! form (docs/mastery.md, docs/measurement.md).
//!
//! The form is what the blueprint would draw from the bank: its scored questions allocated as
//! assembly allocates them (two-way by exam-guide domain and topic area for `dva-c02`), each
//! question with its calibrated difficulty where one exists. The simulated sitting is scored
//! as the real attempt is: equated (ability on the scored questions, mapped to 720 at the pass
//! ability) where the blueprint reports an equated score, else linear in the raw share.

use std::collections::BTreeMap;

use rand::{Rng, RngCore};

use super::assembly::{allocate, difficulty_split};
use super::calibration::standard_normal;
use super::equating::{scaled, score_table, ScaleSpec};
use super::mastery::{sigmoid, Belief, DIFFICULTY_OFFSET};
use super::question::EXAM_DOMAINS;
use super::scoring::{meets, scaled_score};
use super::two_way::allocate_two_way;

pub mod check;
pub mod recalibration;

/// Prior correlation of a learner's abilities across areas (someone strong in S3 is likely
/// stronger than average in DynamoDB too). [`readiness`] pools the per-area beliefs with it;
/// the stored beliefs themselves stay independent per area.
pub const ABILITY_CORRELATION: f64 = 0.5;
/// Monte Carlo draws of [`readiness`]: the pass probability is within ±0.016 (2 sd).
pub const READINESS_DRAWS: usize = 4000;
/// Fixed seed of [`readiness`]: the same beliefs always give the same prediction.
pub const READINESS_SEED: u64 = 0x00e8_ab4a_d2c0_2720;

/// A question of the bank as readiness sees it: its topic area, exam-guide domain and
/// difficulty in logits (calibrated, else its author difficulty's prior).
#[derive(Debug, Clone, PartialEq)]
pub struct FormItem {
    pub area: String,
    /// Empty when unknown: the item then counts in the total only.
    pub exam_domain: String,
    pub b: f64,
}

/// How a simulated sitting is scored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScoreRule {
    /// 100 + 900 × share correct ([`scaled_score`]).
    Linear,
    /// The equated score: the ability on the form's questions
    /// ([`super::equating::ability`]), mapped by `spec` with 720 (or `spec.pass_scaled`) at
    /// `theta_pass`.
    Equated { theta_pass: f64, spec: ScaleSpec },
}

/// The scored questions of a typical sitting, and how it is scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub items: Vec<FormItem>,
    pub rule: ScoreRule,
    pub pass_mark: i32,
}

impl Form {
    /// A form without a bank: `question_count` questions allocated over the areas by weight,
    /// their difficulties split 30/40/30 at −1/0/+1 logits, no exam-guide domains, scored
    /// linearly. (What readiness used before calibration; also the fallback for an empty bank.)
    pub fn by_weights(
        weights: &BTreeMap<String, f64>,
        question_count: usize,
        pass_mark: i32,
    ) -> Form {
        let unlimited = weights
            .keys()
            .map(|d| (d.clone(), question_count))
            .collect();
        let mut items = Vec::new();
        for (area, n) in allocate(question_count, weights, &unlimited).counts {
            for (b, k) in DIFFICULTY_OFFSET.iter().zip(difficulty_split(n)) {
                items.extend(std::iter::repeat_n(
                    FormItem {
                        area: area.clone(),
                        exam_domain: String::new(),
                        b: *b,
                    },
                    k,
                ));
            }
        }
        Form {
            items,
            rule: ScoreRule::Linear,
            pass_mark,
        }
    }

    /// The typical form a blueprint draws from `bank`: `scored` questions allocated over the
    /// (exam-guide domain, topic area) cells as assembly allocates them
    /// ([`allocate_two_way`], with a fixed seed). Without exam-guide weights the exam-guide
    /// domains take their shares of the bank. Within a cell the `k` questions take evenly
    /// spaced quantiles of the cell's difficulties, so the form is as hard as an average draw.
    /// Falls back to [`Form::by_weights`] when the bank has nothing in the blueprint's areas.
    pub fn typical(
        bank: &[FormItem],
        area_weights: &BTreeMap<String, f64>,
        exam_weights: &BTreeMap<String, f64>,
        scored: usize,
        rule: ScoreRule,
        pass_mark: i32,
    ) -> Form {
        let mut cells: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
        for item in bank {
            if area_weights
                .get(&item.area)
                .is_some_and(|w| w.is_finite() && *w > 0.0)
            {
                cells
                    .entry((item.exam_domain.clone(), item.area.clone()))
                    .or_default()
                    .push(item.b);
            }
        }
        let bank_shares: BTreeMap<String, f64>;
        let exam_weights = if exam_weights.values().any(|w| *w > 0.0) {
            exam_weights
        } else {
            let mut shares = BTreeMap::new();
            for ((d, _), bs) in &cells {
                *shares.entry(d.clone()).or_insert(0.0) += bs.len() as f64;
            }
            bank_shares = shares;
            &bank_shares
        };
        let available = cells.iter().map(|(k, v)| (k.clone(), v.len())).collect();
        let mut rng = SplitMix64(READINESS_SEED);
        let plan = allocate_two_way(scored, exam_weights, area_weights, &available, &mut rng);
        let mut items = Vec::with_capacity(plan.total());
        for ((exam_domain, area), k) in &plan.cells {
            let Some(bs) = cells.get_mut(&(exam_domain.clone(), area.clone())) else {
                continue;
            };
            bs.sort_by(f64::total_cmp);
            for i in 0..*k {
                let at = ((2 * i + 1) * bs.len() / (2 * k)).min(bs.len() - 1);
                items.push(FormItem {
                    area: area.clone(),
                    exam_domain: exam_domain.clone(),
                    b: bs[at],
                });
            }
        }
        if items.is_empty() {
            return Form {
                rule,
                ..Form::by_weights(area_weights, scored, pass_mark)
            };
        }
        Form {
            items,
            rule,
            pass_mark,
        }
    }

    /// The scaled score for each number correct 0..=n (both rules are monotone in it).
    pub fn score_by_raw(&self) -> Vec<i32> {
        let n = self.items.len();
        match self.rule {
            ScoreRule::Linear => (0..=n).map(|raw| scaled_score(raw, n)).collect(),
            ScoreRule::Equated { theta_pass, spec } => {
                let bs: Vec<f64> = self.items.iter().map(|i| i.b).collect();
                score_table(&bs)
                    .into_iter()
                    .map(|(theta, _)| scaled(theta, theta_pass, &spec))
                    .collect()
            }
        }
    }
}

/// The prediction for one exam-guide domain: the share of its questions answered correctly
/// and how likely the score report says "meets competencies" for it.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainReadiness {
    pub exam_domain: String,
    /// Scored questions of the domain on the form.
    pub questions: usize,
    /// Mean simulated percent correct (0..100).
    pub predicted_percent: f64,
    /// 10th and 90th percentile of it.
    pub interval: (f64, f64),
    /// Share of simulated sittings with the verdict "meets competencies" (the rule of the
    /// result's `exam_domains`).
    pub meets_probability: f64,
}

/// Readiness for a blueprint.
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    /// Mean simulated scaled score.
    pub predicted_scaled_score: f64,
    /// 10th and 90th percentile of the simulated scaled score.
    pub interval: (f64, f64),
    /// Share of simulated exams at or above the pass mark.
    pub pass_probability: f64,
    /// One per exam-guide domain on the form, in the exam guide's order.
    pub exam_domains: Vec<DomainReadiness>,
    /// Finished attempts `pass_probability` was recalibrated on ([`recalibration`]); `None`:
    /// as simulated.
    pub recalibrated_on: Option<usize>,
}

/// Monte Carlo with a fixed seed (deterministic), [`READINESS_DRAWS`] draws. Each draw takes an
/// ability θ_a for every area of the form from the beliefs (missing = PRIOR), answers every
/// question with probability sigmoid(θ_a − b), and scores the sitting by the form's rule.
/// predicted = mean, interval = 10th..90th percentile, pass_probability = share ≥ pass mark.
///
/// The abilities are drawn jointly, not area by area: the beliefs are pooled under a prior in
/// which abilities across areas are correlated ([`ABILITY_CORRELATION`]; the Gaussian algebra
/// is in `JointBelief`). Evidence from the other areas then moves a thinly answered one toward
/// the learner's general level, and for a learner with no answers "strong everywhere" and
/// "weak everywhere" stay plausible, so the interval is honest. Without the pooling the
/// simulated calibration was off by up to 0.25 in a decile (docs/mastery.md).
pub fn readiness(
    beliefs: &BTreeMap<String, Belief>,
    form: &Form,
    population: &Population,
) -> Readiness {
    simulate(beliefs, form, population, READINESS_DRAWS)
}

pub(crate) fn simulate(
    beliefs: &BTreeMap<String, Belief>,
    form: &Form,
    population: &Population,
    draws: usize,
) -> Readiness {
    let mut areas: Vec<&str> = form.items.iter().map(|i| i.area.as_str()).collect();
    areas.sort_unstable();
    areas.dedup();
    let mut domains: Vec<&str> = form
        .items
        .iter()
        .map(|i| i.exam_domain.as_str())
        .filter(|d| !d.is_empty())
        .collect();
    let order = |d: &str| {
        EXAM_DOMAINS
            .iter()
            .position(|x| *x == d)
            .unwrap_or(usize::MAX)
    };
    domains.sort_unstable_by(|a, b| order(a).cmp(&order(b)).then(a.cmp(b)));
    domains.dedup();
    // per item: (area index, exam-domain index or usize::MAX, b)
    let items: Vec<(usize, usize, f64)> = form
        .items
        .iter()
        .map(|i| {
            (
                areas.binary_search(&i.area.as_str()).unwrap_or(0),
                domains
                    .iter()
                    .position(|d| *d == i.exam_domain)
                    .unwrap_or(usize::MAX),
                i.b,
            )
        })
        .collect();
    let per_domain: Vec<usize> = (0..domains.len())
        .map(|d| items.iter().filter(|i| i.1 == d).count())
        .collect();
    let by_raw = form.score_by_raw();
    let joint = JointBelief::pool(
        &areas
            .iter()
            .map(|a| beliefs.get(*a).copied().unwrap_or_default().sanitized())
            .collect::<Vec<_>>(),
        population,
    );

    let mut rng = SplitMix64(READINESS_SEED);
    let draws = draws.max(1);
    let mut scores = Vec::with_capacity(draws);
    let mut percents = vec![Vec::with_capacity(draws); domains.len()];
    let mut meets_count = vec![0usize; domains.len()];
    let mut theta = vec![0.0; areas.len()];
    let mut right = vec![0usize; domains.len()];
    for _ in 0..draws {
        joint.sample(&mut rng, &mut theta);
        right.fill(0);
        let mut raw = 0;
        for (area, domain, b) in &items {
            if rng.gen::<f64>() < sigmoid(theta[*area] - b) {
                raw += 1;
                if let Some(r) = right.get_mut(*domain) {
                    *r += 1;
                }
            }
        }
        scores.push(f64::from(by_raw[raw]));
        for (d, r) in right.iter().enumerate() {
            percents[d].push(100.0 * *r as f64 / per_domain[d] as f64);
            meets_count[d] += usize::from(meets(*r, per_domain[d], form.pass_mark));
        }
    }
    scores.sort_by(f64::total_cmp);
    let passed = scores
        .iter()
        .filter(|s| **s >= f64::from(form.pass_mark))
        .count();
    let exam_domains = domains
        .iter()
        .zip(percents.iter_mut())
        .enumerate()
        .map(|(d, (name, ps))| {
            ps.sort_by(f64::total_cmp);
            DomainReadiness {
                exam_domain: name.to_string(),
                questions: per_domain[d],
                predicted_percent: ps.iter().sum::<f64>() / draws as f64,
                interval: (percentile(ps, 0.1), percentile(ps, 0.9)),
                meets_probability: meets_count[d] as f64 / draws as f64,
            }
        })
        .collect();
    Readiness {
        predicted_scaled_score: scores.iter().sum::<f64>() / draws as f64,
        interval: (percentile(&scores, 0.1), percentile(&scores, 0.9)),
        pass_probability: passed as f64 / draws as f64,
        exam_domains,
        recalibrated_on: None,
    }
}

/// The learners' ability distribution per area that readiness pools the beliefs under: mean,
/// variance and the correlation between areas (in logits).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Population {
    pub mean: f64,
    pub var: f64,
    pub correlation: f64,
}

impl Default for Population {
    /// Before calibration has estimated it: the learner model's own prior
    /// (N(0, [`Belief::PRIOR`].var)) with [`ABILITY_CORRELATION`].
    fn default() -> Self {
        Population {
            mean: Belief::PRIOR.mu,
            var: Belief::PRIOR.var,
            correlation: ABILITY_CORRELATION,
        }
    }
}

/// The beliefs of several areas pooled under a prior in which abilities are correlated
/// ([`ABILITY_CORRELATION`]): θ ~ N(mean, precision⁻¹).
///
/// Each stored belief N(mu, var) is its own prior N(0, V0) times the evidence of its answers, so
/// the evidence is recovered as a Gaussian message (precision 1/var − 1/V0, information
/// mu/var) and combined with the joint prior Σ = V0·((1−ρ)·I + ρ·J). A learner who does well in
/// six areas is then expected to do better than a newcomer in the seventh, and the prior part
/// of the uncertainty is shared across areas instead of averaging out.
struct JointBelief {
    mean: Vec<f64>,
    /// Lower Cholesky factor L of the posterior precision P = L·Lᵀ.
    chol: Vec<Vec<f64>>,
}

impl JointBelief {
    fn pool(beliefs: &[Belief], population: &Population) -> JointBelief {
        let k = beliefs.len();
        let v0 = Belief::PRIOR.var;
        let v = population.var;
        let rho = population.correlation;
        // Σ⁻¹ for Σ = a·I + c·J: (I − c/(a + k·c)·J) / a; and Σ⁻¹·(m·1) = m/(a + k·c)·1.
        let (a, c) = (v * (1.0 - rho), v * rho);
        let off = -c / (a + k as f64 * c) / a;
        let prior_information = population.mean / (a + k as f64 * c);
        let mut precision = vec![vec![off; k]; k];
        let mut information = vec![0.0; k];
        for (i, b) in beliefs.iter().enumerate() {
            // the stored belief is N(0, V0) times its evidence: divide the N(0, V0) out
            precision[i][i] = 1.0 / a + off + (1.0 / b.var - 1.0 / v0).max(0.0);
            information[i] = prior_information + b.mu / b.var;
        }
        let chol = cholesky(precision);
        // mean = P⁻¹·information: solve L·y = information, then Lᵀ·mean = y.
        let mean = solve_upper(&chol, solve_lower(&chol, information));
        JointBelief { mean, chol }
    }

    /// θ = mean + x with Lᵀ·x = z, z standard normal, so x ~ N(0, P⁻¹).
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R, theta: &mut [f64]) {
        let z = (0..self.mean.len()).map(|_| standard_normal(rng)).collect();
        for ((t, m), x) in theta
            .iter_mut()
            .zip(&self.mean)
            .zip(solve_upper(&self.chol, z))
        {
            *t = m + x;
        }
    }
}

/// Cholesky factor of a symmetric positive-definite matrix (lower triangle).
fn cholesky(mut m: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let k = m.len();
    for j in 0..k {
        let d = m[j][j] - (0..j).map(|p| m[j][p] * m[j][p]).sum::<f64>();
        m[j][j] = d.max(f64::MIN_POSITIVE).sqrt();
        for i in j + 1..k {
            let s = m[i][j] - (0..j).map(|p| m[i][p] * m[j][p]).sum::<f64>();
            m[i][j] = s / m[j][j];
        }
        m[j][j + 1..].fill(0.0);
    }
    m
}

/// Solve L·x = b for lower-triangular L.
fn solve_lower(l: &[Vec<f64>], mut b: Vec<f64>) -> Vec<f64> {
    for i in 0..b.len() {
        b[i] = (b[i] - (0..i).map(|p| l[i][p] * b[p]).sum::<f64>()) / l[i][i];
    }
    b
}

/// Solve Lᵀ·x = b for lower-triangular L.
fn solve_upper(l: &[Vec<f64>], mut b: Vec<f64>) -> Vec<f64> {
    for i in (0..b.len()).rev() {
        b[i] = (b[i] - (i + 1..b.len()).map(|p| l[p][i] * b[p]).sum::<f64>()) / l[i][i];
    }
    b
}

/// Linear interpolation between closest ranks; `sorted` is ascending (empty: 0).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// SplitMix64 (Steele, Lea, Flood 2014): readiness pins its own small generator because
/// `StdRng` promises no stable stream across `rand` versions, and a prediction should not move
/// when a dependency is upgraded. Also fast in debug builds.
struct SplitMix64(u64);

impl RngCore for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
