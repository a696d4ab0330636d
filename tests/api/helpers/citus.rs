//! Running the tests on a Citus cluster (scripts/citus.sh). With `EXAMBANK_TEST_CITUS=1` and
//! DATABASE_URL on the coordinator, every `TestApp` first makes its test's fresh database a
//! distributed one: the cluster propagates `CREATE DATABASE` to the workers
//! (`citus.enable_create_database_propagation`), and this creates the extension in the new
//! database on every node, registers the nodes in it (node metadata is per database), and runs
//! `exambank citus-distribute`'s service. Unset, nothing changes: plain PostgreSQL.
//!
//! sqlx's cleanup cannot drop a test's database while the workers' Citus maintenance daemons
//! are connected to it: on a cluster the test databases stay until `scripts/citus.sh down`
//! (`.ci/run` uses a fresh cluster).

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};

pub fn enabled() -> bool {
    std::env::var("EXAMBANK_TEST_CITUS").is_ok_and(|v| v == "1")
}

/// The cluster's nodes as the coordinator's main database knows them: (host, port, group);
/// group 0 is the coordinator.
async fn nodes() -> (PgConnectOptions, Vec<(String, i32, i32)>) {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL names the Citus coordinator");
    let main = PgConnectOptions::from_str(&url).expect("DATABASE_URL parses");
    let mut conn = PgConnection::connect_with(&main)
        .await
        .expect("the coordinator answers");
    let nodes = sqlx::query_as(
        "SELECT nodename::text, nodeport, groupid FROM pg_dist_node
          WHERE noderole = 'primary' AND isactive ORDER BY groupid",
    )
    .fetch_all(&mut conn)
    .await
    .expect("DATABASE_URL's database is a Citus coordinator with its nodes registered (scripts/citus.sh up)");
    (main, nodes)
}

/// Makes the test's database (migrated, maybe seeded) a distributed one.
pub async fn distribute(pool: &PgPool) {
    let db: String = sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(pool)
        .await
        .unwrap();
    let (main, nodes) = nodes().await;
    let coordinator = nodes
        .iter()
        .find(|n| n.2 == 0)
        .expect("the coordinator is registered (citus_set_coordinator_host)");
    for (host, port, _) in nodes.iter().filter(|n| n.2 != 0) {
        let options = main.clone().host(host).port(*port as u16).database(&db);
        let mut worker = PgConnection::connect_with(&options)
            .await
            .unwrap_or_else(|e| panic!("worker {host}:{port} has the test database {db}: {e}"));
        sqlx::query("CREATE EXTENSION IF NOT EXISTS citus")
            .execute(&mut worker)
            .await
            .unwrap();
    }
    sqlx::query("CREATE EXTENSION IF NOT EXISTS citus")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("SELECT citus_set_coordinator_host($1, $2)")
        .bind(&coordinator.0)
        .bind(coordinator.1)
        .execute(pool)
        .await
        .unwrap();
    for (host, port, _) in nodes.iter().filter(|n| n.2 != 0) {
        sqlx::query(
            "SELECT citus_add_node($1, $2) WHERE NOT EXISTS
               (SELECT 1 FROM pg_dist_node WHERE nodename = $1 AND nodeport = $2)",
        )
        .bind(host)
        .bind(port)
        .execute(pool)
        .await
        .unwrap();
    }
    exambank::services::citus::distribute(pool)
        .await
        .expect("citus-distribute");
}
