//! Creating attempts: one started now, or prepared ahead for a cohort exam and stamped when the
//! member starts it.

use sqlx::PgConnection;
use uuid::Uuid;

use super::{AttemptRow, NewAttempt, PlannedItem, ATTEMPT_COLUMNS};

/// Inserts the attempt and its items. `false` (nothing written) when the member already has an
/// attempt at this cohort exam: the insert is `ON CONFLICT DO NOTHING` like the sweeper's
/// preparation, because a plain insert racing that speculative one for the same member could
/// deadlock (each waiting for the other's transaction).
pub async fn insert(
    conn: &mut PgConnection,
    a: &NewAttempt<'_>,
    items: &[PlannedItem],
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO attempts (id, user_id, mode, blueprint, cohort_exam_id, deadline, pass_mark, scaled, question_count,
                               time_limit_minutes, spec, assembly)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (cohort_exam_id, user_id) DO NOTHING",
    )
    .bind(a.id)
    .bind(a.user_id)
    .bind(a.mode.as_str())
    .bind(a.blueprint)
    .bind(a.cohort_exam_id)
    .bind(a.deadline)
    .bind(a.pass_mark)
    .bind(a.scaled)
    .bind(items.len() as i32)
    .bind(a.time_limit_minutes)
    .bind(sqlx::types::Json(&a.spec))
    .bind(sqlx::types::Json(&a.assembly))
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0;
    if !inserted {
        return Ok(false);
    }
    let positions: Vec<i32> = (1..=items.len() as i32).collect();
    let qids: Vec<Uuid> = items.iter().map(|i| i.question_id).collect();
    let versions: Vec<i32> = items.iter().map(|i| i.version).collect();
    let domains: Vec<String> = items.iter().map(|i| i.domain.clone()).collect();
    let kinds: Vec<String> = items.iter().map(|i| i.kind.as_str().to_string()).collect();
    let diffs: Vec<i16> = items.iter().map(|i| i.difficulty).collect();
    // text[][] must be rectangular: pass each order as one comma-joined string (ids have no commas)
    let orders: Vec<String> = items.iter().map(|i| i.option_order.join(",")).collect();
    let scored: Vec<bool> = items.iter().map(|i| !i.unscored).collect();
    sqlx::query(
        "INSERT INTO attempt_questions (attempt_id, user_id, position, question_id, version, domain, kind, difficulty, option_order, scored)
         SELECT $1, $2, p, q, v, d, k, df, string_to_array(o, ','), s
         FROM UNNEST($3::int4[], $4::uuid[], $5::int4[], $6::text[], $7::text[], $8::int2[], $9::text[], $10::bool[]) AS t(p, q, v, d, k, df, o, s)",
    )
    .bind(a.id)
    .bind(a.user_id)
    .bind(&positions)
    .bind(&qids)
    .bind(&versions)
    .bind(&domains)
    .bind(&kinds)
    .bind(&diffs)
    .bind(&orders)
    .bind(&scored)
    .execute(conn)
    .await?;
    Ok(true)
}

// ---- prepared attempts (cohort exams) ----------------------------------------------------------

