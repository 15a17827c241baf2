//! One simulated client: connects from its source address, waits for the server's
//! greeting, joins its room, then sends what the worker schedules and records every
//! delivery, ack and refusal. On request it drops its socket and later reconnects with
//! `resume` (this product only), timing how long until it has every missed event.

use crate::plan::ConnPlan;
use crate::protocol::{chat_resume_frame, marker_text, Incoming, Marker, Target};
use crate::stats::Recorder;
use anyhow::{anyhow, bail};
use futures::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

mod storm;

type Socket = WebSocketStream<TcpStream>;

/// How long connecting, the greeting and the join may take together.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a client of a reconnect storm keeps trying to get everything it missed.
const STORM_DEADLINE: Duration = Duration::from_secs(90);

/// Attempts to connect and join before a client counts as failed.
const CONNECT_ATTEMPTS: u64 = 5;

/// What the worker asks of a connection.
#[derive(Debug)]
pub enum ConnCmd {
    /// Send numbered message `n` of `step`, scheduled at `sent_at_us` (the schedule time,
    /// not the write time, so that a slow server cannot hide its delay in our queue).
    Send { step: u32, n: u64, sent_at_us: u64 },
    /// Close the socket and wait for `Reconnect`.
    Disconnect,
    /// Reconnect and resume; done once `expect` events newer than the last seen arrived.
    Reconnect { started_at_us: u64, expect: u64 },
}

/// Counters the worker reports as progress.
#[derive(Default)]
pub struct Counters {
    pub connected: AtomicU64,
    pub joined: AtomicU64,
    pub failed: AtomicU64,
    pub sent: AtomicU64,
    pub acked: AtomicU64,
    pub delivered: AtomicU64,
    pub resumed: AtomicU64,
    /// Clients of a reconnect storm that gave up.
    pub storm_failed: AtomicU64,
}

/// What all connections of a worker share.
pub struct Shared {
    pub target: Target,
    pub message_size: usize,
    pub recorder: Recorder,
    /// Where the storm's resume times go (kept apart from the step recorder).
    pub storm: Recorder,
    pub counters: Counters,
    /// The step now measured: deliveries of another step count as late.
    pub step: AtomicU32,
}

pub use crate::net::{now_us, tcp_to};

/// Runs one client until the worker drops its command channel.
pub async fn run(
    plan: ConnPlan,
    token: Option<String>,
    shared: std::sync::Arc<Shared>,
    mut commands: mpsc::Receiver<ConnCmd>,
    joined: tokio::sync::oneshot::Sender<()>,
) {
    let mut client = Client {
        plan,
        token,
        pending: HashMap::new(),
        last_seq: 0,
    };
    let opened = client.open_with_retries(&shared).await;
    let _ = joined.send(());
    let mut socket = match opened {
        Ok(socket) => socket,
        Err(e) => {
            shared.counters.failed.fetch_add(1, Ordering::Relaxed);
            shared
                .recorder
                .error(client.plan.idx, &format!("connect: {}", short(&e)));
            return;
        }
    };
    shared.counters.joined.fetch_add(1, Ordering::Relaxed);
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                None => break,
                Some(ConnCmd::Send { step, n, sent_at_us }) => {
                    if let Err(e) = client.send(&mut socket, &shared, step, n, sent_at_us).await {
                        shared.recorder.error(client.plan.idx, &format!("send: {}", short(&e)));
                        break;
                    }
                }
                Some(ConnCmd::Disconnect) => {
                    let _ = socket.close(None).await;
                    // The socket (and its file) goes now: a process holds ~19.9k at most.
                    drop(socket);
                    shared.counters.connected.fetch_sub(1, Ordering::Relaxed);
                    match client.storm(&shared, &mut commands).await {
                        Some(resumed) => socket = resumed,
                        None => return,
                    }
                }
                Some(ConnCmd::Reconnect { .. }) => {}
            },
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(text))) => client.receive(&mut socket, &shared, &text).await,
                Some(Ok(Message::Close(close))) => {
                    let code = close.map(|c| u16::from(c.code)).unwrap_or(0);
                    shared.recorder.error(client.plan.idx, &format!("closed by server: {code}"));
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    shared.recorder.error(client.plan.idx, &format!("socket: {}", short(&e.into())));
                    break;
                }
                None => {
                    shared.recorder.error(client.plan.idx, "socket ended");
                    break;
                }
            }
        }
    }
    shared.counters.connected.fetch_sub(1, Ordering::Relaxed);
}

struct Client {
    plan: ConnPlan,
    token: Option<String>,
    /// Sends awaiting their ack: number → scheduled time.
    pending: HashMap<u64, u64>,
    /// The newest `seq` seen in the room (this product only).
    last_seq: u64,
}

