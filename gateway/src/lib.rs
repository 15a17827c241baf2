//! The WebSocket gateway: `/ws` on the gateway binary and on the all-in-one server.
//!
//! - [`handshake`]: origin, connection-cap and token checks before the upgrade, socket
//!   buffer sizes.
//! - [`admission`]: connection caps per user and per client address, and closing a user's
//!   sockets when their session is revoked (logout, ban).
//! - [`user_limits`]: the frame allowance each user's connections share.
//! - [`connection`]: one connection from admission to its end: authentication before
//!   `hello`, then the session and its driver, then releasing what it held.
//! - [`session`]: the protocol of an authenticated connection as a sans-IO state machine
//!   (re-authentication, dispatch to commands, rooms, resume, watch, replies), unit-tested
//!   with scripted frames; [`driver`] reads the socket and carries out its actions, posting
//!   under the proofs of membership in [`memberships`].
//! - [`announce`]: every connection's `opened` / `idle` / `closed` events, in order per
//!   connection, retried, by one task per gateway.
//! - [`outbound`]: the bounded per-connection queue and its writer (heartbeats,
//!   slow-consumer cut-off, per-room ordering and de-duplication); its socket writes are
//!   bounded in `socket_writer`.
//! - [`fanout`]: refcounted per-room subscriptions to the RePublish subjects.
//! - [`gaps`]: filling gaps in a room's live events from the stream.
//! - [`resume`]: replaying what a reconnecting client missed; [`room_log`] reads it from
//!   NATS under a gateway-wide bound, [`redaction`] shows it as history does.
//! - [`inbox`]: relaying each user's `roomAdded`/`roomRemoved` notices to their connections;
//! - [`presence`]: relaying presence notices and typing to the connections that want them;
//!   this gateway's heartbeat (see [`GatewayState::new`]).
//! - [`reads`]: relaying read positions to the reader's connections (`readPosition`) and,
//!   throttled by [`receipts`], to the room's other members (`receipt`).
//! - [`frames`]: encoding and decoding frames.
//! - [`config`]: `GATEWAY_*` settings.
//!
//! The protocol itself is in `chat_schemas::ws` and the README.

pub mod admission;
pub mod announce;
pub mod config;
pub mod connection;
pub mod driver;
pub mod fanout;
pub mod frames;
pub mod gaps;
pub mod handshake;
pub mod inbox;
pub mod memberships;
pub mod outbound;
pub mod presence;
pub mod reads;
pub mod receipts;
pub mod redaction;
pub mod resume;
pub mod room_log;
pub mod session;
mod socket_writer;
pub mod socketio;
pub mod transport;
pub mod user_limits;

use axum::routing::get;
use axum::Router;
use chat_core::commands::Commands;
use chat_core::eventlog::{subjects, PublishOptions};
use chat_core::sessions::Sessions;
use chat_core::tokens::Tokens;
use chat_schemas::events::{Envelope, EventBody};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::GatewayConfig;

/// What every connection of this gateway shares; cheap to clone.
#[derive(Clone)]
pub struct GatewayState {
    inner: Arc<Inner>,
}

struct Inner {
    commands: Commands,
    tokens: Tokens,
    /// Token checks against the accounts (logout, bans).
    sessions: Sessions,
    /// Connection caps, and the connections revocation closes.
    admission: Arc<admission::Admission>,
    /// Frame allowances per user, shared by their connections here.
    user_limits: user_limits::UserLimits,
    config: GatewayConfig,
    fanout: Arc<fanout::Fanout>,
    /// Cancelled when the gateway shuts down: every connection closes with 1012.
    shutdown: CancellationToken,
    /// Live connections, so shutdown can wait for them to close.
    connections: TaskTracker,
    next_connection: AtomicU64,
    /// This gateway's stable name, and this process's boot id: the reaper closes the
    /// connections of a (gateway, boot) that stops heart-beating or is replaced.
    gateway_id: String,
    boot_id: String,
    presence: Arc<presence::PresenceRelay>,
    inbox: Arc<inbox::InboxRelay>,
    reads: Arc<reads::ReadRelay>,
    /// Replay reads in flight on this gateway (see [`room_log`]).
    replay_permits: room_log::ReplayPermits,
    /// Stores the connections' `opened` / `idle` / `closed` events.
    announcements: announce::Announcements,
}

