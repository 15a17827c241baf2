//! What a committed batch tells the gateways live, published (core NATS) after the commit
//! so that nothing is announced that a crash could still undo:
//!
//! - a presence change, on `live.presence.<userId>` (a `presence` frame);
//! - a membership change, on `live.inbox.<userId>`: `roomAdded {room}` with the room as
//!   `GET /rooms` shows it to that user (read back after the commit), or
//!   `roomRemoved {roomId}`. A notice that the read model no longer bears out (the user
//!   left again, or is back, by the time it is read) is not sent: the later change has a
//!   notice of its own. Clients that were not connected learn the same from `hello.rooms`,
//!   so a lost core-NATS message costs nothing a reconnect does not repair.
//!
//! A membership change older than [`MEMBERSHIP_NOTICE_MAX_AGE`] when its batch commits is
//! not announced: that is a rebuild or a long catch-up replaying history, whose memberships
//! every client reads from `hello.rooms` (or `GET /rooms`); announcing each would cost one
//! read per membership ever made.

use chat_core::eventlog::{subjects, EventLog};
use chat_core::readmodel::ReadModel;
use chat_schemas::ws::ServerFrame;
use chat_schemas::{RoomId, UserId};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Membership changes older than this when committed are not announced (see above).
pub const MEMBERSHIP_NOTICE_MAX_AGE: time::Duration = time::Duration::minutes(5);

use crate::presence::PresenceNotice;

/// Something to announce once the batch that caused it has committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Presence(PresenceNotice),
    Membership(MembershipNotice),
}

/// `user` became (`joined`) or stopped being a member of `room`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipNotice {
    pub user: UserId,
    pub room: RoomId,
    pub joined: bool,
    /// When the change happened (the event's `occurredAt`).
    pub at: OffsetDateTime,
}

/// Publishes the notices of a committed batch, in the batch's order (a leave and a rejoin
/// in one batch reach the client as `roomRemoved` then `roomAdded`).
pub async fn announce(log: &EventLog, read: &ReadModel, notices: Vec<Notice>) {
    for notice in notices {
        let (subject, frame) = match notice {
            Notice::Presence(notice) => (
                subjects::presence(notice.user),
                ServerFrame::Presence {
                    user_id: notice.user.to_string(),
                    status: notice.status,
                    last_seen: notice.last_seen.format(&Rfc3339).ok(),
                },
            ),
            Notice::Membership(notice)
                if OffsetDateTime::now_utc() - notice.at > MEMBERSHIP_NOTICE_MAX_AGE =>
            {
                continue
            }
            Notice::Membership(notice) => match membership_frame(read, &notice).await {
                Some(frame) => (subjects::live_inbox(notice.user), frame),
                None => continue,
            },
        };
        if let Ok(payload) = serde_json::to_vec(&frame) {
            let _ = log.client().publish(subject, payload.into()).await;
        }
    }
}

/// The inbox frame for a membership change, if the read model still bears it out.
async fn membership_frame(read: &ReadModel, notice: &MembershipNotice) -> Option<ServerFrame> {
    let listing = match read.room_of(notice.user, &notice.room).await {
        Ok(listing) => listing,
        Err(e) => {
            tracing::warn!(room = %notice.room, error = %e, "inbox notice not sent");
            return None;
        }
    };
    match (notice.joined, listing) {
        (true, Some(listing)) => Some(ServerFrame::RoomAdded {
            room: listing.summary(),
        }),
        (false, None) => Some(ServerFrame::RoomRemoved {
            room_id: notice.room.to_string(),
        }),
        _ => None,
    }
}
