use reqwest::StatusCode;
use sqlx::PgPool;

use crate::helpers::{problem, TestApp};

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn healthz_and_readyz_answer(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let r = app.get("/healthz").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("x-request-id"));
    let r = app.get("/readyz").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["database"], "up");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn every_response_has_a_distinct_request_id(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let a = app.get("/healthz").send().await.unwrap();
    let b = app.get("/healthz").send().await.unwrap();
    let id = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(id(&a), id(&b));
    assert_eq!(id(&a).len(), 36, "a uuid");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn unknown_api_paths_are_problem_404_with_the_request_id(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let r = app.get("/api/v1/no-such-thing").send().await.unwrap();
    let header_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let body = problem(r, 404).await;
    assert_eq!(body["request_id"], header_id);
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("/api/v1/no-such-thing"));
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn an_unrouted_method_under_the_api_is_a_problem_response(pool: PgPool) {
    // a documented path with a method it does not serve: 405 problem+json with Allow
    let app = TestApp::spawn(pool).await;
    let r = app
        .client
        .delete(app.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["allow"], "POST");
    let body = problem(r, 405).await;
    assert!(body["detail"].as_str().unwrap().contains("DELETE"));
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn metrics_count_requests_by_route_and_status_and_show_the_pool(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.get("/healthz").send().await.unwrap();
    app.get("/api/v1/no-such-thing").send().await.unwrap();
    let r = app.get("/metrics").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let has = |needle: &str| {
        text.lines()
            .any(|l| l.contains("exambank_http_requests_total") && l.contains(needle))
    };
    assert!(
        has("endpoint=\"/healthz\"") && has("status=\"200\""),
        "{text}"
    );
    assert!(
        has("status=\"404\""),
        "unmatched paths are counted under one label"
    );
    assert!(text.contains("exambank_http_requests_duration_seconds_bucket"));
    assert!(text.contains("exambank_db_pool_max_connections"));
    assert!(text.contains("exambank_db_pool_connections"));
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn docs_page_and_its_assets_are_served_from_the_binary(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let r = app.get("/docs/").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("cdn") && !html.contains("unpkg"),
        "no CDN: {html}"
    );
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let r = app.get(asset).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
        assert!(r.bytes().await.unwrap().len() > 100, "{asset} has content");
    }
    let init = app
        .get("/docs/swagger-initializer.js")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api-docs/openapi.json"));
}
