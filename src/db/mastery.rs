//! Mastery state, daily snapshots and spaced-repetition cards of a learner.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MasteryRow {
    pub area_kind: String,
    pub area: String,
    pub ability: f64,
    pub variance: f64,
    pub answered: i32,
    pub correct: i32,
}

/// Creates missing rows at the prior and locks the learner's rows for these areas, in one
/// statement and a fixed order (so concurrent answers of one learner cannot deadlock).
pub async fn lock_areas(
    conn: &mut PgConnection,
    user_id: Uuid,
    kinds: &[String],
    areas: &[String],
    prior_var: f64,
) -> sqlx::Result<Vec<MasteryRow>> {
    sqlx::query_as::<_, MasteryRow>(
        "INSERT INTO mastery AS m (user_id, area_kind, area, ability, variance)
         SELECT $1, k, a, 0, $4 FROM UNNEST($2::text[], $3::text[]) AS t(k, a) ORDER BY k, a
         ON CONFLICT (user_id, area_kind, area) DO UPDATE SET area = EXCLUDED.area
         RETURNING m.area_kind, m.area, m.ability, m.variance, m.answered, m.correct",
    )
    .bind(user_id)
    .bind(kinds)
    .bind(areas)
    .bind(prior_var)
    .fetch_all(conn)
    .await
}

