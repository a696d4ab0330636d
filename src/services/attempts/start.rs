//! Starting an attempt: validating what the learner asked for into a recipe, planning the
//! drawn questions' order and inserting the attempt.

use std::collections::{BTreeMap, HashSet};

use chrono::{Duration, Utc};
use rand::seq::SliceRandom;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use super::assembly::{draw, AssemblyReport};
use super::review::{started, AttemptState};
use super::{Mode, MAX_CUSTOM_COUNT};
use crate::db::attempts::{self as db, Candidate, NewAttempt, PlannedItem};
use crate::db::catalog;
use crate::domain::attempt::AttemptSpec;
use crate::error::{AppError, AppResult, Conflict, FieldError};

/// What a learner asks for.
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    pub blueprint: Option<String>,
    pub mode: Option<String>,
    pub count: Option<i64>,
    pub domains: Option<BTreeMap<String, f64>>,
    pub time_limit_minutes: Option<i64>,
}

/// A validated recipe.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub blueprint: Option<String>,
    pub mode: Mode,
    pub count: usize,
    pub weights: BTreeMap<String, f64>,
    /// Shares of the scored questions per exam-guide domain (empty: by topic area only).
    pub exam_weights: BTreeMap<String, f64>,
    /// Questions that do not count, out of `count`.
    pub unscored: usize,
    pub time_limit_minutes: Option<i32>,
    pub pass_mark: i32,
    pub scaled: bool,
    pub shuffle_questions: bool,
    pub shuffle_options: bool,
}

