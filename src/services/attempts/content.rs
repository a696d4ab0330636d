//! The content of question versions, kept in this process.
//!
//! A version's stem, options and explanation never change once written (an edit makes a new
//! version), so they can be kept as long as the process lives, keyed by (question, version).
//! Reading an attempt then fetches only its 65 narrow item rows; the content comes from here.
//! This matters at a cohort's opening, when 2,000 learners receive the same 65 questions in the
//! same second. Question ids are random, so the cache is safe even if several databases are
//! served from one process (the tests do that).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::attempts::{self as db, ItemRow, VersionContent};
use crate::domain::attempt::StoredOption;

/// Versions kept at most; past that the cache starts over (a bank has a few thousand).
const CAPACITY: usize = 50_000;

/// (question, version) → its content.
type Contents = HashMap<(Uuid, i32), Arc<VersionContent>>;

static CONTENT: LazyLock<RwLock<Contents>> = LazyLock::new(Default::default);

/// The items of the given attempts with their versions' content, by attempt, in position order.
pub async fn items_of(
    conn: &mut PgConnection,
    attempts: &[(Uuid, Uuid)],
) -> sqlx::Result<HashMap<Uuid, Vec<ItemRow>>> {
    items_with(conn, attempts, false).await
}

/// One attempt's items with only what checking and scoring an answer needs: no stem,
/// explanation or note, and options as `{id, correct}` (what the answer cache keeps of an exam).
pub async fn items_for_checking(
    conn: &mut PgConnection,
    attempt: Uuid,
    user: Uuid,
) -> sqlx::Result<Vec<ItemRow>> {
    Ok(items_with(conn, &[(attempt, user)], true)
        .await?
        .remove(&attempt)
        .unwrap_or_default())
}

async fn items_with(
    conn: &mut PgConnection,
    attempts: &[(Uuid, Uuid)],
    light: bool,
) -> sqlx::Result<HashMap<Uuid, Vec<ItemRow>>> {
    let states = db::item_states(conn, attempts).await?;
    let mut missing: Vec<(Uuid, i32)> = {
        let map = CONTENT.read().expect("content cache");
        states
            .iter()
            .map(|s| (s.question_id, s.version))
            .filter(|k| !map.contains_key(k))
            .collect()
    };
    let mut fetched = HashMap::new();
    if !missing.is_empty() {
        missing.sort();
        missing.dedup();
        for c in db::version_contents(conn, &missing).await? {
            fetched.insert((c.question_id, c.version), Arc::new(c));
        }
        let mut map = CONTENT.write().expect("content cache");
        if map.len() + fetched.len() > CAPACITY {
            map.clear();
        }
        map.extend(fetched.iter().map(|(k, v)| (*k, v.clone())));
    }
    let map = CONTENT.read().expect("content cache");
    let mut out: HashMap<Uuid, Vec<ItemRow>> = HashMap::new();
    for s in states {
        let key = (s.question_id, s.version);
        let Some(c) = fetched.get(&key).or_else(|| map.get(&key)) else {
            // a version without content cannot exist (foreign key); skip rather than panic
            continue;
        };
        out.entry(s.attempt_id).or_default().push(ItemRow {
            position: s.position,
            question_id: s.question_id,
            version: s.version,
            domain: s.domain,
            kind: s.kind,
            difficulty: s.difficulty,
            option_order: s.option_order,
            choices: s.choices,
            flagged: s.flagged,
            answered_at: s.answered_at,
            revision: s.revision,
            time_spent_ms: s.time_spent_ms,
            correct: s.correct,
            viewed_at: s.viewed_at,
            scored: s.scored,
            exam_domain: c.exam_domain.clone(),
            calib_difficulty: s.calib_difficulty,
            stem: if light { String::new() } else { c.stem.clone() },
            options: if light {
                c.options.iter().map(StoredOption::light).collect()
            } else {
                c.options.clone()
            },
            explanation: if light {
                String::new()
            } else {
                c.explanation.clone()
            },
            note: if light { None } else { c.note.clone() },
            tags: c.tags.clone(),
        });
    }
    Ok(out)
}

/// One attempt's items with their content, in position order.
pub async fn items(
    conn: &mut PgConnection,
    attempt: Uuid,
    user: Uuid,
) -> sqlx::Result<Vec<ItemRow>> {
    Ok(items_of(conn, &[(attempt, user)])
        .await?
        .remove(&attempt)
        .unwrap_or_default())
}
