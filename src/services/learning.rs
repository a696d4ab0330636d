//! The learner's mastery (per domain and tag, with daily snapshots), readiness and due reviews.
//! What each answer teaches is computed by `domain::learning::on_answer` when the answer is
//! planned, and written in the same database call as the answer. The model is documented in
//! docs/mastery.md.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::calibration;
use crate::db::catalog;
use crate::db::mastery::{self as db, DueRow, MasteryRow, SnapshotRow};
use crate::db::readiness as readiness_db;
use crate::domain::calibration::prior_logit;
use crate::domain::equating::ScaleSpec;
use crate::domain::mastery::{improvement_value, Belief};
use crate::domain::readiness::recalibration::{self, Recalibration};
use crate::domain::readiness::{readiness, Form, FormItem, Population, Readiness, ScoreRule};
use crate::error::{AppError, AppResult};

pub struct AreaView {
    pub kind: String,
    pub area: String,
    pub estimate: f64,
    pub uncertainty: f64,
    pub answered: i32,
    pub correct: i32,
    /// Change of the estimate over the last 7 days (None without history).
    pub trend: Option<f64>,
    /// For domains: how much improving it would raise the predicted exam score.
    pub improvement: f64,
}

pub struct MasteryView {
    pub domains: Vec<AreaView>,
    pub tags: Vec<AreaView>,
    /// Domains, highest improvement value first.
    pub weakest: Vec<AreaView>,
}

fn belief(r: &MasteryRow) -> Belief {
    Belief {
        mu: r.ability,
        var: r.variance,
    }
}

/// The exam weights of the full blueprint (relative, normalised).
async fn exam_weights(pool: &PgPool) -> AppResult<BTreeMap<String, f64>> {
    let domains = catalog::domain_weights(pool).await?;
    let total: f64 = domains.iter().map(|(_, w)| w).sum();
    Ok(domains
        .into_iter()
        .map(|(d, w)| (d, if total > 0.0 { w / total } else { 0.0 }))
        .collect())
}

pub async fn beliefs(pool: &PgPool, user_id: Uuid) -> AppResult<BTreeMap<String, Belief>> {
    let mut conn = pool.acquire().await?;
    Ok(db::all(&mut conn, user_id)
        .await?
        .iter()
        .filter(|r| r.area_kind == "domain")
        .map(|r| (r.area.clone(), belief(r)))
        .collect())
}

pub async fn mastery(pool: &PgPool, user_id: Uuid) -> AppResult<MasteryView> {
    let weights = exam_weights(pool).await?;
    let mut conn = pool.acquire().await?;
    let rows = db::all(&mut conn, user_id).await?;
    let week_ago = (Utc::now() - Duration::days(7)).date_naive();
    let past: BTreeMap<String, SnapshotRow> = db::as_of(&mut conn, user_id, week_ago)
        .await?
        .into_iter()
        .map(|s| (s.domain.clone(), s))
        .collect();
    let view = |r: Option<&MasteryRow>, kind: &str, area: &str| {
        let b = r.map(belief).unwrap_or(Belief::PRIOR);
        let trend = if kind == "domain" && r.is_some() {
            let before = past
                .get(area)
                .map(|s| Belief {
                    mu: s.ability,
                    var: s.variance,
                })
                .unwrap_or(Belief::PRIOR);
            Some(b.estimate() - before.estimate())
        } else {
            None
        };
        AreaView {
            kind: kind.into(),
            area: area.into(),
            estimate: b.estimate(),
            uncertainty: b.uncertainty(),
            answered: r.map_or(0, |r| r.answered),
            correct: r.map_or(0, |r| r.correct),
            trend,
            improvement: improvement_value(&b, weights.get(area).copied().unwrap_or(0.0)),
        }
    };
    let domains: Vec<AreaView> = weights
        .keys()
        .map(|d| {
            view(
                rows.iter()
                    .find(|r| r.area_kind == "domain" && &r.area == d),
                "domain",
                d,
            )
        })
        .collect();
    let mut tags: Vec<AreaView> = rows
        .iter()
        .filter(|r| r.area_kind == "tag")
        .map(|r| view(Some(r), "tag", &r.area))
        .collect();
    tags.sort_by(|a, b| a.estimate.total_cmp(&b.estimate));
    let mut weakest: Vec<AreaView> = weights
        .keys()
        .map(|d| {
            view(
                rows.iter()
                    .find(|r| r.area_kind == "domain" && &r.area == d),
                "domain",
                d,
            )
        })
        .collect();
    weakest.sort_by(|a, b| b.improvement.total_cmp(&a.improvement));
    Ok(MasteryView {
        domains,
        tags,
        weakest,
    })
}

pub async fn history(pool: &PgPool, user_id: Uuid, days: i64) -> AppResult<Vec<SnapshotRow>> {
    let since: NaiveDate = (Utc::now() - Duration::days(days.clamp(1, 365))).date_naive();
    let mut conn = pool.acquire().await?;
    Ok(db::history(&mut conn, user_id, since).await?)
}

