//! Cohort exams: scheduling (one question set, drawn now), the window as a member sees it,
//! deadlines and per-learner extensions.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::membership::{get, owned};
use super::not_found;
use crate::db::catalog;
use crate::db::cohorts as db;
use crate::error::{AppError, AppResult, Conflict, FieldError};
use crate::services::attempts::{assemble, assemble_measured};

use crate::db::cohorts::ExamRow;

/// Schedules a cohort exam: the question set is drawn once, now, with the versions of now.
pub async fn schedule(
    pool: &PgPool,
    user: Uuid,
    id: Uuid,
    blueprint: &str,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    shuffle: bool,
) -> AppResult<ExamRow> {
    owned(pool, user, id).await?;
    let mut errors = Vec::new();
    let bp = catalog::blueprint(pool, blueprint).await?;
    if bp.is_none() {
        errors.push(FieldError::new(
            "blueprint",
            format!("unknown blueprint `{blueprint}`"),
        ));
    }
    if closes_at <= opens_at {
        errors.push(FieldError::new("closes_at", "must be after opens_at"));
    }
    if closes_at <= Utc::now() {
        errors.push(FieldError::new("closes_at", "must be in the future"));
    }
    let Some(bp) = bp.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let weights = bp.domain_weights.clone();
    let mut tx = pool.begin().await?;
    let measure = catalog::blueprint_measure(&mut tx, &bp.slug)
        .await?
        .unwrap_or_default();
    let count = bp.question_count as usize;
    // nobody's recency applies to a shared set
    let (chosen, _) = if measure.exam_domain_weights.is_empty() {
        assemble(&mut tx, Uuid::nil(), count, &weights).await?
    } else {
        assemble_measured(
            &mut tx,
            Uuid::nil(),
            count,
            (measure.unscored.max(0) as usize).min(count),
            &measure.exam_domain_weights,
            &weights,
        )
        .await?
    };
    if chosen.is_empty() {
        return Err(AppError::conflict(
            Conflict::NoQuestions,
            "the bank has no questions for this blueprint",
        ));
    }
    let exam_id = Uuid::new_v4();
    let set: Vec<(Uuid, i32)> = chosen.iter().map(|c| (c.id, c.version)).collect();
    db::insert_exam(
        &mut tx, exam_id, id, &bp.slug, opens_at, closes_at, shuffle, &set,
    )
    .await?;
    let unscored: Vec<Uuid> = chosen.iter().filter(|c| c.unscored).map(|c| c.id).collect();
    db::mark_unscored(&mut tx, exam_id, &unscored).await?;
    let row = db::exam(&mut tx, id, exam_id)
        .await?
        .ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(row)
}

pub async fn exams(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<Vec<ExamRow>> {
    get(pool, user, id).await?;
    let mut conn = pool.acquire().await?;
    Ok(db::exams(&mut conn, id).await?)
}

pub use crate::domain::window::{deadline, Window};

/// A cohort exam as the caller sees it: the window and their own attempt, if any.
pub struct ExamView {
    pub exam: ExamRow,
    pub window: Window,
    pub extension_minutes: i32,
    /// (attempt id, status)
    pub attempt: Option<(Uuid, String)>,
}

/// The cohort's exams with the caller's window and attempt (owner and members).
pub async fn exam_views(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<Vec<ExamView>> {
    get(pool, user, id).await?;
    let mut conn = pool.acquire().await?;
    exam_views_in(&mut conn, user, id).await
}

/// [`exam_views`] on a connection, without its access check (the caller made it): also the
/// cohort pages' read models (`services::cohort_views`).
pub(crate) async fn exam_views_in(
    conn: &mut PgConnection,
    user: Uuid,
    id: Uuid,
) -> AppResult<Vec<ExamView>> {
    let rows = db::exams(conn, id).await?;
    let mine: std::collections::HashMap<Uuid, (Option<Uuid>, Option<String>, i32)> =
        db::my_exam_states(conn, id, user)
            .await?
            .into_iter()
            .map(|(e, a, s, m)| (e, (a, s, m)))
            .collect();
    let now = Utc::now();
    Ok(rows
        .into_iter()
        .map(|exam| {
            let (a, s, ext) = mine.get(&exam.id).cloned().unwrap_or((None, None, 0));
            ExamView {
                window: Window::at(now, &exam, ext),
                extension_minutes: ext,
                attempt: a.zip(s),
                exam,
            }
        })
        .collect())
}

/// Extra minutes for one member, before or during their attempt.
pub async fn extend(
    pool: &PgPool,
    user: Uuid,
    id: Uuid,
    exam_id: Uuid,
    member: Uuid,
    minutes: i64,
) -> AppResult<i32> {
    owned(pool, user, id).await?;
    if !(0..=600).contains(&minutes) {
        return Err(AppError::validation("minutes", "must be 0 to 600"));
    }
    let mut tx = pool.begin().await?;
    let exam = db::exam(&mut tx, id, exam_id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such cohort exam".into()))?;
    if !db::is_member(&mut tx, id, member).await? {
        return Err(AppError::validation(
            "user_id",
            "is not a member of this cohort",
        ));
    }
    db::set_extension(&mut tx, exam_id, member, minutes as i32).await?;
    if let Some((attempt, started, limit, status)) =
        db::member_attempt(&mut tx, exam_id, member).await?
    {
        if status.is_open() {
            db::set_deadline(
                &mut tx,
                attempt,
                member,
                deadline(started, limit, exam.closes_at, minutes as i32),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(minutes as i32)
}

/// Every extension granted for a cohort exam (owner only): (member, minutes).
pub async fn extensions(
    pool: &PgPool,
    user: Uuid,
    id: Uuid,
    exam_id: Uuid,
) -> AppResult<Vec<(Uuid, i32)>> {
    owned(pool, user, id).await?;
    let mut conn = pool.acquire().await?;
    db::exam(&mut conn, id, exam_id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such cohort exam".into()))?;
    Ok(db::extensions(&mut conn, exam_id).await?)
}
