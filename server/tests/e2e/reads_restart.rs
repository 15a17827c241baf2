//! Read state survives a restart of every process: api, projector, both gateways, NATS
//! and Postgres are stopped, the read positions are wiped from the read model with their
//! checkpoint, everything starts again, and `GET /rooms` shows the same `lastReadSeq` and
//! `unreadCount`, rebuilt from the reads stream; reading goes on live afterwards.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use crate::app::User;
use crate::fault_support::Stack;
use crate::reads::frame_of;
use chat_testkit::{connect_db, WsClient};

async fn read_state(stack: &Stack, user: &User, room: &str) -> Option<(i64, i64)> {
    let (status, body) = stack
        .api_request(Method::GET, "/rooms", &user.token, None)
        .await;
    if status != StatusCode::OK {
        return None;
    }
    let listed = body["rooms"]
        .as_array()?
        .iter()
        .find(|r| r["roomId"] == room)?
        .clone();
    Some((
        listed["lastReadSeq"].as_i64()?,
        listed["unreadCount"].as_i64()?,
    ))
}

async fn wait_for_read_state(stack: &Stack, user: &User, room: &str, want: (i64, i64)) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = read_state(stack, user, room).await;
        if got == Some(want) {
            return;
        }
        assert!(Instant::now() < deadline, "{got:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn send(stack: &Stack, user: &User, room: &str, text: &str) -> u64 {
    let answer = stack.send_message(user, room, text).await;
    answer["seq"].as_u64().unwrap()
}

async fn mark_read(stack: &Stack, user: &User, room: &str, seq: u64) -> Value {
    let (status, body) = stack
        .api_request(
            Method::POST,
            &format!("/rooms/{room}/read"),
            &user.token,
            Some(json!({ "seq": seq })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_state_agrees_after_every_process_restarts_and_the_read_model_is_rebuilt() {
    let mut stack = Stack::start().await;
    let users = stack.insert_users("reader", 2).await;
    let (alice, bob) = (&users[0], &users[1]);
    let room = stack.create_room(alice, "r", &[bob]).await;
    let quiet = stack.create_room(bob, "quiet", &[alice]).await;
    let mut seqs = Vec::new();
    for text in ["one", "two", "three"] {
        seqs.push(send(&stack, alice, &room, text).await);
    }
    send(&stack, bob, &quiet, "anyone?").await;
    assert_eq!(
        mark_read(&stack, bob, &room, seqs[1]).await["lastReadSeq"],
        seqs[1]
    );
    wait_for_read_state(&stack, bob, &room, (seqs[1] as i64, 1)).await;
    wait_for_read_state(&stack, alice, &quiet, (0, 1)).await;

    // Every process goes down, hard.
    stack.kill_everything();
    // The read positions go, with their checkpoint: the projector rebuilds them.
    let db = connect_db(&stack.database_url)
        .await
        .expect("Postgres is back");
    db.batch_execute(
        "DELETE FROM read_positions; DELETE FROM projector_checkpoints WHERE stream = 'CHAT_READS'",
    )
    .await
    .unwrap();
    stack.api.start().await;
    stack.projector.start().await;
    for gateway in &mut stack.gateways {
        gateway.start().await;
    }

    wait_for_read_state(&stack, bob, &room, (seqs[1] as i64, 1)).await;
    wait_for_read_state(&stack, alice, &room, (0, 0)).await;
    wait_for_read_state(&stack, alice, &quiet, (0, 1)).await;
    let rows = db
        .query_one("SELECT count(*) FROM read_positions", &[])
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(rows, 1, "one position was ever stored");

    // And it goes on live: bob reads the rest on a device, his other device is told.
    let bases = stack.gateway_bases();
    let mut phone = WsClient::connect(&bases[0], &bob.token).await;
    let mut laptop = WsClient::connect(&bases[1], &bob.token).await;
    let mut events = Vec::new();
    let answer = phone
        .call(
            json!({"type": "read", "roomId": room, "seq": seqs[2]}),
            &mut events,
        )
        .await;
    assert_eq!(answer["type"], "ack", "{answer}");
    let moved = frame_of(&mut laptop, "readPosition", Duration::from_secs(2)).await;
    assert_eq!(
        moved.expect("the other gateway tells the other device")["lastReadSeq"],
        seqs[2]
    );
    wait_for_read_state(&stack, bob, &room, (seqs[2] as i64, 0)).await;
}
