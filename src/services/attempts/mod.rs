//! Attempts, the one wing of mock exams and practice: assembling an attempt from a blueprint or
//! a custom mix and starting it (`start`, `assembly`), saving answers (`answer`, with the
//! process's `answer_cache` and the `answer_batch` writer), finalizing on submit or expiry
//! (`finalize`, with the `finalize_batch` submitter) and reading an attempt back (`review`).
//! Version content is kept in `content`. Results and review documents: `services::results`.
//! This module sits below the cohort and practice services, and imports neither.

mod answer;
pub mod answer_batch;
pub mod answer_cache;
mod assembly;
pub mod content;
mod finalize;
pub mod finalize_batch;
mod review;
mod start;

pub use answer::{answer, viewed, AnswerInput, AnswerOutcome, Feedback};
pub use assembly::{assemble, assemble_measured, draw, AssemblyReport};
pub use finalize::{expire_overdue, finalize, finalize_batch};
pub use review::{get, list, started, AttemptState};
pub use start::{create_attempt, plan, start, Recipe, StartRequest};

/// The rows the handlers render: an attempt's questions and the list of attempts.
pub use crate::db::attempts::{AttemptSummary, ItemRow};

pub use crate::domain::attempt::Mode;
pub use crate::domain::result::BUDGET_MS_PER_QUESTION;
pub use crate::domain::window::GRACE_SECS;

/// Questions seen within this many days are avoided when others are available.
pub const RECENT_DAYS: i64 = 14;
pub const MAX_CUSTOM_COUNT: usize = 200;
