//! Operations: what the readiness probe asks of the database.

use std::time::Duration;

use sqlx::PgPool;

/// Whether the database answers a trivial query within `timeout`.
pub async fn database_ready(pool: &PgPool, timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, sqlx::query("SELECT 1").execute(pool)).await,
        Ok(Ok(_))
    )
}
