//! What `/ws` does with bad frames, silent or slow clients, and a gateway shutdown.

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

use crate::app::{spawn_app, TestApp};
use chat_testkit::{Ended, GatewayProcess, WsClient};

async fn stored_events(app: &TestApp) -> u64 {
    let nats = async_nats::connect(app.nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(nats);
    let mut stream = js.get_stream("CHAT_ROOMS").await.unwrap();
    stream.info().await.unwrap().state.messages
}

#[tokio::test]
async fn bad_frames_get_their_documented_errors_and_nothing_is_published() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let private = app
        .create_room(&bob, json!({"name": "p", "visibility": "private"}))
        .await;
    let bobs = app.create_room(&bob, json!({"name": "bobs"})).await;
    let mut bystander = WsClient::connect(&app.base, &bob.token).await;
    bystander.join(&bobs).await;
    let before = stored_events(&app).await;

    let mut a = WsClient::connect(&app.base, &alice.token).await;
    let cases = [
        ("{not json", "invalid_json"),
        (r#"{"type":"fly","id":"1"}"#, "unknown_type"),
        (r#"{"type":"send","id":"2"}"#, "invalid_frame"),
        (
            r#"{"type":"send","id":"3","roomId":"a.b","message":"x"}"#,
            "invalid_room_id",
        ),
        (
            r#"{"type":"send","id":"4","roomId":"ROOM","message":"x"}"#,
            "not_a_member",
        ),
        (
            r#"{"type":"send","id":"5","roomId":"ROOM","message":"   "}"#,
            "empty_field",
        ),
        (
            r#"{"type":"join","id":"6","roomId":"PRIVATE"}"#,
            "room_private",
        ),
        (
            r#"{"type":"join","id":"7","roomId":"nope"}"#,
            "room_not_found",
        ),
        (
            r#"{"type":"status","id":"8","status":"busy"}"#,
            "invalid_status",
        ),
        (
            r#"{"type":"resume","id":"9","rooms":[{"roomId":"PRIVATE","lastSeq":0}]}"#,
            "not_a_member",
        ),
        (
            r#"{"type":"watch","id":"10","userIds":["not-a-user"]}"#,
            "invalid_user_id",
        ),
        (
            r#"{"type":"watch","id":"11","userIds":"x"}"#,
            "invalid_frame",
        ),
        (
            r#"{"type":"watch","id":"12","userIds":MANY}"#,
            "invalid_frame",
        ),
    ];
    for (raw, code) in cases {
        let many = serde_json::to_string(&vec![alice.id.clone(); 1001]).unwrap();
        let raw = raw
            .replace("PRIVATE", &private)
            .replace("ROOM", &bobs)
            .replace("MANY", &many);
        a.socket.send(Message::text(raw.clone())).await.unwrap();
        let reply = a.next_frame().await;
        assert_eq!(
            (reply["type"].as_str(), reply["code"].as_str()),
            (Some("error"), Some(code)),
            "{raw}: {reply}"
        );
        assert!(reply["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    a.socket
        .send(Message::binary(vec![1u8, 2, 3]))
        .await
        .unwrap();
    assert_eq!(a.next_frame().await["code"], "binary_not_supported");
    // The connection still works after all that.
    let pong = a.call(json!({"type": "ping"}), &mut Vec::new()).await;
    assert_eq!(pong["type"], "pong");

    // Invalid UTF-8 in a text frame: closed with 1007.
    let mut u = WsClient::connect(&app.base, &alice.token).await;
    let frame = Frame::message(vec![0x7b, 0xff, 0xfe, 0x7d], OpCode::Data(Data::Text), true);
    u.socket.send(Message::Frame(frame)).await.unwrap();
    assert_eq!(u.until_closed().await, Ended::Closed(Some(1007)));

    // A frame over the size limit: closed with 1009.
    let mut big = WsClient::connect(&app.base, &alice.token).await;
    let huge = json!({"type": "send", "id": "x", "roomId": bobs, "message": "y".repeat(70_000)});
    let _ = big.socket.send(Message::text(huge.to_string())).await;
    assert_eq!(big.until_closed().await, Ended::Closed(Some(1009)));

    // A frame before authentication: error, then closed with 4001.
    let mut anon = WsClient::connect_anonymous(&app.base).await;
    anon.send_json(json!({"type": "ping", "id": "1"})).await;
    assert_eq!(anon.next_frame().await["code"], "unauthenticated");
    assert_eq!(anon.until_closed().await, Ended::Closed(Some(4001)));

    assert_eq!(
        stored_events(&app).await,
        before,
        "a refused frame published an event"
    );
    // Other connections were unaffected.
    let pong = bystander
        .call(json!({"type": "ping"}), &mut Vec::new())
        .await;
    assert_eq!(pong["type"], "pong");
    let sent = bystander
        .call(
            json!({"type": "send", "roomId": bobs, "message": "still here"}),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(sent["type"], "ack");
}

#[tokio::test]
async fn in_band_auth_works_and_silence_is_closed_by_the_server() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let gw = GatewayProcess::start(
        &app,
        &[
            ("GATEWAY_AUTH_TIMEOUT_MS", "300"),
            ("GATEWAY_HEARTBEAT_MS", "200"),
            ("GATEWAY_IDLE_TIMEOUT_MS", "800"),
        ],
    )
    .await;
    let mut ok = WsClient::connect_anonymous(&gw.base).await;
    ok.send_json(json!({"type": "auth", "token": alice.token}))
        .await;
    let hello = ok.next_frame().await;
    assert_eq!(
        (hello["type"].as_str(), hello["userId"].as_str()),
        (Some("hello"), Some(alice.id.as_str()))
    );

    // Never authenticates: closed after the auth timeout.
    let mut silent = WsClient::connect_anonymous(&gw.base).await;
    assert_eq!(silent.until_closed().await, Ended::Closed(Some(4001)));

    // A bad token in-band: closed with 4001.
    let mut wrong = WsClient::connect_anonymous(&gw.base).await;
    wrong
        .send_json(json!({"type": "auth", "token": "forged"}))
        .await;
    assert_eq!(wrong.next_frame().await["code"], "unauthenticated");
    assert_eq!(wrong.until_closed().await, Ended::Closed(Some(4001)));

    // Authenticated but never reads (so never answers pings): closed for idleness, while
    // a client that keeps reading (and so answers pings) stays.
    let mut deaf = WsClient::connect(&gw.base, &alice.token).await;
    let deaf_check = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        deaf.until_closed().await
    };
    let lively = async {
        for _ in 0..8 {
            let pong = ok.call(json!({"type": "ping"}), &mut Vec::new()).await;
            assert_eq!(pong["type"], "pong");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    let (deaf_end, ()) = tokio::join!(deaf_check, lively);
    assert_eq!(deaf_end, Ended::Closed(Some(4002)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_disconnected_at_the_queue_bound() {
    let app = spawn_app().await;
    const QUEUE_FRAMES: usize = 32;
    let gw = GatewayProcess::start(
        &app,
        &[
            ("GATEWAY_QUEUE_FRAMES", "32"),
            ("GATEWAY_QUEUE_BYTES", "1000000000"),
            ("GATEWAY_HEARTBEAT_MS", "60000"),
        ],
    )
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "firehose", "members": [bob.id]}))
        .await;
    let mut slow = WsClient::connect(&gw.base, &bob.token).await;
    slow.join(&room).await;
    let mut fast = WsClient::connect(&gw.base, &alice.token).await;
    fast.join(&room).await;

    // Big messages fill the socket buffers quickly, then the gateway's queue. Sending
    // goes on until the gateway reports the cut-off (its own metric), however fast or
    // slow this machine is; only then does the slow client read again, within the bound
    // for which the Close frame waits.
    let text = "z".repeat(3_900);
    let (app_ref, alice_ref, room_ref, text_ref) = (&app, &alice, room.as_str(), text.as_str());
    const MAX_SENDS: usize = 50_000;
    let cut_off = std::sync::atomic::AtomicBool::new(false);
    let sent_total = std::sync::atomic::AtomicUsize::new(usize::MAX);
    let (cut_off, sent_total) = (&cut_off, &sent_total);
    let sender = async move {
        let sent = futures::stream::iter(0..MAX_SENDS)
            .take_while(|_| std::future::ready(!cut_off.load(std::sync::atomic::Ordering::Relaxed)))
            .map(|_| async move {
                let (status, _) = app_ref.send_raw(alice_ref, room_ref, text_ref, None).await;
                assert_eq!(status, StatusCode::CREATED);
            })
            .buffer_unordered(16)
            .count()
            .await;
        sent_total.store(sent, std::sync::atomic::Ordering::Relaxed);
        sent
    };
    let metrics_url = format!("{}/metrics", gw.metrics_base);
    let watcher = async {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let text = reqwest::get(&metrics_url)
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let cut = text
                .lines()
                .find(|l| l.starts_with("chat_gateway_slow_consumer_disconnects_total"))
                .and_then(|l| l.split_whitespace().last())
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            if cut >= 1.0 {
                cut_off.store(true, std::sync::atomic::Ordering::Relaxed);
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the slow client was never cut off"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    // The fast reader keeps up all along, until it has everything that was sent.
    let reader = async {
        let mut got = 0;
        while got < sent_total.load(std::sync::atomic::Ordering::Relaxed) {
            if let Some(frame) = fast.frame_within(Duration::from_millis(200)).await {
                if frame["type"] == "event" {
                    got += 1;
                }
            }
        }
        got
    };
    let slow_reader = async {
        while !cut_off.load(std::sync::atomic::Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut received = 0;
        loop {
            match tokio::time::timeout(Duration::from_secs(20), slow.socket.next())
                .await
                .expect("closed in time")
            {
                Some(Ok(Message::Text(_))) => received += 1,
                Some(Ok(Message::Close(frame))) => {
                    break (received, frame.map(|f| u16::from(f.code)))
                }
                Some(Ok(_)) => {}
                other => panic!("ended without a close frame: {other:?}"),
            }
        }
    };
    let (sent, (), fast_events, (received, ended)) =
        tokio::join!(sender, watcher, reader, slow_reader);
    assert_eq!(fast_events, sent, "a reading client gets everything");
    assert_eq!(ended, Some(4008), "slow consumer close code");
    assert!(
        received < sent,
        "the slow client was cut off at the bound, not served everything ({received})"
    );
    assert!(
        received >= QUEUE_FRAMES,
        "at least the queue's worth was delivered ({received})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_sends_clients_to_the_other_gateway_and_they_lose_nothing() {
    let app = spawn_app().await;
    let (mut gw1, gw2) = tokio::join!(
        GatewayProcess::start(&app, &[]),
        GatewayProcess::start(&app, &[])
    );
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "deploy", "members": [bob.id]}))
        .await;
    let mut b = WsClient::connect(&gw1.base, &bob.token).await;
    let mut last_seen = b.join(&room).await["lastSeq"].as_u64().unwrap();

    let (app_ref, alice_ref, room_ref) = (&app, &alice, room.as_str());
    let sender = async move {
        let mut seqs = Vec::new();
        for i in 0..300 {
            seqs.push(
                app_ref.send(alice_ref, room_ref, &format!("m{i}")).await["seq"]
                    .as_u64()
                    .unwrap(),
            );
            if i == 100 {
                // Mid-stream, the gateway is told to stop.
                gw1.terminate();
            }
        }
        assert!(gw1.wait_exit().await, "gateway exits after draining");
        seqs
    };
    let receiver = async {
        let mut got = Vec::new();
        // On the first gateway until it says "reconnect elsewhere".
        let code = loop {
            match tokio::time::timeout(Duration::from_secs(20), b.socket.next())
                .await
                .expect("frames or close")
            {
                Some(Ok(Message::Text(t))) => {
                    let frame: serde_json::Value = serde_json::from_str(&t).unwrap();
                    if frame["type"] == "event" {
                        last_seen = frame["seq"].as_u64().unwrap();
                        got.push(last_seen);
                    }
                }
                Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                other => panic!("connection ended without a close frame: {other:?}"),
            }
        };
        assert_eq!(
            code,
            Some(1012),
            "the documented 'service restart' close code"
        );
        let mut b2 = WsClient::connect(&gw2.base, &bob.token).await;
        let id = b2
            .request(json!({"type": "resume", "rooms": [{"roomId": room, "lastSeq": last_seen}]}))
            .await;
        let mut replayed = Vec::new();
        let result = b2.answer(&id, &mut replayed).await;
        assert_eq!(result["recovered"], true, "{result}");
        got.extend(replayed.iter().map(|e| e["seq"].as_u64().unwrap()));
        (b2, got)
    };
    let (sent, (mut b2, mut got)) = tokio::join!(sender, receiver);
    let last = *sent.last().unwrap();
    while got.last() != Some(&last) {
        got.push(b2.events(1).await[0]["seq"].as_u64().unwrap());
    }
    assert_eq!(
        got, sent,
        "every message once, in order, across the gateway restart"
    );
}
