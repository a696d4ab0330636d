//! The question bank: browse and search, authoring, import/export, reports.

use actix_web::http::header::{self, ContentType};
use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::domain::question::{BankItem, QuestionDraft};
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::services::questions as svc;
use crate::services::questions::{ListFilter, QuestionRow, ReportRow};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(export)
        .service(import)
        .service(create)
        .service(get_one)
        .service(update)
        .service(retire)
        .service(create_report)
        .service(list_reports)
        .service(resolve_report);
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

/// Author a new question (instructors, admins). 422 names every invalid field.
#[utoipa::path(
    operation_id = "createQuestion",
    tag = "questions",
    request_body = super::schemas::QuestionDraft,
    security(("bearer" = [])),
    responses((status = 201, body = QuestionDto), (status = 403, body = Problem), (status = 422, body = Problem))
)]
#[post("/questions")]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<QuestionDraft>,
) -> AppResult<HttpResponse> {
    let row = svc::create(&state.pool, &state.notes, user.id, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/questions/{}", row.id)))
        .json(QuestionDto::from_row(row, true)))
}

/// Edit a question: a new version (attempts keep the version they were built with).
#[utoipa::path(
    operation_id = "updateQuestion",
    tag = "questions",
    request_body = super::schemas::QuestionDraft,
    security(("bearer" = [])),
    responses((status = 200, body = QuestionDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem))
)]
#[put("/questions/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<QuestionDraft>,
) -> AppResult<HttpResponse> {
    let row = svc::update(
        &state.pool,
        &state.notes,
        user.id,
        id.into_inner(),
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(QuestionDto::from_row(row, true)))
}

/// Retire a question: hidden from new exams, kept for the attempts that used it.
#[utoipa::path(
    operation_id = "retireQuestion",tag = "questions", security(("bearer" = [])), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[delete("/questions/{id}")]
pub async fn retire(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    svc::retire(&state.pool, user.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, IntoParams)]
pub struct FormatQuery {
    /// `json` (the bank format, default) or `gift` (Moodle).
    pub format: Option<String>,
    /// Export only: one domain.
    pub domain: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BankDocument {
    #[schema(value_type = Vec<super::schemas::BankItem>)]
    pub questions: Vec<BankItem>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    pub added: usize,
    pub new_versions: usize,
    pub unchanged: usize,
}

fn format_of(q: &FormatQuery) -> AppResult<&str> {
    match q.format.as_deref().unwrap_or("json") {
        f @ ("json" | "gift") => Ok(f),
        other => Err(AppError::validation(
            "format",
            format!("`{other}` is not json or gift"),
        )),
    }
}

/// Export the bank: JSON (`{"questions": [...]}`, author shape with slugs) or GIFT for Moodle.
#[utoipa::path(
    operation_id = "exportQuestions",
    tag = "questions",
    params(FormatQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "JSON (the default), or with format=gift the GIFT text for Moodle",
            content((BankDocument = "application/json"), (String = "text/plain"))),
        (status = 403, body = Problem)
    )
)]
#[get("/questions/export")]
pub async fn export(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<FormatQuery>,
) -> AppResult<HttpResponse> {
    let format = format_of(&q)?;
    let items = svc::export(&state.pool, user.id, q.domain.as_deref()).await?;
    Ok(match format {
        "gift" => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(crate::domain::gift::to_gift(&items)),
        _ => HttpResponse::Ok().json(BankDocument { questions: items }),
    })
}

