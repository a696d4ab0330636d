//! Mock exams over HTTP: assembly, answers, submit, expiry, result, review.

use std::collections::{BTreeMap, HashSet};

use exambank::domain::user::Role;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{
    assert_no_answers, error_fields, key, problem, seed_fixture, seed_real_bank, wrong_option,
    TestApp,
};

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_dva_c02_exam_follows_the_blueprint_and_hides_answers(pool: PgPool) {
    seed_real_bank(&pool).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let a = app
        .start_attempt(&ann, json!({"blueprint": "dva-c02", "mode": "exam"}))
        .await;
    assert_no_answers(&a);
    let qs = a["questions"].as_array().unwrap();
    assert_eq!(qs.len(), 65);
    let ids: HashSet<&str> = qs
        .iter()
        .map(|q| q["question_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 65, "no repeats");
    let positions: Vec<i64> = qs.iter().map(|q| q["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, (1..=65).collect::<Vec<_>>());
    // each topic area close to its exact share: the 50 scored questions are within two of
    // theirs (tests/api/measurement.rs checks that exactly), the 15 unscored follow the same mix
    let weights: BTreeMap<String, f64> = crate::helpers::topic_areas().into_iter().collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for q in qs {
        *counts.entry(q["domain"].as_str().unwrap()).or_default() += 1;
    }
    for (d, w) in &weights {
        let exact = w * 65.0;
        let got = counts.get(d.as_str()).copied().unwrap_or(0) as f64;
        assert!((got - exact).abs() < 3.0, "{d}: {got} vs {exact}");
    }
    // deadline stored at start: 130 minutes
    let started_at =
        chrono::DateTime::parse_from_rfc3339(a["started_at"].as_str().unwrap()).unwrap();
    let deadline = chrono::DateTime::parse_from_rfc3339(a["deadline"].as_str().unwrap()).unwrap();
    assert_eq!((deadline - started_at).num_minutes(), 130);
    assert!(a["remaining_seconds"].as_i64().unwrap() > 7790);
    // every difficulty is present (dva-c02 draws by exam domain and topic area, not by difficulty)
    let diffs: Vec<i16> =
        sqlx::query_scalar("SELECT difficulty FROM attempt_questions WHERE attempt_id = $1::uuid")
            .bind(a["id"].as_str().unwrap())
            .fetch_all(&pool)
            .await
            .unwrap();
    for d in 1..=3 {
        let n = diffs.iter().filter(|x| **x == d).count();
        assert!(n >= 3, "difficulty {d}: {n} of 65");
    }
    // options are shuffled per attempt: the correct answer is not always in one place
    let mut places = HashSet::new();
    for (i, q) in qs.iter().enumerate().filter(|(_, q)| q["kind"] == "single") {
        let k = key(&pool, a["id"].as_str().unwrap(), (i + 1) as i64).await;
        let place = q["options"]
            .as_array()
            .unwrap()
            .iter()
            .position(|o| o["id"] == k[0].as_str())
            .unwrap();
        places.insert(place);
    }
    assert!(places.len() >= 3, "correct answers sit in {places:?}");
    // a second exam avoids what was just seen where the bank allows
    let b = app
        .start_attempt(&ann, json!({"blueprint": "dva-c02"}))
        .await;
    let overlap = b["questions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| ids.contains(q["question_id"].as_str().unwrap()))
        .count();
    assert!(overlap <= 5, "{overlap} repeats from the previous exam");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn bad_start_requests_are_422_naming_the_field(pool: PgPool) {
    let _b = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    for (body, field) in [
        (json!({"blueprint": "nope"}), "blueprint"),
        (json!({"blueprint": "quick", "mode": "cram"}), "mode"),
        (json!({"count": 0}), "count"),
        (
            json!({"count": 5, "domains": {"nowhere": 1}}),
            "domains.nowhere",
        ),
        (json!({"count": 5, "domains": {"s3": 0}}), "domains"),
        (
            json!({"count": 5, "time_limit_minutes": 0}),
            "time_limit_minutes",
        ),
        (json!({"blueprint": "quick", "count": 5}), "blueprint"),
    ] {
        let body = problem(app.try_start_attempt(&ann, body.clone()).await, 422).await;
        assert!(
            error_fields(&body).contains(&field.to_string()),
            "{field}: {body}"
        );
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM attempts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_short_domain_is_redistributed_and_reported(pool: PgPool) {
    let _b = seed_fixture(&pool, 4).await;
    let app = TestApp::spawn(pool).await;
    let ann = app.register("ann@example.com").await;
    let a = app
        .start_attempt(
            &ann,
            json!({"mode": "practice", "count": 10, "domains": {"s3": 4, "kms": 1, "iam": 1}}),
        )
        .await;
    assert_eq!(a["questions"].as_array().unwrap().len(), 10);
    let short = a["assembly"]["shortfalls"].as_array().unwrap();
    assert_eq!(short.len(), 1);
    assert_eq!(short[0]["domain"], "s3");
    assert_eq!(short[0]["available"], 4);
    assert_eq!(
        a["deadline"],
        Value::Null,
        "practice without a limit is untimed"
    );
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn answers_are_idempotent_validated_and_private(pool: PgPool) {
    let _b = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let a = app
        .start_attempt(&ann, json!({"count": 6, "mode": "exam"}))
        .await;
    let id = a["id"].as_str().unwrap();
    let opts = a["questions"][0]["options"].as_array().unwrap();
    let choice = opts[0]["id"].as_str().unwrap();
    let first = app
        .answer(
            &ann,
            id,
            1,
            json!({"choices": [choice], "flagged": true, "time_spent_ms": 5000}),
        )
        .await;
    assert!(first.get("feedback").is_none(), "no feedback in exam mode");
    assert_no_answers(&first);
    // a retry of the same write is the same answer at the same revision
    let again = app
        .answer(
            &ann,
            id,
            1,
            json!({"choices": [choice], "flagged": true, "time_spent_ms": 5000}),
        )
        .await;
    assert_eq!(again["revision"], first["revision"]);
    // a write based on an older revision is stale
    let other = opts[1]["id"].as_str().unwrap();
    let r = app
        .put_answer(&ann, id, 1, json!({"choices": [other], "revision": 0}))
        .await;
    problem(r, 409).await;
    // bad choices
    let body = problem(
        app.put_answer(&ann, id, 1, json!({"choices": ["not-an-option"]}))
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&body), ["choices[0]"]);
    let body = problem(
        app.put_answer(&ann, id, 1, json!({"choices": [choice, other]}))
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&body), ["choices"]);
    problem(
        app.put_answer(&ann, id, 99, json!({"choices": []})).await,
        404,
    )
    .await;
    // the state shows it
    let s = app.attempt(&ann, id).await;
    assert_eq!(s["questions"][0]["choices"], json!([choice]));
    assert_eq!(s["questions"][0]["flagged"], true);
    assert_no_answers(&s);
    // nobody else can see or touch it
    for path in [
        format!("/api/v1/attempts/{id}"),
        format!("/api/v1/attempts/{id}/result"),
        format!("/api/v1/attempts/{id}/review"),
    ] {
        problem(app.get_as(&bob, &path).await, 404).await;
    }
    problem(
        app.put_answer(&bob, id, 1, json!({"choices": [choice]}))
            .await,
        404,
    )
    .await;
    problem(app.try_submit(&bob, id).await, 404).await;
    // result and review are refused before finalization
    problem(
        app.get_as(&ann, &format!("/api/v1/attempts/{id}/result"))
            .await,
        409,
    )
    .await;
    problem(
        app.get_as(&ann, &format!("/api/v1/attempts/{id}/review"))
            .await,
        409,
    )
    .await;
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn practice_mode_gives_feedback_for_the_answered_question_only(pool: PgPool) {
    let _b = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let a = app
        .start_attempt(&ann, json!({"count": 4, "mode": "practice"}))
        .await;
    let id = a["id"].as_str().unwrap();
    let k = key(&pool, id, 2).await;
    let r = app.answer(&ann, id, 2, json!({"choices": k})).await;
    assert_eq!(r["feedback"]["correct"], true);
    assert_eq!(r["feedback"]["correct_choices"], json!(k));
    assert!(r["feedback"]["explanation"].is_string());
    assert_eq!(r["feedback"]["rationale"].as_object().unwrap().len(), 4);
    // a client that reports its own time is served from the cached attempt: same feedback rules
    let k3 = key(&pool, id, 3).await;
    let wrong: Vec<String> = a["questions"][2]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .filter(|o| !k3.contains(o))
        .take(1)
        .collect();
    for _ in 0..2 {
        // the second time is a retry of the same answer: acknowledged again, same feedback
        let r = app
            .answer(
                &ann,
                id,
                3,
                json!({"choices": wrong, "time_spent_ms": 5000}),
            )
            .await;
        assert_eq!(r["feedback"]["correct"], false);
        assert_eq!(r["feedback"]["correct_choices"], json!(k3));
        assert_eq!(r["choices"], json!(wrong));
    }
    let s = app.attempt(&ann, id).await;
    assert_no_answers(&s);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn parallel_answers_all_persist_and_parallel_submits_give_one_result(pool: PgPool) {
    seed_real_bank(&pool).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let a = app
        .start_attempt(&ann, json!({"blueprint": "dva-c02"}))
        .await;
    let id = a["id"].as_str().unwrap().to_string();
    let mut tasks = Vec::new();
    for (i, q) in a["questions"].as_array().unwrap().iter().enumerate() {
        let choice = q["options"][0]["id"].as_str().unwrap().to_string();
        let (app, ann, id) = (app.clone(), ann.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let r = app
                .put_answer(&ann, &id, i as i64 + 1, json!({"choices": [choice]}))
                .await;
            r.status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let answered: i64 = sqlx::query_scalar("SELECT count(*) FROM attempt_questions WHERE attempt_id = $1::uuid AND cardinality(choices) = 1")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(answered, 65, "every acknowledged answer persisted");
    let mut subs = Vec::new();
    for _ in 0..8 {
        let (app, ann, id) = (app.clone(), ann.clone(), id.clone());
        subs.push(tokio::spawn(async move {
            app.try_submit(&ann, &id).await.text().await.unwrap()
        }));
    }
    let mut results = HashSet::new();
    for s in subs {
        results.insert(s.await.unwrap());
    }
    assert_eq!(results.len(), 1, "eight submits, one result");
    let result: Value = serde_json::from_str(results.iter().next().unwrap()).unwrap();
    assert_eq!(result["total"], 50, "50 scored");
    assert_eq!(result["unscored"], 15);
    assert_eq!(result["answered"], 65);
    // answers after submit are refused
    let q1 = a["questions"][0]["options"][1]["id"].as_str().unwrap();
    problem(
        app.put_answer(&ann, &id, 1, json!({"choices": [q1]})).await,
        409,
    )
    .await;
    let status: String = sqlx::query_scalar("SELECT status FROM attempts WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "submitted");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn scoring_result_and_review(pool: PgPool) {
    seed_real_bank(&pool).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let a = app
        .start_attempt(
            &ann,
            json!({"count": 12, "mode": "exam", "domains": {"serverless": 1}}),
        )
        .await;
    let id = a["id"].as_str().unwrap();
    let qs = a["questions"].as_array().unwrap();
    let mut expected_correct = 0;
    for (i, q) in qs.iter().enumerate() {
        let pos = (i + 1) as i64;
        let k = key(&pool, id, pos).await;
        let choices: Vec<String> = match i % 3 {
            // right
            0 => k.clone(),
            // wrong (for multiple: only part of the right answer, which scores nothing)
            1 => {
                if q["kind"] == "multiple" {
                    vec![k[0].clone()]
                } else {
                    vec![wrong_option(q, &k)]
                }
            }
            // unanswered, flagged
            _ => vec![],
        };
        if i % 3 == 0 {
            expected_correct += 1;
        }
        app.answer(&ann, id, pos, json!({"choices": choices, "flagged": i % 3 == 2, "time_spent_ms": 1000 * (i as i64 + 1)})).await;
    }
    let result = app.submit(&ann, id).await;
    assert_eq!(result["correct"], expected_correct);
    assert_eq!(result["total"], 12);
    assert_eq!(
        result["scaled_score"],
        100 + (900.0 * expected_correct as f64 / 12.0).round() as i64
    );
    assert_eq!(result["passed"], false);
    assert_eq!(result["domains"][0]["domain"], "serverless");
    assert_eq!(result["domains"][0]["verdict"], "needs improvement");
    assert_eq!(
        result["pacing"]["total_time_ms"],
        (1..=12).map(|i| i * 1000).sum::<i64>()
    );
    assert_eq!(result["pacing"]["budget_ms_per_question"], 120000);
    let again = app.result(&ann, id).await;
    assert_eq!(again, result);

    let review = app.review(&ann, id).await;
    let items = review["questions"].as_array().unwrap();
    assert_eq!(items.len(), 12);
    assert!(items.iter().all(|q| q["options"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["rationale"].is_string())));
    assert!(items.iter().all(|q| q["note_url"]
        .as_str()
        .unwrap()
        .starts_with("/notes/serverless#")));
    assert_eq!(items[1]["time_spent_ms"], 2000);
    let wrong = app
        .get_json(&ann, &format!("/api/v1/attempts/{id}/review?filter=wrong"))
        .await;
    assert_eq!(
        wrong["questions"].as_array().unwrap().len(),
        12 - expected_correct
    );
    assert!(wrong["questions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|q| q["correct"] == false));
    let flagged = app
        .get_json(
            &ann,
            &format!("/api/v1/attempts/{id}/review?filter=flagged"),
        )
        .await;
    assert_eq!(flagged["questions"].as_array().unwrap().len(), 4);
    problem(
        app.get_as(&ann, &format!("/api/v1/attempts/{id}/review?filter=odd"))
            .await,
        422,
    )
    .await;
    let list = app.get_json(&ann, "/api/v1/attempts").await;
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["scaled_score"], result["scaled_score"]);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn an_edit_during_an_attempt_does_not_change_it(pool: PgPool) {
    let _b = seed_fixture(&pool, 2).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let teacher = app.user_with_role("t@example.com", Role::Instructor).await;
    let a = app
        .start_attempt(&ann, json!({"count": 1, "domains": {"kms": 1}}))
        .await;
    let id = a["id"].as_str().unwrap();
    let qid = a["questions"][0]["question_id"].as_str().unwrap();
    let old_stem = a["questions"][0]["stem"].as_str().unwrap().to_string();
    let k = key(&pool, id, 1).await;
    // the author rewrites the question and moves the right answer
    let q = app
        .get_json(&teacher, &format!("/api/v1/questions/{qid}"))
        .await;
    let mut options: Vec<Value> = q["options"].as_array().unwrap().iter().map(|o| json!({"text": o["text"], "correct": !o["correct"].as_bool().unwrap() && o["text"].as_str().unwrap().ends_with(" a"), "rationale": o["rationale"]})).collect();
    options[0]["text"] = json!("Rewritten option");
    let edit = json!({"domain": "kms", "tags": q["tags"], "kind": "single", "difficulty": q["difficulty"], "stem": "Rewritten stem after the attempt started?",
        "options": options, "explanation": "Changed.", "references": q["references"], "exam_domain": "development"});
    let r = app
        .put_as(&teacher, &format!("/api/v1/questions/{qid}"), &edit)
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // the attempt still shows and scores version 1
    let s = app.attempt(&ann, id).await;
    assert_eq!(s["questions"][0]["stem"], old_stem.as_str());
    assert_eq!(s["questions"][0]["version"], 1);
    app.answer(&ann, id, 1, json!({"choices": k})).await;
    let result = app.submit(&ann, id).await;
    assert_eq!(
        result["correct"], 1,
        "scored against the version the attempt was built with"
    );
    let review = app.review(&ann, id).await;
    assert_eq!(review["questions"][0]["stem"], old_stem.as_str());
}

/// A one-minute exam really expires: the sweeper finalizes it with nobody calling, and
/// late answers are refused.
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_one_minute_exam_expires_on_its_own(pool: PgPool) {
    let _b = seed_fixture(&pool, 2).await;
    let app = TestApp::spawn_with(pool.clone(), &["--sweep-interval-secs", "1"]).await;
    let ann = app.register("ann@example.com").await;
    let a = app
        .start_attempt(
            &ann,
            json!({"count": 3, "mode": "exam", "time_limit_minutes": 1}),
        )
        .await;
    let id = a["id"].as_str().unwrap();
    let k = key(&pool, id, 1).await;
    // the client reports its own time: the server caches the open attempt from here on
    app.answer(&ann, id, 1, json!({"choices": k, "time_spent_ms": 3000}))
        .await;
    // the minute and the grace window pass: move the attempt's clock back rather than wait
    let past = (60 + exambank::services::attempts::GRACE_SECS + 3) as f64;
    sqlx::query(
        "UPDATE attempts SET started_at = started_at - make_interval(secs => $2),
                             deadline = deadline - make_interval(secs => $2)
          WHERE id = $1::uuid",
    )
    .bind(id)
    .bind(past)
    .execute(&pool)
    .await
    .unwrap();
    // the sweeper runs every second; nobody calls the server meanwhile
    let mut waited = 0;
    let (status, result) = loop {
        let (status, result): (String, Option<Value>) =
            sqlx::query_as("SELECT status, result FROM attempts WHERE id = $1::uuid")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
        if status != "in_progress" || waited >= 150 {
            break (status, result);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    };
    assert_eq!(
        status, "expired",
        "finalized by the sweeper, not by a request"
    );
    assert_eq!(
        result.unwrap()["correct"],
        1,
        "the answer saved in time counts"
    );
    problem(
        app.put_answer(&ann, id, 2, json!({"choices": []})).await,
        409,
    )
    .await;
    // a late change, which the cached attempt (still open in the cache) would accept, is refused
    problem(
        app.put_answer(
            &ann,
            id,
            2,
            json!({"choices": [a["questions"][1]["options"][0]["id"]], "time_spent_ms": 3000}),
        )
        .await,
        409,
    )
    .await;
    let s = app.attempt(&ann, id).await;
    assert_eq!(s["status"], "expired");
    assert_eq!(s["remaining_seconds"], 0);
}
