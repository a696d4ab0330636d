//! The answer path: validating an answer, saving it from the process's cache of the attempt
//! (batched) or after a read, and the practice feedback it returns.

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::answer_batch::{AnswerBatcher, Saved};
use super::answer_cache::{AnswerCache, CachedAttempt};
use super::finalize::finalize;
use crate::db::attempts::{self as db, ItemRow};
use crate::domain::answer::{self as rules, LearnerState, Plan, Refusal};
use crate::domain::attempt::{AttemptStatus, Mode};
use crate::domain::learning::{AreaRead, CardRow};
use crate::domain::window::{past_deadline, GRACE_SECS};
use crate::error::{AppError, AppResult, Conflict};

pub use crate::domain::answer::{AnswerInput, AnswerOutcome, Feedback};

/// Records that the pages showed this question now (server-side time per question).
pub async fn viewed(pool: &PgPool, user_id: Uuid, id: Uuid, position: i32) -> AppResult<()> {
    let mut conn = pool.acquire().await?;
    db::mark_viewed(&mut conn, id, user_id, position).await?;
    Ok(())
}

/// Saves an answer: an idempotent upsert. Refused with 409 when the attempt is finalized, its
/// deadline has passed, or the client's revision is stale.
///
/// The write is one `save_answer` database call that checks nothing it was based on has changed.
/// It is based on this process's cache of the attempt when that can serve (one round trip), and
/// otherwise on a lock-free read. Collisions (the same learner saving concurrently, a stale
/// cache) read again; after two collisions the retries queue on the learner's lock (their
/// `learner_locks` row), so a save always gets through.
#[tracing::instrument(skip_all, fields(attempt = %id, position))]
pub async fn answer(
    pool: &PgPool,
    cache: &AnswerCache,
    saves: &AnswerBatcher,
    user_id: Uuid,
    id: Uuid,
    position: i32,
    input: AnswerInput,
) -> AppResult<AnswerOutcome> {
    if let Some(o) = try_cached(pool, cache, saves, user_id, id, position, &input).await? {
        return Ok(o);
    }
    for round in 0..MAX_SAVE_ROUNDS {
        let outcome = if round < OPTIMISTIC_ROUNDS {
            let mut conn = pool.acquire().await?;
            try_answer(&mut conn, user_id, id, position, &input).await?
        } else {
            let mut tx = pool.begin().await?;
            db::lock_learner(&mut tx, user_id).await?;
            let o = try_answer(&mut tx, user_id, id, position, &input).await?;
            if matches!(o, Round::Saved(_)) {
                tx.commit().await?;
            }
            o
        };
        match outcome {
            Round::Saved(o) => {
                // the cached attempt (if any) missed this write: load it afresh next time
                cache.evict(id);
                return Ok(o);
            }
            Round::Changed => continue,
            Round::Overdue => {
                // the connection is back in the pool before finalizing takes one
                finalize(pool, user_id, id).await?;
                return Err(AppError::conflict(
                    Conflict::DeadlinePassed,
                    "the deadline has passed; the attempt was finalized as expired",
                ));
            }
        }
    }
    Err(AppError::Unavailable(
        "the answer could not be saved for contention; retry".into(),
    ))
}

/// Rounds of optimistic saves before queueing on the learner's lock, and the rounds in all.
const OPTIMISTIC_ROUNDS: usize = 2;
const MAX_SAVE_ROUNDS: usize = 12;

enum Round {
    Saved(AnswerOutcome),
    /// Something changed between the read and the write; nothing was written.
    Changed,
    /// The deadline has passed: finalize.
    Overdue,
}

/// Plans the request against the question in a known state (the answer rules in
/// `domain::answer`), with the learner's state read with it.
fn plan_answer(
    item: &ItemRow,
    input: &AnswerInput,
    areas: &[AreaRead],
    card: Option<&CardRow>,
    stats_seen: Option<i32>,
) -> AppResult<Plan> {
    let learner = LearnerState {
        areas,
        card,
        stats_seen,
    };
    let state = item.question_state();
    rules::plan_answer(&state, input, learner, Utc::now()).map_err(|r| match r {
        Refusal::Invalid(errors) => AppError::Validation(errors),
        stale @ Refusal::Stale { .. } => AppError::conflict(
            Conflict::StaleRevision,
            stale.message(item.position).unwrap_or_default(),
        ),
    })
}

fn outcome(
    item: &ItemRow,
    mode: Mode,
    choices: Vec<String>,
    flagged: bool,
    revision: i32,
) -> AnswerOutcome {
    rules::outcome(
        mode,
        item.position,
        &item.options,
        &item.explanation,
        choices,
        flagged,
        revision,
    )
}

