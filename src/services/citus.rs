//! `exambank citus-distribute`: turns a migrated database on a Citus coordinator into the
//! layout of docs/scaling.md (domain::distribution). Idempotent: a table already placed as
//! planned is left alone, one placed otherwise is an error.

use sqlx::{PgConnection, PgPool};

use crate::db::citus as db;
use crate::domain::distribution::{self, Placement, FUNCTIONS, SHARD_COUNT, TABLES};

#[derive(Debug, Default)]
pub struct Report {
    pub citus_version: String,
    pub workers: i64,
    /// Tables made reference or distributed tables by this run.
    pub created: Vec<String>,
    /// Tables that were already placed as planned.
    pub already: Vec<String>,
    /// Functions delegated by this run, and those that already were.
    pub functions_created: Vec<String>,
    pub functions_already: Vec<String>,
    /// Foreign keys dropped and re-added around the distribution.
    pub foreign_keys: usize,
    /// (table, Citus table type, co-location id, shards) afterwards.
    pub shards: Vec<(String, String, i32, i64)>,
}

/// Checks the preconditions, then distributes what is not yet distributed, in one
/// transaction: either the whole plan holds afterwards or nothing changed.
pub async fn distribute(pool: &PgPool) -> anyhow::Result<Report> {
    let mut conn = pool.acquire().await?;
    let mut report = Report {
        citus_version: db::extension_version(&mut conn).await?.ok_or_else(|| {
            anyhow::anyhow!(
                "the citus extension is not installed in this database (CREATE EXTENSION citus)"
            )
        })?,
        ..Report::default()
    };
    if !db::coordinator_registered(&mut conn).await? {
        anyhow::bail!("the coordinator is not registered: run SELECT citus_set_coordinator_host('<host>', <port>) first");
    }
    report.workers = db::active_workers(&mut conn).await?;
    if report.workers == 0 {
        anyhow::bail!("no active workers: add them with SELECT citus_add_node('<host>', <port>)");
    }
    if !db::fully_migrated(&mut conn).await? {
        anyhow::bail!("the database is not fully migrated: run `exambank migrate` first");
    }
    let tables = db::public_tables(&mut conn).await?;
    let unknown = distribution::unclassified(&tables);
    if !unknown.is_empty() {
        anyhow::bail!(
            "tables without a place in domain::distribution::TABLES: {}",
            unknown.join(", ")
        );
    }

    // what is left to do, checking what is done against the plan
    let mut todo = Vec::new();
    for (table, placement) in TABLES {
        if !tables.iter().any(|t| t == table) {
            anyhow::bail!(
                "table {table} is classified but does not exist (is the database migrated?)"
            );
        }
        let state = db::table_state(&mut conn, table).await?;
        match (placement, state) {
            (Placement::CoordinatorLocal, None) => {}
            (Placement::CoordinatorLocal, Some((kind, _, _))) => {
                anyhow::bail!(
                    "{table} should stay a coordinator-local table, but it is a {kind} table"
                )
            }
            (_, None) => todo.push((*table, *placement)),
            (Placement::Reference, Some((kind, _, _))) if kind == "reference" => {
                report.already.push(table.to_string())
            }
            (Placement::Distributed { column, .. }, Some((kind, Some(col), _)))
                if kind == "distributed" && col == *column =>
            {
                report.already.push(table.to_string())
            }
            (_, Some((kind, col, _))) => anyhow::bail!(
                "{table} is already a {kind} table{}, not as planned ({placement:?})",
                col.map(|c| format!(" by {c}")).unwrap_or_default()
            ),
        }
    }

    let mut tx = pool.begin().await?;
    db::sequential_mode(&mut tx).await?;
    if !todo.is_empty() {
        // Citus refuses, or silently turns into "citus local tables", ordinary tables with
        // foreign keys to the tables it is placing: drop them all, re-add them afterwards
        let keys = db::foreign_keys(&mut tx).await?;
        for (table, name, _) in &keys {
            db::drop_constraint(&mut tx, table, name).await?;
        }
        for (table, placement) in &todo {
            place(&mut tx, table, *placement).await?;
            report.created.push(table.to_string());
        }
        for (table, name, definition) in &keys {
            db::add_constraint(&mut tx, table, name, definition).await?;
        }
        report.foreign_keys = keys.len();
    }
    for (function, argument, colocate_with) in FUNCTIONS {
        let signatures = db::function_signature(&mut tx, function).await?;
        let [signature] = signatures.as_slice() else {
            anyhow::bail!("expected one function {function}, found {signatures:?}");
        };
        if db::function_state(&mut tx, signature).await?.is_some() {
            report.functions_already.push(signature.clone());
        } else {
            db::create_distributed_function(&mut tx, signature, argument, colocate_with).await?;
            report.functions_created.push(signature.clone());
        }
    }
    tx.commit().await?;

    verify(&mut conn).await?;
    report.shards = db::shard_summary(&mut conn).await?;
    Ok(report)
}

async fn place(conn: &mut PgConnection, table: &str, placement: Placement) -> sqlx::Result<()> {
    match placement {
        Placement::Reference => db::create_reference_table(conn, table).await,
        Placement::Distributed {
            column,
            colocate_with,
        } => db::create_distributed_table(conn, table, column, colocate_with, SHARD_COUNT).await,
        Placement::CoordinatorLocal => Ok(()),
    }
}

/// Every table is where the plan puts it, co-located tables share their anchor's group, and
/// the delegated functions follow it too.
async fn verify(conn: &mut PgConnection) -> anyhow::Result<()> {
    for (table, placement) in TABLES {
        let state = db::table_state(conn, table).await?;
        let ok = match (placement, &state) {
            (Placement::CoordinatorLocal, None) => true,
            (Placement::Reference, Some((kind, _, _))) => kind == "reference",
            (
                Placement::Distributed {
                    column,
                    colocate_with,
                },
                Some((kind, Some(col), group)),
            ) => {
                let same_group = match colocate_with {
                    Some(anchor) => db::table_state(conn, anchor)
                        .await?
                        .is_some_and(|(_, _, g)| g == *group),
                    None => true,
                };
                kind == "distributed" && col == column && same_group
            }
            _ => false,
        };
        if !ok {
            anyhow::bail!("after distributing, {table} is {state:?}, not {placement:?}");
        }
    }
    for (function, _, anchor) in FUNCTIONS {
        let signatures = db::function_signature(conn, function).await?;
        let group = db::table_state(conn, anchor).await?.map(|(_, _, g)| g);
        for signature in signatures {
            let state = db::function_state(conn, &signature).await?;
            if state.map(|(_, g)| g) != group {
                anyhow::bail!(
                    "after distributing, {signature} is {state:?}, not co-located with {anchor}"
                );
            }
        }
    }
    Ok(())
}
