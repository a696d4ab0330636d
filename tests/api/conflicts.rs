//! Every kind of conflict has its own problem type (issue 13), so a client tells a stale write
//! from a finalized attempt or a passed deadline without parsing the detail. Each case below
//! provokes one over HTTP and checks its `type` and that nothing changed.

use reqwest::Response;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{bearer, problem, seed_real_bank, TestApp, PASSWORD};

const PREFIX: &str = "https://exambank.dev/problems/";

async fn conflict(r: Response, slug: &str) -> Value {
    let p = problem(r, 409).await;
    assert_eq!(p["type"], format!("{PREFIX}{slug}"), "{p}");
    p
}

async fn start(app: &TestApp, who: &Value, body: Value) -> Value {
    let r = app
        .post("/api/v1/attempts")
        .header("authorization", bearer(who))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "start {body}");
    r.json().await.unwrap()
}

async fn answer(app: &TestApp, who: &Value, id: &str, position: i64, body: Value) -> Response {
    app.client
        .put(app.url(&format!("/api/v1/attempts/{id}/answers/{position}")))
        .header("authorization", bearer(who))
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn option(a: &Value, position: usize, n: usize) -> String {
    a["questions"][position - 1]["options"][n]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn choices_at(pool: &PgPool, id: &str, position: i64) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT choices FROM attempt_questions WHERE attempt_id = $1::uuid AND position = $2",
    )
    .bind(id)
    .bind(position as i32)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn each_conflict_of_an_attempt_has_its_own_problem_type(pool: PgPool) {
    seed_real_bank(&pool).await;
    // no sweeper during the test: the deadline case below must meet the request, not the sweep
    let app = TestApp::spawn_with(pool.clone(), &["--sweep-interval-secs", "3600"]).await;
    let ann = app.register("ann@example.com").await;

    // no-questions: nothing answered wrong yet, so there are no mistakes to practise
    conflict(
        app.post("/api/v1/practice")
            .header("authorization", bearer(&ann))
            .json(&json!({"source": "mistakes"}))
            .send()
            .await
            .unwrap(),
        "no-questions",
    )
    .await;

    let a = start(&app, &ann, json!({"mode": "practice", "count": 3})).await;
    let id = a["id"].as_str().unwrap();
    let first = answer(&app, &ann, id, 1, json!({"choices": [option(&a, 1, 0)]})).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    // stale-revision: a write based on an older revision, and the saved answer stays
    let p = conflict(
        answer(
            &app,
            &ann,
            id,
            1,
            json!({"choices": [option(&a, 1, 1)], "revision": first["revision"].as_i64().unwrap() - 1}),
        )
        .await,
        "stale-revision",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("revision"), "{p}");
    assert_eq!(choices_at(&pool, id, 1).await, [option(&a, 1, 0)]);

    // attempt-in-progress: no result before the attempt is submitted
    for what in ["result", "review"] {
        conflict(
            app.get(&format!("/api/v1/attempts/{id}/{what}"))
                .header("authorization", bearer(&ann))
                .send()
                .await
                .unwrap(),
            "attempt-in-progress",
        )
        .await;
    }

    // attempt-finalized: after submit, answers can no longer change
    let r = app
        .post(&format!("/api/v1/attempts/{id}/submit"))
        .header("authorization", bearer(&ann))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    conflict(
        answer(&app, &ann, id, 2, json!({"choices": [option(&a, 2, 0)]})).await,
        "attempt-finalized",
    )
    .await;
    assert!(choices_at(&pool, id, 2).await.is_empty());

    // deadline-passed: a timed attempt whose time (and grace) ran out an hour ago; the answer
    // is refused and the attempt is finalized as expired by that request
    let q = start(&app, &ann, json!({"blueprint": "quick", "mode": "exam"})).await;
    let qid = q["id"].as_str().unwrap();
    sqlx::query(
        "UPDATE attempts SET started_at = started_at - interval '2 hours',
                             deadline = deadline - interval '2 hours'
          WHERE id = $1::uuid",
    )
    .bind(qid)
    .execute(&pool)
    .await
    .unwrap();
    conflict(
        answer(&app, &ann, qid, 1, json!({"choices": [option(&q, 1, 0)]})).await,
        "deadline-passed",
    )
    .await;
    assert!(choices_at(&pool, qid, 1).await.is_empty());
    let status: String = sqlx::query_scalar("SELECT status FROM attempts WHERE id = $1::uuid")
        .bind(qid)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "expired");
    // and then it is simply finalized
    conflict(
        answer(&app, &ann, qid, 1, json!({"choices": [option(&q, 1, 0)]})).await,
        "attempt-finalized",
    )
    .await;
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_taken_email_is_its_own_conflict(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.register("ann@example.com").await;
    conflict(
        app.post("/api/v1/auth/register")
            .json(&json!({"email": "Ann@Example.com", "password": PASSWORD, "display_name": "Ann"}))
            .send()
            .await
            .unwrap(),
        "email-taken",
    )
    .await;
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 1);
}
