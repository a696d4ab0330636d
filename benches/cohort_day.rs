//! Exam day for a big cohort (issue 18): N learners join one cohort; a `dva-c02` cohort exam
//! opens and everyone starts in the same second, answers all 65 questions with random think
//! time, and everyone submits in the same second. A second, short exam then closes on all of
//! them at once: each learner's last answer lands inside the grace window after the shared
//! deadline, nobody submits, and the deadline sweeper finalizes every attempt.
//!
//! The server is a real `exambank serve` process; the learners are concurrent HTTP clients in
//! this process. Each run gets a fresh database with the seeded bank. It prints, per phase,
//! p50 / p99 / max and errors, the offered answer rate, PostgreSQL's busy connections, and a
//! final verification: every acknowledged answer is stored as sent, every attempt is
//! finalized and counted the answers it holds, and the owner's results list every learner.
//!
//! Run: scripts/bench.sh cohort_day            (N = 1000 and 2000, the current build)
//!      BENCH_BASELINE_REV=<git rev> scripts/bench.sh cohort_day
//!                                              (the same, first for the server built from REV)
//! Settings: BENCH_LEARNERS (default "1000,2000"), BENCH_THINK_MS (mean think time between
//! answers, default 1500), BENCH_BASELINE_BIN and BENCH_BASELINE_SEED (a server binary to
//! measure first, and its revision's seed directory), BENCH_CLIENT_NICE (default 10).
mod support;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use exambank::domain::user::Role;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::with_database;
use uuid::Uuid;

const SECRET: &str = "bench-signing-key-0123456789abcdef0123456789";

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The bank files a server binary reads: its own revision's for the baseline (the format may
/// have changed since), this checkout's otherwise.
fn seed_dir(bin: &str) -> String {
    match std::env::var("BENCH_BASELINE_BIN") {
        Ok(b) if b == bin => std::env::var("BENCH_BASELINE_SEED")
            .expect("BENCH_BASELINE_SEED: the baseline revision's seed directory"),
        _ => concat!(env!("CARGO_MANIFEST_DIR"), "/seed").to_string(),
    }
}

fn run_cli(bin: &str, args: &[&str], url: &str) {
    let seed = seed_dir(bin);
    let st = Command::new(bin)
        .args(args)
        .env("DATABASE_URL", url)
        .env("EXAMBANK_SEED_DIR", seed)
        .stdout(Stdio::null())
        .status()
        .expect("run the server binary");
    assert!(st.success(), "{bin} {args:?} failed");
}

