//! Mock exams: assembling an attempt from a blueprint or a custom mix, saving answers,
//! finalizing (submit, expiry). Results and review: `services::results`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::attempts::{self as db, AttemptRow, Candidate, NewAttempt, PlannedItem};
use crate::db::catalog;
use crate::domain::assembly::{allocate, difficulty_split, Shortfall};
use crate::domain::scoring::{is_correct, score};
use crate::domain::two_way;
use crate::error::{AppError, AppResult, Conflict, FieldError};
use crate::services::answer_batch::{AnswerBatcher, Saved};
use crate::services::answer_cache::{AnswerCache, CachedAttempt};

/// The rows the handlers render: an attempt's questions and the list of attempts.
pub use crate::db::attempts::{AttemptSummary, ItemRow};

/// Answers are accepted this long after the deadline (network latency, clock skew).
pub const GRACE_SECS: i64 = 5;
/// The real exam's pacing budget.
pub const BUDGET_MS_PER_QUESTION: i64 = 120_000;
/// Questions seen within this many days are avoided when others are available.
pub const RECENT_DAYS: i64 = 14;
pub const MAX_CUSTOM_COUNT: usize = 200;
/// Most time a single answer may add to a question's time (a tab left open all night).
const MAX_ADD_MS: i64 = 30 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Exam,
    Practice,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "exam" => Some(Mode::Exam),
            "practice" => Some(Mode::Practice),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Exam => "exam",
            Mode::Practice => "practice",
        }
    }
}

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
        let weights: BTreeMap<String, f64> =
            serde_json::from_value(bp.domain_weights).unwrap_or_default();
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

/// The outcome of assembly, for the response.
#[derive(Debug, Clone, Default)]
pub struct AssemblyReport {
    pub requested: usize,
    pub drawn: usize,
    pub per_domain: BTreeMap<String, usize>,
    pub shortfalls: Vec<Shortfall>,
}

/// Draws questions for `recipe` (or for the given domain plan, used by adaptive practice).
pub async fn assemble(
    conn: &mut PgConnection,
    user_id: Uuid,
    count: usize,
    weights: &BTreeMap<String, f64>,
) -> AppResult<(Vec<Candidate>, AssemblyReport)> {
    let mut rng = rand::thread_rng();
    let mut caps: BTreeMap<String, usize> = weights
        .keys()
        .map(|d| (d.clone(), usize::MAX / 4))
        .collect();
    let mut pools: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    let mut fetched_for: BTreeMap<String, usize> = BTreeMap::new();
    let mut alloc = allocate(count, weights, &caps);
    // at most three rounds: draw, learn which domains are short, redistribute, draw the rest
    for _ in 0..3 {
        let mut buckets = Vec::new();
        for (d, &n) in &alloc.counts {
            if n > 0 && fetched_for.get(d).copied().unwrap_or(0) < n {
                let split = difficulty_split(n);
                for (i, k) in split.iter().enumerate() {
                    // over-fetch so recently seen questions can be skipped and short buckets refilled
                    buckets.push((
                        d.clone(),
                        (i + 1) as i16,
                        (*k as i64) * 2 + (n as i64) + 2,
                        rng.gen::<f64>(),
                    ));
                }
                fetched_for.insert(d.clone(), n);
            }
        }
        if buckets.is_empty() {
            break;
        }
        let rows = db::sample(conn, &buckets).await?;
        let mut fresh: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
        for c in rows {
            fresh.entry(c.domain.clone()).or_default().push(c);
        }
        for (d, mut list) in fresh {
            let mut seen = HashSet::new();
            list.retain(|c| seen.insert(c.id));
            pools.insert(d, list);
        }
        let mut changed = false;
        for (d, &n) in &alloc.counts {
            let have = pools.get(d).map_or(0, Vec::len);
            if n > 0 && have < n && caps[d] > have {
                caps.insert(d.clone(), have);
                changed = true;
            }
        }
        if !changed {
            break;
        }
        alloc = allocate(count, weights, &caps);
    }
    // choose per domain: difficulty balance, unseen first
    let all_ids: Vec<Uuid> = pools.values().flatten().map(|c| c.id).collect();
    let since = Utc::now() - Duration::days(RECENT_DAYS);
    let recent: HashSet<Uuid> = db::seen_since(conn, user_id, &all_ids, since)
        .await?
        .into_iter()
        .collect();
    let mut chosen = Vec::with_capacity(count);
    for (d, &n) in &alloc.counts {
        let Some(pool) = pools.get(d) else { continue };
        let split = difficulty_split(n);
        let mut picked: Vec<&Candidate> = Vec::with_capacity(n);
        let mut taken = HashSet::new();
        for (i, &k) in split.iter().enumerate() {
            let diff = (i + 1) as i16;
            for c in pool
                .iter()
                .filter(|c| c.difficulty == diff && !recent.contains(&c.id))
                .take(k)
            {
                taken.insert(c.id);
                picked.push(c);
            }
        }
        // fill what a difficulty or recency could not: unseen of any difficulty, then the rest
        for c in pool
            .iter()
            .filter(|c| !recent.contains(&c.id))
            .chain(pool.iter())
        {
            if picked.len() >= n {
                break;
            }
            if taken.insert(c.id) {
                picked.push(c);
            }
        }
        chosen.extend(picked.into_iter().cloned());
    }
    let chosen = db::with_option_ids(conn, chosen).await?;
    let report = AssemblyReport {
        requested: count,
        drawn: chosen.len(),
        per_domain: alloc.counts.clone(),
        shortfalls: alloc.shortfalls.clone(),
    };
    Ok((chosen, report))
}

