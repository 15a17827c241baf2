//! Bad input gets a clear error (stable code, JSON body), never a 500, and stores nothing.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::app::{spawn_app, spawn_app_with, AppOptions, TEST_SECRET};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

#[tokio::test]
async fn missing_empty_and_wrongly_typed_fields_are_400_with_a_code() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "r"})).await;
    let t = Some(alice.token.as_str());
    let ok_send = json!({"roomId": room, "message": "m", "senderId": alice.id, "timestamp": 1_700_000_000_000i64});

    let cases: Vec<(&str, Option<&str>, Value, &str)> = vec![
        (
            "/auth/register",
            None,
            json!({"password": "long enough"}),
            "missing_field",
        ),
        (
            "/auth/register",
            None,
            json!({"username": "", "password": "long enough"}),
            "empty_field",
        ),
        (
            "/auth/register",
            None,
            json!({"username": 42, "password": "long enough"}),
            "invalid_field",
        ),
        (
            "/auth/register",
            None,
            json!({"username": "a b", "password": "long enough"}),
            "invalid_username",
        ),
        (
            "/auth/register",
            None,
            json!({"username": "shortpw", "password": "short"}),
            "invalid_password",
        ),
        (
            "/auth/login",
            None,
            json!({"username": "alice"}),
            "missing_field",
        ),
        ("/rooms", t, json!({}), "missing_field"),
        ("/rooms", t, json!({"name": ["x"]}), "invalid_field"),
        (
            "/rooms",
            t,
            json!({"name": "x", "visibility": "secret"}),
            "invalid_visibility",
        ),
        (
            "/rooms",
            t,
            json!({"name": "x", "members": "bob"}),
            "invalid_members",
        ),
        (
            "/rooms",
            t,
            json!({"name": "x", "members": ["not-a-uuid"]}),
            "invalid_user_id",
        ),
        (
            "/rooms",
            t,
            json!({"name": "esc\u{1b}[31mRED\u{1b}]0;pwned\u{7}"}),
            "invalid_name",
        ),
        (
            "/rooms",
            t,
            json!({"name": "Invoice \u{202E}fdp.exe"}),
            "invalid_name",
        ),
        (
            "/rooms",
            t,
            json!({"name": "\u{200B}\u{FEFF}"}),
            "invalid_name",
        ),
        ("/rooms", t, json!({"name": "two\nlines"}), "invalid_name"),
        ("/dms", t, json!({}), "missing_field"),
        ("/dms", t, json!({"userId": alice.id}), "invalid_user_id"),
        (
            "/sendMessage",
            t,
            without(&ok_send, "message"),
            "missing_field",
        ),
        (
            "/sendMessage",
            t,
            with(&ok_send, "message", json!("   ")),
            "empty_field",
        ),
        (
            "/sendMessage",
            t,
            with(&ok_send, "message", json!(7)),
            "invalid_field",
        ),
        (
            "/sendMessage",
            t,
            with(&ok_send, "message", json!("nul \u{0000} inside")),
            "invalid_field",
        ),
        (
            "/sendMessage",
            t,
            without(&ok_send, "roomId"),
            "missing_field",
        ),
        (
            "/sendMessage",
            t,
            without(&ok_send, "senderId"),
            "missing_field",
        ),
        (
            "/sendMessage",
            t,
            with(&ok_send, "senderId", json!("nope")),
            "invalid_user_id",
        ),
        (
            "/sendMessage",
            t,
            without(&ok_send, "timestamp"),
            "missing_field",
        ),
        (
            "/sendMessage",
            t,
            with(&ok_send, "timestamp", json!("noon")),
            "invalid_timestamp",
        ),
        (
            "/sendMessage",
            t,
            with(&ok_send, "clientMsgId", json!("has space")),
            "invalid_client_msg_id",
        ),
        (
            "/updateStatus",
            t,
            json!({"userId": alice.id}),
            "missing_field",
        ),
        (
            "/updateStatus",
            t,
            json!({"userId": alice.id, "status": "busy"}),
            "invalid_status",
        ),
        (
            "/updateStatus",
            t,
            json!({"userId": alice.id, "status": "typing"}),
            "missing_field",
        ),
    ];
    for (path, token, body, expected) in cases {
        let (status, reply) = app.post(path, token, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {reply}");
        assert_eq!(code(&reply), expected, "{path} {body}: {reply}");
        assert!(reply["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    assert_history_empty(&app, &alice, &room).await;
    let (_, rooms) = app.get("/rooms", Some(&alice.token)).await;
    assert_eq!(
        rooms["rooms"].as_array().map(Vec::len),
        Some(1),
        "no refused room was created: {rooms}"
    );
}

#[tokio::test]
async fn malformed_json_and_non_object_bodies_are_400() {
    let app = spawn_app().await;
    for raw in ["{not json", "", "[1,2]", "\"text\"", "null"] {
        let resp = app
            .http
            .post(format!("{}/auth/register", app.base))
            .header("content-type", "application/json")
            .body(raw.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "body {raw:?}");
        let body: Value = resp.json().await.unwrap();
        assert!(
            matches!(code(&body), "invalid_json" | "invalid_body"),
            "{raw:?}: {body}"
        );
    }
}

#[tokio::test]
async fn missing_malformed_expired_foreign_and_unsigned_tokens_are_401() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |exp: u64| json!({"sub": alice.id, "iat": now - 10, "exp": exp, "iss": "chat", "aud": "chat-clients"});
    let sign = |claims: &Value, secret: &str| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(now + 600))
    );
    let mut wrong_audience = claims(now + 600);
    wrong_audience["aud"] = json!("someone-else");

    let cases = [
        (None, "missing_token"),
        (Some("not-a-jwt".to_owned()), "invalid_token"),
        (Some(sign(&claims(now - 100), TEST_SECRET)), "token_expired"),
        (
            Some(sign(
                &claims(now + 600),
                "another-secret-another-secret-another",
            )),
            "invalid_token",
        ),
        (Some(unsigned), "invalid_token"),
        (Some(sign(&wrong_audience, TEST_SECRET)), "invalid_token"),
    ];
    for (token, expected) in cases {
        let (status, body) = app.get("/rooms", token.as_deref()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}: {body}");
        assert_eq!(code(&body), expected, "{token:?}");
    }
    let resp = app
        .http
        .get(format!("{}/rooms", app.base))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn acting_as_someone_else_or_in_a_room_you_are_not_in_is_403() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let mallory = app.register("mallory").await;
    let room = app.create_room(&alice, json!({"name": "r"})).await;

    let (status, body) = app
        .post(
            "/sendMessage",
            Some(&mallory.token),
            json!({"roomId": room, "message": "x", "senderId": alice.id, "timestamp": 0}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "sender_mismatch")
    );
    let (status, body) = app
        .post(
            "/updateStatus",
            Some(&mallory.token),
            json!({"userId": alice.id, "status": "offline"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "user_mismatch")
    );
    let (status, body) = app.send_raw(&mallory, &room, "let me in", None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "not_a_member")
    );
    let (status, body) = app.messages(&mallory, &room, "").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "not_a_member")
    );
    let (status, body) = app
        .post(
            "/updateStatus",
            Some(&mallory.token),
            json!({"userId": mallory.id, "status": "typing", "roomId": room}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "not_a_member")
    );
    let (status, body) = app.messages(&alice, "no-such-room", "").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "room_not_found")
    );
    assert_history_empty(&app, &alice, &room).await;
}

