//! What a transport may ask of the event log and the projection without reaching past the
//! command layer: whether NATS is connected, how far the room stream is stored and how far
//! the projector has applied it (health checks, `minSeq` waits).

use super::{CommandError, Commands};
use crate::eventlog::StreamKind;

/// The room stream's state as far as it can be told now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomStreamProgress {
    /// Whether the NATS connection is up.
    pub nats_connected: bool,
    /// The stream's last stored sequence; `None` while NATS cannot tell.
    pub stored: Option<u64>,
    /// The projector's checkpoint of the stream; `None` while Postgres cannot tell.
    pub applied: Option<u64>,
}

impl RoomStreamProgress {
    /// Events stored and not yet applied, when both ends are known.
    pub fn lag(&self) -> Option<u64> {
        match (self.stored, self.applied) {
            (Some(stored), Some(applied)) => Some(stored.saturating_sub(applied)),
            _ => None,
        }
    }
}

impl Commands {
    /// The room stream's name (as the projector's checkpoints name it).
    pub fn room_stream(&self) -> &str {
        self.log.settings().name(StreamKind::Rooms)
    }

    /// Where the room stream stands: connection, stored and applied sequences.
    pub async fn room_stream_progress(&self) -> RoomStreamProgress {
        let nats_connected = self.log.is_connected();
        let applied = self.read.checkpoint(self.room_stream()).await.ok();
        // Read only when NATS is up (the call would wait).
        let stored = match nats_connected {
            true => self.last_room_seq().await,
            false => None,
        };
        RoomStreamProgress {
            nats_connected,
            stored,
            applied,
        }
    }

    /// The last sequence stored in the room stream, if NATS can tell now (not asked while
    /// disconnected: the call would wait).
    pub async fn stored_room_seq(&self) -> Option<u64> {
        if !self.log.is_connected() {
            return None;
        }
        self.last_room_seq().await
    }

    async fn last_room_seq(&self) -> Option<u64> {
        let stream = self
            .log
            .jetstream()
            .get_stream(self.room_stream())
            .await
            .ok()?;
        Some(stream.cached_info().state.last_sequence)
    }

    /// How far the projector has applied the room stream.
    pub async fn room_checkpoint(&self) -> Result<u64, CommandError> {
        Ok(self.read.checkpoint(self.room_stream()).await?)
    }
}
