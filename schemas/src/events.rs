//! The event envelope: every durable fact of the platform, as stored in JetStream.
//!
//! Room events live on `chat.room.<roomId>`, user-status events on `chat.user.<userId>`,
//! profile events on `chat.profile.<userId>`, read positions on `chat.read.<roomId>.<userId>`.
//! The envelope is JSON: `{eventId, type, v, occurredAt, actor, roomId | userId, data}`.
//! `v` is the payload version of `type` (1 for every type today). The projector logs and
//! skips an event it cannot read; see `projector::batch`.

use crate::ids::{MessageId, RoomId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// The payload version this build writes and understands.
pub const EVENT_VERSION: u16 = 1;

/// One stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub event_id: Uuid,
    #[serde(flatten)]
    pub body: EventBody,
    pub v: u16,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    pub occurred_at: OffsetDateTime,
    /// The user whose action this is.
    pub actor: UserId,
    /// The room the event belongs to (room events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<RoomId>,
    /// The user the event is about (status and connection events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// The gateway the event is about (heartbeats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_id: Option<String>,
}

impl Envelope {
    /// A new room event stamped with the server's clock.
    pub fn room(actor: UserId, room_id: RoomId, body: EventBody) -> Self {
        Self::new(actor, Some(room_id), None, body)
    }

    /// A new user-status event stamped with the server's clock.
    pub fn user(actor: UserId, user_id: UserId, body: EventBody) -> Self {
        Self::new(actor, None, Some(user_id), body)
    }

    /// A read position: about a user in a room, so it names both.
    pub fn read_moved(user: UserId, room_id: RoomId, seq: u64) -> Self {
        Self::new(
            user,
            Some(room_id),
            Some(user),
            EventBody::ReadMoved { seq },
        )
    }

    /// A gateway's own event (heartbeat, retirement); the actor is the nil user.
    pub fn gateway(gateway_id: &str, body: EventBody) -> Self {
        let mut event = Self::new(UserId(Uuid::nil()), None, None, body);
        event.gateway_id = Some(gateway_id.to_owned());
        event
    }

    fn new(
        actor: UserId,
        room_id: Option<RoomId>,
        user_id: Option<UserId>,
        body: EventBody,
    ) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            body,
            v: EVENT_VERSION,
            occurred_at: now_millis(),
            actor,
            room_id,
            user_id,
            gateway_id: None,
        }
    }
}

/// The server clock, cut to milliseconds so that what Postgres and JSON carry round-trips.
pub fn now_millis() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(now)
}

/// Who may join a room without an invitation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Public,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }
}

/// A group room or the direct-message room of two users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoomKind {
    Group,
    Direct,
}

impl RoomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Group => "group",
            RoomKind::Direct => "direct",
        }
    }
}

/// A user's presence as a client sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Online,
    Away,
    Offline,
    Typing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Online => "online",
            Status::Away => "away",
            Status::Offline => "offline",
            Status::Typing => "typing",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "online" => Some(Status::Online),
            "away" => Some(Status::Away),
            "offline" => Some(Status::Offline),
            "typing" => Some(Status::Typing),
            _ => None,
        }
    }
}

