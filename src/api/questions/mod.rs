//! The question bank: here browsing and search (the question shapes); `author` (create, edit,
//! retire), `transfer` (import and export, JSON and GIFT) and `reports` (problems reported on a
//! question).

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, Problem};
use crate::services::questions as svc;
use crate::services::questions::{ListFilter, QuestionRow};
use crate::state::AppState;

mod author;
mod reports;
mod transfer;

pub use reports::{NewReport, ReportDto, ResolveReport};
pub use transfer::{BankDocument, FormatQuery, ImportResult};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(transfer::export)
        .service(transfer::import)
        .service(author::create)
        .service(get_one)
        .service(author::update)
        .service(author::retire)
        .service(reports::create_report)
        .service(reports::list_reports)
        .service(reports::resolve_report);
}

/// An option as shown in a question. `correct` and `rationale` only for authors.
#[derive(Serialize, ToSchema)]
pub struct OptionDto {
    pub id: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correct: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
}

/// A question. Learners get the fields up to `options` (without answers); instructors and
/// admins also get the answer, rationales, explanation and metadata.
#[derive(Serialize, ToSchema)]
pub struct QuestionDto {
    pub id: Uuid,
    /// Stable slug (the bank files' `id`).
    pub slug: String,
    pub version: i32,
    pub domain: String,
    pub tags: Vec<String>,
    #[schema(example = "single")]
    pub kind: String,
    pub difficulty: i16,
    pub stem: String,
    pub options: Vec<OptionDto>,
    /// Study-note section this question tests, `domain#anchor` (links to `/notes/{domain}#{anchor}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exam_domain: Option<String>,
    /// The exam guide's task statement (`1.1` … `4.3`) the question tests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_verified: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_reports: Option<i64>,
    /// For authors: the version's pilot state and calibration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measurement: Option<MeasurementDto>,
}

/// A question version's pilot state and calibration from learners' answers (Rasch difficulty
/// in logits, its standard error, the responses it rests on, facility and point-biserial).
#[derive(Serialize, ToSchema)]
pub struct MeasurementDto {
    /// `operational`, `pilot` (unscored until promoted) or `flagged` (see `pilot_reason`).
    pub pilot_status: String,
    pub pilot_reason: Option<String>,
    pub difficulty: Option<f64>,
    pub standard_error: Option<f64>,
    pub responses: i32,
    pub facility: Option<f64>,
    pub point_biserial: Option<f64>,
    /// `fitted` from responses, or `prior` (from the author difficulty: too few responses).
    pub source: Option<String>,
}

impl QuestionDto {
    pub fn from_row(q: QuestionRow, with_answers: bool) -> QuestionDto {
        let options = q
            .options
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| OptionDto {
                        id: o["id"].as_str().unwrap_or_default().to_string(),
                        text: o["text"].as_str().unwrap_or_default().to_string(),
                        correct: with_answers.then(|| o["correct"].as_bool().unwrap_or(false)),
                        rationale: with_answers
                            .then(|| o["rationale"].as_str().unwrap_or_default().to_string()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        QuestionDto {
            id: q.id,
            slug: q.slug,
            version: q.version,
            domain: q.domain,
            tags: q.tags,
            kind: q.kind,
            difficulty: q.difficulty,
            stem: q.stem,
            options,
            note: q.note,
            explanation: with_answers.then_some(q.explanation),
            references: with_answers.then_some(q.references),
            exam_domain: with_answers.then_some(q.exam_domain),
            task: q.task.filter(|_| with_answers),
            last_verified: with_answers.then_some(q.last_verified),
            retired: with_answers.then_some(q.retired),
            open_reports: with_answers.then_some(q.open_reports),
            measurement: with_answers.then_some(MeasurementDto {
                pilot_status: q.pilot_status,
                pilot_reason: q.pilot_reason,
                difficulty: q.calib_difficulty,
                standard_error: q.calib_se,
                responses: q.calib_responses,
                facility: q.calib_facility,
                point_biserial: q.calib_point_biserial,
                source: q.calib_source,
            }),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct QuestionPage {
    pub items: Vec<QuestionDto>,
    /// Link to the next page, or null on the last.
    pub next: Option<String>,
    /// The cursor of the next page (pass it as `cursor`), or null on the last.
    pub cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    pub domain: Option<String>,
    pub tag: Option<String>,
    /// 1, 2 or 3.
    pub difficulty: Option<i16>,
    /// Full-text search over stems (web search syntax: words, "phrases", -exclusions).
    pub q: Option<String>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// From the previous page's `next`.
    pub cursor: Option<String>,
    /// Authors only: include retired questions.
    #[serde(default)]
    pub include_retired: bool,
}

fn enc(s: &str) -> String {
    crate::http::urlencode(s).replace('/', "%2F")
}

fn next_link(q: &ListQuery, cursor: &str, limit: i64) -> String {
    let mut parts = vec![format!("limit={limit}"), format!("cursor={}", enc(cursor))];
    for (k, v) in [("domain", &q.domain), ("tag", &q.tag), ("q", &q.q)] {
        if let Some(v) = v {
            parts.push(format!("{k}={}", enc(v)));
        }
    }
    if let Some(d) = q.difficulty {
        parts.push(format!("difficulty={d}"));
    }
    if q.include_retired {
        parts.push("include_retired=true".into());
    }
    format!("/api/v1/questions?{}", parts.join("&"))
}

/// Browse and search the bank. Learners never receive answers, rationales or explanations here.
#[utoipa::path(
    operation_id = "listQuestions",
    tag = "questions",
    params(ListQuery),
    security(("bearer" = [])),
    responses((status = 200, body = QuestionPage), (status = 400, body = Problem), (status = 401, body = Problem))
)]
#[get("/questions")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    if let Some(d) = q.difficulty {
        if !(1..=3).contains(&d) {
            return Err(AppError::validation("difficulty", "must be 1, 2 or 3"));
        }
    }
    let limit = q.limit.unwrap_or(20);
    if !(1..=svc::MAX_PAGE).contains(&limit) {
        return Err(AppError::validation(
            "limit",
            format!("must be 1 to {}", svc::MAX_PAGE),
        ));
    }
    let author = svc::can_author(&state.pool, user.id).await?;
    let filter = ListFilter {
        domain: q.domain.clone(),
        tag: q.tag.clone(),
        difficulty: q.difficulty,
        q: q.q.clone(),
        include_retired: q.include_retired && author,
        after: q.cursor.clone(),
    };
    let page = svc::browse(&state.pool, filter, limit).await?;
    let next = page.next_cursor.as_deref().map(|c| next_link(&q, c, limit));
    let cursor = page.next_cursor;
    let items = page
        .items
        .into_iter()
        .map(|r| QuestionDto::from_row(r, author))
        .collect();
    Ok(HttpResponse::Ok().json(QuestionPage {
        items,
        next,
        cursor,
    }))
}

/// One question; answers only for instructors and admins.
#[utoipa::path(
    operation_id = "getQuestion",
    tag = "questions",
    security(("bearer" = [])),
    responses((status = 200, body = QuestionDto), (status = 404, body = Problem))
)]
#[get("/questions/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let author = svc::can_author(&state.pool, user.id).await?;
    let row = svc::get(&state.pool, id.into_inner()).await?;
    if row.retired && !author {
        return Err(AppError::NotFound("no such question".into()));
    }
    Ok(HttpResponse::Ok().json(QuestionDto::from_row(row, author)))
}
