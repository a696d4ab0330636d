//! The result document of a finalized attempt (the `result` column, SPEC §4 result shape plus
//! pacing): computed here from the attempt's items, stored once, and decoded into the same
//! type by db/. Its serde form is the column's JSON shape.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::equating::{ability, scaled, ScaleSpec};
use super::question::EXAM_DOMAINS;
use super::scoring::score;

/// The real exam's pacing budget.
pub const BUDGET_MS_PER_QUESTION: i64 = 120_000;

/// A domain's row in a result (topic areas and exam-guide domains alike).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainResult {
    pub domain: String,
    pub correct: usize,
    pub total: usize,
    pub percent: f64,
    /// `meets competencies` or `needs improvement`.
    pub verdict: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pacing {
    pub total_time_ms: i64,
    pub average_ms: i64,
    pub budget_ms_per_question: i64,
    pub over_budget: usize,
}

/// The result stored with a finalized attempt. Results stored before the exam-guide domains,
/// unscored questions and equating existed decode with those fields empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// The ability estimate (logits) an equated scaled score comes from; null when linear.
    #[serde(default)]
    pub ability: Option<f64>,
    #[serde(default)]
    pub unscored: Option<usize>,
    pub pacing: Pacing,
}

/// What scoring needs of one question of the attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredItem {
    pub domain: String,
    pub exam_domain: String,
    /// Whether it counts in the score.
    pub scored: bool,
    pub answered: bool,
    pub correct: bool,
    pub time_spent_ms: i64,
    /// Its difficulty in logits (calibrated, else its author difficulty's prior): used only
    /// when the score is equated.
    pub difficulty: f64,
}

