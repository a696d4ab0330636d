//! What a finalized attempt shows: its stored result and the per-question review. Plain
//! structs, mapped by the JSON API (api/attempts.rs) and the pages (web/attempts.rs).

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::{AppError, AppResult, Conflict};
use crate::services::attempts::{self, ItemRow};
use crate::services::cohorts;

pub use crate::domain::result::{AttemptResult, DomainResult, Pacing};

/// The result after finalization (409 before: answers never leak). The owner of the attempt,
/// or the instructor who owns the cohort exam it belongs to.
pub async fn attempt_result(pool: &PgPool, user_id: Uuid, id: Uuid) -> AppResult<AttemptResult> {
    let state = match attempts::get(pool, user_id, id).await {
        Err(AppError::NotFound(m)) => {
            return cohorts::owned_attempt_result(pool, user_id, id)
                .await?
                .ok_or(AppError::NotFound(m));
        }
        other => other?,
    };
    stored_result(state.attempt.result)
}

/// A finalized attempt's stored result; 409 while it is in progress.
pub fn stored_result(result: Option<AttemptResult>) -> AppResult<AttemptResult> {
    result.ok_or_else(|| {
        AppError::conflict(
            Conflict::AttemptInProgress,
            "the attempt is still in progress; submit it first",
        )
    })
}

/// One option of a reviewed question. Sent as it is by the JSON API (`api::schemas::ReviewOption`
/// documents it).
#[derive(Debug, Clone, Serialize)]
pub struct ReviewOption {
    pub id: String,
    pub text: String,
    pub correct: bool,
    pub rationale: String,
}

/// One question of a finalized attempt, with the learner's answer and the correct one. Sent as
/// it is by the JSON API (`api::schemas::ReviewItem` documents it) and shown by the pages.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewQuestion {
    pub position: i32,
    pub question_id: Uuid,
    pub version: i32,
    pub domain: String,
    pub exam_domain: String,
    pub scored: bool,
    pub kind: String,
    pub stem: String,
    pub options: Vec<ReviewOption>,
    pub choices: Vec<String>,
    pub correct_choices: Vec<String>,
    pub correct: bool,
    pub flagged: bool,
    pub time_spent_ms: i64,
    pub explanation: String,
    /// `domain#anchor` of the study-note section.
    pub note: Option<String>,
    /// Link to that section.
    pub note_url: Option<String>,
}

/// The attempt's questions for review: all of them, or only `wrong` (including unanswered)
/// or `flagged` ones.
pub fn review_questions(items: &[ItemRow], filter: Option<&str>) -> Vec<ReviewQuestion> {
    items
        .iter()
        .filter(|i| match filter {
            Some("wrong") => !i.is_correct(),
            Some("flagged") => i.flagged,
            _ => true,
        })
        .map(|i| ReviewQuestion {
            position: i.position,
            question_id: i.question_id,
            version: i.version,
            domain: i.domain.clone(),
            exam_domain: i.exam_domain.clone(),
            scored: i.scored,
            kind: i.kind.as_str().to_string(),
            stem: i.stem.clone(),
            options: i
                .option_order
                .iter()
                .map(|id| {
                    let o = i.option(id);
                    ReviewOption {
                        id: id.clone(),
                        text: o.map(|o| o.text.clone()).unwrap_or_default(),
                        correct: o.is_some_and(|o| o.correct),
                        rationale: o.map(|o| o.rationale.clone()).unwrap_or_default(),
                    }
                })
                .collect(),
            choices: i.choices.clone(),
            correct_choices: i.correct_ids(),
            correct: i.is_correct(),
            flagged: i.flagged,
            time_spent_ms: i.time_spent_ms,
            explanation: i.explanation.clone(),
            note: i.note.clone(),
            note_url: i
                .note
                .as_ref()
                .and_then(|n| n.split_once('#'))
                .map(|(d, a)| format!("/notes/{d}#{a}")),
        })
        .collect()
}
