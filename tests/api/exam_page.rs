//! The exam page never loses work or ends by accident: submit goes through a summary, Enter
//! moves forward, a selection made without pressing anything survives a reload and the end of
//! the countdown, practice feedback is shown before moving on. In real headless Chromium
//! (with JavaScript) and over plain HTTP forms (the no-JavaScript path).

use std::time::{Duration, Instant};

use exambank::domain::user::Role;
use fantoccini::{key::Key, Client, Locator};
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::helpers::webdriver::{browser, chromedriver, log_in};
use crate::helpers::{browser as http_browser, browser_login, csrf_of, seed_fixture, TestApp};

/// Waits until the current URL's path and query satisfy `pred`; returns the path.
async fn wait_until(c: &Client, what: &str, pred: impl Fn(&str, Option<&str>) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = c.current_url().await.unwrap();
        if pred(url.path(), url.query()) {
            return url.path().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "waited for {what}, still on {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Starts a custom exam of `count` questions from the new-exam page; returns `/attempts/{id}`.
async fn start_custom(c: &Client, app: &TestApp, count: u32, minutes: u32) -> String {
    c.goto(&app.url("/exams/new")).await.unwrap();
    let n = c.find(Locator::Id("count")).await.unwrap();
    n.clear().await.unwrap();
    n.send_keys(&count.to_string()).await.unwrap();
    c.find(Locator::Id("time_limit_minutes"))
        .await
        .unwrap()
        .send_keys(&minutes.to_string())
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
    wait_until(c, "the first question", |_, q| q == Some("q=1")).await
}

async fn answered_in_db(pool: &PgPool, attempt_path: &str) -> (String, Vec<i32>) {
    let id = attempt_path.trim_start_matches("/attempts/");
    let status: String = sqlx::query_scalar("SELECT status FROM attempts WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
    let positions: Vec<i32> = sqlx::query_scalar(
        "SELECT position FROM attempt_questions WHERE attempt_id = $1::uuid AND cardinality(choices) > 0 ORDER BY position",
    )
    .bind(id)
    .fetch_all(pool)
    .await
    .unwrap();
    (status, positions)
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn enter_moves_forward_and_submit_goes_through_the_summary(pool: PgPool) {
    let _bank = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn(pool.clone()).await;
    app.user_with_role("ann@example.com", Role::Learner).await;
    let driver = chromedriver().await;
    let c = browser(&driver).await;
    log_in(&c, &app, "ann@example.com").await;
    let attempt = start_custom(&c, &app, 3, 30).await;

    // one h1 on the page, the timer is a timer
    assert_eq!(c.find_all(Locator::Css("h1")).await.unwrap().len(), 1);
    let role = c
        .find(Locator::Id("countdown"))
        .await
        .unwrap()
        .attr("role")
        .await
        .unwrap();
    assert_eq!(role.as_deref(), Some("timer"));

    // choose an option and press Enter on it: saved, and on to question 2 (not "Previous")
    let option = c.find(Locator::Css("input[name=choice]")).await.unwrap();
    option.click().await.unwrap();
    option.send_keys(&Key::Enter.to_string()).await.unwrap();
    wait_until(&c, "question 2", |_, q| q == Some("q=2")).await;
    // Enter on question 2 without a choice still moves forward
    c.find(Locator::Id("flag"))
        .await
        .unwrap()
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
    wait_until(&c, "question 3", |_, q| q == Some("q=3")).await;

    // "Review and submit" shows the summary and ends nothing
    c.find(Locator::Id("submit-exam"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(&c, "the summary", |p, _| p.ends_with("/submit")).await;
    let summary = text_of(&c, "#submit-summary").await;
    assert!(summary.contains("1 of 3 answered"), "{summary}");
    assert!(summary.contains("2 unanswered"), "{summary}");
    assert_eq!(
        c.find_all(Locator::Css("#unanswered a"))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(summary.contains("Time left"), "{summary}");
    let (status, _) = answered_in_db(&pool, &attempt).await;
    assert_eq!(status, "in_progress", "the summary submits nothing");

    // back to an unanswered question, answer it, then confirm for real
    c.find(Locator::Css("#unanswered a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(&c, "question 2 again", |_, q| q == Some("q=2")).await;
    c.find(Locator::Css("input[name=choice]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("submit-exam"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(&c, "the summary", |p, _| p.ends_with("/submit")).await;
    assert!(text_of(&c, "#submit-summary")
        .await
        .contains("2 of 3 answered"));
    c.find(Locator::Id("confirm-submit-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(&c, "the result", |p, _| p.ends_with("/result")).await;
    let (status, answered) = answered_in_db(&pool, &attempt).await;
    assert_eq!(status, "submitted");
    assert_eq!(answered, vec![1, 2]);
    c.close().await.unwrap();
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn nothing_selected_on_screen_is_lost_by_a_reload_or_the_end_of_the_countdown(pool: PgPool) {
    let _bank = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn(pool.clone()).await;
    app.user_with_role("ann@example.com", Role::Learner).await;
    let driver = chromedriver().await;
    let c = browser(&driver).await;
    log_in(&c, &app, "ann@example.com").await;
    let attempt = start_custom(&c, &app, 3, 1).await;

    // a choice made without pressing Save, Next or a palette number survives a reload
    let options = c
        .find_all(Locator::Css("input[name=choice]"))
        .await
        .unwrap();
    options[1].click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while text_of(&c, "#save-status").await != "Saved" {
        assert!(Instant::now() < deadline, "the background save finished");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.refresh().await.unwrap();
    let options = c
        .find_all(Locator::Css("input[name=choice]"))
        .await
        .unwrap();
    assert!(
        options[1].is_selected().await.unwrap(),
        "the selection survives a reload"
    );

    // go to question 3 and choose there in the last seconds, pressing nothing
    c.goto(&app.url(&format!("{attempt}?q=3"))).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(75);
    loop {
        let left = text_of(&c, "#countdown").await;
        if left == "0:02" || left == "0:01" {
            break;
        }
        assert!(Instant::now() < deadline, "countdown shows {left}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    c.find(Locator::Css("input[name=choice]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // at zero the page saves what is on screen, then submits
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if c.current_url().await.unwrap().path().ends_with("/result") {
            break;
        }
        assert!(Instant::now() < deadline, "the page did not submit itself");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, answered) = answered_in_db(&pool, &attempt).await;
    assert_eq!(status, "expired");
    assert_eq!(answered, vec![1, 3], "both selections are in the result");
    let notice = text_of(&c, "#time-ran-out").await;
    assert!(
        notice.contains("Time ran out") && notice.contains("2 of 3 answers counted"),
        "{notice}"
    );
    c.close().await.unwrap();
}

fn form_field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
    Some(html[at..].split('"').next().unwrap().to_string())
}

fn option_ids(html: &str) -> Vec<String> {
    html.split("name=\"choice\" value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

/// The no-JavaScript path: plain form posts answer, navigate, reach the summary and submit.
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn the_exam_works_without_javascript(pool: PgPool) {
    let _bank = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn(pool.clone()).await;
    app.user_with_role("ann@example.com", Role::Learner).await;
    let b = http_browser();
    browser_login(&app, &b, "ann@example.com").await;
    let html = b.get(app.url("/exams/new")).send().await.unwrap();
    let html = html.text().await.unwrap();
    let r = b
        .post(app.url("/exams/new"))
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("kind", "custom"),
            ("count", "2"),
            ("time_limit_minutes", "10"),
            ("mode", "exam"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let first = r.headers()["location"].to_str().unwrap().to_string();
    let attempt = first.split('?').next().unwrap().to_string();
    let page = b
        .get(app.url(&first))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // the form's first submit button is the forward action, for Enter
    let first_button = page.split("<button").nth(1).unwrap();
    assert!(first_button.contains("value=\"next\""), "{first_button}");
    let csrf = form_field(&page, "csrf_token").unwrap();
    let choice = option_ids(&page)[0].clone();
    let post = |nav: &'static str, position: &'static str, choice: Option<String>| {
        let mut form = vec![
            ("csrf_token".to_string(), csrf.clone()),
            ("position".to_string(), position.to_string()),
            ("nav".to_string(), nav.to_string()),
        ];
        if let Some(c) = choice {
            form.push(("choice".into(), c));
        }
        b.post(app.url(&format!("{attempt}/answer")))
            .form(&form)
            .send()
    };
    let r = post("next", "1", Some(choice)).await.unwrap();
    assert_eq!(r.headers()["location"], format!("{attempt}?q=2").as_str());
    // "submit" leads to the summary, not to a finalized exam
    let r = post("submit", "2", None).await.unwrap();
    assert_eq!(
        r.headers()["location"],
        format!("{attempt}/submit").as_str()
    );
    let summary = b
        .get(app.url(&format!("{attempt}/submit")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(summary.contains("1 of 2 answered"), "{summary}");
    let (status, _) = answered_in_db(&pool, &attempt).await;
    assert_eq!(status, "in_progress");
    let r = b
        .post(app.url(&format!("{attempt}/submit")))
        .form(&[("csrf_token", csrf_of(&summary).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        format!("{attempt}/result").as_str()
    );
    let (status, answered) = answered_in_db(&pool, &attempt).await;
    assert_eq!((status.as_str(), answered), ("submitted", vec![1]));
    // once submitted, the summary sends you to the result
    let r = b
        .get(app.url(&format!("{attempt}/submit")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        format!("{attempt}/result").as_str()
    );
}

/// Practice feedback cannot be skipped: the first answer to a question stays on it and shows
/// the verdict in words and icons, whatever button was pressed.
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn practice_feedback_is_shown_before_moving_on(pool: PgPool) {
    let _bank = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn(pool.clone()).await;
    app.user_with_role("ann@example.com", Role::Learner).await;
    let b = http_browser();
    browser_login(&app, &b, "ann@example.com").await;
    let html = b.get(app.url("/exams/new")).send().await.unwrap();
    let html = html.text().await.unwrap();
    let r = b
        .post(app.url("/exams/new"))
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("kind", "custom"),
            ("count", "2"),
            ("mode", "practice"),
        ])
        .send()
        .await
        .unwrap();
    let first = r.headers()["location"].to_str().unwrap().to_string();
    let attempt = first.split('?').next().unwrap().to_string();
    let page = b
        .get(app.url(&first))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"feedback_pending\""));
    let csrf = form_field(&page, "csrf_token").unwrap();
    let choice = option_ids(&page)[0].clone();
    let r = b
        .post(app.url(&format!("{attempt}/answer")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("position", "1"),
            ("feedback_pending", "1"),
            ("choice", choice.as_str()),
            ("nav", "next"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        format!("{attempt}?q=1").as_str(),
        "stays to show the feedback"
    );
    let page = b
        .get(app.url(&format!("{attempt}?q=1")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let feedback = page.split("id=\"feedback\"").nth(1).unwrap();
    assert!(
        (feedback.contains("✔") && feedback.contains("Correct."))
            || (feedback.contains("✘") && feedback.contains("Incorrect.")),
        "{feedback}"
    );
    assert!(
        page.contains("correct answer"),
        "the key is marked in words"
    );
    assert!(!page.contains("name=\"feedback_pending\""));
    // now Next moves on
    let r = b
        .post(app.url(&format!("{attempt}/answer")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("position", "1"),
            ("choice", choice.as_str()),
            ("nav", "next"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], format!("{attempt}?q=2").as_str());
}

/// Drills are offered under their topic area's name, not their slug.
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn drills_have_human_names(pool: PgPool) {
    let _bank = seed_fixture(&pool, 3).await;
    let app = TestApp::spawn(pool.clone()).await;
    app.user_with_role("ann@example.com", Role::Learner).await;
    let b = http_browser();
    browser_login(&app, &b, "ann@example.com").await;
    let html = b
        .get(app.url("/exams/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Identity and access (IAM, STS, Cognito) drill"),
        "{html}"
    );
    assert!(!html.contains("Domain drill: iam"));
}
