//! The one application error type, rendered as RFC 9457 problem+json.
//!
//! Client-facing errors carry a stable `type`, a title and a detail; internal causes are logged
//! with their whole chain and never sent. Every problem carries the request id.

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::telemetry::current_request_id;

pub use crate::domain::validation::FieldError;

/// The OpenAPI shape of [`FieldError`] (the domain type carries no schema).
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    /// One invalid field of a request body or query.
    #[derive(Serialize, ToSchema)]
    pub struct FieldError {
        /// JSON path of the field, e.g. `options[2].rationale`.
        pub field: String,
        pub message: String,
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `https://exambank.dev/problems/{slug}`. Slugs:
    /// `bad-request`, `validation`, `unauthorized`, `forbidden`, `not-found`,
    /// `method-not-allowed`, `payload-too-large`, `unsupported-media-type`, `rate-limited`,
    /// `busy`, `unavailable`, `internal`, and one per kind of conflict (409), so a client can
    /// tell them apart without reading the detail: `stale-revision` (the answer was based on
    /// an older revision; re-read it), `attempt-finalized` (the attempt is submitted or
    /// expired; answers can no longer change), `deadline-passed` (the time ran out; the
    /// attempt was just finalized as expired), `attempt-in-progress` (a result was asked for
    /// before the attempt was submitted), `already-started` (a cohort exam is started once per
    /// member), `window-not-open` and `window-closed` (a cohort exam outside its window),
    /// `no-questions` (the bank has no questions for the request), `idempotency-key-in-use`
    /// (a request with this `Idempotency-Key` is still running; retry shortly) and
    /// `email-taken` (an account with this email exists).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The id of the request, also in the `x-request-id` header and the server log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// One entry per invalid field (validation problems only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<schema::FieldError>)]
    pub errors: Vec<FieldError>,
}

/// The kind of a conflict (409). Each has its own problem type (see [`Problem::kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// An answer was based on a revision that is no longer current.
    StaleRevision,
    /// The attempt is submitted or expired: answers can no longer change.
    AttemptFinalized,
    /// The deadline passed: the attempt was finalized as expired by this request.
    DeadlinePassed,
    /// A result was asked for before the attempt was submitted.
    AttemptInProgress,
    /// A cohort exam is started once per member, and this member has.
    AlreadyStarted,
    /// A cohort exam that has not opened yet.
    WindowNotOpen,
    /// A cohort exam that has closed.
    WindowClosed,
    /// The bank has no questions for what was asked.
    NoQuestions,
    /// A request with the same `Idempotency-Key` is still running.
    IdempotencyKeyInUse,
    /// An account with this email exists.
    EmailTaken,
}

impl Conflict {
    pub const ALL: [Conflict; 10] = [
        Conflict::StaleRevision,
        Conflict::AttemptFinalized,
        Conflict::DeadlinePassed,
        Conflict::AttemptInProgress,
        Conflict::AlreadyStarted,
        Conflict::WindowNotOpen,
        Conflict::WindowClosed,
        Conflict::NoQuestions,
        Conflict::IdempotencyKeyInUse,
        Conflict::EmailTaken,
    ];

    /// The last segment of the problem type URI.
    pub fn slug(self) -> &'static str {
        match self {
            Conflict::StaleRevision => "stale-revision",
            Conflict::AttemptFinalized => "attempt-finalized",
            Conflict::DeadlinePassed => "deadline-passed",
            Conflict::AttemptInProgress => "attempt-in-progress",
            Conflict::AlreadyStarted => "already-started",
            Conflict::WindowNotOpen => "window-not-open",
            Conflict::WindowClosed => "window-closed",
            Conflict::NoQuestions => "no-questions",
            Conflict::IdempotencyKeyInUse => "idempotency-key-in-use",
            Conflict::EmailTaken => "email-taken",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Conflict::StaleRevision => "Stale revision",
            Conflict::AttemptFinalized => "Attempt already finalized",
            Conflict::DeadlinePassed => "Deadline passed",
            Conflict::AttemptInProgress => "Attempt still in progress",
            Conflict::AlreadyStarted => "Already started",
            Conflict::WindowNotOpen => "Exam not open yet",
            Conflict::WindowClosed => "Exam window closed",
            Conflict::NoQuestions => "No questions",
            Conflict::IdempotencyKeyInUse => "Idempotency key in use",
            Conflict::EmailTaken => "Email already registered",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict ({0:?}): {1}")]
    Conflict(Conflict, String),
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Admission control: too many starts or submits are already queued; retry shortly.
    #[error("busy")]
    Busy { retry_after_secs: u64 },
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => AppError::NotFound("no such resource".into()),
            // text PostgreSQL cannot store (a NUL character) is the client's to fix
            sqlx::Error::Database(db) if db.code().as_deref() == Some("22021") => {
                AppError::BadRequest("text must not contain NUL (\\u0000) characters".into())
            }
            other => AppError::Database(other),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// Errors that mean "the database cannot be reached right now" rather than a bug.
    fn database_unavailable(e: &sqlx::Error) -> bool {
        matches!(
            e,
            sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
        ) || matches!(e, sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("57P") || c.starts_with("08")))
    }

