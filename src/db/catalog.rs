//! Domains, blueprints and tags: the small reference tables.

use sqlx::{PgConnection, PgPool};

use crate::domain::attempt::Weights;

#[derive(Debug, Clone)]
pub struct DomainRow {
    pub slug: String,
    pub name: String,
    pub weight: f64,
    pub question_count: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BlueprintRow {
    pub slug: String,
    pub name: String,
    pub question_count: i32,
    pub time_limit_minutes: Option<i32>,
    pub pass_mark: i32,
    pub scaled: bool,
    pub shuffle_questions: bool,
    pub shuffle_options: bool,
    /// `{"iam": 0.15, …}`: relative weights per topic area.
    #[sqlx(json)]
    pub domain_weights: Weights,
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
        serde_json::to_value(&b.domain_weights).map_err(|e| sqlx::Error::Encode(e.into()))?,
        position
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn list_blueprints(pool: &PgPool) -> sqlx::Result<Vec<BlueprintRow>> {
    let rows = sqlx::query!(
        r#"SELECT slug, name, question_count, time_limit_minutes, pass_mark, scaled, shuffle_questions,
                  shuffle_options, domain_weights
           FROM blueprints ORDER BY position, slug"#
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(BlueprintRow {
                domain_weights: serde_json::from_value(r.domain_weights)
                    .map_err(|e| sqlx::Error::Decode(e.into()))?,
                slug: r.slug,
                name: r.name,
                question_count: r.question_count,
                time_limit_minutes: r.time_limit_minutes,
                pass_mark: r.pass_mark,
                scaled: r.scaled,
                shuffle_questions: r.shuffle_questions,
                shuffle_options: r.shuffle_options,
            })
        })
        .collect()
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
    let mut conn = pool.acquire().await?;
    blueprint_in(&mut conn, slug).await
}

/// [`blueprint`] on a given connection (inside a transaction).
pub async fn blueprint_in(
    conn: &mut sqlx::PgConnection,
    slug: &str,
) -> sqlx::Result<Option<BlueprintRow>> {
    sqlx::query_as::<_, BlueprintRow>(
        "SELECT slug, name, question_count, time_limit_minutes, pass_mark, scaled, shuffle_questions,
                shuffle_options, domain_weights
           FROM blueprints WHERE slug = $1",
    )
    .bind(slug)
    .fetch_optional(conn)
    .await
}

/// An exam-guide domain (development, security, deployment, troubleshooting) and its weight.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExamDomainRow {
    pub slug: String,
    pub name: String,
    pub weight: f64,
}

pub async fn upsert_exam_domain(
    conn: &mut PgConnection,
    d: &ExamDomainRow,
    position: i32,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "INSERT INTO exam_domains (slug, name, weight, position) VALUES ($1, $2, $3, $4)
         ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, weight = EXCLUDED.weight, position = EXCLUDED.position
         WHERE (exam_domains.name, exam_domains.weight, exam_domains.position)
               IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.weight, EXCLUDED.position)",
    )
    .bind(&d.slug)
    .bind(&d.name)
    .bind(d.weight)
    .bind(position)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn exam_domains(conn: &mut PgConnection) -> sqlx::Result<Vec<ExamDomainRow>> {
    sqlx::query_as::<_, ExamDomainRow>(
        "SELECT slug, name, weight FROM exam_domains ORDER BY position, slug",
    )
    .fetch_all(conn)
    .await
}

/// How a blueprint measures: shares of its scored questions per exam-guide domain (empty: by
/// topic area only) and how many of its questions are unscored.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct BlueprintMeasure {
    pub exam_domain_weights: sqlx::types::Json<std::collections::BTreeMap<String, f64>>,
    pub unscored: i32,
}

pub async fn set_blueprint_measure(
    conn: &mut PgConnection,
    slug: &str,
    m: &BlueprintMeasure,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE blueprints SET exam_domain_weights = $2, unscored = $3
          WHERE slug = $1 AND (exam_domain_weights, unscored) IS DISTINCT FROM ($2, $3)",
    )
    .bind(slug)
    .bind(&m.exam_domain_weights)
    .bind(m.unscored)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn blueprint_measure(
    conn: &mut PgConnection,
    slug: &str,
) -> sqlx::Result<Option<BlueprintMeasure>> {
    sqlx::query_as::<_, BlueprintMeasure>(
        "SELECT exam_domain_weights, unscored FROM blueprints WHERE slug = $1",
    )
    .bind(slug)
    .fetch_optional(conn)
    .await
}

/// Current, unretired questions per (topic area, exam domain) cell: (area, exam domain,
/// ordinary, pilot). Kept by a trigger (migration 0014), so this reads a few dozen rows.
pub async fn cell_counts(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, String, i32, i32)>> {
    sqlx::query_as(
        "SELECT domain, exam_domain, operational, pilot FROM bank_cells
          WHERE operational > 0 OR pilot > 0",
    )
    .fetch_all(conn)
    .await
}

/// Every blueprint's measure, by slug.
pub async fn blueprint_measures(
    conn: &mut PgConnection,
) -> sqlx::Result<Vec<(String, BlueprintMeasure)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        slug: String,
        #[sqlx(flatten)]
        m: BlueprintMeasure,
    }
    let rows =
        sqlx::query_as::<_, Row>("SELECT slug, exam_domain_weights, unscored FROM blueprints")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.m)).collect())
}

/// Recounts `bank_cells` from `questions`: every (topic area, exam domain) cell's current,
/// unretired questions, ordinary and pilot; cells that emptied go to zero. Called at the end
/// of every transaction that writes the bank (seeding, authoring, import, retiring,
/// calibration). It replaces a row trigger, which a Citus reference table cannot have
/// (docs/scaling.md §1.4); milliseconds on a 50,000-question bank, and these paths are rare.
pub async fn refresh_bank_cells(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO bank_cells (domain, exam_domain, operational, pilot)
         SELECT domain, exam_domain, (count(*) FILTER (WHERE NOT pilot))::int, (count(*) FILTER (WHERE pilot))::int
           FROM questions WHERE retired_at IS NULL AND exam_domain IS NOT NULL
          GROUP BY domain, exam_domain
         ON CONFLICT (domain, exam_domain) DO UPDATE
            SET operational = EXCLUDED.operational, pilot = EXCLUDED.pilot
          WHERE (bank_cells.operational, bank_cells.pilot) IS DISTINCT FROM (EXCLUDED.operational, EXCLUDED.pilot)",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE bank_cells b SET operational = 0, pilot = 0
          WHERE (b.operational <> 0 OR b.pilot <> 0)
            AND NOT EXISTS (SELECT 1 FROM questions q
                             WHERE q.domain = b.domain AND q.exam_domain = b.exam_domain
                               AND q.retired_at IS NULL)",
    )
    .execute(conn)
    .await?;
    Ok(())
}
