//! Exam hot paths over a generated 50,000-question bank: starting a `dva-c02` attempt, and
//! answer-save throughput with 64 concurrent clients — each shown against two baselines
//! measured in the same run: `GET /healthz` (the framework without the database) and
//! `pgbench -S` on the same cluster (the database without the framework).
//! Run: scripts/bench.sh exams
mod support;

use std::time::Instant;

use exambank::domain::user::Role;
use serde_json::{json, Value};
use support::{fresh_database, generate_bank, start_app, summary, with_database};

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

/// Runs wrk (a load generator in its own process) for 10 s with 64 connections, one per wrk
/// thread so that each connection is one client (a learner answering their own attempt, one
/// request at a time); returns (requests/s, p50 ms, p99 ms, non-2xx count).
fn wrk(url: &str, script: Option<&std::path::Path>) -> (f64, f64, f64, u64) {
    wrk_for(url, script, "10s")
}

/// The load generators (wrk, pgbench) share the two cores with the server and PostgreSQL; they
/// run at a lower CPU priority (nice 10, `BENCH_CLIENT_NICE` to change) so that they take the
/// CPU time the server does not need, as clients on other machines would. Their own scheduling
/// delays still count in the latencies they report.
fn client_nice() -> String {
    std::env::var("BENCH_CLIENT_NICE").unwrap_or_else(|_| "10".into())
}

fn wrk_threads() -> String {
    std::env::var("BENCH_WRK_THREADS").unwrap_or_else(|_| "64".into())
}

