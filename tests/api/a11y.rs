//! Accessibility: axe-core (pinned in `tests/a11y/package.json`, installed with `npm ci`) runs in
//! headless Chromium on every page, as each role with real state, at 390×844 and 1280×800. Any
//! "critical" or "serious" violation of WCAG 2.2 AA or best practice fails the test, and so does
//! horizontal page overflow at 390 px. The honest empty states (a new learner's readiness, an
//! empty cohort's group estimates) are checked over plain HTTP.

use std::time::{Duration, Instant};

use chrono::Utc;
use exambank::domain::user::Role;
use fantoccini::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::webdriver::{browser, chromedriver, log_in};
use crate::helpers::{
    browser as http_browser, browser_login, key, manifest_dir, seed_fixture, wrong_option, TestApp,
};

const SIZES: [(u32, u32); 2] = [(390, 844), (1280, 800)];
const TAGS: [&str; 6] = [
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22aa",
    "best-practice",
];

/// The pinned axe-core; a missing install is a failure that says how to fix it, never a skip.
fn axe_source() -> String {
    let path = manifest_dir().join("tests/a11y/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}): run `npm ci --prefix tests/a11y` (scripts/test.sh does it for you)",
            path.display()
        )
    })
}

/// Sets the viewport (not the window) to `w`×`h`.
async fn viewport(c: &Client, w: u32, h: u32) {
    c.set_window_size(w, h).await.unwrap();
    let inner = c
        .execute("return [window.innerWidth, window.innerHeight]", vec![])
        .await
        .unwrap();
    let (iw, ih) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
    if (iw, ih) != (w as u64, h as u64) {
        c.set_window_size(
            (2 * w as u64).saturating_sub(iw) as u32,
            (2 * h as u64).saturating_sub(ih) as u32,
        )
        .await
        .unwrap();
    }
    let iw = c.execute("return window.innerWidth", vec![]).await.unwrap();
    assert_eq!(iw.as_u64(), Some(w as u64), "viewport width");
}

async fn wait_loaded(c: &Client) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while c
        .execute("return document.readyState", vec![])
        .await
        .unwrap()
        != "complete"
    {
        assert!(Instant::now() < deadline, "page did not load");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs axe on the current page; returns the serious and critical violations as
/// `rule (impact) target` lines.
async fn axe(c: &Client, source: &str) -> Vec<String> {
    let loaded = c.execute("return typeof window.axe", vec![]).await.unwrap();
    if loaded != "object" {
        c.execute(&format!("{source}\n;return typeof window.axe;"), vec![])
            .await
            .expect("axe-core loads");
    }
    let script = r#"
        const done = arguments[arguments.length - 1];
        window.axe.run(document, {
            runOnly: { type: 'tag', values: arguments[0] },
            resultTypes: ['violations'],
        }).then(r => done(r.violations
            .filter(v => v.impact === 'critical' || v.impact === 'serious')
            .flatMap(v => v.nodes.map(n => `${v.id} (${v.impact}) ${n.target.join(' ')}: ${v.help}`))))
          .catch(e => done(['axe failed: ' + e]));
    "#;
    let found = c
        .execute_async(script, vec![json!(TAGS)])
        .await
        .expect("axe runs");
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The page is wider than the viewport: what sticks out.
async fn overflow(c: &Client) -> Option<String> {
    let r = c
        .execute(
            r#"
            const sw = document.documentElement.scrollWidth, iw = window.innerWidth;
            if (sw <= iw) return null;
            const out = [];
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.right > iw + 1 && out.length < 6) {
                    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                        (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
                        ' right=' + Math.round(r.right));
                }
            }
            return `scrollWidth ${sw} > innerWidth ${iw}: ${out.join(', ')}`;
        "#,
            vec![],
        )
        .await
        .unwrap();
    r.as_str().map(str::to_string)
}

