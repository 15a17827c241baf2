//! The WebSocket protocol, version 1, at `/ws`.
//!
//! Every frame is a JSON text frame with a `type`. Client frames that expect an answer
//! carry an `id` (1–64 characters) that the answer echoes. JSON Schema files generated
//! from these types are committed under `schemas/json/` (a test keeps them current).
//!
//! A session: the server sends `hello` (after a token at the handshake, or after an `auth`
//! frame); the client subscribes to rooms with `join` (or, after a reconnect, `resume` with
//! its last `seq` per room, which replays what it missed first); `event` frames then
//! arrive live, each with `seq` and `prevSeq` so that a gap shows.
//!
//! Close codes the server uses are in [`close`]; turning a text frame into a
//! [`ClientFrame`] (or the error a client gets) is [`decode`].

use crate::events::Envelope;
use crate::http::RoomSummary;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub mod decode;

/// The protocol version announced in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;

/// A room and the last sequence the client has seen in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoomPosition {
    pub room_id: String,
    /// The `seq` of the last event of this room the client received.
    pub last_seq: u64,
}

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ClientFrame {
    /// Authenticate in-band, when the handshake carried no token (then it must be the first
    /// frame); later, a fresh token of the same user extends the connection past the old
    /// token's expiry (answered by `ack`).
    Auth {
        id: Option<String>,
        token: String,
    },
    /// Become a member of a public room (if not one already) and receive its events live.
    /// With `lastSeq`, the missed events are replayed first (as with `resume`).
    Join {
        id: String,
        room_id: String,
        #[serde(default)]
        last_seq: Option<u64>,
    },
    /// Leave the room (membership ends) and stop receiving its events.
    Leave {
        id: String,
        room_id: String,
    },
    /// Post a message; answered by `ack` with the stream `seq` once stored.
    Send {
        id: String,
        room_id: String,
        message: String,
        /// Idempotency key: the same key again (also after a reconnect) yields the same
        /// message and `seq`.
        #[serde(default)]
        client_msg_id: Option<String>,
    },
    /// Replace the text of one of your messages.
    Edit {
        id: String,
        room_id: String,
        message_id: String,
        message: String,
    },
    /// Delete one of your messages (it stays in history as `deleted`).
    Delete {
        id: String,
        room_id: String,
        message_id: String,
    },
    /// Add (`add: true`) or take back (`add: false`) your reaction `emoji` (one emoji, or a
    /// `:name:` of 1-32 `[a-z0-9_+-]`) to a message. Answered by `ack` with the `seq` of the
    /// stored `reaction.added` / `reaction.removed` event, which members get as an `event`;
    /// `seq` is absent when nothing changed (you already had it, or did not).
    React {
        id: String,
        room_id: String,
        message_id: String,
        emoji: String,
        add: bool,
    },
    /// "I am typing in this room"; lapses after a few seconds unless repeated.
    Typing {
        #[serde(default)]
        id: Option<String>,
        room_id: String,
    },
    /// Set your status: `online`, `away` or `offline`.
    Status {
        id: String,
        status: String,
    },
    /// After a reconnect: replay what was missed in each room since `lastSeq`, then go live.
    Resume {
        id: String,
        rooms: Vec<RoomPosition>,
    },
    /// Receive the presence of these users (besides the members of joined rooms); the
    /// answer is an `ack` followed by one `presence` frame per user with their status now.
    Watch {
        id: String,
        user_ids: Vec<String>,
    },
    /// Move your read position in a room forward to `seq` (the `seq` of one of its events);
    /// never back. Answered by `ack` (also when the position already was at or past it);
    /// your connections then get `readPosition`, the room's other members `receipt`.
    Read {
        id: String,
        room_id: String,
        /// The `seq` of an event of this room (a positive integer). A missing or wrong one
        /// is answered with `invalid_seq`, as by the HTTP route.
        // Loose in Rust so that the input policy, not the frame decoder, judges it.
        #[schemars(with = "u64", required, range(min = 1))]
        seq: Option<serde_json::Value>,
    },
    Ping {
        id: String,
    },
}