fn wrk_for(url: &str, script: Option<&std::path::Path>, duration: &str) -> (f64, f64, f64, u64) {
    let mut cmd = std::process::Command::new("nice");
    cmd.args(["-n", &client_nice(), "wrk"]);
    cmd.args([
        &format!("-t{}", wrk_threads()),
        "-c64",
        &format!("-d{duration}"),
        "--latency",
    ]);
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd
        .arg(url)
        .output()
        .expect("wrk is installed (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if std::env::var("BENCH_VERBOSE").is_ok() {
        eprintln!("{text}");
    }
    let ms = |v: &str| -> f64 {
        if let Some(x) = v.strip_suffix("us") {
            x.parse::<f64>().unwrap_or(f64::NAN) / 1000.0
        } else if let Some(x) = v.strip_suffix("ms") {
            x.parse().unwrap_or(f64::NAN)
        } else if let Some(x) = v.strip_suffix('s') {
            x.parse::<f64>().unwrap_or(f64::NAN) * 1000.0
        } else {
            f64::NAN
        }
    };
    let field = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(String::from)
    };
    let rps = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    let p50 = field("50%").map(|v| ms(&v)).unwrap_or(f64::NAN);
    let p99 = field("99%").map(|v| ms(&v)).unwrap_or(f64::NAN);
    let non2xx = text
        .lines()
        .find(|l| l.contains("Non-2xx"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (rps, p50, p99, non2xx)
}

fn pgbench(url: &str) -> Option<f64> {
    let bin = ["17", "16", "15", "14"]
        .iter()
        .map(|v| format!("/usr/lib/postgresql/{v}/bin/pgbench"))
        .find(|p| std::path::Path::new(p).exists())?;
    let admin = with_database(url, "postgres");
    let _ = std::process::Command::new("psql")
        .args([&admin, "-qc", "DROP DATABASE IF EXISTS pgbench_baseline"])
        .output();
    std::process::Command::new("psql")
        .args([&admin, "-qc", "CREATE DATABASE pgbench_baseline"])
        .output()
        .ok()?;
    let db = with_database(url, "pgbench_baseline");
    std::process::Command::new(&bin)
        .args(["-i", "-q", "-s", "10", &db])
        .output()
        .ok()?;
    let out = std::process::Command::new("nice")
        .args(["-n", &client_nice(), &bin])
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
    // the bulk load is written out now (a checkpoint): otherwise the kernel's write-back of it,
    // and the first WAL segments of a new cluster, land in the middle of the measured runs
    sqlx::query("CHECKPOINT").execute(&pool).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM questions")
        .fetch_one(&pool)
        .await
        .unwrap();
    let pool_size = std::env::var("BENCH_POOL").unwrap_or_else(|_| "16".into());
    let workers = std::env::var("BENCH_WORKERS").unwrap_or_else(|_| "2".into());
    let base = start_app(
        pool.clone(),
        &["--db-max-connections", &pool_size, "--workers", &workers],
    );
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

    // 2. baseline: the framework alone (wrk, a separate process, 64 connections)
    let (health_rps, health_p50, health_p99, _) = wrk(&format!("{base}/healthz"), None);
    println!("baseline GET /healthz (wrk):  {health_rps:>8.0} req/s  p50={health_p50:.2} ms  p99={health_p99:.2} ms");

    // 3. answer saves: 64 learners answer their own attempts, changing answers every time
    let mut lua = String::from("local plans = {\n");
    for (i, a) in attempts.iter().enumerate() {
        let token = &tokens[(200 - CLIENTS + i) % CLIENTS];
        let opts: Vec<String> = a["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                format!(
                    "{{{}}}",
                    q["options"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|o| format!("\"{}\"", o["id"].as_str().unwrap()))
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
            .collect();
        lua.push_str(&format!(
            "  {{id=\"{}\", token=\"{}\", opts={{{}}}}},\n",
            a["id"].as_str().unwrap(),
            token,
            opts.join(",")
        ));
    }
    lua.push_str(&format!("}}\nWRK_THREADS = {}\n", wrk_threads()));
    lua.push_str(
        r#"
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("tid", threads); thread:set("nthreads", WRK_THREADS) end
local counter = 0
init = function() counter = 0 end
request = function()
  -- each wrk thread owns its own learners and serves them in turn, one question after the
  -- other; with one thread per connection a learner never has two requests in flight
  local per = math.floor(#plans / nthreads)
  local learner = ((tid - 1) * per) + (counter % per) + 1
  local visit = math.floor(counter / per)
  counter = counter + 1
  local p = plans[learner]
  local pos = (visit % #p.opts) + 1
  local o = p.opts[pos]
  local choice = o[(math.floor(visit / #p.opts) % #o) + 1]
  return wrk.format("PUT", "/api/v1/attempts/" .. p.id .. "/answers/" .. pos,
    {["Authorization"] = "Bearer " .. p.token, ["Content-Type"] = "application/json"},
    '{"choices":["' .. choice .. '"],"time_spent_ms":1000}')
end
"#,
    );
    let script = std::env::temp_dir().join(format!("exambank-answers-{}.lua", std::process::id()));
    std::fs::write(&script, lua).unwrap();
    // warm-up: the learners' mastery rows, cards and statistics come into being, then the
    // statistics autovacuum would gather are gathered, so plans fit tables that are not empty
    let (warm_rps, ..) = wrk_for(&base, Some(&script), "4s");
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    println!("warm-up (4 s, not counted): {warm_rps:.0} req/s; then ANALYZE");
    let wal_before: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
        .fetch_one(&pool)
        .await
        .unwrap();
    let before: i64 =
        sqlx::query_scalar("SELECT coalesce(sum(revision), 0)::int8 FROM attempt_questions")
            .fetch_one(&pool)
            .await
            .unwrap();
    let (answer_rps, answer_p50, answer_p99, non2xx) = wrk(&base, Some(&script));
    let after: i64 =
        sqlx::query_scalar("SELECT coalesce(sum(revision), 0)::int8 FROM attempt_questions")
            .fetch_one(&pool)
            .await
            .unwrap();
    let wal: f64 =
        sqlx::query_scalar("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8")
            .bind(&wal_before)
            .fetch_one(&pool)
            .await
            .unwrap();
    let _ = std::fs::remove_file(&script);
    println!("PUT answers (wrk, 64 conns):  {answer_rps:>8.0} req/s  p50={answer_p50:.2} ms  p99={answer_p99:.2} ms  non-2xx={non2xx}  writes applied={}", after - before);
    println!(
        "  WAL written: {:.1} MB, {:.0} bytes per applied write",
        wal / 1e6,
        wal / (after - before).max(1) as f64
    );
    // the server's own view (actix-web-prom histogram, warm-up included): from the request
    // entering the middleware to the response, without the time in socket queues and run queues
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let bucket = |le: &str| -> f64 {
        text.lines()
            .filter(|l| {
                l.starts_with("exambank_http_requests_duration_seconds_bucket")
                    && l.contains("answers/{position}")
                    && l.contains(&format!("le=\"{le}\""))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let total = bucket("+Inf");
    println!(
        "  server-side (from /metrics): {:.1}% of saves within 10 ms, {:.1}% within 25 ms, {:.1}% within 50 ms",
        100.0 * bucket("0.01") / total,
        100.0 * bucket("0.025") / total,
        100.0 * bucket("0.05") / total
    );

    let metric = |name: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .fold(0.0, |a, b| a + b)
    };
    let batches = metric("exambank_answer_batch_size_count");
    println!(
        "  batches (warm-up included): {batches:.0}, {:.1} answers each on average, {:.2} ms each on average; answers refused {:.0}, in failed batches {:.0}",
        metric("exambank_answer_batch_size_sum") / batches,
        1000.0 * metric("exambank_answer_batch_seconds_sum") / batches,
        metric("exambank_answer_batch_saves_total{outcome=\"refused\"}"),
        metric("exambank_answer_batch_saves_total{outcome=\"failed\"}"),
    );

    let sizes: Vec<String> = ["1", "2", "4", "8", "16", "32"]
        .iter()
        .map(|le| {
            format!(
                "<={le}: {:.0}",
                metric(&format!("exambank_answer_batch_size_bucket{{le=\"{le}\"}}"))
            )
        })
        .collect();
    println!("  batch sizes (cumulative): {}", sizes.join(", "));
    let times: Vec<String> = ["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05"]
        .iter()
        .map(|le| {
            format!(
                "<={le}s: {:.0}",
                metric(&format!(
                    "exambank_answer_batch_seconds_bucket{{le=\"{le}\"}}"
                ))
            )
        })
        .collect();
    println!("  batch times (cumulative): {}", times.join(", "));

    // 4. what the learning update costs inside one answer's save: the same save call with and
    //    without it (a flag toggle), sequentially, on one connection
    let (with, without) = {
        use exambank::db::attempts::{read_for_answer, save_answer, AnswerWrite};
        let mut conn = pool.acquire().await.unwrap();
        let id: uuid::Uuid = attempts[0]["id"].as_str().unwrap().parse().unwrap();
        let user: uuid::Uuid = sqlx::query_scalar("SELECT user_id FROM attempts WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for k in 0..400 {
            let position = (k % 65) as i32 + 1;
            let t = read_for_answer(&mut conn, id, user, position)
                .await
                .unwrap()
                .unwrap();
            let learn = k % 2 == 0;
            let choice = t.item.option_order[k / 65 % t.item.option_order.len()].clone();
            let choices = if learn {
                vec![choice]
            } else {
                t.item.choices.clone()
            };
            let started = Instant::now();
            let learning = learn.then(|| {
                exambank::domain::learning::on_answer(
                    t.item.question_state().question,
                    k % 4 == 0,
                    20_000,
                    &t.areas.0,
                    t.card().as_ref(),
                    t.stats_seen,
                    chrono::Utc::now(),
                )
            });
            let w = AnswerWrite {
                attempt_id: id,
                user_id: user,
                position,
                grace_secs: 5,
                plan: exambank::domain::answer::AnswerPlan {
                    base_revision: t.item.revision,
                    stamps_answered: !choices.is_empty(),
                    choices: choices.clone(),
                    flagged: !t.item.flagged,
                    correct: Some(k % 4 == 0),
                    add_ms: 1000,
                    learning,
                },
            };
            save_answer(&mut conn, &w)
                .await
                .unwrap()
                .expect("no concurrent writer");
            if learn {
                with.push(started.elapsed())
            } else {
                without.push(started.elapsed())
            }
        }
        (with, without)
    };
    println!("one answer save, sequential (200 each):");
    let (with_p50, _) = summary("save with the learning update", with);
    let (without_p50, _) = summary("save without it (flag toggle)", without);
    let mastery_p50 = with_p50 - without_p50;
    println!("  learning update adds (median difference): {mastery_p50:.2} ms");

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
    println!(
        "targets: start median {start_p50:.2} ms (< 15), p99 {start_p99:.2} ms; answers {answer_rps:.0}/s (>= 3000) p99 {answer_p99:.2} ms (< 25); learning update median {mastery_p50:.2} ms (< 2)"
    );
}
