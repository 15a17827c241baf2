//! Message search (`GET /search`) on the real server: only the rooms the caller is a member
//! of now (a word that occurs only in another room finds nothing, naming that room is
//! refused), edits re-indexed, deletes gone, snippets as plain text with ranges, paging
//! that answers each match once, and bad input refused with stable codes.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use crate::app::{spawn_app, TestApp};
use crate::people::encode;
use chat_testkit::{User, WsClient};

pub async fn search(app: &TestApp, user: &User, params: &str) -> (StatusCode, Value) {
    app.get(&format!("/search?{params}"), Some(&user.token))
        .await
}

fn q(words: &str) -> String {
    format!("q={}", encode(words))
}

/// The messages found, as text, once `done` holds for them (bounded: the projector applies
/// events a moment after they are acknowledged).
async fn found_when(
    app: &TestApp,
    user: &User,
    params: &str,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = search(app, user, params).await;
        assert_eq!(status, StatusCode::OK, "{params}: {body}");
        let texts: Vec<String> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["message"].as_str().unwrap().to_owned())
            .collect();
        if done(&texts) {
            return texts;
        }
        assert!(Instant::now() < deadline, "{params}: {texts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn ws_ok(ws: &mut WsClient, frame: Value) {
    let answer = ws.call(frame, &mut Vec::new()).await;
    assert_eq!(answer["type"], "ack", "{answer}");
}

