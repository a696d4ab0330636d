//! What a finalized attempt shows: its stored result and the per-question review. Plain
//! structs, mapped by the JSON API (api/attempts.rs) and the pages (web/attempts.rs).

use serde::Deserialize;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::{AppError, AppResult, Conflict};
use crate::services::attempts::{self, correct_choices, is_correct_for, ItemRow};
use crate::services::cohorts;

/// The result after finalization (409 before: answers never leak). The owner of the attempt,
/// or the instructor who owns the cohort exam it belongs to.
pub async fn attempt_result(pool: &PgPool, user_id: Uuid, id: Uuid) -> AppResult<Value> {
    let state = match attempts::get(pool, user_id, id).await {
        Err(AppError::NotFound(m)) => {
            return cohorts::owned_attempt_result(pool, user_id, id)
                .await?
                .ok_or(AppError::NotFound(m));
        }
        other => other?,
    };
    state.attempt.result.ok_or_else(|| {
        AppError::conflict(
            Conflict::AttemptInProgress,
            "the attempt is still in progress; submit it first",
        )
    })
}

/// A domain's row in a result (topic areas and exam-guide domains alike).
#[derive(Debug, Clone, Deserialize)]
pub struct DomainResult {
    pub domain: String,
    pub correct: usize,
    pub total: usize,
    pub percent: f64,
    /// `meets competencies` or `needs improvement`.
    pub verdict: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Pacing {
    pub total_time_ms: i64,
    pub average_ms: i64,
    pub budget_ms_per_question: i64,
    pub over_budget: usize,
}

/// The result stored with a finalized attempt (see `services::attempts::result_json`).
#[derive(Debug, Clone, Deserialize)]
pub struct AttemptResult {
    pub attempt_id: Uuid,
    pub correct: usize,
    pub total: usize,
    pub answered: usize,
    pub percent: f64,
    pub scaled_score: i32,
    pub pass_mark: i32,
    pub passed: bool,
    pub domains: Vec<DomainResult>,
    #[serde(default)]
    pub exam_domains: Vec<DomainResult>,
    #[serde(default)]
    pub scored: Option<usize>,
    #[serde(default)]
    pub unscored: Option<usize>,
    #[serde(default)]
    pub ability: Option<f64>,
    pub pacing: Pacing,
}

/// Reads a stored result.
pub fn parse_result(v: Value) -> AppResult<AttemptResult> {
    serde_json::from_value(v).map_err(|e| AppError::Internal(anyhow::anyhow!("stored result: {e}")))
}

#[derive(Debug, Clone)]
pub struct ReviewOption {
    pub id: String,
    pub text: String,
    pub correct: bool,
    pub rationale: String,
}

/// One question of a finalized attempt, with the learner's answer and the correct one.
#[derive(Debug, Clone)]
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
            Some("wrong") => !is_correct_for(i),
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
            kind: i.kind.clone(),
            stem: i.stem.clone(),
            options: i
                .option_order
                .iter()
                .map(|id| {
                    let o = i.option(id);
                    ReviewOption {
                        id: id.clone(),
                        text: o
                            .and_then(|o| o["text"].as_str())
                            .unwrap_or_default()
                            .into(),
                        correct: o.and_then(|o| o["correct"].as_bool()).unwrap_or(false),
                        rationale: o
                            .and_then(|o| o["rationale"].as_str())
                            .unwrap_or_default()
                            .into(),
                    }
                })
                .collect(),
            choices: i.choices.clone(),
            correct_choices: correct_choices(i),
            correct: is_correct_for(i),
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
