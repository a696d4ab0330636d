//! Preparing members' attempts ahead of a cohort exam's opening.

use sqlx::PgConnection;
use uuid::Uuid;

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
