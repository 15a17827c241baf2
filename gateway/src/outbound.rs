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

use axum::extract::ws::Utf8Bytes;
use chat_schemas::RoomId;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

mod write_loop;
pub use write_loop::write_loop;
pub(crate) use write_loop::RoomCursor;

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

/// What the senders and the writer of one connection share: the queue itself (allocated
/// at the first frame and given back whenever it drains from a burst, so an idle
/// connection holds no queue), the bytes it holds (held-back live events included), and
/// the signals between them.
struct Shared {
    queue: Mutex<VecDeque<Outbound>>,
    /// At most this many frames are queued.
    max_frames: usize,
    max_bytes: usize,
    bytes: AtomicUsize,
    /// Live [`OutboundSender`]s: at none the writer ends.
    senders: AtomicUsize,
    /// The writer has gone: nothing more is queued.
    gone: AtomicBool,
    /// Wakes the writer: a frame was queued or the last sender went.
    queued: Notify,
    /// Wakes senders waiting for room: the writer freed bytes or a frame slot, or went.
    room: Notify,
    /// Wakes waiters of [`OutboundSender::closed`].
    ended: Notify,
    slow: CancellationToken,
}

/// A queue that grew beyond this many slots for a burst is given back once it drains.
const KEEP_SLOTS: usize = 16;

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Outbound>> {
        // A panic while the lock is held cannot leave the queue half-changed.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn free(&self, bytes: usize) {
        if bytes > 0 {
            self.bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.room.notify_waiters();
        }
    }

    /// Queues `item` if a slot is free; answers it back when the queue is full.
    fn try_queue(&self, item: Outbound) -> Result<(), Option<Outbound>> {
        let mut queue = self.lock();
        if self.gone.load(Ordering::Relaxed) {
            return Err(None);
        }
        if queue.len() >= self.max_frames {
            return Err(Some(item));
        }
        queue.push_back(item);
        drop(queue);
        self.queued.notify_one();
        Ok(())
    }
}

/// The sending half, cheap to clone (fan-out holds one per subscribed room).
pub struct OutboundSender {
    shared: Arc<Shared>,
}

impl Clone for OutboundSender {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for OutboundSender {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.queued.notify_one();
        }
    }
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
        let shared = &*self.shared;
        let cost = item.cost();
        if shared.bytes.load(Ordering::Relaxed) + cost > shared.max_bytes {
            shared.slow.cancel();
            return;
        }
        // Counted before it is queued: the writer may take it (and subtract) at once.
        shared.bytes.fetch_add(cost, Ordering::Relaxed);
        if let Err(full) = shared.try_queue(item) {
            shared.bytes.fetch_sub(cost, Ordering::Relaxed);
            if full.is_some() {
                shared.slow.cancel();
            }
        }
    }

    /// Queues a reply or replayed event, waiting for room in frames (a replay first waits
    /// for room in bytes with [`Self::wait_for_room`]).
    pub async fn push(&self, item: Outbound) -> Result<(), Closed> {
        let shared = &*self.shared;
        let cost = item.cost();
        shared.bytes.fetch_add(cost, Ordering::Relaxed);
        let mut item = item;
        loop {
            let room = shared.room.notified();
            tokio::pin!(room);
            // Registered before the attempt, so a slot freed in between still wakes us.
            room.as_mut().enable();
            match shared.try_queue(item) {
                Ok(()) => return Ok(()),
                Err(Some(full)) => item = full,
                Err(None) => {
                    shared.bytes.fetch_sub(cost, Ordering::Relaxed);
                    return Err(Closed);
                }
            }
            room.await;
        }
    }

    /// Waits until at most half the byte bound is used and a frame fits, so that a replay
    /// reads its next event from NATS only when the client can take it. After `bound`
    /// without room the client is marked slow (closed with 4008).
    pub async fn wait_for_room(&self, bound: Duration) -> Result<(), NoRoom> {
        let shared = &*self.shared;
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let freed = shared.room.notified();
            tokio::pin!(freed);
            // Registered before the check, so a byte freed in between still wakes us.
            freed.as_mut().enable();
            if shared.gone.load(Ordering::Relaxed) {
                return Err(NoRoom::Closed);
            }
            let used = shared.bytes.load(Ordering::Relaxed);
            if used <= shared.max_bytes / 2 && shared.lock().len() < shared.max_frames {
                return Ok(());
            }
            tokio::select! {
                _ = freed => {}
                _ = tokio::time::sleep_until(deadline) => {
                    shared.slow.cancel();
                    return Err(NoRoom::Stalled);
                }
            }
        }
    }

    /// Asks the writer to close with `code`, without waiting for queue space: a full
    /// queue means the client is slow, and it is closed for that instead.
    pub fn close(&self, code: u16, reason: &'static str) {
        if let Err(Some(_)) = self.shared.try_queue(Outbound::Close { code, reason }) {
            self.shared.slow.cancel();
        }
    }

    /// Whether the writer has gone (the connection is over).
    pub fn is_closed(&self) -> bool {
        self.shared.gone.load(Ordering::Relaxed)
    }

    /// Resolves when the writer has gone (the connection is over).
    pub async fn closed(&self) {
        loop {
            let ended = self.shared.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.is_closed() {
                return;
            }
            ended.await;
        }
    }
}

/// The writer's half; dropping it ends the connection for every sender.
pub struct OutboundReceiver {
    shared: Arc<Shared>,
}

impl OutboundReceiver {
    /// The next frame; `None` once every sender has gone and the queue is empty.
    async fn recv(&self) -> Option<Outbound> {
        let shared = &*self.shared;
        loop {
            let queued = shared.queued.notified();
            tokio::pin!(queued);
            queued.as_mut().enable();
            {
                let mut queue = shared.lock();
                let was_full = queue.len() >= shared.max_frames;
                if let Some(item) = queue.pop_front() {
                    if queue.is_empty() && queue.capacity() > KEEP_SLOTS {
                        *queue = VecDeque::new();
                    }
                    drop(queue);
                    if was_full {
                        shared.room.notify_waiters();
                    }
                    return Some(item);
                }
                if shared.senders.load(Ordering::Acquire) == 0 {
                    return None;
                }
            }
            queued.await;
        }
    }

    fn is_empty(&self) -> bool {
        self.shared.lock().is_empty()
    }
}

impl Drop for OutboundReceiver {
    fn drop(&mut self) {
        let shared = &*self.shared;
        let dropped = {
            let mut queue = shared.lock();
            shared.gone.store(true, Ordering::Relaxed);
            std::mem::take(&mut *queue)
        };
        shared.free(dropped.iter().map(Outbound::cost).sum());
        shared.room.notify_waiters();
        shared.ended.notify_waiters();
    }
}

pub fn channel(frames: usize, max_bytes: usize) -> (OutboundSender, OutboundReceiver) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(VecDeque::new()),
        max_frames: frames.max(1),
        max_bytes,
        bytes: AtomicUsize::new(0),
        senders: AtomicUsize::new(1),
        gone: AtomicBool::new(false),
        queued: Notify::new(),
        room: Notify::new(),
        ended: Notify::new(),
        slow: CancellationToken::new(),
    });
    (
        OutboundSender {
            shared: shared.clone(),
        },
        OutboundReceiver { shared },
    )
}
