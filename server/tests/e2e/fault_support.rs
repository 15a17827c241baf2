//! Support for `faults_under_load`: the real processes of a scaled-out deployment (each one
//! killable with `kill -9` and restartable), load clients that keep a Jepsen-style record of
//! what they sent and what they were told, and the checker that compares those records with
//! the history the api serves.

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::app::User;
use chat_testkit::product::product_process;
use chat_testkit::ws::{open_socket as ws_connect, Socket};
use chat_testkit::{connect_db, free_port, ApiClient, NatsServer, PostgresCluster, Proc};

/// A product process of the deployment under `name`, its output in `logs/<name>.log`.
fn product(
    name: &str,
    bin: &str,
    port: u16,
    env: &[(&str, String)],
    services: (&NatsServer, &str),
    logs: &Path,
) -> Proc {
    let (nats, database_url) = services;
    let mut process = product_process(bin, &nats.url(), database_url)
        // Several processes of a kind run at once: no fixed operator ports.
        .env("API_METRICS_ADDR", "off")
        .env("GATEWAY_METRICS_ADDR", "off")
        .envs(env)
        .log_to(logs.join(format!("{name}.log")))
        .serving_on(port);
    process.name = name.to_owned();
    process
}

/// The whole deployment on loopback: a private Postgres cluster, one `nats-server` with a
/// file store, an `api`, a `projector` and two `gateway` processes. Processes are declared
/// first so that they are dropped (killed) before the services they use.
pub struct Stack {
    pub api: Proc,
    pub projector: Proc,
    pub gateways: Vec<Proc>,
    pub nats: NatsServer,
    pub pg: PostgresCluster,
    pub database_url: String,
    api_client: ApiClient,
    _logs: tempfile::TempDir,
}

impl Stack {
    pub async fn start() -> Self {
        let pg = tokio::task::block_in_place(PostgresCluster::start);
        let nats = tokio::task::block_in_place(NatsServer::start);
        let database_url = pg.admin_url();
        let logs = tempfile::Builder::new()
            .prefix("faults-logs")
            .tempdir()
            .unwrap();
        let services = (&nats, database_url.as_str());
        let port = free_port();
        let mut api = product(
            "api",
            "api",
            port,
            &[
                ("API_HTTP_ADDR", format!("127.0.0.1:{port}")),
                ("API_RATE_PER_SEC", "1000".into()),
                ("API_RATE_BURST", "1000".into()),
            ],
            services,
            logs.path(),
        );
        // The api applies the migrations, so it goes first.
        api.start().await;
        let api_client = ApiClient::new(&api.base);
        let port = free_port();
        let mut projector = product(
            "projector",
            "projector",
            port,
            &[("PROJECTOR_HTTP_ADDR", format!("127.0.0.1:{port}"))],
            services,
            logs.path(),
        );
        projector.start().await;
        let mut gateways = Vec::new();
        for i in 0..2 {
            let port = free_port();
            let mut gateway = product(
                &format!("gateway-{i}"),
                "gateway",
                port,
                &[
                    ("GATEWAY_HTTP_ADDR", format!("127.0.0.1:{port}")),
                    ("GATEWAY_ID", format!("faults-gw-{i}")),
                ],
                services,
                logs.path(),
            );
            gateway.start().await;
            gateways.push(gateway);
        }
        Self {
            api,
            projector,
            gateways,
            nats,
            pg,
            database_url,
            api_client,
            _logs: logs,
        }
    }

    /// Every process goes down hard (`kill -9`: api, projector, gateways), NATS restarts and
    /// Postgres stops and starts again: what a power cut does to a single machine. The
    /// processes stay down until the test starts them.
    pub fn kill_everything(&mut self) {
        self.api.kill9();
        self.projector.kill9();
        for gateway in &mut self.gateways {
            gateway.kill9();
        }
        tokio::task::block_in_place(|| {
            self.nats.restart();
            self.pg.stop();
            self.pg.start_again();
        });
    }

    pub fn gateway_bases(&self) -> Vec<String> {
        self.gateways.iter().map(|g| g.base.clone()).collect()
    }

    /// Every product process that should be running is: none exited by itself.
    pub fn assert_all_running(&mut self, when: &str) {
        let mut dead = Vec::new();
        for proc in std::iter::once(&mut self.api)
            .chain(std::iter::once(&mut self.projector))
            .chain(self.gateways.iter_mut())
        {
            if !proc.is_running() {
                dead.push(format!("{}:\n{}", proc.name, proc.log_tail(30)));
            }
        }
        assert!(dead.is_empty(), "{when}: exited by itself: {dead:?}");
    }

