//! Ids of direct-message rooms that nobody outside the conversation can compute.
//!
//! A direct room's id used to be `dm_<low>_<high>` of its two user ids: anyone could
//! compute it and learn from the answers about it whether two people talk. Now it is
//! `dm_` and 128 bits of HMAC-SHA256 over the ordered pair, under a key derived from the
//! server secret (`JWT_SECRET`, which every api process already shares). The id stays
//! deterministic per pair, so two concurrent `POST /dms` from both sides still publish to
//! the same subject and JetStream admits one creation.
//!
//! Rotating the secret changes the id a pair *would* get; `POST /dms` therefore looks the
//! pair up in the read model (`direct_rooms`) first, so a pair keeps its one room (and
//! rooms made with the old, computable ids keep working).

use chat_schemas::ids::direct_pair;
use chat_schemas::{RoomId, UserId};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Derives direct-room ids; cheap to clone.
#[derive(Clone)]
pub struct DirectRoomIds {
    key: [u8; 32],
}

/// Domain separation: the id key is never the token-signing key itself.
const CONTEXT: &[u8] = b"chat direct-room ids v1";

impl DirectRoomIds {
    pub fn new(secret: &[u8]) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(CONTEXT);
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    /// The id of `a` and `b`'s direct room, the same whichever of them asks.
    pub fn room(&self, a: UserId, b: UserId) -> RoomId {
        let (low, high) = direct_pair(a, b);
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(low.0.as_bytes());
        mac.update(high.0.as_bytes());
        let digest = mac.finalize().into_bytes();
        RoomId::direct_keyed(&digest[..16])
    }
}

impl std::fmt::Debug for DirectRoomIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectRoomIds(<keyed>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_per_pair_per_secret_and_say_nothing_of_the_users() {
        let (a, b, c) = (UserId::generate(), UserId::generate(), UserId::generate());
        let ids = DirectRoomIds::new(b"one secret, at least 32 bytes long....");
        assert_eq!(ids.room(a, b), ids.room(b, a));
        assert_ne!(ids.room(a, b), ids.room(a, c));
        let other = DirectRoomIds::new(b"another secret, at least 32 bytes long.");
        assert_ne!(ids.room(a, b), other.room(a, b));
        let id = ids.room(a, b);
        assert!(id.is_direct() && RoomId::parse(id.as_str()).is_ok());
        assert_ne!(id, RoomId::legacy_direct(a, b));
        for user in [a, b] {
            assert!(!id.as_str().contains(&user.0.simple().to_string()[..8]));
        }
    }
}
