//! Finalization: submit and expiry (one attempt, a batch of submits, the sweeper), scoring into
//! the result document, with the equated scaled score's inputs.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::GRACE_SECS;
use crate::db::attempts::{self as db, AttemptRow, ItemRow};
use crate::domain::attempt::AttemptStatus;
use crate::domain::calibration::prior_logit;
use crate::domain::result::{result_document, AttemptResult, ScoredItem};
use crate::domain::window::ran_out;
use crate::error::{AppError, AppResult};

/// Finalizes once: submitted, or expired when past the deadline. Concurrent and repeated
/// calls return the one stored result.
#[tracing::instrument(skip_all, fields(attempt = %id))]
pub async fn finalize(pool: &PgPool, user_id: Uuid, id: Uuid) -> AppResult<AttemptResult> {
    let mut tx = pool.begin().await?;
    let attempt = db::lock(&mut tx, id, user_id, true)
        .await?
        .filter(|a| a.status.is_visible())
        .ok_or_else(|| AppError::NotFound("no such attempt".into()))?;
    if let Some(result) = attempt.result.clone() {
        return Ok(result);
    }
    let result = finalize_locked(&mut tx, &attempt).await?;
    tx.commit().await?;
    Ok(result)
}

/// Finalizes several learners' attempts in one transaction: (learner, attempt) each, answered
/// in the same order. An attempt that does not exist (or is not the learner's, or is only
/// prepared) is a 404; one already final returns its stored result.
pub async fn finalize_batch(
    pool: &PgPool,
    requests: &[(Uuid, Uuid)],
) -> AppResult<Vec<AppResult<AttemptResult>>> {
    let mut tx = pool.begin().await?;
    let rows = db::lock_many(&mut tx, requests).await?;
    let mut by_id: HashMap<Uuid, AttemptRow> = rows
        .into_iter()
        .filter(|a| a.status.is_visible())
        .map(|a| (a.id, a))
        .collect();
    let pending: Vec<AttemptRow> = by_id
        .values()
        .filter(|a| a.result.is_none())
        .cloned()
        .collect();
    let results = finalize_rows(&mut tx, &pending).await?;
    tx.commit().await?;
    for (a, r) in pending.iter().zip(results) {
        if let Some(row) = by_id.get_mut(&a.id) {
            row.result = Some(r);
        }
    }
    Ok(requests
        .iter()
        .map(|(user, id)| {
            by_id
                .get(id)
                .filter(|a| a.user_id == *user)
                .and_then(|a| a.result.clone())
                .ok_or_else(|| AppError::NotFound("no such attempt".into()))
        })
        .collect())
}

async fn finalize_locked(
    conn: &mut PgConnection,
    attempt: &AttemptRow,
) -> AppResult<AttemptResult> {
    let mut results = finalize_rows(conn, std::slice::from_ref(attempt)).await?;
    results
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("finalizing returned no result")))
}

/// Finalizes attempts whose rows this transaction has locked: takes their learners' locks (so
/// every answer save in flight has committed, and none lands after), reads every item in one
/// query, scores in Rust and writes each status and result in one statement. Time ran out for
/// an attempt finalized at or past its deadline (by the sweeper, a late read, or the page's own
/// submit at zero, inside the grace window): it is `expired`.
async fn finalize_rows(
    conn: &mut PgConnection,
    attempts: &[AttemptRow],
) -> AppResult<Vec<AttemptResult>> {
    let users: Vec<Uuid> = attempts.iter().map(|a| a.user_id).collect();
    db::lock_learners(conn, &users).await?;
    let keys: Vec<(Uuid, Uuid)> = attempts.iter().map(|a| (a.id, a.user_id)).collect();
    let mut items = super::content::items_of(conn, &keys).await?;
    let equate = Equate::load(conn, attempts, &items).await?;
    let now = Utc::now();
    let rows: Vec<(Uuid, Uuid, AttemptStatus, AttemptResult)> = attempts
        .iter()
        .map(|a| {
            let status = if ran_out(a.deadline, now) {
                AttemptStatus::Expired
            } else {
                AttemptStatus::Submitted
            };
            let its = items.remove(&a.id).unwrap_or_default();
            let result = result_of(a, &its, equate.for_attempt(a).as_ref());
            (a.id, a.user_id, status, result)
        })
        .collect();
    db::finalize_many(conn, &rows).await?;
    Ok(rows.into_iter().map(|r| r.3).collect())
}

