//! A real browser (headless Chromium over WebDriver) takes a short custom exam through the
//! pages: answers, flags, navigates with the palette, reloads mid-exam and finds its answers,
//! lets a one-minute countdown reach zero and lands on the result page.

use std::time::{Duration, Instant};

use exambank::domain::user::Role;
use fantoccini::{Client, Locator};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::webdriver::{browser, chromedriver, log_in};
use crate::helpers::{seed_fixture, TestApp};

/// Waits for the navigation a click started to land on `?{query}`.
async fn wait_for_query(c: &Client, query: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if c.current_url().await.unwrap().query() == Some(query) {
            // and for the new page's form to be there
            if c.find(Locator::Id("answer-form")).await.is_ok() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "never reached ?{query}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn checked(c: &Client, css: &str) -> bool {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .is_selected()
        .await
        .unwrap()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn a_browser_takes_a_one_minute_exam(pool: PgPool) {
    let _bank = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn(pool.clone()).await;
    app.user_with_role("ann@example.com", Role::Learner).await;
    let driver = chromedriver().await;
    let c = browser(&driver).await;

    log_in(&c, &app, "ann@example.com").await;

    // a custom exam: 3 questions, one minute
    c.goto(&app.url("/exams/new")).await.unwrap();
    let count = c.find(Locator::Id("count")).await.unwrap();
    count.clear().await.unwrap();
    count.send_keys("3").await.unwrap();
    c.find(Locator::Id("time_limit_minutes"))
        .await
        .unwrap()
        .send_keys("1")
        .await
        .unwrap();
    c.find(Locator::Css("#custom-mode option[value=exam]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("#custom-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_query(&c, "q=1").await;
    let url = c.current_url().await.unwrap();
    assert!(url.path().starts_with("/attempts/"), "{url}");
    let attempt_path = url.path().to_string();
    let countdown = c
        .find(Locator::Id("countdown"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        countdown.starts_with("0:") || countdown.starts_with("1:"),
        "countdown shows {countdown:?}"
    );

    // answer 1 and flag it, go next
    c.find(Locator::Css("input[name=choice]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("flag"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("next"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_query(&c, "q=2").await;
    // answer 2 (its last option), then jump back to 1 with the palette
    let options = c
        .find_all(Locator::Css("input[name=choice]"))
        .await
        .unwrap();
    options.last().unwrap().click().await.unwrap();
    c.find(Locator::Id("palette-1"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_query(&c, "q=1").await;
    assert!(checked(&c, "input[name=choice]").await, "answer 1 kept");
    assert!(checked(&c, "#flag").await, "flag kept");
    let p1 = c
        .find(Locator::Id("palette-1"))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default();
    let p2 = c
        .find(Locator::Id("palette-2"))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default();
    let p3 = c
        .find(Locator::Id("palette-3"))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(p1.contains("answered") && p1.contains("flagged"), "{p1}");
    assert!(p2.contains("answered") && !p2.contains("flagged"), "{p2}");
    assert!(!p3.contains("answered"), "{p3}");

    // reload mid-exam: everything is still there
    c.goto(&app.url(&format!("{attempt_path}?q=2")))
        .await
        .unwrap();
    c.refresh().await.unwrap();
    let options = c
        .find_all(Locator::Css("input[name=choice]"))
        .await
        .unwrap();
    assert!(
        options.last().unwrap().is_selected().await.unwrap(),
        "answer 2 survives a reload"
    );

    // let the countdown reach zero: the page submits itself and lands on the result
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let url = c.current_url().await.unwrap();
        if url.path().ends_with("/result") {
            break;
        }
        if Instant::now() >= deadline {
            let status = c.find(Locator::Id("save-status")).await.map(|_| ()).is_ok();
            let body = c.source().await.unwrap_or_default();
            let tail: String = body
                .chars()
                .rev()
                .take(1500)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            panic!("still on {url} after the deadline (exam page: {status}); page ends: {tail}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let verdict = c
        .find(Locator::Id("verdict"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(verdict.contains("/ 1000"), "{verdict}");
    assert!(
        c.find(Locator::Css("svg.chart rect")).await.is_ok(),
        "the per-domain chart"
    );
    let id = attempt_path.trim_start_matches("/attempts/");
    let (status, answered): (String, i64) = sqlx::query_as(
        "SELECT t.status, (SELECT count(*) FROM attempt_questions a WHERE a.attempt_id = t.id AND cardinality(a.choices) > 0) FROM attempts t WHERE t.id = $1::uuid",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(status == "submitted" || status == "expired", "{status}");
    assert_eq!(answered, 2);
    c.close().await.unwrap();
}

async fn wait_for_path(c: &Client, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let path = c.current_url().await.unwrap().path().to_string();
        if pred(&path) {
            return path;
        }
        assert!(Instant::now() < deadline, "still on {path}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn js_number(c: &Client, script: &str) -> f64 {
    c.execute(script, vec![]).await.unwrap().as_f64().unwrap()
}

/// An instructor runs a cohort through the pages in a real browser: creates it, sees a member's
/// results as a heatmap and on the results page (chart, item statistics, CSV link), and grants
/// an extension through the form.
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn an_instructor_runs_a_cohort_in_the_browser(pool: PgPool) {
    let _bank = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn(pool.clone()).await;
    let teacher = app
        .user_with_role("teach@example.com", Role::Instructor)
        .await;
    let ann = app.register("ann@example.com").await;
    let driver = chromedriver().await;
    let c = browser(&driver).await;
    log_in(&c, &app, "teach@example.com").await;

    // create the cohort with the form
    c.goto(&app.url("/cohorts")).await.unwrap();
    c.find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys("Evening class")
        .await
        .unwrap();
    c.find(Locator::Css("#create-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let cohort_path = wait_for_path(&c, |p| p.starts_with("/cohorts/") && p.len() > 20).await;
    let cohort = cohort_path.trim_start_matches("/cohorts/").to_string();
    let code = c
        .find(Locator::Id("join-code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // a learner joins and sits a scheduled exam (over the API, as the phone app would)
    app.join_cohort(&ann, &code).await;
    let now = chrono::Utc::now();
    let exam = app
        .schedule_exam(
            &teacher,
            &cohort,
            json!({"blueprint": "quick", "opens_at": now - chrono::Duration::minutes(1),
                   "closes_at": now + chrono::Duration::hours(1)}),
        )
        .await;
    let exam_id = exam["id"].as_str().unwrap();
    let a: serde_json::Value = app
        .start_cohort_exam(&ann, &cohort, exam_id)
        .await
        .json()
        .await
        .unwrap();
    let attempt = a["id"].as_str().unwrap();
    let questions = a["questions"].as_array().unwrap();
    for q in questions {
        let position = q["position"].as_i64().unwrap();
        let body = json!({"choices": [q["options"][0]["id"]], "time_spent_ms": 30000});
        app.answer(&ann, attempt, position, body).await;
    }
    app.submit(&ann, attempt).await;

    // the cohort page draws the heatmap: one member × every topic area, laid out for real
    c.goto(&app.url(&cohort_path)).await.unwrap();
    let cells = c
        .find_all(Locator::Css("#heatmap rect"))
        .await
        .unwrap()
        .len();
    assert_eq!(cells, crate::helpers::topic_areas().len());
    let width = js_number(
        &c,
        "return document.getElementById('heatmap').getBoundingClientRect().width",
    )
    .await;
    assert!(width > 200.0, "heatmap is {width}px wide");
    // the stylesheet applied (CSP allows it): cards have their border
    let border = c
        .execute(
            "return getComputedStyle(document.querySelector('.card')).borderTopStyle",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(border, "solid");

    // to the results: chart, one item row per question, the CSV link
    c.find(Locator::LinkText("Results"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&c, |p| p.ends_with("/results")).await;
    let bars = c
        .find_all(Locator::Css("#domain-chart rect"))
        .await
        .unwrap()
        .len();
    assert!(bars >= 2, "{bars} rects in the domain chart");
    let rows = c
        .find_all(Locator::Css("#items tbody tr"))
        .await
        .unwrap()
        .len();
    assert_eq!(rows, questions.len());
    let href = c
        .find(Locator::Id("csv-link"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(href.ends_with("/results.csv"), "{href}");

    // an extension through the learner row's form
    let field = c
        .find(Locator::Css("#learner-table input[name=minutes]"))
        .await
        .unwrap();
    field.clear().await.unwrap();
    field.send_keys("12").await.unwrap();
    c.find(Locator::Css("#learner-table button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // the page is being replaced: an element found a moment ago may already be gone
        let v = match c
            .find(Locator::Css("#learner-table input[name=minutes]"))
            .await
        {
            Ok(e) => e.prop("value").await.ok().flatten(),
            Err(_) => None,
        };
        if v.as_deref() == Some("12")
            && c.current_url().await.unwrap().fragment() == Some("learners")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the extension was not shown: {v:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let minutes: i32 = sqlx::query_scalar("SELECT minutes FROM cohort_exam_extensions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(minutes, 12);
    c.close().await.unwrap();
}
