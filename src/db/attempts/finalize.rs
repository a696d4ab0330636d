//! Finalizing, one attempt or many: row and learner locks, the sweeper's overdue rows and the
//! written results.

use sqlx::PgConnection;
use uuid::Uuid;

use super::{AttemptRow, ATTEMPT_COLUMNS};
use crate::domain::attempt::AttemptStatus;
use crate::domain::result::AttemptResult;

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

// ---- finalizing, one attempt or many ---------------------------------------------------------

/// Takes the learners' locks (their `learner_locks` rows, which every answer save holds until
/// it commits), in user order so that two finalizers never wait for each other in a circle. A
/// save that held a lock committed before this returns; a save that takes one later sees what
/// this transaction commits.
pub async fn lock_learners(conn: &mut PgConnection, users: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query("SELECT 1 FROM learner_locks WHERE user_id = ANY($1) ORDER BY user_id FOR UPDATE")
        .bind(users)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes the status and result of attempts still in progress: (id, owner, status, result).
pub async fn finalize_many(
    conn: &mut PgConnection,
    rows: &[(Uuid, Uuid, AttemptStatus, AttemptResult)],
) -> sqlx::Result<u64> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let users: Vec<Uuid> = rows.iter().map(|r| r.1).collect();
    let statuses: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    let results: Vec<sqlx::types::Json<&AttemptResult>> =
        rows.iter().map(|r| sqlx::types::Json(&r.3)).collect();
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
