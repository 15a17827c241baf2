//! Chat commands, shared by the HTTP api and the WebSocket gateway: check the caller may do
//! it, turn it into an event, store it (PubAck awaited) and, where the caller reads the
//! effect next, wait (bounded) for the projection.
//!
//! Failures carry a stable `code` and a [`Failure`] kind; each transport maps the kind to
//! its own form (an HTTP status, a WebSocket error frame).
//!
//! - [`messages`]: posting (with exact `clientMsgId` retries), editing, deleting.
//! - [`rooms`]: joining and leaving (one event per membership state), membership checks.
//! - [`members`]: adding people to a group room, listing a room's members.
//! - [`create`]: creating group rooms and opening direct rooms.
//! - [`history`]: reading a room's history (a member's read, waiting for `minSeq`).
//! - [`search`]: searching the messages of the caller's rooms.
//! - [`progress`]: what transports may ask of the event log and the projection (health).
//! - [`status`]: status and typing.
//! - [`profiles`]: display names (events on the people stream).
//! - [`reads`]: read positions (events on the reads stream), only ever forward.
//! - [`reactions`]: reactions to messages (one per user and emoji, a cap per message).
//! - [`clock`]: message timestamps, strictly increasing per process.
//!
//! Authorization is decided here, never by a transport: every command checks the caller
//! against the read model itself. The event log and the read model are private fields;
//! transports reach them only through the methods here and the read-only accessors.
//!
//! Exactness rules every command here follows: a command that checks the read model and
//! then publishes derives its `Nats-Msg-Id` from the state it saw, so concurrent identical
//! commands store one event; and nothing is acknowledged that history will drop.

pub mod clock;
mod create;
mod history;
mod members;
mod messages;
mod profiles;
mod progress;
mod reactions;
mod reads;
mod rooms;
mod search;
mod status;

pub use create::OpenedDirect;
pub use history::HistoryPage;
pub use members::MembersAdded;
pub use messages::{PendingPost, PostedMessage};
pub use progress::RoomStreamProgress;
pub use reactions::Reacted;
pub use reads::ReadPosition;
pub use rooms::RoomMember;

use chat_schemas::events::{Envelope, EventBody};
use std::time::Duration;

use crate::database::DbError;
use crate::eventlog::publish::ReadError;
use crate::eventlog::{subjects, EventLog, PublishError, PublishOptions, Published, StreamKind};
use crate::readmodel::ReadModel;
use crate::sessions::Sessions;
use crate::tokens::Tokens;

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

/// How long a command waits for its projection by default (`API_PROJECTION_WAIT_MS`).
pub const PROJECTION_WAIT: Duration = Duration::from_secs(5);

impl Default for CommandLimits {
    fn default() -> Self {
        Self {
            max_message_chars: crate::input::MAX_MESSAGE_CHARS,
            projection_wait: PROJECTION_WAIT,
        }
    }
}

impl CommandLimits {
    /// `API_MAX_MESSAGE_CHARS` and `API_PROJECTION_WAIT_MS`, read by every service that
    /// runs commands (the api and the gateway agree on them).
    pub fn from_env() -> anyhow::Result<Self> {
        let defaults = Self::default();
        Ok(Self {
            max_message_chars: crate::env::var_or(
                "API_MAX_MESSAGE_CHARS",
                defaults.max_message_chars,
            )?,
            projection_wait: crate::env::var_or(
                "API_PROJECTION_WAIT_MS",
                defaults.projection_wait.as_millis() as u64,
            )
            .map(Duration::from_millis)?,
        })
    }
}

#[derive(Clone)]
pub struct Commands {
    log: EventLog,
    read: ReadModel,
    limits: CommandLimits,
}

impl Commands {
    pub fn new(log: EventLog, read: ReadModel, limits: CommandLimits) -> Self {
        Self { log, read, limits }
    }

    /// The read model, for queries (it cannot write: see [`crate::readmodel`]).
    pub fn read_model(&self) -> &ReadModel {
        &self.read
    }

    /// The event log, for what is not a chat command: subscribing and replaying (fan-out),
    /// the gateway's own lifecycle events, and the NATS connection sessions use. Chat
    /// writes (rooms, membership, messages, status) go through the commands here.
    pub fn event_log(&self) -> &EventLog {
        &self.log
    }

    /// The limits these commands apply.
    pub fn limits(&self) -> &CommandLimits {
        &self.limits
    }

    /// Sessions (token checks, logout, bans) over the same database and NATS connection.
    pub fn sessions(&self, tokens: Tokens) -> Sessions {
        Sessions::new(tokens, self.read.clone(), self.log.client().clone())
    }

    /// Stores an event that is no user's command (a gateway's connection lifecycle
    /// events); its subject follows from the envelope.
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
    pub(crate) async fn publish_and_project(
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

    pub(crate) fn check_text(&self, text: &str) -> Result<(), CommandError> {
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
}

pub(crate) fn room_not_found() -> CommandError {
    CommandError::new(Failure::NotFound, "room_not_found", "no such room")
}

fn subject_of(event: &Envelope) -> Result<(String, StreamKind), CommandError> {
    // A profile is about a user too, but lives in its own keyed stream (kept for ever).
    if let (EventBody::ProfileChanged { .. }, Some(user)) = (&event.body, event.user_id) {
        return Ok((subjects::profile(user), StreamKind::People));
    }
    // A read position names a room and a user: it lives in the reads stream, keyed by both.
    if let (EventBody::ReadMoved { .. }, Some(room), Some(user)) =
        (&event.body, &event.room_id, event.user_id)
    {
        return Ok((subjects::read_position(room, user), StreamKind::Reads));
    }
    match (&event.room_id, event.user_id) {
        (Some(room), _) => Ok((subjects::room(room), StreamKind::Rooms)),
        (None, Some(user)) => Ok((subjects::user(user), StreamKind::Users)),
        (None, None) => Err(CommandError::internal("event without a subject")),
    }
}
