//! Creating rooms: a group room with its first members, and the one direct room of two
//! users. Creation is the room subject's first event (`expect_new_subject`), so a room is
//! created once however many calls race; each waits for its projection so the caller can
//! use the room at once.
//!
//! A direct room's id is keyed with the server secret (see [`crate::directs`]), so only
//! its two users learn it; to anyone else every answer about it is the answer about a room
//! that does not exist (see the rooms module).

use chat_schemas::events::{Envelope, EventBody, RoomKind, Visibility};
use chat_schemas::{RoomId, UserId};
use std::time::{Duration, Instant};

use super::{CommandError, Commands, Failure};
use crate::directs::DirectRoomIds;
use crate::eventlog::{PublishOptions, Published};
use crate::input::NewRoom;
use crate::readmodel::RoomAccess;

/// The direct room of two users, as `POST /dms` answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedDirect {
    pub room: RoomId,
    /// The creation's sequence when this call created the room; `None` when it existed.
    pub created: Option<u64>,
}

impl Commands {
    /// Creates a group room with `caller` and the room's first members (who must exist).
    pub async fn create_room(
        &self,
        caller: UserId,
        room: NewRoom,
    ) -> Result<(RoomId, Published), CommandError> {
        let NewRoom {
            name,
            visibility,
            members,
        } = room;
        self.require_users_exist(&members).await?;
        let room = RoomId::generate();
        let event = Envelope::room(
            caller,
            room.clone(),
            EventBody::RoomCreated {
                name,
                visibility,
                kind: RoomKind::Group,
                members,
            },
        );
        let published = self
            .publish_and_project(&event, creation_options(&room))
            .await?;
        Ok((room, published))
    }

    /// The one direct room of `caller` and `other`, created by this call if there was none
    /// (also when two calls race: the stream admits one creation).
    pub async fn open_direct(
        &self,
        caller: UserId,
        other: UserId,
        ids: &DirectRoomIds,
    ) -> Result<OpenedDirect, CommandError> {
        self.require_users_exist(&[other]).await?;
        // The pair's room, whatever its id (made before ids were keyed, or under an earlier
        // secret); else the keyed id, the same for both users, so a race admits one creation.
        let room = match self.read.direct_room(caller, other).await? {
            Some(room) => room,
            None => ids.room(caller, other),
        };
        let existing = OpenedDirect {
            room: room.clone(),
            created: None,
        };
        if self.read.room_access(&room, caller).await? != RoomAccess::NoSuchRoom {
            return Ok(existing);
        }
        let event = Envelope::room(
            caller,
            room.clone(),
            EventBody::RoomCreated {
                name: String::new(),
                visibility: Visibility::Private,
                kind: RoomKind::Direct,
                members: vec![other],
            },
        );
        match self
            .publish_and_project(&event, creation_options(&room))
            .await
        {
            Ok(p) if !p.duplicate => Ok(OpenedDirect {
                room,
                created: Some(p.seq),
            }),
            Ok(_)
            | Err(CommandError {
                code: "already_exists",
                ..
            }) => {
                self.wait_until_room_exists(&room, caller).await?;
                Ok(existing)
            }
            Err(e) => Err(e),
        }
    }

    async fn require_users_exist(&self, users: &[UserId]) -> Result<(), CommandError> {
        if self.read.users_exist(users).await? {
            Ok(())
        } else {
            Err(CommandError::new(
                Failure::NotFound,
                "user_not_found",
                "one or more users do not exist",
            ))
        }
    }

    /// Waits (bounded) until a room another call created is readable.
    async fn wait_until_room_exists(
        &self,
        room: &RoomId,
        caller: UserId,
    ) -> Result<(), CommandError> {
        let deadline = Instant::now() + self.limits.projection_wait;
        while self.read.room_access(room, caller).await? == RoomAccess::NoSuchRoom {
            if Instant::now() >= deadline {
                return Err(CommandError::new(
                    Failure::Unavailable,
                    "projection_behind",
                    "the room exists but is not readable yet; retry shortly",
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }
}

/// A creation is stored once per room id.
fn creation_options(room: &RoomId) -> PublishOptions {
    PublishOptions {
        msg_id: Some(format!("create:{room}")),
        expect_new_subject: true,
    }
}
