//! Folding the reads stream into `read_positions`: each `read.moved` event raises the
//! user's position in the room to its `seq`, never lowers it (GREATEST), so replaying the
//! stream, or applying an event twice, changes nothing.

use chat_core::database::DbError;
use chat_schemas::events::{Envelope, EventBody};
use deadpool_postgres::Transaction;

/// Applies an event of the reads stream.
pub async fn apply_read_event(
    tx: &Transaction<'_>,
    seq: i64,
    event: &Envelope,
) -> Result<(), DbError> {
    let (EventBody::ReadMoved { seq: read }, Some(room), Some(user)) =
        (&event.body, &event.room_id, event.user_id)
    else {
        tracing::error!(
            seq,
            kind = event.body.type_name(),
            "not a read position, on a read subject; skipped"
        );
        return Ok(());
    };
    let Ok(read) = i64::try_from(*read) else {
        tracing::error!(
            seq,
            read,
            "read position beyond any stream sequence; skipped"
        );
        return Ok(());
    };
    tx.execute(
        "INSERT INTO read_positions (user_id, room_id, last_read_seq, updated_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, room_id) DO UPDATE \
         SET last_read_seq = GREATEST(read_positions.last_read_seq, EXCLUDED.last_read_seq), \
             updated_at = EXCLUDED.updated_at \
         WHERE read_positions.last_read_seq < EXCLUDED.last_read_seq",
        &[&user.0, &room.as_str(), &read, &event.occurred_at],
    )
    .await?;
    Ok(())
}
