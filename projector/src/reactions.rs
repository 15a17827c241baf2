//! Folding `reaction.added` and `reaction.removed` into `reactions`. The rules live here,
//! so that a rebuild from the stream gives the same rows whatever the commands saw: an
//! added reaction counts only on a message of the room that is not deleted, by a member of
//! the room, once per user and emoji, and only if the emoji is already on the message or
//! the message has fewer than the cap of distinct emoji. Each statement is idempotent for
//! its sequence (a row's `seq` only grows).

use chat_core::database::DbError;
use chat_core::input::reactions::MAX_DISTINCT_REACTIONS;
use chat_schemas::{MessageId, UserId};
use deadpool_postgres::Transaction;

/// Applies `reaction.added` at `seq`.
pub async fn added(
    tx: &Transaction<'_>,
    seq: i64,
    room: &str,
    actor: UserId,
    message: MessageId,
    emoji: &str,
) -> Result<(), DbError> {
    let add = tx
        .prepare_cached(
            "INSERT INTO reactions (message_id, user_id, emoji, room_id, present, seq, added_seq) \
             SELECT $1, $2, $3, $4, true, $5, $5 \
             WHERE EXISTS (SELECT 1 FROM messages \
                           WHERE message_id = $1 AND room_id = $4 AND NOT deleted) \
               AND EXISTS (SELECT 1 FROM room_members WHERE room_id = $4 AND user_id = $2) \
               AND (EXISTS (SELECT 1 FROM reactions \
                            WHERE message_id = $1 AND emoji = $3 AND present) \
                    OR (SELECT count(DISTINCT emoji) FROM reactions \
                        WHERE message_id = $1 AND present) < $6) \
             ON CONFLICT (message_id, emoji, user_id) DO UPDATE \
             SET present = true, seq = EXCLUDED.seq, added_seq = EXCLUDED.seq \
             WHERE NOT reactions.present AND reactions.seq < EXCLUDED.seq",
        )
        .await?;
    tx.execute(
        &add,
        &[
            &message.0,
            &actor.0,
            &emoji,
            &room,
            &seq,
            &MAX_DISTINCT_REACTIONS,
        ],
    )
    .await?;
    Ok(())
}

/// Applies `reaction.removed` at `seq`.
pub async fn removed(
    tx: &Transaction<'_>,
    seq: i64,
    room: &str,
    actor: UserId,
    message: MessageId,
    emoji: &str,
) -> Result<(), DbError> {
    let remove = tx
        .prepare_cached(
            "UPDATE reactions SET present = false, seq = $5 \
             WHERE message_id = $1 AND user_id = $2 AND emoji = $3 AND room_id = $4 \
               AND present AND seq < $5",
        )
        .await?;
    tx.execute(&remove, &[&message.0, &actor.0, &emoji, &room, &seq])
        .await?;
    Ok(())
}
