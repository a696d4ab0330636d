//! Sampling for assembly: index-driven draws by (topic area, difficulty) and by (topic area,
//! exam domain), pilots, the questions a learner has seen recently.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

// ---- sampling for assembly -------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    /// Drawn for an unscored slot (a pilot, or an ordinary question that does not count here).
    #[sqlx(default)]
    pub unscored: bool,
    pub id: Uuid,
    pub version: i32,
    pub domain: String,
    #[sqlx(try_from = "String")]
    pub kind: crate::domain::question::Kind,
    pub difficulty: i16,
    pub option_ids: Vec<String>,
}

/// Walks the (domain, difficulty, sample_key) index from a random point per bucket, wrapping
/// around: index-driven sampling that never scans the bank. Returns up to `2 * limit` rows per
/// bucket (the part after the random point first), without option ids: `with_option_ids` adds
/// them to the questions chosen.
pub async fn sample(
    conn: &mut PgConnection,
    buckets: &[(String, i16, i64, f64)],
) -> sqlx::Result<Vec<Candidate>> {
    let domains: Vec<String> = buckets.iter().map(|b| b.0.clone()).collect();
    let diffs: Vec<i16> = buckets.iter().map(|b| b.1).collect();
    let limits: Vec<i64> = buckets.iter().map(|b| b.2).collect();
    let starts: Vec<f64> = buckets.iter().map(|b| b.3).collect();
    sqlx::query_as::<_, Candidate>(
        "SELECT c.id, c.current_version AS version, c.domain, c.kind, c.difficulty,
                ARRAY[]::text[] AS option_ids
         FROM UNNEST($1::text[], $2::int2[], $3::int8[], $4::float8[]) AS b(domain, difficulty, lim, start)
         CROSS JOIN LATERAL (
             (SELECT q.id, q.domain, q.difficulty, q.current_version, q.kind, 0 AS part, q.sample_key FROM questions q
              WHERE q.domain = b.domain AND q.difficulty = b.difficulty AND q.retired_at IS NULL AND q.sample_key >= b.start
              ORDER BY q.sample_key LIMIT b.lim)
             UNION ALL
             (SELECT q.id, q.domain, q.difficulty, q.current_version, q.kind, 1 AS part, q.sample_key FROM questions q
              WHERE q.domain = b.domain AND q.difficulty = b.difficulty AND q.retired_at IS NULL AND q.sample_key < b.start
              ORDER BY q.sample_key LIMIT b.lim)
         ) c
         ORDER BY c.domain, c.difficulty, c.part, c.sample_key",
    )
    .bind(&domains)
    .bind(&diffs)
    .bind(&limits)
    .bind(&starts)
    .fetch_all(conn)
    .await
}

/// Fills in the option ids of sampled candidates (from the versions they were sampled at).
pub async fn with_option_ids(
    conn: &mut PgConnection,
    mut chosen: Vec<Candidate>,
) -> sqlx::Result<Vec<Candidate>> {
    let ids: Vec<Uuid> = chosen.iter().map(|c| c.id).collect();
    let versions: Vec<i32> = chosen.iter().map(|c| c.version).collect();
    let rows: Vec<(Uuid, i32, Vec<String>)> = sqlx::query_as(
        "SELECT v.question_id, v.version, ARRAY(SELECT o->>'id' FROM jsonb_array_elements(v.options) AS o)
         FROM UNNEST($1::uuid[], $2::int4[]) AS c(id, version)
         JOIN question_versions v ON v.question_id = c.id AND v.version = c.version",
    )
    .bind(&ids)
    .bind(&versions)
    .fetch_all(conn)
    .await?;
    let by: std::collections::HashMap<(Uuid, i32), Vec<String>> =
        rows.into_iter().map(|(q, v, o)| ((q, v), o)).collect();
    for c in &mut chosen {
        if let Some(o) = by.get(&(c.id, c.version)) {
            c.option_ids = o.clone();
        }
    }
    Ok(chosen)
}

/// Of `ids`, those the learner has seen since `since`.
pub async fn seen_since(
    conn: &mut PgConnection,
    user_id: Uuid,
    ids: &[Uuid],
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "SELECT question_id FROM user_question_stats WHERE user_id = $1 AND question_id = ANY($2) AND last_seen_at > $3",
        user_id,
        ids,
        since
    )
    .fetch_all(conn)
    .await
}