#[tokio::test]
async fn bodies_over_the_limit_and_overlong_messages_are_413() {
    let app = spawn_app_with(AppOptions {
        max_body_bytes: 2048,
        ..Default::default()
    })
    .await;
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "r"})).await;
    let (status, body) = app.send_raw(&alice, &room, &"x".repeat(3000), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
    );

    let big = spawn_app().await;
    let bob = big.register("bob").await;
    let room = big.create_room(&bob, json!({"name": "r"})).await;
    let (status, body) = big.send_raw(&bob, &room, &"y".repeat(4001), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "message_too_large")
    );
    let (status, _) = big.send_raw(&bob, &room, &"y".repeat(4000), None).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn room_ids_that_could_alter_a_subject_are_400_and_never_reach_nats() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let nats = async_nats::connect(app.nats.url()).await.unwrap();
    let mut everything = nats.subscribe(">").await.unwrap();
    nats.flush().await.unwrap();

    for bad in ["a.b", "room*", "room>", "with space", ">", "*"] {
        let (status, body) = app.send_raw(&alice, bad, "x", None).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_room_id"),
            "{bad:?}"
        );
        let encoded: String = bad
            .replace(' ', "%20")
            .replace('>', "%3E")
            .replace('*', "%2A");
        let (status, body) = app.messages(&alice, &encoded, "").await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_room_id"),
            "{bad:?}"
        );
        let (status, body) = app
            .post(
                &format!("/rooms/{encoded}/join"),
                Some(&alice.token),
                json!({}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_room_id"),
            "{bad:?}"
        );
    }
    // Nothing about a chat subject was published while the bad requests were handled
    // (the gateway's own heartbeat, `chat.gateway.<id>` every few seconds, is not).
    let seen = tokio::time::timeout(std::time::Duration::from_millis(300), async {
        loop {
            let msg = futures::StreamExt::next(&mut everything).await.unwrap();
            let chat = msg.subject.starts_with("chat.") || msg.subject.starts_with("live.");
            if chat && !msg.subject.contains(".gateway.") {
                return msg.subject.to_string();
            }
        }
    })
    .await;
    assert!(seen.is_err(), "a chat subject was published: {seen:?}");
}

