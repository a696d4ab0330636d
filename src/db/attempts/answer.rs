//! The answer path: the lock-free read an answer save is based on, the saves (one, or a batch)
//! and when the pages showed a question.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::ItemRow;
use crate::domain::answer::AnswerPlan;
use crate::domain::attempt::{AttemptStatus, Mode};
use crate::domain::learning::{AreaWrite, CardRow, LearningWrite};

pub use crate::domain::learning::AreaRead;

const ITEM_SELECT: &str = "SELECT a.position, a.question_id, a.version, a.domain, a.kind, a.difficulty, a.option_order, a.choices, \
       a.flagged, a.answered_at, a.revision, a.time_spent_ms, a.correct, a.viewed_at, a.scored, v.exam_domain, v.calib_difficulty, v.stem, v.options, v.explanation, v.note, v.tags \
     FROM attempt_questions a JOIN question_versions v ON v.question_id = a.question_id AND v.version = a.version";

/// The attempt's state, the question at `position` and the learner's state it touches.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnswerTarget {
    #[sqlx(try_from = "String")]
    pub status: AttemptStatus,
    #[sqlx(try_from = "String")]
    pub mode: Mode,
    pub deadline: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub item: ItemRow,
    /// The learner's FSRS card for this question, read in the same round trip.
    pub card_stability: Option<f64>,
    pub card_difficulty: Option<f64>,
    pub card_last_review: Option<DateTime<Utc>>,
    pub card_reps: Option<i32>,
    pub card_lapses: Option<i32>,
    /// How often the learner had answered this question (the statistics row), if it exists.
    pub stats_seen: Option<i32>,
    /// The learner's mastery rows for the question's domain and tags.
    pub areas: sqlx::types::Json<Vec<AreaRead>>,
}

impl AnswerTarget {
    pub fn card(&self) -> Option<CardRow> {
        Some(CardRow {
            stability: self.card_stability?,
            difficulty: self.card_difficulty?,
            due_at: self.card_last_review?,
            last_review_at: self.card_last_review?,
            reps: self.card_reps?,
            lapses: self.card_lapses?,
        })
    }
}

/// Everything an answer save needs, in one round trip and without locks: the attempt's state,
/// the question, the FSRS card, the answer statistics and the mastery rows it will update.
/// `save_answer` writes only if none of it changed in the meantime.
pub async fn read_for_answer(
    conn: &mut PgConnection,
    attempt_id: Uuid,
    user_id: Uuid,
    position: i32,
) -> sqlx::Result<Option<AnswerTarget>> {
    sqlx::query_as::<_, AnswerTarget>(&format!(
        "SELECT t.status, t.mode, t.deadline, s.stability AS card_stability, s.card_difficulty,
                s.last_review_at AS card_last_review, s.reps AS card_reps, s.lapses AS card_lapses,
                s.times_answered AS stats_seen,
                COALESCE((SELECT jsonb_agg(jsonb_build_object('area_kind', m.area_kind, 'area', m.area,
                              'ability', m.ability, 'variance', m.variance, 'answered', m.answered, 'correct', m.correct,
                              'stale', m.day < CURRENT_DATE))
                          FROM mastery m
                          WHERE m.user_id = $2
                            AND ((m.area_kind = 'domain' AND m.area = a.domain) OR (m.area_kind = 'tag' AND m.area = ANY(v.tags)))),
                         '[]'::jsonb) AS areas,
                {}
         JOIN attempts t ON t.id = a.attempt_id AND t.user_id = a.user_id
         LEFT JOIN user_question_stats s ON s.user_id = a.user_id AND s.question_id = a.question_id
         WHERE a.attempt_id = $1 AND a.user_id = $2 AND a.position = $3",
        ITEM_SELECT.trim_start_matches("SELECT ")
    ))
    .bind(attempt_id)
    .bind(user_id)
    .bind(position)
    .fetch_optional(conn)
    .await
}

