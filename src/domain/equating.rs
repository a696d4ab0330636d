//! Equated scaled score (issue 14): a learner's ability from their answers on a form of
//! calibrated items, and a 100–1000 score that is linear in ability, so learners of equal
//! ability get the same expected score on an easy form and on a hard one.
//!
//! Ability is Warm's weighted likelihood estimate (WLE) under the Rasch model
//! P(correct) = sigmoid(θ − b): finite for perfect and zero scores and nearly unbiased, without
//! a population prior that would pull learners toward a mean (a prior would pull harder on the
//! form that measures a learner less precisely, which is exactly what equating must avoid). The
//! pass point is the ability whose expected share correct on an average form is the pass
//! share. See docs/measurement.md.

use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};

use super::calibration::standard_normal;
use super::mastery::sigmoid;
use super::scoring::scaled_score;

/// Abilities are searched (and estimates clamped) within ±LIMIT logits.
const LIMIT: f64 = 12.0;

/// How abilities map to the reported 100–1000 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleSpec {
    /// Share correct that passes on an average form (default 0.72).
    pub pass_share: f64,
    /// Scaled score at the pass ability (default 720).
    pub pass_scaled: i32,
    /// Lowest and highest reported score (defaults 100 and 1000).
    pub min: i32,
    pub max: i32,
    /// Scaled points per logit (default 150). Near the pass mark this is about the slope of
    /// the old raw-percent score on a typical form (900 × mean p(1−p) at the pass ability,
    /// ≈ 150–160 on a bank of N(0, 1) difficulties), so scores there read much as before; the
    /// range then spans the pass ability −4.1 logits (100) to +1.9 logits (1000).
    pub slope: f64,
}

impl Default for ScaleSpec {
    fn default() -> Self {
        ScaleSpec {
            pass_share: 0.72,
            pass_scaled: 720,
            min: 100,
            max: 1000,
            slope: 150.0,
        }
    }
}

/// Ability from answers `(item difficulty in logits, correct)`: Warm's weighted likelihood
/// estimate, the root of Σ (y − p) + J / (2I) with I = Σ p(1−p) and J = Σ p(1−p)(1−2p), and
/// its standard error 1/sqrt(I) at the estimate. Perfect and zero scores get finite values
/// (the J/(2I) term tends to ∓½). Returns `(0.0, f64::INFINITY)` without answers. For a given
/// set of items it depends only on the number correct (see [`score_table`]).
pub fn ability(responses: &[(f64, bool)]) -> (f64, f64) {
    let difficulties: Vec<f64> = responses.iter().map(|(b, _)| *b).collect();
    let raw = responses.iter().filter(|(_, y)| *y).count();
    wle(&difficulties, raw)
}

/// [`ability`] for every number correct 0..=n on a form of `difficulties` (the Rasch model
/// makes the raw score sufficient): entry r is `(theta, se)` for r correct answers.
pub fn score_table(difficulties: &[f64]) -> Vec<(f64, f64)> {
    (0..=difficulties.len())
        .map(|raw| wle(difficulties, raw))
        .collect()
}

fn wle(difficulties: &[f64], raw: usize) -> (f64, f64) {
    if difficulties.is_empty() {
        return (0.0, f64::INFINITY);
    }
    let raw = raw.min(difficulties.len()) as f64;
    let moments = |theta: f64| {
        let (mut expected, mut info, mut skew) = (0.0, 0.0, 0.0);
        for b in difficulties {
            let p = sigmoid(theta - b);
            expected += p;
            info += p * (1.0 - p);
            skew += p * (1.0 - p) * (1.0 - 2.0 * p);
        }
        (expected, info.max(f64::MIN_POSITIVE), skew)
    };
    // The weighted score function decreases in θ; bisect for its root.
    let score = |theta: f64| {
        let (expected, info, skew) = moments(theta);
        raw - expected + skew / (2.0 * info)
    };
    let (mut lo, mut hi) = (-LIMIT, LIMIT);
    let theta = if score(lo) <= 0.0 {
        lo
    } else if score(hi) >= 0.0 {
        hi
    } else {
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if score(mid) > 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    };
    (theta, 1.0 / moments(theta).1.sqrt())
}

