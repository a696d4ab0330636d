//! Browse and full-text search over a generated bank of 50,000 questions: target p95 < 20 ms.
//! Run: scripts/bench.sh bank
mod support;

use serde_json::Value;
use support::{fresh_database, generate_bank, start_app, summary, time_gets};

const BANK: usize = 50_000;

#[tokio::main]
async fn main() {
    let (pool, _) = fresh_database("bank").await;
    let t = std::time::Instant::now();
    generate_bank(&pool, BANK).await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM questions")
        .fetch_one(&pool)
        .await
        .unwrap();
    println!(
        "bank bench: {n} questions generated in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let base = start_app(pool.clone(), &[]);
    let client = reqwest::Client::new();
    let r: Value = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&serde_json::json!({"email": "bench@example.com", "password": "tulip-glacier-7-orbit", "display_name": "Bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = r["access_token"].as_str().unwrap().to_string();

    let searches: Vec<String> = [
        "encryption",
        "visibility timeout",
        "lambda concurrency",
        "partition key",
        "presigned url",
        "kms key policy",
        "read replica",
        "cloudfront cache",
        "cognito",
        "dynamodb stream",
    ]
    .iter()
    .map(|q| format!("/api/v1/questions?q={}&limit=20", q.replace(' ', "%20")))
    .collect();
    let filtered: Vec<String> = [
        "iam",
        "ec2",
        "s3",
        "serverless",
        "dynamodb",
        "kms",
        "databases",
    ]
    .iter()
    .flat_map(|d| {
        (1..=3).map(move |k| format!("/api/v1/questions?domain={d}&difficulty={k}&limit=20"))
    })
    .collect();
    let tagged: Vec<String> = [
        "s3-encryption",
        "lambda-concurrency",
        "dynamodb-capacity",
        "kms-keys",
    ]
    .iter()
    .map(|t| format!("/api/v1/questions?tag={t}&limit=20"))
    .collect();
    let baseline = vec!["/healthz".to_string()];

    // warm-up
    time_gets(&base, &token, &searches, 4, 200).await;
    time_gets(&base, &token, &filtered, 4, 200).await;
    let p95 = |mut v: Vec<std::time::Duration>| {
        v.sort();
        support::percentile(&v, 0.95)
    };
    for clients in [1, 4] {
        println!("2000 requests each, {clients} concurrent client(s), 127.0.0.1:");
        let s = time_gets(&base, &token, &searches, clients, 2000).await;
        summary("full-text search (q=…)", s.clone());
        let f = time_gets(&base, &token, &filtered, clients, 2000).await;
        summary("filtered list (domain+difficulty)", f.clone());
        let g = time_gets(&base, &token, &tagged, clients, 2000).await;
        summary("tag filter", g.clone());
        let h = time_gets(&base, &token, &baseline, clients, 2000).await;
        summary("baseline GET /healthz", h);
        println!("  p95 with {clients} client(s): search {:.2} ms, filtered {:.2} ms, tag {:.2} ms (target < 20 ms)", p95(s), p95(f), p95(g));
    }
}
