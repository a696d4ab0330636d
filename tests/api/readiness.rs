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

/// Readiness is recalibrated against real outcomes. Starting a `dva-c02` exam keeps the
/// learner's beliefs beside the attempt (practice keeps nothing). Below 200 finished attempts
/// calibration fits no map and readiness is served as simulated. With 300 more finished
/// attempts whose learners passed far more often than their kept beliefs predict, calibration
/// fits a map and `/me/readiness` serves a higher pass probability.
#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn readiness_is_recalibrated_against_finished_attempts(pool: PgPool) {
    seed_real_bank(&pool).await;
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.register("ann@example.com").await;
    let ann_id: uuid::Uuid = ann["user"]["id"].as_str().unwrap().parse().unwrap();
    for area in ["serverless", "dynamodb", "s3"] {
        answer_all(&app, &pool, &ann, area, 4, true).await;
    }
    let readiness = |who| app.get_json(who, "/api/v1/me/readiness?blueprint=dva-c02");
    let before = readiness(&ann).await["pass_probability"].as_f64().unwrap();

    // a practice attempt keeps nothing; an exam keeps ann's topic-area beliefs as they are
    app.start_attempt(
        &ann,
        serde_json::json!({"blueprint": "dva-c02", "mode": "practice"}),
    )
    .await;
    let exam = app
        .start_attempt(
            &ann,
            serde_json::json!({"blueprint": "dva-c02", "mode": "exam"}),
        )
        .await;
    let exam_id: uuid::Uuid = exam["id"].as_str().unwrap().parse().unwrap();
    let kept: Vec<(uuid::Uuid, serde_json::Value)> =
        sqlx::query_as("SELECT attempt_id, beliefs FROM readiness_predictions WHERE user_id = $1")
            .bind(ann_id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(kept.len(), 1, "only the exam keeps beliefs: {kept:?}");
    assert_eq!(kept[0].0, exam_id);
    let mastery: Vec<(String, f64, f64)> = sqlx::query_as(
        "SELECT area, ability, variance FROM mastery WHERE user_id = $1 AND area_kind = 'domain'",
    )
    .bind(ann_id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(mastery.len(), 3, "{mastery:?}");
    for (area, mu, var) in &mastery {
        assert_eq!(kept[0].1[area]["mu"].as_f64(), Some(*mu), "{area}");
        assert_eq!(kept[0].1[area]["var"].as_f64(), Some(*var), "{area}");
    }
    app.submit(&ann, exam_id).await;

    // one finished attempt: no map, readiness as simulated
    let report = exambank::services::calibration::run(&pool).await.unwrap();
    let fit = report
        .readiness
        .iter()
        .find(|f| f.blueprint == "dva-c02")
        .expect("dva-c02 has kept beliefs");
    assert_eq!((fit.outcomes, fit.map), (1, None));
    let served = readiness(&ann).await;
    assert!(
        !served["method"].as_str().unwrap().contains("recalibrated"),
        "{served}"
    );
    let unchanged = served["pass_probability"].as_f64().unwrap();
    assert!((unchanged - before).abs() < 0.02, "{before} vs {unchanged}");

    // 300 earlier attempts, kept beliefs from −1.5 to +1.5 logits in every area; every learner
    // from −0.5 up passed, far more than the simulation predicts at those beliefs
    sqlx::query(
        "WITH s AS (
             SELECT gen_random_uuid() AS id, -1.5 + 3.0 * i / 300.0 AS mu
               FROM generate_series(1, 300) i
         ), a AS (
             INSERT INTO attempts (id, user_id, mode, blueprint, status, finalized_at, result)
             SELECT id, $1, 'exam', 'dva-c02', 'submitted', now(), jsonb_build_object('passed', mu >= -0.5)
               FROM s
         )
         INSERT INTO readiness_predictions (user_id, attempt_id, blueprint, beliefs)
         SELECT $1, s.id, 'dva-c02',
                (SELECT jsonb_object_agg(k, jsonb_build_object('mu', s.mu, 'var', 0.2))
                   FROM jsonb_object_keys((SELECT domain_weights FROM blueprints WHERE slug = 'dva-c02')) k)
           FROM s",
    )
    .bind(ann_id)
    .execute(&pool)
    .await
    .unwrap();
    let report = exambank::services::calibration::run(&pool).await.unwrap();
    let fit = report
        .readiness
        .iter()
        .find(|f| f.blueprint == "dva-c02")
        .unwrap();
    let map = fit.map.expect("301 outcomes fit a map");
    println!(
        "recalibrated on {} attempts: slope {:.3}, intercept {:.3}",
        fit.outcomes, map.slope, map.intercept
    );
    assert_eq!(fit.outcomes, 301);
    assert!(map.slope > 0.0 && map.intercept > 0.5, "{map:?}");
    let stored: (f64, f64, i32) = sqlx::query_as(
        "SELECT slope, intercept, outcomes FROM readiness_recalibration WHERE blueprint = 'dva-c02'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, (map.slope, map.intercept, 301));
    let served = readiness(&ann).await;
    assert!(
        served["method"]
            .as_str()
            .unwrap()
            .ends_with("pass probability recalibrated on 301 finished attempts' outcomes"),
        "{served}"
    );
    let after = served["pass_probability"].as_f64().unwrap();
    println!("ann's pass probability: {before:.3} as simulated, {after:.3} recalibrated");
    assert!(after > before + 0.05, "{before} vs {after}");
    assert!(after <= 1.0);
}
