//! Attempts and their questions. Every query of a learner's attempt carries its `user_id`.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub mode: String,
    pub blueprint: Option<String>,
    pub cohort_exam_id: Option<Uuid>,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub pass_mark: i32,
    pub scaled: bool,
    pub question_count: i32,
    pub time_limit_minutes: Option<i32>,
    pub assembly: Value,
    pub result: Option<Value>,
}

const ATTEMPT_COLUMNS: &str =
    "id, user_id, mode, blueprint, cohort_exam_id, status, started_at, deadline, finalized_at, \
     pass_mark, scaled, question_count, time_limit_minutes, assembly, result";

/// One question of an attempt, with the content of the version it was built with.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub position: i32,
    pub question_id: Uuid,
    pub version: i32,
    pub domain: String,
    pub kind: String,
    pub difficulty: i16,
    pub option_order: Vec<String>,
    pub choices: Vec<String>,
    pub flagged: bool,
    pub answered_at: Option<DateTime<Utc>>,
    pub revision: i32,
    pub time_spent_ms: i64,
    pub correct: Option<bool>,
    pub viewed_at: Option<DateTime<Utc>>,
    /// Whether the item counts in the attempt's score (never shown before it is final).
    pub scored: bool,
    pub exam_domain: String,
    /// The version's calibrated difficulty in logits (None until calibration has seen it).
    pub calib_difficulty: Option<f64>,
    pub stem: String,
    pub options: Value,
    pub explanation: String,
    pub note: Option<String>,
    pub tags: Vec<String>,
}

impl ItemRow {
    /// The stored option (`{id, text, correct, rationale}`) of the attempt's version with this id.
    pub fn option(&self, id: &str) -> Option<&Value> {
        self.options.as_array()?.iter().find(|o| o["id"] == id)
    }
}

const ITEM_SELECT: &str = "SELECT a.position, a.question_id, a.version, a.domain, a.kind, a.difficulty, a.option_order, a.choices, \
       a.flagged, a.answered_at, a.revision, a.time_spent_ms, a.correct, a.viewed_at, a.scored, v.exam_domain, v.calib_difficulty, v.stem, v.options, v.explanation, v.note, v.tags \
     FROM attempt_questions a JOIN question_versions v ON v.question_id = a.question_id AND v.version = a.version";

/// A question drawn for a new attempt.
#[derive(Debug, Clone)]
pub struct PlannedItem {
    /// Drawn for an unscored slot: it does not count in this attempt.
    pub unscored: bool,
    pub question_id: Uuid,
    pub version: i32,
    pub domain: String,
    pub kind: String,
    pub difficulty: i16,
    pub option_order: Vec<String>,
}

pub struct NewAttempt<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub mode: &'a str,
    pub blueprint: Option<&'a str>,
    pub cohort_exam_id: Option<Uuid>,
    pub deadline: Option<DateTime<Utc>>,
    pub pass_mark: i32,
    pub scaled: bool,
    pub time_limit_minutes: Option<i32>,
    pub spec: Value,
    pub assembly: Value,
}

pub async fn insert(
    conn: &mut PgConnection,
    a: &NewAttempt<'_>,
    items: &[PlannedItem],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO attempts (id, user_id, mode, blueprint, cohort_exam_id, deadline, pass_mark, scaled, question_count,
                               time_limit_minutes, spec, assembly)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(a.id)
    .bind(a.user_id)
    .bind(a.mode)
    .bind(a.blueprint)
    .bind(a.cohort_exam_id)
    .bind(a.deadline)
    .bind(a.pass_mark)
    .bind(a.scaled)
    .bind(items.len() as i32)
    .bind(a.time_limit_minutes)
    .bind(&a.spec)
    .bind(&a.assembly)
    .execute(&mut *conn)
    .await?;
    let positions: Vec<i32> = (1..=items.len() as i32).collect();
    let qids: Vec<Uuid> = items.iter().map(|i| i.question_id).collect();
    let versions: Vec<i32> = items.iter().map(|i| i.version).collect();
    let domains: Vec<String> = items.iter().map(|i| i.domain.clone()).collect();
    let kinds: Vec<String> = items.iter().map(|i| i.kind.clone()).collect();
    let diffs: Vec<i16> = items.iter().map(|i| i.difficulty).collect();
    // text[][] must be rectangular: pass each order as one comma-joined string (ids have no commas)
    let orders: Vec<String> = items.iter().map(|i| i.option_order.join(",")).collect();
    let scored: Vec<bool> = items.iter().map(|i| !i.unscored).collect();
    sqlx::query(
        "INSERT INTO attempt_questions (attempt_id, user_id, position, question_id, version, domain, kind, difficulty, option_order, scored)
         SELECT $1, $2, p, q, v, d, k, df, string_to_array(o, ','), s
         FROM UNNEST($3::int4[], $4::uuid[], $5::int4[], $6::text[], $7::text[], $8::int2[], $9::text[], $10::bool[]) AS t(p, q, v, d, k, df, o, s)",
    )
    .bind(a.id)
    .bind(a.user_id)
    .bind(&positions)
    .bind(&qids)
    .bind(&versions)
    .bind(&domains)
    .bind(&kinds)
    .bind(&diffs)
    .bind(&orders)
    .bind(&scored)
    .execute(conn)
    .await?;
    Ok(())
}

