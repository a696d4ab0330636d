//! The attempt model: an attempt's status and mode, what it was built from, and the documents
//! stored with it in JSON columns (its questions' options, the assembly report). The serde form
//! of each type IS the column's JSON shape; db/ decodes the columns into these types once.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::assembly::Shortfall;
use super::question::Kind;

/// A text column held a value the type does not know (the database's CHECK constraints make
/// this a bug, not an input error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`", self.what, self.value)
    }
}

impl std::error::Error for UnknownValue {}

/// Where an attempt is in its life. `Prepared` attempts (a cohort exam's, built ahead of its
/// opening) are invisible to their learner until started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    Prepared,
    InProgress,
    Submitted,
    Expired,
}

impl AttemptStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Prepared => "prepared",
            AttemptStatus::InProgress => "in_progress",
            AttemptStatus::Submitted => "submitted",
            AttemptStatus::Expired => "expired",
        }
    }
    pub fn parse(s: &str) -> Option<AttemptStatus> {
        match s {
            "prepared" => Some(AttemptStatus::Prepared),
            "in_progress" => Some(AttemptStatus::InProgress),
            "submitted" => Some(AttemptStatus::Submitted),
            "expired" => Some(AttemptStatus::Expired),
            _ => None,
        }
    }
    /// Answers can still change.
    pub fn is_open(self) -> bool {
        self == AttemptStatus::InProgress
    }
    /// Its learner can see it (everything but a prepared attempt).
    pub fn is_visible(self) -> bool {
        self != AttemptStatus::Prepared
    }
}

/// `exam`: timed, no feedback until final; `practice`: feedback after each answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Exam,
    Practice,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "exam" => Some(Mode::Exam),
            "practice" => Some(Mode::Practice),
            _ => None,
        }
    }
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Exam => "exam",
            Mode::Practice => "practice",
        }
    }
    /// Practice shows whether an answer was right, and why, as soon as it is saved.
    pub fn shows_feedback(self) -> bool {
        self == Mode::Practice
    }
}

macro_rules! text_enum {
    ($t:ty, $what:literal) => {
        impl TryFrom<String> for $t {
            type Error = UnknownValue;
            fn try_from(s: String) -> Result<Self, UnknownValue> {
                <$t>::parse(&s).ok_or(UnknownValue {
                    what: $what,
                    value: s,
                })
            }
        }
        impl std::str::FromStr for $t {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                <$t>::try_from(s.to_string())
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(AttemptStatus, "attempt status");
text_enum!(Mode, "mode");
text_enum!(PracticeSource, "practice source");

impl TryFrom<String> for Kind {
    type Error = UnknownValue;
    fn try_from(s: String) -> Result<Self, UnknownValue> {
        Kind::parse(&s).ok_or(UnknownValue {
            what: "question kind",
            value: s,
        })
    }
}

/// What a practice session draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PracticeSource {
    /// The learner's weakest areas (adaptive).
    Weak,
    /// Questions last answered wrong.
    Mistakes,
    /// Spaced-repetition reviews due now.
    Due,
}

impl PracticeSource {
    pub const ALL: [PracticeSource; 3] = [
        PracticeSource::Weak,
        PracticeSource::Mistakes,
        PracticeSource::Due,
    ];
    pub const fn as_str(self) -> &'static str {
        match self {
            PracticeSource::Weak => "weak",
            PracticeSource::Mistakes => "mistakes",
            PracticeSource::Due => "due",
        }
    }
    pub fn parse(s: &str) -> Option<PracticeSource> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Relative weights per area (a blueprint's `domain_weights` column: `{"iam": 0.15, …}`).
pub type Weights = BTreeMap<String, f64>;

/// What an attempt was built from (the `spec` column), one shape per kind of attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttemptSpec {
    /// A member's attempt at a cohort exam.
    Cohort { cohort: Uuid, cohort_exam: Uuid },
    /// A practice session drawn from the learner's own state.
    Practice {
        source: PracticeSource,
        domain: Option<String>,
        count: usize,
    },
    /// A blueprint (`blueprint` set) or a custom mix of domains (`blueprint` null).
    Mix {
        blueprint: Option<String>,
        count: usize,
        domains: Weights,
        time_limit_minutes: Option<i32>,
    },
}

/// One option of a question version as stored (`question_versions.options`): an exam's answer
/// cache keeps only `id` and `correct`, so the texts default to empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOption {
    pub id: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub correct: bool,
    #[serde(default)]
    pub rationale: String,
}

impl StoredOption {
    /// What checking and scoring an answer needs of it: the id and whether it is correct.
    pub fn light(&self) -> StoredOption {
        StoredOption {
            id: self.id.clone(),
            text: String::new(),
            correct: self.correct,
            rationale: String::new(),
        }
    }
}

/// The ids of the correct options, in stored order.
pub fn correct_ids(options: &[StoredOption]) -> Vec<String> {
    options
        .iter()
        .filter(|o| o.correct)
        .map(|o| o.id.clone())
        .collect()
}

/// The option with this id.
pub fn option<'a>(options: &'a [StoredOption], id: &str) -> Option<&'a StoredOption> {
    options.iter().find(|o| o.id == id)
}

