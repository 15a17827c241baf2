//! The frames a session answers with, and the parsing of ids inside client frames, so the
//! state machine reads as protocol and not as frame construction.

use chat_core::commands::{CommandError, Failure, PostedMessage};
use chat_schemas::ws::ServerFrame;
use chat_schemas::{MessageId, RoomId};
use std::time::Duration;
use time::format_description::well_known::Rfc3339;

/// The error code for a `join` or `resume` beyond `max_rooms_per_connection`.
pub(super) const TOO_MANY_ROOMS: &str = "too_many_rooms";

/// An `error` frame.
pub fn error(id: Option<String>, code: &str, message: impl Into<String>) -> ServerFrame {
    ServerFrame::Error {
        id,
        code: code.to_owned(),
        message: message.into(),
        retry_after_ms: None,
    }
}

/// The `error` frame for a refused command.
pub fn command_error(id: Option<String>, error: CommandError) -> ServerFrame {
    self::error(id, error.code, error.message)
}

/// A `rate_limited` error telling the client how long to wait.
pub fn rate_limited(id: Option<String>, wait: Duration) -> ServerFrame {
    ServerFrame::Error {
        id,
        code: "rate_limited".to_owned(),
        message: "too many frames; wait before sending again".to_owned(),
        retry_after_ms: Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1)),
    }
}

/// An `ack` that carries nothing but the frame's `id`.
pub fn ack(id: String) -> ServerFrame {
    ack_seq(id, None)
}

/// An `ack` carrying the sequence of the event a command stored, if it stored one.
pub fn ack_seq(id: String, seq: Option<u64>) -> ServerFrame {
    ServerFrame::Ack {
        id,
        seq,
        message_id: None,
        timestamp: None,
    }
}

/// The answer to a `send` once its outcome is known.
pub fn posted(id: String, result: Result<PostedMessage, CommandError>) -> ServerFrame {
    match result {
        Ok(posted) => ServerFrame::Ack {
            id,
            seq: Some(posted.seq),
            message_id: Some(posted.message_id.to_string()),
            timestamp: posted.timestamp.format(&Rfc3339).ok(),
        },
        Err(e) => command_error(Some(id), e),
    }
}

pub(super) fn bad_input(code: &'static str, message: &str) -> CommandError {
    CommandError::new(Failure::BadInput, code, message)
}

pub(super) fn parse_room(raw: &str) -> Result<RoomId, CommandError> {
    RoomId::parse(raw).map_err(|e| bad_input("invalid_room_id", &format!("roomId {e}")))
}

/// The room and message an `edit` or `delete` is about.
pub(super) fn parse_target(
    room_id: &str,
    message_id: &str,
) -> Result<(RoomId, MessageId), CommandError> {
    Ok((parse_room(room_id)?, parse_message_id(message_id)?))
}

fn parse_message_id(raw: &str) -> Result<MessageId, CommandError> {
    uuid::Uuid::parse_str(raw)
        .map(MessageId)
        .map_err(|_| bad_input("invalid_message_id", "messageId must be a UUID"))
}
