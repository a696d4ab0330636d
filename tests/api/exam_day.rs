//! Exam day for a big cohort (issue 18), over HTTP: attempts prepared ahead of the opening,
//! a start that only stamps the clock, late joiners prepared at join time, and a shared
//! deadline whose answers inside the grace window count when the sweeper finalizes everyone.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use exambank::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{seed_fixture, TestApp};

/// A server whose sweeper runs every second (it prepares and finalizes), a teacher and a
/// cohort with `members` learners.
async fn cohort(pool: PgPool, members: usize) -> (TestApp, Value, String, String, Vec<Value>) {
    let app = TestApp::spawn_with(pool, &["--sweep-interval-secs", "1"]).await;
    let teacher = app.user_with_role("t@example.com", Role::Instructor).await;
    let c = app.create_cohort(&teacher, "Exam day").await;
    let code = c["join_code"].as_str().unwrap().to_string();
    let mut learners = Vec::new();
    for i in 0..members {
        let l = app.register(&format!("l{i}@example.com")).await;
        app.join_cohort(&l, &code).await;
        learners.push(l);
    }
    (
        app,
        teacher,
        c["id"].as_str().unwrap().to_string(),
        code,
        learners,
    )
}

async fn schedule(
    app: &TestApp,
    teacher: &Value,
    cohort: &str,
    opens: DateTime<Utc>,
    closes: DateTime<Utc>,
) -> Uuid {
    let body = json!({"blueprint": "quick", "opens_at": opens, "closes_at": closes});
    app.schedule_exam(teacher, cohort, body).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn user_id(who: &Value) -> Uuid {
    who["user"]["id"].as_str().unwrap().parse().unwrap()
}

/// (attempt, learner, status, started_at, deadline is set, items)
type Row = (Uuid, Uuid, String, DateTime<Utc>, bool, i64);

async fn attempts_at(pool: &PgPool, exam: Uuid) -> Vec<Row> {
    sqlx::query_as(
        "SELECT t.id, t.user_id, t.status, t.started_at, t.deadline IS NOT NULL,
                (SELECT count(*) FROM attempt_questions a WHERE a.attempt_id = t.id AND a.user_id = t.user_id)
           FROM attempts t WHERE t.cohort_exam_id = $1 ORDER BY t.user_id",
    )
    .bind(exam)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Waits (up to 15 s) until the exam has `n` attempts.
async fn wait_for_attempts(pool: &PgPool, exam: Uuid, n: usize) -> Vec<Row> {
    for _ in 0..150 {
        let rows = attempts_at(pool, exam).await;
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("the exam's attempts were not prepared within 15 s");
}

async fn start(app: &TestApp, who: &Value, cohort: &str, exam: Uuid) -> reqwest::Response {
    app.start_cohort_exam(who, cohort, exam).await
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn attempts_are_prepared_before_the_window_opens_and_the_clock_starts_at_start(pool: PgPool) {
    let _bank = seed_fixture(&pool, 4).await;
    let (app, teacher, cohort, _, learners) = cohort(pool.clone(), 2).await;
    let (ann, bob) = (&learners[0], &learners[1]);
    let opens = Utc::now() + Duration::seconds(6);
    let exam = schedule(&app, &teacher, &cohort, opens, opens + Duration::hours(1)).await;

    // the sweeper prepares both members' attempts before the opening: items written, no clock
    let prepared = wait_for_attempts(&pool, exam, 2).await;
    assert!(Utc::now() < opens, "prepared only after the opening");
    for (_, _, status, _, has_deadline, items) in &prepared {
        assert_eq!(status, "prepared");
        assert!(!has_deadline, "no clock runs on a prepared attempt");
        assert_eq!(*items, 20, "every item is written");
    }
    let ann_prepared = prepared.iter().find(|r| r.1 == user_id(ann)).unwrap().0;

    // nobody sees a prepared attempt: not the learner (list, read, answer), not the owner
    let mine = app.get_json(ann, "/api/v1/attempts").await;
    assert_eq!(mine.as_array().unwrap().len(), 0, "{mine}");
    let r = app
        .get_as(ann, &format!("/api/v1/attempts/{ann_prepared}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .put_as(
            ann,
            &format!("/api/v1/attempts/{ann_prepared}/answers/1"),
            json!({"choices": []}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let results = app
        .get_json(
            &teacher,
            &format!("/api/v1/cohorts/{cohort}/exams/{exam}/results"),
        )
        .await;
    for l in results["learners"].as_array().unwrap() {
        assert_eq!(l["status"], "not_started", "{l}");
        assert!(l["attempt_id"].is_null());
    }
    // starting before the opening is refused, and the prepared attempt stays as it was
    let r = start(&app, ann, &cohort, exam).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(attempts_at(&pool, exam).await, prepared);

    // after the opening (and a pause), starting hands over the prepared attempt: the clock
    // starts now, not when it was prepared
    tokio::time::sleep(
        (opens - Utc::now()).to_std().unwrap_or_default() + StdDuration::from_millis(1500),
    )
    .await;
    let before = Utc::now();
    let r = start(&app, ann, &cohort, exam).await;
    let after = Utc::now();
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["id"], ann_prepared.to_string(), "the prepared attempt");
    assert_eq!(a["status"], "in_progress");
    assert_eq!(a["questions"].as_array().unwrap().len(), 20);
    let started: DateTime<Utc> = a["started_at"].as_str().unwrap().parse().unwrap();
    let deadline: DateTime<Utc> = a["deadline"].as_str().unwrap().parse().unwrap();
    let slack = Duration::milliseconds(50);
    assert!(
        started >= before - slack && started <= after + slack,
        "{started} not within the request {before}..{after}"
    );
    assert_eq!(
        deadline,
        started + Duration::minutes(30),
        "quick: 30 minutes"
    );
    // one start per member
    let r = start(&app, ann, &cohort, exam).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // the owner sees ann in progress and bob not started
    let results = app
        .get_json(
            &teacher,
            &format!("/api/v1/cohorts/{cohort}/exams/{exam}/results"),
        )
        .await;
    let status_of = |who: &Value| {
        results["learners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["user_id"] == who["user"]["id"])
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of(ann), "in_progress");
    assert_eq!(status_of(bob), "not_started");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_member_who_joins_after_preparation_is_prepared_at_join(pool: PgPool) {
    let _bank = seed_fixture(&pool, 4).await;
    let (app, teacher, cohort, code, learners) = cohort(pool.clone(), 2).await;
    // opens in 30 minutes: inside the default lead time of an hour
    let opens = Utc::now() + Duration::minutes(30);
    let exam = schedule(&app, &teacher, &cohort, opens, opens + Duration::hours(1)).await;
    // and one that opens in three hours: not prepared yet
    let later = Utc::now() + Duration::hours(3);
    let exam_later = schedule(&app, &teacher, &cohort, later, later + Duration::hours(1)).await;
    wait_for_attempts(&pool, exam, learners.len()).await;

    let carol = app.register("carol@example.com").await;
    app.join_cohort(&carol, &code).await;
    // prepared by the join itself, before its response
    let rows = attempts_at(&pool, exam).await;
    let theirs: Vec<&Row> = rows.iter().filter(|r| r.1 == user_id(&carol)).collect();
    assert_eq!(theirs.len(), 1, "the late joiner is prepared");
    assert_eq!(theirs[0].2, "prepared");
    assert_eq!(theirs[0].5, 20);
    assert!(attempts_at(&pool, exam_later).await.is_empty());

    // a removed member's prepared attempt goes with them
    let member = format!("/api/v1/cohorts/{cohort}/members/{}", user_id(&carol));
    let r = app.delete_as(&teacher, &member).await;
    assert!(r.status().is_success(), "{}", r.status());
    let rows = attempts_at(&pool, exam).await;
    assert!(rows.iter().all(|r| r.1 != user_id(&carol)));
    assert_eq!(rows.len(), learners.len());
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn an_answer_inside_the_grace_window_of_a_mass_deadline_is_counted(pool: PgPool) {
    let _bank = seed_fixture(&pool, 4).await;
    let (app, teacher, cohort, _, learners) = cohort(pool.clone(), 12).await;
    let closes = Utc::now() + Duration::seconds(12);
    let exam = schedule(
        &app,
        &teacher,
        &cohort,
        Utc::now() - Duration::minutes(1),
        closes,
    )
    .await;
    // everyone starts and answers question 1
    let mut sitting = Vec::new();
    for l in &learners {
        let r = start(&app, l, &cohort, exam).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let a: Value = r.json().await.unwrap();
        let deadline: DateTime<Utc> = a["deadline"].as_str().unwrap().parse().unwrap();
        assert!(
            (deadline - closes).num_milliseconds().abs() < 2,
            "the shared deadline"
        );
        let option = |p: usize| {
            a["questions"][p]["options"][0]["id"]
                .as_str()
                .unwrap()
                .to_string()
        };
        sitting.push((
            l,
            a["id"].as_str().unwrap().to_string(),
            option(0),
            option(1),
        ));
    }
    for (l, id, first, _) in &sitting {
        let r = app
            .put_as(
                l,
                &format!("/api/v1/attempts/{id}/answers/1"),
                json!({"choices": [first]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // the deadline passes; inside the grace window every learner's answer to question 2 is taken
    tokio::time::sleep(
        (closes - Utc::now()).to_std().unwrap_or_default() + StdDuration::from_millis(300),
    )
    .await;
    let grace_answers = futures_util::future::join_all(
        sitting
            .iter()
            .map(|(l, id, _, second)| app.put_answer(l, id, 2, json!({"choices": [second]}))),
    )
    .await;
    assert!(Utc::now() < closes + Duration::seconds(exambank::services::attempts::GRACE_SECS));
    for r in grace_answers {
        assert_eq!(r.status(), StatusCode::OK, "inside the grace window");
    }
    // nobody submits: the sweeper finalizes all of them at once after the grace window
    let mut open = i64::MAX;
    for _ in 0..200 {
        open = sqlx::query_scalar(
            "SELECT count(*) FROM attempts WHERE cohort_exam_id = $1 AND (status = 'in_progress' OR result IS NULL)",
        )
        .bind(exam)
        .fetch_one(&pool)
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    assert_eq!(open, 0, "the sweeper finalized every attempt");
    for (l, id, first, second) in &sitting {
        let res = app
            .get_json(l, &format!("/api/v1/attempts/{id}/result"))
            .await;
        assert_eq!(res["answered"], 2, "the grace-window answer counts: {res}");
        let a = app.get_json(l, &format!("/api/v1/attempts/{id}")).await;
        assert_eq!(a["status"], "expired");
        assert_eq!(a["questions"][0]["choices"], json!([first]));
        assert_eq!(a["questions"][1]["choices"], json!([second]));
    }
}
