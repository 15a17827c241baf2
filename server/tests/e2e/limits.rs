//! Flood protection and token lifetime: writes and logins are rate limited per user and
//! per username (429 with Retry-After), WebSocket frames per user across their connections
//! (`rate_limited`, then 4029 for a connection that keeps flooding), and a connection whose token expires is
//! closed with 4003 unless the client sent a fresh token.

use futures::SinkExt;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

use crate::app::{spawn_app, spawn_app_with, AppOptions, TEST_SECRET};
use chat_testkit::{Ended, GatewayProcess, WsClient};

fn token_for(user: &str, lifetime_secs: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"sub": user, "iat": now, "exp": now + lifetime_secs, "iss": "chat", "aud": "chat-clients"});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn a_flooding_sender_gets_429_while_others_are_unaffected() {
    // The production default: 20 writes a second, 40 at once.
    let app = spawn_app_with(AppOptions {
        write_rate: chat_api::ApiConfig::default().write_rate,
        ..Default::default()
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "r", "members": [bob.id]}))
        .await;
    let (mut accepted, mut limited) = (0, 0);
    for i in 0..80 {
        let (status, body) = app.send_raw(&alice, &room, &format!("m{i}"), None).await;
        match status {
            StatusCode::CREATED => accepted += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["error"]["code"], "rate_limited");
                assert!(body["error"]["retryAfter"].as_u64().unwrap() >= 1);
                limited += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(accepted >= 40, "the burst is allowed ({accepted})");
    assert!(limited > 0, "a flood is refused");
    let resp = app
        .http
        .post(format!("{}/sendMessage", app.base))
        .bearer_auth(&alice.token)
        .json(&json!({"roomId": room, "message": "x", "senderId": alice.id, "timestamp": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().get("retry-after").is_some());
    // Another user is not slowed by alice's flood.
    let (status, _) = app.send_raw(&bob, &room, "still fine", None).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn repeated_login_attempts_for_one_name_are_slowed() {
    let app = spawn_app().await;
    app.register("alice").await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let (status, _) = app
            .post(
                "/auth/login",
                None,
                json!({"username": "alice", "password": "guess-guess"}),
            )
            .await;
        statuses.push(status);
    }
    assert!(
        statuses[..10]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(statuses[11], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    // Other names are not affected.
    let (status, _) = app
        .post(
            "/auth/login",
            None,
            json!({"username": "bob", "password": "whatever1"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_connection_is_told_to_wait_then_closed_while_others_stay() {
    let app = spawn_app().await;
    let gw = GatewayProcess::start(
        &app,
        &[
            ("GATEWAY_RATE_PER_SEC", "1"),
            ("GATEWAY_RATE_BURST", "5"),
            ("GATEWAY_FLOOD_CLOSE_AFTER", "30"),
        ],
    )
    .await;
    let alice = app.register("alice").await;
    let mut calm = WsClient::connect(&gw.base, &alice.token).await;
    let mut flood = WsClient::connect(&gw.base, &alice.token).await;
    for i in 0..10 {
        flood
            .send_json(json!({"type": "ping", "id": format!("p{i}")}))
            .await;
    }
    let mut pongs = 0;
    let mut limited = 0;
    for _ in 0..10 {
        let f = flood.next_frame().await;
        match f["type"].as_str() {
            Some("pong") => pongs += 1,
            Some("error") => {
                assert_eq!(f["code"], "rate_limited", "{f}");
                assert!(f["retryAfterMs"].as_u64().unwrap() > 0);
                assert!(f["id"].is_string(), "the refused frame's id is echoed: {f}");
                limited += 1;
            }
            _ => panic!("{f}"),
        }
    }
    assert_eq!((pongs, limited), (5, 5));
    for i in 0..40 {
        let _ = flood
            .socket
            .send(Message::text(
                json!({"type": "ping", "id": format!("q{i}")}).to_string(),
            ))
            .await;
    }
    assert_eq!(flood.until_closed().await, Ended::Closed(Some(4029)));
    // Another user is unaffected.
    let bob = app.register("bob").await;
    let mut other = WsClient::connect(&gw.base, &bob.token).await;
    let pong = other.call(json!({"type": "ping"}), &mut Vec::new()).await;
    assert_eq!(pong["type"], "pong", "another user is unaffected");
    // Her other connection shares her allowance: it stays open and is served once the
    // allowance has refilled as far as the server says.
    let mut answer = calm.call(json!({"type": "ping"}), &mut Vec::new()).await;
    for _ in 0..10 {
        if answer["code"] != "rate_limited" {
            break;
        }
        let wait = answer["retryAfterMs"].as_u64().unwrap();
        tokio::time::sleep(Duration::from_millis(wait)).await;
        answer = calm.call(json!({"type": "ping"}), &mut Vec::new()).await;
    }
    assert_eq!(
        answer["type"], "pong",
        "another connection is paced, not closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_ends_when_its_token_expires_unless_renewed_in_band() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let mut lapsing = WsClient::connect(&app.base, &token_for(&alice.id, 2)).await;
    let mut renewed = WsClient::connect(&app.base, &token_for(&alice.id, 2)).await;
    let ack = renewed
        .call(
            json!({"type": "auth", "token": token_for(&alice.id, 3600)}),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let wrong = renewed
        .call(
            json!({"type": "auth", "token": token_for(&uuid::Uuid::now_v7().to_string(), 3600)}),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(wrong["code"], "wrong_user");

    let expired = lapsing
        .frame_within(Duration::from_secs(6))
        .await
        .expect("an error frame");
    assert_eq!(expired["code"], "token_expired", "{expired}");
    assert_eq!(lapsing.until_closed().await, Ended::Closed(Some(4003)));
    let pong = renewed.call(json!({"type": "ping"}), &mut Vec::new()).await;
    assert_eq!(
        pong["type"], "pong",
        "the renewed connection outlived its first token"
    );
}
