//! The same `clientMsgId` from the same sender yields one message with one `seq`, whether
//! the retry comes at once (JetStream's duplicate window) or after projection (read model).

use reqwest::StatusCode;
use serde_json::json;

use crate::app::spawn_app;

#[tokio::test]
async fn the_same_client_msg_id_twice_gives_the_same_seq_and_one_message() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "r", "members": [bob.id]}))
        .await;

    // Concurrent retries race inside JetStream's duplicate window.
    let (a, b) = tokio::join!(
        app.send_raw(&alice, &room, "once", Some("c-1")),
        app.send_raw(&alice, &room, "once", Some("c-1")),
    );
    assert_eq!((a.0, b.0), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(a.1["seq"], b.1["seq"]);
    assert_eq!(a.1["messageId"], b.1["messageId"]);
    assert_eq!(a.1["timestamp"], b.1["timestamp"]);

    // After projection, a later retry is answered from history.
    let (_, page) = app
        .messages(&alice, &room, &format!("&minSeq={}", a.1["seq"]))
        .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    let (status, late) = app.send_raw(&alice, &room, "once", Some("c-1")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(late["seq"], a.1["seq"]);
    assert_eq!(late["messageId"], a.1["messageId"]);

    // Another sender may use the same key for their own message.
    let (_, other) = app.send_raw(&bob, &room, "mine", Some("c-1")).await;
    assert_ne!(other["seq"], a.1["seq"]);
    let list = app.wait_for_messages(&alice, &room, 2).await;
    assert_eq!(list.len(), 2, "{list:?}");
}
