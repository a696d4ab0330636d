//! `TestApp`: the real application on a free port against the test's own database, and its
//! HTTP helpers.

use std::fmt::Display;
use std::net::IpAddr;

use clap::Parser;
use exambank::config::{Cli, Command, ServeArgs};
use exambank::startup::Application;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::PgPool;

pub const JWT_SECRET: &str = "integration-test-signing-key-0123456789abcdef";
pub const PASSWORD: &str = "tulip-glacier-7-orbit";

pub fn serve_args(extra: &[&str]) -> ServeArgs {
    let mut argv = vec![
        "exambank",
        "serve",
        "--database-url",
        "postgres://unused",
        "--addr",
        "127.0.0.1:0",
        "--jwt-secret",
        JWT_SECRET,
        "--workers",
        "2",
    ];
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv)
        .expect("test settings parse")
        .command
    {
        Some(Command::Serve(args)) => args,
        _ => unreachable!(),
    }
}

#[derive(Clone)]
pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub pool: PgPool,
}

impl TestApp {
    pub async fn spawn(pool: PgPool) -> TestApp {
        Self::spawn_with(pool, &[]).await
    }

    pub async fn spawn_with(pool: PgPool, extra: &[&str]) -> TestApp {
        exambank::telemetry::init_for_tests();
        if super::citus::enabled() {
            super::citus::distribute(&pool).await;
        }
        let app =
            Application::build_with_pool(serve_args(extra), pool.clone()).expect("app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        TestApp {
            base,
            client: client_from(None),
            pool,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path))
    }

    /// Registers a learner; returns the token response.
    pub async fn register(&self, email: &str) -> Value {
        let r = self
            .post("/api/v1/auth/register")
            .json(&json!({"email": email, "password": PASSWORD, "display_name": "Test Learner"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "register {email}");
        r.json().await.unwrap()
    }

    /// Creates an account with a role directly (as `exambank create-user` does) and logs in.
    pub async fn user_with_role(&self, email: &str, role: exambank::domain::user::Role) -> Value {
        let input = exambank::services::accounts::NewAccount {
            email: email.into(),
            password: secrecy::SecretString::from(PASSWORD.to_string()),
            display_name: format!("{role} user"),
            role,
        };
        exambank::services::accounts::create(&self.pool, input)
            .await
            .expect("create user");
        self.login(email, PASSWORD).await.json().await.unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post("/api/v1/auth/login")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    // Authenticated requests as `who` (a token response): the response, for tests where the
    // status matters.

    pub async fn get_as(&self, who: &Value, path: &str) -> Response {
        self.get(path)
            .header("authorization", bearer(who))
            .send()
            .await
            .unwrap()
    }

    pub async fn post_as(&self, who: &Value, path: &str, body: impl Serialize) -> Response {
        self.post(path)
            .header("authorization", bearer(who))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A POST without a body.
    pub async fn post_empty_as(&self, who: &Value, path: &str) -> Response {
        self.post(path)
            .header("authorization", bearer(who))
            .send()
            .await
            .unwrap()
    }

    pub async fn put_as(&self, who: &Value, path: &str, body: impl Serialize) -> Response {
        self.client
            .put(self.url(path))
            .header("authorization", bearer(who))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch_as(&self, who: &Value, path: &str, body: impl Serialize) -> Response {
        self.client
            .patch(self.url(path))
            .header("authorization", bearer(who))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete_as(&self, who: &Value, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .header("authorization", bearer(who))
            .send()
            .await
            .unwrap()
    }

    // Typed calls that expect success: they assert the status (naming the call and showing
    // the body otherwise) and return the parsed JSON.

    /// GET `path` as `who`; expects 200.
    pub async fn get_json(&self, who: &Value, path: &str) -> Value {
        expect(self.get_as(who, path).await, 200, &format!("GET {path}")).await
    }

    /// POST `path` as `who`; expects `status`.
    pub async fn post_json(
        &self,
        who: &Value,
        path: &str,
        body: impl Serialize,
        status: u16,
    ) -> Value {
        expect(
            self.post_as(who, path, body).await,
            status,
            &format!("POST {path}"),
        )
        .await
    }

    /// Starts an attempt (`POST /api/v1/attempts`): the response.
    pub async fn try_start_attempt(&self, who: &Value, body: impl Serialize) -> Response {
        self.post_as(who, "/api/v1/attempts", body).await
    }

    /// Starts an attempt; expects 201 and returns the attempt.
    pub async fn start_attempt(&self, who: &Value, body: impl Serialize) -> Value {
        expect(
            self.try_start_attempt(who, body).await,
            201,
            "start attempt",
        )
        .await
    }

    /// Writes the answer at `position` of `attempt`: the response.
    pub async fn put_answer(
        &self,
        who: &Value,
        attempt: impl Display,
        position: i64,
        body: impl Serialize,
    ) -> Response {
        self.put_as(
            who,
            &format!("/api/v1/attempts/{attempt}/answers/{position}"),
            body,
        )
        .await
    }

    /// Writes the answer at `position` of `attempt`; expects 200 and returns the answer.
    pub async fn answer(
        &self,
        who: &Value,
        attempt: impl Display,
        position: i64,
        body: impl Serialize,
    ) -> Value {
        let call = format!("answer {position} of {attempt}");
        expect(
            self.put_answer(who, attempt, position, body).await,
            200,
            &call,
        )
        .await
    }

    /// Submits `attempt` (`POST .../submit`): the response.
    pub async fn try_submit(&self, who: &Value, attempt: impl Display) -> Response {
        self.post_empty_as(who, &format!("/api/v1/attempts/{attempt}/submit"))
            .await
    }

    /// Submits `attempt`; expects 200 and returns the result.
    pub async fn submit(&self, who: &Value, attempt: impl Display) -> Value {
        let call = format!("submit {attempt}");
        expect(self.try_submit(who, attempt).await, 200, &call).await
    }

    /// The state of attempt `id`; expects 200.
    pub async fn attempt(&self, who: &Value, id: impl Display) -> Value {
        self.get_json(who, &format!("/api/v1/attempts/{id}")).await
    }

    /// The result of attempt `id`; expects 200.
    pub async fn result(&self, who: &Value, id: impl Display) -> Value {
        self.get_json(who, &format!("/api/v1/attempts/{id}/result"))
            .await
    }

    /// The review of attempt `id`; expects 200.
    pub async fn review(&self, who: &Value, id: impl Display) -> Value {
        self.get_json(who, &format!("/api/v1/attempts/{id}/review"))
            .await
    }

    /// Creates a cohort named `name`; expects 201 and returns it (with its join code).
    pub async fn create_cohort(&self, teacher: &Value, name: &str) -> Value {
        self.post_json(teacher, "/api/v1/cohorts", json!({ "name": name }), 201)
            .await
    }

    /// Joins the cohort with join code `code`: the response.
    pub async fn try_join_cohort(&self, who: &Value, code: &str) -> Response {
        self.post_as(who, "/api/v1/cohorts/join", json!({ "code": code }))
            .await
    }

    /// Joins the cohort with join code `code`; expects 200.
    pub async fn join_cohort(&self, who: &Value, code: &str) -> Value {
        let r = self.try_join_cohort(who, code).await;
        expect(r, 200, &format!("join cohort with code {code}")).await
    }

    /// Schedules an exam in `cohort` (`body`: blueprint and window); expects 201 and returns it.
    pub async fn schedule_exam(
        &self,
        teacher: &Value,
        cohort: impl Display,
        body: impl Serialize,
    ) -> Value {
        let path = format!("/api/v1/cohorts/{cohort}/exams");
        self.post_json(teacher, &path, body, 201).await
    }

    /// Starts (or resumes) `who`'s attempt at a cohort exam: the response.
    pub async fn start_cohort_exam(
        &self,
        who: &Value,
        cohort: impl Display,
        exam: impl Display,
    ) -> Response {
        let path = format!("/api/v1/cohorts/{cohort}/exams/{exam}/attempts");
        self.post_empty_as(who, &path).await
    }
}

/// A client whose connections come from `local` (any 127.x address works on Linux), so tests
/// can act as different client addresses.
pub fn client_from(local: Option<IpAddr>) -> Client {
    Client::builder()
        .local_address(local)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn bearer(tokens: &Value) -> String {
    format!("Bearer {}", tokens["access_token"].as_str().unwrap())
}

/// Asserts that `r` has `status` (the message names `call` and shows the body) and returns
/// the JSON body.
pub async fn expect(r: Response, status: u16, call: &str) -> Value {
    let got = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "{call}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{call}: not JSON ({e}): {text}"))
}

/// Asserts a problem+json response and returns its body.
pub async fn problem(r: Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status, "status");
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        ct.starts_with("application/problem+json"),
        "content-type {ct}"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(
        body["title"].is_string() && body["type"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    assert!(
        body["request_id"].is_string(),
        "problem carries the request id: {body}"
    );
    body
}

/// The field names of a validation problem.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}
