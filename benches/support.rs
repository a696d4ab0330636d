//! Shared pieces of the bench programs: a fresh database, the app on a free port, percentiles.
#![allow(dead_code)]

use std::time::Duration;

use clap::Parser;
use exambank::config::{Cli, Command, ServeArgs};
use exambank::startup::Application;
use sqlx::PgPool;

/// A fresh database on the server of `DATABASE_URL` (scripts/bench.sh provides one).
pub async fn fresh_database(name: &str) -> (PgPool, String) {
    let server =
        std::env::var("DATABASE_URL").expect("DATABASE_URL (run through scripts/bench.sh)");
    let admin = PgPool::connect(&server).await.expect("connect");
    let db = format!("bench_{name}_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db}"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&admin)
        .await
        .unwrap();
    let url = with_database(&server, &db);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(32)
        .connect(&url)
        .await
        .unwrap();
    exambank::db::migrate(&pool).await.unwrap();
    (pool, url)
}

/// `url` with its database name replaced (query parameters such as `?host=/socket/dir` kept).
pub fn with_database(url: &str, db: &str) -> String {
    let (main, query) = url.split_once('?').unwrap_or((url, ""));
    let base = main.rsplit_once('/').map(|(b, _)| b).unwrap_or(main);
    if query.is_empty() {
        format!("{base}/{db}")
    } else {
        format!("{base}/{db}?{query}")
    }
}

pub fn serve_args(extra: &[&str]) -> ServeArgs {
    let mut argv = vec![
        "exambank",
        "serve",
        "--database-url",
        "postgres://unused",
        "--addr",
        "127.0.0.1:0",
        "--jwt-secret",
        "bench-signing-key-0123456789abcdef0123456789",
    ];
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv).unwrap().command {
        Some(Command::Serve(a)) => a,
        _ => unreachable!(),
    }
}

/// Starts the app in this process; returns its base URL.
pub fn start_app(pool: PgPool, extra: &[&str]) -> String {
    let app = Application::build_with_pool(serve_args(extra), pool).expect("app");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    base
}

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub fn summary(name: &str, mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let (p50, p99) = (percentile(&v, 0.5), percentile(&v, 0.99));
    println!(
        "  {name:<40} n={:>6}  p50={p50:>7.2} ms  p99={p99:>7.2} ms",
        v.len()
    );
    (p50, p99)
}

/// Loads the domains and blueprints of the real bank, then `n` generated questions made from
/// the real stems and options (varied so stems differ), inserted in batches with UNNEST.
pub async fn generate_bank(pool: &PgPool, n: usize) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed");
    let (mut bank, problems) = exambank::seed::load(&dir);
    assert!(problems.is_empty(), "{problems:?}");
    let real = std::mem::take(&mut bank.questions);
    exambank::services::seeding::seed(pool, &bank)
        .await
        .unwrap();
    let words: Vec<&str> = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu".split(' ').collect();
    let mut i = 0;
    while i < n {
        let batch = (n - i).min(2000);
        let (
            mut ids,
            mut slugs,
            mut domains,
            mut kinds,
            mut diffs,
            mut stems,
            mut options,
            mut tags,
        ) = (
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
        );
        for k in i..i + batch {
            let q = &real[k % real.len()];
            ids.push(uuid::Uuid::new_v4());
            slugs.push(format!("{}-gen-{k}", q.draft.domain));
            domains.push(q.draft.domain.clone());
            kinds.push(q.draft.kind.clone());
            diffs.push(((k % 3) + 1) as i16);
            stems.push(format!(
                "{} (variant {} {} {})",
                q.draft.stem,
                words[k % 26],
                words[(k / 26) % 26],
                k
            ));
            options.push(serde_json::json!(q
                .draft
                .options
                .iter()
                .enumerate()
                .map(|(j, o)| serde_json::json!({"id": format!("o{k}x{j}"), "text": o.text, "correct": o.correct, "rationale": o.rationale}))
                .collect::<Vec<_>>()));
            tags.push(q.draft.tags.join(","));
        }
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(
            "INSERT INTO questions (id, slug, domain, current_version, kind, difficulty, tags, stem, origin)
             SELECT id, slug, domain, 1, kind, difficulty, string_to_array(tags, ','), stem, 'import'
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int2[], $6::text[], $7::text[])
                  AS t(id, slug, domain, kind, difficulty, stem, tags)",
        )
        .bind(&ids)
        .bind(&slugs)
        .bind(&domains)
        .bind(&kinds)
        .bind(&diffs)
        .bind(&stems)
        .bind(&tags)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO question_versions (question_id, version, domain, kind, difficulty, tags, stem, options, explanation,
                                            exam_domain, \"references\", last_verified, note, content_hash)
             SELECT id, 1, domain, kind, difficulty, string_to_array(tags, ','), stem, options, 'Generated for benchmarks.',
                    'development', ARRAY['https://docs.aws.amazon.com/'], DATE '2026-11-25', NULL, md5(stem)
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int2[], $5::text[], $6::jsonb[], $7::text[])
                  AS t(id, domain, kind, difficulty, stem, options, tags)",
        )
        .bind(&ids)
        .bind(&domains)
        .bind(&kinds)
        .bind(&diffs)
        .bind(&stems)
        .bind(&options)
        .bind(&tags)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query("INSERT INTO question_tags (tag, slug, question_id) SELECT DISTINCT t, q.slug, q.id FROM questions q, unnest(q.tags) AS t WHERE q.id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        i += batch;
    }
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

/// Times `requests` GETs of each path from `clients` concurrent clients.
pub async fn time_gets(
    base: &str,
    token: &str,
    paths: &[String],
    clients: usize,
    requests: usize,
) -> Vec<Duration> {
    let client = reqwest::Client::new();
    let per = requests / clients;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, base, token, paths) = (
            client.clone(),
            base.to_string(),
            token.to_string(),
            paths.to_vec(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per);
            for i in 0..per {
                let path = &paths[(c * per + i) % paths.len()];
                let t = std::time::Instant::now();
                let r = client
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{path}");
                r.bytes().await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}
