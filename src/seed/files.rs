//! TOML files of the bank, read with spans so every problem has a line.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use super::{Bank, SeedProblem};
use crate::domain::question::{OptionDraft, QuestionDraft};

#[derive(Debug, Clone)]
pub struct SeedDomain {
    pub slug: String,
    pub name: String,
    pub weight: f64,
}

#[derive(Debug, Clone)]
pub struct SeedBlueprint {
    /// Shares of the scored questions per exam-guide domain (empty: by topic area only).
    pub exam_domain_weights: BTreeMap<String, f64>,
    /// Questions that do not count (as on the real exam), out of `question_count`.
    pub unscored: i32,
    pub slug: String,
    pub name: String,
    pub question_count: i32,
    pub time_limit_minutes: Option<i32>,
    pub pass_mark: i32,
    pub scaled: bool,
    pub shuffle_questions: bool,
    pub shuffle_options: bool,
    pub domain_weights: BTreeMap<String, f64>,
}

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

/// Byte offset → line number, by binary search over the line starts.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        Lines(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }
    fn at(&self, offset: usize) -> usize {
        self.0.partition_point(|&nl| nl < offset) + 1
    }
}

fn line_at(text: &str, offset: usize) -> usize {
    Lines::new(text).at(offset)
}

fn toml_problem(file: &Path, text: &str, e: &toml::de::Error) -> SeedProblem {
    let line = e
        .span()
        .map(|s: Range<usize>| line_at(text, s.start))
        .unwrap_or(1);
    SeedProblem {
        file: file.into(),
        line,
        message: e.message().to_string(),
    }
}

