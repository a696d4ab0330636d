//! The answer's rules, written once: what a request makes of a question in a known state
//! ([`plan_answer`]), and what the learner is told ([`outcome`], practice feedback).
//!
//! A planned write ([`AnswerPlan`]) is the one description of what an answer changes: the
//! answer itself, the time added, whether it stamps `answered_at`, and what the learner model
//! learns. The answer cache applies it, both database binders bind it, and the `save_answer` /
//! `save_answers` functions write its values after checking that what it was based on still
//! holds; none of them re-derives any of it.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};

use super::attempt::{correct_ids, Mode, StoredOption};
use super::learning::{on_answer, Answered, AreaRead, CardRow, LearningWrite};
use super::question::Kind;
use super::scoring::is_correct;
use super::validation::FieldError;

/// Most time a single answer may add to a question's time (a tab left open all night).
pub const MAX_ADD_MS: i64 = 30 * 60 * 1000;

/// A request to answer a question.
#[derive(Debug, Clone, Default)]
pub struct AnswerInput {
    /// None keeps the current choices (a flag toggle).
    pub choices: Option<Vec<String>>,
    pub flagged: Option<bool>,
    /// The revision the client last saw; a different one means the write is stale (409).
    pub revision: Option<i32>,
    /// Client-measured time on the question for this visit.
    pub time_spent_ms: Option<i64>,
}

/// A question of an attempt as an answer finds it.
#[derive(Debug, Clone, Copy)]
pub struct QuestionState<'a> {
    pub position: i32,
    pub kind: Kind,
    /// The option ids in the attempt's order.
    pub option_order: &'a [String],
    pub options: &'a [StoredOption],
    pub choices: &'a [String],
    pub flagged: bool,
    pub revision: i32,
    /// When the pages last showed it (server-measured time), if they did.
    pub viewed_at: Option<DateTime<Utc>>,
    pub question: Answered<'a>,
}

/// What the learner model has of the question's areas and card, read with the question.
#[derive(Debug, Clone, Copy, Default)]
pub struct LearnerState<'a> {
    pub areas: &'a [AreaRead],
    pub card: Option<&'a CardRow>,
    /// `times_answered` of the statistics row; None when there is none.
    pub stats_seen: Option<i32>,
}

/// What one answer writes, computed once.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerPlan {
    /// The revision the plan was based on; the write is refused if the question moved.
    pub base_revision: i32,
    pub choices: Vec<String>,
    pub flagged: bool,
    /// None while unanswered.
    pub correct: Option<bool>,
    /// Time added to the question's time.
    pub add_ms: i64,
    /// The answer has choices: `answered_at` becomes the time of the write.
    pub stamps_answered: bool,
    /// A new or changed choice teaches the learner model; a flag toggle does not.
    pub learning: Option<LearningWrite>,
}

/// What a request makes of a question in a known state.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// The question already holds this answer (a retry): nothing to write, same revision.
    Same {
        revision: i32,
        choices: Vec<String>,
        flagged: bool,
    },
    Write(AnswerPlan),
}

/// Why a request cannot be planned.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Choices that are not options of the question, chosen twice, or too many.
    Invalid(Vec<FieldError>),
    /// The client's revision is not the question's.
    Stale { current: i32, based_on: i32 },
}

impl Refusal {
    pub fn message(&self, position: i32) -> Option<String> {
        match self {
            Refusal::Invalid(_) => None,
            Refusal::Stale { current, based_on } => Some(format!(
                "stale write: question {position} is at revision {current}, the request was based on {based_on}"
            )),
        }
    }
}

fn validate(q: &QuestionState<'_>, choices: &[String]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut unique = HashSet::new();
    for (i, c) in choices.iter().enumerate() {
        if !q.option_order.contains(c) {
            errors.push(FieldError::new(
                format!("choices[{i}]"),
                format!("`{c}` is not an option of question {}", q.position),
            ));
        } else if !unique.insert(c) {
            errors.push(FieldError::new(format!("choices[{i}]"), "chosen twice"));
        }
    }
    if q.kind == Kind::Single && choices.len() > 1 {
        errors.push(FieldError::new(
            "choices",
            "a single-answer question takes one choice",
        ));
    }
    errors
}

fn same_answer(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}

/// Whether these choices answer the question right (None while unanswered).
pub fn correctness(options: &[StoredOption], choices: &[String]) -> Option<bool> {
    (!choices.is_empty()).then(|| is_correct(&correct_ids(options), choices))
}

