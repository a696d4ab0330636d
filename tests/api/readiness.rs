//! Readiness over HTTP (issue 14): a prediction per exam-guide domain on the `dva-c02` form,
//! and a learner model that uses calibrated difficulties where they exist.

use sqlx::PgPool;

use crate::helpers::{answer_all, browser, browser_login, domain, seed_real_bank, TestApp};

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn readiness_predicts_each_exam_guide_domain_on_the_dva_c02_form(pool: PgPool) {
    seed_real_bank(&pool).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let fresh = app
        .get_json(&ann, "/api/v1/me/readiness?blueprint=dva-c02")
        .await;
    let rows = fresh["exam_domains"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|d| d["domain"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["development", "security", "deployment", "troubleshooting"],
        "the exam guide's order: {fresh}"
    );
    // the 50 scored questions of a dva-c02 form, by the exam guide's shares
    let questions: Vec<i64> = rows
        .iter()
        .map(|d| d["questions"].as_i64().unwrap())
        .collect();
    assert_eq!(questions, [16, 13, 12, 9], "{fresh}");
    for d in rows {
        let p = d["predicted_percent"].as_f64().unwrap();
        let (lo, hi) = (
            d["interval"][0].as_f64().unwrap(),
            d["interval"][1].as_f64().unwrap(),
        );
        assert!((0.0..=100.0).contains(&p) && lo <= p && p <= hi, "{d}");
        assert!(
            hi - lo >= 20.0,
            "a new learner is uncertain in every domain: {d}"
        );
        let m = d["meets_probability"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&m), "{d}");
    }

    // a learner who answers right in every area moves every exam-guide domain up
    for area in ["serverless", "dynamodb", "iam", "s3", "cicd"] {
        answer_all(&app, &pool, &ann, area, 5, true).await;
    }
    let after = app
        .get_json(&ann, "/api/v1/me/readiness?blueprint=dva-c02")
        .await;
    for (a, f) in after["exam_domains"].as_array().unwrap().iter().zip(rows) {
        assert!(
            a["predicted_percent"].as_f64().unwrap() > f["predicted_percent"].as_f64().unwrap(),
            "{a} vs {f}"
        );
        assert!(
            a["meets_probability"].as_f64().unwrap() >= f["meets_probability"].as_f64().unwrap(),
            "{a} vs {f}"
        );
    }
    assert!(
        after["predicted_scaled_score"].as_f64().unwrap()
            > fresh["predicted_scaled_score"].as_f64().unwrap()
    );

    // the dashboard shows the exam-guide domains first, then the topic areas
    let b = browser();
    browser_login(&app, &b, "ann@example.com").await;
    let html = b
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let table = html
        .find("id=\"exam-domain-readiness\"")
        .expect("exam-guide table");
    let topics = html.find("Weak areas by topic").expect("topic areas");
    assert!(table < topics, "exam-guide domains come first");
    let rows = &html[table..topics];
    let order: Vec<usize> = [
        "Development with AWS Services",
        "Security",
        "Deployment",
        "Troubleshooting and Optimization",
    ]
    .iter()
    .map(|n| rows.find(n).unwrap_or_else(|| panic!("{n} in {rows}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    let first = &after["exam_domains"][0];
    // the page rounds the prediction to a whole percent, the API to one decimal: the page's
    // figure is the API's rounded down or up
    let p = first["predicted_percent"].as_f64().unwrap();
    assert!(
        rows.contains(&format!("<td>{}%</td>", p.floor() as i64))
            || rows.contains(&format!("<td>{}%</td>", p.ceil() as i64)),
        "{p} in {rows}"
    );
}

/// The same right answers teach more when calibration has found the questions hard: the
/// belief update uses the version's calibrated difficulty where it has one.
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn the_learner_model_uses_calibrated_difficulties(pool: PgPool) {
    seed_real_bank(&pool).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    // ann answers with the author difficulties (no calibration yet)
    answer_all(&app, &pool, &ann, "kms", 4, true).await;
    // calibration finds every kms question very hard (as a run of `exambank calibrate` would
    // store it), then bob gives the same number of right answers
    sqlx::query(
        "UPDATE question_versions v SET calib_difficulty = 2.5, calib_source = 'fitted'
           FROM questions q WHERE q.id = v.question_id AND q.domain = 'kms'",
    )
    .execute(&pool)
    .await
    .unwrap();
    answer_all(&app, &pool, &bob, "kms", 4, true).await;
    let a = app.get_json(&ann, "/api/v1/me/mastery").await;
    let b = app.get_json(&bob, "/api/v1/me/mastery").await;
    let (ea, eb) = (
        domain(&a, "kms")["estimate"].as_f64().unwrap(),
        domain(&b, "kms")["estimate"].as_f64().unwrap(),
    );
    println!("4 right kms answers: author difficulties {ea:.3}, calibrated 2.5 logits {eb:.3}");
    assert!(
        eb > ea + 0.05,
        "calibrated hard questions teach more: {ea} vs {eb}"
    );
}
