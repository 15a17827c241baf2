//! `/search <words>`: the messages of one's own rooms with those words, one `found` line
//! each; a word only another person's room holds finds nothing; a query with no word to
//! look for is refused with the server's code.

use crate::terminal::Chat;
use chat_testkit::ServerStack as Stack;

#[test]
fn search_finds_words_in_ones_own_rooms_only() {
    let stack = Stack::start();
    let (mut alice, _) = Chat::sign_up(&stack.base(), "alice", &[]);
    let (mut bob, _) = Chat::sign_up(&stack.base(), "bob", &[]);
    bob.type_line("/create secret private");
    bob.stderr_line(|l| l.starts_with("* joined "));
    bob.type_line("the zeppelin leaves the harbour");
    bob.stderr_line(|l| l.starts_with("ok send "));
    alice.type_line("/create garden private");
    let room = alice.stderr_line(|l| l.starts_with("* created "))["* created ".len()..].to_owned();
    alice.stderr_line(|l| l.starts_with(&format!("* joined {room} ")));
    alice.type_line("meet me at the harbour\tat noon");
    alice.stderr_line(|l| l.starts_with(&format!("ok send {room} ")));
    // `/history` waits for the projection of what this client sent, so search sees it too.
    alice.type_line("/history 1");
    alice.stdout_line(|l| l.starts_with(&format!("history [{room}] #")));

    alice.type_line("/search Harbour");
    let found = alice.stdout_line(|l| l.starts_with("found "));
    assert!(
        found.starts_with(&format!("found [{room}] #"))
            && found.ends_with(" alice: meet me at the harbour\\tat noon"),
        "{found}"
    );
    alice.type_line("/search zeppelin");
    alice.stderr_line(|l| l == "* no message has \"zeppelin\"");
    alice.type_line("/search -harbour");
    alice.stderr_line(|l| l.starts_with("error: invalid_query: "));

    for chat in [&mut alice, &mut bob] {
        chat.close_stdin();
        assert!(chat.exit_status().success());
    }
    let found: Vec<String> = alice
        .stdout()
        .into_iter()
        .filter(|l| l.starts_with("found "))
        .collect();
    assert_eq!(found.len(), 1, "only alice's own message: {found:?}");
}
