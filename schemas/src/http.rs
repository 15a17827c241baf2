//! Request and response bodies of the HTTP API (the seed API and its companions).
//! Field names and shapes of the seed calls are fixed; see the README and `/openapi.json`.
//!
//! Requests are deserialised into "raw" forms (`serde_json::Value` fields, missing ones
//! `null`) so that the api answers each missing, empty or wrongly typed field with its own
//! error code and message instead of a generic parse error.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /auth/register` and `POST /auth/login`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Credentials {
    pub username: Value,
    pub password: Value,
    /// Registration only, optional: the display name to start with.
    #[serde(rename = "displayName")]
    pub display_name: Value,
}

/// Answer to register (201) and login (200).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub user_id: String,
    pub token: String,
}

/// `POST /rooms`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateRoom {
    pub name: Value,
    pub visibility: Value,
    pub members: Value,
}

/// Answer to a command that created or changed a room.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomRef {
    pub room_id: String,
    /// Stream sequence of the event, usable as `minSeq`; absent when nothing changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// One room in `GET /rooms`, and the `room` of the WebSocket `roomAdded` frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomSummary {
    pub room_id: String,
    pub name: String,
    pub visibility: String,
    pub kind: String,
    pub created_by: String,
    pub created_at: String,
    pub member_count: i64,
    /// Sequence of the room's latest event.
    pub last_seq: i64,
    /// For a direct room, the other person in it (direct-room ids do not name them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// For a direct room, the other person's display name as it is now (live changes
    /// arrive as `profile` frames), so a client can title the conversation without a lookup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_name: Option<String>,
    /// The caller's read position in the room (a `seq`; 0 if never read).
    #[serde(default)]
    pub last_read_seq: i64,
    /// Messages after `lastReadSeq`, not deleted, not sent by the caller; counted up to
    /// 1000 (more shows as 1000).
    #[serde(default)]
    pub unread_count: i64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RoomList {
    pub rooms: Vec<RoomSummary>,
}

/// `POST /rooms/{roomId}/members`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AddMembers {
    pub user_ids: Value,
}

/// Answer to `POST /rooms/{roomId}/members`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembersAdded {
    pub room_id: String,
    /// The users this call made members (those already in the room are left out).
    pub added: Vec<String>,
    /// Sequence of the last `member.joined` stored, usable as `minSeq`; absent when
    /// nobody was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// One member in `GET /rooms/{roomId}/members`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    /// `online`, `away` or `offline`, as `GET /getStatus` tells it.
    pub status: String,
    pub last_seen: Option<String>,
    /// The member's read position in the room (0: nothing read).
    pub last_read_seq: i64,
}

/// `GET /rooms/{roomId}/members`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberList {
    pub members: Vec<MemberView>,
}

/// `POST /dms`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct OpenDirect {
    pub user_id: Value,
}

/// `POST /sendMessage`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    pub room_id: Value,
    pub message: Value,
    pub sender_id: Value,
    pub timestamp: Value,
    pub client_msg_id: Value,
}

/// Answer to `POST /sendMessage`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageAccepted {
    pub message_id: String,
    pub room_id: String,
    pub seq: u64,
    pub timestamp: String,
}

/// One message in `GET /getMessages`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub message_id: String,
    pub room_id: String,
    pub sender_id: String,
    /// The sender's current display name.
    #[serde(default)]
    pub sender_name: String,
    pub message: String,
    pub timestamp: String,
    pub client_timestamp: Option<String>,
    pub seq: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The message's reactions, each emoji once, in the order they were first given;
    /// `me` is whether the caller is one who gave it. Empty for a deleted message.
    #[serde(default)]
    pub reactions: Vec<ReactionView>,
}

/// One emoji on a message, as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionView {
    pub emoji: String,
    pub count: i64,
    pub me: bool,
}

/// `POST /rooms/{roomId}/messages/{messageId}/reactions`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AddReaction {
    pub emoji: Value,
}

/// Answer to a reaction added or taken back: the message's reactions now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionsView {
    pub room_id: String,
    pub message_id: String,
    /// The stream sequence of the stored event; `null` when nothing changed (the caller
    /// already had that reaction, or did not have the one taken back).
    pub seq: Option<u64>,
    pub reactions: Vec<ReactionView>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    pub messages: Vec<MessageView>,
    /// How far the read model has applied the room stream: a message with a larger `seq`
    /// may exist but is not visible yet.
    pub projected_seq: i64,
}

/// `POST /updateStatus`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStatus {
    pub user_id: Value,
    pub status: Value,
    pub room_id: Value,
}

/// Answer to `POST /updateStatus`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusAccepted {
    pub user_id: String,
    pub status: String,
}

/// Answer to `GET /getStatus`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    pub user_id: String,
    pub status: String,
    pub last_seen: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typing_in: Option<String>,
}

/// `PATCH /users/me`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UpdateProfile {
    pub display_name: Value,
}

/// A person as the directory shows them (`GET /users/...`, `PATCH /users/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonView {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
}

/// `GET /users?query=` and `GET /users?ids=`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PersonList {
    pub users: Vec<PersonView>,
}

/// One room in the public room directory (`GET /rooms/public`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicRoomView {
    pub room_id: String,
    pub name: String,
    pub member_count: i64,
    /// The time of the room's latest event (RFC 3339).
    pub last_activity_at: String,
}

/// `GET /rooms/public`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicRoomList {
    pub rooms: Vec<PublicRoomView>,
}

/// `POST /rooms/{roomId}/read`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MarkRead {
    pub seq: Value,
}

/// The caller's read position in a room (answer to `POST /rooms/{roomId}/read`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadPositionView {
    pub room_id: String,
    pub last_read_seq: u64,
}

/// One match of `GET /search`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    pub room_id: String,
    pub seq: i64,
    pub message_id: String,
    pub sender_id: String,
    /// The sender's current display name (their username if they never set one).
    pub sender_name: String,
    /// The whole message, as history shows it.
    pub message: String,
    /// Plain text around the matched words: never markup.
    pub snippet: String,
    /// Where the matched words are in `snippet`: `[start, end)` in characters (Unicode
    /// scalar values, what `Array.from(snippet)` counts).
    pub highlights: Vec<[usize; 2]>,
    pub rank: f64,
    pub timestamp: String,
}

/// `GET /search`: matches newest first by page, best rank first within the page.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResults {
    pub results: Vec<SearchResult>,
    /// The `beforeSeq` of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before_seq: Option<i64>,
}
