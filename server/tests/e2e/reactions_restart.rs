//! Reactions on the real stack of separate processes (api, projector, two gateways, NATS,
//! Postgres): a `react` frame on one gateway reaches a member on the other as a live
//! `event` with `seq`/`prevSeq`, HTTP reactions too; then every process restarts, the
//! room read models are wiped with their checkpoints and rebuilt from the room stream,
//! and history answers exactly as before, `me` per caller included.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use crate::app::User;
use crate::fault_support::Stack;
use crate::reactions::percent_encode;
use crate::reads::frame_of;
use chat_testkit::{connect_db, WsClient};

async fn send(stack: &Stack, user: &User, room: &str, text: &str) -> (String, u64) {
    let answer = stack.send_message(user, room, text).await;
    (
        answer["messageId"].as_str().unwrap().to_owned(),
        answer["seq"].as_u64().unwrap(),
    )
}

async fn react(stack: &Stack, user: &User, room: &str, message: &str, emoji: &str) -> Value {
    let (status, body) = stack
        .api_request(
            Method::POST,
            &format!("/rooms/{room}/messages/{message}/reactions"),
            &user.token,
            Some(json!({ "emoji": emoji })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// `user`'s history of `room`, or `None` while the api does not answer.
async fn history(stack: &Stack, user: &User, room: &str) -> Option<Value> {
    let (status, body) = stack
        .api_request(
            Method::GET,
            &format!("/getMessages?roomId={room}&limit=500"),
            &user.token,
            None,
        )
        .await;
    (status == StatusCode::OK).then(|| body["messages"].clone())
}

async fn wait_for_history(stack: &Stack, user: &User, room: &str, want: &Value) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = history(stack, user, room).await;
        if got.as_ref() == Some(want) {
            return;
        }
        assert!(Instant::now() < deadline, "{got:?}\nwant {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next `event` frame of a reaction, skipping others.
async fn reaction_event(ws: &mut WsClient) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = frame_of(ws, "event", left)
            .await
            .expect("a reaction event within 5 s");
        let kind = frame["event"]["type"].as_str().unwrap_or("").to_owned();
        if kind.starts_with("reaction.") {
            return frame;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_go_live_across_gateways_and_history_is_the_same_after_a_rebuild() {
    let mut stack = Stack::start().await;
    let users = stack.insert_users("reacting", 3).await;
    let (alice, bob, carol) = (&users[0], &users[1], &users[2]);
    let room = stack.create_room(alice, "r", &[bob, carol]).await;
    let (first, _) = send(&stack, alice, &room, "first").await;
    let (second, second_seq) = send(&stack, bob, &room, "second").await;

    let bases = stack.gateway_bases();
    let mut alice_ws = WsClient::connect(&bases[0], &alice.token).await;
    let mut bob_ws = WsClient::connect(&bases[1], &bob.token).await;
    alice_ws.join(&room).await;
    bob_ws.join(&room).await;

    // A `react` frame on gateway 0 is an `event` on gateway 1, chained by seq/prevSeq.
    let mut events = Vec::new();
    let answer = alice_ws
        .call(
            json!({"type": "react", "roomId": room, "messageId": second, "emoji": "🇫🇷", "add": true}),
            &mut events,
        )
        .await;
    assert_eq!(answer["type"], "ack", "{answer}");
    let seq = answer["seq"].as_u64().expect("a stored reaction has a seq");
    let live = reaction_event(&mut bob_ws).await;
    assert_eq!(live["seq"], seq, "{live}");
    assert_eq!(live["prevSeq"], second_seq, "{live}");
    assert_eq!(live["roomId"], room.as_str());
    assert_eq!(live["event"]["type"], "reaction.added");
    assert_eq!(live["event"]["actor"], alice.id.as_str());
    assert_eq!(
        live["event"]["data"],
        json!({"messageId": second, "emoji": "🇫🇷"})
    );
    // The same frame again stores nothing: an ack without seq, and no event.
    let again = alice_ws
        .call(
            json!({"type": "react", "roomId": room, "messageId": second, "emoji": "🇫🇷", "add": true}),
            &mut events,
        )
        .await;
    assert_eq!(again["type"], "ack", "{again}");
    assert!(again.get("seq").is_none_or(Value::is_null), "{again}");
    // Bad input over the socket is refused as over HTTP.
    for (emoji, code) in [("nope", "invalid_emoji"), ("👍👍", "invalid_emoji")] {
        let refused = bob_ws
            .call(
                json!({"type": "react", "roomId": room, "messageId": second, "emoji": emoji, "add": true}),
                &mut events,
            )
            .await;
        assert_eq!(
            (refused["type"].clone(), refused["code"].clone()),
            (json!("error"), json!(code))
        );
    }
    // An HTTP reaction reaches both gateways live too; so does a removal from a frame.
    react(&stack, carol, &room, &second, "🇫🇷").await;
    react(&stack, carol, &room, &first, ":wave:").await;
    react(&stack, bob, &room, &first, "👍🏽").await;
    for ws in [&mut alice_ws, &mut bob_ws] {
        let kinds: Vec<(Value, Value)> = [
            reaction_event(ws).await,
            reaction_event(ws).await,
            reaction_event(ws).await,
        ]
        .iter()
        .map(|f| {
            (
                f["event"]["data"]["emoji"].clone(),
                f["event"]["actor"].clone(),
            )
        })
        .collect();
        assert_eq!(
            kinds,
            [
                (json!("🇫🇷"), json!(carol.id)),
                (json!(":wave:"), json!(carol.id)),
                (json!("👍🏽"), json!(bob.id)),
            ]
        );
    }
    let removed = bob_ws
        .call(
            json!({"type": "react", "roomId": room, "messageId": first, "emoji": "👍🏽", "add": false}),
            &mut events,
        )
        .await;
    assert_eq!(removed["type"], "ack", "{removed}");
    let live = reaction_event(&mut alice_ws).await;
    assert_eq!(live["event"]["type"], "reaction.removed");
    react(&stack, alice, &room, &first, "1️⃣").await;

    let mut before = Vec::new();
    for user in [alice, bob, carol] {
        before.push(history(&stack, user, &room).await.expect("history"));
    }
    assert_eq!(
        before[1][1]["reactions"],
        json!([{"emoji": "🇫🇷", "count": 2, "me": false}])
    );
    assert_eq!(
        before[2][0]["reactions"],
        json!([{"emoji": ":wave:", "count": 1, "me": true},
               {"emoji": "1️⃣", "count": 1, "me": false}])
    );
    drop((alice_ws, bob_ws));

    // Every process goes down, hard; the room read models go with their checkpoints.
    stack.kill_everything();
    let db = connect_db(&stack.database_url)
        .await
        .expect("Postgres is back");
    db.batch_execute(
        "DELETE FROM reactions; DELETE FROM messages; DELETE FROM room_members; \
         DELETE FROM member_changes; DELETE FROM direct_rooms; DELETE FROM rooms; \
         DELETE FROM projector_checkpoints WHERE stream = 'CHAT_ROOMS' OR stream LIKE 'CHAT_ROOMS/%'",
    )
    .await
    .unwrap();
    stack.api.start().await;
    stack.projector.start().await;
    for gateway in &mut stack.gateways {
        gateway.start().await;
    }
    for (user, want) in [alice, bob, carol].into_iter().zip(&before) {
        wait_for_history(&stack, user, &room, want).await;
    }

    // And it goes on: the rebuilt state knows carol's 🇫🇷 (a repeat stores nothing) and
    // her taking it back is live on a restarted gateway.
    let again = react(&stack, carol, &room, &second, "🇫🇷").await;
    assert_eq!(again["seq"], Value::Null, "{again}");
    let bases = stack.gateway_bases();
    let mut bob_ws = WsClient::connect(&bases[1], &bob.token).await;
    bob_ws.join(&room).await;
    let (status, body) = stack
        .api_request(
            Method::DELETE,
            &format!(
                "/rooms/{room}/messages/{second}/reactions/{}",
                percent_encode("🇫🇷")
            ),
            &carol.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["reactions"],
        json!([{"emoji": "🇫🇷", "count": 1, "me": false}])
    );
    let live = reaction_event(&mut bob_ws).await;
    assert_eq!(live["event"]["type"], "reaction.removed");
    assert_eq!(live["event"]["actor"], carol.id.as_str());
}