impl ClientFrame {
    /// The request id the frame carries (optional for `auth` and `typing`).
    pub fn id(&self) -> Option<&str> {
        match self {
            ClientFrame::Auth { id, .. } | ClientFrame::Typing { id, .. } => id.as_deref(),
            ClientFrame::Join { id, .. }
            | ClientFrame::Leave { id, .. }
            | ClientFrame::Send { id, .. }
            | ClientFrame::Edit { id, .. }
            | ClientFrame::Delete { id, .. }
            | ClientFrame::React { id, .. }
            | ClientFrame::Status { id, .. }
            | ClientFrame::Resume { id, .. }
            | ClientFrame::Watch { id, .. }
            | ClientFrame::Read { id, .. }
            | ClientFrame::Ping { id } => Some(id),
        }
    }
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ServerFrame {
    /// First frame after authentication.
    Hello {
        protocol: u32,
        user_id: String,
        connection_id: String,
        /// The server pings this often; a client that answers nothing for
        /// `idleTimeoutMs` is disconnected.
        heartbeat_ms: u64,
        idle_timeout_ms: u64,
        /// The rooms the user is a member of. None is live yet: send `join` (or `resume`
        /// after a reconnect) for each room this connection should receive. Later changes
        /// arrive as `roomAdded` and `roomRemoved`.
        rooms: Vec<String>,
    },
    /// A command was stored (for `send`, `edit`, `delete`, `status`, `leave`).
    Ack {
        id: String,
        /// Stream sequence of the stored event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
        /// Server receive time (RFC 3339), authoritative for order.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timestamp: Option<String>,
    },
    /// Answer to `join`: the room's events now arrive live.
    Joined {
        id: String,
        room_id: String,
        /// The room's latest `seq` when the subscription started.
        last_seq: u64,
    },
    /// A room event. `prevSeq` is the `seq` of the room's previous event: if it is not the
    /// last `seq` you saw in this room, you missed something; send `resume`.
    Event {
        room_id: String,
        seq: u64,
        prev_seq: u64,
        event: Envelope,
    },
    /// Outcome of resuming one room. With `recovered: false` the gap could not be
    /// replayed (older than the stream keeps, or longer than the replay bound): reload
    /// the room's history from `GET /getMessages`; live events continue.
    Resumed {
        id: String,
        room_id: String,
        recovered: bool,
        /// How many events were replayed.
        replayed: u64,
        /// The room's latest `seq` after the replay.
        last_seq: u64,
    },
    /// A user's presence changed (or, after `join`/`watch`, is as stated now). Sent for the
    /// members of joined rooms up to a bound (see the README) and for watched users.
    Presence {
        user_id: String,
        /// `online`, `away` or `offline`.
        status: String,
        last_seen: Option<String>,
    },
    /// Presence in a room too large for per-member `presence` frames (over the bound in the
    /// README): sent on `join` and then every few seconds while joined.
    RoomPresence {
        room_id: String,
        members: i64,
        online: i64,
    },
    /// Someone in a joined room is typing; show it for `expiresInMs` unless repeated, and
    /// stop showing it when their next message arrives.
    Typing {
        room_id: String,
        user_id: String,
        expires_in_ms: u64,
    },
    /// The user became a member of a room (by any path: a DM opened with them, someone
    /// added them, they joined on another connection). `room` is the room as `GET /rooms`
    /// lists it. It needs no `join` and arrives before the room's first `event` on this
    /// connection; it may repeat for a room the client already knows (after a reconnect,
    /// for a room also in `hello.rooms`): treat it as an upsert.
    RoomAdded {
        room: RoomSummary,
    },
    /// The user is no longer a member of the room; this connection stops receiving it.
    RoomRemoved {
        room_id: String,
    },
    /// A user's display name changed: sent to the connections that receive that user's
    /// `presence` (members of joined rooms within the bound, watchers) and to the user's own.
    Profile {
        user_id: String,
        display_name: String,
    },
    /// Your read position in a room moved (on this device or another): every connection of
    /// the reader gets it, the one that sent `read` included. Idempotent: a position at or
    /// below the one shown already changes nothing.
    ReadPosition {
        room_id: String,
        last_read_seq: u64,
    },
    /// Another member of a joined room has read it up to `seq` ("seen by"). At most one
    /// per second per room and reader (the latest position within the second), and only
    /// in rooms small enough for per-member presence (see the README).
    Receipt {
        room_id: String,
        user_id: String,
        seq: u64,
    },
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        code: String,
        message: String,
        /// With `rate_limited`: how long to wait before sending again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    Pong {
        id: String,
    },
}