/// Predicted exam score for a blueprint from the per-area beliefs (Monte Carlo, fixed seed), on
/// the typical form the blueprint draws from the bank (its scored questions, both weightings,
/// calibrated difficulties), scored as its attempts are: equated where the blueprint has a pass
/// ability, else linear. Also predicts each exam-guide domain. The pass probability is
/// recalibrated against earlier attempts' outcomes once calibration has fitted a map for the
/// blueprint ([`recalibrate_readiness`]).
pub async fn readiness_for(
    pool: &PgPool,
    user_id: Uuid,
    blueprint: &str,
) -> AppResult<(Readiness, i32)> {
    let mut conn = pool.acquire().await?;
    let form = form_for(&mut conn, blueprint).await?;
    let map = readiness_db::recalibration(&mut conn, blueprint).await?;
    drop(conn);
    let beliefs = beliefs(pool, user_id).await?;
    let pass_mark = form.pass_mark;
    let mut r =
        tokio::task::spawn_blocking(move || readiness(&beliefs, &form, &Population::default()))
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
    if let Some((map, outcomes)) = map {
        r.pass_probability = map.apply(r.pass_probability);
        r.recalibrated_on = Some(outcomes);
    }
    Ok((r, pass_mark))
}

/// The blueprint's typical form as readiness simulates it (docs/mastery.md, "Readiness").
async fn form_for(conn: &mut PgConnection, blueprint: &str) -> AppResult<Form> {
    let bp = catalog::blueprint_in(conn, blueprint)
        .await?
        .ok_or_else(|| {
            AppError::validation("blueprint", format!("unknown blueprint `{blueprint}`"))
        })?;
    let measure = catalog::blueprint_measure(conn, blueprint)
        .await?
        .unwrap_or_default();
    let pass_ability = calibration::pass_abilities(conn, std::slice::from_ref(&bp.slug))
        .await?
        .into_iter()
        .find_map(|(_, p)| p);
    let bank: Vec<FormItem> = calibration::operational_difficulties(conn)
        .await?
        .into_iter()
        .map(|q| FormItem {
            b: q.calibrated.unwrap_or_else(|| prior_logit(q.difficulty)),
            area: q.area,
            exam_domain: q.exam_domain,
        })
        .collect();
    let weights = bp.domain_weights;
    let scored = usize::try_from(bp.question_count - measure.unscored.max(0))
        .ok()
        .filter(|n| *n > 0)
        .unwrap_or(bp.question_count.max(0) as usize);
    let rule = match pass_ability {
        Some(theta_pass) if bp.scaled => ScoreRule::Equated {
            theta_pass,
            spec: ScaleSpec {
                pass_scaled: bp.pass_mark,
                ..ScaleSpec::default()
            },
        },
        _ => ScoreRule::Linear,
    };
    Ok(Form::typical(
        &bank,
        &weights,
        &measure.exam_domain_weights.0,
        scored,
        rule,
        bp.pass_mark,
    ))
}

/// Finalized attempts a blueprint's readiness map is fitted to: the most recent ones.
pub const RECALIBRATION_WINDOW: i64 = 5000;

/// One blueprint's readiness recalibration, as [`recalibrate_readiness`] fitted it.
#[derive(Debug, Clone)]
pub struct ReadinessFit {
    pub blueprint: String,
    /// Finalized attempts with the beliefs kept at their start.
    pub outcomes: usize,
    /// `None`: too few outcomes, readiness is served as simulated.
    pub map: Option<Recalibration>,
}

/// Refits every blueprint's readiness map (run by calibration, on its transaction, after the
/// difficulties and pass abilities are new): each finalized `exam` attempt is predicted from
/// the beliefs kept when it started, on the blueprint's current form, and
/// P(pass) = sigmoid(slope · logit(predicted) + intercept) is fitted to whether it passed.
pub async fn recalibrate_readiness(conn: &mut PgConnection) -> AppResult<Vec<ReadinessFit>> {
    let mut fits = Vec::new();
    for blueprint in readiness_db::blueprints(conn).await? {
        let outcomes = readiness_db::outcomes(conn, &blueprint, RECALIBRATION_WINDOW).await?;
        let form = form_for(conn, &blueprint).await?;
        let n = outcomes.len();
        let map = tokio::task::spawn_blocking(move || {
            let pairs: Vec<(f64, bool)> = outcomes
                .iter()
                .map(|(beliefs, passed)| {
                    (
                        readiness(beliefs, &form, &Population::default()).pass_probability,
                        *passed,
                    )
                })
                .collect();
            recalibration::fit(&pairs)
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
        readiness_db::store(conn, &blueprint, map, n).await?;
        fits.push(ReadinessFit {
            blueprint,
            outcomes: n,
            map,
        });
    }
    Ok(fits)
}

pub async fn due(pool: &PgPool, user_id: Uuid, limit: i64) -> AppResult<Vec<DueRow>> {
    let mut conn = pool.acquire().await?;
    Ok(db::due(&mut conn, user_id, Utc::now(), None, limit).await?)
}

/// How many reviews are due now (what the dashboard and the practice page show).
pub async fn due_count(pool: &PgPool, user_id: Uuid) -> AppResult<i64> {
    let mut conn = pool.acquire().await?;
    Ok(db::due_count(&mut conn, user_id, Utc::now()).await?)
}
