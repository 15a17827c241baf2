//! One WebSocket connection from admission to its end: authentication (at the handshake,
//! or an `auth` frame first), then the [`crate::session`] state machine run by
//! [`crate::driver`] while the writer (see [`crate::outbound`]) sends replies and live
//! events, and finally the release of everything the connection held.
//!
//! A connection is one task: the reader and the writer are two futures joined in it, and
//! its `opened` / `closed` events are stored by the gateway's announcer (see
//! [`crate::announce`]), not by a task of its own.

use axum::extract::ws::Message;
use chat_core::sessions::AuthError;
use chat_core::tokens::Verified;
use chat_schemas::ws::{close, ClientFrame};
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

use crate::admission::{AddressSlot, UserSlot};
use crate::driver::{self, Driver};
use crate::frames;
use crate::outbound::{self, OutboundSender};
use crate::session::{self, Limits, Session};
use crate::transport::{FrameSink, FrameStream};
use crate::GatewayState;

/// What the handshake admitted: the user, when a valid token came with it, and the slots
/// counting this connection against its caps (see [`crate::admission`]), held until it
/// ends.
pub struct Admitted {
    pub user: Option<(Verified, UserSlot)>,
    pub address: AddressSlot,
}

/// Longest a closing connection waits for its `connection.closed` to be stored (the
/// announcer keeps retrying it after that; see [`crate::announce`]).
const ANNOUNCE_BOUND: Duration = Duration::from_secs(2);

/// How long a closing connection waits for the client's Close reply.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(2);

/// RFC 6455's "Try Again Later".
const TRY_AGAIN_LATER: u16 = 1013;

/// Runs a connection to its end.
pub async fn run(
    state: GatewayState,
    (sink, mut stream): (impl FrameSink, impl FrameStream),
    admitted: Admitted,
) {
    let Admitted { user, address } = admitted;
    let (verified, user_slot) = match user {
        Some(admitted) => admitted,
        // Boxed: what a connection awaits only once need not size its task for good.
        None => match Box::pin(authenticate(&state, &mut stream)).await {
            Ok(verified) => match state.admission().admit_user(verified.user) {
                Ok(slot) => (verified, slot),
                Err(full) => {
                    let refusal = Refused {
                        code: "too_many_connections",
                        detail: full.message().to_owned(),
                        close: close::TOO_MANY_CONNECTIONS,
                        reason: "too many connections",
                    };
                    return refusal.send(sink).await;
                }
            },
            Err(refusal) => return refusal.send(sink).await,
        },
    };
    let config = state.config().clone();
    let (out, queue) = outbound::channel(config.queue_frames, config.queue_bytes);
    // The writer runs beside the reader in this same task (one task per connection): it
    // must, since the reader waits for room in the queue that only the writer frees.
    let writer = outbound::write_loop(
        sink,
        queue,
        config.heartbeat_interval,
        state.shutdown_token(),
    );
    let serving = serve(&state, verified, (user_slot, address), out, &mut stream);
    tokio::join!(writer, serving);
    // Closing handshake: give the client a moment to answer our Close frame. Dropping the
    // socket at once would reset the connection under a client that is still sending
    // (pongs, say) and it would lose the Close frame and its code.
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
        while stream.next().await.is_some() {}
    })
    .await;
}

