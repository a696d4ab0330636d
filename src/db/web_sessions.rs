//! Cookie sessions of the pages.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
}

pub async fn insert(
    conn: &mut PgConnection,
    user_id: Uuid,
    hash: &[u8],
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO web_sessions (id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)",
        Uuid::new_v4(),
        user_id,
        hash,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The live session's user (not revoked, not expired). `user` is the user the cookie's token
/// names; `None` for a token issued before tokens named their user (found by hash alone).
pub async fn find_user(
    conn: &mut PgConnection,
    user: Option<Uuid>,
    hash: &[u8],
) -> sqlx::Result<Option<SessionUser>> {
    match user {
        Some(user) => sqlx::query_as!(
            SessionUser,
            r#"SELECT u.id AS user_id, u.email::text AS "email!", u.display_name, u.role
               FROM web_sessions s JOIN users u ON u.id = s.user_id
               WHERE s.user_id = $1 AND s.token_hash = $2 AND s.revoked_at IS NULL AND s.expires_at > now()"#,
            user,
            hash
        )
        .fetch_optional(conn)
        .await,
        None => sqlx::query_as!(
            SessionUser,
            r#"SELECT u.id AS user_id, u.email::text AS "email!", u.display_name, u.role
               FROM web_sessions s JOIN users u ON u.id = s.user_id
               WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()"#,
            hash
        )
        .fetch_optional(conn)
        .await,
    }
}

pub async fn revoke(conn: &mut PgConnection, user: Option<Uuid>, hash: &[u8]) -> sqlx::Result<()> {
    match user {
        Some(user) => sqlx::query!(
            "UPDATE web_sessions SET revoked_at = now()
              WHERE user_id = $1 AND token_hash = $2 AND revoked_at IS NULL",
            user,
            hash
        )
        .execute(conn)
        .await?,
        None => sqlx::query!(
            "UPDATE web_sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL",
            hash
        )
        .execute(conn)
        .await?,
    };
    Ok(())
}

/// Revokes every live session of the user except the one with `keep` (the caller's own);
/// returns how many. (Runtime-checked query.)
pub async fn revoke_all_of_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep: Option<&[u8]>,
) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "UPDATE web_sessions SET revoked_at = now()
         WHERE user_id = $1 AND revoked_at IS NULL AND ($2::bytea IS NULL OR token_hash <> $2)",
    )
    .bind(user_id)
    .bind(keep)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}
