//! Errors outside the handlers, as problem+json under `/api`: unreadable bodies, queries and
//! paths, unknown routes (a page elsewhere), 405 with `Allow` for documented resources, and
//! the framework's own error responses.

use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use super::openapi;
use crate::error::{AppError, FieldError, Problem};

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
    web::PathConfig::default().error_handler(|err, req| {
        if let Some(res) = method_not_allowed(req) {
            return actix_web::error::InternalError::from_response("method not allowed", res)
                .into();
        }
        let msg = match err {
            PathError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        AppError::NotFound(format!("no such resource ({msg})")).into()
    })
}

/// Fallback for paths no route matches: problem+json under the API, a page elsewhere.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if let Some(res) = method_not_allowed(&req) {
        return res;
    }
    if wants_problem(req.path()) {
        AppError::NotFound(format!("no route for {} {}", req.method(), req.path())).error_response()
    } else {
        HttpResponse::NotFound()
            .content_type("text/html; charset=utf-8")
            .body("<!doctype html><title>Not found</title><h1>Not found</h1><p><a href=\"/\">exambank</a></p>")
    }
}

/// 405 with `Allow` when `req`'s path is a documented resource that does not serve its method.
fn method_not_allowed(req: &HttpRequest) -> Option<HttpResponse> {
    let allowed = allowed_methods(req.path())?;
    if allowed.contains(&req.method().as_str()) {
        return None;
    }
    let mut res = AppError::MethodNotAllowed(format!(
        "{} is not allowed on {}; use {}",
        req.method(),
        req.path(),
        allowed.join(", ")
    ))
    .error_response();
    if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
        res.headers_mut().insert(header::ALLOW, v);
    }
    Some(res)
}

/// The methods the API serves on `path`, when it names an API resource (`None` otherwise):
/// a request with another method gets 405 with `Allow`, not 404.
fn allowed_methods(path: &str) -> Option<Vec<&'static str>> {
    static ROUTES: std::sync::LazyLock<Vec<(Vec<String>, Vec<&'static str>)>> =
        std::sync::LazyLock::new(|| {
            openapi()
                .paths
                .paths
                .iter()
                .map(|(template, item)| {
                    let segments = template.split('/').map(String::from).collect();
                    let methods = [
                        ("GET", item.get.is_some()),
                        ("PUT", item.put.is_some()),
                        ("POST", item.post.is_some()),
                        ("DELETE", item.delete.is_some()),
                        ("PATCH", item.patch.is_some()),
                    ]
                    .into_iter()
                    .filter_map(|(m, on)| on.then_some(m))
                    .collect();
                    (segments, methods)
                })
                .collect()
        });
    let parts: Vec<&str> = path.split('/').collect();
    let matches = |literal_only: bool| {
        ROUTES
            .iter()
            .find(|(segments, _)| {
                segments.len() == parts.len()
                    && segments.iter().zip(&parts).all(|(s, p)| {
                        s == p || (!literal_only && s.starts_with('{') && !p.is_empty())
                    })
            })
            .map(|(_, methods)| methods.clone())
    };
    // `/cohorts/join` is its own resource, not `/cohorts/{id}` with id "join"
    matches(true).or_else(|| matches(false))
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