async fn start_server(bin: &str, url: &str) -> Server {
    let port = free_port();
    // the learners run at a lower CPU priority (see main); the server at the normal one
    let child = Command::new("nice")
        .args(["-n", &format!("-{}", client_nice()), bin, "serve"])
        .env("DATABASE_URL", url)
        .env("EXAMBANK_ADDR", format!("127.0.0.1:{port}"))
        .env("EXAMBANK_JWT_SECRET", SECRET)
        .env("EXAMBANK_SEED_DIR", seed_dir(bin))
        .env("EXAMBANK_SWEEP_INTERVAL_SECS", "1")
        .env("EXAMBANK_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the server");
    let base = format!("http://127.0.0.1:{port}");
    // from here on the server is killed and waited for when dropped
    let server = Server { child, base };
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{}/healthz", server.base)).send().await {
            if r.status().is_success() {
                return server;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not come up");
}

/// p50 / p99 / max in ms.
fn stats(v: &mut [Duration]) -> (f64, f64, f64) {
    v.sort();
    (
        support::percentile(v, 0.5),
        support::percentile(v, 0.99),
        v.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
    )
}

/// Samples PostgreSQL's busy backends of this database every 100 ms until stopped.
struct BusySampler {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<Vec<i64>>,
}

impl BusySampler {
    fn start(pool: &PgPool, db: &str) -> BusySampler {
        let stop = Arc::new(AtomicBool::new(false));
        let (pool, db, s) = (pool.clone(), db.to_string(), stop.clone());
        let handle = tokio::spawn(async move {
            let mut v = Vec::new();
            while !s.load(Ordering::Relaxed) {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state NOT IN ('idle') AND pid <> pg_backend_pid()",
                )
                .bind(&db)
                .fetch_one(&pool)
                .await
                .unwrap_or(0);
                v.push(n);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            v
        });
        BusySampler { stop, handle }
    }

    async fn finish(self) -> (f64, i64) {
        self.stop.store(true, Ordering::Relaxed);
        let v = self.handle.await.unwrap();
        let mean = v.iter().sum::<i64>() as f64 / v.len().max(1) as f64;
        (mean, v.into_iter().max().unwrap_or(0))
    }
}

#[derive(Default)]
struct Phase {
    latencies: Vec<Duration>,
    errors: usize,
    retried_503: usize,
}

fn report(name: &str, mut p: Phase, busy: (f64, i64), extra: &str) -> (f64, f64, f64, usize) {
    let (p50, p99, max) = stats(&mut p.latencies);
    println!(
        "  {name:<22} n={:>6}  p50={p50:>8.1} ms  p99={p99:>8.1} ms  max={max:>8.1} ms  errors={}  503-retried={}  db busy mean={:.1} max={}{extra}",
        p.latencies.len(),
        p.errors,
        p.retried_503,
        busy.0,
        busy.1
    );
    (p50, p99, max, p.errors)
}

/// Sends a request, retrying on 503 after its Retry-After (the documented client behaviour);
/// returns the time from the first send to the final answer, the final status and body.
async fn send_retrying(
    make: impl Fn() -> reqwest::RequestBuilder,
    retried: &AtomicUsize,
) -> (Duration, StatusCode, Vec<u8>) {
    let t = Instant::now();
    loop {
        match make().send().await {
            Ok(r) if r.status() == StatusCode::SERVICE_UNAVAILABLE => {
                retried.fetch_add(1, Ordering::Relaxed);
                let secs: u64 = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(secs)).await;
            }
            Ok(r) => {
                let s = r.status();
                let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                return (t.elapsed(), s, body);
            }
            Err(e) => {
                // a refused or reset connection: count it as an error, like a browser would show
                return (
                    t.elapsed(),
                    StatusCode::BAD_GATEWAY,
                    e.to_string().into_bytes(),
                );
            }
        }
    }
}

/// What the bench reads of a started attempt (the rest of the body is skipped unparsed).
#[derive(serde::Deserialize)]
struct StartBody {
    id: String,
    questions: Vec<StartQuestion>,
}

#[derive(serde::Deserialize)]
struct StartQuestion {
    position: i64,
    kind: String,
    options: Vec<StartOption>,
}

#[derive(serde::Deserialize)]
struct StartOption {
    id: String,
}

struct Learner {
    id: Uuid,
    token: String,
    attempt: Option<String>,
    /// (position, option ids, how many to choose)
    questions: Vec<(i64, Vec<String>, usize)>,
    /// position → last acknowledged choices
    acked: BTreeMap<i64, Vec<String>>,
}

fn sleep_until(t: Instant) -> tokio::time::Sleep {
    tokio::time::sleep_until(tokio::time::Instant::from_std(t))
}

/// Everyone starts `exam` at `at`; fills each learner's attempt and questions.
async fn start_all(
    client: &reqwest::Client,
    base: &str,
    cohort: &str,
    exam: &str,
    learners: &mut [Learner],
    at: Instant,
) -> Phase {
    let retried = AtomicUsize::new(0);
    let url = format!("{base}/api/v1/cohorts/{cohort}/exams/{exam}/attempts");
    let out = futures_util::future::join_all(learners.iter().map(|l| {
        let (url, retried) = (&url, &retried);
        async move {
            sleep_until(at).await;
            send_retrying(|| client.post(url).bearer_auth(&l.token), retried).await
        }
    }))
    .await;
    let mut phase = Phase::default();
    for (l, (d, status, body)) in learners.iter_mut().zip(out) {
        phase.latencies.push(d);
        if status != StatusCode::CREATED {
            phase.errors += 1;
            if phase.errors <= 3 {
                eprintln!("start: {status} {}", String::from_utf8_lossy(&body));
            }
            l.attempt = None;
            continue;
        }
        let body: StartBody = serde_json::from_slice(&body).expect("an attempt");
        l.attempt = Some(body.id);
        l.questions = body
            .questions
            .into_iter()
            .map(|q| {
                (
                    q.position,
                    q.options.into_iter().map(|o| o.id).collect(),
                    if q.kind == "multiple" { 2 } else { 1 },
                )
            })
            .collect();
        l.acked.clear();
    }
    phase.retried_503 = retried.into_inner();
    phase
}

