//! A member's one start of a cohort exam: the prepared attempt stamped, or each check on its
//! own and the attempt built here.

use chrono::Utc;
use rand::seq::SliceRandom;
use sqlx::PgPool;
use uuid::Uuid;

use super::exams::{deadline, Window};
use super::membership::get;
use super::prepare::cohort_recipe;
use crate::db::catalog;
use crate::db::cohorts as db;
use crate::domain::attempt::{AssemblyReport, AttemptSpec, AttemptStatus};
use crate::error::{AppError, AppResult, Conflict};
use crate::services::attempts::{create_attempt, plan};

/// A member starts their one attempt, inside the window.
///
/// Its attempt was normally prepared ahead of the opening: starting then only stamps the clock,
/// in one statement. Otherwise (not prepared yet, or a reason to refuse) the checks below run
/// one by one and say what is wrong, and an attempt is built here.
pub async fn start(pool: &PgPool, user: Uuid, id: Uuid, exam_id: Uuid) -> AppResult<Uuid> {
    if let Some(a) = stamp_prepared(pool, user, id, exam_id).await? {
        return Ok(a);
    }
    start_unprepared(pool, user, id, exam_id).await
}

/// Stamps the member's prepared attempt at the exam, if there is one (its id).
async fn stamp_prepared(
    pool: &PgPool,
    user: Uuid,
    id: Uuid,
    exam_id: Uuid,
) -> AppResult<Option<Uuid>> {
    let mut conn = pool.acquire().await?;
    let stamped = crate::db::attempts::start_prepared(&mut conn, id, exam_id, user).await?;
    Ok(stamped.map(|a| a.id))
}

/// The start when there was no prepared attempt to stamp: each check on its own, with its own
/// error, and the attempt built here (or stamped, if it was prepared meanwhile).
async fn start_unprepared(pool: &PgPool, user: Uuid, id: Uuid, exam_id: Uuid) -> AppResult<Uuid> {
    let cohort = get(pool, user, id).await?;
    // everything read from the pool is read before the transaction takes its connection: a
    // transaction waiting for a second connection starves the pool when a cohort starts at once
    let exam = {
        let mut conn = pool.acquire().await?;
        db::exam(&mut conn, id, exam_id).await?
    };
    let exam = exam.ok_or_else(|| AppError::NotFound("no such cohort exam".into()))?;
    let bp = catalog::blueprint(pool, &exam.blueprint)
        .await?
        .ok_or_else(|| AppError::NotFound("no such blueprint".into()))?;
    let mut tx = pool.begin().await?;
    if !db::is_member(&mut tx, id, user).await? {
        return Err(AppError::Forbidden(if cohort.owner_id == user {
            "owners do not sit their own cohort exams; join as a member to take it".into()
        } else {
            "only members can start cohort exams".into()
        }));
    }
    let now = Utc::now();
    let ext = db::extension(&mut tx, exam_id, user).await?;
    match Window::at(now, &exam, ext) {
        Window::Upcoming => {
            return Err(AppError::conflict(
                Conflict::WindowNotOpen,
                format!("the exam opens at {}", exam.opens_at.to_rfc3339()),
            ))
        }
        Window::Closed => {
            return Err(AppError::conflict(
                Conflict::WindowClosed,
                format!("the exam closed at {}", exam.closes_at.to_rfc3339()),
            ))
        }
        Window::Open => {}
    }
    if let Some((attempt, _, _, status)) = db::member_attempt(&mut tx, exam_id, user).await? {
        if status == AttemptStatus::Prepared {
            // prepared since the first look: stamp it
            drop(tx);
            if let Some(a) = stamp_prepared(pool, user, id, exam_id).await? {
                return Ok(a);
            }
        }
        return Err(AppError::conflict(
            Conflict::AlreadyStarted,
            format!(
                "you have already started this exam (attempt {attempt}); each member starts once"
            ),
        ));
    }
    let mut chosen = db::exam_candidates(&mut tx, exam_id).await?;
    if exam.shuffle {
        chosen.shuffle(&mut rand::thread_rng());
    }
    let recipe = cohort_recipe(&bp, &exam, chosen.len());
    let items = plan(chosen, false, exam.shuffle);
    let spec = AttemptSpec::Cohort {
        cohort: id,
        cohort_exam: exam_id,
    };
    let attempt = match create_attempt(
        &mut tx,
        user,
        &recipe,
        Some(exam_id),
        items,
        spec,
        AssemblyReport::whole(recipe.count),
    )
    .await
    {
        Ok(a) => a,
        Err(AppError::Conflict(Conflict::AlreadyStarted, _)) => {
            // prepared meanwhile (the sweeper got there first): stamp that one
            drop(tx);
            if let Some(a) = stamp_prepared(pool, user, id, exam_id).await? {
                return Ok(a);
            }
            return Err(AppError::conflict(
                Conflict::AlreadyStarted,
                "you have already started this exam; each member starts once",
            ));
        }
        Err(e) => return Err(e),
    };
    db::set_deadline(
        &mut tx,
        attempt,
        user,
        deadline(now, bp.time_limit_minutes, exam.closes_at, ext),
    )
    .await?;
    tx.commit().await?;
    Ok(attempt)
}

/// [`start`], returning the started attempt with its questions: for a prepared attempt the
/// stamp and one read of its items (the content comes from the process cache).
pub async fn start_state(
    pool: &PgPool,
    user: Uuid,
    id: Uuid,
    exam_id: Uuid,
) -> AppResult<crate::services::attempts::AttemptState> {
    {
        let mut conn = pool.acquire().await?;
        if let Some(attempt) =
            crate::db::attempts::start_prepared(&mut conn, id, exam_id, user).await?
        {
            let items =
                crate::services::attempts::content::items(&mut conn, attempt.id, user).await?;
            return Ok(crate::services::attempts::AttemptState { attempt, items });
        }
    }
    let attempt = start_unprepared(pool, user, id, exam_id).await?;
    crate::services::attempts::get(pool, user, attempt).await
}
