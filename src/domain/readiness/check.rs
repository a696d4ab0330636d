//! The calibration check of readiness (issue 14: "readiness stays calibrated", the worst decile
//! gap between the predicted and the true pass probability). Simulated learners of known
//! ability practise on a calibrated bank, the learner model updates with every answer, and
//! their beliefs then predict the pass probability on a form; the prediction is compared with
//! the exact pass probability from their true abilities, by decile of the prediction.
//!
//! It lives in the library, not in a test module, because two callers run it at two sizes:
//! the unit test (a regression guard small enough for a debug build) and `benches/readiness.rs`
//! (the figure, at a size whose sampling error is well below the 0.03 target, in release).

use std::collections::BTreeMap;
use std::fmt;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::recalibration::{fit, Recalibration};
use super::{simulate, Form, FormItem, Population, ScoreRule};
use crate::domain::calibration::standard_normal;
use crate::domain::equating::{pass_ability, ScaleSpec};
use crate::domain::mastery::{sigmoid, Belief, PROCESS_NOISE};

/// The `dva-c02` blueprint's topic-area weights.
pub const DVA_WEIGHTS: [(&str, f64); 7] = [
    ("iam", 0.15),
    ("ec2", 0.12),
    ("s3", 0.15),
    ("serverless", 0.22),
    ("dynamodb", 0.16),
    ("kms", 0.12),
    ("databases", 0.08),
];

/// The exam guide's domain weights.
pub const GUIDE: [(&str, f64); 4] = [
    ("development", 0.32),
    ("security", 0.26),
    ("deployment", 0.24),
    ("troubleshooting", 0.18),
];

pub fn weights(w: &[(&str, f64)]) -> BTreeMap<String, f64> {
    w.iter().map(|(d, w)| (d.to_string(), *w)).collect()
}

/// The old `dva-c02` form: 65 questions at −1/0/+1 by area weight, linear in raw percent.
pub fn linear_form() -> Form {
    Form::by_weights(&weights(&DVA_WEIGHTS), 65, 720)
}

/// A synthetic calibrated bank: 750 questions over the seven areas and four exam-guide
/// domains (in proportion to their weights), difficulties ~ N(0, 1) in logits.
pub fn synthetic_bank(seed: u64) -> Vec<FormItem> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut bank = Vec::new();
    for (area, aw) in DVA_WEIGHTS {
        for (domain, dw) in GUIDE {
            let n = (750.0 * aw * dw).round() as usize;
            for _ in 0..n {
                bank.push(FormItem {
                    area: area.into(),
                    exam_domain: domain.into(),
                    b: standard_normal(&mut rng),
                });
            }
        }
    }
    bank
}

/// The `dva-c02` form on a bank: 50 scored questions, equated at the pass ability that
/// calibration would compute for the bank's average form.
pub fn equated_form(bank: &[FormItem]) -> Form {
    let area_weights = weights(&DVA_WEIGHTS);
    let mut average = Vec::new();
    for (area, w) in DVA_WEIGHTS {
        let bs: Vec<f64> = bank
            .iter()
            .filter(|i| i.area == area)
            .map(|i| i.b)
            .collect();
        let k = (w * 1000.0).round() as usize;
        average.extend((0..k).map(|i| bs[i * bs.len() / k % bs.len()]));
    }
    let theta_pass = pass_ability(&average, 0.72).expect("the synthetic bank has questions");
    Form::typical(
        bank,
        &area_weights,
        &weights(&GUIDE),
        50,
        ScoreRule::Equated {
            theta_pass,
            spec: ScaleSpec::default(),
        },
        720,
    )
}

