//! Answer saves written in batches (`save_answers`): each answer of a batch lands whole (the
//! answer, its mastery areas, its statistics-and-card row) or not at all, a refused answer leaves
//! nothing behind, and answers refused for a stale read are saved afterwards through the server.

use exambank::db::attempts::{read_for_answer, save_answers, AnswerWrite};
use exambank::domain::answer::AnswerPlan;
use exambank::domain::learning::on_answer;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{key, seed_fixture, TestApp};

struct Learner {
    user: Uuid,
    attempt: Uuid,
    tokens: Value,
}

async fn learner(app: &TestApp, pool: &PgPool, email: &str) -> Learner {
    let tokens = app.register(email).await;
    let a = app
        .start_attempt(&tokens, json!({"count": 6, "mode": "exam"}))
        .await;
    let attempt: Uuid = a["id"].as_str().unwrap().parse().unwrap();
    let user = sqlx::query_scalar("SELECT user_id FROM attempts WHERE id = $1")
        .bind(attempt)
        .fetch_one(pool)
        .await
        .unwrap();
    Learner {
        user,
        attempt,
        tokens,
    }
}

/// The write a server would make for choosing the question's first correct option (or its first
/// option when `wrong`), read from the database as it is now.
async fn write_for(pool: &PgPool, l: &Learner, position: i32, wrong: bool) -> AnswerWrite {
    let mut conn = pool.acquire().await.unwrap();
    let t = read_for_answer(&mut conn, l.attempt, l.user, position)
        .await
        .unwrap()
        .unwrap();
    let right = key(pool, &l.attempt.to_string(), position.into()).await;
    let choice = if wrong {
        t.item
            .option_order
            .iter()
            .find(|o| !right.contains(o))
            .unwrap()
            .clone()
    } else {
        right[0].clone()
    };
    let correct = !wrong && right.len() == 1;
    AnswerWrite {
        attempt_id: l.attempt,
        user_id: l.user,
        position,
        grace_secs: 5,
        plan: AnswerPlan {
            base_revision: t.item.revision,
            choices: vec![choice],
            flagged: false,
            correct: Some(correct),
            add_ms: 3000,
            stamps_answered: true,
            learning: Some(on_answer(
                t.item.question_state().question,
                correct,
                3000,
                &t.areas.0,
                t.card().as_ref(),
                t.stats_seen,
                chrono::Utc::now(),
            )),
        },
    }
}

