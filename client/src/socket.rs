//! The WebSocket to `/ws`: opening it with the token in the `Authorization` header,
//! reading frames, sending frames, closing, and the backoff between reconnect attempts.

use chat_schemas::ws::{close, ClientFrame, ServerFrame};
use futures::{SinkExt, StreamExt};
use reqwest::Url;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header::AUTHORIZATION, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::inbox::{self, InboxFrame};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Bound on opening the connection (TCP, upgrade); a server that accepts but never
/// answers must not stall the reconnect loop.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long closing waits for the server's reply before simply dropping the socket.
const CLOSE_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub enum ConnectError {
    /// 401 at the handshake: the token is no longer accepted.
    Unauthorized,
    Failed(String),
}

/// What reading the socket produced.
#[derive(Debug)]
pub enum Incoming {
    Frame(Box<ServerFrame>),
    /// A frame of the per-user inbox ([`crate::inbox`]).
    Inbox(InboxFrame),
    /// A ping, pong or other frame without content for us: the server is alive.
    Heard,
    /// A text frame that is not a server frame this client understands.
    Unreadable(String),
    /// The connection ended; why, for people.
    Closed(String),
}

/// `http://host:port/` → `ws://host:port/ws` (`https` → `wss`).
pub fn ws_url(base: &Url) -> Result<Url, String> {
    let mut url = base.join("ws").map_err(|e| e.to_string())?;
    let scheme = if base.scheme() == "https" {
        "wss"
    } else {
        "ws"
    };
    url.set_scheme(scheme)
        .map_err(|()| format!("cannot use {scheme} with {base}"))?;
    Ok(url)
}

pub async fn connect(url: &Url, token: &str) -> Result<Socket, ConnectError> {
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| ConnectError::Failed(e.to_string()))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| ConnectError::Unauthorized)?;
    request.headers_mut().insert(AUTHORIZATION, bearer);
    match tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(request)).await {
        Err(_) => Err(ConnectError::Failed("timed out".into())),
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(WsError::Http(response))) if response.status() == StatusCode::UNAUTHORIZED => {
            Err(ConnectError::Unauthorized)
        }
        Ok(Err(WsError::Http(response))) => Err(ConnectError::Failed(format!(
            "the server answered {}",
            response.status()
        ))),
        Ok(Err(WsError::Io(e))) => Err(ConnectError::Failed(e.to_string())),
        Ok(Err(e)) => Err(ConnectError::Failed(e.to_string())),
    }
}

/// The next thing the server sent.
pub async fn next(socket: &mut Socket) -> Incoming {
    match socket.next().await {
        None => Incoming::Closed("connection ended".into()),
        Some(Err(e)) => Incoming::Closed(format!("connection lost: {e}")),
        Some(Ok(Message::Text(text))) => read_text(text.as_str()),
        Some(Ok(Message::Close(frame))) => Incoming::Closed(closed_by_server(frame)),
        Some(Ok(_)) => Incoming::Heard,
    }
}

/// A text frame: an inbox frame, a server frame, or (a type this client does not know)
/// nothing but a sign of life.
fn read_text(text: &str) -> Incoming {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => return Incoming::Unreadable(format!("{e}: {text}")),
    };
    match inbox::parse(&value) {
        Some(Ok(frame)) => return Incoming::Inbox(frame),
        Some(Err(e)) => return Incoming::Unreadable(format!("{e}: {text}")),
        None => {}
    }
    let kind = value
        .get("type")
        .and_then(|t| t.as_str())
        .map(str::to_owned);
    match serde_json::from_value::<ServerFrame>(value) {
        Ok(frame) => Incoming::Frame(Box::new(frame)),
        // A newer server may send types this client has never heard of: not an error.
        Err(_) if kind.is_some_and(|k| !SERVER_FRAME_TYPES.contains(&k.as_str())) => {
            Incoming::Heard
        }
        Err(e) => Incoming::Unreadable(format!("{e}: {text}")),
    }
}

