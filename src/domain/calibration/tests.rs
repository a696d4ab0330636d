//! Calibration: the fit, the pilot rule and parameter recovery.

use super::simulation::pearson;
use super::*;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};

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
        r.persons, r.items, r.responses, r.correlation, r.coverage, r.rmse, r.mean_se, r.iterations
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
