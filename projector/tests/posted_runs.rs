//! Runs of posted messages against a real Postgres: a long run goes through `COPY`, a run
//! holding a `clientMsgId` already stored falls back to the conflict-skipping insert, and
//! messages of a room that does not exist are passed over, all with the checkpoint.

use chat_core::database::{self, DatabaseConfig};
use chat_projector::batch::{apply_batch, load_checkpoint, StoredEvent};
use chat_schemas::events::{Envelope, EventBody, RoomKind, Visibility};
use chat_schemas::{MessageId, RoomId, UserId};
use chat_testkit::postgres::TestDatabase;
use std::time::Duration;

fn stored(seq: u64, event: &Envelope) -> StoredEvent {
    StoredEvent::parse(seq, &serde_json::to_vec(event).unwrap(), None)
}

fn posted(actor: UserId, room: &RoomId, client_msg_id: Option<String>) -> Envelope {
    Envelope::room(
        actor,
        room.clone(),
        EventBody::MessagePosted {
            message_id: MessageId::generate(),
            message: "hello".into(),
            client_timestamp: None,
            client_msg_id,
        },
    )
}

#[tokio::test]
async fn long_runs_are_copied_and_a_stored_client_msg_id_falls_back_to_skipping_it() {
    let db = TestDatabase::create().await;
    let pool = database::pool(&DatabaseConfig {
        url: db.url(),
        pool_size: 2,
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    database::migrate(&pool).await.unwrap();
    let (actor, room, nowhere) = (UserId::generate(), RoomId::generate(), RoomId::generate());
    let created = Envelope::room(
        actor,
        room.clone(),
        EventBody::RoomCreated {
            name: "copy".into(),
            visibility: Visibility::Public,
            kind: RoomKind::Group,
            members: Vec::new(),
        },
    );

    // Seq 1 creates the room; 2..=201 are 200 messages (one run, COPYed), one of them
    // with a clientMsgId; 202 is in a room that does not exist.
    let mut batch = vec![stored(1, &created)];
    for seq in 2..=201 {
        let key = (seq == 100).then(|| "k-100".to_string());
        batch.push(stored(seq, &posted(actor, &room, key)));
    }
    batch.push(stored(202, &posted(actor, &nowhere, None)));
    apply_batch(&pool, "CHAT_ROOMS", None, &batch)
        .await
        .unwrap();

    // A retry of k-100 after the duplicate window, in a run of 100: the COPY fails on
    // the unique key, and the run is inserted without it.
    let retried: Vec<StoredEvent> = (203..=302)
        .map(|seq| {
            let key = (seq == 250).then(|| "k-100".to_string());
            stored(seq, &posted(actor, &room, key))
        })
        .collect();
    apply_batch(&pool, "CHAT_ROOMS", None, &retried)
        .await
        .unwrap();
    // Applying it again changes nothing (it is at or below the checkpoint).
    apply_batch(&pool, "CHAT_ROOMS", None, &retried)
        .await
        .unwrap();

    let client = pool.get().await.unwrap();
    let seqs: Vec<i64> = client
        .query("SELECT seq FROM messages ORDER BY seq", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expected: Vec<i64> = (2..=201).chain(203..=302).filter(|&s| s != 250).collect();
    assert_eq!(seqs, expected);
    let last_seq: i64 = client
        .query_one(
            "SELECT last_seq FROM rooms WHERE room_id = $1",
            &[&room.as_str()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(last_seq, 302);
    assert_eq!(load_checkpoint(&pool, "CHAT_ROOMS").await.unwrap(), 302);
}
