//! Filling gaps in a room's live events from the stream, so a gateway's fan-out delivers
//! every stored event of a room it receives, in order.
//!
//! Why gaps happen: on a NATS cluster the stream leader republishes each stored event on
//! `live.room.<roomId>`, but learns of a new subscription on another node only when the
//! cluster has propagated the interest, asynchronously: the flush after `SUB` proves only
//! that the gateway's own node has it. An event stored in between is not forwarded, while
//! the room's latest sequence (read after the subscription) may already be past it or not.
//! A NATS reconnect loses events the same way.
//!
//! The fix, at the fan-out: each room subscription keeps the last sequence it has handed
//! on (starting from the room's latest when the subscription was made). A live event whose
//! `Nats-Last-Sequence` (the room's previous event) is past that shows a gap, and the
//! missing events are read from the stream leader (`STREAM.MSG.GET` with `next_by_subj`:
//! the leader has every acknowledged event, a replica serving direct gets may lag) and
//! handed on first. A gap with no later event to reveal it (the room falls quiet right
//! after the subscription) is caught by checking the room's latest sequence at
//! [`CATCH_UP`] after the subscription is made. A gap longer than [`MAX_FILL`] events, or
//! a fill that fails, is left to the client, which sees `prevSeq` differ from its last
//! `seq` and resumes (as before).

use async_nats::jetstream::stream::Stream;
use async_nats::HeaderMap;
use bytes::Bytes;
use chat_core::eventlog::{subjects, EventLog, StreamKind};
use chat_schemas::RoomId;
use std::time::Duration;

/// Most events one gap fill reads; past that the client resumes.
pub const MAX_FILL: usize = 1_000;

/// When, after a room subscription is made, its latest sequence is checked for events
/// the subscription may have missed with nothing after them yet.
pub const CATCH_UP: [Duration; 2] = [Duration::from_millis(250), Duration::from_secs(2)];

/// A stored event read back to fill a gap.
pub struct Stored {
    pub seq: u64,
    pub headers: Option<HeaderMap>,
    pub payload: Bytes,
}

/// One room's subject in the rooms stream.
pub struct RoomLog {
    log: EventLog,
    stream: Option<Stream<()>>,
    room: RoomId,
    subject: String,
}

impl RoomLog {
    pub fn new(log: EventLog, room: &RoomId) -> Self {
        Self {
            log,
            stream: None,
            room: room.clone(),
            subject: subjects::room(room),
        }
    }

    async fn stream(&mut self) -> Result<&Stream<()>, async_nats::Error> {
        if self.stream.is_none() {
            let name = self.log.settings().name(StreamKind::Rooms);
            self.stream = Some(self.log.jetstream().get_stream_no_info(name).await?);
        }
        Ok(self.stream.as_ref().expect("just set"))
    }

    /// The room's latest sequence (direct get: spread over the replicas).
    pub async fn latest(&self) -> Option<u64> {
        self.log.latest_in_room(&self.room).await.ok()
    }

    /// The room's events after `after` up to `upto`, from the stream leader, in order;
    /// at most [`MAX_FILL`]. Stops early (answering what it has) on an error.
    pub async fn read(&mut self, after: u64, upto: u64) -> Vec<Stored> {
        let mut found = Vec::new();
        let mut at = after;
        while at < upto && found.len() < MAX_FILL {
            let subject = self.subject.clone();
            let read = match self.stream().await {
                Ok(stream) => {
                    stream
                        .get_first_raw_message_by_subject(subject, at + 1)
                        .await
                }
                Err(e) => {
                    tracing::warn!(room = %self.room, error = %e, "gap fill: no stream");
                    break;
                }
            };
            match read {
                Ok(message) if message.sequence > at && message.sequence <= upto => {
                    at = message.sequence;
                    found.push(Stored {
                        seq: message.sequence,
                        headers: Some(message.headers),
                        payload: message.payload,
                    });
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(room = %self.room, after = at, error = %e, "gap fill failed");
                    break;
                }
            }
        }
        found
    }
}
