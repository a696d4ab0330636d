//! What the owner's results and the group view read: members' results, items, responses and
//! mastery, and an attempt's result for the owner.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::attempt::StoredOption;
use crate::domain::result::AttemptResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LearnerResultRow {
    pub user_id: Uuid,
    pub display_name: String,
    pub email: String,
    pub attempt_id: Option<Uuid>,
    pub status: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finalized_at: Option<DateTime<Utc>>,
    #[sqlx(json(nullable))]
    pub result: Option<AttemptResult>,
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
    #[sqlx(json)]
    pub options: Vec<StoredOption>,
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
) -> sqlx::Result<Option<Option<AttemptResult>>> {
    let r = sqlx::query!(
        "SELECT t.result FROM attempts t JOIN cohort_exams e ON e.id = t.cohort_exam_id JOIN cohorts c ON c.id = e.cohort_id
         WHERE t.id = $1 AND c.owner_id = $2",
        attempt,
        owner
    )
    .fetch_optional(conn)
    .await?;
    r.map(|r| {
        r.result
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| sqlx::Error::Decode(e.into()))
    })
    .transpose()
}
