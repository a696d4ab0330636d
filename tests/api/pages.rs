//! Account pages: forms, cookie session, CSRF, security headers.

use reqwest::{Client, StatusCode};

use crate::helpers::{browser, csrf_of, TestApp, PASSWORD};
use sqlx::PgPool;

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

async fn register_via_form(app: &TestApp, b: &Client, email: &str) -> reqwest::Response {
    let html = b
        .get(app.url("/register"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    b.post(app.url("/register"))
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("email", email),
            ("display_name", "Page Person"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn pages_carry_security_headers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for path in ["/", "/login", "/register"] {
        let r = app.get(path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        let html = r.text().await.unwrap();
        assert!(!html.contains("<script>"), "no inline scripts on {path}");
    }
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_form_post_without_a_valid_csrf_token_is_403_and_changes_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = browser();
    // no token, no cookie
    let r = b
        .post(app.url("/register"))
        .form(&[
            ("csrf_token", ""),
            ("email", "a@example.com"),
            ("display_name", "A"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // a cookie but a forged token
    b.get(app.url("/register")).send().await.unwrap();
    let r = b
        .post(app.url("/register"))
        .form(&[
            ("csrf_token", "forged-token-forged-token-forged-token-0000"),
            ("email", "a@example.com"),
            ("display_name", "A"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn register_log_out_and_log_in_through_the_pages(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = browser();
    let r = register_via_form(&app, &b, "page@example.com").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("exambank_session="))
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
    let home = b
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Page Person"), "signed in");

    let logout = b
        .get(app.url("/logout"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = b
        .post(app.url("/logout"))
        .form(&[("csrf_token", csrf_of(&logout))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let home = b
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains("Page Person"), "signed out");

    let login = b
        .get(app.url("/login?next=/notes"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_of(&login);
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "page@example.com"),
            ("password", "wrong-password-00"),
            ("next", "/notes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Invalid email or password"));
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "page@example.com"),
            ("password", PASSWORD),
            ("next", "/notes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/notes");

    // the pages open cookie sessions only: no API refresh tokens
    let (tokens, sessions): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM refresh_tokens), (SELECT count(*) FROM web_sessions)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((tokens, sessions), (0, 2));
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn registration_errors_are_shown_next_to_their_fields(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = browser();
    let html = b
        .get(app.url("/register"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = b
        .post(app.url("/register"))
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("email", "nope"),
            ("display_name", "X"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"email-error\""), "{html}");
    assert!(html.contains("id=\"password-error\">Password must be at least 12 characters"));
    assert!(!html.contains("id=\"display_name-error\""));
    assert!(html.contains("value=\"nope\""), "the entered email is kept");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn login_redirect_only_follows_local_paths(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = browser();
    register_via_form(&app, &b, "page@example.com").await;
    let b2 = browser();
    let login = b2
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = b2
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf_of(&login).as_str()),
            ("email", "page@example.com"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");
}
