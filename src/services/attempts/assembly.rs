//! Assembly: drawing an attempt's questions from the bank, by topic area or by exam-guide
//! domain and topic area (with unscored slots), unseen questions first.

use std::collections::{BTreeMap, HashSet};

use chrono::{Duration, Utc};
use rand::seq::SliceRandom;
use rand::Rng;
use sqlx::PgConnection;
use uuid::Uuid;

use super::start::Recipe;
use super::RECENT_DAYS;
use crate::db::attempts::{self as db, Candidate};
use crate::db::catalog;
use crate::domain::assembly::{allocate, difficulty_split, Shortfall};
use crate::domain::two_way;
use crate::error::AppResult;

pub use crate::domain::attempt::AssemblyReport;

/// Draws questions for `recipe` (or for the given domain plan, used by adaptive practice).
pub async fn assemble(
    conn: &mut PgConnection,
    user_id: Uuid,
    count: usize,
    weights: &BTreeMap<String, f64>,
) -> AppResult<(Vec<Candidate>, AssemblyReport)> {
    let mut rng = rand::thread_rng();
    let mut caps: BTreeMap<String, usize> = weights
        .keys()
        .map(|d| (d.clone(), usize::MAX / 4))
        .collect();
    let mut pools: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    let mut fetched_for: BTreeMap<String, usize> = BTreeMap::new();
    let mut alloc = allocate(count, weights, &caps);
    // at most three rounds: draw, learn which domains are short, redistribute, draw the rest
    for _ in 0..3 {
        let mut buckets = Vec::new();
        for (d, &n) in &alloc.counts {
            if n > 0 && fetched_for.get(d).copied().unwrap_or(0) < n {
                let split = difficulty_split(n);
                for (i, k) in split.iter().enumerate() {
                    // over-fetch so recently seen questions can be skipped and short buckets refilled
                    buckets.push((
                        d.clone(),
                        (i + 1) as i16,
                        (*k as i64) * 2 + (n as i64) + 2,
                        rng.gen::<f64>(),
                    ));
                }
                fetched_for.insert(d.clone(), n);
            }
        }
        if buckets.is_empty() {
            break;
        }
        let rows = db::sample(conn, &buckets).await?;
        let mut fresh: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
        for c in rows {
            fresh.entry(c.domain.clone()).or_default().push(c);
        }
        for (d, mut list) in fresh {
            let mut seen = HashSet::new();
            list.retain(|c| seen.insert(c.id));
            pools.insert(d, list);
        }
        let mut changed = false;
        for (d, &n) in &alloc.counts {
            let have = pools.get(d).map_or(0, Vec::len);
            if n > 0 && have < n && caps[d] > have {
                caps.insert(d.clone(), have);
                changed = true;
            }
        }
        if !changed {
            break;
        }
        alloc = allocate(count, weights, &caps);
    }
    // choose per domain: difficulty balance, unseen first
    let all_ids: Vec<Uuid> = pools.values().flatten().map(|c| c.id).collect();
    let since = Utc::now() - Duration::days(RECENT_DAYS);
    let recent: HashSet<Uuid> = db::seen_since(conn, user_id, &all_ids, since)
        .await?
        .into_iter()
        .collect();
    let mut chosen = Vec::with_capacity(count);
    for (d, &n) in &alloc.counts {
        let Some(pool) = pools.get(d) else { continue };
        let split = difficulty_split(n);
        let mut picked: Vec<&Candidate> = Vec::with_capacity(n);
        let mut taken = HashSet::new();
        for (i, &k) in split.iter().enumerate() {
            let diff = (i + 1) as i16;
            for c in pool
                .iter()
                .filter(|c| c.difficulty == diff && !recent.contains(&c.id))
                .take(k)
            {
                taken.insert(c.id);
                picked.push(c);
            }
        }
        // fill what a difficulty or recency could not: unseen of any difficulty, then the rest
        for c in pool
            .iter()
            .filter(|c| !recent.contains(&c.id))
            .chain(pool.iter())
        {
            if picked.len() >= n {
                break;
            }
            if taken.insert(c.id) {
                picked.push(c);
            }
        }
        chosen.extend(picked.into_iter().cloned());
    }
    let chosen = db::with_option_ids(conn, chosen).await?;
    let report = AssemblyReport {
        requested: count,
        drawn: chosen.len(),
        per_domain: alloc.counts.clone(),
        shortfalls: alloc.shortfalls.clone(),
    };
    Ok((chosen, report))
}

/// Draws a recipe's questions: by exam-guide domain and topic area when the recipe weighs exam
/// domains (and then with its unscored slots), by topic area otherwise.
pub async fn draw(
    conn: &mut PgConnection,
    user_id: Uuid,
    recipe: &Recipe,
) -> AppResult<(Vec<Candidate>, AssemblyReport)> {
    if recipe.exam_weights.is_empty() {
        return assemble(conn, user_id, recipe.count, &recipe.weights).await;
    }
    assemble_measured(
        conn,
        user_id,
        recipe.count,
        recipe.unscored.min(recipe.count),
        &recipe.exam_weights,
        &recipe.weights,
    )
    .await
}

