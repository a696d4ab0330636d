//! Mock exams that measure like DVA-C02 (issue 14): two-way assembly by exam-guide domain and
//! topic area, 15 unscored questions (pilots first) that nothing reveals before the attempt is
//! final, and a score report per exam-guide domain.

use std::collections::{BTreeMap, HashSet};

use exambank::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{all_keys, seed_real_bank, topic_areas, TestApp};

const EXAM_WEIGHTS: [(&str, f64); 4] = [
    ("development", 0.32),
    ("security", 0.26),
    ("deployment", 0.24),
    ("troubleshooting", 0.18),
];

/// Largest-remainder shares of `n` (ties to the first).
fn quotas(n: usize, weights: &[(String, f64)]) -> BTreeMap<String, usize> {
    let total: f64 = weights.iter().map(|w| w.1).sum();
    let exact: Vec<f64> = weights.iter().map(|w| w.1 / total * n as f64).collect();
    let mut q: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    let short = n - q.iter().sum::<usize>();
    for &i in order.iter().take(short) {
        q[i] += 1;
    }
    weights.iter().map(|w| w.0.clone()).zip(q).collect()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_thousand_dva_c02_draws_match_the_exam_guide(pool: PgPool) {
    seed_real_bank(&pool).await;
    let exam_w: BTreeMap<String, f64> = EXAM_WEIGHTS
        .iter()
        .map(|(d, w)| (d.to_string(), *w))
        .collect();
    let areas = topic_areas();
    let area_w: BTreeMap<String, f64> = areas.iter().cloned().collect();
    let area_quota = quotas(50, &areas);
    let exam_list: Vec<(String, f64)> = EXAM_WEIGHTS
        .iter()
        .map(|(d, w)| (d.to_string(), *w))
        .collect();
    // the exam domain of every current question (to classify what was drawn)
    let exam_of: BTreeMap<Uuid, String> =
        sqlx::query_as::<_, (Uuid, String)>("SELECT id, exam_domain FROM questions")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let mut conn = pool.acquire().await.unwrap();
    let draws = 1000;
    let (mut worst_exam, mut worst_area, mut areas_ok) = (0i64, 0i64, 0usize);
    let mut worst_area_draw = String::new();
    for _ in 0..draws {
        let (chosen, report) = exambank::services::attempts::assemble_measured(
            &mut conn,
            Uuid::nil(),
            65,
            15,
            &exam_w,
            &area_w,
        )
        .await
        .unwrap();
        assert_eq!(chosen.len(), 65);
        assert_eq!(report.drawn, 65);
        let ids: HashSet<Uuid> = chosen.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), 65, "no question twice");
        assert_eq!(chosen.iter().filter(|c| c.unscored).count(), 15);
        let mut by_exam: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_area: BTreeMap<String, usize> = BTreeMap::new();
        for c in chosen.iter().filter(|c| !c.unscored) {
            *by_exam.entry(exam_of[&c.id].clone()).or_default() += 1;
            *by_area.entry(c.domain.clone()).or_default() += 1;
        }
        for (d, q) in quotas(50, &exam_list) {
            let dev = (by_exam.get(&d).copied().unwrap_or(0) as i64 - q as i64).abs();
            worst_exam = worst_exam.max(dev);
            assert!(dev <= 1, "exam domain {d}: {by_exam:?}");
        }
        let dev = area_quota
            .iter()
            .map(|(a, q)| (by_area.get(a).copied().unwrap_or(0) as i64 - *q as i64).abs())
            .max()
            .unwrap();
        if dev > worst_area {
            worst_area = dev;
            worst_area_draw = format!("{by_area:?}");
        }
        if dev <= 2 {
            areas_ok += 1;
        }
    }
    println!(
        "two-way assembly, {draws} dva-c02 draws of the real bank: worst exam-domain deviation {worst_exam} (allowed 1); \
         topic areas within 2 of their share in {areas_ok}/{draws} draws; worst area deviation {worst_area} {worst_area_draw}; \
         area quotas {area_quota:?}"
    );
    assert!(
        areas_ok * 100 >= draws * 99,
        "areas within 2 in at least 99 %"
    );
}

