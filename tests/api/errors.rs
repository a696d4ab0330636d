//! Bad bodies are 4xx problem+json, never 5xx, and change nothing.

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{error_fields, problem, TestApp};

async fn user_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn malformed_json_is_400(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let r = app
        .post("/api/v1/auth/register")
        .header("content-type", "application/json")
        .body("{\"email\": \"a@example.com\", ")
        .send()
        .await
        .unwrap();
    let body = problem(r, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("malformed JSON"));
    assert_eq!(user_count(&pool).await, 0);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn wrong_content_type_is_415(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let r = app
        .post("/api/v1/auth/register")
        .header("content-type", "text/plain")
        .body(r#"{"email":"a@example.com","password":"tulip-glacier-7-orbit","display_name":"A"}"#)
        .send()
        .await
        .unwrap();
    problem(r, 415).await;
    assert_eq!(user_count(&pool).await, 0);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn oversized_body_is_413(pool: PgPool) {
    let app = TestApp::spawn_with(pool.clone(), &["--max-body-bytes", "4096"]).await;
    let huge = "x".repeat(10_000);
    let r = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": "a@example.com", "password": "tulip-glacier-7-orbit", "display_name": huge}))
        .send()
        .await
        .unwrap();
    problem(r, 413).await;
    assert_eq!(user_count(&pool).await, 0);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn missing_or_mistyped_field_is_422_naming_it(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let r = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": "a@example.com", "password": "x"}))
        .send()
        .await
        .unwrap();
    let body = problem(r, 422).await;
    assert_eq!(error_fields(&body), ["display_name"]);
    let r = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": 5, "password": "x"}))
        .send()
        .await
        .unwrap();
    problem(r, 422).await;
    assert_eq!(user_count(&pool).await, 0);
}
