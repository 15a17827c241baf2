//! A server restart: clients reconnect, resume, and print every message exactly once,
//! including those typed while the server was down.

use crate::terminal::Chat;
use chat_testkit::ServerStack as Stack;

#[test]
fn after_a_server_restart_messages_typed_during_the_outage_appear_exactly_once() {
    let mut stack = Stack::start();
    let (mut alice, _) = Chat::sign_up(&stack.base(), "alice", &[]);
    alice.type_line("/create general");
    let room = alice.stderr_line(|l| l.starts_with("* created "))["* created ".len()..].to_owned();
    let (mut bob, _) = Chat::sign_up(&stack.base(), "bob", &["--room", &room]);
    bob.stderr_line(|l| l.starts_with(&format!("* joined {room} ")));
    alice.type_line("before the restart");
    bob.stdout_line(|l| l == format!("[{room}] alice: before the restart"));

    // SIGTERM: the server closes both connections with 1012 and exits.
    stack.stop_server();
    for chat in [&mut alice, &mut bob] {
        chat.stderr_line(|l| l.starts_with("* disconnected: the server is restarting (1012"));
    }
    let outage: Vec<String> = (1..=3)
        .map(|i| format!("typed during the outage {i}"))
        .collect();
    for line in &outage {
        alice.type_line(line);
    }
    stack.start_server();
    for chat in [&mut alice, &mut bob] {
        chat.stderr_line(|l| l == "* reconnected");
    }
    for line in &outage {
        bob.stdout_line(|l| l == format!("[{room}] alice: {line}"));
    }
    bob.type_line("welcome back");
    alice.stdout_line(|l| l == format!("[{room}] bob: welcome back"));
    alice.type_line("last one");
    bob.stdout_line(|l| l == format!("[{room}] alice: last one"));

    for chat in [&mut alice, &mut bob] {
        chat.close_stdin();
        assert!(chat.exit_status().success());
    }
    let mut expected = vec!["before the restart".to_owned()];
    expected.extend(outage);
    expected.push("last one".into());
    for chat in [&mut alice, &mut bob] {
        let stdout = chat.stdout();
        let messages: Vec<&str> = stdout
            .iter()
            .filter_map(|l| l.strip_prefix(&format!("[{room}] alice: ")))
            .collect();
        assert_eq!(
            messages, expected,
            "each message once, in order: {stdout:#?}"
        );
    }
    assert_eq!(
        bob.stdout()
            .iter()
            .filter(|l| **l == format!("[{room}] bob: welcome back"))
            .count(),
        1
    );
}
