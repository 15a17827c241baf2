//! Faults under load, checked the Jepsen way (a "total queue"): the real processes (a
//! private Postgres cluster, one `nats-server` with a file store, two `gateway`s, one
//! `projector`, one `api`) carry a steady load of numbered messages from WebSocket clients
//! that retry with the same `clientMsgId` and resume after every reconnect or gap, while
//! each process in turn is killed with `kill -9` and restarted. At the end every
//! acknowledged message must be in history exactly once, at the acknowledged seq, in room
//! order, and every client must hold every event of its rooms once, in order.
//! What it does and what it saw: `docs/FAULTS.md`.

use chat_core::eventlog::{subjects, EventLog, NatsConfig, PublishOptions, StreamSettings};
use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::{MessageId, RoomId, UserId};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::watch;

use crate::app::User;
use crate::fault_support::{
    check, error_codes, other_errors, spawn_client, ClientGauges, ClientReport, ClientSpec, Phase,
    Probe, Stack,
};

const CLIENTS: usize = 32;
const ROOMS: usize = 4;
/// Each client sends its next message this long after the previous one was acknowledged.
const INTERVAL: Duration = Duration::from_millis(300);
/// Generous bound on recovery after a fault (a loaded 2-core machine); the invariants are
/// strict regardless.
const RECOVERY: Duration = Duration::from_secs(90);
/// How long the api may take to refuse a read while Postgres is down.
const FAST: Duration = Duration::from_secs(2);
/// Send error codes a client may see while a dependency is down (it retries them).
const RETRYABLE: [&str; 2] = ["event_log_unavailable", "database_unavailable"];

/// The two rooms of client `i` (every room gets the same number of members).
fn rooms_of(i: usize) -> [usize; 2] {
    let a = i % ROOMS;
    [a, (a + 1 + (i / ROOMS) % (ROOMS - 1)) % ROOMS]
}

/// Notes with their time since the start, printed at the end.
struct Timeline {
    started: Instant,
    lines: Vec<String>,
    /// Each fault from its injection until the load was seen flowing again.
    windows: Vec<(String, Instant, Instant)>,
}

impl Timeline {
    fn note(&mut self, text: impl Into<String>) {
        let line = format!(
            "{:>6.1}s  {}",
            self.started.elapsed().as_secs_f64(),
            text.into()
        );
        eprintln!("[faults] {line}");
        self.lines.push(line);
    }

    fn window(&mut self, name: impl Into<String>, from: Instant) {
        self.windows.push((name.into(), from, Instant::now()));
    }