async fn recipe(pool: &PgPool, req: &StartRequest) -> AppResult<Recipe> {
    let mut errors = Vec::new();
    let mode = match req.mode.as_deref() {
        None => Some(Mode::Exam),
        Some(m) => Mode::parse(m).or_else(|| {
            errors.push(FieldError::new("mode", "must be `exam` or `practice`"));
            None
        }),
    };
    let domains: HashSet<String> = catalog::domain_weights(pool)
        .await?
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    if let Some(slug) = &req.blueprint {
        if req.count.is_some() || req.domains.is_some() {
            errors.push(FieldError::new(
                "blueprint",
                "give a blueprint or a custom mix (count, domains), not both",
            ));
        }
        let bp = catalog::blueprint(pool, slug).await?;
        let Some(bp) = bp else {
            errors.push(FieldError::new(
                "blueprint",
                format!("unknown blueprint `{slug}`"),
            ));
            return Err(AppError::Validation(errors));
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let weights = bp.domain_weights;
        let mode = mode.unwrap_or(Mode::Exam);
        let time = match req.time_limit_minutes {
            Some(t) if mode == Mode::Practice && (1..=600).contains(&t) => Some(t as i32),
            Some(_) if mode == Mode::Practice => {
                return Err(AppError::validation(
                    "time_limit_minutes",
                    "must be 1 to 600",
                ))
            }
            _ => bp.time_limit_minutes,
        };
        let measure = {
            let mut conn = pool.acquire().await?;
            catalog::blueprint_measure(&mut conn, &bp.slug)
                .await?
                .unwrap_or_default()
        };
        return Ok(Recipe {
            blueprint: Some(bp.slug),
            mode,
            count: bp.question_count as usize,
            weights,
            exam_weights: measure.exam_domain_weights.0,
            unscored: measure.unscored.max(0) as usize,
            time_limit_minutes: time,
            pass_mark: bp.pass_mark,
            scaled: bp.scaled,
            shuffle_questions: bp.shuffle_questions,
            shuffle_options: bp.shuffle_options,
        });
    }
    let count = match req.count {
        Some(c) if (1..=MAX_CUSTOM_COUNT as i64).contains(&c) => c as usize,
        Some(_) => {
            errors.push(FieldError::new(
                "count",
                format!("must be 1 to {MAX_CUSTOM_COUNT}"),
            ));
            0
        }
        None => {
            errors.push(FieldError::new(
                "count",
                "give a blueprint, or a custom mix with a count",
            ));
            0
        }
    };
    let weights = req
        .domains
        .clone()
        .unwrap_or_else(|| domains.iter().map(|d| (d.clone(), 1.0)).collect());
    for (d, w) in &weights {
        if !domains.contains(d) {
            errors.push(FieldError::new(
                format!("domains.{d}"),
                format!("unknown domain `{d}`"),
            ));
        } else if !(w.is_finite() && *w >= 0.0) {
            errors.push(FieldError::new(
                format!("domains.{d}"),
                "weights are non-negative numbers",
            ));
        }
    }
    if weights.values().filter(|w| w.is_finite()).sum::<f64>() <= 0.0 {
        errors.push(FieldError::new(
            "domains",
            "at least one domain needs a positive weight",
        ));
    }
    let time = match req.time_limit_minutes {
        Some(t) if (1..=600).contains(&t) => Some(t as i32),
        Some(_) => {
            errors.push(FieldError::new("time_limit_minutes", "must be 1 to 600"));
            None
        }
        // an exam is always timed: two minutes a question, like the real one
        None if mode == Some(Mode::Exam) => Some((count * 2).max(1) as i32),
        None => None,
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(Recipe {
        blueprint: None,
        mode: mode.unwrap_or(Mode::Exam),
        count,
        weights,
        exam_weights: Default::default(),
        unscored: 0,
        time_limit_minutes: time,
        pass_mark: 720,
        scaled: true,
        shuffle_questions: true,
        shuffle_options: true,
    })
}

/// Plans the attempt's order and option order.
pub fn plan(
    mut chosen: Vec<Candidate>,
    shuffle_questions: bool,
    shuffle_options: bool,
) -> Vec<PlannedItem> {
    let mut rng = rand::thread_rng();
    if shuffle_questions {
        chosen.shuffle(&mut rng);
    }
    chosen
        .into_iter()
        .map(|c| {
            let mut order = c.option_ids.clone();
            if shuffle_options {
                order.shuffle(&mut rng);
            }
            PlannedItem {
                unscored: c.unscored,
                question_id: c.id,
                version: c.version,
                domain: c.domain,
                kind: c.kind,
                difficulty: c.difficulty,
                option_order: order,
            }
        })
        .collect()
}

/// Starts an attempt for a blueprint or a custom mix, and returns it as its owner sees it (read
/// after the commit, on the connection that created it).
#[tracing::instrument(skip_all, fields(user = %user_id))]
pub async fn start(pool: &PgPool, user_id: Uuid, req: StartRequest) -> AppResult<AttemptState> {
    let recipe = recipe(pool, &req).await?;
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let (chosen, report) = draw(&mut tx, user_id, &recipe).await?;
    if chosen.is_empty() {
        return Err(AppError::conflict(
            Conflict::NoQuestions,
            "the bank has no questions for this exam yet",
        ));
    }
    let items = plan(chosen, recipe.shuffle_questions, recipe.shuffle_options);
    let spec = AttemptSpec::Mix {
        blueprint: recipe.blueprint.clone(),
        count: recipe.count,
        domains: recipe.weights.clone(),
        time_limit_minutes: recipe.time_limit_minutes,
    };
    let id = create_attempt(&mut tx, user_id, &recipe, None, items, spec, report).await?;
    if let (Some(blueprint), Mode::Exam) = (recipe.blueprint.as_deref(), recipe.mode) {
        // what readiness would have predicted now: recalibration's evidence once it is finalized
        crate::db::readiness::keep_beliefs(&mut tx, user_id, id, blueprint).await?;
    }
    tx.commit().await?;
    started(&mut conn, user_id, id).await
}

/// Inserts an attempt with planned items (also used by practice and cohort exams).
pub async fn create_attempt(
    conn: &mut PgConnection,
    user_id: Uuid,
    recipe: &Recipe,
    cohort_exam_id: Option<Uuid>,
    items: Vec<PlannedItem>,
    spec: AttemptSpec,
    assembly: AssemblyReport,
) -> AppResult<Uuid> {
    let id = Uuid::new_v4();
    let deadline = recipe
        .time_limit_minutes
        .map(|m| Utc::now() + Duration::minutes(m.into()));
    let inserted = db::insert(
        conn,
        &NewAttempt {
            id,
            user_id,
            mode: recipe.mode,
            blueprint: recipe.blueprint.as_deref(),
            cohort_exam_id,
            deadline,
            pass_mark: recipe.pass_mark,
            scaled: recipe.scaled,
            time_limit_minutes: recipe.time_limit_minutes,
            spec,
            assembly,
        },
        &items,
    )
    .await?;
    if !inserted {
        // only a cohort exam's attempt can collide: the member has one (prepared or started)
        return Err(AppError::conflict(
            Conflict::AlreadyStarted,
            "this member already has an attempt at this cohort exam",
        ));
    }
    let ids: Vec<Uuid> = items.iter().map(|i| i.question_id).collect();
    db::mark_seen(conn, user_id, &ids).await?;
    Ok(id)
}
