//! Replaying what a client missed in one room, gap-free and duplicate-free.
//!
//! The caller has already (1) told the writer to hold back the room's live events and
//! (2) made sure the live subscription is in force. Then, here: take the room's latest
//! sequence (direct get, no consumer), replay `(from, latest]` with an ordered consumer
//! filtered to the room's subject, and let the writer release the held-back live events,
//! skipping those the replay already sent.
//!
//! When nothing was missed (the common case on a quick reconnect) no consumer is created.
//! A gap longer than `max_replay` events, or older than the stream keeps, answers
//! `recovered: false`: the client reloads that room's history from the api.

use async_nats::jetstream::consumer::{push::OrderedConfig, DeliverPolicy};

use chat_core::eventlog::{subjects, StreamKind};
use chat_schemas::RoomId;
use futures::StreamExt;
use std::time::Duration;

use crate::frames;
use crate::outbound::{Outbound, OutboundSender};
use crate::GatewayState;

/// How one room's resume ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayOutcome {
    pub recovered: bool,
    pub replayed: u64,
    /// The room's latest sequence when the replay started.
    pub last_seq: u64,
}

/// Longest wait for the next replayed event before giving up on the replay.
const REPLAY_STALL: Duration = Duration::from_secs(5);

pub async fn replay_room(
    state: &GatewayState,
    out: &OutboundSender,
    room: &RoomId,
    from: u64,
) -> Result<ReplayOutcome, async_nats::Error> {
    let log = &state.commands().log;
    let stream_name = log.settings().name(StreamKind::Rooms);
    let stream = log.jetstream().get_stream(stream_name).await?;
    let subject = subjects::room(room);
    let latest = state.fanout().latest_in_room(room).await?;
    if latest <= from {
        return Ok(ReplayOutcome {
            recovered: true,
            replayed: 0,
            last_seq: latest,
        });
    }
    let not_recovered = ReplayOutcome {
        recovered: false,
        replayed: 0,
        last_seq: latest,
    };
    let first_kept = stream.cached_info().state.first_sequence;
    if from + 1 < first_kept {
        return Ok(not_recovered);
    }
    let consumer = stream
        .create_consumer(OrderedConfig {
            deliver_subject: log.client().new_inbox(),
            filter_subject: subject,
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: from + 1,
            },
            ..Default::default()
        })
        .await?;
    if consumer.cached_info().num_pending > state.config().max_replay {
        return Ok(not_recovered);
    }
    let mut messages = consumer.messages().await?;
    let (mut prev, mut replayed) = (from, 0);
    while prev < latest {
        let message = tokio::time::timeout(REPLAY_STALL, messages.next())
            .await
            .map_err(|_| "replay stalled")?
            .ok_or("replay consumer ended")??;
        let seq = message.info()?.stream_sequence;
        let frame = frames::event_frame(room, seq, prev, &message.payload)
            .ok_or("stored event is not JSON")?;
        out.push(Outbound::Replayed {
            room: room.clone(),
            seq,
            frame,
        })
        .await
        .map_err(|_| "connection closed during replay")?;
        prev = seq;
        replayed += 1;
    }
    Ok(ReplayOutcome {
        recovered: true,
        replayed,
        last_seq: latest,
    })
}
