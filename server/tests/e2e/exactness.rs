//! Exactness under concurrency and failure, from outside: concurrent identical commands
//! store one event, nobody outside a conversation can tell it exists, a late `clientMsgId`
//! retry never gets a sequence history lacks, `since` paging returns every message once,
//! a revocation whose notice was missed still closes the sockets, and a recently seen user
//! reconnects while Postgres is down (a logged-out token does not).

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::app::{spawn_app, spawn_app_with, AppOptions, TestApp, User};
use chat_testkit::{start_projector_with, Ended, PostgresCluster, WsClient};

/// The types of the events stored on `room`'s subject, in stream order (direct gets).
async fn room_event_types(app: &TestApp, room: &str) -> Vec<String> {
    let nats = async_nats::connect(app.nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(nats);
    let stream = js.get_stream("CHAT_ROOMS").await.unwrap();
    let subject = format!("chat.room.{room}");
    let mut types = Vec::new();
    let mut from = 1;
    while let Ok(message) = stream
        .direct_get_next_for_subject(subject.as_str(), Some(from))
        .await
    {
        let event: Value = serde_json::from_slice(&message.payload).unwrap();
        types.push(event["type"].as_str().unwrap_or_default().to_owned());
        from = message.sequence + 1;
    }
    types
}

fn count(types: &[String], kind: &str) -> usize {
    types.iter().filter(|t| *t == kind).count()
}

/// How `ws` ended, if it did within `bound` (heartbeat pings keep `until_closed` waiting
/// otherwise).
async fn closed_within(ws: &mut WsClient, bound: Duration) -> Ended {
    tokio::time::timeout(bound, ws.until_closed())
        .await
        .unwrap_or_else(|_| panic!("socket still open after {bound:?}"))
}

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

// 9a ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_joins_leaves_and_dm_opens_store_one_event_each() {
    const N: usize = 8;
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.create_room(&alice, json!({"name": "lobby"})).await;

    // Joins over HTTP and WebSocket at once.
    let mut sockets = Vec::new();
    for _ in 0..N / 2 {
        sockets.push(WsClient::connect(&app.base, &bob.token).await);
    }
    let path = format!("/rooms/{room}/join");
    let http = join_all((0..N / 2).map(|_| app.post(&path, Some(&bob.token), json!({}))));
    let ws = join_all(sockets.iter_mut().map(|s| s.join(&room)));
    let (http, _) = tokio::join!(http, ws);
    for (status, body) in &http {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    let types = room_event_types(&app, &room).await;
    assert_eq!(count(&types, "member.joined"), 1, "{types:?}");

    let path = format!("/rooms/{room}/leave");
    let left = join_all((0..N).map(|_| app.post(&path, Some(&bob.token), json!({})))).await;
    for (status, body) in &left {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    let types = room_event_types(&app, &room).await;
    assert_eq!(count(&types, "member.left"), 1, "{types:?}");

    // Joining again after leaving is a new membership: one more event, not zero.
    let path = format!("/rooms/{room}/join");
    let again = join_all((0..N).map(|_| app.post(&path, Some(&bob.token), json!({})))).await;
    assert!(again.iter().all(|(s, _)| *s == StatusCode::OK), "{again:?}");
    let types = room_event_types(&app, &room).await;
    assert_eq!(count(&types, "member.joined"), 2, "{types:?}");

    // Both sides open their DM at once, several times each.
    let opens = join_all((0..N).map(|i| {
        let (me, other) = if i % 2 == 0 {
            (&alice, &bob)
        } else {
            (&bob, &alice)
        };
        app.post("/dms", Some(&me.token), json!({"userId": other.id}))
    }))
    .await;
    let ids: Vec<&str> = opens
        .iter()
        .map(|(status, body)| {
            assert!(status.is_success(), "{body}");
            body["roomId"].as_str().unwrap()
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let types = room_event_types(&app, ids[0]).await;
    assert_eq!(types, ["room.created"], "{types:?}");
}

// 9c ----------------------------------------------------------------------------------

/// Everything `who` can learn about `room` over HTTP and WebSocket: (status or frame
/// type, error code) per question.
async fn answers_about(app: &TestApp, who: &User, room: &str) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    let mut note = |what: &str, status: String, body: &Value| {
        seen.push((
            format!("{what} {status}"),
            code(body).unwrap_or("-").to_owned(),
        ));
    };
    let (s, b) = app.messages(who, room, "").await;
    note("history", s.to_string(), &b);
    let (s, b) = app.messages(who, room, "&minSeq=1").await;
    note("history minSeq", s.to_string(), &b);
    let (s, b) = app.send_raw(who, room, "hi", Some("probe")).await;
    note("send", s.to_string(), &b);
    let (s, b) = app
        .post(&format!("/rooms/{room}/join"), Some(&who.token), json!({}))
        .await;
    note("join", s.to_string(), &b);
    let (s, b) = app
        .post(&format!("/rooms/{room}/leave"), Some(&who.token), json!({}))
        .await;
    note("leave", s.to_string(), &b);
    let (s, b) = app
        .post(
            "/updateStatus",
            Some(&who.token),
            json!({"userId": who.id, "status": "typing", "roomId": room}),
        )
        .await;
    note("typing", s.to_string(), &b);
    let mut ws = WsClient::connect(&app.base, &who.token).await;
    for frame in [
        json!({"type": "join", "roomId": room}),
        json!({"type": "join", "roomId": room, "lastSeq": 0}),
        json!({"type": "resume", "rooms": [{"roomId": room, "lastSeq": 0}]}),
        json!({"type": "send", "roomId": room, "message": "hi"}),
        json!({"type": "typing", "roomId": room}),
        json!({"type": "leave", "roomId": room}),
    ] {
        let mut events = Vec::new();
        let answer = ws.call(frame.clone(), &mut events).await;
        assert!(events.is_empty(), "{frame} leaked {events:?}");
        note(
            &format!("ws {}", frame["type"]),
            answer["type"].as_str().unwrap_or_default().to_owned(),
            &json!({"error": {"code": answer["code"]}}),
        );
    }
    ws.close().await;
    seen
}

/// The id a direct room had before ids were keyed: computable from the two user ids.
fn computable_dm_id(a: &User, b: &User) -> String {
    let simple = |u: &User| u.id.replace('-', "");
    let (low, high) = if a.id <= b.id { (a, b) } else { (b, a) };
    format!("dm_{}_{}", simple(low), simple(high))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outsider_cannot_tell_whether_two_users_have_a_dm() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mallory = app.register("mallory").await;
    let (status, body) = app
        .post("/dms", Some(&alice.token), json!({"userId": bob.id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let dm = body["roomId"].as_str().unwrap().to_owned();
    app.send(&alice, &dm, "just us").await;

    // The id says nothing about who is in it.
    assert_ne!(dm, computable_dm_id(&alice, &bob));
    for user in [&alice, &bob] {
        assert!(
            !dm.contains(&user.id.replace('-', "")),
            "{dm} names {}",
            user.id
        );
    }

    // Alice and bob have a DM, alice and carol do not: mallory gets the same answers
    // about both pairs, and about the real room and a room that does not exist.
    let with = answers_about(&app, &mallory, &computable_dm_id(&alice, &bob)).await;
    let without = answers_about(&app, &mallory, &computable_dm_id(&alice, &carol)).await;
    assert_eq!(with, without);
    let real = answers_about(&app, &mallory, &dm).await;
    let fake = answers_about(&app, &mallory, &format!("dm_{}", "0".repeat(32))).await;
    assert_eq!(real, fake);
    assert_eq!(real, without, "a DM id answers like no room at all");

    // Its two users still find and use it, from either side.
    let (status, again) = app
        .post("/dms", Some(&bob.token), json!({"userId": alice.id}))
        .await;
    assert_eq!(
        (status, again["roomId"].as_str()),
        (StatusCode::OK, Some(&*dm))
    );
    app.send(&bob, &dm, "yes").await;
}

// 10a ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_msg_id_retried_after_the_duplicate_window_never_gets_a_seq_history_lacks() {
    const WINDOW: Duration = Duration::from_secs(1);
    let app = spawn_app_with(AppOptions {
        run_projector: false,
        duplicate_window: Some(WINDOW),
        ..Default::default()
    })
    .await;
    let projector_env = [("NATS_DUPLICATE_WINDOW_SECS", "1")];
    let mut projector = start_projector_with(&app.nats.url(), &app.database_url, &projector_env);
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "r"})).await;
    let first = app.send(&alice, &room, "warm-up").await;
    app.wait_for_checkpoint(first["seq"].as_u64().unwrap(), Duration::from_secs(10))
        .await;

    // The projector stops; the message is stored but not in history yet.
    projector.kill9();
    let (status, original) = app.send_raw(&alice, &room, "once", Some("late-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{original}");
    // Only time can take the first publish out of JetStream's duplicate window.
    tokio::time::sleep(WINDOW * 2).await;

    let (status, retry) = app.send_raw(&alice, &room, "once", Some("late-1")).await;
    match status {
        StatusCode::CREATED => assert_eq!(retry["seq"], original["seq"], "{retry}"),
        StatusCode::SERVICE_UNAVAILABLE => {
            assert_eq!(code(&retry), Some("projection_lagging"), "{retry}")
        }
        other => panic!("unexpected {other}: {retry}"),
    }
    let types = room_event_types(&app, &room).await;
    assert_eq!(
        count(&types, "message.posted"),
        2,
        "warm-up and once: {types:?}"
    );

    // With the projector back, the retry is answered from history: the original.
    let _projector = start_projector_with(&app.nats.url(), &app.database_url, &projector_env);
    let retry = app
        .send_until_stored(
            &alice,
            &room,
            "once",
            Some("late-1"),
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(retry["seq"], original["seq"]);
    assert_eq!(retry["messageId"], original["messageId"]);
    assert_eq!(retry["timestamp"], original["timestamp"]);
    let (status, page) = app
        .messages(&alice, &room, &format!("&minSeq={}", original["seq"]))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let seqs: Vec<&Value> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["seq"])
        .collect();
    assert_eq!(seqs, [&first["seq"], &original["seq"]]);
}

// 10d ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_paging_with_concurrent_senders_returns_every_message_exactly_once() {
    const SENDERS: usize = 6;
    const EACH: usize = 25;
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let room = app.create_room(&owner, json!({"name": "busy"})).await;
    let senders = app.insert_users("sender", SENDERS).await;
    for sender in &senders {
        app.join(sender, &room).await;
    }
    let acks: Vec<Value> = join_all(senders.iter().map(|sender| {
        let (app, room) = (&app, &room);
        async move {
            let mut acks = Vec::new();
            for i in 0..EACH {
                acks.push(app.send(sender, room, &format!("m{i}")).await);
            }
            acks
        }
    }))
    .await
    .into_iter()
    .flatten()
    .collect();
    let last = acks
        .iter()
        .map(|a| a["seq"].as_u64().unwrap())
        .max()
        .unwrap();
    app.wait_for_checkpoint(last, Duration::from_secs(20)).await;

    let mut seen: HashMap<String, Value> = HashMap::new();
    let mut since = "2000-01-01T00:00:00Z".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = app
            .messages(&owner, &room, &format!("&since={since}&limit=7"))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let list = page["messages"].as_array().unwrap();
        let Some(tail) = list.last() else { break };
        for m in list {
            let id = m["messageId"].as_str().unwrap().to_owned();
            assert!(seen.insert(id, m.clone()).is_none(), "returned twice: {m}");
        }
        since = tail["timestamp"].as_str().unwrap().to_owned();
        pages += 1;
        assert!(pages < 1_000, "paging does not end");
    }
    assert_eq!(seen.len(), SENDERS * EACH, "every message once");
    for ack in &acks {
        let stored = &seen[ack["messageId"].as_str().unwrap()];
        assert_eq!(
            stored["timestamp"], ack["timestamp"],
            "ack and history agree"
        );
        assert_eq!(stored["seq"], ack["seq"]);
    }
}

// 10f ---------------------------------------------------------------------------------

/// The bound stated for a missed revocation notice in these tests: the re-check period
/// plus time for one query and the close.
const RECHECK: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_whose_notice_was_missed_still_closes_the_sockets() {
    let app = spawn_app_with(AppOptions {
        gateway: chat_gateway::GatewayConfig {
            session_recheck: RECHECK,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = WsClient::connect(&app.base, &alice.token).await;
    let mut b = WsClient::connect(&app.base, &bob.token).await;

    // The logout is committed, but no notice is ever published.
    app.count(&format!(
        "WITH u AS (UPDATE accounts SET token_generation = token_generation + 1 \
         WHERE user_id = '{}' RETURNING 1) SELECT count(*) FROM u",
        alice.id
    ))
    .await;
    let started = Instant::now();
    let ended = closed_within(&mut a, RECHECK * 2 + Duration::from_secs(3)).await;
    assert_eq!(ended, Ended::Closed(Some(4004)));
    println!("closed {:?} after the missed revocation", started.elapsed());
    // Bob's session is live: his socket stays open and works.
    let mut events = Vec::new();
    let pong = b.call(json!({"type": "ping"}), &mut events).await;
    assert_ne!(pong["type"], "error", "{pong}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_while_the_gateway_is_cut_off_from_nats_closes_the_sockets_on_reconnect() {
    let mut app = spawn_app_with(AppOptions {
        gateway: chat_gateway::GatewayConfig {
            // Far longer than the test: only the reconnect can trigger the check.
            session_recheck: Duration::from_secs(3_600),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let alice = app.register("alice").await;
    let mut a = WsClient::connect(&app.base, &alice.token).await;

    // While NATS is away the logout is committed; no notice can ever reach the gateway.
    app.nats.kill();
    app.count(&format!(
        "WITH u AS (UPDATE accounts SET token_generation = token_generation + 1 \
         WHERE user_id = '{}' RETURNING 1) SELECT count(*) FROM u",
        alice.id
    ))
    .await;
    app.nats.restart();
    let started = Instant::now();
    let ended = closed_within(&mut a, Duration::from_secs(10)).await;
    assert_eq!(ended, Ended::Closed(Some(4004)));
    println!("closed {:?} after NATS came back", started.elapsed());
}

// 10h ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgres_down_a_recent_user_reconnects_and_a_logged_out_token_is_refused() {
    let cluster = PostgresCluster::start();
    let app = spawn_app_with(AppOptions {
        database_url: Some(cluster.admin_url()),
        ..Default::default()
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    for user in [&alice, &bob] {
        WsClient::connect(&app.base, &user.token)
            .await
            .close()
            .await;
    }
    let (status, body) = app.post("/auth/logout", Some(&bob.token), json!({})).await;
    assert!(status.is_success(), "{status} {body}");

    cluster.stop();
    // Alice was seen a moment ago: she reconnects.
    let started = Instant::now();
    let ws = WsClient::try_connect(&app.base, Some(&alice.token), &[]).await;
    assert!(ws.is_ok(), "alice refused: {:?}", ws.err());
    println!("reconnected in {:?} without Postgres", started.elapsed());
    // Bob logged out before the outage: his old token stays refused.
    let refused = WsClient::try_connect(&app.base, Some(&bob.token), &[]).await;
    let (status, body) = refused.err().expect("bob's old token refused");
    assert_eq!(
        (status, code(&body)),
        (401, Some("invalid_token")),
        "{body}"
    );
    // Carol was never seen here: nobody can tell whether her session is live.
    let unknown = WsClient::try_connect(&app.base, Some(&carol.token), &[]).await;
    let (status, body) = unknown.err().expect("carol cannot be checked");
    assert_eq!(
        (status, code(&body)),
        (503, Some("database_unavailable")),
        "{body}"
    );

    cluster.start_again();
}
