//! Logging in and out: credentials → token pairs, refresh rotation with reuse detection, and
//! the rate limits that protect logins and registrations.

use std::net::IpAddr;

use chrono::{Duration, Utc};
use secrecy::SecretString;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::{keyed_token, password, token_user, tokens};
use crate::db::users::UserRow;
use crate::db::{rate_limits, tokens as db_tokens, users};
use crate::domain::user::Role;
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, NewAccount};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_account: i32,
    pub per_address: i32,
    pub window_secs: i64,
}

#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user: UserRow,
    pub tokens: TokenPair,
}

/// A page login or registration: the user and the token its session cookie carries.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub user: UserRow,
    pub token: String,
}

fn role_of(user: &UserRow) -> Role {
    Role::parse(&user.role).unwrap_or(Role::Learner)
}

/// A new login family: an access token and a first refresh token.
async fn start_family(
    conn: &mut PgConnection,
    secret: &SecretString,
    user: &UserRow,
) -> AppResult<TokenPair> {
    issue_in_family(conn, secret, user.id, role_of(user), Uuid::new_v4()).await
}

async fn issue_in_family(
    conn: &mut PgConnection,
    secret: &SecretString,
    user_id: Uuid,
    role: Role,
    family: Uuid,
) -> AppResult<TokenPair> {
    let refresh = keyed_token(user_id);
    let expires = Utc::now() + Duration::days(tokens::REFRESH_TTL_DAYS);
    db_tokens::insert(
        conn,
        user_id,
        family,
        &tokens::hash_refresh(&refresh),
        expires,
    )
    .await?;
    Ok(TokenPair {
        access_token: tokens::issue_access(secret, user_id, role)?,
        refresh_token: refresh,
        expires_in: tokens::ACCESS_TTL_SECS,
    })
}

fn too_many(reset_secs: i64) -> AppError {
    AppError::TooManyRequests {
        retry_after_secs: reset_secs.max(1) as u64,
    }
}

