//! The outbound side of one connection: a queue bounded in frames and bytes, and the
//! writer task that owns the socket's sink.
//!
//! Live events are offered without waiting ([`OutboundSender::offer`]): a full queue marks
//! the client slow and it is closed with 4008, so one slow reader never holds up fan-out
//! or grows the server's memory. Replies wait for room in frames. A replay asks for room
//! in bytes before it reads each event from NATS ([`OutboundSender::wait_for_room`]): a
//! client that leaves no room for [`REPLAY_STALL`] is slow, and closed with 4008 too.
//!
//! The writer also keeps, per room, the last `seq` sent. While a room is being resumed its
//! live events are held back, then released after the replay, skipping what the replay
//! already sent: the client sees every event once, in order.
//!
//! One byte bound (`queue_bytes`) covers everything queued for the client: replies, replayed
//! events, and the live events held back during a replay (they stay counted until written).
//! A replay only asks for more while at most half the bound is used, so the other half is
//! left for the live events that arrive meanwhile; a room so busy that they overflow it
//! closes the client with 4008, and it resumes again.

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use chat_schemas::ws::close;
use chat_schemas::RoomId;
use futures::stream::SplitSink;
use futures::SinkExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use crate::socket_writer::{Stop, Writer};

/// Longest a replay waits for room in the client's queue before the client counts as slow.
pub const REPLAY_STALL: Duration = Duration::from_secs(5);

/// What the writer is asked to do.
pub enum Outbound {
    /// A reply (ack, error, pong, ...), sent as is.
    Reply(Utf8Bytes),
    /// A live room event from fan-out.
    Live {
        room: RoomId,
        seq: u64,
        frame: Utf8Bytes,
    },
    /// Hold back live events of `room`; the client has seen up to `from`.
    BeginReplay { room: RoomId, from: u64 },
    /// A replayed room event.
    Replayed {
        room: RoomId,
        seq: u64,
        frame: Utf8Bytes,
    },
    /// The replay is over: send what was held back (unless already sent), then `result`.
    /// With `skip_to` (the replay was not recovered), the client reloads history up to that
    /// `seq`: held-back events up to it are not sent.
    EndReplay {
        room: RoomId,
        result: Utf8Bytes,
        skip_to: Option<u64>,
    },
    /// Stop delivering `room` (the connection left it).
    Forget { room: RoomId },
    /// Close the connection with this code.
    Close { code: u16, reason: &'static str },
}

impl Outbound {
    fn cost(&self) -> usize {
        match self {
            Outbound::Reply(f)
            | Outbound::Live { frame: f, .. }
            | Outbound::Replayed { frame: f, .. } => f.len(),
            Outbound::EndReplay { result, .. } => result.len(),
            _ => 0,
        }
    }
}

/// The bytes queued for one client (held-back live events included), and a signal each
/// time the writer frees some.
#[derive(Default)]
struct Budget {
    bytes: AtomicUsize,
    freed: Notify,
}

impl Budget {
    fn free(&self, bytes: usize) {
        if bytes > 0 {
            self.bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.freed.notify_waiters();
        }
    }
}

/// The sending half, cheap to clone (fan-out holds one per subscribed room).
#[derive(Clone)]
pub struct OutboundSender {
    tx: mpsc::Sender<Outbound>,
    budget: Arc<Budget>,
    max_bytes: usize,
    slow: CancellationToken,
}

/// The connection has ended; nothing more can be sent.
#[derive(Debug)]
pub struct Closed;

/// Why a replay cannot queue more.
#[derive(Debug, PartialEq, Eq)]
pub enum NoRoom {
    /// The connection has ended.
    Closed,
    /// The client left no room for [`REPLAY_STALL`]: it was marked slow (4008).
    Stalled,
}

impl OutboundSender {
    /// Offers a live event without waiting; a full queue marks the client slow.
    pub fn offer(&self, item: Outbound) {
        let cost = item.cost();
        if self.budget.bytes.load(Ordering::Relaxed) + cost > self.max_bytes {
            self.slow.cancel();
            return;
        }
        // Counted before it is queued: the writer may take it (and subtract) at once.
        self.budget.bytes.fetch_add(cost, Ordering::Relaxed);
        if let Err(e) = self.tx.try_send(item) {
            self.budget.bytes.fetch_sub(cost, Ordering::Relaxed);
            if matches!(e, mpsc::error::TrySendError::Full(_)) {
                self.slow.cancel();
            }
        }
    }