pub async fn mark_seen(conn: &mut PgConnection, user_id: Uuid, ids: &[Uuid]) -> sqlx::Result<()> {
    // EXCLUDED.…, not now(): Citus refuses volatile functions in the DO UPDATE of a distributed
    // (or reference) table (docs/scaling.md §7); the inserted row carries the same now()
    sqlx::query!(
        "INSERT INTO user_question_stats (user_id, question_id, last_seen_at)
         SELECT $1, q, now() FROM UNNEST($2::uuid[]) AS q
         ON CONFLICT (user_id, question_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at",
        user_id,
        ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Current versions of the given questions as candidates, in the given order (retired skipped).
pub async fn candidates_by_ids(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Candidate>> {
    sqlx::query_as::<_, Candidate>(
        "SELECT q.id, v.version, q.domain, v.kind, q.difficulty,
                ARRAY(SELECT o->>'id' FROM jsonb_array_elements(v.options) AS o) AS option_ids
         FROM UNNEST($1::uuid[]) WITH ORDINALITY AS t(id, n)
         JOIN questions q ON q.id = t.id
         JOIN question_versions v ON v.question_id = q.id AND v.version = q.current_version
         WHERE q.retired_at IS NULL ORDER BY t.n",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}

// ---- two-way sampling (topic area × exam domain) and pilots ------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
struct CellCandidate {
    cell: i64,
    #[sqlx(flatten)]
    c: Candidate,
}

/// Walks the (area, exam domain, sample_key) index from a random point per cell, wrapping
/// around, over ordinary (not pilot) questions: up to `2 * limit` per cell, tagged with the
/// cell's index in `cells` ((area, exam domain, limit, start)).
pub async fn sample_cells(
    conn: &mut PgConnection,
    cells: &[(String, String, i64, f64)],
) -> sqlx::Result<Vec<(usize, Candidate)>> {
    let areas: Vec<&str> = cells.iter().map(|c| c.0.as_str()).collect();
    let exams: Vec<&str> = cells.iter().map(|c| c.1.as_str()).collect();
    let limits: Vec<i64> = cells.iter().map(|c| c.2).collect();
    let starts: Vec<f64> = cells.iter().map(|c| c.3).collect();
    let rows = sqlx::query_as::<_, CellCandidate>(
        "SELECT (b.i - 1) AS cell, c.id, c.current_version AS version, c.domain, c.kind, c.difficulty,
                ARRAY[]::text[] AS option_ids
         FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::float8[]) WITH ORDINALITY AS b(area, exam, lim, start, i)
         CROSS JOIN LATERAL (
             (SELECT q.id, q.domain, q.difficulty, q.current_version, q.kind, 0 AS part, q.sample_key FROM questions q
              WHERE q.domain = b.area AND q.exam_domain = b.exam AND q.retired_at IS NULL AND NOT q.pilot
                AND q.sample_key >= b.start
              ORDER BY q.sample_key LIMIT b.lim)
             UNION ALL
             (SELECT q.id, q.domain, q.difficulty, q.current_version, q.kind, 1 AS part, q.sample_key FROM questions q
              WHERE q.domain = b.area AND q.exam_domain = b.exam AND q.retired_at IS NULL AND NOT q.pilot
                AND q.sample_key < b.start
              ORDER BY q.sample_key LIMIT b.lim)
         ) c
         ORDER BY b.i, c.part, c.sample_key",
    )
    .bind(&areas)
    .bind(&exams)
    .bind(&limits)
    .bind(&starts)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.cell as usize, r.c)).collect())
}

/// Up to `limit` pilot questions from a random point of their index (wrapping around).
pub async fn sample_pilots(
    conn: &mut PgConnection,
    limit: i64,
    start: f64,
) -> sqlx::Result<Vec<Candidate>> {
    sqlx::query_as::<_, Candidate>(
        "SELECT c.id, c.current_version AS version, c.domain, c.kind, c.difficulty, ARRAY[]::text[] AS option_ids
         FROM (
             (SELECT q.id, q.current_version, q.domain, q.kind, q.difficulty, 0 AS part, q.sample_key FROM questions q
              WHERE q.pilot AND q.retired_at IS NULL AND q.sample_key >= $2 ORDER BY q.sample_key LIMIT $1)
             UNION ALL
             (SELECT q.id, q.current_version, q.domain, q.kind, q.difficulty, 1 AS part, q.sample_key FROM questions q
              WHERE q.pilot AND q.retired_at IS NULL AND q.sample_key < $2 ORDER BY q.sample_key LIMIT $1)
         ) c ORDER BY c.part, c.sample_key LIMIT $1",
    )
    .bind(limit)
    .bind(start)
    .fetch_all(conn)
    .await
}
