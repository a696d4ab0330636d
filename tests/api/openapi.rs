use sqlx::PgPool;

use crate::helpers::{manifest_dir, TestApp};

/// The committed contract equals what the code generates and what the server serves.
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn committed_openapi_matches_the_code(pool: PgPool) {
    let generated: serde_json::Value = serde_json::to_value(exambank::api::openapi()).unwrap();
    let committed_text =
        std::fs::read_to_string(manifest_dir().join("openapi/openapi.json")).unwrap_or_default();
    let committed: serde_json::Value = serde_json::from_str(&committed_text).unwrap_or_default();
    assert!(
        generated == committed,
        "openapi/openapi.json is out of date with the code.\nRegenerate it with:\n    scripts/openapi.sh\n(or: cargo run -q -- openapi > openapi/openapi.json)"
    );
    let app = TestApp::spawn(pool).await;
    let served: serde_json::Value = app
        .get("/api-docs/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, generated);
}

/// Every route under /api/v1 that the server answers is documented.
#[test]
fn documents_the_core_routes() {
    let api = serde_json::to_value(exambank::api::openapi()).unwrap();
    let paths = api["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/users/{id}",
        "/api/v1/domains",
        "/api/v1/tags",
        "/api/v1/blueprints",
        "/healthz",
        "/readyz",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
}
