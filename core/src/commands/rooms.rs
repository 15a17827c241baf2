//! Joining and leaving rooms, and the membership check every room command makes.
//!
//! **One event per membership state.** A join or leave checks the read model, then
//! publishes. Two identical commands at once (two tabs, a retry racing the original) both
//! saw the same state, so both would publish. Each therefore carries a `Nats-Msg-Id` made
//! of the action, the room, the user and the sequence of that user's latest membership
//! change in the room as the check saw it (`member_changes`, kept after a leave):
//! concurrent identical commands name the same id and JetStream stores the first only (the
//! others are answered with its sequence), while a join after a leave sees a newer change
//! and is a new event. This holds while the projection is less than JetStream's duplicate
//! window (120 s) behind; beyond that a repeat can be stored again, and applying it changes
//! nothing (the projector's membership effects are idempotent).
//!
//! **Direct rooms are invisible to outsiders.** Whether two people have a direct room is
//! theirs to know: to anyone else, every command about a direct room answers exactly as
//! for a room that does not exist (404 `room_not_found`), joins and leaves included. Group
//! rooms keep the seed API's answers (403 `not_a_member`, 403 `room_private` for joining a
//! private room one was not added to): a group room's id is only ever handed out by
//! someone in it.

use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::{RoomId, UserId};

use super::{room_not_found, CommandError, Commands, Failure};
use crate::eventlog::{PublishOptions, Published};
use crate::readmodel::RoomAccess;

/// Proof that the command layer found `user` a member of `room`: made only by
/// [`Commands::require_member`] and [`Commands::join_room_as_member`], taken by
/// [`Commands::begin_post_as`]. It records a check
/// at one moment; whoever keeps it must drop it when the membership ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMember {
    room: RoomId,
    user: UserId,
}

impl RoomMember {
    pub fn room(&self) -> &RoomId {
        &self.room
    }

    pub fn user(&self) -> UserId {
        self.user
    }
}

impl Commands {
    /// Joins a public group room. `None` when the caller was already a member.
    pub async fn join_room(
        &self,
        caller: UserId,
        room: &RoomId,
    ) -> Result<Option<Published>, CommandError> {
        Ok(self.join_room_as_member(caller, room).await?.1)
    }

    /// [`Self::join_room`], also giving the proof of membership it established, for a
    /// transport that posts to the room next (the gateway keeps it while subscribed).
    pub async fn join_room_as_member(
        &self,
        caller: UserId,
        room: &RoomId,
    ) -> Result<(RoomMember, Option<Published>), CommandError> {
        let member = RoomMember {
            room: room.clone(),
            user: caller,
        };
        let published = match self.read.membership(room, caller).await? {
            (RoomAccess::NoSuchRoom, _) => Err(room_not_found()),
            (RoomAccess::Member, _) => Ok(None),
            (RoomAccess::NotMember { kind, .. }, _) if kind == "direct" => Err(room_not_found()),
            (RoomAccess::NotMember { visibility, kind }, _)
                if visibility != "public" || kind != "group" =>
            {
                Err(CommandError::new(
                    Failure::Forbidden,
                    "room_private",
                    "this room is private; a member must add you",
                ))
            }
            (RoomAccess::NotMember { .. }, basis) => self
                .change_membership(
                    caller,
                    room,
                    EventBody::MemberJoined { user_id: caller },
                    format!("join:{room}:{caller}:{basis}"),
                )
                .await
                .map(Some),
        }?;
        Ok((member, published))
    }

    /// Leaves a group room. `None` when the caller was not a member. A direct room cannot
    /// be left (it is private, so it could never be rejoined).
    pub async fn leave_room(
        &self,
        caller: UserId,
        room: &RoomId,
    ) -> Result<Option<Published>, CommandError> {
        match self.read.membership(room, caller).await? {
            (RoomAccess::NoSuchRoom, _) => Err(room_not_found()),
            (RoomAccess::NotMember { kind, .. }, _) if kind == "direct" => Err(room_not_found()),
            (RoomAccess::NotMember { .. }, _) => Ok(None),
            (RoomAccess::Member, _) if room.is_direct() => Err(CommandError::new(
                Failure::Forbidden,
                "direct_room",
                "a direct-message room cannot be left",
            )),
            (RoomAccess::Member, basis) => self
                .change_membership(
                    caller,
                    room,
                    EventBody::MemberLeft { user_id: caller },
                    format!("leave:{room}:{caller}:{basis}"),
                )
                .await
                .map(Some),
        }
    }

    /// Stores a membership change once per `msg_id` and waits for it to be readable (the
    /// caller sends or reads next).
    async fn change_membership(
        &self,
        caller: UserId,
        room: &RoomId,
        body: EventBody,
        msg_id: String,
    ) -> Result<Published, CommandError> {
        let event = Envelope::room(caller, room.clone(), body);
        let options = PublishOptions {
            msg_id: Some(msg_id),
            expect_new_subject: false,
        };
        self.publish_and_project(&event, options).await
    }

    /// Succeeds for a member of `room`; see the module comment for what others are told.
    pub async fn require_member(
        &self,
        room: &RoomId,
        user: UserId,
    ) -> Result<RoomMember, CommandError> {
        match self.read.room_access(room, user).await? {
            RoomAccess::Member => Ok(RoomMember {
                room: room.clone(),
                user,
            }),
            RoomAccess::NoSuchRoom => Err(room_not_found()),
            RoomAccess::NotMember { kind, .. } if kind == "direct" => Err(room_not_found()),
            RoomAccess::NotMember { .. } => Err(CommandError::new(
                Failure::Forbidden,
                "not_a_member",
                "you are not a member of this room",
            )),
        }
    }
}
