//! Questions and their immutable versions.

use rand::Rng;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::question::QuestionDraft;

/// What seeding needs to know about a stored question.
#[derive(Debug, Clone)]
pub struct StoredHead {
    pub id: Uuid,
    pub current_version: i32,
    pub content_hash: String,
    pub retired: bool,
}

/// A short random option id: ids carry no hint of the authored order.
pub fn new_option_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..8)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn options_json(draft: &QuestionDraft) -> serde_json::Value {
    json!(draft
        .options
        .iter()
        .map(|o| json!({"id": new_option_id(), "text": o.text, "correct": o.correct, "rationale": o.rationale}))
        .collect::<Vec<_>>())
}

pub async fn find_head_by_slug(
    conn: &mut PgConnection,
    slug: &str,
) -> sqlx::Result<Option<StoredHead>> {
    sqlx::query_as!(
        StoredHead,
        r#"SELECT q.id, q.current_version, v.content_hash, q.retired_at IS NOT NULL AS "retired!"
           FROM questions q JOIN question_versions v ON v.question_id = q.id AND v.version = q.current_version
           WHERE q.slug = $1"#,
        slug
    )
    .fetch_optional(conn)
    .await
}

async fn insert_version(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
    draft: &QuestionDraft,
    created_by: Option<Uuid>,
) -> sqlx::Result<()> {
    let last_verified = draft
        .last_verified
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    sqlx::query!(
        r#"INSERT INTO question_versions (question_id, version, domain, kind, difficulty, tags, stem, options,
                                          explanation, exam_domain, "references", last_verified, note,
                                          content_hash, created_by, task)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"#,
        id,
        version,
        draft.domain,
        draft.kind,
        draft.difficulty as i16,
        &draft.tags,
        draft.stem,
        options_json(draft),
        draft.explanation,
        draft.exam_domain,
        &draft.references,
        last_verified,
        draft.note,
        draft.content_hash(),
        created_by,
        draft.task
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A new question at version 1. `origin` is `seed`, `author` or `import`.
pub async fn insert(
    conn: &mut PgConnection,
    slug: &str,
    draft: &QuestionDraft,
    origin: &str,
    created_by: Option<Uuid>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::new_v4();
    // exam_domain and pilot are the current version's (written here, not by a trigger:
    // docs/scaling.md §1.4); the sample key comes from here too, so that every copy of the
    // row agrees when `questions` is a Citus reference table
    let sample_key: f64 = rand::random();
    sqlx::query!(
        r#"INSERT INTO questions (id, slug, domain, current_version, kind, difficulty, tags, stem, origin, created_by,
                                 exam_domain, pilot, sample_key)
           VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, false, $11)"#,
        id,
        slug,
        draft.domain,
        draft.kind,
        draft.difficulty as i16,
        &draft.tags,
        draft.stem,
        origin,
        created_by,
        draft.exam_domain,
        sample_key
    )
    .execute(&mut *conn)
    .await?;
    insert_version(&mut *conn, id, 1, draft, created_by).await?;
    set_tags(conn, id, &draft.tags).await?;
    Ok(id)
}

/// Keeps `question_tags` (the tag filter's index) equal to the current version's tags.
async fn set_tags(conn: &mut PgConnection, id: Uuid, tags: &[String]) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM question_tags WHERE question_id = $1", id)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "INSERT INTO question_tags (tag, slug, question_id)
         SELECT DISTINCT t, q.slug, q.id FROM questions q, unnest($2::text[]) AS t WHERE q.id = $1",
        id,
        tags
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends a version and makes it current (and un-retires the question). The new version is
/// operational until [`mark_pilot`] says otherwise.
pub async fn add_version(
    conn: &mut PgConnection,
    id: Uuid,
    draft: &QuestionDraft,
    created_by: Option<Uuid>,
) -> sqlx::Result<i32> {
    let version = sqlx::query_scalar!(
        r#"UPDATE questions SET current_version = current_version + 1, domain = $2, kind = $3,
                  difficulty = $4, tags = $5, stem = $6, retired_at = NULL, exam_domain = $7,
                  pilot = false, updated_at = now()
           WHERE id = $1 RETURNING current_version"#,
        id,
        draft.domain,
        draft.kind,
        draft.difficulty as i16,
        &draft.tags,
        draft.stem,
        draft.exam_domain
    )
    .fetch_one(&mut *conn)
    .await?;
    insert_version(&mut *conn, id, version, draft, created_by).await?;
    set_tags(conn, id, &draft.tags).await?;
    Ok(version)
}

