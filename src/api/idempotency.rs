//! The `Idempotency-Key` middleware for the creating POSTs (`IDEMPOTENT_CREATES`). The rules
//! live in `services::idempotency`; this file only moves bytes between HTTP and them.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{HttpResponse, ResponseError};

use super::IDEMPOTENT_CREATES;
use crate::auth::tokens::verify_access;
use crate::error::AppError;
use crate::services::idempotency::{self as svc, Begin, Recorded};
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
/// Set on a replayed response.
pub const REPLAYED: &str = "idempotency-replayed";

/// The key's owner: the signed-in user, or `anonymous` for registration.
fn scope(req: &ServiceRequest, state: &AppState) -> Option<String> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token.and_then(|t| verify_access(&state.jwt_secret, t.trim())) {
        Some(claims) => Some(claims.sub.to_string()),
        None if req.path() == "/api/v1/auth/register" => Some("anonymous".into()),
        // no valid token: the handler answers 401 and nothing is recorded
        None => None,
    }
}

pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let applies = req.method() == Method::POST
        && req.headers().contains_key(HEADER)
        && req
            .match_pattern()
            .is_some_and(|p| IDEMPOTENT_CREATES.contains(&p.as_str()));
    if !applies {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let key = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if let Err(e) = svc::check_key(&key) {
        return Ok(req.into_response(e.error_response()));
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(scope) = scope(&req, &state) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let body = req.extract::<Bytes>().await?;
    req.set_payload(Payload::from(body.clone()));
    let path = req.path().to_string();
    let ttl = state.settings.idempotency_ttl_hours;
    match svc::begin(&state.pool, &scope, &key, &path, &body, ttl).await {
        Err(e) => Ok(req.into_response(e.error_response())),
        Ok(Begin::Replay(r)) => Ok(req.into_response(replay(&r))),
        Ok(Begin::Run) => {
            let res = match next.call(req).await {
                Ok(res) => res,
                Err(e) => {
                    svc::release(&state.pool, &scope, &key).await.ok();
                    return Err(e);
                }
            };
            let status = res.status().as_u16();
            if !svc::is_final(status) {
                svc::release(&state.pool, &scope, &key).await.ok();
                return Ok(res.map_into_boxed_body());
            }
            let (http_req, response) = res.into_parts();
            let (head, body) = response.into_parts();
            let bytes = match to_bytes(body).await {
                Ok(b) => b,
                Err(_) => {
                    svc::release(&state.pool, &scope, &key).await.ok();
                    let e = AppError::Internal(anyhow::anyhow!("response body unreadable"));
                    return Ok(ServiceResponse::new(http_req, e.error_response()));
                }
            };
            let text = |name| {
                head.headers()
                    .get(name)
                    .and_then(|v: &HeaderValue| v.to_str().ok())
                    .map(String::from)
            };
            let recorded = Recorded {
                status,
                content_type: text(header::CONTENT_TYPE),
                location: text(header::LOCATION),
                body: bytes.to_vec(),
            };
            if let Err(e) = svc::complete(&state.pool, &scope, &key, &recorded).await {
                // the create happened; a retry will see "in progress" until the key expires
                tracing::error!(error = %e, "could not record an idempotent response");
            }
            let response = head.set_body(BoxBody::new(bytes));
            Ok(ServiceResponse::new(http_req, response))
        }
    }
}

fn replay(r: &Recorded) -> HttpResponse {
    let mut res = HttpResponse::build(StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK));
    if let Some(ct) = &r.content_type {
        res.insert_header((header::CONTENT_TYPE, ct.as_str()));
    }
    if let Some(loc) = &r.location {
        res.insert_header((header::LOCATION, loc.as_str()));
    }
    res.insert_header((REPLAYED, "true"));
    res.body(r.body.clone())
}
