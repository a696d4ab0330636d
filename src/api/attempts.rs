//! Attempts: start, read, answer, submit, result, review: the handlers with the DTOs the
//! OpenAPI document names (the review items are `services::results::ReviewQuestion`, sent as
//! they are and documented by `api::schemas::ReviewItem`).

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, Problem};
use crate::services::attempts::{self as svc, AnswerInput, AttemptState, ItemRow, StartRequest};
use crate::services::results::{self, AttemptResult, DomainResult, ReviewQuestion};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(start)
        .service(list)
        .service(get_one)
        .service(answer)
        .service(submit)
        .service(result)
        .service(review);
}

/// Start an exam from a blueprint (`{"blueprint": "dva-c02", "mode": "exam"}`) or a custom mix
/// (`{"mode": "practice", "count": 20, "domains": {"s3": 2, "kms": 1}, "time_limit_minutes": 30}`).
#[derive(Deserialize, ToSchema, Default)]
pub struct StartAttemptRequest {
    pub blueprint: Option<String>,
    /// `exam` (default: timed, no feedback until submitted) or `practice` (feedback per answer).
    pub mode: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::lenient::opt_int")]
    pub count: Option<i64>,
    /// Relative weights per domain.
    pub domains: Option<BTreeMap<String, f64>>,
    /// No limit when omitted in practice mode; exams default to two minutes a question.
    #[serde(default, deserialize_with = "crate::domain::lenient::opt_int")]
    pub time_limit_minutes: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct OptionView {
    pub id: String,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct AttemptQuestionDto {
    pub position: i32,
    pub question_id: Uuid,
    pub version: i32,
    pub domain: String,
    pub kind: String,
    pub stem: String,
    /// In this attempt's order.
    pub options: Vec<OptionView>,
    /// Chosen option ids.
    pub choices: Vec<String>,
    pub flagged: bool,
    /// Send it back with an answer to have stale writes refused.
    pub revision: i32,
}

#[derive(Serialize, ToSchema)]
pub struct ShortfallDto {
    pub domain: String,
    pub wanted: usize,
    pub available: usize,
}

#[derive(Serialize, ToSchema)]
pub struct AssemblyDto {
    pub requested: usize,
    pub drawn: usize,
    pub per_domain: BTreeMap<String, usize>,
    /// Domains that had too few questions; their share went to the others.
    pub shortfalls: Vec<ShortfallDto>,
}

#[derive(Serialize, ToSchema)]
pub struct AttemptDto {
    pub id: Uuid,
    pub mode: String,
    pub blueprint: Option<String>,
    /// `in_progress`, `submitted` or `expired`.
    pub status: String,
    pub started_at: DateTime<Utc>,
    /// Enforced by the server (plus a few seconds of grace); null when untimed.
    pub deadline: Option<DateTime<Utc>>,
    pub remaining_seconds: Option<i64>,
    pub assembly: AssemblyDto,
    pub questions: Vec<AttemptQuestionDto>,
}

fn option_text(item: &ItemRow, id: &str) -> String {
    item.option(id).map(|o| o.text.clone()).unwrap_or_default()
}

impl AttemptDto {
    pub fn from_state(s: AttemptState) -> AttemptDto {
        let remaining_seconds = s.remaining_seconds();
        let a = s.attempt;
        let asm = a.assembly;
        let assembly = AssemblyDto {
            requested: asm.requested,
            drawn: asm.drawn,
            per_domain: asm.per_domain,
            shortfalls: asm
                .shortfalls
                .into_iter()
                .map(|x| ShortfallDto {
                    domain: x.domain,
                    wanted: x.wanted,
                    available: x.available,
                })
                .collect(),
        };
        let questions = s
            .items
            .iter()
            .map(|i| AttemptQuestionDto {
                position: i.position,
                question_id: i.question_id,
                version: i.version,
                domain: i.domain.clone(),
                kind: i.kind.as_str().into(),
                stem: i.stem.clone(),
                options: i
                    .option_order
                    .iter()
                    .map(|id| OptionView {
                        id: id.clone(),
                        text: option_text(i, id),
                    })
                    .collect(),
                choices: i.choices.clone(),
                flagged: i.flagged,
                revision: i.revision,
            })
            .collect();
        AttemptDto {
            id: a.id,
            mode: a.mode.as_str().into(),
            blueprint: a.blueprint,
            status: a.status.as_str().into(),
            started_at: a.started_at,
            deadline: a.deadline,
            remaining_seconds,
            assembly,
            questions,
        }
    }
}

/// Start an attempt: 201 with its questions (no answers) and the deadline.
#[utoipa::path(
    operation_id = "startAttempt",
    tag = "attempts",
    request_body = StartAttemptRequest,
    security(("bearer" = [])),
    responses((status = 201, body = AttemptDto), (status = 409, description = "no questions", body = Problem), (status = 422, body = Problem))
)]
#[post("/attempts")]
pub async fn start(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<StartAttemptRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let req = StartRequest {
        blueprint: b.blueprint,
        mode: b.mode,
        count: b.count,
        domains: b.domains,
        time_limit_minutes: b.time_limit_minutes,
    };
    let s = svc::start(&state.pool, user.id, req).await?;
    let id = s.attempt.id;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/attempts/{id}")))
        .json(AttemptDto::from_state(s)))
}