/// Validates the request against the question and works out the write: the new answer, the
/// time to add (the client's measure, else the pages' since the question was shown, at most
/// [`MAX_ADD_MS`]) and, for a new or changed choice, what the learner model learns from it.
/// A retry of an answer the question already holds is [`Plan::Same`], whatever its revision.
pub fn plan_answer(
    q: &QuestionState<'_>,
    input: &AnswerInput,
    learner: LearnerState<'_>,
    now: DateTime<Utc>,
) -> Result<Plan, Refusal> {
    let choices = input.choices.clone().unwrap_or_else(|| q.choices.to_vec());
    let flagged = input.flagged.unwrap_or(q.flagged);
    let errors = validate(q, &choices);
    if !errors.is_empty() {
        return Err(Refusal::Invalid(errors));
    }
    if same_answer(&choices, q.choices) && flagged == q.flagged {
        return Ok(Plan::Same {
            revision: q.revision,
            choices,
            flagged,
        });
    }
    if let Some(based_on) = input.revision.filter(|r| *r != q.revision) {
        return Err(Refusal::Stale {
            current: q.revision,
            based_on,
        });
    }
    let correct = correctness(q.options, &choices);
    let measured = q
        .viewed_at
        .map(|v| (now - v).num_milliseconds())
        .unwrap_or(0);
    let add_ms = input.time_spent_ms.unwrap_or(measured).clamp(0, MAX_ADD_MS);
    let learning = correct
        .filter(|_| q.choices != choices.as_slice())
        .map(|c| {
            on_answer(
                q.question,
                c,
                add_ms,
                learner.areas,
                learner.card,
                learner.stats_seen,
                now,
            )
        });
    Ok(Plan::Write(AnswerPlan {
        base_revision: q.revision,
        stamps_answered: !choices.is_empty(),
        choices,
        flagged,
        correct,
        add_ms,
        learning,
    }))
}

/// Practice-mode feedback for the answered question only.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub correct: bool,
    pub correct_choices: Vec<String>,
    pub explanation: String,
    /// Option id → why it is right or wrong.
    pub rationale: BTreeMap<String, String>,
}

/// What the learner is told after a save.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerOutcome {
    pub position: i32,
    pub choices: Vec<String>,
    pub flagged: bool,
    pub revision: i32,
    pub feedback: Option<Feedback>,
}

