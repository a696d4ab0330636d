//! Cohorts (study groups and instructor cohorts), members, cohort exams and extensions.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CohortRow {
    pub id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    pub join_code: String,
    pub leaderboard: bool,
    pub created_at: DateTime<Utc>,
    pub member_count: i64,
}

const COHORT_SELECT: &str = "SELECT c.id, c.name, c.owner_id, c.join_code, c.leaderboard, c.created_at,
        (SELECT count(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS member_count FROM cohorts c";

pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    owner: Uuid,
    code: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO cohorts (id, name, owner_id, join_code) VALUES ($1, $2, $3, $4)",
        id,
        name,
        owner,
        code
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The cohort if `user` owns it or is a member (None otherwise: outsiders see nothing).
pub async fn visible(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
) -> sqlx::Result<Option<CohortRow>> {
    sqlx::query_as::<_, CohortRow>(&format!(
        "{COHORT_SELECT} WHERE c.id = $1 AND (c.owner_id = $2 OR EXISTS (SELECT 1 FROM cohort_members m WHERE m.cohort_id = c.id AND m.user_id = $2))"
    ))
    .bind(id)
    .bind(user)
    .fetch_optional(conn)
    .await
}

pub async fn list_for(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Vec<CohortRow>> {
    sqlx::query_as::<_, CohortRow>(&format!(
        "{COHORT_SELECT} WHERE c.owner_id = $1 OR EXISTS (SELECT 1 FROM cohort_members m WHERE m.cohort_id = c.id AND m.user_id = $1)
         ORDER BY c.created_at DESC"
    ))
    .bind(user)
    .fetch_all(conn)
    .await
}

pub async fn by_code(conn: &mut PgConnection, code: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!("SELECT id FROM cohorts WHERE join_code = $1", code)
        .fetch_optional(conn)
        .await
}

pub async fn add_member(conn: &mut PgConnection, cohort: Uuid, user: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO cohort_members (cohort_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        cohort,
        user
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn is_member(conn: &mut PgConnection, cohort: Uuid, user: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM cohort_members WHERE cohort_id = $1 AND user_id = $2) AS "e!""#, cohort, user)
        .fetch_one(conn)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: Uuid,
    pub display_name: String,
    pub email: String,
    pub joined_at: DateTime<Utc>,
}

pub async fn members(conn: &mut PgConnection, cohort: Uuid) -> sqlx::Result<Vec<MemberRow>> {
    sqlx::query_as::<_, MemberRow>(
        "SELECT m.user_id, u.display_name, u.email::text AS email, m.joined_at FROM cohort_members m JOIN users u ON u.id = m.user_id
         WHERE m.cohort_id = $1 ORDER BY u.display_name",
    )
    .bind(cohort)
    .fetch_all(conn)
    .await
}

pub async fn remove_member(
    conn: &mut PgConnection,
    cohort: Uuid,
    user: Uuid,
) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "DELETE FROM cohort_members WHERE cohort_id = $1 AND user_id = $2",
        cohort,
        user
    )
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

pub async fn set_code(conn: &mut PgConnection, cohort: Uuid, code: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE cohorts SET join_code = $2 WHERE id = $1",
        cohort,
        code
    )
    .execute(conn)
    .await?;
    Ok(())
}

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
) -> sqlx::Result<Option<(Uuid, DateTime<Utc>, Option<i32>, String)>> {
    let r = sqlx::query!(
        "SELECT id, started_at, time_limit_minutes, status FROM attempts WHERE cohort_exam_id = $1 AND user_id = $2",
        exam,
        user
    )
    .fetch_optional(conn)
    .await?;
    Ok(r.map(|r| (r.id, r.started_at, r.time_limit_minutes, r.status)))
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LearnerResultRow {
    pub user_id: Uuid,
    pub display_name: String,
    pub email: String,
    pub attempt_id: Option<Uuid>,
    pub status: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub result: Option<serde_json::Value>,
}

/// Every member with their attempt at the exam, if any.
pub async fn learner_results(
    conn: &mut PgConnection,
    cohort: Uuid,
    exam: Uuid,
) -> sqlx::Result<Vec<LearnerResultRow>> {
    sqlx::query_as::<_, LearnerResultRow>(
        "SELECT m.user_id, u.display_name, u.email::text AS email, t.id AS attempt_id, t.status, t.started_at, t.finalized_at, t.result
         FROM cohort_members m JOIN users u ON u.id = m.user_id
         LEFT JOIN attempts t ON t.cohort_exam_id = $2 AND t.user_id = m.user_id AND t.status <> 'prepared'
         WHERE m.cohort_id = $1 ORDER BY u.display_name, u.email",
    )
    .bind(cohort)
    .bind(exam)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExamItemRow {
    pub position: i32,
    pub question_id: Uuid,
    pub version: i32,
    pub domain: String,
    pub stem: String,
    pub options: serde_json::Value,
}

pub async fn exam_items(conn: &mut PgConnection, exam: Uuid) -> sqlx::Result<Vec<ExamItemRow>> {
    sqlx::query_as::<_, ExamItemRow>(
        "SELECT x.position, x.question_id, x.version, v.domain, v.stem, v.options
         FROM cohort_exam_questions x JOIN question_versions v ON v.question_id = x.question_id AND v.version = x.version
         WHERE x.exam_id = $1 ORDER BY x.position",
    )
    .bind(exam)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResponseRow {
    pub user_id: Uuid,
    pub question_id: Uuid,
    pub correct: Option<bool>,
    pub choices: Vec<String>,
}

/// Per-item answers of every finalized attempt at the exam.
pub async fn exam_responses(conn: &mut PgConnection, exam: Uuid) -> sqlx::Result<Vec<ResponseRow>> {
    sqlx::query_as::<_, ResponseRow>(
        "SELECT t.user_id, a.question_id, a.correct, a.choices
         FROM attempts t JOIN attempt_questions a ON a.attempt_id = t.id AND a.user_id = t.user_id
         WHERE t.cohort_exam_id = $1 AND t.status IN ('submitted', 'expired')",
    )
    .bind(exam)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberMasteryRow {
    pub user_id: Uuid,
    pub display_name: String,
    pub area_kind: Option<String>,
    pub area: Option<String>,
    pub ability: Option<f64>,
    pub variance: Option<f64>,
    pub answered: Option<i32>,
}

/// Every member's mastery rows (members without answers appear once with NULLs).
pub async fn member_mastery(
    conn: &mut PgConnection,
    cohort: Uuid,
) -> sqlx::Result<Vec<MemberMasteryRow>> {
    sqlx::query_as::<_, MemberMasteryRow>(
        "SELECT m.user_id, u.display_name, x.area_kind, x.area, x.ability, x.variance, x.answered
         FROM cohort_members m JOIN users u ON u.id = m.user_id
         LEFT JOIN mastery x ON x.user_id = m.user_id
         WHERE m.cohort_id = $1 ORDER BY u.display_name, m.user_id",
    )
    .bind(cohort)
    .fetch_all(conn)
    .await
}

/// The result of an attempt at a cohort exam of a cohort `owner` owns.
pub async fn owned_attempt_result(
    conn: &mut PgConnection,
    attempt: Uuid,
    owner: Uuid,
) -> sqlx::Result<Option<Option<serde_json::Value>>> {
    let r = sqlx::query!(
        "SELECT t.result FROM attempts t JOIN cohort_exams e ON e.id = t.cohort_exam_id JOIN cohorts c ON c.id = e.cohort_id
         WHERE t.id = $1 AND c.owner_id = $2",
        attempt,
        owner
    )
    .fetch_optional(conn)
    .await?;
    Ok(r.map(|r| r.result))
}

pub async fn set_leaderboard(conn: &mut PgConnection, cohort: Uuid, on: bool) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE cohorts SET leaderboard = $2 WHERE id = $1",
        cohort,
        on
    )
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

// ---- preparing attempts ahead of the opening ---------------------------------------------------

/// An exam due for preparation (opening within `lead_secs`, not closed, with a member who has
/// no attempt yet), locked for this process only: another process skips it. `FOR NO KEY
/// UPDATE`, not `FOR UPDATE`: a member starting meanwhile inserts an attempt whose foreign key
/// takes `FOR KEY SHARE` on this row after its attempt row is in, and the preparation then
/// waits for that row; with `FOR UPDATE` the two waited for each other (a deadlock: a 500).
pub async fn lock_exam_to_prepare(
    conn: &mut PgConnection,
    lead_secs: f64,
) -> sqlx::Result<Option<(Uuid, Uuid)>> {
    sqlx::query_as(
        "SELECT e.id, e.cohort_id FROM cohort_exams e
          WHERE e.opens_at <= now() + make_interval(secs => $1) AND e.closes_at > now()
            AND EXISTS (SELECT 1 FROM cohort_members m
                         WHERE m.cohort_id = e.cohort_id
                           AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.cohort_exam_id = e.id AND a.user_id = m.user_id))
          ORDER BY e.opens_at
          LIMIT 1 FOR NO KEY UPDATE OF e SKIP LOCKED",
    )
    .bind(lead_secs)
    .fetch_optional(conn)
    .await
}

/// Members of the cohort with no attempt at the exam yet (at most `limit`).
pub async fn unprepared_members(
    conn: &mut PgConnection,
    cohort: Uuid,
    exam: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT m.user_id FROM cohort_members m
          WHERE m.cohort_id = $1
            AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.cohort_exam_id = $2 AND a.user_id = m.user_id)
          ORDER BY m.joined_at LIMIT $3",
    )
    .bind(cohort)
    .bind(exam)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The cohort's exams that open within `lead_secs` and have not closed.
pub async fn exams_within_lead(
    conn: &mut PgConnection,
    cohort: Uuid,
    lead_secs: f64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM cohort_exams
          WHERE cohort_id = $1 AND opens_at <= now() + make_interval(secs => $2) AND closes_at > now()",
    )
    .bind(cohort)
    .bind(lead_secs)
    .fetch_all(conn)
    .await
}

/// Drops the member's prepared (never started) attempts at the cohort's exams.
pub async fn delete_prepared(
    conn: &mut PgConnection,
    cohort: Uuid,
    user: Uuid,
) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "DELETE FROM attempts WHERE user_id = $2 AND status = 'prepared'
            AND cohort_exam_id IN (SELECT id FROM cohort_exams WHERE cohort_id = $1)",
    )
    .bind(cohort)
    .bind(user)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
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
