//! Signing in: registration falls back to login, and bad credentials or an unreachable
//! server end the client with a clear message and a non-zero exit code.

use crate::terminal::Chat;
use chat_testkit::free_port;
use chat_testkit::ServerStack as Stack;

#[test]
fn a_wrong_password_exits_non_zero_with_a_clear_message() {
    let stack = Stack::start();
    let (mut alice, _) = Chat::sign_up(&stack.base(), "alice", &[]);
    alice.close_stdin();
    assert!(alice.exit_status().success());

    let mut again = Chat::spawn_with_password(&stack.base(), "alice", "not the password", &[]);
    again.close_stdin();
    assert_eq!(again.exit_status().code(), Some(3));
    assert!(
        again
            .stderr()
            .contains(&"chat: login refused: invalid username or password".to_owned()),
        "{:?}",
        again.stderr()
    );
}

#[test]
fn registering_a_taken_name_logs_in_instead() {
    let stack = Stack::start();
    let (mut first, id) = Chat::sign_up(&stack.base(), "carol", &[]);
    first.close_stdin();
    assert!(first.exit_status().success());

    let (mut second, same_id) = Chat::sign_up(&stack.base(), "carol", &[]);
    assert_eq!(same_id, id);
    assert!(second
        .stderr()
        .contains(&"* carol is already registered: logging in".to_owned()));
    second.close_stdin();
    assert!(second.exit_status().success());
}

#[test]
fn an_unreachable_server_exits_non_zero_with_a_clear_message() {
    let base = format!("http://127.0.0.1:{}", free_port());
    let mut chat = Chat::spawn(&base, "alice", &[]);
    assert_eq!(chat.exit_status().code(), Some(4));
    let stderr = chat.stderr();
    assert!(
        stderr
            .iter()
            .any(|l| l.starts_with("chat: cannot reach the server: ") && l.contains("127.0.0.1")),
        "{stderr:?}"
    );
}
