//! Reading an attempt back: its owner's view of it (finalized as expired on the first read past
//! its deadline), the list of attempts and what a question's review shows.

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::finalize::finalize;
use crate::db::attempts::{self as db, AttemptRow, ItemRow};
use crate::domain::window::{past_deadline, remaining_seconds};
use crate::error::{AppError, AppResult};

/// An attempt with its questions, as its owner sees it.
pub struct AttemptState {
    pub attempt: AttemptRow,
    pub items: Vec<ItemRow>,
}

impl AttemptState {
    pub fn remaining_seconds(&self) -> Option<i64> {
        if !self.attempt.status.is_open() {
            return Some(0);
        }
        remaining_seconds(self.attempt.deadline, Utc::now())
    }
}

/// The owner's attempt; one past its deadline is finalized as expired on this first read.
pub async fn get(pool: &PgPool, user_id: Uuid, id: Uuid) -> AppResult<AttemptState> {
    let mut conn = pool.acquire().await?;
    let mut attempt = db::get(&mut conn, id, user_id)
        .await?
        .filter(|a| a.status.is_visible())
        .ok_or_else(|| AppError::NotFound("no such attempt".into()))?;
    if attempt.status.is_open() && past_deadline(attempt.deadline, Utc::now()) {
        drop(conn);
        finalize(pool, user_id, id).await?;
        conn = pool.acquire().await?;
        attempt = db::get(&mut conn, id, user_id)
            .await?
            .ok_or_else(|| AppError::NotFound("no such attempt".into()))?;
    }
    let items = super::content::items(&mut conn, id, user_id).await?;
    Ok(AttemptState { attempt, items })
}

/// An attempt just started, as its owner sees it: read after the commit, on the connection that
/// created it.
pub async fn started(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> AppResult<AttemptState> {
    let attempt = db::get(conn, id, user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such attempt".into()))?;
    let items = super::content::items(conn, id, user_id).await?;
    Ok(AttemptState { attempt, items })
}

pub async fn list(pool: &PgPool, user_id: Uuid) -> AppResult<Vec<db::AttemptSummary>> {
    let mut conn = pool.acquire().await?;
    Ok(db::list_for_user(&mut conn, user_id, 100).await?)
}