/// WebSocket close codes used by the server.
pub mod close {
    /// The server is shutting down or restarting: reconnect (to any gateway) and resume.
    pub const SERVICE_RESTART: u16 = 1012;
    /// A frame larger than the limit.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// A text frame that is not valid UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// No valid authentication: a frame before `auth`, a bad token, or no `auth` in time.
    pub const UNAUTHENTICATED: u16 = 4001;
    /// Nothing heard from the client (not even a pong) within the idle timeout.
    pub const IDLE_TIMEOUT: u16 = 4002;
    /// The connection's token expired and no fresh one came in an `auth` frame.
    pub const TOKEN_EXPIRED: u16 = 4003;
    /// The user's session ended: they logged out (everywhere) or were banned. Do not
    /// reconnect with the same token; log in again.
    pub const SESSION_REVOKED: u16 = 4004;
    /// The user already has as many connections to this gateway as allowed (in-band `auth`;
    /// with a token at the handshake the answer is 429 before the upgrade).
    pub const TOO_MANY_CONNECTIONS: u16 = 4005;
    /// The client kept sending faster than its rate limit after being told to slow down.
    pub const TOO_MANY_REQUESTS: u16 = 4029;
    /// The client did not read fast enough: its outbound queue reached its bound.
    pub const SLOW_CONSUMER: u16 = 4008;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_use_camel_case_type_and_fields() {
        let raw = r#"{"type":"send","id":"1","roomId":"r","message":"hi","clientMsgId":"c"}"#;
        let frame: ClientFrame = serde_json::from_str(raw).unwrap();
        assert_eq!(
            frame,
            ClientFrame::Send {
                id: "1".into(),
                room_id: "r".into(),
                message: "hi".into(),
                client_msg_id: Some("c".into())
            }
        );
        let resume = r#"{"type":"resume","id":"2","rooms":[{"roomId":"r","lastSeq":7}]}"#;
        assert!(matches!(
            serde_json::from_str(resume).unwrap(),
            ClientFrame::Resume { .. }
        ));
    }

    #[test]
    fn server_frames_serialise_with_their_type() {
        let json = serde_json::to_value(ServerFrame::Pong { id: "9".into() }).unwrap();
        assert_eq!(json, serde_json::json!({"type": "pong", "id": "9"}));
    }

    #[test]
    fn inbox_and_profile_frames_have_their_fixed_shapes() {
        let removed = ServerFrame::RoomRemoved {
            room_id: "r".into(),
        };
        assert_eq!(
            serde_json::to_value(removed).unwrap(),
            serde_json::json!({"type": "roomRemoved", "roomId": "r"})
        );
        let profile = ServerFrame::Profile {
            user_id: "u".into(),
            display_name: "Ann".into(),
        };
        assert_eq!(
            serde_json::to_value(profile).unwrap(),
            serde_json::json!({"type": "profile", "userId": "u", "displayName": "Ann"})
        );
        let added = ServerFrame::RoomAdded {
            room: RoomSummary {
                room_id: "r".into(),
                name: "n".into(),
                visibility: "private".into(),
                kind: "group".into(),
                created_by: "u".into(),
                created_at: "2026-01-01T00:00:00Z".into(),
                member_count: 2,
                last_seq: 7,
                peer_id: None,
                peer_name: None,
                last_read_seq: 0,
                unread_count: 0,
            },
        };
        let json = serde_json::to_value(&added).unwrap();
        assert_eq!(json["type"], "roomAdded");
        assert_eq!(json["room"]["roomId"], "r");
        assert_eq!(json["room"]["memberCount"], 2);
        assert_eq!(serde_json::from_value::<ServerFrame>(json).unwrap(), added);
    }
}
