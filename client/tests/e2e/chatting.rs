//! Two people chatting through `chat` processes, and the slash commands.

use crate::terminal::Chat;
use chat_testkit::ServerStack as Stack;

/// Alice registers and creates a room; answers the client with the room id.
fn alice_creates_a_room(stack: &Stack) -> (Chat, String, String) {
    let (mut alice, alice_id) = Chat::sign_up(&stack.base(), "alice", &[]);
    alice.type_line("/create general");
    let created = alice.stderr_line(|l| l.starts_with("* created "));
    let room = created["* created ".len()..].to_owned();
    alice.stderr_line(|l| l.starts_with(&format!("* joined {room} ")));
    (alice, alice_id, room)
}

#[test]
fn lines_typed_by_one_user_appear_on_the_other_users_stdout() {
    let stack = Stack::start();
    let (mut alice, _, room) = alice_creates_a_room(&stack);
    let (mut bob, _) = Chat::sign_up(&stack.base(), "bob", &["--room", &room]);
    bob.stderr_line(|l| l.starts_with(&format!("* joined {room} ")));

    alice.type_line("hello bob");
    bob.stdout_line(|l| l == format!("[{room}] alice: hello bob"));
    alice.stderr_line(|l| l.starts_with(&format!("ok send {room} seq=")));

    bob.type_line("hi alice, multi\\line?");
    alice.stdout_line(|l| l == format!("[{room}] bob: hi alice, multi\\\\line?"));
    // Alice also sees bob arrive, with a clear prefix.
    assert!(
        alice.stdout().contains(&format!("[{room}] * bob joined")),
        "{:?}",
        alice.stdout()
    );

    for chat in [&mut alice, &mut bob] {
        chat.close_stdin();
        assert!(chat.exit_status().success());
    }
    let hello = format!("[{room}] alice: hello bob");
    assert_eq!(bob.stdout().iter().filter(|l| **l == hello).count(), 1);
}

#[test]
fn slash_commands_answer_on_stdout_and_mistakes_are_explained_on_stderr() {
    let stack = Stack::start();
    let (mut alice, alice_id, room) = alice_creates_a_room(&stack);
    let (mut bob, _) = Chat::sign_up(&stack.base(), "bob", &[]);

    bob.type_line("a line before any room");
    bob.stderr_line(|l| l.starts_with("error: no current room"));
    bob.type_line("/frobnicate now");
    bob.stderr_line(|l| l.starts_with("error: unknown command /frobnicate"));

    bob.type_line(&format!("/join {room}"));
    bob.stderr_line(|l| l.starts_with(&format!("* joined {room} ")));
    bob.type_line("first");
    bob.stderr_line(|l| l.starts_with(&format!("ok send {room} ")));
    bob.type_line("/history 5");
    bob.stdout_line(|l| l.starts_with(&format!("history [{room}] #")) && l.ends_with("bob: first"));

    bob.type_line("/rooms");
    bob.stdout_line(|l| {
        l.starts_with(&format!("room {room} public group members=2 ")) && l.ends_with(" general")
    });

    // An id still works where a name does; the answer names the person.
    bob.type_line(&format!("/who {alice_id}"));
    // (Whether alice shows as online yet depends on the projector; the line's shape does not.)
    bob.stdout_line(|l| l.starts_with("status alice ") && l.contains(" lastSeen="));

    bob.type_line("/status away");
    bob.stderr_line(|l| l == "ok status away");
    alice.stdout_line(|l| l == "* bob is away");

    // A direct room: bob opens it, alice joins it by id, and they talk there.
    bob.type_line(&format!("/dm {alice_id}"));
    let direct =
        bob.stderr_line(|l| l.starts_with("* direct room "))["* direct room ".len()..].to_owned();
    bob.stderr_line(|l| l.starts_with(&format!("* joined {direct} ")));
    alice.type_line(&format!("/join {direct}"));
    alice.stderr_line(|l| l.starts_with(&format!("* joined {direct} ")));
    bob.type_line("psst");
    alice.stdout_line(|l| l == format!("[{direct}] bob: psst"));

    // /switch changes where plain lines go.
    alice.type_line(&format!("/switch {room}"));
    alice.type_line("back in general");
    bob.stdout_line(|l| l == format!("[{room}] alice: back in general"));

    alice.type_line("/quit");
    assert!(alice.exit_status().success());
    bob.close_stdin();
    assert!(bob.exit_status().success());
}
