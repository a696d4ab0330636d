//! Citus's catalog and its distribution functions (docs/scaling.md §5, step 2). Runtime-checked
//! queries: the Citus catalogs exist only where the extension is installed, never on the
//! plain PostgreSQL the offline metadata is prepared against.

use sqlx::PgConnection;

/// The installed `citus` extension's version, if any.
pub async fn extension_version(conn: &mut PgConnection) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
        .fetch_optional(conn)
        .await
}

/// Whether the coordinator is in the node list (reference tables then get a local copy).
pub async fn coordinator_registered(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_dist_node WHERE groupid = 0)")
        .fetch_one(conn)
        .await
}

pub async fn active_workers(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM citus_get_active_worker_nodes()")
        .fetch_one(conn)
        .await
}

/// Whether every migration of this build has been applied.
pub async fn fully_migrated(conn: &mut PgConnection) -> anyhow::Result<bool> {
    use sqlx::migrate::Migrate;
    let applied: Vec<i64> = conn
        .list_applied_migrations()
        .await?
        .iter()
        .map(|m| m.version)
        .collect();
    Ok(super::MIGRATOR.iter().all(|m| applied.contains(&m.version)))
}

/// The ordinary tables of `public`, without the shards Citus keeps beside them on the
/// coordinator.
pub async fn public_tables(conn: &mut PgConnection) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
            AND NOT EXISTS (SELECT 1 FROM pg_dist_shard s
                             WHERE shard_name(s.logicalrelid, s.shardid) = c.relname::text)
          ORDER BY 1",
    )
    .fetch_all(conn)
    .await
}

/// How Citus holds a table now: (`distributed` / `reference` / `local`, the distribution
/// column, the co-location id); `None` for an ordinary table.
pub async fn table_state(
    conn: &mut PgConnection,
    table: &str,
) -> sqlx::Result<Option<(String, Option<String>, i32)>> {
    sqlx::query_as(
        "SELECT citus_table_type, nullif(distribution_column, '<none>'), colocation_id
           FROM citus_tables WHERE table_name = $1::regclass",
    )
    .bind(table)
    .fetch_optional(conn)
    .await
}

/// Every foreign key of `public`: (table, constraint name, definition).
pub async fn foreign_keys(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, String, String)>> {
    sqlx::query_as(
        "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid)
           FROM pg_constraint
          WHERE contype = 'f' AND connamespace = 'public'::regnamespace
          ORDER BY 1, 2",
    )
    .fetch_all(conn)
    .await
}

pub async fn drop_constraint(conn: &mut PgConnection, table: &str, name: &str) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "ALTER TABLE {} DROP CONSTRAINT {}",
        ident(table),
        ident(name)
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Re-adds a constraint from its recorded definition (`pg_get_constraintdef`).
pub async fn add_constraint(
    conn: &mut PgConnection,
    table: &str,
    name: &str,
    definition: &str,
) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "ALTER TABLE {} ADD CONSTRAINT {} {definition}",
        ident(table),
        ident(name)
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Multi-shard work of this transaction runs over one connection per worker, so that it may
/// follow writes to reference tables in the same transaction.
pub async fn sequential_mode(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn create_reference_table(conn: &mut PgConnection, table: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT create_reference_table($1::regclass)")
        .bind(table)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn create_distributed_table(
    conn: &mut PgConnection,
    table: &str,
    column: &str,
    colocate_with: Option<&str>,
    shard_count: i32,
) -> sqlx::Result<()> {
    match colocate_with {
        // a co-located table takes its anchor's shard count
        Some(anchor) => {
            sqlx::query(
                "SELECT create_distributed_table($1::regclass, $2, colocate_with => $3)",
            )
            .bind(table)
            .bind(column)
            .bind(anchor)
            .execute(conn)
            .await?
        }
        None => {
            sqlx::query(
                "SELECT create_distributed_table($1::regclass, $2, colocate_with => 'none', shard_count => $3)",
            )
            .bind(table)
            .bind(column)
            .bind(shard_count)
            .execute(conn)
            .await?
        }
    };
    Ok(())
}

/// The signature of the one function called `name` (`save_answer(uuid,uuid,…)`), whatever
/// its parameters are today.
pub async fn function_signature(conn: &mut PgConnection, name: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT p.oid::regprocedure::text FROM pg_proc p
          WHERE p.proname = $1 AND p.pronamespace = 'public'::regnamespace",
    )
    .bind(name)
    .fetch_all(conn)
    .await
}

/// How a function is distributed: (the index of its distribution argument, the co-location
/// id); `None` if it is not delegated.
pub async fn function_state(
    conn: &mut PgConnection,
    signature: &str,
) -> sqlx::Result<Option<(i32, i32)>> {
    sqlx::query_as(
        "SELECT distribution_argument_index, colocationid FROM pg_dist_object
          WHERE classid = 'pg_proc'::regclass AND objid = $1::regprocedure
            AND distribution_argument_index IS NOT NULL",
    )
    .bind(signature)
    .fetch_optional(conn)
    .await
}

pub async fn create_distributed_function(
    conn: &mut PgConnection,
    signature: &str,
    argument: &str,
    colocate_with: &str,
) -> sqlx::Result<()> {
    sqlx::query("SELECT create_distributed_function($1::regprocedure, $2, colocate_with := $3)")
        .bind(signature)
        .bind(argument)
        .bind(colocate_with)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether `attempts` is distributed here: the server then writes each answer save alone, so
/// that Citus delegates it to the learner's worker. `false` on plain PostgreSQL.
pub async fn learners_distributed(conn: &mut PgConnection) -> sqlx::Result<bool> {
    if extension_version(&mut *conn).await?.is_none() {
        return Ok(false);
    }
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_dist_partition
                         WHERE logicalrelid = 'attempts'::regclass AND partmethod = 'h')",
    )
    .fetch_one(conn)
    .await
}

/// (table, Citus table type, co-location id, shards) for every Citus table: what the
/// distribution made.
pub async fn shard_summary(
    conn: &mut PgConnection,
) -> sqlx::Result<Vec<(String, String, i32, i64)>> {
    sqlx::query_as(
        "SELECT table_name::text, citus_table_type, colocation_id, count(DISTINCT shardid)
           FROM citus_shards GROUP BY 1, 2, 3 ORDER BY 1",
    )
    .fetch_all(conn)
    .await
}

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