/// Writes everything one answer teaches in one statement: the updated areas, today's snapshot
/// of the domain among them, the FSRS card and the per-question answer statistics.
pub async fn save_learning(
    conn: &mut PgConnection,
    user_id: Uuid,
    rows: &[MasteryRow],
    question: Uuid,
    card: &CardRow,
    correct: bool,
) -> sqlx::Result<()> {
    let kinds: Vec<&str> = rows.iter().map(|r| r.area_kind.as_str()).collect();
    let areas: Vec<&str> = rows.iter().map(|r| r.area.as_str()).collect();
    let ability: Vec<f64> = rows.iter().map(|r| r.ability).collect();
    let variance: Vec<f64> = rows.iter().map(|r| r.variance).collect();
    let answered: Vec<i32> = rows.iter().map(|r| r.answered).collect();
    let right: Vec<i32> = rows.iter().map(|r| r.correct).collect();
    sqlx::query(
        "WITH upd AS (
             UPDATE mastery m SET ability = t.ab, variance = t.va, answered = t.an, correct = t.co, updated_at = now()
             FROM UNNEST($2::text[], $3::text[], $4::float8[], $5::float8[], $6::int4[], $7::int4[]) AS t(k, a, ab, va, an, co)
             WHERE m.user_id = $1 AND m.area_kind = t.k AND m.area = t.a
             RETURNING m.area_kind, m.area, m.ability, m.variance, m.answered),
         snap AS (
             INSERT INTO mastery_snapshots (user_id, day, domain, ability, variance, answered)
             SELECT $1, CURRENT_DATE, area, ability, variance, answered FROM upd WHERE area_kind = 'domain'
             ON CONFLICT (user_id, day, domain) DO UPDATE SET ability = EXCLUDED.ability, variance = EXCLUDED.variance,
                 answered = EXCLUDED.answered),
         card AS (
             INSERT INTO review_cards (user_id, question_id, stability, difficulty, due_at, last_review_at, reps, lapses)
             VALUES ($1, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (user_id, question_id) DO UPDATE SET stability = EXCLUDED.stability, difficulty = EXCLUDED.difficulty,
                 due_at = EXCLUDED.due_at, last_review_at = EXCLUDED.last_review_at, reps = EXCLUDED.reps, lapses = EXCLUDED.lapses)
         INSERT INTO user_question_stats (user_id, question_id, last_seen_at, last_answered_at, last_correct, times_answered, times_correct)
         VALUES ($1, $8, now(), now(), $15, 1, CASE WHEN $15 THEN 1 ELSE 0 END)
         ON CONFLICT (user_id, question_id) DO UPDATE SET last_answered_at = now(), last_correct = $15,
             times_answered = user_question_stats.times_answered + 1,
             times_correct = user_question_stats.times_correct + CASE WHEN $15 THEN 1 ELSE 0 END",
    )
    .bind(user_id)
    .bind(&kinds)
    .bind(&areas)
    .bind(&ability)
    .bind(&variance)
    .bind(&answered)
    .bind(&right)
    .bind(question)
    .bind(card.stability)
    .bind(card.difficulty)
    .bind(card.due_at)
    .bind(card.last_review_at)
    .bind(card.reps)
    .bind(card.lapses)
    .bind(correct)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn all(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Vec<MasteryRow>> {
    sqlx::query_as::<_, MasteryRow>("SELECT area_kind, area, ability, variance, answered, correct FROM mastery WHERE user_id = $1 ORDER BY area_kind, area")
        .bind(user_id)
        .fetch_all(conn)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SnapshotRow {
    pub day: NaiveDate,
    pub domain: String,
    pub ability: f64,
    pub variance: f64,
    pub answered: i32,
}

pub async fn history(
    conn: &mut PgConnection,
    user_id: Uuid,
    since: NaiveDate,
) -> sqlx::Result<Vec<SnapshotRow>> {
    sqlx::query_as::<_, SnapshotRow>(
        "SELECT day, domain, ability, variance, answered FROM mastery_snapshots WHERE user_id = $1 AND day >= $2 ORDER BY day, domain",
    )
    .bind(user_id)
    .bind(since)
    .fetch_all(conn)
    .await
}

/// The latest snapshot of each domain on or before `day` (for trends).
pub async fn as_of(
    conn: &mut PgConnection,
    user_id: Uuid,
    day: NaiveDate,
) -> sqlx::Result<Vec<SnapshotRow>> {
    sqlx::query_as::<_, SnapshotRow>(
        "SELECT DISTINCT ON (domain) day, domain, ability, variance, answered FROM mastery_snapshots
         WHERE user_id = $1 AND day <= $2 ORDER BY domain, day DESC",
    )
    .bind(user_id)
    .bind(day)
    .fetch_all(conn)
    .await
}

// ---- spaced repetition ------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CardRow {
    pub stability: f64,
    pub difficulty: f64,
    pub due_at: DateTime<Utc>,
    pub last_review_at: DateTime<Utc>,
    pub reps: i32,
    pub lapses: i32,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueRow {
    pub question_id: Uuid,
    pub slug: String,
    pub domain: String,
    pub stem: String,
    pub due_at: DateTime<Utc>,
    pub reps: i32,
    pub lapses: i32,
}

/// Cards due by `until`, most overdue first (retired questions left out).
pub async fn due(
    conn: &mut PgConnection,
    user_id: Uuid,
    until: DateTime<Utc>,
    domain: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<DueRow>> {
    sqlx::query_as::<_, DueRow>(
        "SELECT c.question_id, q.slug, q.domain, q.stem, c.due_at, c.reps, c.lapses
         FROM review_cards c JOIN questions q ON q.id = c.question_id
         WHERE c.user_id = $1 AND c.due_at <= $2 AND q.retired_at IS NULL AND ($3::text IS NULL OR q.domain = $3)
         ORDER BY c.due_at LIMIT $4",
    )
    .bind(user_id)
    .bind(until)
    .bind(domain)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Questions whose last answer was wrong (answered wrong before, not since answered right).
pub async fn mistakes(
    conn: &mut PgConnection,
    user_id: Uuid,
    domain: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT s.question_id FROM user_question_stats s JOIN questions q ON q.id = s.question_id
         WHERE s.user_id = $1 AND s.last_correct = false AND q.retired_at IS NULL AND ($2::text IS NULL OR q.domain = $2)
         ORDER BY s.last_answered_at DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(domain)
    .bind(limit)
    .fetch_all(conn)
    .await
}
