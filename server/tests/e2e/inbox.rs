//! The per-user inbox on the real stack: an open connection that joined nothing learns of
//! every room its user becomes a member of (a DM opened with them, being added, a join on
//! another device) as `roomAdded` within a second, and of leaving as `roomRemoved` on every
//! device; `roomAdded` never follows the room's first event on a connection, and a user who
//! was offline finds the room in `hello.rooms`. Live `profile` frames reach room mates.

use chat_testkit::{GatewayProcess, WsClient};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use crate::app::{spawn_app, TestApp, User};
use crate::people::rename;

/// The promise: a membership change shows within this on an open connection.
const LIVE: Duration = Duration::from_secs(1);

/// The `roomAdded` for `room`, within [`LIVE`] (skipping other frames); panics otherwise.
async fn room_added(ws: &mut WsClient, room: &str) -> Value {
    let started = Instant::now();
    loop {
        let left = LIVE.saturating_sub(started.elapsed());
        let frame = ws
            .frame_of_type("roomAdded", left)
            .await
            .unwrap_or_else(|| panic!("no roomAdded for {room} within {LIVE:?}"));
        if frame["room"]["roomId"] == room {
            return frame["room"].clone();
        }
    }
}

/// The room as `GET /rooms` lists it for `user`.
async fn listed(app: &TestApp, user: &User, room: &str) -> Value {
    let (status, body) = app.get("/rooms", Some(&user.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roomId"] == room)
        .cloned()
        .unwrap_or_else(|| panic!("{room} not in GET /rooms: {body}"))
}

async fn add(app: &TestApp, adder: &User, room: &str, users: &[&User]) -> Value {
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    let (status, body) = app
        .post(
            &format!("/rooms/{room}/members"),
            Some(&adder.token),
            json!({ "userIds": ids }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// No frame of type `kind` arrives within `wait`.
async fn none_of(ws: &mut WsClient, kind: &str, wait: Duration) {
    if let Some(frame) = ws.frame_of_type(kind, wait).await {
        panic!("unexpected {kind}: {frame}");
    }
}

#[tokio::test]
async fn an_open_connection_learns_of_a_new_dm_within_a_second_without_asking() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut bob_ws = WsClient::connect(&app.base, &bob.token).await;
    let mut carol_ws = WsClient::connect(&app.base, &carol.token).await;

    let (status, opened) = app
        .post("/dms", Some(&alice.token), json!({"userId": bob.id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let dm = opened["roomId"].as_str().unwrap();
    // Bob sent nothing in between.
    let room = room_added(&mut bob_ws, dm).await;
    assert_eq!(room["kind"], "direct");
    assert_eq!(room["peerId"], alice.id);
    // Exactly what GET /rooms shows Bob.
    assert_eq!(room, listed(&app, &bob, dm).await);
    // Nobody else hears of it.
    none_of(&mut carol_ws, "roomAdded", Duration::from_millis(300)).await;
}

#[tokio::test]
async fn being_added_to_a_private_room_arrives_live_and_hello_has_it_after_a_reconnect() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app
        .create_room(&alice, json!({"name": "plans", "visibility": "private"}))
        .await;
    let mut bob_ws = WsClient::connect(&app.base, &bob.token).await;

    let answer = add(&app, &alice, &room, &[&bob]).await;
    assert_eq!(answer["added"], json!([bob.id]));
    let shown = room_added(&mut bob_ws, &room).await;
    assert_eq!(shown["name"], "plans");
    assert_eq!(shown["visibility"], "private");
    assert_eq!(shown, listed(&app, &bob, &room).await);

    // Carol is offline while she is added: her next hello names the room.
    add(&app, &bob, &room, &[&carol]).await;
    let (mut carol_ws, hello) = WsClient::connect_with_hello(&app.base, &carol.token).await;
    assert!(
        hello["rooms"].as_array().unwrap().contains(&json!(room)),
        "{hello}"
    );
    // Joining it now works (a private room she was added to) and answers no roomAdded:
    // she was a member already.
    let mut frames = Vec::new();
    let joined = carol_ws
        .call(json!({"type": "join", "roomId": room}), &mut frames)
        .await;
    assert_eq!(joined["type"], "joined", "{joined}");
    none_of(&mut carol_ws, "roomAdded", Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_on_another_gateway_process_learns_of_being_added() {
    let app = spawn_app().await;
    let gateway = GatewayProcess::start(&app, &[]).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(
            &alice,
            json!({"name": "elsewhere", "visibility": "private"}),
        )
        .await;
    // Bob's two devices, on two gateway processes.
    let mut phone = WsClient::connect(&gateway.base, &bob.token).await;
    let mut laptop = WsClient::connect(&app.base, &bob.token).await;
    add(&app, &alice, &room, &[&bob]).await;
    room_added(&mut phone, &room).await;
    room_added(&mut laptop, &room).await;

    // And leaving on the laptop removes it on the phone, across processes.
    let mut frames = Vec::new();
    let left = laptop
        .call(json!({"type": "leave", "roomId": room}), &mut frames)
        .await;
    assert_eq!(left["type"], "ack", "{left}");
    let removed = phone
        .frame_of_type("roomRemoved", LIVE)
        .await
        .expect("roomRemoved");
    assert_eq!(removed["roomId"], room);
}

#[tokio::test]
async fn a_join_answers_room_added_before_joined_and_the_other_device_learns_of_it() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.create_room(&alice, json!({"name": "lobby"})).await;
    let mut phone = WsClient::connect(&app.base, &bob.token).await;
    let mut laptop = WsClient::connect(&app.base, &bob.token).await;

    let id = phone.request(json!({"type": "join", "roomId": room})).await;
    // The phone: roomAdded, then joined.
    let mut before_joined = Vec::new();
    loop {
        let frame = phone.next_frame().await;
        if frame["id"] == id {
            assert_eq!(frame["type"], "joined", "{frame}");
            break;
        }
        before_joined.push(frame);
    }
    let added: Vec<&Value> = before_joined
        .iter()
        .filter(|f| f["type"] == "roomAdded")
        .collect();
    assert_eq!(added.len(), 1, "{before_joined:?}");
    assert_eq!(added[0]["room"], listed(&app, &bob, &room).await);
    // The laptop, which joined nothing, learns of it live.
    room_added(&mut laptop, &room).await;

    // Events follow; the projector's notice of the same join is not sent to the phone again.
    app.send(&alice, &room, "hi bob").await;
    let mut after = Vec::new();
    while let Some(frame) = phone.frame_within(Duration::from_millis(1_500)).await {
        after.push(frame);
    }
    assert!(
        after.iter().any(|f| f["type"] == "event"),
        "no event after joined: {after:?}"
    );
    assert!(
        after.iter().all(|f| f["type"] != "roomAdded"),
        "a second roomAdded: {after:?}"
    );
}

#[tokio::test]
async fn a_connection_told_of_a_room_then_joining_it_sees_its_events_after_the_notice() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut bob_ws = WsClient::connect(&app.base, &bob.token).await;
    let room = app
        .create_room(&alice, json!({"name": "team", "members": [bob.id]}))
        .await;
    let shown = room_added(&mut bob_ws, &room).await;
    assert_eq!(shown["memberCount"], 2);
    app.send(&alice, &room, "before bob joined").await;

    bob_ws.join(&room).await;
    app.send(&alice, &room, "after bob joined").await;
    let events = bob_ws.events(1).await;
    assert_eq!(events[0]["event"]["data"]["message"], "after bob joined");
    none_of(&mut bob_ws, "roomAdded", Duration::from_millis(300)).await;
}

#[tokio::test]
async fn leaving_on_one_device_removes_the_room_on_every_device() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.create_room(&alice, json!({"name": "lobby"})).await;
    app.join(&bob, &room).await;
    let mut phone = WsClient::connect(&app.base, &bob.token).await;
    let mut laptop = WsClient::connect(&app.base, &bob.token).await;
    phone.join(&room).await;
    laptop.join(&room).await;

    let mut frames = Vec::new();
    let left = phone
        .call(json!({"type": "leave", "roomId": room}), &mut frames)
        .await;
    assert_eq!(left["type"], "ack", "{left}");
    for device in [&mut phone, &mut laptop] {
        let removed = device
            .frame_of_type("roomRemoved", LIVE)
            .await
            .expect("roomRemoved within a second");
        assert_eq!(removed["roomId"], room);
    }
    // Neither receives the room any more.
    app.send(&alice, &room, "bob is gone").await;
    none_of(&mut laptop, "event", Duration::from_millis(500)).await;
    none_of(&mut phone, "event", Duration::from_millis(100)).await;
}

#[tokio::test]
async fn a_rename_reaches_a_room_mate_and_the_user_own_devices_as_a_profile_frame() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app.create_room(&alice, json!({"name": "lobby"})).await;
    app.join(&bob, &room).await;
    let mut bob_ws = WsClient::connect(&app.base, &bob.token).await;
    bob_ws.join(&room).await;
    let mut alice_ws = WsClient::connect(&app.base, &alice.token).await;
    // Carol shares no room with Alice and watches nobody.
    let mut carol_ws = WsClient::connect(&app.base, &carol.token).await;

    let (status, body) = rename(&app, &alice, json!("Alice Liddell")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for ws in [&mut bob_ws, &mut alice_ws] {
        let profile = ws
            .frame_of_type("profile", LIVE)
            .await
            .expect("profile within a second");
        assert_eq!(
            profile,
            json!({"type": "profile", "userId": alice.id, "displayName": "Alice Liddell"})
        );
    }
    none_of(&mut carol_ws, "profile", Duration::from_millis(300)).await;
}
