//! Attempts and their questions. Every query of a learner's attempt carries its `user_id`.
//! The shared rows are here; the queries are by job: `read` (an attempt, the list, items),
//! `answer` (the answer path), `finalize`, `start` (creating and starting) and `draw` (sampling
//! for assembly).

mod answer;
mod draw;
mod finalize;
mod read;
mod start;

pub use answer::*;
pub use draw::*;
pub use finalize::*;
pub use read::*;
pub use start::*;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub mode: String,
    pub blueprint: Option<String>,
    pub cohort_exam_id: Option<Uuid>,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub pass_mark: i32,
    pub scaled: bool,
    pub question_count: i32,
    pub time_limit_minutes: Option<i32>,
    pub assembly: Value,
    pub result: Option<Value>,
}

const ATTEMPT_COLUMNS: &str =
    "id, user_id, mode, blueprint, cohort_exam_id, status, started_at, deadline, finalized_at, \
     pass_mark, scaled, question_count, time_limit_minutes, assembly, result";

/// One question of an attempt, with the content of the version it was built with.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub position: i32,
    pub question_id: Uuid,
    pub version: i32,
    pub domain: String,
    pub kind: String,
    pub difficulty: i16,
    pub option_order: Vec<String>,
    pub choices: Vec<String>,
    pub flagged: bool,
    pub answered_at: Option<DateTime<Utc>>,
    pub revision: i32,
    pub time_spent_ms: i64,
    pub correct: Option<bool>,
    pub viewed_at: Option<DateTime<Utc>>,
    /// Whether the item counts in the attempt's score (never shown before it is final).
    pub scored: bool,
    pub exam_domain: String,
    /// The version's calibrated difficulty in logits (None until calibration has seen it).
    pub calib_difficulty: Option<f64>,
    pub stem: String,
    pub options: Value,
    pub explanation: String,
    pub note: Option<String>,
    pub tags: Vec<String>,
}

impl ItemRow {
    /// The stored option (`{id, text, correct, rationale}`) of the attempt's version with this id.
    pub fn option(&self, id: &str) -> Option<&Value> {
        self.options.as_array()?.iter().find(|o| o["id"] == id)
    }
}

/// A question drawn for a new attempt.
#[derive(Debug, Clone)]
pub struct PlannedItem {
    /// Drawn for an unscored slot: it does not count in this attempt.
    pub unscored: bool,
    pub question_id: Uuid,
    pub version: i32,
    pub domain: String,
    pub kind: String,
    pub difficulty: i16,
    pub option_order: Vec<String>,
}

pub struct NewAttempt<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub mode: &'a str,
    pub blueprint: Option<&'a str>,
    pub cohort_exam_id: Option<Uuid>,
    pub deadline: Option<DateTime<Utc>>,
    pub pass_mark: i32,
    pub scaled: bool,
    pub time_limit_minutes: Option<i32>,
    pub spec: Value,
    pub assembly: Value,
}
