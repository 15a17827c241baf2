//! The WebSocket test client speaking the gateway's `/ws` protocol: connect with a token
//! (header or in-band), send request frames with fresh ids, read answers and events, and
//! see how a connection ended.

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A client WebSocket to a gateway.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct WsClient {
    pub socket: Socket,
    next_id: u64,
}

/// How a connection ended, as the client saw it.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Closed(Option<u16>),
    Dropped,
}

impl WsClient {
    /// Connects with the token in the `Authorization` header.
    pub async fn connect(base: &str, token: &str) -> Self {
        Self::connect_with_hello(base, token).await.0
    }

    /// Connects with the token in the `Authorization` header; answers the `hello` too.
    pub async fn connect_with_hello(base: &str, token: &str) -> (Self, Value) {
        let mut request = ws_url(base).into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("ws connects");
        let mut client = Self { socket, next_id: 0 };
        let hello = client.next_frame().await;
        assert_eq!(hello["type"], "hello", "{hello}");
        (client, hello)
    }

    /// The next frame of type `kind` within `wait`, skipping others (`None` if none came).
    pub async fn frame_of_type(&mut self, kind: &str, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.frame_within(left).await?;
            if frame["type"] == kind {
                return Some(frame);
            }
        }
    }

    /// Connects with the token (if any) in the `Authorization` header and extra request
    /// headers; waits for `hello` when a token was given. A refused handshake answers its
    /// HTTP status and JSON body.
    pub async fn try_connect(
        base: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<Self, (u16, Value)> {
        use tokio_tungstenite::tungstenite::Error;
        let mut request = ws_url(base).into_client_request().unwrap();
        if let Some(token) = token {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        for (name, value) in headers {
            request.headers_mut().append(
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .unwrap(),
                value.parse().unwrap(),
            );
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => {
                let mut client = Self { socket, next_id: 0 };
                if token.is_some() {
                    let hello = client.next_frame().await;
                    assert_eq!(hello["type"], "hello", "{hello}");
                }
                Ok(client)
            }
            Err(Error::Http(response)) => {
                let body = response.body().as_deref().unwrap_or_default();
                let body = serde_json::from_slice(body).unwrap_or(Value::Null);
                Err((response.status().as_u16(), body))
            }
            Err(e) => panic!("ws handshake failed: {e}"),
        }
    }

    /// Connects without a token (in-band `auth` expected).
    pub async fn connect_anonymous(base: &str) -> Self {
        let (socket, _) = tokio_tungstenite::connect_async(ws_url(base))
            .await
            .expect("ws connects");
        Self { socket, next_id: 0 }
    }

    pub fn next_id(&mut self) -> String {
        self.next_id += 1;
        format!("r{}", self.next_id)
    }

    pub async fn send_json(&mut self, frame: Value) {
        self.socket
            .send(Message::text(frame.to_string()))
            .await
            .expect("ws send");
    }

    /// Sends a request frame (with a fresh `id`) and returns that id.
    pub async fn request(&mut self, mut frame: Value) -> String {
        let id = self.next_id();
        frame["id"] = json!(id);
        self.send_json(frame).await;
        id
    }

    /// The next text frame, as JSON (panics on timeout or close).
    pub async fn next_frame(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a frame within 10 s")
                .expect("connection open")
                .expect("frame readable");
            match msg {
                Message::Text(t) => return serde_json::from_str(&t).expect("frame is JSON"),
                Message::Close(c) => panic!("connection closed: {c:?}"),
                _ => continue,
            }
        }
    }

    /// The next text frame within `wait`, or `None` if none came (panics on close).
    pub async fn frame_within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()?;
            match msg.expect("connection open").expect("frame readable") {
                Message::Text(t) => return Some(serde_json::from_str(&t).expect("frame is JSON")),
                Message::Close(c) => panic!("connection closed: {c:?}"),
                _ => continue,
            }
        }
    }

    /// Reads frames until the answer to request `id` (skipping events, which go to `events`).
    pub async fn answer(&mut self, id: &str, events: &mut Vec<Value>) -> Value {
        loop {
            let frame = self.next_frame().await;
            if frame["id"] == id {
                return frame;
            }
            if frame["type"] == "event" {
                events.push(frame);
            }
        }
    }

    /// Sends a request and waits for its answer, collecting events meanwhile.
    pub async fn call(&mut self, frame: Value, events: &mut Vec<Value>) -> Value {
        let id = self.request(frame).await;
        self.answer(&id, events).await
    }

    /// Joins `room` and answers the `joined` frame.
    pub async fn join(&mut self, room: &str) -> Value {
        let mut ignored = Vec::new();
        let answer = self
            .call(json!({"type": "join", "roomId": room}), &mut ignored)
            .await;
        assert_eq!(answer["type"], "joined", "{answer}");
        answer
    }

    /// Collects `event` frames until `count` have arrived.
    pub async fn events(&mut self, count: usize) -> Vec<Value> {
        let mut events = Vec::new();
        while events.len() < count {
            let frame = self.next_frame().await;
            if frame["type"] == "event" {
                events.push(frame);
            }
        }
        events
    }

    /// Reads until the server closes the connection, and answers how.
    pub async fn until_closed(&mut self) -> Ended {
        loop {
            match tokio::time::timeout(Duration::from_secs(20), self.socket.next()).await {
                Err(_) => panic!("connection not closed within 20 s"),
                Ok(None) | Ok(Some(Err(_))) => return Ended::Dropped,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Ended::Closed(frame.map(|f| u16::from(f.code)));
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

pub fn ws_url(base: &str) -> String {
    format!("{}/ws", base.replacen("http://", "ws://", 1))
}

/// Connects with the token in the `Authorization` header and reads the `hello`, each
/// within 5 s; `None` if anything fails (for load clients that count failures).
pub async fn open_socket(base: &str, token: &str) -> Option<Socket> {
    let mut request = ws_url(base).into_client_request().ok()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().ok()?);
    let (mut socket, _) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(request),
    )
    .await
    .ok()?
    .ok()?;
    let hello = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await? {
                Ok(Message::Text(t)) => return serde_json::from_str::<Value>(&t).ok(),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()??;
    (hello["type"] == "hello").then_some(socket)
}