/// Serialises one learner's answer saves inside the current transaction (the slow path, taken
/// when optimistic saves keep colliding): the learner's `learner_locks` row, which every save
/// and every finalizer locks too (a row lock, so that it holds on Citus: docs/scaling.md §3.3).
pub async fn lock_learner(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("SELECT 1 FROM learner_locks WHERE user_id = $1 FOR UPDATE")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// One planned answer and where it goes: the `save_answer` / `save_answers` database functions
/// check that the question is still at the plan's base revision, the attempt still open
/// (within `grace_secs` of its deadline) and the learner's rows still as read, then write the
/// plan's values.
#[derive(Debug, Clone)]
pub struct AnswerWrite {
    pub attempt_id: Uuid,
    pub user_id: Uuid,
    pub position: i32,
    pub grace_secs: i64,
    pub plan: AnswerPlan,
}

impl AnswerWrite {
    fn learning(&self) -> Option<&LearningWrite> {
        self.plan.learning.as_ref()
    }
    fn card(&self) -> Option<&CardRow> {
        self.learning().map(|l| &l.card)
    }
}

/// The outcome of `save_answer`: the new revision, or `None` when something it read changed
/// (or the attempt closed) and the caller must read again.
pub async fn save_answer(conn: &mut PgConnection, w: &AnswerWrite) -> sqlx::Result<Option<i32>> {
    let p = &w.plan;
    let l = w.learning();
    let areas: &[AreaWrite] = l.map_or(&[], |l| &l.areas);
    let r = sqlx::query_scalar::<_, i32>(
        "SELECT save_answer($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                            $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)",
    )
    .bind(w.attempt_id)
    .bind(w.user_id)
    .bind(w.position)
    .bind(p.base_revision)
    .bind(&p.choices)
    .bind(p.flagged)
    .bind(p.correct)
    .bind(p.add_ms)
    .bind(p.stamps_answered)
    .bind(w.grace_secs as i32)
    .bind(l.is_some())
    .bind(l.map(|l| l.question_id))
    .bind(l.and_then(|l| l.rollover))
    .bind(
        areas
            .iter()
            .map(|a| a.row.area_kind.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        areas
            .iter()
            .map(|a| a.row.area.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(areas.iter().map(|a| a.row.ability).collect::<Vec<_>>())
    .bind(areas.iter().map(|a| a.row.variance).collect::<Vec<_>>())
    .bind(areas.iter().map(|a| a.row.answered).collect::<Vec<_>>())
    .bind(areas.iter().map(|a| a.row.correct).collect::<Vec<_>>())
    .bind(areas.iter().map(|a| a.seen).collect::<Vec<_>>())
    .bind(l.map(|l| l.card.stability))
    .bind(l.map(|l| l.card.difficulty))
    .bind(l.map(|l| l.card.due_at))
    .bind(l.map(|l| l.card.reps))
    .bind(l.map(|l| l.card.lapses))
    .bind(l.and_then(|l| l.stats_seen))
    .bind(l.map(|l| l.times_answered))
    .bind(l.map(|l| l.correct_add))
    .fetch_one(conn)
    .await;
    match r {
        Ok(rev) => Ok(Some(rev)),
        Err(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("40001") | Some("40P01")) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Saves a batch of answers in one transaction (the `save_answers` database function): for each
/// write, the new revision, or `None` when something it read changed, its attempt closed, or an
/// earlier write of the batch belongs to the same learner; nothing of such a write is stored and
/// the caller reads again. An error means nothing of the batch was stored.
pub async fn save_answers(
    conn: &mut PgConnection,
    writes: &[&AnswerWrite],
) -> sqlx::Result<Vec<Option<i32>>> {
    let (mut c_item, mut c_choice) = (Vec::new(), Vec::new());
    let mut areas: Vec<(i32, &AreaWrite)> = Vec::new();
    for (i, w) in writes.iter().enumerate() {
        let item = i as i32 + 1;
        for c in &w.plan.choices {
            c_item.push(item);
            c_choice.push(c.as_str());
        }
        if let Some(l) = w.learning() {
            areas.extend(l.areas.iter().map(|a| (item, a)));
        }
    }
    fn each<'a, T>(writes: &[&'a AnswerWrite], f: impl Fn(&'a AnswerWrite) -> T) -> Vec<T> {
        writes.iter().map(|w| f(w)).collect()
    }
    let rows: Vec<(i32, i32)> = sqlx::query_as(
        "SELECT item, revision FROM save_answers($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28,
                $29, $30)",
    )
    .bind(each(writes, |w| w.attempt_id))
    .bind(each(writes, |w| w.user_id))
    .bind(each(writes, |w| w.position))
    .bind(each(writes, |w| w.plan.base_revision))
    .bind(each(writes, |w| w.plan.flagged))
    .bind(each(writes, |w| w.plan.correct))
    .bind(each(writes, |w| w.plan.add_ms))
    .bind(each(writes, |w| w.plan.stamps_answered))
    .bind(each(writes, |w| w.grace_secs as i32))
    .bind(each(writes, |w| w.learning().is_some()))
    .bind(each(writes, |w| w.learning().map(|l| l.question_id)))
    .bind(each(writes, |w| w.learning().and_then(|l| l.rollover)))
    .bind(each(writes, |w| w.card().map(|c| c.stability)))
    .bind(each(writes, |w| w.card().map(|c| c.difficulty)))
    .bind(each(writes, |w| w.card().map(|c| c.due_at)))
    .bind(each(writes, |w| w.card().map(|c| c.reps)))
    .bind(each(writes, |w| w.card().map(|c| c.lapses)))
    .bind(each(writes, |w| w.learning().and_then(|l| l.stats_seen)))
    .bind(each(writes, |w| w.learning().map(|l| l.times_answered)))
    .bind(each(writes, |w| w.learning().map(|l| l.correct_add)))
    .bind(c_item)
    .bind(c_choice)
    .bind(areas.iter().map(|(i, _)| *i).collect::<Vec<_>>())
    .bind(
        areas
            .iter()
            .map(|(_, a)| a.row.area_kind.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        areas
            .iter()
            .map(|(_, a)| a.row.area.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(areas.iter().map(|(_, a)| a.row.ability).collect::<Vec<_>>())
    .bind(
        areas
            .iter()
            .map(|(_, a)| a.row.variance)
            .collect::<Vec<_>>(),
    )
    .bind(
        areas
            .iter()
            .map(|(_, a)| a.row.answered)
            .collect::<Vec<_>>(),
    )
    .bind(areas.iter().map(|(_, a)| a.row.correct).collect::<Vec<_>>())
    .bind(areas.iter().map(|(_, a)| a.seen).collect::<Vec<_>>())
    .fetch_all(conn)
    .await?;
    let mut out = vec![None; writes.len()];
    for (item, revision) in rows {
        if let Some(slot) = usize::try_from(item - 1).ok().and_then(|i| out.get_mut(i)) {
            *slot = Some(revision);
        }
    }
    Ok(out)
}

/// The pages record when a question was shown, to measure time per question server-side.
pub async fn mark_viewed(
    conn: &mut PgConnection,
    attempt_id: Uuid,
    user_id: Uuid,
    position: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE attempt_questions SET viewed_at = now() WHERE attempt_id = $1 AND user_id = $2 AND position = $3",
        attempt_id,
        user_id,
        position
    )
    .execute(conn)
    .await?;
    Ok(())
}
