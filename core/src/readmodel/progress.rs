//! How far the projector has got: the checkpoint of a stream, and the bounded wait for it
//! that gives a caller read-your-writes.

use std::time::{Duration, Instant};

use super::ReadModel;
use crate::database::DbError;

/// The checkpoint of stream `$1`: with partitions, the least advanced of them, since every
/// partition reads the whole stream. Shared with the history query, which reads it in the
/// same connection.
pub(crate) const CHECKPOINT_SQL: &str = "SELECT min(last_seq) FROM projector_checkpoints \
     WHERE stream = $1 OR stream LIKE $1 || '/%'";

impl ReadModel {
    /// How far the projector has applied `stream` (0 before any): with partitions, the
    /// least advanced of them, since every partition reads the whole stream.
    pub async fn checkpoint(&self, stream: &str) -> Result<u64, DbError> {
        let stream = stream.to_owned();
        self.with_client(|c| async move {
            let row = c.query_one(CHECKPOINT_SQL, &[&stream]).await?;
            Ok(row.get::<_, Option<i64>>(0).unwrap_or(0) as u64)
        })
        .await
    }

    /// Waits until the projector has applied `stream` up to `seq`, at most `bound`.
    /// Answers the checkpoint reached; the caller compares it with `seq`.
    pub async fn wait_for_projection(
        &self,
        stream: &str,
        seq: u64,
        bound: Duration,
    ) -> Result<u64, DbError> {
        let deadline = Instant::now() + bound;
        let mut pause = Duration::from_millis(2);
        loop {
            let reached = self.checkpoint(stream).await?;
            if reached >= seq || Instant::now() >= deadline {
                return Ok(reached);
            }
            // Polling is cheap (a primary-key read) and only happens while someone waits.
            tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
            pause = (pause * 2).min(Duration::from_millis(25));
        }
    }
}
