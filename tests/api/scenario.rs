//! Scenario: a cohort of 200 learners starts the same cohort exam within one second and answers
//! concurrently against a real `exambank serve` process. Every acknowledged answer must be in
//! the owner's results (per-learner scores and per-option counts), and the p50/p99 latencies of
//! starts, answers and submits are printed (`-- --nocapture` shows them).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use exambank::domain::user::Role;
use futures_util::stream::{self, StreamExt};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::{Client, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{free_port, seed_fixture, url_of, wait_ready, Server};

const LEARNERS: usize = 200;
const SECRET: &str = "scenario-signing-key-0123456789abcdef-0123";

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(name: &str, mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let (p50, p99) = (percentile(&d, 0.5), percentile(&d, 0.99));
    println!(
        "scenario: {name:<8} n={:<5} p50 {p50:>7.1} ms  p99 {p99:>7.1} ms  max {:>7.1} ms",
        d.len(),
        d.last().unwrap().as_secs_f64() * 1000.0
    );
    (p50, p99)
}

struct Learner {
    token: String,
    attempt: String,
    /// (position, question id, option ids, how many to choose)
    questions: Vec<(i64, String, Vec<String>, usize)>,
    /// position → the last choices the server acknowledged
    acknowledged: BTreeMap<i64, Vec<String>>,
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn two_hundred_learners_sit_one_cohort_exam_at_once(
    pool_opts: PgPoolOptions,
    opts: PgConnectOptions,
) {
    let pool = pool_opts.connect_with(opts.clone()).await.unwrap();
    let _bank = seed_fixture(&pool, 4).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_exambank"))
            .arg("serve")
            .env("DATABASE_URL", url_of(&opts))
            .env("EXAMBANK_ADDR", format!("127.0.0.1:{port}"))
            .env("EXAMBANK_JWT_SECRET", SECRET)
            .env("EXAMBANK_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("exambank serve starts"),
    );
    wait_ready(&base).await;
    // idle connections are dropped before the server's 5 s keep-alive closes them: otherwise
    // a request sent on a connection the server is closing at that moment fails unanswered
    // (hyper's IncompleteMessage), which a loaded machine makes likely after the start phase
    let client = Client::builder()
        .pool_max_idle_per_host(LEARNERS)
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap();
    let url = |p: &str| format!("{base}/api/v1{p}");

    // accounts are made directly (one password hash for all: logins are not under test here)
    // and given access tokens signed with the server's key
    let hash = exambank::auth::password::hash_now("scenario-password-0123").unwrap();
    let secret = SecretString::from(SECRET.to_string());
    let mut conn = pool.acquire().await.unwrap();
    let teacher = exambank::db::users::insert(
        &mut conn,
        "teacher@example.com",
        "Teacher",
        Role::Instructor.as_str(),
        &hash,
    )
    .await
    .unwrap()
    .unwrap();
    let teacher_token =
        exambank::auth::tokens::issue_access(&secret, teacher.id, Role::Instructor).unwrap();
    let mut tokens = Vec::new();
    for i in 0..LEARNERS {
        let u = exambank::db::users::insert(
            &mut conn,
            &format!("learner{i:03}@example.com"),
            &format!("Learner {i:03}"),
            Role::Learner.as_str(),
            &hash,
        )
        .await
        .unwrap()
        .unwrap();
        tokens.push(exambank::auth::tokens::issue_access(&secret, u.id, Role::Learner).unwrap());
    }
    drop(conn);

    // the cohort, everyone joins with the code, the exam is open now
    let c: Value = client
        .post(url("/cohorts"))
        .bearer_auth(&teacher_token)
        .json(&json!({"name": "Big cohort"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cohort = c["id"].as_str().unwrap().to_string();
    let code = c["join_code"].as_str().unwrap().to_string();
    let joined: Vec<StatusCode> = stream::iter(&tokens)
        .map(|t| {
            let r = client
                .post(url("/cohorts/join"))
                .bearer_auth(t)
                .json(&json!({ "code": code }))
                .send();
            async move { r.await.unwrap().status() }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(joined.iter().all(|s| *s == StatusCode::OK), "{joined:?}");
    let now = chrono::Utc::now();
    let r = client
        .post(url(&format!("/cohorts/{cohort}/exams")))
        .bearer_auth(&teacher_token)
        .json(
            &json!({"blueprint": "quick", "opens_at": now - chrono::Duration::minutes(1),
                      "closes_at": now + chrono::Duration::hours(1)}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let exam = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // all 200 start at once
    let t0 = Instant::now();
    let started: Vec<(Duration, StatusCode, Value, String)> =
        futures_util::future::join_all(tokens.iter().map(|t| {
            let r = client
                .post(url(&format!("/cohorts/{cohort}/exams/{exam}/attempts")))
                .bearer_auth(t)
                .send();
            async move {
                let s = Instant::now();
                let r = r.await.unwrap();
                let status = r.status();
                let body: Value = r.json().await.unwrap();
                (s.elapsed(), status, body, t.clone())
            }
        }))
        .await;
    let start_window = t0.elapsed();
    println!(
        "scenario: {LEARNERS} starts issued together, all answered within {:.0} ms",
        start_window.as_secs_f64() * 1000.0
    );
    let mut start_latency = Vec::new();
    let mut learners = Vec::new();
    let mut sets = BTreeSet::new();
    for (d, status, body, token) in started {
        assert_eq!(status, StatusCode::CREATED, "{body}");
        start_latency.push(d);
        let questions: Vec<(i64, String, Vec<String>, usize)> = body["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                (
                    q["position"].as_i64().unwrap(),
                    q["question_id"].as_str().unwrap().to_string(),
                    q["options"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|o| o["id"].as_str().unwrap().to_string())
                        .collect(),
                    if q["kind"] == "multiple" { 2 } else { 1 },
                )
            })
            .collect();
        sets.insert(
            questions
                .iter()
                .map(|q| q.1.clone())
                .collect::<BTreeSet<_>>(),
        );
        learners.push(Learner {
            token,
            attempt: body["id"].as_str().unwrap().to_string(),
            questions,
            acknowledged: BTreeMap::new(),
        });
    }
    assert_eq!(sets.len(), 1, "everyone has the same question set");

    // everyone answers concurrently: every question once, a fifth of them changed later
    let answer_latency = std::sync::Mutex::new(Vec::new());
    let refused = std::sync::atomic::AtomicUsize::new(0);
    futures_util::future::join_all(learners.iter_mut().enumerate().map(|(i, l)| {
        let client = &client;
        let answer_latency = &answer_latency;
        let refused = &refused;
        let url = &url;
        async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
            let mut order: Vec<usize> = (0..l.questions.len()).collect();
            order.shuffle(&mut rng);
            let changes: Vec<usize> = order
                .iter()
                .copied()
                .filter(|_| rng.gen_bool(0.2))
                .collect();
            for q in order.into_iter().chain(changes) {
                let (position, _, options, select) = &l.questions[q];
                let choices: Vec<String> = options
                    .choose_multiple(&mut rng, *select)
                    .cloned()
                    .collect();
                let s = Instant::now();
                let r = client
                    .put(url(&format!("/attempts/{}/answers/{position}", l.attempt)))
                    .bearer_auth(&l.token)
                    .json(
                        &json!({"choices": choices, "time_spent_ms": rng.gen_range(5_000..90_000)}),
                    )
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                answer_latency.lock().unwrap().push(s.elapsed());
                if status == StatusCode::OK {
                    l.acknowledged.insert(*position, choices);
                } else {
                    refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    }))
    .await;
    assert_eq!(
        refused.into_inner(),
        0,
        "no answer was refused under concurrency"
    );
    let submitted: Vec<(Duration, StatusCode)> =
        futures_util::future::join_all(learners.iter().map(|l| {
            let r = client
                .post(url(&format!("/attempts/{}/submit", l.attempt)))
                .bearer_auth(&l.token)
                .send();
            async move {
                let s = Instant::now();
                let status = r.await.unwrap().status();
                (s.elapsed(), status)
            }
        }))
        .await;
    assert!(submitted.iter().all(|(_, s)| *s == StatusCode::OK));

    // the owner's results hold every acknowledged answer
    let res: Value = client
        .get(url(&format!("/cohorts/{cohort}/exams/{exam}/results")))
        .bearer_auth(&teacher_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = res["items"].as_array().unwrap();
    let correct_sets: HashMap<String, BTreeSet<String>> = items
        .iter()
        .map(|it| {
            (
                it["question_id"].as_str().unwrap().to_string(),
                it["options"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|o| o["correct"] == true)
                    .map(|o| o["id"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    // expected: per learner correct count; per (question, option) how many chose it
    let mut chose: HashMap<(String, String), usize> = HashMap::new();
    let mut expected_correct: HashMap<String, i64> = HashMap::new();
    let mut acknowledged_total = 0;
    for l in &learners {
        let mut right = 0;
        for (position, qid, _, _) in &l.questions {
            if let Some(c) = l.acknowledged.get(position) {
                acknowledged_total += 1;
                for o in c {
                    *chose.entry((qid.clone(), o.clone())).or_default() += 1;
                }
                if c.iter().cloned().collect::<BTreeSet<_>>() == correct_sets[qid] {
                    right += 1;
                }
            }
        }
        expected_correct.insert(l.attempt.clone(), right);
    }
    assert_eq!(acknowledged_total, LEARNERS * learners[0].questions.len());
    let rows = res["learners"].as_array().unwrap();
    assert_eq!(rows.len(), LEARNERS);
    for row in rows {
        assert_eq!(row["status"], "submitted");
        let attempt = row["attempt_id"].as_str().unwrap();
        assert_eq!(
            row["correct"].as_i64().unwrap(),
            expected_correct[attempt],
            "learner {} scored on the answers the server acknowledged",
            row["display_name"]
        );
    }
    for it in items {
        let qid = it["question_id"].as_str().unwrap();
        for o in it["options"].as_array().unwrap() {
            let n = chose
                .get(&(qid.to_string(), o["id"].as_str().unwrap().to_string()))
                .copied()
                .unwrap_or(0);
            let counted = (o["share"].as_f64().unwrap() * LEARNERS as f64).round() as usize;
            assert_eq!(counted, n, "option {} of {qid}", o["id"]);
        }
    }

    let (_, start_p99) = report("start", start_latency);
    let (_, answer_p99) = report("answer", answer_latency.into_inner().unwrap());
    let (_, submit_p99) = report("submit", submitted.into_iter().map(|s| s.0).collect());
    println!(
        "scenario: {acknowledged_total} acknowledged answers all present in the results; p99 start {start_p99:.1} ms, answer {answer_p99:.1} ms, submit {submit_p99:.1} ms (debug build)"
    );
}
