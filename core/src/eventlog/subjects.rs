//! Subject names. Stored events live under `chat.`, their RePublish copies (the live
//! fan-out path gateways subscribe to) under `live.`. Tokens come from parsed ids only.

use chat_schemas::{RoomId, UserId};

pub const ROOM_PREFIX: &str = "chat.room";
pub const USER_PREFIX: &str = "chat.user";
pub const LIVE_ROOM_PREFIX: &str = "live.room";
pub const LIVE_USER_PREFIX: &str = "live.user";
/// Profiles (display names), one stored event per user.
pub const PROFILE_PREFIX: &str = "chat.profile";
pub const LIVE_PROFILE_PREFIX: &str = "live.profile";
/// Read positions, one stored event per (room, user): `chat.read.<roomId>.<userId>`.
pub const READ_PREFIX: &str = "chat.read";
pub const LIVE_READ_PREFIX: &str = "live.read";
/// Gateway heartbeats and retirements (stored in the users stream, not republished).
pub const GATEWAY_PREFIX: &str = "chat.gateway";
/// Presence as the projector computed it, published (core NATS) after each commit.
pub const PRESENCE_PREFIX: &str = "live.presence";
/// A user's inbox: `roomAdded`/`roomRemoved` frames the projector publishes (core NATS)
/// after committing a membership change.
pub const INBOX_PREFIX: &str = "live.inbox";

pub fn room(room_id: &RoomId) -> String {
    format!("{ROOM_PREFIX}.{room_id}")
}

pub fn user(user_id: UserId) -> String {
    format!("{USER_PREFIX}.{user_id}")
}

pub fn profile(user_id: UserId) -> String {
    format!("{PROFILE_PREFIX}.{user_id}")
}

pub fn read_position(room_id: &RoomId, user_id: UserId) -> String {
    format!("{READ_PREFIX}.{room_id}.{user_id}")
}

pub fn live_room(room_id: &RoomId) -> String {
    format!("{LIVE_ROOM_PREFIX}.{room_id}")
}

pub fn live_user(user_id: UserId) -> String {
    format!("{LIVE_USER_PREFIX}.{user_id}")
}

/// `gateway_id` must be a subject-safe token (see `GatewayConfig`).
pub fn gateway(gateway_id: &str) -> String {
    format!("{GATEWAY_PREFIX}.{gateway_id}")
}

pub fn presence(user_id: UserId) -> String {
    format!("{PRESENCE_PREFIX}.{user_id}")
}

pub fn live_inbox(user_id: UserId) -> String {
    format!("{INBOX_PREFIX}.{user_id}")
}
