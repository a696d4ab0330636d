//! The cohort pages over real HTTP with a cookie jar: create and join, schedule, start once,
//! the owner's heatmap and results page (chart, item statistics, CSV, extensions), and who may
//! see which page.

use chrono::{Duration, Utc};
use exambank::domain::user::Role;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{browser, browser_login, csrf_of, seed_fixture, TestApp, PASSWORD};

async fn page(app: &TestApp, b: &Client, path: &str) -> (StatusCode, String) {
    let r = b.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn post_form(
    app: &TestApp,
    b: &Client,
    from: &str,
    to: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (status, html) = page(app, b, from).await;
    assert_eq!(status, StatusCode::OK, "{from}: {html}");
    let token = csrf_of(&html);
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(fields);
    b.post(app.url(to)).form(&form).send().await.unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn learner(app: &TestApp, email: &str, name: &str) -> Value {
    let r = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": PASSWORD, "display_name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn cohort_pages_from_create_to_results(pool: PgPool) {
    let _b = seed_fixture(&pool, 4).await;
    let app = TestApp::spawn(pool.clone()).await;
    app.user_with_role("teach@example.com", Role::Instructor)
        .await;
    let ann_tokens = learner(&app, "ann@example.com", "Ann Archer").await;
    learner(&app, "bob@example.com", "Bob Baker").await;
    learner(&app, "eve@example.com", "Eve Outsider").await;
    let (teacher, ann, bob, eve) = (browser(), browser(), browser(), browser());
    browser_login(&app, &teacher, "teach@example.com").await;
    browser_login(&app, &ann, "ann@example.com").await;
    browser_login(&app, &bob, "bob@example.com").await;
    browser_login(&app, &eve, "eve@example.com").await;

    // the instructor creates a cohort; an empty name is refused on the page and creates nothing
    let (s, html) = page(&app, &teacher, "/cohorts").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Create a cohort"));
    let r = post_form(&app, &teacher, "/cohorts", "/cohorts", &[("name", "  ")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("name: must be 1 to 100"));
    let r = post_form(
        &app,
        &teacher,
        "/cohorts",
        "/cohorts",
        &[("name", "Winter <cohort>")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cohort_path = location(&r);
    let (_, html) = page(&app, &teacher, &cohort_path).await;
    assert!(html.contains("Winter &#60;cohort&#62;") || html.contains("Winter &lt;cohort&gt;"));
    let code = html
        .split("<code id=\"join-code\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(code.len(), 8);

    // learners see "start a study group" and join with the code; a wrong code is a 422 page
    let (_, html) = page(&app, &ann, "/cohorts").await;
    assert!(html.contains("Start a study group"));
    let r = post_form(
        &app,
        &ann,
        "/cohorts",
        "/cohorts/join",
        &[("code", "NOPE2345")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("no cohort has this join code"));
    for b in [&ann, &bob] {
        let r = post_form(&app, b, "/cohorts", "/cohorts/join", &[("code", &code)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), cohort_path);
    }
    let (_, html) = page(&app, &ann, "/cohorts").await;
    assert!(html.contains("id=\"joined\"") && html.contains("Winter"));

    // the owner schedules one open exam and one that opens tomorrow; a bad date is a 422
    let fmt = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let now = Utc::now();
    let r = post_form(
        &app,
        &teacher,
        &cohort_path,
        &format!("{cohort_path}/exams"),
        &[
            ("blueprint", "quick"),
            ("opens_at", "yesterday"),
            ("closes_at", &fmt(now + Duration::hours(2))),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("opens_at: must be a date"));
    for (opens, closes) in [
        (now - Duration::minutes(5), now + Duration::hours(2)),
        (now + Duration::days(1), now + Duration::days(2)),
    ] {
        let r = post_form(
            &app,
            &teacher,
            &cohort_path,
            &format!("{cohort_path}/exams"),
            &[
                ("blueprint", "quick"),
                ("opens_at", &fmt(opens)),
                ("closes_at", &fmt(closes)),
                ("shuffle", "on"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }

    // a member sees the open exam with a start button and the upcoming one without
    let (_, html) = page(&app, &ann, &cohort_path).await;
    assert!(html.contains("data-window=\"open\"") && html.contains("data-window=\"upcoming\""));
    assert_eq!(html.matches("/start\"").count(), 1, "one start button");
    assert!(html.contains("not open yet"));
    assert!(!html.contains("join-code"), "members do not see the code");
    assert!(!html.contains("id=\"heatmap\""), "no names for members");
    let start_path = html
        .split("href=\"")
        .find(|s| s.contains("/start\""))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    // the start button asks first: length, time limit, once only
    let (status, confirm) = page(&app, &ann, &start_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        confirm.contains("You can start this exam only once"),
        "{confirm}"
    );
    assert!(confirm.contains("questions") && confirm.contains("minutes"));
    assert!(confirm.contains(&format!("action=\"{start_path}\"")));
    let r = post_form(&app, &ann, &start_path, &start_path, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let attempt_path = location(&r);
    assert!(attempt_path.starts_with("/attempts/"));
    // starting again is refused with the reason on the page
    let r = post_form(&app, &ann, "/cohorts", &start_path, &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("each member starts once"));
    let (_, html) = page(&app, &ann, &cohort_path).await;
    assert!(html.contains("Continue"));

    // ann answers every question over the API and submits; bob never starts
    let attempt_id = attempt_path
        .trim_start_matches("/attempts/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let a = app.attempt(&ann_tokens, &attempt_id).await;
    let items = a["questions"].as_array().unwrap();
    for q in items {
        let position = q["position"].as_i64().unwrap();
        let body = json!({"choices": [q["options"][0]["id"]]});
        app.answer(&ann_tokens, &attempt_id, position, body).await;
    }
    app.submit(&ann_tokens, &attempt_id).await;
    let (_, html) = page(&app, &ann, &cohort_path).await;
    assert!(html.contains("My result"));

    // the owner: heatmap with both names, roster, results link
    let (_, html) = page(&app, &teacher, &cohort_path).await;
    assert!(html.contains("id=\"heatmap\""));
    assert!(html.contains("Ann Archer") && html.contains("Bob Baker"));
    let heat = html.split("id=\"heatmap\"").nth(1).unwrap();
    assert_eq!(
        heat.matches("<rect").count(),
        2 * crate::helpers::topic_areas().len(),
        "2 members × every topic area"
    );
    assert!(html.contains("id=\"members\""));
    let results_path = html
        .split("href=\"")
        .find(|s| s.contains("/results\""))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();

    // results page: chart, learner table, one item row per question, CSV link
    let (s, html) = page(&app, &teacher, &results_path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"domain-chart\""));
    assert!(html.contains("1 started, 1 finished"));
    let table = html.split("id=\"items\"").nth(1).unwrap();
    assert_eq!(
        table.matches("<tr").count() - 1,
        items.len(),
        "a row per question plus the header"
    );
    assert!(html.contains("not started"), "bob is listed as not started");
    let r = teacher
        .get(app.url(&format!("{results_path}.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert_eq!(csv.lines().count(), 3, "header plus two members");
    assert!(csv.contains("Ann Archer,ann@example.com,submitted"));

    // an extension for bob through the results page form is shown afterwards
    let (_, html) = page(&app, &teacher, &results_path).await;
    let bob_id = html
        .split("name=\"user_id\" value=\"")
        .nth(2)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = post_form(
        &app,
        &teacher,
        &results_path,
        &results_path.replace("/results", "/extensions"),
        &[("user_id", &bob_id), ("minutes", "15")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &teacher, &results_path).await;
    assert!(html.contains("value=\"15\""));
    let (_, html) = page(&app, &bob, &cohort_path).await;
    assert!(html.contains("+15 min for you"));

    // access: members get 403 on results, outsiders 404 on everything of the cohort
    assert_eq!(
        page(&app, &ann, &results_path).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        page(&app, &ann, &format!("{results_path}.csv")).await.0,
        StatusCode::FORBIDDEN
    );
    for path in [&cohort_path, &results_path] {
        assert_eq!(page(&app, &eve, path).await.0, StatusCode::NOT_FOUND);
    }
    let r = post_form(&app, &eve, "/cohorts", &start_path, &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // a member cannot remove anyone; the owner can
    let r = post_form(
        &app,
        &ann,
        "/cohorts",
        &format!("{cohort_path}/members/{bob_id}/remove"),
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post_form(
        &app,
        &teacher,
        &cohort_path,
        &format!("{cohort_path}/members/{bob_id}/remove"),
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page(&app, &bob, &cohort_path).await.0,
        StatusCode::NOT_FOUND
    );
    // the owner turns the leaderboard on: members now see the heatmap with names
    let r = post_form(
        &app,
        &teacher,
        &cohort_path,
        &format!("{cohort_path}/leaderboard"),
        &[("on", "true")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &ann, &cohort_path).await;
    assert!(html.contains("id=\"heatmap\"") && html.contains("Ann Archer"));
    // rotating the code makes the old one useless
    let r = post_form(
        &app,
        &teacher,
        &cohort_path,
        &format!("{cohort_path}/code"),
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post_form(&app, &eve, "/cohorts", "/cohorts/join", &[("code", &code)]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
