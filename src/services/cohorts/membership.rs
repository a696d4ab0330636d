//! Cohorts and their rosters: create, list, read, join with a code, remove a member, a new
//! code, the leaderboard switch. [`owned`] is the owner-only check the other jobs use.

use rand::Rng;
use sqlx::PgPool;
use uuid::Uuid;

use super::not_found;
use super::prepare::prepare;
use crate::db::cohorts as db;
use crate::error::{AppError, AppResult};

use crate::db::cohorts::{CohortRow, MemberRow};

/// A join code: 8 characters without look-alikes (no 0/O, 1/l/I).
pub fn new_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..8)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

pub async fn create(pool: &PgPool, owner: Uuid, name: &str) -> AppResult<CohortRow> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation("name", "must be 1 to 100 characters"));
    }
    let id = Uuid::new_v4();
    let mut conn = pool.acquire().await?;
    db::insert(&mut conn, id, name, owner, &new_code()).await?;
    db::visible(&mut conn, id, owner)
        .await?
        .ok_or_else(not_found)
}

pub async fn list(pool: &PgPool, user: Uuid) -> AppResult<Vec<CohortRow>> {
    let mut conn = pool.acquire().await?;
    Ok(db::list_for(&mut conn, user).await?)
}

pub async fn get(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<CohortRow> {
    let mut conn = pool.acquire().await?;
    db::visible(&mut conn, id, user)
        .await?
        .ok_or_else(not_found)
}

/// The cohort, if `user` owns it; members get 403, outsiders 404.
pub async fn owned(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<CohortRow> {
    let c = get(pool, user, id).await?;
    if !c.role_of(user).is_owner() {
        return Err(AppError::Forbidden(
            "only the cohort's owner can do this".into(),
        ));
    }
    Ok(c)
}

/// Joins with the code. A member who joins after the cohort's next exam was prepared is
/// prepared too, here (`lead_secs`: how far ahead of its opening an exam is prepared).
pub async fn join(pool: &PgPool, user: Uuid, code: &str, lead_secs: u64) -> AppResult<CohortRow> {
    let mut conn = pool.acquire().await?;
    let id = db::by_code(&mut conn, code.trim().to_uppercase().as_str())
        .await?
        .ok_or_else(|| AppError::validation("code", "no cohort has this join code"))?;
    db::add_member(&mut conn, id, user).await?;
    for exam in db::exams_within_lead(&mut conn, id, lead_secs as f64).await? {
        prepare(&mut conn, id, exam, &[user]).await?;
    }
    db::visible(&mut conn, id, user)
        .await?
        .ok_or_else(not_found)
}

pub async fn members(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<Vec<MemberRow>> {
    owned(pool, user, id).await?;
    let mut conn = pool.acquire().await?;
    Ok(db::members(&mut conn, id).await?)
}

pub async fn remove_member(pool: &PgPool, user: Uuid, id: Uuid, member: Uuid) -> AppResult<()> {
    owned(pool, user, id).await?;
    let mut tx = pool.begin().await?;
    if !db::remove_member(&mut tx, id, member).await? {
        return Err(AppError::NotFound("no such member".into()));
    }
    db::delete_prepared(&mut tx, id, member).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn rotate_code(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<CohortRow> {
    owned(pool, user, id).await?;
    let mut conn = pool.acquire().await?;
    db::set_code(&mut conn, id, &new_code()).await?;
    db::visible(&mut conn, id, user)
        .await?
        .ok_or_else(not_found)
}

/// The owner shows members' names in the group view (or hides them again).
pub async fn set_leaderboard(
    pool: &PgPool,
    user: Uuid,
    id: Uuid,
    on: bool,
) -> AppResult<CohortRow> {
    owned(pool, user, id).await?;
    let mut conn = pool.acquire().await?;
    db::set_leaderboard(&mut conn, id, on).await?;
    db::visible(&mut conn, id, user)
        .await?
        .ok_or_else(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_avoid_look_alikes() {
        let c = new_code();
        assert_eq!(c.len(), 8);
        assert!(!c.contains(['0', 'O', '1', 'I', 'l']));
    }
}
