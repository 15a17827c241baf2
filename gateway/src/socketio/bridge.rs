//! One Socket.IO socket presented to a connection as the frames `/ws` carries: its events
//! come in as native client frames ([`BridgeStream`]) and native server frames go out as
//! events and ack callbacks ([`BridgeSink`]), by the rules of [`super::mapping`].
//!
//! Order: socketioxide runs each event's handler in a task of its own, so the frame is
//! made and queued by the handler's extractor ([`Forwarded`]), which runs in the socket's
//! read path in the order the client sent its events; the handler itself does nothing.
//!
//! Bounds: events wait in a queue of [`INCOMING`] frames for the connection to read them
//! (a WebSocket would hold them in its TCP window); when it is full the event is answered
//! `rate_limited` at once. Outgoing packets wait in the socket's own buffer
//! (`max_buffer_size`, as many packets as the connection's queue holds frames); a client
//! that lets it fill is a slow consumer and is disconnected, as on `/ws`.

use axum::extract::ws::{CloseFrame, Message};
use futures::{Sink, Stream};
use serde_json::{json, value::RawValue, Map, Value};
use socketioxide::extract::{AckSender, Event, SocketRef, TryData};
use socketioxide::handler::{FromMessageParts, Value as SioValue};
use socketioxide::socket::Socket;
use socketioxide::{SendError, SocketError};
use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::mpsc;

use super::mapping::{self, Expect};

/// Events queued for the connection to read.
pub const INCOMING: usize = 256;

/// The state one socket's handlers and its connection share.
pub struct Bridge {
    incoming: Mutex<Option<mpsc::Sender<Message>>>,
    requests: Mutex<Requests>,
    max_rooms: usize,
}

#[derive(Default)]
struct Requests {
    next: u64,
    open: HashMap<String, Open>,
}

/// A request waiting for its answers.
struct Open {
    expect: Expect,
    ack: Option<AckSender>,
}

impl Bridge {
    /// A bridge and the stream of frames its events become.
    pub fn new(max_rooms: usize) -> (Arc<Self>, BridgeStream) {
        let (sender, receiver) = mpsc::channel(INCOMING);
        let bridge = Bridge {
            incoming: Mutex::new(Some(sender)),
            requests: Mutex::default(),
            max_rooms,
        };
        (Arc::new(bridge), BridgeStream(receiver))
    }

    /// The client is gone: the stream ends once its queued frames are read, and the
    /// requests still open are forgotten (their ack senders hold the socket).
    pub fn close(&self) {
        self.incoming.lock().expect("bridge lock").take();
        self.requests.lock().expect("bridge lock").open.clear();
    }

    /// One event from the client, in the order sent.
    fn receive(&self, event: &str, payload: Value, ack: Option<AckSender>) {
        let Some(incoming) = self.incoming.lock().expect("bridge lock").clone() else {
            return;
        };
        let empty = Map::new();
        let expect = Expect::of(event, payload.as_object().unwrap_or(&empty), self.max_rooms);
        let id = (expect != Expect::Nothing).then(|| {
            let mut requests = self.requests.lock().expect("bridge lock");
            requests.next += 1;
            format!("s{}", requests.next)
        });
        let frame = match mapping::client_frame(event, payload, id.as_deref()) {
            Ok(frame) => frame,
            Err(mapping::NotAnObject) => {
                let message = "the payload of an event is one object: the frame's fields";
                return answer_now(ack, error_frame("invalid_frame", message));
            }
        };
        // Registered before the frame is queued, so its answer always finds it.
        let ack = match &id {
            Some(id) => {
                let open = Open { expect, ack };
                let mut requests = self.requests.lock().expect("bridge lock");
                requests.open.insert(id.clone(), open);
                None
            }
            None => ack,
        };
        match incoming.try_send(Message::Text(frame.into())) {
            Ok(()) => answer_now(ack, json!({"type": "ack"})),
            Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                let open =
                    id.and_then(|id| self.requests.lock().expect("bridge lock").open.remove(&id));
                let mut refusal =
                    error_frame("rate_limited", "too many events waiting; retry shortly");
                refusal["retryAfterMs"] = json!(100);
                answer_now(open.and_then(|o| o.ack).or(ack), refusal);
            }
        }
    }

    /// Sends one frame of the connection to the client; `Err` when the socket's buffer is
    /// full (a slow consumer) or the socket is gone.
    fn deliver(&self, socket: &SocketRef, message: Message) -> Result<(), SendError> {
        match message {
            Message::Text(frame) => self.deliver_frame(socket, &frame),
            // The connection's heartbeat: Engine.IO keeps its own, so the ping is answered
            // here for the connection's idle check while the socket is connected.
            Message::Ping(_) => {
                if socket.connected() {
                    if let Some(incoming) = &*self.incoming.lock().expect("bridge lock") {
                        let _ = incoming.try_send(Message::Pong(Default::default()));
                    }
                }
                Ok(())
            }
            Message::Close(frame) => {
                let (code, reason) = frame
                    .map(|CloseFrame { code, reason }| (code, reason.to_string()))
                    .unwrap_or((1000, String::new()));
                let _ = socket.emit("close", &json!({"code": code, "reason": reason}));
                socket.clone().disconnect().map_err(SendError::Socket)
            }
            Message::Pong(_) | Message::Binary(_) => Ok(()),
        }
    }

    fn deliver_frame(&self, socket: &SocketRef, frame: &str) -> Result<(), SendError> {
        let Some(split) = mapping::split(frame) else {
            tracing::warn!("a server frame not in the expected form was not sent over Socket.IO");
            return Ok(());
        };
        if let Some(answer) = mapping::answer(split.kind, frame) {
            let mut requests = self.requests.lock().expect("bridge lock");
            if let Some(open) = requests.open.get_mut(&answer.id) {
                if !open.expect.is_last(split.kind) {
                    drop(requests);
                    let (kind, payload) = mapping::as_event(answer.frame);
                    return socket.emit(kind, &payload);
                }
                let open = requests.open.remove(&answer.id).expect("found above");
                drop(requests);
                return match open.ack {
                    Some(ack) => ack.send(&answer.frame),
                    None if split.kind == "error" => {
                        let (kind, payload) = mapping::as_event(answer.frame);
                        socket.emit(kind, &payload)
                    }
                    None => Ok(()),
                };
            }
        }
        match RawValue::from_string(split.rest) {
            Ok(rest) => socket.emit(split.kind, &rest),
            Err(e) => {
                tracing::warn!(error = %e, "a server frame that is not JSON was not sent over Socket.IO");
                Ok(())
            }
        }
    }
}

