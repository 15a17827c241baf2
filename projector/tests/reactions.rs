//! The reaction fold against a real Postgres, fed events no command would store (as a
//! stream may hold after a race, or a hostile writer could): the projector itself keeps
//! one reaction per user and emoji, reactions by members only, none on a deleted message
//! or a message of another room, and at most 50 distinct emoji per message, so a rebuild
//! from the stream gives the answers the commands gave.

use chat_core::database::{self, DatabaseConfig};
use chat_core::input::reactions::MAX_DISTINCT_REACTIONS;
use chat_projector::batch::{apply_batch, StoredEvent};
use chat_schemas::events::{Envelope, EventBody, RoomKind, Visibility};
use chat_schemas::{MessageId, RoomId, UserId};
use chat_testkit::postgres::TestDatabase;
use std::time::Duration;

fn stored(seq: u64, event: &Envelope) -> StoredEvent {
    StoredEvent::parse(seq, &serde_json::to_vec(event).unwrap(), None)
}

fn created(actor: UserId, room: &RoomId, members: Vec<UserId>) -> Envelope {
    Envelope::room(
        actor,
        room.clone(),
        EventBody::RoomCreated {
            name: "r".into(),
            visibility: Visibility::Private,
            kind: RoomKind::Group,
            members,
        },
    )
}

fn react(actor: UserId, room: &RoomId, message: MessageId, emoji: &str, add: bool) -> Envelope {
    let (message_id, emoji) = (message, emoji.to_owned());
    let body = if add {
        EventBody::ReactionAdded { message_id, emoji }
    } else {
        EventBody::ReactionRemoved { message_id, emoji }
    };
    Envelope::room(actor, room.clone(), body)
}

#[tokio::test]
async fn the_fold_keeps_the_rules_whatever_the_stream_holds() {
    let db = TestDatabase::create().await;
    let pool = database::pool(&DatabaseConfig {
        url: db.url(),
        pool_size: 2,
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    database::migrate(&pool).await.unwrap();
    let (alice, bob, outsider) = (UserId::generate(), UserId::generate(), UserId::generate());
    let (room, other_room) = (RoomId::generate(), RoomId::generate());
    let (message, doomed, elsewhere) = (
        MessageId::generate(),
        MessageId::generate(),
        MessageId::generate(),
    );
    let post = |room: &RoomId, id: MessageId| {
        Envelope::room(
            alice,
            room.clone(),
            EventBody::MessagePosted {
                message_id: id,
                message: "m".into(),
                client_timestamp: None,
                client_msg_id: None,
            },
        )
    };
    let mut events = vec![
        created(alice, &room, vec![bob]),
        created(alice, &other_room, vec![]),
        post(&room, message),
        post(&room, doomed),
        post(&other_room, elsewhere),
        // Counted: alice and bob once each, despite bob's repeat.
        react(alice, &room, message, "👍", true),
        react(bob, &room, message, "👍", true),
        react(bob, &room, message, "👍", true),
        // Not counted: an outsider, a message named through another room, a deleted one.
        react(outsider, &room, message, "👍", true),
        react(alice, &room, elsewhere, "👍", true),
        Envelope::room(
            alice,
            room.clone(),
            EventBody::MessageDeleted { message_id: doomed },
        ),
        react(bob, &room, doomed, "👍", true),
        // Taken back, and taken back again (a no-op).
        react(bob, &room, message, ":tada:", true),
        react(bob, &room, message, ":tada:", false),
        react(bob, &room, message, ":tada:", false),
    ];
    // 49 more distinct emoji make 50 with 👍; the 51st is not counted, an existing one is.
    for i in 1..MAX_DISTINCT_REACTIONS {
        events.push(react(alice, &room, message, &format!(":e{i}:"), true));
    }
    events.push(react(bob, &room, message, ":one-too-many:", true));
    events.push(react(bob, &room, message, ":e1:", true));
    let batch: Vec<StoredEvent> = events
        .iter()
        .enumerate()
        .map(|(i, e)| stored(i as u64 + 1, e))
        .collect();
    apply_batch(&pool, "CHAT_ROOMS", None, &batch)
        .await
        .unwrap();

    let client = pool.get().await.unwrap();
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(
        count("SELECT count(DISTINCT emoji) FROM reactions WHERE present").await,
        MAX_DISTINCT_REACTIONS
    );
    let thumbs: Vec<(uuid::Uuid, bool)> = client
        .query(
            "SELECT user_id, present FROM reactions WHERE emoji = '👍' ORDER BY seq",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(thumbs, [(alice.0, true), (bob.0, true)]);
    assert_eq!(
        count("SELECT count(*) FROM reactions WHERE emoji = ':tada:' AND present").await,
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM reactions WHERE emoji = ':one-too-many:'").await,
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM reactions WHERE emoji = ':e1:' AND present").await,
        2
    );
    let page = pool_reactions(&pool, message, bob).await;
    assert_eq!(page.len() as i64, MAX_DISTINCT_REACTIONS);
    assert_eq!(
        (page[0].emoji.as_str(), page[0].count, page[0].me),
        ("👍", 2, true)
    );

    // Applying the same events again (a replay past a lost checkpoint) changes nothing.
    let before = count("SELECT (sum(seq) + count(*))::bigint FROM reactions").await;
    client
        .execute("DELETE FROM projector_checkpoints", &[])
        .await
        .unwrap();
    apply_batch(&pool, "CHAT_ROOMS", None, &batch)
        .await
        .unwrap();
    assert_eq!(
        count("SELECT (sum(seq) + count(*))::bigint FROM reactions").await,
        before
    );
}

/// The message's reactions as the read model answers them to `viewer`.
async fn pool_reactions(
    pool: &deadpool_postgres::Pool,
    message: MessageId,
    viewer: UserId,
) -> Vec<chat_core::readmodel::ReactionCount> {
    let read = chat_core::readmodel::ReadModel::new(pool.clone(), Duration::from_secs(5));
    read.reactions_of(message, viewer).await.unwrap()
}
