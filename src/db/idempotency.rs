//! Idempotency-Key records.

use sqlx::PgConnection;

/// A recorded request and, once it finished, its response.
#[derive(Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub path: String,
    pub body_hash: Vec<u8>,
    pub status: Option<i16>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Option<Vec<u8>>,
}

/// Claims the key for a new request; `false` when it is already recorded (and not expired).
/// An expired record of the key is replaced.
pub async fn claim(
    conn: &mut PgConnection,
    scope: &str,
    key: &str,
    path: &str,
    body_hash: &[u8],
    ttl_hours: i64,
) -> sqlx::Result<bool> {
    // EXCLUDED.…, not now(): Citus refuses volatile functions in the DO UPDATE of a distributed
    // (or reference) table (docs/scaling.md §7); the inserted row carries the same now()
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, path, body_hash) VALUES ($1, $2, $3, $4)
         ON CONFLICT (scope, key) DO UPDATE
            SET path = EXCLUDED.path, body_hash = EXCLUDED.body_hash, status = NULL,
                content_type = NULL, location = NULL, body = NULL, created_at = EXCLUDED.created_at
            WHERE idempotency_keys.created_at < EXCLUDED.created_at - make_interval(hours => $5::int)
         RETURNING 1",
    )
    .bind(scope)
    .bind(key)
    .bind(path)
    .bind(body_hash)
    .bind(ttl_hours as i32)
    .fetch_optional(conn)
    .await?;
    Ok(inserted.is_some())
}

pub async fn find(conn: &mut PgConnection, scope: &str, key: &str) -> sqlx::Result<Option<KeyRow>> {
    sqlx::query_as::<_, KeyRow>(
        "SELECT path, body_hash, status, content_type, location, body
         FROM idempotency_keys WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(conn)
    .await
}

pub async fn complete(
    conn: &mut PgConnection,
    scope: &str,
    key: &str,
    status: i16,
    content_type: Option<&str>,
    location: Option<&str>,
    body: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $3, content_type = $4, location = $5, body = $6
         WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .bind(status)
    .bind(content_type)
    .bind(location)
    .bind(body)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn release(conn: &mut PgConnection, scope: &str, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL")
        .bind(scope)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn purge_expired(conn: &mut PgConnection, ttl_hours: i64) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1::int)",
    )
    .bind(ttl_hours as i32)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}
