//! Fixtures: seeding banks, temporary directories and databases, and facts read from the
//! database as a key would.

use std::path::PathBuf;

use serde_json::{json, Value};
use sqlx::PgPool;

use super::TestApp;

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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

/// Seeds a generated bank of `per_domain` questions in each of [`DOMAINS`]; keep the returned
/// directory alive for the test.
pub async fn seed_fixture(pool: &PgPool, per_domain: usize) -> TempDir {
    let tmp = TempDir::new();
    write_fixture_bank(&tmp.0, per_domain);
    let (bank, problems) = exambank::seed::load(&tmp.0);
    assert!(problems.is_empty());
    exambank::services::seeding::seed(pool, &bank)
        .await
        .unwrap();
    tmp
}

/// The correct option ids of an attempt's question, read from the database (as a key would).
pub async fn key(pool: &PgPool, attempt: &str, position: i64) -> Vec<String> {
    let options: Value = sqlx::query_scalar(
        "SELECT v.options FROM attempt_questions a JOIN question_versions v ON v.question_id = a.question_id AND v.version = a.version
         WHERE a.attempt_id = $1::uuid AND a.position = $2",
    )
    .bind(attempt)
    .bind(position as i32)
    .fetch_one(pool)
    .await
    .unwrap();
    options
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["correct"] == true)
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

/// The first option id of an attempt's question `q` that is not in its key `right`.
pub fn wrong_option(q: &Value, right: &[String]) -> String {
    q["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .find(|o| !right.contains(o))
        .unwrap()
}

/// Answers every question of a fresh practice attempt in `d`, right or wrong.
pub async fn answer_all(
    app: &TestApp,
    pool: &PgPool,
    who: &Value,
    d: &str,
    n: i64,
    right: bool,
) -> String {
    let a = app
        .start_attempt(
            who,
            json!({"mode": "practice", "count": n, "domains": {d: 1}}),
        )
        .await;
    let id = a["id"].as_str().unwrap().to_string();
    for (i, q) in a["questions"].as_array().unwrap().iter().enumerate() {
        let pos = i as i64 + 1;
        let k = key(pool, &id, pos).await;
        let choice = if right { k } else { vec![wrong_option(q, &k)] };
        app.answer(
            who,
            &id,
            pos,
            json!({"choices": choice, "time_spent_ms": 30000}),
        )
        .await;
    }
    id
}

/// The entry for topic area `d` in a mastery response.
pub fn domain<'a>(m: &'a Value, d: &str) -> &'a Value {
    m["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["area"] == d)
        .unwrap()
}
