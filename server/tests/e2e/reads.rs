//! Read state on every device: `read` (WebSocket) and `POST /rooms/{roomId}/read` move a
//! member's position forward, `GET /rooms` shows `lastReadSeq` and `unreadCount`, the
//! reader's connections get `readPosition`, the other members `receipt`; racing devices
//! end at the highest position, in the stream and in the read model; and the read model,
//! rebuilt from the reads stream after every process restarted, agrees.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use crate::app::{spawn_app, TestApp, User};
use chat_testkit::WsClient;

/// `(lastReadSeq, unreadCount)` of `room` in `user`'s `GET /rooms`.
pub async fn read_state(app: &TestApp, user: &User, room: &str) -> (i64, i64) {
    let (status, body) = app.get("/rooms", Some(&user.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed = body["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roomId"] == room)
        .unwrap_or_else(|| panic!("{room} not in {body}"))
        .clone();
    (
        listed["lastReadSeq"].as_i64().unwrap(),
        listed["unreadCount"].as_i64().unwrap(),
    )
}

/// Waits (10 s at most) until `GET /rooms` shows `want` for `room`.
pub async fn wait_for_read_state(app: &TestApp, user: &User, room: &str, want: (i64, i64)) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = read_state(app, user, room).await;
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{room}: {got:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `POST /rooms/{room}/read {seq}`.
pub async fn mark_read(app: &TestApp, user: &User, room: &str, seq: Value) -> (StatusCode, Value) {
    app.post(
        &format!("/rooms/{room}/read"),
        Some(&user.token),
        json!({ "seq": seq }),
    )
    .await
}

/// The first frame of `kind` within `wait` (other frames skipped), if any.
pub async fn frame_of(ws: &mut WsClient, kind: &str, wait: Duration) -> Option<Value> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = ws.frame_within(left).await?;
        if frame["type"] == kind {
            return Some(frame);
        }
    }
}

/// The stream sequence of the latest stored event on `chat.read.<room>.<user>` (0: none),
/// and the reads stream's last sequence: what a command that stores nothing leaves alone.
pub async fn stored_reads(app: &TestApp, room: &str, user: &User) -> (u64, u64) {
    let nats = async_nats::connect(app.nats.url()).await.expect("NATS");
    let js = async_nats::jetstream::new(nats);
    let mut stream = js.get_stream("CHAT_READS").await.expect("the reads stream");
    let on_subject = match stream
        .direct_get_last_for_subject(format!("chat.read.{room}.{}", user.id))
        .await
    {
        Ok(message) => message.sequence,
        Err(_) => 0,
    };
    (on_subject, stream.info().await.unwrap().state.last_sequence)
}

/// The position stored last on `chat.read.<room>.<user>` (the event's `data.seq`).
pub async fn stored_position(app: &TestApp, room: &str, user: &User) -> u64 {
    let nats = async_nats::connect(app.nats.url()).await.expect("NATS");
    let js = async_nats::jetstream::new(nats);
    let stream = js.get_stream("CHAT_READS").await.expect("the reads stream");
    let message = stream
        .direct_get_last_for_subject(format!("chat.read.{room}.{}", user.id))
        .await
        .expect("a stored position");
    let event: Value = serde_json::from_slice(&message.payload).unwrap();
    assert_eq!(event["type"], "read.moved", "{event}");
    event["data"]["seq"].as_u64().unwrap()
}

/// Sends a `read` for each of `seqs` without waiting, then expects an `ack` for each.
async fn read_all(ws: &mut WsClient, room: &str, seqs: &[u64]) {
    let mut ids = Vec::new();
    for seq in seqs {
        ids.push(
            ws.request(json!({"type": "read", "roomId": room, "seq": seq}))
                .await,
        );
    }
    let mut events = Vec::new();
    for id in ids {
        let answer = ws.answer(&id, &mut events).await;
        assert_eq!(answer["type"], "ack", "{answer}");
    }
}

