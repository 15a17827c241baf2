//! Serving HTTP: the one accept loop every binary uses (all-in-one server, api, gateway,
//! projector, and each one's operator listener), with read timeouts so that a client
//! cannot hold a connection (a file descriptor) without sending a whole request.
//!
//! - **Header timeout** (`HTTP_HEADER_TIMEOUT_MS`, default 10 s): from the moment the
//!   server waits for a request until its head is complete. It counts on a fresh
//!   connection, on a kept-alive one between requests, and on a WebSocket upgrade request
//!   alike, so it is also the **idle keep-alive bound**: a connection that starts no request
//!   within it is closed. (hyper arms one timer for both; a separate idle setting would
//!   promise a distinction the server does not make.)
//! - **Body timeout** (`HTTP_BODY_TIMEOUT_MS`, default 30 s): a request body must be
//!   complete within this of its head. A body shorter than its `Content-Length` fails the
//!   handler reading it, which answers, and the connection is then closed (its framing is
//!   lost). A handler that never reads the body answers at once and the connection closes.
//! - Once a WebSocket upgrade succeeds the socket is the gateway's: its heartbeat and idle
//!   rules apply from then on, not these.
//!
//! The timeouts are per connection and per process; they bound how long one connection
//! can be held, not how many a client opens (the gateway counts WebSockets per address).
//! Graceful shutdown: on the stop signal no new connection is accepted, idle ones close,
//! requests in flight finish, and [`serve`] returns when every connection has ended.
//! Every request carries [`ConnectInfo<SocketAddr>`] (the TCP peer) for per-address limits.

mod deadline_body;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

pub use deadline_body::BodyTimedOut;

/// How long a client may take to send a request (see the module's doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpTimeouts {
    /// Waiting for a complete request head, also between kept-alive requests.
    pub header: Duration,
    /// Receiving the whole body, counted from the end of its head.
    pub body: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self {
            header: Duration::from_secs(10),
            body: Duration::from_secs(30),
        }
    }
}

impl HttpTimeouts {
    /// `HTTP_HEADER_TIMEOUT_MS`, `HTTP_BODY_TIMEOUT_MS`; the same variables for every binary.
    pub fn from_env() -> anyhow::Result<Self> {
        let d = Self::default();
        let timeouts = Self {
            header: crate::env::millis_or("HTTP_HEADER_TIMEOUT_MS", d.header.as_millis() as u64)?,
            body: crate::env::millis_or("HTTP_BODY_TIMEOUT_MS", d.body.as_millis() as u64)?,
        };
        anyhow::ensure!(
            !timeouts.header.is_zero() && !timeouts.body.is_zero(),
            "HTTP_HEADER_TIMEOUT_MS and HTTP_BODY_TIMEOUT_MS must be positive"
        );
        Ok(timeouts)
    }
}

/// Binds `addr`, or answers `None` when it is `off` (a listener the operator turned off).
pub async fn bind_optional(addr: &str) -> anyhow::Result<Option<TcpListener>> {
    use anyhow::Context;
    if addr.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    Ok(Some(listener))
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes the requests in
/// flight and returns once every connection has ended.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    timeouts: HttpTimeouts,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // Each connection task holds a receiver; the sender's `closed()` is "all ended".
    let (open_tx, open_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        // Replies and live events are small frames written one after another: with Nagle's
        // algorithm a frame written while the previous one is unacknowledged waits for the
        // peer's delayed ACK (40 ms on Linux), which was the p99 of every small-room
        // benchmark. Each frame write is already batched by the writer, so no delay is needed.
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(
            stream,
            peer,
            router.clone(),
            timeouts,
            stop_rx.clone(),
            open_rx.clone(),
        ));
    }
    drop(listener);
    drop(open_rx);
    let _ = stop_tx.send(true);
    open_tx.closed().await;
    Ok(())
}

/// A failed accept is about one connection (reset before accepted) or about the process
/// (out of file descriptors): the latter must not spin the loop, so it pauses briefly.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused
    ) {
        return;
    }
    tracing::warn!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    timeouts: HttpTimeouts,
    mut stop: watch::Receiver<bool>,
    _open: watch::Receiver<()>,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
        let deadline = tokio::time::Instant::now() + timeouts.body;
        let mut request = request
            .map(|body| axum::body::Body::new(deadline_body::DeadlineBody::new(body, deadline)));
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header);
    let connection = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let stopping = async move {
        let _ = stop.wait_for(|stop| *stop).await;
    };
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        () = stopping => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = ended {
        // Timeouts and clients that go away are routine; the server carries on.
        tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
    }
}
