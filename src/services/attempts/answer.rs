//! The answer path: validating an answer, saving it from the process's cache of the attempt
//! (batched) or after a read, and the practice feedback it returns.

use std::collections::{BTreeMap, HashSet};

use chrono::{Duration, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::answer_batch::{AnswerBatcher, Saved};
use super::answer_cache::{AnswerCache, CachedAttempt};
use super::finalize::finalize;
use super::review::correct_ids;
use super::GRACE_SECS;
use crate::db::attempts::{self as db, ItemRow};
use crate::domain::scoring::is_correct;
use crate::error::{AppError, AppResult, Conflict, FieldError};

/// Most time a single answer may add to a question's time (a tab left open all night).
const MAX_ADD_MS: i64 = 30 * 60 * 1000;

/// Records that the pages showed this question now (server-side time per question).
pub async fn viewed(pool: &PgPool, user_id: Uuid, id: Uuid, position: i32) -> AppResult<()> {
    let mut conn = pool.acquire().await?;
    db::mark_viewed(&mut conn, id, user_id, position).await?;
    Ok(())
}

pub struct AnswerInput {
    /// None keeps the current choices (a flag toggle).
    pub choices: Option<Vec<String>>,
    pub flagged: Option<bool>,
    /// The revision the client last saw; a different one means the write is stale (409).
    pub revision: Option<i32>,
    /// Client-measured time on the question for this visit.
    pub time_spent_ms: Option<i64>,
}

/// Practice-mode feedback for the answered question only.
pub struct Feedback {
    pub correct: bool,
    pub correct_choices: Vec<String>,
    pub explanation: String,
    pub rationale: BTreeMap<String, String>,
}

pub struct AnswerOutcome {
    pub position: i32,
    pub choices: Vec<String>,
    pub flagged: bool,
    pub revision: i32,
    pub feedback: Option<Feedback>,
}

fn feedback(item: &ItemRow, correct: bool) -> Feedback {
    let rationale = item
        .options
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| {
                    Some((
                        o["id"].as_str()?.to_string(),
                        o["rationale"].as_str().unwrap_or_default().to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Feedback {
        correct,
        correct_choices: correct_ids(&item.options),
        explanation: item.explanation.clone(),
        rationale,
    }
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

/// What a request makes of a question in a known state.
enum Plan {
    /// The question already holds this answer (a retry): nothing to write.
    Same(i32, Vec<String>, bool),
    Write {
        choices: Vec<String>,
        flagged: bool,
        correct: Option<bool>,
        add_ms: i64,
        learning: Option<crate::db::mastery::LearningWrite>,
    },
}

/// Validates the request against the question and works out the write: the new answer, the time
/// to add and, for a new or changed choice, what the learner model learns from it.
fn plan_answer(
    item: &ItemRow,
    position: i32,
    input: &AnswerInput,
    areas: &[crate::db::attempts::AreaRead],
    card: Option<crate::db::mastery::CardRow>,
    stats_seen: Option<i32>,
) -> AppResult<Plan> {
    let choices = match &input.choices {
        Some(c) => c.clone(),
        None => item.choices.clone(),
    };
    let flagged = input.flagged.unwrap_or(item.flagged);
    let mut errors = Vec::new();
    let mut unique = HashSet::new();
    for (i, c) in choices.iter().enumerate() {
        if !item.option_order.contains(c) {
            errors.push(FieldError::new(
                format!("choices[{i}]"),
                format!("`{c}` is not an option of question {position}"),
            ));
        } else if !unique.insert(c) {
            errors.push(FieldError::new(format!("choices[{i}]"), "chosen twice"));
        }
    }
    if item.kind == "single" && choices.len() > 1 {
        errors.push(FieldError::new(
            "choices",
            "a single-answer question takes one choice",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let same = {
        let (mut a, mut b) = (choices.clone(), item.choices.clone());
        a.sort();
        b.sort();
        a == b && flagged == item.flagged
    };
    if same {
        // a retry of a write that already landed: same answer, same revision
        return Ok(Plan::Same(item.revision, choices, flagged));
    }
    if input.revision.is_some_and(|r| r != item.revision) {
        return Err(AppError::conflict(
            Conflict::StaleRevision,
            format!(
                "stale write: question {position} is at revision {}, the request was based on {}",
                item.revision,
                input.revision.unwrap_or_default()
            ),
        ));
    }
    let correct = (!choices.is_empty()).then(|| is_correct(&correct_ids(&item.options), &choices));
    let measured = item
        .viewed_at
        .map(|v| (Utc::now() - v).num_milliseconds())
        .unwrap_or(0);
    let add_ms = input.time_spent_ms.unwrap_or(measured).clamp(0, MAX_ADD_MS);
    // a new or changed choice teaches the learner model; a flag toggle does not
    let learning = correct
        .filter(|_| item.choices != choices)
        .map(|c| crate::services::learning::on_answer(item, c, add_ms, areas, card, stats_seen));
    Ok(Plan::Write {
        choices,
        flagged,
        correct,
        add_ms,
        learning,
    })
}

fn outcome(
    item: &ItemRow,
    mode: &str,
    position: i32,
    choices: Vec<String>,
    flagged: bool,
    revision: i32,
) -> AnswerOutcome {
    let correct = (!choices.is_empty()).then(|| is_correct(&correct_ids(&item.options), &choices));
    let feedback = (mode == "practice")
        .then_some(correct)
        .flatten()
        .map(|c| feedback(item, c));
    AnswerOutcome {
        position,
        choices,
        flagged,
        revision,
        feedback,
    }
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
        position,
        input,
        &snap.areas,
        snap.card.clone(),
        snap.stats_seen,
    ) {
        // the options and the kind of an attempt's question never change: these errors stand
        Err(e @ AppError::Validation(_)) => return Err(e),
        Ok(Plan::Write {
            choices,
            flagged,
            correct,
            add_ms,
            learning,
        }) => (choices, flagged, correct, add_ms, learning),
        Ok(Plan::Same(..)) | Err(_) => return Ok(None),
    };
    let (choices, flagged, correct, add_ms, learning) = plan;
    let write = db::AnswerWrite {
        attempt_id: id,
        user_id,
        position,
        revision: snap.item.revision,
        choices: choices.clone(),
        flagged,
        correct,
        add_ms,
        grace_secs: GRACE_SECS,
        learning,
    };
    let learned = write.learning.clone();
    match saves.save(write).await {
        Saved::Revision(revision) => {
            cache.saved(
                id,
                position,
                &choices,
                flagged,
                correct,
                revision,
                add_ms,
                learned.as_ref(),
            );
            Ok(Some(outcome(
                &snap.item, &snap.mode, position, choices, flagged, revision,
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
    if attempt.status != "in_progress" {
        return Ok(false);
    }
    // an exam shows no feedback: keep only what an answer is checked and scored by, so that a
    // cohort's thousands of open attempts fit the cache
    let items = if attempt.mode == "practice" {
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
    if target.status == "prepared" {
        return Err(AppError::NotFound("no such attempt".into()));
    }
    if target.status != "in_progress" {
        return Err(AppError::conflict(
            Conflict::AttemptFinalized,
            format!(
                "the attempt is {}; answers can no longer change",
                target.status
            ),
        ));
    }
    if target
        .deadline
        .is_some_and(|d| Utc::now() > d + Duration::seconds(GRACE_SECS))
    {
        return Ok(Round::Overdue);
    }
    let card = target.card();
    let item = &target.item;
    match plan_answer(
        item,
        position,
        input,
        &target.areas.0,
        card,
        target.stats_seen,
    )? {
        Plan::Same(revision, choices, flagged) => Ok(Round::Saved(outcome(
            item,
            &target.mode,
            position,
            choices,
            flagged,
            revision,
        ))),
        Plan::Write {
            choices,
            flagged,
            correct,
            add_ms,
            learning,
        } => {
            let write = db::AnswerWrite {
                attempt_id: id,
                user_id,
                position,
                revision: item.revision,
                choices: choices.clone(),
                flagged,
                correct,
                add_ms,
                grace_secs: GRACE_SECS,
                learning,
            };
            Ok(match db::save_answer(conn, &write).await? {
                Some(rev) => {
                    Round::Saved(outcome(item, &target.mode, position, choices, flagged, rev))
                }
                None => Round::Changed,
            })
        }
    }
}
