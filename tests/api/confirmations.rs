//! Before a destructive action the pages ask ("are you sure?"), and after an action they say
//! what happened (a message that survives the redirect, shown once). All without JavaScript.

use exambank::domain::user::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::helpers::{browser, browser_login, csrf_of, seed_fixture, TestApp};

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn retiring_a_question_asks_first_and_confirms_after(pool: PgPool) {
    let _bank = seed_fixture(&pool, 2).await;
    let app = TestApp::spawn(pool.clone()).await;
    app.user_with_role("ida@example.com", Role::Instructor)
        .await;
    let b = browser();
    browser_login(&app, &b, "ida@example.com").await;
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM questions ORDER BY slug LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let edit = format!("/author/questions/{id}");
    let html = b
        .get(app.url(&edit))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let retired = || async {
        sqlx::query_scalar::<_, bool>("SELECT retired_at IS NOT NULL FROM questions WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };

    // the Retire button asks first and changes nothing
    let r = b
        .post(app.url(&format!("{edit}/retire")))
        .form(&[("csrf_token", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let confirm = r.text().await.unwrap();
    assert!(confirm.contains("Retire this question?"), "{confirm}");
    assert!(confirm.contains("name=\"confirm\" value=\"yes\""));
    assert!(!retired().await);

    // confirmed: retired, and the page it lands on says so, once
    let r = b
        .post(app.url(&format!("{edit}/retire")))
        .form(&[
            ("csrf_token", csrf_of(&confirm).as_str()),
            ("confirm", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(retired().await);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let page = b
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"flash\""), "{page}");
    assert!(page.contains("Question retired."));
    let again = b
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains("id=\"flash\""), "shown once");
}
