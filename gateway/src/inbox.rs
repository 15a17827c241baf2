//! The per-user inbox, relayed to this gateway's connections of that user.
//!
//! The projector publishes each committed membership change as a ready `roomAdded` or
//! `roomRemoved` frame on `live.inbox.<userId>` (core NATS); any other server frame
//! published there is a per-user notice too and is passed on as it is. This gateway subscribes once
//! (`live.inbox.*`, like presence) and hands each notice to every local connection of that
//! user, through a small queue the connection's driver reads between frames: the session
//! decides what to send (see `session::inbox` for the ordering rules), so a notice never
//! overtakes the connection's own `join`.
//!
//! A connection registers before its `hello` reads the user's rooms, so nothing falls in
//! between. A connection whose queue is full (it stopped reading) is closed as a slow
//! consumer; it reconnects and learns its rooms from `hello.rooms`.

use async_nats::Client;
use chat_core::eventlog::subjects;
use chat_schemas::ws::{close, ServerFrame};
use chat_schemas::UserId;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

use crate::fanout::ConnectionId;
use crate::outbound::{Outbound, OutboundSender};

/// Notices waiting for one connection's driver; beyond this the connection is closed.
///
/// The driver reads notices between the I/O it does for the client's own frames, so a burst
/// of notices (being added to 150 rooms within seconds while the page resumes them in
/// batches) can wait behind a few slow batches on a busy machine; 64 closed such a
/// connection. tokio allocates a bounded channel's slots in blocks of 32 as they fill, so a
/// larger bound costs nothing until it is used; the per-person add limit in the api keeps
/// strangers far below it.
const QUEUE: usize = 1024;

/// Where one connection's notices go. The queue holds shared pointers: its first block is
/// allocated with the channel, for every connection, so its slots stay a word each.
struct Registration {
    notices: mpsc::Sender<Arc<ServerFrame>>,
    out: OutboundSender,
}

/// The local connections of each user, for their inbox and their own `profile` frames.
#[derive(Default)]
pub struct InboxRelay {
    users: Mutex<HashMap<UserId, HashMap<ConnectionId, Registration>>>,
}

/// A connection's inbox queue; dropping it does not unregister (see [`InboxRelay::leave`]).
pub type InboxReceiver = mpsc::Receiver<Arc<ServerFrame>>;

impl InboxRelay {
    /// Starts delivering `user`'s notices to this connection.
    pub fn register(
        &self,
        user: UserId,
        connection: ConnectionId,
        out: &OutboundSender,
    ) -> InboxReceiver {
        let (notices, receiver) = mpsc::channel(QUEUE);
        let registration = Registration {
            notices,
            out: out.clone(),
        };
        self.users
            .lock()
            .expect("inbox lock")
            .entry(user)
            .or_default()
            .insert(connection, registration);
        receiver
    }

    /// Stops delivering to this connection.
    pub fn leave(&self, user: UserId, connection: ConnectionId) {
        let mut users = self.users.lock().expect("inbox lock");
        if let Some(connections) = users.get_mut(&user) {
            connections.remove(&connection);
            if connections.is_empty() {
                users.remove(&user);
            }
        }
    }

    /// Queues `frame` for each of `user`'s connections here, through their sessions (after
    /// `hello`, in order with what the session sends).
    pub fn deliver(&self, user: UserId, frame: &ServerFrame) {
        if let Some(connections) = self.users.lock().expect("inbox lock").get(&user) {
            let frame = Arc::new(frame.clone());
            for registration in connections.values() {
                if registration.notices.try_send(frame.clone()).is_err() {
                    registration
                        .out
                        .close(close::SLOW_CONSUMER, "inbox not read: reconnect");
                }
            }
        }
    }

    /// Queues an encoded frame straight to each of `user`'s connections here (for frames
    /// with no ordering to keep, such as their own `profile`).
    pub fn offer_to_user(&self, user: UserId, frame: &axum::extract::ws::Utf8Bytes) {
        if let Some(connections) = self.users.lock().expect("inbox lock").get(&user) {
            for registration in connections.values() {
                registration.out.offer(Outbound::Reply(frame.clone()));
            }
        }
    }

    /// Relays inbox notices until the NATS connection ends.
    pub async fn run(self: Arc<Self>, client: Client) -> Result<(), async_nats::Error> {
        let mut notices = client
            .subscribe(format!("{}.*", subjects::INBOX_PREFIX))
            .await?;
        while let Some(notice) = notices.next().await {
            let user = notice
                .subject
                .rsplit('.')
                .next()
                .and_then(|u| UserId::parse(u).ok());
            let frame = serde_json::from_slice::<ServerFrame>(&notice.payload).ok();
            if let (Some(user), Some(frame)) = (user, frame) {
                self.deliver(user, &frame);
            }
        }
        Ok(())
    }
}
