//! What a reconnect storm costs, and that the shortcuts taken for it stay safe: a resume of
//! a short gap reads the room by direct gets only (no consumer, no JetStream API request),
//! each event once; a reconnect is checked from the gateway's session cache without
//! Postgres, yet a revocation is refused (or its racing socket closed) as soon as its
//! notice is heard, and within the documented bound (`GATEWAY_SESSION_RECHECK_MS`) when
//! it was missed.

use futures::StreamExt;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::app::{spawn_app_with, AppOptions, TestApp, User};
use chat_testkit::{Ended, WsClient};

fn with_recheck(period: Duration) -> AppOptions {
    AppOptions {
        gateway: chat_gateway::GatewayConfig {
            session_recheck: period,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Raises `user`'s token generation in Postgres without telling anyone: a logout whose
/// notice every gateway missed.
async fn revoke_silently(app: &TestApp, user: &User) {
    let raised = app
        .count(&format!(
            "WITH u AS (UPDATE accounts SET token_generation = token_generation + 1 \
             WHERE user_id = '{}' RETURNING 1) SELECT count(*) FROM u",
            user.id
        ))
        .await;
    assert_eq!(raised, 1);
}

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

/// Connects, expecting the handshake to be refused as a revoked token is.
async fn refused(app: &TestApp, token: &str) {
    let answer = WsClient::try_connect(&app.base, Some(token), &[]).await;
    let (status, body) = answer.err().expect("the revoked token is refused");
    assert_eq!(
        (status, code(&body)),
        (401, Some("invalid_token")),
        "{body}"
    );
}

/// The JetStream API requests (subject, payload) made while it runs, by anyone.
struct ApiRequests {
    seen: Arc<Mutex<Vec<(String, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ApiRequests {
    async fn watch(app: &TestApp) -> Self {
        let nats = async_nats::connect(app.nats.url()).await.unwrap();
        let mut requests = nats.subscribe("$JS.API.>").await.unwrap();
        nats.flush().await.unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let task = tokio::spawn(async move {
            let _nats = nats;
            while let Some(request) = requests.next().await {
                let payload = String::from_utf8_lossy(&request.payload).into_owned();
                into.lock()
                    .unwrap()
                    .push((request.subject.to_string(), payload));
            }
        });
        Self { seen, task }
    }

    fn stop(self) -> Vec<(String, String)> {
        self.task.abort();
        self.seen.lock().unwrap().clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_gap_is_resumed_by_direct_gets_alone_each_event_read_once() {
    let app = spawn_app_with(AppOptions::default()).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "storm", "members": [bob.id]}))
        .await;
    let mut b = WsClient::connect(&app.base, &bob.token).await;
    b.join(&room).await;
    let seen = app.send(&alice, &room, "seen").await["seq"]
        .as_u64()
        .unwrap();
    assert_eq!(b.events(1).await[0]["seq"].as_u64(), Some(seen));
    b.close().await;
    let mut missed = Vec::new();
    for i in 0..5 {
        missed.push(
            app.send(&alice, &room, &format!("m{i}")).await["seq"]
                .as_u64()
                .unwrap(),
        );
    }
    // The room's subscription on the gateway (and its catch-up reads) are over.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let mut b = WsClient::connect(&app.base, &bob.token).await;
    let watch = ApiRequests::watch(&app).await;
    let id = b
        .request(json!({"type": "resume", "rooms": [{"roomId": room, "lastSeq": seen}]}))
        .await;
    let mut replayed = Vec::new();
    let result = b.answer(&id, &mut replayed).await;
    let requests = watch.stop();
    assert_eq!(result["type"], "resumed", "{result}");
    assert_eq!(result["recovered"], true, "{result}");
    let seqs: Vec<u64> = replayed.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert_eq!(seqs, missed, "exactly the missed events, in order, once");
    let mut prev = seen;
    for event in &replayed {
        assert_eq!(event["prevSeq"].as_u64(), Some(prev), "{event}");
        prev = event["seq"].as_u64().unwrap();
    }

    let on_rooms: Vec<&(String, String)> = requests
        .iter()
        .filter(|(subject, _)| subject.ends_with(".CHAT_ROOMS") || subject.contains(".CHAT_ROOMS."))
        .collect();
    let not_direct: Vec<_> = on_rooms
        .iter()
        .filter(|(subject, _)| !subject.starts_with("$JS.API.DIRECT.GET."))
        .collect();
    assert!(
        not_direct.is_empty(),
        "no consumer and no other JetStream API request: {not_direct:?}"
    );
    let reads = on_rooms
        .iter()
        .filter(|(_, payload)| payload.contains("next_by_subj"))
        .count();
    assert_eq!(
        reads,
        missed.len(),
        "each missed event read once: {on_rooms:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_is_checked_from_the_cache_and_a_missed_revocation_is_caught_within_the_bound()
{
    const BOUND: Duration = Duration::from_secs(3);
    let app = spawn_app_with(with_recheck(BOUND)).await;
    let alice = app.register("alice").await;
    let read_at = Instant::now();
    WsClient::connect(&app.base, &alice.token)
        .await
        .close()
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Postgres now says the token is dead, but nobody was told: the reconnect is answered
    // from the state read at the first connect, without asking Postgres.
    revoke_silently(&app, &alice).await;
    let mut again = WsClient::try_connect(&app.base, Some(&alice.token), &[])
        .await
        .expect("a reconnect within the bound is answered from the cache");
    assert!(
        read_at.elapsed() < BOUND,
        "the test was too slow to show it"
    );
    // The re-check closes that socket within its period...
    let ended = tokio::time::timeout(BOUND * 2 + Duration::from_secs(3), again.until_closed())
        .await
        .expect("closed by the re-check");
    assert_eq!(ended, Ended::Closed(Some(4004)));
    // ... and past the bound the token is refused (the state is read again, or was by the
    // re-check).
    tokio::time::sleep(BOUND.saturating_sub(read_at.elapsed())).await;
    refused(&app, &alice.token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_whose_notice_was_heard_is_refused_at_once_and_a_new_login_connects() {
    // A bound far longer than the test: only the notice can end the cached session.
    let app = spawn_app_with(with_recheck(Duration::from_secs(3_600))).await;
    let alice = app.register("alice").await;
    WsClient::connect(&app.base, &alice.token)
        .await
        .close()
        .await;
    let (status, body) = app
        .post("/auth/logout", Some(&alice.token), json!({}))
        .await;
    assert!(status.is_success(), "{status} {body}");
    // A reconnect racing the notice to the gateway may be checked from the cache before
    // the notice lands; the notice then closes it at once.
    if let Ok(mut raced) = WsClient::try_connect(&app.base, Some(&alice.token), &[]).await {
        let ended = tokio::time::timeout(Duration::from_secs(2), raced.until_closed())
            .await
            .expect("closed by the notice");
        assert_eq!(ended, Ended::Closed(Some(4004)));
    }
    refused(&app, &alice.token).await;

    let (status, login) = app
        .post(
            "/auth/login",
            None,
            json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    assert!(status.is_success(), "{status} {login}");
    let token = login["token"].as_str().expect("token");
    WsClient::connect(&app.base, token).await.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_read_before_a_nats_outage_is_not_trusted_after_it() {
    let mut app = spawn_app_with(with_recheck(Duration::from_secs(3_600))).await;
    let alice = app.register("alice").await;
    WsClient::connect(&app.base, &alice.token)
        .await
        .close()
        .await;
    // While NATS is away the logout is committed; no notice can reach the gateway.
    app.nats.kill();
    revoke_silently(&app, &alice).await;
    app.nats.restart();
    let started = Instant::now();
    // Whether or not the gateway has reconnected yet, the cached state is not believed.
    for _ in 0..3 {
        refused(&app, &alice.token).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    println!("refused for {:?} after NATS came back", started.elapsed());
}
