//! `/cohorts`: the caller's cohorts, and the forms to create one or join one with a code.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{error_status, messages};
use crate::error::AppError;
use crate::services::cohort_views as views;
use crate::services::cohorts::{self as svc, CohortRow};
use crate::state::AppState;
use crate::web::session::SessionView;
use crate::web::{render_form, see_other, Csrf, PageError, PageUser};

#[derive(Template)]
#[template(path = "cohorts_index.html")]
struct IndexPage {
    user: Option<SessionView>,
    csrf: String,
    owned: Vec<CohortRow>,
    joined: Vec<CohortRow>,
    errors: Vec<String>,
    code: String,
    name: String,
    instructor: bool,
}

async fn index_page(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    status: StatusCode,
    errors: Vec<String>,
    code: String,
    name: String,
) -> Result<HttpResponse, PageError> {
    let views::IndexView { owned, joined } = views::index(&state.pool, user.id).await?;
    let page = IndexPage {
        instructor: user.can_author(),
        user: Some(user),
        csrf: csrf.token.clone(),
        owned,
        joined,
        errors,
        code,
        name,
    };
    render_form(status, csrf, &page)
}

pub(super) async fn index(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
) -> Result<HttpResponse, PageError> {
    index_page(
        &state,
        user.0,
        &csrf,
        StatusCode::OK,
        vec![],
        String::new(),
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct NameForm {
    csrf_token: String,
    name: String,
}

pub(super) async fn create(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let result = svc::create(&state.pool, user.0.id, &form.name).await;
    to_cohort_or_index(
        &state,
        user.0,
        &csrf,
        result,
        String::new(),
        form.name.clone(),
    )
    .await
}

/// After the create and join forms: to the cohort, or back to `/cohorts` with the errors and
/// what was typed.
async fn to_cohort_or_index(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    result: Result<CohortRow, AppError>,
    code: String,
    name: String,
) -> Result<HttpResponse, PageError> {
    match result {
        Ok(c) => Ok(see_other(format!("/cohorts/{}", c.id))),
        Err(e) => match messages(&e) {
            Some(msgs) => index_page(state, user, csrf, error_status(&e), msgs, code, name).await,
            None => Err(e.into()),
        },
    }
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    csrf_token: String,
    code: String,
}

pub(super) async fn join(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let result = svc::join(
        &state.pool,
        user.0.id,
        &form.code,
        state.settings.prepare_lead_secs,
    )
    .await;
    to_cohort_or_index(
        &state,
        user.0,
        &csrf,
        result,
        form.code.clone(),
        String::new(),
    )
    .await
}