/// Draws a recipe's questions: by exam-guide domain and topic area when the recipe weighs exam
/// domains (and then with its unscored slots), by topic area otherwise.
pub async fn draw(
    conn: &mut PgConnection,
    user_id: Uuid,
    recipe: &Recipe,
) -> AppResult<(Vec<Candidate>, AssemblyReport)> {
    if recipe.exam_weights.is_empty() {
        return assemble(conn, user_id, recipe.count, &recipe.weights).await;
    }
    assemble_measured(
        conn,
        user_id,
        recipe.count,
        recipe.unscored.min(recipe.count),
        &recipe.exam_weights,
        &recipe.weights,
    )
    .await
}

/// Two-way assembly (issue 14): `count - unscored` scored questions whose exam-guide domains
/// match `exam_weights` exactly (largest remainder) and whose topic areas are as close to
/// `area_weights` as the bank allows (`domain::two_way`); then `unscored` questions that do not
/// count: pilots first, then ordinary questions allocated the same way. Everything is sampled
/// from the (area, exam domain, sample_key) index; the cell sizes come from `bank_cells`. The
/// result is shuffled: position tells nothing about which questions count.
pub async fn assemble_measured(
    conn: &mut PgConnection,
    user_id: Uuid,
    count: usize,
    unscored: usize,
    exam_weights: &BTreeMap<String, f64>,
    area_weights: &BTreeMap<String, f64>,
) -> AppResult<(Vec<Candidate>, AssemblyReport)> {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::from_entropy();
    let scored_n = count - unscored;
    let mut available: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (area, exam, ordinary, _) in catalog::cell_counts(conn).await? {
        available.insert((exam, area), ordinary.max(0) as usize);
    }
    let scored =
        two_way::allocate_two_way(scored_n, exam_weights, area_weights, &available, &mut rng);
    // pilots take the unscored slots first
    let mut pilots = db::sample_pilots(conn, unscored as i64, rng.gen()).await?;
    pilots.truncate(unscored);
    for p in &mut pilots {
        p.unscored = true;
    }
    // the rest of the unscored slots: ordinary questions, allocated like the scored ones
    let mut left = available.clone();
    for (cell, n) in &scored.cells {
        if let Some(a) = left.get_mut(cell) {
            *a = a.saturating_sub(*n);
        }
    }
    let extra = two_way::allocate_two_way(
        unscored - pilots.len(),
        exam_weights,
        area_weights,
        &left,
        &mut rng,
    );
    let cells: Vec<((String, String), usize, usize)> = scored
        .cells
        .keys()
        .chain(extra.cells.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|cell| {
            (
                cell.clone(),
                scored.cells.get(cell).copied().unwrap_or(0),
                extra.cells.get(cell).copied().unwrap_or(0),
            )
        })
        .filter(|(_, a, b)| a + b > 0)
        .collect();
    let buckets: Vec<(String, String, i64, f64)> = cells
        .iter()
        .map(|((exam, area), a, b)| {
            // over-fetch so that recently seen questions can be skipped
            (
                area.clone(),
                exam.clone(),
                (2 * (a + b) + 2) as i64,
                rng.gen(),
            )
        })
        .collect();
    let rows = db::sample_cells(conn, &buckets).await?;
    let mut per_cell: Vec<Vec<Candidate>> = vec![Vec::new(); cells.len()];
    for (i, c) in rows {
        if let Some(v) = per_cell.get_mut(i) {
            if !v.iter().any(|x| x.id == c.id) {
                v.push(c);
            }
        }
    }
    let all_ids: Vec<Uuid> = per_cell.iter().flatten().map(|c| c.id).collect();
    let since = Utc::now() - Duration::days(RECENT_DAYS);
    let recent: HashSet<Uuid> = db::seen_since(conn, user_id, &all_ids, since)
        .await?
        .into_iter()
        .collect();
    let pilot_ids: HashSet<Uuid> = pilots.iter().map(|p| p.id).collect();
    let mut chosen: Vec<Candidate> = Vec::with_capacity(count);
    let mut per_domain: BTreeMap<String, usize> = BTreeMap::new();
    for (((_, area), n_scored, n_extra), pool) in cells.iter().zip(per_cell) {
        // unseen first, then the rest; a random order within each
        let (mut fresh, mut seen): (Vec<Candidate>, Vec<Candidate>) = pool
            .into_iter()
            .filter(|c| !pilot_ids.contains(&c.id))
            .partition(|c| !recent.contains(&c.id));
        fresh.shuffle(&mut rng);
        seen.shuffle(&mut rng);
        for (k, mut c) in fresh
            .into_iter()
            .chain(seen)
            .take(n_scored + n_extra)
            .enumerate()
        {
            c.unscored = k >= *n_scored;
            *per_domain.entry(area.clone()).or_default() += 1;
            chosen.push(c);
        }
    }
    for p in pilots {
        *per_domain.entry(p.domain.clone()).or_default() += 1;
        chosen.push(p);
    }
    chosen.shuffle(&mut rng);
    let chosen = db::with_option_ids(conn, chosen).await?;
    let shortfalls = scored
        .areas
        .iter()
        .filter(|m| m.available < m.wanted)
        .map(|m| Shortfall {
            domain: m.name.clone(),
            wanted: m.wanted,
            available: m.available,
        })
        .collect();
    let report = AssemblyReport {
        requested: count,
        drawn: chosen.len(),
        per_domain,
        shortfalls,
    };
    Ok((chosen, report))
}

