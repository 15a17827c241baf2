//! `kill -9` of a projector process in the middle of a stream of sends, then a restart:
//! every acknowledged message is in Postgres exactly once, in room order.

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

use crate::app::{spawn_app_with, AppOptions};
use chat_testkit::start_projector;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_projector_mid_stream_loses_and_duplicates_nothing() {
    let app = spawn_app_with(AppOptions {
        run_projector: false,
        ..Default::default()
    })
    .await;
    let mut projector = start_projector(&app.nats.url(), &app.database_url);

    // Room set-up waits for projection, so the projector process is already applying.
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "crash"})).await;

    const SENDS: usize = 600;
    let app_ref = &app;
    let (alice_ref, room_ref) = (&alice, room.as_str());
    let sends = futures::stream::iter(0..SENDS)
        .map(|i| async move {
            let (status, body) = app_ref
                .send_raw(
                    alice_ref,
                    room_ref,
                    &format!("n{i}"),
                    Some(&format!("k{i}")),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            (
                i,
                body["seq"].as_i64().unwrap(),
                body["messageId"].as_str().unwrap().to_owned(),
            )
        })
        .buffer_unordered(16);

    let killer = async {
        // Kill once the projector has visibly applied part of the stream.
        let db = connect(&app.database_url).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let n: i64 = db
                .query_one("SELECT count(*) FROM messages", &[])
                .await
                .unwrap()
                .get(0);
            if n >= 100 || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        projector.kill9();
        projector
    };
    let (acked, mut projector) = tokio::join!(sends.collect::<Vec<_>>(), killer);
    let projected_at_kill: i64 = {
        let db = connect(&app.database_url).await;
        db.query_one("SELECT count(*) FROM messages", &[])
            .await
            .unwrap()
            .get(0)
    };
    assert!(
        projected_at_kill < SENDS as i64,
        "the kill came after the stream was fully applied"
    );

    projector = {
        drop(projector);
        start_projector(&app.nats.url(), &app.database_url)
    };
    let last_seq = acked.iter().map(|a| a.1).max().unwrap();
    let db = connect(&app.database_url).await;
    app.wait_for_checkpoint(last_seq as u64, Duration::from_secs(30))
        .await;
    let rows = db
        .query(
            "SELECT message_id::text, seq, body FROM messages WHERE room_id = $1 ORDER BY seq",
            &[&room],
        )
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        SENDS,
        "history must hold every acknowledged message exactly once"
    );
    let mut expected: Vec<_> = acked.clone();
    expected.sort_by_key(|a| a.1);
    for (row, (i, seq, id)) in rows.iter().zip(&expected) {
        assert_eq!(row.get::<_, i64>(1), *seq);
        assert_eq!(row.get::<_, String>(0), *id);
        assert_eq!(row.get::<_, String>(2), format!("n{i}"));
    }
    projector.kill9();
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}
