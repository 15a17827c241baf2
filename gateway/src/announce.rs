//! Telling the event log that a connection opened, went idle or active, and closed: in
//! that order, retried until stored, with stable `Nats-Msg-Id`s so a retry never counts
//! twice.
//!
//! Presence is derived from these events, so losing one would leave a user online (or
//! offline) for ever. One task per connection publishes `connection.opened`, then each
//! change of the connection's idleness (`connection.idle`; only the latest state counts, so
//! changes that happen while one is being stored are coalesced), then, once the
//! connection ends, `connection.closed`; each is retried with backoff for up to
//! [`RETRY_FOR`] (through a NATS restart or a leader election). Nothing is sent before the
//! open is stored, so they cannot arrive reversed.

use chat_core::commands::Commands;
use chat_core::eventlog::PublishOptions;
use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::UserId;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// How long a connection event is retried before it is given up (and logged).
pub const RETRY_FOR: Duration = Duration::from_secs(300);

/// The running announcement of one connection.
pub struct Announcer {
    closed: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// Who and where a connection is.
pub struct ConnectionInfo {
    pub user: UserId,
    pub connection_id: String,
    pub gateway_id: String,
    pub boot_id: String,
}

impl Announcer {
    /// Starts publishing `connection.opened` now, then each change of `idle`.
    pub fn start(commands: Commands, info: ConnectionInfo, idle: watch::Receiver<bool>) -> Self {
        let (closed, on_closed) = oneshot::channel();
        let task = tokio::spawn(announce(commands, info, idle, on_closed));
        Self {
            closed: Some(closed),
            task,
        }
    }

    /// The connection ended: publish `connection.closed` (after the open). Waits at most
    /// `bound` for it to be stored; past that it keeps retrying in the background.
    pub async fn closed(mut self, bound: Duration) {
        if let Some(closed) = self.closed.take() {
            let _ = closed.send(());
        }
        let _ = tokio::time::timeout(bound, &mut self.task).await;
    }
}

async fn announce(
    commands: Commands,
    info: ConnectionInfo,
    mut idle: watch::Receiver<bool>,
    mut on_closed: oneshot::Receiver<()>,
) {
    let opened = Envelope::user(
        info.user,
        info.user,
        EventBody::ConnectionOpened {
            connection_id: info.connection_id.clone(),
            gateway_id: info.gateway_id.clone(),
            boot_id: info.boot_id.clone(),
        },
    );
    store(&commands, &opened, format!("opened:{}", info.connection_id)).await;
    let (mut stored_idle, mut changes) = (false, 0u64);
    loop {
        tokio::select! {
            biased;
            // A dropped sender (the connection task ended abruptly) counts as closed too.
            _ = &mut on_closed => break,
            changed = idle.changed() => {
                if changed.is_err() {
                    let _ = (&mut on_closed).await;
                    break;
                }
            }
        }
        let now = *idle.borrow_and_update();
        if now == stored_idle {
            continue;
        }
        changes += 1;
        let event = Envelope::user(
            info.user,
            info.user,
            EventBody::ConnectionIdle {
                connection_id: info.connection_id.clone(),
                idle: now,
            },
        );
        store(
            &commands,
            &event,
            format!("idle:{}:{changes}", info.connection_id),
        )
        .await;
        stored_idle = now;
    }
    let closed = Envelope::user(
        info.user,
        info.user,
        EventBody::ConnectionClosed {
            connection_id: info.connection_id.clone(),
            reason: "closed".into(),
        },
    );
    store(&commands, &closed, format!("closed:{}", info.connection_id)).await;
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
