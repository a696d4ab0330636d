//! Cohorts: instructors' classes and learners' study groups, joined with a code; cohort exams
//! with one fixed question set, a window, one start per member and per-learner extensions.
//!
//! Powers: the owner (an instructor, or a learner who organises a study group) manages the
//! roster and the join code and schedules cohort exams. Members see the cohort, its exams and
//! their own attempts. Everyone else gets 404 for everything of the cohort.

use chrono::{DateTime, Utc};
use rand::seq::SliceRandom;
use rand::Rng;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::attempts::{NewAttempt, PlannedItem};
use crate::db::catalog;
use crate::db::cohorts as db;
use crate::domain::attempt::{AssemblyReport, AttemptSpec, AttemptStatus};
use crate::domain::result::AttemptResult;
use crate::error::{AppError, AppResult, Conflict, FieldError};
use crate::services::attempts::{assemble, assemble_measured, create_attempt, plan, Mode, Recipe};

pub use crate::db::cohorts::{CohortRow, ExamItemRow, ExamRow, LearnerResultRow, MemberRow};

fn not_found() -> AppError {
    AppError::NotFound("no such cohort".into())
}

/// A join code: 8 characters without look-alikes (no 0/O, 1/l/I).
pub fn new_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..8)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

pub async fn create(pool: &PgPool, owner: Uuid, name: &str) -> AppResult<CohortRow> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation("name", "must be 1 to 100 characters"));
    }
    let id = Uuid::new_v4();
    let mut conn = pool.acquire().await?;
    db::insert(&mut conn, id, name, owner, &new_code()).await?;
    db::visible(&mut conn, id, owner)
        .await?
        .ok_or_else(not_found)
}

pub async fn list(pool: &PgPool, user: Uuid) -> AppResult<Vec<CohortRow>> {
    let mut conn = pool.acquire().await?;
    Ok(db::list_for(&mut conn, user).await?)
}

