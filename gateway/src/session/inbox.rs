//! The user's inbox on this connection: `roomAdded` and `roomRemoved` notices, which need
//! no `join`, kept in order with the rooms' events.
//!
//! The promise is that a `roomAdded` never arrives after that room's first `event` on the
//! connection. Events arrive only for rooms the connection joined (or resumed), so:
//! - a `join` that made the user a member answers `roomAdded` (the room as `GET /rooms`
//!   lists it) before anything of the room is queued, then goes on as any join;
//! - an inbox `roomAdded` for a room the connection already receives is dropped: the
//!   client knows the room (it joined it), and its events may already have been sent.
//!
//! A `roomRemoved` ends the room's live delivery on this connection (fan-out stops on
//! `member.left` anyway; this keeps the session's state the same) and is forwarded.
//! The inbox is registered before `hello` reads the user's rooms, so a notice racing a
//! (re)connect is either in `hello.rooms`, or arrives after it, or both: clients treat
//! `roomAdded` as an upsert.

use chat_schemas::http::RoomSummary;
use chat_schemas::ws::ServerFrame;
use chat_schemas::RoomId;

use super::rooms::Join;
use super::{Action, Io, Session, Waiting};

impl Session {
    /// A notice from the user's inbox (see the module comment).
    pub fn on_inbox(&mut self, frame: ServerFrame) -> Vec<Action> {
        match &frame {
            ServerFrame::RoomAdded { room } => {
                let live = RoomId::parse(&room.room_id).is_ok_and(|id| self.rooms.contains(&id));
                if live {
                    return Vec::new();
                }
                vec![Action::Reply(frame)]
            }
            ServerFrame::RoomRemoved { room_id } => {
                let mut actions = match RoomId::parse(room_id) {
                    Ok(room) => self.stop_live(&room),
                    Err(_) => Vec::new(),
                };
                actions.push(Action::Reply(frame));
                actions
            }
            // Other per-user notices (own read positions from other devices, ...) keep no
            // ordering with a room's events: passed on as they come.
            _ => vec![Action::Reply(frame)],
        }
    }

    /// A `join` that made the user a member: read the room to announce it first.
    pub(super) fn announce_join(&mut self, join: Join) -> Vec<Action> {
        let io = Io::RoomListing(join.room.clone());
        self.wait(Waiting::Announce(join), io)
    }

    /// `roomAdded` (when the room could be read), then the join goes on.
    pub(super) fn announced(&mut self, join: Join, room: Option<RoomSummary>) -> Vec<Action> {
        let mut actions: Vec<Action> = room
            .map(|room| Action::Reply(ServerFrame::RoomAdded { room }))
            .into_iter()
            .collect();
        actions.extend(self.join_stream(join));
        actions
    }
}
