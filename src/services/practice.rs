//! Adaptive practice: untimed practice attempts drawn from weak areas, from past mistakes, or
//! from the spaced-repetition queue.

use std::collections::BTreeMap;

use chrono::Utc;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, PgPool, Postgres};
use uuid::Uuid;

use crate::db::{attempts, catalog, mastery};
use crate::domain::attempt::{AssemblyReport, AttemptSpec, PracticeSource};
use crate::domain::mastery::weak_practice_domains;
use crate::error::{AppError, AppResult, Conflict, FieldError};
use crate::services::attempts::{
    assemble, create_attempt, plan, started, AttemptState, Mode, Recipe,
};
use crate::services::learning::beliefs;

/// The practice sources' names, as requests give them.
pub const SOURCES: [&str; 3] = [
    PracticeSource::Weak.as_str(),
    PracticeSource::Mistakes.as_str(),
    PracticeSource::Due.as_str(),
];

/// Starts a practice attempt; its id (the pages go to it).
pub async fn start(
    pool: &PgPool,
    user_id: Uuid,
    count: i64,
    source: &str,
    domain: Option<&str>,
) -> AppResult<Uuid> {
    Ok(create(pool, user_id, count, source, domain).await?.1)
}

/// [`start`], returning the started attempt as its owner sees it (read after the commit, on the
/// connection that created it).
pub async fn start_state(
    pool: &PgPool,
    user_id: Uuid,
    count: i64,
    source: &str,
    domain: Option<&str>,
) -> AppResult<AttemptState> {
    let (mut conn, id) = create(pool, user_id, count, source, domain).await?;
    started(&mut conn, user_id, id).await
}

/// Validates, draws and inserts the attempt; the connection it was created on, and its id.
async fn create(
    pool: &PgPool,
    user_id: Uuid,
    count: i64,
    source: &str,
    domain: Option<&str>,
) -> AppResult<(PoolConnection<Postgres>, Uuid)> {
    let mut errors = Vec::new();
    if !(1..=100).contains(&count) {
        errors.push(FieldError::new("count", "must be 1 to 100"));
    }
    let parsed = PracticeSource::parse(source);
    if parsed.is_none() {
        errors.push(FieldError::new(
            "source",
            "must be `weak`, `mistakes` or `due`",
        ));
    }
    let domains = catalog::domain_weights(pool).await?;
    if let Some(d) = domain {
        if !domains.iter().any(|(x, _)| x == d) {
            errors.push(FieldError::new("domain", format!("unknown domain `{d}`")));
        }
    }
    let Some(source) = parsed.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let count = count as usize;
    // read from the pool before the transaction holds a connection (no pool starvation)
    let beliefs = if source == PracticeSource::Weak {
        beliefs(pool, user_id).await?
    } else {
        Default::default()
    };
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let (chosen, report) = match source {
        PracticeSource::Weak => {
            let weights: BTreeMap<String, f64> = domains
                .iter()
                .filter(|(d, _)| domain.is_none_or(|x| x == d))
                .map(|(d, w)| (d.clone(), *w))
                .collect();
            let picks = {
                let mut rng = rand::thread_rng();
                weak_practice_domains(&beliefs, &weights, count, &mut rng)
            };
            let mut plan_weights: BTreeMap<String, f64> = BTreeMap::new();
            for d in picks {
                *plan_weights.entry(d).or_default() += 1.0;
            }
            // the report as assembly made it, with the areas that had too few questions
            assemble(&mut tx, user_id, count, &plan_weights).await?
        }
        PracticeSource::Mistakes | PracticeSource::Due => {
            let ids = if source == PracticeSource::Mistakes {
                mastery::mistakes(&mut tx, user_id, domain, count as i64).await?
            } else {
                mastery::due(&mut tx, user_id, Utc::now(), domain, count as i64)
                    .await?
                    .into_iter()
                    .map(|d| d.question_id)
                    .collect()
            };
            let c = attempts::candidates_by_ids(&mut tx, &ids).await?;
            let mut per_domain: BTreeMap<String, usize> = BTreeMap::new();
            for q in &c {
                *per_domain.entry(q.domain.clone()).or_default() += 1;
            }
            let report = AssemblyReport {
                requested: count,
                drawn: c.len(),
                per_domain,
                shortfalls: vec![],
            };
            (c, report)
        }
    };
    if chosen.is_empty() {
        let why = match source {
            PracticeSource::Mistakes => {
                "no mistakes to retry: every question you got wrong has since been answered right"
            }
            PracticeSource::Due => "no reviews are due",
            PracticeSource::Weak => "the bank has no questions for these areas",
        };
        return Err(AppError::conflict(Conflict::NoQuestions, why));
    }
    let recipe = Recipe {
        blueprint: None,
        mode: Mode::Practice,
        count: chosen.len(),
        weights: BTreeMap::new(),
        exam_weights: BTreeMap::new(),
        unscored: 0,
        time_limit_minutes: None,
        pass_mark: 720,
        scaled: true,
        shuffle_questions: source == PracticeSource::Weak,
        shuffle_options: true,
    };
    let items = plan(chosen, recipe.shuffle_questions, recipe.shuffle_options);
    let id = create_attempt(
        &mut tx,
        user_id,
        &recipe,
        None,
        items,
        AttemptSpec::Practice {
            source,
            domain: domain.map(String::from),
            count,
        },
        report,
    )
    .await?;
    tx.commit().await?;
    Ok((conn, id))
}
