//! The question bank over HTTP: browse and search, answer hiding, authoring with versions,
//! import/export round trips, reports, notes.

use exambank::domain::user::Role;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{
    assert_no_answers, bearer, browser, browser_login, csrf_of, empty_database, error_fields,
    problem, seed_real_bank, write_fixture_bank, TempDir, TestApp,
};

/// HTML-escapes like the templates do.
fn askama_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn draft() -> Value {
    json!({
        "domain": "s3",
        "tags": ["s3-encryption"],
        "kind": "single",
        "difficulty": 2,
        "stem": "A developer must make Amazon S3 encrypt new objects at rest without client changes. What should the developer rely on?",
        "options": [
            {"text": "Default SSE-S3 encryption", "correct": true, "rationale": "New objects are encrypted with SSE-S3 by default."},
            {"text": "TLS for uploads", "correct": false, "rationale": "TLS protects data in transit only."},
            {"text": "A CORS rule", "correct": false, "rationale": "CORS controls browser origins."},
            {"text": "Object Lock", "correct": false, "rationale": "Object Lock prevents deletion, it does not encrypt."}
        ],
        "explanation": "Since January 2023 S3 applies SSE-S3 to every new object.",
        "references": ["https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html"],
        "exam_domain": "security",
        "note": "s3#default-encryption"
    })
}

