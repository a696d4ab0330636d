//! Answer saves of one server worker, written to the database in batches.
//!
//! Most of what an answer save costs the database does not depend on how many answers a call
//! carries: the round trip, starting the executor for each statement, the commit. So the saves
//! that arrive while this worker's earlier saves are in the database wait for a free slot and
//! then go together, in one `save_answers` call (one transaction). Nobody waits for a timer:
//! under light load a batch is a single save (written with `save_answer`), under heavy load
//! batches grow to what queued meanwhile.
//!
//! Every answer of a batch lands with its learning update or not at all; an answer that the
//! database refuses (something it was based on moved) comes back as `Refused`, and a batch
//! that fails as a whole comes back as `Failed` for each of its answers: the caller then takes
//! the one-by-one path, which reads again. A save is acknowledged only after its batch
//! committed.
//!
//! On a Citus cluster (docs/scaling.md §3.2) a batch of several learners would be a multi-shard
//! transaction: there every save goes alone, as a `save_answer` call that Citus delegates to
//! the worker holding the learner's shard, and more of them run at once instead.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, OnceLock};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::db::attempts::{self as db, AnswerWrite};
use crate::metrics::Metrics;

/// Answers per batch at most.
pub const MAX_BATCH: usize = 32;

/// What became of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Written; the question's new revision.
    Revision(i32),
    /// Not written: something the write was based on changed (or the attempt closed).
    Refused,
    /// Not written: the batch failed as a whole (the database was unreachable, or refused it).
    Failed,
}

struct Job {
    write: AnswerWrite,
    done: oneshot::Sender<Saved>,
}

/// One per HTTP worker (its loop runs on that worker's runtime and uses that worker's pool).
pub struct AnswerBatcher {
    pool: PgPool,
    metrics: Metrics,
    /// Batches in the database at once.
    slots: usize,
    queue: OnceLock<mpsc::UnboundedSender<Job>>,
}

impl AnswerBatcher {
    pub fn new(pool: PgPool, metrics: Metrics, slots: usize) -> Self {
        Self {
            pool,
            metrics,
            slots: slots.max(1),
            queue: OnceLock::new(),
        }
    }

    /// Saves one answer with whatever else is waiting; resolves once it is committed (or not).
    pub async fn save(&self, write: AnswerWrite) -> Saved {
        let queue = self.queue.get_or_init(|| {
            // started by the first save, on the worker that serves it
            let (tx, rx) = mpsc::unbounded_channel();
            actix_web::rt::spawn(run(self.pool.clone(), self.metrics.clone(), rx, self.slots));
            tx
        });
        let (done, result) = oneshot::channel();
        if queue.send(Job { write, done }).is_err() {
            return Saved::Failed;
        }
        result.await.unwrap_or(Saved::Failed)
    }
}

async fn run(
    pool: PgPool,
    metrics: Metrics,
    mut queue: mpsc::UnboundedReceiver<Job>,
    slots: usize,
) {
    let (max_batch, slots) = if learners_distributed(&pool).await {
        // concurrency replaces batching: half the pool's connections
        let half = (pool.options().get_max_connections() as usize / 2).max(1);
        (1, slots.max(half))
    } else {
        (MAX_BATCH, slots)
    };
    let slots = Arc::new(Semaphore::new(slots));
    let mut waiting: VecDeque<Job> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match queue.recv().await {
                Some(job) => waiting.push_back(job),
                None => return,
            }
        }
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        // everything that arrived while the slots were busy
        while let Ok(job) = queue.try_recv() {
            waiting.push_back(job);
        }
        let batch = take_batch(&mut waiting, max_batch);
        let (pool, metrics) = (pool.clone(), metrics.clone());
        actix_web::rt::spawn(async move {
            write(&pool, &metrics, batch).await;
            drop(slot);
        });
    }
}

