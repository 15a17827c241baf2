//! Presence and typing, relayed to the connections that want them.
//!
//! - **Presence**: the projector publishes each committed change of a user's status on
//!   `live.presence.<userId>` (already a `presence` frame). This gateway subscribes once
//!   (`live.presence.*`) and forwards each to the local connections watching that user:
//!   members of rooms they joined (up to `presence_member_limit` members) and users they
//!   asked for with `watch`.
//! - **Typing**: `typing` status events are RePublished on `live.user.<userId>`; this
//!   gateway subscribes once (`live.user.*`) and sends a `typing` frame to the local
//!   connections in that room, except the typist's own.
//!
//! - **Profiles**: display-name changes are RePublished on `live.profile.<userId>`; this
//!   gateway subscribes once (`live.profile.*`) and sends a `profile` frame to the same
//!   connections as that user's presence, and to the user's own connections.
//!
//! One wildcard subscription per gateway keeps the subscription count flat however many
//! users are online; presence traffic is small next to messages.

use async_nats::Client;
use axum::extract::ws::Utf8Bytes;
use chat_core::eventlog::publish::EVENT_TYPE_HEADER;
use chat_core::eventlog::subjects;
use chat_schemas::events::{Envelope, EventBody, Status};
use chat_schemas::ws::ServerFrame;
use chat_schemas::UserId;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::fanout::{ConnectionId, Fanout};
use crate::frames;
use crate::inbox::InboxRelay;
use crate::outbound::{Outbound, OutboundSender};

/// How long a client shows "typing" unless it is repeated (the projector's TTL too).
pub const TYPING_SHOWN_MS: u64 = 5_000;

#[derive(Default)]
pub struct PresenceRelay {
    watchers: Mutex<HashMap<UserId, HashMap<ConnectionId, OutboundSender>>>,
}

impl PresenceRelay {
    pub fn watch(&self, user: UserId, connection: ConnectionId, out: &OutboundSender) {
        self.watchers
            .lock()
            .expect("presence lock")
            .entry(user)
            .or_default()
            .insert(connection, out.clone());
    }

    pub fn unwatch_all(&self, connection: ConnectionId, users: impl IntoIterator<Item = UserId>) {
        let mut watchers = self.watchers.lock().expect("presence lock");
        for user in users {
            if let Some(conns) = watchers.get_mut(&user) {
                conns.remove(&connection);
                if conns.is_empty() {
                    watchers.remove(&user);
                }
            }
        }
    }

    fn relay(&self, user: UserId, frame: Utf8Bytes) {
        if let Some(conns) = self.watchers.lock().expect("presence lock").get(&user) {
            for out in conns.values() {
                out.offer(Outbound::Reply(frame.clone()));
            }
        }
    }

    /// Subscribes to presence notices, typing events and profile changes; runs until the
    /// connection ends.
    pub async fn run(
        self: Arc<Self>,
        client: Client,
        fanout: Arc<Fanout>,
        inbox: Arc<InboxRelay>,
    ) -> Result<(), async_nats::Error> {
        let mut profiles = client
            .subscribe(format!("{}.*", subjects::LIVE_PROFILE_PREFIX))
            .await?;
        let mut notices = client
            .subscribe(format!("{}.*", subjects::PRESENCE_PREFIX))
            .await?;
        let mut user_events = client
            .subscribe(format!("{}.*", subjects::LIVE_USER_PREFIX))
            .await?;
        loop {
            tokio::select! {
                Some(notice) = notices.next() => {
                    let user = notice.subject.rsplit('.').next().and_then(|u| UserId::parse(u).ok());
                    let frame = std::str::from_utf8(&notice.payload).ok().map(|s| Utf8Bytes::from(s.to_owned()));
                    if let (Some(user), Some(frame)) = (user, frame) {
                        self.relay(user, frame);
                    }
                }
                Some(event) = user_events.next() => {
                    let is_status = event
                        .headers
                        .as_ref()
                        .and_then(|h| h.get(EVENT_TYPE_HEADER))
                        .is_some_and(|t| t.as_str() == "status.changed");
                    if !is_status {
                        continue;
                    }
                    let Ok(envelope) = serde_json::from_slice::<Envelope>(&event.payload) else { continue };
                    if let EventBody::StatusChanged { status: Status::Typing, room_id: Some(room) } = envelope.body {
                        let frame = frames::encode(&ServerFrame::Typing {
                            room_id: room.to_string(),
                            user_id: envelope.actor.to_string(),
                            expires_in_ms: TYPING_SHOWN_MS,
                        });
                        fanout.offer_to_room(&room, frame, Some(envelope.actor));
                    }
                }
                Some(event) = profiles.next() => {
                    let Ok(envelope) = serde_json::from_slice::<Envelope>(&event.payload) else { continue };
                    if let EventBody::ProfileChanged { display_name } = envelope.body {
                        let user = envelope.user_id.unwrap_or(envelope.actor);
                        let frame = frames::encode(&ServerFrame::Profile {
                            user_id: user.to_string(),
                            display_name,
                        });
                        inbox.offer_to_user(user, &frame);
                        self.relay(user, frame);
                    }
                }
                else => return Ok(()),
            }
        }
    }
}
