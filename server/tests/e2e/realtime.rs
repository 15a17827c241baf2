//! Live delivery across two gateway processes, resume, and idempotent sends over `/ws`.

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::app::spawn_app;
use chat_testkit::{GatewayProcess, WsClient};

/// (seq, prevSeq, event type) of event frames.
fn chain(events: &[Value]) -> Vec<(u64, u64, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["seq"].as_u64().unwrap(),
                e["prevSeq"].as_u64().unwrap(),
                e["event"]["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn assert_consecutive(start: u64, chain: &[(u64, u64, String)]) {
    let mut last = start;
    for (seq, prev, kind) in chain {
        assert_eq!(
            *prev, last,
            "gap or reorder before seq {seq} ({kind}): {chain:?}"
        );
        last = *seq;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_on_two_gateways_see_the_same_events_in_the_same_order() {
    let app = spawn_app().await;
    let (gw1, gw2) = tokio::join!(
        GatewayProcess::start(&app, &[]),
        GatewayProcess::start(&app, &[])
    );
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app.create_room(&alice, json!({"name": "live"})).await;
    app.join(&bob, &room).await;

    let mut a = WsClient::connect(&gw1.base, &alice.token).await;
    let mut b = WsClient::connect(&gw2.base, &bob.token).await;
    let start = a.join(&room).await["lastSeq"].as_u64().unwrap();
    assert_eq!(b.join(&room).await["lastSeq"].as_u64().unwrap(), start);

    let mut seen_by_a = Vec::new();
    let sent = a
        .call(
            json!({"type": "send", "roomId": room, "message": "one"}),
            &mut seen_by_a,
        )
        .await;
    assert_eq!(sent["type"], "ack", "{sent}");
    let first_id = sent["messageId"].as_str().unwrap().to_owned();
    let mut seen_by_b = Vec::new();
    let reply = b
        .call(
            json!({"type": "send", "roomId": room, "message": "two"}),
            &mut seen_by_b,
        )
        .await;
    assert_eq!(reply["type"], "ack", "{reply}");
    let edit = a
        .call(json!({"type": "edit", "roomId": room, "messageId": first_id, "message": "one (edited)"}), &mut seen_by_a)
        .await;
    assert_eq!(edit["type"], "ack", "{edit}");
    // Bob may not edit alice's message.
    let refused = b
        .call(
            json!({"type": "edit", "roomId": room, "messageId": first_id, "message": "mine now"}),
            &mut seen_by_b,
        )
        .await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("not_your_message"))
    );
    app.join(&carol, &room).await;
    let (status, _) = app
        .post(
            &format!("/rooms/{room}/leave"),
            Some(&carol.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let delete = a
        .call(
            json!({"type": "delete", "roomId": room, "messageId": first_id}),
            &mut seen_by_a,
        )
        .await;
    assert_eq!(delete["type"], "ack", "{delete}");
    let late_edit = a
        .call(
            json!({"type": "edit", "roomId": room, "messageId": first_id, "message": "back?"}),
            &mut seen_by_a,
        )
        .await;
    assert_eq!(
        late_edit["code"], "message_deleted",
        "a deleted message stays deleted: {late_edit}"
    );

    // message.posted ×2, message.edited, member.joined, member.left, message.deleted
    let total = 6;
    let rest_a = a.events(total - seen_by_a.len()).await;
    seen_by_a.extend(rest_a);
    let rest_b = b.events(total - seen_by_b.len()).await;
    seen_by_b.extend(rest_b);
    let (chain_a, chain_b) = (chain(&seen_by_a), chain(&seen_by_b));
    assert_eq!(
        chain_a, chain_b,
        "both clients see the same events in the same order"
    );
    assert_consecutive(start, &chain_a);
    let kinds: Vec<_> = chain_a.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "message.posted",
            "message.posted",
            "message.edited",
            "member.joined",
            "member.left",
            "message.deleted"
        ]
    );

    // Edits and deletes show in history too.
    let (_, page) = app
        .messages(
            &bob,
            &room,
            &format!("&minSeq={}", chain_a.last().unwrap().0),
        )
        .await;
    let first = &page["messages"][0];
    assert_eq!(
        (first["deleted"].as_bool(), first["message"].as_str()),
        (Some(true), Some(""))
    );
    assert!(first["editedAt"].is_string());
    assert_eq!(page["messages"][1]["message"], "two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_says_edited_only_for_messages_that_were_edited() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app
        .create_room(&alice, json!({"name": "edits", "visibility": "public"}))
        .await;
    let mut ws = WsClient::connect(&app.base, &alice.token).await;
    ws.join(&room).await;
    let mut seen = Vec::new();
    let mut ids = Vec::new();
    for text in ["deleted, never edited", "edited", "edited, then deleted"] {
        let sent = ws
            .call(
                json!({"type": "send", "roomId": room, "message": text}),
                &mut seen,
            )
            .await;
        assert_eq!(sent["type"], "ack", "{sent}");
        ids.push(sent["messageId"].as_str().unwrap().to_owned());
    }
    for (frame, what) in [
        (
            json!({"type": "delete", "roomId": room, "messageId": ids[0]}),
            "delete 0",
        ),
        (
            json!({"type": "edit", "roomId": room, "messageId": ids[1], "message": "edited!"}),
            "edit 1",
        ),
        (
            json!({"type": "edit", "roomId": room, "messageId": ids[2], "message": "edited!"}),
            "edit 2",
        ),
        (
            json!({"type": "delete", "roomId": room, "messageId": ids[2]}),
            "delete 2",
        ),
    ] {
        let answer = ws.call(frame, &mut seen).await;
        assert_eq!(answer["type"], "ack", "{what}: {answer}");
    }
    let last = answer_seq(&ws.events(7 - seen.len()).await, &seen);
    let (_, page) = app
        .messages(&alice, &room, &format!("&minSeq={last}"))
        .await;
    let flags: Vec<(bool, bool)> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["deleted"].as_bool().unwrap_or(false),
                m["editedAt"].is_string(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [(true, false), (false, true), (true, true)],
        "(deleted, has editedAt) per message: {page}"
    );
}

/// The highest `seq` among the events seen.
fn answer_seq(rest: &[Value], seen: &[Value]) -> u64 {
    seen.iter()
        .chain(rest)
        .filter_map(|e| e["seq"].as_u64())
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_missed_1000_messages_resumes_on_the_other_gateway_with_exactly_those() {
    let app = spawn_app().await;
    let (gw1, gw2) = tokio::join!(
        GatewayProcess::start(&app, &[]),
        GatewayProcess::start(&app, &[])
    );
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "busy", "members": [bob.id]}))
        .await;

    let mut b = WsClient::connect(&gw1.base, &bob.token).await;
    b.join(&room).await;
    let before = app.send(&alice, &room, "before").await;
    let last_seen = b.events(1).await[0]["seq"].as_u64().unwrap();
    assert_eq!(last_seen, before["seq"].as_u64().unwrap());
    b.close().await;

    let (app_ref, alice_ref, room_ref) = (&app, &alice, room.as_str());
    let mut acked: Vec<u64> = futures::stream::iter(0..1000)
        .map(|i| async move {
            let (status, body) = app_ref
                .send_raw(alice_ref, room_ref, &format!("m{i}"), None)
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["seq"].as_u64().unwrap()
        })
        .buffer_unordered(32)
        .collect()
        .await;
    acked.sort_unstable();

    let mut b = WsClient::connect(&gw2.base, &bob.token).await;
    let mut replayed = Vec::new();
    let id = b
        .request(json!({"type": "resume", "rooms": [{"roomId": room, "lastSeq": last_seen}]}))
        .await;
    let result = b.answer(&id, &mut replayed).await;
    assert_eq!(result["type"], "resumed", "{result}");
    assert_eq!(result["recovered"], true);
    assert_eq!(result["replayed"], 1000);
    let seqs: Vec<u64> = replayed
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, acked, "exactly the missed messages, in order, once");
    assert_consecutive(last_seen, &chain(&replayed));

    // Live delivery continues after the replay.
    let after = app.send(&alice, &room, "after").await;
    let live = b.events(1).await;
    assert_eq!(live[0]["seq"], after["seq"]);
    assert_eq!(live[0]["prevSeq"].as_u64(), acked.last().copied());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_while_messages_keep_arriving_loses_and_repeats_nothing() {
    let app = spawn_app().await;
    let gw = GatewayProcess::start(&app, &[]).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "race", "members": [bob.id]}))
        .await;
    let first = app.send(&alice, &room, "first").await["seq"]
        .as_u64()
        .unwrap();
    for i in 0..200 {
        app.send(&alice, &room, &format!("gap{i}")).await;
    }
    let (app_ref, alice_ref, room_ref) = (&app, &alice, room.as_str());
    // Sends continue while bob resumes: some land in the replay, some arrive live.
    let sender = async move {
        let mut seqs = Vec::new();
        for i in 0..100 {
            seqs.push(
                app_ref
                    .send(alice_ref, room_ref, &format!("during{i}"))
                    .await["seq"]
                    .as_u64()
                    .unwrap(),
            );
        }
        seqs
    };
    let receiver = async {
        let mut b = WsClient::connect(&gw.base, &bob.token).await;
        let mut events = Vec::new();
        let id = b
            .request(json!({"type": "resume", "rooms": [{"roomId": room, "lastSeq": first}]}))
            .await;
        let result = b.answer(&id, &mut events).await;
        assert_eq!(result["recovered"], true, "{result}");
        (b, events)
    };
    let (during, (mut b, mut events)) = tokio::join!(sender, receiver);
    let last = *during.last().unwrap();
    while events.last().map(|e| e["seq"].as_u64().unwrap()) != Some(last) {
        events.extend(b.events(1).await);
    }
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    let (_, page) = app
        .messages(
            &bob,
            &room,
            &format!("&afterSeq={first}&limit=500&minSeq={last}"),
        )
        .await;
    let expected: Vec<u64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs, expected,
        "every event after the position, once, in order"
    );
    assert_consecutive(first, &chain(&events));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_client_msg_id_across_a_reconnect_is_one_message() {
    let app = spawn_app().await;
    let (gw1, gw2) = tokio::join!(
        GatewayProcess::start(&app, &[]),
        GatewayProcess::start(&app, &[])
    );
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "idem"})).await;
    let send =
        json!({"type": "send", "roomId": room, "message": "exactly once", "clientMsgId": "k-42"});

    let mut a = WsClient::connect(&gw1.base, &alice.token).await;
    let first = a.call(send.clone(), &mut Vec::new()).await;
    assert_eq!(first["type"], "ack", "{first}");
    a.close().await;
    let mut a = WsClient::connect(&gw2.base, &alice.token).await;
    let again = a.call(send.clone(), &mut Vec::new()).await;
    assert_eq!(
        (again["seq"].clone(), again["messageId"].clone()),
        (first["seq"].clone(), first["messageId"].clone())
    );
    // Also after the message has been projected (the read-model path).
    app.messages(&alice, &room, &format!("&minSeq={}", first["seq"]))
        .await;
    let late = a.call(send, &mut Vec::new()).await;
    assert_eq!(late["seq"], first["seq"]);
    let (_, page) = app.messages(&alice, &room, "").await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_handshake_refuses_bad_tokens_and_foreign_origins_before_the_upgrade() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let url = format!("{}/ws", app.base);
    let upgrade = |req: reqwest::RequestBuilder| {
        req.header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    };
    let bad_token = upgrade(app.http.get(&url))
        .bearer_auth("nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_token.status(), StatusCode::UNAUTHORIZED);
    let body: Value = bad_token.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_token");
    for origin in [
        "https://evil.example",
        "null",
        &format!("{}.evil.com", app.base),
    ] {
        let resp = upgrade(app.http.get(&url))
            .bearer_auth(&alice.token)
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "origin {origin}");
    }
    let same_origin = upgrade(app.http.get(&url))
        .bearer_auth(&alice.token)
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), StatusCode::SWITCHING_PROTOCOLS);
    // The browser way: the token as a query parameter.
    let query = upgrade(app.http.get(format!("{url}?token={}", alice.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), StatusCode::SWITCHING_PROTOCOLS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_a_room_from_another_device_stops_its_live_events_everywhere() {
    let app = spawn_app().await;
    let gw = GatewayProcess::start(&app, &[]).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "exit", "members": [bob.id]}))
        .await;
    let mut phone = WsClient::connect(&gw.base, &bob.token).await;
    phone.join(&room).await;

    // Bob leaves over HTTP (another device); his open connection sees the leave, then nothing.
    let (status, _) = app
        .post(&format!("/rooms/{room}/leave"), Some(&bob.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let left = phone.events(1).await;
    assert_eq!(left[0]["event"]["type"], "member.left");
    app.send(&alice, &room, "bob should not see this").await;
    let pong = phone.call(json!({"type": "ping"}), &mut Vec::new()).await;
    assert_eq!(pong["type"], "pong");
    let mut late = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_millis(500), async {
        late.push(phone.next_frame().await);
    })
    .await;
    assert!(late.is_empty(), "a former member still received: {late:?}");
}
