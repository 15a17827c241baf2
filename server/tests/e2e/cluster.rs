//! The scaled-out shape on loopback: a 3-node `nats-server` cluster with R3 streams, two
//! gateway processes and two projector processes. Under load one NATS node and one
//! projector are killed with `kill -9`; every acknowledged message must end up in Postgres
//! exactly once in room order, and a client must resume with nothing missing.

use futures::StreamExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use crate::app::{spawn_app_with, AppOptions, TestApp};
use chat_testkit::{start_projector_with, GatewayProcess, NatsCluster, WsClient};

/// The app on the cluster, retried while the cluster forms and elects its leaders.
/// The node (0..3) leading the rooms stream.
pub(crate) async fn rooms_leader(cluster: &NatsCluster) -> usize {
    let nats = async_nats::connect(cluster.urls().split(',').collect::<Vec<_>>())
        .await
        .unwrap();
    let mut stream = async_nats::jetstream::new(nats)
        .get_stream("CHAT_ROOMS")
        .await
        .unwrap();
    let info = stream.info().await.unwrap();
    let name = info
        .cluster
        .as_ref()
        .and_then(|c| c.leader.clone())
        .expect("an R3 stream has a leader");
    name.trim_start_matches('n').parse().unwrap()
}

pub(crate) async fn app_on(cluster: &NatsCluster) -> TestApp {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let options = AppOptions {
            run_projector: false,
            nats_url: Some(cluster.urls()),
            nats_replicas: 3,
            ..Default::default()
        };
        match tokio::time::timeout(
            Duration::from_secs(10),
            tokio::spawn(spawn_app_with(options)),
        )
        .await
        {
            Ok(Ok(app)) => return app,
            _ => assert!(
                Instant::now() < deadline,
                "the cluster did not become usable"
            ),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_nats_node_and_a_projector_under_load_loses_and_repeats_nothing() {
    let mut cluster = NatsCluster::start();
    let app = app_on(&cluster).await;
    let urls = cluster.urls();
    let env = [("NATS_URL", urls.as_str()), ("NATS_REPLICAS", "3")];
    let (gw1, gw2) = tokio::join!(
        GatewayProcess::start(&app, &env),
        GatewayProcess::start(&app, &env)
    );
    let mut projector1 = start_projector_with(&urls, &app.database_url, &env);
    let mut projector2 = start_projector_with(&urls, &app.database_url, &env);

    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app
        .create_room(&alice, json!({"name": "cluster", "members": [bob.id]}))
        .await;
    let mut watcher = WsClient::connect(&gw1.base, &bob.token).await;
    let mut last_seen = watcher.join(&room).await["lastSeq"].as_u64().unwrap();
    let mut talker = WsClient::connect(&gw2.base, &alice.token).await;
    talker.join(&room).await;
    let across = talker
        .call(
            json!({"type": "send", "roomId": room, "message": "hi across gateways"}),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(across["type"], "ack", "{across}");
    let first = watcher.events(1).await;
    assert_eq!(first[0]["event"]["data"]["message"], "hi across gateways");
    last_seen = first[0]["seq"].as_u64().unwrap().max(last_seen);

    const SENDS: usize = 300;
    let (app_ref, alice_ref, room_ref) = (&app, &alice, room.as_str());
    let sender = futures::stream::iter(0..SENDS)
        .map(|i| async move {
            app_ref
                .send_until_stored(
                    alice_ref,
                    room_ref,
                    &format!("m{i}"),
                    Some(&format!("k{i}")),
                    Duration::from_secs(60),
                )
                .await["seq"]
                .as_u64()
                .unwrap()
        })
        .buffer_unordered(8)
        .collect::<Vec<u64>>();
    // The node leading the room stream: killing it forces a leader election mid-load.
    let leader = rooms_leader(&cluster).await;
    let chaos = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        cluster.kill(leader);
        projector1.kill9();
    };
    let (mut acked, ()) = tokio::join!(sender, chaos);
    acked.sort_unstable();
    acked.insert(0, across["seq"].as_u64().unwrap());
    let last = *acked.last().unwrap();

    // The surviving projector brings Postgres up to every acknowledged message.
    let (db, conn) = tokio_postgres::connect(&app.database_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    app.wait_for_checkpoint(last, Duration::from_secs(60)).await;
    let rows = db
        .query(
            "SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq",
            &[&room],
        )
        .await
        .unwrap();
    let stored: Vec<u64> = rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect();
    assert_eq!(
        stored, acked,
        "every acknowledged message exactly once, in room order"
    );

    // The watcher kept what arrived in an unbroken chain, then resumes from there.
    let mut got: Vec<u64> = vec![last_seen];
    while let Some(frame) = watcher.frame_within(Duration::from_millis(500)).await {
        if frame["type"] != "event" {
            continue;
        }
        if frame["prevSeq"].as_u64() != got.last().copied() {
            break; // a gap: what follows comes from the resume
        }
        got.push(frame["seq"].as_u64().unwrap());
    }
    let mut resumed = WsClient::connect(&gw2.base, &bob.token).await;
    let id = resumed
        .request(
            json!({"type": "resume", "rooms": [{"roomId": room, "lastSeq": got.last().unwrap()}]}),
        )
        .await;
    let mut replayed: Vec<Value> = Vec::new();
    let result = resumed.answer(&id, &mut replayed).await;
    assert_eq!(result["recovered"], true, "{result}");
    got.extend(replayed.iter().map(|e| e["seq"].as_u64().unwrap()));
    let seen: Vec<u64> = got.into_iter().filter(|s| acked.contains(s)).collect();
    assert_eq!(
        seen, acked,
        "the client ends with every message once, in order"
    );
    projector2.kill9();
}
