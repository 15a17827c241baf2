//! Live fan-out: one core NATS subscription per room on this gateway, on the room's
//! RePublish subject (`live.room.<roomId>`), shared by every local connection in that room
//! (refcounted: the first connection subscribes, the last one unsubscribes).
//!
//! Each republished event carries `Nats-Sequence` (its stream sequence, the client's
//! cursor) and `Nats-Last-Sequence` (the previous event of the same room). The frame is
//! built once per event and shared by every connection. A room's subscription remembers
//! the last sequence it handed on and fills any gap that `Nats-Last-Sequence` reveals
//! from the stream before going on (see [`crate::gaps`]: on a cluster the first
//! subscriber could otherwise miss events stored while its interest propagated).
//!
//! Membership is enforced here too: after a `member.left` event, the connections of the
//! user who left stop receiving the room, whichever device or gateway the leave came from.

use async_nats::{Client, HeaderMap};
use axum::extract::ws::Utf8Bytes;
use chat_core::eventlog::publish::EVENT_TYPE_HEADER;
use chat_core::eventlog::subjects;
use chat_core::eventlog::EventLog;
use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::{RoomId, UserId};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::frames;
use crate::gaps::{RoomLog, CATCH_UP};
use crate::outbound::{Outbound, OutboundSender};
use chat_core::readmodel::ReadModel;
use chat_schemas::ws::ServerFrame;
use std::time::Duration;

pub type ConnectionId = u64;

/// The rooms this gateway receives, and which connections want each.
pub struct Fanout {
    client: Client,
    log: EventLog,
    rooms: Mutex<HashMap<RoomId, RoomSubscribers>>,
}

struct RoomSubscribers {
    connections: HashMap<ConnectionId, (UserId, OutboundSender)>,
    /// The last event of the room offered to its connections (from the room's latest
    /// when the subscription was made; unknown if that could not be read).
    handed_on: Option<u64>,
    task: tokio::task::AbortHandle,
    /// For rooms too large for per-member presence: the task sending counts.
    counts: Option<tokio::task::AbortHandle>,
}

impl Drop for RoomSubscribers {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(counts) = &self.counts {
            counts.abort();
        }
    }
}

/// How often a large room's presence counts are sent.
pub const ROOM_PRESENCE_EVERY: Duration = Duration::from_secs(10);

impl Fanout {
    pub fn new(log: EventLog) -> Arc<Self> {
        Arc::new(Self {
            client: log.client().clone(),
            log,
            rooms: Mutex::new(HashMap::new()),
        })
    }

    /// Adds a connection to `room`. When this returns, the server has the subscription:
    /// every event stored from now on reaches the connection.
    pub async fn subscribe(
        self: &Arc<Self>,
        room: &RoomId,
        connection: ConnectionId,
        user: UserId,
        out: OutboundSender,
    ) -> Result<(), async_nats::Error> {
        let joined_existing = {
            let mut rooms = self.rooms.lock().expect("fan-out lock");
            match rooms.get_mut(room) {
                Some(entry) => {
                    entry.connections.insert(connection, (user, out.clone()));
                    true
                }
                None => false,
            }
        };
        if !joined_existing {
            let subscriber = self.client.subscribe(subjects::live_room(room)).await?;
            self.client.flush().await?;
            // Everything after this position reaches the room's connections, live or by a
            // gap fill. Read after the SUB, so it is at most what a connection reads next.
            let room_log = RoomLog::new(self.log.clone(), room);
            // Unknown (the log is unreachable): the first live event sets it.
            let from = room_log.latest().await;
            let mut rooms = self.rooms.lock().expect("fan-out lock");
            match rooms.get_mut(room) {
                // Another connection subscribed meanwhile; ours is dropped (unsubscribed).
                Some(entry) => {
                    entry.connections.insert(connection, (user, out));
                }
                None => {
                    metrics::gauge!("chat_gateway_room_subscriptions").increment(1.0);
                    let task = tokio::spawn(deliver(
                        Arc::downgrade(self),
                        room.clone(),
                        subscriber,
                        room_log,
                    ));
                    rooms.insert(
                        room.clone(),
                        RoomSubscribers {
                            connections: HashMap::from([(connection, (user, out))]),
                            handed_on: from,
                            task: task.abort_handle(),
                            counts: None,
                        },
                    );
                }
            }
        }
        // A flush round-trip guarantees the SUB (ours or the earlier one) is in force.
        self.client.flush().await?;
        Ok(())
    }

