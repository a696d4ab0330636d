//! Server-rendered pages (askama): thin handlers over the same services as the JSON API.

pub mod account;
pub mod accounts;
pub mod admin;
pub mod attempts;
pub mod cohort_start;
pub mod cohorts;
pub mod dashboard;
pub mod flash;
pub mod home;
pub mod notes;
pub mod questions;
pub mod session;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};
use askama::Template;

use crate::error::AppError;

pub use session::{Csrf, MaybeUser, PageUser};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(64 * 1024)
            .error_handler(|err, _req| {
                PageError(AppError::BadRequest(format!(
                    "the form could not be read: {err}"
                )))
                .into()
            }),
    )
    .route("/static/app.css", web::get().to(stylesheet))
    .configure(home::configure)
    .configure(accounts::configure)
    .configure(account::configure)
    .configure(admin::configure)
    .configure(notes::configure)
    .configure(questions::configure)
    .configure(attempts::configure)
    .configure(dashboard::configure)
    .configure(cohorts::configure)
    .configure(cohort_start::configure)
    .route("/static/exam.js", web::get().to(exam_script));
}

/// A form that carries nothing but its CSRF token (a button).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    pub csrf_token: String,
}

/// 303 See Other: where a form post lands afterwards.
pub fn see_other(to: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("location", to))
        .finish()
}

/// Renders a template as an HTML response.
pub fn render<T: Template>(status: StatusCode, tpl: &T) -> Result<HttpResponse, PageError> {
    let html = tpl
        .render()
        .map_err(|e| PageError(AppError::Internal(anyhow::anyhow!("template: {e}"))))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// Renders a page that carries a form: the CSRF cookie is set when the browser had none.
pub fn render_form<T: Template>(
    status: StatusCode,
    csrf: &Csrf,
    tpl: &T,
) -> Result<HttpResponse, PageError> {
    csrf.attach(render(status, tpl)?)
}

/// Page errors are HTML pages with the same statuses the API would use.
/// "Are you sure?" before a destructive action, without JavaScript: the action's form posts
/// without `confirm=yes`, gets this page, and its button posts again with it.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub user: Option<session::SessionView>,
    pub csrf: String,
    pub title: String,
    pub message: String,
    pub action: String,
    pub button: String,
    pub cancel: String,
}

impl ConfirmPage {
    pub fn respond(self, csrf: &Csrf) -> Result<HttpResponse, PageError> {
        render_form(StatusCode::OK, csrf, &self)
    }
}

#[derive(Debug)]
pub struct PageError(pub AppError);

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    user: Option<session::SessionView>,
    status: u16,
    title: String,
    detail: String,
    request_id: String,
}

impl PageError {
    fn page(&self, user: Option<session::SessionView>) -> ErrorPage {
        let p = self.0.to_problem();
        ErrorPage {
            user,
            status: p.status,
            title: p.title.clone(),
            detail: p.detail.clone(),
            request_id: p.request_id.clone().unwrap_or_default(),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        // log internal causes exactly as the API does, then show a page instead of JSON
        let problem_response = self.0.error_response();
        let page = self.page(None);
        let mut resp = HttpResponse::build(self.status_code());
        if let Some(v) = problem_response.headers().get(header::RETRY_AFTER) {
            resp.insert_header((header::RETRY_AFTER, v.clone()));
        }
        resp.content_type("text/html; charset=utf-8")
            .body(page.render().unwrap_or_else(|_| page.detail.clone()))
    }
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../static/app.css"))
}

/// Error pages carry the header of the signed-in user: an error raised by a page handler (a
/// [`PageError`]) and the HTML 404 for an unknown path are drawn again, in the site layout,
/// with the visitor's session (the error itself cannot see the request).
pub async fn error_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !html || !(status.is_client_error() || status.is_server_error()) {
        return Ok(res);
    }
    let page_error = res
        .response()
        .error()
        .and_then(|e| e.as_error::<PageError>())
        .map(|e| e.page(None));
    let page = match page_error {
        Some(p) => p,
        // the default service's plain 404 for a path no page serves
        None if status == StatusCode::NOT_FOUND && res.response().error().is_none() => PageError(
            AppError::NotFound(format!("There is no page at {}.", res.request().path())),
        )
        .page(None),
        None => return Ok(res),
    };
    let user = session::current_user(res.request()).await.ok().flatten();
    let page = ErrorPage { user, ..page };
    let Ok(body) = page.render() else {
        return Ok(res);
    };
    let (req, mut old) = res.into_parts();
    let mut resp = HttpResponse::build(status);
    for (k, v) in old.headers_mut().drain() {
        if let Some(k) = k {
            if k != header::CONTENT_LENGTH {
                resp.append_header((k, v));
            }
        }
    }
    Ok(ServiceResponse::new(req, resp.body(body)))
}

/// Security headers on every response; the strict CSP (no inline scripts) everywhere except
/// the vendored API documentation page.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let is_docs = req.path().starts_with("/docs");
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !is_docs {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ),
        );
    }
    Ok(res)
}

async fn exam_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../static/exam.js"))
}