fn error_frame(code: &str, message: &str) -> Value {
    json!({"type": "error", "code": code, "message": message})
}

/// Calls an ack callback with `answer`, if the client asked for one.
fn answer_now(ack: Option<AckSender>, answer: Value) {
    if let Some(ack) = ack {
        let _ = ack.send(&answer);
    }
}

/// The frames a socket's events become, for [`crate::connection::run`].
pub struct BridgeStream(mpsc::Receiver<Message>);

impl Stream for BridgeStream {
    type Item = Result<Message, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|message| message.map(Ok))
    }
}

/// Where the connection's frames go: the socket, through the bridge's rules.
pub struct BridgeSink {
    pub(super) socket: SocketRef,
    pub(super) bridge: Arc<Bridge>,
}

impl Sink<Message> for BridgeSink {
    type Error = axum::Error;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Self::Error> {
        match self.bridge.deliver(&self.socket, message) {
            Ok(()) => Ok(()),
            Err(SendError::Socket(SocketError::InternalChannelFull)) => {
                metrics::counter!("chat_gateway_slow_consumer_disconnects_total").increment(1);
                Err(axum::Error::new(
                    "the socket's buffer is full: a slow consumer",
                ))
            }
            Err(e) => Err(axum::Error::new(e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for BridgeSink {
    /// The connection is over: a socket still open (its buffer was full, so the goodbye
    /// could not be sent) is disconnected as soon as its buffer has room.
    fn drop(&mut self) {
        self.bridge.close();
        if !self.socket.connected() {
            return;
        }
        let socket = self.socket.clone();
        tokio::spawn(async move {
            for _ in 0..300 {
                if !socket.connected() || socket.clone().disconnect().is_ok() {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        });
    }
}

/// The extractor that forwards an event to its connection (see the module comment); the
/// handler it belongs to does nothing more.
pub struct Forwarded;

impl FromMessageParts<socketioxide::adapter::LocalAdapter> for Forwarded {
    type Error = Infallible;

    fn from_message_parts(
        s: &Arc<Socket>,
        v: &mut SioValue,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        let Some(bridge) = s.extensions.get::<Arc<Bridge>>() else {
            return Ok(Forwarded);
        };
        let ack = ack_id.map(|_| AckSender::from_message_parts(s, v, ack_id).expect("infallible"));
        let Ok(Event(event)) = Event::from_message_parts(s, v, ack_id) else {
            answer_now(ack, error_frame("invalid_frame", "an event needs a name"));
            return Ok(Forwarded);
        };
        let TryData(payload) =
            TryData::<Value>::from_message_parts(s, v, ack_id).expect("infallible");
        let payload = match payload {
            // Several arguments arrive as an array: not one object.
            Ok(payload) => payload,
            Err(_) => Value::Bool(false),
        };
        bridge.receive(&event, payload, ack);
        Ok(Forwarded)
    }
}