/// What assembly reported when the attempt was built (the `assembly` column). Rows written
/// before a field existed (or `{}`) decode with its default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssemblyReport {
    #[serde(default)]
    pub requested: usize,
    #[serde(default)]
    pub drawn: usize,
    #[serde(default)]
    pub per_domain: BTreeMap<String, usize>,
    /// Domains that had too few questions; their share went to the others.
    #[serde(default)]
    pub shortfalls: Vec<Shortfall>,
}

impl AssemblyReport {
    /// A fixed question set drawn whole (a cohort exam's).
    pub fn whole(count: usize) -> AssemblyReport {
        AssemblyReport {
            requested: count,
            drawn: count,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_and_modes_round_trip_their_column_text() {
        for s in [
            AttemptStatus::Prepared,
            AttemptStatus::InProgress,
            AttemptStatus::Submitted,
            AttemptStatus::Expired,
        ] {
            assert_eq!(AttemptStatus::try_from(s.as_str().to_string()), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
        }
        for m in [Mode::Exam, Mode::Practice] {
            assert_eq!(m.as_str().parse::<Mode>(), Ok(m));
            assert_eq!(serde_json::to_value(m).unwrap(), json!(m.as_str()));
        }
        assert!(AttemptStatus::try_from("finalized".to_string()).is_err());
        assert!(Kind::try_from("triple".to_string()).is_err());
        assert_eq!(Kind::try_from("multiple".to_string()), Ok(Kind::Multiple));
        assert!(AttemptStatus::InProgress.is_open());
        assert!(!AttemptStatus::Submitted.is_open());
        assert!(!AttemptStatus::Prepared.is_visible());
        assert!(Mode::Practice.shows_feedback() && !Mode::Exam.shows_feedback());
    }

    #[test]
    fn stored_documents_decode_in_every_shape_written() {
        // an attempt's default assembly column, and a cohort attempt's
        assert_eq!(
            serde_json::from_value::<AssemblyReport>(json!({})).unwrap(),
            AssemblyReport::default()
        );
        assert_eq!(
            serde_json::from_value::<AssemblyReport>(json!({"requested": 3, "drawn": 3})).unwrap(),
            AssemblyReport::whole(3)
        );
        let full = json!({"requested": 5, "drawn": 4, "per_domain": {"s3": 4},
                          "shortfalls": [{"domain": "kms", "wanted": 1, "available": 0}]});
        let r: AssemblyReport = serde_json::from_value(full.clone()).unwrap();
        assert_eq!(r.shortfalls[0].domain, "kms");
        assert_eq!(serde_json::to_value(&r).unwrap(), full);
        // a version's options as authored, and as the answer cache keeps them
        let opts: Vec<StoredOption> = serde_json::from_value(json!([
            {"id": "a", "text": "A", "correct": false, "rationale": "no"},
            {"id": "b", "correct": true}
        ]))
        .unwrap();
        assert_eq!(correct_ids(&opts), ["b"]);
        assert_eq!(option(&opts, "a").unwrap().rationale, "no");
        assert_eq!(opts[0].light().text, "");
    }

    #[test]
    fn specs_keep_their_column_shapes() {
        let id = Uuid::nil();
        let cases = [
            (
                AttemptSpec::Cohort {
                    cohort: id,
                    cohort_exam: id,
                },
                json!({"cohort": id, "cohort_exam": id}),
            ),
            (
                AttemptSpec::Practice {
                    source: PracticeSource::Weak,
                    domain: None,
                    count: 10,
                },
                json!({"source": "weak", "domain": null, "count": 10}),
            ),
            (
                AttemptSpec::Mix {
                    blueprint: Some("quick".into()),
                    count: 10,
                    domains: Weights::new(),
                    time_limit_minutes: None,
                },
                json!({"blueprint": "quick", "count": 10, "domains": {}, "time_limit_minutes": null}),
            ),
        ];
        for (spec, stored) in cases {
            assert_eq!(serde_json::to_value(&spec).unwrap(), stored);
            assert_eq!(serde_json::from_value::<AttemptSpec>(stored).unwrap(), spec);
        }
    }
}