/// The authenticated connection: its session and driver until the client goes, then the
/// release of everything it held. Dropping `out` (the last sender) ends the writer.
async fn serve(
    state: &GatewayState,
    verified: Verified,
    slots: (UserSlot, AddressSlot),
    out: OutboundSender,
    stream: &mut impl FrameStream,
) {
    let config = state.config();
    slots.0.attach(verified.generation, &out);
    // A logout between the token check and the attach above sent its notice before this
    // connection could hear it: check once more now that a notice would reach it.
    if let Err(AuthError::Revoked) = Box::pin(state.sessions().check(&verified)).await {
        out.close(
            close::SESSION_REVOKED,
            "session ended: logged out or banned",
        );
        return;
    }
    let id = state.next_connection_id();
    let connection_id = format!("{}-{}", state.boot_id(), id);
    let limits = Limits {
        max_rooms: config.max_rooms_per_connection,
        presence_member_limit: config.presence_member_limit,
        flood_close_after: config.flood_close_after,
        heartbeat: config.heartbeat_interval,
        idle_timeout: config.idle_timeout,
    };
    let announced = state
        .announcements()
        .opened(id, verified.user, &connection_id);
    let mut session = Session::new(verified.user, connection_id, verified.expires_at, limits);
    // Before `hello` reads the user's rooms, so that no membership change falls between.
    let inbox = state.inbox().register(verified.user, id, &out);
    let mut driver = Driver {
        id,
        inbox,
        user: verified.user,
        out,
        allowance: state.user_limits().allowance(verified.user),
        in_flight: Arc::new(Semaphore::new(config.max_in_flight)),
        last_command: Instant::now(),
        announced,
        members: Default::default(),
        state: state.clone(),
    };
    metrics::gauge!("chat_gateway_connections").increment(1.0);
    let in_flight = driver.run(&mut session, stream).await;
    let (rooms, watching) = session.take_subscriptions();
    for room in rooms {
        state.fanout().unsubscribe(&room, id);
    }
    state.presence().unwatch_all(id, watching);
    state.inbox().leave(verified.user, id);
    // Sends still in flight are answered as they are stored, as long as the writer runs.
    if in_flight.any() {
        tokio::spawn(driver::answer_in_flight(
            session,
            driver.out.clone(),
            in_flight,
        ));
    }
    // The connection is over for its caps as soon as it stops reading.
    drop(slots);
    let Driver { announced, out, .. } = driver;
    Box::pin(announced.closed(ANNOUNCE_BOUND)).await;
    metrics::gauge!("chat_gateway_connections").decrement(1.0);
    drop(out);
}

/// Why a connection ends before `hello`: an `error` frame, then a Close frame.
struct Refused {
    code: &'static str,
    detail: String,
    close: u16,
    reason: &'static str,
}

impl Refused {
    fn unauthenticated(reason: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code: "unauthenticated",
            detail: detail.into(),
            close: close::UNAUTHENTICATED,
            reason,
        }
    }

    async fn send(self, mut sink: impl FrameSink) {
        use futures::SinkExt;
        let error = session::error(None, self.code, self.detail);
        let _ = sink.send(Message::Text(frames::encode(&error))).await;
        let _ = sink
            .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                code: self.close,
                reason: self.reason.into(),
            })))
            .await;
    }
}

/// Waits for the first frame, which must be `auth` with a valid token of a live session.
async fn authenticate(
    state: &GatewayState,
    stream: &mut impl FrameStream,
) -> Result<Verified, Refused> {
    let first = tokio::time::timeout(state.config().auth_timeout, stream.next())
        .await
        .map_err(|_| Refused::unauthenticated("authentication timeout", "no auth frame in time"))?;
    let Some(Ok(Message::Text(text))) = first else {
        return Err(Refused::unauthenticated(
            "unauthenticated",
            "the first frame must be auth",
        ));
    };
    let Ok(ClientFrame::Auth { token, .. }) = frames::decode(&text) else {
        return Err(Refused::unauthenticated(
            "unauthenticated",
            "the first frame must be auth",
        ));
    };
    match state.sessions().authenticate(&token).await {
        Ok(verified) => Ok(verified),
        // Not the client's fault: "try again later", not "log in again".
        Err(AuthError::Database(e)) => {
            tracing::warn!(error = %e, "cannot check a session for an auth frame");
            Err(Refused {
                code: "database_unavailable",
                detail: "the database is unavailable; retry shortly".to_owned(),
                close: TRY_AGAIN_LATER,
                reason: "database unavailable",
            })
        }
        Err(e) => Err(Refused::unauthenticated("invalid token", e.to_string())),
    }
}
