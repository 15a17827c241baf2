//! With NATS or Postgres stopped, writes and reads answer 503 with the JSON error quickly,
//! never hang, and recover by themselves when the service is back.

use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

use crate::app::{spawn_app, spawn_app_with, AppOptions};
use chat_testkit::PostgresCluster;

/// The bound on an answer while a dependency is down.
const FAST: Duration = Duration::from_secs(4);

#[tokio::test]
async fn with_nats_down_sends_are_refused_fast_and_recover_when_it_returns() {
    let mut app = spawn_app().await;
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "r"})).await;
    let before = app.send(&alice, &room, "before").await;
    let (status, _) = app
        .messages(&alice, &room, &format!("&minSeq={}", before["seq"]))
        .await;
    assert_eq!(status, StatusCode::OK, "projected before NATS goes");

    app.nats.kill();
    for _ in 0..3 {
        let started = Instant::now();
        let (status, body) = app.send_raw(&alice, &room, "during", None).await;
        assert!(started.elapsed() < FAST, "took {:?}", started.elapsed());
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"]["code"], "event_log_unavailable");
    }
    // Reads come from Postgres and keep working.
    let (status, page) = app
        .messages(&alice, &room, &format!("&minSeq={}", before["seq"]))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");

    app.nats.restart();
    let after = app
        .send_until_stored(&alice, &room, "after", None, Duration::from_secs(20))
        .await;
    // The projector recovered too: the new message reaches history.
    let (status, page) = app
        .messages(&alice, &room, &format!("&minSeq={}", after["seq"]))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let texts: Vec<_> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["before", "after"]);
}

#[tokio::test]
async fn with_postgres_down_requests_answer_503_fast_and_recover_when_it_returns() {
    let cluster = PostgresCluster::start();
    let app = spawn_app_with(AppOptions {
        database_url: Some(cluster.admin_url()),
        ..Default::default()
    })
    .await;
    let alice = app.register("alice").await;
    let room = app.create_room(&alice, json!({"name": "r"})).await;
    app.send(&alice, &room, "before").await;

    cluster.stop();
    let started = Instant::now();
    let (read_status, read_body) = app.messages(&alice, &room, "").await;
    let (send_status, send_body) = app.send_raw(&alice, &room, "during", None).await;
    let (login_status, _) = app
        .post(
            "/auth/login",
            None,
            json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    assert!(started.elapsed() < FAST * 3, "took {:?}", started.elapsed());
    assert_eq!(read_status, StatusCode::SERVICE_UNAVAILABLE, "{read_body}");
    assert_eq!(read_body["error"]["code"], "database_unavailable");
    assert_eq!(send_status, StatusCode::SERVICE_UNAVAILABLE, "{send_body}");
    assert_eq!(login_status, StatusCode::SERVICE_UNAVAILABLE);
    let (ready, _) = app.get("/readyz", None).await;
    assert_eq!(ready, StatusCode::SERVICE_UNAVAILABLE);

    cluster.start_again();
    let after = app
        .send_until_stored(&alice, &room, "after", None, Duration::from_secs(20))
        .await;
    let (status, page) = app
        .messages(&alice, &room, &format!("&minSeq={}", after["seq"]))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["messages"].as_array().unwrap().len(), 2);
    let (ready, _) = app.get("/readyz", None).await;
    assert_eq!(ready, StatusCode::OK);
}