/// What an equated scaled score needs: the blueprints' pass abilities and the items'
/// calibrated difficulties (logits).
struct Equate {
    pass: HashMap<String, f64>,
    difficulty: HashMap<(Uuid, i32), f64>,
}

impl Equate {
    async fn load(
        conn: &mut PgConnection,
        attempts: &[AttemptRow],
        items: &HashMap<Uuid, Vec<ItemRow>>,
    ) -> AppResult<Equate> {
        let slugs: Vec<String> = attempts
            .iter()
            .filter(|a| a.scaled)
            .filter_map(|a| a.blueprint.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut e = Equate {
            pass: HashMap::new(),
            difficulty: HashMap::new(),
        };
        if slugs.is_empty() {
            return Ok(e);
        }
        e.pass = crate::db::calibration::pass_abilities(conn, &slugs)
            .await?
            .into_iter()
            .filter_map(|(s, p)| p.map(|p| (s, p)))
            .collect();
        if e.pass.is_empty() {
            return Ok(e);
        }
        let keys: Vec<(Uuid, i32)> = items
            .values()
            .flatten()
            .map(|i| (i.question_id, i.version))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        e.difficulty = crate::db::calibration::difficulties(conn, &keys)
            .await?
            .into_iter()
            .filter_map(|(q, v, d)| d.map(|d| ((q, v), d)))
            .collect();
        Ok(e)
    }

    fn for_attempt(&self, a: &AttemptRow) -> Option<Equating<'_>> {
        let pass = *self.pass.get(a.blueprint.as_deref()?)?;
        a.scaled.then_some(Equating {
            pass_ability: pass,
            difficulty: &self.difficulty,
        })
    }
}

/// The equated scaled score's inputs for one attempt.
struct Equating<'a> {
    /// The ability that scores the pass mark (the blueprint's).
    pub pass_ability: f64,
    /// Calibrated difficulties; a version without one takes its author difficulty's prior.
    pub difficulty: &'a HashMap<(Uuid, i32), f64>,
}

/// The attempt's result document (`domain::result`): its items as scoring sees them, with the
/// difficulties an equated score needs.
fn result_of(
    attempt: &AttemptRow,
    items: &[ItemRow],
    equating: Option<&Equating>,
) -> AttemptResult {
    let scored: Vec<ScoredItem> = items
        .iter()
        .map(|i| ScoredItem {
            domain: i.domain.clone(),
            exam_domain: i.exam_domain.clone(),
            scored: i.scored,
            answered: !i.choices.is_empty(),
            correct: i.is_correct(),
            time_spent_ms: i.time_spent_ms,
            difficulty: equating
                .and_then(|e| e.difficulty.get(&(i.question_id, i.version)).copied())
                .unwrap_or_else(|| prior_logit(i.difficulty)),
        })
        .collect();
    result_document(
        attempt.id,
        attempt.pass_mark,
        &scored,
        equating.map(|e| e.pass_ability),
    )
}

/// Attempts the sweeper finalizes in one transaction.
const SWEEP_BATCH: i64 = 250;

/// Finalizes every attempt past its deadline + grace, in batches of [`SWEEP_BATCH`] (a handful
/// of statements per batch, whatever its size); safe with several processes (SKIP LOCKED).
/// Answer saves of other learners go on meanwhile: a batch waits only for its own learners.
pub async fn expire_overdue(pool: &PgPool) -> AppResult<usize> {
    let mut total = 0;
    loop {
        let mut tx = pool.begin().await?;
        let due = db::lock_overdue_rows(&mut tx, GRACE_SECS as f64, SWEEP_BATCH).await?;
        if due.is_empty() {
            return Ok(total);
        }
        finalize_rows(&mut tx, &due).await?;
        tx.commit().await?;
        total += due.len();
        if (due.len() as i64) < SWEEP_BATCH {
            return Ok(total);
        }
    }
}
