//! On a real Citus cluster (docs/scaling.md §6): after `citus-distribute`, an answer save and an
//! attempt read each run on exactly one worker, the one that holds the learner's shard.
//!
//! Needs a cluster, so these tests are `#[ignore]`d in the ordinary run and `.ci/run` runs them
//! on one: `scripts/citus.sh up`, then `EXAMBANK_TEST_CITUS=1 DATABASE_URL=<its URL> cargo test
//! --test api citus:: -- --ignored`. Run with `--ignored` but without a cluster they fail.

use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{citus, key, seed_fixture, TestApp};

const NEEDS_CLUSTER: &str = "run on a Citus coordinator: scripts/citus.sh up, then EXAMBANK_TEST_CITUS=1 DATABASE_URL=<its URL> (tests/api/citus.rs)";

/// Single- and multi-shard executions of this database so far, summed over every node.
async fn counters(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as(
        "SELECT coalesce(sum(split_part(result, ',', 1)::int8), 0)::int8,
                coalesce(sum(split_part(result, ',', 2)::int8), 0)::int8
           FROM run_command_on_all_nodes(format(
                  'SELECT query_execution_single_shard || '','' || query_execution_multi_shard
                     FROM citus_stat_counters WHERE name = %L', current_database()))",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The worker (host:port) that holds the learner's shard of `attempts`.
async fn learners_node(pool: &PgPool, user: Uuid) -> String {
    sqlx::query_scalar(
        "SELECT nodename || ':' || nodeport FROM citus_shards
          WHERE table_name = 'attempts'::regclass
            AND shardid = get_shard_id_for_distribution_column('attempts', $1)",
    )
    .bind(user)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// `EXPLAIN` of a statement: its task count and the nodes its tasks run on.
async fn route(pool: &PgPool, statement: &str) -> (i64, Vec<String>, String) {
    let lines: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN (VERBOSE) {statement}"))
        .fetch_all(pool)
        .await
        .unwrap();
    let plan = lines.join("\n");
    let tasks = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("Task Count: "))
        .map(|n| n.trim().parse().unwrap())
        .unwrap_or_else(|| panic!("a Citus plan:\n{plan}"));
    let nodes = lines
        .iter()
        .filter_map(|l| l.trim().strip_prefix("Node: host="))
        .map(|rest| {
            let host = rest.split_whitespace().next().unwrap();
            let port = rest
                .split("port=")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            format!("{host}:{port}")
        })
        .collect();
    (tasks, nodes, plan)
}

#[sqlx::test(migrator = "exambank::db::MIGRATOR")]
#[ignore = "needs a Citus cluster (scripts/citus.sh); .ci/run runs it"]
async fn answer_saves_and_attempt_reads_route_to_the_learners_worker(pool: PgPool) {
    assert!(citus::enabled(), "{NEEDS_CLUSTER}");
    let _bank = seed_fixture(&pool, 4).await;
    let app = TestApp::spawn(pool.clone()).await;

    // the plan's layout
    let placed: Vec<(String, String)> =
        sqlx::query_as("SELECT table_name::text, citus_table_type FROM citus_tables ORDER BY 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    for (table, kind) in [
        ("attempts", "distributed"),
        ("attempt_questions", "distributed"),
        ("mastery", "distributed"),
        ("learner_locks", "distributed"),
        ("users", "reference"),
        ("questions", "reference"),
    ] {
        assert!(
            placed.contains(&(table.to_string(), kind.to_string())),
            "{table} is {kind}: {placed:?}"
        );
    }
    let workers: i64 = sqlx::query_scalar("SELECT count(*) FROM citus_get_active_worker_nodes()")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(workers >= 2, "a cluster of several workers");

    let learner = app.register("ann@example.com").await;
    let user: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'ann@example.com'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let attempt = app
        .start_attempt(&learner, json!({"blueprint": "quick", "mode": "exam"}))
        .await;
    let id = attempt["id"].as_str().unwrap().to_string();
    let questions = attempt["questions"].as_array().unwrap().clone();
    assert!(questions.len() >= 5);
    let node = learners_node(&pool, user).await;

    // answer saves over HTTP: not one multi-shard execution on any node
    let keys: Vec<Vec<String>> = {
        let mut keys = Vec::new();
        for q in &questions {
            keys.push(key(&pool, &id, q["position"].as_i64().unwrap()).await);
        }
        keys
    };
    sqlx::query("SELECT run_command_on_all_nodes(format('SELECT citus_stat_counters_reset(%s)', oid)) FROM pg_database WHERE datname = current_database()")
        .execute(&pool)
        .await
        .unwrap();
    let (single_before, multi_before) = counters(&pool).await;
    assert_eq!(multi_before, 0, "counters reset");
    for (q, k) in questions.iter().zip(&keys) {
        let position = q["position"].as_i64().unwrap();
        let saved: Value = app
            .answer(&learner, &id, position, json!({"choices": k}))
            .await;
        assert_eq!(saved["position"], position);
    }
    let (single, multi) = counters(&pool).await;
    assert_eq!(
        multi - multi_before,
        0,
        "{} answer saves ran no multi-shard query",
        questions.len()
    );
    assert!(
        single - single_before >= questions.len() as i64,
        "each save is at least one single-shard execution ({single_before} → {single})"
    );
    // every answer landed, on the learner's shard
    let answered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM attempt_questions
          WHERE user_id = $1 AND attempt_id = $2 AND cardinality(choices) > 0",
    )
    .bind(user)
    .bind(Uuid::parse_str(&id).unwrap())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(answered, questions.len() as i64);

    // the attempt read (db::attempts::get's predicate) and the answer read route to one task
    // on the learner's worker
    for statement in [
        format!("SELECT * FROM attempts WHERE id = '{id}' AND user_id = '{user}'"),
        format!(
            "SELECT a.revision FROM attempt_questions a JOIN attempts t ON t.id = a.attempt_id AND t.user_id = a.user_id
              WHERE a.attempt_id = '{id}' AND a.user_id = '{user}' AND a.position = 1"
        ),
    ] {
        let (tasks, nodes, plan) = route(&pool, &statement).await;
        assert_eq!(tasks, 1, "{plan}");
        assert_eq!(nodes, vec![node.clone()], "{plan}");
    }
    // a save_answer call is delegated to that worker (a flag toggle of question 1)
    let revision: i32 = sqlx::query_scalar(
        "SELECT revision FROM attempt_questions WHERE user_id = $1 AND attempt_id = $2 AND position = 1",
    )
    .bind(user)
    .bind(Uuid::parse_str(&id).unwrap())
    .fetch_one(&pool)
    .await
    .unwrap();
    let (tasks, nodes, plan) = route(
        &pool,
        &format!(
            "SELECT save_answer('{id}'::uuid, '{user}'::uuid, 1, {revision}, ARRAY[]::text[], true, NULL::boolean, 0::int8, false, 5,
                                false, NULL::uuid, NULL::boolean, NULL::text[], NULL::text[], NULL::float8[], NULL::float8[],
                                NULL::int[], NULL::int[], NULL::int[], NULL::float8, NULL::float8, NULL::timestamptz,
                                NULL::int, NULL::int, NULL::int, NULL::int, NULL::int)"
        ),
    )
    .await;
    assert_eq!(tasks, 1, "{plan}");
    assert_eq!(nodes, vec![node], "{plan}");
}
