//! Chat commands, shared by the HTTP api and the WebSocket gateway: check the caller may do
//! it, turn it into an event, store it (PubAck awaited) and, where the caller reads the
//! effect next, wait (bounded) for the projection.
//!
//! Failures carry a stable `code` and a [`Failure`] kind; each transport maps the kind to
//! its own form (an HTTP status, a WebSocket error frame).

use chat_schemas::events::{Envelope, EventBody, Status};
use chat_schemas::{ClientMsgId, MessageId, RoomId, UserId};
use std::time::Duration;
use time::OffsetDateTime;

use crate::database::DbError;
use crate::eventlog::publish::ReadError;
use crate::eventlog::{subjects, EventLog, PublishError, PublishOptions, Published, StreamKind};
use crate::readmodel::{ReadModel, RoomAccess};

/// What kind of failure, for mapping to a transport's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    BadInput,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    Unavailable,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    pub kind: Failure,
    pub code: &'static str,
    pub message: String,
}

impl CommandError {
    pub fn new(kind: Failure, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
        }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            Failure::Internal,
            "internal",
            "something went wrong on our side",
        )
    }
}

impl From<DbError> for CommandError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                Self::new(
                    Failure::Unavailable,
                    "database_unavailable",
                    "the database is unavailable; retry shortly",
                )
            }
            DbError::Other(e) => Self::internal(e),
        }
    }
}

impl From<PublishError> for CommandError {
    fn from(err: PublishError) -> Self {
        match err {
            PublishError::Unavailable(e) => {
                tracing::warn!(error = %e, "event log unavailable");
                Self::new(
                    Failure::Unavailable,
                    "event_log_unavailable",
                    "the event log is unavailable; retry shortly (a retry with the same clientMsgId is safe)",
                )
            }
            PublishError::SubjectNotEmpty => {
                Self::new(Failure::Conflict, "already_exists", "it already exists")
            }
            PublishError::Rejected(e) => Self::internal(e),
        }
    }
}

impl From<ReadError> for CommandError {
    fn from(err: ReadError) -> Self {
        match err {
            ReadError::Unavailable(e) => PublishError::Unavailable(e).into(),
            ReadError::Corrupt(e) => Self::internal(e),
        }
    }
}

/// Limits on command input.
#[derive(Debug, Clone)]
pub struct CommandLimits {
    /// Longest chat message, in characters.
    pub max_message_chars: usize,
    /// How long a command waits for its projection (read-your-writes).
    pub projection_wait: Duration,
}

impl Default for CommandLimits {
    fn default() -> Self {
        Self {
            max_message_chars: 4_000,
            projection_wait: Duration::from_secs(5),
        }
    }
}

/// A stored message, as its sender is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedMessage {
    pub message_id: MessageId,
    pub seq: u64,
    pub timestamp: OffsetDateTime,
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

#[derive(Clone)]
pub struct Commands {
    pub log: EventLog,
    pub read: ReadModel,
    pub limits: CommandLimits,
}

impl Commands {
    pub fn new(log: EventLog, read: ReadModel, limits: CommandLimits) -> Self {
        Self { log, read, limits }
    }