    /// Removes a connection from `room`; the last one out ends the subscription.
    pub fn unsubscribe(&self, room: &RoomId, connection: ConnectionId) {
        let mut rooms = self.rooms.lock().expect("fan-out lock");
        if let Some(entry) = rooms.get_mut(room) {
            entry.connections.remove(&connection);
            if entry.connections.is_empty() {
                rooms.remove(room); // dropping the entry stops its tasks
                metrics::gauge!("chat_gateway_room_subscriptions").decrement(1.0);
            }
        }
    }

    /// Sends `room`'s presence counts to its local connections now and every
    /// [`ROOM_PRESENCE_EVERY`] while anyone here is in it (one task per room per gateway).
    pub fn count_presence(self: &Arc<Self>, room: &RoomId, read: ReadModel) {
        let mut rooms = self.rooms.lock().expect("fan-out lock");
        let Some(entry) = rooms.get_mut(room) else {
            return;
        };
        if entry.counts.is_some() {
            return;
        }
        let (fanout, room) = (Arc::downgrade(self), room.clone());
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(ROOM_PRESENCE_EVERY);
            loop {
                tick.tick().await;
                let Ok((members, online)) = read.room_presence_counts(&room).await else {
                    continue;
                };
                let frame = frames::encode(&ServerFrame::RoomPresence {
                    room_id: room.to_string(),
                    members,
                    online,
                });
                let Some(fanout) = fanout.upgrade() else {
                    return;
                };
                fanout.offer_to_room(&room, frame, None);
            }
        });
        entry.counts = Some(task.abort_handle());
    }

    /// Offers a frame to the local connections in `room`, except those of `except`.
    pub fn offer_to_room(&self, room: &RoomId, frame: Utf8Bytes, except: Option<UserId>) {
        let rooms = self.rooms.lock().expect("fan-out lock");
        if let Some(entry) = rooms.get(room) {
            for (user, out) in entry.connections.values() {
                if Some(*user) != except {
                    out.offer(Outbound::Reply(frame.clone()));
                }
            }
        }
    }

    /// Offers a `receipt` of `reader` to the local connections in `room` but the reader's,
    /// unless the room is over the presence member bound (it then has a counts task: see
    /// [`Self::count_presence`]); such rooms get no receipts.
    pub fn offer_receipt(&self, room: &RoomId, frame: Utf8Bytes, reader: UserId) {
        let rooms = self.rooms.lock().expect("fan-out lock");
        if let Some(entry) = rooms.get(room).filter(|entry| entry.counts.is_none()) {
            for (user, out) in entry.connections.values() {
                if *user != reader {
                    out.offer(Outbound::Reply(frame.clone()));
                }
            }
        }
    }

    /// Whether `connection` receives `room` (it joined, and no `member.left` of its user
    /// has come since).
    pub fn is_subscribed(&self, room: &RoomId, connection: ConnectionId) -> bool {
        let rooms = self.rooms.lock().expect("fan-out lock");
        rooms
            .get(room)
            .is_some_and(|entry| entry.connections.contains_key(&connection))
    }

    /// The room's latest sequence for a connection in it: what the log answers, or the
    /// last event this gateway has offered the room's connections if that is later (a
    /// replica answering direct gets can lag behind what the stream leader republished:
    /// a position before events the connection was never offered would leave a gap).
    pub async fn latest_in_room(
        &self,
        room: &RoomId,
    ) -> Result<u64, chat_core::eventlog::publish::ReadError> {
        let latest = self.log.latest_in_room(room).await?;
        let rooms = self.rooms.lock().expect("fan-out lock");
        let handed_on = rooms.get(room).and_then(|entry| entry.handed_on);
        Ok(latest.max(handed_on.unwrap_or(0)))
    }

    /// How many rooms this gateway is subscribed to (for metrics and tests).
    pub fn room_count(&self) -> usize {
        self.rooms.lock().expect("fan-out lock").len()
    }
}