/// SVG chart text drawn smaller than 12 CSS pixels (font size × the chart's scale).
async fn small_chart_text(c: &Client) -> Vec<String> {
    let r = c
        .execute(
            r#"
            const out = [];
            for (const t of document.querySelectorAll('svg text')) {
                const svg = t.ownerSVGElement, m = svg && svg.getScreenCTM();
                if (!m) continue;
                const px = parseFloat(getComputedStyle(t).fontSize) * m.a;
                if (px < 11.95) out.push(`"${t.textContent.trim()}" ${px.toFixed(1)}px`);
            }
            return out.slice(0, 5);
        "#,
            vec![],
        )
        .await
        .unwrap();
    r.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Audits `paths` (label, path) as the signed-in browser `c` at both sizes.
async fn audit(
    c: &Client,
    app: &TestApp,
    source: &str,
    who: &str,
    paths: &[(String, String)],
    problems: &mut Vec<String>,
) {
    for (w, h) in SIZES {
        viewport(c, w, h).await;
        for (label, path) in paths {
            c.goto(&app.url(path)).await.unwrap();
            wait_loaded(c).await;
            let h1s = c
                .execute("return document.querySelectorAll('h1').length", vec![])
                .await
                .unwrap();
            if h1s != 1 {
                problems.push(format!("{label} {path} as {who} at {w}×{h}: {h1s} h1"));
            }
            for v in axe(c, source).await {
                problems.push(format!("{label} {path} as {who} at {w}×{h}: {v}"));
            }
            if w == 390 {
                for t in small_chart_text(c).await {
                    problems.push(format!(
                        "{label} {path} as {who} at {w}×{h}: chart text below 12 px: {t}"
                    ));
                }
                if let Some(o) = overflow(c).await {
                    problems.push(format!(
                        "{label} {path} as {who} at {w}×{h}: horizontal overflow, {o}"
                    ));
                }
            }
        }
    }
}

fn page(label: &str, path: impl Into<String>) -> (String, String) {
    (label.to_string(), path.into())
}

/// Answers the questions of an attempt over the API, every other one right.
async fn answer(app: &TestApp, pool: &PgPool, who: &Value, attempt: &Value, upto: usize) {
    let id = attempt["id"].as_str().unwrap();
    for (i, q) in attempt["questions"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .take(upto)
    {
        let pos = i as i64 + 1;
        let right = key(pool, id, pos).await;
        let choice = if i % 2 == 0 {
            right
        } else {
            vec![wrong_option(q, &right)]
        };
        app.answer(
            who,
            id,
            pos,
            json!({"choices": choice, "time_spent_ms": 20000}),
        )
        .await;
    }
}

async fn api_post(app: &TestApp, who: &Value, path: &str, body: Value) -> Value {
    let r = app.post_as(who, path, &body).await;
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn every_page_passes_axe_at_phone_and_desktop_sizes(pool: PgPool) {
    let source = axe_source();
    let _bank = seed_fixture(&pool, 4).await;
    let app = TestApp::spawn(pool.clone()).await;
    let teacher = app
        .user_with_role("teach@example.com", Role::Instructor)
        .await;
    let ann = app.register("ann@example.com").await;

    // a finished exam with its result and review, and one in progress with some answers
    let done = app
        .start_attempt(&ann, json!({"count": 8, "mode": "exam"}))
        .await;
    answer(&app, &pool, &ann, &done, 8).await;
    let done_id = done["id"].as_str().unwrap().to_string();
    app.submit(&ann, &done_id).await;
    let open = app
        .start_attempt(&ann, json!({"blueprint": "quick", "mode": "exam"}))
        .await;
    answer(&app, &pool, &ann, &open, 3).await;
    let open_id = open["id"].as_str().unwrap().to_string();
    // practice: the answered question shows its feedback
    let practice = app
        .start_attempt(&ann, json!({"count": 3, "mode": "practice"}))
        .await;
    answer(&app, &pool, &ann, &practice, 2).await;
    let practice_id = practice["id"].as_str().unwrap().to_string();

    // a cohort with ann in it and a finished cohort exam; a second cohort with nobody in it
    let cohort = api_post(
        &app,
        &teacher,
        "/api/v1/cohorts",
        json!({"name": "Evening class"}),
    )
    .await;
    let cohort_id = cohort["id"].as_str().unwrap().to_string();
    api_post(
        &app,
        &ann,
        "/api/v1/cohorts/join",
        json!({"code": cohort["join_code"]}),
    )
    .await;
    let now = Utc::now();
    let exam = api_post(
        &app,
        &teacher,
        &format!("/api/v1/cohorts/{cohort_id}/exams"),
        json!({"blueprint": "quick", "opens_at": now - chrono::Duration::minutes(1),
               "closes_at": now + chrono::Duration::hours(2)}),
    )
    .await;
    let exam_id = exam["id"].as_str().unwrap().to_string();
    let sitting = api_post(
        &app,
        &ann,
        &format!("/api/v1/cohorts/{cohort_id}/exams/{exam_id}/attempts"),
        json!({}),
    )
    .await;
    let n = sitting["questions"].as_array().unwrap().len();
    answer(&app, &pool, &ann, &sitting, n).await;
    app.submit(&ann, sitting["id"].as_str().unwrap()).await;
    // item statistics name options by letter and text, not by id
    let t = http_browser();
    browser_login(&app, &t, "teach@example.com").await;
    let html = text(
        &app,
        &t,
        &format!("/cohorts/{cohort_id}/exams/{exam_id}/results"),
    )
    .await;
    let items = html.split("id=\"items\"").nth(1).unwrap();
    assert!(items.contains("A. Right answer"), "{items}");
    assert!(items.contains("D. Wrong answer"), "{items}");
    let empty = api_post(
        &app,
        &teacher,
        "/api/v1/cohorts",
        json!({"name": "Empty group"}),
    )
    .await;
    let empty_id = empty["id"].as_str().unwrap().to_string();

    let notes: Vec<String> = {
        let b = http_browser();
        let html = b
            .get(app.url("/notes"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        html.split("href=\"/notes/")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect()
    };
    assert!(notes.len() >= 5, "{notes:?}");

    let driver = chromedriver().await;
    let c = browser(&driver).await;
    let mut problems = Vec::new();

    // anonymous
    let mut pages = vec![
        page("home", "/"),
        page("login", "/login"),
        page("register", "/register"),
        page("notes index", "/notes"),
        page("questions", "/questions"),
        page("404", "/no-such-page"),
    ];
    pages.extend(notes.iter().map(|d| page("notes", format!("/notes/{d}"))));
    audit(&c, &app, &source, "anonymous", &pages, &mut problems).await;

    // a learner with history, an open exam and a cohort
    log_in(&c, &app, "ann@example.com").await;
    let pages = vec![
        page("home", "/"),
        page("dashboard", "/dashboard"),
        page("practice", "/practice"),
        page("new exam", "/exams/new"),
        page("exam (attempt_take)", format!("/attempts/{open_id}?q=2")),
        page(
            "exam submit (attempt_submit)",
            format!("/attempts/{open_id}/submit"),
        ),
        page(
            "practice question (attempt_take)",
            format!("/attempts/{practice_id}?q=2"),
        ),
        page("result", format!("/attempts/{done_id}/result")),
        page("review", format!("/attempts/{done_id}/review")),
        page("notes index", "/notes"),
        page("notes", format!("/notes/{}", notes[0])),
        page("questions", "/questions?q=fixture"),
        page("cohorts", "/cohorts"),
        page("cohort as member", format!("/cohorts/{cohort_id}")),
        page("403", "/author/questions"),
        page("404", "/no-such-page"),
        page("404 cohort", format!("/cohorts/{empty_id}")),
    ];
    audit(&c, &app, &source, "learner", &pages, &mut problems).await;
    c.delete_all_cookies().await.unwrap();

    // the instructor: cohorts, results, authoring, and an empty dashboard
    log_in(&c, &app, "teach@example.com").await;
    c.goto(&app.url("/author/questions")).await.unwrap();
    let edit = c
        .execute(
            "return [...document.querySelectorAll('a[href^=\"/author/questions/\"]')].map(a => a.getAttribute('href')).find(h => !h.endsWith('/new'))",
            vec![],
        )
        .await
        .unwrap();
    let edit = edit.as_str().expect("an edit link").to_string();
    let pages = vec![
        page("dashboard (no data)", "/dashboard"),
        page("cohorts", "/cohorts"),
        page("cohort as owner", format!("/cohorts/{cohort_id}")),
        page("empty cohort as owner", format!("/cohorts/{empty_id}")),
        page(
            "cohort results",
            format!("/cohorts/{cohort_id}/exams/{exam_id}/results"),
        ),
        page("author list", "/author/questions"),
        page("author edit", edit),
        page("author new", "/author/questions/new"),
        page("404", "/no-such-page"),
    ];
    audit(&c, &app, &source, "instructor", &pages, &mut problems).await;
    c.close().await.unwrap();

    assert!(
        problems.is_empty(),
        "{} accessibility problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

async fn text(app: &TestApp, b: &reqwest::Client, path: &str) -> String {
    let r = b.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}

/// With too little data the dashboard says how many more answers an estimate needs instead of
/// showing a score and a pass chance; an empty cohort shows "no data", not 50 %.
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn empty_states_say_there_is_no_data(pool: PgPool) {
    let _bank = seed_fixture(&pool, 4).await;
    let app = TestApp::spawn(pool.clone()).await;
    let teacher = app
        .user_with_role("teach@example.com", Role::Instructor)
        .await;
    app.register("new@example.com").await;
    let b = http_browser();
    browser_login(&app, &b, "new@example.com").await;
    let html = text(&app, &b, "/dashboard").await;
    let readiness = html
        .split("id=\"readiness\"")
        .nth(1)
        .expect("a readiness card")
        .split("</div>")
        .next()
        .unwrap();
    assert!(
        readiness.contains("more questions for an estimate"),
        "{readiness}"
    );
    assert!(
        !readiness.contains("/ 1000") && !readiness.contains("pass chance"),
        "{readiness}"
    );

    let cohort = api_post(
        &app,
        &teacher,
        "/api/v1/cohorts",
        json!({"name": "Nobody yet"}),
    )
    .await;
    let t = http_browser();
    browser_login(&app, &t, "teach@example.com").await;
    let html = text(
        &app,
        &t,
        &format!("/cohorts/{}", cohort["id"].as_str().unwrap()),
    )
    .await;
    assert!(html.contains("no data"), "{html}");
    assert!(!html.contains("50%") && !html.contains("50 %"), "{html}");
}

/// Error pages are drawn in the site layout (language, header) for whoever is signed in; the
/// API keeps its problem+json.
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn error_pages_use_the_site_layout_for_the_signed_in_user(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.register("ann@example.com").await;
    let anon = http_browser();
    let r = anon.get(app.url("/no-such-page")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(
        html.contains("Skip to main content") && html.contains(">Log in<"),
        "{html}"
    );
    assert_eq!(html.matches("<h1").count(), 1, "{html}");

    let ann = http_browser();
    browser_login(&app, &ann, "ann@example.com").await;
    for (path, status) in [
        ("/no-such-page", StatusCode::NOT_FOUND),
        ("/author/questions", StatusCode::FORBIDDEN),
        (
            "/cohorts/00000000-0000-0000-0000-000000000000",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let r = ann.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), status, "{path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(r.headers().contains_key("x-request-id"), "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("<html lang=\"en\">"), "{path}: {html}");
        assert!(
            html.contains("Log out") && html.contains("href=\"/dashboard\""),
            "{path}: the signed-in header: {html}"
        );
        assert!(html.contains(&format!("<h1>{}", status.as_u16())), "{html}");
    }
    let r = ann
        .get(app.url("/api/v1/no-such-thing"))
        .send()
        .await
        .unwrap();
    crate::helpers::problem(r, 404).await;
}
