//! The reconnect storm: a client drops its socket on command, reconnects with `resume`
//! and times how long until every event it missed has arrived (this product only).

use super::{short, Client, ConnCmd, Shared, Socket, STORM_DEADLINE};
use crate::net::now_us;
use crate::protocol::{chat_resume_frame, Incoming};
use futures::{SinkExt, StreamExt};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

impl Client {
    /// Waits for `Reconnect`, reconnects with `resume`, and records how long until every
    /// missed event arrived. Returns the socket to go on with.
    pub(super) async fn storm(
        &mut self,
        shared: &Shared,
        commands: &mut mpsc::Receiver<ConnCmd>,
    ) -> Option<Socket> {
        let (started_at_us, expect) = loop {
            match commands.recv().await? {
                ConnCmd::Reconnect {
                    started_at_us,
                    expect,
                } => break (started_at_us, expect),
                _ => continue,
            }
        };
        let idx = self.plan.idx;
        let from = self.last_seq;
        let deadline = Instant::now() + STORM_DEADLINE;
        // Refused reconnects and resumes (the server shedding load) are retried after a
        // pause, as clients do; each retry is counted by its reason.
        let mut attempt = 1;
        let mut socket = loop {
            match self.open(shared, Some(from)).await {
                Ok(socket) => break socket,
                Err(e) if Instant::now() < deadline => {
                    shared
                        .storm
                        .error(idx, &format!("reconnect retried: {}", short(&e)));
                    self.pause(attempt).await;
                    attempt += 1;
                }
                Err(e) => {
                    shared
                        .storm
                        .error(idx, &format!("reconnect: {}", short(&e)));
                    shared.storm.replayed(idx, expect, 0, None);
                    shared.counters.storm_failed.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
            }
        };
        let mut seen = std::collections::HashSet::new();
        let mut resumed = false;
        // The server's last word on whether the gap could be replayed: `recovered: false`
        // tells the client to reload history from the api instead (nothing is lost then).
        let mut recovered = true;
        while !(resumed && seen.len() as u64 >= expect) {
            let frame = match tokio::time::timeout_at(deadline.into(), socket.next()).await {
                Ok(Some(Ok(frame))) => frame,
                _ => {
                    shared.storm.error(idx, "resume incomplete");
                    break;
                }
            };
            let Message::Text(text) = frame else { continue };
            match shared.target.decode(&text) {
                Incoming::Delivery { seq: Some(seq), .. } if seq > from => {
                    seen.insert(seq);
                    self.last_seq = self.last_seq.max(seq);
                }
                Incoming::Resumed { recovered: r } => {
                    resumed = true;
                    recovered = r;
                    if !r {
                        shared.storm.error(idx, "resumed with recovered: false");
                    }
                }
                Incoming::Error(code) | Incoming::Refused { code, .. } => {
                    shared.storm.error(idx, &format!("resume retried: {code}"));
                    resumed = false;
                    self.pause(attempt).await;
                    attempt += 1;
                    let again = chat_resume_frame(&self.plan.room_id, self.last_seq);
                    if socket.send(Message::text(again)).await.is_err() {
                        shared.storm.error(idx, "resume incomplete");
                        break;
                    }
                }
                _ => {}
            }
        }
        let received = seen.len() as u64;
        // Missing events after the server said it replayed them all: a real loss.
        if resumed && recovered && received < expect {
            shared.storm.missing(idx, expect - received);
        }
        let done = resumed && received >= expect;
        let after = done.then(|| now_us().saturating_sub(started_at_us));
        shared.storm.replayed(idx, expect, received, after);
        if done {
            shared.counters.resumed.fetch_add(1, Ordering::Relaxed);
        } else {
            shared.counters.storm_failed.fetch_add(1, Ordering::Relaxed);
        }
        Some(socket)
    }

    /// A pause before retry `attempt`, longer each time and spread over the clients.
    async fn pause(&self, attempt: u64) {
        let jitter = u64::from(self.plan.idx % 500);
        let backoff = (250 * attempt).min(2_000);
        tokio::time::sleep(Duration::from_millis(backoff + jitter)).await;
    }
}
