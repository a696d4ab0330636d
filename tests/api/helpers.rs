//! `TestApp`: the real application on a free port against the test's own database.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;
use exambank::config::{Cli, Command, ServeArgs};
use exambank::startup::Application;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

pub const JWT_SECRET: &str = "integration-test-signing-key-0123456789abcdef";
pub const PASSWORD: &str = "tulip-glacier-7-orbit";

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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

/// Loads the real bank under `seed/`.
pub async fn seed_real_bank(pool: &PgPool) -> exambank::services::seeding::SeedReport {
    let (bank, problems) = exambank::seed::load(&manifest_dir().join("seed"));
    assert!(problems.is_empty(), "seed problems: {problems:?}");
    exambank::services::seeding::seed(pool, &bank)
        .await
        .unwrap()
}

/// A fresh temporary directory (removed when dropped).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("exambank-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The topic areas of the real bank (`seed/domains.toml`): slug and weight.
pub fn topic_areas() -> Vec<(String, f64)> {
    exambank::seed::files::read_domains(&manifest_dir().join("seed/domains.toml"), &mut Vec::new())
        .into_iter()
        .map(|d| (d.slug, d.weight))
        .collect()
}

/// The topic areas the fixture bank writes questions for.
pub const DOMAINS: [&str; 7] = [
    "iam",
    "ec2",
    "s3",
    "serverless",
    "dynamodb",
    "kms",
    "databases",
];

/// One generated single-answer question in the bank format.
pub fn fixture_question(domain: &str, n: usize, stem_suffix: &str) -> String {
    format!(
        r#"
[[question]]
id = "{domain}-fixture-{n}"
tags = ["{domain}-basics", "fixture-{m}"]
kind = "single"
difficulty = {d}
exam_domain = "development"
task = "1.1"
note = "{domain}#basics"
last_verified = 2026-11-25
references = ["https://docs.aws.amazon.com/{domain}/"]
stem = "Generated question {n} about {domain} topic {words}{stem_suffix}?"
explanation = "Option one is right for question {n}."

[[question.option]]
text = "Right answer {n}"
correct = true
rationale = "This is the right one."

[[question.option]]
text = "Wrong answer {n} a"
correct = false
rationale = "This is wrong."

[[question.option]]
text = "Wrong answer {n} b"
correct = false
rationale = "This is wrong too."

[[question.option]]
text = "Wrong answer {n} c"
correct = false
rationale = "This is also wrong."
"#,
        m = n % 3,
        d = n % 3 + 1,
        // distinct word sets so no two stems are near-duplicates
        words = (0..4)
            .map(|k| format!("w{domain}{n}x{k}"))
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// Writes a complete small bank: the real domains and blueprints, a note per domain, and
/// `per_domain` generated questions per domain.
pub fn write_fixture_bank(dir: &std::path::Path, per_domain: usize) {
    let real = manifest_dir().join("seed");
    std::fs::create_dir_all(dir.join("questions")).unwrap();
    std::fs::create_dir_all(dir.join("notes")).unwrap();
    std::fs::copy(real.join("domains.toml"), dir.join("domains.toml")).unwrap();
    std::fs::copy(real.join("blueprints.toml"), dir.join("blueprints.toml")).unwrap();
    // every topic area needs its notes file; the fixture questions go to the first seven
    let domains = exambank::seed::files::read_domains(&real.join("domains.toml"), &mut Vec::new());
    for d in &domains {
        std::fs::write(
            dir.join("notes").join(format!("{}.md", d.slug)),
            format!(
                "# {}

## Basics {{#basics}}

Text.
",
                d.slug
            ),
        )
        .unwrap();
    }
    for d in DOMAINS {
        std::fs::write(
            dir.join("notes").join(format!("{d}.md")),
            format!("# {d}\n\n## Basics {{#basics}}\n\nText.\n"),
        )
        .unwrap();
        let mut text = format!("domain = \"{d}\"\n");
        for n in 0..per_domain {
            text.push_str(&fixture_question(d, n, ""));
        }
        std::fs::write(dir.join("questions").join(format!("{d}.toml")), text).unwrap();
    }
}

/// A second, empty, migrated database on the same server (for "import into an empty
/// database" round trips); dropped with the test server's other databases by name prefix.
pub async fn empty_database(pool: &PgPool) -> PgPool {
    let name = format!("exambank_extra_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(pool)
        .await
        .unwrap();
    let opts = pool.connect_options().as_ref().clone().database(&name);
    let extra = sqlx::postgres::PgPoolOptions::new()
        .max_connections(5)
        .connect_with(opts)
        .await
        .unwrap();
    exambank::db::migrate(&extra).await.unwrap();
    extra
}

/// Every key anywhere in a JSON value.
pub fn all_keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.push(k.clone());
                all_keys(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| all_keys(x, out)),
        _ => {}
    }
}

/// Asserts a learner-facing JSON body carries no answers.
pub fn assert_no_answers(v: &Value) {
    let mut keys = Vec::new();
    all_keys(v, &mut keys);
    for forbidden in ["correct", "rationale", "explanation", "correct_choices"] {
        assert!(
            !keys.iter().any(|k| k == forbidden),
            "`{forbidden}` leaked to a learner: {v}"
        );
    }
}

/// A browser-like client with a cookie jar.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .expect("form has a csrf token")
        + 25;
    html[at..].split('"').next().unwrap().to_string()
}

/// Logs a browser in through the login form.
pub async fn browser_login(app: &TestApp, b: &Client, email: &str) {
    let html = b
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {email}");
}
