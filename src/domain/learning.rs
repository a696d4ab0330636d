//! What an answer teaches (the pure part of the learning update): the learner's beliefs per
//! domain and tag, the FSRS card and the answer statistics, computed from the state read with
//! the answer. The model is documented in docs/mastery.md; the answer's save writes the result
//! in the same database call as the answer.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::mastery::Belief;
use super::reviews::{next_state, CardState};

/// A learner's state in one area (`area_kind` `domain` or `tag`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MasteryRow {
    pub area_kind: String,
    pub area: String,
    pub ability: f64,
    pub variance: f64,
    pub answered: i32,
    pub correct: i32,
}

/// A mastery row as the answer read it; `stale` when it was last updated before today.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AreaRead {
    #[serde(flatten)]
    pub row: MasteryRow,
    pub stale: bool,
}

/// One area's new state, with the `answered` count that was read (-1: the learner had no row).
#[derive(Debug, Clone, PartialEq)]
pub struct AreaWrite {
    pub row: MasteryRow,
    pub seen: i32,
}

/// A learner's FSRS card for a question.
#[derive(Debug, Clone, PartialEq)]
pub struct CardRow {
    pub stability: f64,
    pub difficulty: f64,
    pub due_at: DateTime<Utc>,
    pub last_review_at: DateTime<Utc>,
    pub reps: i32,
    pub lapses: i32,
}

/// Everything one answer teaches, written together with the answer: the areas (sorted) and the
/// statistics-and-card row, each with what was read so that a concurrent change is detected
/// instead of overwritten.
#[derive(Debug, Clone, PartialEq)]
pub struct LearningWrite {
    pub question_id: Uuid,
    pub domain: String,
    pub areas: Vec<AreaWrite>,
    pub card: CardRow,
    /// `times_answered` of the statistics-and-card row that was read; None when there was none.
    pub stats_seen: Option<i32>,
    /// `times_answered` after this answer (the statistics row is written only if it still
    /// holds `stats_seen`).
    pub times_answered: i32,
    /// What this answer adds to `times_correct`: 1 when right, else 0.
    pub correct_add: i32,
    /// Whether the answer was right (`last_correct`).
    pub correct: bool,
    /// The domain's row was last updated before today, so its state becomes that day's
    /// snapshot; None: not known, the database checks.
    pub rollover: Option<bool>,
}

/// The question an answer was given to, as the learner model sees it.
#[derive(Debug, Clone, Copy)]
pub struct Answered<'a> {
    pub question_id: Uuid,
    pub domain: &'a str,
    pub tags: &'a [String],
    /// Its difficulty in logits (calibrated, else its author difficulty's prior).
    pub difficulty: f64,
}