/// Exact pass probability from true abilities: the number right on the form is a sum of
/// independent Bernoullis (Poisson binomial, by dynamic programming), and both scoring rules
/// are monotone in it.
pub fn true_pass_probability(theta: &BTreeMap<String, f64>, form: &Form) -> f64 {
    let mut dist = vec![1.0];
    for item in &form.items {
        let p = sigmoid(theta[&item.area] - item.b);
        let mut next = vec![0.0; dist.len() + 1];
        for (k, q) in dist.iter().enumerate() {
            next[k] += q * (1.0 - p);
            next[k + 1] += q * p;
        }
        dist = next;
    }
    let by_raw = form.score_by_raw();
    dist.iter()
        .enumerate()
        .filter(|(k, _)| by_raw[*k] >= form.pass_mark)
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

/// How big a check is.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub seed: u64,
    /// Learners whose prediction is checked.
    pub learners: usize,
    /// Earlier learners who sat the exam: their predictions and pass/fail outcomes (drawn from
    /// their true pass probability) are what the recalibration is fitted to, as production fits
    /// it to finalized attempts. A separate sample from `learners`.
    pub past: usize,
    /// Monte Carlo draws per prediction (readiness itself uses [`super::READINESS_DRAWS`]).
    pub draws: usize,
}

/// One decile of learners, by predicted pass probability.
#[derive(Debug, Clone, Copy)]
pub struct Decile {
    pub predicted: f64,
    pub truth: f64,
}

/// Predicted against true pass probability, by decile of the prediction.
#[derive(Debug, Clone)]
pub struct Table {
    pub deciles: Vec<Decile>,
    pub mean_predicted: f64,
    pub mean_truth: f64,
}

impl Table {
    fn new(mut rows: Vec<(f64, f64)>) -> Table {
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let n = rows.len().max(1) as f64;
        let deciles = (0..10)
            .map(|i| {
                let part = &rows[i * rows.len() / 10..(i + 1) * rows.len() / 10];
                let m = part.len().max(1) as f64;
                Decile {
                    predicted: part.iter().map(|r| r.0).sum::<f64>() / m,
                    truth: part.iter().map(|r| r.1).sum::<f64>() / m,
                }
            })
            .collect();
        Table {
            deciles,
            mean_predicted: rows.iter().map(|r| r.0).sum::<f64>() / n,
            mean_truth: rows.iter().map(|r| r.1).sum::<f64>() / n,
        }
    }

    /// The worst |predicted − true| over the deciles.
    pub fn worst_gap(&self) -> f64 {
        self.deciles
            .iter()
            .map(|d| (d.predicted - d.truth).abs())
            .fold(0.0, f64::max)
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "decile  mean predicted  true pass prob   |diff|")?;
        for (i, d) in self.deciles.iter().enumerate() {
            writeln!(
                f,
                "{:>6}  {:>14.3}  {:>14.3}  {:>7.3}",
                i + 1,
                d.predicted,
                d.truth,
                (d.predicted - d.truth).abs()
            )?;
        }
        write!(
            f,
            "overall: predicted {:.3}, true {:.3}; worst decile gap {:.3}",
            self.mean_predicted,
            self.mean_truth,
            self.worst_gap()
        )
    }
}

/// The check's outcome: the simulated prediction as is (`raw`), and after the recalibration
/// fitted to the past learners' outcomes (`recalibrated`, what `/me/readiness` serves once
/// enough attempts have finished).
#[derive(Debug, Clone)]
pub struct Report {
    pub setup: Setup,
    pub raw: Table,
    pub fitted: Option<Recalibration>,
    pub recalibrated: Table,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.setup;
        writeln!(
            f,
            "seed {}: {} learners checked, 40-120 practice answers each, {} draws a prediction",
            s.seed, s.learners, s.draws
        )?;
        writeln!(f, "simulated prediction as is:\n{}", self.raw)?;
        match self.fitted {
            Some(r) => writeln!(
                f,
                "recalibrated on {} earlier learners' outcomes (slope {:.3}, intercept {:.3}):",
                s.past, r.slope, r.intercept
            )?,
            None => writeln!(
                f,
                "not recalibrated ({} earlier outcomes show no significant miscalibration):",
                s.past
            )?,
        }
        write!(f, "{}", self.recalibrated)
    }
}

