//! The owner's results of a cohort exam (per learner, per domain, item statistics), its CSV,
//! and an attempt's result for the owner.

use sqlx::PgPool;
use uuid::Uuid;

use super::membership::owned;
use crate::db::cohorts as db;
use crate::domain::result::AttemptResult;
use crate::error::{AppError, AppResult, Conflict};

use crate::db::cohorts::{CohortRow, ExamItemRow, ExamRow, LearnerResultRow};

pub struct LearnerResult {
    pub row: LearnerResultRow,
    /// "not_started", "in_progress", "submitted" or "expired"
    pub status: String,
    pub time_used_seconds: Option<i64>,
}

pub struct ItemResult {
    pub item: ExamItemRow,
    pub stat: crate::domain::itemstats::ItemStat,
}

pub struct ExamResults {
    /// The cohort, as the owner check read it.
    pub cohort: CohortRow,
    pub exam: ExamRow,
    pub learners: Vec<LearnerResult>,
    /// domain → (mean percent over finalized attempts, attempts)
    pub domains: std::collections::BTreeMap<String, (f64, usize)>,
    pub items: Vec<ItemResult>,
}

/// Results of a cohort exam for its owner: per learner, per domain, and item statistics.
pub async fn results(pool: &PgPool, user: Uuid, id: Uuid, exam_id: Uuid) -> AppResult<ExamResults> {
    use crate::domain::itemstats::{analyse, Response};
    use std::collections::{BTreeMap, HashMap};
    let cohort = owned(pool, user, id).await?;
    let mut conn = pool.acquire().await?;
    let exam = db::exam(&mut conn, id, exam_id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such cohort exam".into()))?;
    let rows = db::learner_results(&mut conn, id, exam_id).await?;
    let items = db::exam_items(&mut conn, exam_id).await?;
    let responses = db::exam_responses(&mut conn, exam_id).await?;
    let mut domains: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let learners: Vec<LearnerResult> = rows
        .into_iter()
        .map(|row| {
            if let Some(r) = &row.result {
                for d in &r.domains {
                    let e = domains.entry(d.domain.clone()).or_default();
                    e.0 += d.percent;
                    e.1 += 1;
                }
            }
            let time_used_seconds = match (row.started_at, row.finalized_at) {
                (Some(s), Some(f)) => Some((f - s).num_seconds()),
                _ => None,
            };
            LearnerResult {
                status: row.status.clone().unwrap_or_else(|| "not_started".into()),
                time_used_seconds,
                row,
            }
        })
        .collect();
    for v in domains.values_mut() {
        v.0 /= v.1.max(1) as f64;
    }
    let finished: Vec<Uuid> = learners
        .iter()
        .filter(|l| l.row.result.is_some())
        .map(|l| l.row.user_id)
        .collect();
    let learner_index: HashMap<Uuid, usize> =
        finished.iter().enumerate().map(|(i, u)| (*u, i)).collect();
    let item_index: HashMap<Uuid, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.question_id, i))
        .collect();
    let resp: Vec<Response> = responses
        .into_iter()
        .filter_map(|r| {
            Some(Response {
                learner: *learner_index.get(&r.user_id)?,
                item: *item_index.get(&r.question_id)?,
                correct: r.correct == Some(true),
                choices: r.choices,
            })
        })
        .collect();
    let options: BTreeMap<usize, Vec<String>> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (i, it.options.iter().map(|o| o.id.clone()).collect()))
        .collect();
    let stats = analyse(finished.len(), items.len(), &resp, &options);
    let items = items
        .into_iter()
        .zip(stats)
        .map(|(item, stat)| ItemResult { item, stat })
        .collect();
    Ok(ExamResults {
        cohort,
        exam,
        learners,
        domains,
        items,
    })
}

/// One CSV field: quoted when needed, and defused when a spreadsheet would read it as a formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `results.csv`: one row per member, per-domain percentages as columns (UTF-8 with BOM, CRLF).
pub fn results_csv(r: &ExamResults) -> String {
    let domains: Vec<&String> = r.domains.keys().collect();
    let mut out = String::from("\u{feff}");
    let mut header = vec![
        "learner",
        "email",
        "status",
        "correct",
        "total",
        "percent",
        "scaled_score",
        "passed",
        "time_used_seconds",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    header.extend(domains.iter().map(|d| format!("{d}_percent")));
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for l in &r.learners {
        let res = l.row.result.as_ref();
        // numbers as the stored document writes them (`100.0`, not `100`)
        let num = |f: fn(&AttemptResult) -> serde_json::Value| {
            res.map(|r| f(r).to_string()).unwrap_or_default()
        };
        let mut cells = vec![
            csv_field(&l.row.display_name),
            csv_field(&l.row.email),
            l.status.clone(),
            num(|r| r.correct.into()),
            num(|r| r.total.into()),
            num(|r| r.percent.into()),
            num(|r| r.scaled_score.into()),
            num(|r| r.passed.into()),
            l.time_used_seconds
                .map(|t| t.to_string())
                .unwrap_or_default(),
        ];
        for d in &domains {
            let p = res
                .and_then(|r| r.domains.iter().find(|x| &x.domain == *d))
                .map(|x| serde_json::Value::from(x.percent).to_string())
                .unwrap_or_default();
            cells.push(p);
        }
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// An instructor reads the result of an attempt at one of their own cohort exams.
pub async fn owned_attempt_result(
    pool: &PgPool,
    owner: Uuid,
    attempt: Uuid,
) -> AppResult<Option<AttemptResult>> {
    let mut conn = pool.acquire().await?;
    match db::owned_attempt_result(&mut conn, attempt, owner).await? {
        None => Ok(None),
        Some(None) => Err(AppError::conflict(
            Conflict::AttemptInProgress,
            "the attempt is still in progress",
        )),
        Some(Some(r)) => Ok(Some(r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("Ann"), "Ann");
        assert_eq!(csv_field("Smith, Ann"), "\"Smith, Ann\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
