//! One-time password reset links (only the token's SHA-256 is stored). Runtime-checked
//! queries: this table has no offline metadata in `.sqlx/`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// The account a live (unused, unexpired) link resets.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResetTarget {
    pub user_id: Uuid,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(
    conn: &mut PgConnection,
    user_id: Uuid,
    hash: &[u8],
    expires_at: DateTime<Utc>,
    issued_by: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO password_resets (id, user_id, token_hash, expires_at, issued_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::new_v4())
    .bind(user_id)
    .bind(hash)
    .bind(expires_at)
    .bind(issued_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the user's links that were never used (older links die when a new one is issued
/// or the password is reset); used ones stay as a record.
pub async fn discard_unused(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<u64> {
    let r = sqlx::query("DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected())
}

/// The account of a link that can still be used (does not consume it). `user` is the user
/// the link's token names; `None` for a link issued before tokens named their user.
pub async fn find_live(
    conn: &mut PgConnection,
    user: Option<Uuid>,
    hash: &[u8],
) -> sqlx::Result<Option<ResetTarget>> {
    const SELECT: &str = "SELECT r.user_id, u.email::text AS email, r.expires_at
         FROM password_resets r JOIN users u ON u.id = r.user_id
         WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now()";
    match user {
        Some(user) => {
            sqlx::query_as::<_, ResetTarget>(&format!("{SELECT} AND r.user_id = $2"))
                .bind(hash)
                .bind(user)
                .fetch_optional(conn)
                .await
        }
        None => {
            sqlx::query_as::<_, ResetTarget>(SELECT)
                .bind(hash)
                .fetch_optional(conn)
                .await
        }
    }
}

/// Marks a live link used, atomically: of two concurrent uses exactly one gets the user id.
pub async fn consume(
    conn: &mut PgConnection,
    user: Option<Uuid>,
    hash: &[u8],
) -> sqlx::Result<Option<Uuid>> {
    const UPDATE: &str = "UPDATE password_resets SET used_at = now()
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()";
    match user {
        Some(user) => {
            sqlx::query_scalar::<_, Uuid>(&format!("{UPDATE} AND user_id = $2 RETURNING user_id"))
                .bind(hash)
                .bind(user)
                .fetch_optional(conn)
                .await
        }
        None => {
            sqlx::query_scalar::<_, Uuid>(&format!("{UPDATE} RETURNING user_id"))
                .bind(hash)
                .fetch_optional(conn)
                .await
        }
    }
}

/// Locks the account's row (issuing links for one user serialises) and returns its email.
/// `FOR NO KEY UPDATE` does not block inserts that merely reference the user.
pub async fn lock_account(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar::<_, String>("SELECT email::text FROM users WHERE id = $1 FOR NO KEY UPDATE")
        .bind(user_id)
        .fetch_optional(conn)
        .await
}