fn report_json(r: &AssemblyReport) -> Value {
    json!({
        "requested": r.requested,
        "drawn": r.drawn,
        "per_domain": r.per_domain,
        "shortfalls": r.shortfalls.iter().map(|s| json!({"domain": s.domain, "wanted": s.wanted, "available": s.available})).collect::<Vec<_>>(),
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

/// Starts an attempt for a blueprint or a custom mix.
#[tracing::instrument(skip_all, fields(user = %user_id))]
pub async fn start(pool: &PgPool, user_id: Uuid, req: StartRequest) -> AppResult<Uuid> {
    let recipe = recipe(pool, &req).await?;
    let mut tx = pool.begin().await?;
    let (chosen, report) = draw(&mut tx, user_id, &recipe).await?;
    if chosen.is_empty() {
        return Err(AppError::conflict(
            Conflict::NoQuestions,
            "the bank has no questions for this exam yet",
        ));
    }
    let items = plan(chosen, recipe.shuffle_questions, recipe.shuffle_options);
    let spec = json!({"blueprint": recipe.blueprint, "count": recipe.count, "domains": recipe.weights, "time_limit_minutes": recipe.time_limit_minutes});
    let id = create_attempt(
        &mut tx,
        user_id,
        &recipe,
        None,
        items,
        spec,
        report_json(&report),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Inserts an attempt with planned items (also used by practice and cohort exams).
pub async fn create_attempt(
    conn: &mut PgConnection,
    user_id: Uuid,
    recipe: &Recipe,
    cohort_exam_id: Option<Uuid>,
    items: Vec<PlannedItem>,
    spec: Value,
    assembly: Value,
) -> AppResult<Uuid> {
    let id = Uuid::new_v4();
    let deadline = recipe
        .time_limit_minutes
        .map(|m| Utc::now() + Duration::minutes(m.into()));
    db::insert(
        conn,
        &NewAttempt {
            id,
            user_id,
            mode: recipe.mode.as_str(),
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
    let ids: Vec<Uuid> = items.iter().map(|i| i.question_id).collect();
    db::mark_seen(conn, user_id, &ids).await?;
    Ok(id)
}

/// An attempt with its questions, as its owner sees it.
pub struct AttemptState {
    pub attempt: AttemptRow,
    pub items: Vec<ItemRow>,
}

impl AttemptState {
    pub fn remaining_seconds(&self) -> Option<i64> {
        if self.attempt.status != "in_progress" {
            return Some(0);
        }
        self.attempt
            .deadline
            .map(|d| (d - Utc::now()).num_seconds().max(0))
    }
}

fn past_deadline(a: &AttemptRow, now: DateTime<Utc>) -> bool {
    a.deadline
        .is_some_and(|d| now > d + Duration::seconds(GRACE_SECS))
}

/// The owner's attempt; one past its deadline is finalized as expired on this first read.
pub async fn get(pool: &PgPool, user_id: Uuid, id: Uuid) -> AppResult<AttemptState> {
    let mut conn = pool.acquire().await?;
    let mut attempt = db::get(&mut conn, id, user_id)
        .await?
        .filter(|a| a.status != "prepared")
        .ok_or_else(|| AppError::NotFound("no such attempt".into()))?;
    if attempt.status == "in_progress" && past_deadline(&attempt, Utc::now()) {
        drop(conn);
        finalize(pool, user_id, id).await?;
        conn = pool.acquire().await?;
        attempt = db::get(&mut conn, id, user_id)
            .await?
            .ok_or_else(|| AppError::NotFound("no such attempt".into()))?;
    }
    let items = crate::services::content::items(&mut conn, id, user_id).await?;
    Ok(AttemptState { attempt, items })
}

/// Records that the pages showed this question now (server-side time per question).
pub async fn viewed(pool: &PgPool, user_id: Uuid, id: Uuid, position: i32) -> AppResult<()> {
    let mut conn = pool.acquire().await?;
    db::mark_viewed(&mut conn, id, user_id, position).await?;
    Ok(())
}

pub struct AnswerInput {
    /// None keeps the current choices (a flag toggle).
    pub choices: Option<Vec<String>>,
    pub flagged: Option<bool>,
    /// The revision the client last saw; a different one means the write is stale (409).
    pub revision: Option<i32>,
    /// Client-measured time on the question for this visit.
    pub time_spent_ms: Option<i64>,
}

/// Practice-mode feedback for the answered question only.
pub struct Feedback {
    pub correct: bool,
    pub correct_choices: Vec<String>,
    pub explanation: String,
    pub rationale: BTreeMap<String, String>,
}

pub struct AnswerOutcome {
    pub position: i32,
    pub choices: Vec<String>,
    pub flagged: bool,
    pub revision: i32,
    pub feedback: Option<Feedback>,
}

fn correct_ids(options: &Value) -> Vec<String> {
    options
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|o| o["correct"].as_bool() == Some(true))
                .filter_map(|o| o["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn feedback(item: &ItemRow, correct: bool) -> Feedback {
    let rationale = item
        .options
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| {
                    Some((
                        o["id"].as_str()?.to_string(),
                        o["rationale"].as_str().unwrap_or_default().to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Feedback {
        correct,
        correct_choices: correct_ids(&item.options),
        explanation: item.explanation.clone(),
        rationale,
    }
}

/// Saves an answer: an idempotent upsert. Refused with 409 when the attempt is finalized, its
/// deadline has passed, or the client's revision is stale.
///
/// The write is one `save_answer` database call that checks nothing it was based on has changed.
/// It is based on this process's cache of the attempt when that can serve (one round trip), and
/// otherwise on a lock-free read. Collisions (the same learner saving concurrently, a stale
/// cache) read again; after two collisions the retries queue on the learner's advisory lock, so
/// a save always gets through.
#[tracing::instrument(skip_all, fields(attempt = %id, position))]
pub async fn answer(
    pool: &PgPool,
    cache: &AnswerCache,
    saves: &AnswerBatcher,
    user_id: Uuid,
    id: Uuid,
    position: i32,
    input: AnswerInput,
) -> AppResult<AnswerOutcome> {
    if let Some(o) = try_cached(pool, cache, saves, user_id, id, position, &input).await? {
        return Ok(o);
    }
    for round in 0..MAX_SAVE_ROUNDS {
        let outcome = if round < OPTIMISTIC_ROUNDS {
            let mut conn = pool.acquire().await?;
            try_answer(&mut conn, user_id, id, position, &input).await?
        } else {
            let mut tx = pool.begin().await?;
            db::lock_learner(&mut tx, user_id).await?;
            let o = try_answer(&mut tx, user_id, id, position, &input).await?;
            if matches!(o, Round::Saved(_)) {
                tx.commit().await?;
            }
            o
        };
        match outcome {
            Round::Saved(o) => {
                // the cached attempt (if any) missed this write: load it afresh next time
                cache.evict(id);
                return Ok(o);
            }
            Round::Changed => continue,
            Round::Overdue => {
                // the connection is back in the pool before finalizing takes one
                finalize(pool, user_id, id).await?;
                return Err(AppError::conflict(
                    Conflict::DeadlinePassed,
                    "the deadline has passed; the attempt was finalized as expired",
                ));
            }
        }
    }
    Err(AppError::Unavailable(
        "the answer could not be saved for contention; retry".into(),
    ))
}

/// Rounds of optimistic saves before queueing on the learner's lock, and the rounds in all.
const OPTIMISTIC_ROUNDS: usize = 2;
const MAX_SAVE_ROUNDS: usize = 12;

enum Round {
    Saved(AnswerOutcome),
    /// Something changed between the read and the write; nothing was written.
    Changed,
    /// The deadline has passed: finalize.
    Overdue,
}

/// What a request makes of a question in a known state.
enum Plan {
    /// The question already holds this answer (a retry): nothing to write.
    Same(i32, Vec<String>, bool),
    Write {
        choices: Vec<String>,
        flagged: bool,
        correct: Option<bool>,
        add_ms: i64,
        learning: Option<crate::db::mastery::LearningWrite>,
    },
}

/// Validates the request against the question and works out the write: the new answer, the time
/// to add and, for a new or changed choice, what the learner model learns from it.
fn plan_answer(
    item: &ItemRow,
    position: i32,
    input: &AnswerInput,
    areas: &[crate::db::attempts::AreaRead],
    card: Option<crate::db::mastery::CardRow>,
    stats_seen: Option<i32>,
) -> AppResult<Plan> {
    let choices = match &input.choices {
        Some(c) => c.clone(),
        None => item.choices.clone(),
    };
    let flagged = input.flagged.unwrap_or(item.flagged);
    let mut errors = Vec::new();
    let mut unique = HashSet::new();
    for (i, c) in choices.iter().enumerate() {
        if !item.option_order.contains(c) {
            errors.push(FieldError::new(
                format!("choices[{i}]"),
                format!("`{c}` is not an option of question {position}"),
            ));
        } else if !unique.insert(c) {
            errors.push(FieldError::new(format!("choices[{i}]"), "chosen twice"));
        }
    }
    if item.kind == "single" && choices.len() > 1 {
        errors.push(FieldError::new(
            "choices",
            "a single-answer question takes one choice",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let same = {
        let (mut a, mut b) = (choices.clone(), item.choices.clone());
        a.sort();
        b.sort();
        a == b && flagged == item.flagged
    };
    if same {
        // a retry of a write that already landed: same answer, same revision
        return Ok(Plan::Same(item.revision, choices, flagged));
    }
    if input.revision.is_some_and(|r| r != item.revision) {
        return Err(AppError::conflict(
            Conflict::StaleRevision,
            format!(
                "stale write: question {position} is at revision {}, the request was based on {}",
                item.revision,
                input.revision.unwrap_or_default()
            ),
        ));
    }
    let correct = (!choices.is_empty()).then(|| is_correct(&correct_ids(&item.options), &choices));
    let measured = item
        .viewed_at
        .map(|v| (Utc::now() - v).num_milliseconds())
        .unwrap_or(0);
    let add_ms = input.time_spent_ms.unwrap_or(measured).clamp(0, MAX_ADD_MS);
    // a new or changed choice teaches the learner model; a flag toggle does not
    let learning = correct
        .filter(|_| item.choices != choices)
        .map(|c| crate::services::learning::on_answer(item, c, add_ms, areas, card, stats_seen));
    Ok(Plan::Write {
        choices,
        flagged,
        correct,
        add_ms,
        learning,
    })
}

fn outcome(
    item: &ItemRow,
    mode: &str,
    position: i32,
    choices: Vec<String>,
    flagged: bool,
    revision: i32,
) -> AnswerOutcome {
    let correct = (!choices.is_empty()).then(|| is_correct(&correct_ids(&item.options), &choices));
    let feedback = (mode == "practice")
        .then_some(correct)
        .flatten()
        .map(|c| feedback(item, c));
    AnswerOutcome {
        position,
        choices,
        flagged,
        revision,
        feedback,
    }
}

/// The one-round-trip save from the cached attempt. `Ok(None)`: the cache cannot serve this
/// request (not cached, a retry, a client revision the cache has not seen, the pages' server-
/// measured time) or the database refused the cached state; nothing was written.
async fn try_cached(
    pool: &PgPool,
    cache: &AnswerCache,
    saves: &AnswerBatcher,
    user_id: Uuid,
    id: Uuid,
    position: i32,
    input: &AnswerInput,
) -> AppResult<Option<AnswerOutcome>> {
    if input.time_spent_ms.is_none() {
        return Ok(None);
    }
    if !cache.contains(id) {
        let mut conn = pool.acquire().await?;
        if !load_cache(&mut conn, cache, user_id, id).await? {
            return Ok(None);
        }
    }
    let Some(snap) = cache.snapshot(id, user_id, position) else {
        return Ok(None);
    };
    if input.revision.is_some_and(|r| r != snap.item.revision) {
        return Ok(None);
    }
    let plan = match plan_answer(
        &snap.item,
        position,
        input,
        &snap.areas,
        snap.card.clone(),
        snap.stats_seen,
    ) {
        // the options and the kind of an attempt's question never change: these errors stand
        Err(e @ AppError::Validation(_)) => return Err(e),
        Ok(Plan::Write {
            choices,
            flagged,
            correct,
            add_ms,
            learning,
        }) => (choices, flagged, correct, add_ms, learning),
        Ok(Plan::Same(..)) | Err(_) => return Ok(None),
    };
    let (choices, flagged, correct, add_ms, learning) = plan;
    let write = db::AnswerWrite {
        attempt_id: id,
        user_id,
        position,
        revision: snap.item.revision,
        choices: choices.clone(),
        flagged,
        correct,
        add_ms,
        grace_secs: GRACE_SECS,
        learning,
    };
    let learned = write.learning.clone();
    match saves.save(write).await {
        Saved::Revision(revision) => {
            cache.saved(
                id,
                position,
                &choices,
                flagged,
                correct,
                revision,
                add_ms,
                learned.as_ref(),
            );
            Ok(Some(outcome(
                &snap.item, &snap.mode, position, choices, flagged, revision,
            )))
        }
        Saved::Refused | Saved::Failed => {
            cache.evict(id);
            Ok(None)
        }
    }
}

/// Loads an open attempt into the cache: its questions, the learner's mastery rows and the
/// statistics-and-card rows of its questions. False when the attempt is not open (or not theirs).
async fn load_cache(
    conn: &mut PgConnection,
    cache: &AnswerCache,
    user_id: Uuid,
    id: Uuid,
) -> AppResult<bool> {
    let Some(attempt) = db::get(conn, id, user_id).await? else {
        return Ok(false);
    };
    if attempt.status != "in_progress" {
        return Ok(false);
    }
    // an exam shows no feedback: keep only what an answer is checked and scored by, so that a
    // cohort's thousands of open attempts fit the cache
    let items = if attempt.mode == "practice" {
        crate::services::content::items(conn, id, user_id).await?
    } else {
        crate::services::content::items_for_checking(conn, id, user_id).await?
    };
    let questions: Vec<Uuid> = items.iter().map(|i| i.question_id).collect();
    let mastery = crate::db::mastery::all(conn, user_id).await?;
    let stats = crate::db::mastery::stats_for(conn, user_id, &questions).await?;
    cache.insert(
        id,
        CachedAttempt {
            user_id,
            mode: attempt.mode,
            items: items.into_iter().map(|i| (i.position, i)).collect(),
            mastery: mastery
                .into_iter()
                .map(|m| ((m.area_kind.clone(), m.area.clone()), m))
                .collect(),
            stats: stats
                .into_iter()
                .map(|s| (s.question_id, (s.times_answered, s.card())))
                .collect(),
        },
    );
    Ok(true)
}

/// One read-validate-write round of an answer save.
async fn try_answer(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    position: i32,
    input: &AnswerInput,
) -> AppResult<Round> {
    let Some(target) = db::read_for_answer(conn, id, user_id, position).await? else {
        return Err(match db::get(conn, id, user_id).await? {
            None => AppError::NotFound("no such attempt".into()),
            Some(_) => AppError::NotFound(format!("the attempt has no question {position}")),
        });
    };
    if target.status == "prepared" {
        return Err(AppError::NotFound("no such attempt".into()));
    }
    if target.status != "in_progress" {
        return Err(AppError::conflict(
            Conflict::AttemptFinalized,
            format!(
                "the attempt is {}; answers can no longer change",
                target.status
            ),
        ));
    }
    if target
        .deadline
        .is_some_and(|d| Utc::now() > d + Duration::seconds(GRACE_SECS))
    {
        return Ok(Round::Overdue);
    }
    let card = target.card();
    let item = &target.item;
    match plan_answer(
        item,
        position,
        input,
        &target.areas.0,
        card,
        target.stats_seen,
    )? {
        Plan::Same(revision, choices, flagged) => Ok(Round::Saved(outcome(
            item,
            &target.mode,
            position,
            choices,
            flagged,
            revision,
        ))),
        Plan::Write {
            choices,
            flagged,
            correct,
            add_ms,
            learning,
        } => {
            let write = db::AnswerWrite {
                attempt_id: id,
                user_id,
                position,
                revision: item.revision,
                choices: choices.clone(),
                flagged,
                correct,
                add_ms,
                grace_secs: GRACE_SECS,
                learning,
            };
            Ok(match db::save_answer(conn, &write).await? {
                Some(rev) => {
                    Round::Saved(outcome(item, &target.mode, position, choices, flagged, rev))
                }
                None => Round::Changed,
            })
        }
    }
}

/// Finalizes once: submitted, or expired when past the deadline. Concurrent and repeated
/// calls return the one stored result.
#[tracing::instrument(skip_all, fields(attempt = %id))]
pub async fn finalize(pool: &PgPool, user_id: Uuid, id: Uuid) -> AppResult<Value> {
    let mut tx = pool.begin().await?;
    let attempt = db::lock(&mut tx, id, user_id, true)
        .await?
        .filter(|a| a.status != "prepared")
        .ok_or_else(|| AppError::NotFound("no such attempt".into()))?;
    if let Some(result) = attempt.result.clone() {
        return Ok(result);
    }
    let result = finalize_locked(&mut tx, &attempt).await?;
    tx.commit().await?;
    Ok(result)
}

/// Finalizes several learners' attempts in one transaction: (learner, attempt) each, answered
/// in the same order. An attempt that does not exist (or is not the learner's, or is only
/// prepared) is a 404; one already final returns its stored result.
pub async fn finalize_batch(
    pool: &PgPool,
    requests: &[(Uuid, Uuid)],
) -> AppResult<Vec<AppResult<Value>>> {
    let mut tx = pool.begin().await?;
    let rows = db::lock_many(&mut tx, requests).await?;
    let mut by_id: HashMap<Uuid, AttemptRow> = rows
        .into_iter()
        .filter(|a| a.status != "prepared")
        .map(|a| (a.id, a))
        .collect();
    let pending: Vec<AttemptRow> = by_id
        .values()
        .filter(|a| a.result.is_none())
        .cloned()
        .collect();
    let results = finalize_rows(&mut tx, &pending).await?;
    tx.commit().await?;
    for (a, r) in pending.iter().zip(results) {
        if let Some(row) = by_id.get_mut(&a.id) {
            row.result = Some(r);
        }
    }
    Ok(requests
        .iter()
        .map(|(user, id)| {
            by_id
                .get(id)
                .filter(|a| a.user_id == *user)
                .and_then(|a| a.result.clone())
                .ok_or_else(|| AppError::NotFound("no such attempt".into()))
        })
        .collect())
}

async fn finalize_locked(conn: &mut PgConnection, attempt: &AttemptRow) -> AppResult<Value> {
    let mut results = finalize_rows(conn, std::slice::from_ref(attempt)).await?;
    Ok(results.pop().unwrap_or(Value::Null))
}

/// Finalizes attempts whose rows this transaction has locked: takes their learners' locks (so
/// every answer save in flight has committed, and none lands after), reads every item in one
/// query, scores in Rust and writes each status and result in one statement. Time ran out for
/// an attempt finalized at or past its deadline (by the sweeper, a late read, or the page's own
/// submit at zero, inside the grace window): it is `expired`.
async fn finalize_rows(conn: &mut PgConnection, attempts: &[AttemptRow]) -> AppResult<Vec<Value>> {
    let users: Vec<Uuid> = attempts.iter().map(|a| a.user_id).collect();
    db::lock_learners(conn, &users).await?;
    let keys: Vec<(Uuid, Uuid)> = attempts.iter().map(|a| (a.id, a.user_id)).collect();
    let mut items = crate::services::content::items_of(conn, &keys).await?;
    let equate = Equate::load(conn, attempts, &items).await?;
    let now = Utc::now();
    let rows: Vec<(Uuid, Uuid, &str, Value)> = attempts
        .iter()
        .map(|a| {
            let status = if a.deadline.is_some_and(|d| now >= d) {
                "expired"
            } else {
                "submitted"
            };
            let its = items.remove(&a.id).unwrap_or_default();
            let result = result_json(a, &its, equate.for_attempt(a).as_ref());
            (a.id, a.user_id, status, result)
        })
        .collect();
    db::finalize_many(conn, &rows).await?;
    Ok(rows.into_iter().map(|r| r.3).collect())
}

/// What an equated scaled score needs: the blueprints' pass abilities and the items'
/// calibrated difficulties (logits).
struct Equate {
    pass: HashMap<String, f64>,
    difficulty: HashMap<(Uuid, i32), f64>,
}

impl Equate {
    async fn load(
        conn: &mut PgConnection,
        attempts: &[AttemptRow],
        items: &HashMap<Uuid, Vec<ItemRow>>,
    ) -> AppResult<Equate> {
        let slugs: Vec<String> = attempts
            .iter()
            .filter(|a| a.scaled)
            .filter_map(|a| a.blueprint.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut e = Equate {
            pass: HashMap::new(),
            difficulty: HashMap::new(),
        };
        if slugs.is_empty() {
            return Ok(e);
        }
        e.pass = crate::db::calibration::pass_abilities(conn, &slugs)
            .await?
            .into_iter()
            .filter_map(|(s, p)| p.map(|p| (s, p)))
            .collect();
        if e.pass.is_empty() {
            return Ok(e);
        }
        let keys: Vec<(Uuid, i32)> = items
            .values()
            .flatten()
            .map(|i| (i.question_id, i.version))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        e.difficulty = crate::db::calibration::difficulties(conn, &keys)
            .await?
            .into_iter()
            .filter_map(|(q, v, d)| d.map(|d| ((q, v), d)))
            .collect();
        Ok(e)
    }

    fn for_attempt(&self, a: &AttemptRow) -> Option<Equating<'_>> {
        let pass = *self.pass.get(a.blueprint.as_deref()?)?;
        a.scaled.then_some(Equating {
            pass_ability: pass,
            difficulty: &self.difficulty,
        })
    }
}

/// The equated scaled score's inputs for one attempt.
pub struct Equating<'a> {
    /// The ability that scores the pass mark (the blueprint's).
    pub pass_ability: f64,
    /// Calibrated difficulties; a version without one takes its author difficulty's prior.
    pub difficulty: &'a HashMap<(Uuid, i32), f64>,
}

/// The result document (SPEC §4 result shape plus pacing). With `equating`, the scaled score
/// comes from the learner's ability on the scored questions given their difficulties (equal
/// ability, equal expected score, on an easy form or a hard one); without, it is linear in
/// the raw percentage.
pub fn result_json(attempt: &AttemptRow, items: &[ItemRow], equating: Option<&Equating>) -> Value {
    // the score, per topic area and per exam-guide domain, counts the scored questions only
    let counted: Vec<&ItemRow> = items.iter().filter(|i| i.scored).collect();
    let scored: Vec<(String, bool)> = counted
        .iter()
        .map(|i| (i.domain.clone(), i.correct == Some(true)))
        .collect();
    let mut s = score(&scored, attempt.pass_mark);
    let ability = equating.filter(|_| !counted.is_empty()).map(|e| {
        let answers: Vec<(f64, bool)> = counted
            .iter()
            .map(|i| {
                let d = e
                    .difficulty
                    .get(&(i.question_id, i.version))
                    .copied()
                    .unwrap_or_else(|| crate::domain::calibration::prior_logit(i.difficulty));
                (d, i.correct == Some(true))
            })
            .collect();
        let (theta, _) = crate::domain::equating::ability(&answers);
        let spec = crate::domain::equating::ScaleSpec {
            pass_scaled: attempt.pass_mark,
            ..Default::default()
        };
        s.scaled_score = crate::domain::equating::scaled(theta, e.pass_ability, &spec);
        s.passed = s.scaled_score >= attempt.pass_mark;
        (theta * 1000.0).round() / 1000.0
    });
    let by_exam_domain: Vec<(String, bool)> = counted
        .iter()
        .map(|i| (i.exam_domain.clone(), i.correct == Some(true)))
        .collect();
    let mut exam_domains = score(&by_exam_domain, attempt.pass_mark).domains;
    let order = |d: &str| {
        crate::domain::question::EXAM_DOMAINS
            .iter()
            .position(|x| *x == d)
            .unwrap_or(usize::MAX)
    };
    exam_domains.sort_by_key(|d| order(&d.domain));
    let total_ms: i64 = items.iter().map(|i| i.time_spent_ms).sum();
    let over = items
        .iter()
        .filter(|i| i.time_spent_ms > BUDGET_MS_PER_QUESTION)
        .count();
    let answered = items.iter().filter(|i| !i.choices.is_empty()).count();
    json!({
        "attempt_id": attempt.id,
        "correct": s.correct,
        "total": s.total,
        "answered": answered,
        "percent": (s.percent * 10.0).round() / 10.0,
        "scaled_score": s.scaled_score,
        "pass_mark": attempt.pass_mark,
        "passed": s.passed,
        "domains": s.domains.iter().map(|d| json!({
            "domain": d.domain, "correct": d.correct, "total": d.total,
            "percent": (d.percent * 10.0).round() / 10.0, "verdict": d.verdict,
        })).collect::<Vec<_>>(),
        "exam_domains": exam_domains.iter().map(|d| json!({
            "domain": d.domain, "correct": d.correct, "total": d.total,
            "percent": (d.percent * 10.0).round() / 10.0, "verdict": d.verdict,
        })).collect::<Vec<_>>(),
        "scored": counted.len(),
        "ability": ability,
        "unscored": items.len() - counted.len(),
        "pacing": {
            "total_time_ms": total_ms,
            "average_ms": if items.is_empty() { 0 } else { total_ms / items.len() as i64 },
            "budget_ms_per_question": BUDGET_MS_PER_QUESTION,
            "over_budget": over,
        },
    })
}

/// Attempts the sweeper finalizes in one transaction.
const SWEEP_BATCH: i64 = 250;

/// Finalizes every attempt past its deadline + grace, in batches of [`SWEEP_BATCH`] (a handful
/// of statements per batch, whatever its size); safe with several processes (SKIP LOCKED).
/// Answer saves of other learners go on meanwhile: a batch waits only for its own learners.
pub async fn expire_overdue(pool: &PgPool) -> AppResult<usize> {
    let mut total = 0;
    loop {
        let mut tx = pool.begin().await?;
        let due = db::lock_overdue_rows(&mut tx, GRACE_SECS as f64, SWEEP_BATCH).await?;
        if due.is_empty() {
            return Ok(total);
        }
        finalize_rows(&mut tx, &due).await?;
        tx.commit().await?;
        total += due.len();
        if (due.len() as i64) < SWEEP_BATCH {
            return Ok(total);
        }
    }
}

pub async fn list(pool: &PgPool, user_id: Uuid) -> AppResult<Vec<db::AttemptSummary>> {
    let mut conn = pool.acquire().await?;
    Ok(db::list_for_user(&mut conn, user_id, 100).await?)
}

pub fn is_correct_for(item: &ItemRow) -> bool {
    item.correct == Some(true)
}

pub fn correct_choices(item: &ItemRow) -> Vec<String> {
    correct_ids(&item.options)
}