/// The `type`s of [`ServerFrame`]: a frame of one of these that does not parse is an
/// error worth showing; any other type is simply not for this client.
const SERVER_FRAME_TYPES: [&str; 15] = [
    "hello",
    "ack",
    "joined",
    "event",
    "resumed",
    "presence",
    "roomPresence",
    "typing",
    "error",
    "pong",
    "roomAdded",
    "roomRemoved",
    "profile",
    "readPosition",
    "receipt",
];

pub async fn send(socket: &mut Socket, frame: &ClientFrame) -> Result<(), String> {
    let text = serde_json::to_string(frame).map_err(|e| e.to_string())?;
    socket
        .send(Message::text(text))
        .await
        .map_err(|e| format!("connection lost: {e}"))
}

/// Closes politely (bounded), so the server sees a normal close rather than a reset.
pub async fn close(socket: &mut Socket) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        let _ = socket.close(None).await;
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}

/// Delay before reconnect attempt `attempt` (0-based): 100 ms doubling up to 2 s, with up
/// to a quarter more at random so that many clients of a restarted server spread out.
pub fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(100)
        .saturating_mul(1 << attempt.min(5))
        .min(Duration::from_secs(2));
    let jitter = uuid::Uuid::new_v4().as_u128() % 1000;
    base + base.mul_f64(jitter as f64 / 4000.0)
}

fn closed_by_server(frame: Option<CloseFrame>) -> String {
    let Some(frame) = frame else {
        return "closed by the server".into();
    };
    let code = u16::from(frame.code);
    let meaning = match code {
        close::SERVICE_RESTART => "the server is restarting",
        close::UNAUTHENTICATED => "not authenticated",
        close::TOKEN_EXPIRED => "the session's token expired",
        close::SESSION_REVOKED => "the session ended (logged out or banned)",
        close::TOO_MANY_CONNECTIONS => "too many connections for this user",
        close::TOO_MANY_REQUESTS => "too many requests",
        close::IDLE_TIMEOUT => "idle timeout",
        close::SLOW_CONSUMER => "this client read too slowly",
        close::MESSAGE_TOO_BIG => "frame too large",
        close::INVALID_PAYLOAD => "invalid UTF-8",
        _ => "closed by the server",
    };
    if frame.reason.is_empty() {
        format!("{meaning} ({code})")
    } else {
        format!("{meaning} ({code}: {})", frame.reason.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_frames_are_read_and_unknown_types_are_only_a_sign_of_life() {
        assert!(matches!(
            read_text(r#"{"type":"profile","userId":"u","displayName":"Zoë"}"#),
            Incoming::Inbox(InboxFrame::Profile { .. })
        ));
        assert!(matches!(
            read_text(r#"{"type":"roomRemoved","roomId":"r1"}"#),
            Incoming::Inbox(InboxFrame::RoomRemoved { .. })
        ));
        // Read state is part of the protocol now; a type it does not have yet is not.
        assert!(matches!(
            read_text(r#"{"type":"receipt","roomId":"r1","userId":"u","seq":3}"#),
            Incoming::Frame(_)
        ));
        assert!(matches!(
            read_text(r#"{"type":"somethingNewer","roomId":"r1"}"#),
            Incoming::Heard
        ));
        assert!(matches!(
            read_text(r#"{"type":"pong","id":"1"}"#),
            Incoming::Frame(_)
        ));
        // A known type that does not parse, or no JSON at all, is worth an error line.
        assert!(matches!(
            read_text(r#"{"type":"joined"}"#),
            Incoming::Unreadable(_)
        ));
        assert!(matches!(read_text("not json"), Incoming::Unreadable(_)));
    }

    #[test]
    fn the_ws_url_sits_next_to_the_http_api() {
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(ws_url(&base).unwrap().as_str(), "ws://127.0.0.1:8080/ws");
        let base = Url::parse("https://chat.example/api/").unwrap();
        assert_eq!(ws_url(&base).unwrap().as_str(), "wss://chat.example/api/ws");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(0) >= Duration::from_millis(100));
        assert!(backoff(0) <= Duration::from_millis(125));
        assert!(backoff(3) >= Duration::from_millis(800));
        assert!(backoff(30) <= Duration::from_millis(2500));
    }
}
