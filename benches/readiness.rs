//! Issue 14's "readiness stays calibrated" at full size: the worst decile gap between the
//! predicted and the true pass probability must be at most 0.03.
//!
//! For each of three seeds: 10,000 simulated learners practise 40–120 questions each on a
//! calibrated bank, and readiness predicts their pass probability with the production
//! 4,000 draws (`READINESS_DRAWS`); the prediction is compared, by decile, with the exact pass
//! probability from their true abilities (`domain::readiness::check`). Both the `dva-c02` form
//! as it is scored now (50 scored calibrated questions, equated) and the old linear
//! 65-question form are checked. Deterministic: the same figures on every run and machine.
//!
//! Readiness serves the prediction recalibrated against earlier learners' real outcomes
//! (`domain::readiness::recalibration`), fitted by calibration to the last
//! `RECALIBRATION_WINDOW` (5,000) finished attempts. The check fits it the same way to 5,000
//! earlier learners who sat the exam once (pass or fail drawn from their true pass
//! probability), a sample separate from the learners checked, and prints the gap both as is and
//! recalibrated. `READINESS_PAST=2000` shows an earlier stage, with fewer outcomes.
//!
//! Run: `cargo bench --bench readiness` (release build; a few minutes on 2 cores).
//! `READINESS_LEARNERS`, `READINESS_PAST` and `READINESS_SEEDS` (comma-separated) change the
//! size.
//! Exits non-zero when a gap is over 0.03.

use std::time::Instant;

use exambank::domain::readiness::check::{
    calibration_check, equated_form, linear_form, synthetic_bank, Setup,
};
use exambank::domain::readiness::READINESS_DRAWS;
use exambank::services::learning::RECALIBRATION_WINDOW;

const TARGET: f64 = 0.03;

fn main() {
    let learners: usize = std::env::var("READINESS_LEARNERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let past: usize = std::env::var("READINESS_PAST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(RECALIBRATION_WINDOW as usize);
    let seeds: Vec<u64> = std::env::var("READINESS_SEEDS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![2026, 7, 99]);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let forms = [
        (
            "dva-c02 typical form: 50 scored calibrated questions, equated",
            equated_form(&synthetic_bank(2026)),
        ),
        (
            "65 questions at -1/0/+1, linear in raw percent",
            linear_form(),
        ),
    ];
    let mut summary = Vec::new();
    for seed in &seeds {
        for (label, form) in &forms {
            let started = Instant::now();
            let report = calibration_check(
                form,
                Setup {
                    seed: *seed,
                    learners,
                    past,
                    draws: READINESS_DRAWS,
                },
                threads,
            );
            println!("\n{label}\n{report}");
            println!("({:.1} s)", started.elapsed().as_secs_f64());
            summary.push((
                *seed,
                *label,
                report.raw.worst_gap(),
                report.recalibrated.worst_gap(),
            ));
        }
    }
    println!("\nworst decile gap (target <= {TARGET}, served = recalibrated):");
    println!("{:>6}  {:>6}  {:>7}  form", "seed", "as is", "served");
    let mut failed = false;
    for (seed, label, raw, served) in &summary {
        let mark = if *served <= TARGET { "" } else { "  OVER" };
        failed |= *served > TARGET;
        println!("{seed:>6}  {raw:>6.3}  {served:>7.3}  {label}{mark}");
    }
    if failed {
        std::process::exit(1);
    }
}
