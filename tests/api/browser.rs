//! A real browser (headless Chromium over WebDriver) takes a short custom exam through the
//! pages: answers, flags, navigates with the palette, reloads mid-exam and finds its answers,
//! lets a one-minute countdown reach zero and lands on the result page.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use exambank::domain::user::Role;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use sqlx::PgPool;

use crate::attempts::seed_fixture;
use crate::helpers::{TempDir, TestApp, PASSWORD};

struct Driver {
    child: Child,
    _profile: TempDir,
    url: String,
    profile_dir: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn chromedriver() -> Driver {
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    assert!(
        std::path::Path::new(&bin).exists(),
        "{bin} is missing: install Debian's chromium and chromium-driver (.ci/run does)"
    );
    let port = free_port();
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{url}/status")).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = TempDir::new();
    let profile_dir = profile.0.display().to_string();
    Driver {
        child,
        _profile: profile,
        url,
        profile_dir,
    }
}

async fn browser(driver: &Driver) -> Client {
    // two TLS backends are linked (ring and aws-lc-rs through different crates): pick one
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=412,900", format!("--user-data-dir={}", driver.profile_dir)]
        }),
    );
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

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

    // log in
    c.goto(&app.url("/login")).await.unwrap();
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("ann@example.com")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form.card button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // the login lands on the home page, signed in
    let deadline = Instant::now() + Duration::from_secs(15);
    while !c.source().await.unwrap().contains("Log out") {
        assert!(Instant::now() < deadline, "login did not complete");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

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
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let url = c.current_url().await.unwrap();
        if url.path().ends_with("/result") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still on {url} after the deadline"
        );
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
