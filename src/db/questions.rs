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
                                          content_hash, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"#,
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
        created_by
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
    sqlx::query!(
        r#"INSERT INTO questions (id, slug, domain, current_version, kind, difficulty, tags, stem, origin, created_by)
           VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9)"#,
        id,
        slug,
        draft.domain,
        draft.kind,
        draft.difficulty as i16,
        &draft.tags,
        draft.stem,
        origin,
        created_by
    )
    .execute(&mut *conn)
    .await?;
    insert_version(conn, id, 1, draft, created_by).await?;
    Ok(id)
}

/// Appends a version and makes it current (and un-retires the question).
pub async fn add_version(
    conn: &mut PgConnection,
    id: Uuid,
    draft: &QuestionDraft,
    created_by: Option<Uuid>,
) -> sqlx::Result<i32> {
    let version = sqlx::query_scalar!(
        r#"UPDATE questions SET current_version = current_version + 1, domain = $2, kind = $3,
                  difficulty = $4, tags = $5, stem = $6, retired_at = NULL
           WHERE id = $1 RETURNING current_version"#,
        id,
        draft.domain,
        draft.kind,
        draft.difficulty as i16,
        &draft.tags,
        draft.stem
    )
    .fetch_one(&mut *conn)
    .await?;
    insert_version(conn, id, version, draft, created_by).await?;
    Ok(version)
}

pub async fn set_retired(conn: &mut PgConnection, id: Uuid, retired: bool) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE questions SET retired_at = CASE WHEN $2 THEN coalesce(retired_at, now()) ELSE NULL END WHERE id = $1",
        id,
        retired
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Retires every seed-owned question whose slug is not in `keep`; returns how many.
pub async fn retire_seed_questions_except(
    conn: &mut PgConnection,
    keep: &[String],
) -> sqlx::Result<u64> {
    let r = sqlx::query!(
        "UPDATE questions SET retired_at = now() WHERE origin = 'seed' AND retired_at IS NULL AND NOT (slug = ANY($1))",
        keep
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}
