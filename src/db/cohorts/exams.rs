//! Cohort exams: the exam, its fixed question set, extensions, and a member's attempt at it.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::attempt::AttemptStatus;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExamRow {
    pub id: Uuid,
    pub cohort_id: Uuid,
    pub blueprint: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub shuffle: bool,
    pub question_count: i64,
}

const EXAM_SELECT: &str = "SELECT e.id, e.cohort_id, e.blueprint, e.opens_at, e.closes_at, e.shuffle,
        (SELECT count(*) FROM cohort_exam_questions q WHERE q.exam_id = e.id) AS question_count FROM cohort_exams e";

#[allow(clippy::too_many_arguments)]
pub async fn insert_exam(
    conn: &mut PgConnection,
    id: Uuid,
    cohort: Uuid,
    blueprint: &str,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    shuffle: bool,
    questions: &[(Uuid, i32)],
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO cohort_exams (id, cohort_id, blueprint, opens_at, closes_at, shuffle) VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        cohort,
        blueprint,
        opens_at,
        closes_at,
        shuffle
    )
    .execute(&mut *conn)
    .await?;
    let positions: Vec<i32> = (1..=questions.len() as i32).collect();
    let ids: Vec<Uuid> = questions.iter().map(|q| q.0).collect();
    let versions: Vec<i32> = questions.iter().map(|q| q.1).collect();
    sqlx::query!(
        "INSERT INTO cohort_exam_questions (exam_id, position, question_id, version)
         SELECT $1, p, q, v FROM UNNEST($2::int4[], $3::uuid[], $4::int4[]) AS t(p, q, v)",
        id,
        &positions,
        &ids,
        &versions
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn exams(conn: &mut PgConnection, cohort: Uuid) -> sqlx::Result<Vec<ExamRow>> {
    sqlx::query_as::<_, ExamRow>(&format!(
        "{EXAM_SELECT} WHERE e.cohort_id = $1 ORDER BY e.opens_at"
    ))
    .bind(cohort)
    .fetch_all(conn)
    .await
}

pub async fn exam(
    conn: &mut PgConnection,
    cohort: Uuid,
    exam: Uuid,
) -> sqlx::Result<Option<ExamRow>> {
    sqlx::query_as::<_, ExamRow>(&format!(
        "{EXAM_SELECT} WHERE e.cohort_id = $1 AND e.id = $2"
    ))
    .bind(cohort)
    .bind(exam)
    .fetch_optional(conn)
    .await
}

/// The exam's fixed question set as attempt candidates (the versions drawn when it was scheduled).
pub async fn exam_candidates(
    conn: &mut PgConnection,
    exam: Uuid,
) -> sqlx::Result<Vec<crate::db::attempts::Candidate>> {
    sqlx::query_as::<_, crate::db::attempts::Candidate>(
        "SELECT NOT x.scored AS unscored, x.question_id AS id, x.version, v.domain, v.kind, v.difficulty,
                ARRAY(SELECT o->>'id' FROM jsonb_array_elements(v.options) AS o) AS option_ids
         FROM cohort_exam_questions x JOIN question_versions v ON v.question_id = x.question_id AND v.version = x.version
         WHERE x.exam_id = $1 ORDER BY x.position",
    )
    .bind(exam)
    .fetch_all(conn)
    .await
}

pub async fn extension(conn: &mut PgConnection, exam: Uuid, user: Uuid) -> sqlx::Result<i32> {
    Ok(sqlx::query_scalar!(
        "SELECT minutes FROM cohort_exam_extensions WHERE exam_id = $1 AND user_id = $2",
        exam,
        user
    )
    .fetch_optional(conn)
    .await?
    .unwrap_or(0))
}

pub async fn set_extension(
    conn: &mut PgConnection,
    exam: Uuid,
    user: Uuid,
    minutes: i32,
) -> sqlx::Result<()> {
    // EXCLUDED.…, not now(): Citus refuses volatile functions in the DO UPDATE of a distributed
    // (or reference) table (docs/scaling.md §7); the inserted row carries the same now()
    sqlx::query!(
        "INSERT INTO cohort_exam_extensions (exam_id, user_id, minutes) VALUES ($1, $2, $3)
         ON CONFLICT (exam_id, user_id) DO UPDATE SET minutes = EXCLUDED.minutes, updated_at = EXCLUDED.updated_at",
        exam,
        user,
        minutes
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The member's attempt at a cohort exam, if started: (id, started_at, time limit, status).
pub async fn member_attempt(
    conn: &mut PgConnection,
    exam: Uuid,
    user: Uuid,
) -> sqlx::Result<Option<(Uuid, DateTime<Utc>, Option<i32>, AttemptStatus)>> {
    let r = sqlx::query!(
        "SELECT id, started_at, time_limit_minutes, status FROM attempts WHERE cohort_exam_id = $1 AND user_id = $2",
        exam,
        user
    )
    .fetch_optional(conn)
    .await?;
    r.map(|r| {
        let status =
            AttemptStatus::try_from(r.status).map_err(|e| sqlx::Error::Decode(e.into()))?;
        Ok((r.id, r.started_at, r.time_limit_minutes, status))
    })
    .transpose()
}

pub async fn set_deadline(
    conn: &mut PgConnection,
    attempt: Uuid,
    user: Uuid,
    deadline: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!("UPDATE attempts SET deadline = $3 WHERE id = $1 AND user_id = $2 AND status = 'in_progress'", attempt, user, deadline)
        .execute(conn)
        .await?;
    Ok(())
}

/// The caller's attempts at a cohort's exams and their extensions: exam → (attempt, status, minutes).
pub async fn my_exam_states(
    conn: &mut PgConnection,
    cohort: Uuid,
    user: Uuid,
) -> sqlx::Result<Vec<(Uuid, Option<Uuid>, Option<String>, i32)>> {
    sqlx::query_as(
        "SELECT e.id, a.id, a.status, COALESCE(x.minutes, 0)
         FROM cohort_exams e
         LEFT JOIN attempts a ON a.cohort_exam_id = e.id AND a.user_id = $2 AND a.status <> 'prepared'
         LEFT JOIN cohort_exam_extensions x ON x.exam_id = e.id AND x.user_id = $2
         WHERE e.cohort_id = $1",
    )
    .bind(cohort)
    .bind(user)
    .fetch_all(conn)
    .await
}

pub async fn extensions(conn: &mut PgConnection, exam: Uuid) -> sqlx::Result<Vec<(Uuid, i32)>> {
    sqlx::query_as("SELECT user_id, minutes FROM cohort_exam_extensions WHERE exam_id = $1")
        .bind(exam)
        .fetch_all(conn)
        .await
}

/// Marks questions of a cohort exam's set as unscored (they count for nobody).
pub async fn mark_unscored(conn: &mut PgConnection, exam: Uuid, ids: &[Uuid]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("UPDATE cohort_exam_questions SET scored = false WHERE exam_id = $1 AND question_id = ANY($2)")
        .bind(exam)
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}
