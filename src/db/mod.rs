//! Database access: one file per aggregate, queries taking `&mut PgConnection` (or the pool
//! for single reads). Compile-time checked with `query!`/`query_as!`; the offline metadata is
//! committed in `.sqlx/`.

pub mod attempts;
pub mod calibration;
pub mod catalog;
pub mod citus;
pub mod cohorts;
pub mod idempotency;
pub mod mastery;
pub mod password_resets;
pub mod questions;
pub mod rate_limits;
pub mod readiness;
pub mod tokens;
pub mod users;
pub mod web_sessions;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::config::DbArgs;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Builds the pool without connecting: the server starts (and answers `/readyz` with 503)
/// even while the database is down, and connects as soon as it is reachable.
pub fn pool(args: &DbArgs) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = args
        .database_url
        .parse()
        .map_err(|e| anyhow::anyhow!("DATABASE_URL is not a valid PostgreSQL URL: {e}"))?;
    Ok(pool_options(args).connect_lazy_with(options.application_name("exambank")))
}

pub fn pool_options(args: &DbArgs) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(args.db_max_connections)
        .min_connections(0)
        .acquire_timeout(args.acquire_timeout())
        .idle_timeout(std::time::Duration::from_secs(300))
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

impl cohorts::CohortRow {
    /// The role in this cohort of `user`, for whom it was read (visible to them).
    pub fn role_of(&self, user: uuid::Uuid) -> crate::domain::cohort::CohortRole {
        crate::domain::cohort::CohortRole::of(self.owner_id, user)
    }
}

/// A cohort exam row is a window for the time rules of `domain::window`.
impl crate::domain::window::ExamWindow for cohorts::ExamRow {
    fn opens_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.opens_at
    }
    fn closes_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.closes_at
    }
}
