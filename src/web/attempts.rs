//! Taking exams in the browser: `/exams/new`, `/attempts/{id}` (one question per page),
//! `/attempts/{id}/submit` (the summary to confirm before submitting), result with an SVG
//! chart, review with filters. Works without JavaScript. With it (`static/exam.js`), every
//! change of selection or flag is saved at once through the same form endpoint, the countdown
//! announces the time left and, at zero, saves the selection on screen before submitting; the
//! server enforces the deadline (with a grace window for that last save) regardless.
//! Over 500 lines on purpose: one handler per step of taking an exam, with its page; one flow.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::session::SessionView;
use super::{render, render_form, see_other, Csrf, CsrfOnly, PageError, PageUser};
use crate::error::AppError;
use crate::services::attempts::{self as svc, AnswerInput, ItemRow, StartRequest};
use crate::services::catalog::{self, BlueprintRow};
use crate::services::results::{self, AttemptResult, ReviewQuestion};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/exams/new", web::get().to(new_form))
        .route("/exams/new", web::post().to(start))
        .route("/attempts/{id}", web::get().to(take))
        .route("/attempts/{id}/answer", web::post().to(answer))
        .route("/attempts/{id}/submit", web::get().to(confirm_submit))
        .route("/attempts/{id}/submit", web::post().to(submit))
        .route("/attempts/{id}/result", web::get().to(result))
        .route("/attempts/{id}/review", web::get().to(review));
}

#[derive(Template)]
#[template(path = "exam_new.html")]
struct NewExamPage {
    user: Option<SessionView>,
    csrf: String,
    blueprints: Vec<BlueprintRow>,
    domains: Vec<(String, String)>,
    errors: Vec<String>,
}

async fn new_page(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let domains = catalog::list_domains(&state.pool).await?;
    // drills by their topic area's name ("Identity and access … drill"), not "domain-iam"
    let blueprints = catalog::list_blueprints(&state.pool)
        .await?
        .into_iter()
        .map(|mut b| {
            b.name = catalog::blueprint_name(&b, &domains);
            b
        })
        .collect();
    let page = NewExamPage {
        user: Some(user),
        csrf: csrf.token.clone(),
        blueprints,
        domains: domains.into_iter().map(|d| (d.slug, d.name)).collect(),
        errors,
    };
    render_form(status, csrf, &page)
}

async fn new_form(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
) -> Result<HttpResponse, PageError> {
    new_page(&state, user.0, &csrf, vec![], StatusCode::OK).await
}