#[derive(Serialize, ToSchema)]
pub struct AttemptSummaryDto {
    pub id: Uuid,
    pub mode: String,
    pub blueprint: Option<String>,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    pub question_count: i32,
    pub answered: i64,
    pub scaled_score: Option<i64>,
    pub passed: Option<bool>,
}

/// The caller's attempts, newest first.
#[utoipa::path(
    operation_id = "listAttempts",tag = "attempts", security(("bearer" = [])), responses((status = 200, body = Vec<AttemptSummaryDto>)))]
#[get("/attempts")]
pub async fn list(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let rows = svc::list(&state.pool, user.id).await?;
    let out: Vec<AttemptSummaryDto> = rows
        .into_iter()
        .map(|r| AttemptSummaryDto {
            id: r.id,
            mode: r.mode.as_str().into(),
            blueprint: r.blueprint,
            status: r.status.as_str().into(),
            started_at: r.started_at,
            deadline: r.deadline,
            question_count: r.question_count,
            answered: r.answered,
            scaled_score: r.result.as_ref().map(|v| v.scaled_score.into()),
            passed: r.result.as_ref().map(|v| v.passed),
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// State, remaining seconds, answers so far and flags (owner only; others get 404).
#[utoipa::path(
    operation_id = "getAttempt",tag = "attempts", security(("bearer" = [])), responses((status = 200, body = AttemptDto), (status = 404, body = Problem)))]
#[get("/attempts/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let s = svc::get(&state.pool, user.id, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AttemptDto::from_state(s)))
}

