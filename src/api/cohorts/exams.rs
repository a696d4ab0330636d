//! Cohort exams: schedule, list, a member's start, extensions.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::attempts::AttemptDto;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::services::cohorts as svc;
use crate::services::cohorts::ExamRow;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct NewCohortExam {
    pub blueprint: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// Shuffle question and option order per learner (default true).
    pub shuffle: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct CohortExamDto {
    pub id: Uuid,
    pub cohort_id: Uuid,
    pub blueprint: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub shuffle: bool,
    pub question_count: i64,
    /// `scheduled`, `open` or `closed`, now.
    pub state: &'static str,
}

pub(super) fn exam_dto(e: ExamRow) -> CohortExamDto {
    let now = Utc::now();
    let state = if now < e.opens_at {
        "scheduled"
    } else if now <= e.closes_at {
        "open"
    } else {
        "closed"
    };
    CohortExamDto {
        id: e.id,
        cohort_id: e.cohort_id,
        blueprint: e.blueprint,
        opens_at: e.opens_at,
        closes_at: e.closes_at,
        shuffle: e.shuffle,
        question_count: e.question_count,
        state,
    }
}

/// Schedule a cohort exam: one question set for everyone, drawn now (owner only).
#[utoipa::path(
    operation_id = "scheduleCohortExam",tag = "cohorts", request_body = NewCohortExam, security(("bearer" = [])), responses((status = 201, body = CohortExamDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[post("/cohorts/{id}/exams")]
pub async fn schedule(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<NewCohortExam>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let e = svc::schedule(
        &state.pool,
        user.id,
        *id,
        &b.blueprint,
        b.opens_at,
        b.closes_at,
        b.shuffle.unwrap_or(true),
    )
    .await?;
    Ok(HttpResponse::Created().json(exam_dto(e)))
}

/// The cohort's exams (owner and members).
#[utoipa::path(
    operation_id = "listCohortExams",tag = "cohorts", security(("bearer" = [])), responses((status = 200, body = Vec<CohortExamDto>), (status = 404, body = Problem)))]
#[get("/cohorts/{id}/exams")]
pub async fn list_exams(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let rows = svc::exams(&state.pool, user.id, *id).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(exam_dto).collect::<Vec<_>>()))
}

/// Start my attempt at a cohort exam: members, inside the window, once (409 otherwise).
#[utoipa::path(
    operation_id = "startCohortExamAttempt",tag = "cohorts", security(("bearer" = [])), responses((status = 201, body = AttemptDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[post("/cohorts/{id}/exams/{exam}/attempts")]
pub async fn start(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, exam) = path.into_inner();
    let s = svc::start_state(&state.pool, user.id, id, exam).await?;
    Ok(HttpResponse::Created().json(AttemptDto::from_state(s)))
}

#[derive(Deserialize, ToSchema)]
pub struct ExtensionRequest {
    pub user_id: Uuid,
    /// Extra minutes (0 to 600), replacing any earlier extension.
    #[serde(deserialize_with = "crate::domain::lenient::int")]
    pub minutes: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ExtensionDto {
    pub user_id: Uuid,
    pub minutes: i32,
}

/// Extra minutes for one learner, before or during the attempt (owner only).
#[utoipa::path(
    operation_id = "grantCohortExamExtension",tag = "cohorts", request_body = ExtensionRequest, security(("bearer" = [])), responses((status = 200, body = ExtensionDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/cohorts/{id}/exams/{exam}/extensions")]
pub async fn extend(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<ExtensionRequest>,
) -> AppResult<HttpResponse> {
    let (id, exam) = path.into_inner();
    let minutes = svc::extend(&state.pool, user.id, id, exam, body.user_id, body.minutes).await?;
    Ok(HttpResponse::Ok().json(ExtensionDto {
        user_id: body.user_id,
        minutes,
    }))
}
