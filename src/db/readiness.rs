//! Readiness recalibration (issue 14): the beliefs kept when an exam attempt starts, the
//! outcomes they are fitted to, and the fitted map per blueprint.

use std::collections::BTreeMap;

use serde::Deserialize;
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::mastery::Belief;
use crate::domain::readiness::recalibration::Recalibration;

/// A belief as stored in `readiness_predictions.beliefs`.
#[derive(Debug, Clone, Copy, Deserialize)]
struct StoredBelief {
    mu: f64,
    var: f64,
}

/// Keeps the learner's topic-area beliefs as they are now beside the attempt being started
/// (one statement, on the start's transaction).
pub async fn keep_beliefs(
    conn: &mut PgConnection,
    user_id: Uuid,
    attempt_id: Uuid,
    blueprint: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO readiness_predictions (user_id, attempt_id, blueprint, beliefs)
         SELECT $1, $2, $3, COALESCE(jsonb_object_agg(area, jsonb_build_object('mu', ability, 'var', variance)), '{}')
           FROM mastery WHERE user_id = $1 AND area_kind = 'domain'
         ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(attempt_id)
    .bind(blueprint)
    .execute(conn)
    .await?;
    Ok(())
}

/// Blueprints with kept beliefs.
pub async fn blueprints(conn: &mut PgConnection) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT DISTINCT blueprint FROM readiness_predictions ORDER BY blueprint")
        .fetch_all(conn)
        .await
}

/// The most recent `limit` finalized attempts of `blueprint` with kept beliefs: (beliefs when
/// the attempt started, whether it passed).
pub async fn outcomes(
    conn: &mut PgConnection,
    blueprint: &str,
    limit: i64,
) -> sqlx::Result<Vec<(BTreeMap<String, Belief>, bool)>> {
    let rows: Vec<(Json<BTreeMap<String, StoredBelief>>, bool)> = sqlx::query_as(
        "SELECT p.beliefs, (a.result->>'passed')::boolean
           FROM readiness_predictions p
           JOIN attempts a ON a.id = p.attempt_id AND a.user_id = p.user_id
          WHERE p.blueprint = $1 AND a.status IN ('submitted', 'expired')
            AND a.result ? 'passed'
          ORDER BY a.finalized_at DESC
          LIMIT $2",
    )
    .bind(blueprint)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(Json(beliefs), passed)| {
            (
                beliefs
                    .into_iter()
                    .map(|(area, b)| {
                        (
                            area,
                            Belief {
                                mu: b.mu,
                                var: b.var,
                            }
                            .sanitized(),
                        )
                    })
                    .collect(),
                passed,
            )
        })
        .collect())
}

/// Stores the fitted map, or removes it (`None`: not enough outcomes yet).
pub async fn store(
    conn: &mut PgConnection,
    blueprint: &str,
    map: Option<Recalibration>,
    outcomes: usize,
) -> sqlx::Result<()> {
    match map {
        Some(r) => {
            sqlx::query(
                "INSERT INTO readiness_recalibration (blueprint, slope, intercept, outcomes)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (blueprint) DO UPDATE
                    SET slope = EXCLUDED.slope, intercept = EXCLUDED.intercept,
                        outcomes = EXCLUDED.outcomes, fitted_at = now()",
            )
            .bind(blueprint)
            .bind(r.slope)
            .bind(r.intercept)
            .bind(i32::try_from(outcomes).unwrap_or(i32::MAX))
            .execute(conn)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM readiness_recalibration WHERE blueprint = $1")
                .bind(blueprint)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// The blueprint's fitted map and the number of outcomes it was fitted to, if calibration has
/// fitted one.
pub async fn recalibration(
    conn: &mut PgConnection,
    blueprint: &str,
) -> sqlx::Result<Option<(Recalibration, usize)>> {
    let row: Option<(f64, f64, i32)> = sqlx::query_as(
        "SELECT slope, intercept, outcomes FROM readiness_recalibration WHERE blueprint = $1",
    )
    .bind(blueprint)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(slope, intercept, n)| {
        (
            Recalibration { slope, intercept },
            usize::try_from(n).unwrap_or(0),
        )
    }))
}
