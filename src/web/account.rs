//! `/account` (display name, password) and `/reset/{token}` (a one-time reset link).

use std::collections::HashMap;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use super::session::{SessionView, SESSION_COOKIE};
use super::{render_form, see_other, Csrf, MaybeUser, PageError, PageUser};
use crate::error::{AppError, FieldError};
use crate::services::accounts::{self, PasswordChange};
use crate::services::password_resets;
use crate::services::sessions::Limits;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/account", web::get().to(account))
        .route("/account/name", web::post().to(change_name))
        .route("/account/password", web::post().to(change_password))
        .route("/reset/{token}", web::get().to(reset_form))
        .route("/reset/{token}", web::post().to(reset));
}

fn field_errors(errs: Vec<FieldError>) -> HashMap<String, String> {
    errs.into_iter().map(|e| (e.field, e.message)).collect()
}

/// Pages that show or take a secret are never cached.
fn no_store(mut resp: HttpResponse) -> HttpResponse {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

// ---- /account -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    user: Option<SessionView>,
    csrf: String,
    email: String,
    display_name: String,
    errors: HashMap<String, String>,
    saved: Option<&'static str>,
    is_admin: bool,
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

#[derive(Deserialize)]
struct NameForm {
    csrf_token: String,
    display_name: String,
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf_token: String,
    current_password: String,
    new_password: String,
    new_password_confirm: String,
}

fn saved_message(q: Option<&str>) -> Option<&'static str> {
    match q {
        Some("name") => Some("Your display name was saved."),
        Some("password") => Some(
            "Your password was changed. Every other session and app login of your account was signed out.",
        ),
        _ => None,
    }
}

/// The page with the form values and errors of a refused post.
async fn account_page(
    state: &AppState,
    user: SessionView,
    csrf: &Csrf,
    status: StatusCode,
    display_name: Option<String>,
    errors: HashMap<String, String>,
    saved: Option<&'static str>,
) -> Result<HttpResponse, PageError> {
    let account = accounts::get(&state.pool, user.id).await?;
    let tpl = AccountPage {
        is_admin: account.role == crate::domain::user::Role::Admin.as_str(),
        email: account.email,
        display_name: display_name.unwrap_or(account.display_name),
        user: Some(user),
        csrf: csrf.token.clone(),
        errors,
        saved,
    };
    render_form(status, csrf, &tpl)
}

async fn account(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    q: web::Query<SavedQuery>,
) -> Result<HttpResponse, PageError> {
    let saved = saved_message(q.saved.as_deref());
    account_page(
        &state,
        user.0,
        &csrf,
        StatusCode::OK,
        None,
        HashMap::new(),
        saved,
    )
    .await
}

async fn change_name(
    state: web::Data<AppState>,
    user: PageUser,
    csrf: Csrf,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let form = form.into_inner();
    match accounts::change_display_name(&state.pool, user.0.id, &form.display_name).await {
        Ok(_) => Ok(see_other("/account?saved=name".into())),
        Err(AppError::Validation(errs)) => {
            account_page(
                &state,
                user.0,
                &csrf,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(form.display_name),
                field_errors(errs),
                None,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: PageUser,
    csrf: Csrf,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let form = form.into_inner();
    let session = req.cookie(SESSION_COOKIE);
    let change = PasswordChange {
        current: SecretString::from(form.current_password),
        new: SecretString::from(form.new_password),
        confirm: SecretString::from(form.new_password_confirm),
        keep_web_session: session.as_ref().map(|c| c.value()),
    };
    let limits = Limits::from(&*state.settings);
    match accounts::change_password(&state.pool, limits, user.0.id, change).await {
        Ok(()) => Ok(see_other("/account?saved=password".into())),
        Err(AppError::Validation(errs)) => {
            account_page(
                &state,
                user.0,
                &csrf,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                field_errors(errs),
                None,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

// ---- /reset/{token} -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    user: Option<SessionView>,
    csrf: String,
    token: String,
    email: String,
    errors: HashMap<String, String>,
}

#[derive(Template)]
#[template(path = "reset_invalid.html")]
struct ResetInvalidPage {
    user: Option<SessionView>,
    detail: &'static str,
}

#[derive(Deserialize)]
struct ResetForm {
    csrf_token: String,
    new_password: String,
    new_password_confirm: String,
}

/// 410 Gone: the link was used, expired, replaced or never existed.
fn link_gone(user: Option<SessionView>) -> Result<HttpResponse, PageError> {
    let tpl = ResetInvalidPage {
        user,
        detail: password_resets::INVALID_LINK,
    };
    Ok(no_store(super::render(StatusCode::GONE, &tpl)?))
}

async fn reset_form(
    state: web::Data<AppState>,
    user: MaybeUser,
    csrf: Csrf,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    match password_resets::check(&state.pool, &token).await {
        Ok(target) => {
            let tpl = ResetPage {
                user: user.0,
                csrf: csrf.token.clone(),
                token,
                email: target.email,
                errors: HashMap::new(),
            };
            Ok(no_store(render_form(StatusCode::OK, &csrf, &tpl)?))
        }
        Err(AppError::NotFound(_)) => link_gone(user.0),
        Err(other) => Err(other.into()),
    }
}

async fn reset(
    state: web::Data<AppState>,
    user: MaybeUser,
    csrf: Csrf,
    token: web::Path<String>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let token = token.into_inner();
    let form = form.into_inner();
    match password_resets::redeem(
        &state.pool,
        &token,
        SecretString::from(form.new_password),
        SecretString::from(form.new_password_confirm),
    )
    .await
    {
        Ok(_) => Ok(see_other("/login?reset=done".into())),
        Err(AppError::Validation(errs)) => {
            let email = password_resets::check(&state.pool, &token)
                .await
                .map(|t| t.email)
                .unwrap_or_default();
            let tpl = ResetPage {
                user: user.0,
                csrf: csrf.token.clone(),
                token,
                email,
                errors: field_errors(errs),
            };
            Ok(no_store(render_form(
                StatusCode::UNPROCESSABLE_ENTITY,
                &csrf,
                &tpl,
            )?))
        }
        Err(AppError::NotFound(_)) => link_gone(user.0),
        Err(other) => Err(other.into()),
    }
}
