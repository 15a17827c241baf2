//! Bad and hostile input to read positions, over HTTP and the WebSocket, each refused
//! with its code and storing nothing: a `seq` of another room, beyond the room's end, not
//! a positive integer; a room the caller is not in (403), a direct room of others (404);
//! no token; a flood (429). And what a user with two accounts can learn: nothing about
//! the read state of rooms they are not in, and no receipt once they are out of a room.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

use crate::app::{spawn_app, spawn_app_with, AppOptions, TestApp, User};
use crate::reads::{frame_of, mark_read, read_state, stored_reads};
use chat_testkit::WsClient;

fn bad_seqs() -> Vec<(&'static str, Value)> {
    vec![
        ("zero", json!(0)),
        ("negative", json!(-3)),
        ("a fraction", json!(1.5)),
        ("a string", json!("7")),
        ("null", Value::Null),
        ("a boolean", json!(true)),
        ("an array", json!([7])),
        ("too large", json!(1e30)),
    ]
}

/// The reads stream holds nothing and the read model has no position.
async fn nothing_stored(app: &TestApp, room: &str, user: &User, what: &str) {
    assert_eq!(
        stored_reads(app, room, user).await,
        (0, 0),
        "{what}: stream"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM read_positions").await,
        0,
        "{what}: read model"
    );
}

