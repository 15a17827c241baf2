//! Message input: the checked `POST /sendMessage` body, and the length limit every
//! transport applies to message text (the command layer enforces it, see
//! `crate::commands`).

use chat_schemas::http::SendMessage;
use chat_schemas::{ClientMsgId, RoomId, UserId};
use time::OffsetDateTime;

use super::fields::{client_msg_id, required_str, room_id, user_id};
use super::times::timestamp;
use super::InputError;

/// Longest chat message by default, in characters (`API_MAX_MESSAGE_CHARS` overrides it):
/// written once here, read by every service's configuration.
pub const MAX_MESSAGE_CHARS: usize = 4_000;

/// A checked `POST /sendMessage` body. Whether `sender` is the caller, the caller a
/// member, and the text within the length limit is decided by the api and the commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage<'a> {
    pub room: RoomId,
    /// Not blank, no NUL.
    pub message: &'a str,
    pub sender: UserId,
    /// The sender's clock, [storable](super::storable_time).
    pub client_time: OffsetDateTime,
    pub client_msg_id: Option<ClientMsgId>,
}

/// The check of a `POST /sendMessage` body.
pub trait SendMessagePolicy {
    fn check(&self) -> Result<NewMessage<'_>, InputError>;
}

impl SendMessagePolicy for SendMessage {
    fn check(&self) -> Result<NewMessage<'_>, InputError> {
        Ok(NewMessage {
            room: room_id(&self.room_id, "roomId")?,
            message: required_str(&self.message, "message")?,
            sender: user_id(&self.sender_id, "senderId")?,
            client_time: timestamp(&self.timestamp, "timestamp")?,
            client_msg_id: client_msg_id(&self.client_msg_id)?,
        })
    }
}
