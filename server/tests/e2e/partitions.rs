//! Two projector processes share the room stream's partitions through leases; when one
//! is killed the other takes its partitions over, applying nothing twice and skipping
//! nothing, with per-room order kept.

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::app::{spawn_app_with, AppOptions};
use chat_testkit::start_projector_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_are_shared_and_taken_over_when_an_instance_dies() {
    let app = spawn_app_with(AppOptions {
        run_projector: false,
        ..Default::default()
    })
    .await;
    let env = [
        ("PROJECTOR_PARTITIONS", "4"),
        ("PROJECTOR_LEASE_INTERVAL_MS", "300"),
    ];
    let mut first = start_projector_with(&app.nats.url(), &app.database_url, &env);
    let mut second = start_projector_with(&app.nats.url(), &app.database_url, &env);
    let (db, conn) = tokio_postgres::connect(&app.database_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);

    // Both instances end up holding some of the seven units (4 partitions + users + people
    // + reads), and every unit is held by exactly one of them.
    const UNITS: i64 = 7;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = db
            .query(
                "SELECT a.application_name, count(*) FROM pg_locks l \
                 JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database() \
                 GROUP BY a.application_name",
                &[],
            )
            .await
            .unwrap();
        let held: Vec<i64> = rows.iter().map(|r| r.get::<_, i64>(1)).collect();
        if held.len() == 2 && held.iter().all(|&n| n > 0) && held.iter().sum::<i64>() == UNITS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "units not shared between the instances: {held:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let alice = app.register("alice").await;
    let mut rooms = Vec::new();
    for i in 0..8 {
        rooms.push(
            app.create_room(&alice, json!({"name": format!("r{i}")}))
                .await,
        );
    }
    const PER_ROOM: usize = 40;
    let (app_ref, alice_ref, rooms_ref) = (&app, &alice, &rooms);
    let sends = futures::stream::iter(0..PER_ROOM * rooms.len())
        .map(|i| async move {
            let room = &rooms_ref[i % rooms_ref.len()];
            let (status, body) = app_ref
                .send_raw(alice_ref, room, &format!("m{i}"), Some(&format!("k{i}")))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            (room.clone(), body["seq"].as_i64().unwrap())
        })
        .buffer_unordered(8);
    let killer = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        first.kill9();
        Instant::now()
    };
    let (acked, killed_at) = tokio::join!(sends.collect::<Vec<_>>(), killer);
    let last = acked.iter().map(|a| a.1).max().unwrap();

    // The survivor takes every unit and brings each partition to the end of the stream.
    loop {
        let behind: i64 = db
            .query_one(
                "SELECT count(*) FROM projector_checkpoints WHERE stream LIKE 'CHAT_ROOMS/%' AND last_seq < $1",
                &[&last],
            )
            .await
            .unwrap()
            .get(0);
        let partitions: i64 = db
            .query_one(
                "SELECT count(*) FROM projector_checkpoints WHERE stream LIKE 'CHAT_ROOMS/%'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if partitions == 4 && behind == 0 {
            break;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(20),
            "partitions not taken over: {behind} of {partitions} behind {last}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "all partitions caught up {:?} after the kill",
        killed_at.elapsed()
    );

    let mut expected: HashMap<String, Vec<i64>> = HashMap::new();
    for (room, seq) in &acked {
        expected.entry(room.clone()).or_default().push(*seq);
    }
    for (room, mut seqs) in expected {
        seqs.sort_unstable();
        let rows = db
            .query(
                "SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq",
                &[&room],
            )
            .await
            .unwrap();
        let stored: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(
            stored, seqs,
            "room {room}: every acknowledged message once, in order"
        );
    }
    second.kill9();
}