/// Whether the learners' tables are distributed (Citus), asked once when the loop starts; a
/// database that cannot be reached yet counts as plain PostgreSQL.
async fn learners_distributed(pool: &PgPool) -> bool {
    let Ok(mut conn) = pool.acquire().await else {
        return false;
    };
    crate::db::citus::learners_distributed(&mut conn)
        .await
        .unwrap_or(false)
}

/// The next batch: the oldest waiting saves, at most `max`, one per learner (a learner's
/// second save waits for the next batch, so that it is based on the first one's result).
fn take_batch(waiting: &mut VecDeque<Job>, max: usize) -> Vec<Job> {
    let mut batch = Vec::new();
    let mut learners = HashSet::new();
    let mut later = VecDeque::new();
    while let Some(job) = waiting.pop_front() {
        if batch.len() < max && learners.insert(job.write.user_id) {
            batch.push(job);
        } else {
            later.push_back(job);
        }
    }
    *waiting = later;
    batch
}

async fn write(pool: &PgPool, metrics: &Metrics, batch: Vec<Job>) {
    let started = std::time::Instant::now();
    metrics.answer_batch_size.observe(batch.len() as f64);
    let result = async {
        let mut conn = pool.acquire().await?;
        if let [job] = batch.as_slice() {
            db::save_answer(&mut conn, &job.write)
                .await
                .map(|r| vec![r])
        } else {
            let writes: Vec<&AnswerWrite> = batch.iter().map(|j| &j.write).collect();
            db::save_answers(&mut conn, &writes).await
        }
    }
    .await;
    metrics
        .answer_batch_seconds
        .observe(started.elapsed().as_secs_f64());
    let count = |outcome: &str, n: usize| {
        metrics
            .answer_batch_saves
            .with_label_values(&[outcome])
            .inc_by(n as u64)
    };
    match result {
        Ok(revisions) => {
            let written = revisions.iter().filter(|r| r.is_some()).count();
            count("written", written);
            count("refused", revisions.len() - written);
            for (job, revision) in batch.into_iter().zip(revisions) {
                let _ = job
                    .done
                    .send(revision.map_or(Saved::Refused, Saved::Revision));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, answers = batch.len(), "an answer batch failed; its answers are saved one by one");
            count("failed", batch.len());
            for job in batch {
                let _ = job.done.send(Saved::Failed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn job(user: Uuid, position: i32) -> Job {
        let (done, _) = oneshot::channel();
        Job {
            write: AnswerWrite {
                attempt_id: Uuid::nil(),
                user_id: user,
                position,
                grace_secs: 0,
                plan: crate::domain::answer::AnswerPlan {
                    base_revision: 0,
                    choices: vec![],
                    flagged: false,
                    correct: None,
                    add_ms: 0,
                    stamps_answered: false,
                    learning: None,
                },
            },
            done,
        }
    }

    #[test]
    fn a_batch_takes_the_oldest_saves_one_per_learner_and_keeps_the_rest_in_order() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut waiting: VecDeque<Job> = [
            job(a, 1),
            job(a, 2),
            job(b, 1),
            job(c, 1),
            job(b, 2),
            job(a, 3),
        ]
        .into();
        let batch = take_batch(&mut waiting, 2);
        let got: Vec<(Uuid, i32)> = batch
            .iter()
            .map(|j| (j.write.user_id, j.write.position))
            .collect();
        assert_eq!(got, vec![(a, 1), (b, 1)]);
        let left: Vec<(Uuid, i32)> = waiting
            .iter()
            .map(|j| (j.write.user_id, j.write.position))
            .collect();
        assert_eq!(left, vec![(a, 2), (c, 1), (b, 2), (a, 3)]);
        let batch = take_batch(&mut waiting, 32);
        let got: Vec<(Uuid, i32)> = batch
            .iter()
            .map(|j| (j.write.user_id, j.write.position))
            .collect();
        assert_eq!(got, vec![(a, 2), (c, 1), (b, 2)]);
        assert_eq!(waiting.len(), 1);
    }
}
