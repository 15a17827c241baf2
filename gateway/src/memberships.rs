//! The command layer's proofs of membership ([`RoomMember`]) a connection holds: one per
//! room it joined or resumed, dropped when it unsubscribes. A send to a room the connection
//! is still subscribed to (fan-out drops the subscription on `member.left`) posts under
//! the proof, so the message path makes no read-model query; any other send has the
//! command layer check membership afresh.

use chat_core::commands::RoomMember;
use chat_schemas::RoomId;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
pub struct Memberships {
    rooms: Mutex<HashMap<RoomId, RoomMember>>,
}

impl Memberships {
    pub fn keep(&self, member: RoomMember) {
        self.rooms().insert(member.room().clone(), member);
    }

    pub fn get(&self, room: &RoomId) -> Option<RoomMember> {
        self.rooms().get(room).cloned()
    }

    pub fn forget(&self, room: &RoomId) {
        self.rooms().remove(room);
    }

    fn rooms(&self) -> MutexGuard<'_, HashMap<RoomId, RoomMember>> {
        // No code panics while holding the lock, and a map is never half-changed: recover.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }
}
