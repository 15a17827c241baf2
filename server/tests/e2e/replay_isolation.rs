//! Replays cannot hurt anyone else, nor show what history does not: tried from outside, as
//! an attacker or an unlucky client would, against real `gateway` processes (or the
//! all-in-one server), a real `nats-server` and a real Postgres.

use futures::future::join_all;
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

use crate::app::{spawn_app, spawn_app_with, AppOptions, TestApp, User};
use chat_testkit::{Ended, GatewayProcess, WsClient};

/// A message of 4,000 characters (the default limit) of 4 bytes each: 16 KB a frame.
fn large_text(i: usize) -> String {
    format!("{i:04}{}", "😀".repeat(3_996))
}

/// A public room owned by `owner` holding `count` large messages; answers the room and its
/// latest `seq`.
async fn large_room(app: &TestApp, owner: &User, count: usize) -> (String, u64) {
    let room = app.create_room(owner, json!({"name": "big"})).await;
    let mut last = 0;
    for chunk in (0..count).collect::<Vec<_>>().chunks(32) {
        let texts: Vec<String> = chunk.iter().map(|i| large_text(*i)).collect();
        let sent = join_all(texts.iter().map(|t| app.send(owner, &room, t))).await;
        for reply in sent {
            last = last.max(reply["seq"].as_u64().expect("seq"));
        }
    }
    (room, last)
}

/// Opens a socket that `join`s `room` from `lastSeq: 0` and then never reads.
async fn stalled_replay(base: &str, token: &str, room: &str) -> WsClient {
    let mut client = WsClient::connect(base, token).await;
    client
        .request(json!({"type": "join", "roomId": room, "lastSeq": 0}))
        .await;
    client
}

/// A counter or gauge on the `gateway` process's `/metrics` (0 before it is first set).
async fn gateway_metric(gateway: &GatewayProcess, name: &str) -> f64 {
    metric(&gateway.metrics_base, name).await
}

/// A counter or gauge on the `/metrics` of the operator listener at `base` (0 before it
/// is first set).
async fn metric(base: &str, name: &str) -> f64 {
    let answer = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("metrics answer");
    assert!(answer.status().is_success(), "{base}/metrics: {answer:?}");
    let text = answer.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// How many connections the gateway closed with 4008.
async fn slow_closed(gateway: &GatewayProcess) -> f64 {
    gateway_metric(gateway, "chat_gateway_slow_consumer_disconnects_total").await
}

/// The resident memory of process `pid`, in MB.
fn rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb / 1024
}