    /// A conflict of the given kind.
    pub fn conflict(kind: Conflict, detail: impl Into<String>) -> Self {
        AppError::Conflict(kind, detail.into())
    }

    fn slug_title(&self) -> (&'static str, &'static str) {
        match self {
            AppError::BadRequest(_) => ("bad-request", "Bad request"),
            AppError::Validation(_) => ("validation", "Invalid request"),
            AppError::Unauthorized(_) => ("unauthorized", "Authentication required"),
            AppError::Forbidden(_) => ("forbidden", "Forbidden"),
            AppError::NotFound(_) => ("not-found", "Not found"),
            AppError::Conflict(kind, _) => (kind.slug(), kind.title()),
            AppError::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
            AppError::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            AppError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            AppError::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            AppError::Unavailable(_) => ("unavailable", "Service unavailable"),
            AppError::Busy { .. } => ("busy", "Busy: retry shortly"),
            AppError::Database(e) if Self::database_unavailable(e) => {
                ("unavailable", "Service unavailable")
            }
            AppError::Database(_) | AppError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    pub fn detail(&self) -> String {
        match self {
            AppError::BadRequest(d)
            | AppError::Unauthorized(d)
            | AppError::Forbidden(d)
            | AppError::NotFound(d)
            | AppError::Conflict(_, d)
            | AppError::MethodNotAllowed(d)
            | AppError::PayloadTooLarge(d)
            | AppError::UnsupportedMediaType(d)
            | AppError::Unavailable(d) => d.clone(),
            AppError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("invalid fields: {}", fields.join(", "))
            }
            AppError::TooManyRequests { retry_after_secs } => {
                format!("too many attempts; retry after {retry_after_secs} seconds")
            }
            AppError::Busy { retry_after_secs } => format!(
                "many learners are starting or submitting at this moment; retry after {retry_after_secs} seconds (nothing was changed)"
            ),
            AppError::Database(e) if Self::database_unavailable(e) => {
                "the database is unreachable; retry shortly".into()
            }
            AppError::Database(_) | AppError::Internal(_) => {
                "an internal error occurred; it has been logged with the request id".into()
            }
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (slug, title) = self.slug_title();
        Problem {
            kind: format!("https://exambank.dev/problems/{slug}"),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            request_id: current_request_id(),
            errors: match self {
                AppError::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

/// Logs an internal cause with its whole chain.
fn log_chain(e: &(dyn std::error::Error + 'static)) {
    let mut chain = String::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if !chain.is_empty() {
            chain.push_str(": ");
        }
        chain.push_str(&err.to_string());
        cur = err.source();
    }
    tracing::error!(error = %chain, "request failed");
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(..) => StatusCode::CONFLICT,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) | AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(e) if Self::database_unavailable(e) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Database(e) => log_chain(e),
            AppError::Internal(e) => log_chain(e.as_ref()),
            AppError::Unavailable(d) => tracing::warn!(detail = %d, "unavailable"),
            _ => {}
        }
        let mut resp = HttpResponse::build(self.status_code());
        resp.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let AppError::TooManyRequests { retry_after_secs }
        | AppError::Busy { retry_after_secs } = self
        {
            resp.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if matches!(self, AppError::Unauthorized(_)) {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        resp.body(serde_json::to_string(&self.to_problem()).unwrap_or_default())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.title, self.status, self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_names_every_field() {
        let e = AppError::Validation(vec![
            FieldError::new("email", "not an email address"),
            FieldError::new("password", "too short"),
        ]);
        let p = e.to_problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors.len(), 2);
        assert!(p.detail.contains("email") && p.detail.contains("password"));
    }

    #[test]
    fn the_field_error_schema_describes_what_is_sent() {
        use utoipa::PartialSchema;
        let sent = serde_json::to_value(FieldError::new("email", "not an email address")).unwrap();
        let schema = serde_json::to_value(schema::FieldError::schema()).unwrap();
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(keys(&sent), keys(&schema["properties"]));
    }

    #[test]
    fn every_conflict_has_its_own_problem_type() {
        let types: std::collections::BTreeSet<String> = Conflict::ALL
            .iter()
            .map(|k| {
                let p = AppError::conflict(*k, "x").to_problem();
                assert_eq!(p.status, 409);
                assert_eq!(p.title, k.title());
                p.kind
            })
            .collect();
        assert_eq!(types.len(), Conflict::ALL.len());
        // the spec documents every one
        let doc = include_str!("../openapi/openapi.json");
        for k in Conflict::ALL {
            assert!(
                doc.contains(&format!("`{}`", k.slug())),
                "{} undocumented",
                k.slug()
            );
        }
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let e = AppError::Internal(anyhow::anyhow!("secret connection string postgres://x"));
        let p = e.to_problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("postgres"));
    }

    #[test]
    fn unreachable_database_is_503() {
        let e = AppError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