/// Two-way assembly (issue 14): `count - unscored` scored questions whose exam-guide domains
/// match `exam_weights` exactly (largest remainder) and whose topic areas are as close to
/// `area_weights` as the bank allows (`domain::two_way`); then `unscored` questions that do not
/// count: pilots first, then ordinary questions allocated the same way. Everything is sampled
/// from the (area, exam domain, sample_key) index; the cell sizes come from `bank_cells`. The
/// result is shuffled: position tells nothing about which questions count.
pub async fn assemble_measured(
    conn: &mut PgConnection,
    user_id: Uuid,
    count: usize,
    unscored: usize,
    exam_weights: &BTreeMap<String, f64>,
    area_weights: &BTreeMap<String, f64>,
) -> AppResult<(Vec<Candidate>, AssemblyReport)> {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::from_entropy();
    let scored_n = count - unscored;
    let mut available: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (area, exam, ordinary, _) in catalog::cell_counts(conn).await? {
        available.insert((exam, area), ordinary.max(0) as usize);
    }
    let scored =
        two_way::allocate_two_way(scored_n, exam_weights, area_weights, &available, &mut rng);
    // pilots take the unscored slots first
    let mut pilots = db::sample_pilots(conn, unscored as i64, rng.gen()).await?;
    pilots.truncate(unscored);
    for p in &mut pilots {
        p.unscored = true;
    }
    // the rest of the unscored slots: ordinary questions, allocated like the scored ones
    let mut left = available.clone();
    for (cell, n) in &scored.cells {
        if let Some(a) = left.get_mut(cell) {
            *a = a.saturating_sub(*n);
        }
    }
    let extra = two_way::allocate_two_way(
        unscored - pilots.len(),
        exam_weights,
        area_weights,
        &left,
        &mut rng,
    );
    let cells: Vec<((String, String), usize, usize)> = scored
        .cells
        .keys()
        .chain(extra.cells.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|cell| {
            (
                cell.clone(),
                scored.cells.get(cell).copied().unwrap_or(0),
                extra.cells.get(cell).copied().unwrap_or(0),
            )
        })
        .filter(|(_, a, b)| a + b > 0)
        .collect();
    let buckets: Vec<(String, String, i64, f64)> = cells
        .iter()
        .map(|((exam, area), a, b)| {
            // over-fetch so that recently seen questions can be skipped
            (
                area.clone(),
                exam.clone(),
                (2 * (a + b) + 2) as i64,
                rng.gen(),
            )
        })
        .collect();
    let rows = db::sample_cells(conn, &buckets).await?;
    let mut per_cell: Vec<Vec<Candidate>> = vec![Vec::new(); cells.len()];
    for (i, c) in rows {
        if let Some(v) = per_cell.get_mut(i) {
            if !v.iter().any(|x| x.id == c.id) {
                v.push(c);
            }
        }
    }
    let all_ids: Vec<Uuid> = per_cell.iter().flatten().map(|c| c.id).collect();
    let since = Utc::now() - Duration::days(RECENT_DAYS);
    let recent: HashSet<Uuid> = db::seen_since(conn, user_id, &all_ids, since)
        .await?
        .into_iter()
        .collect();
    let pilot_ids: HashSet<Uuid> = pilots.iter().map(|p| p.id).collect();
    let mut chosen: Vec<Candidate> = Vec::with_capacity(count);
    let mut per_domain: BTreeMap<String, usize> = BTreeMap::new();
    for (((_, area), n_scored, n_extra), pool) in cells.iter().zip(per_cell) {
        // unseen first, then the rest; a random order within each
        let (mut fresh, mut seen): (Vec<Candidate>, Vec<Candidate>) = pool
            .into_iter()
            .filter(|c| !pilot_ids.contains(&c.id))
            .partition(|c| !recent.contains(&c.id));
        fresh.shuffle(&mut rng);
        seen.shuffle(&mut rng);
        for (k, mut c) in fresh
            .into_iter()
            .chain(seen)
            .take(n_scored + n_extra)
            .enumerate()
        {
            c.unscored = k >= *n_scored;
            *per_domain.entry(area.clone()).or_default() += 1;
            chosen.push(c);
        }
    }
    for p in pilots {
        *per_domain.entry(p.domain.clone()).or_default() += 1;
        chosen.push(p);
    }
    chosen.shuffle(&mut rng);
    let chosen = db::with_option_ids(conn, chosen).await?;
    let shortfalls = scored
        .areas
        .iter()
        .filter(|m| m.available < m.wanted)
        .map(|m| Shortfall {
            domain: m.name.clone(),
            wanted: m.wanted,
            available: m.available,
        })
        .collect();
    let report = AssemblyReport {
        requested: count,
        drawn: chosen.len(),
        per_domain,
        shortfalls,
    };
    Ok((chosen, report))
}