async fn ws_error(ws: &mut WsClient, frame: Value) -> Value {
    let mut events = Vec::new();
    let answer = ws.call(frame, &mut events).await;
    assert_eq!(answer["type"], "error", "{answer}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_positions_are_refused_with_invalid_seq_and_store_nothing() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "r", "members": [bob.id]}))
        .await;
    let other = app
        .create_room(&alice, json!({"name": "other", "members": [bob.id]}))
        .await;
    let first = app.send(&alice, &room, "one").await["seq"]
        .as_u64()
        .unwrap();
    let elsewhere = app.send(&alice, &other, "x").await["seq"].as_u64().unwrap();
    let mut ws = WsClient::connect(&app.base, &bob.token).await;

    // A message of another room, and a position past this room's last event (an event of
    // another room stored later, and one past the whole stream).
    for (what, seq, says) in [
        ("another room's event", first, "not an event of this room"),
        (
            "after the room's end",
            elsewhere,
            "beyond the room's last event",
        ),
        (
            "past the stream",
            elsewhere + 1_000,
            "beyond the room's last event",
        ),
    ] {
        let target = if what == "another room's event" {
            &other
        } else {
            &room
        };
        let (status, body) = mark_read(&app, &bob, target, json!(seq)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert_eq!(body["error"]["code"], "invalid_seq", "{what}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{what}: {message}");
        let answer = ws_error(
            &mut ws,
            json!({"type": "read", "roomId": target, "seq": seq}),
        )
        .await;
        assert_eq!(answer["code"], "invalid_seq", "{what} over ws");
        nothing_stored(&app, target, &bob, what).await;
    }

    for (what, seq) in bad_seqs() {
        let (status, body) = mark_read(&app, &bob, &room, seq.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert_eq!(body["error"]["code"], "invalid_seq", "{what}");
        let answer = ws_error(&mut ws, json!({"type": "read", "roomId": room, "seq": seq})).await;
        assert_eq!(answer["code"], "invalid_seq", "{what} over ws");
    }
    let (status, body) = app
        .post(&format!("/rooms/{room}/read"), Some(&bob.token), json!({}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_seq"))
    );
    let answer = ws_error(&mut ws, json!({"type": "read", "roomId": room})).await;
    assert_eq!(answer["code"], "invalid_seq", "missing over ws");
    let resp = app
        .http
        .post(format!("{}/rooms/{room}/read", app.base))
        .bearer_auth(&bob.token)
        .header("content-type", "application/json")
        .body("{seq: 1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (status, body) = mark_read(&app, &bob, "no%20spaces", json!(first)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_room_id"))
    );
    let (status, _) = app
        .post(&format!("/rooms/{room}/read"), None, json!({"seq": first}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    nothing_stored(&app, &room, &bob, "after every bad input").await;
    assert_eq!(read_state(&app, &bob, &room).await, (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outsiders_cannot_mark_or_learn_read_positions_and_receipts_stay_in_the_room() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    // Carol has two accounts; neither is in alice and bob's rooms.
    let carol = app.register("carol").await;
    let carol2 = app.register("carol2").await;
    let room = app
        .create_room(
            &alice,
            json!({"name": "r", "visibility": "private", "members": [bob.id]}),
        )
        .await;
    let (status, dm) = app
        .post("/dms", Some(&alice.token), json!({"userId": bob.id}))
        .await;
    assert!(status.is_success(), "{dm}");
    let dm = dm["roomId"].as_str().unwrap().to_owned();
    let seq = app.send(&alice, &room, "private").await["seq"]
        .as_u64()
        .unwrap();
    let dm_seq = app.send(&alice, &dm, "just us").await["seq"]
        .as_u64()
        .unwrap();
    let mut carol_ws = WsClient::connect(&app.base, &carol.token).await;

    let (status, body) = mark_read(&app, &carol, &room, json!(seq)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_a_member"))
    );
    let answer = ws_error(
        &mut carol_ws,
        json!({"type": "read", "roomId": room, "seq": seq}),
    )
    .await;
    assert_eq!(answer["code"], "not_a_member");
    // A direct room of others answers exactly as a room that does not exist.
    let (status, body) = mark_read(&app, &carol, &dm, json!(dm_seq)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("room_not_found"))
    );
    let (status, body) = mark_read(&app, &carol, "nosuchroom", json!(dm_seq)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("room_not_found"))
    );
    let answer = ws_error(
        &mut carol_ws,
        json!({"type": "read", "roomId": dm, "seq": dm_seq}),
    )
    .await;
    assert_eq!(answer["code"], "room_not_found");
    nothing_stored(&app, &room, &carol, "outsiders").await;
    let answer = ws_error(&mut carol_ws, json!({"type": "join", "roomId": room})).await;
    assert_eq!(answer["code"], "room_private");

    // Bob reads: alice is told, carol (on either account) is not, and her room list
    // says nothing about rooms she is not in.
    let mut alice_ws = WsClient::connect(&app.base, &alice.token).await;
    alice_ws.join(&room).await;
    let mut carol2_ws = WsClient::connect(&app.base, &carol2.token).await;
    let (status, _) = mark_read(&app, &bob, &room, json!(seq)).await;
    assert_eq!(status, StatusCode::OK);
    let receipt = frame_of(&mut alice_ws, "receipt", Duration::from_secs(2)).await;
    assert_eq!(receipt.unwrap()["userId"], bob.id.as_str());
    for ws in [&mut carol_ws, &mut carol2_ws] {
        let heard = ws.frame_within(Duration::from_millis(1_500)).await;
        assert!(heard.is_none(), "an outsider heard {heard:?}");
    }
    for user in [&carol, &carol2] {
        let (_, rooms) = app.get("/rooms", Some(&user.token)).await;
        assert_eq!(rooms, json!({"rooms": []}));
    }

    // A public room: carol joins, then leaves; afterwards she hears no receipt there.
    let public = app.create_room(&alice, json!({"name": "pub"})).await;
    app.join(&bob, &public).await;
    let last = app.send(&alice, &public, "hello all").await["seq"]
        .as_u64()
        .unwrap();
    carol_ws.join(&public).await;
    let mut events = Vec::new();
    let left = carol_ws
        .call(json!({"type": "leave", "roomId": public}), &mut events)
        .await;
    assert_eq!(left["type"], "ack", "{left}");
    alice_ws.join(&public).await;
    let (status, _) = mark_read(&app, &bob, &public, json!(last)).await;
    assert_eq!(status, StatusCode::OK);
    let receipt = frame_of(&mut alice_ws, "receipt", Duration::from_secs(2)).await;
    assert_eq!(receipt.unwrap()["roomId"], public.as_str());
    assert!(
        frame_of(&mut carol_ws, "receipt", Duration::from_millis(1_500))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_flood_of_reads_is_rate_limited_like_other_writes() {
    let app = spawn_app_with(AppOptions {
        write_rate: chat_api::ApiConfig::default().write_rate,
        ..Default::default()
    })
    .await;
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "r"})).await;
    let seq = app.send(&alice, &room, "one").await["seq"]
        .as_u64()
        .unwrap();
    let mut limited = 0;
    for _ in 0..80 {
        let (status, body) = mark_read(&app, &alice, &room, json!(seq)).await;
        match status {
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["error"]["code"], "rate_limited");
                limited += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(limited > 0, "a flood of reads is refused");
}
