//! Accounts and refresh tokens.

use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
}

/// Inserts an account and its learner lock row (`learner_locks`, docs/scaling.md §3.3);
/// `Ok(None)` when the email is taken. Run it in a transaction: the two rows go together.
pub async fn insert(
    conn: &mut PgConnection,
    email: &str,
    display_name: &str,
    role: &str,
    password_hash: &str,
) -> sqlx::Result<Option<UserRow>> {
    let user = sqlx::query_as!(
        UserRow,
        r#"INSERT INTO users (id, email, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (email) DO NOTHING
           RETURNING id, email::text AS "email!", display_name, role, password_hash"#,
        Uuid::new_v4(),
        email as _,
        display_name,
        role,
        password_hash
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(u) = &user {
        sqlx::query("INSERT INTO learner_locks (user_id) VALUES ($1)")
            .bind(u.id)
            .execute(conn)
            .await?;
    }
    Ok(user)
}

pub async fn find_by_email(conn: &mut PgConnection, email: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id, email::text AS "email!", display_name, role, password_hash FROM users WHERE email = $1::text::citext"#,
        email
    )
    .fetch_optional(conn)
    .await
}

pub async fn find_by_id(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id, email::text AS "email!", display_name, role, password_hash FROM users WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn set_role(
    conn: &mut PgConnection,
    id: Uuid,
    role: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        r#"UPDATE users SET role = $2, updated_at = now() WHERE id = $1
           RETURNING id, email::text AS "email!", display_name, role, password_hash"#,
        id,
        role
    )
    .fetch_optional(conn)
    .await
}

pub async fn set_password_hash(conn: &mut PgConnection, id: Uuid, hash: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
        id,
        hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the display name; `false` when there is no such user. (Runtime-checked query.)
pub async fn set_display_name(conn: &mut PgConnection, id: Uuid, name: &str) -> sqlx::Result<bool> {
    let r = sqlx::query("UPDATE users SET display_name = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A line of the admin's user list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserListRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
}

/// Accounts by email, at most `limit`. (Runtime-checked query.)
pub async fn list(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<UserListRow>> {
    sqlx::query_as::<_, UserListRow>(
        "SELECT id, email::text AS email, display_name, role FROM users ORDER BY email LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}
