//! Replaying what a client missed in one room, gap-free and duplicate-free, without
//! letting one client's replay reach anyone else.
//!
//! The caller has already (1) told the writer to hold back the room's live events and
//! (2) made sure the live subscription is in force. Then, here: take the room's latest
//! sequence (direct get), check the client's position against what the stream holds,
//! replay `(from, latest]`, and let the writer release the held-back live events, skipping
//! those the replay already sent.
//!
//! **How events are read (decided after measuring).** Replays used to drain an ordered push
//! consumer on the process's one NATS connection only as fast as the client read: a few
//! dozen clients that did not read let the consumers' messages pile up in that connection
//! until NATS dropped it as a slow consumer, and every user of the process lost the event
//! log (`event_log_unavailable`, gaps; see `replay_isolation.rs`). Now a replay reads one
//! event at a time by direct get ([`crate::room_log`]), and only once the client's queue has
//! room for it ([`OutboundSender::wait_for_room`]): nothing is ever pushed at the process
//! that it has not asked for, a gateway-wide permit bounds the reads in flight (a mass
//! reconnect is served in turn), and no permit is held while a client is slow. NATS 2.9 has
//! no batch direct get, so this is one request per event; the shared connection is kept,
//! as the reads in flight are bounded by the permits. No consumer and no JetStream API
//! request is made by a replay (see [`crate::room_log`]): a resume of a short gap costs
//! the room's latest (one direct get), whether the stream still keeps the position (one),
//! and one per event.
//!
//! **Positions.** The latest sequence decides: a position equal to it has nothing to
//! replay; a position beyond it (a client that kept its position across a reset store)
//! cannot be trusted and answers `recovered: false` with the room's real `lastSeq`, and the
//! room's live events flow from there; a gap longer than `max_replay` events, or older
//! than the stream keeps, answers `recovered: false` as well. The client reloads the room's
//! history from the api.
//!
//! **What is shown** is what history shows ([`crate::redaction`]): the window is read once
//! ahead to learn which messages were edited or deleted in it (and to count it against
//! `max_replay` before anything is sent), then replayed. A short window (at most
//! [`KEPT_BYTES`] of stored events, the common case of a reconnect) is kept from the
//! read-ahead and replayed from memory; a longer one is read again event by event, which
//! doubles its reads but keeps its memory bounded. Either way a replay never shows a text
//! history does not.
//!
//! **Memory** per replaying connection: the fates of the window's edited and deleted
//! messages (bounded by `max_replay`), a short window's events (at most [`KEPT_BYTES`]) or
//! one event in hand, and the client's queue, bounded in bytes together with the
//! held-back live events (see [`crate::outbound`]). A client that leaves no room for
//! [`REPLAY_STALL`] is closed with 4008.
//!
//! **Requests.** A `resume` naming a room several times resumes it once, from the lowest
//! position named ([`distinct_positions`]); it may name at most
//! `max_rooms_per_connection` distinct rooms, and a connection receives at most that many.

use async_nats::jetstream::message::StreamMessage;
use chat_schemas::ws::RoomPosition;
use chat_schemas::RoomId;

use crate::frames;
use crate::outbound::{NoRoom, Outbound, OutboundSender, REPLAY_STALL};
use crate::redaction::{self, Fates, Shown};
use crate::room_log::RoomLog;
use crate::GatewayState;

/// Most bytes of stored events a replay keeps from its read-ahead instead of reading
/// them again (see the module comment): a few dozen chat messages.
pub const KEPT_BYTES: usize = 16 * 1024;

/// How one room's resume ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayOutcome {
    pub recovered: bool,
    pub replayed: u64,
    /// The room's latest sequence when the replay started.
    pub last_seq: u64,
}

