//! Cohorts (study groups and instructor cohorts), members, cohort exams and extensions.
//!
//! Here the cohort and its roster; `exams` (cohort exams, their question sets, extensions and
//! members' attempts), `results` (what the owner's results and the group view read) and
//! `prepare` (attempts prepared ahead of an exam's opening).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

mod exams;
mod prepare;
mod results;

pub use exams::*;
pub use prepare::*;
pub use results::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CohortRow {
    pub id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    pub join_code: String,
    pub leaderboard: bool,
    pub created_at: DateTime<Utc>,
    pub member_count: i64,
}

const COHORT_SELECT: &str = "SELECT c.id, c.name, c.owner_id, c.join_code, c.leaderboard, c.created_at,
        (SELECT count(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS member_count FROM cohorts c";

pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    owner: Uuid,
    code: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO cohorts (id, name, owner_id, join_code) VALUES ($1, $2, $3, $4)",
        id,
        name,
        owner,
        code
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The cohort if `user` owns it or is a member (None otherwise: outsiders see nothing).
pub async fn visible(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
) -> sqlx::Result<Option<CohortRow>> {
    sqlx::query_as::<_, CohortRow>(&format!(
        "{COHORT_SELECT} WHERE c.id = $1 AND (c.owner_id = $2 OR EXISTS (SELECT 1 FROM cohort_members m WHERE m.cohort_id = c.id AND m.user_id = $2))"
    ))
    .bind(id)
    .bind(user)
    .fetch_optional(conn)
    .await
}

pub async fn list_for(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Vec<CohortRow>> {
    sqlx::query_as::<_, CohortRow>(&format!(
        "{COHORT_SELECT} WHERE c.owner_id = $1 OR EXISTS (SELECT 1 FROM cohort_members m WHERE m.cohort_id = c.id AND m.user_id = $1)
         ORDER BY c.created_at DESC"
    ))
    .bind(user)
    .fetch_all(conn)
    .await
}

pub async fn by_code(conn: &mut PgConnection, code: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!("SELECT id FROM cohorts WHERE join_code = $1", code)
        .fetch_optional(conn)
        .await
}

pub async fn add_member(conn: &mut PgConnection, cohort: Uuid, user: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO cohort_members (cohort_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        cohort,
        user
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn is_member(conn: &mut PgConnection, cohort: Uuid, user: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM cohort_members WHERE cohort_id = $1 AND user_id = $2) AS "e!""#, cohort, user)
        .fetch_one(conn)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: Uuid,
    pub display_name: String,
    pub email: String,
    pub joined_at: DateTime<Utc>,
}

pub async fn members(conn: &mut PgConnection, cohort: Uuid) -> sqlx::Result<Vec<MemberRow>> {
    sqlx::query_as::<_, MemberRow>(
        "SELECT m.user_id, u.display_name, u.email::text AS email, m.joined_at FROM cohort_members m JOIN users u ON u.id = m.user_id
         WHERE m.cohort_id = $1 ORDER BY u.display_name",
    )
    .bind(cohort)
    .fetch_all(conn)
    .await
}

pub async fn remove_member(
    conn: &mut PgConnection,
    cohort: Uuid,
    user: Uuid,
) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "DELETE FROM cohort_members WHERE cohort_id = $1 AND user_id = $2",
        cohort,
        user
    )
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

pub async fn set_code(conn: &mut PgConnection, cohort: Uuid, code: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE cohorts SET join_code = $2 WHERE id = $1",
        cohort,
        code
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_leaderboard(conn: &mut PgConnection, cohort: Uuid, on: bool) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE cohorts SET leaderboard = $2 WHERE id = $1",
        cohort,
        on
    )
    .execute(conn)
    .await?;
    Ok(())
}
