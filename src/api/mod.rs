//! The JSON API (`/api/v1`): thin handlers, utoipa annotations and DTOs, one file per resource.
//! Over 500 lines on purpose: the OpenAPI contract rules and the routing fallbacks, together.

pub mod admission;
pub mod attempts;
pub mod auth;
pub mod catalog;
pub mod cohorts;
pub mod idempotency;
pub mod mastery;
pub mod ops;
pub mod questions;
pub mod schemas;

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
    components(schemas(Problem, crate::error::schema::FieldError)),
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

/// What every operation shares, written once instead of on each handler:
/// - a `servers` entry (the spec's paths are absolute, so the server root);
/// - every error response as `application/problem+json` with the `Problem` schema;
/// - the statuses any operation can return for its shape: 401 where a token is required, 400,
///   413, 415 and 422 where a body is read, 400 where a query is read, 404 where the path names
///   a resource, 503 when the database is out of reach (all but `healthz`);
/// - the `Idempotency-Key` header on the POSTs that create something.
struct Contract;

/// POSTs that create something and honour `Idempotency-Key` (see `idempotency.rs`).
pub const IDEMPOTENT_CREATES: [&str; 7] = [
    "/api/v1/auth/register",
    "/api/v1/attempts",
    "/api/v1/practice",
    "/api/v1/cohorts",
    "/api/v1/cohorts/{id}/exams",
    "/api/v1/cohorts/{id}/exams/{exam}/attempts",
    "/api/v1/questions/{id}/reports",
];

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{
            ContentBuilder, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Server, Type,
        };

        openapi.servers = Some(vec![Server::new("/")]);
        constrain(openapi);
        let problem = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
        };
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content("application/problem+json", problem())
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                ("get", item.get.as_mut()),
                ("put", item.put.as_mut()),
                ("post", item.post.as_mut()),
                ("delete", item.delete.as_mut()),
                ("patch", item.patch.as_mut()),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                if method == "post" && admission::GUARDED.contains(&path.as_str()) {
                    let retry_after = utoipa::openapi::header::HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::Integer))
                        .description(Some("Seconds to wait before retrying"))
                        .build();
                    op.responses.responses.insert(
                        "503".to_string(),
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(
                                    "Busy: many starts or submits are queued (admission control), \
                                     or the database is out of reach. Nothing was changed; retry \
                                     after `Retry-After` seconds.",
                                )
                                .header("Retry-After", retry_after)
                                .content("application/problem+json", problem())
                                .build(),
                        ),
                    );
                }
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::T(error(description)));
                };
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    add("401", "No valid access token");
                }
                if op.request_body.is_some() {
                    add("400", "The body is not valid JSON");
                    add("413", "The body is larger than the server accepts");
                    add("415", "The body is not application/json");
                    add(
                        "422",
                        "A field is invalid (one entry per field in `errors`)",
                    );
                }
                let params = op.parameters.as_deref().unwrap_or_default();
                if params.iter().any(|p| p.parameter_in == ParameterIn::Query) {
                    add("400", "A query parameter cannot be read");
                    add("422", "A query parameter is out of range");
                }
                if path.contains('{') {
                    add("404", "No such resource (or not yours)");
                }
                if path != "/healthz" {
                    add("503", "The database is out of reach; retry later");
                }
                if method == "post" && IDEMPOTENT_CREATES.contains(&path.as_str()) {
                    add(
                        "400",
                        "The Idempotency-Key is not 1 to 255 visible ASCII characters",
                    );
                    add(
                        "409",
                        "A request with this Idempotency-Key is still in progress",
                    );
                    add(
                        "422",
                        "The Idempotency-Key was used with another request body or path",
                    );
                    let header = ParameterBuilder::new()
                        .name("Idempotency-Key")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some(
                            "Makes the create safe to retry: a retry with the same key and body \
                             returns the original status and body and creates nothing; the same key \
                             with another body is a 422 problem. Keys are kept per user for 24 hours.",
                        ))
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .min_length(Some(1))
                                .max_length(Some(255))
                                .pattern(Some("^[!-~]+$")),
                        ))
                        .build();
                    op.parameters.get_or_insert_with(Vec::new).push(header);
                }
                // every error response is a problem document
                for (status, response) in op.responses.responses.iter_mut() {
                    let is_error = status.starts_with('4') || status.starts_with('5');
                    if let (true, RefOr::T(r)) = (is_error, response) {
                        r.content.clear();
                        r.content
                            .insert("application/problem+json".to_string(), problem());
                    }
                }
            }
        }
    }
}

/// A constraint the server enforces, so that the spec says it too (clients validate before
/// sending, and generated code gets enums).
enum Rule {
    /// One of these strings (`null` too where the field is optional).
    OneOf(&'static [&'static str]),
    /// An integer in this range.
    Range(i64, i64),
    /// A string of this many characters.
    Length(usize, usize),
}