/// Counts one registration attempt from `client`; refuses past the per-address limit.
async fn limit_registration(
    conn: &mut PgConnection,
    limits: Limits,
    client: IpAddr,
) -> AppResult<()> {
    let (hits, reset) =
        rate_limits::hit(conn, &format!("register:ip:{client}"), limits.window_secs).await?;
    if hits > limits.per_address {
        return Err(too_many(reset));
    }
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn register(
    pool: &PgPool,
    secret: &SecretString,
    limits: Limits,
    client: IpAddr,
    input: NewAccount,
) -> AppResult<Session> {
    let user = create_account(pool, limits, client, input).await?;
    let tokens = start_family(&mut *pool.acquire().await?, secret, &user).await?;
    Ok(Session { user, tokens })
}

/// A page registration: the account and a cookie session, no API tokens.
#[tracing::instrument(skip_all)]
pub async fn register_web(
    pool: &PgPool,
    limits: Limits,
    client: IpAddr,
    input: NewAccount,
) -> AppResult<WebSession> {
    let user = create_account(pool, limits, client, input).await?;
    let token = open_web_session(pool, user.id).await?;
    Ok(WebSession { user, token })
}

async fn create_account(
    pool: &PgPool,
    limits: Limits,
    client: IpAddr,
    input: NewAccount,
) -> AppResult<UserRow> {
    limit_registration(&mut *pool.acquire().await?, limits, client).await?;
    accounts::create(pool, input).await
}

/// An API login: checks the credentials ([`authenticate`]) and starts a token family.
#[tracing::instrument(skip_all)]
pub async fn login(
    pool: &PgPool,
    secret: &SecretString,
    limits: Limits,
    client: IpAddr,
    email: &str,
    password_in: SecretString,
) -> AppResult<Session> {
    let user = authenticate(pool, limits, client, email, password_in).await?;
    let tokens = start_family(&mut *pool.acquire().await?, secret, &user).await?;
    Ok(Session { user, tokens })
}

/// A page login: checks the credentials ([`authenticate`]) and opens a cookie session only.
#[tracing::instrument(skip_all)]
pub async fn login_web(
    pool: &PgPool,
    limits: Limits,
    client: IpAddr,
    email: &str,
    password_in: SecretString,
) -> AppResult<WebSession> {
    let user = authenticate(pool, limits, client, email, password_in).await?;
    let token = open_web_session(pool, user.id).await?;
    Ok(WebSession { user, token })
}

/// Checks credentials. Failures count against the account and the client address; at the
/// limit the answer is 429 with Retry-After before any password is checked. Unknown emails
/// cost one verification and get the same error as a wrong password.
async fn authenticate(
    pool: &PgPool,
    limits: Limits,
    client: IpAddr,
    email: &str,
    password_in: SecretString,
) -> AppResult<UserRow> {
    let account_key = format!("login:acct:{}", email.trim().to_lowercase());
    let address_key = format!("login:ip:{client}");
    let mut conn = pool.acquire().await?;
    for (key, limit) in [
        (&account_key, limits.per_account),
        (&address_key, limits.per_address),
    ] {
        let (hits, reset) = rate_limits::current(&mut conn, key, limits.window_secs).await?;
        if hits >= limit {
            return Err(too_many(reset));
        }
    }
    let user = users::find_by_email(&mut conn, email.trim()).await?;
    drop(conn);
    let ok = password::verify(
        password_in.clone(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let mut conn = pool.acquire().await?;
    match user {
        Some(user) if ok => {
            rate_limits::clear(&mut conn, &account_key).await?;
            if password::needs_rehash(&user.password_hash) {
                let new_hash = password::hash(password_in).await?;
                users::set_password_hash(&mut conn, user.id, &new_hash).await?;
            }
            Ok(user)
        }
        _ => {
            rate_limits::hit(&mut conn, &account_key, limits.window_secs).await?;
            rate_limits::hit(&mut conn, &address_key, limits.window_secs).await?;
            Err(AppError::Unauthorized("invalid email or password".into()))
        }
    }
}

/// Rotates a refresh token. Presenting a token that was already used revokes its whole family
/// (theft response: whoever holds the newer tokens is logged out too), unless it comes back
/// within `grace` of its first use: then it is a client's concurrent refresh (two requests in
/// flight that both saw a 401), and it gets another valid pair of the same family. A revoked
/// token (logout, or a family already revoked) is always refused.
#[tracing::instrument(skip_all)]
pub async fn refresh(
    pool: &PgPool,
    secret: &SecretString,
    token: &str,
    grace: chrono::Duration,
) -> AppResult<Session> {
    let invalid =
        || AppError::Unauthorized("the refresh token is invalid, expired or revoked".into());
    let mut tx = pool.begin().await?;
    let row = db_tokens::find_for_update(&mut tx, token_user(token), &tokens::hash_refresh(token))
        .await?
        .ok_or_else(invalid)?;
    let now = Utc::now();
    let reuse = match (row.revoked_at, row.used_at) {
        (Some(_), _) => true,
        (None, Some(used)) => now - used > grace,
        (None, None) => false,
    };
    if reuse {
        let n = db_tokens::revoke_family(&mut tx, row.user_id, row.family_id).await?;
        tx.commit().await?;
        tracing::warn!(user = %row.user_id, family = %row.family_id, revoked = n, "refresh token reuse: family revoked");
        return Err(invalid());
    }
    if row.expires_at <= now {
        return Err(invalid());
    }
    let user = users::find_by_id(&mut tx, row.user_id)
        .await?
        .ok_or_else(invalid)?;
    if row.used_at.is_none() {
        db_tokens::mark_used(&mut tx, row.user_id, row.id).await?;
    } else {
        tracing::info!(user = %row.user_id, family = %row.family_id, "refresh token presented again within the grace window");
    }
    let tokens = issue_in_family(&mut tx, secret, user.id, role_of(&user), row.family_id).await?;
    tx.commit().await?;
    Ok(Session { user, tokens })
}

/// Revokes the login (family) the refresh token belongs to. Only its owner can.
pub async fn logout(pool: &PgPool, user_id: Uuid, token: &str) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    let row = db_tokens::find_for_update(&mut tx, token_user(token), &tokens::hash_refresh(token))
        .await?
        .filter(|r| r.user_id == user_id)
        .ok_or_else(|| AppError::Unauthorized("the refresh token is not one of yours".into()))?;
    db_tokens::revoke_family(&mut tx, row.user_id, row.family_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Pages: cookie sessions live 30 days.
pub const WEB_SESSION_DAYS: i64 = 30;

/// Opens a cookie session; returns the token the cookie carries (it names the user, so the
/// session is found by user and hash).
pub async fn open_web_session(pool: &PgPool, user_id: Uuid) -> AppResult<String> {
    let token = keyed_token(user_id);
    let mut conn = pool.acquire().await?;
    crate::db::web_sessions::insert(
        &mut conn,
        user_id,
        &tokens::hash_refresh(&token),
        Utc::now() + Duration::days(WEB_SESSION_DAYS),
    )
    .await?;
    Ok(token)
}

pub async fn web_session_user(
    pool: &PgPool,
    token: &str,
) -> AppResult<Option<crate::db::web_sessions::SessionUser>> {
    let mut conn = pool.acquire().await?;
    Ok(crate::db::web_sessions::find_user(
        &mut conn,
        token_user(token),
        &tokens::hash_refresh(token),
    )
    .await?)
}

pub async fn close_web_session(pool: &PgPool, token: &str) -> AppResult<()> {
    let mut conn = pool.acquire().await?;
    crate::db::web_sessions::revoke(&mut conn, token_user(token), &tokens::hash_refresh(token))
        .await?;
    Ok(())
}

/// Revokes the user's web sessions (all but `keep_web_session`, the caller's own) and every
/// API login (refresh-token family); returns how many sessions and refresh tokens.
pub async fn revoke_logins(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep_web_session: Option<&str>,
) -> AppResult<(u64, u64)> {
    let keep = keep_web_session.map(tokens::hash_refresh);
    let web = crate::db::web_sessions::revoke_all_of_user(conn, user_id, keep.as_deref()).await?;
    let api = db_tokens::revoke_all_of_user(conn, user_id).await?;
    Ok((web, api))
}
