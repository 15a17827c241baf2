//! Identifiers. Anything that can end up in a NATS subject (room and user ids) is parsed
//! here, so a `.`, `*`, `>` or whitespace never reaches a subject.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use uuid::Uuid;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("may only contain letters, digits, '-' and '_'")]
    BadCharacter,
    #[error("must be a UUID")]
    NotUuid,
    #[error("may only contain printable ASCII without spaces")]
    NotPrintable,
}

/// A room id: 1 to 128 characters from `[A-Za-z0-9_-]`, safe as a NATS subject token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct RoomId(String);

impl RoomId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, IdError> {
        if raw.is_empty() {
            return Err(IdError::Empty);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(IdError::TooLong(Self::MAX_LEN));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(IdError::BadCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    /// A fresh id for a new group room.
    pub fn generate() -> Self {
        Self(Uuid::now_v7().to_string())
    }

    /// The direct-message room id of two users *as ids were made before they were keyed*:
    /// `dm_<low>_<high>`, computable by anyone. Rooms made that way keep their ids; new
    /// direct rooms get an unguessable id from [`RoomId::direct_keyed`].
    pub fn legacy_direct(a: UserId, b: UserId) -> Self {
        let (low, high) = direct_pair(a, b);
        Self(format!("dm_{}_{}", low.0.simple(), high.0.simple()))
    }

    /// A direct-message room id from a keyed digest of the pair (computed by the caller
    /// with a server secret, so nobody else can compute it): `dm_` and the digest's bytes,
    /// hex-encoded.
    pub fn direct_keyed(digest: &[u8]) -> Self {
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Self(format!("dm_{hex}"))
    }

    /// Whether this is the id of a direct-message room.
    pub fn is_direct(&self) -> bool {
        self.0.starts_with("dm_")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The two users of a direct room in a fixed order (lower id first), the same whoever asks.
pub fn direct_pair(a: UserId, b: UserId) -> (UserId, UserId) {
    if a.0 <= b.0 {
        (a, b)
    } else {
        (b, a)
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RoomId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        RoomId::parse(&raw).map_err(|e| serde::de::Error::custom(format!("roomId {e}")))
    }
}

/// A user id: a UUID (v7 when we generate it).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl UserId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn parse(raw: &str) -> Result<Self, IdError> {
        Uuid::parse_str(raw).map(Self).map_err(|_| IdError::NotUuid)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A message id: a UUIDv7 assigned by the server when the message is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct MessageId(pub Uuid);

impl MessageId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The client's idempotency key for a send: 1 to 64 printable ASCII characters, no spaces.
/// It becomes part of a `Nats-Msg-Id` header, never of a subject.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, IdError> {
        if raw.is_empty() {
            return Err(IdError::Empty);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(IdError::TooLong(Self::MAX_LEN));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(IdError::NotPrintable);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ClientMsgId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        ClientMsgId::parse(&raw).map_err(|e| serde::de::Error::custom(format!("clientMsgId {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_ids_that_could_break_a_subject_are_refused() {
        for bad in ["a.b", "a*", ">", "a b", "a\tb", "", "ü", "a/b"] {
            assert!(RoomId::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(RoomId::parse(&"x".repeat(129)).is_err());
        assert_eq!(
            RoomId::parse("general_1-x").unwrap().as_str(),
            "general_1-x"
        );
    }

    #[test]
    fn a_direct_room_is_the_same_whoever_asks() {
        let (a, b) = (UserId::generate(), UserId::generate());
        assert_eq!(direct_pair(a, b), direct_pair(b, a));
        assert_eq!(RoomId::legacy_direct(a, b), RoomId::legacy_direct(b, a));
        assert!(RoomId::parse(RoomId::legacy_direct(a, b).as_str()).is_ok());
        let keyed = RoomId::direct_keyed(&[0xab; 16]);
        assert!(keyed.is_direct() && RoomId::parse(keyed.as_str()).is_ok());
    }

    #[test]
    fn generated_room_ids_parse() {
        assert!(RoomId::parse(RoomId::generate().as_str()).is_ok());
    }

    #[test]
    fn client_msg_ids_must_be_printable_without_spaces() {
        assert!(ClientMsgId::parse("abc-123:x").is_ok());
        assert!(ClientMsgId::parse("a b").is_err());
        assert!(ClientMsgId::parse("").is_err());
        assert!(ClientMsgId::parse(&"x".repeat(65)).is_err());
    }
}
