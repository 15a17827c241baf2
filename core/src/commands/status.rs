//! Status and typing: events on the user's subject.

use chat_schemas::events::{Envelope, EventBody, Status};
use chat_schemas::{RoomId, UserId};

use super::{CommandError, Commands, Failure};
use crate::eventlog::{PublishOptions, Published};

impl Commands {
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
}
