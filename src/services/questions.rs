//! The question bank as a use case: browse and search, authoring with versions, retiring,
//! import/export, and learners' reports.

use std::collections::HashSet;

use sqlx::PgPool;
use uuid::Uuid;

use crate::db::questions as db;
use crate::domain::question::{BankContext, BankItem, OptionDraft, QuestionDraft};
use crate::domain::slug::{is_slug, QUESTION_ID_MAX};
use crate::domain::user::Role;
use crate::error::{AppError, AppResult, FieldError};
use crate::services::accounts::require_role;
use crate::services::notes::NotesCatalog;

pub use crate::db::questions::{ListFilter, QuestionRow, ReportRow};

pub const AUTHORS: &[Role] = &[Role::Instructor, Role::Admin];
pub const MAX_PAGE: i64 = 100;

/// The rules' view of the live bank: domains from the database, note anchors from the notes.
struct LiveBank<'a> {
    domains: HashSet<String>,
    notes: &'a NotesCatalog,
}

impl BankContext for LiveBank<'_> {
    fn domain_exists(&self, slug: &str) -> bool {
        self.domains.contains(slug)
    }
    fn note_exists(&self, domain: &str, anchor: &str) -> Option<bool> {
        (!self.notes.is_empty()).then(|| self.notes.has_anchor(domain, anchor))
    }
}

async fn live_bank<'a>(pool: &PgPool, notes: &'a NotesCatalog) -> AppResult<LiveBank<'a>> {
    let mut conn = pool.acquire().await?;
    Ok(LiveBank {
        domains: db::domain_slugs(&mut conn).await?.into_iter().collect(),
        notes,
    })
}

fn validate_with(bank: &LiveBank<'_>, draft: &QuestionDraft, prefix: &str) -> Vec<FieldError> {
    draft
        .validate(bank, false)
        .into_iter()
        .map(|e| FieldError::new(format!("{prefix}{}", e.field), e.message))
        .collect()
}