#[tokio::test]
async fn forty_stalled_replays_do_not_cut_other_users_off_the_event_log() {
    let app = spawn_app().await;
    let gateway = GatewayProcess::start(&app, &[]).await;
    let owner = app.register("owner").await;
    let free = app.insert_users("free", 2).await;
    let other = app.register("other").await;
    let (big, _) = large_room(&app, &owner, 1_500).await;
    let quiet = app.create_room(&other, json!({"name": "quiet"})).await;

    let mut stalled = Vec::new();
    for i in 0..40 {
        stalled.push(stalled_replay(&gateway.base, &free[i % 2].token, &big).await);
    }

    let mut client = WsClient::connect(&gateway.base, &other.token).await;
    client.join(&quiet).await;
    let (mut latencies, mut events, mut last_seq) = (Vec::new(), Vec::new(), None::<u64>);
    // The other user chats until every stalled replay has been closed for it (4008), and
    // sends at least 100 messages.
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut i = 0;
    while i < 100 || slow_closed(&gateway).await < 40.0 {
        assert!(
            Instant::now() < deadline,
            "the stalled replays were not all closed"
        );
        i += 1;
        let started = Instant::now();
        let id = client
            .request(json!({"type": "send", "roomId": quiet, "message": format!("m{i}")}))
            .await;
        let answer = client.answer(&id, &mut events).await;
        assert_eq!(
            answer["type"], "ack",
            "send {i} while replays stall: {answer}"
        );
        let seq = answer["seq"].as_u64().unwrap();
        while !events.iter().any(|e| e["seq"] == seq) {
            let frame = client.next_frame().await;
            if frame["type"] == "event" {
                events.push(frame);
            }
        }
        latencies.push(started.elapsed());
        for event in events.drain(..) {
            if let Some(prev) = last_seq {
                assert_eq!(event["prevSeq"], prev, "a gap in the quiet room: {event}");
            }
            last_seq = event["seq"].as_u64();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    let n = latencies.len();
    println!(
        "other user's send-to-live latency over {n} messages while 40 replays stall: \
         p50 {:?}, p99 {:?}, max {:?}",
        latencies[n / 2],
        latencies[n * 99 / 100],
        latencies[n - 1]
    );
    drop(stalled);
}

#[tokio::test]
async fn a_client_that_stalls_during_a_replay_is_closed_with_4008() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let reader = app.register("reader").await;
    let (big, _) = large_room(&app, &owner, 1_500).await;
    let mut client = stalled_replay(&app.base, &reader.token, &big).await;
    // The client stops reading, as a tab in the background does, until the gateway has
    // given up on it (a slow machine fills the client's buffers later), then reads.
    let deadline = Instant::now() + Duration::from_secs(60);
    while metric(
        &app.metrics_base,
        "chat_gateway_slow_consumer_disconnects_total",
    )
    .await
        < 1.0
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let started = Instant::now();
    let mut resumed = false;
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(20), client.socket.next()).await {
            Err(_) => panic!("neither closed nor done within 20 s of reading again"),
            Ok(None) | Ok(Some(Err(_))) => break Ended::Dropped,
            Ok(Some(Ok(Message::Close(frame)))) => {
                break Ended::Closed(frame.map(|f| u16::from(f.code)))
            }
            Ok(Some(Ok(Message::Text(t)))) => {
                let frame: Value = serde_json::from_str(&t).unwrap();
                if frame["type"] == "resumed" {
                    resumed = true;
                    break Ended::Dropped;
                }
            }
            Ok(Some(Ok(_))) => {}
        }
    };
    assert!(
        !resumed,
        "a stalled replay ran to its end instead of closing"
    );
    assert_eq!(ended, Ended::Closed(Some(4008)));
    println!(
        "closed with 4008 {:?} after reading again",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_position_beyond_the_rooms_end_is_not_recovered_and_the_room_stays_live() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.create_room(&alice, json!({"name": "r"})).await;
    app.join(&bob, &room).await;
    let latest = app.send(&alice, &room, "before").await["seq"]
        .as_u64()
        .unwrap();

    // A tab that kept its position across a reset store: `resume`, and `join` with it.
    let mut resumer = WsClient::connect(&app.base, &bob.token).await;
    let mut ignored = Vec::new();
    let answer = resumer
        .call(
            json!({"type": "resume", "rooms": [{"roomId": room, "lastSeq": latest + 1_000_000}]}),
            &mut ignored,
        )
        .await;
    assert_eq!(answer["type"], "resumed", "{answer}");
    assert_eq!(answer["recovered"], false, "{answer}");
    assert_eq!(answer["lastSeq"], latest, "{answer}");
    let mut joiner = WsClient::connect(&app.base, &bob.token).await;
    let answer = joiner
        .call(
            json!({"type": "join", "roomId": room, "lastSeq": latest + 1_000_000}),
            &mut ignored,
        )
        .await;
    assert_eq!(answer["type"], "resumed", "{answer}");
    assert_eq!(answer["recovered"], false, "{answer}");
    assert_eq!(answer["lastSeq"], latest, "{answer}");
    let joined = joiner.next_frame().await;
    assert_eq!(joined["type"], "joined", "{joined}");
    assert_eq!(joined["lastSeq"], latest, "{joined}");

    let next = app.send(&alice, &room, "after").await["seq"]
        .as_u64()
        .unwrap();
    for client in [&mut resumer, &mut joiner] {
        let event = client.events(1).await.remove(0);
        assert_eq!(event["seq"], next, "{event}");
        assert_eq!(event["event"]["data"]["message"], "after", "{event}");
    }
}

