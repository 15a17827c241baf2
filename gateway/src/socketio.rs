//! `/socket.io/`: the native protocol for the Socket.IO clients people already use
//! (socket.io-client for browsers and Node, and its ports to Swift, Kotlin, Dart, C++…),
//! over WebSocket and HTTP long-polling. The protocol itself (Engine.IO 4, Socket.IO v5) is
//! socketioxide's; everything behind it is the `/ws` connection, unchanged: the same
//! session, command layer, fan-out, resume, limits, caps and authorization, fed by a
//! [`bridge`] that turns events into native frames and native frames into events and
//! ack callbacks (the rules are in [`mapping`]).
//!
//! A socket is admitted by the same checks as a `/ws` handshake (origin, connection caps,
//! the session of the token from the handshake's `auth` payload, `{token}`); a refusal is
//! a `connect_error` whose message is the error code (`unauthenticated` without a token,
//! `invalid_token`, `too_many_connections`, `origin_not_allowed`, `database_unavailable`,
//! `shutting_down`). Then the connection runs as one of `/ws` does and says `hello`.
//!
//! Long-polling keeps a session on the gateway that answered its handshake, so a load
//! balancer must route a polling client by its `sid` (or by client address); WebSockets
//! need no stickiness (README, "Socket.IO").

pub mod bridge;
pub mod mapping;

use axum::extract::connect_info::ConnectInfo;
use axum::Router;
use serde::Deserialize;
use socketioxide::extract::{SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::connection::{self, Admitted};
use crate::handshake;
use crate::GatewayState;
use bridge::{Bridge, BridgeSink, BridgeStream, Forwarded};

/// The handshake's `auth` payload.
#[derive(Debug, Default, Deserialize)]
struct Auth {
    token: Option<String>,
}

/// What the connect check hands to the connect handler: the admitted connection and the
/// bridge's frame stream, taken once.
#[derive(Clone)]
struct Ready(Arc<Mutex<Option<(Admitted, BridgeStream)>>>);

/// A connect refusal: its message is the error code.
#[derive(Debug)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// The route answering `/socket.io/`, to merge into the gateway's router.
pub fn routes(state: GatewayState) -> Router<GatewayState> {
    let config = state.config().clone();
    let (service, io) = SocketIo::builder()
        .req_path("/socket.io")
        // As many packets as the connection's own queue holds frames (see `bridge`).
        .max_buffer_size(config.queue_frames)
        .max_payload(config.max_frame_bytes as u64)
        .ws_max_message_size(config.max_frame_bytes)
        .ws_max_frame_size(config.max_frame_bytes)
        .ws_read_buffer_size(1024)
        // An Engine.IO session that has not connected to the namespace (and so passed the
        // checks) by then is closed, as a `/ws` socket without its `auth` frame is.
        .connect_timeout(config.auth_timeout)
        .build_svc();
    let check_state = state.clone();
    let check = move |socket: SocketRef, TryData(auth): TryData<Auth>| {
        let state = check_state.clone();
        async move { admit(state, socket, auth.unwrap_or_default()).await }
    };
    let start = move |socket: SocketRef| {
        let state = state.clone();
        async move { start(state, socket) }
    };
    io.ns("/", start.with(check));
    Router::new().route_service("/socket.io/", service)
}

/// The checks of a `/ws` handshake; on success the socket's handlers are in place before
/// the client hears it is connected, so that no event it sends then is missed.
async fn admit(state: GatewayState, socket: SocketRef, auth: Auth) -> Result<(), Refused> {
    let Some(token) = auth.token else {
        return Err(Refused("unauthenticated"));
    };
    let parts = socket.req_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let admitted = handshake::admit(&state, peer, &parts.headers, Some(token))
        .await
        .map_err(|refusal| Refused(refusal.code))?;
    let (bridge, stream) = Bridge::new(state.config().max_rooms_per_connection);
    socket.extensions.insert(bridge.clone());
    socket
        .extensions
        .insert(Ready(Arc::new(Mutex::new(Some((admitted, stream))))));
    socket.on_fallback(|_: Forwarded| async {});
    socket.on_disconnect(|socket: SocketRef| async move {
        if let Some(bridge) = socket.extensions.remove::<Arc<Bridge>>() {
            bridge.close();
        }
    });
    Ok(())
}

/// The socket is connected: its connection runs as a `/ws` one does.
fn start(state: GatewayState, socket: SocketRef) {
    let ready = socket.extensions.remove::<Ready>();
    let taken = ready.and_then(|Ready(cell)| cell.lock().expect("ready lock").take());
    let (Some((admitted, stream)), Some(bridge)) = (taken, socket.extensions.get::<Arc<Bridge>>())
    else {
        return;
    };
    let sink = BridgeSink { socket, bridge };
    let tracker = state.tracker();
    tracker.spawn(connection::run(state, (sink, stream), admitted));
}