    /// Queues a reply or replayed event, waiting for room in frames (a replay first waits
    /// for room in bytes with [`Self::wait_for_room`]).
    pub async fn push(&self, item: Outbound) -> Result<(), Closed> {
        let cost = item.cost();
        self.budget.bytes.fetch_add(cost, Ordering::Relaxed);
        self.tx.send(item).await.map_err(|_| {
            self.budget.bytes.fetch_sub(cost, Ordering::Relaxed);
            Closed
        })
    }

    /// Waits until at most half the byte bound is used and a frame fits, so that a replay
    /// reads its next event from NATS only when the client can take it. After `bound`
    /// without room the client is marked slow (closed with 4008).
    pub async fn wait_for_room(&self, bound: Duration) -> Result<(), NoRoom> {
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let freed = self.budget.freed.notified();
            tokio::pin!(freed);
            // Registered before the check, so a byte freed in between still wakes us.
            freed.as_mut().enable();
            if self.tx.is_closed() {
                return Err(NoRoom::Closed);
            }
            let used = self.budget.bytes.load(Ordering::Relaxed);
            if used <= self.max_bytes / 2 && self.tx.capacity() > 0 {
                return Ok(());
            }
            tokio::select! {
                _ = freed => {}
                _ = self.tx.closed() => return Err(NoRoom::Closed),
                _ = tokio::time::sleep_until(deadline) => {
                    self.slow.cancel();
                    return Err(NoRoom::Stalled);
                }
            }
        }
    }

    /// Asks the writer to close with `code`, without waiting for queue space: a full
    /// queue means the client is slow, and it is closed for that instead.
    pub fn close(&self, code: u16, reason: &'static str) {
        if let Err(mpsc::error::TrySendError::Full(_)) =
            self.tx.try_send(Outbound::Close { code, reason })
        {
            self.slow.cancel();
        }
    }

    /// Whether the writer has gone (the connection is over).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Resolves when the writer has gone (the connection is over).
    pub async fn closed(&self) {
        self.tx.closed().await
    }
}

pub struct OutboundReceiver {
    rx: mpsc::Receiver<Outbound>,
    budget: Arc<Budget>,
    slow: CancellationToken,
}

pub fn channel(frames: usize, max_bytes: usize) -> (OutboundSender, OutboundReceiver) {
    let (tx, rx) = mpsc::channel(frames);
    let budget = Arc::new(Budget::default());
    let slow = CancellationToken::new();
    (
        OutboundSender {
            tx,
            budget: budget.clone(),
            max_bytes,
            slow: slow.clone(),
        },
        OutboundReceiver { rx, budget, slow },
    )
}

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
    fn release(&mut self, budget: &Budget) -> Vec<(u64, Utf8Bytes)> {
        let held = self.held.take().unwrap_or_default();
        budget.free(held.iter().map(|(_, f)| f.len()).sum());
        held
    }
}

/// Writes until the queue closes, the client is slow, the server shuts down, or a write
/// fails. Pings every `heartbeat`. Every write races the slow and shutdown signals and a
/// timeout, so a client that stops reading (a zero TCP window) cannot hold the writer.
pub async fn write_loop(
    sink: SplitSink<WebSocket, Message>,
    mut queue: OutboundReceiver,
    heartbeat: Duration,
    shutdown: CancellationToken,
) {
    let mut writer = Writer {
        sink,
        slow: queue.slow.clone(),
        shutdown: shutdown.clone(),
        unflushed: false,
    };
    let mut rooms: HashMap<RoomId, RoomCursor> = HashMap::new();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let stop = loop {
        let item = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break Stop::Shutdown,
            _ = queue.slow.cancelled() => break Stop::Slow,
            _ = ping.tick() => {
                if let Err(stop) = writer.send(Message::Ping(Default::default())).await {
                    break stop;
                }
                writer.unflushed = false;
                continue;
            }
            item = queue.rx.recv() => match item {
                Some(item) => item,
                None => break Stop::Gone,
            },
        };
        // A held-back live event stays counted until it is written (or forgotten).
        let held_back = matches!(&item, Outbound::Live { room, .. }
            if rooms.get(room).is_some_and(RoomCursor::holding));
        if !held_back {
            queue.budget.free(item.cost());
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
                for (seq, frame) in cursor.release(&queue.budget) {
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
                    cursor.release(&queue.budget);
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
        if writer.unflushed && queue.rx.is_empty() {
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