#[tokio::test]
async fn sql_and_html_looking_text_is_stored_and_returned_verbatim() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app
        .create_room(&alice, json!({"name": "<script>alert(1)</script>"}))
        .await;
    let texts = [
        "'; DROP TABLE messages; --",
        "<img src=x onerror=alert(1)>",
        "Robert'); DELETE FROM accounts WHERE ('1'='1",
        "emoji 🎉 and unicode: ünïcödé",
    ];
    let mut last = json!(null);
    for t in texts {
        last = app.send(&alice, &room, t).await;
    }
    let (_, page) = app
        .messages(&alice, &room, &format!("&minSeq={}", last["seq"]))
        .await;
    let got: Vec<_> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"].as_str().unwrap())
        .collect();
    assert_eq!(got, texts);
    let (_, rooms) = app.get("/rooms", Some(&alice.token)).await;
    assert_eq!(rooms["rooms"][0]["name"], "<script>alert(1)</script>");
}

#[tokio::test]
async fn out_of_range_or_malformed_query_parameters_are_400() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "r"})).await;
    for extra in [
        "&limit=0",
        "&limit=501",
        "&limit=-1",
        "&limit=ten",
        "&beforeSeq=x",
        "&afterSeq=-5",
        "&minSeq=1.5",
        "&since=yesterday",
    ] {
        let (status, body) = app.messages(&alice, &room, extra).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_parameter"),
            "{extra}: {body}"
        );
    }
    let (status, body) = app.get("/getMessages", Some(&alice.token)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "missing_field")
    );
    let (status, body) = app.get("/getStatus?userId=nope", Some(&alice.token)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_user_id")
    );
    let (status, body) = app.get("/no/such/route", Some(&alice.token)).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut v = base.clone();
    v[key] = value;
    v
}

fn without(base: &Value, key: &str) -> Value {
    let mut v = base.clone();
    v.as_object_mut().unwrap().remove(key);
    v
}

async fn assert_history_empty(app: &crate::app::TestApp, user: &crate::app::User, room: &str) {
    let (status, page) = app.messages(user, room, "").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        page["messages"],
        json!([]),
        "a refused request left a message behind"
    );
}

/// Client times Postgres cannot hold are refused at the door, a `minSeq` beyond the
/// stream's end is refused at once, and an out-of-range time already in the event log
/// (stored before the check existed) does not stop the projection.
#[tokio::test]
async fn out_of_range_client_times_are_400_and_a_stored_one_does_not_stop_history() {
    use chat_core::eventlog::{subjects, EventLog, NatsConfig, PublishOptions, StreamSettings};
    use chat_schemas::events::{Envelope, EventBody};
    use chat_schemas::{MessageId, RoomId, UserId};

    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "r"})).await;
    for timestamp in [
        json!("9999-12-31T23:59:59-01:00"),
        json!(-62_167_219_200_001i64),
    ] {
        let body =
            json!({"roomId": room, "message": "m", "senderId": alice.id, "timestamp": timestamp});
        let (status, reply) = app.post("/sendMessage", Some(&alice.token), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{timestamp}: {reply}");
        assert_eq!(reply["error"]["code"], "invalid_timestamp", "{reply}");
    }
    let (status, reply) = app.messages(&alice, &room, "&minSeq=9000000000000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(reply["error"]["code"], "invalid_parameter", "{reply}");

    // Year 10000 in UTC, straight into the event log as an old gateway might have stored it.
    let log = EventLog::connect(
        &NatsConfig {
            url: app.nats.url(),
            ack_timeout: std::time::Duration::from_secs(5),
            streams: StreamSettings::default(),
        },
        "bad-input-test",
    )
    .await
    .unwrap();
    let room_id = RoomId::parse(&room).unwrap();
    let odd = Envelope::room(
        UserId::parse(&alice.id).unwrap(),
        room_id.clone(),
        EventBody::MessagePosted {
            message_id: MessageId::generate(),
            message: "from far in the future".into(),
            client_timestamp: Some(time::macros::datetime!(9999-12-31 23:59:59 -1)),
            client_msg_id: None,
        },
    );
    log.publish(subjects::room(&room_id), &odd, PublishOptions::default())
        .await
        .unwrap();
    let after = app.send(&alice, &room, "after it").await;
    let (status, history) = app
        .messages(&alice, &room, &format!("&minSeq={}", after["seq"]))
        .await;
    assert_eq!(status, StatusCode::OK, "history moves on: {history}");
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["from far in the future", "after it"]);
    assert_eq!(history["messages"][0]["clientTimestamp"], Value::Null);
}
