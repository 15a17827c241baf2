//! Presence that stays true across devices, gateways and crashes; typing that lapses.

use futures::StreamExt;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::app::spawn_app;
use chat_testkit::{GatewayProcess, WsClient};

/// Reads frames until every user in `want` has the given status (as `presence` frames tell),
/// returning how long it took; panics after `bound`.
async fn until_all(
    client: &mut WsClient,
    want: &[String],
    status: &str,
    bound: Duration,
) -> Duration {
    let started = Instant::now();
    let mut seen: HashMap<String, String> = HashMap::new();
    while want
        .iter()
        .any(|u| seen.get(u).map(String::as_str) != Some(status))
    {
        let left = bound.checked_sub(started.elapsed()).unwrap_or_else(|| {
            let missing = want
                .iter()
                .filter(|u| seen.get(*u).map(String::as_str) != Some(status))
                .count();
            panic!("{missing} users not {status} within {bound:?}")
        });
        let Some(frame) = client.frame_within(left).await else {
            continue;
        };
        if frame["type"] == "presence" {
            seen.insert(
                frame["userId"].as_str().unwrap().to_owned(),
                frame["status"].as_str().unwrap().to_owned(),
            );
        }
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_is_online_while_any_device_is_connected() {
    let app = spawn_app().await;
    let gw = GatewayProcess::start(&app, &[]).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut watcher = WsClient::connect(&app.base, &bob.token).await;
    let ack = watcher
        .call(
            json!({"type": "watch", "userIds": [alice.id]}),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    until_all(
        &mut watcher,
        std::slice::from_ref(&alice.id),
        "offline",
        Duration::from_secs(5),
    )
    .await;

    let phone = WsClient::connect(&gw.base, &alice.token).await;
    until_all(
        &mut watcher,
        std::slice::from_ref(&alice.id),
        "online",
        Duration::from_secs(5),
    )
    .await;
    let laptop = WsClient::connect(&app.base, &alice.token).await;
    phone.close().await;
    // Wait until the read model has seen the phone go, then check she is still online.
    let deadline = Instant::now() + Duration::from_secs(5);
    while app
        .count(&format!(
            "SELECT count(*) FROM connections WHERE user_id = '{}'",
            alice.id
        ))
        .await
        != 1
    {
        assert!(
            Instant::now() < deadline,
            "the phone's connection did not close"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, status) = app
        .get(&format!("/getStatus?userId={}", alice.id), Some(&bob.token))
        .await;
    assert_eq!(
        status["status"], "online",
        "one device left, still online: {status}"
    );
    let no_offline = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            let f = watcher.next_frame().await;
            if f["type"] == "presence" && f["status"] == "offline" {
                return f;
            }
        }
    })
    .await;
    assert!(
        no_offline.is_err(),
        "offline announced while a device was still connected"
    );

    laptop.close().await;
    until_all(
        &mut watcher,
        std::slice::from_ref(&alice.id),
        "offline",
        Duration::from_secs(5),
    )
    .await;
    let (_, status) = app
        .get(&format!("/getStatus?userId={}", alice.id), Some(&bob.token))
        .await;
    assert_eq!(status["status"], "offline");
    assert!(status["lastSeen"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_of_a_killed_gateway_go_offline_within_the_bound_and_come_back_elsewhere() {
    // The documented bound: heartbeat stale after 10 s, reaper every 2 s, plus projection.
    const BOUND: Duration = Duration::from_secs(15);
    let app = spawn_app().await;
    let mut victim = GatewayProcess::start(&app, &[]).await;
    let users = app.insert_users("u", 100).await;
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let observer = app.register("observer").await;

    let mut connections = Vec::new();
    for user in &users {
        connections.push(WsClient::connect(&victim.base, &user.token).await);
    }
    let mut watcher = WsClient::connect(&app.base, &observer.token).await;
    watcher
        .call(json!({"type": "watch", "userIds": ids}), &mut Vec::new())
        .await;
    until_all(&mut watcher, &ids, "online", Duration::from_secs(10)).await;

    victim.kill();
    let took = until_all(&mut watcher, &ids, "offline", BOUND).await;
    eprintln!("100 users of a killed gateway offline after {took:?}");
    let online = app
        .count("SELECT count(*) FROM presence WHERE status <> 'offline'")
        .await;
    assert_eq!(
        online, 1,
        "only the observer is online (getStatus reads this table)"
    );
    let (_, status) = app
        .get(
            &format!("/getStatus?userId={}", ids[42]),
            Some(&observer.token),
        )
        .await;
    assert_eq!(status["status"], "offline");
    drop(connections);

    let mut back = Vec::new();
    for user in &users {
        back.push(WsClient::connect(&app.base, &user.token).await);
    }
    until_all(&mut watcher, &ids, "online", Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_shows_for_the_other_members_and_lapses_by_itself() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "t", "members": [bob.id]}))
        .await;
    let mut a = WsClient::connect(&app.base, &alice.token).await;
    let mut b = WsClient::connect(&app.base, &bob.token).await;
    a.join(&room).await;
    b.join(&room).await;

    a.send_json(json!({"type": "typing", "roomId": room})).await;
    let typing = loop {
        let f = b.next_frame().await;
        if f["type"] == "typing" {
            break f;
        }
    };
    assert_eq!(
        typing,
        json!({"type": "typing", "roomId": room, "userId": alice.id, "expiresInMs": 5000})
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (_, s) = app
            .get(&format!("/getStatus?userId={}", alice.id), Some(&bob.token))
            .await;
        if s["status"] == "typing" {
            assert_eq!(s["typingIn"], room.as_str());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "getStatus never showed typing: {s}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The typist does not get her own typing frame.
    let own = a.call(json!({"type": "ping"}), &mut Vec::new()).await;
    assert_eq!(own["type"], "pong");

    tokio::time::sleep(Duration::from_millis(5_500)).await;
    let (_, s) = app
        .get(&format!("/getStatus?userId={}", alice.id), Some(&bob.token))
        .await;
    assert_eq!(s["status"], "online", "typing lapsed by itself: {s}");
    assert!(s.get("typingIn").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_users_connecting_at_once_and_leaving_end_exactly_offline() {
    let app = spawn_app().await;
    let users = app.insert_users("crowd", 1000).await;
    let base = app.base.as_str();
    let connections: Vec<WsClient> = futures::stream::iter(users.iter())
        .map(|u| WsClient::connect(base, &u.token))
        .buffer_unordered(200)
        .collect()
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while app
        .count("SELECT count(*) FROM presence WHERE status = 'online'")
        .await
        != 1000
    {
        assert!(Instant::now() < deadline, "not all 1000 online");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    futures::stream::iter(connections)
        .for_each_concurrent(200, |c| c.close())
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let online = app
            .count("SELECT count(*) FROM presence WHERE status <> 'offline'")
            .await;
        let open = app.count("SELECT count(*) FROM connections").await;
        if online == 0 && open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{online} still online, {open} connections open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let counted = app
        .count("SELECT count(*) FROM presence WHERE status = 'offline' AND connections = 0")
        .await;
    assert_eq!(counted, 1000, "every user offline with no connection left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_over_the_member_bound_get_counts_instead_of_lists() {
    let app = spawn_app().await;
    let gw = GatewayProcess::start(&app, &[("GATEWAY_PRESENCE_MEMBER_LIMIT", "2")]).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app
        .create_room(
            &alice,
            json!({"name": "big", "members": [bob.id, carol.id]}),
        )
        .await;
    let _bob_online = WsClient::connect(&gw.base, &bob.token).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while app
        .get(&format!("/getStatus?userId={}", bob.id), Some(&alice.token))
        .await
        .1["status"]
        != "online"
    {
        assert!(Instant::now() < deadline, "bob never showed online");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut a = WsClient::connect(&gw.base, &alice.token).await;
    let id = a.request(json!({"type": "join", "roomId": room})).await;
    let mut frames = Vec::new();
    loop {
        let f = a.next_frame().await;
        if f["id"] == id.as_str() {
            break;
        }
        frames.push(f);
    }
    assert!(
        frames.iter().all(|f| f["type"] != "presence"),
        "no per-member list: {frames:?}"
    );
    let counts = frames
        .iter()
        .find(|f| f["type"] == "roomPresence")
        .expect("a roomPresence frame");
    assert_eq!(counts["roomId"], room.as_str());
    assert_eq!(counts["members"], 3);
    // Alice and Bob are connected; Carol is not.
    let online = counts["online"].as_i64().unwrap();
    assert!((1..=2).contains(&online), "{counts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_while_nats_is_down_still_ends_offline() {
    let mut app = spawn_app().await;
    let gw = GatewayProcess::start(&app, &[]).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let url = format!("/getStatus?userId={}", alice.id);
    let connection = WsClient::connect(&gw.base, &alice.token).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while alice_status(&app, &url, &bob.token).await != "online" {
        assert!(Instant::now() < deadline, "alice never showed online");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The gateway cannot store connection.closed now; it must keep trying.
    app.nats.kill();
    connection.close().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        alice_status(&app, &url, &bob.token).await,
        "online",
        "nothing could be stored yet"
    );
    app.nats.restart();

    let deadline = Instant::now() + Duration::from_secs(30);
    while alice_status(&app, &url, &bob.token).await != "offline" {
        assert!(
            Instant::now() < deadline,
            "alice stayed online after her only connection closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn alice_status(app: &crate::app::TestApp, url: &str, token: &str) -> String {
    app.get(url, Some(token)).await.1["status"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}
