//! Login throughput, and the latency of `GET /api/v1/me` while logins are hammered: argon2
//! must not starve the other requests. Run: scripts/bench.sh auth
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use exambank::domain::user::Role;
use serde_json::{json, Value};
use support::{fresh_database, start_app, summary};

const PASSWORD: &str = "tulip-glacier-7-orbit";
const USERS: usize = 32;
const LOGIN_CLIENTS: usize = 16;
const ME_CLIENTS: usize = 8;

async fn me_loop(
    client: reqwest::Client,
    url: String,
    token: String,
    stop: Arc<AtomicBool>,
) -> Vec<Duration> {
    let mut lat = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        let r = client.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
        lat.push(t.elapsed());
    }
    lat
}

async fn measure_me(base: &str, tokens: &[String], secs: u64) -> Vec<Duration> {
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::new();
    let tasks: Vec<_> = (0..ME_CLIENTS)
        .map(|i| {
            tokio::spawn(me_loop(
                client.clone(),
                format!("{base}/api/v1/me"),
                tokens[i % tokens.len()].clone(),
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

#[tokio::main]
async fn main() {
    let (pool, _) = fresh_database("auth").await;
    let base = start_app(pool.clone(), &[]);
    println!("auth bench: {USERS} accounts, {LOGIN_CLIENTS} login clients, {ME_CLIENTS} /me clients, cores={}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    for i in 0..USERS {
        let input = exambank::services::accounts::NewAccount {
            email: format!("bench{i}@example.com"),
            password: secrecy::SecretString::from(PASSWORD.to_string()),
            display_name: format!("Bench {i}"),
            role: Role::Learner,
        };
        exambank::services::accounts::create(&pool, input)
            .await
            .unwrap();
    }
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    for i in 0..ME_CLIENTS {
        let r: Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": format!("bench{i}@example.com"), "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(r["access_token"].as_str().unwrap().to_string());
    }
    // warm-up
    measure_me(&base, &tokens, 1).await;

    println!("baseline (no login load):");
    let (_, base_p99) = summary("GET /api/v1/me", measure_me(&base, &tokens, 5).await);

    println!("while {LOGIN_CLIENTS} clients log in as fast as they can:");
    let stop = Arc::new(AtomicBool::new(false));
    let login_tasks: Vec<_> = (0..LOGIN_CLIENTS)
        .map(|i| {
            let (client, base, stop) = (client.clone(), base.clone(), stop.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let email = format!("bench{}@example.com", i % USERS);
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let r = client
                        .post(format!("{base}/api/v1/auth/login"))
                        .json(&json!({"email": email, "password": PASSWORD}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    r.bytes().await.unwrap();
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let started = Instant::now();
    let me = measure_me(&base, &tokens, 10).await;
    stop.store(true, Ordering::Relaxed);
    let mut logins = Vec::new();
    for t in login_tasks {
        logins.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n_logins = logins.len();
    summary("POST /api/v1/auth/login", logins);
    let (_, load_p99) = summary("GET /api/v1/me", me);
    println!(
        "login throughput: {:.1} logins/s",
        n_logins as f64 / elapsed
    );
    println!(
        "GET /me p99 under login load: {load_p99:.2} ms = {:.2}x the unloaded p99",
        load_p99 / base_p99
    );
}
