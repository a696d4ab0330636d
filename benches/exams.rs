//! Exam hot paths over a generated 50,000-question bank: starting a `dva-c02` attempt, and
//! answer-save throughput with 64 concurrent clients — each shown against two baselines
//! measured in the same run: `GET /healthz` (the framework without the database) and
//! `pgbench -S` on the same cluster (the database without the framework).
//! Run: scripts/bench.sh exams
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use exambank::domain::user::Role;
use serde_json::{json, Value};
use support::{fresh_database, generate_bank, percentile, start_app, summary};

const BANK: usize = 50_000;
const CLIENTS: usize = 64;
const PASSWORD: &str = "tulip-glacier-7-orbit";

async fn login(client: &reqwest::Client, base: &str, email: &str) -> String {
    let r: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_string()
}

/// Runs `CLIENTS` loops of `make(i)` requests for `secs`; returns (requests/s, latencies).
async fn hammer<F, Fut>(secs: u64, make: F) -> (f64, Vec<Duration>)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (stop, make) = (stop.clone(), make.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    make(i, n).await;
                    lat.push(t.elapsed());
                    n += 1;
                }
                lat
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all.len() as f64 / started.elapsed().as_secs_f64(), all)
}

fn pgbench(url: &str) -> Option<f64> {
    let bin = ["17", "16", "15", "14"]
        .iter()
        .map(|v| format!("/usr/lib/postgresql/{v}/bin/pgbench"))
        .find(|p| std::path::Path::new(p).exists())?;
    let base = url.rsplit_once('/').map(|(b, _)| b.to_string())?;
    let admin = format!("{base}/postgres");
    let _ = std::process::Command::new("psql")
        .args([&admin, "-qc", "DROP DATABASE IF EXISTS pgbench_baseline"])
        .output();
    std::process::Command::new("psql")
        .args([&admin, "-qc", "CREATE DATABASE pgbench_baseline"])
        .output()
        .ok()?;
    let db = format!("{base}/pgbench_baseline");
    std::process::Command::new(&bin)
        .args(["-i", "-q", "-s", "10", &db])
        .output()
        .ok()?;
    let out = std::process::Command::new(&bin)
        .args(["-S", "-c", "64", "-j", "2", "-T", "10", "-n", &db])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines()
        .find(|l| l.starts_with("tps ="))?
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

#[tokio::main]
async fn main() {
    let (pool, url) = fresh_database("exams").await;
    generate_bank(&pool, BANK).await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM questions")
        .fetch_one(&pool)
        .await
        .unwrap();
    let base = start_app(pool.clone(), &["--db-max-connections", "32"]);
    let client = reqwest::Client::new();
    println!(
        "exams bench: {n} questions; {CLIENTS} concurrent clients on 127.0.0.1; cores={}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    for i in 0..CLIENTS {
        let input = exambank::services::accounts::NewAccount {
            email: format!("learner{i}@example.com"),
            password: secrecy::SecretString::from(PASSWORD.to_string()),
            display_name: format!("Learner {i}"),
            role: Role::Learner,
        };
        exambank::services::accounts::create(&pool, input)
            .await
            .unwrap();
    }
    let mut tokens = Vec::new();
    for i in 0..CLIENTS {
        tokens.push(login(&client, &base, &format!("learner{i}@example.com")).await);
    }

    // 1. attempt start, one at a time
    let mut starts = Vec::new();
    let mut attempts: Vec<Value> = Vec::new();
    for k in 0..200 {
        let t = Instant::now();
        let r: Value = client
            .post(format!("{base}/api/v1/attempts"))
            .bearer_auth(&tokens[k % CLIENTS])
            .json(&json!({"blueprint": "dva-c02", "mode": "exam"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let e = t.elapsed();
        assert_eq!(r["questions"].as_array().map(Vec::len), Some(65), "{r}");
        if k >= 10 {
            starts.push(e);
        }
        if k >= 200 - CLIENTS {
            attempts.push(r);
        }
    }
    println!("attempt start (dva-c02, 65 questions):");
    let (start_p50, start_p99) = summary("POST /api/v1/attempts", starts);

    // 2. baseline: the framework alone
    let c2 = client.clone();
    let b2 = base.clone();
    let (health_rps, health_lat) = hammer(5, move |_, _| {
        let (c, b) = (c2.clone(), b2.clone());
        async move {
            c.get(format!("{b}/healthz"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
        }
    })
    .await;

    // 3. answer saves: each client answers its own attempt, changing the answer every time
    let plans: Arc<Vec<(String, String, Vec<Vec<String>>)>> = Arc::new(
        attempts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let opts = a["questions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|q| {
                        q["options"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|o| o["id"].as_str().unwrap().to_string())
                            .collect()
                    })
                    .collect();
                // attempts[i] was started by tokens[(200 - CLIENTS + i) % CLIENTS]
                (
                    a["id"].as_str().unwrap().to_string(),
                    tokens[(200 - CLIENTS + i) % CLIENTS].clone(),
                    opts,
                )
            })
            .collect(),
    );
    let c3 = client.clone();
    let b3 = base.clone();
    let (answer_rps, answer_lat) = hammer(10, move |i, n| {
        let (c, b, plans) = (c3.clone(), b3.clone(), plans.clone());
        async move {
            let (id, token, opts) = &plans[i];
            let pos = (n as usize % 65) + 1;
            let choice = &opts[pos - 1][(n as usize / 65) % opts[pos - 1].len()];
            let r = c
                .put(format!("{b}/api/v1/attempts/{id}/answers/{pos}"))
                .bearer_auth(token)
                .json(&json!({"choices": [choice], "time_spent_ms": 1000}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
        }
    })
    .await;

    let mut health_sorted = health_lat;
    health_sorted.sort();
    let mut answer_sorted = answer_lat;
    answer_sorted.sort();
    let (health_p99, answer_p99) = (
        percentile(&health_sorted, 0.99),
        percentile(&answer_sorted, 0.99),
    );
    println!(
        "baseline GET /healthz:      {health_rps:>8.0} req/s  p50={:.2} ms  p99={health_p99:.2} ms",
        percentile(&health_sorted, 0.5)
    );
    println!(
        "PUT answers (64 clients):   {answer_rps:>8.0} req/s  p50={:.2} ms  p99={answer_p99:.2} ms",
        percentile(&answer_sorted, 0.5)
    );
    let pg = pgbench(&url);
    match pg {
        Some(tps) => println!("baseline pgbench -S -c 64:  {tps:>8.0} tps"),
        None => println!("baseline pgbench -S: pgbench not found"),
    }
    println!("ratios:");
    println!(
        "  answer saves / healthz throughput: {:.3}",
        answer_rps / health_rps
    );
    if let Some(tps) = pg {
        println!(
            "  answer saves / pgbench -S tps:     {:.3}",
            answer_rps / tps
        );
    }
    println!(
        "  answer p99 / healthz p99:          {:.2}",
        answer_p99 / health_p99
    );
    println!("targets: start median {start_p50:.2} ms (< 15), p99 {start_p99:.2} ms; answers {answer_rps:.0}/s (>= 3000) p99 {answer_p99:.2} ms (< 25)");
}
