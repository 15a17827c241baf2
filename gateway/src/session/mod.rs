//! One connection's protocol, without I/O: a state machine that takes decoded client
//! frames and the results of the I/O it asked for, and returns [`Action`]s for
//! [`crate::driver`] to carry out against the real world (commands, fan-out, replay, the
//! outbound queue). Keeping sockets, NATS and Postgres out of it is what lets
//! `session/tests.rs` script a whole conversation in microseconds.
//!
//! A frame is handled to its end before the next is read: when the session needs an I/O
//! result it returns [`Action::Io`] as the last action of a batch and waits in
//! [`Session::on_done`]. Sends are the exception: [`Action::Post`] is pipelined by the
//! driver and its outcome comes back later through [`Session::on_posted`].
//!
//! By concern: [`auth`] (re-authentication, expiry, flood and idle closes), [`dispatch`]
//! (each frame to its command, ids parsed once), [`rooms`]
//! (join, leave, resume and the subscribe-then-replay sequence they share), [`watch`]
//! (presence of watched users and room members), [`inbox`] (`roomAdded`/`roomRemoved`, in
//! order with the rooms' events), [`reads`] (read positions), [`replies`] (the frames it
//! answers with).

mod auth;
mod dispatch;
mod inbox;
mod reads;
mod replies;
mod rooms;
mod watch;

#[cfg(test)]
mod tests;

use chat_core::commands::{CommandError, PostedMessage};
use chat_core::input::reads::ReadSeq;
use chat_core::tokens::Verified;
use chat_schemas::events::Status;
use chat_schemas::http::RoomSummary;
use chat_schemas::ws::{ServerFrame, PROTOCOL_VERSION};
use chat_schemas::{ClientMsgId, MessageId, RoomId, UserId};
use std::collections::HashSet;
use std::time::Duration;
use time::OffsetDateTime;

use crate::frames::{self, Refusal};
use crate::resume::ReplayOutcome;

pub use auth::{ReadFailure, RefusedFrame, SessionCheck};
pub use replies::{error, rate_limited};

/// What the driver does for the session, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A frame to queue for the client.
    Reply(ServerFrame),
    /// Holds back the room's live events until [`Action::EndReplay`] (see
    /// [`crate::outbound`]).
    BeginReplay { room: RoomId, from: u64 },
    /// Queues a replay's `resumed` frame and releases the held-back live events; with
    /// `skip_to`, live events go on only after that sequence.
    EndReplay {
        room: RoomId,
        result: ServerFrame,
        skip_to: Option<u64>,
    },
    /// Stops receiving the room live and forgets its ordering state.
    Unsubscribe(RoomId),
    /// Starts relaying these users' presence changes to this connection.
    WatchPresence(Vec<UserId>),
    /// Keeps the online count of a room too large to list its members.
    CountPresence(RoomId),
    /// Enqueues a `send`; its outcome comes back through [`Session::on_posted`].
    Post {
        id: String,
        room: RoomId,
        message: String,
        client_msg_id: Option<ClientMsgId>,
    },
    /// Closes the connection with this code; the session is over.
    Close { code: u16, reason: &'static str },
    /// I/O whose result the session waits for before anything else: always the last
    /// action of a batch; feed its result to [`Session::on_done`].
    Io(Io),
}

/// I/O the session waits for; each is answered by the [`Done`] of the same name.
#[derive(Debug, Clone, PartialEq)]
pub enum Io {
    MemberRooms,
    VerifyToken(String),
    CheckSession(Verified),
    Command(Command),
    Subscribe(RoomId),
    /// The room's members, or `None` beyond `limit`.
    RoomMembers {
        room: RoomId,
        limit: i64,
    },
    RoomCounts(RoomId),
    /// The room as the user's room list shows it (for `roomAdded`).
    RoomListing(RoomId),
    PresenceOf(Vec<UserId>),
    Replay {
        room: RoomId,
        from: u64,
    },
    Latest(RoomId),
}

/// A write through the command layer, on behalf of the connection's user.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Edit {
        room: RoomId,
        message_id: MessageId,
        text: String,
    },
    Delete {
        room: RoomId,
        message_id: MessageId,
    },
    /// Add or take back a reaction (the emoji is checked by the command layer).
    React {
        room: RoomId,
        message_id: MessageId,
        emoji: String,
        add: bool,
    },
    Typing(RoomId),
    SetStatus(Status),
    Join(RoomId),
    Leave(RoomId),
    /// Not a write: the membership check a `resume` makes per room.
    RequireMember(RoomId),
    /// Move the read position in the room forward (answered without a `seq`).
    Read {
        room: RoomId,
        seq: ReadSeq,
    },
}

/// The result of an [`Io`].
#[derive(Debug)]
pub enum Done {
    MemberRooms(Vec<RoomId>),
    TokenVerified(Result<Verified, String>),
    SessionChecked(SessionCheck),
    /// The stored event's sequence, when the command stored one.
    Command(Result<Option<u64>, CommandError>),
    Subscribed(Result<(), String>),
    /// `None` when the read failed; `Some(None)` when the room has too many members.
    RoomMembers(Option<Option<Vec<UserId>>>),
    /// Members and members online; `None` when the read failed.
    RoomCounts(Option<(i64, i64)>),
    /// `None` when the read failed or the user is not a member (any more).
    RoomListing(Option<RoomSummary>),
    /// Status and last-seen per user (empty when the read failed).
    Presence(Vec<(UserId, String, Option<OffsetDateTime>)>),
    Replayed(Result<ReplayOutcome, String>),
    Latest(Result<u64, String>),
}

