//! The forms of `/cohorts/{id}`: the owner rotates the join code, shows or hides the
//! leaderboard, removes members and schedules exams; a member starts an exam. A form error
//! shows the cohort page again with the messages.

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
    let outcome = svc::rotate_code(&state.pool, user.0.id, *id).await;
    after_form(&state, user, &csrf, *id, outcome, |_| cohort_page(*id)).await
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
    let outcome = svc::set_leaderboard(&state.pool, user.0.id, *id, form.on == "true").await;
    after_form(&state, user, &csrf, *id, outcome, |_| cohort_page(*id)).await
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
    let outcome = svc::remove_member(&state.pool, user.0.id, id, member).await;
    after_form(&state, user, &csrf, id, outcome, |_| cohort_page(id)).await
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
    after_form(&state, user, &csrf, *id, outcome, |_| cohort_page(*id)).await
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
    let outcome = svc::start(&state.pool, user.0.id, id, exam).await;
    after_form(&state, user, &csrf, id, outcome, |attempt| {
        format!("/attempts/{attempt}?q=1")
    })
    .await
}

fn cohort_page(id: Uuid) -> String {
    format!("/cohorts/{id}")
}

/// Where every action goes after its form: on success to `to` (the cohort page, or the started
/// attempt); a form error (an invalid field: 422, a conflict: 409) shows the cohort page again
/// with its messages; any other error is an error page.
async fn after_form<T>(
    state: &AppState,
    user: PageUser,
    csrf: &Csrf,
    id: Uuid,
    outcome: Result<T, AppError>,
    to: impl FnOnce(T) -> String,
) -> Result<HttpResponse, PageError> {
    match outcome {
        Ok(v) => Ok(see_other(to(v))),
        Err(e) => match messages(&e) {
            Some(msgs) => show_page(state, user.0, csrf, id, error_status(&e), msgs).await,
            None => Err(e.into()),
        },
    }
}