fn seq_of(sent: &Value) -> u64 {
    sent["seq"].as_u64().expect("a send answers its seq")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_on_one_device_clears_the_badge_on_the_other_and_the_sender_sees_the_receipt() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "r", "members": [bob.id]}))
        .await;
    let mut phone = WsClient::connect(&app.base, &bob.token).await;
    let mut laptop = WsClient::connect(&app.base, &bob.token).await;
    let mut alice_ws = WsClient::connect(&app.base, &alice.token).await;
    for ws in [&mut phone, &mut laptop, &mut alice_ws] {
        ws.join(&room).await;
    }
    let mut last = 0;
    for text in ["one", "two", "three"] {
        last = seq_of(&app.send(&alice, &room, text).await);
    }
    wait_for_read_state(&app, &bob, &room, (0, 3)).await;
    assert_eq!(
        read_state(&app, &alice, &room).await.1,
        0,
        "one's own messages are never unread"
    );

    let started = Instant::now();
    let id = phone
        .request(json!({"type": "read", "roomId": room, "seq": last}))
        .await;
    let moved = frame_of(&mut laptop, "readPosition", Duration::from_secs(1))
        .await
        .expect("the other device hears of it within 1 s");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        moved,
        json!({"type": "readPosition", "roomId": room, "lastReadSeq": last})
    );
    // The origin hears it too (before or after its ack: the ack waits for the projection).
    let (mut acked, mut told) = (false, false);
    while !(acked && told) {
        let frame = phone
            .frame_within(Duration::from_secs(2))
            .await
            .expect("ack and readPosition on the origin");
        acked |= frame["type"] == "ack" && frame["id"] == id.as_str();
        told |= frame == moved;
    }
    assert_eq!(read_state(&app, &bob, &room).await, (last as i64, 0));
    let receipt = frame_of(&mut alice_ws, "receipt", Duration::from_secs(2))
        .await
        .expect("alice sees that bob read it");
    assert_eq!(
        receipt,
        json!({"type": "receipt", "roomId": room, "userId": bob.id, "seq": last})
    );
    // Bob's own devices are told by `readPosition`, never by a receipt about himself.
    assert!(
        frame_of(&mut laptop, "receipt", Duration::from_millis(1_300))
            .await
            .is_none()
    );

    // A new message is unread again; alice's own position is her own.
    app.send(&alice, &room, "four").await;
    wait_for_read_state(&app, &bob, &room, (last as i64, 1)).await;
    assert_eq!(read_state(&app, &alice, &room).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_route_moves_the_position_the_same_way_and_never_back() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "r", "members": [bob.id]}))
        .await;
    let mut laptop = WsClient::connect(&app.base, &bob.token).await;
    let mut alice_ws = WsClient::connect(&app.base, &alice.token).await;
    alice_ws.join(&room).await;
    let first = seq_of(&app.send(&alice, &room, "one").await);
    let second = seq_of(&app.send(&alice, &room, "two").await);
    wait_for_read_state(&app, &bob, &room, (0, 2)).await;

    let (status, body) = mark_read(&app, &bob, &room, json!(first)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"roomId": room, "lastReadSeq": first}));
    assert_eq!(read_state(&app, &bob, &room).await, (first as i64, 1));
    let moved = frame_of(&mut laptop, "readPosition", Duration::from_secs(1)).await;
    assert_eq!(
        moved.expect("readPosition without joining the room")["lastReadSeq"],
        first
    );
    let receipt = frame_of(&mut alice_ws, "receipt", Duration::from_secs(2)).await;
    assert_eq!(receipt.unwrap()["seq"], first);

    let (status, body) = mark_read(&app, &bob, &room, json!(second)).await;
    assert_eq!(
        (status, body["lastReadSeq"].as_u64()),
        (StatusCode::OK, Some(second))
    );
    // Backwards: the position is answered unchanged, and nothing is stored or sent.
    let before = stored_reads(&app, &room, &bob).await;
    let (status, body) = mark_read(&app, &bob, &room, json!(first)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"roomId": room, "lastReadSeq": second}));
    assert_eq!(stored_reads(&app, &room, &bob).await, before);
    assert_eq!(read_state(&app, &bob, &room).await, (second as i64, 0));
    // The WebSocket `read` answers the same way.
    let mut events = Vec::new();
    let answer = laptop
        .call(
            json!({"type": "read", "roomId": room, "seq": first}),
            &mut events,
        )
        .await;
    assert_eq!(answer["type"], "ack", "{answer}");
    assert_eq!(stored_reads(&app, &room, &bob).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_devices_end_at_the_highest_position_in_the_stream_and_the_read_model() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "r", "members": [bob.id]}))
        .await;
    let mut seqs = Vec::new();
    for i in 0..20 {
        seqs.push(seq_of(&app.send(&alice, &room, &format!("m{i}")).await));
    }
    let highest = *seqs.iter().max().unwrap();
    // Shuffled (7 is coprime to 20): the highest is neither first nor last.
    let shuffled: Vec<u64> = (0..20).map(|i| seqs[(i * 7 + 3) % 20]).collect();
    let mut devices = Vec::new();
    for _ in 0..2 {
        devices.push(WsClient::connect(&app.base, &bob.token).await);
    }
    // Half over the two sockets, half over HTTP, all at once.
    let (mut phone, mut laptop) = (devices.remove(0), devices.remove(0));
    let over_http = futures::future::join_all(shuffled[10..].iter().map(|&seq| {
        let (app, bob, room) = (&app, &bob, &room);
        async move {
            let (status, body) = mark_read(app, bob, room, json!(seq)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert!(body["lastReadSeq"].as_u64().unwrap() >= seq, "{body}");
        }
    }));
    futures::join!(
        read_all(&mut phone, &room, &shuffled[..5]),
        read_all(&mut laptop, &room, &shuffled[5..10]),
        over_http
    );
    assert_eq!(stored_position(&app, &room, &bob).await, highest);
    wait_for_read_state(&app, &bob, &room, (highest as i64, 0)).await;
    let rows = app
        .count(&format!(
            "SELECT last_read_seq FROM read_positions WHERE room_id = '{room}'"
        ))
        .await;
    assert_eq!(rows, highest as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_over_the_presence_bound_gets_no_receipts_but_the_reader_still_syncs() {
    let app = crate::app::spawn_app_with(crate::app::AppOptions {
        gateway: chat_gateway::GatewayConfig {
            presence_member_limit: 2,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app
        .create_room(
            &alice,
            json!({"name": "big", "members": [bob.id, carol.id]}),
        )
        .await;
    let mut alice_ws = WsClient::connect(&app.base, &alice.token).await;
    alice_ws.join(&room).await;
    let mut laptop = WsClient::connect(&app.base, &bob.token).await;
    let seq = seq_of(&app.send(&alice, &room, "hello all").await);
    let (status, _) = mark_read(&app, &bob, &room, json!(seq)).await;
    assert_eq!(status, StatusCode::OK);
    let moved = frame_of(&mut laptop, "readPosition", Duration::from_secs(1)).await;
    assert_eq!(
        moved.expect("the reader's devices sync")["lastReadSeq"],
        seq
    );
    assert!(
        frame_of(&mut alice_ws, "receipt", Duration::from_millis(1_500))
            .await
            .is_none(),
        "three members is over a bound of two: no receipts"
    );
}
