//! Reading one room's stored events for a replay: direct gets (`next_by_subj` from a
//! sequence, no consumer), one event per request, each under a gateway-wide permit.
//!
//! The permits ([`ReplayPermits`], `GATEWAY_REPLAY_CONCURRENCY`) bound the direct gets in
//! flight on the process's NATS connection, whatever the number of replays: a mass
//! reconnect is served in turn instead of as a stampede, and at most that many events (each
//! at most a frame) are on their way to this process for replays at once, so replays can
//! never make NATS see the process as a slow consumer. A permit is held only for the
//! request itself, never while waiting for a client to read.
//!
//! **No JetStream API request per replay.** Opening a room's log makes no request (the
//! stream is named, not looked up), and whether the stream still keeps a position is asked
//! with one more direct get ([`RoomLog::keeps`]) instead of a `STREAM.INFO`: the JetStream
//! API is served by one queue on the stream's leader, and 10,000 resumes at once each
//! asking it for the stream's state made it the bottleneck of a reconnect storm. Direct
//! gets are answered by any replica (`allow_direct`, checked against the server's config
//! when the stream is ensured at start-up: see `chat_core::eventlog::streams`).

use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::stream::{DirectGetErrorKind, Stream};
use chat_core::eventlog::{subjects, StreamKind};
use chat_schemas::RoomId;
use std::sync::Arc;
use tokio::sync::Semaphore;

use crate::GatewayState;

/// The gateway-wide bound on replay reads in flight.
pub type ReplayPermits = Arc<Semaphore>;

/// One room's events in the room stream.
pub struct RoomLog {
    stream: Stream<()>,
    subject: String,
    permits: ReplayPermits,
}

impl RoomLog {
    /// The room's log; makes no request.
    pub async fn open(state: &GatewayState, room: &RoomId) -> Result<Self, async_nats::Error> {
        let log = state.commands().event_log();
        let stream = log
            .jetstream()
            .get_stream_no_info(log.settings().name(StreamKind::Rooms))
            .await?;
        Ok(Self {
            stream,
            subject: subjects::room(room),
            permits: state.replay_permits().clone(),
        })
    }

    /// Whether the stream still holds the event stored at `seq` (whichever room's). The
    /// stream discards only from its start (limits retention, discard old), so when it
    /// holds `seq` it holds everything after it; a `seq` deleted on its own answers `false`
    /// too, which is the safe answer (the client reloads the room's history).
    pub async fn keeps(&self, seq: u64) -> Result<bool, async_nats::Error> {
        let _permit = self.permits.acquire().await?;
        metrics::counter!("chat_gateway_replay_reads_total").increment(1);
        match self.stream.direct_get(seq).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The room's first event at or after `seq`, if any.
    pub async fn next_from(&self, seq: u64) -> Result<Option<StreamMessage>, async_nats::Error> {
        let _permit = self.permits.acquire().await?;
        metrics::counter!("chat_gateway_replay_reads_total").increment(1);
        match self
            .stream
            .direct_get_next_for_subject(self.subject.as_str(), Some(seq))
            .await
        {
            Ok(message) => Ok(Some(message)),
            Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The event stored at `seq` (the room's own: read with the room's subject).
    pub async fn at(&self, seq: u64) -> Result<StreamMessage, async_nats::Error> {
        match self.next_from(seq).await? {
            Some(message) if message.sequence == seq => Ok(message),
            _ => Err(format!("event {seq} of the room is gone").into()),
        }
    }
}
