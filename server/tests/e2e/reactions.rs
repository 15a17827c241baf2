//! Reactions over HTTP on the real server: members react and take back, history gives
//! each message `reactions: [{emoji, count, me}]` with `me` per caller; one reaction per
//! user per emoji; at most 50 distinct emoji per message; only members react; and bad
//! input (not an emoji, a 5 KB string) is refused with nothing stored.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::app::{spawn_app, TestApp, User};
use chat_testkit::WsClient;

/// `POST /rooms/{room}/messages/{message}/reactions {emoji}`.
pub async fn react(
    app: &TestApp,
    user: &User,
    room: &str,
    message: &str,
    emoji: Value,
) -> (StatusCode, Value) {
    app.post(
        &format!("/rooms/{room}/messages/{message}/reactions"),
        Some(&user.token),
        json!({ "emoji": emoji }),
    )
    .await
}

/// `DELETE /rooms/{room}/messages/{message}/reactions/{emoji}` (the client percent-encodes).
pub async fn unreact(
    app: &TestApp,
    user: &User,
    room: &str,
    message: &str,
    emoji: &str,
) -> (StatusCode, Value) {
    let path = format!(
        "/rooms/{room}/messages/{message}/reactions/{}",
        percent_encode(emoji)
    );
    app.request(Method::DELETE, &path, Some(&user.token), None)
        .await
}

pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `reactions` of `message` in `user`'s history of `room`.
pub async fn history_reactions(app: &TestApp, user: &User, room: &str, message: &str) -> Value {
    let (status, body) = app.messages(user, room, "&limit=500").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["messageId"] == message)
        .unwrap_or_else(|| panic!("{message} not in {body}"))["reactions"]
        .clone()
}

