//! Messages as the read model has them: history pages (`GET /getMessages`), who sent a
//! message (edits and deletes), and what an earlier send of a `clientMsgId` stored (exact
//! retries, see `crate::commands`).

use chat_schemas::{ClientMsgId, MessageId, RoomId, UserId};
use time::OffsetDateTime;

use super::progress::CHECKPOINT_SQL;
use super::reactions::{self, ReactionCount};
use super::ReadModel;
use crate::database::DbError;

/// Which page of a room's history: at most `limit` messages after `after_seq` or the
/// position `since`, or before `before_seq` (see the api's `getMessages`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryQuery {
    pub limit: i64,
    pub after_seq: Option<i64>,
    pub before_seq: Option<i64>,
    /// A position, not a filter: the page continues after the message stamped exactly
    /// `since`, else after the room's last message stamped before it.
    pub since: Option<OffsetDateTime>,
}

impl HistoryQuery {
    /// Whether the page runs forward from a cursor (else it is the latest `limit`).
    pub fn ascending(&self) -> bool {
        self.after_seq.is_some() || self.since.is_some()
    }
}

/// One message of a history page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryMessage {
    pub message_id: MessageId,
    pub sender: UserId,
    pub body: String,
    pub sent_at: OffsetDateTime,
    pub client_timestamp: Option<OffsetDateTime>,
    pub seq: i64,
    pub edited_at: Option<OffsetDateTime>,
    pub deleted: bool,
    /// The sender's current display name (their username if they never set one), read
    /// in the page's own query rather than once per message.
    pub sender_name: String,
    /// `[{emoji, count, me}]` as the page's viewer sees them (none for a deleted message).
    pub reactions: Vec<ReactionCount>,
}

/// A message found by its sender's `clientMsgId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierSend {
    pub message_id: MessageId,
    pub seq: u64,
    pub sent_at: OffsetDateTime,
}

/// What history says about a `clientMsgId` in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMsgLookup {
    /// The message, if history has it.
    pub found: Option<EarlierSend>,
    /// The room's latest event history has applied (0 for no such room).
    pub applied: u64,
}

impl ReadModel {
    /// A page of `room`'s history as `viewer` sees it, oldest first, and the checkpoint of
    /// `stream` read in the same connection (what the page is complete up to).
    pub async fn history(
        &self,
        room: &RoomId,
        query: HistoryQuery,
        stream: &str,
        viewer: UserId,
    ) -> Result<(Vec<HistoryMessage>, i64), DbError> {
        let ascending = query.ascending();
        let room_key = room.as_str().to_owned();
        let stream = stream.to_owned();
        let HistoryQuery {
            limit,
            after_seq,
            before_seq,
            since,
        } = query;
        let (rows, reacted, checkpoint) = self
            .with_client(|c| async move {
                let sql = format!(
                    "SELECT m.message_id, m.sender_id, m.body, m.sent_at, m.client_timestamp, \
                            m.seq, m.edited_at, m.deleted, \
                            COALESCE(p.display_name, a.username, '') \
                     FROM messages m \
                     LEFT JOIN accounts a ON a.user_id = m.sender_id \
                     LEFT JOIN profiles p ON p.user_id = m.sender_id \
                     WHERE m.room_id = $1 \
                       AND ($2::bigint IS NULL OR m.seq > $2) \
                       AND ($3::bigint IS NULL OR m.seq < $3) \
                       AND ($4::timestamptz IS NULL OR m.seq > COALESCE( \
                             (SELECT min(x.seq) FROM messages x \
                              WHERE x.room_id = $1 AND x.sent_at = $4), \
                             (SELECT min(x.seq) - 1 FROM messages x \
                              WHERE x.room_id = $1 AND x.sent_at > $4), \
                             (SELECT max(x.seq) FROM messages x WHERE x.room_id = $1))) \
                     ORDER BY m.seq {} LIMIT $5",
                    if ascending { "ASC" } else { "DESC" }
                );
                let rows = c
                    .query(&sql, &[&room_key, &after_seq, &before_seq, &since, &limit])
                    .await?;
                // Read before the checkpoint, as the page is: reactions the checkpoint
                // covers are all shown (one may be shown that it does not cover yet).
                let ids: Vec<uuid::Uuid> = rows
                    .iter()
                    .filter(|r| !r.get::<_, bool>(7))
                    .map(|r| r.get(0))
                    .collect();
                let reacted = if ids.is_empty() {
                    Vec::new()
                } else {
                    c.query(reactions::PAGE_SQL, &[&ids, &viewer.0]).await?
                };
                let checkpoint = c
                    .query_one(CHECKPOINT_SQL, &[&stream])
                    .await?
                    .get::<_, Option<i64>>(0)
                    .unwrap_or(0);
                Ok((rows, reacted, checkpoint))
            })
            .await?;
        let mut reacted = reactions::by_message(&reacted);
        let mut messages: Vec<HistoryMessage> = rows
            .iter()
            .map(|r| HistoryMessage {
                message_id: MessageId(r.get(0)),
                sender: UserId(r.get(1)),
                body: r.get(2),
                sent_at: r.get(3),
                client_timestamp: r.get(4),
                seq: r.get(5),
                edited_at: r.get(6),
                deleted: r.get(7),
                sender_name: r.get(8),
                reactions: reacted.remove(&MessageId(r.get(0))).unwrap_or_default(),
            })
            .collect();
        if !ascending {
            messages.reverse();
        }
        Ok((messages, checkpoint))
    }

    /// The sender of `message_id` in `room` and whether it was deleted, if history has it.
    pub async fn message_sender(
        &self,
        room: &RoomId,
        message_id: MessageId,
    ) -> Result<Option<(UserId, bool)>, DbError> {
        let room_key = room.as_str().to_owned();
        self.with_client(|c| async move {
            Ok(c.query_opt(
                "SELECT sender_id, deleted FROM messages WHERE message_id = $1 AND room_id = $2",
                &[&message_id.0, &room_key],
            )
            .await?
            .map(|r| (UserId(r.get(0)), r.get::<_, bool>(1))))
        })
        .await
    }

    /// The message `sender` stored in `room` with `id`, and how far the room is applied.
    pub async fn find_by_client_msg_id(
        &self,
        room: &RoomId,
        sender: UserId,
        id: &ClientMsgId,
    ) -> Result<ClientMsgLookup, DbError> {
        let (room_key, id) = (room.as_str().to_owned(), id.as_str().to_owned());
        let row = self
            .with_client(|c| async move {
                Ok(c.query_opt(
                    "SELECT r.last_seq, m.message_id, m.seq, m.sent_at FROM rooms r \
                     LEFT JOIN messages m ON m.room_id = r.room_id \
                          AND m.sender_id = $2 AND m.client_msg_id = $3 \
                     WHERE r.room_id = $1",
                    &[&room_key, &sender.0, &id],
                )
                .await?)
            })
            .await?;
        let Some(row) = row else {
            return Ok(ClientMsgLookup {
                found: None,
                applied: 0,
            });
        };
        Ok(ClientMsgLookup {
            applied: row.get::<_, i64>(0) as u64,
            found: row
                .get::<_, Option<uuid::Uuid>>(1)
                .map(|message_id| EarlierSend {
                    message_id: MessageId(message_id),
                    seq: row.get::<_, i64>(2) as u64,
                    sent_at: row.get(3),
                }),
        })
    }
}
