//! The forms of `/cohorts/{id}`: the owner rotates the join code, shows or hides the
//! leaderboard, removes members and schedules exams; a member starts an exam. A form error
//! shows the cohort page again with the messages.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::show::show_page;
use super::{error_status, messages};
use crate::error::AppError;
use crate::services::cohorts as svc;
use crate::state::AppState;
use crate::web::{see_other, Csrf, CsrfOnly, PageError, PageUser};

pub(super) async fn rotate_code(
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
pub(super) struct LeaderboardForm {
    csrf_token: String,
    on: String,
}

pub(super) async fn leaderboard(
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

pub(super) async fn remove_member(
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
pub(super) struct ScheduleForm {
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

pub(super) async fn schedule(
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

pub(super) async fn start(
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
        Err(e @ AppError::Conflict(..)) => {
            let msgs = messages(&e).unwrap_or_default();
            show_page(&state, user.0, &csrf, id, StatusCode::CONFLICT, msgs).await
        }
        Err(e) => Err(e.into()),
    }
}
