//! The learner model (SPEC §2 "Mastery"): per learner and area (a domain or a tag), a Gaussian
//! belief about the learner's ability on a logistic item-response scale, updated after every
//! answer; from it the estimate shown to the learner, the readiness for a blueprint, and the
//! choice of areas for adaptive practice. See `docs/mastery.md`.
//!
//! Model: ability θ ~ N(mu, var) in logits; an item of difficulty 1/2/3 has difficulty
//! b = -1 / 0 / +1 ([`DIFFICULTY_OFFSET`]); P(correct | θ) = sigmoid(θ − b).

use std::collections::BTreeMap;
use std::f64::consts::{PI, TAU};

use rand::{Rng, RngCore};

use super::assembly::{allocate, difficulty_split};
use super::scoring::scaled_score;

/// Item difficulty b on the logit scale for difficulty 1, 2, 3. A learner with θ = 0 answers a
/// typical (difficulty 2) question half the time, an easy one 73% and a hard one 27%.
pub const DIFFICULTY_OFFSET: [f64; 3] = [-1.0, 0.0, 1.0];
/// Smallest variance a belief keeps (sd ≈ 0.22 logits): never fully certain.
pub const VAR_MIN: f64 = 0.05;
/// Variance added before each answer (a random walk on ability): older evidence decays, so the
/// belief follows a learner who improves. Steady state with many answers: var ≈ 0.22, i.e. the
/// belief rests on roughly the last 20–25 answers in the area.
pub const PROCESS_NOISE: f64 = 0.01;
/// Prior correlation of a learner's abilities across domains (someone strong in S3 is likely
/// stronger than average in DynamoDB too). [`readiness`] pools the per-domain beliefs with it;
/// the stored beliefs themselves stay independent per area.
pub const ABILITY_CORRELATION: f64 = 0.5;
/// Monte Carlo draws of [`readiness`]: the pass probability is within ±0.016 (2 sd).
pub const READINESS_DRAWS: usize = 4000;
/// Fixed seed of [`readiness`]: the same beliefs always give the same prediction.
pub const READINESS_SEED: u64 = 0x00e8_ab4a_d2c0_2720;
/// Weight of the uncertainty in [`improvement_value`].
pub const UNCERTAINTY_BONUS: f64 = 0.5;

/// What we believe about a learner's ability in one area: θ ~ N(mu, var), in logits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Belief {
    pub mu: f64,
    pub var: f64,
}

impl Default for Belief {
    fn default() -> Self {
        Belief::PRIOR
    }
}

impl Belief {
    /// A new learner: typical-question success 50%, and uncertain (±1.2 logits, i.e. anywhere
    /// between about 23% and 77%).
    pub const PRIOR: Belief = Belief { mu: 0.0, var: 1.5 };

    /// One answer: first inflate var by [`PROCESS_NOISE`] (recent answers weigh more: older
    /// evidence decays), then the Laplace/EKF update: p = sigmoid(mu − b),
    /// var' = 1/(1/var + p(1−p)), mu' = mu + var' (y − p). var stays in [VAR_MIN, PRIOR.var].
    /// Difficulties outside 1..=3 are clamped.
    pub fn update(self, difficulty: i16, correct: bool) -> Belief {
        let b = difficulty_offset(difficulty);
        let prior = self.sanitized();
        let var = (prior.var + PROCESS_NOISE).min(Belief::PRIOR.var);
        let p = sigmoid(prior.mu - b);
        let var = (1.0 / (1.0 / var + p * (1.0 - p))).clamp(VAR_MIN, Belief::PRIOR.var);
        let y = if correct { 1.0 } else { 0.0 };
        Belief {
            mu: prior.mu + var * (y - p),
            var,
        }
    }

    /// Probability of answering a typical (difficulty 2) question: the expectation of
    /// sigmoid(θ) over the belief, by the probit approximation sigmoid(mu / sqrt(1 + π var / 8)).
    pub fn estimate(&self) -> f64 {
        let b = self.sanitized();
        sigmoid(b.mu / (1.0 + PI * b.var / 8.0).sqrt())
    }

