//! `blueprints.toml`: the exam recipes (count, time, pass mark, weights, unscored questions).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{line_at, problem, read_toml};
use crate::seed::{Bank, SeedProblem};

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
    let Some((text, parsed)) = read_toml::<BlueprintsFile>(file, problems) else {
        return vec![];
    };
    let mut out: Vec<SeedBlueprint> = Vec::new();
    for row in parsed.blueprint {
        let line = line_at(&text, row.span().start);
        let r = row.into_inner();
        let mut bad = |m: String| problems.push(problem(file, line, m));
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