fn authored(n: usize) -> Value {
    let services = [
        "Amazon SQS",
        "Amazon SNS",
        "AWS Lambda",
        "Amazon Kinesis",
        "AWS Step Functions",
    ];
    json!({
        "domain": "serverless",
        "tags": ["lambda"],
        "kind": "single",
        "difficulty": 2,
        "stem": format!("Authored question {n}: which statement about {} and its quotas in scenario number {n} is true?", services[n % services.len()]),
        "options": [
            {"text": format!("Statement A{n}"), "correct": true, "rationale": "It is right."},
            {"text": format!("Statement B{n}"), "correct": false, "rationale": "It is wrong."},
            {"text": format!("Statement C{n}"), "correct": false, "rationale": "It is wrong too."},
            {"text": format!("Statement D{n}"), "correct": false, "rationale": "It is also wrong."}
        ],
        "explanation": "A pilot question written for the unscored-slot test.",
        "references": ["https://docs.aws.amazon.com/lambda/latest/dg/welcome.html"],
        "exam_domain": "development",
        "task": "1.1"
    })
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn before_finalization_nothing_tells_scored_from_unscored(pool: PgPool) {
    seed_real_bank(&pool).await;
    let app = TestApp::spawn(pool.clone()).await;
    let author = app.user_with_role("a@example.com", Role::Instructor).await;
    let mut pilots = HashSet::new();
    for n in 0..5 {
        let r = app
            .post_as(&author, "/api/v1/questions", &authored(n))
            .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
        let q: Value = r.json().await.unwrap();
        pilots.insert(q["id"].as_str().unwrap().to_string());
    }
    let ann = app.register("ann@example.com").await;
    let started = app
        .start_attempt(&ann, json!({"blueprint": "dva-c02"}))
        .await;
    let id = started["id"].as_str().unwrap().to_string();
    let questions = started["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 65);

    // no field anywhere names scoring or pilots, and every question has the same fields
    let read = app.attempt(&ann, &id).await;
    for doc in [&started, &read] {
        let mut keys = Vec::new();
        all_keys(doc, &mut keys);
        for k in &keys {
            let k = k.to_lowercase();
            assert!(
                !k.contains("scored") && !k.contains("pilot") && !k.contains("exam_domain"),
                "{k}"
            );
        }
        let shapes: HashSet<Vec<String>> = doc["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q.as_object().unwrap().keys().cloned().collect())
            .collect();
        assert_eq!(shapes.len(), 1, "every question has the same fields");
        assert!(!doc.to_string().to_lowercase().contains("unscored"));
    }
    // the pilots are in the attempt, and not all at the end or the start
    let positions: Vec<usize> = questions
        .iter()
        .enumerate()
        .filter(|(_, q)| pilots.contains(q["question_id"].as_str().unwrap()))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        positions.len(),
        5,
        "pilot questions fill unscored slots first"
    );
    // the exam page neither
    let b = crate::helpers::browser();
    crate::helpers::browser_login(&app, &b, "ann@example.com").await;
    let page = b
        .get(app.url(&format!("/attempts/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .to_lowercase();
    assert!(!page.contains("unscored") && !page.contains("pilot"));
    // the result is not available yet
    let r = app
        .get_as(&ann, &format!("/api/v1/attempts/{id}/result"))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // answer every question with its first option, then submit
    for q in questions {
        let r = app
            .put_as(
                &ann,
                &format!("/api/v1/attempts/{id}/answers/{}", q["position"]),
                json!({"choices": [q["options"][0]["id"]]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let result = app.submit(&ann, &id).await;
    assert_eq!(result["scored"], 50);
    assert_eq!(result["unscored"], 15);
    assert_eq!(result["total"], 50, "the score counts the scored questions");
    assert_eq!(result["answered"], 65);
    let rows = result["exam_domains"].as_array().unwrap();
    let got: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["domain"].as_str().unwrap().to_string(),
                r["total"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("development".to_string(), 16),
            ("security".to_string(), 13),
            ("deployment".to_string(), 12),
            ("troubleshooting".to_string(), 9)
        ],
        "the score report's exam-guide domains, in the guide's order"
    );
    for r in rows {
        assert!(
            ["meets competencies", "needs improvement"].contains(&r["verdict"].as_str().unwrap())
        );
    }
    // the result page shows the exam-guide domains first, then the topic areas
    let page = b
        .get(app.url(&format!("/attempts/{id}/result")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let guide = page
        .find("By exam-guide domain")
        .expect("exam-guide domains on the page");
    assert!(guide < page.find("By topic area").unwrap());
    assert!(page.contains("Development with AWS Services"));
    assert!(page.contains("15 unscored ones did not"));
    // after finalization the review says which questions counted
    let review = app.review(&ann, &id).await;
    let items = review["questions"].as_array().unwrap();
    assert_eq!(items.iter().filter(|q| q["scored"] == false).count(), 15);
    for q in items {
        if pilots.contains(q["question_id"].as_str().unwrap()) {
            assert_eq!(q["scored"], false, "a pilot never counts");
        }
    }
    // every answer taught the learner model, scored or not
    let answered: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(answered), 0)::int8 FROM mastery m JOIN users u ON u.id = m.user_id
          WHERE u.email = 'ann@example.com' AND m.area_kind = 'domain'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(answered, 65);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn the_catalog_shows_both_weightings(pool: PgPool) {
    seed_real_bank(&pool).await;
    let app = TestApp::spawn(pool).await;
    let ann = app.register("ann@example.com").await;
    let domains = app.get_json(&ann, "/api/v1/exam-domains").await;
    let got: Vec<(String, f64)> = domains
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["slug"].as_str().unwrap().to_string(),
                d["weight"].as_f64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, f64)> = EXAM_WEIGHTS
        .iter()
        .map(|(d, w)| (d.to_string(), *w))
        .collect();
    assert_eq!(got, want);
    let blueprints = app.get_json(&ann, "/api/v1/blueprints").await;
    let by_slug = |s: &str| {
        blueprints
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["slug"] == s)
            .unwrap()
            .clone()
    };
    let dva = by_slug("dva-c02");
    assert_eq!(dva["unscored"], 15);
    assert!((dva["exam_domain_weights"]["development"].as_f64().unwrap() - 0.32).abs() < 1e-9);
    let total: f64 = dva["domain_weights"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-9, "topic-area weights too");
    let quick = by_slug("quick");
    assert_eq!(quick["unscored"], 0);
    assert_eq!(quick["exam_domain_weights"], json!({}));
}

/// Correct option ids of every version: (question, version) → ids.
async fn keys(pool: &PgPool) -> std::collections::HashMap<(String, i64), HashSet<String>> {
    let rows: Vec<(Uuid, i32, Vec<String>)> = sqlx::query_as(
        "SELECT question_id, version, ARRAY(SELECT o->>'id' FROM jsonb_array_elements(options) o WHERE (o->>'correct')::bool)
           FROM question_versions",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(q, v, ids)| ((q.to_string(), v as i64), ids.into_iter().collect()))
        .collect()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn pilots_are_drawn_unscored_calibrated_then_promoted_or_flagged(pool: PgPool) {
    seed_real_bank(&pool).await;
    let app = TestApp::spawn(pool.clone()).await;
    let author = app.user_with_role("a@example.com", Role::Instructor).await;
    let mut pilot = Vec::new();
    for n in 0..2 {
        let q = app
            .post_json(&author, "/api/v1/questions", &authored(n), 201)
            .await;
        assert_eq!(q["measurement"]["pilot_status"], "pilot");
        pilot.push(q["id"].as_str().unwrap().to_string());
    }
    let (good, bad) = (pilot[0].clone(), pilot[1].clone());
    let key = keys(&pool).await;
    // 40 learners of rising ability sit dva-c02; both pilots are in every attempt (unscored)
    let learners = 40usize;
    let mut tokens = Vec::new();
    for k in 0..learners {
        tokens.push(app.register(&format!("l{k}@example.com")).await);
    }
    let sat = futures_util::future::join_all(tokens.iter().enumerate().map(|(k, who)| {
        let (app, key, good, bad) = (&app, &key, &good, &bad);
        async move {
            let a: Value = app
                .try_start_attempt(who, json!({"blueprint": "dva-c02"}))
                .await
                .json()
                .await
                .unwrap();
            let id = a["id"].as_str().unwrap().to_string();
            let mut drawn = HashSet::new();
            for (i, q) in a["questions"].as_array().unwrap().iter().enumerate() {
                let qid = q["question_id"].as_str().unwrap().to_string();
                drawn.insert(qid.clone());
                let right = &key[&(qid.clone(), q["version"].as_i64().unwrap())];
                let options: Vec<String> = q["options"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["id"].as_str().unwrap().to_string())
                    .collect();
                let wrong: Vec<String> = options
                    .iter()
                    .filter(|o| !right.contains(*o))
                    .take(1)
                    .cloned()
                    .collect();
                // the able answer more right; the good pilot follows ability, the bad one
                // (a wrong key, say) nobody gets right
                let correct = if &qid == good {
                    k >= learners / 2
                } else if &qid == bad {
                    false
                } else {
                    (i * 7 + k * 3) % learners < k + 5
                };
                let choices: Vec<String> = if correct {
                    right.iter().cloned().collect()
                } else {
                    wrong
                };
                let r = app
                    .put_as(
                        who,
                        &format!("/api/v1/attempts/{id}/answers/{}", q["position"]),
                        json!({ "choices": choices }),
                    )
                    .await;
                assert_eq!(r.status(), StatusCode::OK);
            }
            let r = app
                .post_empty_as(who, &format!("/api/v1/attempts/{id}/submit"))
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            drawn.contains(good) && drawn.contains(bad)
        }
    }))
    .await;
    assert!(
        sat.iter().all(|x| *x),
        "pilots fill the unscored slots of every attempt"
    );

    let report = exambank::services::calibration::run(&pool).await.unwrap();
    assert!(!report.skipped);
    assert_eq!(report.learners, learners);
    assert!(report.fitted > 0);
    let measured = |id: String| {
        let app = &app;
        let author = &author;
        async move {
            let q = app
                .get_json(author, &format!("/api/v1/questions/{id}"))
                .await;
            q["measurement"].clone()
        }
    };
    let g = measured(good.clone()).await;
    assert_eq!(g["pilot_status"], "operational", "promoted: {g}");
    assert_eq!(g["responses"], learners as i64);
    assert_eq!(g["source"], "fitted");
    assert!((g["facility"].as_f64().unwrap() - 0.5).abs() < 1e-9);
    assert!(g["point_biserial"].as_f64().unwrap() >= 0.15);
    assert!(g["standard_error"].as_f64().unwrap() > 0.0);
    let b = measured(bad.clone()).await;
    assert_eq!(b["pilot_status"], "flagged", "{b}");
    assert!(
        b["pilot_reason"].as_str().unwrap().contains("too hard"),
        "{b}"
    );
    // the promoted version now counts: it is sampled as an ordinary question, not as a pilot
    let pilot_now: Vec<(Uuid, bool)> =
        sqlx::query_as("SELECT id, pilot FROM questions WHERE id = ANY($1::uuid[])")
            .bind(vec![
                good.parse::<Uuid>().unwrap(),
                bad.parse::<Uuid>().unwrap(),
            ])
            .fetch_all(&pool)
            .await
            .unwrap();
    for (id, p) in pilot_now {
        assert_eq!(
            p,
            id.to_string() == bad,
            "only the flagged version stays out of scored slots"
        );
    }
    // authors see it on their list too
    let b = crate::helpers::browser();
    crate::helpers::browser_login(&app, &b, "a@example.com").await;
    let list = b
        .get(app.url("/author/questions?q=authored"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("flagged") && list.contains("too hard"),
        "{list}"
    );
    assert!(list.contains("40 responses"));
    // a second run at the same time is skipped, not doubled
    let mut tx = pool.begin().await.unwrap();
    assert!(exambank::db::calibration::try_lock(&mut tx).await.unwrap());
    assert!(
        exambank::services::calibration::run(&pool)
            .await
            .unwrap()
            .skipped
    );
    drop(tx);
}
