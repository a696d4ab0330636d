//! Cohorts and cohort exams over HTTP: roster, join codes, windows, one start per member,
//! one question set for everyone, extensions, and who may see what.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use exambank::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{error_fields, problem, seed_fixture, wrong_option, TestApp};

struct Class {
    app: TestApp,
    teacher: Value,
    ann: Value,
    bob: Value,
    outsider: Value,
    other_teacher: Value,
    id: String,
}

async fn class(pool: PgPool) -> Class {
    let app = TestApp::spawn(pool).await;
    let teacher = app.user_with_role("t@example.com", Role::Instructor).await;
    let other_teacher = app.user_with_role("t2@example.com", Role::Instructor).await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let outsider = app.register("eve@example.com").await;
    let c = app.create_cohort(&teacher, "Spring cohort").await;
    let code = c["join_code"].as_str().unwrap().to_string();
    for who in [&ann, &bob] {
        app.join_cohort(who, &code.to_lowercase()).await;
    }
    Class {
        id: c["id"].as_str().unwrap().to_string(),
        app,
        teacher,
        ann,
        bob,
        outsider,
        other_teacher,
    }
}

impl Class {
    async fn schedule(&self, opens: chrono::DateTime<Utc>, closes: chrono::DateTime<Utc>) -> Value {
        let body = json!({"blueprint": "quick", "opens_at": opens, "closes_at": closes});
        self.app.schedule_exam(&self.teacher, &self.id, body).await
    }
    async fn start(&self, who: &Value, exam: &str) -> reqwest::Response {
        self.app.start_cohort_exam(who, &self.id, exam).await
    }
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn roster_codes_and_access(pool: PgPool) {
    let _b = seed_fixture(&pool, 4).await;
    let c = class(pool).await;
    let app = &c.app;
    // members see the cohort without its code; the owner sees the code
    let as_member = app
        .get_json(&c.ann, &format!("/api/v1/cohorts/{}", c.id))
        .await;
    assert!(as_member.get("join_code").is_none());
    assert_eq!(as_member["member_count"], 2);
    let mine = app.get_json(&c.bob, "/api/v1/cohorts").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    // outsiders and other instructors get 404 for everything of the cohort
    for who in [&c.outsider, &c.other_teacher] {
        for path in [
            format!("/api/v1/cohorts/{}", c.id),
            format!("/api/v1/cohorts/{}/exams", c.id),
            format!("/api/v1/cohorts/{}/members", c.id),
        ] {
            problem(app.get_as(who, &path).await, 404).await;
        }
    }
    // members cannot manage the roster
    problem(
        app.get_as(&c.ann, &format!("/api/v1/cohorts/{}/members", c.id))
            .await,
        403,
    )
    .await;
    let roster = app
        .get_json(&c.teacher, &format!("/api/v1/cohorts/{}/members", c.id))
        .await;
    assert_eq!(roster.as_array().unwrap().len(), 2);
    // rotating the code retires the old one
    let before = app
        .get_json(&c.teacher, &format!("/api/v1/cohorts/{}", c.id))
        .await;
    let after: Value = app
        .post_empty_as(&c.teacher, &format!("/api/v1/cohorts/{}/code", c.id))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(before["join_code"], after["join_code"]);
    let r = app
        .post_as(
            &c.outsider,
            "/api/v1/cohorts/join",
            json!({"code": before["join_code"]}),
        )
        .await;
    assert_eq!(error_fields(&problem(r, 422).await), ["code"]);
    // removing a member
    let bob_id = c.bob["user"]["id"].as_str().unwrap();
    let r = app
        .delete_as(
            &c.teacher,
            &format!("/api/v1/cohorts/{}/members/{bob_id}", c.id),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(
        app.get_as(&c.bob, &format!("/api/v1/cohorts/{}", c.id))
            .await,
        404,
    )
    .await;
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn windows_one_start_one_question_set_and_extensions(pool: PgPool) {
    let _b = seed_fixture(&pool, 4).await;
    let c = class(pool.clone()).await;
    let now = Utc::now();
    // members cannot schedule; bad windows are 422
    let r = c
        .app
        .post_as(
            &c.ann,
            &format!("/api/v1/cohorts/{}/exams", c.id),
            json!({"blueprint": "quick", "opens_at": now, "closes_at": now + Duration::hours(1)}),
        )
        .await;
    problem(r, 403).await;
    let r = c
        .app
        .post_as(
            &c.teacher,
            &format!("/api/v1/cohorts/{}/exams", c.id),
            json!({"blueprint": "nope", "opens_at": now, "closes_at": now - Duration::hours(1)}),
        )
        .await;
    let fields = error_fields(&problem(r, 422).await);
    assert!(fields.contains(&"blueprint".to_string()) && fields.contains(&"closes_at".to_string()));

    // before the window opens: 409
    let later = c
        .schedule(now + Duration::hours(1), now + Duration::hours(2))
        .await;
    assert_eq!(later["state"], "scheduled");
    let p = problem(c.start(&c.ann, later["id"].as_str().unwrap()).await, 409).await;
    assert_eq!(p["type"], "https://exambank.dev/problems/window-not-open");

    // an open window
    let exam = c
        .schedule(now - Duration::minutes(5), now + Duration::hours(2))
        .await;
    let eid = exam["id"].as_str().unwrap();
    assert_eq!(exam["question_count"], 20);
    problem(c.start(&c.outsider, eid).await, 404).await;
    problem(c.start(&c.teacher, eid).await, 403).await;
    let r = c.start(&c.ann, eid).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let ann_attempt: Value = r.json().await.unwrap();
    let p = problem(c.start(&c.ann, eid).await, 409).await;
    assert_eq!(p["type"], "https://exambank.dev/problems/already-started");
    let bob_attempt: Value = c.start(&c.bob, eid).await.json().await.unwrap();
    let set = |a: &Value| -> BTreeSet<(String, i64)> {
        a["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                (
                    q["question_id"].as_str().unwrap().to_string(),
                    q["version"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        set(&ann_attempt),
        set(&bob_attempt),
        "the same question set for every member"
    );
    assert_eq!(set(&ann_attempt).len(), 20);

    // deadline: start + 30 minutes (quick), then an extension moves it
    let deadline =
        |a: &Value| chrono::DateTime::parse_from_rfc3339(a["deadline"].as_str().unwrap()).unwrap();
    let started =
        chrono::DateTime::parse_from_rfc3339(ann_attempt["started_at"].as_str().unwrap()).unwrap();
    assert_eq!((deadline(&ann_attempt) - started).num_minutes(), 30);
    let ann_id = c.ann["user"]["id"].as_str().unwrap().to_string();
    let r = c
        .app
        .post_as(
            &c.teacher,
            &format!("/api/v1/cohorts/{}/exams/{eid}/extensions", c.id),
            json!({"user_id": ann_id, "minutes": 15}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let now_state = c
        .app
        .attempt(&c.ann, ann_attempt["id"].as_str().unwrap())
        .await;
    assert_eq!(
        (deadline(&now_state) - started).num_minutes(),
        45,
        "extension applied during the attempt"
    );
    let r = c
        .app
        .post_as(
            &c.ann,
            &format!("/api/v1/cohorts/{}/exams/{eid}/extensions", c.id),
            json!({"user_id": ann_id, "minutes": 500}),
        )
        .await;
    problem(r, 403).await;

    // after the window closes: 409 (the window is moved into the past in the database)
    let closing = c
        .schedule(now - Duration::hours(2), now + Duration::minutes(1))
        .await;
    sqlx::query(
        "UPDATE cohort_exams SET closes_at = now() - interval '1 minute' WHERE id = $1::uuid",
    )
    .bind(closing["id"].as_str().unwrap())
    .execute(&pool)
    .await
    .unwrap();
    let p = problem(c.start(&c.ann, closing["id"].as_str().unwrap()).await, 409).await;
    assert_eq!(p["type"], "https://exambank.dev/problems/window-closed");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn results_item_statistics_and_csv(pool: PgPool) {
    let _b = seed_fixture(&pool, 4).await;
    let c = class(pool.clone()).await;
    let now = Utc::now();
    let exam = c
        .schedule(now - Duration::minutes(5), now + Duration::hours(2))
        .await;
    let eid = exam["id"].as_str().unwrap();
    // ann answers everything right; bob gets the question of ann's position 1 wrong
    let mut wrong_question = String::new();
    for (who, miss_first) in [(&c.ann, false), (&c.bob, true)] {
        let a: Value = c.start(who, eid).await.json().await.unwrap();
        let id = a["id"].as_str().unwrap();
        for q in a["questions"].as_array().unwrap() {
            let pos = q["position"].as_i64().unwrap();
            let k = crate::helpers::key(&pool, id, pos).await;
            let qid = q["question_id"].as_str().unwrap().to_string();
            let choices = if miss_first
                && (wrong_question.is_empty() || wrong_question == qid)
                && q["kind"] == "single"
            {
                wrong_question = qid;
                vec![wrong_option(q, &k)]
            } else {
                k
            };
            c.app
                .answer(who, id, pos, json!({"choices": choices}))
                .await;
        }
        c.app
            .post_empty_as(who, &format!("/api/v1/attempts/{id}/submit"))
            .await;
    }
    let path = format!("/api/v1/cohorts/{}/exams/{eid}/results", c.id);
    problem(c.app.get_as(&c.ann, &path).await, 403).await;
    problem(c.app.get_as(&c.other_teacher, &path).await, 404).await;
    let r: Value = c.app.get_json(&c.teacher, &path).await;
    let learners = r["learners"].as_array().unwrap();
    assert_eq!(learners.len(), 2);
    let by_email = |e: &str| learners.iter().find(|l| l["email"] == e).unwrap().clone();
    assert_eq!(by_email("ann@example.com")["correct"], 20);
    assert_eq!(by_email("bob@example.com")["correct"], 19);
    assert_eq!(by_email("bob@example.com")["status"], "submitted");
    // the item bob missed: facility 0.5, discrimination (20 − 19) / 0.5 × 0.5 = 1.0
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    let missed = items
        .iter()
        .find(|i| i["question_id"] == wrong_question.as_str())
        .unwrap();
    assert_eq!(missed["facility"], 0.5);
    assert_eq!(missed["discrimination"], 1.0);
    assert_eq!(missed["flagged"], false);
    let shares: f64 = missed["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["share"].as_f64().unwrap())
        .sum();
    assert!(
        (shares - 1.0).abs() < 1e-9,
        "each of the two learners chose one option"
    );
    assert!(items
        .iter()
        .filter(|i| i["question_id"] != wrong_question.as_str())
        .all(|i| i["facility"] == 1.0 && i["discrimination"].is_null()));
    assert!(!r["domains"].as_array().unwrap().is_empty());

    let csv = c.app.get_as(&c.teacher, &format!("{path}.csv")).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with(
        "learner,email,status,correct,total,percent,scaled_score,passed,time_used_seconds,"
    ));
    assert!(lines.iter().any(|l| l.starts_with("Test Learner,ann@example.com,submitted,20,20,100.0,1000,true,")), "{text}");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn group_mastery_and_instructor_access_to_results(pool: PgPool) {
    let _b = seed_fixture(&pool, 4).await;
    let c = class(pool.clone()).await;
    let now = Utc::now();
    let exam = c
        .schedule(now - Duration::minutes(5), now + Duration::hours(2))
        .await;
    let eid = exam["id"].as_str().unwrap();
    // ann takes the exam and gets everything wrong
    let a: Value = c.start(&c.ann, eid).await.json().await.unwrap();
    let aid = a["id"].as_str().unwrap();
    for q in a["questions"].as_array().unwrap() {
        let pos = q["position"].as_i64().unwrap();
        let k = crate::helpers::key(&pool, aid, pos).await;
        let wrong: Vec<String> = q["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .filter(|o| !k.contains(o))
            .take(1)
            .collect();
        c.app
            .answer(&c.ann, aid, pos, json!({"choices": wrong}))
            .await;
    }
    let result_path = format!("/api/v1/attempts/{aid}/result");
    // the owning instructor sees the result once it is final; nobody else does
    problem(c.app.get_as(&c.teacher, &result_path).await, 409).await;
    c.app.submit(&c.ann, aid).await;
    let res = c.app.get_json(&c.teacher, &result_path).await;
    assert_eq!(res["correct"], 0);
    for who in [&c.other_teacher, &c.bob] {
        problem(c.app.get_as(who, &result_path).await, 404).await;
    }
    // the group view: domain means and how many are below the pass threshold
    let path = format!("/api/v1/cohorts/{}/mastery", c.id);
    let owner_view: Value = c.app.get_json(&c.teacher, &path).await;
    let domains: Vec<&Value> = owner_view["areas"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "domain")
        .collect();
    assert_eq!(domains.len(), crate::helpers::topic_areas().len());
    assert!(domains.iter().all(|d| d["members"] == 2));
    assert!(domains
        .iter()
        .any(|d| d["below_threshold"].as_u64().unwrap() >= 1));
    assert_eq!(
        owner_view["members"].as_array().unwrap().len(),
        2 * crate::helpers::topic_areas().len(),
        "two members × every topic area for the heatmap"
    );
    let member_view: Value = c.app.get_json(&c.bob, &path).await;
    assert!(
        member_view.get("members").is_none(),
        "members see the group without names"
    );
    assert!(!member_view.to_string().contains("Test Learner"));
    problem(c.app.get_as(&c.outsider, &path).await, 404).await;
}