/// The settings a session decides with (see [`crate::GatewayConfig`]).
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_rooms: usize,
    pub presence_member_limit: i64,
    /// Rate-limited frames in a row that close the connection.
    pub flood_close_after: u32,
    pub heartbeat: Duration,
    pub idle_timeout: Duration,
}

/// One authenticated connection's protocol state.
pub struct Session {
    user: UserId,
    connection_id: String,
    /// When the connection's token expires (Unix seconds); an `auth` frame renews it.
    expires_at: u64,
    limits: Limits,
    /// Frames refused for the rate limit since the last accepted one.
    refused_in_a_row: u32,
    /// Rooms this connection receives live.
    rooms: HashSet<RoomId>,
    /// Users whose presence this connection receives.
    watching: HashSet<UserId>,
    /// The frame being handled, while it waits for an [`Io`].
    waiting: Option<Waiting>,
}

/// Where a frame's handling stopped to wait for I/O.
enum Waiting {
    Hello,
    Reauth(auth::Reauth),
    Command {
        id: Option<String>,
        then: dispatch::AfterCommand,
    },
    Join(rooms::Join),
    /// A join that made the user a member, reading the room for `roomAdded`.
    Announce(rooms::Join),
    Resume(rooms::Resume),
    Stream(rooms::Stream),
    WatchPresence,
}

impl Session {
    pub fn new(user: UserId, connection_id: String, expires_at: u64, limits: Limits) -> Self {
        Self {
            user,
            connection_id,
            expires_at,
            limits,
            refused_in_a_row: 0,
            rooms: HashSet::new(),
            watching: HashSet::new(),
            waiting: None,
        }
    }

    pub fn user(&self) -> UserId {
        self.user
    }

    /// When the token expires, in Unix seconds.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// Rooms received live and users watched, to release when the connection ends.
    pub fn take_subscriptions(&mut self) -> (HashSet<RoomId>, HashSet<UserId>) {
        (
            std::mem::take(&mut self.rooms),
            std::mem::take(&mut self.watching),
        )
    }

    /// The first thing a connection does: `hello`, with the user's rooms.
    pub fn start(&mut self) -> Vec<Action> {
        self.wait(Waiting::Hello, Io::MemberRooms)
    }

    /// A text frame the rate limit let through.
    pub fn on_text(&mut self, text: &str) -> Vec<Action> {
        self.refused_in_a_row = 0;
        match frames::decode(text) {
            Ok(frame) => self.on_frame(frame),
            Err(Refusal { id, code, message }) => reply(error(id, code, message)),
        }
    }

    /// A binary frame the rate limit let through: the protocol is JSON text.
    pub fn on_binary(&mut self) -> Vec<Action> {
        self.refused_in_a_row = 0;
        reply(error(
            None,
            "binary_not_supported",
            "frames are JSON text; binary frames are ignored",
        ))
    }

    /// A ping or pong the rate limit let through.
    pub fn on_control(&mut self) {
        self.refused_in_a_row = 0;
    }

    /// The result of the [`Io`] the session is waiting for.
    pub fn on_done(&mut self, done: Done) -> Vec<Action> {
        let Some(waiting) = self.waiting.take() else {
            debug_assert!(false, "an I/O result nobody waits for: {done:?}");
            return Vec::new();
        };
        match (waiting, done) {
            (Waiting::Hello, Done::MemberRooms(rooms)) => reply(self.hello(&rooms)),
            (Waiting::Reauth(reauth), done) => self.reauth_done(reauth, done),
            (Waiting::Command { id, then }, Done::Command(result)) => {
                self.command_done(id, then, result)
            }
            (Waiting::Join(join), Done::Command(result)) => self.joined(join, result),
            (Waiting::Announce(join), Done::RoomListing(room)) => self.announced(join, room),
            (Waiting::Resume(resume), Done::Command(result)) => self.member_checked(resume, result),
            (Waiting::Stream(stream), done) => self.stream_step(stream, done),
            (Waiting::WatchPresence, Done::Presence(rows)) => watch::presence_frames(rows),
            (_, done) => {
                debug_assert!(false, "an I/O result out of turn: {done:?}");
                Vec::new()
            }
        }
    }

    /// The outcome of a `send` (see [`Action::Post`]): its `ack` is sent only now, once
    /// the event is stored.
    pub fn on_posted(
        &mut self,
        id: String,
        result: Result<PostedMessage, CommandError>,
    ) -> Vec<Action> {
        reply(replies::posted(id, result))
    }

    fn hello(&self, rooms: &[RoomId]) -> ServerFrame {
        ServerFrame::Hello {
            protocol: PROTOCOL_VERSION,
            user_id: self.user.to_string(),
            connection_id: self.connection_id.clone(),
            heartbeat_ms: millis(self.limits.heartbeat),
            idle_timeout_ms: millis(self.limits.idle_timeout),
            rooms: rooms.iter().map(ToString::to_string).collect(),
        }
    }

    /// Waits in `waiting` for the answer to `io`.
    fn wait(&mut self, waiting: Waiting, io: Io) -> Vec<Action> {
        self.waiting = Some(waiting);
        vec![Action::Io(io)]
    }
}

fn reply(frame: ServerFrame) -> Vec<Action> {
    vec![Action::Reply(frame)]
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