/// Inserts prepared attempts (no clock running) with their items, one per learner; a learner
/// who already has an attempt at the exam is skipped. Returns the learners prepared.
pub async fn insert_prepared(
    conn: &mut PgConnection,
    template: &NewAttempt<'_>,
    plans: &[(Uuid, Vec<PlannedItem>)],
) -> sqlx::Result<Vec<Uuid>> {
    if plans.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<Uuid> = plans.iter().map(|_| Uuid::new_v4()).collect();
    let users: Vec<Uuid> = plans.iter().map(|p| p.0).collect();
    let counts: Vec<i32> = plans.iter().map(|p| p.1.len() as i32).collect();
    let inserted: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "INSERT INTO attempts (id, user_id, mode, blueprint, cohort_exam_id, status, deadline, pass_mark, scaled,
                               question_count, time_limit_minutes, spec, assembly)
         SELECT id, usr, $3, $4, $5, 'prepared', NULL, $6, $7, n, $8, $9, $10
           FROM unnest($1::uuid[], $2::uuid[], $11::int4[]) AS t(id, usr, n)
         ON CONFLICT (cohort_exam_id, user_id) DO NOTHING
         RETURNING id, user_id",
    )
    .bind(&ids)
    .bind(&users)
    .bind(template.mode.as_str())
    .bind(template.blueprint)
    .bind(template.cohort_exam_id)
    .bind(template.pass_mark)
    .bind(template.scaled)
    .bind(template.time_limit_minutes)
    .bind(sqlx::types::Json(&template.spec))
    .bind(sqlx::types::Json(&template.assembly))
    .bind(&counts)
    .fetch_all(&mut *conn)
    .await?;
    let fresh: std::collections::HashMap<Uuid, Uuid> =
        inserted.iter().map(|(id, u)| (*u, *id)).collect();
    let (
        mut aids,
        mut uids,
        mut positions,
        mut qids,
        mut versions,
        mut domains,
        mut kinds,
        mut diffs,
        mut orders,
    ) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    let mut scored = vec![];
    for (user, items) in plans {
        let Some(&attempt) = fresh.get(user) else {
            continue;
        };
        for (i, it) in items.iter().enumerate() {
            aids.push(attempt);
            uids.push(*user);
            positions.push(i as i32 + 1);
            qids.push(it.question_id);
            versions.push(it.version);
            domains.push(it.domain.clone());
            kinds.push(it.kind.as_str().to_string());
            diffs.push(it.difficulty);
            orders.push(it.option_order.join(","));
            scored.push(!it.unscored);
        }
    }
    sqlx::query(
        "INSERT INTO attempt_questions (attempt_id, user_id, position, question_id, version, domain, kind, difficulty, option_order, scored)
         SELECT a, u, p, q, v, d, k, df, string_to_array(o, ','), s
         FROM UNNEST($1::uuid[], $2::uuid[], $3::int4[], $4::uuid[], $5::int4[], $6::text[], $7::text[], $8::int2[], $9::text[], $10::bool[])
              AS t(a, u, p, q, v, d, k, df, o, s)",
    )
    .bind(&aids)
    .bind(&uids)
    .bind(&positions)
    .bind(&qids)
    .bind(&versions)
    .bind(&domains)
    .bind(&kinds)
    .bind(&diffs)
    .bind(&orders)
    .bind(&scored)
    .execute(&mut *conn)
    .await?;
    // the questions count as seen from now, as a started attempt's do
    // EXCLUDED.…, not now(): Citus refuses volatile functions in the DO UPDATE of a distributed
    // (or reference) table (docs/scaling.md §7); the inserted row carries the same now()
    sqlx::query(
        "INSERT INTO user_question_stats (user_id, question_id, last_seen_at)
         SELECT DISTINCT u, q, now() FROM unnest($1::uuid[], $2::uuid[]) AS t(u, q)
         ON CONFLICT (user_id, question_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at",
    )
    .bind(&uids)
    .bind(&qids)
    .execute(conn)
    .await?;
    Ok(inserted.into_iter().map(|(_, u)| u).collect())
}

/// Starts a prepared cohort attempt: stamps `started_at` and the deadline, in one statement
/// that also checks what a start must (the caller is a member, the window is open for them).
/// None when there is nothing to stamp; the caller then finds out why.
///
/// The deadline is `services::cohorts::deadline`: the earlier of start + limit + extension and
/// the window's close + extension (a test compares the two).
pub async fn start_prepared(
    conn: &mut PgConnection,
    cohort: Uuid,
    exam: Uuid,
    user: Uuid,
) -> sqlx::Result<Option<AttemptRow>> {
    let returning: Vec<String> = ATTEMPT_COLUMNS
        .split(',')
        .map(|c| format!("a.{}", c.trim()))
        .collect();
    sqlx::query_as::<_, AttemptRow>(&format!(
        "UPDATE attempts a
            SET status = 'in_progress', started_at = now(),
                deadline = CASE WHEN a.time_limit_minutes IS NULL THEN e.closes_at + make_interval(mins => COALESCE(x.minutes, 0))
                           ELSE LEAST(now() + make_interval(mins => a.time_limit_minutes + COALESCE(x.minutes, 0)),
                                      e.closes_at + make_interval(mins => COALESCE(x.minutes, 0))) END
           FROM cohort_exams e
           LEFT JOIN cohort_exam_extensions x ON x.exam_id = e.id AND x.user_id = $3
          WHERE e.id = $2 AND e.cohort_id = $1
            AND a.cohort_exam_id = $2 AND a.user_id = $3 AND a.status = 'prepared'
            AND now() >= e.opens_at AND now() <= e.closes_at + make_interval(mins => COALESCE(x.minutes, 0))
            AND EXISTS (SELECT 1 FROM cohort_members m WHERE m.cohort_id = $1 AND m.user_id = $3)
         RETURNING {}",
        returning.join(", ")
    ))
    .bind(cohort)
    .bind(exam)
    .bind(user)
    .fetch_optional(conn)
    .await
}
