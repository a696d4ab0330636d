//! Authentication as extractors: a handler's signature says who may call it.

use std::future::{ready, Ready};

use actix_web::{web, FromRequest, HttpRequest};
use uuid::Uuid;

use super::tokens::verify_access;
use crate::domain::user::Role;
use crate::error::AppError;
use crate::state::AppState;

/// A caller with a valid access token (`Authorization: Bearer …`).
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub id: Uuid,
    /// The role signed into the token. Endpoints that grant instructor or admin powers
    /// re-read the role from the database (see `services::accounts::require_role`).
    pub role: Role,
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<AuthUser, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState missing")))?;
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            AppError::Unauthorized("send an access token: Authorization: Bearer <token>".into())
        })?;
    let value = header
        .to_str()
        .map_err(|_| AppError::Unauthorized("malformed Authorization header".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| AppError::Unauthorized("the Authorization scheme must be Bearer".into()))?;
    let claims = verify_access(&state.jwt_secret, token.trim())
        .ok_or_else(|| AppError::Unauthorized("the access token is invalid or expired".into()))?;
    Ok(AuthUser {
        id: claims.sub,
        role: claims.role,
    })
}