/// Import questions all-or-nothing: JSON (`{"questions": [...]}`) or GIFT text
/// (`?format=gift`, any text body). Known slugs get a new version when they differ.
#[utoipa::path(
    operation_id = "importQuestions",
    tag = "questions",
    params(FormatQuery),
    request_body(content = BankDocument, description = "JSON bank document, or GIFT text with format=gift"),
    security(("bearer" = [])),
    responses((status = 200, body = ImportResult), (status = 403, body = Problem), (status = 422, body = Problem))
)]
#[post("/questions/import")]
pub async fn import(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    q: web::Query<FormatQuery>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let format = format_of(&q)?;
    let items = match format {
        "gift" => {
            let text = std::str::from_utf8(&body)
                .map_err(|_| AppError::BadRequest("the GIFT text is not UTF-8".into()))?;
            crate::domain::gift::from_gift(text).map_err(AppError::Validation)?
        }
        _ => {
            let is_json = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with(ContentType::json().essence_str()));
            if !is_json {
                return Err(AppError::UnsupportedMediaType(
                    "send the JSON bank document as application/json".into(),
                ));
            }
            let doc: BankDocument = serde_json::from_slice(&body).map_err(|e| {
                if e.is_data() {
                    AppError::Validation(vec![FieldError::new("questions", e.to_string())])
                } else {
                    AppError::BadRequest(format!("malformed JSON: {e}"))
                }
            })?;
            doc.questions
        }
    };
    let r = svc::import(&state.pool, &state.notes, user.id, items).await?;
    Ok(HttpResponse::Ok().json(ImportResult {
        added: r.added,
        new_versions: r.new_versions,
        unchanged: r.unchanged,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewReport {
    /// `wrong_answer`, `outdated`, `unclear` or `other`.
    pub kind: String,
    pub message: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ResolveReport {
    /// Must be `resolved`.
    pub status: String,
    #[serde(default)]
    pub resolution: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReportDto {
    pub id: Uuid,
    pub question_id: Uuid,
    /// The version the reporter saw.
    pub version: i32,
    pub kind: String,
    pub message: String,
    pub status: String,
    pub resolution: Option<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<ReportRow> for ReportDto {
    fn from(r: ReportRow) -> Self {
        ReportDto {
            id: r.id,
            question_id: r.question_id,
            version: r.version,
            kind: r.kind,
            message: r.message,
            status: r.status,
            resolution: r.resolution,
            created_at: r.created_at,
            resolved_at: r.resolved_at,
        }
    }
}

/// Report a problem with a question (any signed-in user).
#[utoipa::path(
    operation_id = "createQuestionReport",
    tag = "questions",
    request_body = NewReport,
    security(("bearer" = [])),
    responses((status = 201, body = ReportDto), (status = 404, body = Problem), (status = 422, body = Problem))
)]
#[post("/questions/{id}/reports")]
pub async fn create_report(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<NewReport>,
) -> AppResult<HttpResponse> {
    let r = svc::report(
        &state.pool,
        user.id,
        id.into_inner(),
        &body.kind,
        &body.message,
    )
    .await?;
    Ok(HttpResponse::Created().json(ReportDto::from(r)))
}

/// Reports on a question, open first (instructors, admins).
#[utoipa::path(
    operation_id = "listQuestionReports",tag = "questions", security(("bearer" = [])), responses((status = 200, body = Vec<ReportDto>), (status = 403, body = Problem)))]
#[get("/questions/{id}/reports")]
pub async fn list_reports(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let rows = svc::reports(&state.pool, user.id, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(ReportDto::from).collect::<Vec<_>>()))
}

/// Resolve a report (instructors, admins).
#[utoipa::path(
    operation_id = "resolveQuestionReport",
    tag = "questions",
    request_body = ResolveReport,
    security(("bearer" = [])),
    responses((status = 200, body = ReportDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem))
)]
#[patch("/questions/{id}/reports/{report}")]
pub async fn resolve_report(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<ResolveReport>,
) -> AppResult<HttpResponse> {
    if body.status != "resolved" {
        return Err(AppError::validation("status", "must be `resolved`"));
    }
    let (question, report) = path.into_inner();
    let r = svc::resolve_report(&state.pool, user.id, question, report, &body.resolution).await?;
    Ok(HttpResponse::Ok().json(ReportDto::from(r)))
}