#[tokio::test]
async fn one_resume_naming_a_room_300_times_replays_it_once_and_room_caps_hold() {
    let app = spawn_app_with(AppOptions {
        gateway: chat_gateway::GatewayConfig {
            max_rooms_per_connection: 3,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let alice = app.register("alice").await;
    let rooms: Vec<String> =
        join_all((0..4).map(|i| app.create_room(&alice, json!({"name": format!("r{i}")})))).await;
    for i in 0..5 {
        app.send(&alice, &rooms[0], &format!("m{i}")).await;
    }

    // What one replay of the room from 0 is, for comparison.
    let mut reference = WsClient::connect(&app.base, &alice.token).await;
    let mut once = Vec::new();
    let answer = reference
        .call(
            json!({"type": "resume", "rooms": [{"roomId": rooms[0], "lastSeq": 0}]}),
            &mut once,
        )
        .await;
    assert_eq!(answer["type"], "resumed", "{answer}");
    assert!(once.len() >= 5, "{once:?}");
    reference.close().await;

    let mut client = WsClient::connect(&app.base, &alice.token).await;
    let positions: Vec<Value> = (0..300)
        .map(|_| json!({"roomId": rooms[0], "lastSeq": 0}))
        .collect();
    client
        .request(json!({"type": "resume", "rooms": positions}))
        .await;
    // Frames of one connection are handled in order: the pong comes after every replay.
    let ping = client.request(json!({"type": "ping"})).await;
    let (mut events, mut resumed) = (0, 0);
    loop {
        let frame = client.next_frame().await;
        match frame["type"].as_str() {
            Some("event") => events += 1,
            Some("resumed") => resumed += 1,
            Some("pong") if frame["id"] == ping => break,
            _ => {}
        }
    }
    assert_eq!(
        (events, resumed),
        (once.len(), 1),
        "one room named 300 times"
    );

    // More distinct rooms than a connection may receive: refused, nothing replayed.
    let mut other = WsClient::connect(&app.base, &alice.token).await;
    let positions: Vec<Value> = rooms
        .iter()
        .map(|r| json!({"roomId": r, "lastSeq": 0}))
        .collect();
    let mut replayed = Vec::new();
    let answer = other
        .call(json!({"type": "resume", "rooms": positions}), &mut replayed)
        .await;
    assert_eq!(answer["type"], "error", "{answer}");
    assert_eq!(answer["code"], "too_many_rooms", "{answer}");
    assert!(replayed.is_empty(), "{replayed:?}");

    // Joins up to the cap, then refused.
    for room in &rooms[..3] {
        other.join(room).await;
    }
    let answer = other
        .call(json!({"type": "join", "roomId": rooms[3]}), &mut replayed)
        .await;
    assert_eq!(answer["type"], "error", "{answer}");
    assert_eq!(answer["code"], "too_many_rooms", "{answer}");
}

#[tokio::test]
async fn a_late_joiner_replaying_from_zero_sees_what_history_shows() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let late = app.register("late").await;
    let room = app.create_room(&alice, json!({"name": "r"})).await;
    let gone = app.send(&alice, &room, "secret, soon deleted").await["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let kept = app.send(&alice, &room, "first draft").await["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.send(&alice, &room, "plain").await;
    let mut author = WsClient::connect(&app.base, &alice.token).await;
    let mut ignored = Vec::new();
    for frame in [
        json!({"type": "edit", "roomId": room, "messageId": kept, "message": "second draft"}),
        json!({"type": "edit", "roomId": room, "messageId": gone, "message": "secret, edited"}),
        json!({"type": "delete", "roomId": room, "messageId": gone}),
        json!({"type": "edit", "roomId": room, "messageId": kept, "message": "final text"}),
    ] {
        let answer = author.call(frame, &mut ignored).await;
        assert_eq!(answer["type"], "ack", "{answer}");
    }

    let mut client = WsClient::connect(&app.base, &late.token).await;
    let id = client
        .request(json!({"type": "join", "roomId": room, "lastSeq": 0}))
        .await;
    let mut replayed = Vec::new();
    let answer = client.answer(&id, &mut replayed).await;
    assert_eq!(answer["type"], "resumed", "{answer}");
    assert_eq!(answer["recovered"], true, "{answer}");
    let text: String = replayed.iter().map(|e| e.to_string()).collect();
    for earlier in ["secret", "first draft", "second draft"] {
        assert!(!text.contains(earlier), "{earlier:?} was replayed: {text}");
    }
    // The chain is intact: each event names the one before it.
    for pair in replayed.windows(2) {
        assert_eq!(pair[1]["prevSeq"], pair[0]["seq"], "{pair:?}");
    }

    // Folding the replay as a client does gives what `getMessages` shows.
    let mut folded: Vec<(String, String, bool)> = Vec::new();
    for event in &replayed {
        let data = &event["event"]["data"];
        let id = data["messageId"].as_str().unwrap_or_default().to_owned();
        match event["event"]["type"].as_str().unwrap() {
            "message.posted" => folded.push((id, data["message"].as_str().unwrap().into(), false)),
            "message.edited" => {
                let m = folded
                    .iter_mut()
                    .find(|m| m.0 == id)
                    .expect("edit of a known message");
                m.1 = data["message"].as_str().unwrap().into();
            }
            "message.deleted" => {
                let m = folded
                    .iter_mut()
                    .find(|m| m.0 == id)
                    .expect("delete of a known message");
                (m.1, m.2) = (String::new(), true);
            }
            _ => {}
        }
    }
    let history = app.wait_for_messages(&late, &room, 3).await;
    let shown: Vec<(String, String, bool)> = history
        .iter()
        .map(|m| {
            (
                m["messageId"].as_str().unwrap().to_owned(),
                m["message"].as_str().unwrap().to_owned(),
                m["deleted"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(folded, shown);
}

#[tokio::test]
async fn memory_after_30_stalled_replays_returns_within_100_mb() {
    let app = spawn_app().await;
    let gateway = GatewayProcess::start(&app, &[]).await;
    let pid = gateway.pid().expect("gateway running");
    let owner = app.register("owner").await;
    let free = app.insert_users("free", 2).await;
    let (big, _) = large_room(&app, &owner, 1_500).await;
    let start = rss_mb(pid);

    let mut stalled = Vec::new();
    for i in 0..30 {
        stalled.push(stalled_replay(&gateway.base, &free[i % 2].token, &big).await);
    }
    // Until the gateway has closed every stalled replay (4008).
    let mut peak = start;
    let deadline = Instant::now() + Duration::from_secs(180);
    while slow_closed(&gateway).await < 30.0 {
        assert!(
            Instant::now() < deadline,
            "the stalled replays were not all closed"
        );
        peak = peak.max(rss_mb(pid));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(stalled);
    let deadline = Instant::now() + Duration::from_secs(30);
    let settled = loop {
        let now = rss_mb(pid);
        peak = peak.max(now);
        if now <= start + 100 || Instant::now() > deadline {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!("gateway RSS: {start} MB before, peak {peak} MB, {settled} MB after closing");
    assert!(
        settled <= start + 100,
        "RSS {settled} MB, {start} MB before 30 stalled replays (peak {peak} MB)"
    );
}
