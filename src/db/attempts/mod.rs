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
use uuid::Uuid;

use crate::domain::answer::QuestionState;
use crate::domain::attempt::{AssemblyReport, AttemptSpec, AttemptStatus, Mode, StoredOption};
use crate::domain::learning::Answered;
use crate::domain::question::Kind;
use crate::domain::result::AttemptResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: Uuid,
    pub user_id: Uuid,
    #[sqlx(try_from = "String")]
    pub mode: Mode,
    pub blueprint: Option<String>,
    pub cohort_exam_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    pub status: AttemptStatus,
    pub started_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub pass_mark: i32,
    pub scaled: bool,
    pub question_count: i32,
    pub time_limit_minutes: Option<i32>,
    #[sqlx(json)]
    pub assembly: AssemblyReport,
    #[sqlx(json(nullable))]
    pub result: Option<AttemptResult>,
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
    /// Whether the item counts in the attempt's score (never shown before it is final).
    pub scored: bool,
    pub exam_domain: String,
    /// The version's calibrated difficulty in logits (None until calibration has seen it).
    pub calib_difficulty: Option<f64>,
    pub stem: String,
    #[sqlx(json)]
    pub options: Vec<StoredOption>,
    pub explanation: String,
    pub note: Option<String>,
    pub tags: Vec<String>,
}

impl ItemRow {
    /// The stored option of the attempt's version with this id.
    pub fn option(&self, id: &str) -> Option<&StoredOption> {
        crate::domain::attempt::option(&self.options, id)
    }

    /// The ids of the version's correct options.
    pub fn correct_ids(&self) -> Vec<String> {
        crate::domain::attempt::correct_ids(&self.options)
    }

    /// Whether it was answered right (unanswered is not).
    pub fn is_correct(&self) -> bool {
        self.correct == Some(true)
    }

    /// The difficulty the learner model uses for it, in logits: its version's calibrated
    /// difficulty where calibration has one, else its author difficulty's prior.
    pub fn difficulty_logit(&self) -> f64 {
        self.calib_difficulty
            .unwrap_or_else(|| crate::domain::mastery::difficulty_offset(self.difficulty))
    }

    /// The item as the answer rules see it.
    pub fn question_state(&self) -> QuestionState<'_> {
        QuestionState {
            position: self.position,
            kind: self.kind,
            option_order: &self.option_order,
            options: &self.options,
            choices: &self.choices,
            flagged: self.flagged,
            revision: self.revision,
            viewed_at: self.viewed_at,
            question: Answered {
                question_id: self.question_id,
                domain: &self.domain,
                tags: &self.tags,
                difficulty: self.difficulty_logit(),
            },
        }
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
    pub kind: Kind,
    pub difficulty: i16,
    pub option_order: Vec<String>,
}

pub struct NewAttempt<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub mode: Mode,
    pub blueprint: Option<&'a str>,
    pub cohort_exam_id: Option<Uuid>,
    pub deadline: Option<DateTime<Utc>>,
    pub pass_mark: i32,
    pub scaled: bool,
    pub time_limit_minutes: Option<i32>,
    pub spec: AttemptSpec,
    pub assembly: AssemblyReport,
}
