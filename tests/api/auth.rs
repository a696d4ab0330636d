use std::net::IpAddr;

use base64_helpers::b64;
use exambank::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{bearer, client_from, error_fields, problem, TestApp, JWT_SECRET, PASSWORD};

mod base64_helpers {
    /// URL-safe base64 without padding, as JWTs use.
    pub fn b64(bytes: &[u8]) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for c in bytes.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..=c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn register_returns_tokens_and_me_shows_the_profile(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let t = app.register("ann@example.com").await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 900);
    assert_eq!(t["user"]["role"], "learner");
    let me = app.get_json(&t, "/api/v1/me").await;
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["display_name"], "Test Learner");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn duplicate_email_is_409_case_insensitively(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.register("ann@example.com").await;
    let r = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": "ANN@Example.com", "password": PASSWORD, "display_name": "Other"}))
        .send()
        .await
        .unwrap();
    problem(r, 409).await;
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn invalid_email_short_and_common_passwords_are_422_naming_each_field(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let r = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": "not-an-email", "password": "short", "display_name": ""}))
        .send()
        .await
        .unwrap();
    let body = problem(r, 422).await;
    assert_eq!(error_fields(&body), ["email", "password", "display_name"]);
    let r = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": "ok@example.com", "password": "Password1234", "display_name": "Ok"}))
        .send()
        .await
        .unwrap();
    let body = problem(r, 422).await;
    assert_eq!(error_fields(&body), ["password"]);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("common"));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing was created");
}

