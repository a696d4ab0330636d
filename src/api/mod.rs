//! The JSON API (`/api/v1`): thin handlers, utoipa annotations and DTOs, one file per resource.
//! Beside them: `contract` (the OpenAPI document and the rules every operation shares),
//! `constraints` (the enums and bounds the server enforces, written into the spec) and
//! `fallback` (body, query and path errors, unknown routes and 405s as problem+json).

pub mod admission;
pub mod attempts;
pub mod auth;
pub mod catalog;
pub mod cohorts;
mod constraints;
mod contract;
mod fallback;
pub mod idempotency;
pub mod mastery;
pub mod ops;
pub mod questions;
pub mod schemas;

use utoipa_actix_web::service_config::ServiceConfig;

pub use contract::{openapi, ApiDoc, IDEMPOTENT_CREATES};
pub use fallback::{
    json_config, json_error, not_found, path_config, problem_for_framework_errors, query_config,
};

/// Routes under `/api/v1`.
pub fn configure_v1(cfg: &mut ServiceConfig) {
    auth::configure(cfg);
    catalog::configure(cfg);
    questions::configure(cfg);
    attempts::configure(cfg);
    mastery::configure(cfg);
    cohorts::configure(cfg);
}
