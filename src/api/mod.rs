//! The JSON API (`/api/v1`): thin handlers, utoipa annotations and DTOs, one file per resource.

pub mod attempts;
pub mod auth;
pub mod catalog;
pub mod cohorts;
pub mod mastery;
pub mod ops;
pub mod questions;

use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppError, FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "exambank API",
        version = "1",
        description = "Exam preparation for the AWS Certified Developer - Associate exam: the question bank, \
timed mock exams, mastery and cohorts. Errors are RFC 9457 `application/problem+json`."
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "ops", description = "Health, readiness and metrics"),
        (name = "auth", description = "Accounts and tokens"),
        (name = "catalog", description = "Domains, tags and blueprints"),
        (name = "attempts", description = "Mock exams and practice: start, answer, submit, result, review"),
        (name = "cohorts", description = "Study groups and cohorts, cohort exams with windows and extensions"),
        (name = "mastery", description = "Weak areas, readiness, adaptive practice and spaced review"),
        (name = "questions", description = "The question bank: browse, author, import/export, reports"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Routes under `/api/v1`.
pub fn configure_v1(cfg: &mut ServiceConfig) {
    auth::configure(cfg);
    catalog::configure(cfg);
    questions::configure(cfg);
    attempts::configure(cfg);
    mastery::configure(cfg);
    cohorts::configure(cfg);
}

/// The OpenAPI document the code generates (what `/api-docs/openapi.json` serves).
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa_actix_web::AppExt;
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(ops::configure)
        .service(utoipa_actix_web::scope("/api/v1").configure(configure_v1))
        .split_for_parts();
    api
}

/// Body and parameter errors become problem+json 4xx, never 5xx.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_error(err).into())
}

pub fn json_error(err: JsonPayloadError) -> AppError {
    match err {
        JsonPayloadError::OverflowKnownLength { length, limit } => {
            AppError::PayloadTooLarge(format!("the body is {length} bytes; the limit is {limit}"))
        }
        JsonPayloadError::Overflow { limit } => {
            AppError::PayloadTooLarge(format!("the body exceeds the limit of {limit} bytes"))
        }
        JsonPayloadError::ContentType => {
            AppError::UnsupportedMediaType("send the body as application/json".into())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            let msg = e.to_string();
            let field = msg.split('`').nth(1).unwrap_or("body").to_string();
            AppError::Validation(vec![FieldError::new(field, msg)])
        }
        JsonPayloadError::Deserialize(e) => AppError::BadRequest(format!("malformed JSON: {e}")),
        other => AppError::BadRequest(format!("unreadable body: {other}")),
    }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let msg = match err {
            QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        AppError::BadRequest(format!("invalid query string: {msg}")).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        let msg = match err {
            PathError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        AppError::NotFound(format!("no such resource ({msg})")).into()
    })
}

/// Fallback for paths no route matches: problem+json under the API, a page elsewhere.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if wants_problem(req.path()) {
        AppError::NotFound(format!("no route for {} {}", req.method(), req.path())).error_response()
    } else {
        HttpResponse::NotFound()
            .content_type("text/html; charset=utf-8")
            .body("<!doctype html><title>Not found</title><h1>Not found</h1><p><a href=\"/\">exambank</a></p>")
    }
}

fn wants_problem(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Error responses produced by the framework itself (405, 404 of a scope, ...) under `/api`
/// get a problem body too.
pub fn problem_for_framework_errors<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_problem = res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
        if is_problem || !wants_problem(res.request().path()) {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let err = match status.as_u16() {
            405 => AppError::BadRequest(format!(
                "method {} is not allowed here",
                res.request().method()
            )),
            404 => AppError::NotFound(format!("no route for {}", res.request().path())),
            _ => {
                let (req, _) = res.into_parts();
                let mut resp = HttpResponse::build(status);
                resp.insert_header((
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/problem+json"),
                ));
                let problem = Problem {
                    kind: "about:blank".into(),
                    title: status.canonical_reason().unwrap_or("Error").into(),
                    status: status.as_u16(),
                    detail: status.canonical_reason().unwrap_or("error").into(),
                    request_id: crate::telemetry::current_request_id(),
                    errors: vec![],
                };
                let res = ServiceResponse::new(
                    req,
                    resp.body(serde_json::to_string(&problem).unwrap_or_default()),
                );
                return Ok(ErrorHandlerResponse::Response(res.map_into_right_body()));
            }
        };
        let mut body = err.error_response();
        if status.as_u16() == 405 {
            *body.status_mut() = status;
        }
        let (req, _) = res.into_parts();
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, body).map_into_right_body(),
        ))
    })
}
