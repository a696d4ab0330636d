//! Loading the bank files into the database, idempotently.

use sqlx::PgPool;

use crate::db::{catalog, questions};
use crate::seed::Bank;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub domains_changed: usize,
    /// Exam-guide domains written or changed.
    pub exam_domains_changed: usize,
    pub blueprints_changed: usize,
    pub added: usize,
    pub new_versions: usize,
    pub unretired: usize,
    pub retired: u64,
    pub unchanged: usize,
}

impl SeedReport {
    pub fn changed_anything(&self) -> bool {
        *self
            != SeedReport {
                unchanged: self.unchanged,
                ..SeedReport::default()
            }
    }
}

/// Key of the advisory lock that serialises concurrent seeders.
const SEED_LOCK: i64 = 0x6578_616d_6261_6e6b; // "exambank"

/// Writes a validated bank: new questions are added, changed ones get a new version,
/// questions no longer in the files are retired (never deleted). Running it twice changes
/// nothing the second time.
#[tracing::instrument(skip_all, fields(questions = bank.questions.len()))]
pub async fn seed(pool: &PgPool, bank: &Bank) -> anyhow::Result<SeedReport> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", SEED_LOCK)
        .execute(&mut *tx)
        .await?;
    let mut report = SeedReport::default();
    for (i, d) in bank.domains.iter().enumerate() {
        if catalog::upsert_domain(&mut tx, &d.slug, &d.name, d.weight, i as i32).await? {
            report.domains_changed += 1;
        }
    }
    for (i, d) in bank.exam_domains.iter().enumerate() {
        let row = catalog::ExamDomainRow {
            slug: d.slug.clone(),
            name: d.name.clone(),
            weight: d.weight,
        };
        if catalog::upsert_exam_domain(&mut tx, &row, i as i32).await? {
            report.exam_domains_changed += 1;
        }
    }
    for (i, b) in bank.blueprints.iter().enumerate() {
        let row = catalog::BlueprintRow {
            slug: b.slug.clone(),
            name: b.name.clone(),
            question_count: b.question_count,
            time_limit_minutes: b.time_limit_minutes,
            pass_mark: b.pass_mark,
            scaled: b.scaled,
            shuffle_questions: b.shuffle_questions,
            shuffle_options: b.shuffle_options,
            domain_weights: b.domain_weights.clone(),
        };
        let measure = catalog::BlueprintMeasure {
            exam_domain_weights: sqlx::types::Json(b.exam_domain_weights.clone()),
            unscored: b.unscored,
        };
        let changed = catalog::upsert_blueprint(&mut tx, &row, i as i32).await?;
        if catalog::set_blueprint_measure(&mut tx, &b.slug, &measure).await? || changed {
            report.blueprints_changed += 1;
        }
    }
    for q in &bank.questions {
        match questions::find_head_by_slug(&mut tx, &q.slug).await? {
            None => {
                questions::insert(&mut tx, &q.slug, &q.draft, "seed", None).await?;
                report.added += 1;
            }
            Some(head) if head.content_hash != q.draft.content_hash() => {
                questions::add_version(&mut tx, head.id, &q.draft, None).await?;
                report.new_versions += 1;
            }
            Some(head) if head.retired => {
                questions::set_retired(&mut tx, head.id, false).await?;
                report.unretired += 1;
            }
            Some(_) => report.unchanged += 1,
        }
    }
    let keep: Vec<String> = bank.questions.iter().map(|q| q.slug.clone()).collect();
    report.retired = questions::retire_seed_questions_except(&mut tx, &keep).await?;
    catalog::refresh_bank_cells(&mut tx).await?;
    // the pass standard of each scaled blueprint, from the bank as it now is
    crate::services::calibration::refresh_pass_abilities(&mut tx)
        .await
        .map_err(|e| anyhow::anyhow!("pass abilities: {e}"))?;
    tx.commit().await?;
    Ok(report)
}
