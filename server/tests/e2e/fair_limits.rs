//! Limits that hold per user, and presence that stays true, tried from outside: one user
//! with many sockets, floods of binary and control frames, a user who chose to appear
//! offline, a user with an idle device and an active one, and the first subscriber of a
//! room on one node of a NATS cluster while events are stored through another.

use futures::SinkExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

use crate::app::{spawn_app_with, AppOptions, TestApp};
use crate::cluster::{app_on, rooms_leader};
use chat_testkit::{start_projector_with, Ended, GatewayProcess, NatsCluster, WsClient};

fn gateway_with(edit: impl FnOnce(&mut chat_gateway::GatewayConfig)) -> AppOptions {
    let mut gateway = chat_gateway::GatewayConfig::default();
    edit(&mut gateway);
    AppOptions {
        gateway,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_with_many_sockets_cannot_exceed_the_per_user_rate() {
    const SOCKETS: usize = 5;
    const EACH: usize = 10;
    let (per_second, burst) = (2.0, 10.0);
    let app = spawn_app_with(gateway_with(|g| {
        g.frame_rate = chat_core::ratelimit::Rate { per_second, burst };
        g.flood_close_after = 10_000;
    }))
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut sockets = Vec::new();
    for _ in 0..SOCKETS {
        sockets.push(WsClient::connect(&app.base, &alice.token).await);
    }
    let started = Instant::now();
    for (s, socket) in sockets.iter_mut().enumerate() {
        for i in 0..EACH {
            socket
                .send_json(json!({"type": "ping", "id": format!("s{s}-{i}")}))
                .await;
        }
    }
    let (mut served, mut limited) = (0, 0);
    for socket in &mut sockets {
        for _ in 0..EACH {
            let frame = socket.next_frame().await;
            match (frame["type"].as_str(), frame["code"].as_str()) {
                (Some("pong"), _) => served += 1,
                (Some("error"), Some("rate_limited")) => limited += 1,
                _ => panic!("unexpected {frame}"),
            }
        }
    }
    let allowed = burst + per_second * started.elapsed().as_secs_f64() + 1.0;
    println!(
        "{SOCKETS} sockets x {EACH} pings: {served} served, {limited} refused, \
         {allowed:.1} allowed in {:?}",
        started.elapsed()
    );
    assert!(
        served as f64 <= allowed,
        "one user got {served} frames served through {SOCKETS} sockets; the per-user \
         allowance is {allowed:.1}"
    );
    assert!(limited > 0);
    // Another user has an allowance of their own.
    let mut other = WsClient::connect(&app.base, &bob.token).await;
    let pong = other.call(json!({"type": "ping"}), &mut Vec::new()).await;
    assert_eq!(pong["type"], "pong", "{pong}");
}

/// Sends `count` frames made by `frame` as fast as possible (errors after the server
/// closes are expected), then answers how the connection ended. The server's heartbeat
/// keeps an unlimited flooder's connection alive for ever: bounded here.
async fn flood(client: &mut WsClient, count: usize, frame: impl Fn(usize) -> Message) -> Ended {
    for i in 0..count {
        if client.socket.send(frame(i)).await.is_err() {
            break;
        }
    }
    tokio::time::timeout(Duration::from_secs(15), client.until_closed())
        .await
        .expect("a flooding connection is closed within 15 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_ping_and_pong_floods_are_limited_and_closed_like_text_floods() {
    let app = spawn_app_with(gateway_with(|g| {
        g.frame_rate = chat_core::ratelimit::Rate {
            per_second: 1.0,
            burst: 5.0,
        };
        g.flood_close_after = 20;
    }))
    .await;
    let bob = app.register("bob").await;
    let mut calm = WsClient::connect(&app.base, &bob.token).await;

    let binary = app.register("binary").await;
    let mut client = WsClient::connect(&app.base, &binary.token).await;
    let ended = flood(&mut client, 200, |i| Message::binary(vec![i as u8; 16])).await;
    assert_eq!(ended, Ended::Closed(Some(4029)), "binary flood");

    let pinger = app.register("pinger").await;
    let mut client = WsClient::connect(&app.base, &pinger.token).await;
    let ended = flood(&mut client, 400, |_| Message::Ping(b"x".to_vec().into())).await;
    assert_eq!(ended, Ended::Closed(Some(4029)), "ping flood");

    let ponger = app.register("ponger").await;
    let mut client = WsClient::connect(&app.base, &ponger.token).await;
    let ended = flood(&mut client, 400, |_| Message::Pong(b"x".to_vec().into())).await;
    assert_eq!(ended, Ended::Closed(Some(4029)), "pong flood");

    let pong = calm.call(json!({"type": "ping"}), &mut Vec::new()).await;
    assert_eq!(pong["type"], "pong", "another user is unaffected: {pong}");
}

/// Reads `client`'s frames until `user`'s presence is `status`, answering the statuses
/// seen for `user` on the way (the last one is `status`); panics after `bound`.
async fn presence_until(
    client: &mut WsClient,
    user: &str,
    status: &str,
    bound: Duration,
) -> Vec<String> {
    let deadline = Instant::now() + bound;
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some(status) {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("{user} not {status} within {bound:?}; saw {seen:?}"));
        let Some(frame) = client.frame_within(left).await else {
            continue;
        };
        if frame["type"] == "presence" && frame["userId"] == user {
            seen.push(frame["status"].as_str().unwrap().to_owned());
        }
    }
    seen
}

async fn watch(watcher: &mut WsClient, user: &str) {
    let ack = watcher
        .call(json!({"type": "watch", "userIds": [user]}), &mut Vec::new())
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
}

async fn set_status(client: &mut WsClient, status: &str) {
    let ack = client
        .call(json!({"type": "status", "status": status}), &mut Vec::new())
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
}

/// Waits until the read model holds `n` connections of `user`.
async fn connections_become(app: &TestApp, user: &str, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let sql = format!("SELECT count(*) FROM connections WHERE user_id = '{user}'");
    while app.count(&sql).await != n {
        assert!(
            Instant::now() < deadline,
            "{user} never had {n} connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_appears_offline_stays_offline_through_typing_reconnects_and_activity() {
    let app = spawn_app_with(AppOptions::default()).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "r", "members": [bob.id]}))
        .await;
    let mut first = WsClient::connect(&app.base, &alice.token).await;
    first.join(&room).await;
    let mut watcher = WsClient::connect(&app.base, &bob.token).await;
    watch(&mut watcher, &alice.id).await;
    presence_until(&mut watcher, &alice.id, "online", Duration::from_secs(5)).await;

    set_status(&mut first, "offline").await;
    presence_until(&mut watcher, &alice.id, "offline", Duration::from_secs(5)).await;

    // Typing and activity on the open connection.
    first
        .send_json(json!({"type": "typing", "id": "t1", "roomId": room}))
        .await;
    let sent = first
        .call(
            json!({"type": "send", "roomId": room, "message": "quietly"}),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(sent["type"], "ack", "{sent}");
    // A second device, then none, then a reconnect.
    let second = WsClient::connect(&app.base, &alice.token).await;
    connections_become(&app, &alice.id, 2).await;
    first.close().await;
    second.close().await;
    connections_become(&app, &alice.id, 0).await;
    let mut again = WsClient::connect(&app.base, &alice.token).await;
    connections_become(&app, &alice.id, 1).await;
    again
        .send_json(json!({"type": "typing", "id": "t2", "roomId": room}))
        .await;
    let (status, body) = app
        .post(
            "/updateStatus",
            Some(&alice.token),
            json!({"userId": alice.id, "status": "typing", "roomId": room}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let (_, shown) = app
        .get(&format!("/getStatus?userId={}", alice.id), Some(&bob.token))
        .await;
    assert_ne!(shown["status"], "online", "{shown}");

    // Her next choice, `away`, is the marker: every notice before it must say offline.
    set_status(&mut again, "away").await;
    let seen = presence_until(&mut watcher, &alice.id, "away", Duration::from_secs(5)).await;
    assert!(
        seen[..seen.len() - 1].iter().all(|s| s == "offline"),
        "others saw her other than offline before she chose otherwise: {seen:?}"
    );
    let (_, shown) = app
        .get(&format!("/getStatus?userId={}", alice.id), Some(&bob.token))
        .await;
    assert_eq!(shown["status"], "away", "{shown}");
    set_status(&mut again, "online").await;
    presence_until(&mut watcher, &alice.id, "online", Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_is_away_only_when_every_device_on_every_gateway_is_idle() {
    const AWAY_AFTER_MS: u64 = 1_500;
    let app = spawn_app_with(gateway_with(|g| {
        g.away_after = Duration::from_millis(AWAY_AFTER_MS);
    }))
    .await;
    let other_gateway = GatewayProcess::start(
        &app,
        &[("GATEWAY_AWAY_AFTER_MS", &AWAY_AFTER_MS.to_string())],
    )
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut watcher = WsClient::connect(&app.base, &bob.token).await;
    watch(&mut watcher, &alice.id).await;
    let _phone = WsClient::connect(&app.base, &alice.token).await;
    let mut laptop = WsClient::connect(&other_gateway.base, &alice.token).await;
    presence_until(&mut watcher, &alice.id, "online", Duration::from_secs(5)).await;

    // The phone stays idle for three times `away_after` while she works on the laptop.
    let window = Duration::from_millis(3 * AWAY_AFTER_MS);
    let working = async {
        let until = Instant::now() + window;
        while Instant::now() < until {
            let pong = laptop.call(json!({"type": "ping"}), &mut Vec::new()).await;
            assert_eq!(pong["type"], "pong");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let listening = async {
        let until = Instant::now() + window;
        let mut seen = Vec::new();
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            if let Some(frame) = watcher.frame_within(left).await {
                if frame["type"] == "presence" && frame["userId"] == alice.id {
                    seen.push(frame["status"].as_str().unwrap().to_owned());
                }
            }
        }
        seen
    };
    let ((), seen) = tokio::join!(working, listening);
    assert!(
        seen.iter().all(|s| s == "online"),
        "an idle phone made her {seen:?} while she typed on her laptop"
    );

    // Both idle: away.
    let took = Instant::now();
    presence_until(&mut watcher, &alice.id, "away", Duration::from_secs(10)).await;
    println!("away {:?} after both devices went quiet", took.elapsed());
    let (_, shown) = app
        .get(&format!("/getStatus?userId={}", alice.id), Some(&bob.token))
        .await;
    assert_eq!(shown["status"], "away", "{shown}");
    // Any command on either device: online again.
    let pong = laptop.call(json!({"type": "ping"}), &mut Vec::new()).await;
    assert_eq!(pong["type"], "pong");
    presence_until(&mut watcher, &alice.id, "online", Duration::from_secs(5)).await;
}

/// Stores events in `room` through `url` as fast as acks come back, until `stop`;
/// answers the last stored sequence.
async fn store_until(url: String, room: String, actor: String, stop: Arc<AtomicBool>) -> u64 {
    let nats = async_nats::connect(url).await.unwrap();
    let js = async_nats::jetstream::new(nats);
    let room_id = chat_schemas::RoomId::parse(&room).unwrap();
    let actor = chat_schemas::UserId::parse(&actor).unwrap();
    let subject = chat_core::eventlog::subjects::room(&room_id);
    let (mut last, mut n) = (0, 0u64);
    while !stop.load(Ordering::Relaxed) {
        let mut acks = Vec::new();
        for _ in 0..16 {
            n += 1;
            let event = chat_schemas::events::Envelope::room(
                actor,
                room_id.clone(),
                chat_schemas::events::EventBody::MessagePosted {
                    message_id: chat_schemas::MessageId::generate(),
                    message: format!("m{n}"),
                    client_timestamp: None,
                    client_msg_id: None,
                },
            );
            let payload = serde_json::to_vec(&event).unwrap();
            acks.push(js.publish(subject.clone(), payload.into()).await.unwrap());
        }
        for ack in acks {
            last = last.max(ack.await.unwrap().sequence);
        }
    }
    last
}

/// One first subscription: while events are stored in `room` through `store_url`, a
/// connection joins it, then reads until the last stored event. Answers the gaps in what
/// it received after its `joined` position ({after: up to}).
async fn first_subscription(
    base: &str,
    token: &str,
    room: &str,
    store_url: String,
    actor: String,
) -> HashMap<u64, u64> {
    let stop = Arc::new(AtomicBool::new(false));
    let storing = tokio::spawn(store_until(store_url, room.to_owned(), actor, stop.clone()));
    // The first (and only) connection in the room on this gateway.
    let mut watcher = WsClient::connect(base, token).await;
    // Events may come before the `joined` answer: they count.
    let mut events: Vec<Value> = Vec::new();
    let joined = watcher
        .call(json!({"type": "join", "roomId": room}), &mut events)
        .await;
    assert_eq!(joined["type"], "joined", "{joined}");
    let mut cursor = joined["lastSeq"].as_u64().unwrap();
    while events.len() < 10 {
        let frame = watcher.next_frame().await;
        if frame["type"] == "event" {
            events.push(frame);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let last = storing.await.unwrap();
    let mut gaps: HashMap<u64, u64> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut pending = events.into_iter();
    while cursor < last {
        let frame = match pending.next() {
            Some(frame) => frame,
            None => match deadline.checked_duration_since(Instant::now()) {
                Some(left) => match watcher.frame_within(left).await {
                    Some(frame) if frame["type"] == "event" => frame,
                    Some(_) => continue,
                    None => break,
                },
                None => break,
            },
        };
        let (seq, prev) = (
            frame["seq"].as_u64().unwrap(),
            frame["prevSeq"].as_u64().unwrap(),
        );
        if seq <= cursor {
            continue; // stored before the join's position: not missed
        }
        if prev != cursor {
            gaps.insert(cursor, prev);
        }
        cursor = seq;
    }
    if cursor < last {
        gaps.insert(cursor, last);
    }
    watcher.close().await;
    gaps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_subscriber_of_a_room_on_a_cluster_node_misses_nothing() {
    const ROUNDS: usize = 25;
    const ROOMS: usize = 6;
    let cluster = NatsCluster::start();
    let app = app_on(&cluster).await;
    let urls = cluster.urls();
    let mut projector = start_projector_with(&urls, &app.database_url, &[("NATS_REPLICAS", "3")]);
    // The gateway talks to a node that does not lead the stream, and events are stored
    // through the third: the stored event is republished by the leader, which learns of
    // the gateway's new subscription only when the cluster has propagated it.
    let leader = rooms_leader(&cluster).await;
    let others: Vec<usize> = (0..3).filter(|n| *n != leader).collect();
    let node_url = |n: usize| format!("nats://127.0.0.1:{}", cluster.client_ports[n]);
    let gateway_url = node_url(others[0]);
    let gw = GatewayProcess::start(
        &app,
        &[
            ("NATS_URL", gateway_url.as_str()),
            ("NATS_REPLICAS", "3"),
            ("GATEWAY_RATE_PER_SEC", "10000"),
            // Each watcher stops reading while its storer winds down; on a loaded machine
            // hundreds of events can queue meanwhile. This test is about gaps, not slow
            // consumers: room enough that the queue bound never closes a watcher.
            ("GATEWAY_QUEUE_FRAMES", "65536"),
            ("GATEWAY_QUEUE_BYTES", "67108864"),
        ],
    )
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut rooms = Vec::new();
    for r in 0..ROOMS {
        rooms.push(
            app.create_room(
                &alice,
                json!({"name": format!("window{r}"), "members": [bob.id]}),
            )
            .await,
        );
    }
    let mut misses = Vec::new();
    for round in 0..ROUNDS {
        let trials = rooms.iter().map(|room| {
            first_subscription(
                &gw.base,
                &bob.token,
                room,
                node_url(others[1]),
                alice.id.clone(),
            )
        });
        for (room, gaps) in futures::future::join_all(trials)
            .await
            .into_iter()
            .enumerate()
        {
            if !gaps.is_empty() {
                misses.push((round, room, gaps));
            }
        }
    }
    projector.kill9();
    let metrics = reqwest::get(format!("{}/metrics", gw.metrics_base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let fills: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("chat_gateway_gap_fill"))
        .collect();
    println!(
        "{} of {} first subscriptions missed events; the gateway's {fills:?}",
        misses.len(),
        ROUNDS * ROOMS
    );
    assert!(
        misses.is_empty(),
        "first subscribers missed events (round, room, {{after: up to}}): {misses:?}"
    );
}
