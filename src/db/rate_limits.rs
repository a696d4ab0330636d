//! Fixed-window counters kept in PostgreSQL, so limits hold across server processes.

use sqlx::PgConnection;

/// Hits counted in the current window of `key`, and seconds until it resets.
pub async fn current(
    conn: &mut PgConnection,
    key: &str,
    window_secs: i64,
) -> sqlx::Result<(i32, i64)> {
    let row = sqlx::query!(
        r#"SELECT hits, ceil(extract(epoch FROM window_start + make_interval(secs => $2::float8) - now()))::bigint AS "reset!"
           FROM rate_limits WHERE key = $1 AND window_start > now() - make_interval(secs => $2::float8)"#,
        key,
        window_secs as f64
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.hits, r.reset.max(1))).unwrap_or((0, 0)))
}

/// Counts one hit; returns the hits in the window including this one, and seconds to reset.
pub async fn hit(conn: &mut PgConnection, key: &str, window_secs: i64) -> sqlx::Result<(i32, i64)> {
    let row = sqlx::query!(
        r#"INSERT INTO rate_limits AS r (key, window_start, hits) VALUES ($1, now(), 1)
           ON CONFLICT (key) DO UPDATE SET
               hits = CASE WHEN r.window_start <= now() - make_interval(secs => $2::float8) THEN 1 ELSE r.hits + 1 END,
               window_start = CASE WHEN r.window_start <= now() - make_interval(secs => $2::float8) THEN now() ELSE r.window_start END
           RETURNING hits, ceil(extract(epoch FROM window_start + make_interval(secs => $2::float8) - now()))::bigint AS "reset!""#,
        key,
        window_secs as f64
    )
    .fetch_one(conn)
    .await?;
    Ok((row.hits, row.reset.max(1)))
}

pub async fn clear(conn: &mut PgConnection, key: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM rate_limits WHERE key = $1", key)
        .execute(conn)
        .await?;
    Ok(())
}
