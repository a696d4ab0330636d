//! Submits in batches. At a cohort's shared deadline every page submits in the same second;
//! each submit alone costs a transaction of several statements. A worker's submits that arrive
//! while its earlier ones are in the database go together: one transaction locks their rows,
//! their learners, reads all their items and writes every result (`attempts::finalize_batch`).
//! If a batch fails, each of its submits is finalized on its own.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Semaphore};
use uuid::Uuid;

use crate::domain::result::AttemptResult;
use crate::error::{AppError, AppResult};
use crate::services::attempts;

/// Submits in one batch at most.
const MAX_BATCH: usize = 64;
/// Batches in the database at once (per worker).
const SLOTS: usize = 2;

struct Job {
    user: Uuid,
    attempt: Uuid,
    done: oneshot::Sender<AppResult<AttemptResult>>,
}

/// One per HTTP worker (its loop runs on that worker's runtime and uses that worker's pool).
pub struct FinalizeBatcher {
    pool: PgPool,
    queue: OnceLock<mpsc::UnboundedSender<Job>>,
}

impl FinalizeBatcher {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            queue: OnceLock::new(),
        }
    }

    /// Finalizes the learner's attempt (once; a repeated submit gets the stored result).
    pub async fn finalize(&self, user: Uuid, attempt: Uuid) -> AppResult<AttemptResult> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            actix_web::rt::spawn(run(self.pool.clone(), rx));
            tx
        });
        let (done, result) = oneshot::channel();
        if queue
            .send(Job {
                user,
                attempt,
                done,
            })
            .is_err()
        {
            return attempts::finalize(&self.pool, user, attempt).await;
        }
        result.await.unwrap_or_else(|_| {
            Err(AppError::Unavailable(
                "the submit could not be completed; retry".into(),
            ))
        })
    }
}

async fn run(pool: PgPool, mut queue: mpsc::UnboundedReceiver<Job>) {
    let slots = Arc::new(Semaphore::new(SLOTS));
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
        while let Ok(job) = queue.try_recv() {
            waiting.push_back(job);
        }
        let n = waiting.len().min(MAX_BATCH);
        let batch: Vec<Job> = waiting.drain(..n).collect();
        let pool = pool.clone();
        actix_web::rt::spawn(async move {
            write(&pool, batch).await;
            drop(slot);
        });
    }
}

async fn write(pool: &PgPool, batch: Vec<Job>) {
    let keys: Vec<(Uuid, Uuid)> = batch.iter().map(|j| (j.user, j.attempt)).collect();
    match attempts::finalize_batch(pool, &keys).await {
        Ok(results) => {
            for (job, r) in batch.into_iter().zip(results) {
                let _ = job.done.send(r);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, submits = batch.len(), "submit batch failed; one by one");
            for job in batch {
                let r = attempts::finalize(pool, job.user, job.attempt).await;
                let _ = job.done.send(r);
            }
        }
    }
}