impl GatewayState {
    /// Builds the gateway and starts its background tasks (presence relay, heartbeat):
    /// call inside the Tokio runtime. `gateway_id` must be subject-safe
    /// (see [`GatewayConfig::resolve_gateway_id`]).
    pub fn new(
        commands: Commands,
        tokens: Tokens,
        config: GatewayConfig,
        gateway_id: String,
    ) -> Self {
        let fanout = fanout::Fanout::new(commands.event_log().clone());
        let sessions = commands
            .sessions(tokens.clone())
            // Handshakes answered from states read within one re-check period (the bound
            // a missed revocation notice already has; see `chat_core::sessions`).
            .caching(config.session_cache, config.session_recheck);
        let admission = admission::Admission::new(&config);
        let replay_permits = Arc::new(tokio::sync::Semaphore::new(config.replay_concurrency));
        let boot_id = uuid::Uuid::now_v7().simple().to_string();
        let announcements =
            announce::Announcements::start(commands.clone(), gateway_id.clone(), boot_id.clone());
        let state = Self {
            inner: Arc::new(Inner {
                commands,
                tokens,
                sessions,
                admission,
                user_limits: user_limits::UserLimits::new(config.frame_rate),
                config,
                fanout,
                shutdown: CancellationToken::new(),
                connections: TaskTracker::new(),
                next_connection: AtomicU64::new(1),
                gateway_id,
                boot_id,
                presence: Arc::default(),
                inbox: Arc::default(),
                reads: Arc::default(),
                replay_permits,
                announcements,
            }),
        };
        let (relay, inbox) = (state.inner.presence.clone(), state.inner.inbox.clone());
        let (client, fanout) = (
            state.commands().event_log().client().clone(),
            state.fanout().clone(),
        );
        tokio::spawn(async move {
            if let Err(e) = relay.run(client, fanout, inbox).await {
                tracing::error!(error = %e, "presence relay stopped");
            }
        });
        let (inbox, client) = (
            state.inner.inbox.clone(),
            state.commands().event_log().client().clone(),
        );
        tokio::spawn(async move {
            if let Err(e) = inbox.run(client).await {
                tracing::error!(error = %e, "inbox relay stopped");
            }
        });
        let (reads, client, fanout, inbox) = (
            state.inner.reads.clone(),
            state.commands().event_log().client().clone(),
            state.fanout().clone(),
            state.inner.inbox.clone(),
        );
        tokio::spawn(async move {
            if let Err(e) = reads.run(client, fanout, inbox).await {
                tracing::error!(error = %e, "read position relay stopped");
            }
        });
        let (client, sessions, admission) = (
            state.commands().event_log().client().clone(),
            state.inner.sessions.clone(),
            state.inner.admission.clone(),
        );
        tokio::spawn(async move {
            if let Err(e) = admission::watch_revocations(client, sessions, admission).await {
                tracing::error!(error = %e, "revocation watcher stopped");
            }
        });
        tokio::spawn(admission::recheck_sessions(
            state.commands().event_log().client().clone(),
            state.inner.sessions.clone(),
            state.inner.admission.clone(),
            state.config().session_recheck,
            state.shutdown_token(),
        ));
        tokio::spawn(heartbeat(state.clone()));
        state
    }

    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    pub fn admission(&self) -> &Arc<admission::Admission> {
        &self.inner.admission
    }

    pub fn user_limits(&self) -> &user_limits::UserLimits {
        &self.inner.user_limits
    }

    pub fn presence(&self) -> &presence::PresenceRelay {
        &self.inner.presence
    }

    pub fn inbox(&self) -> &inbox::InboxRelay {
        &self.inner.inbox
    }

    /// Where connections announce their `opened` / `idle` / `closed` events.
    pub fn announcements(&self) -> &announce::Announcements {
        &self.inner.announcements
    }

    /// The gateway-wide bound on replay reads in flight.
    pub fn replay_permits(&self) -> &room_log::ReplayPermits {
        &self.inner.replay_permits
    }

    pub fn gateway_id(&self) -> &str {
        &self.inner.gateway_id
    }

    pub fn commands(&self) -> &Commands {
        &self.inner.commands
    }

    pub fn tokens(&self) -> &Tokens {
        &self.inner.tokens
    }

    pub fn config(&self) -> &GatewayConfig {
        &self.inner.config
    }

    pub fn fanout(&self) -> &Arc<fanout::Fanout> {
        &self.inner.fanout
    }

    pub fn boot_id(&self) -> &str {
        &self.inner.boot_id
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    pub fn tracker(&self) -> TaskTracker {
        self.inner.connections.clone()
    }

    pub fn next_connection_id(&self) -> u64 {
        self.inner.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// Number of open connections.
    pub fn connection_count(&self) -> usize {
        self.inner.connections.len()
    }

    /// Tells every connection to reconnect elsewhere (close code 1012), refuses new ones,
    /// and waits (at most the drain timeout) until they have closed.
    pub async fn drain(&self) {
        self.inner.shutdown.cancel();
        self.inner.connections.close();
        let bound = self.inner.config.drain_timeout;
        if tokio::time::timeout(bound, self.inner.connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = self.connection_count(),
                "connections still open after the drain timeout"
            );
            return; // the reaper closes what is left
        }
        // Every connection published its close; the process leaves the roster at once.
        let retired = Envelope::gateway(
            self.gateway_id(),
            EventBody::GatewayRetired {
                boot_id: self.boot_id().to_owned(),
            },
        );
        let _ = self
            .commands()
            .event_log()
            .publish(
                subjects::gateway(self.gateway_id()),
                &retired,
                PublishOptions::default(),
            )
            .await;
    }

    /// The drain bound, for callers that sequence their own shutdown.
    pub fn drain_timeout(&self) -> Duration {
        self.inner.config.drain_timeout
    }
}

/// Publishes this process's heartbeat until shutdown.
async fn heartbeat(state: GatewayState) {
    let mut tick = tokio::time::interval(state.config().presence_heartbeat);
    let shutdown = state.shutdown_token();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.cancelled() => return,
        }
        let beat = Envelope::gateway(
            state.gateway_id(),
            EventBody::GatewayHeartbeat {
                boot_id: state.boot_id().to_owned(),
            },
        );
        let subject = subjects::gateway(state.gateway_id());
        if let Err(e) = state
            .commands()
            .event_log()
            .publish(subject, &beat, PublishOptions::default())
            .await
        {
            tracing::warn!(error = %e, "heartbeat not stored");
        }
    }
}

/// The gateway's routes: `/ws`, and `/socket.io/` (see [`socketio`]).
pub fn router(state: GatewayState) -> Router {
    Router::new()
        .route("/ws", get(handshake::upgrade))
        .merge(socketio::routes(state.clone()))
        .with_state(state)
}
