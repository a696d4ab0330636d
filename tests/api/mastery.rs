//! Mastery, readiness, adaptive practice and the review queue over HTTP.

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{
    answer_all, browser, browser_login, domain, error_fields, key, problem, seed_fixture, TestApp,
};

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn answers_move_mastery_and_a_new_learner_is_uncertain(pool: PgPool) {
    let _b = seed_fixture(&pool, 6).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let fresh = app.get_json(&ann, "/api/v1/me/mastery").await;
    assert_eq!(
        fresh["domains"].as_array().unwrap().len(),
        crate::helpers::topic_areas().len()
    );
    assert!((domain(&fresh, "kms")["estimate"].as_f64().unwrap() - 0.5).abs() < 0.05);
    let r = app
        .get_json(&ann, "/api/v1/me/readiness?blueprint=dva-c02")
        .await;
    let (lo, hi) = (
        r["interval"][0].as_f64().unwrap(),
        r["interval"][1].as_f64().unwrap(),
    );
    assert!(
        hi - lo > 300.0,
        "a learner with no answers gets a wide interval: {r}"
    );
    assert!(r["method"].as_str().unwrap().contains("Monte Carlo"));

    answer_all(&app, &pool, &ann, "kms", 6, true).await;
    answer_all(&app, &pool, &ann, "iam", 6, false).await;
    let m = app.get_json(&ann, "/api/v1/me/mastery").await;
    let (kms, iam) = (domain(&m, "kms"), domain(&m, "iam"));
    assert_eq!(kms["answered"], 6);
    assert!(kms["estimate"].as_f64().unwrap() > 0.6, "{kms}");
    assert!(iam["estimate"].as_f64().unwrap() < 0.4, "{iam}");
    assert!(
        kms["uncertainty"].as_f64().unwrap()
            < domain(&fresh, "kms")["uncertainty"].as_f64().unwrap()
    );
    assert!(m["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["area"] == "kms-basics"));
    assert_ne!(m["weakest"][0]["area"], "kms");
    let history = app.get_json(&ann, "/api/v1/me/mastery/history").await;
    assert!(history
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["domain"] == "kms"));
    problem(
        app.get_as(&ann, "/api/v1/me/readiness?blueprint=nope")
            .await,
        422,
    )
    .await;
}

/// Weak-area practice stores the report assembly made, shortfalls included (it used to store
/// an empty list whatever assembly found).
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn weak_practice_reports_its_shortfalls(pool: PgPool) {
    let _b = seed_fixture(&pool, 2).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let weak = app
        .post_json(
            &ann,
            "/api/v1/practice",
            json!({"source": "weak", "count": 5, "domain": "s3"}),
            201,
        )
        .await;
    let asm = &weak["assembly"];
    assert_eq!(asm["requested"], 5);
    assert_eq!(asm["drawn"], 2);
    assert_eq!(weak["questions"].as_array().unwrap().len(), 2);
    assert_eq!(
        asm["shortfalls"],
        json!([{"domain": "s3", "wanted": 5, "available": 2}])
    );
    // the stored report is the one returned
    let id = weak["id"].as_str().unwrap();
    let again = app.get_json(&ann, &format!("/api/v1/attempts/{id}")).await;
    assert_eq!(again["assembly"], *asm);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn practice_from_weak_areas_mistakes_and_due_reviews(pool: PgPool) {
    let _b = seed_fixture(&pool, 6).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let post = |body: Value| app.post_as(&ann, "/api/v1/practice", body);

    let body = problem(post(json!({"source": "whatever", "count": 0})).await, 422).await;
    assert_eq!(error_fields(&body), ["count", "source"]);
    problem(post(json!({"source": "mistakes"})).await, 409).await;

    let weak = app
        .post_json(
            &ann,
            "/api/v1/practice",
            json!({"source": "weak", "count": 10}),
            201,
        )
        .await;
    assert_eq!(weak["questions"].as_array().unwrap().len(), 10);
    assert_eq!(weak["mode"], "practice");
    assert_eq!(weak["deadline"], Value::Null);

    // two wrong answers become mistakes
    let id = answer_all(&app, &pool, &ann, "s3", 2, false).await;
    let wrong: Vec<String> = sqlx::query_scalar(
        "SELECT question_id::text FROM attempt_questions WHERE attempt_id = $1::uuid",
    )
    .bind(&id)
    .fetch_all(&pool)
    .await
    .unwrap();
    let m = app
        .post_json(&ann, "/api/v1/practice", json!({"source": "mistakes"}), 201)
        .await;
    let ids: Vec<String> = m["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["question_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(wrong.iter().all(|w| ids.contains(w)));
    // answering them right clears them
    let mid = m["id"].as_str().unwrap();
    for pos in 1..=2 {
        let k = key(&pool, mid, pos).await;
        app.answer(&ann, mid, pos, json!({"choices": k})).await;
    }
    problem(post(json!({"source": "mistakes"})).await, 409).await;

    // reviews: nothing due right after answering; once due, they are served
    let due = app.get_json(&ann, "/api/v1/me/reviews/due").await;
    assert!(due.as_array().unwrap().is_empty(), "{due}");
    sqlx::query("UPDATE user_question_stats SET due_at = now() - interval '1 hour' WHERE question_id = ANY($1::uuid[])").bind(&wrong).execute(&pool).await.unwrap();
    let due = app.get_json(&ann, "/api/v1/me/reviews/due").await;
    assert_eq!(due.as_array().unwrap().len(), 2);
    let d = app
        .post_json(&ann, "/api/v1/practice", json!({"source": "due"}), 201)
        .await;
    assert_eq!(d["questions"].as_array().unwrap().len(), 2);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_wrong_answer_is_due_sooner_than_a_right_one(pool: PgPool) {
    let _b = seed_fixture(&pool, 4).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    answer_all(&app, &pool, &ann, "ec2", 2, true).await;
    answer_all(&app, &pool, &ann, "kms", 2, false).await;
    let (right, wrong): (f64, f64) = sqlx::query_as(
        "SELECT max(extract(epoch FROM c.due_at - now())) FILTER (WHERE q.domain = 'ec2')::float8,
                max(extract(epoch FROM c.due_at - now())) FILTER (WHERE q.domain = 'kms')::float8
         FROM user_question_stats c JOIN questions q ON q.id = c.question_id WHERE c.due_at IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(wrong < right, "wrong due in {wrong}s, right in {right}s");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn dashboard_and_practice_pages(pool: PgPool) {
    let _b = seed_fixture(&pool, 4).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    answer_all(&app, &pool, &ann, "s3", 3, false).await;
    let b = browser();
    browser_login(&app, &b, "ann@example.com").await;
    let html = b
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"readiness\""));
    assert!(html.contains("aria-label=\"Estimated mastery by domain with uncertainty\""));
    assert!(html.contains("Mastery by domain over the last 30 days"));
    assert!(html.contains("id=\"practice-weak\"") && html.contains("id=\"practice-mistakes\""));
    let token = crate::helpers::csrf_of(&html);
    let r = b
        .post(app.url("/practice"))
        .form(&[("csrf_token", token.as_str()), ("source", "mistakes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/attempts/"));
    assert_eq!(
        b.get(app.url("/practice")).send().await.unwrap().status(),
        200
    );
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn the_first_answer_of_a_new_day_keeps_the_last_day_as_a_snapshot(pool: PgPool) {
    let _b = seed_fixture(&pool, 4).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    answer_all(&app, &pool, &ann, "kms", 3, true).await;
    // the day ends: the live row now stands for yesterday
    let (ability,): (f64,) = sqlx::query_as(
        "UPDATE mastery SET day = CURRENT_DATE - 1 WHERE area_kind = 'domain' AND area = 'kms' RETURNING ability",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    // today's first answer takes the read path (no client time: the server measures it), the
    // next ones the cached path; either way yesterday is kept once
    let a = app
        .start_attempt(
            &ann,
            json!({"mode": "practice", "count": 3, "domains": {"kms": 1}}),
        )
        .await;
    let id = a["id"].as_str().unwrap();
    for (i, q) in a["questions"].as_array().unwrap().iter().enumerate() {
        let choice = q["options"][0]["id"].clone();
        let body = if i == 0 {
            json!({"choices": [choice]})
        } else {
            json!({"choices": [choice], "time_spent_ms": 20000})
        };
        app.answer(&ann, id, i as i64 + 1, body).await;
    }
    let snaps: Vec<(chrono::NaiveDate, f64, i32)> = sqlx::query_as(
        "SELECT day, ability, answered FROM mastery_snapshots WHERE domain = 'kms' ORDER BY day",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    assert_eq!(snaps[0].1, ability);
    assert_eq!(snaps[0].2, 3);
    let history = app.get_json(&ann, "/api/v1/me/mastery/history").await;
    let kms: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["domain"] == "kms")
        .collect();
    assert_eq!(kms.len(), 2, "{history}");
    assert_eq!(kms[0]["answered"], 3);
    assert_eq!(kms[0]["day"], yesterday.to_string());
    assert_eq!(kms[1]["answered"], 6);
}