/// Each learner answers `count` questions (all when None) in random order, with think time
/// uniform in [0, 2·think] before each; `last_at`: the moment to send the final answer.
async fn answer_all(
    client: &reqwest::Client,
    base: &str,
    learners: &mut [Learner],
    count: Option<usize>,
    think: Duration,
    last_at: Option<Instant>,
) -> Phase {
    let lat = Mutex::new(Vec::new());
    let errors = AtomicUsize::new(0);
    futures_util::future::join_all(learners.iter_mut().enumerate().map(|(i, l)| {
        let (lat, errors) = (&lat, &errors);
        async move {
            let Some(attempt) = l.attempt.clone() else {
                return;
            };
            let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64 + 7);
            let mut order: Vec<usize> = (0..l.questions.len()).collect();
            order.shuffle(&mut rng);
            order.truncate(count.unwrap_or(order.len()));
            let n = order.len();
            for (k, q) in order.into_iter().enumerate() {
                if let Some(at) = last_at.filter(|_| k + 1 == n) {
                    sleep_until(at + Duration::from_millis(rng.gen_range(0..1500))).await;
                } else {
                    let ms = rng.gen_range(0..=(2 * think.as_millis() as u64));
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                let (position, options, select) = &l.questions[q];
                let choices: Vec<String> = options
                    .choose_multiple(&mut rng, *select)
                    .cloned()
                    .collect();
                let t = Instant::now();
                let r = client
                    .put(format!(
                        "{base}/api/v1/attempts/{attempt}/answers/{position}"
                    ))
                    .bearer_auth(&l.token)
                    .json(
                        &json!({"choices": choices, "time_spent_ms": rng.gen_range(5_000..90_000)}),
                    )
                    .send()
                    .await;
                let elapsed = t.elapsed();
                lat.lock().unwrap().push(elapsed);
                match r {
                    Ok(r) if r.status() == StatusCode::OK => {
                        l.acked.insert(*position, choices);
                    }
                    Ok(r) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!(
                                "answer: {} {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                        }
                    }
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("answer: {e}");
                        }
                    }
                }
            }
        }
    }))
    .await;
    Phase {
        latencies: lat.into_inner().unwrap(),
        errors: errors.into_inner(),
        retried_503: 0,
    }
}

/// The waiting page: every learner looks at the cohort's exams (this also opens the
/// connections a browser would hold open).
async fn waiting_page(client: &reqwest::Client, base: &str, cohort: &str, learners: &[Learner]) {
    futures_util::future::join_all(learners.iter().map(|l| {
        let url = format!("{base}/api/v1/cohorts/{cohort}/exams");
        async move {
            let _ = client.get(url).bearer_auth(&l.token).send().await;
        }
    }))
    .await;
}

/// Checks what the server stored against what it acknowledged; returns (lost answers,
/// attempts not finalized, attempts whose result did not count every stored answer).
async fn verify(pool: &PgPool, exam: &str, learners: &[Learner]) -> (usize, usize, usize) {
    let exam: Uuid = exam.parse().unwrap();
    let rows: Vec<(Uuid, i32, Vec<String>)> = sqlx::query_as(
        "SELECT a.user_id, q.position, q.choices FROM attempt_questions q JOIN attempts a ON a.id = q.attempt_id
          WHERE a.cohort_exam_id = $1",
    )
    .bind(exam)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut stored: BTreeMap<(Uuid, i64), Vec<String>> = BTreeMap::new();
    for (u, p, mut c) in rows {
        c.sort();
        stored.insert((u, p as i64), c);
    }
    let mut lost = 0;
    for l in learners {
        for (p, c) in &l.acked {
            let mut c = c.clone();
            c.sort();
            if stored.get(&(l.id, *p)) != Some(&c) {
                lost += 1;
            }
        }
    }
    let attempts: Vec<(Uuid, String, Option<Value>)> =
        sqlx::query_as("SELECT user_id, status, result FROM attempts WHERE cohort_exam_id = $1")
            .bind(exam)
            .fetch_all(pool)
            .await
            .unwrap();
    let by_user: BTreeMap<Uuid, (String, Option<Value>)> =
        attempts.into_iter().map(|(u, s, r)| (u, (s, r))).collect();
    let mut open = 0;
    let mut miscounted = 0;
    for l in learners {
        match by_user.get(&l.id) {
            Some((s, Some(r))) if s != "in_progress" => {
                if r["answered"].as_u64() != Some(l.acked.len() as u64) {
                    miscounted += 1;
                }
            }
            _ => open += 1,
        }
    }
    (lost, open, miscounted)
}

