//! Cohort pages: `/cohorts` (mine, join with a code, create), `/cohorts/{id}` (members, exams
//! with their windows and a start button, the group's weak areas, a domain × member heatmap for
//! the owner) and the owner's results page (per-domain chart, learners, item statistics, CSV).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::session::SessionView;
use super::{render_form, see_other, Csrf, CsrfOnly, PageError, PageUser};
use crate::error::AppError;
use crate::services::catalog::{self, BlueprintRow};
use crate::services::cohorts::{self as svc, ExamView, GroupArea, Window, PASS_SHARE};
use crate::services::cohorts::{CohortRow, MemberRow};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/cohorts", web::get().to(index))
        .route("/cohorts", web::post().to(create))
        .route("/cohorts/join", web::post().to(join))
        .route("/cohorts/{id}", web::get().to(show))
        .route("/cohorts/{id}/code", web::post().to(rotate_code))
        .route("/cohorts/{id}/leaderboard", web::post().to(leaderboard))
        .route(
            "/cohorts/{id}/members/{member}/remove",
            web::post().to(remove_member),
        )
        .route("/cohorts/{id}/exams", web::post().to(schedule))
        .route("/cohorts/{id}/exams/{exam}/start", web::post().to(start))
        .route("/cohorts/{id}/exams/{exam}/results", web::get().to(results))
        .route(
            "/cohorts/{id}/exams/{exam}/results.csv",
            web::get().to(results_csv),
        )
        .route(
            "/cohorts/{id}/exams/{exam}/extensions",
            web::post().to(extend),
        );
}

fn messages(e: &AppError) -> Option<Vec<String>> {
    match e {
        AppError::Validation(errs) => Some(
            errs.iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect(),
        ),
        AppError::Conflict(m) => Some(vec![m.clone()]),
        _ => None,
    }
}

