//! Search survives a restart of every process with its read model rebuilt: api,
//! projector, both gateways, NATS and Postgres are stopped, every table the room stream
//! projects is emptied with its checkpoint, everything starts again, and `GET /search`
//! gives the same answers (edits and deletes included), rebuilt from the events alone.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use crate::app::User;
use crate::fault_support::Stack;
use chat_testkit::{connect_db, WsClient};

async fn results(stack: &Stack, user: &User, words: &str) -> Option<Value> {
    let path = format!("/search?q={}", crate::people::encode(words));
    let (status, body) = stack
        .api_request(Method::GET, &path, &user.token, None)
        .await;
    (status == StatusCode::OK).then(|| body["results"].clone())
}

/// The answer once it has `count` results (bounded).
async fn answer_with(stack: &Stack, user: &User, words: &str, count: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = results(stack, user, words).await;
        if got.as_ref().and_then(Value::as_array).map(Vec::len) == Some(count) {
            return got.unwrap();
        }
        assert!(Instant::now() < deadline, "{words}: {got:?}, want {count}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_answers_the_same_after_every_process_restarts_and_the_read_model_is_rebuilt() {
    let mut stack = Stack::start().await;
    let users = stack.insert_users("seeker", 3).await;
    let (alice, bob, carol) = (&users[0], &users[1], &users[2]);
    let room = stack.create_room(alice, "a", &[bob]).await;
    let other = stack.create_room(carol, "b", &[bob]).await;
    stack
        .send_message(alice, &room, "harbour lights at dusk")
        .await;
    let edited = stack
        .send_message(alice, &room, "first draft of the harbour plan")
        .await;
    let deleted = stack
        .send_message(bob, &room, "harbour gossip, delete me")
        .await;
    stack
        .send_message(carol, &other, "harbour seen from room b only")
        .await;
    let mut ws = WsClient::connect(&stack.gateway_bases()[0], &alice.token).await;
    let answer = ws
        .call(
            json!({"type": "edit", "roomId": room, "messageId": edited["messageId"],
                     "message": "final harbour plan"}),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(answer["type"], "ack", "{answer}");
    let mut ws_bob = WsClient::connect(&stack.gateway_bases()[1], &bob.token).await;
    let answer = ws_bob
        .call(
            json!({"type": "delete", "roomId": room, "messageId": deleted["messageId"]}),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(answer["type"], "ack", "{answer}");
    drop((ws, ws_bob));

    let before = [
        answer_with(&stack, alice, "harbour", 2).await,
        answer_with(&stack, bob, "harbour", 3).await,
        answer_with(&stack, alice, "final plan", 1).await,
        answer_with(&stack, alice, "draft", 0).await,
        answer_with(&stack, bob, "gossip", 0).await,
    ];

    stack.api.kill9();
    stack.projector.kill9();
    for gateway in &mut stack.gateways {
        gateway.kill9();
    }
    tokio::task::block_in_place(|| {
        stack.nats.restart();
        stack.pg.stop();
        stack.pg.start_again();
    });
    let db = connect_db(&stack.database_url)
        .await
        .expect("Postgres is back");
    db.batch_execute(
        "DELETE FROM messages; DELETE FROM room_members; DELETE FROM member_changes; \
         DELETE FROM direct_rooms; DELETE FROM rooms; \
         DELETE FROM projector_checkpoints WHERE stream LIKE 'CHAT_ROOMS%'",
    )
    .await
    .unwrap();
    stack.api.start().await;
    stack.projector.start().await;
    for gateway in &mut stack.gateways {
        gateway.start().await;
    }

    let after = [
        answer_with(&stack, alice, "harbour", 2).await,
        answer_with(&stack, bob, "harbour", 3).await,
        answer_with(&stack, alice, "final plan", 1).await,
        answer_with(&stack, alice, "draft", 0).await,
        answer_with(&stack, bob, "gossip", 0).await,
    ];
    assert_eq!(before, after, "the same answers, rebuilt from the events");
    let rebuilt = db
        .query_one("SELECT count(*) FROM messages", &[])
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(rebuilt, 4, "every message was projected again");
}
