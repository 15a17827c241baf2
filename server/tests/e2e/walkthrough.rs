//! The path a new user takes (the README's curl walk-through): accounts, rooms, messages,
//! status, direct messages.

use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

use crate::app::spawn_app;

#[tokio::test]
async fn two_users_chat_in_a_room_and_history_comes_back_in_order() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.create_room(&alice, json!({"name": "general"})).await;
    app.join(&bob, &room).await;

    let first = app.send(&alice, &room, "hi bob").await;
    app.send(&bob, &room, "hello alice").await;
    let last = app.send(&alice, &room, "how are you?").await;
    assert!(first["seq"].as_u64() < last["seq"].as_u64());
    for field in ["messageId", "roomId", "seq", "timestamp"] {
        assert!(
            !first[field].is_null(),
            "sendMessage answer lacks {field}: {first}"
        );
    }

    let (status, page) = app
        .messages(&bob, &room, &format!("&minSeq={}", last["seq"]))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let messages = page["messages"].as_array().unwrap();
    let texts: Vec<_> = messages
        .iter()
        .map(|m| m["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["hi bob", "hello alice", "how are you?"]);
    let seqs: Vec<_> = messages
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "not in room order: {seqs:?}"
    );
    let m = &messages[0];
    assert_eq!(m["messageId"], first["messageId"]);
    assert_eq!(m["roomId"], room.as_str());
    assert_eq!(m["senderId"], alice.id.as_str());
    assert_eq!(m["timestamp"], first["timestamp"]);
    assert_eq!(m["clientTimestamp"], "2026-11-21T10:00:00Z");
    assert!(page["projectedSeq"].as_i64().unwrap() >= last["seq"].as_i64().unwrap());
}

