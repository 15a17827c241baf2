//! `chat-replay` against a real deployment (NATS, Postgres, `chat-server` from the test
//! kit): a room's events from a seq as JSON lines, nothing of another room, a whole
//! stream, and `--follow` printing an event stored after it started.

use chat_testkit::http::ApiClient;
use chat_testkit::process::binary;
use chat_testkit::stack::ServerStack;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn replay(nats_url: &str, args: &[&str]) -> Vec<Value> {
    let output = Command::new(binary("chat-replay"))
        .args(args)
        .env("NATS_URL", nats_url)
        .output()
        .expect("chat-replay runs");
    assert!(output.status.success(), "chat-replay {args:?}: {output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

fn texts(lines: &[Value]) -> Vec<&str> {
    lines
        .iter()
        .filter(|l| l["event"]["type"] == "message.posted")
        .map(|l| l["event"]["data"]["message"].as_str().unwrap())
        .collect()
}

#[test]
fn a_room_is_printed_from_a_seq_and_followed_live() {
    let stack = ServerStack::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = ApiClient::new(&stack.base());
    let nats = stack.nats_url();
    let (alice, room, other, seqs) = runtime.block_on(async {
        let alice = api.register("alice").await;
        let room = api.create_room(&alice, json!({"name": "Replayed"})).await;
        let other = api.create_room(&alice, json!({"name": "Elsewhere"})).await;
        let mut seqs = Vec::new();
        for text in ["one", "two", "three"] {
            seqs.push(api.send(&alice, &room, text).await["seq"].as_u64().unwrap());
        }
        api.send(&alice, &other, "not in the room").await;
        (alice, room, other, seqs)
    });

    let all = replay(&nats, &["--room", &room]);
    assert_eq!(texts(&all), ["one", "two", "three"]);
    assert!(all
        .iter()
        .all(|l| l["subject"] == format!("chat.room.{room}")));
    assert!(all.iter().all(|l| l["stream"] == "CHAT_ROOMS"));
    let from_second = replay(
        &nats,
        &["--room", &room, "--from-seq", &seqs[1].to_string()],
    );
    assert_eq!(texts(&from_second), ["two", "three"]);
    assert_eq!(from_second[0]["seq"].as_u64(), Some(seqs[1]));
    let beyond = replay(&nats, &["--room", &room, "--from-seq", "1000000"]);
    assert!(beyond.is_empty());
    let stream = replay(&nats, &["--stream", "rooms"]);
    assert_eq!(texts(&stream), ["one", "two", "three", "not in the room"]);
    assert!(stream
        .iter()
        .any(|l| l["subject"] == format!("chat.room.{other}")));

    // --follow: what is stored after it started arrives too.
    let mut follower = Command::new(binary("chat-replay"))
        .args([
            "--room",
            &room,
            "--from-seq",
            &seqs[2].to_string(),
            "--follow",
        ])
        .env("NATS_URL", &nats)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(follower.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(texts(&[first]), ["three"]);
    let started = Instant::now();
    runtime.block_on(api.send(&alice, &room, "live"));
    let live: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(texts(&[live]), ["live"]);
    assert!(started.elapsed() < Duration::from_secs(10));
    follower.kill().unwrap();
    let _ = follower.wait();
}

#[test]
fn bad_arguments_are_refused_with_a_reason() {
    // NATS is not asked: each is refused for what is wrong with it, before connecting.
    for (args, reason) in [
        (&[][..], "--room <roomId> or --stream"),
        (&["--room", "not a room id!"][..], "--room"),
        (
            &["--room", "r1", "--from-seq", "0"][..],
            "--from-seq starts at 1",
        ),
        (&["--stream", "nope"][..], "invalid value 'nope'"),
    ] {
        let output = Command::new(binary("chat-replay"))
            .args(args)
            .env("NATS_URL", "nats://127.0.0.1:1")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("NATS"),
            "{args:?} got as far as NATS: {stderr}"
        );
    }
}