fn sign_hs256(claims: &Value, key: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

/// An unsigned token (`alg: none`, empty signature).
fn unsigned(claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT"});
    format!(
        "{}.{}.",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn bad_tokens_are_401(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let t = app.register("ann@example.com").await;
    let good = t["access_token"].as_str().unwrap().to_string();
    let sub = t["user"]["id"].as_str().unwrap().to_string();
    let now = chrono::Utc::now().timestamp();

    let mut tampered = good.clone();
    let mid = tampered.find('.').unwrap() + 5;
    tampered.replace_range(
        mid..mid + 1,
        if &tampered[mid..mid + 1] == "A" {
            "B"
        } else {
            "A"
        },
    );
    let expired = sign_hs256(
        &json!({"sub": sub, "role": "learner", "iat": now - 3600, "exp": now - 1800}),
        JWT_SECRET,
    );
    let alg_none = unsigned(&json!({"sub": sub, "role": "admin", "iat": now, "exp": now + 600}));
    let wrong_key = sign_hs256(
        &json!({"sub": sub, "role": "learner", "iat": now, "exp": now + 600}),
        "some-other-key-entirely-000000000",
    );
    // a learner's token edited into an admin's: the signature no longer matches
    let parts: Vec<&str> = good.split('.').collect();
    let promoted = format!(
        "{}.{}.{}",
        parts[0],
        b64(
            json!({"sub": sub, "role": "admin", "iat": now, "exp": now + 600})
                .to_string()
                .as_bytes()
        ),
        parts[2]
    );
    for (name, token) in [
        ("tampered", tampered),
        ("expired", expired),
        ("alg none", alg_none),
        ("wrong key", wrong_key),
        ("promoted", promoted),
        ("garbage", "abc".into()),
    ] {
        let r = app
            .get("/api/v1/me")
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}");
        problem(r, 401).await;
    }
    let r = app.get("/api/v1/me").send().await.unwrap();
    problem(r, 401).await;
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post("/api/v1/auth/refresh")
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn tokens_name_their_user_and_tokens_issued_before_still_work(pool: PgPool) {
    // no grace window: a second use of a spent token is refused
    let app = TestApp::spawn_with(pool, &["--refresh-grace-secs", "0"]).await;
    let t0 = app.register("bo@example.com").await;
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'bo@example.com'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // refresh tokens are `<user id>.<secret>`, so that their row is found by (user, hash)
    let (user, secret) = t0["refresh_token"]
        .as_str()
        .unwrap()
        .split_once('.')
        .unwrap();
    assert_eq!((user, secret.len()), (id.simple().to_string().as_str(), 43));

    // tokens issued before they named their user (no prefix) are found by their hash alone
    let old_refresh = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let old_session = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    sqlx::query(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at)
         VALUES (gen_random_uuid(), $1, gen_random_uuid(), sha256($2::text::bytea), now() + interval '1 day')",
    )
    .bind(id)
    .bind(old_refresh)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO web_sessions (id, user_id, token_hash, expires_at)
         VALUES (gen_random_uuid(), $1, sha256($2::text::bytea), now() + interval '1 day')",
    )
    .bind(id)
    .bind(old_session)
    .execute(&app.pool)
    .await
    .unwrap();
    let r = refresh(&app, old_refresh).await;
    assert_eq!(r.status(), StatusCode::OK);
    let t1: Value = r.json().await.unwrap();
    assert!(t1["refresh_token"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}.", id.simple())));
    problem(refresh(&app, old_refresh).await, 401).await;
    let page = app
        .get("/account")
        .header("Cookie", format!("exambank_session={old_session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("bo@example.com"));

    // a token whose prefix names another user is not found
    let other = app.register("cy@example.com").await;
    let (_, other_secret) = other["refresh_token"]
        .as_str()
        .unwrap()
        .split_once('.')
        .unwrap();
    problem(
        refresh(&app, &format!("{}.{other_secret}", id.simple())).await,
        401,
    )
    .await;
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn refresh_rotates_and_reuse_revokes_the_family(pool: PgPool) {
    // no grace window: any second use is reuse (the window has its own tests in contract.rs)
    let app = TestApp::spawn_with(pool, &["--refresh-grace-secs", "0"]).await;
    let t0 = app.register("ann@example.com").await;
    let r0 = t0["refresh_token"].as_str().unwrap();
    let r = refresh(&app, r0).await;
    assert_eq!(r.status(), StatusCode::OK);
    let t1: Value = r.json().await.unwrap();
    let r1 = t1["refresh_token"].as_str().unwrap();
    assert_ne!(r0, r1, "rotated");
    let me = app.get_as(&t1, "/api/v1/me").await;
    assert_eq!(me.status(), StatusCode::OK);

    // a thief replays the spent token: refused, and the whole family dies
    problem(refresh(&app, r0).await, 401).await;
    problem(refresh(&app, r1).await, 401).await;

    // another login (another family) is unaffected
    let other: Value = app
        .login("ann@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        refresh(&app, other["refresh_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn logout_then_refresh_is_401(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let t = app.register("ann@example.com").await;
    let rt = t["refresh_token"].as_str().unwrap();
    let r = app
        .post_as(&t, "/api/v1/auth/logout", json!({"refresh_token": rt}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(refresh(&app, rt).await, 401).await;
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn login_errors_do_not_reveal_whether_an_account_exists(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.register("ann@example.com").await;
    let wrong = problem(
        app.login("ann@example.com", "not-the-password-1").await,
        401,
    )
    .await;
    let unknown = problem(
        app.login("nobody@example.com", "not-the-password-1").await,
        401,
    )
    .await;
    assert_eq!(wrong["detail"], unknown["detail"]);
    assert_eq!(wrong["title"], unknown["title"]);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn forty_wrong_logins_are_rate_limited_but_others_still_log_in(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.register("victim@example.com").await;
    app.register("bystander@example.com").await;
    let attacker = client_from(Some("127.0.0.2".parse::<IpAddr>().unwrap()));
    let mut limited = None;
    for i in 0..40 {
        let r = attacker
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": "victim@example.com", "password": format!("wrong-password-{i:04}")}))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = limited.expect("40 wrong logins hit the limit");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "retry-after {retry}");
    problem(r, 429).await;
    // even the right password is refused for the attacked account while limited
    let r = attacker
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "victim@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // a different account from another address works
    let other = client_from(Some("127.0.0.3".parse::<IpAddr>().unwrap()));
    let r = other
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "bystander@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn rate_limit_state_is_shared_by_server_processes(pool: PgPool) {
    // two app instances against one database: failures on one count on the other
    let a = TestApp::spawn_with(pool.clone(), &["--login-limit-per-account", "4"]).await;
    let b = TestApp::spawn_with(pool, &["--login-limit-per-account", "4"]).await;
    a.register("ann@example.com").await;
    for app in [&a, &b, &a, &b] {
        assert_eq!(
            app.login("ann@example.com", "wrong-password-xx")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        a.login("ann@example.com", "wrong-password-xx")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        b.login("ann@example.com", "wrong-password-xx")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn registration_is_rate_limited_per_address(pool: PgPool) {
    let app = TestApp::spawn_with(pool, &["--login-limit-per-address", "3"]).await;
    for i in 0..3 {
        app.register(&format!("u{i}@example.com")).await;
    }
    let r = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": "u9@example.com", "password": PASSWORD, "display_name": "U"}))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("retry-after"));
    problem(r, 429).await;
}

/// Every instructor- or admin-only endpoint refuses learners with 403.
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn learners_cannot_reach_admin_endpoints(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let learner = app.register("ann@example.com").await;
    let target = learner["user"]["id"].as_str().unwrap();
    let r = app
        .patch_as(
            &learner,
            &format!("/api/v1/users/{target}"),
            json!({"role": "admin"}),
        )
        .await;
    problem(r, 403).await;
    let me = app.get_json(&learner, "/api/v1/me").await;
    assert_eq!(me["role"], "learner", "nothing changed");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn an_admin_changes_a_role_and_an_instructor_cannot(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.user_with_role("root@example.com", Role::Admin).await;
    let instructor = app
        .user_with_role("teach@example.com", Role::Instructor)
        .await;
    let learner = app.register("ann@example.com").await;
    let target = learner["user"]["id"].as_str().unwrap();
    let patch = |who: &Value, role: &str| {
        app.client
            .patch(app.url(&format!("/api/v1/users/{target}")))
            .header("authorization", bearer(who))
            .json(&json!({"role": role}))
    };
    problem(patch(&instructor, "instructor").send().await.unwrap(), 403).await;
    let body = problem(patch(&admin, "wizard").send().await.unwrap(), 422).await;
    assert_eq!(error_fields(&body), ["role"]);
    let r = patch(&admin, "instructor").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let user: Value = r.json().await.unwrap();
    assert_eq!(user["role"], "instructor");
    let r = app
        .patch_as(
            &admin,
            &format!("/api/v1/users/{}", uuid::Uuid::new_v4()),
            json!({"role": "learner"}),
        )
        .await;
    problem(r, 404).await;
}