#[tokio::test]
async fn history_pages_by_limit_and_cursors() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "paging"})).await;
    let mut seqs = Vec::new();
    for i in 0..6 {
        seqs.push(
            app.send(&alice, &room, &format!("m{i}")).await["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    app.wait_for_messages(&alice, &room, 6).await;
    let texts = |v: &serde_json::Value| -> Vec<String> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["message"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, recent) = app.messages(&alice, &room, "&limit=2").await;
    assert_eq!(texts(&recent), ["m4", "m5"]);
    let (_, before) = app
        .messages(&alice, &room, &format!("&limit=2&beforeSeq={}", seqs[4]))
        .await;
    assert_eq!(texts(&before), ["m2", "m3"]);
    let (_, after) = app
        .messages(&alice, &room, &format!("&limit=2&afterSeq={}", seqs[1]))
        .await;
    assert_eq!(texts(&after), ["m2", "m3"]);
    let (_, since) = app
        .messages(&alice, &room, "&since=2000-01-01T00:00:00Z&limit=1")
        .await;
    assert_eq!(texts(&since), ["m0"]);
}

#[tokio::test]
async fn a_message_is_readable_within_a_second_of_its_ack_without_min_seq() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "fast"})).await;
    let sent = app.send(&alice, &room, "quick").await;
    let acked = Instant::now();
    loop {
        let (_, page) = app.messages(&alice, &room, "").await;
        if page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["messageId"] == sent["messageId"])
        {
            break;
        }
        assert!(
            acked.elapsed() < Duration::from_secs(1),
            "not in history a second after its ack"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn accounts_register_once_and_log_in_with_the_right_password_only() {
    let app = spawn_app().await;
    let alice = app.register("Alice").await;
    let (status, body) = app
        .post(
            "/auth/register",
            None,
            json!({"username": "alice", "password": "another one"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("username_taken"))
    );

    let (status, body) = app
        .post(
            "/auth/login",
            None,
            json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["userId"], alice.id.as_str());
    let (status, _) = app
        .get("/rooms", Some(body["token"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK);

    for (user, pass) in [("alice", "wrong password"), ("nobody", "correct horse")] {
        let (status, body) = app
            .post(
                "/auth/login",
                None,
                json!({"username": user, "password": pass}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"]["code"], "invalid_credentials");
    }
}

#[tokio::test]
async fn status_round_trips_and_typing_is_shown_to_room_members() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app
        .create_room(&alice, json!({"name": "s", "members": [bob.id]}))
        .await;

    let (status, body) = app
        .get(&format!("/getStatus?userId={}", alice.id), Some(&bob.token))
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("offline"))
    );
    assert!(body["lastSeen"].is_null());

    let (status, body) = app
        .post(
            "/updateStatus",
            Some(&alice.token),
            json!({"userId": alice.id, "status": "away"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"userId": alice.id, "status": "away"}));
    let (_, body) = app
        .get(&format!("/getStatus?userId={}", alice.id), Some(&bob.token))
        .await;
    assert_eq!(body["status"], "away");
    assert!(body["lastSeen"].is_string());

    app.post(
        "/updateStatus",
        Some(&alice.token),
        json!({"userId": alice.id, "status": "typing", "roomId": room}),
    )
    .await;
    let (_, body) = app
        .get(&format!("/getStatus?userId={}", alice.id), Some(&bob.token))
        .await;
    assert_eq!(
        (body["status"].as_str(), body["typingIn"].as_str()),
        (Some("typing"), Some(room.as_str()))
    );
    // Someone outside the room does not learn where alice is typing.
    let (_, body) = app
        .get(
            &format!("/getStatus?userId={}", alice.id),
            Some(&carol.token),
        )
        .await;
    assert_eq!(body["status"], "away");
    assert!(body.get("typingIn").is_none());

    // Sending a message ends typing.
    let sent = app.send(&alice, &room, "done typing").await;
    app.messages(&bob, &room, &format!("&minSeq={}", sent["seq"]))
        .await;
    let (_, body) = app
        .get(&format!("/getStatus?userId={}", alice.id), Some(&bob.token))
        .await;
    assert_eq!(body["status"], "away");
}

#[tokio::test]
async fn a_direct_room_is_created_once_and_only_its_two_users_may_use_it() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;

    let (status, first) = app
        .post("/dms", Some(&alice.token), json!({"userId": bob.id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = app
        .post("/dms", Some(&bob.token), json!({"userId": alice.id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(first["roomId"], again["roomId"]);
    let room = first["roomId"].as_str().unwrap();

    app.send(&alice, room, "psst").await;
    let sent = app.send(&bob, room, "yes?").await;
    let (_, page) = app
        .messages(&alice, room, &format!("&minSeq={}", sent["seq"]))
        .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2);

    // To anyone else a direct room is a room that does not exist.
    let (status, body) = app.messages(&carol, room, "").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("room_not_found"))
    );
    let (status, _) = app
        .post(
            &format!("/rooms/{room}/join"),
            Some(&carol.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rooms_list_the_callers_rooms_and_private_rooms_admit_only_invited_users() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let public = app.create_room(&alice, json!({"name": "lobby"})).await;
    let private = app
        .create_room(
            &alice,
            json!({"name": "secret", "visibility": "private", "members": [bob.id]}),
        )
        .await;

    // Bob was added at creation: he may send at once, without joining.
    app.send(&bob, &private, "thanks for the invite").await;
    let (status, body) = app
        .post(
            &format!("/rooms/{private}/join"),
            Some(&carol.token),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("room_private"))
    );

    let (_, list) = app.get("/rooms", Some(&bob.token)).await;
    let ids: Vec<_> = list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["roomId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [private.as_str()]);
    app.join(&bob, &public).await;
    let (_, list) = app.get("/rooms", Some(&bob.token)).await;
    assert_eq!(list["rooms"].as_array().unwrap().len(), 2);

    let (status, _) = app
        .post(
            &format!("/rooms/{public}/leave"),
            Some(&bob.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.send_raw(&bob, &public, "gone?", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_direct_room_cannot_be_left_and_the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (_, dm) = app
        .post("/dms", Some(&alice.token), json!({"userId": bob.id}))
        .await;
    let room = dm["roomId"].as_str().unwrap();
    let (status, body) = app
        .post(
            &format!("/rooms/{room}/leave"),
            Some(&alice.token),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("direct_room"))
    );
    let resp = app
        .http
        .get(format!("{}/rooms", app.base))
        .header("authorization", format!("bearer {}", alice.token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}