use crate::domain::attempt::Mode;

/// `(schema, property, rule)`: request bodies.
const BODY_RULES: &[(&str, &str, Rule)] = &[
    (
        "StartAttemptRequest",
        "mode",
        Rule::OneOf(&[Mode::Exam.as_str(), Mode::Practice.as_str()]),
    ),
    (
        "StartAttemptRequest",
        "count",
        Rule::Range(1, crate::services::attempts::MAX_CUSTOM_COUNT as i64),
    ),
    (
        "StartAttemptRequest",
        "time_limit_minutes",
        Rule::Range(1, 600),
    ),
    ("RegisterRequest", "password", Rule::Length(12, 128)),
    ("RegisterRequest", "display_name", Rule::Length(1, 80)),
    (
        "UpdateUserRequest",
        "role",
        Rule::OneOf(&["learner", "instructor", "admin"]),
    ),
    ("NewCohort", "name", Rule::Length(1, 100)),
    ("ExtensionRequest", "minutes", Rule::Range(0, 600)),
    ("PracticeRequest", "count", Rule::Range(1, 100)),
    (
        "PracticeRequest",
        "source",
        Rule::OneOf(&["weak", "mistakes", "due"]),
    ),
    (
        "NewReport",
        "kind",
        Rule::OneOf(&crate::services::questions::REPORT_KINDS),
    ),
    ("NewReport", "message", Rule::Length(1, 2000)),
    ("ResolveReport", "status", Rule::OneOf(&["resolved"])),
    (
        "QuestionDraft",
        "kind",
        Rule::OneOf(&["single", "multiple"]),
    ),
    ("QuestionDraft", "difficulty", Rule::Range(1, 3)),
    (
        "QuestionDraft",
        "exam_domain",
        Rule::OneOf(&crate::domain::question::EXAM_DOMAINS),
    ),
    ("QuestionDraft", "task", Rule::OneOf(&TASK_CODES)),
    ("BankItem", "kind", Rule::OneOf(&["single", "multiple"])),
    ("BankItem", "difficulty", Rule::Range(1, 3)),
    (
        "BankItem",
        "exam_domain",
        Rule::OneOf(&crate::domain::question::EXAM_DOMAINS),
    ),
    ("BankItem", "task", Rule::OneOf(&TASK_CODES)),
];

const TASK_CODES: [&str; 13] = {
    let mut out = [""; 13];
    let mut i = 0;
    while i < 13 {
        out[i] = crate::domain::question::TASKS[i].0;
        i += 1;
    }
    out
};

/// `(path, query parameter, rule)`.
const QUERY_RULES: &[(&str, &str, Rule)] = &[
    (
        "/api/v1/attempts/{id}/review",
        "filter",
        Rule::OneOf(&["wrong", "flagged"]),
    ),
    ("/api/v1/questions", "difficulty", Rule::Range(1, 3)),
    ("/api/v1/questions", "limit", Rule::Range(1, 100)),
    (
        "/api/v1/questions/export",
        "format",
        Rule::OneOf(&["json", "gift"]),
    ),
    ("/api/v1/me/mastery/history", "days", Rule::Range(1, 365)),
];

fn apply(rule: &Rule, schema: &mut utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    let RefOr::T(Schema::Object(o)) = schema else {
        return;
    };
    let nullable = serde_json::to_value(&o.schema_type)
        .map(|t| t.to_string().contains("null"))
        .unwrap_or(false);
    match rule {
        Rule::OneOf(values) => {
            let mut v: Vec<serde_json::Value> = values.iter().map(|s| (*s).into()).collect();
            if nullable {
                v.push(serde_json::Value::Null);
            }
            o.enum_values = Some(v);
        }
        Rule::Range(lo, hi) => {
            o.minimum = Some((*lo).into());
            o.maximum = Some((*hi).into());
        }
        Rule::Length(lo, hi) => {
            o.min_length = Some(*lo);
            o.max_length = Some(*hi);
        }
    }
}

fn constrain(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    if let Some(components) = openapi.components.as_mut() {
        for (name, prop, rule) in BODY_RULES {
            if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(*name) {
                if let Some(p) = o.properties.get_mut(*prop) {
                    apply(rule, p);
                }
            }
        }
    }
    for (path, name, rule) in QUERY_RULES {
        let Some(item) = openapi.paths.paths.get_mut(*path) else {
            continue;
        };
        for op in [item.get.as_mut(), item.post.as_mut()]
            .into_iter()
            .flatten()
        {
            for p in op.parameters.iter_mut().flatten() {
                if p.name == *name {
                    if let Some(s) = p.schema.as_mut() {
                        apply(rule, s);
                    }
                }
            }
        }
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
    let mut api = api;
    // after the routes are collected: the contract rules apply to every operation
    Contract.modify(&mut api);
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
