//! Import and export of the bank: JSON (the bank format) or GIFT for Moodle.

use actix_web::http::header::{self, ContentType};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::domain::question::BankItem;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::services::questions as svc;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct FormatQuery {
    /// `json` (the bank format, default) or `gift` (Moodle).
    pub format: Option<String>,
    /// Export only: one domain.
    pub domain: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BankDocument {
    #[schema(value_type = Vec<crate::api::schemas::BankItem>)]
    pub questions: Vec<BankItem>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    pub added: usize,
    pub new_versions: usize,
    pub unchanged: usize,
}

fn format_of(q: &FormatQuery) -> AppResult<&str> {
    match q.format.as_deref().unwrap_or("json") {
        f @ ("json" | "gift") => Ok(f),
        other => Err(AppError::validation(
            "format",
            format!("`{other}` is not json or gift"),
        )),
    }
}

/// Export the bank: JSON (`{"questions": [...]}`, author shape with slugs) or GIFT for Moodle.
#[utoipa::path(
    operation_id = "exportQuestions",
    tag = "questions",
    params(FormatQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "JSON (the default), or with format=gift the GIFT text for Moodle",
            content((BankDocument = "application/json"), (String = "text/plain"))),
        (status = 403, body = Problem)
    )
)]
#[get("/questions/export")]
pub async fn export(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<FormatQuery>,
) -> AppResult<HttpResponse> {
    let format = format_of(&q)?;
    let items = svc::export(&state.pool, user.id, q.domain.as_deref()).await?;
    Ok(match format {
        "gift" => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(crate::domain::gift::to_gift(&items)),
        _ => HttpResponse::Ok().json(BankDocument { questions: items }),
    })
}

/// Import questions all-or-nothing: JSON (`{"questions": [...]}`) or GIFT text
/// (`?format=gift`, any text body). Known slugs get a new version when they differ.
#[utoipa::path(
    operation_id = "importQuestions",
    tag = "questions",
    params(FormatQuery),
    request_body(content = BankDocument, description = "JSON bank document, or GIFT text with format=gift"),
    security(("bearer" = [])),
    responses((status = 200, body = ImportResult), (status = 403, body = Problem), (status = 422, body = Problem))
)]
#[post("/questions/import")]
pub async fn import(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    q: web::Query<FormatQuery>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let format = format_of(&q)?;
    let items = match format {
        "gift" => {
            let text = std::str::from_utf8(&body)
                .map_err(|_| AppError::BadRequest("the GIFT text is not UTF-8".into()))?;
            crate::domain::gift::from_gift(text).map_err(AppError::Validation)?
        }
        _ => {
            let is_json = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with(ContentType::json().essence_str()));
            if !is_json {
                return Err(AppError::UnsupportedMediaType(
                    "send the JSON bank document as application/json".into(),
                ));
            }
            let doc: BankDocument = serde_json::from_slice(&body).map_err(|e| {
                if e.is_data() {
                    AppError::Validation(vec![FieldError::new("questions", e.to_string())])
                } else {
                    AppError::BadRequest(format!("malformed JSON: {e}"))
                }
            })?;
            doc.questions
        }
    };
    let r = svc::import(&state.pool, &state.notes, user.id, items).await?;
    Ok(HttpResponse::Ok().json(ImportResult {
        added: r.added,
        new_versions: r.new_versions,
        unchanged: r.unchanged,
    }))
}