/// The pass ability: where the expected share correct on a form of `difficulties` (an
/// average form, e.g. the bank's difficulties in the blueprint's mix) equals `pass_share`, i.e.
/// the root of Σ sigmoid(θ − b) / n = pass_share (bisection). `None` without difficulties or
/// when `pass_share` is not strictly between 0 and 1.
pub fn pass_ability(difficulties: &[f64], pass_share: f64) -> Option<f64> {
    if difficulties.is_empty() || !(pass_share > 0.0 && pass_share < 1.0) {
        return None;
    }
    let n = difficulties.len() as f64;
    let share = |theta: f64| difficulties.iter().map(|b| sigmoid(theta - b)).sum::<f64>() / n;
    let (mut lo, mut hi) = (-LIMIT - 30.0, LIMIT + 30.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if share(mid) < pass_share {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// Equated scaled score: `pass_scaled + slope × (theta − theta_pass)`, rounded (half away from
/// zero) and clamped to `min..=max`; a NaN ability scores `min`.
pub fn scaled(theta: f64, theta_pass: f64, spec: &ScaleSpec) -> i32 {
    let (min, max) = (f64::from(spec.min), f64::from(spec.max.max(spec.min)));
    let score = f64::from(spec.pass_scaled) + spec.slope * (theta - theta_pass);
    if score.is_nan() {
        spec.min
    } else {
        score.round().clamp(min, max) as i32
    }
}

/// The old method, for comparison: linear in the raw share, 100 + 900 × correct / total
/// (`scoring::scaled_score`), which rewards an easy form and punishes a hard one.
pub fn raw_scaled(correct: usize, total: usize) -> i32 {
    scaled_score(correct, total)
}

/// A figure on the easiest and on the hardest forms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EasyHard {
    pub easy: f64,
    pub hard: f64,
}

impl EasyHard {
    /// easy − hard.
    pub fn diff(&self) -> f64 {
        self.easy - self.hard
    }
}

/// Mean scores and pass rates of learners of one true ability.
#[derive(Debug, Clone, PartialEq)]
pub struct EquatingRow {
    pub ability: f64,
    /// Mean equated scaled score.
    pub irt_score: EasyHard,
    /// Mean raw-percent scaled score ([`raw_scaled`]).
    pub raw_score: EasyHard,
    /// Share passing (scaled ≥ `pass_scaled`) with each method.
    pub irt_pass: EasyHard,
    pub raw_pass: EasyHard,
}

/// Figures of [`simulate_equating`].
#[derive(Debug, Clone, PartialEq)]
pub struct Equating {
    /// Pass ability on the bank (the average form).
    pub theta_pass: f64,
    /// 900 × mean p(1−p) over the bank at the pass ability: the old score's slope per logit
    /// there (compare [`ScaleSpec::slope`]).
    pub raw_slope_at_pass: f64,
    /// Mean item difficulty of the forms in the easiest and the hardest decile.
    pub mean_difficulty: EasyHard,
    pub rows: Vec<EquatingRow>,
    /// Mean over abilities of |easy − hard| of the mean scaled score, per method.
    pub irt_mean_abs_diff: f64,
    pub raw_mean_abs_diff: f64,
}

/// Equating check with simulated data (deterministic for a `seed`): a bank of 750 items with
/// difficulties ~ N(0, 1), 1,000 random 50-item forms; the 100 easiest and 100 hardest by mean
/// difficulty; for abilities −1, 0, 0.5, 1 and 1.5, `learners_per_form` simulated learners per
/// form take each of them. Compares the mean equated score (default [`ScaleSpec`], pass ability
/// from the whole bank) with the mean raw-percent score on the two deciles.
pub fn simulate_equating(learners_per_form: usize, seed: u64) -> Equating {
    const BANK: usize = 750;
    const FORMS: usize = 1000;
    const LENGTH: usize = 50;
    const ABILITIES: [f64; 5] = [-1.0, 0.0, 0.5, 1.0, 1.5];
    let spec = ScaleSpec::default();
    let mut rng = StdRng::seed_from_u64(seed);
    let bank: Vec<f64> = (0..BANK).map(|_| standard_normal(&mut rng)).collect();
    let theta_pass = pass_ability(&bank, spec.pass_share).unwrap_or(0.0);
    let raw_slope_at_pass = 900.0
        * bank
            .iter()
            .map(|b| {
                let p = sigmoid(theta_pass - b);
                p * (1.0 - p)
            })
            .sum::<f64>()
        / BANK as f64;

    let mut forms: Vec<Vec<f64>> = (0..FORMS)
        .map(|_| {
            sample(&mut rng, BANK, LENGTH)
                .into_iter()
                .map(|i| bank[i])
                .collect()
        })
        .collect();
    let mean = |form: &[f64]| form.iter().sum::<f64>() / form.len() as f64;
    forms.sort_by(|a, b| mean(a).total_cmp(&mean(b)));
    let decile = FORMS / 10;
    let easy = &forms[..decile];
    let hard = &forms[FORMS - decile..];
    let decile_mean =
        |forms: &[Vec<f64>]| forms.iter().map(|f| mean(f)).sum::<f64>() / decile as f64;
    let tables = |forms: &[Vec<f64>]| forms.iter().map(|f| score_table(f)).collect::<Vec<_>>();
    let (easy_tables, hard_tables) = (tables(easy), tables(hard));

    let mut rows = Vec::new();
    for ability in ABILITIES {
        // (irt score, raw score, irt passes, raw passes) summed over the decile's learners.
        let mut run = |forms: &[Vec<f64>], tables: &[Vec<(f64, f64)>]| {
            let mut sums = [0.0; 4];
            for (form, table) in forms.iter().zip(tables) {
                for _ in 0..learners_per_form {
                    let correct = form
                        .iter()
                        .filter(|b| rng.gen::<f64>() < sigmoid(ability - **b))
                        .count();
                    let irt = scaled(table[correct].0, theta_pass, &spec);
                    let raw = raw_scaled(correct, LENGTH);
                    sums[0] += f64::from(irt);
                    sums[1] += f64::from(raw);
                    sums[2] += f64::from(u8::from(irt >= spec.pass_scaled));
                    sums[3] += f64::from(u8::from(raw >= spec.pass_scaled));
                }
            }
            sums.map(|s| s / (forms.len() * learners_per_form).max(1) as f64)
        };
        let e = run(easy, &easy_tables);
        let h = run(hard, &hard_tables);
        let pair = |k: usize| EasyHard {
            easy: e[k],
            hard: h[k],
        };
        rows.push(EquatingRow {
            ability,
            irt_score: pair(0),
            raw_score: pair(1),
            irt_pass: pair(2),
            raw_pass: pair(3),
        });
    }
    let mean_abs = |f: fn(&EquatingRow) -> EasyHard| {
        rows.iter().map(|r| f(r).diff().abs()).sum::<f64>() / rows.len() as f64
    };
    Equating {
        theta_pass,
        raw_slope_at_pass,
        mean_difficulty: EasyHard {
            easy: decile_mean(easy),
            hard: decile_mean(hard),
        },
        irt_mean_abs_diff: mean_abs(|r| r.irt_score),
        raw_mean_abs_diff: mean_abs(|r| r.raw_score),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(difficulties: &[f64], correct: &[bool]) -> Vec<(f64, bool)> {
        difficulties
            .iter()
            .copied()
            .zip(correct.iter().copied())
            .collect()
    }

    #[test]
    fn half_right_on_a_symmetric_form_is_its_centre() {
        let b = [-1.5, -0.5, 0.5, 1.5];
        for correct in [[true, true, false, false], [false, true, false, true]] {
            let (theta, se) = ability(&form(&b, &correct));
            assert!(theta.abs() < 1e-9, "{theta}");
            let info: f64 = b.iter().map(|b| sigmoid(-b) * (1.0 - sigmoid(-b))).sum();
            assert!((se - 1.0 / info.sqrt()).abs() < 1e-9);
        }
    }

    #[test]
    fn perfect_and_zero_scores_are_finite_and_symmetric() {
        let centred: Vec<f64> = (0..50).map(|i| -0.98 + i as f64 * 0.04).collect();
        let top = ability(&form(&centred, &[true; 50]));
        let bottom = ability(&form(&centred, &[false; 50]));
        assert!(top.0.is_finite() && top.0 > 3.0 && top.0 < 8.0, "{top:?}");
        assert!((top.0 + bottom.0).abs() < 1e-9, "{top:?} {bottom:?}");
        assert!(top.1.is_finite() && (top.1 - bottom.1).abs() < 1e-9);
        assert_eq!(ability(&[]), (0.0, f64::INFINITY));
        let one = ability(&[(0.0, true)]);
        assert!(one.0 > 0.5 && one.0 < LIMIT, "{one:?}");
    }

    #[test]
    fn the_weighted_score_equation_holds() {
        let b = [-2.0, -1.0, -0.3, 0.0, 0.4, 1.1, 2.5];
        let y = [true, true, false, true, true, false, false];
        let (theta, _) = ability(&form(&b, &y));
        let (mut residual, mut info, mut skew) = (0.0, 0.0, 0.0);
        for (b, y) in b.iter().zip(y) {
            let p = sigmoid(theta - b);
            residual += f64::from(u8::from(y)) - p;
            info += p * (1.0 - p);
            skew += p * (1.0 - p) * (1.0 - 2.0 * p);
        }
        assert!((residual + skew / (2.0 * info)).abs() < 1e-9);
    }

    #[test]
    fn the_raw_score_is_sufficient_and_the_table_increases() {
        let b = [-1.0, 0.0, 0.5, 2.0];
        let a = ability(&form(&b, &[true, false, false, true]));
        let c = ability(&form(&b, &[false, true, true, false]));
        assert!((a.0 - c.0).abs() < 1e-12);
        let table = score_table(&b);
        assert_eq!(table.len(), 5);
        assert!(table.windows(2).all(|w| w[0].0 < w[1].0), "{table:?}");
        assert!((table[2].0 - a.0).abs() < 1e-12);
        assert_eq!(score_table(&[]), vec![(0.0, f64::INFINITY)]);
    }

    #[test]
    fn standard_error_of_a_typical_form() {
        // 50 items at b = 0 and an ability of 0: I = 50 × 0.25, SE = 0.283.
        let correct: Vec<bool> = (0..50).map(|i| i % 2 == 0).collect();
        let (theta, se) = ability(&form(&[0.0; 50], &correct));
        assert!(theta.abs() < 1e-9);
        assert!((se - 1.0 / 12.5f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn pass_ability_solves_the_expected_share() {
        let theta = pass_ability(&[0.0; 10], 0.72).unwrap();
        assert!((theta - (0.72f64 / 0.28).ln()).abs() < 1e-9);
        let b = [-1.0, 0.3, 2.0];
        let theta = pass_ability(&b, 0.6).unwrap();
        let share: f64 = b.iter().map(|b| sigmoid(theta - b)).sum::<f64>() / 3.0;
        assert!((share - 0.6).abs() < 1e-9);
        // A harder average form needs a higher ability to pass.
        assert!(pass_ability(&[0.5; 3], 0.72).unwrap() > pass_ability(&[0.0; 3], 0.72).unwrap());
        assert_eq!(pass_ability(&[], 0.72), None);
        assert_eq!(pass_ability(&b, 0.0), None);
        assert_eq!(pass_ability(&b, 1.0), None);
        assert_eq!(pass_ability(&b, f64::NAN), None);
    }

    #[test]
    fn scaled_is_linear_rounded_and_clamped() {
        let spec = ScaleSpec::default();
        assert_eq!(scaled(0.8, 0.8, &spec), 720);
        assert_eq!(scaled(1.8, 0.8, &spec), 870);
        assert_eq!(scaled(0.3, 0.8, &spec), 645);
        let unit = ScaleSpec { slope: 1.0, ..spec };
        assert_eq!(scaled(-0.5, 0.0, &unit), 720, "719.5 rounds to 720");
        assert_eq!(scaled(-1.5, 0.0, &unit), 719, "718.5 rounds to 719");
        assert_eq!(scaled(9.0, 0.8, &spec), 1000);
        assert_eq!(scaled(-9.0, 0.8, &spec), 100);
        assert_eq!(scaled(f64::INFINITY, 0.0, &spec), 1000);
        assert_eq!(scaled(f64::NAN, 0.0, &spec), 100);
        let steep = ScaleSpec {
            slope: 300.0,
            ..spec
        };
        assert_eq!(scaled(1.0, 0.0, &steep), 1000);
        assert_eq!(scaled(-1.0, 0.0, &steep), 420);
    }

    #[test]
    fn raw_scaled_is_the_old_score() {
        assert_eq!(raw_scaled(45, 65), 723);
        assert_eq!(raw_scaled(0, 50), 100);
        assert_eq!(raw_scaled(50, 50), 1000);
        assert_eq!(raw_scaled(36, 50), 748);
    }

    #[test]
    fn equal_ability_gets_equal_expected_score_on_easy_and_hard_forms() {
        // The expected equated score is (nearly) the same whatever the form: the WLE is close
        // to unbiased on each form, and the scale is linear in it.
        let easy: Vec<f64> = (0..50).map(|i| -0.3 + (i as f64 - 24.5) * 0.05).collect();
        let hard: Vec<f64> = easy.iter().map(|b| b + 0.6).collect();
        let spec = ScaleSpec::default();
        let theta_pass = 1.0;
        for theta in [-0.5, 0.5, 1.0, 1.5] {
            let expected = |form: &[f64]| {
                // Exact expectation over raw scores (Poisson-binomial distribution).
                let mut dist = vec![1.0];
                for b in form {
                    let p = sigmoid(theta - b);
                    let mut next = vec![0.0; dist.len() + 1];
                    for (r, q) in dist.iter().enumerate() {
                        next[r] += q * (1.0 - p);
                        next[r + 1] += q * p;
                    }
                    dist = next;
                }
                let table = score_table(form);
                dist.iter()
                    .zip(&table)
                    .map(|(q, (t, _))| q * f64::from(scaled(*t, theta_pass, &spec)))
                    .sum::<f64>()
            };
            let (e, h) = (expected(&easy), expected(&hard));
            assert!(
                (e - h).abs() < 5.0,
                "theta {theta}: easy {e:.1}, hard {h:.1}"
            );
        }
    }

    /// Issue 14 acceptance: easy and hard deciles of random forms give equal mean scores.
    #[test]
    fn equating_simulation() {
        let q = simulate_equating(20, 14);
        println!(
            "equating: pass ability {:.3}, raw slope at pass {:.1} points/logit, decile mean \
             difficulty easy {:.3} hard {:.3}",
            q.theta_pass, q.raw_slope_at_pass, q.mean_difficulty.easy, q.mean_difficulty.hard
        );
        println!(
            "ability | IRT easy  hard  diff | raw easy  hard  diff | pass IRT e/h | pass raw e/h"
        );
        for r in &q.rows {
            println!(
                "{:7.1} | {:8.1} {:5.1} {:5.1} | {:8.1} {:5.1} {:5.1} | {:.3}/{:.3}  | {:.3}/{:.3}",
                r.ability,
                r.irt_score.easy,
                r.irt_score.hard,
                r.irt_score.diff(),
                r.raw_score.easy,
                r.raw_score.hard,
                r.raw_score.diff(),
                r.irt_pass.easy,
                r.irt_pass.hard,
                r.raw_pass.easy,
                r.raw_pass.hard
            );
        }
        println!(
            "mean |easy - hard|: IRT-equated {:.1} scaled points, raw percent {:.1}",
            q.irt_mean_abs_diff, q.raw_mean_abs_diff
        );
        assert!(q.irt_mean_abs_diff < 15.0, "{q:?}");
        assert!(q.raw_mean_abs_diff > 3.0 * q.irt_mean_abs_diff, "{q:?}");
        assert!(q.mean_difficulty.hard - q.mean_difficulty.easy > 0.3);
        assert_eq!(q, simulate_equating(20, 14), "deterministic");
    }
}