/// The learning update of one new (or changed) answer, from the state read with it: each area's
/// belief moves by the answer (areas in a fixed order, so that concurrent saves of one learner
/// lock rows in the same order), the FSRS card is rated from correctness and time, and the
/// statistics count the answer.
pub fn on_answer(
    q: Answered<'_>,
    correct: bool,
    time_ms: i64,
    read: &[AreaRead],
    previous: Option<&CardRow>,
    stats_seen: Option<i32>,
    now: DateTime<Utc>,
) -> LearningWrite {
    let mut areas: Vec<(String, String)> = vec![("domain".into(), q.domain.to_string())];
    let mut tags = q.tags.to_vec();
    tags.sort();
    tags.dedup();
    areas.extend(tags.into_iter().map(|t| ("tag".to_string(), t)));
    areas.sort();
    let areas = areas
        .into_iter()
        .map(|(kind, area)| {
            let found = read
                .iter()
                .map(|r| &r.row)
                .find(|r| r.area_kind == kind && r.area == area);
            let (prior, seen) = match found {
                Some(r) => (r.clone(), r.answered),
                None => (
                    MasteryRow {
                        area_kind: kind,
                        area,
                        ability: Belief::PRIOR.mu,
                        variance: Belief::PRIOR.var,
                        answered: 0,
                        correct: 0,
                    },
                    -1,
                ),
            };
            let b = Belief {
                mu: prior.ability,
                var: prior.variance,
            }
            .update_logit(q.difficulty, correct);
            AreaWrite {
                row: MasteryRow {
                    ability: b.mu,
                    variance: b.var,
                    answered: prior.answered + 1,
                    correct: prior.correct + i32::from(correct),
                    ..prior
                },
                seen,
            }
        })
        .collect();
    let elapsed = previous
        .map(|c| (now - c.last_review_at).num_seconds() as f64 / 86_400.0)
        .unwrap_or(0.0);
    let state = next_state(
        previous
            .map(|c| CardState {
                stability: c.stability,
                difficulty: c.difficulty,
                due_in_days: 0.0,
                reps: c.reps,
                lapses: c.lapses,
            })
            .as_ref(),
        elapsed,
        correct,
        time_ms,
    );
    LearningWrite {
        question_id: q.question_id,
        domain: q.domain.to_string(),
        areas,
        card: CardRow {
            stability: state.stability,
            difficulty: state.difficulty,
            due_at: now + Duration::seconds((state.due_in_days * 86_400.0) as i64),
            last_review_at: now,
            reps: state.reps,
            lapses: state.lapses,
        },
        stats_seen,
        times_answered: stats_seen.map_or(1, |n| n + 1),
        correct_add: i32::from(correct),
        correct,
        rollover: Some(
            read.iter()
                .any(|r| r.stale && r.row.area_kind == "domain" && r.row.area == q.domain),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, area: &str, answered: i32) -> MasteryRow {
        MasteryRow {
            area_kind: kind.into(),
            area: area.into(),
            ability: 0.0,
            variance: 1.5,
            answered,
            correct: answered / 2,
        }
    }

    fn q<'a>(tags: &'a [String]) -> Answered<'a> {
        Answered {
            question_id: Uuid::nil(),
            domain: "s3",
            tags,
            difficulty: 0.0,
        }
    }

    #[test]
    fn every_area_of_the_question_learns_in_a_fixed_order() {
        let tags = vec!["versioning".to_string(), "kms".into(), "kms".into()];
        let read = [AreaRead {
            row: row("domain", "s3", 4),
            stale: true,
        }];
        let now = Utc::now();
        let w = on_answer(q(&tags), true, 30_000, &read, None, None, now);
        let keys: Vec<(&str, &str, i32)> = w
            .areas
            .iter()
            .map(|a| (a.row.area_kind.as_str(), a.row.area.as_str(), a.seen))
            .collect();
        // the domain's row was read (seen 4); the tags had none (-1); a tag twice counts once
        assert_eq!(
            keys,
            [
                ("domain", "s3", 4),
                ("tag", "kms", -1),
                ("tag", "versioning", -1)
            ]
        );
        assert_eq!((w.areas[0].row.answered, w.areas[0].row.correct), (5, 3));
        assert!(
            w.areas[0].row.ability > 0.0,
            "a right answer raises the belief"
        );
        assert!(w.areas[1].row.variance < 1.5, "any answer narrows it");
        assert_eq!(
            w.rollover,
            Some(true),
            "a domain row from before today rolls over"
        );
        // no statistics row yet: this is the first answer, and it was right
        assert_eq!(
            (w.stats_seen, w.times_answered, w.correct_add),
            (None, 1, 1)
        );
        assert_eq!(w.card.last_review_at, now);
        assert!(w.card.due_at > now);
    }

    #[test]
    fn a_wrong_answer_lowers_the_belief_and_counts_no_right_answer() {
        let read = [AreaRead {
            row: row("domain", "s3", 2),
            stale: false,
        }];
        let card = CardRow {
            stability: 5.0,
            difficulty: 5.0,
            due_at: Utc::now(),
            last_review_at: Utc::now() - Duration::days(5),
            reps: 2,
            lapses: 0,
        };
        let w = on_answer(
            q(&[]),
            false,
            30_000,
            &read,
            Some(&card),
            Some(7),
            Utc::now(),
        );
        assert!(w.areas[0].row.ability < 0.0);
        assert_eq!(w.areas[0].row.correct, 1);
        assert_eq!(
            (w.stats_seen, w.times_answered, w.correct_add),
            (Some(7), 8, 0)
        );
        assert!(!w.correct);
        assert_eq!(w.rollover, Some(false));
        assert_eq!(w.card.lapses, 1, "forgetting a reviewed card is a lapse");
    }
}