/// The status a form error is shown with.
fn error_status(e: &AppError) -> StatusCode {
    match e {
        AppError::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

// ---------------------------------------------------------------------------------------------
// /cohorts

#[derive(Template)]
#[template(path = "cohorts_index.html")]
struct IndexPage {
    user: Option<SessionView>,
    csrf: String,
    owned: Vec<CohortRow>,
    joined: Vec<CohortRow>,
    errors: Vec<String>,
    code: String,
    name: String,
    instructor: bool,
}

async fn index_page(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    status: StatusCode,
    errors: Vec<String>,
    code: String,
    name: String,
) -> Result<HttpResponse, PageError> {
    let (owned, joined) = svc::list(&state.pool, user.id)
        .await?
        .into_iter()
        .partition(|c| c.owner_id == user.id);
    let page = IndexPage {
        instructor: user.can_author(),
        user: Some(user),
        csrf: csrf.token.clone(),
        owned,
        joined,
        errors,
        code,
        name,
    };
    render_form(status, csrf, &page)
}

async fn index(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
) -> Result<HttpResponse, PageError> {
    index_page(
        &state,
        user.0,
        &csrf,
        StatusCode::OK,
        vec![],
        String::new(),
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
struct NameForm {
    csrf_token: String,
    name: String,
}

async fn create(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let result = svc::create(&state.pool, user.0.id, &form.name).await;
    to_cohort_or_index(
        &state,
        user.0,
        &csrf,
        result,
        String::new(),
        form.name.clone(),
    )
    .await
}

/// After the create and join forms: to the cohort, or back to `/cohorts` with the errors and
/// what was typed.
async fn to_cohort_or_index(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    result: Result<CohortRow, AppError>,
    code: String,
    name: String,
) -> Result<HttpResponse, PageError> {
    match result {
        Ok(c) => Ok(see_other(format!("/cohorts/{}", c.id))),
        Err(e) => match messages(&e) {
            Some(msgs) => index_page(state, user, csrf, error_status(&e), msgs, code, name).await,
            None => Err(e.into()),
        },
    }
}

#[derive(Deserialize)]
struct CodeForm {
    csrf_token: String,
    code: String,
}

async fn join(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let result = svc::join(
        &state.pool,
        user.0.id,
        &form.code,
        state.settings.prepare_lead_secs,
    )
    .await;
    to_cohort_or_index(
        &state,
        user.0,
        &csrf,
        result,
        form.code.clone(),
        String::new(),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// /cohorts/{id}

pub struct ExamLine {
    pub id: Uuid,
    pub blueprint: String,
    pub opens: String,
    pub closes: String,
    pub questions: i64,
    pub shuffle: bool,
    /// "upcoming", "open" or "closed"
    pub window: &'static str,
    pub extension_minutes: i32,
    pub can_start: bool,
    /// (attempt, status) of the caller's own attempt
    pub attempt: Option<(Uuid, String)>,
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl ExamLine {
    fn new(v: ExamView, member: bool, names: &BTreeMap<String, String>) -> ExamLine {
        ExamLine {
            id: v.exam.id,
            blueprint: names
                .get(&v.exam.blueprint)
                .cloned()
                .unwrap_or(v.exam.blueprint),
            opens: when(v.exam.opens_at),
            closes: when(v.exam.closes_at),
            questions: v.exam.question_count,
            shuffle: v.exam.shuffle,
            window: match v.window {
                Window::Upcoming => "upcoming",
                Window::Open => "open",
                Window::Closed => "closed",
            },
            extension_minutes: v.extension_minutes,
            can_start: member && v.window == Window::Open && v.attempt.is_none(),
            attempt: v.attempt,
        }
    }
}

pub struct AreaLine {
    pub area: String,
    pub percent: i64,
    pub below: usize,
    pub members: usize,
}

impl From<&GroupArea> for AreaLine {
    fn from(a: &GroupArea) -> Self {
        AreaLine {
            area: a.area.clone(),
            percent: (a.mean_estimate * 100.0).round() as i64,
            below: a.below_threshold,
            members: a.members,
        }
    }
}

/// The domain × member heatmap: columns are domains, rows members.
pub struct Heatmap {
    pub width: i32,
    pub height: i32,
    pub columns: Vec<(i32, String)>,
    pub rows: Vec<(i32, String)>,
    pub cells: Vec<Cell>,
}

pub struct Cell {
    pub x: i32,
    pub y: i32,
    pub fill: String,
    pub percent: i64,
    /// what the cell shows: the percentage, or "–" with no answers
    pub text: String,
    pub title: String,
}

const HEAT_LEFT: i32 = 170;
const HEAT_TOP: i32 = 28;
const HEAT_W: i32 = 62;
const HEAT_H: i32 = 24;

/// A red-to-green fill for an estimate, with the pass share at the yellow midpoint.
pub fn heat_fill(estimate: f64) -> String {
    let t = ((estimate - PASS_SHARE) / 0.25).clamp(-1.0, 1.0);
    let hue = 55.0 + t * 65.0;
    format!("hsl({hue:.0}, 70%, 72%)")
}

/// A member's estimate and answers per domain, keyed by (name, id) so rows sort by name.
type MemberGrid<'a> = BTreeMap<(String, Uuid), BTreeMap<&'a str, (f64, i32)>>;

fn heatmap(members: &[svc::MemberArea], domains: &[String]) -> Option<Heatmap> {
    let mut by_member: MemberGrid = BTreeMap::new();
    for m in members {
        by_member
            .entry((m.display_name.clone(), m.user_id))
            .or_default()
            .insert(m.domain.as_str(), (m.estimate, m.answered));
    }
    if by_member.is_empty() {
        return None;
    }
    let columns: Vec<(i32, String)> = domains
        .iter()
        .enumerate()
        .map(|(i, d)| (HEAT_LEFT + i as i32 * HEAT_W + HEAT_W / 2, d.clone()))
        .collect();
    let mut rows = Vec::new();
    let mut cells = Vec::new();
    for (r, ((name, _), per)) in by_member.iter().enumerate() {
        let y = HEAT_TOP + r as i32 * HEAT_H;
        rows.push((y + HEAT_H / 2 + 4, name.clone()));
        for (c, d) in domains.iter().enumerate() {
            let (e, n) = per.get(d.as_str()).copied().unwrap_or((0.5, 0));
            cells.push(Cell {
                x: HEAT_LEFT + c as i32 * HEAT_W,
                y,
                fill: if n == 0 {
                    "#eef1f4".into()
                } else {
                    heat_fill(e)
                },
                percent: (e * 100.0).round() as i64,
                text: if n == 0 {
                    "–".into()
                } else {
                    format!("{:.0}", e * 100.0)
                },
                title: if n == 0 {
                    format!("{name} · {d}: no data (no answers yet)")
                } else {
                    format!("{name} · {d}: {:.0}% estimated from {n} answers", e * 100.0)
                },
            });
        }
    }
    Some(Heatmap {
        width: HEAT_LEFT + domains.len() as i32 * HEAT_W + 4,
        height: HEAT_TOP + by_member.len() as i32 * HEAT_H + 4,
        columns,
        rows,
        cells,
    })
}

#[derive(Template)]
#[template(path = "cohort_show.html")]
struct ShowPage {
    user: Option<SessionView>,
    csrf: String,
    cohort: CohortRow,
    owner: bool,
    members: Vec<MemberRow>,
    exams: Vec<ExamLine>,
    domains: Vec<AreaLine>,
    tags: Vec<AreaLine>,
    heatmap: Option<Heatmap>,
    blueprints: Vec<BlueprintRow>,
    errors: Vec<String>,
    pass_percent: i64,
}

async fn show_page(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    id: Uuid,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<HttpResponse, PageError> {
    let pool = &state.pool;
    let cohort = svc::get(pool, user.id, id).await?;
    let owner = cohort.owner_id == user.id;
    let members = if owner {
        svc::members(pool, user.id, id).await?
    } else {
        vec![]
    };
    let names = catalog::blueprint_names(pool).await?;
    let exams = svc::exam_views(pool, user.id, id)
        .await?
        .into_iter()
        .map(|v| ExamLine::new(v, !owner, &names))
        .collect();
    let group = svc::group_mastery(pool, user.id, id).await?;
    let mut domains: Vec<AreaLine> = Vec::new();
    let mut tags: Vec<AreaLine> = Vec::new();
    for a in &group.areas {
        if a.kind == "domain" {
            domains.push(a.into());
        } else if a.members > 0 {
            tags.push(a.into());
        }
    }
    // weakest tags first, the ten that hold the group back most
    tags.sort_by_key(|t| (t.percent, t.area.clone()));
    tags.truncate(10);
    let domain_slugs: Vec<String> = domains.iter().map(|d| d.area.clone()).collect();
    let heatmap = group
        .members
        .as_deref()
        .and_then(|m| heatmap(m, &domain_slugs));
    let page = ShowPage {
        user: Some(user),
        csrf: csrf.token.clone(),
        owner,
        members,
        exams,
        domains,
        tags,
        heatmap,
        blueprints: if owner {
            catalog::list_blueprints(pool)
                .await?
                .into_iter()
                .map(|mut b| {
                    if let Some(n) = names.get(&b.slug) {
                        b.name = n.clone();
                    }
                    b
                })
                .collect()
        } else {
            vec![]
        },
        errors,
        pass_percent: (PASS_SHARE * 100.0).round() as i64,
        cohort,
    };
    render_form(status, csrf, &page)
}

async fn show(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    show_page(&state, user.0, &csrf, *id, StatusCode::OK, vec![]).await
}

async fn rotate_code(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    id: web::Path<Uuid>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    svc::rotate_code(&state.pool, user.0.id, *id).await?;
    Ok(see_other(format!("/cohorts/{}", *id)))
}

#[derive(Deserialize)]
struct LeaderboardForm {
    csrf_token: String,
    on: String,
}

async fn leaderboard(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    id: web::Path<Uuid>,
    form: web::Form<LeaderboardForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    svc::set_leaderboard(&state.pool, user.0.id, *id, form.on == "true").await?;
    Ok(see_other(format!("/cohorts/{}", *id)))
}

async fn remove_member(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    path: web::Path<(Uuid, Uuid)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let (id, member) = path.into_inner();
    svc::remove_member(&state.pool, user.0.id, id, member).await?;
    Ok(see_other(format!("/cohorts/{id}")))
}

#[derive(Deserialize)]
struct ScheduleForm {
    csrf_token: String,
    blueprint: String,
    opens_at: String,
    closes_at: String,
    shuffle: Option<String>,
}

/// A `datetime-local` value, read as UTC (the form says so).
fn parse_local(field: &str, v: &str) -> Result<DateTime<Utc>, AppError> {
    NaiveDateTime::parse_from_str(v.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(v.trim(), "%Y-%m-%dT%H:%M:%S"))
        .map(|t| t.and_utc())
        .map_err(|_| AppError::validation(field, "must be a date and time like 2026-12-01T09:00"))
}

async fn schedule(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    id: web::Path<Uuid>,
    form: web::Form<ScheduleForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let outcome = async {
        let opens = parse_local("opens_at", &form.opens_at)?;
        let closes = parse_local("closes_at", &form.closes_at)?;
        svc::schedule(
            &state.pool,
            user.0.id,
            *id,
            &form.blueprint,
            opens,
            closes,
            form.shuffle.is_some(),
        )
        .await
    }
    .await;
    match outcome {
        Ok(_) => Ok(see_other(format!("/cohorts/{}", *id))),
        Err(e) => match messages(&e) {
            Some(msgs) => show_page(&state, user.0, &csrf, *id, error_status(&e), msgs).await,
            None => Err(e.into()),
        },
    }
}

async fn start(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    path: web::Path<(Uuid, Uuid)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let (id, exam) = path.into_inner();
    match svc::start(&state.pool, user.0.id, id, exam).await {
        Ok(attempt) => Ok(see_other(format!("/attempts/{attempt}?q=1"))),
        Err(e @ AppError::Conflict(_)) => {
            let msgs = messages(&e).unwrap_or_default();
            show_page(&state, user.0, &csrf, id, StatusCode::CONFLICT, msgs).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// results

pub struct DomainBar {
    pub label: String,
    pub y: i32,
    pub width: f64,
    pub percent: f64,
    pub meets: bool,
    pub attempts: usize,
}

pub struct LearnerLine {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub status: String,
    pub score: String,
    pub scaled: String,
    pub passed: Option<bool>,
    pub time_used: String,
    pub extension_minutes: i32,
}

pub struct ItemLine {
    pub position: i32,
    pub domain: String,
    pub stem: String,
    pub facility: i64,
    pub discrimination: String,
    pub options: Vec<(String, i64, bool)>,
    pub flagged: bool,
}

#[derive(Template)]
#[template(path = "cohort_results.html")]
struct ResultsPage {
    user: Option<SessionView>,
    csrf: String,
    cohort: CohortRow,
    exam_id: Uuid,
    blueprint: String,
    window: String,
    finished: usize,
    started: usize,
    bars: Vec<DomainBar>,
    chart_height: i32,
    pass_line_x: f64,
    learners: Vec<LearnerLine>,
    items: Vec<ItemLine>,
    flagged: usize,
}

fn excerpt(s: &str, n: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= n {
        s
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn duration(seconds: i64) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

async fn results_page(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    id: Uuid,
    exam: Uuid,
) -> Result<HttpResponse, PageError> {
    let pool = &state.pool;
    let cohort = svc::owned(pool, user.id, id).await?;
    let r = svc::results(pool, user.id, id, exam).await?;
    let extensions: BTreeMap<Uuid, i32> = svc::extensions(pool, user.id, id, exam)
        .await?
        .into_iter()
        .collect();
    let bars: Vec<DomainBar> = r
        .domains
        .iter()
        .enumerate()
        .map(|(i, (d, (mean, n)))| DomainBar {
            label: d.clone(),
            y: 10 + i as i32 * 34,
            width: (mean * 3.0).max(1.0),
            percent: (mean * 10.0).round() / 10.0,
            meets: *mean >= PASS_SHARE * 100.0,
            attempts: *n,
        })
        .collect();
    let learners: Vec<LearnerLine> = r
        .learners
        .iter()
        .map(|l| {
            let res = l.row.result.as_ref();
            let get = |k: &str| res.and_then(|v| v.get(k)).cloned();
            LearnerLine {
                user_id: l.row.user_id,
                name: l.row.display_name.clone(),
                email: l.row.email.clone(),
                status: l.status.replace('_', " "),
                score: match (get("correct"), get("total")) {
                    (Some(c), Some(t)) => format!("{c}/{t}"),
                    _ => "—".into(),
                },
                scaled: get("scaled_score")
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "—".into()),
                passed: get("passed").and_then(|p| p.as_bool()),
                time_used: l
                    .time_used_seconds
                    .map(duration)
                    .unwrap_or_else(|| "—".into()),
                extension_minutes: extensions.get(&l.row.user_id).copied().unwrap_or(0),
            }
        })
        .collect();
    let items: Vec<ItemLine> = r
        .items
        .iter()
        .map(|it| {
            let correct: Vec<String> = it
                .item
                .options
                .as_array()
                .into_iter()
                .flatten()
                .filter(|o| o["correct"].as_bool() == Some(true))
                .filter_map(|o| o["id"].as_str().map(String::from))
                .collect();
            let texts: Vec<(String, String)> = it
                .item
                .options
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, o)| {
                    (
                        o["id"].as_str().unwrap_or_default().to_string(),
                        format!(
                            "{}. {}",
                            (b'A' + (i % 26) as u8) as char,
                            excerpt(o["text"].as_str().unwrap_or_default(), 60)
                        ),
                    )
                })
                .collect();
            let label = |o: &String| {
                texts
                    .iter()
                    .find(|(id, _)| id == o)
                    .map(|(_, t)| t.clone())
                    .unwrap_or_else(|| o.clone())
            };
            ItemLine {
                position: it.item.position,
                domain: it.item.domain.clone(),
                stem: excerpt(&it.item.stem, 110),
                facility: (it.stat.facility * 100.0).round() as i64,
                discrimination: it
                    .stat
                    .discrimination
                    .map(|d| format!("{d:.2}"))
                    .unwrap_or_else(|| "—".into()),
                options: {
                    // by letter, as the question lists them
                    let mut v: Vec<(String, i64, bool)> = it
                        .stat
                        .option_shares
                        .iter()
                        .map(|(o, s)| (label(o), (s * 100.0).round() as i64, correct.contains(o)))
                        .collect();
                    v.sort();
                    v
                },
                flagged: it.stat.flagged,
            }
        })
        .collect();
    let page = ResultsPage {
        user: Some(user),
        csrf: csrf.token.clone(),
        exam_id: exam,
        blueprint: catalog::blueprint_names(pool)
            .await?
            .remove(&r.exam.blueprint)
            .unwrap_or_else(|| r.exam.blueprint.clone()),
        window: format!("{} – {}", when(r.exam.opens_at), when(r.exam.closes_at)),
        finished: r.learners.iter().filter(|l| l.row.result.is_some()).count(),
        started: r
            .learners
            .iter()
            .filter(|l| l.row.attempt_id.is_some())
            .count(),
        chart_height: 20 + bars.len() as i32 * 34,
        pass_line_x: 120.0 + PASS_SHARE * 300.0,
        bars,
        learners,
        flagged: items.iter().filter(|i| i.flagged).count(),
        items,
        cohort,
    };
    render_form(StatusCode::OK, csrf, &page)
}

async fn results(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, PageError> {
    let (id, exam) = path.into_inner();
    results_page(&state, user.0, &csrf, id, exam).await
}

async fn results_csv(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, PageError> {
    let (id, exam) = path.into_inner();
    let r = svc::results(&state.pool, user.0.id, id, exam).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            "attachment; filename=\"results.csv\"",
        ))
        .body(svc::results_csv(&r)))
}

#[derive(Deserialize)]
struct ExtensionForm {
    csrf_token: String,
    user_id: Uuid,
    minutes: String,
}

async fn extend(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    path: web::Path<(Uuid, Uuid)>,
    form: web::Form<ExtensionForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let (id, exam) = path.into_inner();
    let minutes = form.minutes.trim().parse::<i64>().map_err(|_| {
        PageError(AppError::validation(
            "minutes",
            "must be a whole number of minutes",
        ))
    })?;
    svc::extend(&state.pool, user.0.id, id, exam, form.user_id, minutes).await?;
    Ok(see_other(format!(
        "/cohorts/{id}/exams/{exam}/results#learners"
    )))
}