async fn room_stream_last(app: &TestApp) -> u64 {
    let nats = async_nats::connect(app.nats.url()).await.expect("NATS");
    let mut stream = async_nats::jetstream::new(nats)
        .get_stream("CHAT_ROOMS")
        .await
        .expect("the room stream");
    stream.info().await.unwrap().state.last_sequence
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_react_once_per_emoji_and_history_shows_counts_with_me_per_caller() {
    let app = spawn_app().await;
    let users = app.insert_users("reactor", 3).await;
    let (alice, bob, carol) = (&users[0], &users[1], &users[2]);
    let room = app
        .create_room(
            alice,
            json!({"name": "r", "visibility": "private", "members": [bob.id, carol.id]}),
        )
        .await;
    let sent = app.send(alice, &room, "hello").await;
    let message = sent["messageId"].as_str().unwrap();

    let (status, body) = react(&app, alice, &room, message, json!("👍")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["seq"].as_u64().unwrap() > sent["seq"].as_u64().unwrap());
    assert_eq!(
        body["reactions"],
        json!([{"emoji": "👍", "count": 1, "me": true}])
    );
    // A ZWJ sequence with a skin tone, and a :name:.
    for (user, emoji) in [(bob, "👍"), (bob, "🧑🏿‍🚀"), (carol, ":tada:")] {
        let (status, body) = react(&app, user, &room, message, json!(emoji)).await;
        assert_eq!(status, StatusCode::OK, "{emoji}: {body}");
    }
    // The same reaction again stores nothing and counts once.
    let before = room_stream_last(&app).await;
    let (status, body) = react(&app, bob, &room, message, json!("👍")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["seq"], Value::Null);
    assert_eq!(
        room_stream_last(&app).await,
        before,
        "a repeat stores no event"
    );

    assert_eq!(
        history_reactions(&app, alice, &room, message).await,
        json!([{"emoji": "👍", "count": 2, "me": true},
               {"emoji": "🧑🏿‍🚀", "count": 1, "me": false},
               {"emoji": ":tada:", "count": 1, "me": false}])
    );
    assert_eq!(
        history_reactions(&app, carol, &room, message).await,
        json!([{"emoji": "👍", "count": 2, "me": false},
               {"emoji": "🧑🏿‍🚀", "count": 1, "me": false},
               {"emoji": ":tada:", "count": 1, "me": true}])
    );

    // Taking back: the emoji goes when nobody has it any more; taking back twice is a no-op.
    let (status, body) = unreact(&app, bob, &room, message, "🧑🏿‍🚀").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["seq"].is_u64());
    let (status, body) = unreact(&app, bob, &room, message, "🧑🏿‍🚀").await;
    assert_eq!(
        (status, &body["seq"]),
        (StatusCode::OK, &Value::Null),
        "{body}"
    );
    let (status, _) = unreact(&app, alice, &room, message, "👍").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        history_reactions(&app, bob, &room, message).await,
        json!([{"emoji": "👍", "count": 1, "me": true},
               {"emoji": ":tada:", "count": 1, "me": false}])
    );
    // A message nobody reacted to has an empty list.
    let other = app.send(bob, &room, "plain").await;
    app.wait_for_messages(alice, &room, 2).await;
    assert_eq!(
        history_reactions(&app, alice, &room, other["messageId"].as_str().unwrap()).await,
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_51st_distinct_emoji_is_refused_but_an_existing_one_still_counts() {
    let app = spawn_app().await;
    let users = app.insert_users("capper", 2).await;
    let (alice, bob) = (&users[0], &users[1]);
    let room = app
        .create_room(
            alice,
            json!({"name": "r", "visibility": "private", "members": [bob.id]}),
        )
        .await;
    let sent = app.send(alice, &room, "react to me").await;
    let message = sent["messageId"].as_str().unwrap();
    for i in 1..=50 {
        let user = if i % 2 == 0 { alice } else { bob };
        let (status, body) = react(&app, user, &room, message, json!(format!(":e{i}:"))).await;
        assert_eq!(status, StatusCode::OK, "{i}: {body}");
    }
    let before = room_stream_last(&app).await;
    for user in [alice, bob] {
        let (status, body) = react(&app, user, &room, message, json!("🎉")).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["code"], "too_many_reactions", "{body}");
    }
    assert_eq!(room_stream_last(&app).await, before, "nothing stored");
    // One of the 50, given by another user, still counts.
    let (status, body) = react(&app, alice, &room, message, json!(":e1:")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let shown = history_reactions(&app, bob, &room, message).await;
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), 50);
    assert_eq!(shown[0], json!({"emoji": ":e1:", "count": 2, "me": true}));
    // Once one is taken back by everyone, a new one fits again.
    let (status, _) = unreact(&app, alice, &room, message, ":e2:").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = react(&app, bob, &room, message, json!("🎉")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_emoji_and_outsiders_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let users = app.insert_users("guard", 4).await;
    let (alice, bob, mallory, mallory2) = (&users[0], &users[1], &users[2], &users[3]);
    let room = app
        .create_room(
            alice,
            json!({"name": "r", "visibility": "private", "members": [bob.id]}),
        )
        .await;
    let public = app
        .create_room(alice, json!({"name": "open", "visibility": "public"}))
        .await;
    let sent = app.send(alice, &room, "secret").await;
    let message = sent["messageId"].as_str().unwrap();
    let open_msg = app.send(alice, &public, "hi all").await;
    let open_msg = open_msg["messageId"].as_str().unwrap();
    let before = room_stream_last(&app).await;

    let five_kb = "x".repeat(5 * 1024);
    let five_kb_emoji = "👍".repeat(1280);
    for (emoji, code) in [
        (json!("a"), "invalid_emoji"),
        (json!("not an emoji"), "invalid_emoji"),
        (json!("👍👍"), "invalid_emoji"),
        (json!("<script>"), "invalid_emoji"),
        (json!(":Not_Lower:"), "invalid_emoji"),
        (json!(five_kb), "invalid_emoji"),
        (json!(five_kb_emoji), "invalid_emoji"),
        (json!(7), "invalid_field"),
        (json!(null), "missing_field"),
        (json!(""), "empty_field"),
    ] {
        let (status, body) = react(&app, bob, &room, message, emoji.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{emoji}: {body}");
        assert_eq!(body["error"]["code"], code, "{emoji}: {body}");
    }
    let (status, body) = unreact(&app, bob, &room, message, "nope").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_emoji"))
    );
    let (status, body) = react(&app, bob, &room, "not-a-uuid", json!("👍")).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_message_id"))
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    let (status, body) = react(&app, bob, &room, &unknown, json!("👍")).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("message_not_found"))
    );
    // A message of another room, named through this one.
    let (status, body) = react(&app, bob, &room, open_msg, json!("👍")).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("message_not_found"))
    );

    // Two free accounts outside the room can neither react nor take back.
    for user in [mallory, mallory2] {
        let (status, body) = react(&app, user, &room, message, json!("👍")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"]["code"], "not_a_member");
        let (status, _) = unreact(&app, user, &room, message, "👍").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Nor in a public room they have not joined.
        let (status, _) = react(&app, user, &public, open_msg, json!("👍")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = app
        .post(
            &format!("/rooms/{room}/messages/{message}/reactions"),
            None,
            json!({"emoji": "👍"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        room_stream_last(&app).await,
        before,
        "no refused reaction was stored"
    );

    // A deleted message takes no reactions, and history shows none on it.
    let (status, _) = react(&app, bob, &room, message, json!("👍")).await;
    assert_eq!(status, StatusCode::OK);
    let mut ws = WsClient::connect(&app.base, &alice.token).await;
    let mut events = Vec::new();
    let answer = ws
        .call(
            json!({"type": "delete", "roomId": room, "messageId": message}),
            &mut events,
        )
        .await;
    assert_eq!(answer["type"], "ack", "{answer}");
    let (status, body) = react(&app, bob, &room, message, json!("❤️")).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("message_deleted")),
        "{body}"
    );
    assert_eq!(
        history_reactions(&app, alice, &room, message).await,
        json!([])
    );
}
