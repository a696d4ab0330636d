//! `questions/{domain}.toml`: one file per topic area, a question per `[[question]]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use super::{line_at, problem, read_toml, Lines};
use crate::domain::question::{OptionDraft, QuestionDraft};
use crate::seed::{Bank, SeedProblem};

/// One question of a bank file, with where its parts are.
#[derive(Debug, Clone)]
pub struct SeedQuestion {
    pub slug: String,
    pub draft: QuestionDraft,
    pub file: PathBuf,
    /// line of the `[[question]]` header
    pub line: usize,
    field_lines: BTreeMap<String, usize>,
}

impl SeedQuestion {
    /// The line of a field named as validation names it (`options[2].rationale` → the option).
    pub fn line_of(&self, field: &str) -> usize {
        let mut key = field;
        loop {
            if let Some(l) = self.field_lines.get(key) {
                return *l;
            }
            match key.rfind(['.', '[']) {
                Some(i) => key = &key[..i],
                None => return self.line,
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionsFile {
    domain: Spanned<String>,
    #[serde(default)]
    question: Vec<Spanned<QuestionRow>>,
}

/// Fields are optional here so that a missing one is reported like any other problem.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionRow {
    id: Option<Spanned<String>>,
    tags: Option<Spanned<Vec<String>>>,
    kind: Option<Spanned<String>>,
    difficulty: Option<Spanned<i64>>,
    exam_domain: Option<Spanned<String>>,
    task: Option<Spanned<String>>,
    note: Option<Spanned<String>>,
    last_verified: Option<Spanned<toml::value::Datetime>>,
    references: Option<Spanned<Vec<String>>>,
    stem: Option<Spanned<String>>,
    explanation: Option<Spanned<String>>,
    #[serde(default)]
    option: Vec<Spanned<OptionRow>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionRow {
    text: Option<Spanned<String>>,
    correct: Option<Spanned<bool>>,
    rationale: Option<Spanned<String>>,
}

pub fn read_questions(
    dir: &Path,
    bank: &Bank,
    problems: &mut Vec<SeedProblem>,
) -> Vec<SeedQuestion> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        problems.push(problem(dir, 0, "questions directory is missing".into()));
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths
        .into_iter()
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("toml"))
    {
        let Some((text, parsed)) = read_toml::<QuestionsFile>(&path, problems) else {
            continue;
        };
        let domain = parsed.domain.get_ref().clone();
        let file_stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if domain != file_stem {
            problems.push(problem(
                &path,
                line_at(&text, parsed.domain.span().start),
                format!("file declares domain `{domain}` but is named {file_stem}.toml"),
            ));
        }
        if !bank.domain_exists_slug(&domain) {
            problems.push(problem(
                &path,
                line_at(&text, parsed.domain.span().start),
                format!("unknown domain `{domain}`"),
            ));
        }
        let lines = Lines::new(&text);
        for row in parsed.question {
            out.push(question_from_row(row, &domain, &path, &lines, problems));
        }
    }
    out
}

fn question_from_row(
    row: Spanned<QuestionRow>,
    domain: &str,
    path: &Path,
    text: &Lines,
    problems: &mut Vec<SeedProblem>,
) -> SeedQuestion {
    let line = text.at(row.span().start);
    let r = row.into_inner();
    let mut lines = BTreeMap::new();
    let mut missing = |name: &str| {
        problems.push(problem(path, line, format!("missing field `{name}`")));
    };
    macro_rules! field {
        ($f:ident, $name:literal, $default:expr) => {
            match r.$f {
                Some(s) => {
                    lines.insert($name.to_string(), text.at(s.span().start));
                    s.into_inner()
                }
                None => {
                    missing($name);
                    $default
                }
            }
        };
    }
    let slug = field!(id, "id", String::new());
    let tags = field!(tags, "tags", Vec::new());
    let kind = field!(kind, "kind", String::new());
    let difficulty = field!(difficulty, "difficulty", 0);
    let exam_domain = field!(exam_domain, "exam_domain", String::new());
    let task = field!(task, "task", String::new());
    let note = field!(note, "note", String::new());
    let last_verified = field!(
        last_verified,
        "last_verified",
        toml::value::Datetime {
            date: None,
            time: None,
            offset: None
        }
    );
    let references = field!(references, "references", Vec::new());
    let stem = field!(stem, "stem", String::new());
    let explanation = field!(explanation, "explanation", String::new());
    let last_verified = match (last_verified.date, last_verified.time) {
        (Some(d), None) => NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into()),
        _ => None,
    };
    if last_verified.is_none() && lines.contains_key("last_verified") {
        problems.push(problem(
            path,
            lines["last_verified"],
            "last_verified must be a date (2026-11-25)".into(),
        ));
    }
    if r.option.is_empty() {
        problems.push(problem(
            path,
            line,
            "question has no [[question.option]]".into(),
        ));
    }
    let mut options = Vec::new();
    for (i, o) in r.option.into_iter().enumerate() {
        let oline = text.at(o.span().start);
        lines.insert(format!("options[{i}]"), oline);
        let o = o.into_inner();
        // an absent text or rationale is reported by the question rules as an empty one
        let text_v = o.text.map(Spanned::into_inner).unwrap_or_default();
        let rationale = o.rationale.map(Spanned::into_inner).unwrap_or_default();
        let correct = o.correct.map(Spanned::into_inner).unwrap_or_else(|| {
            problems.push(problem(
                path,
                oline,
                format!("option {} is missing `correct`", i + 1),
            ));
            false
        });
        options.push(OptionDraft {
            text: text_v,
            correct,
            rationale,
        });
    }
    SeedQuestion {
        slug,
        draft: QuestionDraft {
            domain: domain.to_string(),
            tags,
            kind,
            difficulty,
            stem: stem.trim().to_string(),
            options,
            explanation: explanation.trim().to_string(),
            references,
            exam_domain,
            task: if task.is_empty() { None } else { Some(task) },
            last_verified,
            note: if note.is_empty() { None } else { Some(note) },
        },
        file: path.into(),
        line,
        field_lines: lines,
    }
}
