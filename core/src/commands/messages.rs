//! Posting, editing and deleting messages.
//!
//! **Exact retries.** The same `clientMsgId` from the same sender in the same room yields
//! the original message. Inside JetStream's duplicate window (`Nats-Msg-Id`) the stream
//! itself answers with the original sequence; later, history (the read model) does. History
//! can only answer for what the projector has applied: a retry that misses in history
//! while the room has unapplied events older than half the duplicate window could be the
//! repeat of one of them, which JetStream no longer recognises and history would drop as a
//! duplicate (its unique key) after acknowledging a sequence it never shows. So such a send
//! waits (bounded by the projection wait) for the room's projection and asks history again;
//! if the projector is still behind, it answers 503 `projection_lagging` (retry later, with
//! the same `clientMsgId`). Sends without a `clientMsgId`, and sends to rooms whose
//! unapplied events are all recent, never wait.

use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::{ClientMsgId, MessageId, RoomId, UserId};
use time::OffsetDateTime;

use super::{clock, CommandError, Commands, Failure, RoomMember};
use crate::eventlog::publish::ReadError;
use crate::eventlog::{subjects, PublishOptions, Published, StreamKind};
use crate::readmodel::messages::EarlierSend;

/// A stored message, as its sender is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedMessage {
    pub message_id: MessageId,
    pub seq: u64,
    pub timestamp: OffsetDateTime,
}

impl From<EarlierSend> for PostedMessage {
    fn from(earlier: EarlierSend) -> Self {
        Self {
            message_id: earlier.message_id,
            seq: earlier.seq,
            timestamp: earlier.sent_at,
        }
    }
}

/// A message on its way to being stored (see [`Commands::begin_post`]).
pub enum PendingPost {
    /// A repeat of a message already in history.
    Done(PostedMessage),
    /// Enqueued; the future awaits its PubAck.
    Stored(
        std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<PostedMessage, CommandError>> + Send>,
        >,
    ),
}

impl PendingPost {
    pub async fn finish(self) -> Result<PostedMessage, CommandError> {
        match self {
            PendingPost::Done(posted) => Ok(posted),
            PendingPost::Stored(ack) => ack.await,
        }
    }
}

impl Commands {
    /// Posts a message. The same `client_msg_id` from the same sender in the same room
    /// yields the original message (see the module comment).
    pub async fn post_message(
        &self,
        caller: UserId,
        room: &RoomId,
        text: &str,
        client_time: Option<OffsetDateTime>,
        client_msg_id: Option<ClientMsgId>,
    ) -> Result<PostedMessage, CommandError> {
        self.begin_post(caller, room, text, client_time, client_msg_id)
            .await?
            .finish()
            .await
    }

    /// The checks and the enqueueing of [`Self::post_message`]; the returned
    /// [`PendingPost`] awaits the PubAck. Calling this in order and finishing concurrently
    /// pipelines one client's messages while keeping their order.
    pub async fn begin_post(
        &self,
        caller: UserId,
        room: &RoomId,
        text: &str,
        client_time: Option<OffsetDateTime>,
        client_msg_id: Option<ClientMsgId>,
    ) -> Result<PendingPost, CommandError> {
        self.check_text(text)?;
        let member = self.require_member(room, caller).await?;
        self.begin_post_as(&member, text, client_time, client_msg_id)
            .await
    }

    /// [`Self::begin_post`] for a membership this layer already checked: `member` can only
    /// come from [`Self::require_member`], so the read model need not be asked again for every message. Whoever holds it must drop it when the membership
    /// ends (a gateway connection drops it with the room's subscription, on `member.left`).
    pub async fn begin_post_as(
        &self,
        member: &RoomMember,
        text: &str,
        client_time: Option<OffsetDateTime>,
        client_msg_id: Option<ClientMsgId>,
    ) -> Result<PendingPost, CommandError> {
        let (caller, room) = (member.user(), member.room());
        self.check_text(text)?;
        if let Some(id) = &client_msg_id {
            if let Some(earlier) = self.earlier_post(room, caller, id).await? {
                return Ok(PendingPost::Done(earlier));
            }
        }
        let message_id = MessageId::generate();
        let mut event = Envelope::room(
            caller,
            room.clone(),
            EventBody::MessagePosted {
                message_id,
                message: text.to_owned(),
                client_timestamp: client_time,
                client_msg_id: client_msg_id.as_ref().map(|c| c.as_str().to_owned()),
            },
        );
        // Unique per room (see `clock`): what `since` paging relies on.
        event.occurred_at = clock::message_time();
        let options = PublishOptions {
            msg_id: client_msg_id.map(|c| format!("msg:{room}:{caller}:{}", c.as_str())),
            expect_new_subject: false,
        };
        let ack = self
            .log
            .enqueue(subjects::room(room), &event, options)
            .await?;
        let commands = self.clone();
        let timestamp = event.occurred_at;
        Ok(PendingPost::Stored(Box::pin(async move {
            let published = ack.await?;
            if published.duplicate {
                return commands.original_message(published.seq).await;
            }
            Ok(PostedMessage {
                message_id,
                seq: published.seq,
                timestamp,
            })
        })))
    }

