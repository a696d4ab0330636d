//! Members' attempts at a cohort exam, prepared ahead of its opening (order, option shuffle,
//! items written; no clock running), so that starting only stamps the clock.

use rand::seq::SliceRandom;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::attempts::{NewAttempt, PlannedItem};
use crate::db::catalog;
use crate::db::cohorts as db;
use crate::domain::attempt::{AssemblyReport, AttemptSpec};
use crate::error::AppResult;
use crate::services::attempts::{plan, Mode, Recipe};

use crate::db::cohorts::ExamRow;

/// How many members one preparation transaction takes.
const PREPARE_BATCH: i64 = 250;

/// Prepares attempts for the members of cohort exams that open within `lead_secs`: one exam
/// per call, up to [`PREPARE_BATCH`] members, in one transaction. Safe with several processes:
/// the exam's row is locked with SKIP LOCKED, and a learner who already has an attempt is
/// skipped. Returns how many attempts were prepared (0 when nothing is due).
pub async fn prepare_due(pool: &PgPool, lead_secs: u64) -> AppResult<usize> {
    let mut tx = pool.begin().await?;
    let Some((exam, cohort)) = db::lock_exam_to_prepare(&mut tx, lead_secs as f64).await? else {
        return Ok(0);
    };
    let members = db::unprepared_members(&mut tx, cohort, exam, PREPARE_BATCH).await?;
    let n = prepare(&mut tx, cohort, exam, &members).await?;
    tx.commit().await?;
    Ok(n)
}

/// Prepares each learner's attempt at a cohort exam: the exam's pinned question set in this
/// learner's order and option order (when the exam shuffles), items written, no clock running.
pub(super) async fn prepare(
    conn: &mut sqlx::PgConnection,
    cohort: Uuid,
    exam_id: Uuid,
    learners: &[Uuid],
) -> AppResult<usize> {
    if learners.is_empty() {
        return Ok(0);
    }
    let Some(exam) = db::exam(conn, cohort, exam_id).await? else {
        return Ok(0);
    };
    let Some(bp) = catalog::blueprint_in(conn, &exam.blueprint).await? else {
        return Ok(0);
    };
    let set = db::exam_candidates(conn, exam_id).await?;
    let recipe = cohort_recipe(&bp, &exam, set.len());
    let plans: Vec<(Uuid, Vec<PlannedItem>)> = learners
        .iter()
        .map(|&u| {
            let mut chosen = set.clone();
            if exam.shuffle {
                chosen.shuffle(&mut rand::thread_rng());
            }
            (u, plan(chosen, false, exam.shuffle))
        })
        .collect();
    let template = NewAttempt {
        id: Uuid::nil(),
        user_id: Uuid::nil(),
        mode: recipe.mode,
        blueprint: recipe.blueprint.as_deref(),
        cohort_exam_id: Some(exam_id),
        deadline: None,
        pass_mark: recipe.pass_mark,
        scaled: recipe.scaled,
        time_limit_minutes: recipe.time_limit_minutes,
        spec: AttemptSpec::Cohort {
            cohort,
            cohort_exam: exam_id,
        },
        assembly: AssemblyReport::whole(recipe.count),
    };
    Ok(
        crate::db::attempts::insert_prepared(conn, &template, &plans)
            .await?
            .len(),
    )
}

/// The recipe of a cohort exam's attempts.
pub(super) fn cohort_recipe(bp: &catalog::BlueprintRow, exam: &ExamRow, count: usize) -> Recipe {
    Recipe {
        blueprint: Some(bp.slug.clone()),
        mode: Mode::Exam,
        count,
        weights: Default::default(),
        exam_weights: Default::default(),
        unscored: 0,
        time_limit_minutes: bp.time_limit_minutes,
        pass_mark: bp.pass_mark,
        scaled: bp.scaled,
        shuffle_questions: false,
        shuffle_options: exam.shuffle,
    }
}