async fn deliver(
    fanout: std::sync::Weak<Fanout>,
    room: RoomId,
    mut subscriber: async_nats::Subscriber,
    mut log: RoomLog,
) {
    let started = tokio::time::Instant::now();
    let mut catch_up = CATCH_UP.iter();
    let mut next_check = catch_up.next();
    loop {
        let check = async {
            match next_check {
                Some(after) => tokio::time::sleep_until(started + *after).await,
                None => std::future::pending().await,
            }
        };
        let message = tokio::select! {
            message = subscriber.next() => match message {
                Some(message) => message,
                None => return,
            },
            () = check => {
                next_check = catch_up.next();
                if let Some(latest) = log.latest().await {
                    if !fill(&fanout, &room, &mut log, latest).await {
                        return;
                    }
                }
                continue;
            }
        };
        let Some((seq, prev)) = sequences(message.headers.as_ref()) else {
            tracing::warn!(%room, "republished message without sequence headers; skipped");
            continue;
        };
        if !fill(&fanout, &room, &mut log, prev).await {
            return;
        }
        let span = tracing::info_span!("gateway.fanout", room = %room, seq);
        chat_core::telemetry::continue_trace(&span, message.headers.as_ref());
        let _entered = span.enter();
        // Events at or before the position are handed on too: each connection's writer
        // drops what it has already sent.
        if !hand_on(
            &fanout,
            &room,
            seq,
            prev,
            message.headers.as_ref(),
            &message.payload,
        ) {
            return;
        }
    }
}

/// Hands on the room's stored events after the last one handed on up to `upto`, if any
/// are missing. Answers false when the subscription is over.
async fn fill(
    fanout: &std::sync::Weak<Fanout>,
    room: &RoomId,
    log: &mut RoomLog,
    upto: u64,
) -> bool {
    let handed_on = match fanout.upgrade() {
        Some(fanout) => match fanout.rooms.lock().expect("fan-out lock").get(room) {
            Some(entry) => entry.handed_on,
            None => return true,
        },
        None => return false,
    };
    let Some(after) = handed_on.filter(|after| *after < upto) else {
        return true;
    };
    let missing = log.read(after, upto).await;
    metrics::counter!("chat_gateway_gap_fills_total").increment(1);
    metrics::counter!("chat_gateway_gap_filled_events_total").increment(missing.len() as u64);
    tracing::debug!(%room, after, upto, found = missing.len(), "gap filled");
    let mut prev = after;
    for stored in missing {
        if !hand_on(
            fanout,
            room,
            stored.seq,
            prev,
            stored.headers.as_ref(),
            &stored.payload,
        ) {
            return false;
        }
        prev = stored.seq;
    }
    true
}

/// Offers one event to the room's connections (and drops those of a member who left).
/// Answers false when the subscription is over.
fn hand_on(
    fanout: &std::sync::Weak<Fanout>,
    room: &RoomId,
    seq: u64,
    prev: u64,
    headers: Option<&HeaderMap>,
    payload: &[u8],
) -> bool {
    let Some(frame) = frames::event_frame(room, seq, prev, payload) else {
        tracing::warn!(%room, seq, "stored payload is not JSON; skipped");
        return true;
    };
    let left = departed_member(headers, payload);
    let Some(fanout) = fanout.upgrade() else {
        return false;
    };
    let mut rooms = fanout.rooms.lock().expect("fan-out lock");
    let Some(entry) = rooms.get_mut(room) else {
        return true;
    };
    entry.handed_on = Some(entry.handed_on.unwrap_or(0).max(seq));
    for (_, out) in entry.connections.values() {
        out.offer(Outbound::Live {
            room: room.clone(),
            seq,
            frame: Utf8Bytes::clone(&frame),
        });
    }
    if let Some(user) = left {
        entry.connections.retain(|_, (member, out)| {
            let stays = *member != user;
            if !stays {
                out.offer(Outbound::Forget { room: room.clone() });
            }
            stays
        });
        if entry.connections.is_empty() {
            rooms.remove(room);
            metrics::gauge!("chat_gateway_room_subscriptions").decrement(1.0);
            return false;
        }
    }
    true
}

/// The user a `member.left` event is about (the header spares parsing other events).
fn departed_member(headers: Option<&HeaderMap>, payload: &[u8]) -> Option<UserId> {
    let kind = headers?.get(EVENT_TYPE_HEADER)?.as_str();
    if kind != "member.left" {
        return None;
    }
    match serde_json::from_slice::<Envelope>(payload).ok()?.body {
        EventBody::MemberLeft { user_id } => Some(user_id),
        _ => None,
    }
}

fn sequences(headers: Option<&HeaderMap>) -> Option<(u64, u64)> {
    let headers = headers?;
    let seq = headers.get("Nats-Sequence")?.as_str().parse().ok()?;
    let prev = headers
        .get("Nats-Last-Sequence")
        .and_then(|v| v.as_str().parse().ok())
        .unwrap_or(0);
    Some((seq, prev))
}
