//! What this server process last knew of the attempts being answered: the attempt's questions,
//! the learner's mastery rows and statistics-and-card rows. With it, an answer save is one
//! database call (`save_answer`) instead of a read and a write.
//!
//! The cache is never trusted: `save_answer` checks the revision, the answer counts and that the
//! attempt is still open, and refuses when anything moved (another device, another server
//! process, finalization, an extension). The caller then evicts the attempt and takes the read
//! path. A cached state only serves writes that change an answer; retries of an answer, reads
//! and the pages' server-measured time always go to the database.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::Utc;
use uuid::Uuid;

use crate::db::attempts::ItemRow;
use crate::domain::answer::AnswerPlan;
use crate::domain::attempt::Mode;
use crate::domain::learning::{AreaRead, CardRow, MasteryRow};

/// Attempts kept at most (an exam's items are kept without their texts, well under 1 KB
/// apiece: 65 questions are about 40 KB); past that an eighth of them, arbitrary ones, make
/// room. A cohort of 2,000 sitting one exam fits with room to spare: emptying the cache while
/// they answer would make every save read its attempt again.
const MAX_ATTEMPTS: usize = 4096;

pub struct CachedAttempt {
    pub user_id: Uuid,
    pub mode: Mode,
    pub items: HashMap<i32, ItemRow>,
    pub mastery: HashMap<(String, String), MasteryRow>,
    /// question → (times answered, card)
    pub stats: HashMap<Uuid, (i32, Option<CardRow>)>,
}

/// One question's state as the cache knows it.
pub struct Snapshot {
    pub mode: Mode,
    pub item: ItemRow,
    pub areas: Vec<AreaRead>,
    pub card: Option<CardRow>,
    pub stats_seen: Option<i32>,
}

#[derive(Default)]
pub struct AnswerCache {
    attempts: Mutex<HashMap<Uuid, CachedAttempt>>,
}

impl AnswerCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, CachedAttempt>> {
        // a panic while holding the lock leaves plain data behind: keep using it
        self.attempts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn contains(&self, attempt: Uuid) -> bool {
        self.lock().contains_key(&attempt)
    }

    pub fn insert(&self, attempt: Uuid, state: CachedAttempt) {
        let mut map = self.lock();
        if map.len() >= MAX_ATTEMPTS {
            let drop: Vec<Uuid> = map.keys().take(MAX_ATTEMPTS / 8).copied().collect();
            for k in drop {
                map.remove(&k);
            }
        }
        map.insert(attempt, state);
    }

    pub fn evict(&self, attempt: Uuid) {
        self.lock().remove(&attempt);
    }

    pub fn snapshot(&self, attempt: Uuid, user: Uuid, position: i32) -> Option<Snapshot> {
        let map = self.lock();
        let a = map.get(&attempt).filter(|a| a.user_id == user)?;
        let item = a.items.get(&position)?.clone();
        let mut keys = vec![("domain".to_string(), item.domain.clone())];
        keys.extend(item.tags.iter().map(|t| ("tag".to_string(), t.clone())));
        let areas = keys
            .iter()
            .filter_map(|k| a.mastery.get(k))
            .map(|row| AreaRead {
                row: row.clone(),
                // unknown here: the database decides whether today is a new day for the row
                stale: false,
            })
            .collect();
        let (stats_seen, card) = match a.stats.get(&item.question_id) {
            Some((n, card)) => (Some(*n), card.clone()),
            None => (None, None),
        };
        Some(Snapshot {
            mode: a.mode,
            item,
            areas,
            card,
            stats_seen,
        })
    }

    /// Records a save that the database accepted: applies the plan it wrote, as it wrote it.
    pub fn saved(&self, attempt: Uuid, position: i32, plan: &AnswerPlan, revision: i32) {
        let mut map = self.lock();
        let Some(a) = map.get_mut(&attempt) else {
            return;
        };
        if let Some(item) = a.items.get_mut(&position) {
            item.choices = plan.choices.clone();
            item.flagged = plan.flagged;
            item.correct = plan.correct;
            item.revision = revision;
            item.time_spent_ms += plan.add_ms;
            item.viewed_at = None;
            if plan.stamps_answered {
                item.answered_at = Some(Utc::now());
            }
        }
        if let Some(l) = &plan.learning {
            for w in &l.areas {
                a.mastery
                    .insert((w.row.area_kind.clone(), w.row.area.clone()), w.row.clone());
            }
            a.stats
                .insert(l.question_id, (l.times_answered, Some(l.card.clone())));
        }
    }
}
