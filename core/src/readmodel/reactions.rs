//! Reactions as the read model has them: each message's `[{emoji, count, me}]` for a
//! history page (`me` is the caller's own reaction), and the state a reaction command
//! decides on.

use chat_schemas::{MessageId, RoomId, UserId};
use std::collections::HashMap;

use super::ReadModel;
use crate::database::DbError;

/// One emoji on a message: how many users gave it, and whether the viewer is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionCount {
    pub emoji: String,
    pub count: i64,
    pub me: bool,
}

/// What a reaction command needs to know about a message, read in one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionState {
    /// `None`: no such message in the room; `Some(true)`: it was deleted.
    pub deleted: Option<bool>,
    /// The caller's reaction with this emoji: whether it stands, and the sequence of its
    /// latest change (0: never given).
    pub mine: bool,
    pub mine_seq: i64,
    /// Whether anyone's reaction with this emoji stands on the message.
    pub emoji_present: bool,
    /// How many distinct emoji stand on the message.
    pub distinct: i64,
}

/// The reactions of the given messages, as `viewer` sees them: per message, its emoji in
/// the order they were first given (among the reactions that stand).
pub(crate) const PAGE_SQL: &str = "SELECT message_id, emoji, count(*), bool_or(user_id = $2) \
     FROM reactions WHERE message_id = ANY($1) AND present \
     GROUP BY message_id, emoji ORDER BY message_id, min(added_seq), emoji";

/// Folds the rows of [`PAGE_SQL`] into a map by message.
pub(crate) fn by_message(rows: &[tokio_postgres::Row]) -> HashMap<MessageId, Vec<ReactionCount>> {
    let mut out: HashMap<MessageId, Vec<ReactionCount>> = HashMap::new();
    for r in rows {
        out.entry(MessageId(r.get(0)))
            .or_default()
            .push(ReactionCount {
                emoji: r.get(1),
                count: r.get(2),
                me: r.get(3),
            });
    }
    out
}

impl ReadModel {
    /// The reactions of one message as `viewer` sees them.
    pub async fn reactions_of(
        &self,
        message: MessageId,
        viewer: UserId,
    ) -> Result<Vec<ReactionCount>, DbError> {
        let rows = self
            .with_client(
                |c| async move { Ok(c.query(PAGE_SQL, &[&vec![message.0], &viewer.0]).await?) },
            )
            .await?;
        Ok(by_message(&rows).remove(&message).unwrap_or_default())
    }

    /// The state a reaction of `user` with `emoji` to `message` in `room` is decided on.
    pub async fn reaction_state(
        &self,
        room: &RoomId,
        message: MessageId,
        user: UserId,
        emoji: &str,
    ) -> Result<ReactionState, DbError> {
        let (room, emoji) = (room.as_str().to_owned(), emoji.to_owned());
        let row = self
            .with_client(|c| async move {
                Ok(c.query_one(
                    "SELECT (SELECT deleted FROM messages WHERE message_id = $1 AND room_id = $2), \
                        COALESCE((SELECT present FROM reactions \
                                  WHERE message_id = $1 AND emoji = $4 AND user_id = $3), false), \
                        COALESCE((SELECT seq FROM reactions \
                                  WHERE message_id = $1 AND emoji = $4 AND user_id = $3), 0), \
                        EXISTS (SELECT 1 FROM reactions \
                                WHERE message_id = $1 AND emoji = $4 AND present), \
                        (SELECT count(DISTINCT emoji) FROM reactions \
                         WHERE message_id = $1 AND present)",
                    &[&message.0, &room, &user.0, &emoji],
                )
                .await?)
            })
            .await?;
        Ok(ReactionState {
            deleted: row.get(0),
            mine: row.get(1),
            mine_seq: row.get(2),
            emoji_present: row.get(3),
            distinct: row.get(4),
        })
    }
}