    /// The message an earlier send with this `clientMsgId` stored, or `None` when it is
    /// certain that a new one may be stored (see the module comment).
    async fn earlier_post(
        &self,
        room: &RoomId,
        sender: UserId,
        id: &ClientMsgId,
    ) -> Result<Option<PostedMessage>, CommandError> {
        let first = self.read.find_by_client_msg_id(room, sender, id).await?;
        if first.found.is_some() || !self.unapplied_may_be_old(room, first.applied).await? {
            return Ok(first.found.map(PostedMessage::from));
        }
        let latest = self.log.latest_in_room(room).await?;
        self.wait_for_projection(StreamKind::Rooms, latest).await?;
        let again = self.read.find_by_client_msg_id(room, sender, id).await?;
        if again.found.is_none() && again.applied < latest {
            return Err(CommandError::new(
                Failure::Unavailable,
                "projection_lagging",
                "history is behind the event log; retry shortly with the same clientMsgId",
            ));
        }
        Ok(again.found.map(PostedMessage::from))
    }

    /// Whether the room's first event after `applied` (if any) is old enough that
    /// JetStream may no longer recognise a repeat of it: older than half the duplicate
    /// window (the other half absorbs clock differences between processes).
    async fn unapplied_may_be_old(
        &self,
        room: &RoomId,
        applied: u64,
    ) -> Result<bool, CommandError> {
        let stream = self
            .log
            .jetstream()
            .get_stream_no_info(self.log.settings().name(StreamKind::Rooms))
            .await
            .map_err(|e| ReadError::Unavailable(e.to_string()))?;
        let next = match stream
            .direct_get_next_for_subject(subjects::room(room), Some(applied + 1))
            .await
        {
            Ok(next) => next,
            Err(e) if e.kind() == async_nats::jetstream::stream::DirectGetErrorKind::NotFound => {
                return Ok(false)
            }
            Err(e) => return Err(ReadError::Unavailable(e.to_string()).into()),
        };
        let event: Envelope =
            serde_json::from_slice(&next.payload).map_err(|e| ReadError::Corrupt(e.to_string()))?;
        let age = OffsetDateTime::now_utc() - event.occurred_at;
        let safe = self.log.settings().duplicate_window / 2;
        Ok(age >= time::Duration::try_from(safe).unwrap_or(time::Duration::ZERO))
    }

    /// Replaces the text of the caller's own message.
    pub async fn edit_message(
        &self,
        caller: UserId,
        room: &RoomId,
        message_id: MessageId,
        text: &str,
    ) -> Result<Published, CommandError> {
        self.check_text(text)?;
        self.require_member(room, caller).await?;
        self.require_own_message(room, caller, message_id).await?;
        let event = Envelope::room(
            caller,
            room.clone(),
            EventBody::MessageEdited {
                message_id,
                message: text.to_owned(),
            },
        );
        self.publish(&event, PublishOptions::default()).await
    }

    /// Deletes the caller's own message (a tombstone stays in history).
    pub async fn delete_message(
        &self,
        caller: UserId,
        room: &RoomId,
        message_id: MessageId,
    ) -> Result<Published, CommandError> {
        self.require_member(room, caller).await?;
        self.require_own_message(room, caller, message_id).await?;
        let event = Envelope::room(
            caller,
            room.clone(),
            EventBody::MessageDeleted { message_id },
        );
        self.publish(&event, PublishOptions::default()).await
    }

    async fn require_own_message(
        &self,
        room: &RoomId,
        caller: UserId,
        message_id: MessageId,
    ) -> Result<(), CommandError> {
        // The check must see the room as it is now (a delete or the message itself may
        // have been stored a moment ago): wait, bounded, until the read model has the
        // room's latest event. Edits and deletes are rare enough to afford it.
        let latest = self.log.latest_in_room(room).await?;
        self.wait_for_projection(StreamKind::Rooms, latest).await?;
        let sender = self.read.message_sender(room, message_id).await?;
        match sender {
            None => Err(CommandError::new(
                Failure::NotFound,
                "message_not_found",
                "no such message in this room",
            )),
            Some((s, _)) if s != caller => Err(CommandError::new(
                Failure::Forbidden,
                "not_your_message",
                "you can only change your own messages",
            )),
            Some((_, true)) => Err(CommandError::new(
                Failure::Conflict,
                "message_deleted",
                "the message was deleted",
            )),
            Some(_) => Ok(()),
        }
    }

    async fn original_message(&self, seq: u64) -> Result<PostedMessage, CommandError> {
        let original = self.log.read_event(StreamKind::Rooms, seq).await?;
        match original.body {
            EventBody::MessagePosted { message_id, .. } => Ok(PostedMessage {
                message_id,
                seq,
                timestamp: original.occurred_at,
            }),
            _ => Err(CommandError::internal(format!(
                "duplicate ack points at seq {seq}, not a message"
            ))),
        }
    }
}
