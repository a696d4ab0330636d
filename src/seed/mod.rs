//! The bank files under `seed/` (format: `seed/README.md`): parsing with line numbers, the
//! `check-seed` rules, and the study-note anchors questions link to.

pub mod files;
pub mod notes;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::domain::question::{similarity, stem_words, BankContext, NEAR_DUPLICATE};
use crate::domain::slug::{is_slug, QUESTION_ID_MAX};
pub use files::{SeedBlueprint, SeedDomain, SeedQuestion};

/// One problem in the bank files, printed as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedProblem {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for SeedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// Everything under `seed/`, parsed.
#[derive(Debug, Default)]
pub struct Bank {
    pub domains: Vec<SeedDomain>,
    /// The exam guide's four domains and their weights.
    pub exam_domains: Vec<SeedDomain>,
    pub blueprints: Vec<SeedBlueprint>,
    pub questions: Vec<SeedQuestion>,
    /// domain slug → anchors of `notes/{domain}.md`
    pub notes: BTreeMap<String, notes::NoteFile>,
}

impl BankContext for Bank {
    fn domain_exists(&self, slug: &str) -> bool {
        self.domains.iter().any(|d| d.slug == slug)
    }
    fn note_exists(&self, domain: &str, anchor: &str) -> Option<bool> {
        Some(self.notes.get(domain).is_some_and(|n| n.has_anchor(anchor)))
    }
}

/// Reads and validates the bank: the bank as far as it could be read, and every problem.
pub fn load(dir: &Path) -> (Bank, Vec<SeedProblem>) {
    let mut problems = Vec::new();
    let mut bank = Bank {
        domains: files::read_domains(&dir.join("domains.toml"), &mut problems),
        exam_domains: files::read_exam_domains(&dir.join("domains.toml"), &mut problems),
        ..Bank::default()
    };
    bank.blueprints = files::read_blueprints(&dir.join("blueprints.toml"), &bank, &mut problems);
    bank.notes = notes::read_dir(&dir.join("notes"), &mut problems);
    for d in &bank.domains {
        if !bank.notes.contains_key(&d.slug) {
            problems.push(SeedProblem {
                file: dir.join("notes").join(format!("{}.md", d.slug)),
                line: 1,
                message: format!("domain `{}` has no study notes", d.slug),
            });
        }
    }
    bank.questions = files::read_questions(&dir.join("questions"), &bank, &mut problems);
    check_bank_rules(&bank, &mut problems);
    problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    (bank, problems)
}

/// Rules across questions: each question's own rules, unique ids, no near-duplicate stems.
fn check_bank_rules(bank: &Bank, problems: &mut Vec<SeedProblem>) {
    let mut ids: HashMap<&str, &SeedQuestion> = HashMap::new();
    // words interned as sorted integer lists: the pairwise comparison stays cheap for big banks
    let mut vocabulary: HashMap<String, u32> = HashMap::new();
    let mut stems: Vec<(&SeedQuestion, Vec<u32>)> = Vec::new();
    for q in &bank.questions {
        let at = |line: usize, message: String| SeedProblem {
            file: q.file.clone(),
            line,
            message,
        };
        if !is_slug(&q.slug, QUESTION_ID_MAX) {
            problems.push(at(q.line_of("id"), format!("id `{}` is not a slug (lowercase kebab-case, at most {QUESTION_ID_MAX} characters)", q.slug)));
        }
        if let Some(first) = ids.insert(&q.slug, q) {
            problems.push(at(
                q.line_of("id"),
                format!(
                    "duplicate id `{}` (first at {}:{})",
                    q.slug,
                    first.file.display(),
                    first.line
                ),
            ));
        }
        for e in q.draft.validate(bank, true) {
            problems.push(at(
                q.line_of(&e.field),
                format!("{}: {}", e.field, e.message),
            ));
        }
        let mut words: Vec<u32> = stem_words(&q.draft.stem)
            .into_iter()
            .map(|w| {
                let next = vocabulary.len() as u32;
                *vocabulary.entry(w).or_insert(next)
            })
            .collect();
        words.sort_unstable();
        for (other, other_words) in &stems {
            let sim = similarity(&words, other_words);
            if sim > NEAR_DUPLICATE {
                problems.push(at(
                    q.line_of("stem"),
                    format!(
                        "stem is a near-duplicate of `{}` ({}:{}), similarity {:.2}",
                        other.slug,
                        other.file.display(),
                        other.line,
                        sim
                    ),
                ));
            }
        }
        stems.push((q, words));
    }
}
