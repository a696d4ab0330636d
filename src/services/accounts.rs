//! Accounts: registration, creating users from the command line, roles.

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

use crate::auth::password;
use crate::config::{CreateUserArgs, RoleArg};
use crate::db::users::{self, UserRow};
use crate::domain::user::{parse_display_name, Email, Role};
use crate::error::{AppError, AppResult, FieldError};

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
    let mut conn = pool.acquire().await?;
    users::insert(&mut conn, email.as_str(), &name, input.role.as_str(), &hash)
        .await?
        .ok_or_else(|| AppError::Conflict("an account with this email already exists".into()))
}

pub async fn create_user_cli(pool: &PgPool, args: &CreateUserArgs) -> anyhow::Result<UserRow> {
    let role = match args.role {
        RoleArg::Learner => Role::Learner,
        RoleArg::Instructor => Role::Instructor,
        RoleArg::Admin => Role::Admin,
    };
    let input = NewAccount {
        email: args.email.clone(),
        password: args.password.clone(),
        display_name: args.name.clone(),
        role,
    };
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