/// The owner's attempt (None for anyone else).
pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<Option<AttemptRow>> {
    sqlx::query_as::<_, AttemptRow>(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// Locks the owner's attempt: `FOR SHARE` for answer writes (they run concurrently with each
/// other), `FOR UPDATE` for finalizing (it waits for them and they wait for it).
pub async fn lock(
    conn: &mut PgConnection,
    id: Uuid,
    user_id: Uuid,
    exclusive: bool,
) -> sqlx::Result<Option<AttemptRow>> {
    let mode = if exclusive { "UPDATE" } else { "SHARE" };
    sqlx::query_as::<_, AttemptRow>(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE id = $1 AND user_id = $2 FOR {mode}"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// The attempt's state, the question at `position` and the learner's state it touches.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnswerTarget {
    pub status: String,
    pub mode: String,
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

/// A mastery row as the answer read it; `stale` when it was last updated before today.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct AreaRead {
    #[serde(flatten)]
    pub row: crate::db::mastery::MasteryRow,
    pub stale: bool,
}

impl AnswerTarget {
    pub fn card(&self) -> Option<crate::db::mastery::CardRow> {
        Some(crate::db::mastery::CardRow {
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
                          WHERE m.user_id = a.user_id
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
/// when optimistic saves keep colliding).
pub async fn lock_learner(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(learner_key($1))")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// What one answer writes (see the `save_answer` database function).
#[derive(Debug, Clone)]
pub struct AnswerWrite {
    pub attempt_id: Uuid,
    pub user_id: Uuid,
    pub position: i32,
    /// The revision that was read; the write is refused if it moved.
    pub revision: i32,
    pub choices: Vec<String>,
    pub flagged: bool,
    pub correct: Option<bool>,
    pub add_ms: i64,
    pub grace_secs: i64,
    pub learning: Option<crate::db::mastery::LearningWrite>,
}

/// The outcome of `save_answer`: the new revision, or `None` when something it read changed
/// (or the attempt closed) and the caller must read again.
pub async fn save_answer(conn: &mut PgConnection, w: &AnswerWrite) -> sqlx::Result<Option<i32>> {
    let l = w.learning.as_ref();
    let col = |f: &dyn Fn(&crate::db::mastery::AreaWrite) -> f64| -> Vec<f64> {
        l.map(|l| l.areas.iter().map(f).collect())
            .unwrap_or_default()
    };
    let coli = |f: &dyn Fn(&crate::db::mastery::AreaWrite) -> i32| -> Vec<i32> {
        l.map(|l| l.areas.iter().map(f).collect())
            .unwrap_or_default()
    };
    let cols = |f: &dyn Fn(&crate::db::mastery::AreaWrite) -> String| -> Vec<String> {
        l.map(|l| l.areas.iter().map(f).collect())
            .unwrap_or_default()
    };
    let r = sqlx::query_scalar::<_, i32>(
        "SELECT save_answer($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                            $17, $18, $19, $20, $21, $22, $23, $24, $25)",
    )
    .bind(w.attempt_id)
    .bind(w.user_id)
    .bind(w.position)
    .bind(w.revision)
    .bind(&w.choices)
    .bind(w.flagged)
    .bind(w.correct)
    .bind(w.add_ms)
    .bind(w.grace_secs as i32)
    .bind(l.is_some())
    .bind(l.map(|l| l.question_id))
    .bind(l.and_then(|l| l.rollover))
    .bind(cols(&|a| a.row.area_kind.clone()))
    .bind(cols(&|a| a.row.area.clone()))
    .bind(col(&|a| a.row.ability))
    .bind(col(&|a| a.row.variance))
    .bind(coli(&|a| a.row.answered))
    .bind(coli(&|a| a.row.correct))
    .bind(coli(&|a| a.seen))
    .bind(l.map(|l| l.card.stability))
    .bind(l.map(|l| l.card.difficulty))
    .bind(l.map(|l| l.card.due_at))
    .bind(l.map(|l| l.card.reps))
    .bind(l.map(|l| l.card.lapses))
    .bind(l.and_then(|l| l.stats_seen))
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
    fn learning(w: &AnswerWrite) -> Option<&crate::db::mastery::LearningWrite> {
        w.learning.as_ref()
    }
    fn card(w: &AnswerWrite) -> Option<&crate::db::mastery::CardRow> {
        w.learning.as_ref().map(|l| &l.card)
    }
    let (mut c_item, mut c_choice) = (Vec::new(), Vec::new());
    let mut areas: Vec<(i32, &crate::db::mastery::AreaWrite)> = Vec::new();
    for (i, w) in writes.iter().enumerate() {
        let item = i as i32 + 1;
        for c in &w.choices {
            c_item.push(item);
            c_choice.push(c.as_str());
        }
        if let Some(l) = learning(w) {
            areas.extend(l.areas.iter().map(|a| (item, a)));
        }
    }
    let rows: Vec<(i32, i32)> = sqlx::query_as(
        "SELECT item, revision FROM save_answers($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)",
    )
    .bind(writes.iter().map(|w| w.attempt_id).collect::<Vec<_>>())
    .bind(writes.iter().map(|w| w.user_id).collect::<Vec<_>>())
    .bind(writes.iter().map(|w| w.position).collect::<Vec<_>>())
    .bind(writes.iter().map(|w| w.revision).collect::<Vec<_>>())
    .bind(writes.iter().map(|w| w.flagged).collect::<Vec<_>>())
    .bind(writes.iter().map(|w| w.correct).collect::<Vec<_>>())
    .bind(writes.iter().map(|w| w.add_ms).collect::<Vec<_>>())
    .bind(
        writes
            .iter()
            .map(|w| w.grace_secs as i32)
            .collect::<Vec<_>>(),
    )
    .bind(
        writes
            .iter()
            .map(|w| w.learning.is_some())
            .collect::<Vec<_>>(),
    )
    .bind(
        writes
            .iter()
            .map(|w| learning(w).map(|l| l.question_id))
            .collect::<Vec<_>>(),
    )
    .bind(
        writes
            .iter()
            .map(|w| learning(w).and_then(|l| l.rollover))
            .collect::<Vec<_>>(),
    )
    .bind(
        writes
            .iter()
            .map(|w| card(w).map(|c| c.stability))
            .collect::<Vec<_>>(),
    )
    .bind(
        writes
            .iter()
            .map(|w| card(w).map(|c| c.difficulty))
            .collect::<Vec<_>>(),
    )
    .bind(
        writes
            .iter()
            .map(|w| card(w).map(|c| c.due_at))
            .collect::<Vec<_>>(),
    )
    .bind(
        writes
            .iter()
            .map(|w| card(w).map(|c| c.reps))
            .collect::<Vec<_>>(),
    )
    .bind(
        writes
            .iter()
            .map(|w| card(w).map(|c| c.lapses))
            .collect::<Vec<_>>(),
    )
    .bind(
        writes
            .iter()
            .map(|w| learning(w).and_then(|l| l.stats_seen))
            .collect::<Vec<_>>(),
    )
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptSummary {
    pub id: Uuid,
    pub mode: String,
    pub blueprint: Option<String>,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    pub question_count: i32,
    pub answered: i64,
    pub result: Option<Value>,
}

pub async fn list_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<AttemptSummary>> {
    sqlx::query_as::<_, AttemptSummary>(
        "SELECT t.id, t.mode, t.blueprint, t.status, t.started_at, t.deadline, t.question_count, t.result,
                (SELECT count(*) FROM attempt_questions a WHERE a.attempt_id = t.id AND a.user_id = t.user_id
                   AND cardinality(a.choices) > 0) AS answered
         FROM attempts t WHERE t.user_id = $1 AND t.status <> 'prepared' ORDER BY t.started_at DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

// ---- sampling for assembly -------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    /// Drawn for an unscored slot (a pilot, or an ordinary question that does not count here).
    #[sqlx(default)]
    pub unscored: bool,
    pub id: Uuid,
    pub version: i32,
    pub domain: String,
    pub kind: String,
    pub difficulty: i16,
    pub option_ids: Vec<String>,
}

/// Walks the (domain, difficulty, sample_key) index from a random point per bucket, wrapping
/// around: index-driven sampling that never scans the bank. Returns up to `2 * limit` rows per
/// bucket (the part after the random point first), without option ids: `with_option_ids` adds
/// them to the questions chosen.
pub async fn sample(
    conn: &mut PgConnection,
    buckets: &[(String, i16, i64, f64)],
) -> sqlx::Result<Vec<Candidate>> {
    let domains: Vec<String> = buckets.iter().map(|b| b.0.clone()).collect();
    let diffs: Vec<i16> = buckets.iter().map(|b| b.1).collect();
    let limits: Vec<i64> = buckets.iter().map(|b| b.2).collect();
    let starts: Vec<f64> = buckets.iter().map(|b| b.3).collect();
    sqlx::query_as::<_, Candidate>(
        "SELECT c.id, c.current_version AS version, c.domain, c.kind, c.difficulty,
                ARRAY[]::text[] AS option_ids
         FROM UNNEST($1::text[], $2::int2[], $3::int8[], $4::float8[]) AS b(domain, difficulty, lim, start)
         CROSS JOIN LATERAL (
             (SELECT q.id, q.domain, q.difficulty, q.current_version, q.kind, 0 AS part, q.sample_key FROM questions q
              WHERE q.domain = b.domain AND q.difficulty = b.difficulty AND q.retired_at IS NULL AND q.sample_key >= b.start
              ORDER BY q.sample_key LIMIT b.lim)
             UNION ALL
             (SELECT q.id, q.domain, q.difficulty, q.current_version, q.kind, 1 AS part, q.sample_key FROM questions q
              WHERE q.domain = b.domain AND q.difficulty = b.difficulty AND q.retired_at IS NULL AND q.sample_key < b.start
              ORDER BY q.sample_key LIMIT b.lim)
         ) c
         ORDER BY c.domain, c.difficulty, c.part, c.sample_key",
    )
    .bind(&domains)
    .bind(&diffs)
    .bind(&limits)
    .bind(&starts)
    .fetch_all(conn)
    .await
}

/// Fills in the option ids of sampled candidates (from the versions they were sampled at).
pub async fn with_option_ids(
    conn: &mut PgConnection,
    mut chosen: Vec<Candidate>,
) -> sqlx::Result<Vec<Candidate>> {
    let ids: Vec<Uuid> = chosen.iter().map(|c| c.id).collect();
    let versions: Vec<i32> = chosen.iter().map(|c| c.version).collect();
    let rows: Vec<(Uuid, i32, Vec<String>)> = sqlx::query_as(
        "SELECT v.question_id, v.version, ARRAY(SELECT o->>'id' FROM jsonb_array_elements(v.options) AS o)
         FROM UNNEST($1::uuid[], $2::int4[]) AS c(id, version)
         JOIN question_versions v ON v.question_id = c.id AND v.version = c.version",
    )
    .bind(&ids)
    .bind(&versions)
    .fetch_all(conn)
    .await?;
    let by: std::collections::HashMap<(Uuid, i32), Vec<String>> =
        rows.into_iter().map(|(q, v, o)| ((q, v), o)).collect();
    for c in &mut chosen {
        if let Some(o) = by.get(&(c.id, c.version)) {
            c.option_ids = o.clone();
        }
    }
    Ok(chosen)
}

/// Of `ids`, those the learner has seen since `since`.
pub async fn seen_since(
    conn: &mut PgConnection,
    user_id: Uuid,
    ids: &[Uuid],
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "SELECT question_id FROM user_question_stats WHERE user_id = $1 AND question_id = ANY($2) AND last_seen_at > $3",
        user_id,
        ids,
        since
    )
    .fetch_all(conn)
    .await
}

pub async fn mark_seen(conn: &mut PgConnection, user_id: Uuid, ids: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO user_question_stats (user_id, question_id, last_seen_at)
         SELECT $1, q, now() FROM UNNEST($2::uuid[]) AS q
         ON CONFLICT (user_id, question_id) DO UPDATE SET last_seen_at = now()",
        user_id,
        ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Current versions of the given questions as candidates, in the given order (retired skipped).
pub async fn candidates_by_ids(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Candidate>> {
    sqlx::query_as::<_, Candidate>(
        "SELECT q.id, v.version, q.domain, v.kind, q.difficulty,
                ARRAY(SELECT o->>'id' FROM jsonb_array_elements(v.options) AS o) AS option_ids
         FROM UNNEST($1::uuid[]) WITH ORDINALITY AS t(id, n)
         JOIN questions q ON q.id = t.id
         JOIN question_versions v ON v.question_id = q.id AND v.version = q.current_version
         WHERE q.retired_at IS NULL ORDER BY t.n",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}

// ---- finalizing, one attempt or many ---------------------------------------------------------

/// Takes the learners' advisory locks (the key every answer save holds until it commits), in
/// key order so that two finalizers never wait for each other in a circle. A save that held a
/// lock committed before this returns; a save that takes one later sees what this transaction
/// commits.
pub async fn lock_learners(conn: &mut PgConnection, users: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query(
        "SELECT count(pg_advisory_xact_lock(k)) FROM
           (SELECT DISTINCT learner_key(u) AS k FROM unnest($1::uuid[]) AS u ORDER BY 1) AS keys",
    )
    .bind(users)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the status and result of attempts still in progress: (id, owner, status, result).
pub async fn finalize_many(
    conn: &mut PgConnection,
    rows: &[(Uuid, Uuid, &str, Value)],
) -> sqlx::Result<u64> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let users: Vec<Uuid> = rows.iter().map(|r| r.1).collect();
    let statuses: Vec<&str> = rows.iter().map(|r| r.2).collect();
    let results: Vec<&Value> = rows.iter().map(|r| &r.3).collect();
    let done = sqlx::query(
        "UPDATE attempts t SET status = x.s, finalized_at = now(), result = x.r
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[]) AS x(id, usr, s, r)
          WHERE t.id = x.id AND t.user_id = x.usr AND t.status = 'in_progress'",
    )
    .bind(&ids)
    .bind(&users)
    .bind(&statuses)
    .bind(&results)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Up to `limit` attempts past deadline + grace, locked for this sweeper only (others skip
/// them), oldest deadline first.
pub async fn lock_overdue_rows(
    conn: &mut PgConnection,
    grace_secs: f64,
    limit: i64,
) -> sqlx::Result<Vec<AttemptRow>> {
    sqlx::query_as::<_, AttemptRow>(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts
          WHERE status = 'in_progress' AND deadline IS NOT NULL AND deadline < now() - make_interval(secs => $1)
          ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED"
    ))
    .bind(grace_secs)
    .bind(limit)
    .fetch_all(conn)
    .await
}

// ---- prepared attempts (cohort exams) ----------------------------------------------------------

/// Inserts prepared attempts (no clock running) with their items, one per learner; a learner
/// who already has an attempt at the exam is skipped. Returns the learners prepared.
pub async fn insert_prepared(
    conn: &mut PgConnection,
    template: &NewAttempt<'_>,
    plans: &[(Uuid, Vec<PlannedItem>)],
) -> sqlx::Result<Vec<Uuid>> {
    if plans.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<Uuid> = plans.iter().map(|_| Uuid::new_v4()).collect();
    let users: Vec<Uuid> = plans.iter().map(|p| p.0).collect();
    let counts: Vec<i32> = plans.iter().map(|p| p.1.len() as i32).collect();
    let inserted: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "INSERT INTO attempts (id, user_id, mode, blueprint, cohort_exam_id, status, deadline, pass_mark, scaled,
                               question_count, time_limit_minutes, spec, assembly)
         SELECT id, usr, $3, $4, $5, 'prepared', NULL, $6, $7, n, $8, $9, $10
           FROM unnest($1::uuid[], $2::uuid[], $11::int4[]) AS t(id, usr, n)
         ON CONFLICT (cohort_exam_id, user_id) DO NOTHING
         RETURNING id, user_id",
    )
    .bind(&ids)
    .bind(&users)
    .bind(template.mode)
    .bind(template.blueprint)
    .bind(template.cohort_exam_id)
    .bind(template.pass_mark)
    .bind(template.scaled)
    .bind(template.time_limit_minutes)
    .bind(&template.spec)
    .bind(&template.assembly)
    .bind(&counts)
    .fetch_all(&mut *conn)
    .await?;
    let fresh: std::collections::HashMap<Uuid, Uuid> =
        inserted.iter().map(|(id, u)| (*u, *id)).collect();
    let (
        mut aids,
        mut uids,
        mut positions,
        mut qids,
        mut versions,
        mut domains,
        mut kinds,
        mut diffs,
        mut orders,
    ) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    let mut scored = vec![];
    for (user, items) in plans {
        let Some(&attempt) = fresh.get(user) else {
            continue;
        };
        for (i, it) in items.iter().enumerate() {
            aids.push(attempt);
            uids.push(*user);
            positions.push(i as i32 + 1);
            qids.push(it.question_id);
            versions.push(it.version);
            domains.push(it.domain.clone());
            kinds.push(it.kind.clone());
            diffs.push(it.difficulty);
            orders.push(it.option_order.join(","));
            scored.push(!it.unscored);
        }
    }
    sqlx::query(
        "INSERT INTO attempt_questions (attempt_id, user_id, position, question_id, version, domain, kind, difficulty, option_order, scored)
         SELECT a, u, p, q, v, d, k, df, string_to_array(o, ','), s
         FROM UNNEST($1::uuid[], $2::uuid[], $3::int4[], $4::uuid[], $5::int4[], $6::text[], $7::text[], $8::int2[], $9::text[], $10::bool[])
              AS t(a, u, p, q, v, d, k, df, o, s)",
    )
    .bind(&aids)
    .bind(&uids)
    .bind(&positions)
    .bind(&qids)
    .bind(&versions)
    .bind(&domains)
    .bind(&kinds)
    .bind(&diffs)
    .bind(&orders)
    .bind(&scored)
    .execute(&mut *conn)
    .await?;
    // the questions count as seen from now, as a started attempt's do
    sqlx::query(
        "INSERT INTO user_question_stats (user_id, question_id, last_seen_at)
         SELECT DISTINCT u, q, now() FROM unnest($1::uuid[], $2::uuid[]) AS t(u, q)
         ON CONFLICT (user_id, question_id) DO UPDATE SET last_seen_at = now()",
    )
    .bind(&uids)
    .bind(&qids)
    .execute(conn)
    .await?;
    Ok(inserted.into_iter().map(|(_, u)| u).collect())
}

/// Starts a prepared cohort attempt: stamps `started_at` and the deadline, in one statement
/// that also checks what a start must (the caller is a member, the window is open for them).
/// None when there is nothing to stamp; the caller then finds out why.
///
/// The deadline is `services::cohorts::deadline`: the earlier of start + limit + extension and
/// the window's close + extension (a test compares the two).
pub async fn start_prepared(
    conn: &mut PgConnection,
    cohort: Uuid,
    exam: Uuid,
    user: Uuid,
) -> sqlx::Result<Option<AttemptRow>> {
    let returning: Vec<String> = ATTEMPT_COLUMNS
        .split(',')
        .map(|c| format!("a.{}", c.trim()))
        .collect();
    sqlx::query_as::<_, AttemptRow>(&format!(
        "UPDATE attempts a
            SET status = 'in_progress', started_at = now(),
                deadline = CASE WHEN a.time_limit_minutes IS NULL THEN e.closes_at + make_interval(mins => COALESCE(x.minutes, 0))
                           ELSE LEAST(now() + make_interval(mins => a.time_limit_minutes + COALESCE(x.minutes, 0)),
                                      e.closes_at + make_interval(mins => COALESCE(x.minutes, 0))) END
           FROM cohort_exams e
           LEFT JOIN cohort_exam_extensions x ON x.exam_id = e.id AND x.user_id = $3
          WHERE e.id = $2 AND e.cohort_id = $1
            AND a.cohort_exam_id = $2 AND a.user_id = $3 AND a.status = 'prepared'
            AND now() >= e.opens_at AND now() <= e.closes_at + make_interval(mins => COALESCE(x.minutes, 0))
            AND EXISTS (SELECT 1 FROM cohort_members m WHERE m.cohort_id = $1 AND m.user_id = $3)
         RETURNING {}",
        returning.join(", ")
    ))
    .bind(cohort)
    .bind(exam)
    .bind(user)
    .fetch_optional(conn)
    .await
}

// ---- an attempt's items without their content (the content of a version never changes) -------

/// One question of an attempt as the attempt holds it, without the version's content.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemState {
    pub attempt_id: Uuid,
    pub position: i32,
    pub question_id: Uuid,
    pub version: i32,
    pub domain: String,
    pub kind: String,
    pub difficulty: i16,
    pub option_order: Vec<String>,
    pub choices: Vec<String>,
    pub flagged: bool,
    pub answered_at: Option<DateTime<Utc>>,
    pub revision: i32,
    pub time_spent_ms: i64,
    pub correct: Option<bool>,
    pub viewed_at: Option<DateTime<Utc>>,
    pub scored: bool,
    /// The version's calibrated difficulty (it changes with calibration, so it is read with
    /// the state, not kept with the immutable content).
    pub calib_difficulty: Option<f64>,
}

const STATE_SELECT: &str = "SELECT a.attempt_id, a.position, a.question_id, a.version, a.domain, a.kind, a.difficulty, \
       a.option_order, a.choices, a.flagged, a.answered_at, a.revision, a.time_spent_ms, a.correct, a.viewed_at, a.scored, \
       (SELECT v.calib_difficulty FROM question_versions v WHERE v.question_id = a.question_id AND v.version = a.version) AS calib_difficulty \
     FROM attempt_questions a";

/// The items of the given attempts (each with its owner), ordered by attempt and position.
pub async fn item_states(
    conn: &mut PgConnection,
    attempts: &[(Uuid, Uuid)],
) -> sqlx::Result<Vec<ItemState>> {
    if let [(id, user)] = attempts {
        return sqlx::query_as::<_, ItemState>(&format!(
            "{STATE_SELECT} WHERE a.attempt_id = $1 AND a.user_id = $2 ORDER BY a.position"
        ))
        .bind(id)
        .bind(user)
        .fetch_all(conn)
        .await;
    }
    let ids: Vec<Uuid> = attempts.iter().map(|a| a.0).collect();
    let users: Vec<Uuid> = attempts.iter().map(|a| a.1).collect();
    sqlx::query_as::<_, ItemState>(&format!(
        "{STATE_SELECT} WHERE a.attempt_id = ANY($1) AND a.user_id = ANY($2) ORDER BY a.attempt_id, a.position"
    ))
    .bind(&ids)
    .bind(&users)
    .fetch_all(conn)
    .await
}

/// What a question version shows and explains (immutable once written).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionContent {
    pub question_id: Uuid,
    pub version: i32,
    pub exam_domain: String,
    pub stem: String,
    pub options: Value,
    pub explanation: String,
    pub note: Option<String>,
    pub tags: Vec<String>,
}

pub async fn version_contents(
    conn: &mut PgConnection,
    keys: &[(Uuid, i32)],
) -> sqlx::Result<Vec<VersionContent>> {
    let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
    let versions: Vec<i32> = keys.iter().map(|k| k.1).collect();
    sqlx::query_as::<_, VersionContent>(
        "SELECT v.question_id, v.version, v.exam_domain, v.stem, v.options, v.explanation, v.note, v.tags
           FROM question_versions v JOIN unnest($1::uuid[], $2::int4[]) AS k(q, n)
             ON v.question_id = k.q AND v.version = k.n",
    )
    .bind(&ids)
    .bind(&versions)
    .fetch_all(conn)
    .await
}

// ---- two-way sampling (topic area × exam domain) and pilots ------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
struct CellCandidate {
    cell: i64,
    #[sqlx(flatten)]
    c: Candidate,
}

/// Walks the (area, exam domain, sample_key) index from a random point per cell, wrapping
/// around, over ordinary (not pilot) questions: up to `2 * limit` per cell, tagged with the
/// cell's index in `cells` ((area, exam domain, limit, start)).
pub async fn sample_cells(
    conn: &mut PgConnection,
    cells: &[(String, String, i64, f64)],
) -> sqlx::Result<Vec<(usize, Candidate)>> {
    let areas: Vec<&str> = cells.iter().map(|c| c.0.as_str()).collect();
    let exams: Vec<&str> = cells.iter().map(|c| c.1.as_str()).collect();
    let limits: Vec<i64> = cells.iter().map(|c| c.2).collect();
    let starts: Vec<f64> = cells.iter().map(|c| c.3).collect();
    let rows = sqlx::query_as::<_, CellCandidate>(
        "SELECT (b.i - 1) AS cell, c.id, c.current_version AS version, c.domain, c.kind, c.difficulty,
                ARRAY[]::text[] AS option_ids
         FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::float8[]) WITH ORDINALITY AS b(area, exam, lim, start, i)
         CROSS JOIN LATERAL (
             (SELECT q.id, q.domain, q.difficulty, q.current_version, q.kind, 0 AS part, q.sample_key FROM questions q
              WHERE q.domain = b.area AND q.exam_domain = b.exam AND q.retired_at IS NULL AND NOT q.pilot
                AND q.sample_key >= b.start
              ORDER BY q.sample_key LIMIT b.lim)
             UNION ALL
             (SELECT q.id, q.domain, q.difficulty, q.current_version, q.kind, 1 AS part, q.sample_key FROM questions q
              WHERE q.domain = b.area AND q.exam_domain = b.exam AND q.retired_at IS NULL AND NOT q.pilot
                AND q.sample_key < b.start
              ORDER BY q.sample_key LIMIT b.lim)
         ) c
         ORDER BY b.i, c.part, c.sample_key",
    )
    .bind(&areas)
    .bind(&exams)
    .bind(&limits)
    .bind(&starts)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.cell as usize, r.c)).collect())
}

/// Up to `limit` pilot questions from a random point of their index (wrapping around).
pub async fn sample_pilots(
    conn: &mut PgConnection,
    limit: i64,
    start: f64,
) -> sqlx::Result<Vec<Candidate>> {
    sqlx::query_as::<_, Candidate>(
        "SELECT c.id, c.current_version AS version, c.domain, c.kind, c.difficulty, ARRAY[]::text[] AS option_ids
         FROM (
             (SELECT q.id, q.current_version, q.domain, q.kind, q.difficulty, 0 AS part, q.sample_key FROM questions q
              WHERE q.pilot AND q.retired_at IS NULL AND q.sample_key >= $2 ORDER BY q.sample_key LIMIT $1)
             UNION ALL
             (SELECT q.id, q.current_version, q.domain, q.kind, q.difficulty, 1 AS part, q.sample_key FROM questions q
              WHERE q.pilot AND q.retired_at IS NULL AND q.sample_key < $2 ORDER BY q.sample_key LIMIT $1)
         ) c ORDER BY c.part, c.sample_key LIMIT $1",
    )
    .bind(limit)
    .bind(start)
    .fetch_all(conn)
    .await
}

/// Locks the given attempts (each with its owner) `FOR UPDATE`, in id order (two batches never
/// wait for each other in a circle).
pub async fn lock_many(
    conn: &mut PgConnection,
    attempts: &[(Uuid, Uuid)],
) -> sqlx::Result<Vec<AttemptRow>> {
    let users: Vec<Uuid> = attempts.iter().map(|a| a.0).collect();
    let ids: Vec<Uuid> = attempts.iter().map(|a| a.1).collect();
    sqlx::query_as::<_, AttemptRow>(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts
          WHERE id = ANY($1) AND user_id = ANY($2)
          ORDER BY id FOR UPDATE"
    ))
    .bind(&ids)
    .bind(&users)
    .fetch_all(conn)
    .await
}
