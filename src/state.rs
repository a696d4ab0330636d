//! The state every request handler sees: the pool, metrics, settings and the per-process caches.
//! It sits below the handlers (api/, web/, auth/) and above the services; startup.rs builds it.

use std::sync::Arc;

use secrecy::SecretString;
use sqlx::PgPool;

use crate::config::ServeArgs;
use crate::metrics::Metrics;

/// Shared, cheap-to-clone state of every worker. Nothing here is state that matters across
/// processes: several servers can run against one database.
pub struct AppState {
    pub pool: PgPool,
    pub metrics: Metrics,
    pub settings: Arc<ServeArgs>,
    pub jwt_secret: SecretString,
    /// The study notes, rendered once at startup.
    pub notes: Arc<crate::services::notes::NotesCatalog>,
    /// Open attempts as this process last saw them (answer saves in one round trip).
    pub answers: Arc<crate::services::attempts::answer_cache::AnswerCache>,
    /// This worker's answer saves, written in batches.
    pub saves: Arc<crate::services::attempts::answer_batch::AnswerBatcher>,
    /// This worker's submits, finalized in batches.
    pub finals: Arc<crate::services::attempts::finalize_batch::FinalizeBatcher>,
}