    /// Posts a message. The same `client_msg_id` from the same sender in the same room
    /// yields the original message: inside JetStream's duplicate window via `Nats-Msg-Id`,
    /// later via the read model.
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
        self.require_member(room, caller).await?;
        self.begin_post_as_member(caller, room, text, client_time, client_msg_id)
            .await
    }

    /// [`Self::begin_post`] for a caller already known to be a member of `room` (a
    /// gateway connection subscribed to the room, whose subscription ends when the
    /// membership does): the read model is not asked again for every message.
    pub async fn begin_post_as_member(
        &self,
        caller: UserId,
        room: &RoomId,
        text: &str,
        client_time: Option<OffsetDateTime>,
        client_msg_id: Option<ClientMsgId>,
    ) -> Result<PendingPost, CommandError> {
        self.check_text(text)?;
        if let Some(id) = &client_msg_id {
            if let Some(earlier) = self.find_by_client_msg_id(room, caller, id).await? {
                return Ok(PendingPost::Done(earlier));
            }
        }
        let message_id = MessageId::generate();
        let event = Envelope::room(
            caller,
            room.clone(),
            EventBody::MessagePosted {
                message_id,
                message: text.to_owned(),
                client_timestamp: client_time,
                client_msg_id: client_msg_id.as_ref().map(|c| c.as_str().to_owned()),
            },
        );
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

    /// "Typing in this room": a status event that is not waited for (it lapses by itself).
    pub async fn typing(&self, caller: UserId, room: RoomId) -> Result<Published, CommandError> {
        self.require_member(&room, caller).await?;
        let event = Envelope::user(
            caller,
            caller,
            EventBody::StatusChanged {
                status: Status::Typing,
                room_id: Some(room),
            },
        );
        self.publish(&event, PublishOptions::default()).await
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

    /// Joins a public group room. `None` when the caller was already a member.
    pub async fn join_room(
        &self,
        caller: UserId,
        room: &RoomId,
    ) -> Result<Option<Published>, CommandError> {
        match self.read.room_access(room, caller).await? {
            RoomAccess::NoSuchRoom => Err(room_not_found()),
            RoomAccess::Member => Ok(None),
            RoomAccess::NotMember { visibility, kind }
                if visibility != "public" || kind != "group" =>
            {
                Err(CommandError::new(
                    Failure::Forbidden,
                    "room_private",
                    "this room is private; a member must add you",
                ))
            }
            RoomAccess::NotMember { .. } => self
                .change_membership(caller, room, EventBody::MemberJoined { user_id: caller })
                .await
                .map(Some),
        }
    }

    /// Leaves a group room. `None` when the caller was not a member. A direct room cannot
    /// be left (it is private, so it could never be rejoined).
    pub async fn leave_room(
        &self,
        caller: UserId,
        room: &RoomId,
    ) -> Result<Option<Published>, CommandError> {
        match self.read.room_access(room, caller).await? {
            RoomAccess::NoSuchRoom => Err(room_not_found()),
            RoomAccess::NotMember { .. } => Ok(None),
            RoomAccess::Member if room.is_direct() => Err(CommandError::new(
                Failure::Forbidden,
                "direct_room",
                "a direct-message room cannot be left",
            )),
            RoomAccess::Member => self
                .change_membership(caller, room, EventBody::MemberLeft { user_id: caller })
                .await
                .map(Some),
        }
    }

    /// Stores a membership change and waits for it to be readable (the caller sends or
    /// reads next).
    async fn change_membership(
        &self,
        caller: UserId,
        room: &RoomId,
        body: EventBody,
    ) -> Result<Published, CommandError> {
        let event = Envelope::room(caller, room.clone(), body);
        self.publish_and_project(&event, PublishOptions::default())
            .await
    }

    /// Sets the caller's status; `typing` needs a room the caller is in.
    pub async fn set_status(
        &self,
        caller: UserId,
        status: Status,
        room: Option<RoomId>,
    ) -> Result<Published, CommandError> {
        let room = match (status, room) {
            (Status::Typing, None) => {
                return Err(CommandError::new(
                    Failure::BadInput,
                    "missing_field",
                    "roomId is required with status typing",
                ))
            }
            (Status::Typing, Some(room)) => {
                self.require_member(&room, caller).await?;
                Some(room)
            }
            // A room with another status has no meaning; it is ignored.
            (_, _) => None,
        };
        let event = Envelope::user(
            caller,
            caller,
            EventBody::StatusChanged {
                status,
                room_id: room,
            },
        );
        self.publish_and_project(&event, PublishOptions::default())
            .await
    }

    pub async fn require_member(&self, room: &RoomId, user: UserId) -> Result<(), CommandError> {
        match self.read.room_access(room, user).await? {
            RoomAccess::Member => Ok(()),
            RoomAccess::NoSuchRoom => Err(room_not_found()),
            RoomAccess::NotMember { .. } => Err(CommandError::new(
                Failure::Forbidden,
                "not_a_member",
                "you are not a member of this room",
            )),
        }
    }

    /// Stores a room or user event (its subject follows from the envelope).
    pub async fn publish(
        &self,
        event: &Envelope,
        options: PublishOptions,
    ) -> Result<Published, CommandError> {
        let (subject, _) = subject_of(event)?;
        Ok(self.log.publish(subject, event, options).await?)
    }

    /// Stores the event and waits until the read models show it, so the caller can act on
    /// it at once. If the projector is slower than the bound the command still succeeded.
    pub async fn publish_and_project(
        &self,
        event: &Envelope,
        options: PublishOptions,
    ) -> Result<Published, CommandError> {
        let (subject, kind) = subject_of(event)?;
        let published = self.log.publish(subject, event, options).await?;
        self.wait_for_projection(kind, published.seq).await?;
        Ok(published)
    }

    /// Waits (bounded) until `kind` is projected up to `seq`; answers the sequence reached.
    pub async fn wait_for_projection(
        &self,
        kind: StreamKind,
        seq: u64,
    ) -> Result<u64, CommandError> {
        let stream = self.log.settings().name(kind);
        let reached = self
            .read
            .wait_for_projection(stream, seq, self.limits.projection_wait)
            .await?;
        if reached < seq {
            tracing::warn!(
                stream,
                seq,
                reached,
                "projection slower than the wait bound"
            );
        }
        Ok(reached)
    }

    fn check_text(&self, text: &str) -> Result<(), CommandError> {
        if text.trim().is_empty() {
            return Err(CommandError::new(
                Failure::BadInput,
                "empty_field",
                "message must not be empty",
            ));
        }
        if text.contains('\0') {
            return Err(CommandError::new(
                Failure::BadInput,
                "invalid_field",
                "message must not contain NUL characters",
            ));
        }
        if text.chars().count() > self.limits.max_message_chars {
            return Err(CommandError::new(
                Failure::TooLarge,
                "message_too_large",
                format!(
                    "message must be at most {} characters",
                    self.limits.max_message_chars
                ),
            ));
        }
        Ok(())
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
        let sender = self.message_sender(room, message_id).await?;
        match sender {
            None => Err(CommandError::new(
                Failure::NotFound,
                "message_not_found",
                "no such message in this room",
            )),
            Some((s, _)) if s != caller.0 => Err(CommandError::new(
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

    async fn message_sender(
        &self,
        room: &RoomId,
        message_id: MessageId,
    ) -> Result<Option<(uuid::Uuid, bool)>, CommandError> {
        let room_key = room.as_str().to_owned();
        Ok(self
            .read
            .with_client(|c| async move {
                Ok(c.query_opt(
                    "SELECT sender_id, deleted FROM messages WHERE message_id = $1 AND room_id = $2",
                    &[&message_id.0, &room_key],
                )
                .await?
                .map(|r| (r.get::<_, uuid::Uuid>(0), r.get::<_, bool>(1))))
            })
            .await?)
    }

    async fn find_by_client_msg_id(
        &self,
        room: &RoomId,
        sender: UserId,
        id: &ClientMsgId,
    ) -> Result<Option<PostedMessage>, CommandError> {
        let (room_key, id) = (room.as_str().to_owned(), id.as_str().to_owned());
        let row = self
            .read
            .with_client(|c| async move {
                Ok(c.query_opt(
                    "SELECT message_id, seq, sent_at FROM messages \
                     WHERE room_id = $1 AND sender_id = $2 AND client_msg_id = $3",
                    &[&room_key, &sender.0, &id],
                )
                .await?)
            })
            .await?;
        Ok(row.map(|r| PostedMessage {
            message_id: MessageId(r.get(0)),
            seq: r.get::<_, i64>(1) as u64,
            timestamp: r.get(2),
        }))
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

fn room_not_found() -> CommandError {
    CommandError::new(Failure::NotFound, "room_not_found", "no such room")
}

fn subject_of(event: &Envelope) -> Result<(String, StreamKind), CommandError> {
    match (&event.room_id, event.user_id) {
        (Some(room), _) => Ok((subjects::room(room), StreamKind::Rooms)),
        (None, Some(user)) => Ok((subjects::user(user), StreamKind::Users)),
        (None, None) => Err(CommandError::internal("event without a subject")),
    }
}
