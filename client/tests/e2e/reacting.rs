//! Reactions from the terminal: `/react <#seq> <emoji>` and `/unreact`, the other person's
//! live event line, history lines with `[emoji count (you)]`, and refusals on stderr.

use crate::terminal::Chat;
use chat_testkit::ServerStack as Stack;

#[test]
fn react_and_unreact_by_history_number_show_counts_live_and_in_history() {
    let stack = Stack::start();
    let (mut alice, _) = Chat::sign_up(&stack.base(), "alice", &[]);
    alice.type_line("/create lunch");
    let created = alice.stderr_line(|l| l.starts_with("* created "));
    let room = created["* created ".len()..].to_owned();
    alice.stderr_line(|l| l.starts_with(&format!("* joined {room} ")));
    let (mut bob, _) = Chat::sign_up(&stack.base(), "bob", &["--room", &room]);
    bob.stderr_line(|l| l.starts_with(&format!("* joined {room} ")));

    alice.type_line("noon?");
    let ok = alice.stderr_line(|l| l.starts_with(&format!("ok send {room} seq=")));
    let seq: u64 = ok
        .split("seq=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a seq in {ok:?}"));
    bob.stdout_line(|l| l == format!("[{room}] alice: noon?"));

    bob.type_line(&format!("/react #{seq} 👍"));
    bob.stderr_line(|l| l == format!("* #{seq}: 👍 1 (you)"));
    alice.stdout_line(|l| l.starts_with(&format!("[{room}] * bob reacted 👍 to ")));
    alice.type_line(&format!("/react {seq} :tada:"));
    alice.stderr_line(|l| l == format!("* #{seq}: 👍 1, :tada: 1 (you)"));
    alice.type_line("/history 5");
    alice.stdout_line(|l| {
        l.starts_with(&format!("history [{room}] #{seq} "))
            && l.ends_with("alice: noon?  [👍 1, :tada: 1 (you)]")
    });

    bob.type_line(&format!("/react {seq} nope"));
    bob.stderr_line(|l| l.starts_with("error: invalid_emoji: "));
    bob.type_line(&format!("/react {} 👍", seq + 1000));
    bob.stderr_line(|l| l.starts_with(&format!("error: no message #{}", seq + 1000)));
    bob.type_line("/react 👍");
    bob.stderr_line(|l| l.starts_with("error: wrong arguments for /react"));
    bob.type_line(&format!("/unreact {seq} 👍"));
    bob.stderr_line(|l| l == format!("* #{seq}: :tada: 1"));
    alice.stdout_line(|l| l.starts_with(&format!("[{room}] * bob took back 👍 on ")));

    for chat in [&mut alice, &mut bob] {
        chat.close_stdin();
        assert!(chat.exit_status().success());
    }
}
