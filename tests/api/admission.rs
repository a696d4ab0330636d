//! Admission control: past its concurrency, starting (and submitting) waits in arrival order,
//! and past the queue bound it is a 503 with Retry-After that changes nothing and succeeds on
//! retry. The first start is held inside PostgreSQL by a table lock, so the test is exact.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, PgPool};

use crate::helpers::{bearer, problem, seed_fixture, TestApp};

async fn start(app: &TestApp, who: &Value) -> reqwest::Response {
    app.try_start_attempt(who, json!({"count": 3})).await
}

/// Waits until `n` queries of the server wait for a lock.
async fn blocked(pool: &PgPool, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting >= n {
            return;
        }
        assert!(Instant::now() < deadline, "{waiting} of {n} starts blocked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn past_the_queue_bound_a_start_is_503_with_retry_after_and_succeeds_on_retry(pool: PgPool) {
    let _bank = seed_fixture(&pool, 5).await;
    let app = TestApp::spawn_with(
        pool.clone(),
        &[
            "--admission-concurrency",
            "1",
            "--admission-queue",
            "1",
            "--admission-retry-after-secs",
            "1",
        ],
    )
    .await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let cy = app.register("cy@example.com").await;

    // hold every new attempt inside PostgreSQL
    let opts = pool.connect_options();
    let mut locker = sqlx::PgConnection::connect_with(&opts).await.unwrap();
    let mut tx = locker.begin().await.unwrap();
    sqlx::query("LOCK TABLE attempts IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .unwrap();

    // ann's start takes the one permit and waits on the lock; bob's queues behind it
    let a = tokio::spawn({
        let (url, who) = (app.url("/api/v1/attempts"), bearer(&ann));
        async move {
            reqwest::Client::new()
                .post(url)
                .header("authorization", who)
                .json(&json!({"count": 3}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    blocked(&pool, 1).await;
    let b = tokio::spawn({
        let (url, who) = (app.url("/api/v1/attempts"), bearer(&bob));
        async move {
            reqwest::Client::new()
                .post(url)
                .header("authorization", who)
                .json(&json!({"count": 3}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    // bob's request is in the queue (the server's own gauge says so)
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = app
            .get("/metrics")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.lines().any(|l| l == "exambank_admission_waiting 1") {
            break;
        }
        assert!(Instant::now() < deadline, "bob never queued");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // the queue is full: cy is turned away at once, with a time to retry
    let r = start(&app, &cy).await;
    assert_eq!(r.headers()["retry-after"], "1");
    let p = problem(r, 503).await;
    assert!(p["type"].as_str().unwrap().ends_with("/busy"), "{p}");
    let attempts: i64 = sqlx::query_scalar("SELECT count(*) FROM attempts WHERE user_id = (SELECT id FROM users WHERE email = 'cy@example.com')")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(attempts, 0, "a turned-away start changed nothing");

    // release: ann's and bob's starts complete in turn, and cy's retry succeeds
    tx.rollback().await.unwrap();
    assert_eq!(a.await.unwrap(), StatusCode::CREATED);
    assert_eq!(b.await.unwrap(), StatusCode::CREATED);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(start(&app, &cy).await.status(), StatusCode::CREATED);
}
