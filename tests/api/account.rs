//! The account page (display name, password change that signs out other logins), one-time
//! password reset links issued by an admin (page and CLI), over real HTTP.

use std::process::Command;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{browser, browser_login, csrf_of, url_of, TestApp, PASSWORD};
use exambank::domain::user::Role;

const NEW_PASSWORD: &str = "marble-kestrel-42-lantern";

async fn get(app: &TestApp, b: &Client, path: &str) -> (StatusCode, String) {
    let r = b.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Posts a form; returns status, Location (if any) and body.
async fn post(
    app: &TestApp,
    b: &Client,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, Option<String>, String) {
    let r = b.post(app.url(path)).form(fields).send().await.unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (r.status(), location, r.text().await.unwrap())
}

/// The CSRF token of the form on `path` (the browser gets its cookie on the way).
async fn csrf(app: &TestApp, b: &Client, path: &str) -> String {
    let (status, html) = get(app, b, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {html}");
    csrf_of(&html)
}

async fn user_id(pool: &PgPool, email: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1::text::citext")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The token of the first `/reset/{token}` link in a text.
fn reset_token(text: &str) -> String {
    let at = text.find("/reset/").expect("a reset link") + "/reset/".len();
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_' || *c == '.')
        .collect()
}

async fn refresh(app: &TestApp, tokens: &Value) -> StatusCode {
    app.post("/api/v1/auth/refresh")
        .json(&json!({"refresh_token": tokens["refresh_token"]}))
        .send()
        .await
        .unwrap()
        .status()
}

/// An admin's browser asks for a reset link for `email`; returns the token.
async fn issue_link(app: &TestApp, admin: &Client, email: &str) -> String {
    let token = csrf(app, admin, "/admin/users").await;
    let id = user_id(&app.pool, email).await;
    let (status, _, html) = post(
        app,
        admin,
        &format!("/admin/users/{id}/reset-link"),
        &[("csrf_token", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(email), "{html}");
    reset_token(&html)
}

async fn admin_browser(app: &TestApp) -> Client {
    app.user_with_role("root@example.com", Role::Admin).await;
    let b = browser();
    browser_login(app, &b, "root@example.com").await;
    b
}

/// Sets a password through a reset link in a fresh browser (status, Location, body).
async fn use_link(
    app: &TestApp,
    token: &str,
    new: &str,
    confirm: &str,
) -> (StatusCode, Option<String>, String) {
    let b = browser();
    // the CSRF cookie comes with any form page
    let csrf = csrf(app, &b, "/login").await;
    post(
        app,
        &b,
        &format!("/reset/{token}"),
        &[
            ("csrf_token", &csrf),
            ("new_password", new),
            ("new_password_confirm", confirm),
        ],
    )
    .await
}

/// The input with `id` carries `aria-invalid` and points at its error, which exists.
fn assert_field_error(html: &str, id: &str) {
    let input = html
        .split('<')
        .find(|tag| tag.starts_with("input") && tag.contains(&format!("id=\"{id}\"")))
        .unwrap_or_else(|| panic!("no input {id}: {html}"));
    assert!(
        input.contains("aria-invalid=\"true\"")
            && input.contains(&format!("aria-describedby=\"{id}-error\"")),
        "{input}"
    );
    assert!(
        html.contains(&format!("class=\"field-error\" id=\"{id}-error\"")),
        "{html}"
    );
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn the_account_page_changes_the_display_name(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    // anonymous visitors are sent to log in
    let (status, _, _) = post(&app, &browser(), "/account/name", &[]).await;
    assert_ne!(status, StatusCode::OK);
    let r = app.get("/account").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=/account");

    app.register("ann@example.com").await;
    let b = browser();
    browser_login(&app, &b, "ann@example.com").await;
    let (status, html) = get(&app, &b, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/account\""), "linked from the header");
    let (status, html) = get(&app, &b, "/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("ann@example.com") && html.contains("value=\"Test Learner\""));
    assert!(!html.contains("aria-invalid"), "no errors yet");
    let token = csrf_of(&html);

    // with a wrong CSRF token: refused, nothing changes
    let (status, _, _) = post(
        &app,
        &b,
        "/account/name",
        &[("csrf_token", "forged"), ("display_name", "Mallory")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // an empty name is refused, tied to its field
    let (status, _, html) = post(
        &app,
        &b,
        "/account/name",
        &[("csrf_token", &token), ("display_name", "   ")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&html, "display_name");
    assert!(html.contains("Display name is required"), "{html}");

    let (status, location, _) = post(
        &app,
        &b,
        "/account/name",
        &[("csrf_token", &token), ("display_name", "  Ann Example ")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/account?saved=name"));
    let (status, html) = get(&app, &b, "/account?saved=name").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("role=\"status\">Your display name was saved."),
        "{html}"
    );
    assert!(html.contains("value=\"Ann Example\""), "{html}");
    assert!(
        html.contains("Ann Example · Log out"),
        "the header shows it"
    );
    let (_, html) = get(&app, &b, "/account").await;
    assert!(
        !html.contains("role=\"status\""),
        "the confirmation shows once"
    );
    let stored: String =
        sqlx::query_scalar("SELECT display_name FROM users WHERE email = 'ann@example.com'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, "Ann Example");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn changing_the_password_needs_the_current_one_and_signs_out_every_other_login(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let api = app.register("bob@example.com").await;
    let here = browser();
    let elsewhere = browser();
    browser_login(&app, &here, "bob@example.com").await;
    browser_login(&app, &elsewhere, "bob@example.com").await;
    let token = csrf(&app, &here, "/account").await;

    // a wrong current password is refused and named; nothing changes
    let (status, _, html) = post(
        &app,
        &here,
        "/account/password",
        &[
            ("csrf_token", &token),
            ("current_password", "not-my-password-at-all"),
            ("new_password", NEW_PASSWORD),
            ("new_password_confirm", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&html, "current_password");
    assert!(html.contains("Current password is not correct"), "{html}");
    assert!(!html.contains("id=\"new_password-error\""), "{html}");
    assert!(!html.contains(PASSWORD) && !html.contains(NEW_PASSWORD));

    // the policy and the confirmation are checked too
    let (status, _, html) = post(
        &app,
        &here,
        "/account/password",
        &[
            ("csrf_token", &token),
            ("current_password", PASSWORD),
            ("new_password", "short"),
            ("new_password_confirm", "short"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&html, "new_password");
    assert!(
        html.contains("New password must be at least 12 characters"),
        "{html}"
    );
    let (status, _, html) = post(
        &app,
        &here,
        "/account/password",
        &[
            ("csrf_token", &token),
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
            ("new_password_confirm", "marble-kestrel-42-lanterns"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&html, "new_password_confirm");
    assert_eq!(app.login("bob@example.com", PASSWORD).await.status(), 200);
    let api_before = app
        .login("bob@example.com", PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap();

    let (status, location, _) = post(
        &app,
        &here,
        "/account/password",
        &[
            ("csrf_token", &token),
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
            ("new_password_confirm", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/account?saved=password"));

    // this browser stays signed in and sees the confirmation
    let (status, html) = get(&app, &here, "/account?saved=password").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("role=\"status\">Your password was changed."),
        "{html}"
    );
    // the other browser and the API logins made before are signed out
    let r = elsewhere.get(app.url("/account")).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "other session logged out"
    );
    assert_eq!(refresh(&app, &api).await, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &api_before).await, StatusCode::UNAUTHORIZED);
    // the old password fails, the new one works
    assert_eq!(
        app.login("bob@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("bob@example.com", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn an_admin_issues_a_reset_link_that_works_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let api = app.register("cy@example.com").await;
    let learner = browser();
    browser_login(&app, &learner, "cy@example.com").await;
    let admin = admin_browser(&app).await;

    let (status, html) = get(&app, &admin, "/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("cy@example.com")
            && html.contains("Test Learner")
            && html.contains("learner")
            && html.contains("Issue reset link"),
        "{html}"
    );
    let (_, html) = get(&app, &admin, "/account").await;
    assert!(html.contains("href=\"/admin/users\""), "admins find it");

    let token = issue_link(&app, &admin, "cy@example.com").await;
    // the user's id (so that the link is found on the user's shard), then 32 random bytes
    let cy = user_id(&app.pool, "cy@example.com").await;
    let (prefix, secret) = token.split_once('.').expect("<user id>.<secret>");
    assert_eq!(prefix, cy.simple().to_string());
    assert_eq!(secret.len(), 43, "32 random bytes, base64url");
    // only the SHA-256 of the token is stored
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM password_resets WHERE token_hash = sha256($1::text::bytea)
         AND expires_at BETWEEN now() + interval '59 minutes' AND now() + interval '61 minutes'",
    )
    .bind(&token)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, 1);
    // the link is not shown again
    let (_, html) = get(&app, &admin, "/admin/users").await;
    assert!(!html.contains(&token));

    // the link opens a form for that account
    let visitor = browser();
    let (status, html) = get(&app, &visitor, &format!("/reset/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("cy@example.com") && html.contains("name=\"new_password_confirm\""));

    // a refused password does not spend the link
    let (status, _, html) = use_link(&app, &token, "short", "short").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&html, "new_password");
    let (status, _, html) = use_link(&app, &token, NEW_PASSWORD, "something-else-entirely").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&html, "new_password_confirm");

    let (status, location, _) = use_link(&app, &token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/login?reset=done"));
    let (_, html) = get(&app, &browser(), "/login?reset=done").await;
    assert!(
        html.contains("role=\"status\">Your password was reset."),
        "{html}"
    );

    // every login of the user is gone; the new password works, the old one does not
    let r = learner.get(app.url("/account")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(refresh(&app, &api).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("cy@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("cy@example.com", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    // the admin's own session is untouched
    assert_eq!(get(&app, &admin, "/admin/users").await.0, StatusCode::OK);

    // a second use is refused
    let (status, html) = get(&app, &visitor, &format!("/reset/{token}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("no longer valid"), "{html}");
    let (status, _, html) = use_link(
        &app,
        &token,
        "another-fine-password-9",
        "another-fine-password-9",
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("no longer valid"), "{html}");
    assert_eq!(
        app.login("cy@example.com", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn expired_replaced_and_unknown_links_are_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.register("dee@example.com").await;
    let admin = admin_browser(&app).await;

    // a newer link makes the older unused one invalid
    let first = issue_link(&app, &admin, "dee@example.com").await;
    let second = issue_link(&app, &admin, "dee@example.com").await;
    assert_ne!(first, second);
    let (status, html) = get(&app, &browser(), &format!("/reset/{first}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("no longer valid"));
    assert_eq!(
        get(&app, &browser(), &format!("/reset/{second}")).await.0,
        StatusCode::OK
    );

    // an expired link is refused, for the form and the post
    sqlx::query("UPDATE password_resets SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    let (status, html) = get(&app, &browser(), &format!("/reset/{second}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("no longer valid"), "{html}");
    let (status, _, _) = use_link(&app, &second, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(
        app.login("dee@example.com", PASSWORD).await.status(),
        StatusCode::OK,
        "the password is unchanged"
    );

    // a token never issued
    let (status, html) = get(&app, &browser(), &format!("/reset/{}", "A".repeat(43))).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("no longer valid"));
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_learner_cannot_reach_the_admin_pages(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.register("eve@example.com").await;
    app.user_with_role("prof@example.com", Role::Instructor)
        .await;
    let eve_id = user_id(&app.pool, "eve@example.com").await;

    let r = app.get("/admin/users").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "anonymous: log in first");

    for email in ["eve@example.com", "prof@example.com"] {
        let b = browser();
        browser_login(&app, &b, email).await;
        let (status, html) = get(&app, &b, "/admin/users").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{email}");
        assert!(!html.contains("Issue reset link"));
        let token = csrf(&app, &b, "/account").await;
        let (status, _, html) = post(
            &app,
            &b,
            &format!("/admin/users/{eve_id}/reset-link"),
            &[("csrf_token", &token)],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{email}");
        assert!(!html.contains("/reset/"));
        let (_, html) = get(&app, &b, "/account").await;
        assert!(!html.contains("href=\"/admin/users\""));
    }
    let issued: i64 = sqlx::query_scalar("SELECT count(*) FROM password_resets")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(issued, 0);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn the_cli_prints_a_reset_link_that_works(pool_opts: PgPoolOptions, opts: PgConnectOptions) {
    let pool = pool_opts.connect_with(opts.clone()).await.unwrap();
    let app = TestApp::spawn(pool).await;
    app.register("fay@example.com").await;
    let url = url_of(&opts);
    let run = |email: &str| {
        Command::new(env!("CARGO_BIN_EXE_exambank"))
            .args(["reset-password", "--email", email])
            .env("DATABASE_URL", &url)
            .env("EXAMBANK_RESET_TTL_MINUTES", "30")
            .output()
            .expect("exambank reset-password runs")
    };

    let out = run("nobody@example.com");
    assert!(!out.status.success(), "an unknown email fails");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody@example.com"));

    let out = run("FAY@example.com");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("fay@example.com") && stdout.contains("valid until"),
        "{stdout}"
    );
    let token = reset_token(&stdout);
    assert!(stdout.contains(&format!("\n/reset/{token}\n")), "{stdout}");
    let minutes: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - now())::float8 / 60 FROM password_resets",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        (28.0..=30.0).contains(&minutes),
        "EXAMBANK_RESET_TTL_MINUTES: {minutes}"
    );

    let (status, location, _) = use_link(&app, &token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/login?reset=done"));
    assert_eq!(
        app.login("fay@example.com", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}
