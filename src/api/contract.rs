//! The OpenAPI document: its info, tags and security scheme, and the rules every operation
//! shares (problem+json errors, the statuses of its shape, `Idempotency-Key`), applied after
//! the routes are collected.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::constraints::constrain;
use super::{admission, configure_v1, ops};
use crate::error::Problem;

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
