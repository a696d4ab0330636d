//! Calibration from real answers: a Rasch (1PL) difficulty per question version, pilot
//! promotion and flagging, and each scaled blueprint's pass ability (docs/measurement.md).
//!
//! Run by `exambank calibrate` and by a periodic job; one process at a time (an advisory lock:
//! a second caller returns at once with `skipped`).

use std::collections::{BTreeMap, HashMap};

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::calibration as db;
use crate::domain::calibration::{
    calibrate, pilot_verdict, prior_logit, Response, Settings, Source, Verdict,
};
use crate::domain::equating;
use crate::error::AppResult;

#[derive(Debug, Default)]
pub struct Report {
    /// Another process was calibrating: nothing was done.
    pub skipped: bool,
    pub responses: usize,
    pub learners: usize,
    pub versions: usize,
    /// Versions fitted from their responses (the rest keep their prior).
    pub fitted: usize,
    pub promoted: Vec<(Uuid, i32)>,
    /// (question, version, reason)
    pub flagged: Vec<(Uuid, i32, String)>,
    /// Pilots still waiting for responses.
    pub waiting: usize,
    /// (blueprint, pass ability in logits)
    pub pass_abilities: Vec<(String, f64)>,
    pub iterations: usize,
    pub converged: bool,
    /// Readiness recalibrated against finalized attempts, per blueprint with kept beliefs.
    pub readiness: Vec<crate::services::learning::ReadinessFit>,
}

pub async fn run(pool: &PgPool) -> AppResult<Report> {
    let mut tx = pool.begin().await?;
    if !db::try_lock(&mut tx).await? {
        return Ok(Report {
            skipped: true,
            ..Report::default()
        });
    }
    let versions = db::versions(&mut tx).await?;
    let index: HashMap<(Uuid, i32), usize> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| ((v.question_id, v.version), i))
        .collect();
    let priors: Vec<f64> = versions.iter().map(|v| prior_logit(v.difficulty)).collect();
    let mut people: HashMap<Uuid, usize> = HashMap::new();
    let mut responses = Vec::new();
    for (user, q, v, correct) in db::responses(&mut tx).await? {
        let Some(&item) = index.get(&(q, v)) else {
            continue;
        };
        let n = people.len();
        let person = *people.entry(user).or_insert(n);
        responses.push(Response {
            person,
            item,
            correct,
        });
    }
    let fit = calibrate(people.len(), &priors, &responses, &Settings::default());
    let mut report = Report {
        responses: responses.len(),
        learners: people.len(),
        versions: versions.len(),
        iterations: fit.iterations,
        converged: fit.converged,
        ..Report::default()
    };
    let estimates: Vec<db::Estimate> = versions
        .iter()
        .zip(&fit.items)
        .map(|(v, e)| db::Estimate {
            question_id: v.question_id,
            version: v.version,
            difficulty: e.difficulty,
            se: e.se,
            responses: e.responses as i32,
            facility: e.facility,
            point_biserial: e.point_biserial,
            source: match e.source {
                Source::Fitted => "fitted",
                Source::Prior => "prior",
                Source::Anchored => "anchored",
            },
        })
        .collect();
    report.fitted = estimates.iter().filter(|e| e.source == "fitted").count();
    db::store(&mut tx, &estimates).await?;
    for (v, e) in versions.iter().zip(&fit.items) {
        if v.pilot_status != "pilot" {
            continue;
        }
        match pilot_verdict(e) {
            Verdict::Promote => {
                db::promote(&mut tx, v.question_id, v.version).await?;
                report.promoted.push((v.question_id, v.version));
            }
            Verdict::Flag(reason) => {
                let reason = reason.to_string();
                db::flag(&mut tx, v.question_id, v.version, &reason).await?;
                report.flagged.push((v.question_id, v.version, reason));
            }
            Verdict::Wait => report.waiting += 1,
        }
    }
    if !report.promoted.is_empty() {
        crate::db::catalog::refresh_bank_cells(&mut tx).await?;
    }
    report.pass_abilities = refresh_pass_abilities(&mut tx).await?;
    report.readiness = crate::services::learning::recalibrate_readiness(&mut tx).await?;
    tx.commit().await?;
    Ok(report)
}

/// Sets each scaled blueprint's pass ability: the ability at which the expected share correct
/// on an average form of its mix (the current scored questions of its topic areas, by their
/// calibrated or prior difficulties) is its pass share. Returns (blueprint, ability).
pub async fn refresh_pass_abilities(conn: &mut PgConnection) -> AppResult<Vec<(String, f64)>> {
    let bank = db::operational_difficulties(conn).await?;
    let mut out = Vec::new();
    for (slug, weights, pass_share) in db::scaled_blueprints(conn).await? {
        let total: f64 = weights.values().filter(|w| **w > 0.0).sum();
        // an average form: every question of the mix, each weighted so that its area carries
        // the area's share (an area with many questions does not outweigh its weight)
        let mut per_area: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for q in &bank {
            if weights.get(&q.area).is_some_and(|w| *w > 0.0) {
                per_area
                    .entry(q.area.as_str())
                    .or_default()
                    .push(q.calibrated.unwrap_or_else(|| prior_logit(q.difficulty)));
            }
        }
        if per_area.is_empty() || total <= 0.0 {
            continue;
        }
        let Some(theta) = pass_ability_weighted(&per_area, &weights, total, pass_share) else {
            continue;
        };
        db::set_pass_ability(conn, &slug, theta).await?;
        out.push((slug, theta));
    }
    Ok(out)
}

/// The ability whose expected share correct, averaged over areas by weight, is `pass_share`.
fn pass_ability_weighted(
    per_area: &BTreeMap<&str, Vec<f64>>,
    weights: &BTreeMap<String, f64>,
    total: f64,
    pass_share: f64,
) -> Option<f64> {
    // expand to a form of 1,000 items with the areas in their shares, then solve on it
    let mut form = Vec::new();
    for (area, ds) in per_area {
        let share = weights.get(*area).copied().unwrap_or(0.0) / total;
        let k = (share * 1000.0).round() as usize;
        for i in 0..k {
            form.push(ds[i * ds.len() / k.max(1) % ds.len()]);
        }
    }
    equating::pass_ability(&form, pass_share)
}
