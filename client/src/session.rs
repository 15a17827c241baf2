//! The protocol state machine, free of I/O: user intents and server frames go in, output
//! lines and frames to send come out as [`Action`]s. This is where reconnects resume,
//! requests are repeated, and events are deduplicated (see [`crate::rooms`]). Lines that
//! name people wait here until their names are known (`session/named.rs`).

use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::ws::{ClientFrame, RoomPosition, ServerFrame};
use chat_schemas::RoomId;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Instant;

use crate::display::{self, PersonLine};
use crate::names::Names;
use crate::reads::Reads;
use crate::requests::Outstanding;
use crate::room_names::RoomNames;
use crate::rooms::{RoomTracker, Verdict};

mod frames;
mod named;

/// Something the driver must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A line on stdout.
    Print(String),
    /// A line on stderr.
    Note(String),
    /// An acknowledgement (`ok send …`): for scripts; a person at a terminal sees their
    /// message come back instead (shown on stderr only in plain mode or with `--verbose`).
    Ack(String),
    /// A room was joined for the first time in this session: show its latest messages, up
    /// to and including `up_to` (what came after arrives live).
    ShowRecent { room: RoomId, up_to: u64 },
    /// A frame for the server. While disconnected it may be dropped: whatever must reach
    /// the server is outstanding and is sent again after the reconnect.
    Send(ClientFrame),
    /// Look these people up (`GET /users?ids=`, in batches) and hand the answer to
    /// [`Session::people_found`]: lines naming them wait until then.
    LookUp(Vec<String>),
}

#[derive(Debug, Default)]
pub struct Session {
    rooms: RoomTracker,
    outstanding: Outstanding,
    /// Where plain lines go.
    current: Option<RoomId>,
    /// Last status printed per user, so a reconnect does not repeat unchanged presence.
    presence: HashMap<String, String>,
    /// Last `(members, online)` printed per large room.
    room_presence: HashMap<String, (i64, i64)>,
    /// How many `hello`s this session has had.
    connections: u32,
    /// Our own user id, from `hello`.
    me: Option<String>,
    /// Acknowledged sends whose event has not been printed yet, as `(roomId, seq)`: at
    /// end of input the client waits for them too, so a piped message also shows.
    echoes: BTreeSet<(String, u64)>,
    /// Rooms whose recent history was shown on their first join.
    shown_recent: HashSet<String>,
    /// The names of the people met so far.
    names: Names,
    /// Lines waiting for a name, in order (a line never overtakes an earlier one).
    waiting: VecDeque<PersonLine>,
    /// Ids being looked up, so each is asked for once.
    asking: HashSet<String>,
    /// Names of the rooms this session knows (joined by name, created, listed, added to).
    room_names: RoomNames,
    /// How far the person has seen each room, for `read` frames (debounced).
    reads: Reads,
    /// Ids of `read` frames sent: not repeated after a reconnect (the next message or
    /// switch marks the room again), but an error for one is said as such.
    read_ids: HashSet<String>,
}

impl Session {
    pub fn current_room(&self) -> Option<&RoomId> {
        self.current.as_ref()
    }

    /// The latest `seq` this client knows of in `room` (printed, joined at, or acknowledged
    /// for its own send): history asked for later should reach at least this far.
    pub fn known_seq(&self, room: &RoomId) -> Option<u64> {
        let acked = self
            .echoes
            .iter()
            .filter(|(r, _)| r == room.as_str())
            .map(|(_, seq)| *seq)
            .max();
        self.rooms.position(room.as_str()).max(acked)
    }

    /// Requests still waiting for an answer, and own messages not yet seen live.
    pub fn awaiting(&self) -> usize {
        let echoes = self
            .echoes
            .iter()
            .filter(|(room, seq)| self.rooms.position(room) < Some(*seq))
            .count();
        self.outstanding.len() + echoes
    }

    /// Joins a room (live from now on) and makes it current.
    pub fn join(&mut self, room: RoomId) -> Vec<Action> {
        self.rooms.want(room.as_str());
        let frame = ClientFrame::Join {
            id: self.outstanding.next_id(),
            room_id: room.to_string(),
            last_seq: self.rooms.position(room.as_str()),
        };
        self.current = Some(room);
        self.request(frame)
    }

    pub fn leave(&mut self, room: RoomId) -> Vec<Action> {
        let frame = ClientFrame::Leave {
            id: self.outstanding.next_id(),
            room_id: room.to_string(),
        };
        self.request(frame)
    }

