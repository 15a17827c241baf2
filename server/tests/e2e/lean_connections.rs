//! What an idle connection and a message cost a gateway, counted rather than timed, so
//! that a change which brings back per-connection tasks or a database round trip per
//! message fails here and not only in `ops/bench`:
//!
//! - an idle connection is one task (no writer or announcer task of its own), and its
//!   task ends with it;
//! - a `send` in a room the connection joined makes no database round trip: its
//!   membership was proved at `join` and is kept with the connection.
//!
//! Both read the gateway's own `/metrics`: `chat_runtime_alive_tasks` (the Tokio
//! runtime's live tasks) and `chat_db_queries_total` (database round trips, counted where
//! every query takes its pooled connection).

use serde_json::json;
use std::time::Duration;

use crate::app::spawn_app;
use chat_testkit::{GatewayProcess, WsClient};

/// Connections opened by the task count test.
const CONNECTIONS: usize = 40;

/// A metric without labels from a Prometheus text page.
async fn metric(metrics_base: &str, name: &str) -> f64 {
    let page = reqwest::get(format!("{metrics_base}/metrics"))
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    page.lines()
        .find_map(|line| {
            let (key, value) = line.split_once(' ')?;
            (key == name).then(|| value.trim().parse::<f64>().ok())?
        })
        .unwrap_or(0.0)
}

/// The metric once it has not moved for `quiet` (background work settled); panics after
/// 20 s of movement.
async fn settled(metrics_base: &str, name: &str, quiet: Duration) -> f64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut last = metric(metrics_base, name).await;
    loop {
        tokio::time::sleep(quiet).await;
        let now = metric(metrics_base, name).await;
        if now == last {
            return now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} still moving: {last} -> {now}"
        );
        last = now;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_one_task_that_ends_with_it() {
    let app = spawn_app().await;
    let gw = GatewayProcess::start(&app, &[]).await;
    let users = app.insert_users("idle", CONNECTIONS + 1).await;
    // One connection first, so that what the gateway starts once (relays, pools) is there.
    let (warm, _) = WsClient::connect_with_hello(&gw.base, &users[0].token).await;
    let tasks = "chat_runtime_alive_tasks";
    let quiet = Duration::from_millis(500);
    let before = settled(&gw.metrics_base, tasks, quiet).await;
    assert!(before > 0.0, "the gateway reports its tasks");

    let mut clients = Vec::new();
    for user in &users[1..] {
        clients.push(WsClient::connect_with_hello(&gw.base, &user.token).await.0);
    }
    let held = settled(&gw.metrics_base, tasks, quiet).await;
    let per_connection = (held - before) / CONNECTIONS as f64;
    println!("{CONNECTIONS} idle connections: {before} -> {held} tasks ({per_connection:.2} each)");
    assert!(
        per_connection <= 1.05,
        "an idle connection holds one task, not {per_connection:.2}"
    );

    for client in clients {
        client.close().await;
    }
    let after = settled(&gw.metrics_base, tasks, quiet).await;
    assert!(
        after <= before + 2.0,
        "the tasks of closed connections end: {before} before, {after} after"
    );
    warm.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_in_a_joined_room_makes_no_database_round_trip() {
    let app = spawn_app().await;
    let gw = GatewayProcess::start(&app, &[]).await;
    let alice = app.register("alice").await;
    let room = app
        .create_room(&alice, json!({"name": "quiet", "visibility": "public"}))
        .await;
    let other = app
        .create_room(&alice, json!({"name": "other", "visibility": "public"}))
        .await;
    let mut ws = WsClient::connect(&gw.base, &alice.token).await;
    let joined = ws.join(&room).await;
    assert_eq!(joined["type"], "joined", "{joined}");

    let queries = "chat_db_queries_total";
    let quiet = Duration::from_millis(700);
    let before = settled(&gw.metrics_base, queries, quiet).await;
    let mut events = Vec::new();
    for i in 0..20 {
        let ack = ws
            .call(
                json!({"type": "send", "roomId": room, "message": format!("hello {i}")}),
                &mut events,
            )
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    let after = metric(&gw.metrics_base, queries).await;
    assert_eq!(
        after,
        before,
        "20 sends in a joined room made {} database round trips",
        after - before
    );

    // The counter does move when the gateway asks the database (so the check above can
    // fail): joining another room proves that membership.
    let joined = ws.join(&other).await;
    assert_eq!(joined["type"], "joined", "{joined}");
    let moved = metric(&gw.metrics_base, queries).await;
    assert!(moved > after, "a join is counted: {after} -> {moved}");
}