async fn start(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let pairs = form.into_inner();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    csrf.verify(&get("csrf_token").unwrap_or_default())?;
    let mode = get("mode");
    let req = if get("kind").as_deref() == Some("custom") {
        let domains: BTreeMap<String, f64> = pairs
            .iter()
            .filter(|(k, _)| k == "domain")
            .map(|(_, v)| (v.clone(), 1.0))
            .collect();
        StartRequest {
            blueprint: None,
            mode,
            count: get("count").and_then(|c| c.parse().ok()).or(Some(0)),
            domains: (!domains.is_empty()).then_some(domains),
            time_limit_minutes: get("time_limit_minutes").and_then(|t| t.parse().ok()),
        }
    } else {
        StartRequest {
            blueprint: get("blueprint").or(Some(String::new())),
            mode,
            ..StartRequest::default()
        }
    };
    match svc::start(&state.pool, user.0.id, req).await {
        Ok(s) => Ok(see_other(format!("/attempts/{}?q=1", s.attempt.id))),
        Err(AppError::Validation(errs)) => {
            let msgs = errs
                .into_iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            new_page(
                &state,
                user.0,
                &csrf,
                msgs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct PaletteEntry {
    pub position: i32,
    pub answered: bool,
    pub flagged: bool,
    pub current: bool,
}

pub struct OptionView {
    pub id: String,
    pub text: String,
    pub checked: bool,
    /// practice feedback only
    pub correct: Option<bool>,
    pub rationale: Option<String>,
}

#[derive(Template)]
#[template(path = "attempt_take.html")]
struct TakePage {
    user: Option<SessionView>,
    csrf: String,
    attempt_id: Uuid,
    mode: String,
    position: i32,
    total: i32,
    kind: String,
    stem: String,
    options: Vec<OptionView>,
    flagged: bool,
    palette: Vec<PaletteEntry>,
    deadline: Option<String>,
    remaining: Option<String>,
    feedback: Option<(bool, String)>,
    answered: usize,
    /// practice mode, question not answered yet: the first save shows its feedback before
    /// moving on, whatever button was pressed
    feedback_pending: bool,
}

fn option_views(item: &ItemRow, reveal: bool) -> Vec<OptionView> {
    item.option_order
        .iter()
        .map(|id| {
            let o = item.option(id);
            OptionView {
                id: id.clone(),
                text: o
                    .and_then(|o| o["text"].as_str())
                    .unwrap_or_default()
                    .into(),
                checked: item.choices.contains(id),
                correct: reveal.then(|| o.and_then(|o| o["correct"].as_bool()).unwrap_or(false)),
                rationale: reveal.then(|| {
                    o.and_then(|o| o["rationale"].as_str())
                        .unwrap_or_default()
                        .into()
                }),
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct TakeQuery {
    q: Option<i32>,
}

async fn take(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    id: web::Path<Uuid>,
    q: web::Query<TakeQuery>,
) -> Result<HttpResponse, PageError> {
    let s = svc::get(&state.pool, user.0.id, *id).await?;
    if s.attempt.status != "in_progress" {
        return Ok(see_other(format!("/attempts/{}/result", *id)));
    }
    let total = s.items.len() as i32;
    let position = q.q.unwrap_or(1).clamp(1, total.max(1));
    let Some(item) = s.items.iter().find(|i| i.position == position) else {
        return Err(AppError::NotFound("no such question".into()).into());
    };
    svc::viewed(&state.pool, user.0.id, *id, position).await?;
    // practice mode reveals only the answered question on screen
    let reveal = s.attempt.mode == "practice" && !item.choices.is_empty();
    let feedback = reveal.then(|| (item.correct == Some(true), item.explanation.clone()));
    let remaining = s
        .remaining_seconds()
        .filter(|_| s.attempt.deadline.is_some())
        .map(|r| format!("{}:{:02}", r / 60, r % 60));
    let page = TakePage {
        user: Some(user.0),
        csrf: csrf.token.clone(),
        attempt_id: *id,
        mode: s.attempt.mode.clone(),
        position,
        total,
        kind: item.kind.clone(),
        stem: item.stem.clone(),
        options: option_views(item, reveal),
        flagged: item.flagged,
        palette: s
            .items
            .iter()
            .map(|i| PaletteEntry {
                position: i.position,
                answered: !i.choices.is_empty(),
                flagged: i.flagged,
                current: i.position == position,
            })
            .collect(),
        deadline: s.attempt.deadline.map(|d| d.to_rfc3339()),
        remaining,
        feedback,
        answered: s.items.iter().filter(|i| !i.choices.is_empty()).count(),
        feedback_pending: s.attempt.mode == "practice" && item.choices.is_empty(),
    };
    render_form(StatusCode::OK, &csrf, &page)
}

/// One form for every button on the question page: save the answer, then go where asked
/// (`nav` = prev, next, a position number, or submit).
/// The header `static/exam.js` sends with a background save: the answer is saved as from the
/// form, and the reply is a status (204, or 409 once the attempt is finalized) instead of a page.
const AUTOSAVE: &str = "x-exambank-autosave";

async fn answer(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    id: web::Path<Uuid>,
    req: HttpRequest,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let background = req.headers().contains_key(AUTOSAVE);
    let pairs = form.into_inner();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    csrf.verify(&get("csrf_token").unwrap_or_default())?;
    let position: i32 = get("position").and_then(|p| p.parse().ok()).unwrap_or(1);
    let choices: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "choice")
        .map(|(_, v)| v.clone())
        .collect();
    let flagged = get("flagged").is_some();
    let input = AnswerInput {
        choices: Some(choices),
        flagged: Some(flagged),
        revision: None,
        time_spent_ms: None,
    };
    match svc::answer(
        &state.pool,
        &state.answers,
        &state.saves,
        user.0.id,
        *id,
        position,
        input,
    )
    .await
    {
        Ok(_) if background => return Ok(HttpResponse::NoContent().finish()),
        Ok(_) => {}
        Err(AppError::Conflict(_, m)) if background => {
            return Ok(HttpResponse::Conflict().body(m));
        }
        // finalized or past the deadline: the result page explains
        Err(AppError::Conflict(..)) => return Ok(see_other(format!("/attempts/{}/result", *id))),
        Err(e) => return Err(e.into()),
    }
    let mut nav = get("nav").unwrap_or_else(|| "stay".into());
    // practice feedback is shown before moving on (the first answer to a question stays)
    if get("feedback_pending").is_some() && pairs.iter().any(|(k, _)| k == "choice") {
        nav = "stay".into();
    }
    let to = match nav.as_str() {
        // never straight to a finalized exam: the summary asks first
        "submit" => format!("/attempts/{}/submit", *id),
        "next" => format!("/attempts/{}?q={}", *id, position + 1),
        "prev" => format!("/attempts/{}?q={}", *id, (position - 1).max(1)),
        n => match n.parse::<i32>() {
            Ok(p) => format!("/attempts/{}?q={p}", *id),
            Err(_) => format!("/attempts/{}?q={position}", *id),
        },
    };
    Ok(see_other(to))
}

#[derive(Template)]
#[template(path = "attempt_submit.html")]
struct SubmitPage {
    user: Option<SessionView>,
    csrf: String,
    attempt_id: Uuid,
    total: usize,
    answered: usize,
    unanswered: Vec<i32>,
    flagged: Vec<i32>,
    remaining: Option<String>,
    cohort_exam: bool,
}

/// The summary before submitting: answered, unanswered and flagged questions (each a link
/// back), the time left, and an explicit confirm. Works without JavaScript.
async fn confirm_submit(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    let s = svc::get(&state.pool, user.0.id, *id).await?;
    if s.attempt.status != "in_progress" {
        return Ok(see_other(format!("/attempts/{}/result", *id)));
    }
    let page = SubmitPage {
        user: Some(user.0),
        csrf: csrf.token.clone(),
        attempt_id: *id,
        total: s.items.len(),
        answered: s.items.iter().filter(|i| !i.choices.is_empty()).count(),
        unanswered: s
            .items
            .iter()
            .filter(|i| i.choices.is_empty())
            .map(|i| i.position)
            .collect(),
        flagged: s
            .items
            .iter()
            .filter(|i| i.flagged)
            .map(|i| i.position)
            .collect(),
        remaining: s
            .remaining_seconds()
            .filter(|_| s.attempt.deadline.is_some())
            .map(|r| format!("{}:{:02}", r / 60, r % 60)),
        cohort_exam: s.attempt.cohort_exam_id.is_some(),
    };
    render_form(StatusCode::OK, &csrf, &page)
}

async fn submit(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    id: web::Path<Uuid>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    state.finals.finalize(user.0.id, *id).await?;
    Ok(see_other(format!("/attempts/{}/result", *id)))
}

pub struct Bar {
    pub label: String,
    pub y: i32,
    pub width: f64,
    pub percent: f64,
    pub meets: bool,
    pub detail: String,
}

/// Horizontal bars, one per domain, 0–100 % over 300 px, with the pass line.
pub fn domain_bars(r: &AttemptResult) -> Vec<Bar> {
    r.domains
        .iter()
        .enumerate()
        .map(|(i, d)| Bar {
            label: d.domain.clone(),
            y: 10 + i as i32 * 34,
            width: (d.percent * 3.0).max(1.0),
            percent: d.percent,
            meets: d.verdict == crate::domain::scoring::MEETS,
            detail: format!("{}/{}", d.correct, d.total),
        })
        .collect()
}

/// Where the pass mark lies on the 0–100 % axis (720 scaled = 68.9 %).
pub fn pass_x(pass_mark: i32) -> f64 {
    120.0 + ((pass_mark - 100) as f64 / 900.0 * 100.0) * 3.0
}

#[derive(Template)]
#[template(path = "attempt_result.html")]
struct ResultPage {
    user: Option<SessionView>,
    attempt_id: Uuid,
    status: String,
    r: AttemptResult,
    /// (exam-guide domain, score, verdict), in the guide's order
    exam_rows: Vec<(String, String, String)>,
    /// "50 scored, 15 unscored" when some questions did not count
    unscored_note: Option<String>,
    bars: Vec<Bar>,
    chart_height: i32,
    pass_line_x: f64,
    avg_seconds: i64,
}

async fn result(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    let s = svc::get(&state.pool, user.0.id, *id).await?;
    let Some(stored) = s.attempt.result.clone() else {
        return Ok(see_other(format!("/attempts/{}?q=1", *id)));
    };
    let r = results::parse_result(stored)?;
    let bars = domain_bars(&r);
    let names: std::collections::HashMap<String, String> =
        crate::services::catalog::exam_domains(&state.pool)
            .await?
            .into_iter()
            .map(|d| (d.slug, d.name))
            .collect();
    let exam_rows = r
        .exam_domains
        .iter()
        .map(|d| {
            (
                names
                    .get(&d.domain)
                    .cloned()
                    .unwrap_or_else(|| d.domain.clone()),
                format!("{}/{} ({}%)", d.correct, d.total, d.percent),
                d.verdict.clone(),
            )
        })
        .collect();
    let unscored_note = r.unscored.filter(|u| *u > 0).map(|u| {
        format!(
            "{} scored questions counted; {u} unscored ones did not, as on the real exam.",
            r.scored.unwrap_or(r.total)
        )
    });
    let page = ResultPage {
        user: Some(user.0),
        attempt_id: *id,
        exam_rows,
        unscored_note,
        status: s.attempt.status.clone(),
        chart_height: 20 + bars.len() as i32 * 34,
        pass_line_x: pass_x(r.pass_mark),
        avg_seconds: r.pacing.average_ms / 1000,
        bars,
        r,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct ReviewQuery {
    filter: Option<String>,
}

#[derive(Template)]
#[template(path = "attempt_review.html")]
struct ReviewPage {
    user: Option<SessionView>,
    attempt_id: Uuid,
    filter: String,
    items: Vec<ReviewQuestion>,
}

async fn review(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<Uuid>,
    q: web::Query<ReviewQuery>,
) -> Result<HttpResponse, PageError> {
    let s = svc::get(&state.pool, user.0.id, *id).await?;
    if s.attempt.result.is_none() {
        return Ok(see_other(format!("/attempts/{}?q=1", *id)));
    }
    let filter = q.filter.clone().filter(|f| f == "wrong" || f == "flagged");
    let items = results::review_questions(&s.items, filter.as_deref());
    render(
        StatusCode::OK,
        &ReviewPage {
            user: Some(user.0),
            attempt_id: *id,
            filter: filter.unwrap_or_default(),
            items,
        },
    )
}