fn read(file: &Path, problems: &mut Vec<SeedProblem>) -> Option<String> {
    match std::fs::read_to_string(file) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(SeedProblem {
                file: file.into(),
                line: 0,
                message: format!("cannot read: {e}"),
            });
            None
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainsFile {
    domain: Vec<Spanned<DomainRow>>,
    #[serde(default)]
    exam_domain: Vec<Spanned<DomainRow>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainRow {
    slug: String,
    name: String,
    weight: f64,
}

pub fn read_domains(file: &Path, problems: &mut Vec<SeedProblem>) -> Vec<SeedDomain> {
    let Some(text) = read(file, problems) else {
        return vec![];
    };
    let parsed: DomainsFile = match toml::from_str(&text) {
        Ok(p) => p,
        Err(e) => {
            problems.push(toml_problem(file, &text, &e));
            return vec![];
        }
    };
    let mut out: Vec<SeedDomain> = Vec::new();
    for row in parsed.domain {
        let line = line_at(&text, row.span().start);
        let r = row.into_inner();
        if !crate::domain::slug::is_slug(&r.slug, 40) {
            problems.push(SeedProblem {
                file: file.into(),
                line,
                message: format!("domain slug `{}` is not a slug", r.slug),
            });
        }
        if out.iter().any(|d| d.slug == r.slug) {
            problems.push(SeedProblem {
                file: file.into(),
                line,
                message: format!("duplicate domain `{}`", r.slug),
            });
        }
        if !(r.weight.is_finite() && r.weight >= 0.0) {
            problems.push(SeedProblem {
                file: file.into(),
                line,
                message: "weight must be a non-negative number".into(),
            });
        }
        out.push(SeedDomain {
            slug: r.slug,
            name: r.name,
            weight: r.weight,
        });
    }
    out
}

/// The exam guide's domains (`[[exam_domain]]` of domains.toml): exactly the four of the
/// DVA-C02 guide, with weights that sum to 1.
pub fn read_exam_domains(file: &Path, problems: &mut Vec<SeedProblem>) -> Vec<SeedDomain> {
    let Some(text) = read(file, problems) else {
        return vec![];
    };
    let Ok(parsed) = toml::from_str::<DomainsFile>(&text) else {
        // read_domains reports the syntax error
        return vec![];
    };
    let mut out: Vec<SeedDomain> = Vec::new();
    for row in parsed.exam_domain {
        let line = line_at(&text, row.span().start);
        let r = row.into_inner();
        let mut bad = |m: String| {
            problems.push(SeedProblem {
                file: file.into(),
                line,
                message: m,
            })
        };
        if !crate::domain::question::EXAM_DOMAINS.contains(&r.slug.as_str()) {
            bad(format!(
                "exam domain `{}` is not one of {}",
                r.slug,
                crate::domain::question::EXAM_DOMAINS.join(", ")
            ));
        }
        if out.iter().any(|d| d.slug == r.slug) {
            bad(format!("duplicate exam domain `{}`", r.slug));
        }
        if !(r.weight.is_finite() && r.weight >= 0.0) {
            bad("weight must be a non-negative number".into());
        }
        out.push(SeedDomain {
            slug: r.slug,
            name: r.name,
            weight: r.weight,
        });
    }
    if !out.is_empty() {
        let total: f64 = out.iter().map(|d| d.weight).sum();
        if out.len() != crate::domain::question::EXAM_DOMAINS.len() || (total - 1.0).abs() > 1e-6 {
            problems.push(SeedProblem {
                file: file.into(),
                line: 1,
                message: format!(
                    "[[exam_domain]] must list the four exam-guide domains once each, with weights summing to 1 (found {} summing to {total})",
                    out.len()
                ),
            });
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlueprintsFile {
    blueprint: Vec<Spanned<BlueprintRow>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlueprintRow {
    slug: String,
    name: String,
    question_count: i32,
    time_limit_minutes: Option<i32>,
    pass_mark: i32,
    #[serde(default = "yes")]
    scaled: bool,
    #[serde(default = "yes")]
    shuffle_questions: bool,
    #[serde(default = "yes")]
    shuffle_options: bool,
    domain_weights: Option<BTreeMap<String, f64>>,
    #[serde(default)]
    exam_domain_weights: BTreeMap<String, f64>,
    #[serde(default)]
    unscored: i32,
}

fn yes() -> bool {
    true
}

pub fn read_blueprints(
    file: &Path,
    bank: &Bank,
    problems: &mut Vec<SeedProblem>,
) -> Vec<SeedBlueprint> {
    let Some(text) = read(file, problems) else {
        return vec![];
    };
    let parsed: BlueprintsFile = match toml::from_str(&text) {
        Ok(p) => p,
        Err(e) => {
            problems.push(toml_problem(file, &text, &e));
            return vec![];
        }
    };
    let mut out: Vec<SeedBlueprint> = Vec::new();
    for row in parsed.blueprint {
        let line = line_at(&text, row.span().start);
        let r = row.into_inner();
        let mut bad = |m: String| {
            problems.push(SeedProblem {
                file: file.into(),
                line,
                message: m,
            })
        };
        if !crate::domain::slug::is_slug(&r.slug, 40) {
            bad(format!("blueprint slug `{}` is not a slug", r.slug));
        }
        if out.iter().any(|b| b.slug == r.slug) {
            bad(format!("duplicate blueprint `{}`", r.slug));
        }
        if !(1..=500).contains(&r.question_count) {
            bad("question_count must be 1 to 500".into());
        }
        if r.time_limit_minutes
            .is_some_and(|t| !(1..=600).contains(&t))
        {
            bad("time_limit_minutes must be 1 to 600".into());
        }
        if !(100..=1000).contains(&r.pass_mark) {
            bad("pass_mark must be 100 to 1000 (scaled score)".into());
        }
        let weights = match r.domain_weights {
            Some(w) => w,
            None => bank
                .domains
                .iter()
                .map(|d| (d.slug.clone(), d.weight))
                .collect(),
        };
        for (d, w) in &weights {
            if !bank.domain_exists_slug(d) {
                bad(format!("domain_weights names unknown domain `{d}`"));
            }
            if !(w.is_finite() && *w >= 0.0) {
                bad(format!("weight of `{d}` must be a non-negative number"));
            }
        }
        if weights.values().sum::<f64>() <= 0.0 {
            bad("domain_weights must have a positive total".into());
        }
        for (d, w) in &r.exam_domain_weights {
            if !crate::domain::question::EXAM_DOMAINS.contains(&d.as_str()) {
                bad(format!(
                    "exam_domain_weights names unknown exam domain `{d}`"
                ));
            }
            if !(w.is_finite() && *w >= 0.0) {
                bad(format!("weight of `{d}` must be a non-negative number"));
            }
        }
        if !r.exam_domain_weights.is_empty() && r.exam_domain_weights.values().sum::<f64>() <= 0.0 {
            bad("exam_domain_weights must have a positive total".into());
        }
        if !(0..r.question_count.max(1)).contains(&r.unscored) {
            bad("unscored must be 0 or more and fewer than question_count".into());
        }
        out.push(SeedBlueprint {
            exam_domain_weights: r.exam_domain_weights,
            unscored: r.unscored,
            slug: r.slug,
            name: r.name,
            question_count: r.question_count,
            time_limit_minutes: r.time_limit_minutes,
            pass_mark: r.pass_mark,
            scaled: r.scaled,
            shuffle_questions: r.shuffle_questions,
            shuffle_options: r.shuffle_options,
            domain_weights: weights,
        });
    }
    out
}

impl Bank {
    fn domain_exists_slug(&self, slug: &str) -> bool {
        self.domains.iter().any(|d| d.slug == slug)
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
        problems.push(SeedProblem {
            file: dir.into(),
            line: 0,
            message: "questions directory is missing".into(),
        });
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths
        .into_iter()
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("toml"))
    {
        let Some(text) = read(&path, problems) else {
            continue;
        };
        let parsed: QuestionsFile = match toml::from_str(&text) {
            Ok(p) => p,
            Err(e) => {
                problems.push(toml_problem(&path, &text, &e));
                continue;
            }
        };
        let domain = parsed.domain.get_ref().clone();
        let file_stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if domain != file_stem {
            problems.push(SeedProblem {
                file: path.clone(),
                line: line_at(&text, parsed.domain.span().start),
                message: format!("file declares domain `{domain}` but is named {file_stem}.toml"),
            });
        }
        if !bank.domain_exists_slug(&domain) {
            problems.push(SeedProblem {
                file: path.clone(),
                line: line_at(&text, parsed.domain.span().start),
                message: format!("unknown domain `{domain}`"),
            });
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
        problems.push(SeedProblem {
            file: path.into(),
            line,
            message: format!("missing field `{name}`"),
        });
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
        problems.push(SeedProblem {
            file: path.into(),
            line: lines["last_verified"],
            message: "last_verified must be a date (2026-11-25)".into(),
        });
    }
    if r.option.is_empty() {
        problems.push(SeedProblem {
            file: path.into(),
            line,
            message: "question has no [[question.option]]".into(),
        });
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
            problems.push(SeedProblem {
                file: path.into(),
                line: oline,
                message: format!("option {} is missing `correct`", i + 1),
            });
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
