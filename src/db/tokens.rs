//! Refresh tokens and their families.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug)]
pub struct RefreshRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    conn: &mut PgConnection,
    user_id: Uuid,
    family_id: Uuid,
    hash: &[u8],
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5)",
        Uuid::new_v4(),
        user_id,
        family_id,
        hash,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the token's row for the rest of the transaction (concurrent refreshes serialise).
/// `user` is the user the token names (then the row is found on that user's shard when the
/// table is distributed); `None` for a token issued before tokens named their user.
pub async fn find_for_update(
    conn: &mut PgConnection,
    user: Option<Uuid>,
    hash: &[u8],
) -> sqlx::Result<Option<RefreshRow>> {
    match user {
        Some(user) => {
            sqlx::query_as!(
                RefreshRow,
                "SELECT id, user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens
              WHERE user_id = $1 AND token_hash = $2 FOR UPDATE",
                user,
                hash
            )
            .fetch_optional(conn)
            .await
        }
        None => {
            sqlx::query_as!(
                RefreshRow,
                "SELECT id, user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens
              WHERE token_hash = $1 FOR UPDATE",
                hash
            )
            .fetch_optional(conn)
            .await
        }
    }
}

pub async fn mark_used(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE refresh_tokens SET used_at = now() WHERE user_id = $1 AND id = $2",
        user_id,
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes a login family (a family belongs to one user).
pub async fn revoke_family(
    conn: &mut PgConnection,
    user_id: Uuid,
    family_id: Uuid,
) -> sqlx::Result<u64> {
    let r = sqlx::query!(
        "UPDATE refresh_tokens SET revoked_at = now()
          WHERE user_id = $1 AND family_id = $2 AND revoked_at IS NULL",
        user_id,
        family_id
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Revokes every refresh token (every login family) of the user; returns how many tokens.
/// (Runtime-checked query.)
pub async fn revoke_all_of_user(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}
