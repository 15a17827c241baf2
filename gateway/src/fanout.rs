//! Live fan-out: one core NATS subscription per room on this gateway, on the room's
//! RePublish subject (`live.room.<roomId>`), shared by every local connection in that room
//! (refcounted: the first connection subscribes, the last one unsubscribes).
//!
//! Each republished event carries `Nats-Sequence` (its stream sequence, the client's
//! cursor) and `Nats-Last-Sequence` (the previous event of the same room). The frame is
//! built once per event and shared by every connection.
//!
//! Membership is enforced here too: after a `member.left` event, the connections of the
//! user who left stop receiving the room, whichever device or gateway the leave came from.

use async_nats::{Client, HeaderMap};
use axum::extract::ws::Utf8Bytes;
use chat_core::eventlog::publish::EVENT_TYPE_HEADER;
use chat_core::eventlog::subjects;
use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::{RoomId, UserId};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::frames;
use crate::outbound::{Outbound, OutboundSender};
use chat_core::readmodel::ReadModel;
use chat_schemas::ws::ServerFrame;
use std::time::Duration;

pub type ConnectionId = u64;

/// The rooms this gateway receives, and which connections want each.
pub struct Fanout {
    client: Client,
    rooms: Mutex<HashMap<RoomId, RoomSubscribers>>,
}

struct RoomSubscribers {
    connections: HashMap<ConnectionId, (UserId, OutboundSender)>,
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
    pub fn new(client: Client) -> Arc<Self> {
        Arc::new(Self {
            client,
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
            let mut rooms = self.rooms.lock().expect("fan-out lock");
            match rooms.get_mut(room) {
                // Another connection subscribed meanwhile; ours is dropped (unsubscribed).
                Some(entry) => {
                    entry.connections.insert(connection, (user, out));
                }
                None => {
                    metrics::gauge!("chat_gateway_room_subscriptions").increment(1.0);
                    let task =
                        tokio::spawn(deliver(Arc::downgrade(self), room.clone(), subscriber));
                    rooms.insert(
                        room.clone(),
                        RoomSubscribers {
                            connections: HashMap::from([(connection, (user, out))]),
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

    /// Whether `connection` receives `room` (it joined, and no `member.left` of its user
    /// has come since).
    pub fn is_subscribed(&self, room: &RoomId, connection: ConnectionId) -> bool {
        let rooms = self.rooms.lock().expect("fan-out lock");
        rooms
            .get(room)
            .is_some_and(|entry| entry.connections.contains_key(&connection))
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
) {
    while let Some(message) = subscriber.next().await {
        let Some((seq, prev)) = sequences(message.headers.as_ref()) else {
            tracing::warn!(%room, "republished message without sequence headers; skipped");
            continue;
        };
        let span = tracing::info_span!("gateway.fanout", room = %room, seq);
        chat_core::telemetry::continue_trace(&span, message.headers.as_ref());
        let _entered = span.enter();
        let Some(frame) = frames::event_frame(&room, seq, prev, &message.payload) else {
            tracing::warn!(%room, seq, "republished payload is not JSON; skipped");
            continue;
        };
        let left = departed_member(&message);
        let Some(fanout) = fanout.upgrade() else {
            return;
        };
        let mut rooms = fanout.rooms.lock().expect("fan-out lock");
        let Some(entry) = rooms.get_mut(&room) else {
            continue;
        };
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
                rooms.remove(&room);
                metrics::gauge!("chat_gateway_room_subscriptions").decrement(1.0);
                return;
            }
        }
    }
}

/// The user a `member.left` event is about (the header spares parsing other events).
fn departed_member(message: &async_nats::Message) -> Option<UserId> {
    let kind = message.headers.as_ref()?.get(EVENT_TYPE_HEADER)?.as_str();
    if kind != "member.left" {
        return None;
    }
    match serde_json::from_slice::<Envelope>(&message.payload)
        .ok()?
        .body
    {
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
