//! TOML files of the bank, read with spans so every problem has a line: the reading helpers
//! here, one module per kind of file (`domains.toml`, `blueprints.toml`, `questions/*.toml`).

mod blueprints;
mod domains;
mod questions;

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;

use super::{Bank, SeedProblem};

pub use blueprints::{read_blueprints, SeedBlueprint};
pub use domains::{read_domains, read_exam_domains, SeedDomain};
pub use questions::{read_questions, SeedQuestion};

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
    problem(file, line, e.message().to_string())
}

/// A problem at `line` of `file`.
fn problem(file: &Path, line: usize, message: String) -> SeedProblem {
    SeedProblem {
        file: file.into(),
        line,
        message,
    }
}

fn read(file: &Path, problems: &mut Vec<SeedProblem>) -> Option<String> {
    match std::fs::read_to_string(file) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(problem(file, 0, format!("cannot read: {e}")));
            None
        }
    }
}

/// The file read and parsed, or `None` with the problem (unreadable, or a TOML error at its line).
fn read_toml<T: DeserializeOwned>(
    file: &Path,
    problems: &mut Vec<SeedProblem>,
) -> Option<(String, T)> {
    let text = read(file, problems)?;
    match toml::from_str(&text) {
        Ok(p) => Some((text, p)),
        Err(e) => {
            problems.push(toml_problem(file, &text, &e));
            None
        }
    }
}

impl Bank {
    fn domain_exists_slug(&self, slug: &str) -> bool {
        self.domains.iter().any(|d| d.slug == slug)
    }
}
