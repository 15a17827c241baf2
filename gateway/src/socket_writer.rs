//! Writing frames to one client's socket, each write bounded: a client that stops reading
//! (a zero TCP window) cannot hold the writer (see [`crate::outbound`]).

use axum::extract::ws::{Message, Utf8Bytes};
use futures::SinkExt;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::outbound::RoomCursor;
use crate::transport::FrameSink;

/// Longest a single frame may take to write before the client counts as gone.
const WRITE_BOUND: Duration = Duration::from_secs(10);

/// Why the writer stopped.
pub(crate) enum Stop {
    Shutdown,
    Slow,
    Close(u16, &'static str),
    /// The queue closed or a write failed: nothing more to say.
    Gone,
}

pub(crate) struct Writer<S> {
    pub(crate) sink: S,
    pub(crate) slow: CancellationToken,
    pub(crate) shutdown: CancellationToken,
    /// Frames were fed to the sink since its last flush.
    pub(crate) unflushed: bool,
}

impl<S: FrameSink> Writer<S> {
    /// Writes and flushes at once (pings, and the frame before a close).
    pub(crate) async fn send(&mut self, message: Message) -> Result<(), Stop> {
        tokio::select! {
            sent = self.sink.send(message) => sent.map_err(|_| Stop::Gone),
            _ = self.slow.cancelled() => Err(Stop::Slow),
            _ = self.shutdown.cancelled() => Err(Stop::Shutdown),
            _ = tokio::time::sleep(WRITE_BOUND) => Err(Stop::Slow),
        }
    }

    /// Adds a frame to the socket's write buffer (written out when the buffer fills or at
    /// the next [`Self::flush`]).
    pub(crate) async fn feed(&mut self, message: Message) -> Result<(), Stop> {
        self.unflushed = true;
        tokio::select! {
            fed = self.sink.feed(message) => fed.map_err(|_| Stop::Gone),
            _ = self.slow.cancelled() => Err(Stop::Slow),
            _ = self.shutdown.cancelled() => Err(Stop::Shutdown),
            _ = tokio::time::sleep(WRITE_BOUND) => Err(Stop::Slow),
        }
    }

    pub(crate) async fn flush(&mut self) -> Result<(), Stop> {
        self.unflushed = false;
        tokio::select! {
            flushed = self.sink.flush() => flushed.map_err(|_| Stop::Gone),
            _ = self.slow.cancelled() => Err(Stop::Slow),
            _ = self.shutdown.cancelled() => Err(Stop::Shutdown),
            _ = tokio::time::sleep(WRITE_BOUND) => Err(Stop::Slow),
        }
    }

    pub(crate) async fn send_if_new(
        &mut self,
        cursor: &mut RoomCursor,
        seq: u64,
        frame: Utf8Bytes,
    ) -> Result<(), Stop> {
        if seq <= cursor.last_sent {
            return Ok(());
        }
        cursor.last_sent = seq;
        self.feed(Message::Text(frame)).await
    }
}
