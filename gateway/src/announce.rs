//! Telling the event log that a connection opened, went idle or active, and closed: in
//! that order, retried until stored, with stable `Nats-Msg-Id`s so a retry never counts
//! twice.
//!
//! Presence is derived from these events, so losing one would leave a user online (or
//! offline) for ever. One task per gateway ([`Announcements`]) stores them for every
//! connection: per connection at most one event is in flight, so `connection.opened` is
//! stored before any `connection.idle`, and those before `connection.closed`; only the
//! latest idleness counts, so changes that happen while one is being stored are
//! coalesced, and a close overtakes an idleness change not yet started. Each event is
//! retried with backoff for up to [`RETRY_FOR`] (through a NATS restart or a leader
//! election). Connections of one gateway are announced concurrently.
//!
//! A connection holds only an [`Announced`] handle (an id and a sender), not a task of its
//! own: an idle connection costs the gateway one small entry in the announcer's map.

use chat_core::commands::Commands;
use chat_core::eventlog::PublishOptions;
use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::UserId;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

use crate::fanout::ConnectionId;

/// How long a connection event is retried before it is given up (and logged).
pub const RETRY_FOR: Duration = Duration::from_secs(300);

/// What a connection tells the announcer.
enum Note {
    Opened {
        id: ConnectionId,
        user: UserId,
        connection_id: Box<str>,
    },
    Idle(ConnectionId, bool),
    Closed(ConnectionId, Option<oneshot::Sender<()>>),
}

/// The gateway's announcer: one task storing every connection's events.
#[derive(Clone)]
pub struct Announcements {
    notes: mpsc::UnboundedSender<Note>,
}

impl Announcements {
    /// Starts the announcer task of a gateway (`gateway_id`, `boot_id`); it runs until the
    /// last handle is dropped and every event is stored or given up.
    pub fn start(commands: Commands, gateway_id: String, boot_id: String) -> Self {
        let (notes, receiver) = mpsc::unbounded_channel();
        let place = Place {
            gateway_id,
            boot_id,
        };
        tokio::spawn(run(commands, place, receiver));
        Self { notes }
    }

    /// Announces a new connection (`connection.opened` is stored at once); its handle
    /// reports idleness and the close.
    pub fn opened(&self, id: ConnectionId, user: UserId, connection_id: &str) -> Announced {
        let _ = self.notes.send(Note::Opened {
            id,
            user,
            connection_id: connection_id.into(),
        });
        Announced {
            id,
            notes: self.notes.clone(),
            idle: false,
            closed: false,
        }
    }
}

/// One connection's side of the announcer. Dropping it without [`Announced::closed`] (a
/// connection that ended abruptly) still announces the close.
pub struct Announced {
    id: ConnectionId,
    notes: mpsc::UnboundedSender<Note>,
    idle: bool,
    closed: bool,
}

impl Announced {
    /// The connection is idle (or active again); only changes are sent.
    pub fn idle(&mut self, idle: bool) {
        if self.idle != idle {
            self.idle = idle;
            let _ = self.notes.send(Note::Idle(self.id, idle));
        }
    }

    /// The connection ended: `connection.closed` is stored after what came before. Waits
    /// at most `bound` for it; past that it keeps being retried without the connection.
    pub async fn closed(mut self, bound: Duration) {
        self.closed = true;
        let (stored, on_stored) = oneshot::channel();
        if self.notes.send(Note::Closed(self.id, Some(stored))).is_ok() {
            let _ = tokio::time::timeout(bound, on_stored).await;
        }
    }
}

impl Drop for Announced {
    fn drop(&mut self) {
        if !self.closed {
            let _ = self.notes.send(Note::Closed(self.id, None));
        }
    }
}

/// Where connections of this process are.
struct Place {
    gateway_id: String,
    boot_id: String,
}

/// The announcer's record of one connection.
struct Connection {
    user: UserId,
    connection_id: Box<str>,
    /// `connection.opened` is stored.
    opened: bool,
    stored_idle: bool,
    wanted_idle: bool,
    /// Idleness changes stored so far: numbers the idle events' message ids.
    changes: u64,
    /// An event of this connection is being stored.
    busy: bool,
    /// The connection ended; who waits for its `connection.closed`.
    closing: Option<Vec<oneshot::Sender<()>>>,
}

