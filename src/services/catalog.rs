//! The catalog: topic areas, the exam guide's domains and the blueprints, as the API and the
//! pages show them.

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::db::catalog as db;
use crate::error::AppResult;

pub use crate::db::catalog::{BlueprintMeasure, BlueprintRow, DomainRow, ExamDomainRow};

/// The topic areas with their weights and active question counts.
pub async fn list_domains(pool: &PgPool) -> AppResult<Vec<DomainRow>> {
    Ok(db::list_domains(pool).await?)
}

/// Tags with the number of active questions carrying them.
pub async fn list_tags(pool: &PgPool) -> AppResult<Vec<(String, i64)>> {
    Ok(db::list_tags(pool).await?)
}

/// Every blueprint, as stored.
pub async fn list_blueprints(pool: &PgPool) -> AppResult<Vec<BlueprintRow>> {
    Ok(db::list_blueprints(pool).await?)
}

/// The name a person reads for a blueprint: a topic-area drill is named after the area as the
/// catalog calls it ("Identity and access (IAM, STS, Cognito) drill"), not its slug.
pub fn blueprint_name(bp: &BlueprintRow, domains: &[DomainRow]) -> String {
    bp.slug
        .strip_prefix("domain-")
        .and_then(|d| domains.iter().find(|x| x.slug == d))
        .map(|d| format!("{} drill", d.name))
        .unwrap_or_else(|| bp.name.clone())
}

/// Blueprint slug → the name [`blueprint_name`] gives it, for every blueprint.
pub async fn blueprint_names(pool: &PgPool) -> AppResult<BTreeMap<String, String>> {
    let domains = db::list_domains(pool).await?;
    Ok(db::list_blueprints(pool)
        .await?
        .iter()
        .map(|b| (b.slug.clone(), blueprint_name(b, &domains)))
        .collect())
}

/// The exam guide's four domains, in the guide's order, with their weights.
pub async fn exam_domains(pool: &PgPool) -> AppResult<Vec<ExamDomainRow>> {
    let mut conn = pool.acquire().await?;
    Ok(db::exam_domains(&mut conn).await?)
}

/// Every blueprint with how it measures (exam-guide weights, unscored questions).
pub async fn blueprints(pool: &PgPool) -> AppResult<Vec<(BlueprintRow, BlueprintMeasure)>> {
    let rows = db::list_blueprints(pool).await?;
    let mut conn = pool.acquire().await?;
    let measures: BTreeMap<String, BlueprintMeasure> = db::blueprint_measures(&mut conn)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let m = measures.get(&r.slug).cloned().unwrap_or_default();
            (r, m)
        })
        .collect())
}

/// Weights scaled to sum to 1 (all zero when they do not have a positive sum).
pub fn normalised(raw: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    let total: f64 = raw.values().sum();
    raw.iter()
        .map(|(k, v)| (k.clone(), if total > 0.0 { v / total } else { 0.0 }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bp(slug: &str, name: &str) -> BlueprintRow {
        BlueprintRow {
            slug: slug.into(),
            name: name.into(),
            question_count: 20,
            time_limit_minutes: Some(40),
            pass_mark: 720,
            scaled: true,
            shuffle_questions: true,
            shuffle_options: true,
            domain_weights: Default::default(),
        }
    }

    #[test]
    fn drills_are_named_after_their_topic_area() {
        let domains = vec![DomainRow {
            slug: "iam".into(),
            name: "Identity and access (IAM, STS, Cognito)".into(),
            weight: 0.1,
            question_count: 3,
        }];
        assert_eq!(
            blueprint_name(&bp("domain-iam", "Domain drill: iam"), &domains),
            "Identity and access (IAM, STS, Cognito) drill"
        );
        assert_eq!(
            blueprint_name(&bp("quick", "Quick 20"), &domains),
            "Quick 20"
        );
        // an unknown area keeps the catalog's name
        assert_eq!(
            blueprint_name(&bp("domain-zzz", "Domain drill: zzz"), &domains),
            "Domain drill: zzz"
        );
    }
}