impl Client {
    /// Connects and joins; a refusal is retried after a pause, as clients do. Each failed
    /// attempt is counted by its error; only the last one fails the client.
    async fn open_with_retries(&mut self, shared: &Shared) -> anyhow::Result<Socket> {
        let mut attempt = 1;
        loop {
            match self.open(shared, None).await {
                Ok(socket) => return Ok(socket),
                Err(e) if attempt < CONNECT_ATTEMPTS => {
                    shared
                        .recorder
                        .error(self.plan.idx, &format!("connect retried: {}", short(&e)));
                    // Spread the retries so that they do not come back as one wave.
                    let jitter = u64::from(self.plan.idx % 500);
                    tokio::time::sleep(Duration::from_millis(500 * attempt + jitter)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Connects, waits for the greeting, and joins (or, with `resume_from`, resumes).
    async fn open(&mut self, shared: &Shared, resume_from: Option<u64>) -> anyhow::Result<Socket> {
        let socket = tokio::time::timeout(HANDSHAKE_TIMEOUT, self.handshake(shared, resume_from))
            .await
            .map_err(|_| anyhow!("timed out"))??;
        Ok(socket)
    }

    async fn handshake(
        &mut self,
        shared: &Shared,
        resume_from: Option<u64>,
    ) -> anyhow::Result<Socket> {
        let target = shared.target;
        let url = target.ws_url(&self.plan.url);
        let mut request = url.as_str().into_client_request()?;
        if let Some(token) = self.token.as_ref().filter(|_| target.token_in_header()) {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
        }
        let stream = tcp_to(&request, self.plan.source_ip, None).await?;
        // Small buffers: tens of thousands of clients live in a few processes.
        let config = WebSocketConfig::default()
            .read_buffer_size(8 * 1024)
            .write_buffer_size(0);
        let (mut socket, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
        shared.counters.connected.fetch_add(1, Ordering::Relaxed);

        if target.waits_for_ready() {
            self.await_frame(&mut socket, target, |i| matches!(i, Incoming::Ready))
                .await?;
        }
        match resume_from {
            None => {
                socket
                    .send(Message::text(target.join_frame(&self.plan.room_id)))
                    .await?;
                self.await_frame(&mut socket, target, |i| matches!(i, Incoming::Joined))
                    .await?;
            }
            Some(last_seq) => {
                socket
                    .send(Message::text(chat_resume_frame(
                        &self.plan.room_id,
                        last_seq,
                    )))
                    .await?;
            }
        }
        Ok(socket)
    }

    /// Reads until a frame `wanted` accepts; answers pings, fails on an error frame.
    async fn await_frame(
        &mut self,
        socket: &mut Socket,
        target: Target,
        wanted: impl Fn(&Incoming) -> bool,
    ) -> anyhow::Result<()> {
        while let Some(frame) = socket.next().await {
            let Message::Text(text) = frame? else {
                continue;
            };
            let incoming = target.decode(&text);
            if wanted(&incoming) {
                return Ok(());
            }
            match incoming {
                Incoming::Reply(answer) => socket.send(Message::text(answer)).await?,
                Incoming::Open => {
                    let connect = target.connect_frame(self.token.as_deref());
                    socket.send(Message::text(connect)).await?
                }
                Incoming::Error(code) | Incoming::Refused { code, .. } => bail!("{code}"),
                _ => {}
            }
        }
        bail!("closed during handshake")
    }

    async fn send(
        &mut self,
        socket: &mut Socket,
        shared: &Shared,
        step: u32,
        n: u64,
        sent_at_us: u64,
    ) -> anyhow::Result<()> {
        let text = marker_text(step, self.plan.idx, n, sent_at_us, shared.message_size);
        let frame = shared.target.send_frame(&self.plan.room_id, n, &text);
        socket.send(Message::text(frame)).await?;
        shared.recorder.sent(self.plan.idx);
        shared.counters.sent.fetch_add(1, Ordering::Relaxed);
        if shared.target.acks_sends() {
            self.pending.insert(n, sent_at_us);
        } else {
            shared.recorder.acked(self.plan.idx, self.plan.room, None);
            shared.counters.acked.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    async fn receive(&mut self, socket: &mut Socket, shared: &Shared, text: &str) {
        match shared.target.decode(text) {
            Incoming::Delivery { marker, seq } => {
                if let Some(seq) = seq {
                    self.last_seq = self.last_seq.max(seq);
                }
                let Some(marker) = Marker::find(marker) else {
                    return;
                };
                shared.counters.delivered.fetch_add(1, Ordering::Relaxed);
                if marker.step == shared.step.load(Ordering::Relaxed) {
                    let latency = now_us().saturating_sub(marker.sent_at_us);
                    shared.recorder.delivered(
                        self.plan.idx,
                        self.plan.room,
                        marker.sender,
                        marker.n,
                        latency,
                    );
                } else {
                    shared.recorder.late(self.plan.idx);
                }
            }
            Incoming::Ack(n) => {
                if let Some(sent_at) = self.pending.remove(&n) {
                    let latency = now_us().saturating_sub(sent_at);
                    shared
                        .recorder
                        .acked(self.plan.idx, self.plan.room, Some(latency));
                    shared.counters.acked.fetch_add(1, Ordering::Relaxed);
                }
            }
            Incoming::Refused { n, code } => {
                self.pending.remove(&n);
                shared.recorder.refused(self.plan.idx, &code);
            }
            Incoming::Error(code) => shared.recorder.error(self.plan.idx, &code),
            Incoming::Reply(answer) => {
                let _ = socket.send(Message::text(answer)).await;
            }
            Incoming::Ready
            | Incoming::Open
            | Incoming::Joined
            | Incoming::Resumed { .. }
            | Incoming::Other => {}
        }
    }
}

/// The first line of an error, for grouping errors by kind.
fn short(e: &anyhow::Error) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or("").to_owned();
    // Port numbers and addresses would make every error its own kind.
    line.split(|c: char| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .join("#")
        .replace("##", "#")
}