/// Which event a store was for.
#[derive(Clone, Copy)]
enum Stored {
    Opened,
    Idle(bool),
    Closed,
}

async fn run(commands: Commands, place: Place, mut notes: mpsc::UnboundedReceiver<Note>) {
    let mut connections: HashMap<ConnectionId, Connection> = HashMap::new();
    let mut storing = FuturesUnordered::new();
    let mut open = true;
    while open || !storing.is_empty() {
        let touched = tokio::select! {
            note = notes.recv(), if open => match note {
                Some(note) => note_down(&mut connections, note),
                None => {
                    open = false;
                    None
                }
            },
            Some((id, stored)) = storing.next() => finished(&mut connections, id, stored),
        };
        let Some(id) = touched else { continue };
        let Some(connection) = connections.get_mut(&id) else {
            continue;
        };
        if let Some((event, msg_id, stored)) = next_event(connection, &place) {
            connection.busy = true;
            let commands = &commands;
            storing.push(async move {
                store(commands, &event, msg_id).await;
                (id, stored)
            });
        }
    }
}

/// Records that an event was stored; answers the connection that may have more to store.
fn finished(
    connections: &mut HashMap<ConnectionId, Connection>,
    id: ConnectionId,
    stored: Stored,
) -> Option<ConnectionId> {
    let connection = connections.get_mut(&id)?;
    connection.busy = false;
    match stored {
        Stored::Opened => connection.opened = true,
        Stored::Idle(idle) => {
            connection.stored_idle = idle;
            connection.changes += 1;
        }
        Stored::Closed => {
            for waiter in connections.remove(&id)?.closing.into_iter().flatten() {
                let _ = waiter.send(());
            }
            return None;
        }
    }
    Some(id)
}

/// Records a note; answers the connection that may have something to store now.
fn note_down(
    connections: &mut HashMap<ConnectionId, Connection>,
    note: Note,
) -> Option<ConnectionId> {
    match note {
        Note::Opened {
            id,
            user,
            connection_id,
        } => {
            connections.insert(
                id,
                Connection {
                    user,
                    connection_id,
                    opened: false,
                    stored_idle: false,
                    wanted_idle: false,
                    changes: 0,
                    busy: false,
                    closing: None,
                },
            );
            Some(id)
        }
        Note::Idle(id, idle) => {
            connections.get_mut(&id)?.wanted_idle = idle;
            Some(id)
        }
        Note::Closed(id, waiter) => {
            let closing = connections
                .get_mut(&id)?
                .closing
                .get_or_insert_with(Vec::new);
            closing.extend(waiter);
            Some(id)
        }
    }
}

/// The connection's next event to store, unless one is in flight: the open first, then
/// the close if it ended, else the idleness when it changed.
fn next_event(connection: &Connection, place: &Place) -> Option<(Envelope, String, Stored)> {
    if connection.busy {
        return None;
    }
    let user = connection.user;
    let connection_id = connection.connection_id.to_string();
    if !connection.opened {
        let body = EventBody::ConnectionOpened {
            connection_id: connection_id.clone(),
            gateway_id: place.gateway_id.clone(),
            boot_id: place.boot_id.clone(),
        };
        let msg_id = format!("opened:{connection_id}");
        return Some((Envelope::user(user, user, body), msg_id, Stored::Opened));
    }
    if connection.closing.is_some() {
        let msg_id = format!("closed:{connection_id}");
        let body = EventBody::ConnectionClosed {
            connection_id,
            reason: "closed".into(),
        };
        return Some((Envelope::user(user, user, body), msg_id, Stored::Closed));
    }
    if connection.wanted_idle != connection.stored_idle {
        let idle = connection.wanted_idle;
        let msg_id = format!("idle:{connection_id}:{}", connection.changes + 1);
        let body = EventBody::ConnectionIdle {
            connection_id,
            idle,
        };
        return Some((Envelope::user(user, user, body), msg_id, Stored::Idle(idle)));
    }
    None
}

async fn store(commands: &Commands, event: &Envelope, msg_id: String) {
    let started = Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        let options = PublishOptions {
            msg_id: Some(msg_id.clone()),
            expect_new_subject: false,
        };
        match commands.publish(event, options).await {
            Ok(_) => return,
            Err(e) if started.elapsed() > RETRY_FOR => {
                tracing::error!(msg_id, code = e.code, "connection event given up");
                return;
            }
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}
