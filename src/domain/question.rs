//! Questions as authors write them, and the rules every question must satisfy — the same rules
//! for the bank files (`check-seed`), the authoring API and imports.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::slug::{is_slug, TAG_MAX};
use super::validation::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// One correct option of four.
    Single,
    /// "Choose two/three" of five or more.
    Multiple,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Single => "single",
            Kind::Multiple => "multiple",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "single" => Some(Kind::Single),
            "multiple" => Some(Kind::Multiple),
            _ => None,
        }
    }
}

/// The official DVA-C02 exam-guide domains.
pub const EXAM_DOMAINS: [&str; 4] = ["development", "security", "deployment", "troubleshooting"];

/// The exam guide's task statements: (code, exam-guide domain, statement). A question's `task`
/// is one of the codes, and its leading digit names the question's `exam_domain`.
pub const TASKS: [(&str, &str, &str); 13] = [
    (
        "1.1",
        "development",
        "Develop code for applications hosted on AWS",
    ),
    ("1.2", "development", "Develop code for AWS Lambda"),
    (
        "1.3",
        "development",
        "Use data stores in application development",
    ),
    (
        "2.1",
        "security",
        "Implement authentication and/or authorization for applications and AWS services",
    ),
    (
        "2.2",
        "security",
        "Implement encryption by using AWS services",
    ),
    (
        "2.3",
        "security",
        "Manage sensitive data in application code",
    ),
    (
        "3.1",
        "deployment",
        "Prepare application artifacts to be deployed to AWS",
    ),
    (
        "3.2",
        "deployment",
        "Test applications in development environments",
    ),
    ("3.3", "deployment", "Automate deployment testing"),
    (
        "3.4",
        "deployment",
        "Deploy code by using AWS CI/CD services",
    ),
    ("4.1", "troubleshooting", "Assist in a root cause analysis"),
    (
        "4.2",
        "troubleshooting",
        "Instrument code for observability",
    ),
    (
        "4.3",
        "troubleshooting",
        "Optimize applications by using AWS services and features",
    ),
];

/// The exam-guide domain a task statement belongs to, or `None` for an unknown code.
pub fn task_domain(code: &str) -> Option<&'static str> {
    TASKS.iter().find(|t| t.0 == code).map(|t| t.1)
}

pub const MAX_TAGS: usize = 6;
pub const MAX_STEM: usize = 4000;
pub const MAX_OPTION: usize = 1000;
pub const MAX_TEXT: usize = 4000;

/// One option as an author writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionDraft {
    pub text: String,
    pub correct: bool,
    pub rationale: String,
}

/// A question as an author sends it (API, JSON export items, bank files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionDraft {
    pub domain: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub kind: String,
    #[serde(deserialize_with = "super::lenient::int")]
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
    pub task: Option<String>,
    /// Defaults to today.
    #[serde(default)]
    pub last_verified: Option<NaiveDate>,
    /// Study-note section `{domain}#{anchor}`; required in the bank files.
    #[serde(default)]
    pub note: Option<String>,
}

/// One question in the exchange formats (JSON bank export/import, GIFT): the author shape plus
/// its stable slug (`id` in the bank files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankItem {
    /// Stable slug; optional on import (one is generated when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(flatten)]
    pub draft: QuestionDraft,
}

/// What the rules need to know about the rest of the bank.
pub trait BankContext {
    fn domain_exists(&self, slug: &str) -> bool;
    /// `None` when notes are not known to this context (nothing to check against).
    fn note_exists(&self, domain: &str, anchor: &str) -> Option<bool>;
}

/// How many options the stem asks for: `(Choose two.)` → 2.
pub fn choose_count(stem: &str) -> Option<usize> {
    let trimmed = stem.trim_end();
    for (word, n) in [("two", 2), ("three", 3), ("four", 4)] {
        if trimmed.ends_with(&format!("(Choose {word}.)")) {
            return Some(n);
        }
    }
    None
}

fn mentions_choose(stem: &str) -> bool {
    stem.contains("(Choose ")
}

/// An https URL with a host and no whitespace.
pub fn is_https_url(s: &str) -> bool {
    s.strip_prefix("https://")
        .map(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && host.contains('.') && !s.chars().any(char::is_whitespace)
        })
        .unwrap_or(false)
}

impl QuestionDraft {
    pub fn kind(&self) -> Option<Kind> {
        Kind::parse(&self.kind)
    }

    /// Every rule, every violation: one entry per bad field.
    pub fn validate(&self, bank: &dyn BankContext, require_note: bool) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let mut err = |f: &str, m: String| errs.push(FieldError::new(f, m));

