//! Adding people to a group room and listing a room's members, for its members.
//!
//! **Adding** (`POST /rooms/{roomId}/members`) stores one `member.joined {userId}` per
//! person not yet a member, with the adder as `actor`. Each carries the same
//! `Nats-Msg-Id` a join by that person would (see the rooms module), so an add racing the
//! person's own join, or a retried add, stores one event. Everything is checked before
//! anything is stored: the caller is a member, the room is not a direct room, every id is
//! an account; one unknown id refuses the whole call.
//!
//! **Who is told what.** An outsider asking about a direct room is told what they would be
//! told about a room that does not exist (so adding reveals nothing about who talks to
//! whom); a member of a direct room is told it cannot be added to.

use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::{RoomId, UserId};

use super::{CommandError, Commands, Failure};
use crate::eventlog::{PublishOptions, StreamKind};
use crate::readmodel::{Member, RoomAccess};

/// What `POST /rooms/{roomId}/members` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembersAdded {
    /// Those made members by this call.
    pub added: Vec<UserId>,
    /// Sequence of the last event stored, when any was.
    pub seq: Option<u64>,
}

impl Commands {
    /// Adds `users` (distinct, checked at the edge) to the group room `room`.
    pub async fn add_members(
        &self,
        caller: UserId,
        room: &RoomId,
        users: &[UserId],
    ) -> Result<MembersAdded, CommandError> {
        self.require_group_member(room, caller).await?;
        let unknown = self.read.unknown_users(users).await?;
        if !unknown.is_empty() {
            let names: Vec<String> = unknown.iter().map(ToString::to_string).collect();
            return Err(CommandError::new(
                Failure::NotFound,
                "user_not_found",
                format!("no such user: {}", names.join(", ")),
            ));
        }
        let mut added = MembersAdded {
            added: Vec::new(),
            seq: None,
        };
        let mut last = 0;
        for &user in users {
            let (access, basis) = self.read.membership(room, user).await?;
            if access == RoomAccess::Member {
                continue;
            }
            let event = Envelope::room(
                caller,
                room.clone(),
                EventBody::MemberJoined { user_id: user },
            );
            let options = PublishOptions {
                msg_id: Some(format!("join:{room}:{user}:{basis}")),
                expect_new_subject: false,
            };
            let published = self.publish(&event, options).await?;
            last = last.max(published.seq);
            // A duplicate is a join stored by someone else (the person, or a racing add).
            if !published.duplicate {
                added.added.push(user);
                added.seq = Some(published.seq);
            }
        }
        // One wait for the last: the room's events are applied in order.
        if last > 0 {
            self.wait_for_projection(StreamKind::Rooms, last).await?;
        }
        Ok(added)
    }

    /// A page of `room`'s members (by username, after `after`), for a member of it.
    pub async fn list_members(
        &self,
        caller: UserId,
        room: &RoomId,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Member>, CommandError> {
        self.require_member(room, caller).await?;
        Ok(self.read.member_page(room, after, limit).await?)
    }

    /// Succeeds for a member of a group room; a direct room's member is told it is one.
    async fn require_group_member(
        &self,
        room: &RoomId,
        caller: UserId,
    ) -> Result<(), CommandError> {
        self.require_member(room, caller).await?;
        let direct = match self.read.room_of(caller, room).await? {
            Some(listing) => listing.kind == "direct",
            // Left in between: answered as to any non-member.
            None => return Err(not_a_member()),
        };
        if direct {
            return Err(CommandError::new(
                Failure::BadInput,
                "direct_room",
                "a direct conversation has exactly its two people",
            ));
        }
        Ok(())
    }
}

fn not_a_member() -> CommandError {
    CommandError::new(
        Failure::Forbidden,
        "not_a_member",
        "you are not a member of this room",
    )
}
