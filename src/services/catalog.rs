//! The catalog: topic areas, the exam guide's domains and the blueprints, as the API and the
//! pages show them.

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::db::catalog::{self as db, BlueprintMeasure, BlueprintRow, ExamDomainRow};
use crate::error::AppResult;

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