    pub fn switch(&mut self, room: RoomId) -> Vec<Action> {
        let mut actions = vec![Action::Note(format!(
            "* current room {}",
            self.room_label(room.as_str())
        ))];
        if !self.rooms.is_wanted(room.as_str()) {
            // One of your rooms that is not live here yet (a new session receives only the
            // rooms it joins): join it, which shows its recent messages and marks it read.
            actions.extend(self.join(room));
            return actions;
        }
        self.current = Some(room);
        self.seen_current();
        actions
    }

    /// `/switch <name or roomId>`: a room this session knows by name, else an id.
    pub fn switch_to(&mut self, target: &str) -> Vec<Action> {
        match self.named_room(target) {
            Ok(room) => self.switch(room),
            Err(note) => vec![note],
        }
    }

    /// `/leave [name or roomId]`: the named room, or the current one.
    pub fn leave_named(&mut self, target: Option<&str>) -> Vec<Action> {
        let room = match target {
            Some(target) => self.named_room(target),
            None => self
                .current
                .clone()
                .ok_or_else(|| Action::Note("error: no current room: /leave <room name>".into())),
        };
        match room {
            Ok(room) => self.leave(room),
            Err(note) => vec![note],
        }
    }

    /// A room by the name this session knows it by (or the start of one), else by id. A
    /// word that is neither is refused here: it would otherwise become a room that does
    /// not exist, and lines typed next would go nowhere.
    fn named_room(&self, target: &str) -> Result<RoomId, Action> {
        let by_name = self.room_names.find(target);
        let raw = match &by_name {
            Some(id) => id.as_str(),
            None if crate::room_names::looks_like_an_id(target) => target,
            None => {
                return Err(Action::Note(format!(
                    "error: no room called {target:?} here; /rooms lists yours"
                )))
            }
        };
        RoomId::parse(raw)
            .map_err(|e| Action::Note(format!("error: room id {raw:?} {e}; /rooms lists yours")))
    }

    /// A message to the current room, with a fresh `clientMsgId` that every retry keeps.
    pub fn send_message(&mut self, text: String) -> Vec<Action> {
        let Some(room) = &self.current else {
            return vec![Action::Note(
                "error: no current room: /join, /create or /switch first".into(),
            )];
        };
        let frame = ClientFrame::Send {
            id: self.outstanding.next_id(),
            room_id: room.to_string(),
            message: text,
            client_msg_id: Some(uuid::Uuid::new_v4().simple().to_string()),
        };
        self.request(frame)
    }

    /// "Typing in the current room": fire and forget (it lapses by itself), so neither
    /// tracked nor repeated after a reconnect. Nothing without a joined current room.
    pub fn typing(&self) -> Vec<Action> {
        match &self.current {
            Some(room) if self.rooms.is_wanted(room.as_str()) => {
                vec![Action::Send(ClientFrame::Typing {
                    id: None,
                    room_id: room.to_string(),
                })]
            }
            _ => Vec::new(),
        }
    }

    pub fn set_status(&mut self, status: String) -> Vec<Action> {
        let frame = ClientFrame::Status {
            id: self.outstanding.next_id(),
            status,
        };
        self.request(frame)
    }

    /// The current room, if it is live here, has been seen up to its position.
    fn seen_current(&mut self) {
        let Some(room) = &self.current else { return };
        if let Some(seq) = self.rooms.position(room.as_str()).filter(|s| *s > 0) {
            self.reads.seen(room.as_str(), seq);
        }
    }

    /// `read` frames due at `now` (at most one a second per room).
    pub fn reads_due(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        for (room_id, seq) in self.reads.take(now) {
            let id = self.outstanding.next_id();
            self.read_ids.insert(id.clone());
            actions.push(Action::Send(ClientFrame::Read {
                id,
                room_id,
                seq: Some(seq.into()),
            }));
        }
        actions
    }

    /// When [`Session::reads_due`] will next have a frame to send.
    pub fn next_read_at(&self) -> Option<Instant> {
        self.reads.next_due()
    }

    /// The connection dropped.
    pub fn disconnected(&mut self) {
        self.rooms.connection_lost();
        self.outstanding.lapse_resumes();
    }

    fn resume(&mut self, room: String, from: u64) -> Vec<Action> {
        self.rooms.resume_started(&room);
        let frame = ClientFrame::Resume {
            id: self.outstanding.next_id(),
            rooms: vec![RoomPosition {
                room_id: room,
                last_seq: from,
            }],
        };
        self.request(frame)
    }

    fn request(&mut self, frame: ClientFrame) -> Vec<Action> {
        self.outstanding.insert(frame.clone());
        vec![Action::Send(frame)]
    }
}

#[cfg(test)]
mod tests;
