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
    let base = server
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(server.clone());
    let url = format!("{base}/{db}");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(32)
        .connect(&url)
        .await
        .unwrap();
    exambank::db::migrate(&pool).await.unwrap();
    (pool, url)
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
