//! `/auth/*` and `/me`, `/users/{id}`: accounts and tokens.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::domain::user::Role;
use crate::error::{AppResult, Problem};
use crate::http::client_ip;
use crate::services::accounts::UserRow;
use crate::services::accounts::{self, NewAccount};
use crate::services::sessions::{self, Limits, Session};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(me)
        .service(update_user);
}

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(example = "ann@example.com")]
    pub email: String,
    /// 12 to 128 characters, not one of the most common passwords.
    pub password: String,
    pub display_name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    #[schema(value_type = super::schemas::Role)]
    pub role: Role,
}

impl From<UserRow> for UserDto {
    fn from(u: UserRow) -> Self {
        UserDto {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            role: Role::parse(&u.role).unwrap_or(Role::Learner),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Opaque; single use: every refresh returns a new one.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: UserDto,
}

impl From<Session> for TokenResponse {
    fn from(s: Session) -> Self {
        TokenResponse {
            access_token: s.tokens.access_token,
            refresh_token: s.tokens.refresh_token,
            token_type: "Bearer",
            expires_in: s.tokens.expires_in,
            user: s.user.into(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    /// `learner`, `instructor` or `admin`.
    pub role: String,
}

/// Create a learner account; 201 with tokens.
#[utoipa::path(
    operation_id = "register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = TokenResponse),
        (status = 409, description = "email taken", body = Problem),
        (status = 422, description = "invalid fields", body = Problem),
        (status = 429, description = "rate limited", body = Problem),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RegisterRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let input = NewAccount {
        email: body.email,
        password: SecretString::from(body.password),
        display_name: body.display_name,
        role: Role::Learner,
    };
    let ip = client_ip(&req, state.settings.trust_proxy);
    let session = sessions::register(
        &state.pool,
        &state.jwt_secret,
        Limits::from(&*state.settings),
        ip,
        input,
    )
    .await?;
    Ok(HttpResponse::Created().json(TokenResponse::from(session)))
}

/// Exchange email and password for tokens.
#[utoipa::path(
    operation_id = "login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "invalid email or password", body = Problem),
        (status = 429, description = "rate limited; see Retry-After", body = Problem),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let ip = client_ip(&req, state.settings.trust_proxy);
    let session = sessions::login(
        &state.pool,
        &state.jwt_secret,
        Limits::from(&*state.settings),
        ip,
        &body.email,
        SecretString::from(body.password),
    )
    .await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(session)))
}

/// Rotate a refresh token: a new pair. Reusing a spent token revokes its whole login.
#[utoipa::path(
    operation_id = "refreshTokens",
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem))
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    let session = sessions::refresh(
        &state.pool,
        &state.jwt_secret,
        &body.refresh_token,
        chrono::Duration::seconds(state.settings.refresh_grace_secs),
    )
    .await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(session)))
}

/// Revoke the login the refresh token belongs to.
#[utoipa::path(
    operation_id = "logout",
    tag = "auth",
    request_body = RefreshRequest,
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    sessions::logout(&state.pool, user.id, &body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's profile and role.
#[utoipa::path(
    operation_id = "getMe",tag = "auth", security(("bearer" = [])), responses((status = 200, body = UserDto), (status = 401, body = Problem)))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let row = accounts::get(&state.pool, user.id).await?;
    Ok(HttpResponse::Ok().json(UserDto::from(row)))
}

/// Change a user's role (admins only).
#[utoipa::path(
    operation_id = "updateUser",
    tag = "auth",
    request_body = UpdateUserRequest,
    security(("bearer" = [])),
    responses((status = 200, body = UserDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem))
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateUserRequest>,
) -> AppResult<HttpResponse> {
    let row = accounts::set_role(&state.pool, user.id, id.into_inner(), &body.role).await?;
    Ok(HttpResponse::Ok().json(UserDto::from(row)))
}