    /// Send error codes by the fault window they fell in.
    fn errors_by_window(&self, reports: &[ClientReport]) -> String {
        let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for (at, code) in reports.iter().flat_map(|r| &r.send_errors) {
            let window = self
                .windows
                .iter()
                .find(|(_, from, to)| from <= at && at <= to)
                .map(|(name, _, _)| name.clone())
                .unwrap_or_else(|| "outside any fault".into());
            *counts
                .entry(window)
                .or_default()
                .entry(code.clone())
                .or_default() += 1;
        }
        counts
            .iter()
            .map(|(window, codes)| format!("  {window}: {codes:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Waits until every client has `more` acknowledgements beyond what it had at the call;
/// answers how long that took.
async fn wait_progress(gauges: &[ClientGauges], more: u64, what: &str) -> Duration {
    let started = Instant::now();
    let base: Vec<u64> = gauges
        .iter()
        .map(|g| g.acked.load(Ordering::Relaxed))
        .collect();
    loop {
        let behind: Vec<usize> = gauges
            .iter()
            .zip(&base)
            .enumerate()
            .filter(|(_, (g, b))| g.acked.load(Ordering::Relaxed) < *b + more)
            .map(|(i, _)| i)
            .collect();
        if behind.is_empty() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < RECOVERY,
            "{what}: clients {behind:?} made no progress within {RECOVERY:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn total_acked(gauges: &[ClientGauges]) -> u64 {
    gauges.iter().map(|g| g.acked.load(Ordering::Relaxed)).sum()
}

/// The probe's own messages, in its own room, and what became of them.
#[derive(Default)]
struct Probes {
    /// clientMsgId → (seq, messageId) of the ack.
    acked: HashMap<String, (u64, String)>,
    /// clientMsgIds refused before anything was stored: must never appear in history.
    refused: Vec<String>,
}

/// Sends `client_msg_id` through `base` until acknowledged (a gateway that recovered).
async fn send_until_acked(base: &str, probe: &User, room: &str, client_msg_id: &str) -> Value {
    let started = Instant::now();
    loop {
        let answer = match Probe::connect(base, &probe.token).await {
            Some(mut conn) => {
                let answer = conn.send(room, client_msg_id).await;
                conn.close().await;
                answer
            }
            None => None,
        };
        if let Some((answer, _)) = answer {
            if answer["type"] == "ack" {
                return answer;
            }
            assert!(
                RETRYABLE.contains(&answer["code"].as_str().unwrap_or_default()),
                "{answer}"
            );
        }
        assert!(
            started.elapsed() < RECOVERY,
            "{base} did not recover by itself"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn ack_of(answer: &Value) -> (u64, String) {
    (
        answer["seq"].as_u64().expect("seq"),
        answer["messageId"].as_str().expect("messageId").to_owned(),
    )
}

/// Everything the faults act on and record.
struct Harness {
    stack: Stack,
    gauges: Vec<ClientGauges>,
    tl: Timeline,
    probes: Probes,
    probe: User,
    probe_room: String,
    bases: Vec<String>,
    /// The harness's own connection to the event log (stores events while Postgres is down).
    log: EventLog,
    /// A member of `room`, for reads through the api.
    reader: User,
    room: String,
}

impl Harness {
    /// `kill -9` of one gateway; its clients move to the other and resume there.
    async fn gateway_fault(&mut self, g: usize) {
        let before = total_acked(&self.gauges);
        let from = Instant::now();
        self.stack.gateways[g].kill9();
        self.tl.note(format!("kill -9 gateway-{g}"));
        tokio::time::sleep(Duration::from_secs(2)).await;
        self.stack.gateways[g].start().await;
        self.tl.note(format!(
            "gateway-{g} restarted ({} acks while it was down)",
            total_acked(&self.gauges) - before
        ));
        let took = wait_progress(&self.gauges, 3, "after the gateway restart").await;
        self.tl
            .note(format!("every client acked 3 more within {took:?}"));
        self.tl.window(format!("gateway-{g}"), from);
        self.stack.assert_all_running("after a gateway fault");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    /// The projector: the load goes on without it; the restarted one catches up.
    async fn projector_fault(&mut self) {
        let before = total_acked(&self.gauges);
        let from = Instant::now();
        self.stack.projector.kill9();
        self.tl.note("kill -9 projector");
        tokio::time::sleep(Duration::from_secs(3)).await;
        let behind = self.stack.rooms_stream_last_seq().await;
        let applied = self.stack.checkpoint().await.unwrap_or(0);
        self.stack.projector.start().await;
        let acked_meanwhile = total_acked(&self.gauges) - before;
        assert!(acked_meanwhile > 0, "sends stopped without the projector");
        let took = self.stack.wait_for_checkpoint(behind, RECOVERY).await;
        self.tl.note(format!(
            "projector restarted {} events behind ({acked_meanwhile} acks while it was down); \
             caught up within {took:?}",
            behind.saturating_sub(applied)
        ));
        self.tl.window("projector", from);
        self.stack.assert_all_running("after the projector fault");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    /// NATS: gateways and api refuse sends with `event_log_unavailable`, then recover by
    /// themselves (neither is restarted).
    async fn nats_fault(&mut self, round: usize) {
        let mut conns = open_probes(&self.bases, &self.probe).await;
        let down = Instant::now();
        tokio::task::block_in_place(|| self.stack.nats.kill());
        self.tl.note("kill -9 nats-server");
        for (g, conn) in conns.iter_mut().enumerate() {
            let id = format!("nats-down-r{round}-gw{g}");
            let (answer, took) = conn
                .send(&self.probe_room, &id)
                .await
                .expect("a gateway answers while NATS is down");
            assert_eq!(
                (answer["type"].as_str(), answer["code"].as_str()),
                (Some("error"), Some("event_log_unavailable")),
                "gateway-{g} with NATS down: {answer}"
            );
            assert!(took < Duration::from_secs(5), "refused after {took:?}");
            self.tl.note(format!(
                "gateway-{g} refused a send with event_log_unavailable in {took:?}"
            ));
        }
        for conn in conns {
            conn.close().await;
        }
        let api_id = format!("nats-down-r{round}-api");
        let started = Instant::now();
        let (status, body) = self.api_send(&api_id).await;
        let took = started.elapsed();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"]["code"], "event_log_unavailable");
        assert!(took < Duration::from_secs(5), "api refused after {took:?}");
        self.tl.note(format!(
            "api refused a send with 503 event_log_unavailable in {took:?}"
        ));
        tokio::time::sleep(Duration::from_secs(3).saturating_sub(down.elapsed())).await;
        tokio::task::block_in_place(|| self.stack.nats.restart());
        self.tl
            .note(format!("nats-server restarted after {:?}", down.elapsed()));
        let took = wait_progress(&self.gauges, 3, "after the NATS restart").await;
        self.tl
            .note(format!("every client acked 3 more within {took:?}"));
        self.tl.window("nats", down);
        // The refused sends, retried with the same clientMsgIds, go through now.
        for (g, base) in self.bases.iter().enumerate() {
            let id = format!("nats-down-r{round}-gw{g}");
            let answer = send_until_acked(base, &self.probe, &self.probe_room, &id).await;
            self.probes.acked.insert(id, ack_of(&answer));
        }
        let started = Instant::now();
        let body = loop {
            let (status, body) = self.api_send(&api_id).await;
            if status == StatusCode::CREATED {
                break body;
            }
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
            assert!(started.elapsed() < RECOVERY, "the api did not recover");
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        self.probes.acked.insert(api_id, ack_of(&body));
        self.tl
            .note("the refused probe sends, retried with their clientMsgIds, were acknowledged");
        self.stack.assert_all_running("after the NATS fault");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    /// Postgres: the api answers 503 fast, gateways refuse sends, the projector waits while
    /// events keep being stored, and catches up once Postgres is back.
    async fn postgres_fault(&mut self, round: usize) {
        let mut conns = open_probes(&self.bases, &self.probe).await;
        let down = Instant::now();
        let took = tokio::task::block_in_place(|| self.stack.pg.kill9());
        self.tl.note(format!(
            "kill -9 postmaster (its processes were gone {took:?} later)"
        ));
        let mut slowest = Duration::ZERO;
        for _ in 0..3 {
            let started = Instant::now();
            let (status, body) = self
                .stack
                .api_request(
                    reqwest::Method::GET,
                    &format!("/getMessages?roomId={}", self.room),
                    &self.reader.token,
                    None,
                )
                .await;
            let took = started.elapsed();
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
            assert_eq!(body["error"]["code"], "database_unavailable", "{body}");
            assert!(took < FAST, "getMessages took {took:?} with Postgres down");
            slowest = slowest.max(took);
        }
        let (status, _) = self
            .stack
            .api_request(reqwest::Method::GET, "/readyz", &self.probe.token, None)
            .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        self.tl.note(format!(
            "api: getMessages 503 database_unavailable 3 times, the slowest in {slowest:?}; \
             /readyz 503"
        ));
        for (g, conn) in conns.iter_mut().enumerate() {
            let id = format!("pg-down-r{round}-gw{g}");
            let (answer, took) = conn
                .send(&self.probe_room, &id)
                .await
                .expect("a gateway answers while Postgres is down");
            assert_eq!(
                (answer["type"].as_str(), answer["code"].as_str()),
                (Some("error"), Some("database_unavailable")),
                "gateway-{g} with Postgres down: {answer}"
            );
            // Refused before publishing (the membership check needs Postgres): never stored.
            self.probes.refused.push(id);
            self.tl.note(format!(
                "gateway-{g} refused a send with database_unavailable in {took:?}"
            ));
        }
        for conn in conns {
            conn.close().await;
        }
        // Events keep arriving in the stream while Postgres is down (stored straight into
        // JetStream, as a gateway would after its checks): the projector must wait for them.
        let newest = self.store_directly(round, 20).await;
        tokio::time::sleep(Duration::from_secs(4).saturating_sub(down.elapsed())).await;
        self.stack.assert_all_running("with Postgres down");
        tokio::task::block_in_place(|| self.stack.pg.start_again());
        self.tl.note(format!(
            "Postgres restarted after {:?} (20 events stored meanwhile)",
            down.elapsed()
        ));
        let took = self.stack.wait_for_checkpoint(newest, RECOVERY).await;
        self.tl.note(format!(
            "the projector (never restarted) applied them within {took:?}"
        ));
        let started = Instant::now();
        loop {
            let (status, _) = self
                .stack
                .api_request(reqwest::Method::GET, "/readyz", &self.probe.token, None)
                .await;
            if status == StatusCode::OK {
                break;
            }
            assert!(started.elapsed() < RECOVERY, "/readyz stayed {status}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.tl.note(format!(
            "api /readyz 200 again within {:?}",
            started.elapsed()
        ));
        let took = wait_progress(&self.gauges, 3, "after the Postgres restart").await;
        self.tl
            .note(format!("every client acked 3 more within {took:?}"));
        self.tl.window("postgres", down);
        self.stack.assert_all_running("after the Postgres fault");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    /// A probe message through the api.
    async fn api_send(&self, client_msg_id: &str) -> (StatusCode, Value) {
        self.stack
            .api_request(
                reqwest::Method::POST,
                "/sendMessage",
                &self.probe.token,
                Some(json!({"roomId": self.probe_room, "senderId": self.probe.id,
                            "message": format!("{client_msg_id} probe"),
                            "timestamp": "2026-11-21T10:00:00Z", "clientMsgId": client_msg_id})),
            )
            .await
    }

    /// Stores `count` messages of the probe straight into JetStream; answers the last seq.
    async fn store_directly(&mut self, round: usize, count: usize) -> u64 {
        let probe_user = UserId::parse(&self.probe.id).unwrap();
        let room = RoomId::parse(&self.probe_room).unwrap();
        let mut newest = 0;
        for k in 0..count {
            let id = format!("pg-down-r{round}-direct-{k}");
            let message_id = MessageId::generate();
            let event = Envelope::room(
                probe_user,
                room.clone(),
                EventBody::MessagePosted {
                    message_id,
                    message: format!("{id} stored while Postgres is down"),
                    client_timestamp: None,
                    client_msg_id: Some(id.clone()),
                },
            );
            let stored = self
                .log
                .publish(
                    subjects::room(&room),
                    &event,
                    PublishOptions {
                        msg_id: Some(format!("msg:{room}:{probe_user}:{id}")),
                        expect_new_subject: false,
                    },
                )
                .await
                .expect("JetStream stores without Postgres");
            newest = stored.seq;
            self.probes
                .acked
                .insert(id, (stored.seq, message_id.0.to_string()));
        }
        newest
    }
}

/// A probe connection on each gateway.
async fn open_probes(bases: &[String], probe: &User) -> Vec<Probe> {
    let mut conns = Vec::new();
    for base in bases {
        conns.push(
            Probe::connect(base, &probe.token)
                .await
                .expect("a probe connection"),
        );
    }
    conns
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn faults_under_load_lose_duplicate_and_reorder_nothing() {
    let mut tl = Timeline {
        started: Instant::now(),
        lines: Vec::new(),
        windows: Vec::new(),
    };
    let stack = Stack::start().await;
    tl.note("Postgres, NATS, api, projector and two gateways are up");

    let users = stack.insert_users("load", CLIENTS).await;
    let probe = stack.insert_users("probe", 1).await.remove(0);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); ROOMS];
    for i in 0..CLIENTS {
        for r in rooms_of(i) {
            members[r].push(i);
        }
    }
    let mut rooms = Vec::new();
    for (r, m) in members.iter().enumerate() {
        let others: Vec<&User> = m[1..].iter().map(|&i| &users[i]).collect();
        rooms.push(
            stack
                .create_room(&users[m[0]], &format!("load-{r}"), &others)
                .await,
        );
    }
    let probe_room = stack.create_room(&probe, "probe", &[]).await;
    let set_up = stack.rooms_stream_last_seq().await;
    stack
        .wait_for_checkpoint(set_up, Duration::from_secs(30))
        .await;

    let (phase_tx, phase_rx) = watch::channel(Phase::Run);
    let bases = stack.gateway_bases();
    let mut gauges = Vec::new();
    let mut handles = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let (g, h) = spawn_client(
            ClientSpec {
                name: format!("c{i:02}"),
                user: user.clone(),
                rooms: rooms_of(i).iter().map(|&r| rooms[r].clone()).collect(),
                gateways: bases.clone(),
                first_gateway: i % 2,
                interval: INTERVAL,
                discard_every: if i % 4 == 0 { 40 } else { 0 },
            },
            phase_rx.clone(),
        );
        gauges.push(g);
        handles.push(h);
    }
    let took = wait_progress(&gauges, 5, "warm-up").await;
    tl.note(format!(
        "{CLIENTS} clients in {ROOMS} rooms on 2 gateways: every client acked 5 within {took:?}"
    ));
    let log = EventLog::connect(
        &NatsConfig {
            url: stack.nats.url(),
            ack_timeout: Duration::from_secs(5),
            streams: StreamSettings::default(),
        },
        "faults-harness",
    )
    .await
    .expect("NATS");
    let mut h = Harness {
        stack,
        gauges,
        tl,
        probes: Probes::default(),
        probe,
        probe_room,
        bases,
        log,
        reader: users[members[0][0]].clone(),
        room: rooms[0].clone(),
    };
    let rounds: usize = std::env::var("FAULTS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    for round in 1..=rounds {
        h.tl.note(format!("-- round {round} of {rounds}"));
        h.gateway_fault(0).await;
        h.projector_fault().await;
        h.nats_fault(round).await;
        h.postgres_fault(round).await;
        // The other gateway: its clients, now most of them, move back.
        h.gateway_fault(1).await;
    }
    let Harness {
        mut stack,
        gauges,
        mut tl,
        probes,
        probe,
        probe_room,
        log,
        ..
    } = h;

    // Stop, let everything settle, and have every client resume once more.
    phase_tx.send(Phase::Drain).unwrap();
    let started = Instant::now();
    while !gauges.iter().all(|g| g.idle.load(Ordering::Relaxed)) {
        assert!(
            started.elapsed() < RECOVERY,
            "clients still have unacknowledged messages"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = stack.rooms_stream_last_seq().await;
    let took = stack.wait_for_checkpoint(last, RECOVERY).await;
    tl.note(format!(
        "load stopped; projector at the stream's end ({last}) within {took:?}"
    ));
    phase_tx.send(Phase::Final).unwrap();
    let mut reports = Vec::new();
    let deadline = tokio::time::Instant::now() + RECOVERY;
    for (i, handle) in handles.into_iter().enumerate() {
        let report = tokio::time::timeout_at(deadline, handle)
            .await
            .unwrap_or_else(|_| panic!("client c{i:02} did not finish its final resume"))
            .expect("client task");
        reports.push(report);
    }
    tl.note("every client resumed every room once more");

    // The checker.
    let mut histories = HashMap::new();
    let mut latest = HashMap::new();
    for (r, room) in rooms.iter().enumerate() {
        histories.insert(
            room.clone(),
            stack.history(&users[members[r][0]].token, room).await,
        );
        let id = RoomId::parse(room).unwrap();
        latest.insert(
            room.clone(),
            log.latest_in_room(&id).await.expect("latest seq"),
        );
    }
    let verdict = check(&reports, &histories, &latest);

    let mut probe_problems = Vec::new();
    let probe_history = stack.history(&probe.token, &probe_room).await;
    let mut seen: HashMap<String, Vec<(u64, String)>> = HashMap::new();
    for m in &probe_history {
        let id = m["message"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        seen.entry(id).or_default().push((
            m["seq"].as_u64().unwrap_or(0),
            m["messageId"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    for (id, ack) in &probes.acked {
        match seen.get(id).map(Vec::as_slice) {
            Some([one]) if one == ack => {}
            other => probe_problems.push(format!("probe {id} acked as {ack:?}, history {other:?}")),
        }
    }
    for id in &probes.refused {
        if seen.contains_key(id) {
            probe_problems.push(format!("probe {id} was refused, yet is in history"));
        }
    }
    for id in seen.keys() {
        if !probes.acked.contains_key(id) && !probes.refused.contains(id) {
            probe_problems.push(format!("unexpected probe message {id}"));
        }
    }

    let codes = error_codes(&reports);
    let unexpected_codes: Vec<&String> = codes
        .keys()
        .filter(|c| !RETRYABLE.contains(&c.as_str()))
        .collect();
    let connections: u64 = reports.iter().map(|r| r.connections).sum();
    let resumes_failed: u64 = reports.iter().map(|r| r.resumes_not_recovered).sum();
    let discarded: u64 = reports.iter().map(|r| r.discarded).sum();
    let total_messages: usize = histories.values().map(Vec::len).sum();
    eprintln!(
        "\n==== faults under load: timeline ====\n{}\n\n==== checker ====\n{}\n\
         history: {total_messages} messages in {ROOMS} rooms; probe room {} messages \
         ({} acknowledged probes, {} refused)\n\
         send errors by code: {codes:?}; by fault window:\n{}\n\
         connections opened: {connections} ({CLIENTS} at the start); resumes answered \
         recovered=false (retried): {resumes_failed}; live events discarded on purpose \
         (each one a gap to resume): {discarded}\n\
         other error frames: {:?}\n",
        tl.lines.join("\n"),
        verdict.table(),
        probe_history.len(),
        probes.acked.len(),
        probes.refused.len(),
        tl.errors_by_window(&reports),
        other_errors(&reports).iter().take(10).collect::<Vec<_>>(),
    );
    assert!(
        verdict.passed(),
        "the checker found problems:\n{}",
        verdict.problems.join("\n")
    );
    assert!(
        probe_problems.is_empty(),
        "probe messages: {probe_problems:#?}"
    );
    assert!(
        unexpected_codes.is_empty(),
        "sends refused with codes other than {RETRYABLE:?}: {codes:?}"
    );
    assert!(
        codes.contains_key("event_log_unavailable") && codes.contains_key("database_unavailable"),
        "the load never met the outages: {codes:?}"
    );
    stack.assert_all_running("at the end");
}

/// The checker itself: a clean record passes, and each kind of anomaly is counted (a
/// checker that cannot fail proves nothing).
#[test]
fn the_checker_counts_lost_duplicated_unexpected_and_mismatched_messages() {
    use crate::fault_support::{Chain, ChainEvent, SentRecord};

    let room = "r1".to_owned();
    let record = |n: u64, seq: u64| SentRecord {
        room: room.clone(),
        client_msg_id: format!("c00-{n}"),
        text: format!("c00-{n} message #{n} of c00"),
        attempts: 1,
        errors: Vec::new(),
        ack: Some((seq, format!("m{seq}"))),
    };
    let stored = |n: u64, seq: u64, sender: &str| {
        json!({"seq": seq, "messageId": format!("m{seq}"), "senderId": sender,
               "message": format!("c00-{n} message #{n} of c00")})
    };
    let event = |seq: u64, n: u64| ChainEvent {
        seq,
        kind: "message.posted".into(),
        client_msg_id: Some(format!("c00-{n}")),
        actor: "u0".into(),
        message_id: Some(format!("m{seq}")),
    };
    let report = |sent: Vec<(u64, SentRecord)>, events: Vec<ChainEvent>| {
        let last = events.last().map(|e| e.seq).unwrap_or(0);
        ClientReport {
            name: "c00".into(),
            user_id: "u0".into(),
            sent: sent.into_iter().collect(),
            chains: HashMap::from([(room.clone(), Chain { last, events })]),
            final_last: HashMap::from([(room.clone(), last)]),
            ..Default::default()
        }
    };
    let latest = HashMap::from([(room.clone(), 3)]);

    let clean = report(
        vec![(1, record(1, 2)), (2, record(2, 3))],
        vec![event(2, 1), event(3, 2)],
    );
    let history = HashMap::from([(room.clone(), vec![stored(1, 2, "u0"), stored(2, 3, "u0")])]);
    let verdict = check(&[clean], &history, &latest);
    assert!(verdict.passed(), "{:?}", verdict.problems);
    assert_eq!((verdict.acked, verdict.lost, verdict.duplicated), (2, 0, 0));

    // Message 2 lost, message 1 twice, a stranger's message, message 3 acked at the wrong
    // seq, and the client's chain stops short.
    let broken = report(
        vec![(1, record(1, 2)), (2, record(2, 3)), (3, record(3, 5))],
        vec![event(2, 1)],
    );
    let history = HashMap::from([(
        room.clone(),
        vec![
            stored(1, 2, "u0"),
            stored(1, 4, "u0"),
            stored(3, 6, "u0"),
            stored(9, 7, "someone else"),
        ],
    )]);
    let latest = HashMap::from([(room.clone(), 7)]);
    let verdict = check(&[broken], &history, &latest);
    assert_eq!(verdict.lost, 1, "{:?}", verdict.problems);
    assert_eq!(verdict.duplicated, 1);
    assert_eq!(verdict.unexpected, 1);
    assert_eq!(verdict.ack_mismatch, 1);
    assert_eq!(verdict.chain_mismatch, 1);
    assert!(!verdict.passed());
}