    /// Accounts written straight into the read model (Argon2 for dozens of users would
    /// dominate the test), with tokens signed by the test secret.
    pub async fn insert_users(&self, prefix: &str, n: usize) -> Vec<User> {
        crate::app::insert_users(&self.database_url, prefix, n).await
    }

    pub async fn api_request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.api_client
            .request(method, path, Some(token), body)
            .await
    }

    /// `POST /sendMessage` as `user`, which must be stored (201); answers its body.
    pub async fn send_message(&self, user: &User, room: &str, text: &str) -> Value {
        let body = json!({"roomId": room, "message": text, "senderId": user.id,
                          "timestamp": "2026-11-21T10:00:00.000Z"});
        let (status, answer) = self
            .api_request(
                reqwest::Method::POST,
                "/sendMessage",
                &user.token,
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer
    }

    /// Creates a private room of `owner` with `members`; answers its id.
    pub async fn create_room(&self, owner: &User, name: &str, members: &[&User]) -> String {
        let members: Vec<&str> = members.iter().map(|u| u.id.as_str()).collect();
        let (status, body) = self
            .api_request(
                reqwest::Method::POST,
                "/rooms",
                &owner.token,
                Some(json!({"name": name, "visibility": "private", "members": members})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create room: {body}");
        body["roomId"].as_str().unwrap().to_owned()
    }

    /// How far the projector has applied the room stream, or `None` if Postgres does not
    /// answer.
    pub async fn checkpoint(&self) -> Option<u64> {
        let db = connect_db(&self.database_url).await?;
        let row = tokio::time::timeout(
            Duration::from_secs(3),
            db.query_one(
                "SELECT COALESCE(min(last_seq), 0) FROM projector_checkpoints \
                 WHERE stream = 'CHAT_ROOMS' OR stream LIKE 'CHAT_ROOMS/%'",
                &[],
            ),
        )
        .await
        .ok()?
        .ok()?;
        Some(row.get::<_, i64>(0) as u64)
    }

    /// Waits until the projector has applied the room stream up to `seq`; answers how long
    /// it took. Panics after `bound`.
    pub async fn wait_for_checkpoint(&self, seq: u64, bound: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let applied = self.checkpoint().await;
            if applied.is_some_and(|a| a >= seq) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < bound,
                "projection stuck at {applied:?}, want {seq}; projector log:\n{}",
                self.projector.log_tail(30)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The last sequence of the room stream (everything stored so far).
    pub async fn rooms_stream_last_seq(&self) -> u64 {
        let nats = async_nats::connect(self.nats.url()).await.expect("NATS");
        let mut stream = async_nats::jetstream::new(nats)
            .get_stream("CHAT_ROOMS")
            .await
            .expect("the room stream");
        stream
            .info()
            .await
            .expect("stream info")
            .state
            .last_sequence
    }

    /// Every message of `room` from the api, paging with `afterSeq`.
    pub async fn history(&self, token: &str, room: &str) -> Vec<Value> {
        let mut all: Vec<Value> = Vec::new();
        let mut after = 0u64;
        loop {
            let (status, body) = self
                .api_request(
                    reqwest::Method::GET,
                    &format!("/getMessages?roomId={room}&afterSeq={after}&limit=500"),
                    token,
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "getMessages: {body}");
            let page = body["messages"].as_array().cloned().unwrap_or_default();
            let full = page.len() == 500;
            if let Some(last) = page.last() {
                after = last["seq"].as_u64().expect("seq");
            }
            all.extend(page);
            if !full {
                return all;
            }
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The processes' own words, for whoever reads the failure.
            for proc in std::iter::once(&self.api)
                .chain(std::iter::once(&self.projector))
                .chain(self.gateways.iter())
            {
                eprintln!(
                    "---- last lines of {} ----\n{}",
                    proc.name,
                    proc.log_tail(25)
                );
            }
        }
    }
}

/// A connection of the probe user, for single sends whose answers the test inspects.
/// Opened ahead of a fault: while Postgres is down no new connection is admitted (the
/// handshake checks the session in Postgres).
pub struct Probe {
    socket: Socket,
    next: u64,
}

impl Probe {
    pub async fn connect(base: &str, token: &str) -> Option<Self> {
        Some(Self {
            socket: ws_connect(base, token).await?,
            next: 0,
        })
    }

    /// Sends `client_msg_id` to `room`: answers the reply (`ack` or `error`) and how long
    /// it took, or `None` if the connection failed or nothing came within 15 s.
    pub async fn send(&mut self, room: &str, client_msg_id: &str) -> Option<(Value, Duration)> {
        self.next += 1;
        let id = format!("p{}", self.next);
        let started = Instant::now();
        let frame = json!({"type": "send", "id": id, "roomId": room,
                           "message": format!("{client_msg_id} probe"), "clientMsgId": client_msg_id});
        self.socket
            .send(Message::text(frame.to_string()))
            .await
            .ok()?;
        let answer = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                match self.socket.next().await? {
                    Ok(Message::Text(t)) => {
                        let v: Value = serde_json::from_str(&t).ok()?;
                        if v["id"] == id.as_str() {
                            return Some(v);
                        }
                    }
                    Ok(Message::Close(_)) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        })
        .await
        .ok()??;
        Some((answer, started.elapsed()))
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

// ---------------------------------------------------------------------------------------
// Load clients
// ---------------------------------------------------------------------------------------

/// What the harness tells the clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Send numbered messages at a steady rate.
    Run,
    /// Send nothing new; get the message in flight acknowledged.
    Drain,
    /// Resume every room once more, check the chain is complete, and report.
    Final,
}

pub struct ClientSpec {
    pub name: String,
    pub user: User,
    pub rooms: Vec<String>,
    pub gateways: Vec<String>,
    pub first_gateway: usize,
    pub interval: Duration,
    /// Discard every `n`th live event that would extend the chain, as if the frame had been
    /// lost on the way (0: never). The next event's `prevSeq` then shows the gap and the
    /// client resumes that room on its live connection: a path that faults alone seldom
    /// take.
    pub discard_every: u64,
}

/// What the harness can watch while a client runs.
#[derive(Clone, Default)]
pub struct ClientGauges {
    pub acked: Arc<AtomicU64>,
    pub idle: Arc<AtomicBool>,
}

/// One message a client attempted, and what became of it.
#[derive(Debug, Clone)]
pub struct SentRecord {
    pub room: String,
    pub client_msg_id: String,
    pub text: String,
    pub attempts: u32,
    /// Error codes of attempts answered with an `error` frame.
    pub errors: Vec<String>,
    /// `(seq, messageId)` of the ack.
    pub ack: Option<(u64, String)>,
}

/// A room event as the client received it, in the order it accepted them.
#[derive(Debug, Clone)]
pub struct ChainEvent {
    pub seq: u64,
    pub kind: String,
    pub client_msg_id: Option<String>,
    pub actor: String,
    pub message_id: Option<String>,
}

/// Per room: the unbroken chain of events received (each one's `prevSeq` is the one
/// before's `seq`).
#[derive(Debug, Clone, Default)]
pub struct Chain {
    pub last: u64,
    pub events: Vec<ChainEvent>,
}

#[derive(Debug, Default)]
pub struct ClientReport {
    pub name: String,
    pub user_id: String,
    pub sent: BTreeMap<u64, SentRecord>,
    /// `(when, code)` of every send answered with an error frame.
    pub send_errors: Vec<(Instant, String)>,
    /// Error frames not answering a send (a refused resume, ...).
    pub other_errors: Vec<String>,
    /// Send attempts that got no answer (connection lost, or silent for too long).
    pub no_answer: u64,
    pub chains: HashMap<String, Chain>,
    /// `lastSeq` of the final `resumed` per room.
    pub final_last: HashMap<String, u64>,
    pub connections: u64,
    pub connect_failures: u64,
    /// Events whose `prevSeq` was not the last `seq` seen: a gap, resumed.
    pub gaps: u64,
    /// Events at or below the last `seq` already seen (a repeat).
    pub redelivered: u64,
    /// Live events discarded on purpose (see [`ClientSpec::discard_every`]).
    pub discarded: u64,
    /// `resumed {recovered: true}` while the chain had not reached its `lastSeq`.
    pub resume_short: u64,
    pub resumes_not_recovered: u64,
    /// Acks for a message already acknowledged with a different `seq` or `messageId`.
    pub ack_conflicts: Vec<String>,
}

const ACK_TIMEOUT: Duration = Duration::from_secs(10);
const RESUME_TIMEOUT: Duration = Duration::from_secs(15);
const RETRY_PAUSE: Duration = Duration::from_millis(250);
const RESUME_RETRY_PAUSE: Duration = Duration::from_millis(500);

enum Request {
    Send(u64),
    Resume { room: String, last: bool },
}

struct InFlight {
    n: u64,
    /// The request id on the current connection, if sent there and not yet answered.
    request: Option<String>,
    sent_at: Instant,
    retry_at: Instant,
}

#[derive(Default)]
struct RoomOnConnection {
    /// Resumed (recovered) at least once on this connection: it is live here.
    ready: bool,
    resuming: Option<Instant>,
    resume_at: Option<Instant>,
    /// Resumed (recovered) by a request sent in the final phase.
    final_ok: bool,
}

struct LoadClient {
    spec: ClientSpec,
    gauges: ClientGauges,
    report: ClientReport,
    in_flight: Option<InFlight>,
    next_n: u64,
    next_send_at: Instant,
    request_counter: u64,
    requests: HashMap<String, Request>,
    rooms: HashMap<String, RoomOnConnection>,
    /// Live events accepted since the last one discarded on purpose.
    since_discard: u64,
}

/// Spawns a load client; its report comes back when the harness moves to [`Phase::Final`]
/// and the client has checked every room.
pub fn spawn_client(
    spec: ClientSpec,
    phase: watch::Receiver<Phase>,
) -> (ClientGauges, tokio::task::JoinHandle<ClientReport>) {
    let gauges = ClientGauges::default();
    let mut client = LoadClient {
        report: ClientReport {
            name: spec.name.clone(),
            user_id: spec.user.id.clone(),
            chains: spec
                .rooms
                .iter()
                .map(|r| (r.clone(), Chain::default()))
                .collect(),
            ..Default::default()
        },
        spec,
        gauges: gauges.clone(),
        in_flight: None,
        next_n: 1,
        next_send_at: Instant::now(),
        request_counter: 0,
        requests: HashMap::new(),
        rooms: HashMap::new(),
        since_discard: 0,
    };
    let handle = tokio::spawn(async move {
        client.run(phase).await;
        client.report
    });
    (gauges, handle)
}

impl LoadClient {
    async fn run(&mut self, phase: watch::Receiver<Phase>) {
        let mut gateway = self.spec.first_gateway;
        loop {
            let base = self.spec.gateways[gateway].clone();
            let Some(mut socket) = ws_connect(&base, &self.spec.user.token).await else {
                self.report.connect_failures += 1;
                gateway = (gateway + 1) % self.spec.gateways.len();
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            self.report.connections += 1;
            self.on_connected();
            let finished = self.connection(&mut socket, &phase).await;
            if finished {
                let _ = socket.close(None).await;
                return;
            }
            // Lost: an unanswered send is sent again (same clientMsgId) after the resume.
            if self.in_flight.as_ref().is_some_and(|f| f.request.is_some()) {
                self.report.no_answer += 1;
            }
            gateway = (gateway + 1) % self.spec.gateways.len();
        }
    }

    fn on_connected(&mut self) {
        let now = Instant::now();
        self.requests.clear();
        self.rooms = self
            .spec
            .rooms
            .iter()
            .map(|r| {
                (
                    r.clone(),
                    RoomOnConnection {
                        resume_at: Some(now),
                        ..Default::default()
                    },
                )
            })
            .collect();
        if let Some(f) = &mut self.in_flight {
            f.request = None;
            f.retry_at = now;
        }
    }

    /// Runs one connection until it is lost (`false`) or the client is done (`true`).
    async fn connection(&mut self, socket: &mut Socket, phase: &watch::Receiver<Phase>) -> bool {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let outgoing = tokio::select! {
                message = socket.next() => match message {
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<Value>(&text) {
                        Ok(frame) => self.on_frame(frame, *phase.borrow()),
                        Err(_) => {
                            self.report.other_errors.push(format!("not JSON: {text}"));
                            Vec::new()
                        }
                    },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return false,
                    Some(Ok(_)) => Vec::new(),
                },
                _ = tick.tick() => match self.on_tick(*phase.borrow()) {
                    Tick::Frames(frames) => frames,
                    Tick::Reconnect => return false,
                    Tick::Done => return true,
                },
            };
            for frame in outgoing {
                let sent = tokio::time::timeout(
                    Duration::from_secs(5),
                    socket.send(Message::text(frame.to_string())),
                )
                .await;
                if !matches!(sent, Ok(Ok(()))) {
                    return false;
                }
            }
        }
    }

    fn request_id(&mut self) -> String {
        self.request_counter += 1;
        format!("q{}", self.request_counter)
    }

    fn resume_frame(&mut self, room: &str, phase: Phase) -> Value {
        let id = self.request_id();
        let last = self.report.chains[room].last;
        self.requests.insert(
            id.clone(),
            Request::Resume {
                room: room.to_owned(),
                last: phase == Phase::Final,
            },
        );
        let state = self.rooms.get_mut(room).unwrap();
        state.resuming = Some(Instant::now());
        state.resume_at = None;
        json!({"type": "resume", "id": id, "rooms": [{"roomId": room, "lastSeq": last}]})
    }

    fn on_frame(&mut self, frame: Value, phase: Phase) -> Vec<Value> {
        let now = Instant::now();
        let id = frame["id"].as_str().unwrap_or_default().to_owned();
        match frame["type"].as_str().unwrap_or_default() {
            "ack" => {
                if let Some(Request::Send(n)) = self.requests.remove(&id) {
                    let seq = frame["seq"].as_u64().unwrap_or(0);
                    let message_id = frame["messageId"].as_str().unwrap_or_default().to_owned();
                    let record = self.report.sent.get_mut(&n).unwrap();
                    match &record.ack {
                        Some((s, m)) if (*s, m.as_str()) != (seq, message_id.as_str()) => {
                            self.report.ack_conflicts.push(format!(
                                "{}: acked as {s}/{m}, then as {seq}/{message_id}",
                                record.client_msg_id
                            ))
                        }
                        _ => record.ack = Some((seq, message_id)),
                    }
                    if self.in_flight.as_ref().is_some_and(|f| f.n == n) {
                        self.in_flight = None;
                        self.gauges.acked.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            "error" => {
                let code = frame["code"].as_str().unwrap_or("?").to_owned();
                match self.requests.remove(&id) {
                    Some(Request::Send(n)) => {
                        self.report.send_errors.push((now, code.clone()));
                        self.report.sent.get_mut(&n).unwrap().errors.push(code);
                        if let Some(f) = self.in_flight.as_mut().filter(|f| f.n == n) {
                            f.request = None;
                            f.retry_at = now + RETRY_PAUSE;
                        }
                    }
                    Some(Request::Resume { room, .. }) => {
                        self.report.other_errors.push(format!("resume: {code}"));
                        let state = self.rooms.get_mut(&room).unwrap();
                        state.resuming = None;
                        state.resume_at = Some(now + RESUME_RETRY_PAUSE);
                    }
                    None => self
                        .report
                        .other_errors
                        .push(format!("unsolicited: {code}")),
                }
            }
            "resumed" => {
                let room = frame["roomId"].as_str().unwrap_or_default().to_owned();
                let last_request = match self.requests.remove(&id) {
                    Some(Request::Resume { last, .. }) => last,
                    _ => false,
                };
                let last_seq = frame["lastSeq"].as_u64().unwrap_or(0);
                let chain_last = self.report.chains.get(&room).map(|c| c.last).unwrap_or(0);
                if let Some(state) = self.rooms.get_mut(&room) {
                    state.resuming = None;
                    if frame["recovered"] == true {
                        if chain_last < last_seq {
                            self.report.resume_short += 1;
                        }
                        state.ready = true;
                        if last_request {
                            state.final_ok = true;
                            self.report.final_last.insert(room, last_seq);
                        }
                    } else {
                        self.report.resumes_not_recovered += 1;
                        state.resume_at = Some(now + RESUME_RETRY_PAUSE);
                    }
                }
            }
            "event" => return self.on_event(&frame, phase),
            _ => {}
        }
        Vec::new()
    }

    fn on_event(&mut self, frame: &Value, phase: Phase) -> Vec<Value> {
        let room = frame["roomId"].as_str().unwrap_or_default().to_owned();
        let (Some(seq), Some(prev)) = (frame["seq"].as_u64(), frame["prevSeq"].as_u64()) else {
            self.report
                .other_errors
                .push(format!("event without seq: {frame}"));
            return Vec::new();
        };
        let Some(chain) = self.report.chains.get_mut(&room) else {
            self.report
                .other_errors
                .push(format!("event of a foreign room: {frame}"));
            return Vec::new();
        };
        if seq <= chain.last {
            self.report.redelivered += 1;
            return Vec::new();
        }
        if prev != chain.last {
            // Something was missed: resume from the last event of the unbroken chain.
            self.report.gaps += 1;
            let resuming = self.rooms.get(&room).is_some_and(|s| s.resuming.is_some());
            if resuming {
                return Vec::new();
            }
            return vec![self.resume_frame(&room, phase)];
        }
        let resuming = self.rooms.get(&room).is_some_and(|s| s.resuming.is_some());
        if self.spec.discard_every > 0 && !resuming {
            self.since_discard += 1;
            if self.since_discard >= self.spec.discard_every {
                self.since_discard = 0;
                self.report.discarded += 1;
                return Vec::new();
            }
        }
        let event = &frame["event"];
        chain.last = seq;
        chain.events.push(ChainEvent {
            seq,
            kind: event["type"].as_str().unwrap_or_default().to_owned(),
            client_msg_id: event["data"]["clientMsgId"].as_str().map(str::to_owned),
            actor: event["actor"].as_str().unwrap_or_default().to_owned(),
            message_id: event["data"]["messageId"].as_str().map(str::to_owned),
        });
        Vec::new()
    }

    fn on_tick(&mut self, phase: Phase) -> Tick {
        let now = Instant::now();
        if self
            .in_flight
            .as_ref()
            .is_some_and(|f| f.request.is_some() && now - f.sent_at > ACK_TIMEOUT)
        {
            return Tick::Reconnect;
        }
        if self
            .rooms
            .values()
            .any(|s| s.resuming.is_some_and(|at| now - at > RESUME_TIMEOUT))
        {
            return Tick::Reconnect;
        }
        if phase == Phase::Final {
            // Every room once more, by a request sent now that the load has stopped.
            for state in self.rooms.values_mut() {
                if !state.final_ok && state.resuming.is_none() && state.resume_at.is_none() {
                    state.resume_at = Some(now);
                }
            }
        }
        let mut frames = Vec::new();
        let due: Vec<String> = self
            .rooms
            .iter()
            .filter(|(_, s)| s.resuming.is_none() && s.resume_at.is_some_and(|t| t <= now))
            .map(|(r, _)| r.clone())
            .collect();
        for room in due {
            frames.push(self.resume_frame(&room, phase));
        }
        let all_ready = self.rooms.values().all(|s| s.ready);
        if all_ready {
            if self.in_flight.is_none() && phase == Phase::Run && now >= self.next_send_at {
                let n = self.next_n;
                self.next_n += 1;
                self.next_send_at = now + self.spec.interval;
                let room = self.spec.rooms[n as usize % self.spec.rooms.len()].clone();
                let client_msg_id = format!("{}-{n}", self.spec.name);
                self.report.sent.insert(
                    n,
                    SentRecord {
                        room,
                        text: format!("{client_msg_id} message #{n} of {}", self.spec.name),
                        client_msg_id,
                        attempts: 0,
                        errors: Vec::new(),
                        ack: None,
                    },
                );
                self.in_flight = Some(InFlight {
                    n,
                    request: None,
                    sent_at: now,
                    retry_at: now,
                });
            }
            let due = self
                .in_flight
                .as_ref()
                .is_some_and(|f| f.request.is_none() && now >= f.retry_at);
            if due {
                let id = self.request_id();
                let f = self.in_flight.as_mut().unwrap();
                let record = self.report.sent.get_mut(&f.n).unwrap();
                record.attempts += 1;
                f.request = Some(id.clone());
                f.sent_at = now;
                self.requests.insert(id.clone(), Request::Send(f.n));
                frames.push(json!({"type": "send", "id": id, "roomId": record.room,
                                   "message": record.text, "clientMsgId": record.client_msg_id}));
            }
        }
        self.gauges
            .idle
            .store(self.in_flight.is_none(), Ordering::Relaxed);
        if phase == Phase::Final
            && self.in_flight.is_none()
            && self.rooms.values().all(|s| s.final_ok)
        {
            return Tick::Done;
        }
        Tick::Frames(frames)
    }
}

enum Tick {
    Frames(Vec<Value>),
    Reconnect,
    Done,
}

// ---------------------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------------------

/// Counts of the check, printed as a table; any non-zero count except `acked`, `errored`,
/// `no answer`, `gaps resumed` is a failure.
#[derive(Debug, Default)]
pub struct Verdict {
    pub attempted: usize,
    pub acked: usize,
    pub errored: usize,
    pub no_answer: u64,
    pub indeterminate: usize,
    pub lost: usize,
    pub duplicated: usize,
    pub unexpected: usize,
    pub ack_mismatch: usize,
    pub misordered: usize,
    pub client_order: usize,
    pub chain_mismatch: usize,
    pub gaps: u64,
    pub redelivered: u64,
    pub resume_short: u64,
    pub problems: Vec<String>,
}

impl Verdict {
    fn problem(&mut self, text: String) {
        if self.problems.len() < 40 {
            self.problems.push(text);
        }
    }

    pub fn table(&self) -> String {
        let rows: [(&str, String, &str); 15] = [
            (
                "attempted",
                self.attempted.to_string(),
                "messages the clients tried to send",
            ),
            (
                "acked",
                self.acked.to_string(),
                "acknowledged (ack frame with seq)",
            ),
            (
                "errored",
                self.errored.to_string(),
                "send attempts answered with an error frame (retried)",
            ),
            (
                "no answer",
                self.no_answer.to_string(),
                "send attempts cut by a lost connection (retried)",
            ),
            (
                "indeterminate",
                self.indeterminate.to_string(),
                "attempted, never acknowledged (must be 0)",
            ),
            (
                "lost",
                self.lost.to_string(),
                "acknowledged, not in history (must be 0)",
            ),
            (
                "duplicated",
                self.duplicated.to_string(),
                "extra copies in history (must be 0)",
            ),
            (
                "unexpected",
                self.unexpected.to_string(),
                "in history, never sent (must be 0)",
            ),
            (
                "ack mismatch",
                self.ack_mismatch.to_string(),
                "ack seq/messageId differs from history (must be 0)",
            ),
            (
                "misordered",
                self.misordered.to_string(),
                "history not in increasing seq (must be 0)",
            ),
            (
                "client order",
                self.client_order.to_string(),
                "a client's messages out of its order (must be 0)",
            ),
            (
                "chain mismatch",
                self.chain_mismatch.to_string(),
                "client's events differ from history (must be 0)",
            ),
            (
                "redelivered",
                self.redelivered.to_string(),
                "events received twice (must be 0)",
            ),
            (
                "resume short",
                self.resume_short.to_string(),
                "resumed before reaching lastSeq (must be 0)",
            ),
            (
                "gaps resumed",
                self.gaps.to_string(),
                "live events whose prevSeq showed a gap (room resumed)",
            ),
        ];
        let mut out = String::from("| check | count | meaning |\n|---|---:|---|\n");
        for (name, count, meaning) in rows {
            out.push_str(&format!("| {name} | {count} | {meaning} |\n"));
        }
        out
    }

    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Compares what the clients were told with the history of their rooms.
/// `histories`: room → messages from `getMessages`; `latest`: room → its last event seq.
pub fn check(
    reports: &[ClientReport],
    histories: &HashMap<String, Vec<Value>>,
    latest: &HashMap<String, u64>,
) -> Verdict {
    let mut v = Verdict::default();
    // client_msg_id → (client, n, record)
    let mut by_id: HashMap<&str, (&ClientReport, u64, &SentRecord)> = HashMap::new();
    for report in reports {
        v.no_answer += report.no_answer;
        v.gaps += report.gaps;
        v.redelivered += report.redelivered;
        v.resume_short += report.resume_short;
        for (n, record) in &report.sent {
            v.attempted += 1;
            v.errored += record.errors.len();
            match &record.ack {
                Some(_) => v.acked += 1,
                None => {
                    v.indeterminate += 1;
                    v.problem(format!("{} was never acknowledged", record.client_msg_id));
                }
            }
            by_id.insert(&record.client_msg_id, (report, *n, record));
        }
        for conflict in &report.ack_conflicts {
            v.ack_mismatch += 1;
            v.problem(format!("conflicting acks: {conflict}"));
        }
    }
    if v.redelivered > 0 {
        v.problem(format!("{} events were delivered twice", v.redelivered));
    }
    if v.resume_short > 0 {
        v.problem(format!(
            "{} resumes answered recovered before the chain reached lastSeq",
            v.resume_short
        ));
    }

    // History, room by room.
    let mut found: HashMap<&str, Vec<(u64, String)>> = HashMap::new();
    for (room, messages) in histories {
        let mut previous = 0u64;
        for message in messages {
            let seq = message["seq"].as_u64().unwrap_or(0);
            if seq <= previous {
                v.misordered += 1;
                v.problem(format!("room {room}: seq {seq} after {previous}"));
            }
            previous = seq;
            let text = message["message"].as_str().unwrap_or_default();
            let id = text.split_whitespace().next().unwrap_or_default();
            match by_id.get(id) {
                Some((client, _, record))
                    if record.room == *room
                        && record.text == text
                        && message["senderId"] == client.user_id.as_str() =>
                {
                    found.entry(&record.client_msg_id).or_default().push((
                        seq,
                        message["messageId"].as_str().unwrap_or_default().to_owned(),
                    ));
                }
                _ => {
                    v.unexpected += 1;
                    v.problem(format!("room {room}: unexpected message {message}"));
                }
            }
        }
    }
    for (id, (_, _, record)) in &by_id {
        let copies = found.get(id).map(Vec::as_slice).unwrap_or_default();
        if copies.len() > 1 {
            v.duplicated += copies.len() - 1;
            v.problem(format!(
                "{id} is in history {} times: {copies:?}",
                copies.len()
            ));
        }
        if let Some((seq, message_id)) = &record.ack {
            match copies.first() {
                None => {
                    v.lost += 1;
                    v.problem(format!("{id} acknowledged at seq {seq}, not in history"));
                }
                Some((s, m)) if s != seq || m != message_id => {
                    v.ack_mismatch += 1;
                    v.problem(format!(
                        "{id}: acked as seq {seq} / {message_id}, history has {s} / {m}"
                    ));
                }
                Some(_) => {}
            }
        }
    }

    // Each client's messages are stored in its order (it sends one at a time).
    for report in reports {
        let mut stored: Vec<(u64, u64)> = report
            .sent
            .iter()
            .filter_map(|(n, r)| Some((found.get(r.client_msg_id.as_str())?.first()?.0, *n)))
            .collect();
        stored.sort_unstable();
        for pair in stored.windows(2) {
            if pair[1].1 < pair[0].1 {
                v.client_order += 1;
                v.problem(format!(
                    "{}: message {} stored after message {}",
                    report.name, pair[1].1, pair[0].1
                ));
            }
        }
    }

    // Each client received every event of its rooms, in one unbroken chain that matches
    // history message for message and ends at the room's last event.
    for report in reports {
        for (room, chain) in &report.chains {
            let Some(history) = histories.get(room) else {
                continue;
            };
            let received: Vec<(u64, &str, &str, &str)> = chain
                .events
                .iter()
                .filter(|e| e.kind == "message.posted")
                .map(|e| {
                    (
                        e.seq,
                        e.message_id.as_deref().unwrap_or_default(),
                        e.actor.as_str(),
                        e.client_msg_id.as_deref().unwrap_or_default(),
                    )
                })
                .collect();
            let stored: Vec<(u64, &str, &str, &str)> = history
                .iter()
                .map(|m| {
                    (
                        m["seq"].as_u64().unwrap_or(0),
                        m["messageId"].as_str().unwrap_or_default(),
                        m["senderId"].as_str().unwrap_or_default(),
                        m["message"]
                            .as_str()
                            .and_then(|t| t.split_whitespace().next())
                            .unwrap_or_default(),
                    )
                })
                .collect();
            let final_last = report.final_last.get(room).copied();
            let room_last = latest.get(room).copied();
            if received != stored || final_last != Some(chain.last) || room_last != Some(chain.last)
            {
                v.chain_mismatch += 1;
                let first_difference = received
                    .iter()
                    .zip(&stored)
                    .position(|(a, b)| a != b)
                    .unwrap_or(received.len().min(stored.len()));
                v.problem(format!(
                    "{} in room {room}: received {} messages, history has {}; first difference \
                     at #{first_difference} (received {:?}, stored {:?}); chain ends at {}, final \
                     resume said {final_last:?}, room's last event {room_last:?}",
                    report.name,
                    received.len(),
                    stored.len(),
                    received.get(first_difference),
                    stored.get(first_difference),
                    chain.last,
                ));
            }
        }
    }
    v
}

/// Send error codes by kind, for the report.
pub fn error_codes(reports: &[ClientReport]) -> BTreeMap<String, usize> {
    let mut codes = BTreeMap::new();
    for report in reports {
        for (_, code) in &report.send_errors {
            *codes.entry(code.clone()).or_insert(0) += 1;
        }
    }
    codes
}

/// Error frames not answering a send, by text, for the report.
pub fn other_errors(reports: &[ClientReport]) -> BTreeSet<String> {
    reports
        .iter()
        .flat_map(|r| r.other_errors.iter().cloned())
        .collect()
}
