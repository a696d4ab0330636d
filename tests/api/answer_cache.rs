//! Answer saves from a server's cached attempt stay correct when the cache is stale: two
//! servers on one database take turns with one learner's attempt (as a phone and a laptop
//! behind a load balancer would). Nothing acknowledged is lost, stale revisions are refused,
//! the learner model counts every changed answer once, and a finalized attempt takes no more.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{seed_fixture, TestApp};

async fn domain_answers(app: &TestApp, who: &Value) -> i64 {
    let m = app.get_json(who, "/api/v1/me/mastery").await;
    m["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["answered"].as_i64().unwrap())
        .sum()
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
async fn two_servers_with_their_own_caches_never_lose_or_misapply_an_answer(pool: PgPool) {
    let _b = seed_fixture(&pool, 3).await;
    let a = TestApp::spawn(pool.clone()).await;
    let b = TestApp::spawn(pool.clone()).await;
    let ann = a.register("ann@example.com").await;
    let attempt = a
        .start_attempt(&ann, json!({"count": 6, "mode": "exam"}))
        .await;
    let id = attempt["id"].as_str().unwrap();
    let qs = attempt["questions"].as_array().unwrap();
    let opts = |p: usize| -> Vec<String> {
        qs[p - 1]["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect()
    };
    async fn save_on(
        app: &TestApp,
        who: &Value,
        id: &str,
        p: usize,
        choice: String,
        revision: Option<i64>,
    ) -> reqwest::Response {
        let mut body = json!({"choices": [choice], "time_spent_ms": 4000});
        if let Some(r) = revision {
            body["revision"] = json!(r);
        }
        app.put_answer(who, id, p as i64, body).await
    }
    let mut changes = 0;

    // server A caches the attempt with its first save
    let r = save_on(&a, &ann, id, 1, opts(1)[0].clone(), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r1 = r.json::<Value>().await.unwrap()["revision"]
        .as_i64()
        .unwrap();
    changes += 1;
    // the same question changes through server B
    let r = save_on(&b, &ann, id, 1, opts(1)[1].clone(), Some(r1)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r2 = r.json::<Value>().await.unwrap()["revision"]
        .as_i64()
        .unwrap();
    assert!(r2 > r1);
    changes += 1;
    // A's cache is stale: a client that saw B's revision is still served...
    let r = save_on(&a, &ann, id, 1, opts(1)[2].clone(), Some(r2)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r3 = r.json::<Value>().await.unwrap()["revision"]
        .as_i64()
        .unwrap();
    changes += 1;
    // ...and one based on an old revision is refused, by either server
    for app in [&a, &b] {
        let r = save_on(app, &ann, id, 1, opts(1)[3].clone(), Some(r1)).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
    }
    // a retry of what landed is acknowledged with the same revision and changes nothing
    let r = save_on(&b, &ann, id, 1, opts(1)[2].clone(), None).await;
    assert_eq!(r.json::<Value>().await.unwrap()["revision"], r3);

    // alternate servers over every question, changing answers each time
    for round in 0..3 {
        for p in 1..=qs.len() {
            let app = if (p + round) % 2 == 0 { &a } else { &b };
            let o = opts(p);
            let r = save_on(app, &ann, id, p, o[(round + p) % o.len()].clone(), None).await;
            assert_eq!(r.status(), StatusCode::OK);
            changes += 1;
        }
    }
    // the learner model counted every changed answer exactly once
    assert_eq!(domain_answers(&a, &ann).await, changes);

    // what each question holds now is what was acknowledged last
    let last: Vec<String> = (1..=qs.len())
        .map(|p| opts(p)[(2 + p) % opts(p).len()].clone())
        .collect();
    let view = a.attempt(&ann, id).await;
    for (q, want) in view["questions"].as_array().unwrap().iter().zip(&last) {
        assert_eq!(q["choices"], json!([want]));
    }

    // submitted through B; A, whose cache still has the attempt open, refuses further answers
    let result = b.submit(&ann, id).await;
    let r = save_on(&a, &ann, id, 2, opts(2)[0].clone(), None).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let again = a.result(&ann, id).await;
    assert_eq!(again["correct"], result["correct"]);
    assert_eq!(domain_answers(&a, &ann).await, changes);
}
