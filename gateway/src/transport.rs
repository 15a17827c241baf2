//! What a connection reads frames from and writes frames to, whatever carries them: a
//! WebSocket on `/ws`, or a Socket.IO socket on `/socket.io/` (see [`crate::socketio`]),
//! which presents its events as the same text frames. The protocol above (session,
//! driver, writer) is written once against these two traits: one behaviour, two framings.

use axum::extract::ws::Message;
use futures::{Sink, Stream};

/// Frames from the client, in the order it sent them; ends when the client is gone.
pub trait FrameStream: Stream<Item = Result<Message, axum::Error>> + Unpin + Send {}

impl<T> FrameStream for T where T: Stream<Item = Result<Message, axum::Error>> + Unpin + Send {}

/// Frames to the client: text frames, pings, and a last Close frame.
pub trait FrameSink: Sink<Message, Error = axum::Error> + Unpin + Send {}

impl<T> FrameSink for T where T: Sink<Message, Error = axum::Error> + Unpin + Send {}