/// What happened. Serialised as `"type": "...", "data": {...}` in the envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum EventBody {
    #[serde(rename = "room.created", rename_all = "camelCase")]
    RoomCreated {
        name: String,
        visibility: Visibility,
        kind: RoomKind,
        /// Members besides the creator, who is always one.
        members: Vec<UserId>,
    },
    #[serde(rename = "member.joined", rename_all = "camelCase")]
    MemberJoined { user_id: UserId },
    #[serde(rename = "member.left", rename_all = "camelCase")]
    MemberLeft { user_id: UserId },
    #[serde(rename = "message.posted", rename_all = "camelCase")]
    MessagePosted {
        message_id: MessageId,
        message: String,
        /// The sender's own clock, kept as given (RFC 3339).
        #[serde(with = "time::serde::rfc3339::option", default)]
        #[schemars(with = "Option<String>")]
        client_timestamp: Option<OffsetDateTime>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
    },
    #[serde(rename = "message.edited", rename_all = "camelCase")]
    MessageEdited {
        message_id: MessageId,
        message: String,
    },
    #[serde(rename = "message.deleted", rename_all = "camelCase")]
    MessageDeleted { message_id: MessageId },
    /// The actor reacted to a message of the room with `emoji` (one emoji, or `:name:`).
    /// A reaction the actor already has, or a 51st distinct emoji, changes nothing.
    #[serde(rename = "reaction.added", rename_all = "camelCase")]
    ReactionAdded {
        message_id: MessageId,
        emoji: String,
    },
    /// The actor took back their reaction `emoji` to a message.
    #[serde(rename = "reaction.removed", rename_all = "camelCase")]
    ReactionRemoved {
        message_id: MessageId,
        emoji: String,
    },
    /// A WebSocket connection of the user opened on a gateway.
    #[serde(rename = "connection.opened", rename_all = "camelCase")]
    ConnectionOpened {
        connection_id: String,
        gateway_id: String,
        boot_id: String,
    },
    /// It closed; `reason` is `closed` (the gateway saw it end) or `gateway_lost` (the
    /// gateway stopped heart-beating and the reaper closed it).
    #[serde(rename = "connection.closed", rename_all = "camelCase")]
    ConnectionClosed {
        connection_id: String,
        reason: String,
    },
    /// The connection has sent no command for the gateway's `away_after` (`idle: true`),
    /// or has sent one again (`idle: false`). A user is away for idleness only while
    /// every connection of theirs is idle.
    #[serde(rename = "connection.idle", rename_all = "camelCase")]
    ConnectionIdle { connection_id: String, idle: bool },
    /// A gateway process is alive (sent every few seconds).
    #[serde(rename = "gateway.heartbeat", rename_all = "camelCase")]
    GatewayHeartbeat { boot_id: String },
    /// That gateway process is gone and its connections were closed.
    #[serde(rename = "gateway.retired", rename_all = "camelCase")]
    GatewayRetired { boot_id: String },
    #[serde(rename = "status.changed", rename_all = "camelCase")]
    StatusChanged {
        status: Status,
        /// The room a `typing` status is about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<RoomId>,
    },
    /// The user's profile as it now is (on `chat.profile.<userId>`, the latest one kept).
    #[serde(rename = "profile.changed", rename_all = "camelCase")]
    ProfileChanged { display_name: String },
    /// The user (`userId`) has read the room (`roomId`) up to `seq`, a stream sequence of
    /// that room's events (on `chat.read.<roomId>.<userId>`, the latest one kept).
    #[serde(rename = "read.moved", rename_all = "camelCase")]
    ReadMoved { seq: u64 },
}

impl EventBody {
    /// The `type` tag, for logs and metrics.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventBody::RoomCreated { .. } => "room.created",
            EventBody::MemberJoined { .. } => "member.joined",
            EventBody::MemberLeft { .. } => "member.left",
            EventBody::MessagePosted { .. } => "message.posted",
            EventBody::MessageEdited { .. } => "message.edited",
            EventBody::MessageDeleted { .. } => "message.deleted",
            EventBody::ReactionAdded { .. } => "reaction.added",
            EventBody::ReactionRemoved { .. } => "reaction.removed",
            EventBody::StatusChanged { .. } => "status.changed",
            EventBody::ConnectionOpened { .. } => "connection.opened",
            EventBody::ConnectionClosed { .. } => "connection.closed",
            EventBody::ConnectionIdle { .. } => "connection.idle",
            EventBody::GatewayHeartbeat { .. } => "gateway.heartbeat",
            EventBody::GatewayRetired { .. } => "gateway.retired",
            EventBody::ProfileChanged { .. } => "profile.changed",
            EventBody::ReadMoved { .. } => "read.moved",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_round_trips_through_json_with_a_flat_type() {
        let env = Envelope::room(
            UserId::generate(),
            RoomId::parse("r1").unwrap(),
            EventBody::MessagePosted {
                message_id: MessageId::generate(),
                message: "<b>hi</b> '; drop table x; --".into(),
                client_timestamp: Some(now_millis()),
                client_msg_id: Some("c-1".into()),
            },
        );
        let json = serde_json::to_value(&env).unwrap();
        assert_eq!(json["type"], "message.posted");
        assert_eq!(json["roomId"], "r1");
        assert_eq!(json["v"], 1);
        assert!(json.get("userId").is_none());
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, env);
    }

    #[test]
    fn an_unknown_event_type_is_an_error_not_a_default() {
        let raw = r#"{"eventId":"0190c1c6-7c3a-7000-8000-000000000000","type":"x.y","data":{},
            "v":1,"occurredAt":"2026-01-01T00:00:00Z","actor":"0190c1c6-7c3a-7000-8000-000000000001"}"#;
        assert!(serde_json::from_str::<Envelope>(raw).is_err());
    }
}
