//! Status input: the checked `POST /updateStatus` body.

use chat_schemas::events::Status;
use chat_schemas::http::UpdateStatus;
use chat_schemas::{RoomId, UserId};
use serde_json::Value;

use super::fields::{required_str, room_id, user_id};
use super::InputError;

/// A checked `POST /updateStatus` body. Whether `user` is the caller, and a member of
/// `room`, is decided by the api and the commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub user: UserId,
    pub status: Status,
    pub room: Option<RoomId>,
}

/// The check of a `POST /updateStatus` body.
pub trait UpdateStatusPolicy {
    fn check(&self) -> Result<StatusChange, InputError>;
}

impl UpdateStatusPolicy for UpdateStatus {
    fn check(&self) -> Result<StatusChange, InputError> {
        let user = user_id(&self.user_id, "userId")?;
        let raw = required_str(&self.status, "status")?;
        let status = Status::parse(raw).ok_or_else(|| {
            InputError::new(
                "invalid_status",
                "status must be online, away, offline or typing",
            )
        })?;
        let room = match &self.room_id {
            Value::Null => None,
            value => Some(room_id(value, "roomId")?),
        };
        Ok(StatusChange { user, status, room })
    }
}
