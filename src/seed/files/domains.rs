//! `domains.toml`: the topic areas (`[[domain]]`) and the exam guide's domains (`[[exam_domain]]`).

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{line_at, problem, read, read_toml};
use crate::seed::SeedProblem;

#[derive(Debug, Clone)]
pub struct SeedDomain {
    pub slug: String,
    pub name: String,
    pub weight: f64,
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
    let Some((text, parsed)) = read_toml::<DomainsFile>(file, problems) else {
        return vec![];
    };
    let mut out: Vec<SeedDomain> = Vec::new();
    for row in parsed.domain {
        let line = line_at(&text, row.span().start);
        let r = row.into_inner();
        if !crate::domain::slug::is_slug(&r.slug, 40) {
            problems.push(problem(
                file,
                line,
                format!("domain slug `{}` is not a slug", r.slug),
            ));
        }
        if out.iter().any(|d| d.slug == r.slug) {
            problems.push(problem(
                file,
                line,
                format!("duplicate domain `{}`", r.slug),
            ));
        }
        if !(r.weight.is_finite() && r.weight >= 0.0) {
            problems.push(problem(
                file,
                line,
                "weight must be a non-negative number".into(),
            ));
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
        let mut bad = |m: String| problems.push(problem(file, line, m));
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
            problems.push(problem(file, 1, format!(
                    "[[exam_domain]] must list the four exam-guide domains once each, with weights summing to 1 (found {} summing to {total})",
                    out.len()
                )));
        }
    }
    out
}