pub async fn replay_room(
    state: &GatewayState,
    out: &OutboundSender,
    room: &RoomId,
    from: u64,
) -> Result<ReplayOutcome, async_nats::Error> {
    // What this gateway already passed on counts too: on a cluster a replica's answer can
    // lag what the leader sent out (see `crate::gaps`).
    let latest = state.fanout().latest_in_room(room).await?;
    let not_recovered = ReplayOutcome {
        recovered: false,
        replayed: 0,
        last_seq: latest,
    };
    if from == latest {
        return Ok(ReplayOutcome {
            recovered: true,
            ..not_recovered
        });
    }
    if from > latest {
        return Ok(not_recovered);
    }
    let log = RoomLog::open(state, room).await?;
    if !log.keeps(from + 1).await? {
        return Ok(not_recovered);
    }
    let max = state.config().max_replay;
    let Some(Window { fates, kept }) = read_ahead(&log, out, from, latest, max).await? else {
        return Ok(not_recovered);
    };
    let mut kept = kept.map(Vec::into_iter);
    let (mut prev, mut replayed) = (from, 0);
    while prev < latest {
        out.wait_for_room(REPLAY_STALL).await.map_err(|e| match e {
            NoRoom::Closed => "connection closed during replay",
            NoRoom::Stalled => "the client did not read during the replay",
        })?;
        let message = match &mut kept {
            Some(kept) => kept.next(),
            None => log.next_from(prev + 1).await?,
        };
        let Some(message) = message else {
            return Err("the room's events ended before its latest".into());
        };
        let seq = message.sequence;
        if seq > latest {
            break;
        }
        let payload = match fates.shown(seq, &message.payload) {
            Shown::AsStored => None,
            Shown::Tombstone => redaction::with_text(&message.payload, ""),
            Shown::TextOf(edit) => {
                let edit = log.at(edit).await?;
                let text = redaction::edited_text(&edit.payload).ok_or("edit without a text")?;
                redaction::with_text(&message.payload, &text)
            }
        };
        let payload = payload.as_deref().unwrap_or(&message.payload);
        let frame =
            frames::event_frame(room, seq, prev, payload).ok_or("stored event is not JSON")?;
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
    metrics::counter!("chat_gateway_replayed_events_total").increment(replayed);
    Ok(ReplayOutcome {
        recovered: true,
        replayed,
        last_seq: latest,
    })
}

/// A replay window as read ahead.
struct Window {
    fates: Fates,
    /// The window's events in order, if they fit in [`KEPT_BYTES`].
    kept: Option<Vec<StreamMessage>>,
}

/// Reads the window `(from, latest]` once, noting what became of its messages and keeping
/// its events if they are few; `None` when it holds more than `max` events (too long to
/// replay).
async fn read_ahead(
    log: &RoomLog,
    out: &OutboundSender,
    from: u64,
    latest: u64,
    max: u64,
) -> Result<Option<Window>, async_nats::Error> {
    let (mut fates, mut seen, mut next) = (Fates::default(), 0, from + 1);
    let (mut kept, mut kept_bytes) = (Some(Vec::new()), 0);
    while next <= latest {
        if out.is_closed() {
            return Err("connection closed during replay".into());
        }
        let Some(message) = log.next_from(next).await? else {
            break;
        };
        if message.sequence > latest {
            break;
        }
        seen += 1;
        if seen > max {
            return Ok(None);
        }
        fates.note(message.sequence, &message.payload);
        next = message.sequence + 1;
        kept_bytes += message.payload.len();
        if kept_bytes > KEPT_BYTES {
            kept = None;
        }
        if let Some(kept) = &mut kept {
            kept.push(message);
        }
    }
    Ok(Some(Window { fates, kept }))
}

/// The rooms of a `resume`, each once, in the order first named, from the lowest position
/// named for it (the safe one: nothing after it is missed).
pub fn distinct_positions(positions: Vec<RoomPosition>) -> Vec<RoomPosition> {
    let mut distinct: Vec<RoomPosition> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for position in positions {
        match index.get(&position.room_id) {
            Some(&i) => {
                let kept: &mut RoomPosition = &mut distinct[i];
                kept.last_seq = kept.last_seq.min(position.last_seq);
            }
            None => {
                index.insert(position.room_id.clone(), distinct.len());
                distinct.push(position);
            }
        }
    }
    distinct
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(room: &str, last_seq: u64) -> RoomPosition {
        RoomPosition {
            room_id: room.into(),
            last_seq,
        }
    }

    #[test]
    fn a_room_named_many_times_is_resumed_once_from_its_lowest_position() {
        let mut named = vec![at("a", 9), at("b", 3)];
        named.extend((0..300).map(|i| at("a", 5 + i)));
        assert_eq!(distinct_positions(named), [at("a", 5), at("b", 3)]);
    }
}
