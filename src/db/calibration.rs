//! What calibration reads and writes: every finalized answer, every question version, the
//! fitted statistics, pilot verdicts and each blueprint's pass ability.
//!
//! Calibration reads across learners (all their answers): a batch job, not a request path.

use sqlx::PgConnection;
use uuid::Uuid;

/// The advisory lock key that keeps calibration to one process at a time.
const CALIBRATION_LOCK: i64 = 0x0ca1_1b7a_7e00_0001;

/// Takes the calibration lock for this transaction; false if another process holds it.
pub async fn try_lock(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(CALIBRATION_LOCK)
        .fetch_one(conn)
        .await
}

/// One scored answer of a finalized attempt: (learner, question, version, correct).
pub async fn responses(conn: &mut PgConnection) -> sqlx::Result<Vec<(Uuid, Uuid, i32, bool)>> {
    sqlx::query_as(
        "SELECT a.user_id, a.question_id, a.version, a.correct
           FROM attempt_questions a JOIN attempts t ON t.id = a.attempt_id AND t.user_id = a.user_id
          WHERE t.status IN ('submitted', 'expired') AND a.correct IS NOT NULL",
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub question_id: Uuid,
    pub version: i32,
    pub domain: String,
    pub difficulty: i16,
    pub pilot_status: String,
    /// The question's current, unretired version.
    pub current: bool,
}

pub async fn versions(conn: &mut PgConnection) -> sqlx::Result<Vec<VersionRow>> {
    sqlx::query_as::<_, VersionRow>(
        "SELECT v.question_id, v.version, v.domain, v.difficulty, v.pilot_status,
                (q.current_version = v.version AND q.retired_at IS NULL) AS current
           FROM question_versions v JOIN questions q ON q.id = v.question_id
          ORDER BY v.question_id, v.version",
    )
    .fetch_all(conn)
    .await
}

/// A version's fitted statistics.
pub struct Estimate {
    pub question_id: Uuid,
    pub version: i32,
    pub difficulty: f64,
    pub se: f64,
    pub responses: i32,
    pub facility: Option<f64>,
    pub point_biserial: Option<f64>,
    pub source: &'static str,
}

pub async fn store(conn: &mut PgConnection, rows: &[Estimate]) -> sqlx::Result<()> {
    let q: Vec<Uuid> = rows.iter().map(|r| r.question_id).collect();
    let v: Vec<i32> = rows.iter().map(|r| r.version).collect();
    let d: Vec<f64> = rows.iter().map(|r| r.difficulty).collect();
    let se: Vec<f64> = rows
        .iter()
        .map(|r| if r.se.is_finite() { r.se } else { 99.0 })
        .collect();
    let n: Vec<i32> = rows.iter().map(|r| r.responses).collect();
    let f: Vec<Option<f64>> = rows.iter().map(|r| r.facility).collect();
    let pb: Vec<Option<f64>> = rows.iter().map(|r| r.point_biserial).collect();
    let src: Vec<&str> = rows.iter().map(|r| r.source).collect();
    sqlx::query(
        "UPDATE question_versions v
            SET calib_difficulty = x.d, calib_se = x.se, calib_responses = x.n, calib_facility = x.f,
                calib_point_biserial = x.pb, calib_source = x.src, calibrated_at = now()
           FROM unnest($1::uuid[], $2::int4[], $3::float8[], $4::float8[], $5::int4[], $6::float8[], $7::float8[], $8::text[])
                AS x(q, v, d, se, n, f, pb, src)
          WHERE v.question_id = x.q AND v.version = x.v",
    )
    .bind(&q)
    .bind(&v)
    .bind(&d)
    .bind(&se)
    .bind(&n)
    .bind(&f)
    .bind(&pb)
    .bind(&src)
    .execute(conn)
    .await?;
    Ok(())
}

/// A pilot version becomes an ordinary, scored one.
pub async fn promote(conn: &mut PgConnection, question: Uuid, version: i32) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE question_versions SET pilot_status = 'operational', pilot_reason = NULL
          WHERE question_id = $1 AND version = $2",
    )
    .bind(question)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE questions SET pilot = false, updated_at = now() WHERE id = $1 AND current_version = $2",
    )
        .bind(question)
        .bind(version)
        .execute(conn)
        .await?;
    Ok(())
}

/// A pilot version is flagged for its author, with the reason. It stays out of scored slots.
pub async fn flag(
    conn: &mut PgConnection,
    question: Uuid,
    version: i32,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE question_versions SET pilot_status = 'flagged', pilot_reason = $3
          WHERE question_id = $1 AND version = $2",
    )
    .bind(question)
    .bind(version)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Blueprints that report a scaled score: (slug, topic-area weights, pass share).
pub async fn scaled_blueprints(
    conn: &mut PgConnection,
) -> sqlx::Result<Vec<(String, crate::domain::attempt::Weights, f64)>> {
    let rows: Vec<(
        String,
        sqlx::types::Json<crate::domain::attempt::Weights>,
        f64,
    )> = sqlx::query_as("SELECT slug, domain_weights, pass_share FROM blueprints WHERE scaled")
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(s, w, p)| (s, w.0, p)).collect())
}

/// A current, scored (not pilot) question: topic area, exam-guide domain, author difficulty
/// and calibrated difficulty (None before calibration has seen it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BankDifficulty {
    pub area: String,
    pub exam_domain: String,
    pub difficulty: i16,
    pub calibrated: Option<f64>,
}

/// The current, scored (not pilot) questions with their difficulties (calibrated, or the
/// caller takes the author difficulty's prior), topic area and exam-guide domain.
pub async fn operational_difficulties(
    conn: &mut PgConnection,
) -> sqlx::Result<Vec<BankDifficulty>> {
    sqlx::query_as(
        "SELECT q.domain AS area, v.exam_domain, v.difficulty, v.calib_difficulty AS calibrated
           FROM questions q JOIN question_versions v ON v.question_id = q.id AND v.version = q.current_version
          WHERE q.retired_at IS NULL AND NOT q.pilot",
    )
    .fetch_all(conn)
    .await
}

pub async fn set_pass_ability(
    conn: &mut PgConnection,
    slug: &str,
    ability: f64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE blueprints SET pass_ability = $2 WHERE slug = $1")
        .bind(slug)
        .bind(ability)
        .execute(conn)
        .await?;
    Ok(())
}

/// What equating a finalized attempt needs: the blueprint's pass ability, and each version's
/// difficulty in logits (calibrated, else None: the caller takes the author difficulty's prior).
pub async fn pass_abilities(
    conn: &mut PgConnection,
    slugs: &[String],
) -> sqlx::Result<Vec<(String, Option<f64>)>> {
    sqlx::query_as("SELECT slug, pass_ability FROM blueprints WHERE slug = ANY($1)")
        .bind(slugs)
        .fetch_all(conn)
        .await
}

pub async fn difficulties(
    conn: &mut PgConnection,
    keys: &[(Uuid, i32)],
) -> sqlx::Result<Vec<(Uuid, i32, Option<f64>)>> {
    let q: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
    let v: Vec<i32> = keys.iter().map(|k| k.1).collect();
    sqlx::query_as(
        "SELECT v.question_id, v.version, v.calib_difficulty
           FROM question_versions v JOIN unnest($1::uuid[], $2::int4[]) AS k(q, n)
             ON v.question_id = k.q AND v.version = k.n",
    )
    .bind(&q)
    .bind(&v)
    .fetch_all(conn)
    .await
}