async fn owner_lists_everyone(
    client: &reqwest::Client,
    base: &str,
    owner: &str,
    cohort: &str,
    exam: &str,
    learners: &[Learner],
) -> usize {
    let r: Value = client
        .get(format!(
            "{base}/api/v1/cohorts/{cohort}/exams/{exam}/results"
        ))
        .bearer_auth(owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: std::collections::HashSet<String> = r["learners"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| x["status"] != "in_progress" && x["status"] != "not_started")
                .filter_map(|x| x["user_id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    learners
        .iter()
        .filter(|l| !listed.contains(&l.id.to_string()))
        .count()
}

async fn schedule(
    client: &reqwest::Client,
    base: &str,
    owner: &str,
    cohort: &str,
    opens_at: chrono::DateTime<chrono::Utc>,
    closes_at: chrono::DateTime<chrono::Utc>,
) -> String {
    let r = client
        .post(format!("{base}/api/v1/cohorts/{cohort}/exams"))
        .bearer_auth(owner)
        .json(&json!({"blueprint": "dva-c02", "opens_at": opens_at, "closes_at": closes_at}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Waits until `at` (a wall-clock time) and returns the matching Instant.
async fn wall_to_instant(at: chrono::DateTime<chrono::Utc>) -> Instant {
    let d = (at - chrono::Utc::now()).to_std().unwrap_or_default();
    Instant::now() + d
}

async fn prepared(pool: &PgPool, exam: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM attempts WHERE cohort_exam_id = $1")
        .bind(exam.parse::<Uuid>().unwrap())
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn run(label: &str, bin: &str, n: usize, think: Duration) {
    println!(
        "\n== {label}: {n} learners (think time uniform 0..{} ms) ==",
        2 * think.as_millis()
    );
    let server_url =
        std::env::var("DATABASE_URL").expect("DATABASE_URL (run through scripts/bench.sh)");
    let admin = PgPool::connect(&server_url).await.unwrap();
    let db = format!("bench_cohort_day_{}_{}", std::process::id(), n);
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db}"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&admin)
        .await
        .unwrap();
    let url = with_database(&server_url, &db);
    run_cli(bin, &["migrate"], &url);
    run_cli(bin, &["seed"], &url);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .unwrap();
    // accounts straight into the table (logging in 2,000 people is not the phase measured);
    // their access tokens are signed with the server's key
    let secret = SecretString::from(SECRET.to_string());
    let owner_id = Uuid::new_v4();
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
    sqlx::query(
        "INSERT INTO users (id, email, display_name, role, password_hash)
         SELECT id, 'learner' || ord || '@bench.example', 'Learner ' || ord, 'learner', 'unused'
           FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord)",
    )
    .bind(&ids)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO users (id, email, display_name, role, password_hash) VALUES ($1, 'owner@bench.example', 'Owner', 'instructor', 'unused')")
        .bind(owner_id)
        .execute(&pool)
        .await
        .unwrap();
    // every account has its learner lock row (db::users::insert writes it with the account)
    sqlx::query("INSERT INTO learner_locks (user_id) SELECT id FROM users ON CONFLICT DO NOTHING")
        .execute(&pool)
        .await
        .unwrap();
    let owner = exambank::auth::tokens::issue_access(&secret, owner_id, Role::Instructor).unwrap();
    let mut learners: Vec<Learner> = ids
        .iter()
        .map(|&id| Learner {
            id,
            token: exambank::auth::tokens::issue_access(&secret, id, Role::Learner).unwrap(),
            attempt: None,
            questions: vec![],
            acked: BTreeMap::new(),
        })
        .collect();

    let server = start_server(bin, &url).await;
    let base = server.base.clone();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        // under the server's keep-alive (5 s), so that no request goes out on a connection the
        // server is closing
        .pool_idle_timeout(Duration::from_secs(4))
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();

    // the cohort; everyone joins with the code
    let c: Value = client
        .post(format!("{base}/api/v1/cohorts"))
        .bearer_auth(&owner)
        .json(&json!({"name": "Exam day"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cohort = c["id"].as_str().unwrap().to_string();
    let code = c["join_code"].as_str().unwrap().to_string();
    use futures_util::StreamExt;
    let t = Instant::now();
    let joined: Vec<StatusCode> = futures_util::stream::iter(&learners)
        .map(|l| {
            let r = client
                .post(format!("{base}/api/v1/cohorts/join"))
                .bearer_auth(&l.token)
                .json(&json!({ "code": code }))
                .send();
            async move {
                r.await
                    .map(|r| r.status())
                    .unwrap_or(StatusCode::BAD_GATEWAY)
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let join_errors = joined.iter().filter(|s| **s != StatusCode::OK).count();
    println!(
        "  joins: {n} in {:.1} s (64 at a time), errors={join_errors}",
        t.elapsed().as_secs_f64()
    );

    // exam 1: the full mock, opening 20 s from now
    let opens = chrono::Utc::now() + chrono::Duration::seconds(20);
    let exam = schedule(
        &client,
        &base,
        &owner,
        &cohort,
        opens,
        opens + chrono::Duration::hours(3),
    )
    .await;
    let open_at = wall_to_instant(opens + chrono::Duration::milliseconds(200)).await;
    sleep_until(open_at - Duration::from_secs(2)).await;
    waiting_page(&client, &base, &cohort, &learners).await;
    println!(
        "  attempts prepared before the opening: {}",
        prepared(&pool, &exam).await
    );
    // the floor of this machine, in the same run: every learner's GET /healthz (no database,
    // a tiny body) at one instant, over the same warm connections
    let probe_at = Instant::now() + Duration::from_millis(300);
    let retried = AtomicUsize::new(0);
    let floor = futures_util::future::join_all(learners.iter().map(|_| {
        let (client, base, retried) = (&client, &base, &retried);
        async move {
            sleep_until(probe_at).await;
            send_retrying(|| client.get(format!("{base}/healthz")), retried).await
        }
    }))
    .await;
    let mut phase = Phase::default();
    for (d, s, _) in floor {
        phase.latencies.push(d);
        phase.errors += usize::from(!s.is_success());
    }
    report(
        "baseline: GET /healthz",
        phase,
        (0.0, 0),
        "  (simultaneous, same clients)",
    );
    sleep_until(open_at).await;
    let busy = BusySampler::start(&admin, &db);
    let phase = start_all(&client, &base, &cohort, &exam, &mut learners, open_at).await;
    report("start (simultaneous)", phase, busy.finish().await, "");

    let busy = BusySampler::start(&admin, &db);
    let t = Instant::now();
    let phase = answer_all(&client, &base, &mut learners, None, think, None).await;
    let secs = t.elapsed().as_secs_f64();
    let offered = phase.latencies.len() as f64 / secs;
    report(
        "answers",
        phase,
        busy.finish().await,
        &format!("  offered={offered:.0}/s over {secs:.0} s"),
    );

    let submit_at = Instant::now() + Duration::from_secs(3);
    sleep_until(submit_at - Duration::from_secs(2)).await;
    waiting_page(&client, &base, &cohort, &learners).await;
    let busy = BusySampler::start(&admin, &db);
    let retried = AtomicUsize::new(0);
    let out =
        futures_util::future::join_all(learners.iter().filter(|l| l.attempt.is_some()).map(|l| {
            let url = format!(
                "{base}/api/v1/attempts/{}/submit",
                l.attempt.as_deref().unwrap()
            );
            let (client, retried) = (&client, &retried);
            async move {
                sleep_until(submit_at).await;
                send_retrying(|| client.post(&url).bearer_auth(&l.token), retried).await
            }
        }))
        .await;
    let mut phase = Phase::default();
    for (d, s, body) in out {
        phase.latencies.push(d);
        if s != StatusCode::OK {
            phase.errors += 1;
            if phase.errors <= 3 {
                eprintln!("submit: {s} {}", String::from_utf8_lossy(&body));
            }
        }
    }
    phase.retried_503 = retried.into_inner();
    report("submit (simultaneous)", phase, busy.finish().await, "");
    let (lost, open, miscounted) = verify(&pool, &exam, &learners).await;
    let unlisted = owner_lists_everyone(&client, &base, &owner, &cohort, &exam, &learners).await;
    println!(
        "  verify exam 1: lost answers={lost}  not finalized={open}  results miscounting answers={miscounted}  learners missing from the owner's results={unlisted}"
    );

    // exam 2: a short one that closes on everyone at once; the last answers land in the grace
    // window; nobody submits; the sweeper finalizes
    let opens = chrono::Utc::now() + chrono::Duration::seconds(12);
    let closes = opens + chrono::Duration::seconds(30);
    let exam2 = schedule(&client, &base, &owner, &cohort, opens, closes).await;
    let open_at = wall_to_instant(opens + chrono::Duration::milliseconds(200)).await;
    sleep_until(open_at - Duration::from_secs(2)).await;
    waiting_page(&client, &base, &cohort, &learners).await;
    println!(
        "  exam 2: attempts prepared before the opening: {}",
        prepared(&pool, &exam2).await
    );
    let busy = BusySampler::start(&admin, &db);
    let phase = start_all(&client, &base, &cohort, &exam2, &mut learners, open_at).await;
    report("start (simultaneous)", phase, busy.finish().await, "");
    let deadline = wall_to_instant(closes).await;
    let busy = BusySampler::start(&admin, &db);
    let phase = answer_all(
        &client,
        &base,
        &mut learners,
        Some(8),
        Duration::from_millis(1000),
        Some(deadline + Duration::from_millis(500)),
    )
    .await;
    report("answers, last in grace", phase, busy.finish().await, "");
    // the sweep: from the end of the grace window until every attempt is finalized
    let grace_end = deadline + Duration::from_secs(exambank::services::attempts::GRACE_SECS as u64);
    sleep_until(grace_end).await;
    let busy = BusySampler::start(&admin, &db);
    let exam2_id: Uuid = exam2.parse().unwrap();
    let swept_in = loop {
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM attempts WHERE cohort_exam_id = $1 AND (status = 'in_progress' OR result IS NULL)",
        )
        .bind(exam2_id)
        .fetch_one(&pool)
        .await
        .unwrap();
        if open == 0 {
            break grace_end.elapsed();
        }
        if grace_end.elapsed() > Duration::from_secs(120) {
            println!("  deadline sweep: {open} attempts still open after 120 s");
            break grace_end.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let b = busy.finish().await;
    println!(
        "  deadline sweep: {n} attempts finalized {:.2} s after the grace window closed (sweep interval 1 s)  db busy mean={:.1} max={}",
        swept_in.as_secs_f64(),
        b.0,
        b.1
    );
    let (lost, open, miscounted) = verify(&pool, &exam2, &learners).await;
    let unlisted = owner_lists_everyone(&client, &base, &owner, &cohort, &exam2, &learners).await;
    println!(
        "  verify exam 2: lost answers={lost}  not finalized={open}  results miscounting answers={miscounted}  learners missing from the owner's results={unlisted}"
    );
    drop(server);
    pool.close().await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&admin)
        .await;
}

/// The learners (this process) run at nice 10 (`BENCH_CLIENT_NICE`), so that they take the CPU
/// time the server and PostgreSQL do not need, as clients on other machines would; their own
/// scheduling delays still count in the latencies they measure. (As in the `exams` bench.)
fn client_nice() -> u32 {
    std::env::var("BENCH_CLIENT_NICE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
}

fn main() {
    // every thread of this process, before the runtime starts its own (they inherit it)
    let st = Command::new("renice")
        .args([
            "-n",
            &client_nice().to_string(),
            "-p",
            &std::process::id().to_string(),
        ])
        .stdout(Stdio::null())
        .status()
        .expect("renice");
    assert!(st.success(), "renice failed");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(bench());
}

async fn bench() {
    let sizes: Vec<usize> = std::env::var("BENCH_LEARNERS")
        .unwrap_or_else(|_| "1000,2000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BENCH_LEARNERS: numbers"))
        .collect();
    let think = Duration::from_millis(
        std::env::var("BENCH_THINK_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1500),
    );
    let current = env!("CARGO_BIN_EXE_exambank").to_string();
    let mut servers = Vec::new();
    if let Ok(b) = std::env::var("BENCH_BASELINE_BIN") {
        servers.push(("before (baseline)".to_string(), b));
    }
    servers.push(("after (this build)".to_string(), current));
    println!(
        "cohort_day: {} cores; learners and server on this machine",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for n in &sizes {
        for (label, bin) in &servers {
            run(label, bin, *n, think).await;
        }
    }
}
