//! The OpenAPI shapes of domain and service types that the API sends and receives as they are
//! (`domain::question::{QuestionDraft, OptionDraft, BankItem}`, `domain::user::Role`,
//! `services::results::{ReviewQuestion, ReviewOption}`).
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

// One option of a reviewed question (`services::results::ReviewOption`); no doc comment, as
// the spec has none.
#[derive(Serialize, ToSchema)]
pub struct ReviewOption {
    pub id: String,
    pub text: String,
    pub correct: bool,
    pub rationale: String,
}

// A reviewed question (`services::results::ReviewQuestion`).
#[derive(Serialize, ToSchema)]
pub struct ReviewItem {
    pub position: i32,
    pub question_id: uuid::Uuid,
    pub version: i32,
    pub domain: String,
    /// The exam guide's domain (`development`, `security`, `deployment`, `troubleshooting`).
    pub exam_domain: String,
    /// Whether it counted in the score; unscored questions (15 on `dva-c02`) are revealed only
    /// after the attempt is final.
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;
    use utoipa::PartialSchema;

    use crate::domain::question as domain;
    use crate::domain::user::Role as DomainRole;

    fn properties(schema: Value) -> BTreeSet<String> {
        schema["properties"]
            .as_object()
            .expect("an object schema")
            .keys()
            .cloned()
            .collect()
    }

    fn keys(v: Value) -> BTreeSet<String> {
        v.as_object().expect("an object").keys().cloned().collect()
    }

    fn draft() -> domain::QuestionDraft {
        // every field set, so that none is skipped when serialized: a field added to the
        // domain type fails to compile here until its mirror has it too
        domain::QuestionDraft {
            domain: "s3".into(),
            tags: vec!["versioning".into()],
            kind: "single".into(),
            difficulty: 2,
            stem: "Which?".into(),
            options: vec![domain::OptionDraft {
                text: "A".into(),
                correct: true,
                rationale: "because".into(),
            }],
            explanation: "why".into(),
            references: vec!["https://docs.aws.amazon.com/".into()],
            exam_domain: "development".into(),
            task: Some("1.1".into()),
            last_verified: chrono::NaiveDate::from_ymd_opt(2026, 1, 1),
            note: Some("s3#versioning".into()),
        }
    }

    #[test]
    fn mirrors_describe_every_field_the_domain_types_send() {
        let d = draft();
        let value = serde_json::to_value(&d).unwrap();
        assert_eq!(
            keys(value.clone()),
            properties(serde_json::to_value(super::QuestionDraft::schema()).unwrap())
        );
        assert_eq!(
            keys(value["options"][0].clone()),
            properties(serde_json::to_value(super::OptionDraft::schema()).unwrap())
        );
        let item = domain::BankItem {
            slug: Some("s3-versioning".into()),
            draft: d,
        };
        let bank = serde_json::to_value(super::BankItem::schema()).unwrap();
        let own = properties(bank["allOf"][1].clone());
        let mut described = keys(value);
        described.extend(own);
        assert_eq!(keys(serde_json::to_value(&item).unwrap()), described);
    }

    #[test]
    fn the_role_mirror_has_the_domain_roles() {
        let every = [
            DomainRole::Learner,
            DomainRole::Instructor,
            DomainRole::Admin,
        ];
        for r in every {
            // a new role fails to compile here until the mirror has it
            match r {
                DomainRole::Learner | DomainRole::Instructor | DomainRole::Admin => {}
            }
        }
        let sent: Vec<Value> = every
            .iter()
            .map(|r| serde_json::to_value(r).unwrap())
            .collect();
        let schema = serde_json::to_value(super::Role::schema()).unwrap();
        assert_eq!(schema["enum"].as_array().unwrap(), &sent);
    }

    #[test]
    fn the_review_mirrors_have_the_review_fields() {
        use crate::services::results::{ReviewOption, ReviewQuestion};
        let q = ReviewQuestion {
            position: 1,
            question_id: uuid::Uuid::nil(),
            version: 1,
            domain: "s3".into(),
            exam_domain: "development".into(),
            scored: true,
            kind: "single".into(),
            stem: "?".into(),
            options: vec![ReviewOption {
                id: "a".into(),
                text: "A".into(),
                correct: true,
                rationale: "r".into(),
            }],
            choices: vec!["a".into()],
            correct_choices: vec!["a".into()],
            correct: true,
            flagged: false,
            time_spent_ms: 1,
            explanation: "e".into(),
            note: None,
            note_url: None,
        };
        let value = serde_json::to_value(&q).unwrap();
        assert_eq!(
            keys(value.clone()),
            properties(serde_json::to_value(super::ReviewItem::schema()).unwrap())
        );
        assert_eq!(
            keys(value["options"][0].clone()),
            properties(serde_json::to_value(super::ReviewOption::schema()).unwrap())
        );
    }
}
