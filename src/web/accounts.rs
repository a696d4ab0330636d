//! `/register`, `/login`, `/logout`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use super::session::{
    clear_session_cookie, safe_next, session_cookie, SessionView, SESSION_COOKIE,
};
use super::{render_form, Csrf, MaybeUser, PageError};
use crate::domain::user::Role;
use crate::error::AppError;
use crate::http::client_ip;
use crate::services::accounts::NewAccount;
use crate::services::sessions::{self, Limits};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/register", web::get().to(register_form))
        .route("/register", web::post().to(register))
        .route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login))
        .route("/logout", web::get().to(logout_form))
        .route("/logout", web::post().to(logout));
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    user: Option<SessionView>,
    csrf: String,
    email: String,
    display_name: String,
    errors: HashMap<String, String>,
    message: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    user: Option<SessionView>,
    csrf: String,
    email: String,
    next: String,
    message: Option<String>,
    /// A confirmation (after a password reset), announced politely.
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage {
    user: Option<SessionView>,
    csrf: String,
}

#[derive(Deserialize)]
struct RegisterForm {
    csrf_token: String,
    email: String,
    display_name: String,
    password: String,
}

#[derive(Deserialize)]
struct LoginForm {
    csrf_token: String,
    email: String,
    password: String,
    next: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    reset: Option<String>,
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf_token: String,
}

fn redirect_with_session(req: &HttpRequest, to: &str, token: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .cookie(session_cookie(req, token))
        .insert_header(("location", to.to_string()))
        .finish()
}

async fn register_form(user: MaybeUser, csrf: Csrf) -> Result<HttpResponse, PageError> {
    let tpl = RegisterPage {
        user: user.0,
        csrf: csrf.token.clone(),
        email: String::new(),
        display_name: String::new(),
        errors: HashMap::new(),
        message: None,
    };
    render_form(StatusCode::OK, &csrf, &tpl)
}

async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: Csrf,
    form: web::Form<RegisterForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let form = form.into_inner();
    let input = NewAccount {
        email: form.email.clone(),
        password: SecretString::from(form.password),
        display_name: form.display_name.clone(),
        role: Role::Learner,
    };
    let ip = client_ip(&req, state.settings.trust_proxy);
    match sessions::register_web(&state.pool, Limits::from(&*state.settings), ip, input).await {
        Ok(session) => Ok(redirect_with_session(&req, "/", session.token)),
        Err(AppError::Validation(errs)) => {
            let tpl = RegisterPage {
                user: None,
                csrf: csrf.token.clone(),
                email: form.email,
                display_name: form.display_name,
                errors: errs.into_iter().map(|e| (e.field, e.message)).collect(),
                message: Some("Please correct the fields marked below.".into()),
            };
            render_form(StatusCode::UNPROCESSABLE_ENTITY, &csrf, &tpl)
        }
        Err(AppError::Conflict(_, msg)) => {
            let mut errors = HashMap::new();
            errors.insert("email".to_string(), msg);
            let tpl = RegisterPage {
                user: None,
                csrf: csrf.token.clone(),
                email: form.email,
                display_name: form.display_name,
                errors,
                message: None,
            };
            render_form(StatusCode::CONFLICT, &csrf, &tpl)
        }
        Err(other) => Err(other.into()),
    }
}

async fn login_form(
    user: MaybeUser,
    csrf: Csrf,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let tpl = LoginPage {
        user: user.0,
        csrf: csrf.token.clone(),
        email: String::new(),
        next: safe_next(q.next.as_deref()),
        message: None,
        notice: (q.reset.as_deref() == Some("done"))
            .then_some("Your password was reset. Log in with the new one."),
    };
    render_form(StatusCode::OK, &csrf, &tpl)
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: Csrf,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    let ip = client_ip(&req, state.settings.trust_proxy);
    let limits = Limits::from(&*state.settings);
    match sessions::login_web(
        &state.pool,
        limits,
        ip,
        &form.email,
        SecretString::from(form.password),
    )
    .await
    {
        Ok(session) => Ok(redirect_with_session(&req, &next, session.token)),
        Err(AppError::Unauthorized(msg)) => {
            let tpl = LoginPage {
                user: None,
                csrf: csrf.token.clone(),
                email: form.email,
                next,
                notice: None,
                message: Some(capitalise(&msg)),
            };
            render_form(StatusCode::UNAUTHORIZED, &csrf, &tpl)
        }
        Err(AppError::TooManyRequests { retry_after_secs }) => {
            let tpl = LoginPage {
                user: None,
                csrf: csrf.token.clone(),
                email: form.email,
                next,
                notice: None,
                message: Some(format!(
                    "Too many attempts. Try again in {} minutes.",
                    retry_after_secs.div_ceil(60)
                )),
            };
            let mut resp = render_form(StatusCode::TOO_MANY_REQUESTS, &csrf, &tpl)?;
            resp.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(retry_after_secs),
            );
            Ok(resp)
        }
        Err(other) => Err(other.into()),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

async fn logout_form(user: MaybeUser, csrf: Csrf) -> Result<HttpResponse, PageError> {
    render_form(
        StatusCode::OK,
        &csrf,
        &LogoutPage {
            user: user.0,
            csrf: csrf.token.clone(),
        },
    )
}

async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: Csrf,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    csrf.verify(&form.csrf_token)?;
    if let Some(c) = req.cookie(SESSION_COOKIE) {
        sessions::close_web_session(&state.pool, c.value()).await?;
    }
    Ok(HttpResponse::SeeOther()
        .cookie(clear_session_cookie(&req))
        .insert_header(("location", "/"))
        .finish())
}