/// Whether the caller may see answers: instructors and admins (as the database has it now).
pub async fn can_author(pool: &PgPool, user: Uuid) -> AppResult<bool> {
    match require_role(pool, user, AUTHORS).await {
        Ok(_) => Ok(true),
        Err(AppError::Forbidden(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

pub struct Page {
    pub items: Vec<QuestionRow>,
    pub next_cursor: Option<String>,
}

/// One page of the bank. Retired questions only for authors who ask for them.
pub async fn browse(pool: &PgPool, mut filter: ListFilter, limit: i64) -> AppResult<Page> {
    let limit = limit.clamp(1, MAX_PAGE);
    if let Some(q) = &filter.q {
        if q.trim().is_empty() {
            filter.q = None;
        }
    }
    let mut conn = pool.acquire().await?;
    let mut items = db::list(&mut conn, &filter, limit + 1).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|q| q.slug.clone())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

pub async fn get(pool: &PgPool, id: Uuid) -> AppResult<QuestionRow> {
    let mut conn = pool.acquire().await?;
    db::get_current(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such question".into()))
}

fn new_slug(domain: &str) -> String {
    format!("{domain}-{}", &Uuid::new_v4().simple().to_string()[..12])
}

/// A new question (version 1), owned by the authoring API.
pub async fn create(
    pool: &PgPool,
    notes: &NotesCatalog,
    author: Uuid,
    draft: QuestionDraft,
) -> AppResult<QuestionRow> {
    require_role(pool, author, AUTHORS).await?;
    let bank = live_bank(pool, notes).await?;
    let errors = validate_with(&bank, &draft, "");
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut tx = pool.begin().await?;
    let id = db::insert(
        &mut tx,
        &new_slug(&draft.domain),
        &draft,
        "author",
        Some(author),
    )
    .await?;
    db::mark_pilot(&mut tx, id, 1).await?;
    crate::db::catalog::refresh_bank_cells(&mut tx).await?;
    let row = db::get_current(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such question".into()))?;
    tx.commit().await?;
    Ok(row)
}

/// Every edit is a new version; attempts keep the version they were built with. An edit that
/// changes nothing makes no version.
pub async fn update(
    pool: &PgPool,
    notes: &NotesCatalog,
    author: Uuid,
    id: Uuid,
    draft: QuestionDraft,
) -> AppResult<QuestionRow> {
    require_role(pool, author, AUTHORS).await?;
    let bank = live_bank(pool, notes).await?;
    let errors = validate_with(&bank, &draft, "");
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut tx = pool.begin().await?;
    let current = db::get_current(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such question".into()))?;
    let mut draft = draft;
    if draft.last_verified.is_none() {
        draft.last_verified = Some(chrono::Utc::now().date_naive());
    }
    if draft_of(&current).content_hash() != draft.content_hash() || current.retired {
        let v = db::add_version(&mut tx, id, &draft, Some(author)).await?;
        db::mark_pilot(&mut tx, id, v).await?;
        crate::db::catalog::refresh_bank_cells(&mut tx).await?;
    }
    let row = db::get_current(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such question".into()))?;
    tx.commit().await?;
    Ok(row)
}

/// Hides the question from new exams; attempts that use it are unaffected.
pub async fn retire(pool: &PgPool, author: Uuid, id: Uuid) -> AppResult<()> {
    require_role(pool, author, AUTHORS).await?;
    let mut tx = pool.begin().await?;
    db::get_current(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such question".into()))?;
    db::set_retired(&mut tx, id, true).await?;
    crate::db::catalog::refresh_bank_cells(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The author shape of a stored version (what export writes and edits compare against).
pub fn draft_of(q: &QuestionRow) -> QuestionDraft {
    let options = q
        .options
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| OptionDraft {
                    text: o["text"].as_str().unwrap_or_default().to_string(),
                    correct: o["correct"].as_bool().unwrap_or(false),
                    rationale: o["rationale"].as_str().unwrap_or_default().to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    QuestionDraft {
        domain: q.domain.clone(),
        tags: q.tags.clone(),
        kind: q.kind.clone(),
        difficulty: q.difficulty.into(),
        stem: q.stem.clone(),
        options,
        explanation: q.explanation.clone(),
        references: q.references.clone(),
        exam_domain: q.exam_domain.clone(),
        task: q.task.clone(),
        last_verified: Some(q.last_verified),
        note: q.note.clone(),
    }
}

pub async fn export(pool: &PgPool, author: Uuid, domain: Option<&str>) -> AppResult<Vec<BankItem>> {
    require_role(pool, author, AUTHORS).await?;
    let mut conn = pool.acquire().await?;
    let rows = db::all_current(&mut conn, domain).await?;
    Ok(rows
        .iter()
        .map(|q| BankItem {
            slug: Some(q.slug.clone()),
            draft: draft_of(q),
        })
        .collect())
}

#[derive(Debug, Default, Clone, Copy)]
pub struct ImportReport {
    pub added: usize,
    pub new_versions: usize,
    pub unchanged: usize,
}

/// Imports a batch all-or-nothing: every item is validated first (errors are named
/// `questions[i].field`), then new slugs are added and known ones get a new version when
/// their content differs.
pub async fn import(
    pool: &PgPool,
    notes: &NotesCatalog,
    author: Uuid,
    items: Vec<BankItem>,
) -> AppResult<ImportReport> {
    require_role(pool, author, AUTHORS).await?;
    let bank = live_bank(pool, notes).await?;
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        errors.extend(validate_with(
            &bank,
            &item.draft,
            &format!("questions[{i}]."),
        ));
        if let Some(slug) = &item.slug {
            if !is_slug(slug, QUESTION_ID_MAX) {
                errors.push(FieldError::new(
                    format!("questions[{i}].slug"),
                    format!("`{slug}` is not a slug"),
                ));
            } else if !seen.insert(slug.clone()) {
                errors.push(FieldError::new(
                    format!("questions[{i}].slug"),
                    format!("`{slug}` appears twice in the import"),
                ));
            }
        }
    }
    if items.is_empty() {
        errors.push(FieldError::new("questions", "nothing to import"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut report = ImportReport::default();
    let mut tx = pool.begin().await?;
    for item in items {
        let slug = item
            .slug
            .clone()
            .unwrap_or_else(|| new_slug(&item.draft.domain));
        match db::find_head_by_slug(&mut tx, &slug).await? {
            None => {
                let id = db::insert(&mut tx, &slug, &item.draft, "import", Some(author)).await?;
                db::mark_pilot(&mut tx, id, 1).await?;
                report.added += 1;
            }
            Some(head) if head.content_hash != item.draft.content_hash() || head.retired => {
                let v = db::add_version(&mut tx, head.id, &item.draft, Some(author)).await?;
                db::mark_pilot(&mut tx, head.id, v).await?;
                report.new_versions += 1;
            }
            Some(_) => report.unchanged += 1,
        }
    }
    crate::db::catalog::refresh_bank_cells(&mut tx).await?;
    tx.commit().await?;
    Ok(report)
}

pub const REPORT_KINDS: [&str; 4] = ["wrong_answer", "outdated", "unclear", "other"];

/// Any signed-in user reports a problem with a question.
pub async fn report(
    pool: &PgPool,
    user: Uuid,
    question: Uuid,
    kind: &str,
    message: &str,
) -> AppResult<ReportRow> {
    let mut errors = Vec::new();
    if !REPORT_KINDS.contains(&kind) {
        errors.push(FieldError::new(
            "kind",
            format!("must be one of {}", REPORT_KINDS.join(", ")),
        ));
    }
    let message = message.trim();
    if message.is_empty() || message.chars().count() > 2000 {
        errors.push(FieldError::new("message", "must be 1 to 2000 characters"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut conn = pool.acquire().await?;
    db::insert_report(&mut conn, question, user, kind, message)
        .await?
        .ok_or_else(|| AppError::NotFound("no such question".into()))
}

pub async fn reports(pool: &PgPool, author: Uuid, question: Uuid) -> AppResult<Vec<ReportRow>> {
    require_role(pool, author, AUTHORS).await?;
    let mut conn = pool.acquire().await?;
    db::get_current(&mut conn, question)
        .await?
        .ok_or_else(|| AppError::NotFound("no such question".into()))?;
    Ok(db::list_reports(&mut conn, question).await?)
}

pub async fn resolve_report(
    pool: &PgPool,
    author: Uuid,
    question: Uuid,
    report: Uuid,
    resolution: &str,
) -> AppResult<ReportRow> {
    require_role(pool, author, AUTHORS).await?;
    let mut conn = pool.acquire().await?;
    db::resolve_report(&mut conn, question, report, author, resolution.trim())
        .await?
        .ok_or_else(|| AppError::NotFound("no such report".into()))
}