        if !bank.domain_exists(&self.domain) {
            err("domain", format!("unknown domain `{}`", self.domain));
        }
        if self.tags.len() > MAX_TAGS {
            err("tags", format!("at most {MAX_TAGS} tags"));
        }
        if require_note && self.tags.is_empty() {
            err("tags", "at least one tag".into());
        }
        for (i, t) in self.tags.iter().enumerate() {
            if !is_slug(t, TAG_MAX) {
                err(
                    &format!("tags[{i}]"),
                    format!(
                        "`{t}` is not a tag: lowercase kebab-case, at most {TAG_MAX} characters"
                    ),
                );
            }
        }
        if !(1..=3).contains(&self.difficulty) {
            err("difficulty", "must be 1, 2 or 3".into());
        }
        if !EXAM_DOMAINS.contains(&self.exam_domain.as_str()) {
            err(
                "exam_domain",
                format!("must be one of {}", EXAM_DOMAINS.join(", ")),
            );
        }
        match (&self.task, task_domain(self.task.as_deref().unwrap_or(""))) {
            (None, _) if require_note => err(
                "task",
                "the exam guide's task statement is required (1.1 … 4.3)".into(),
            ),
            (None, _) => {}
            (Some(t), None) => err(
                "task",
                format!(
                    "`{t}` is not an exam-guide task statement (one of {})",
                    TASKS.map(|t| t.0).join(", ")
                ),
            ),
            (Some(t), Some(d)) if d != self.exam_domain => err(
                "task",
                format!(
                    "task {t} belongs to the `{d}` domain, but exam_domain is `{}`",
                    self.exam_domain
                ),
            ),
            _ => {}
        }
        if self.stem.trim().is_empty() {
            err("stem", "must not be empty".into());
        } else if self.stem.chars().count() > MAX_STEM {
            err("stem", format!("at most {MAX_STEM} characters"));
        }
        if self.explanation.trim().is_empty() {
            err("explanation", "must not be empty".into());
        } else if self.explanation.chars().count() > MAX_TEXT {
            err("explanation", format!("at most {MAX_TEXT} characters"));
        }
        if self.references.is_empty() {
            err(
                "references",
                "at least one reference (an https URL to AWS documentation)".into(),
            );
        }
        for (i, r) in self.references.iter().enumerate() {
            if !is_https_url(r) {
                err(
                    &format!("references[{i}]"),
                    format!("`{r}` is not an https URL"),
                );
            }
        }
        for (i, o) in self.options.iter().enumerate() {
            if o.text.trim().is_empty() {
                err(&format!("options[{i}].text"), "must not be empty".into());
            } else if o.text.chars().count() > MAX_OPTION {
                err(
                    &format!("options[{i}].text"),
                    format!("at most {MAX_OPTION} characters"),
                );
            }
            let lower = o.text.to_lowercase();
            if lower.contains("all of the above") || lower.contains("none of the above") {
                err(
                    &format!("options[{i}].text"),
                    "\"all/none of the above\" options are not allowed".into(),
                );
            }
            if o.rationale.trim().is_empty() {
                err(
                    &format!("options[{i}].rationale"),
                    "every option needs a rationale".into(),
                );
            } else if o.rationale.chars().count() > MAX_TEXT {
                err(
                    &format!("options[{i}].rationale"),
                    format!("at most {MAX_TEXT} characters"),
                );
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, o) in self.options.iter().enumerate() {
            if !seen.insert(o.text.trim().to_lowercase()) {
                err(
                    &format!("options[{i}].text"),
                    "duplicates another option".into(),
                );
            }
        }
        let correct = self.options.iter().filter(|o| o.correct).count();
        match self.kind() {
            None => err("kind", "must be `single` or `multiple`".into()),
            Some(Kind::Single) => {
                if self.options.len() != 4 {
                    err(
                        "options",
                        format!(
                            "a single-answer question has exactly 4 options, found {}",
                            self.options.len()
                        ),
                    );
                }
                if correct != 1 {
                    err("options", format!("a single-answer question has exactly one correct option, found {correct}"));
                }
                if mentions_choose(&self.stem) {
                    err(
                        "stem",
                        "a single-answer stem must not say \"(Choose N.)\"".into(),
                    );
                }
            }
            Some(Kind::Multiple) => {
                if !(5..=8).contains(&self.options.len()) {
                    err(
                        "options",
                        format!(
                            "a multiple-response question has 5 to 8 options, found {}",
                            self.options.len()
                        ),
                    );
                }
                match choose_count(&self.stem) {
                    None => err("stem", "a multiple-response stem must end with \"(Choose two.)\" or \"(Choose three.)\"".into()),
                    Some(n) if n != correct => {
                        err("options", format!("the stem asks to choose {n} but {correct} options are correct"))
                    }
                    Some(_) => {}
                }
                if correct < 2 {
                    err(
                        "options",
                        "a multiple-response question has at least two correct options".into(),
                    );
                }
            }
        }
        match &self.note {
            None if require_note => err(
                "note",
                "the study-note section this question tests is required".into(),
            ),
            None => {}
            Some(note) => match note.split_once('#') {
                Some((d, a)) if is_slug(d, 40) && is_slug(a, 80) => {
                    if !bank.domain_exists(d) {
                        err("note", format!("`{note}` names an unknown domain"));
                    } else if bank.note_exists(d, a) == Some(false) {
                        err(
                            "note",
                            format!("`{note}` does not resolve to a section of seed/notes/{d}.md"),
                        );
                    }
                }
                _ => err("note", format!("`{note}` is not of the form domain#anchor")),
            },
        }
        errs
    }

    /// A stable digest of everything a version consists of; equal content, equal hash.
    pub fn content_hash(&self) -> String {
        let canonical = serde_json::json!({
            "domain": self.domain, "tags": self.tags, "kind": self.kind, "difficulty": self.difficulty,
            "stem": self.stem, "options": self.options, "explanation": self.explanation,
            "references": self.references, "exam_domain": self.exam_domain,
            "last_verified": self.last_verified, "note": self.note,
        });
        // drafts without a task hash as they did before the field existed
        let mut canonical = canonical;
        if let Some(t) = &self.task {
            canonical["task"] = serde_json::json!(t);
        }
        let digest = Sha256::digest(canonical.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Lowercase word set of a stem, for near-duplicate detection.
pub fn stem_words(stem: &str) -> std::collections::BTreeSet<String> {
    stem.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Jaccard similarity of two sorted, deduplicated word-id lists; above [`NEAR_DUPLICATE`] two
/// stems are near-duplicates.
pub fn similarity(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    inter as f64 / (a.len() + b.len() - inter) as f64
}

pub const NEAR_DUPLICATE: f64 = 0.8;

#[cfg(test)]
mod tests;
