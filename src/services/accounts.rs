//! Accounts: registration, creating users from the command line, roles.

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

use crate::auth::password;
use crate::db::users;
use crate::db::{password_resets, rate_limits};
use crate::domain::user::{parse_display_name, Email, Role};
use crate::error::{AppError, AppResult, Conflict, FieldError};
use crate::services::sessions::{self, Limits};

pub use crate::db::users::{UserListRow, UserRow};

pub struct NewAccount {
    pub email: String,
    pub password: SecretString,
    pub display_name: String,
    pub role: Role,
}

/// Validates every field and reports all bad ones at once.
pub fn validate(input: &NewAccount) -> Result<(Email, String), AppError> {
    let mut errors = Vec::new();
    let email = Email::parse(&input.email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    if let Some(m) = password::policy_problem(input.password.expose_secret()) {
        errors.push(FieldError::new("password", m));
    }
    let name = parse_display_name(&input.display_name)
        .map_err(|m| errors.push(FieldError::new("display_name", m)))
        .ok();
    match (email, name) {
        (Some(e), Some(n)) if errors.is_empty() => Ok((e, n)),
        _ => Err(AppError::Validation(errors)),
    }
}

/// Creates an account; 409 when the email is taken (case-insensitively).
#[tracing::instrument(skip_all)]
pub async fn create(pool: &PgPool, input: NewAccount) -> AppResult<UserRow> {
    let (email, name) = validate(&input)?;
    let hash = password::hash(input.password).await?;
    let mut tx = pool.begin().await?;
    let user = users::insert(&mut tx, email.as_str(), &name, input.role.as_str(), &hash)
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                Conflict::EmailTaken,
                "an account with this email already exists",
            )
        })?;
    tx.commit().await?;
    Ok(user)
}

/// `exambank create-user`: [`create`], with a refusal told in one line.
pub async fn create_user_cli(pool: &PgPool, input: NewAccount) -> anyhow::Result<UserRow> {
    create(pool, input).await.map_err(|e| match e {
        AppError::Validation(errs) => anyhow::anyhow!(
            "invalid: {}",
            errs.iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{}", other.detail()),
    })
}

pub async fn get(pool: &PgPool, id: uuid::Uuid) -> AppResult<UserRow> {
    let mut conn = pool.acquire().await?;
    users::find_by_id(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::Unauthorized("the account no longer exists".into()))
}

/// The caller's role as the database has it now (a token may predate a role change).
pub async fn require_role(pool: &PgPool, user_id: uuid::Uuid, allowed: &[Role]) -> AppResult<Role> {
    let user = get(pool, user_id).await?;
    let role = Role::parse(&user.role).unwrap_or(Role::Learner);
    if allowed.contains(&role) {
        Ok(role)
    } else {
        Err(AppError::Forbidden(format!(
            "this needs the role {}",
            allowed
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        )))
    }
}

/// An admin changes someone's role.
pub async fn set_role(
    pool: &PgPool,
    admin: uuid::Uuid,
    target: uuid::Uuid,
    role: &str,
) -> AppResult<UserRow> {
    require_role(pool, admin, &[Role::Admin]).await?;
    let role = Role::parse(role)
        .ok_or_else(|| AppError::validation("role", "must be learner, instructor or admin"))?;
    let mut conn = pool.acquire().await?;
    users::set_role(&mut conn, target, role.as_str())
        .await?
        .ok_or_else(|| AppError::NotFound("no such user".into()))
}

/// Checks a new password and its confirmation (fields `new_password`, `new_password_confirm`).
pub fn new_password_problems(
    new: &SecretString,
    confirm: &SecretString,
    errors: &mut Vec<FieldError>,
) {
    if let Some(m) = password::policy_problem(new.expose_secret()) {
        errors.push(FieldError::new("new_password", m));
    } else if new.expose_secret() != confirm.expose_secret() {
        errors.push(FieldError::new(
            "new_password_confirm",
            "does not match the new password",
        ));
    }
}

/// The signed-in user renames themselves; returns the name as stored.
#[tracing::instrument(skip_all)]
pub async fn change_display_name(
    pool: &PgPool,
    user_id: uuid::Uuid,
    raw: &str,
) -> AppResult<String> {
    let name = parse_display_name(raw).map_err(|m| AppError::validation("display_name", m))?;
    let mut conn = pool.acquire().await?;
    if users::set_display_name(&mut conn, user_id, &name).await? {
        Ok(name)
    } else {
        Err(AppError::Unauthorized(
            "the account no longer exists".into(),
        ))
    }
}

/// What changing a password needs: the current one (checked, and counted against the
/// account's login limit when wrong), the new one twice, and the session to keep.
pub struct PasswordChange<'a> {
    pub current: SecretString,
    pub new: SecretString,
    pub confirm: SecretString,
    /// The caller's own web session token: it stays signed in.
    pub keep_web_session: Option<&'a str>,
}

/// Changes the signed-in user's password. Every other web session and every API login
/// (refresh-token family) of the user is revoked in the same transaction; unused reset links
/// are discarded.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    pool: &PgPool,
    limits: Limits,
    user_id: uuid::Uuid,
    change: PasswordChange<'_>,
) -> AppResult<()> {
    let user = get(pool, user_id).await?;
    // a stolen session must not become an oracle for the password: wrong guesses count
    // against the same per-account limit as failed logins
    let account_key = format!("login:acct:{}", user.email.trim().to_lowercase());
    let (hits, reset) = rate_limits::current(
        &mut *pool.acquire().await?,
        &account_key,
        limits.window_secs,
    )
    .await?;
    if hits >= limits.per_account {
        return Err(AppError::TooManyRequests {
            retry_after_secs: reset.max(1) as u64,
        });
    }
    let mut errors = Vec::new();
    if !password::verify(change.current, Some(user.password_hash.clone())).await? {
        rate_limits::hit(
            &mut *pool.acquire().await?,
            &account_key,
            limits.window_secs,
        )
        .await?;
        errors.push(FieldError::new("current_password", "is not correct"));
    }
    new_password_problems(&change.new, &change.confirm, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = password::hash(change.new).await?;
    let mut tx = pool.begin().await?;
    users::set_password_hash(&mut tx, user.id, &hash).await?;
    let (web, api) = sessions::revoke_logins(&mut tx, user.id, change.keep_web_session).await?;
    password_resets::discard_unused(&mut tx, user.id).await?;
    tx.commit().await?;
    tracing::info!(user = %user.id, web_sessions = web, refresh_tokens = api, "password changed; other logins revoked");
    Ok(())
}

/// Every account (for admins), by email.
pub async fn list_users(pool: &PgPool, admin: uuid::Uuid) -> AppResult<Vec<UserListRow>> {
    require_role(pool, admin, &[Role::Admin]).await?;
    let mut conn = pool.acquire().await?;
    Ok(users::list(&mut conn, USER_LIST_LIMIT).await?)
}

/// The most accounts the admin list shows.
pub const USER_LIST_LIMIT: i64 = 1000;
