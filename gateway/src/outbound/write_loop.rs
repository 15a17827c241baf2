//! The writer: the one place that writes a connection's queued frames to its socket, keeps
//! each room's last sent `seq` (so a replay and the live events held back during it reach
//! the client once, in order) and says goodbye with a Close frame that tells why.

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use chat_schemas::ws::close;
use chat_schemas::RoomId;
use futures::SinkExt;
use std::collections::HashMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::{Outbound, OutboundReceiver, Shared};
use crate::socket_writer::{Stop, Writer};
use crate::transport::FrameSink;

/// Per room: the last `seq` sent, and live events held back during a replay.
#[derive(Default)]
pub(crate) struct RoomCursor {
    pub(crate) last_sent: u64,
    held: Option<Vec<(u64, Utf8Bytes)>>,
}

impl RoomCursor {
    /// Whether live events of this room are being held back.
    fn holding(&self) -> bool {
        self.held.is_some()
    }

    /// Takes the held-back events; their bytes stop counting.
    fn release(&mut self, budget: &Shared) -> Vec<(u64, Utf8Bytes)> {
        let held = self.held.take().unwrap_or_default();
        budget.free(held.iter().map(|(_, f)| f.len()).sum());
        held
    }
}

/// Writes until the queue closes, the client is slow, the server shuts down, or a write
/// fails. Pings every `heartbeat`. Every write races the slow and shutdown signals and a
/// timeout, so a client that stops reading (a zero TCP window) cannot hold the writer.
pub async fn write_loop<S: FrameSink>(
    sink: S,
    queue: OutboundReceiver,
    heartbeat: Duration,
    shutdown: CancellationToken,
) {
    let mut writer = Writer {
        sink,
        slow: queue.shared.slow.clone(),
        shutdown: shutdown.clone(),
        unflushed: false,
    };
    let mut rooms: HashMap<RoomId, RoomCursor> = HashMap::new();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let stop = loop {
        let item = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break Stop::Shutdown,
            _ = queue.shared.slow.cancelled() => break Stop::Slow,
            _ = ping.tick() => {
                if let Err(stop) = writer.send(Message::Ping(Default::default())).await {
                    break stop;
                }
                writer.unflushed = false;
                continue;
            }
            item = queue.recv() => match item {
                Some(item) => item,
                None => break Stop::Gone,
            },
        };
        // A held-back live event stays counted until it is written (or forgotten).
        let held_back = matches!(&item, Outbound::Live { room, .. }
            if rooms.get(room).is_some_and(RoomCursor::holding));
        if !held_back {
            queue.shared.free(item.cost());
        }
        let sent = match item {
            Outbound::Reply(frame) => writer.feed(Message::Text(frame)).await,
            Outbound::Live { room, seq, frame } => {
                let cursor = rooms.entry(room).or_default();
                match &mut cursor.held {
                    Some(held) => {
                        held.push((seq, frame));
                        Ok(())
                    }
                    None => writer.send_if_new(cursor, seq, frame).await,
                }
            }
            Outbound::BeginReplay { room, from } => {
                let cursor = rooms.entry(room).or_default();
                cursor.last_sent = from;
                cursor.held = Some(Vec::new());
                Ok(())
            }
            Outbound::Replayed { room, seq, frame } => {
                let cursor = rooms.entry(room).or_default();
                writer.send_if_new(cursor, seq, frame).await
            }
            Outbound::EndReplay {
                room,
                result,
                skip_to,
            } => {
                let cursor = rooms.entry(room).or_default();
                if let Some(seq) = skip_to {
                    cursor.last_sent = seq;
                }
                let mut sent = Ok(());
                for (seq, frame) in cursor.release(&queue.shared) {
                    sent = writer.send_if_new(cursor, seq, frame).await;
                    if sent.is_err() {
                        break;
                    }
                }
                match sent {
                    Ok(()) => writer.feed(Message::Text(result)).await,
                    err => err,
                }
            }
            Outbound::Forget { room } => {
                if let Some(mut cursor) = rooms.remove(&room) {
                    cursor.release(&queue.shared);
                }
                Ok(())
            }
            Outbound::Close { code, reason } => break Stop::Close(code, reason),
        };
        if let Err(stop) = sent {
            break stop;
        }
        metrics::counter!("chat_gateway_frames_out_total").increment(1);
        // Frames are written to the socket's buffer as they come and flushed once the
        // queue is empty: under load, one write carries many frames (loopback tops out
        // near 100k socket writes a second, far below the frames a gateway can fan out).
        if writer.unflushed && queue.is_empty() {
            if let Err(stop) = writer.flush().await {
                break stop;
            }
        }
    };
    let close = match stop {
        Stop::Shutdown => Some((
            close::SERVICE_RESTART,
            "server restarting; reconnect and resume",
        )),
        Stop::Slow => {
            metrics::counter!("chat_gateway_slow_consumer_disconnects_total").increment(1);
            Some((close::SLOW_CONSUMER, "outbound queue full: read faster"))
        }
        Stop::Close(code, reason) => Some((code, reason)),
        Stop::Gone => None,
    };
    // The queue goes first, so its memory is freed while the Close frame waits.
    drop(queue);
    let mut sink = writer.sink;
    // A last, bounded attempt to say why; a client that does not read just loses it.
    let goodbye = async {
        if let Some((code, reason)) = close {
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            };
            let _ = sink.send(Message::Close(Some(frame))).await;
        }
        let _ = sink.close().await;
    };
    let _ = tokio::time::timeout(CLOSE_WRITE_BOUND, goodbye).await;
}

/// Longest the Close frame may take: a slow client that reads again within it learns why
/// it was closed; one that does not is simply dropped.
const CLOSE_WRITE_BOUND: Duration = Duration::from_secs(5);