/// The one-round-trip save from the cached attempt. `Ok(None)`: the cache cannot serve this
/// request (not cached, a retry, a client revision the cache has not seen, the pages' server-
/// measured time) or the database refused the cached state; nothing was written.
async fn try_cached(
    pool: &PgPool,
    cache: &AnswerCache,
    saves: &AnswerBatcher,
    user_id: Uuid,
    id: Uuid,
    position: i32,
    input: &AnswerInput,
) -> AppResult<Option<AnswerOutcome>> {
    if input.time_spent_ms.is_none() {
        return Ok(None);
    }
    if !cache.contains(id) {
        let mut conn = pool.acquire().await?;
        if !load_cache(&mut conn, cache, user_id, id).await? {
            return Ok(None);
        }
    }
    let Some(snap) = cache.snapshot(id, user_id, position) else {
        return Ok(None);
    };
    if input.revision.is_some_and(|r| r != snap.item.revision) {
        return Ok(None);
    }
    let plan = match plan_answer(
        &snap.item,
        input,
        &snap.areas,
        snap.card.as_ref(),
        snap.stats_seen,
    ) {
        // the options and the kind of an attempt's question never change: these errors stand
        Err(e @ AppError::Validation(_)) => return Err(e),
        Ok(Plan::Write(plan)) => plan,
        Ok(Plan::Same { .. }) | Err(_) => return Ok(None),
    };
    let write = db::AnswerWrite {
        attempt_id: id,
        user_id,
        position,
        grace_secs: GRACE_SECS,
        plan: plan.clone(),
    };
    match saves.save(write).await {
        Saved::Revision(revision) => {
            // the cache applies the plan the database wrote
            cache.saved(id, position, &plan, revision);
            Ok(Some(outcome(
                &snap.item,
                snap.mode,
                plan.choices,
                plan.flagged,
                revision,
            )))
        }
        Saved::Refused | Saved::Failed => {
            cache.evict(id);
            Ok(None)
        }
    }
}

/// Loads an open attempt into the cache: its questions, the learner's mastery rows and the
/// statistics-and-card rows of its questions. False when the attempt is not open (or not theirs).
async fn load_cache(
    conn: &mut PgConnection,
    cache: &AnswerCache,
    user_id: Uuid,
    id: Uuid,
) -> AppResult<bool> {
    let Some(attempt) = db::get(conn, id, user_id).await? else {
        return Ok(false);
    };
    if !attempt.status.is_open() {
        return Ok(false);
    }
    // an exam shows no feedback: keep only what an answer is checked and scored by, so that a
    // cohort's thousands of open attempts fit the cache
    let items = if attempt.mode.shows_feedback() {
        super::content::items(conn, id, user_id).await?
    } else {
        super::content::items_for_checking(conn, id, user_id).await?
    };
    let questions: Vec<Uuid> = items.iter().map(|i| i.question_id).collect();
    let mastery = crate::db::mastery::all(conn, user_id).await?;
    let stats = crate::db::mastery::stats_for(conn, user_id, &questions).await?;
    cache.insert(
        id,
        CachedAttempt {
            user_id,
            mode: attempt.mode,
            items: items.into_iter().map(|i| (i.position, i)).collect(),
            mastery: mastery
                .into_iter()
                .map(|m| ((m.area_kind.clone(), m.area.clone()), m))
                .collect(),
            stats: stats
                .into_iter()
                .map(|s| (s.question_id, (s.times_answered, s.card())))
                .collect(),
        },
    );
    Ok(true)
}

/// One read-validate-write round of an answer save.
async fn try_answer(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    position: i32,
    input: &AnswerInput,
) -> AppResult<Round> {
    let Some(target) = db::read_for_answer(conn, id, user_id, position).await? else {
        return Err(match db::get(conn, id, user_id).await? {
            None => AppError::NotFound("no such attempt".into()),
            Some(_) => AppError::NotFound(format!("the attempt has no question {position}")),
        });
    };
    if target.status == AttemptStatus::Prepared {
        return Err(AppError::NotFound("no such attempt".into()));
    }
    if !target.status.is_open() {
        return Err(AppError::conflict(
            Conflict::AttemptFinalized,
            format!(
                "the attempt is {}; answers can no longer change",
                target.status
            ),
        ));
    }
    if past_deadline(target.deadline, Utc::now()) {
        return Ok(Round::Overdue);
    }
    let card = target.card();
    let item = &target.item;
    match plan_answer(
        item,
        input,
        &target.areas.0,
        card.as_ref(),
        target.stats_seen,
    )? {
        Plan::Same {
            revision,
            choices,
            flagged,
        } => Ok(Round::Saved(outcome(
            item,
            target.mode,
            choices,
            flagged,
            revision,
        ))),
        Plan::Write(plan) => {
            let write = db::AnswerWrite {
                attempt_id: id,
                user_id,
                position,
                grace_secs: GRACE_SECS,
                plan,
            };
            Ok(match db::save_answer(conn, &write).await? {
                Some(rev) => {
                    let p = write.plan;
                    Round::Saved(outcome(item, target.mode, p.choices, p.flagged, rev))
                }
                None => Round::Changed,
            })
        }
    }
}
