//! The OpenAPI shapes of domain types that the API sends and receives as they are
//! (`domain::question::{QuestionDraft, OptionDraft, BankItem}`, `domain::user::Role`).
//!
//! domain/ carries no schema derives; these mirrors do, under the same names, and the handlers
//! point utoipa at them (`request_body = schemas::QuestionDraft`, `value_type = …`) while
//! (de)serializing the domain types themselves. Keep each mirror's fields, serde attributes and
//! doc comments in step with its domain type: `tests/api/openapi.rs` compares the document.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Learner,
    Instructor,
    Admin,
}

/// One option as an author writes it.
#[derive(Serialize, ToSchema)]
pub struct OptionDraft {
    pub text: String,
    pub correct: bool,
    pub rationale: String,
}

/// A question as an author sends it (API, JSON export items, bank files).
#[derive(Serialize, ToSchema)]
pub struct QuestionDraft {
    pub domain: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[schema(value_type = String, example = "single")]
    pub kind: String,
    pub difficulty: i64,
    pub stem: String,
    pub options: Vec<OptionDraft>,
    pub explanation: String,
    #[serde(default)]
    pub references: Vec<String>,
    /// `development`, `security`, `deployment` or `troubleshooting`.
    pub exam_domain: String,
    /// The exam guide's task statement the question tests, `1.1` … `4.3`; its leading digit
    /// must match `exam_domain`. Required in the bank files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "2.1")]
    pub task: Option<String>,
    /// Defaults to today.
    #[serde(default)]
    pub last_verified: Option<chrono::NaiveDate>,
    /// Study-note section `{domain}#{anchor}`; required in the bank files.
    #[serde(default)]
    pub note: Option<String>,
}

/// One question in the exchange formats (JSON bank export/import, GIFT): the author shape plus
/// its stable slug (`id` in the bank files).
#[derive(Serialize, ToSchema)]
pub struct BankItem {
    /// Stable slug; optional on import (one is generated when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(flatten)]
    pub draft: QuestionDraft,
}