async fn seeded_fixture(pool: &PgPool, per_domain: usize) -> TempDir {
    let tmp = TempDir::new();
    write_fixture_bank(&tmp.0, per_domain);
    let (bank, problems) = exambank::seed::load(&tmp.0);
    assert!(problems.is_empty());
    exambank::services::seeding::seed(pool, &bank)
        .await
        .unwrap();
    tmp
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn learners_never_get_answers_from_question_endpoints(pool: PgPool) {
    seed_real_bank(&pool).await;
    let app = TestApp::spawn(pool).await;
    let learner = app.register("ann@example.com").await;
    let list = app.get_json(&learner, "/api/v1/questions?limit=100").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 100);
    assert_no_answers(&list);
    let search = app
        .get_json(&learner, "/api/v1/questions?q=encryption")
        .await;
    assert!(!search["items"].as_array().unwrap().is_empty());
    assert_no_answers(&search);
    let id = list["items"][0]["id"].as_str().unwrap();
    let one = app
        .get_json(&learner, &format!("/api/v1/questions/{id}"))
        .await;
    assert_no_answers(&one);
    assert_eq!(
        one["options"].as_array().unwrap().len(),
        4.max(one["options"].as_array().unwrap().len())
    );
    // an instructor sees them
    let teacher = app.user_with_role("t@example.com", Role::Instructor).await;
    let one = app
        .get_json(&teacher, &format!("/api/v1/questions/{id}"))
        .await;
    assert!(one["options"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["correct"] == true));
    assert!(one["explanation"].is_string() && one["references"].is_array());
    // the question page shows no answers either: none of the shown questions' rationales or
    // explanations is on it
    let html = app
        .get("/questions?q=encryption")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let shown = app
        .get_json(&teacher, "/api/v1/questions?q=encryption")
        .await;
    let shown = shown["items"].as_array().unwrap();
    assert!(!shown.is_empty());
    for q in shown {
        assert!(
            html.contains(&askama_escape(q["stem"].as_str().unwrap())[..40]),
            "the page shows the question"
        );
        assert!(
            !html.contains(&askama_escape(q["explanation"].as_str().unwrap())),
            "explanation leaked"
        );
        for o in q["options"].as_array().unwrap() {
            assert!(
                !html.contains(&askama_escape(o["rationale"].as_str().unwrap())),
                "rationale leaked"
            );
        }
    }
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn search_filters_and_pagination(pool: PgPool) {
    let _bank = seeded_fixture(&pool, 5).await;
    let app = TestApp::spawn(pool).await;
    let t = app.register("ann@example.com").await;
    let get = |path: String| {
        let (app, t) = (&app, &t);
        async move { app.get_as(t, &path).await.json::<Value>().await.unwrap() }
    };
    // full-text: the fixture stems contain "wkms3x1"
    let r = get("/api/v1/questions?q=wkms3x1".into()).await;
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["slug"], "kms-fixture-3");
    // filters
    let r = get("/api/v1/questions?domain=iam&difficulty=2&limit=100".into()).await;
    assert!(r["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|q| q["domain"] == "iam" && q["difficulty"] == 2));
    assert_eq!(
        r["items"].as_array().unwrap().len(),
        2,
        "fixture-1 and fixture-4"
    );
    let r = get("/api/v1/questions?tag=fixture-0&limit=100".into()).await;
    assert_eq!(
        r["items"].as_array().unwrap().len(),
        14,
        "n % 3 == 0: two per domain"
    );
    // pagination walks every question exactly once
    let mut seen = std::collections::BTreeSet::new();
    let mut next = Some("/api/v1/questions?limit=7".to_string());
    while let Some(path) = next {
        let page = get(path).await;
        for q in page["items"].as_array().unwrap() {
            assert!(
                seen.insert(q["slug"].as_str().unwrap().to_string()),
                "repeated {q}"
            );
        }
        next = page["next"].as_str().map(String::from);
    }
    assert_eq!(seen.len(), 35);
    // bad difficulty is a 422 naming it
    let r = app.get_as(&t, "/api/v1/questions?difficulty=7").await;
    assert_eq!(error_fields(&problem(r, 422).await), ["difficulty"]);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn authoring_makes_versions_and_retires(pool: PgPool) {
    let _bank = seeded_fixture(&pool, 1).await;
    let app = TestApp::spawn(pool.clone()).await;
    let teacher = app.user_with_role("t@example.com", Role::Instructor).await;
    let learner = app.register("ann@example.com").await;
    let created = app
        .post_json(&teacher, "/api/v1/questions", &draft(), 201)
        .await;
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().unwrap().to_string();

    let mut edited = draft();
    edited["stem"] = json!("A developer must make Amazon S3 encrypt every new object at rest without changing clients. What should the developer rely on?");
    let path = format!("/api/v1/questions/{id}");
    let put = |body: Value| app.put_as(&teacher, &path, body);
    let v2: Value = put(edited.clone()).await.json().await.unwrap();
    assert_eq!(v2["version"], 2);
    let again: Value = put(edited).await.json().await.unwrap();
    assert_eq!(
        again["version"], 2,
        "an edit that changes nothing makes no version"
    );
    let versions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM question_versions WHERE question_id = $1::uuid")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(versions, 2);

    let r = app
        .delete_as(&teacher, &format!("/api/v1/questions/{id}"))
        .await;
    assert_eq!(r.status(), 204);
    problem(
        app.get_as(&learner, &format!("/api/v1/questions/{id}"))
            .await,
        404,
    )
    .await;
    let list = app
        .get_json(&learner, "/api/v1/questions?domain=s3&limit=100")
        .await;
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|q| q["id"] != id.as_str()));
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM questions WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1, "retired, not deleted");
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn authoring_validation_names_every_bad_field_and_changes_nothing(pool: PgPool) {
    let _bank = seeded_fixture(&pool, 1).await;
    let app = TestApp::spawn(pool.clone()).await;
    let teacher = app.user_with_role("t@example.com", Role::Instructor).await;
    let mut bad = draft();
    bad["domain"] = json!("nope");
    bad["difficulty"] = json!(5);
    bad["kind"] = json!("multiple");
    bad["references"] = json!(["ftp://x"]);
    bad["options"][1]["rationale"] = json!("");
    bad["note"] = json!("s3#no-such-section");
    bad["exam_domain"] = json!("coding");
    bad["tags"] = json!(["Not A Slug"]);
    let r = app.post_as(&teacher, "/api/v1/questions", &bad).await;
    let body = problem(r, 422).await;
    let fields = error_fields(&body);
    for f in [
        "domain",
        "difficulty",
        "references[0]",
        "options[1].rationale",
        "options",
        "stem",
        "note",
        "exam_domain",
        "tags[0]",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} not in {fields:?}");
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM questions WHERE origin = 'author'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

/// Every instructor- or admin-only question endpoint refuses learners with 403.
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn learners_cannot_author(pool: PgPool) {
    let _bank = seeded_fixture(&pool, 1).await;
    let app = TestApp::spawn(pool.clone()).await;
    let learner = app.register("ann@example.com").await;
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM questions LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let (question, reports) = (
        format!("/api/v1/questions/{id}"),
        format!("/api/v1/questions/{id}/reports"),
    );
    let responses = vec![
        app.post_as(&learner, "/api/v1/questions", draft()).await,
        app.put_as(&learner, &question, draft()).await,
        app.delete_as(&learner, &question).await,
        app.get_as(&learner, "/api/v1/questions/export").await,
        app.post_as(
            &learner,
            "/api/v1/questions/import",
            json!({"questions": [draft()]}),
        )
        .await,
        app.get_as(&learner, &reports).await,
        app.patch_as(
            &learner,
            &format!("{reports}/{}", uuid::Uuid::new_v4()),
            json!({"status": "resolved"}),
        )
        .await,
    ];
    for r in responses {
        problem(r, 403).await;
    }
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM question_versions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(versions, 7, "nothing changed");
}

async fn export(app: &TestApp, who: &Value, format: &str) -> String {
    let r = app
        .get_as(who, &format!("/api/v1/questions/export?format={format}"))
        .await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn json_and_gift_round_trip_into_an_empty_database(pool: PgPool) {
    seed_real_bank(&pool).await;
    let a = TestApp::spawn(pool.clone()).await;
    let admin_a = a.user_with_role("root@example.com", Role::Admin).await;
    for format in ["json", "gift"] {
        let first = export(&a, &admin_a, format).await;
        let empty = empty_database(&pool).await;
        // the empty database needs the domains (reference data) but no questions
        let (mut bank, _) = exambank::seed::load(&crate::helpers::manifest_dir().join("seed"));
        bank.questions.clear();
        exambank::services::seeding::seed(&empty, &bank)
            .await
            .unwrap();
        let b = TestApp::spawn(empty.clone()).await;
        let admin_b = b.user_with_role("root@example.com", Role::Admin).await;
        let req = b
            .post(&format!("/api/v1/questions/import?format={format}"))
            .header("authorization", bearer(&admin_b));
        let req = if format == "json" {
            req.header("content-type", "application/json")
        } else {
            req.header("content-type", "text/plain")
        };
        let r = req.body(first.clone()).send().await.unwrap();
        assert_eq!(
            r.status(),
            200,
            "{format} import: {}",
            r.text().await.unwrap()
        );
        let second = export(&b, &admin_b, format).await;
        assert!(first == second, "{format} export → import → export differs");
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM questions")
            .fetch_one(&empty)
            .await
            .unwrap();
        assert!(n >= 400);
        empty.close().await;
    }
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn import_is_all_or_nothing_with_errors_per_item(pool: PgPool) {
    let _bank = seeded_fixture(&pool, 1).await;
    let app = TestApp::spawn(pool.clone()).await;
    let teacher = app.user_with_role("t@example.com", Role::Instructor).await;
    let mut bad = draft();
    bad["options"][0]["correct"] = json!(false);
    let r = app
        .post_as(
            &teacher,
            "/api/v1/questions/import",
            json!({"questions": [draft(), bad]}),
        )
        .await;
    let body = problem(r, 422).await;
    assert_eq!(error_fields(&body), ["questions[1].options"]);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM questions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 7, "nothing imported");
    let r = app
        .post("/api/v1/questions/import?format=gift")
        .header("authorization", bearer(&teacher))
        .body("::q1::What is 2+2?{=4 ~3 ~5 ~22}\n\n::q2::True or false?{T}\n")
        .send()
        .await
        .unwrap();
    let body = problem(r, 422).await;
    assert!(!error_fields(&body).is_empty());
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn reports_are_filed_listed_counted_and_resolved(pool: PgPool) {
    let _bank = seeded_fixture(&pool, 1).await;
    let app = TestApp::spawn(pool.clone()).await;
    let teacher = app.user_with_role("t@example.com", Role::Instructor).await;
    let learner = app.register("ann@example.com").await;
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM questions WHERE slug = 'kms-fixture-0'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let path = format!("/api/v1/questions/{id}/reports");
    let bad = app
        .post_as(&learner, &path, json!({"kind": "rude", "message": ""}))
        .await;
    assert_eq!(error_fields(&problem(bad, 422).await), ["kind", "message"]);
    let report = app
        .post_json(
            &learner,
            &path,
            json!({"kind": "outdated", "message": "KMS keys are no longer called CMKs"}),
            201,
        )
        .await;
    assert_eq!(report["status"], "open");
    let q = app
        .get_json(&teacher, &format!("/api/v1/questions/{id}"))
        .await;
    assert_eq!(q["open_reports"], 1);
    let list = app.get_json(&teacher, &path).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let r = app
        .patch_as(
            &teacher,
            &format!("{path}/{}", report["id"].as_str().unwrap()),
            json!({"status": "resolved", "resolution": "Renamed in version 2"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let q = app
        .get_json(&teacher, &format!("/api/v1/questions/{id}"))
        .await;
    assert_eq!(q["open_reports"], 0);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn notes_pages_render_every_section_questions_link_to(pool: PgPool) {
    seed_real_bank(&pool).await;
    let app = TestApp::spawn(pool.clone()).await;
    let index = app
        .get("/notes")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let notes: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT note FROM question_versions WHERE note IS NOT NULL")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut pages = std::collections::HashMap::new();
    for (d, _) in crate::helpers::topic_areas() {
        let d = d.as_str();
        assert!(
            index.contains(&format!("href=\"/notes/{d}\"")),
            "{d} listed"
        );
        let r = app.get(&format!("/notes/{d}")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        pages.insert(d.to_string(), r.text().await.unwrap());
    }
    for n in notes {
        let (d, a) = n.split_once('#').unwrap();
        assert!(
            pages[d].contains(&format!("id=\"{a}\"")),
            "{n} does not resolve on /notes/{d}"
        );
    }
    assert!(pages["s3"].contains("Changed since these notes were common"));
    assert_eq!(app.get("/notes/nope").send().await.unwrap().status(), 404);
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn authoring_pages_show_errors_next_to_fields_and_save_versions(pool: PgPool) {
    let _bank = seeded_fixture(&pool, 1).await;
    let app = TestApp::spawn(pool.clone()).await;
    app.user_with_role("t@example.com", Role::Instructor).await;
    app.register("ann@example.com").await;
    let learner = browser();
    browser_login(&app, &learner, "ann@example.com").await;
    assert_eq!(
        learner
            .get(app.url("/author/questions"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let b = browser();
    browser_login(&app, &b, "t@example.com").await;
    let list = b
        .get(app.url("/author/questions"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("kms-fixture-0"));
    let form = b
        .get(app.url("/author/questions/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_of(&form);
    let mut fields = vec![
        ("csrf_token", token.clone()),
        ("domain", "s3".into()),
        ("kind", "single".into()),
        ("difficulty", "2".into()),
        ("exam_domain", "security".into()),
        ("tags", "s3-encryption".into()),
        (
            "stem",
            "Which option encrypts new S3 objects at rest by default?".into(),
        ),
        ("explanation", "SSE-S3 is the default.".into()),
        (
            "references",
            "https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html"
                .into(),
        ),
        ("note", "s3#default-encryption".into()),
        ("option_text_0", "SSE-S3".into()),
        ("option_rationale_0", "The default.".into()),
        ("option_correct_0", "on".into()),
        ("option_text_1", "TLS".into()),
        ("option_rationale_1", "".into()),
        ("option_text_2", "CORS".into()),
        ("option_rationale_2", "Browsers.".into()),
    ];
    let r = b
        .post(app.url("/author/questions/new"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"option-1-rationale-error\""),
        "rationale error next to option 2"
    );
    assert!(html.contains("id=\"options-error\""), "option count error");
    fields.push(("option_rationale_1", "In transit only.".into()));
    fields.retain(|(k, v)| !(*k == "option_rationale_1" && v.is_empty()));
    fields.push(("option_text_3", "Object Lock".into()));
    fields.push(("option_rationale_3", "Retention, not encryption.".into()));
    let r = b
        .post(app.url("/author/questions/new"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM questions WHERE origin = 'author'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    // without the CSRF token nothing is saved
    fields[0].1 = "forged".into();
    let r = b
        .post(app.url("/author/questions/new"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}