fn one_decimal(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn rows(d: Vec<super::scoring::DomainResult>) -> Vec<DomainResult> {
    d.into_iter()
        .map(|d| DomainResult {
            domain: d.domain,
            correct: d.correct,
            total: d.total,
            percent: one_decimal(d.percent),
            verdict: d.verdict.to_string(),
        })
        .collect()
}

/// The result document. The score, per topic area and per exam-guide domain, counts the scored
/// questions only. With `pass_ability` (the blueprint's, for a scaled attempt) the scaled score
/// is equated: from the learner's ability on the scored questions given their difficulties;
/// without, it is linear in the raw percentage.
pub fn result_document(
    attempt_id: Uuid,
    pass_mark: i32,
    items: &[ScoredItem],
    pass_ability: Option<f64>,
) -> AttemptResult {
    let counted: Vec<&ScoredItem> = items.iter().filter(|i| i.scored).collect();
    let by_area: Vec<(String, bool)> = counted
        .iter()
        .map(|i| (i.domain.clone(), i.correct))
        .collect();
    let mut s = score(&by_area, pass_mark);
    let theta = pass_ability.filter(|_| !counted.is_empty()).map(|pass| {
        let answers: Vec<(f64, bool)> = counted.iter().map(|i| (i.difficulty, i.correct)).collect();
        let (theta, _) = ability(&answers);
        let spec = ScaleSpec {
            pass_scaled: pass_mark,
            ..Default::default()
        };
        s.scaled_score = scaled(theta, pass, &spec);
        s.passed = s.scaled_score >= pass_mark;
        (theta * 1000.0).round() / 1000.0
    });
    let by_exam_domain: Vec<(String, bool)> = counted
        .iter()
        .map(|i| (i.exam_domain.clone(), i.correct))
        .collect();
    let mut exam_domains = score(&by_exam_domain, pass_mark).domains;
    let order = |d: &str| {
        EXAM_DOMAINS
            .iter()
            .position(|x| *x == d)
            .unwrap_or(usize::MAX)
    };
    exam_domains.sort_by_key(|d| order(&d.domain));
    let total_ms: i64 = items.iter().map(|i| i.time_spent_ms).sum();
    AttemptResult {
        attempt_id,
        correct: s.correct,
        total: s.total,
        answered: items.iter().filter(|i| i.answered).count(),
        percent: one_decimal(s.percent),
        scaled_score: s.scaled_score,
        pass_mark,
        passed: s.passed,
        domains: rows(s.domains),
        exam_domains: rows(exam_domains),
        scored: Some(counted.len()),
        ability: theta,
        unscored: Some(items.len() - counted.len()),
        pacing: Pacing {
            total_time_ms: total_ms,
            average_ms: if items.is_empty() {
                0
            } else {
                total_ms / items.len() as i64
            },
            budget_ms_per_question: BUDGET_MS_PER_QUESTION,
            over_budget: items
                .iter()
                .filter(|i| i.time_spent_ms > BUDGET_MS_PER_QUESTION)
                .count(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(domain: &str, exam: &str, scored: bool, correct: Option<bool>, ms: i64) -> ScoredItem {
        ScoredItem {
            domain: domain.into(),
            exam_domain: exam.into(),
            scored,
            answered: correct.is_some(),
            correct: correct == Some(true),
            time_spent_ms: ms,
            difficulty: 0.0,
        }
    }

    #[test]
    fn unscored_items_count_in_pacing_but_not_in_the_score() {
        let items = [
            item("s3", "development", true, Some(true), 60_000),
            item("s3", "development", true, Some(false), 200_000),
            item("kms", "security", true, None, 0),
            item("kms", "security", false, Some(true), 130_000),
        ];
        let r = result_document(Uuid::nil(), 720, &items, None);
        assert_eq!((r.correct, r.total, r.answered), (1, 3, 3));
        assert_eq!(r.percent, 33.3);
        assert_eq!((r.scored, r.unscored), (Some(3), Some(1)));
        assert_eq!(r.scaled_score, 400);
        assert!(!r.passed);
        assert_eq!(r.ability, None);
        assert_eq!(r.domains.len(), 2);
        assert_eq!(r.domains[0].domain, "kms");
        assert_eq!(r.domains[0].total, 1);
        assert_eq!(r.pacing.total_time_ms, 390_000);
        assert_eq!(r.pacing.average_ms, 97_500);
        assert_eq!(r.pacing.over_budget, 2);
        // exam-guide domains in the guide's order, not by name
        assert_eq!(r.exam_domains[0].domain, "development");
        assert_eq!(r.exam_domains[1].domain, "security");
    }

    #[test]
    fn equating_replaces_the_linear_score() {
        let items: Vec<ScoredItem> = (0..10)
            .map(|i| item("s3", "development", true, Some(i < 8), 1_000))
            .collect();
        let linear = result_document(Uuid::nil(), 720, &items, None);
        assert_eq!(linear.scaled_score, 820);
        let easy_pass = result_document(Uuid::nil(), 720, &items, Some(-3.0));
        let hard_pass = result_document(Uuid::nil(), 720, &items, Some(3.0));
        assert!(easy_pass.ability.is_some());
        assert!(easy_pass.passed && !hard_pass.passed);
        assert!(easy_pass.scaled_score > hard_pass.scaled_score);
        // nothing scored: no ability to estimate, the linear score stands
        let none = result_document(Uuid::nil(), 720, &[], Some(0.0));
        assert_eq!(
            (none.ability, none.scaled_score, none.pacing.average_ms),
            (None, 100, 0)
        );
    }

    #[test]
    fn the_document_keeps_its_stored_shape() {
        let r = result_document(
            Uuid::nil(),
            720,
            &[item("s3", "development", true, Some(true), 5)],
            None,
        );
        let v = serde_json::to_value(&r).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "ability",
                "answered",
                "attempt_id",
                "correct",
                "domains",
                "exam_domains",
                "pacing",
                "pass_mark",
                "passed",
                "percent",
                "scaled_score",
                "scored",
                "total",
                "unscored"
            ]
        );
        assert_eq!(v["ability"], json!(null));
        assert_eq!(v["domains"][0]["verdict"], json!("meets competencies"));
        // a result stored before exam-guide domains, unscored questions and equating
        let old = json!({"attempt_id": Uuid::nil(), "correct": 1, "total": 1, "answered": 1,
            "percent": 100.0, "scaled_score": 1000, "pass_mark": 720, "passed": true,
            "domains": [], "pacing": {"total_time_ms": 5, "average_ms": 5,
            "budget_ms_per_question": 120000, "over_budget": 0}});
        let r: AttemptResult = serde_json::from_value(old).unwrap();
        assert!(r.exam_domains.is_empty() && r.scored.is_none() && r.ability.is_none());
    }
}