async fn stored(pool: &PgPool, l: &Learner, position: i32) -> (Vec<String>, i32) {
    sqlx::query_as(
        "SELECT choices, revision FROM attempt_questions WHERE attempt_id = $1 AND position = $2",
    )
    .bind(l.attempt)
    .bind(position)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn mastery_rows(pool: &PgPool, user: Uuid) -> Vec<(String, String, f64, f64, i32, i32)> {
    sqlx::query_as(
        "SELECT area_kind, area, ability, variance, answered, correct FROM mastery
         WHERE user_id = $1 ORDER BY area_kind, area",
    )
    .bind(user)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn times_answered(pool: &PgPool, user: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT coalesce(sum(times_answered), 0)::int8 FROM user_question_stats WHERE user_id = $1",
    )
    .bind(user)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_batch_writes_each_answer_whole_or_not_at_all(pool: PgPool) {
    let _bank = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = learner(&app, &pool, "ann@example.com").await;
    let bob = learner(&app, &pool, "bob@example.com").await;
    let cat = learner(&app, &pool, "cat@example.com").await;
    let dan = learner(&app, &pool, "dan@example.com").await;
    let eve = learner(&app, &pool, "eve@example.com").await;

    let ann1 = write_for(&pool, &ann, 1, false).await;
    let bob1 = write_for(&pool, &bob, 1, true).await;
    // a second answer of a learner already in the batch: refused, read again later
    let ann2 = write_for(&pool, &ann, 2, false).await;
    // based on a revision that has moved
    let mut cat1 = write_for(&pool, &cat, 1, false).await;
    cat1.plan.base_revision += 1;
    // the attempt was submitted after the read
    let dan1 = write_for(&pool, &dan, 1, false).await;
    let r = app.try_submit(&dan.tokens, &dan.attempt).await;
    assert_eq!(r.status(), StatusCode::OK);
    // the learner's mastery moved after the read (here: a row the read did not see)
    let eve1 = write_for(&pool, &eve, 1, false).await;
    let mut eve_stale = eve1.clone();
    eve_stale.plan.learning.as_mut().unwrap().areas[0].seen = 0;

    let before_cat = stored(&pool, &cat, 1).await;
    let before_ann2 = stored(&pool, &ann, 2).await;
    let mut conn = pool.acquire().await.unwrap();
    let got = save_answers(&mut conn, &[&ann1, &bob1, &ann2, &cat1, &dan1, &eve_stale])
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![
            Some(ann1.plan.base_revision + 1),
            Some(bob1.plan.base_revision + 1),
            None,
            None,
            None,
            None
        ]
    );

    // the written answers carry everything they teach, exactly as computed
    for (l, w) in [(&ann, &ann1), (&bob, &bob1)] {
        assert_eq!(
            stored(&pool, l, 1).await,
            (w.plan.choices.clone(), w.plan.base_revision + 1)
        );
        let mut want: Vec<_> = w
            .plan
            .learning
            .as_ref()
            .unwrap()
            .areas
            .iter()
            .map(|a| {
                (
                    a.row.area_kind.clone(),
                    a.row.area.clone(),
                    a.row.ability,
                    a.row.variance,
                    a.row.answered,
                    a.row.correct,
                )
            })
            .collect();
        want.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        assert_eq!(mastery_rows(&pool, l.user).await, want);
        assert_eq!(times_answered(&pool, l.user).await, 1);
        let card: (Option<f64>, i32) = sqlx::query_as(
            "SELECT stability, reps FROM user_question_stats WHERE user_id = $1 AND question_id = $2",
        )
        .bind(l.user)
        .bind(w.plan.learning.as_ref().unwrap().question_id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            card,
            (Some(w.plan.learning.as_ref().unwrap().card.stability), 1)
        );
    }
    // the refused answers left nothing behind
    assert_eq!(stored(&pool, &ann, 2).await, before_ann2);
    assert_eq!(stored(&pool, &cat, 1).await, before_cat);
    for l in [&cat, &dan, &eve] {
        assert!(mastery_rows(&pool, l.user).await.is_empty());
        assert_eq!(times_answered(&pool, l.user).await, 0);
    }
    assert_eq!(
        mastery_rows(&pool, ann.user).await.len(),
        ann1.plan.learning.as_ref().unwrap().areas.len(),
        "ann's refused second answer taught nothing"
    );

    // read again, eve's answer goes through in the next batch, with ann changing her first
    // answer; ann's domain row was last written "yesterday", so its state then becomes
    // yesterday's snapshot
    sqlx::query(
        "UPDATE mastery SET day = CURRENT_DATE - 1 WHERE user_id = $1 AND area_kind = 'domain'",
    )
    .bind(ann.user)
    .execute(&pool)
    .await
    .unwrap();
    let ann1b = write_for(&pool, &ann, 1, true).await;
    let eve1 = write_for(&pool, &eve, 1, false).await;
    let got = save_answers(&mut conn, &[&ann1b, &eve1]).await.unwrap();
    assert_eq!(
        got,
        vec![
            Some(ann1b.plan.base_revision + 1),
            Some(eve1.plan.base_revision + 1)
        ]
    );
    assert_eq!(times_answered(&pool, ann.user).await, 2);
    assert_eq!(times_answered(&pool, eve.user).await, 1);
    let snap: Vec<(i32,)> = sqlx::query_as(
        "SELECT answered FROM mastery_snapshots WHERE user_id = $1 AND domain = $2 AND day = CURRENT_DATE - 1",
    )
    .bind(ann.user)
    .bind(&ann1.plan.learning.as_ref().unwrap().domain)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(snap, vec![(1,)], "yesterday's closing state was kept");
}

/// Ten learners answer all six questions of their attempts twice, one request at a time each,
/// all at once, against a server that keeps one batch per worker in the database (answers that
/// arrive meanwhile share the next batch). Checks that every acknowledged answer is stored and
/// taught the model exactly once; returns the server's batch metrics (batches, answers, answers
/// in failed batches).
async fn answer_at_once_and_check(app: &TestApp, pool: &PgPool) -> (f64, f64, f64) {
    let mut learners = Vec::new();
    for i in 0..10 {
        learners.push(learner(app, pool, &format!("l{i}@example.com")).await);
    }
    let mut tasks = Vec::new();
    for l in &learners {
        let opts: Vec<Vec<String>> = sqlx::query_scalar(
            "SELECT option_order FROM attempt_questions WHERE attempt_id = $1 ORDER BY position",
        )
        .bind(l.attempt)
        .fetch_all(pool)
        .await
        .unwrap();
        let app = app.clone();
        let tokens = l.tokens.clone();
        let attempt = l.attempt.to_string();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for round in 0..2 {
                for p in 1..=6usize {
                    let choice = opts[p - 1][round % opts[p - 1].len()].clone();
                    app.answer(
                        &tokens,
                        &attempt,
                        p as i64,
                        json!({"choices": [choice], "time_spent_ms": 2000}),
                    )
                    .await;
                    acked.push((p as i32, choice));
                }
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for t in tasks {
        acked.push(t.await.unwrap());
    }
    for (l, acked) in learners.iter().zip(&acked) {
        // the last acknowledged answer of each question is the stored one
        for p in 1..=6 {
            let last = acked.iter().rev().find(|(q, _)| *q == p).unwrap();
            assert_eq!(stored(pool, l, p).await.0, vec![last.1.clone()]);
        }
        // every change taught the model once: 12 answers, each a change
        assert_eq!(times_answered(pool, l.user).await, 12);
        let domain_answers: i64 = mastery_rows(pool, l.user)
            .await
            .iter()
            .filter(|r| r.0 == "domain")
            .map(|r| i64::from(r.4))
            .sum();
        assert_eq!(domain_answers, 12);
    }
    let metrics = app
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    (
        value("exambank_answer_batch_size_count"),
        value("exambank_answer_batch_size_sum"),
        value("exambank_answer_batch_saves_total{outcome=\"failed\"}"),
    )
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn learners_answering_at_once_share_batches_and_every_answer_counts(pool: PgPool) {
    let _bank = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn_with(pool.clone(), &["--answer-batches", "1"]).await;
    let (batches, answers, failed) = answer_at_once_and_check(&app, &pool).await;
    assert_eq!(answers, 120.0, "every save went through the batcher");
    assert!(
        batches < answers,
        "{batches} batches for {answers} answers: none was shared"
    );
    assert_eq!(failed, 0.0);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn answers_of_a_failed_batch_are_saved_one_by_one(pool: PgPool) {
    let _bank = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn_with(pool.clone(), &["--answer-batches", "1"]).await;
    // every batch of more than one answer now fails in the database
    sqlx::query("ALTER FUNCTION save_answers RENAME TO save_answers_gone")
        .execute(&pool)
        .await
        .unwrap();
    let (batches, answers, failed) = answer_at_once_and_check(&app, &pool).await;
    assert!(batches < answers);
    assert!(
        failed > 0.0,
        "no batch failed: the fallback was not exercised"
    );
}
