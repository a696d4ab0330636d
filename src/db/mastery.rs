//! Mastery state, daily snapshots and spaced-repetition cards of a learner. The live mastery
//! row of a domain stands for the day of its last update; earlier days are in the snapshots.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

pub use crate::domain::learning::{AreaWrite, CardRow, LearningWrite, MasteryRow};

pub async fn all(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Vec<MasteryRow>> {
    let rows = sqlx::query_as::<_, (String, String, f64, f64, i32, i32)>("SELECT area_kind, area, ability, variance, answered, correct FROM mastery WHERE user_id = $1 ORDER BY area_kind, area")
        .bind(user_id)
        .fetch_all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(area_kind, area, ability, variance, answered, correct)| MasteryRow {
                area_kind,
                area,
                ability,
                variance,
                answered,
                correct,
            },
        )
        .collect())
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
        "SELECT day, domain, ability, variance, answered FROM mastery_snapshots WHERE user_id = $1 AND day >= $2
         UNION ALL
         SELECT day, area, ability, variance, answered FROM mastery WHERE user_id = $1 AND area_kind = 'domain' AND day >= $2
         ORDER BY day, domain",
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
        "SELECT DISTINCT ON (domain) day, domain, ability, variance, answered FROM (
             SELECT day, domain, ability, variance, answered FROM mastery_snapshots WHERE user_id = $1 AND day <= $2
             UNION ALL
             SELECT day, area, ability, variance, answered FROM mastery WHERE user_id = $1 AND area_kind = 'domain' AND day <= $2
         ) h ORDER BY domain, day DESC",
    )
    .bind(user_id)
    .bind(day)
    .fetch_all(conn)
    .await
}

// ---- spaced repetition ------------------------------------------------------------------------

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
         FROM user_question_stats c JOIN questions q ON q.id = c.question_id
         WHERE c.user_id = $1 AND c.due_at IS NOT NULL AND c.due_at <= $2 AND q.retired_at IS NULL AND ($3::text IS NULL OR q.domain = $3)
         ORDER BY c.due_at LIMIT $4",
    )
    .bind(user_id)
    .bind(until)
    .bind(domain)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// How many reviews are due by `until` (the same rows as [`due`], without a limit).
pub async fn due_count(
    conn: &mut PgConnection,
    user_id: Uuid,
    until: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM user_question_stats c JOIN questions q ON q.id = c.question_id
         WHERE c.user_id = $1 AND c.due_at IS NOT NULL AND c.due_at <= $2 AND q.retired_at IS NULL",
    )
    .bind(user_id)
    .bind(until)
    .fetch_one(conn)
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatsRow {
    pub question_id: Uuid,
    pub times_answered: i32,
    pub stability: Option<f64>,
    pub card_difficulty: Option<f64>,
    pub last_review_at: Option<DateTime<Utc>>,
    pub reps: i32,
    pub lapses: i32,
}

impl StatsRow {
    pub fn card(&self) -> Option<CardRow> {
        Some(CardRow {
            stability: self.stability?,
            difficulty: self.card_difficulty?,
            due_at: self.last_review_at?,
            last_review_at: self.last_review_at?,
            reps: self.reps,
            lapses: self.lapses,
        })
    }
}

/// The learner's statistics-and-card rows for these questions.
pub async fn stats_for(
    conn: &mut PgConnection,
    user_id: Uuid,
    questions: &[Uuid],
) -> sqlx::Result<Vec<StatsRow>> {
    sqlx::query_as::<_, StatsRow>(
        "SELECT question_id, times_answered, stability, card_difficulty, last_review_at, reps, lapses
         FROM user_question_stats WHERE user_id = $1 AND question_id = ANY($2)",
    )
    .bind(user_id)
    .bind(questions)
    .fetch_all(conn)
    .await
}
