//! Password recovery without email: an admin (or the command line) issues a one-time link
//! `/reset/{token}`; whoever opens it sets a new password once, within the link's lifetime.
//! Only the token's SHA-256 is stored. Issuing a link discards the user's older unused ones;
//! using one revokes every session and API login of the user.

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::{keyed_token, password, token_user, tokens};
use crate::db::password_resets::{self, ResetTarget};
use crate::db::users::{self, UserRow};
use crate::domain::user::Role;
use crate::error::{AppError, AppResult};
use crate::services::accounts::{new_password_problems, require_role};
use crate::services::sessions;

/// What a dead link (used, expired, replaced by a newer one, or never issued) says.
pub const INVALID_LINK: &str =
    "this password reset link is no longer valid: it was used already, it expired, or a newer link was issued";

/// A freshly issued link. The path carries the secret token: show it once, store it nowhere.
#[derive(Debug, Clone)]
pub struct IssuedLink {
    pub email: String,
    pub path: String,
    pub expires_at: DateTime<Utc>,
}

fn invalid() -> AppError {
    AppError::NotFound(INVALID_LINK.into())
}

fn hash_of(token: &str) -> AppResult<Vec<u8>> {
    // tokens are 76 characters (43 before they named their user); anything far off is not
    // one of ours
    if token.is_empty() || token.len() > 128 {
        return Err(invalid());
    }
    Ok(tokens::hash_refresh(token))
}

async fn issue(
    pool: &PgPool,
    user_id: Uuid,
    issued_by: Option<Uuid>,
    ttl_minutes: i64,
) -> AppResult<IssuedLink> {
    let token = keyed_token(user_id);
    let expires_at = Utc::now() + Duration::minutes(ttl_minutes.max(1));
    let mut tx = pool.begin().await?;
    // issuing links for one user serialises, so exactly the newest stays usable
    let email = password_resets::lock_account(&mut tx, user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such user".into()))?;
    password_resets::discard_unused(&mut tx, user_id).await?;
    password_resets::insert(
        &mut tx,
        user_id,
        &tokens::hash_refresh(&token),
        expires_at,
        issued_by,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %user_id, issued_by = ?issued_by, "password reset link issued");
    Ok(IssuedLink {
        email,
        path: format!("/reset/{token}"),
        expires_at,
    })
}

/// An admin issues a link for `target`.
#[tracing::instrument(skip_all)]
pub async fn issue_by_admin(
    pool: &PgPool,
    admin: Uuid,
    target: Uuid,
    ttl_minutes: i64,
) -> AppResult<IssuedLink> {
    require_role(pool, admin, &[Role::Admin]).await?;
    issue(pool, target, Some(admin), ttl_minutes).await
}

/// `exambank reset-password --email E`.
pub async fn issue_cli(pool: &PgPool, email: &str, ttl_minutes: i64) -> anyhow::Result<IssuedLink> {
    let user: Option<UserRow> =
        users::find_by_email(&mut *pool.acquire().await?, email.trim()).await?;
    let user = user.ok_or_else(|| anyhow::anyhow!("no account with the email {}", email))?;
    issue(pool, user.id, None, ttl_minutes)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.detail()))
}

/// The account a link would reset, while the link is live (`NotFound` otherwise).
pub async fn check(pool: &PgPool, token: &str) -> AppResult<ResetTarget> {
    let hash = hash_of(token)?;
    let mut conn = pool.acquire().await?;
    password_resets::find_live(&mut conn, token_user(token), &hash)
        .await?
        .ok_or_else(invalid)
}

/// Sets the new password through a link: the policy is checked first (a typo does not spend
/// the link), then the link is consumed atomically, the password set, and every session and
/// API login of the user revoked, in one transaction. Returns the account's email.
#[tracing::instrument(skip_all)]
pub async fn redeem(
    pool: &PgPool,
    token: &str,
    new: SecretString,
    confirm: SecretString,
) -> AppResult<String> {
    let target = check(pool, token).await?;
    let mut errors = Vec::new();
    new_password_problems(&new, &confirm, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = password::hash(new).await?;
    let mut tx = pool.begin().await?;
    // of two concurrent uses, only one gets the row
    let user_id = password_resets::consume(&mut tx, token_user(token), &hash_of(token)?)
        .await?
        .ok_or_else(invalid)?;
    users::set_password_hash(&mut tx, user_id, &hash).await?;
    let (web, api) = sessions::revoke_logins(&mut tx, user_id, None).await?;
    password_resets::discard_unused(&mut tx, user_id).await?;
    tx.commit().await?;
    tracing::info!(user = %user_id, web_sessions = web, refresh_tokens = api, "password reset through a link; all logins revoked");
    Ok(target.email)
}