/// Runs the check on `form`. The population: general level g ~ N(0.5, 0.8²), each area
/// g + N(0, 0.6²); each learner practises 40–120 questions of a 300-question calibrated bank
/// (difficulties ~ N(0, 1)) picked by area weight, and drifts as the model assumes
/// ([`PROCESS_NOISE`] per answer). `setup.past` earlier learners then sit the exam once (pass
/// or fail drawn from their true pass probability), the recalibration is fitted to them, and
/// `setup.learners` new learners are predicted, both as is and recalibrated. Learners are
/// independent, so the work is spread over `threads` threads with the same result for any
/// count.
pub fn calibration_check(form: &Form, setup: Setup, threads: usize) -> Report {
    const LEVEL: (f64, f64) = (0.5, 0.8);
    const AREA_SD: f64 = 0.6;
    let mut rng = StdRng::seed_from_u64(setup.seed);
    let bank: Vec<(String, f64)> = (0..300)
        .map(|_| {
            (
                pick_by_weight(&DVA_WEIGHTS, &mut rng),
                standard_normal(&mut rng),
            )
        })
        .collect();
    // each learner's own generator, seeded from the run's: the rows do not depend on threads
    let past_seeds: Vec<u64> = (0..setup.past).map(|_| rng.gen()).collect();
    let seeds: Vec<u64> = (0..setup.learners).map(|_| rng.gen()).collect();
    // (predicted, true pass probability, passed when sitting the exam)
    let learner = |seed: u64| -> (f64, f64, bool) {
        let mut rng = StdRng::seed_from_u64(seed);
        let g = LEVEL.0 + LEVEL.1 * standard_normal(&mut rng);
        let mut theta: BTreeMap<String, f64> = DVA_WEIGHTS
            .iter()
            .map(|(d, _)| (d.to_string(), g + AREA_SD * standard_normal(&mut rng)))
            .collect();
        let mut beliefs: BTreeMap<String, Belief> = BTreeMap::new();
        for _ in 0..rng.gen_range(40..=120) {
            let area = pick_by_weight(&DVA_WEIGHTS, &mut rng);
            let in_area: Vec<usize> = (0..bank.len()).filter(|i| bank[*i].0 == area).collect();
            let b = bank[in_area[rng.gen_range(0..in_area.len())]].1;
            // learners change as they practise: the model's random walk
            *theta.get_mut(&area).expect("a weighted area") +=
                PROCESS_NOISE.sqrt() * standard_normal(&mut rng);
            let correct = rng.gen::<f64>() < sigmoid(theta[&area] - b);
            let belief = beliefs.entry(area).or_default();
            *belief = belief.update_logit(b, correct);
        }
        let truth = true_pass_probability(&theta, form);
        (
            simulate(&beliefs, form, &Population::default(), setup.draws).pass_probability,
            truth,
            rng.gen::<f64>() < truth,
        )
    };
    let run = |seeds: &[u64]| -> Vec<(f64, f64, bool)> {
        let threads = threads.clamp(1, seeds.len().max(1));
        let chunk = seeds.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = seeds
                .chunks(chunk)
                .map(|part| scope.spawn(|| part.iter().map(|s| learner(*s)).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a calibration thread panicked"))
                .collect()
        })
    };
    let past: Vec<(f64, bool)> = run(&past_seeds)
        .into_iter()
        .map(|(p, _, passed)| (p, passed))
        .collect();
    let fitted = fit(&past);
    let rows = run(&seeds);
    let map = fitted.unwrap_or(Recalibration::IDENTITY);
    Report {
        setup,
        raw: Table::new(rows.iter().map(|r| (r.0, r.1)).collect()),
        fitted,
        recalibrated: Table::new(rows.iter().map(|r| (map.apply(r.0), r.1)).collect()),
    }
}
