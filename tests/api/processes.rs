//! Two `exambank serve` processes on different ports against one database both serve.

use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;

use crate::helpers::{client_from, free_port, url_of, wait_ready, Server, PASSWORD};

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn two_server_processes_share_one_database(
    _opts: sqlx::postgres::PgPoolOptions,
    opts: PgConnectOptions,
) {
    let url = url_of(&opts);
    let ports = [free_port(), free_port()];
    let _servers: Vec<Server> = ports
        .iter()
        .map(|p| {
            Server(
                Command::new(env!("CARGO_BIN_EXE_exambank"))
                    .arg("serve")
                    .env("DATABASE_URL", &url)
                    .env("EXAMBANK_ADDR", format!("127.0.0.1:{p}"))
                    .env(
                        "EXAMBANK_JWT_SECRET",
                        "shared-secret-of-both-processes-0123456789",
                    )
                    .env("EXAMBANK_WORKERS", "1")
                    // any second use of a refresh token is reuse here (no grace window)
                    .env("EXAMBANK_REFRESH_GRACE_SECS", "0")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("exambank serve starts"),
            )
        })
        .collect();
    let bases: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    for b in &bases {
        wait_ready(b).await;
    }
    let client = client_from(None);
    // register on one, log in and use the token on the other
    let r = client
        .post(format!("{}/api/v1/auth/register", bases[0]))
        .json(&json!({"email": "ann@example.com", "password": PASSWORD, "display_name": "Ann"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let tokens: Value = r.json().await.unwrap();
    let me = client
        .get(format!("{}/api/v1/me", bases[1]))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let r = client
        .post(format!("{}/api/v1/auth/refresh", bases[1]))
        .json(&json!({"refresh_token": tokens["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // the spent token is refused by the first process too
    let r = client
        .post(format!("{}/api/v1/auth/refresh", bases[0]))
        .json(&json!({"refresh_token": tokens["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    drop(PgPool::connect_lazy_with(opts));
}
