//! Retry-safe creates (`Idempotency-Key`, IETF httpapi draft): the first request with a key
//! runs and its response is recorded; a retry with the same key and body gets the recorded
//! response and creates nothing; the same key with another body or path is refused. Records
//! live in PostgreSQL, so every server process agrees, and are kept `ttl_hours`.

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::db::idempotency as db;
use crate::error::{AppError, AppResult, Conflict};

/// A recorded response.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Begin {
    /// The key is new: run the request, then `complete` (or `release` on a transient failure).
    Run,
    /// The same request was answered before: send this again.
    Replay(Recorded),
}

/// The longest accepted key.
pub const MAX_KEY: usize = 255;

/// A key is 1 to 255 visible ASCII characters (a UUID is the usual choice).
pub fn check_key(key: &str) -> AppResult<()> {
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::BadRequest(format!(
            "Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters"
        )));
    }
    Ok(())
}

pub fn body_hash(body: &[u8]) -> Vec<u8> {
    Sha256::digest(body).to_vec()
}

pub async fn begin(
    pool: &PgPool,
    scope: &str,
    key: &str,
    path: &str,
    body: &[u8],
    ttl_hours: i64,
) -> AppResult<Begin> {
    let hash = body_hash(body);
    let mut conn = pool.acquire().await?;
    if db::claim(&mut conn, scope, key, path, &hash, ttl_hours).await? {
        return Ok(Begin::Run);
    }
    let Some(row) = db::find(&mut conn, scope, key).await? else {
        // released between our claim and read: the caller may simply retry
        return Err(AppError::conflict(
            Conflict::IdempotencyKeyInUse,
            "a request with this Idempotency-Key was just abandoned; retry",
        ));
    };
    if row.path != path || row.body_hash != hash {
        return Err(AppError::validation(
            "Idempotency-Key",
            "this key was already used with another request body or path; use a new key",
        ));
    }
    match row.status {
        None => Err(AppError::conflict(
            Conflict::IdempotencyKeyInUse,
            "a request with this Idempotency-Key is still in progress; retry shortly",
        )),
        Some(status) => Ok(Begin::Replay(Recorded {
            status: status as u16,
            content_type: row.content_type,
            location: row.location,
            body: row.body.unwrap_or_default(),
        })),
    }
}

/// Whether a response is final for its key. Transient answers (401 before a token refresh,
/// 429, 5xx) are not recorded, so that a retry with the same key runs again.
pub fn is_final(status: u16) -> bool {
    !(status == 401 || status == 429 || status >= 500)
}

pub async fn complete(pool: &PgPool, scope: &str, key: &str, r: &Recorded) -> AppResult<()> {
    let mut conn = pool.acquire().await?;
    db::complete(
        &mut conn,
        scope,
        key,
        r.status as i16,
        r.content_type.as_deref(),
        r.location.as_deref(),
        &r.body,
    )
    .await?;
    Ok(())
}

pub async fn release(pool: &PgPool, scope: &str, key: &str) -> AppResult<()> {
    let mut conn = pool.acquire().await?;
    db::release(&mut conn, scope, key).await?;
    Ok(())
}

pub async fn purge_expired(pool: &PgPool, ttl_hours: i64) -> AppResult<u64> {
    let mut conn = pool.acquire().await?;
    Ok(db::purge_expired(&mut conn, ttl_hours).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(check_key("3f1c9a6e-8d2b-4a51-9a7e-1c2d3e4f5a6b").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("has space").is_err());
        assert!(check_key(&"k".repeat(MAX_KEY)).is_ok());
        assert!(check_key(&"k".repeat(MAX_KEY + 1)).is_err());
    }

    #[test]
    fn transient_answers_are_not_recorded() {
        for s in [200, 201, 400, 403, 404, 409, 422] {
            assert!(is_final(s), "{s}");
        }
        for s in [401, 429, 500, 503] {
            assert!(!is_final(s), "{s}");
        }
    }
}