/// The outcome of a saved (or already held) answer: practice shows whether it was right, the
/// correct options, the explanation and every option's rationale once the question has an
/// answer; an exam shows nothing until it is final.
pub fn outcome(
    mode: Mode,
    position: i32,
    options: &[StoredOption],
    explanation: &str,
    choices: Vec<String>,
    flagged: bool,
    revision: i32,
) -> AnswerOutcome {
    let feedback = mode
        .shows_feedback()
        .then(|| correctness(options, &choices))
        .flatten()
        .map(|correct| Feedback {
            correct,
            correct_choices: correct_ids(options),
            explanation: explanation.to_string(),
            rationale: options
                .iter()
                .map(|o| (o.id.clone(), o.rationale.clone()))
                .collect(),
        });
    AnswerOutcome {
        position,
        choices,
        flagged,
        revision,
        feedback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use uuid::Uuid;

    fn options() -> Vec<StoredOption> {
        ["a", "b", "c", "d"]
            .iter()
            .map(|id| StoredOption {
                id: id.to_string(),
                text: format!("option {id}"),
                correct: *id == "b" || *id == "d",
                rationale: format!("why {id}"),
            })
            .collect()
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    struct Fixture {
        order: Vec<String>,
        options: Vec<StoredOption>,
        choices: Vec<String>,
    }

    impl Fixture {
        fn new(choices: &[&str]) -> Fixture {
            Fixture {
                order: ids(&["d", "c", "b", "a"]),
                options: options(),
                choices: ids(choices),
            }
        }
        fn state(&self, kind: Kind) -> QuestionState<'_> {
            QuestionState {
                position: 3,
                kind,
                option_order: &self.order,
                options: &self.options,
                choices: &self.choices,
                flagged: false,
                revision: 4,
                viewed_at: None,
                question: Answered {
                    question_id: Uuid::nil(),
                    domain: "s3",
                    tags: &[],
                    difficulty: 0.0,
                },
            }
        }
    }

    fn input(choices: &[&str]) -> AnswerInput {
        AnswerInput {
            choices: Some(ids(choices)),
            time_spent_ms: Some(1_000),
            ..Default::default()
        }
    }

    fn write(p: Result<Plan, Refusal>) -> AnswerPlan {
        match p {
            Ok(Plan::Write(w)) => w,
            other => panic!("expected a write, got {other:?}"),
        }
    }

    #[test]
    fn multi_answer_questions_are_all_or_nothing() {
        let f = Fixture::new(&[]);
        let s = f.state(Kind::Multiple);
        let now = Utc::now();
        let l = LearnerState::default();
        let right = write(plan_answer(&s, &input(&["d", "b"]), l, now));
        assert_eq!(right.correct, Some(true));
        assert!(right.stamps_answered);
        assert_eq!(right.base_revision, 4);
        assert!(right.learning.as_ref().is_some_and(|w| w.correct));
        let partial = write(plan_answer(&s, &input(&["b"]), l, now));
        assert_eq!(partial.correct, Some(false));
        let too_many = write(plan_answer(&s, &input(&["b", "d", "a"]), l, now));
        assert_eq!(too_many.correct, Some(false));
    }

    #[test]
    fn invalid_choices_are_refused_with_their_fields() {
        let f = Fixture::new(&[]);
        let now = Utc::now();
        let l = LearnerState::default();
        let Err(Refusal::Invalid(e)) =
            plan_answer(&f.state(Kind::Multiple), &input(&["b", "x", "b"]), l, now)
        else {
            panic!("expected a refusal")
        };
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["choices[1]", "choices[2]"]);
        let Err(Refusal::Invalid(e)) =
            plan_answer(&f.state(Kind::Single), &input(&["b", "d"]), l, now)
        else {
            panic!("expected a refusal")
        };
        assert_eq!(e[0].field, "choices");
    }

    #[test]
    fn a_retry_is_the_same_answer_and_a_stale_revision_is_refused() {
        let f = Fixture::new(&["b", "d"]);
        let s = f.state(Kind::Multiple);
        let now = Utc::now();
        let l = LearnerState::default();
        // the same choices in another order, even on an old revision: a retry
        let retry = AnswerInput {
            revision: Some(1),
            ..input(&["d", "b"])
        };
        assert_eq!(
            plan_answer(&s, &retry, l, now),
            Ok(Plan::Same {
                revision: 4,
                choices: ids(&["d", "b"]),
                flagged: false
            })
        );
        let stale = AnswerInput {
            revision: Some(3),
            ..input(&["a"])
        };
        let refusal = plan_answer(&s, &stale, l, now).unwrap_err();
        assert_eq!(
            refusal,
            Refusal::Stale {
                current: 4,
                based_on: 3
            }
        );
        assert!(refusal.message(3).unwrap().contains("revision 4"));
        let current = AnswerInput {
            revision: Some(4),
            ..input(&["a"])
        };
        assert!(matches!(
            plan_answer(&s, &current, l, now),
            Ok(Plan::Write(_))
        ));
    }

    #[test]
    fn a_flag_toggle_or_a_cleared_answer_teaches_nothing() {
        let f = Fixture::new(&["b"]);
        let s = f.state(Kind::Single);
        let now = Utc::now();
        let l = LearnerState::default();
        let flag = write(plan_answer(
            &s,
            &AnswerInput {
                flagged: Some(true),
                ..Default::default()
            },
            l,
            now,
        ));
        assert_eq!(flag.choices, ids(&["b"]));
        assert!(flag.flagged && flag.learning.is_none() && flag.stamps_answered);
        assert_eq!(
            flag.add_ms, 0,
            "no client time and never shown: nothing added"
        );
        let cleared = write(plan_answer(&s, &input(&[]), l, now));
        assert_eq!(cleared.correct, None);
        assert!(!cleared.stamps_answered && cleared.learning.is_none());
    }

    #[test]
    fn time_is_the_clients_else_the_pages_and_bounded() {
        let mut f = Fixture::new(&[]);
        f.choices.clear();
        let now = Utc::now();
        let mut s = f.state(Kind::Single);
        s.viewed_at = Some(now - Duration::seconds(42));
        let l = LearnerState::default();
        let paged = AnswerInput {
            choices: Some(ids(&["b"])),
            ..Default::default()
        };
        assert_eq!(write(plan_answer(&s, &paged, l, now)).add_ms, 42_000);
        s.viewed_at = Some(now - Duration::hours(10));
        assert_eq!(write(plan_answer(&s, &paged, l, now)).add_ms, MAX_ADD_MS);
        let negative = AnswerInput {
            time_spent_ms: Some(-5),
            ..paged
        };
        assert_eq!(write(plan_answer(&s, &negative, l, now)).add_ms, 0);
    }

    #[test]
    fn practice_gets_feedback_and_an_exam_none() {
        let opts = options();
        let p = outcome(Mode::Practice, 2, &opts, "because", ids(&["b"]), false, 7);
        let fb = p.feedback.expect("practice feedback");
        assert!(!fb.correct, "one of two correct options is wrong");
        assert_eq!(fb.correct_choices, ids(&["b", "d"]));
        assert_eq!(fb.rationale["a"], "why a");
        assert_eq!(fb.explanation, "because");
        assert_eq!((p.position, p.revision), (2, 7));
        let e = outcome(Mode::Exam, 2, &opts, "because", ids(&["b", "d"]), false, 7);
        assert!(e.feedback.is_none());
        // practice says nothing about a question left unanswered
        let none = outcome(Mode::Practice, 2, &opts, "because", vec![], true, 7);
        assert!(none.feedback.is_none());
    }
}