#[derive(Deserialize, ToSchema)]
pub struct AnswerRequest {
    /// Option ids; omit to keep the current choices (e.g. only toggling the flag).
    pub choices: Option<Vec<String>>,
    pub flagged: Option<bool>,
    /// The question's revision the client last saw; a write based on an older one is refused (409).
    #[serde(default, deserialize_with = "crate::domain::lenient::opt_int")]
    pub revision: Option<i32>,
    /// Time spent on the question during this visit, measured by the client.
    #[serde(default, deserialize_with = "crate::domain::lenient::opt_int")]
    pub time_spent_ms: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct FeedbackDto {
    pub correct: bool,
    pub correct_choices: Vec<String>,
    pub explanation: String,
    /// Option id → why it is right or wrong.
    pub rationale: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct AnswerResponse {
    pub position: i32,
    pub choices: Vec<String>,
    pub flagged: bool,
    pub revision: i32,
    /// Practice mode only, for this question only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<FeedbackDto>,
}

/// Save an answer: an idempotent upsert, safe to retry. 409 after finalization, after the
/// deadline, or for a stale revision.
#[utoipa::path(
    operation_id = "saveAnswer",
    tag = "attempts",
    request_body = AnswerRequest,
    security(("bearer" = [])),
    responses((status = 200, body = AnswerResponse), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem))
)]
#[put("/attempts/{id}/answers/{position}")]
pub async fn answer(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, i32)>,
    body: web::Json<AnswerRequest>,
) -> AppResult<HttpResponse> {
    let (id, position) = path.into_inner();
    let b = body.into_inner();
    let input = AnswerInput {
        choices: b.choices,
        flagged: b.flagged,
        revision: b.revision,
        time_spent_ms: b.time_spent_ms,
    };
    let o = svc::answer(
        &state.pool,
        &state.answers,
        &state.saves,
        user.id,
        id,
        position,
        input,
    )
    .await?;
    Ok(HttpResponse::Ok().json(AnswerResponse {
        position: o.position,
        choices: o.choices,
        flagged: o.flagged,
        revision: o.revision,
        feedback: o.feedback.map(|f| FeedbackDto {
            correct: f.correct,
            correct_choices: f.correct_choices,
            explanation: f.explanation,
            rationale: f.rationale,
        }),
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DomainResultDto {
    pub domain: String,
    pub correct: usize,
    pub total: usize,
    pub percent: f64,
    /// `meets competencies` or `needs improvement`.
    pub verdict: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PacingDto {
    pub total_time_ms: i64,
    pub average_ms: i64,
    /// Two minutes, as on the real exam.
    pub budget_ms_per_question: i64,
    /// Questions that took longer than the budget.
    pub over_budget: usize,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ResultDto {
    pub attempt_id: Uuid,
    pub correct: usize,
    pub total: usize,
    pub answered: usize,
    pub percent: f64,
    /// 100..1000. For a blueprint with a pass ability (every seeded scaled blueprint), equated:
    /// from the learner's ability on the scored questions given their calibrated difficulties,
    /// 720 at the blueprint's pass ability (docs/measurement.md); otherwise linear in the raw
    /// percentage.
    pub scaled_score: i32,
    pub pass_mark: i32,
    pub passed: bool,
    pub domains: Vec<DomainResultDto>,
    /// One row per exam-guide domain, on the scored questions, as AWS's score report has them.
    #[serde(default)]
    pub exam_domains: Vec<DomainResultDto>,
    /// Questions that counted, and questions that did not (revealed once final).
    #[serde(default)]
    pub scored: Option<usize>,
    #[serde(default)]
    pub unscored: Option<usize>,
    /// The ability estimate (logits) the equated scaled score comes from; null when linear.
    #[serde(default)]
    pub ability: Option<f64>,
    pub pacing: PacingDto,
}

impl From<DomainResult> for DomainResultDto {
    fn from(d: DomainResult) -> Self {
        DomainResultDto {
            domain: d.domain,
            correct: d.correct,
            total: d.total,
            percent: d.percent,
            verdict: d.verdict,
        }
    }
}

impl From<AttemptResult> for ResultDto {
    fn from(r: AttemptResult) -> Self {
        ResultDto {
            attempt_id: r.attempt_id,
            correct: r.correct,
            total: r.total,
            answered: r.answered,
            percent: r.percent,
            scaled_score: r.scaled_score,
            pass_mark: r.pass_mark,
            passed: r.passed,
            domains: r.domains.into_iter().map(Into::into).collect(),
            exam_domains: r.exam_domains.into_iter().map(Into::into).collect(),
            scored: r.scored,
            unscored: r.unscored,
            ability: r.ability,
            pacing: PacingDto {
                total_time_ms: r.pacing.total_time_ms,
                average_ms: r.pacing.average_ms,
                budget_ms_per_question: r.pacing.budget_ms_per_question,
                over_budget: r.pacing.over_budget,
            },
        }
    }
}

/// Finalize once; repeated and concurrent calls return the same result.
#[utoipa::path(
    operation_id = "submitAttempt",tag = "attempts", security(("bearer" = [])), responses((status = 200, body = ResultDto), (status = 404, body = Problem)))]
#[post("/attempts/{id}/submit")]
pub async fn submit(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = state.finals.finalize(user.id, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ResultDto::from(r)))
}

/// Score, scaled score, pass, per-domain breakdown and pacing (after finalization; 409 before).
#[utoipa::path(
    operation_id = "getAttemptResult",tag = "attempts", security(("bearer" = [])), responses((status = 200, body = ResultDto), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[get("/attempts/{id}/result")]
pub async fn result(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = results::attempt_result(&state.pool, user.id, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ResultDto::from(r)))
}

#[derive(Deserialize, IntoParams)]
pub struct ReviewQuery {
    /// `wrong` (including unanswered) or `flagged`.
    pub filter: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewDto {
    pub attempt_id: Uuid,
    pub result: ResultDto,
    // the review items as the service builds them (`schemas::ReviewItem` documents them)
    #[schema(value_type = Vec<crate::api::schemas::ReviewItem>)]
    pub questions: Vec<ReviewQuestion>,
}

/// Every question with the learner's answer, the correct one, rationales, explanation, time
/// spent and the study-note link. After finalization only (409 before).
#[utoipa::path(
    operation_id = "getAttemptReview",
    tag = "attempts",
    params(ReviewQuery),
    security(("bearer" = [])),
    responses((status = 200, body = ReviewDto), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem))
)]
#[get("/attempts/{id}/review")]
pub async fn review(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: web::Query<ReviewQuery>,
) -> AppResult<HttpResponse> {
    let filter = q.filter.as_deref();
    if let Some(f) = filter {
        if f != "wrong" && f != "flagged" {
            return Err(AppError::validation(
                "filter",
                "must be `wrong` or `flagged`",
            ));
        }
    }
    let s = svc::get(&state.pool, user.id, id.into_inner()).await?;
    let stored = results::stored_result(s.attempt.result)?;
    Ok(HttpResponse::Ok().json(ReviewDto {
        attempt_id: s.attempt.id,
        result: ResultDto::from(stored),
        questions: results::review_questions(&s.items, filter),
    }))
}