    /// Standard deviation of that probability (delta method: p(1−p)·sd with p = sigmoid(mu)),
    /// in 0..0.5.
    pub fn uncertainty(&self) -> f64 {
        let b = self.sanitized();
        let p = sigmoid(b.mu);
        (p * (1.0 - p) * b.var.sqrt()).clamp(0.0, 0.5)
    }

    /// Stored values that are not finite or out of range (a bad row) fall back to the prior's.
    fn sanitized(self) -> Belief {
        Belief {
            mu: if self.mu.is_finite() { self.mu } else { 0.0 },
            var: if self.var.is_finite() && self.var > 0.0 {
                self.var.clamp(VAR_MIN, Belief::PRIOR.var)
            } else {
                Belief::PRIOR.var
            },
        }
    }
}

/// b for a difficulty 1..=3 (clamped).
pub fn difficulty_offset(difficulty: i16) -> f64 {
    DIFFICULTY_OFFSET[(difficulty.clamp(1, 3) - 1) as usize]
}

/// Readiness for a blueprint: per-domain beliefs (missing = PRIOR) and weights (relative).
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    /// Mean simulated scaled score.
    pub predicted_scaled_score: f64,
    /// 10th and 90th percentile of the simulated scaled score.
    pub interval: (f64, f64),
    /// Share of simulated exams at or above the pass mark.
    pub pass_probability: f64,
}

/// Monte Carlo with a fixed seed (deterministic), [`READINESS_DRAWS`] draws. Each draw takes an
/// ability θ_d for every domain from its belief, then simulates an exam of `question_count`
/// questions allocated by weight ([`allocate`]), difficulties by [`difficulty_split`], answers
/// Bernoulli(sigmoid(θ_d − b)), scaled score as in scoring. predicted = mean,
/// interval = 10th..90th percentile, pass_probability = share ≥ pass_mark.
///
/// The abilities are drawn jointly, not domain by domain: the beliefs are pooled under a prior
/// in which abilities across domains are correlated ([`ABILITY_CORRELATION`]; the Gaussian
/// algebra is in `JointBelief`). Evidence from the other domains then moves a thinly answered one toward
/// the learner's general level, and for a learner with no answers "strong everywhere" and
/// "weak everywhere" stay plausible, so the interval is honest. Without the pooling the
/// simulated calibration was off by up to 0.25 in a decile (docs/mastery.md).
pub fn readiness(
    beliefs: &BTreeMap<String, Belief>,
    weights: &BTreeMap<String, f64>,
    question_count: usize,
    pass_mark: i32,
) -> Readiness {
    simulate_readiness(beliefs, weights, question_count, pass_mark, READINESS_DRAWS)
}

fn simulate_readiness(
    beliefs: &BTreeMap<String, Belief>,
    weights: &BTreeMap<String, f64>,
    question_count: usize,
    pass_mark: i32,
    draws: usize,
) -> Readiness {
    let unlimited = weights
        .keys()
        .map(|d| (d.clone(), question_count))
        .collect();
    let allocation = allocate(question_count, weights, &unlimited);
    let total = allocation.total();
    let exam: Vec<(Belief, [usize; 3])> = allocation
        .counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(domain, n)| {
            let belief = beliefs.get(domain).copied().unwrap_or_default();
            (belief.sanitized(), difficulty_split(*n))
        })
        .collect();
    let joint = JointBelief::pool(&exam.iter().map(|(b, _)| *b).collect::<Vec<_>>());

    let mut rng = SplitMix64(READINESS_SEED);
    let draws = draws.max(1);
    let mut scores = Vec::with_capacity(draws);
    let mut theta = vec![0.0; exam.len()];
    for _ in 0..draws {
        joint.sample(&mut rng, &mut theta);
        let mut correct = 0;
        for (theta, (_, split)) in theta.iter().zip(&exam) {
            for (b, n) in DIFFICULTY_OFFSET.iter().zip(split) {
                let p = sigmoid(theta - b);
                for _ in 0..*n {
                    if rng.gen::<f64>() < p {
                        correct += 1;
                    }
                }
            }
        }
        scores.push(f64::from(scaled_score(correct, total)));
    }
    scores.sort_by(f64::total_cmp);
    let passed = scores
        .iter()
        .filter(|s| **s >= f64::from(pass_mark))
        .count();
    Readiness {
        predicted_scaled_score: scores.iter().sum::<f64>() / draws as f64,
        interval: (percentile(&scores, 0.1), percentile(&scores, 0.9)),
        pass_probability: passed as f64 / draws as f64,
    }
}

