//! Authoring: a new question, a new version of one, retiring one (instructors, admins).

use actix_web::http::header;
use actix_web::{delete, post, put, web, HttpResponse};
use uuid::Uuid;

use super::QuestionDto;
use crate::auth::AuthUser;
use crate::domain::question::QuestionDraft;
use crate::error::{AppResult, Problem};
use crate::services::questions as svc;
use crate::state::AppState;

/// Author a new question (instructors, admins). 422 names every invalid field.
#[utoipa::path(
    operation_id = "createQuestion",
    tag = "questions",
    request_body = crate::api::schemas::QuestionDraft,
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
    request_body = crate::api::schemas::QuestionDraft,
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
