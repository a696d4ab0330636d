//! Taking exams in the browser: `/exams/new`, `/attempts/{id}` (one question per page),
//! `/attempts/{id}/submit` (the summary to confirm before submitting), result with an SVG
//! chart, review with filters. Works without JavaScript. With it (`static/exam.js`), every
//! change of selection or flag is saved at once through the same form endpoint, the countdown
//! announces the time left and, at zero, saves the selection on screen before submitting; the
//! server enforces the deadline (with a grace window for that last save) regardless.
//! The finalized attempt's pages (result, review) are in [`result`].

mod result;

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::session::SessionView;
use super::{render_form, see_other, Csrf, CsrfOnly, PageError, PageUser};
use crate::error::AppError;
use crate::services::attempts::{self as svc, AnswerInput, ItemRow, StartRequest};
use crate::services::catalog::{self, BlueprintRow};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/exams/new", web::get().to(new_form))
        .route("/exams/new", web::post().to(start))
        .route("/attempts/{id}", web::get().to(take))
        .route("/attempts/{id}/answer", web::post().to(answer))
        .route("/attempts/{id}/submit", web::get().to(confirm_submit))
        .route("/attempts/{id}/submit", web::post().to(submit))
        .route("/attempts/{id}/result", web::get().to(result::result))
        .route("/attempts/{id}/review", web::get().to(result::review));
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
                text: o.map(|o| o.text.clone()).unwrap_or_default(),
                checked: item.choices.contains(id),
                correct: reveal.then(|| o.is_some_and(|o| o.correct)),
                rationale: reveal.then(|| o.map(|o| o.rationale.clone()).unwrap_or_default()),
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
    if !s.attempt.status.is_open() {
        return Ok(see_other(format!("/attempts/{}/result", *id)));
    }
    let total = s.items.len() as i32;
    let position = q.q.unwrap_or(1).clamp(1, total.max(1));
    let Some(item) = s.items.iter().find(|i| i.position == position) else {
        return Err(AppError::NotFound("no such question".into()).into());
    };
    svc::viewed(&state.pool, user.0.id, *id, position).await?;
    // practice mode reveals only the answered question on screen
    let reveal = s.attempt.mode.shows_feedback() && !item.choices.is_empty();
    let feedback = reveal.then(|| (item.correct == Some(true), item.explanation.clone()));
    let remaining = s
        .remaining_seconds()
        .filter(|_| s.attempt.deadline.is_some())
        .map(|r| format!("{}:{:02}", r / 60, r % 60));
    let page = TakePage {
        user: Some(user.0),
        csrf: csrf.token.clone(),
        attempt_id: *id,
        mode: s.attempt.mode.as_str().into(),
        position,
        total,
        kind: item.kind.as_str().into(),
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
        feedback_pending: s.attempt.mode.shows_feedback() && item.choices.is_empty(),
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
    if !s.attempt.status.is_open() {
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
