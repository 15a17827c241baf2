//! `GET /ws`: the checks before the upgrade, answered in the API's JSON error format.
//!
//! - **Origin**: allowed when absent (native clients), equal to the server's own origin
//!   (`http(s)://<Host>`), or listed exactly in `GATEWAY_ALLOWED_ORIGINS`; anything else,
//!   `null` and look-alike suffixes included, is 403.
//! - **Connection caps** (see [`crate::admission`]): over the per-address or per-user cap,
//!   429 `too_many_connections`.
//! - **Token**: `Authorization: Bearer <token>` (native clients) or `?token=<token>`
//!   (browsers cannot set headers on a WebSocket). A bad, expired or revoked token (logged
//!   out, banned) is 401 `invalid_token` before the upgrade; no token means the first frame
//!   must be `auth`. While Postgres cannot say whether a session is live, 503.
//! - While shutting down: 503, so that load balancers move clients elsewhere.
//!
//! No compression extension is offered back: `permessage-deflate` is not negotiated, so
//! frames stay as large on the wire as the limits say and compression attacks do not apply.

use axum::extract::connect_info::ConnectInfo;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chat_core::sessions::AuthError;
use chat_schemas::error::{ErrorBody, ErrorDetail};
use futures::StreamExt;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};

use crate::admission::{self, Full};
use crate::connection::{self, Admitted};
use crate::GatewayState;

/// The TCP peer's address, when the server was started with connect info
/// (`into_make_service_with_connect_info::<SocketAddr>()`).
pub struct PeerAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

#[derive(Debug, Deserialize)]
pub struct HandshakeQuery {
    token: Option<String>,
}

/// Per-connection socket buffers: small, so that idle connections cost little memory
/// (tungstenite's default read buffer alone is 128 KiB). The read buffer is allocated
/// whole when the connection opens and grows only for a larger frame, and clients send
/// small frames, so it is 1 KiB; the write buffer grows as frames are batched into one
/// write, up to 4 KiB, and is allocated at the first write.
const READ_BUFFER: usize = 1024;
const WRITE_BUFFER: usize = 4 * 1024;
/// Past this much unsent data the socket write fails and the connection ends; the
/// outbound queue's own bound normally trips first.
const MAX_WRITE_BUFFER: usize = 512 * 1024;

pub async fn upgrade(
    State(state): State<GatewayState>,
    PeerAddress(peer): PeerAddress,
    headers: HeaderMap,
    Query(query): Query<HandshakeQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let header_token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(chat_core::tokens::bearer_token)
        .map(str::to_owned);
    let admitted = match admit(&state, peer, &headers, header_token.or(query.token)).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refuse(refusal.status, refusal.code, refusal.message),
    };
    let max = state.config().max_frame_bytes;
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            let tracker = state.tracker();
            tracker.track_future(connection::run(state, socket.split(), admitted))
        })
}

/// Why a connection was not admitted: the HTTP status `/ws` answers, and the error code
/// both `/ws` and `/socket.io/` give.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

/// The checks of the module comment for a connection from `peer` with these request
/// headers, and `token` if one came with it: the slots it holds, or why it is refused.
pub async fn admit(
    state: &GatewayState,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    token: Option<String>,
) -> Result<Admitted, Refusal> {
    if state.shutdown_token().is_cancelled() {
        return Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "this gateway is shutting down; connect to another",
        ));
    }
    let origin = headers
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or("<invalid>"));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !origin_allowed(origin, host, &state.config().allowed_origins) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this origin may not open a WebSocket here",
        ));
    }
    // Lossy: junk the client put at the left of the header must not hide the address the
    // proxy appended at its right.
    let forwarded: Vec<String> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let address = admission::client_address(
        peer,
        forwarded.iter().map(String::as_str),
        &state.config().trusted_proxies,
    );
    let address = state.admission().admit_address(address).map_err(too_many)?;
    let user = match token {
        None => None,
        Some(token) => match state.sessions().authenticate(&token).await {
            Ok(verified) => {
                let slot = state
                    .admission()
                    .admit_user(verified.user)
                    .map_err(too_many)?;
                Some((verified, slot))
            }
            Err(AuthError::Database(e)) => {
                tracing::warn!(error = %e, "cannot check a session at the handshake");
                return Err(Refusal::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the database is unavailable; retry shortly",
                ));
            }
            Err(e) => {
                return Err(Refusal::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    e.to_string(),
                ))
            }
        },
    };
    Ok(Admitted { user, address })
}

fn too_many(full: Full) -> Refusal {
    Refusal::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_connections",
        full.message(),
    )
}

/// The origin policy described in the module comment.
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin else { return true };
    if allowed.iter().any(|a| a == origin) {
        return true;
    }
    host.is_some_and(|host| {
        origin == format!("http://{host}") || origin == format!("https://{host}")
    })
}

fn refuse(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
        },
    };
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::origin_allowed;

    #[test]
    fn the_origin_policy_admits_only_exact_matches() {
        let allowed = vec!["https://app.example.com".to_owned()];
        let host = Some("127.0.0.1:8080");
        assert!(origin_allowed(None, host, &allowed));
        assert!(origin_allowed(
            Some("https://app.example.com"),
            host,
            &allowed
        ));
        assert!(origin_allowed(
            Some("http://127.0.0.1:8080"),
            host,
            &allowed
        ));
        assert!(!origin_allowed(
            Some("https://app.example.com.evil.com"),
            host,
            &allowed
        ));
        assert!(!origin_allowed(Some("null"), host, &allowed));
        assert!(!origin_allowed(Some("https://evil.com"), host, &allowed));
        assert!(!origin_allowed(
            Some("http://127.0.0.1:8080.evil.com"),
            host,
            &allowed
        ));
    }
}
