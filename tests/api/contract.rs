//! The API contract as a phone app meets it: concurrent refreshes keep the login, creates are
//! retry-safe with `Idempotency-Key` (also across two server processes), undeclared methods get
//! 405, and the spec documents what the server does.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{bearer, problem, seed_fixture, TestApp};

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post("/api/v1/auth/refresh")
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap()
}

async fn me(app: &TestApp, tokens: &Value) -> StatusCode {
    app.get_as(tokens, "/api/v1/me").await.status()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn two_parallel_refreshes_with_one_token_both_succeed_and_the_login_stays_usable(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool).await;
    let t0 = app.register("ann@example.com").await;
    let r0 = t0["refresh_token"].as_str().unwrap();
    let (a, b) = tokio::join!(refresh(&app, r0), refresh(&app, r0));
    assert_eq!(a.status(), StatusCode::OK);
    assert_eq!(b.status(), StatusCode::OK);
    let a: Value = a.json().await.unwrap();
    let b: Value = b.json().await.unwrap();
    for t in [&a, &b] {
        assert_eq!(me(&app, t).await, StatusCode::OK);
    }
    // both new refresh tokens belong to the live login: each rotates on
    for t in [&a, &b] {
        let next = refresh(&app, t["refresh_token"].as_str().unwrap()).await;
        assert_eq!(next.status(), StatusCode::OK);
    }
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_reuse_after_the_grace_window_revokes_the_family(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let t0 = app.register("ann@example.com").await;
    let r0 = t0["refresh_token"].as_str().unwrap();
    let t1: Value = refresh(&app, r0).await.json().await.unwrap();
    // the window (30 s by default) has passed since r0 was rotated
    sqlx::query("UPDATE refresh_tokens SET used_at = now() - interval '31 seconds' WHERE used_at IS NOT NULL")
        .execute(&pool)
        .await
        .unwrap();
    problem(refresh(&app, r0).await, 401).await;
    // the thief's replay killed the whole login, the newer token too
    problem(
        refresh(&app, t1["refresh_token"].as_str().unwrap()).await,
        401,
    )
    .await;
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_revoked_login_is_not_revived_inside_the_window(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let t0 = app.register("ann@example.com").await;
    let r0 = t0["refresh_token"].as_str().unwrap();
    let t1: Value = refresh(&app, r0).await.json().await.unwrap();
    let out = app
        .post_as(
            &t1,
            "/api/v1/auth/logout",
            json!({"refresh_token": t1["refresh_token"]}),
        )
        .await;
    assert!(out.status().is_success(), "{}", out.status());
    problem(refresh(&app, r0).await, 401).await;
}

async fn start_with_key(app: &TestApp, who: &Value, key: &str, body: &Value) -> reqwest::Response {
    app.post("/api/v1/attempts")
        .header("authorization", bearer(who))
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn attempts_of(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM attempts")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_retried_start_with_the_same_key_yields_one_attempt(pool: PgPool) {
    let _bank = seed_fixture(&pool, 10).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let body = json!({"count": 5});
    let first = start_with_key(&app, &ann, "retry-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotency-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = start_with_key(&app, &ann, "retry-1", &body).await;
    assert_eq!(again.status(), StatusCode::CREATED, "the original status");
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again, "the original body");
    assert_eq!(attempts_of(&pool).await, 1, "nothing created twice");

    // the same key with another body is refused and changes nothing
    let other = start_with_key(&app, &ann, "retry-1", &json!({"count": 6})).await;
    let p = problem(other, 422).await;
    assert!(
        p["detail"].as_str().unwrap().contains("Idempotency-Key"),
        "{p}"
    );
    assert_eq!(attempts_of(&pool).await, 1);

    // keys are per user: another learner's same key is a new request
    let bob = app.register("bob@example.com").await;
    let theirs = start_with_key(&app, &bob, "retry-1", &body).await;
    assert_eq!(theirs.status(), StatusCode::CREATED);
    assert_eq!(attempts_of(&pool).await, 2);

    // a new key is a new attempt
    let fresh = start_with_key(&app, &ann, "retry-2", &body).await;
    assert_eq!(fresh.status(), StatusCode::CREATED);
    assert_eq!(attempts_of(&pool).await, 3);

    // a key that is not a key
    let bad = start_with_key(&app, &ann, "", &body).await;
    problem(bad, 400).await;
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn two_server_processes_agree_on_a_key(pool: PgPool) {
    let _bank = seed_fixture(&pool, 10).await;
    let a = TestApp::spawn(pool.clone()).await;
    let b = TestApp::spawn(pool.clone()).await;
    let ann = a.register("ann@example.com").await;
    let body = json!({"count": 5});
    let first: Value = start_with_key(&a, &ann, "phone-on-a-train", &body)
        .await
        .json()
        .await
        .unwrap();
    let retry = start_with_key(&b, &ann, "phone-on-a-train", &body).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotency-replayed"], "true");
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(first["id"], retry["id"]);
    assert_eq!(attempts_of(&pool).await, 1);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn registration_is_retry_safe(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let body = json!({"email": "cy@example.com", "password": crate::helpers::PASSWORD, "display_name": "Cy"});
    let send = || {
        app.post("/api/v1/auth/register")
            .header("idempotency-key", "register-cy")
            .json(&body)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let again = send().await.unwrap();
    assert_eq!(
        again.status(),
        StatusCode::CREATED,
        "not a 409 duplicate email"
    );
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 1);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn an_undeclared_method_on_a_documented_path_is_405_with_allow(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let client = reqwest::Client::new();
    for (method, path, allow) in [
        ("TRACE", "/api/v1/auth/login", "POST"),
        ("DELETE", "/api/v1/domains", "GET"),
        ("TRACE", "/healthz", "GET"),
        ("PUT", "/api/v1/attempts", "GET, POST"),
    ] {
        let r = client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
        problem(r, 405).await;
    }
    // `/cohorts/join` is its own resource, not `/cohorts/{id}`
    let ann = app.register("ann@example.com").await;
    let r = client
        .patch(app.url("/api/v1/cohorts/join"))
        .header("authorization", bearer(&ann))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(r, 405).await;
}

#[test]
fn the_spec_is_a_contract_a_client_generator_accepts() {
    let api = serde_json::to_value(exambank::api::openapi()).unwrap();
    assert_eq!(api["servers"][0]["url"], "/");
    let mut ids = std::collections::HashSet::new();
    for (path, item) in api["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "operationId {id} is not unique");
            let responses = op["responses"].as_object().unwrap();
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        r["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                    assert!(r["content"].get("application/json").is_none());
                }
            }
            if op.get("security").is_some() {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} documents 401"
                );
            }
            if op.get("requestBody").is_some() {
                for s in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(s), "{method} {path} documents {s}");
                }
            }
        }
    }
    assert_eq!(ids.len(), 49);
    let start = &api["paths"]["/api/v1/attempts"]["post"];
    assert_eq!(start["operationId"], "startAttempt");
    assert!(start["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"));
    let mode = &api["components"]["schemas"]["StartAttemptRequest"]["properties"]["mode"];
    assert!(
        mode["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("practice")),
        "{mode}"
    );
    let page = &api["components"]["schemas"]["QuestionPage"]["properties"];
    assert!(page.get("cursor").is_some());
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn text_with_a_nul_character_is_a_400_not_a_server_error(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.register("ann@example.com").await;
    let r = app
        .try_start_attempt(&ann, json!({"blueprint": "dva\u{0}c02"}))
        .await;
    let p = problem(r, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("NUL"), "{p}");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn integral_numbers_written_as_doubles_are_integers(pool: PgPool) {
    let _bank = seed_fixture(&pool, 10).await;
    let app = TestApp::spawn(pool).await;
    let ann = app.register("ann@example.com").await;
    let a = app.start_attempt(&ann, json!({"count": 5.0})).await;
    assert_eq!(a["questions"].as_array().unwrap().len(), 5);
    let r = app.try_start_attempt(&ann, json!({"count": 5.5})).await;
    problem(r, 422).await;
}
