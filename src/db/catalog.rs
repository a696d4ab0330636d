//! Domains, blueprints and tags: the small reference tables.

use serde_json::Value;
use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone)]
pub struct DomainRow {
    pub slug: String,
    pub name: String,
    pub weight: f64,
    pub question_count: i64,
}

#[derive(Debug, Clone)]
pub struct BlueprintRow {
    pub slug: String,
    pub name: String,
    pub question_count: i32,
    pub time_limit_minutes: Option<i32>,
    pub pass_mark: i32,
    pub scaled: bool,
    pub shuffle_questions: bool,
    pub shuffle_options: bool,
    pub domain_weights: Value,
}

pub async fn upsert_domain(
    conn: &mut PgConnection,
    slug: &str,
    name: &str,
    weight: f64,
    position: i32,
) -> sqlx::Result<bool> {
    let r = sqlx::query!(
        r#"INSERT INTO domains (slug, name, weight, position) VALUES ($1, $2, $3, $4)
           ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, weight = EXCLUDED.weight, position = EXCLUDED.position
           WHERE (domains.name, domains.weight, domains.position) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.weight, EXCLUDED.position)"#,
        slug,
        name,
        weight,
        position
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn list_domains(pool: &PgPool) -> sqlx::Result<Vec<DomainRow>> {
    sqlx::query_as!(
        DomainRow,
        r#"SELECT d.slug, d.name, d.weight,
                  (SELECT count(*) FROM questions q WHERE q.domain = d.slug AND q.retired_at IS NULL) AS "question_count!"
           FROM domains d ORDER BY d.position, d.slug"#
    )
    .fetch_all(pool)
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn upsert_blueprint(
    conn: &mut PgConnection,
    b: &BlueprintRow,
    position: i32,
) -> sqlx::Result<bool> {
    let r = sqlx::query!(
        r#"INSERT INTO blueprints (slug, name, question_count, time_limit_minutes, pass_mark, scaled,
                                   shuffle_questions, shuffle_options, domain_weights, position)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, question_count = EXCLUDED.question_count,
               time_limit_minutes = EXCLUDED.time_limit_minutes, pass_mark = EXCLUDED.pass_mark,
               scaled = EXCLUDED.scaled, shuffle_questions = EXCLUDED.shuffle_questions,
               shuffle_options = EXCLUDED.shuffle_options, domain_weights = EXCLUDED.domain_weights,
               position = EXCLUDED.position
           WHERE (blueprints.name, blueprints.question_count, blueprints.time_limit_minutes, blueprints.pass_mark,
                  blueprints.scaled, blueprints.shuffle_questions, blueprints.shuffle_options,
                  blueprints.domain_weights, blueprints.position)
                 IS DISTINCT FROM
                 (EXCLUDED.name, EXCLUDED.question_count, EXCLUDED.time_limit_minutes, EXCLUDED.pass_mark,
                  EXCLUDED.scaled, EXCLUDED.shuffle_questions, EXCLUDED.shuffle_options,
                  EXCLUDED.domain_weights, EXCLUDED.position)"#,
        b.slug,
        b.name,
        b.question_count,
        b.time_limit_minutes,
        b.pass_mark,
        b.scaled,
        b.shuffle_questions,
        b.shuffle_options,
        b.domain_weights,
        position
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn list_blueprints(pool: &PgPool) -> sqlx::Result<Vec<BlueprintRow>> {
    sqlx::query_as!(
        BlueprintRow,
        r#"SELECT slug, name, question_count, time_limit_minutes, pass_mark, scaled, shuffle_questions,
                  shuffle_options, domain_weights
           FROM blueprints ORDER BY position, slug"#
    )
    .fetch_all(pool)
    .await
}

pub async fn list_tags(pool: &PgPool) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT t AS "tag!", count(*) AS "count!"
           FROM questions, unnest(tags) AS t
           WHERE retired_at IS NULL
           GROUP BY t ORDER BY count(*) DESC, t"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.tag, r.count)).collect())
}

/// Domains without question counts (no bank scan): for hot paths.
pub async fn domain_weights(pool: &PgPool) -> sqlx::Result<Vec<(String, f64)>> {
    let rows = sqlx::query!("SELECT slug, weight FROM domains ORDER BY position, slug")
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.weight)).collect())
}

pub async fn blueprint(pool: &PgPool, slug: &str) -> sqlx::Result<Option<BlueprintRow>> {
    sqlx::query_as!(
        BlueprintRow,
        r#"SELECT slug, name, question_count, time_limit_minutes, pass_mark, scaled, shuffle_questions,
                  shuffle_options, domain_weights
           FROM blueprints WHERE slug = $1"#,
        slug
    )
    .fetch_optional(pool)
    .await
}