#[tokio::test]
async fn a_member_finds_only_the_messages_of_rooms_they_are_in_now() {
    let app = spawn_app().await;
    let (alice, bob, carol) = (
        app.register("alice").await,
        app.register("bob").await,
        app.register("carol").await,
    );
    let room_a = app
        .create_room(
            &alice,
            json!({"name": "a", "visibility": "private", "members": [bob.id]}),
        )
        .await;
    let room_b = app
        .create_room(
            &carol,
            json!({"name": "b", "visibility": "private", "members": [bob.id]}),
        )
        .await;
    let public = app
        .create_room(&carol, json!({"name": "open", "visibility": "public"}))
        .await;
    app.send(&alice, &room_a, "shared word lighthouse in A")
        .await;
    app.send(&carol, &room_b, "shared word lighthouse in B")
        .await;
    app.send(&carol, &room_b, "the secret zeppelin").await;
    app.send(&carol, &public, "a public zeppelin").await;

    // Bob is in both rooms and sees both; Alice only A, even for a word only B holds.
    let both = found_when(&app, &bob, &q("lighthouse"), |t| t.len() == 2).await;
    assert!(both.iter().any(|t| t.ends_with('B')), "{both:?}");
    found_when(&app, &bob, &q("zeppelin"), |t| t.len() == 1).await;
    let mine = found_when(&app, &alice, &q("lighthouse"), |t| !t.is_empty()).await;
    assert_eq!(mine, vec!["shared word lighthouse in A"]);
    for words in [
        "zeppelin",
        "secret",
        "\"secret zeppelin\"",
        "zeppelin or lighthouse",
    ] {
        let (status, body) = search(&app, &alice, &q(words)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for hit in body["results"].as_array().unwrap() {
            assert_eq!(hit["roomId"], room_a.as_str(), "{words}: {hit}");
        }
    }
    // Naming a room one is not in is refused, private or public.
    let (status, body) = search(&app, &alice, &format!("{}&roomId={room_b}", q("zeppelin"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "not_a_member");
    let (status, body) = search(&app, &alice, &format!("{}&roomId={public}", q("zeppelin"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = search(&app, &alice, &format!("{}&roomId=nosuchroom", q("x"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "room_not_found");
    // With roomId, only that room.
    let only_a = found_when(
        &app,
        &bob,
        &format!("{}&roomId={room_a}", q("lighthouse")),
        |t| !t.is_empty(),
    )
    .await;
    assert_eq!(only_a, vec!["shared word lighthouse in A"]);

    // Membership is read at the moment of the query: Bob leaves B, B's hits go.
    let (status, body) = app
        .post(
            &format!("/rooms/{room_b}/leave"),
            Some(&bob.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    found_when(&app, &bob, &q("lighthouse"), |t| t.len() == 1).await;
    found_when(&app, &bob, &q("zeppelin"), |t| t.is_empty()).await;
}

#[tokio::test]
async fn edits_are_reindexed_deletes_vanish_and_snippets_are_plain_text() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app
        .create_room(&alice, json!({"name": "r", "visibility": "private"}))
        .await;
    let mut ws = WsClient::connect(&app.base, &alice.token).await;
    let edited = app.send(&alice, &room, "apple pie for everyone").await;
    let deleted = app.send(&alice, &room, "cherry tart tonight").await;
    app.send(
        &alice,
        &room,
        "<img src=x onerror=alert(1)> «cherry» \u{1}tag\u{2} and Ünïcödé kiwi",
    )
    .await;
    found_when(&app, &alice, &q("apple"), |t| t.len() == 1).await;
    found_when(&app, &alice, &q("cherry"), |t| t.len() == 2).await;

    ws_ok(
        &mut ws,
        json!({"type": "edit", "roomId": room,
        "messageId": edited["messageId"], "message": "banana split for everyone"}),
    )
    .await;
    ws_ok(
        &mut ws,
        json!({"type": "delete", "roomId": room, "messageId": deleted["messageId"]}),
    )
    .await;
    found_when(&app, &alice, &q("apple"), |t| t.is_empty()).await;
    let now = found_when(&app, &alice, &q("banana"), |t| !t.is_empty()).await;
    assert_eq!(now, vec!["banana split for everyone"]);
    let left = found_when(&app, &alice, &q("cherry"), |t| t.len() == 1).await;
    assert!(
        left[0].starts_with("<img"),
        "only the undeleted one: {left:?}"
    );
    found_when(&app, &alice, &q("tart"), |t| t.is_empty()).await;

    // The snippet is plain text (marker look-alikes kept as text, the U+0001/U+0002 the
    // markers use blanked, tags left out by ts_headline), and the highlights are character
    // ranges of the matched words only.
    let (_, body) = search(&app, &alice, &q("KIWI cherry")).await;
    let hit = &body["results"][0];
    let snippet: Vec<char> = hit["snippet"].as_str().unwrap().chars().collect();
    let marked: Vec<String> = hit["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            snippet[r[0].as_u64().unwrap() as usize..r[1].as_u64().unwrap() as usize]
                .iter()
                .collect()
        })
        .collect();
    assert_eq!(marked, vec!["cherry", "kiwi"], "{hit}");
    let text: String = snippet.iter().collect();
    assert!(
        text.contains("«cherry»") && text.contains("Ünïcödé"),
        "{text}"
    );
    assert!(
        !text.contains('\u{1}') && !text.contains('\u{2}'),
        "{text:?}"
    );
    for key in [
        "roomId",
        "seq",
        "messageId",
        "senderId",
        "senderName",
        "rank",
        "timestamp",
    ] {
        assert!(!hit[key].is_null(), "{key}: {hit}");
    }
    assert_eq!(hit["senderName"], "alice");
}

#[tokio::test]
async fn pages_run_back_in_time_and_answer_each_match_once() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app
        .create_room(&alice, json!({"name": "r", "visibility": "private"}))
        .await;
    let mut seqs = Vec::new();
    for i in 0..5 {
        let text = format!("report {i} {}", "report ".repeat(i));
        seqs.push(
            app.send(&alice, &room, &text).await["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    found_when(&app, &alice, &q("report"), |t| t.len() == 5).await;
    let (mut seen, mut cursor, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let (status, body) =
            search(&app, &alice, &format!("{}&limit=2{cursor}", q("report"))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        let page: Vec<i64> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["seq"].as_i64().unwrap())
            .collect();
        let ranks: Vec<f64> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rank"].as_f64().unwrap())
            .collect();
        assert!(
            ranks.windows(2).all(|w| w[0] >= w[1]),
            "best first: {ranks:?}"
        );
        seen.extend(page);
        match body["nextBeforeSeq"].as_i64() {
            Some(next) => cursor = format!("&beforeSeq={next}"),
            None => break,
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, seqs, "every match once, newest pages first");
    assert_eq!(pages, 3);
}
