//! Problems reported on a question: report (anyone signed in), list and resolve (authors).

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, Problem};
use crate::services::questions as svc;
use crate::services::questions::ReportRow;
use crate::state::AppState;

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