pub async fn get(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<CohortRow> {
    let mut conn = pool.acquire().await?;
    db::visible(&mut conn, id, user)
        .await?
        .ok_or_else(not_found)
}

/// The cohort, if `user` owns it; members get 403, outsiders 404.
pub async fn owned(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<CohortRow> {
    let c = get(pool, user, id).await?;
    if !c.role_of(user).is_owner() {
        return Err(AppError::Forbidden(
            "only the cohort's owner can do this".into(),
        ));
    }
    Ok(c)
}

/// Joins with the code. A member who joins after the cohort's next exam was prepared is
/// prepared too, here (`lead_secs`: how far ahead of its opening an exam is prepared).
pub async fn join(pool: &PgPool, user: Uuid, code: &str, lead_secs: u64) -> AppResult<CohortRow> {
    let mut conn = pool.acquire().await?;
    let id = db::by_code(&mut conn, code.trim().to_uppercase().as_str())
        .await?
        .ok_or_else(|| AppError::validation("code", "no cohort has this join code"))?;
    db::add_member(&mut conn, id, user).await?;
    for exam in db::exams_within_lead(&mut conn, id, lead_secs as f64).await? {
        prepare(&mut conn, id, exam, &[user]).await?;
    }
    db::visible(&mut conn, id, user)
        .await?
        .ok_or_else(not_found)
}

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
async fn prepare(
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
fn cohort_recipe(bp: &catalog::BlueprintRow, exam: &ExamRow, count: usize) -> Recipe {
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

pub async fn members(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<Vec<MemberRow>> {
    owned(pool, user, id).await?;
    let mut conn = pool.acquire().await?;
    Ok(db::members(&mut conn, id).await?)
}

pub async fn remove_member(pool: &PgPool, user: Uuid, id: Uuid, member: Uuid) -> AppResult<()> {
    owned(pool, user, id).await?;
    let mut tx = pool.begin().await?;
    if !db::remove_member(&mut tx, id, member).await? {
        return Err(AppError::NotFound("no such member".into()));
    }
    db::delete_prepared(&mut tx, id, member).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn rotate_code(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<CohortRow> {
    owned(pool, user, id).await?;
    let mut conn = pool.acquire().await?;
    db::set_code(&mut conn, id, &new_code()).await?;
    db::visible(&mut conn, id, user)
        .await?
        .ok_or_else(not_found)
}

/// The owner shows members' names in the group view (or hides them again).
pub async fn set_leaderboard(
    pool: &PgPool,
    user: Uuid,
    id: Uuid,
    on: bool,
) -> AppResult<CohortRow> {
    owned(pool, user, id).await?;
    let mut conn = pool.acquire().await?;
    db::set_leaderboard(&mut conn, id, on).await?;
    db::visible(&mut conn, id, user)
        .await?
        .ok_or_else(not_found)
}

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
    let rows = db::exams(&mut conn, id).await?;
    let mine: std::collections::HashMap<Uuid, (Option<Uuid>, Option<String>, i32)> =
        db::my_exam_states(&mut conn, id, user)
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

/// A member starts their one attempt, inside the window.
///
/// Its attempt was normally prepared ahead of the opening: starting then only stamps the clock,
/// in one statement. Otherwise (not prepared yet, or a reason to refuse) the checks below run
/// one by one and say what is wrong, and an attempt is built here.
pub async fn start(pool: &PgPool, user: Uuid, id: Uuid, exam_id: Uuid) -> AppResult<Uuid> {
    {
        let mut conn = pool.acquire().await?;
        if let Some(a) = crate::db::attempts::start_prepared(&mut conn, id, exam_id, user).await? {
            return Ok(a.id);
        }
    }
    start_unprepared(pool, user, id, exam_id).await
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
            let mut conn = pool.acquire().await?;
            if let Some(a) =
                crate::db::attempts::start_prepared(&mut conn, id, exam_id, user).await?
            {
                return Ok(a.id);
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
            let mut conn = pool.acquire().await?;
            if let Some(a) =
                crate::db::attempts::start_prepared(&mut conn, id, exam_id, user).await?
            {
                return Ok(a.id);
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

/// The scaled pass mark as a share of questions right: (720 − 100) / 900.
pub const PASS_SHARE: f64 = (720.0 - 100.0) / 900.0;

pub struct GroupArea {
    pub kind: String,
    pub area: String,
    pub mean_estimate: f64,
    pub below_threshold: usize,
    pub members: usize,
}

pub struct MemberArea {
    pub user_id: Uuid,
    pub display_name: String,
    pub domain: String,
    pub estimate: f64,
    pub answered: i32,
}

pub struct GroupMastery {
    pub areas: Vec<GroupArea>,
    /// Per member and domain: for the owner always, for members only when the owner enabled
    /// the leaderboard.
    pub members: Option<Vec<MemberArea>>,
}

/// The group's weak areas: mean estimate per domain and tag, and how many members are below
/// the estimate that passing needs.
pub async fn group_mastery(pool: &PgPool, user: Uuid, id: Uuid) -> AppResult<GroupMastery> {
    use crate::domain::mastery::Belief;
    use std::collections::{BTreeMap, BTreeSet};
    let cohort = get(pool, user, id).await?;
    let mut conn = pool.acquire().await?;
    let rows = db::member_mastery(&mut conn, id).await?;
    let domains: Vec<String> = catalog::domain_weights(pool)
        .await?
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    let members: BTreeMap<Uuid, String> = rows
        .iter()
        .map(|r| (r.user_id, r.display_name.clone()))
        .collect();
    // (kind, area) → member → estimate
    let mut est: BTreeMap<(String, String), BTreeMap<Uuid, (f64, i32)>> = BTreeMap::new();
    for r in &rows {
        if let (Some(k), Some(a), Some(mu), Some(var)) =
            (&r.area_kind, &r.area, r.ability, r.variance)
        {
            est.entry((k.clone(), a.clone())).or_default().insert(
                r.user_id,
                (Belief { mu, var }.estimate(), r.answered.unwrap_or(0)),
            );
        }
    }
    let prior = Belief::PRIOR.estimate();
    let mut keys: BTreeSet<(String, String)> = domains
        .iter()
        .map(|d| ("domain".to_string(), d.clone()))
        .collect();
    keys.extend(est.keys().cloned());
    let areas = keys
        .into_iter()
        .map(|(kind, area)| {
            let per = est.get(&(kind.clone(), area.clone()));
            // members without answers in a domain count at the prior; tags only over those who answered
            let values: Vec<f64> = if kind == "domain" {
                members
                    .keys()
                    .map(|m| per.and_then(|p| p.get(m)).map_or(prior, |v| v.0))
                    .collect()
            } else {
                per.map(|p| p.values().map(|v| v.0).collect())
                    .unwrap_or_default()
            };
            GroupArea {
                mean_estimate: if values.is_empty() {
                    prior
                } else {
                    values.iter().sum::<f64>() / values.len() as f64
                },
                below_threshold: values.iter().filter(|v| **v < PASS_SHARE).count(),
                members: values.len(),
                kind,
                area,
            }
        })
        .collect();
    let show_members = cohort.owner_id == user || cohort.leaderboard;
    let members = show_members.then(|| {
        let mut out = Vec::new();
        for (m, name) in &members {
            for d in &domains {
                let v = est
                    .get(&("domain".to_string(), d.clone()))
                    .and_then(|p| p.get(m))
                    .copied()
                    .unwrap_or((prior, 0));
                out.push(MemberArea {
                    user_id: *m,
                    display_name: name.clone(),
                    domain: d.clone(),
                    estimate: v.0,
                    answered: v.1,
                });
            }
        }
        out
    });
    Ok(GroupMastery { areas, members })
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

    #[test]
    fn codes_avoid_look_alikes() {
        let c = new_code();
        assert_eq!(c.len(), 8);
        assert!(!c.contains(['0', 'O', '1', 'I', 'l']));
    }
}
