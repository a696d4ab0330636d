//! What every answer teaches: the learner's mastery and review queue, updated in the same
//! transaction as the answer.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::attempts::ItemRow;
use crate::error::AppResult;

/// Called inside the answer's transaction for a newly answered (or changed) question.
pub async fn on_answer(
    _conn: &mut PgConnection,
    _user_id: Uuid,
    _item: &ItemRow,
    _correct: bool,
    _time_ms: i64,
) -> AppResult<()> {
    Ok(())
}
