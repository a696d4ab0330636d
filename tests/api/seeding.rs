//! `exambank seed` and `check-seed`.

use std::process::Command;

use exambank::services::seeding::{seed, SeedReport};
use sqlx::PgPool;

use crate::helpers::{
    fixture_question, manifest_dir, seed_real_bank, write_fixture_bank, TempDir, TestApp,
};

async fn problem_401(r: reqwest::Response) {
    crate::helpers::problem(r, 401).await;
}

async fn seed_dir(pool: &PgPool, dir: &std::path::Path) -> SeedReport {
    let (bank, problems) = exambank::seed::load(dir);
    assert!(problems.is_empty(), "{problems:?}");
    seed(pool, &bank).await.unwrap()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn the_real_bank_seeds_and_reseeding_changes_nothing(pool: PgPool) {
    let first = seed_real_bank(&pool).await;
    assert!(
        first.added >= 400,
        "the bank has at least 400 questions, seeded {}",
        first.added
    );
    assert_eq!(first.domains_changed, crate::helpers::topic_areas().len());
    let second = seed_real_bank(&pool).await;
    assert!(
        !second.changed_anything(),
        "second run changed something: {second:?}"
    );
    assert_eq!(second.unchanged, first.added);
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM question_versions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(versions as usize, first.added);

    // and the API shows it
    let app = TestApp::spawn(pool).await;
    let ann = app.register("ann@example.com").await;
    problem_401(app.get("/api/v1/domains").send().await.unwrap()).await;
    let domains: serde_json::Value = app
        .get_as(&ann, "/api/v1/domains")
        .await
        .json()
        .await
        .unwrap();
    let total: i64 = domains
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["question_count"].as_i64().unwrap())
        .sum();
    assert_eq!(total as usize, first.added);
    let bps: serde_json::Value = app
        .get_as(&ann, "/api/v1/blueprints")
        .await
        .json()
        .await
        .unwrap();
    let dva = bps
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["slug"] == "dva-c02")
        .unwrap();
    assert_eq!(dva["question_count"], 65);
    assert_eq!(dva["time_limit_minutes"], 130);
    assert_eq!(dva["pass_mark"], 720);
    let sum: f64 = dva["domain_weights"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-9);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_changed_question_becomes_a_new_version_and_a_removed_one_is_retired(pool: PgPool) {
    let tmp = TempDir::new();
    write_fixture_bank(&tmp.0, 3);
    let r = seed_dir(&pool, &tmp.0).await;
    assert_eq!(r.added, 21);

    // edit iam-fixture-0, drop iam-fixture-2
    let mut text = String::from("domain = \"iam\"\n");
    text.push_str(&fixture_question("iam", 0, " (edited)"));
    text.push_str(&fixture_question("iam", 1, ""));
    std::fs::write(tmp.0.join("questions/iam.toml"), text).unwrap();
    let r = seed_dir(&pool, &tmp.0).await;
    assert_eq!(
        (r.added, r.new_versions, r.retired, r.unchanged),
        (0, 1, 1, 19),
        "{r:?}"
    );

    let (version, stem): (i32, String) =
        sqlx::query_as("SELECT current_version, stem FROM questions WHERE slug = 'iam-fixture-0'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(version, 2);
    assert!(stem.contains("(edited)"));
    let old: String = sqlx::query_scalar(
        "SELECT v.stem FROM question_versions v JOIN questions q ON q.id = v.question_id WHERE q.slug = 'iam-fixture-0' AND v.version = 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!old.contains("(edited)"), "version 1 is kept as it was");
    let retired: bool = sqlx::query_scalar(
        "SELECT retired_at IS NOT NULL FROM questions WHERE slug = 'iam-fixture-2'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(retired, "removed from the files = retired, not deleted");

    // idempotent again, and restoring the question brings it back
    assert!(!seed_dir(&pool, &tmp.0).await.changed_anything());
    let mut text = std::fs::read_to_string(tmp.0.join("questions/iam.toml")).unwrap();
    text.push_str(&fixture_question("iam", 2, ""));
    std::fs::write(tmp.0.join("questions/iam.toml"), text).unwrap();
    assert_eq!(seed_dir(&pool, &tmp.0).await.unretired, 1);
}

#[test]
fn check_seed_passes_on_the_real_bank() {
    let out = Command::new(env!("CARGO_BIN_EXE_exambank"))
        .args(["check-seed", "--seed-dir"])
        .arg(manifest_dir().join("seed"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn check_seed_reports_every_problem_as_file_line_message() {
    let tmp = TempDir::new();
    write_fixture_bank(&tmp.0, 1);
    let bad = r#"domain = "s3"

[[question]]
id = "s3-Bad_Id"
tags = ["Bad Tag"]
kind = "multiple"
difficulty = 2
exam_domain = "development"
task = "3.1"
note = "s3#nowhere"
last_verified = 2026-11-25
references = ["http://example.com/insecure"]
stem = "Which two are right?"
explanation = "Because."

[[question.option]]
text = "A"
correct = true
rationale = "Yes."

[[question.option]]
text = "B"
correct = true
rationale = ""

[[question.option]]
text = "C"
correct = true
rationale = "No."

[[question.option]]
text = "D"
correct = false
rationale = "No."

[[question.option]]
text = "E"
correct = false
rationale = "No."

[[question]]
id = "iam-fixture-0"
tags = ["s3-basics"]
kind = "single"
difficulty = 1
exam_domain = "development"
task = "1.1"
note = "s3#basics"
last_verified = 2026-11-25
references = ["https://docs.aws.amazon.com/s3/"]
stem = "Generated question 0 about iam topic wiam0x0 wiam0x1 wiam0x2 wiam0x3?"
explanation = "Dup."

[[question.option]]
text = "One"
correct = true
rationale = "Yes."

[[question.option]]
text = "Two"
correct = true
rationale = "Yes."

[[question.option]]
text = "Three"
correct = false
rationale = "No."

[[question.option]]
text = "Four"
correct = false
rationale = "No."
"#;
    std::fs::write(tmp.0.join("questions/s3.toml"), bad).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_exambank"))
        .args(["check-seed", "--seed-dir"])
        .arg(&tmp.0)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let file = tmp.0.join("questions/s3.toml").display().to_string();
    let expect = [
        (4, "id `s3-Bad_Id` is not a slug"),
        (5, "tags[0]"),
        (9, "task 3.1 belongs to the `deployment` domain"),
        (10, "does not resolve"),
        (12, "is not an https URL"),
        (13, "must end with \"(Choose two.)\""),
        (21, "options[1].rationale"),
        (41, "exactly one correct option"),
        (42, "duplicate id `iam-fixture-0`"),
        (51, "near-duplicate of `iam-fixture-0`"),
    ];
    for (line, needle) in expect {
        let prefix = format!("{file}:{line}: ");
        assert!(
            text.lines()
                .any(|l| l.starts_with(&prefix) && l.contains(needle)),
            "expected `{prefix}…{needle}…` in:\n{text}"
        );
    }
}

/// The bank's mix against the DVA-C02 exam guide: every exam-guide domain within 3 points of its
/// scored share, and every task statement with at least 20 questions. Prints the mix by
/// exam-guide domain, by task statement and by topic area (`cargo test bank_mix -- --nocapture`).
#[test]
fn bank_mix_matches_the_exam_guide() {
    use exambank::domain::question::{Kind, TASKS};
    let (bank, problems) = exambank::seed::load(&manifest_dir().join("seed"));
    assert!(problems.is_empty(), "{problems:?}");
    let total = bank.questions.len();
    let mut failures = Vec::new();
    println!("{total} questions");
    println!("by exam-guide domain (bank % vs exam %):");
    for (domain, exam) in [
        ("development", 32.0),
        ("security", 26.0),
        ("deployment", 24.0),
        ("troubleshooting", 18.0),
    ] {
        let n = bank
            .questions
            .iter()
            .filter(|q| q.draft.exam_domain == domain)
            .count();
        let pct = 100.0 * n as f64 / total as f64;
        println!("  {domain:<16} {n:>4}  {pct:5.1} %  (exam {exam} %)");
        if (pct - exam).abs() > 3.0 {
            failures.push(format!(
                "{domain} is {pct:.1} %, not within 3 points of {exam} %"
            ));
        }
    }
    println!("by task statement:");
    for (code, _, text) in TASKS {
        let n = bank
            .questions
            .iter()
            .filter(|q| q.draft.task.as_deref() == Some(code))
            .count();
        println!("  {code} {n:>4}  {text}");
        if n < 20 {
            failures.push(format!("task {code} has {n} questions, fewer than 20"));
        }
    }
    println!("by topic area:");
    for d in &bank.domains {
        let n = bank
            .questions
            .iter()
            .filter(|q| q.draft.domain == d.slug)
            .count();
        println!("  {:<12} {n:>4}  weight {:.2}", d.slug, d.weight);
    }
    // the key should not be findable by length: among single-answer questions, how often the
    // correct option is the strictly longest, or the strictly shortest, of the four
    let singles: Vec<_> = bank
        .questions
        .iter()
        .filter(|q| q.draft.kind() == Some(Kind::Single))
        .collect();
    let strictly = |longest: bool| {
        singles
            .iter()
            .filter(|q| {
                let len = |o: &exambank::domain::question::OptionDraft| o.text.chars().count();
                let key = q
                    .draft
                    .options
                    .iter()
                    .find(|o| o.correct)
                    .map(len)
                    .unwrap_or(0);
                q.draft.options.iter().filter(|o| !o.correct).all(|o| {
                    if longest {
                        len(o) < key
                    } else {
                        len(o) > key
                    }
                })
            })
            .count() as f64
            / singles.len() as f64
    };
    let (longest, shortest) = (strictly(true), strictly(false));
    println!(
        "length cues over {} single-answer questions: key strictly longest {:.1} %, strictly shortest {:.1} % (chance 25 %)",
        singles.len(),
        100.0 * longest,
        100.0 * shortest
    );
    if longest > MAX_KEY_LONGEST {
        failures.push(format!(
            "the key is the longest option in {:.1} % of single-answer questions (at most {:.0} %)",
            100.0 * longest,
            100.0 * MAX_KEY_LONGEST
        ));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The longest option is the key in at most this share of single-answer questions.
const MAX_KEY_LONGEST: f64 = 0.40;
