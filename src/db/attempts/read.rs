//! Reading attempts: the owner's row, the list of a learner's attempts, and an attempt's items
//! (their state, and the content of their versions, read apart).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::attempt::{AttemptStatus, Mode, StoredOption};
use crate::domain::question::Kind;
use crate::domain::result::AttemptResult;

use super::{AttemptRow, ATTEMPT_COLUMNS};

/// The owner's attempt (None for anyone else).
pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<Option<AttemptRow>> {
    sqlx::query_as::<_, AttemptRow>(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptSummary {
    pub id: Uuid,
    #[sqlx(try_from = "String")]
    pub mode: Mode,
    pub blueprint: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: AttemptStatus,
    pub started_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    pub question_count: i32,
    pub answered: i64,
    #[sqlx(json(nullable))]
    pub result: Option<AttemptResult>,
}

pub async fn list_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<AttemptSummary>> {
    sqlx::query_as::<_, AttemptSummary>(
        "SELECT t.id, t.mode, t.blueprint, t.status, t.started_at, t.deadline, t.question_count, t.result,
                (SELECT count(*) FROM attempt_questions a WHERE a.attempt_id = t.id AND a.user_id = $1
                   AND cardinality(a.choices) > 0) AS answered
         FROM attempts t WHERE t.user_id = $1 AND t.status <> 'prepared' ORDER BY t.started_at DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

// ---- an attempt's items without their content (the content of a version never changes) -------

/// One question of an attempt as the attempt holds it, without the version's content.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemState {
    pub attempt_id: Uuid,
    pub position: i32,
    pub question_id: Uuid,
    pub version: i32,
    pub domain: String,
    #[sqlx(try_from = "String")]
    pub kind: Kind,
    pub difficulty: i16,
    pub option_order: Vec<String>,
    pub choices: Vec<String>,
    pub flagged: bool,
    pub answered_at: Option<DateTime<Utc>>,
    pub revision: i32,
    pub time_spent_ms: i64,
    pub correct: Option<bool>,
    pub viewed_at: Option<DateTime<Utc>>,
    pub scored: bool,
    /// The version's calibrated difficulty (it changes with calibration, so it is read with
    /// the state, not kept with the immutable content).
    pub calib_difficulty: Option<f64>,
}

const STATE_SELECT: &str = "SELECT a.attempt_id, a.position, a.question_id, a.version, a.domain, a.kind, a.difficulty, \
       a.option_order, a.choices, a.flagged, a.answered_at, a.revision, a.time_spent_ms, a.correct, a.viewed_at, a.scored, \
       (SELECT v.calib_difficulty FROM question_versions v WHERE v.question_id = a.question_id AND v.version = a.version) AS calib_difficulty \
     FROM attempt_questions a";

/// The items of the given attempts (each with its owner), ordered by attempt and position.
pub async fn item_states(
    conn: &mut PgConnection,
    attempts: &[(Uuid, Uuid)],
) -> sqlx::Result<Vec<ItemState>> {
    if let [(id, user)] = attempts {
        return sqlx::query_as::<_, ItemState>(&format!(
            "{STATE_SELECT} WHERE a.attempt_id = $1 AND a.user_id = $2 ORDER BY a.position"
        ))
        .bind(id)
        .bind(user)
        .fetch_all(conn)
        .await;
    }
    let ids: Vec<Uuid> = attempts.iter().map(|a| a.0).collect();
    let users: Vec<Uuid> = attempts.iter().map(|a| a.1).collect();
    sqlx::query_as::<_, ItemState>(&format!(
        "{STATE_SELECT} WHERE a.attempt_id = ANY($1) AND a.user_id = ANY($2) ORDER BY a.attempt_id, a.position"
    ))
    .bind(&ids)
    .bind(&users)
    .fetch_all(conn)
    .await
}

/// What a question version shows and explains (immutable once written).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionContent {
    pub question_id: Uuid,
    pub version: i32,
    pub exam_domain: String,
    pub stem: String,
    #[sqlx(json)]
    pub options: Vec<StoredOption>,
    pub explanation: String,
    pub note: Option<String>,
    pub tags: Vec<String>,
}

pub async fn version_contents(
    conn: &mut PgConnection,
    keys: &[(Uuid, i32)],
) -> sqlx::Result<Vec<VersionContent>> {
    let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
    let versions: Vec<i32> = keys.iter().map(|k| k.1).collect();
    sqlx::query_as::<_, VersionContent>(
        "SELECT v.question_id, v.version, v.exam_domain, v.stem, v.options, v.explanation, v.note, v.tags
           FROM question_versions v JOIN unnest($1::uuid[], $2::int4[]) AS k(q, n)
             ON v.question_id = k.q AND v.version = k.n",
    )
    .bind(&ids)
    .bind(&versions)
    .fetch_all(conn)
    .await
}