/// Retires (keeping the first retirement's time) or un-retires a question. Two statements, so
/// that no SET mixes now() with a column: Citus refuses that on its tables.
pub async fn set_retired(conn: &mut PgConnection, id: Uuid, retired: bool) -> sqlx::Result<()> {
    if retired {
        sqlx::query!(
            "UPDATE questions SET retired_at = now(), updated_at = now() WHERE id = $1 AND retired_at IS NULL",
            id
        )
        .execute(conn)
        .await?;
    } else {
        sqlx::query!(
            "UPDATE questions SET retired_at = NULL, updated_at = now() WHERE id = $1",
            id
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Retires every seed-owned question whose slug is not in `keep`; returns how many.
pub async fn retire_seed_questions_except(
    conn: &mut PgConnection,
    keep: &[String],
) -> sqlx::Result<u64> {
    let r = sqlx::query!(
        "UPDATE questions SET retired_at = now(), updated_at = now() WHERE origin = 'seed' AND retired_at IS NULL AND NOT (slug = ANY($1))",
        keep
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// The current (or a given) version of a question, everything included.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuestionRow {
    pub id: Uuid,
    pub slug: String,
    pub version: i32,
    pub domain: String,
    pub kind: String,
    pub difficulty: i16,
    pub tags: Vec<String>,
    pub stem: String,
    pub options: serde_json::Value,
    pub explanation: String,
    pub exam_domain: String,
    pub task: Option<String>,
    pub references: Vec<String>,
    pub last_verified: chrono::NaiveDate,
    pub note: Option<String>,
    pub retired: bool,
    pub open_reports: i64,
    /// `operational`, `pilot` or `flagged` (with `pilot_reason`).
    pub pilot_status: String,
    pub pilot_reason: Option<String>,
    /// The version's calibration (docs/measurement.md), once `exambank calibrate` has run.
    pub calib_difficulty: Option<f64>,
    pub calib_se: Option<f64>,
    pub calib_responses: i32,
    pub calib_facility: Option<f64>,
    pub calib_point_biserial: Option<f64>,
    pub calib_source: Option<String>,
}

/// Filters of the browse/search list. `q` is a web-style full-text query over stems.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub domain: Option<String>,
    pub tag: Option<String>,
    pub difficulty: Option<i16>,
    pub q: Option<String>,
    pub include_retired: bool,
    /// keyset cursor: the last slug of the previous page
    pub after: Option<String>,
}

const SELECT_CURRENT: &str = r#"SELECT q.id, q.slug, v.version, q.domain, v.kind, v.difficulty, v.tags, v.stem, v.options,
       v.explanation, v.exam_domain, v.task, v."references", v.last_verified, v.note,
       q.retired_at IS NOT NULL AS retired, v.pilot_status, v.pilot_reason, v.calib_difficulty, v.calib_se,
       v.calib_responses, v.calib_facility, v.calib_point_biserial, v.calib_source,
       (SELECT count(*) FROM question_reports r WHERE r.question_id = q.id AND r.status = 'open') AS open_reports
FROM questions q JOIN question_versions v ON v.question_id = q.id AND v.version = q.current_version"#;

/// One page of questions in slug order. Built dynamically (not a compile-time checked query)
/// so that each filter combination gets its own plan and the indexes (GIN for text and tags,
/// btree for domain/difficulty order) are used.
pub async fn list(
    conn: &mut PgConnection,
    f: &ListFilter,
    limit: i64,
) -> sqlx::Result<Vec<QuestionRow>> {
    // the page is chosen on `questions` alone (indexes only, no joins); the versions and report
    // counts are then read for those rows only
    let mut qb =
        sqlx::QueryBuilder::<sqlx::Postgres>::new("WITH page AS (SELECT q.id, q.slug FROM ");
    match &f.tag {
        // walk the (tag, slug) index in order
        Some(t) => qb
            .push("question_tags t JOIN questions q ON q.id = t.question_id WHERE t.tag = ")
            .push_bind(t.clone()),
        None => qb.push("questions q WHERE TRUE"),
    };
    if !f.include_retired {
        qb.push(" AND q.retired_at IS NULL");
    }
    if let Some(d) = &f.domain {
        qb.push(" AND q.domain = ").push_bind(d.clone());
    }
    if let Some(d) = f.difficulty {
        qb.push(" AND q.difficulty = ").push_bind(d);
    }
    if let Some(text) = &f.q {
        qb.push(" AND q.search @@ websearch_to_tsquery('english', ")
            .push_bind(text.clone())
            .push(")");
    }
    let order = if f.tag.is_some() { "t.slug" } else { "q.slug" };
    if let Some(after) = &f.after {
        qb.push(format!(" AND {order} > ")).push_bind(after.clone());
    }
    qb.push(format!(" ORDER BY {order} LIMIT "))
        .push_bind(limit);
    qb.push(
        r#") SELECT q.id, q.slug, v.version, q.domain, v.kind, v.difficulty, v.tags, v.stem, v.options,
       v.explanation, v.exam_domain, v.task, v."references", v.last_verified, v.note,
       q.retired_at IS NOT NULL AS retired, v.pilot_status, v.pilot_reason, v.calib_difficulty, v.calib_se,
       v.calib_responses, v.calib_facility, v.calib_point_biserial, v.calib_source,
       (SELECT count(*) FROM question_reports r WHERE r.question_id = q.id AND r.status = 'open') AS open_reports
FROM page p JOIN questions q ON q.id = p.id
JOIN question_versions v ON v.question_id = q.id AND v.version = q.current_version
ORDER BY p.slug"#,
    );
    qb.build_query_as::<QuestionRow>().fetch_all(conn).await
}

pub async fn get_current(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<QuestionRow>> {
    sqlx::query_as::<_, QuestionRow>(&format!("{SELECT_CURRENT} WHERE q.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Every current version (export), optionally one domain, in slug order.
pub async fn all_current(
    conn: &mut PgConnection,
    domain: Option<&str>,
) -> sqlx::Result<Vec<QuestionRow>> {
    sqlx::query_as::<_, QuestionRow>(&format!(
        "{SELECT_CURRENT} WHERE q.retired_at IS NULL AND ($1::text IS NULL OR q.domain = $1) ORDER BY q.slug"
    ))
    .bind(domain)
    .fetch_all(conn)
    .await
}

pub async fn domain_slugs(conn: &mut PgConnection) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("SELECT slug FROM domains ORDER BY position")
        .fetch_all(conn)
        .await
}

// Reports -------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct ReportRow {
    pub id: Uuid,
    pub question_id: Uuid,
    pub version: i32,
    pub user_id: Uuid,
    pub kind: String,
    pub message: String,
    pub status: String,
    pub resolution: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn insert_report(
    conn: &mut PgConnection,
    question: Uuid,
    user: Uuid,
    kind: &str,
    message: &str,
) -> sqlx::Result<Option<ReportRow>> {
    sqlx::query_as!(
        ReportRow,
        r#"INSERT INTO question_reports (id, question_id, version, user_id, kind, message)
           SELECT $1, q.id, q.current_version, $3, $4, $5 FROM questions q WHERE q.id = $2
           RETURNING id, question_id, version, user_id, kind, message, status, resolution, created_at, resolved_at"#,
        Uuid::new_v4(),
        question,
        user,
        kind,
        message
    )
    .fetch_optional(conn)
    .await
}

pub async fn list_reports(conn: &mut PgConnection, question: Uuid) -> sqlx::Result<Vec<ReportRow>> {
    sqlx::query_as!(
        ReportRow,
        r#"SELECT id, question_id, version, user_id, kind, message, status, resolution, created_at, resolved_at
           FROM question_reports WHERE question_id = $1 ORDER BY status = 'resolved', created_at DESC"#,
        question
    )
    .fetch_all(conn)
    .await
}

pub async fn resolve_report(
    conn: &mut PgConnection,
    question: Uuid,
    report: Uuid,
    by: Uuid,
    resolution: &str,
) -> sqlx::Result<Option<ReportRow>> {
    sqlx::query_as!(
        ReportRow,
        r#"UPDATE question_reports SET status = 'resolved', resolution = $4, resolved_by = $3, resolved_at = now()
           WHERE id = $2 AND question_id = $1
           RETURNING id, question_id, version, user_id, kind, message, status, resolution, created_at, resolved_at"#,
        question,
        report,
        by,
        resolution
    )
    .fetch_optional(conn)
    .await
}

/// Makes a version written through authoring or import a pilot: it fills unscored slots of
/// exams until calibration promotes it (or flags it for its author).
pub async fn mark_pilot(conn: &mut PgConnection, id: Uuid, version: i32) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE question_versions SET pilot_status = 'pilot', pilot_reason = NULL
          WHERE question_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE questions SET pilot = true, updated_at = now() WHERE id = $1 AND current_version = $2",
    )
        .bind(id)
        .bind(version)
        .execute(conn)
        .await?;
    Ok(())
}