/// The beliefs of several domains pooled under a prior in which abilities are correlated
/// ([`ABILITY_CORRELATION`]): θ ~ N(mean, precision⁻¹).
///
/// Each stored belief N(mu, var) is its own prior N(0, V0) times the evidence of its answers, so
/// the evidence is recovered as a Gaussian message (precision 1/var − 1/V0, information
/// mu/var) and combined with the joint prior Σ = V0·((1−ρ)·I + ρ·J). A learner who does well in
/// six domains is then expected to do better than a newcomer in the seventh, and the prior part
/// of the uncertainty is shared across domains instead of averaging out.
struct JointBelief {
    mean: Vec<f64>,
    /// Lower Cholesky factor L of the posterior precision P = L·Lᵀ.
    chol: Vec<Vec<f64>>,
}

impl JointBelief {
    fn pool(beliefs: &[Belief]) -> JointBelief {
        let k = beliefs.len();
        let v0 = Belief::PRIOR.var;
        // Σ⁻¹ for Σ = a·I + c·J: (I − c/(a + k·c)·J) / a.
        let (a, c) = (v0 * (1.0 - ABILITY_CORRELATION), v0 * ABILITY_CORRELATION);
        let off = -c / (a + k as f64 * c) / a;
        let mut precision = vec![vec![off; k]; k];
        let mut information = vec![0.0; k];
        for (i, b) in beliefs.iter().enumerate() {
            precision[i][i] = 1.0 / a + off + (1.0 / b.var - 1.0 / v0).max(0.0);
            information[i] = b.mu / b.var;
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

/// How much raising this domain would raise the predicted score: weight × (1 − estimate), plus
/// a bonus for uncertainty (weight × [`UNCERTAINTY_BONUS`] × uncertainty), so an area we know
/// little about ranks above one we know to be middling. Rank weakest first by it.
pub fn improvement_value(belief: &Belief, weight: f64) -> f64 {
    let weight = if weight.is_finite() {
        weight.max(0.0)
    } else {
        0.0
    };
    weight * (1.0 - belief.estimate() + UNCERTAINTY_BONUS * belief.uncertainty())
}

/// Adaptive practice: the domain of each of `count` questions, by Thompson sampling: for each
/// question draw θ from every belief (missing = PRIOR) and take the domain with the highest
/// sqrt(weight) × (1 − sigmoid(θ)), a sampled improvement value with the weight tempered. A domain is chosen as often as it
/// is plausibly the one most worth improving: weak areas most, uncertain areas often enough to
/// find out. Domains with weight ≤ 0 are never chosen; ties go to the first name.
/// Deterministic given the rng.
pub fn weak_practice_domains<R: Rng>(
    beliefs: &BTreeMap<String, Belief>,
    weights: &BTreeMap<String, f64>,
    count: usize,
    rng: &mut R,
) -> Vec<String> {
    let areas: Vec<(&String, f64, Belief)> = weights
        .iter()
        .filter(|(_, w)| w.is_finite() && **w > 0.0)
        .map(|(d, w)| {
            (
                d,
                *w,
                beliefs.get(d).copied().unwrap_or_default().sanitized(),
            )
        })
        .collect();
    if areas.is_empty() {
        return Vec::new();
    }
    (0..count)
        .map(|_| {
            let mut best = (f64::NEG_INFINITY, areas[0].0);
            for (domain, weight, belief) in &areas {
                let theta = belief.mu + belief.var.sqrt() * standard_normal(rng);
                // the square root tempers the exam weight, so a weak low-weight domain is still
                // practised often enough to be found
                let value = weight.sqrt() * (1.0 - sigmoid(theta));
                if value > best.0 {
                    best = (value, domain);
                }
            }
            best.1.clone()
        })
        .collect()
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A standard normal draw by Box–Muller (one of the pair; u1 in (0, 1] keeps ln finite).
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = 1.0 - rng.gen::<f64>();
    let u2 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
}

/// Linear interpolation between closest ranks; `sorted` is ascending and not empty.
fn percentile(sorted: &[f64], q: f64) -> f64 {
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
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const DVA_WEIGHTS: [(&str, f64); 7] = [
        ("iam", 0.15),
        ("ec2", 0.12),
        ("s3", 0.15),
        ("serverless", 0.22),
        ("dynamodb", 0.16),
        ("kms", 0.12),
        ("databases", 0.08),
    ];

    fn dva_weights() -> BTreeMap<String, f64> {
        DVA_WEIGHTS
            .iter()
            .map(|(d, w)| (d.to_string(), *w))
            .collect()
    }

    fn answer_all(mut b: Belief, difficulty: i16, correct: bool, n: usize) -> Belief {
        for _ in 0..n {
            b = b.update(difficulty, correct);
        }
        b
    }

    #[test]
    fn right_answers_raise_the_estimate_and_wrong_ones_lower_it() {
        let mut b = Belief::PRIOR;
        assert!((b.estimate() - 0.5).abs() < 1e-12);
        for _ in 0..10 {
            let next = b.update(2, true);
            assert!(next.estimate() > b.estimate());
            b = next;
        }
        let mut b = Belief::PRIOR;
        for _ in 0..10 {
            let next = b.update(2, false);
            assert!(next.estimate() < b.estimate());
            b = next;
        }
    }

    #[test]
    fn harder_questions_move_the_estimate_more() {
        let p = Belief::PRIOR;
        let gains = [1, 2, 3].map(|d| p.update(d, true).mu - p.mu);
        assert!(gains[0] < gains[1] && gains[1] < gains[2], "{gains:?}");
        // And missing an easy question costs more than missing a hard one.
        let losses = [1, 2, 3].map(|d| p.mu - p.update(d, false).mu);
        assert!(losses[0] > losses[1] && losses[1] > losses[2], "{losses:?}");
    }

    #[test]
    fn uncertainty_shrinks_with_evidence() {
        let mut b = Belief::PRIOR;
        let mut last = b.uncertainty();
        for i in 0..20 {
            b = b.update(2, i % 2 == 0);
            let u = b.uncertainty();
            assert!(u < last, "answer {i}: {u} !< {last}");
            last = u;
        }
        assert!(b.var < 0.35 && b.var >= VAR_MIN, "{b:?}");
        assert!((0.0..0.5).contains(&Belief::PRIOR.uncertainty()));
    }

    #[test]
    fn recent_answers_weigh_more() {
        // Same answers, opposite order: the belief follows the recent ones.
        let improving = answer_all(answer_all(Belief::PRIOR, 2, false, 15), 2, true, 15);
        let declining = answer_all(answer_all(Belief::PRIOR, 2, true, 15), 2, false, 15);
        assert!(improving.estimate() > 0.5 && declining.estimate() < 0.5);
        // Without process noise the variance would keep falling; with it, it levels off.
        let long = answer_all(Belief::PRIOR, 2, true, 1000);
        assert!(long.var > 0.15, "{long:?}");
        assert!(long.mu.is_finite());
    }

    #[test]
    fn bad_stored_values_fall_back_to_the_prior() {
        let b = Belief {
            mu: f64::NAN,
            var: -1.0,
        };
        assert_eq!(b.estimate(), 0.5);
        let next = b.update(9, true);
        assert!(next.mu.is_finite() && (VAR_MIN..=Belief::PRIOR.var).contains(&next.var));
        assert_eq!(
            next,
            Belief::PRIOR.update(3, true),
            "difficulty is clamped to 3"
        );
    }

    #[test]
    fn a_few_right_answers_are_not_full_readiness() {
        // Plain percent-correct would call 3 right of 3 "100%".
        let b = answer_all(Belief::PRIOR, 2, true, 3);
        assert!(b.estimate() < 0.8, "{}", b.estimate());
        assert!(b.uncertainty() > 0.1);
        let beliefs = BTreeMap::from([("serverless".to_string(), b)]);
        let r = simulate_readiness(&beliefs, &dva_weights(), 65, 720, 2000);
        println!("3 right answers: estimate {:.3}, {r:?}", b.estimate());
        assert!(r.pass_probability < 0.5, "{r:?}");
        assert!(r.interval.1 - r.interval.0 > 300.0, "{r:?}");
    }

    #[test]
    fn a_new_learner_gets_a_wide_interval() {
        let r = readiness(&BTreeMap::new(), &dva_weights(), 65, 720);
        println!("new learner: {r:?}");
        assert!(r.interval.1 - r.interval.0 > 300.0, "{r:?}");
        assert!(
            r.interval.0 <= r.predicted_scaled_score && r.predicted_scaled_score <= r.interval.1
        );
        assert!((0.05..0.6).contains(&r.pass_probability), "{r:?}");
        assert_eq!(
            r,
            readiness(&BTreeMap::new(), &dva_weights(), 65, 720),
            "deterministic"
        );
    }

    #[test]
    fn readiness_is_monotone_in_each_domain_mu() {
        let weights = dva_weights();
        let base: BTreeMap<String, Belief> = weights
            .keys()
            .map(|d| (d.clone(), Belief { mu: 0.8, var: 0.3 }))
            .collect();
        for domain in weights.keys() {
            let mut last: Option<Readiness> = None;
            for step in 0..=8 {
                let mut beliefs = base.clone();
                beliefs.insert(
                    domain.clone(),
                    Belief {
                        mu: -2.0 + 0.5 * f64::from(step),
                        var: 0.3,
                    },
                );
                let r = simulate_readiness(&beliefs, &weights, 65, 720, 1000);
                if let Some(prev) = &last {
                    assert!(
                        r.predicted_scaled_score >= prev.predicted_scaled_score,
                        "{domain}"
                    );
                    assert!(r.pass_probability >= prev.pass_probability, "{domain}");
                    assert!(r.interval.0 >= prev.interval.0 && r.interval.1 >= prev.interval.1);
                }
                last = Some(r);
            }
        }
    }

    #[test]
    fn readiness_edges() {
        let none = readiness(&BTreeMap::new(), &BTreeMap::new(), 65, 720);
        assert_eq!(none.predicted_scaled_score, 100.0);
        assert_eq!(none.pass_probability, 0.0);
        let strong: BTreeMap<String, Belief> = DVA_WEIGHTS
            .iter()
            .map(|(d, _)| {
                (
                    d.to_string(),
                    Belief {
                        mu: 4.0,
                        var: VAR_MIN,
                    },
                )
            })
            .collect();
        let r = readiness(&strong, &dva_weights(), 65, 720);
        assert!(
            r.pass_probability > 0.99 && r.predicted_scaled_score > 900.0,
            "{r:?}"
        );
    }

    #[test]
    fn improvement_value_ranks_weak_and_uncertain_areas_first() {
        let weak = Belief { mu: -1.0, var: 0.2 };
        let strong = Belief { mu: 1.5, var: 0.2 };
        assert!(improvement_value(&weak, 0.1) > improvement_value(&strong, 0.1));
        assert!(improvement_value(&weak, 0.2) > improvement_value(&weak, 0.1));
        let known = Belief { mu: 0.0, var: 0.1 };
        assert!(improvement_value(&Belief::PRIOR, 0.1) > improvement_value(&known, 0.1));
        assert_eq!(improvement_value(&weak, 0.0), 0.0);
        assert_eq!(improvement_value(&weak, f64::NAN), 0.0);
    }

    #[test]
    fn weak_practice_favours_weak_domains() {
        let weights: BTreeMap<String, f64> = [("a", 1.0), ("b", 1.0), ("c", 1.0), ("zero", 0.0)]
            .iter()
            .map(|(d, w)| (d.to_string(), *w))
            .collect();
        let beliefs: BTreeMap<String, Belief> = [
            ("a", Belief { mu: 2.0, var: 0.1 }),
            ("b", Belief { mu: -1.0, var: 0.1 }),
        ]
        .iter()
        .map(|(d, b)| (d.to_string(), *b))
        .collect();
        let picks = weak_practice_domains(&beliefs, &weights, 1000, &mut StdRng::seed_from_u64(7));
        let share = |d: &str| picks.iter().filter(|p| *p == d).count() as f64 / 1000.0;
        println!(
            "weak practice shares: a (strong) {} b (weak) {} c (unknown) {}",
            share("a"),
            share("b"),
            share("c")
        );
        assert_eq!(picks.len(), 1000);
        assert!(share("b") > 0.5, "the weak domain most");
        assert!(share("c") > 0.1, "the unknown one sometimes");
        assert!(share("a") < 0.02 && share("zero") == 0.0);
        let again = weak_practice_domains(&beliefs, &weights, 1000, &mut StdRng::seed_from_u64(7));
        assert_eq!(picks, again, "deterministic given the rng");
        assert!(weak_practice_domains(
            &beliefs,
            &BTreeMap::new(),
            5,
            &mut StdRng::seed_from_u64(7)
        )
        .is_empty());
    }

    proptest::proptest! {
        #[test]
        fn beliefs_stay_in_bounds(answers in proptest::collection::vec((-1i16..5, proptest::bool::ANY), 0..300)) {
            let mut b = Belief::PRIOR;
            for (difficulty, correct) in answers {
                b = b.update(difficulty, correct);
                proptest::prop_assert!(b.mu.is_finite());
                proptest::prop_assert!((VAR_MIN..=Belief::PRIOR.var).contains(&b.var));
                proptest::prop_assert!(b.estimate() > 0.0 && b.estimate() < 1.0);
                proptest::prop_assert!((0.0..0.5).contains(&b.uncertainty()));
            }
        }
    }

    // --- Simulations ---------------------------------------------------------------------------

    /// Questions of the simulated exam per domain and level, as readiness builds it.
    fn exam_items(weights: &BTreeMap<String, f64>, n: usize) -> Vec<(String, f64)> {
        let unlimited = weights.keys().map(|d| (d.clone(), n)).collect();
        let mut items = Vec::new();
        for (domain, count) in allocate(n, weights, &unlimited).counts {
            for (b, k) in DIFFICULTY_OFFSET.iter().zip(difficulty_split(count)) {
                items.extend(std::iter::repeat_n((domain.clone(), *b), k));
            }
        }
        items
    }

    /// Exact pass probability from true abilities: the number right on the exam is a sum of
    /// independent Bernoullis (Poisson binomial), computed by dynamic programming.
    fn true_pass_probability(
        theta: &BTreeMap<String, f64>,
        items: &[(String, f64)],
        pass_mark: i32,
    ) -> f64 {
        let mut dist = vec![1.0];
        for (domain, b) in items {
            let p = sigmoid(theta[domain] - b);
            let mut next = vec![0.0; dist.len() + 1];
            for (k, q) in dist.iter().enumerate() {
                next[k] += q * (1.0 - p);
                next[k + 1] += q * p;
            }
            dist = next;
        }
        dist.iter()
            .enumerate()
            .filter(|(k, _)| scaled_score(*k, items.len()) >= pass_mark)
            .map(|(_, q)| q)
            .sum()
    }

    fn pick_by_weight<R: Rng>(weights: &[(&str, f64)], rng: &mut R) -> String {
        let total: f64 = weights.iter().map(|(_, w)| w).sum();
        let mut x = rng.gen::<f64>() * total;
        for (d, w) in weights {
            if x < *w {
                return d.to_string();
            }
            x -= w;
        }
        weights[weights.len() - 1].0.to_string()
    }

    #[test]
    fn calibration_simulation() {
        const LEARNERS: usize = 2000;
        const DRAWS: usize = 400;
        // Population: general level g ~ N(0.5, 0.8²), each domain g + N(0, 0.6²).
        const LEVEL: (f64, f64) = (0.5, 0.8);
        const DOMAIN_SD: f64 = 0.6;
        let weights = dva_weights();
        let items = exam_items(&weights, 65);
        let mut rng = StdRng::seed_from_u64(2026);
        let mut rows = Vec::with_capacity(LEARNERS);
        for _ in 0..LEARNERS {
            let g = LEVEL.0 + LEVEL.1 * standard_normal(&mut rng);
            let theta: BTreeMap<String, f64> = DVA_WEIGHTS
                .iter()
                .map(|(d, _)| (d.to_string(), g + DOMAIN_SD * standard_normal(&mut rng)))
                .collect();
            let mut beliefs: BTreeMap<String, Belief> = BTreeMap::new();
            for _ in 0..rng.gen_range(40..=120) {
                let domain = pick_by_weight(&DVA_WEIGHTS, &mut rng);
                let difficulty = rng.gen_range(1..=3i16);
                let correct =
                    rng.gen::<f64>() < sigmoid(theta[&domain] - difficulty_offset(difficulty));
                let b = beliefs.entry(domain).or_default();
                *b = b.update(difficulty, correct);
            }
            let predicted = simulate_readiness(&beliefs, &weights, 65, 720, DRAWS).pass_probability;
            let truth = true_pass_probability(&theta, &items, 720);
            // And one real exam, as the learner would sit it.
            let right = items
                .iter()
                .filter(|(d, b)| rng.gen::<f64>() < sigmoid(theta[d] - b))
                .count();
            let sat = scaled_score(right, items.len()) >= 720;
            rows.push((predicted, truth, sat));
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        println!("calibration: {LEARNERS} learners, 40-120 answers each, dva-c02 (65 q, pass 720)");
        println!("decile  mean predicted  true pass prob  passed one exam   |diff|");
        let mut worst: f64 = 0.0;
        for (i, decile) in rows.chunks(LEARNERS / 10).enumerate() {
            let n = decile.len() as f64;
            let pred = decile.iter().map(|r| r.0).sum::<f64>() / n;
            let truth = decile.iter().map(|r| r.1).sum::<f64>() / n;
            let sat = decile.iter().filter(|r| r.2).count() as f64 / n;
            println!(
                "{:>6}  {pred:>14.3}  {truth:>14.3}  {sat:>15.3}  {:>7.3}",
                i + 1,
                (pred - truth).abs()
            );
            worst = worst.max((pred - truth).abs());
        }
        let overall =
            |f: fn(&(f64, f64, bool)) -> f64| rows.iter().map(f).sum::<f64>() / LEARNERS as f64;
        println!(
            "overall: predicted {:.3}, true {:.3}, passed {:.3}; worst decile gap {worst:.3}",
            overall(|r| r.0),
            overall(|r| r.1),
            overall(|r| f64::from(u8::from(r.2)))
        );
        assert!(worst <= 0.1, "a decile is off by {worst}");
    }

    #[test]
    fn weak_domain_is_found_within_30_answers() {
        const RUNS_PER_DOMAIN: u64 = 50;
        const ANSWERS: usize = 30;
        let weights = dva_weights();
        let ranked_top = |beliefs: &BTreeMap<String, Belief>| {
            weights
                .iter()
                .map(|(d, w)| {
                    (
                        improvement_value(&beliefs.get(d).copied().unwrap_or_default(), *w),
                        d,
                    )
                })
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, d)| d.clone())
                .unwrap()
        };
        println!(
            "weak area found by practice: strong (θ = 1.5, 82% on a typical question) everywhere"
        );
        println!("but one domain (θ = -1.5, 18%); {ANSWERS} practice answers, {RUNS_PER_DOMAIN} seeds each");
        println!("weak domain  weight  ranked first within {ANSWERS}  first after answer {ANSWERS}  median answers");
        let (mut within_all, mut settled_all, mut runs) = (0, 0, 0);
        for (weak, weight) in DVA_WEIGHTS {
            let (mut within, mut settled, mut when) = (0, 0, Vec::new());
            for seed in 0..RUNS_PER_DOMAIN {
                let mut rng = StdRng::seed_from_u64(seed);
                let theta = |d: &str| if d == weak { -1.5 } else { 1.5 };
                let mut beliefs: BTreeMap<String, Belief> = BTreeMap::new();
                let mut first = None;
                let mut top = false;
                for n in 1..=ANSWERS {
                    let domain = weak_practice_domains(&beliefs, &weights, 1, &mut rng).remove(0);
                    let difficulty = rng.gen_range(1..=3i16);
                    let correct =
                        rng.gen::<f64>() < sigmoid(theta(&domain) - difficulty_offset(difficulty));
                    let b = beliefs.entry(domain).or_default();
                    *b = b.update(difficulty, correct);
                    top = ranked_top(&beliefs) == weak;
                    if top && first.is_none() {
                        first = Some(n);
                    }
                }
                if let Some(n) = first {
                    within += 1;
                    when.push(n);
                }
                settled += usize::from(top);
            }
            when.sort_unstable();
            let median = when
                .get(when.len() / 2)
                .map_or("-".to_string(), |n| n.to_string());
            let share = |k: usize| k as f64 / RUNS_PER_DOMAIN as f64;
            println!(
                "{weak:<11}  {weight:>6.2}  {:>24.2}  {:>22.2}  {median:>14}",
                share(within),
                share(settled)
            );
            if weight >= 0.15 {
                assert!(share(settled) >= 0.85, "{weak}: {}", share(settled));
            }
            within_all += within;
            settled_all += settled;
            runs += RUNS_PER_DOMAIN as usize;
        }
        let (within, settled) = (
            within_all as f64 / runs as f64,
            settled_all as f64 / runs as f64,
        );
        println!("all {runs} runs: ranked first within {ANSWERS} answers {within:.3}; first after answer {ANSWERS} {settled:.3}");
        // `weakest` weighs areas by exam weight, so a weak 8%-weight domain rarely ranks first
        // even when practice has found it (see the identification test below)
        assert!(within >= 0.7, "{within}");
    }

    /// The other reading of "finds the weakest domain": after 30 weak-practice answers, the
    /// domain with the lowest estimate is the learner's truly weakest one.
    #[test]
    fn weak_practice_identifies_the_weakest_domain_within_30_answers() {
        const RUNS_PER_DOMAIN: u64 = 50;
        const ANSWERS: usize = 30;
        let weights = dva_weights();
        println!("weakest domain identified (lowest estimate) after {ANSWERS} weak-practice answers, {RUNS_PER_DOMAIN} seeds each");
        let mut found_all = 0;
        for (weak, weight) in DVA_WEIGHTS {
            let mut found = 0;
            for seed in 0..RUNS_PER_DOMAIN {
                let mut rng = StdRng::seed_from_u64(1000 + seed);
                let theta = |d: &str| if d == weak { -1.5 } else { 1.5 };
                let mut beliefs: BTreeMap<String, Belief> = BTreeMap::new();
                for _ in 0..ANSWERS {
                    let domain = weak_practice_domains(&beliefs, &weights, 1, &mut rng).remove(0);
                    let difficulty = rng.gen_range(1..=3i16);
                    let correct =
                        rng.gen::<f64>() < sigmoid(theta(&domain) - difficulty_offset(difficulty));
                    let b = beliefs.entry(domain).or_default();
                    *b = b.update(difficulty, correct);
                }
                let lowest = weights
                    .keys()
                    .min_by(|a, b| {
                        let ea = beliefs.get(*a).copied().unwrap_or_default().estimate();
                        let eb = beliefs.get(*b).copied().unwrap_or_default().estimate();
                        ea.total_cmp(&eb)
                    })
                    .unwrap();
                found += usize::from(lowest == weak);
            }
            println!(
                "{weak:<11}  weight {weight:.2}  identified {:.2}",
                found as f64 / RUNS_PER_DOMAIN as f64
            );
            found_all += found;
        }
        let share = found_all as f64 / (RUNS_PER_DOMAIN as usize * DVA_WEIGHTS.len()) as f64;
        println!("all runs: weakest domain identified {share:.3}");
        assert!(share >= 0.9, "{share}");
    }
}
