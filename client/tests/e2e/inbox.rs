//! The live inbox at a running client: being given a DM or added to a private room shows
//! without a command typed, the room can be switched to and read, a rename shows under the
//! new name, `/who` lists members with names and presence, and `/rooms` counts unread
//! messages as the server keeps them (marked read by `read` frames on switching).

use std::time::{Duration, Instant};

use crate::terminal::Chat;
use chat_testkit::ServerStack as Stack;

/// Types `/rooms` until the line of `room` satisfies `want` (the read model follows the
/// `read` frame within moments, not at once).
fn rooms_line(chat: &mut Chat, room: &str, want: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        chat.type_line("/rooms");
        let line = chat.stdout_line(|l| l.starts_with(&format!("room {room} ")));
        if want(&line) || Instant::now() > deadline {
            assert!(want(&line), "{line}");
            return line;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_dm_and_an_added_private_room_show_up_live_and_read_state_and_names_follow() {
    let stack = Stack::start();
    let (mut alice, _) = Chat::sign_up(&stack.base(), "alice", &[]);
    let (mut bob, _) = Chat::sign_up(&stack.base(), "bob", &[]);

    // Alice opens a DM: bob's client says so, with nothing typed by bob.
    alice.type_line("/dm bob");
    let direct =
        alice.stderr_line(|l| l.starts_with("* direct room "))["* direct room ".len()..].to_owned();
    alice.stderr_line(|l| l.starts_with(&format!("* joined {direct} ")));
    bob.stdout_line(|l| {
        l == "* You were added to a conversation with alice (/switch @alice to talk there)"
    });
    bob.stderr_line(|l| l.starts_with(&format!("* joined {direct} ")));
    alice.type_line("hi bob");
    bob.stdout_line(|l| l == format!("[{direct}] alice: hi bob"));

    // Unread until bob switches to it; then read on the server.
    rooms_line(&mut bob, &direct, |l| l.contains(" unread=1 @alice"));
    bob.type_line("/switch @alice");
    bob.stderr_line(|l| l == "* current room @alice");
    rooms_line(&mut bob, &direct, |l| l.contains(" unread=0 @alice"));
    bob.type_line("hello alice");
    alice.stdout_line(|l| l == format!("[{direct}] bob: hello alice"));

    // A private room alice creates and adds bob to.
    alice.type_line("/create secret plans private");
    let room = alice.stderr_line(|l| l.starts_with("* created "))["* created ".len()..].to_owned();
    alice.stderr_line(|l| l.starts_with(&format!("* joined {room} ")));
    alice.type_line("/add nobody-at-all");
    alice.stderr_line(|l| l.starts_with("error: no one found for \"nobody-at-all\""));
    alice.type_line("/add bob");
    alice.stderr_line(|l| l == "* added bob to secret plans");
    alice.type_line("/add bob");
    alice.stderr_line(|l| l == "* bob is already in secret plans");
    bob.stdout_line(|l| {
        l == "* You were added to secret plans (/switch secret plans to talk there)"
    });
    bob.stderr_line(|l| l.starts_with(&format!("* joined {room} ")));
    alice.type_line("the plan");
    bob.stdout_line(|l| l == format!("[{room}] alice: the plan"));
    // The message arrived in a room that is not current: still unread.
    rooms_line(&mut bob, &room, |l| l.contains(" unread=1 secret plans"));
    // A name no room of bob's has is refused (lines would otherwise go nowhere); the
    // start of one name is enough.
    bob.type_line("/switch nowhere");
    bob.stderr_line(|l| l.starts_with("error: no room called \"nowhere\" here"));
    bob.type_line("/switch secret");
    bob.stderr_line(|l| l == "* current room secret plans");
    rooms_line(&mut bob, &room, |l| l.contains(" unread=0 secret plans"));
    // A message arriving in the current room is marked read as it is shown.
    alice.type_line("and more");
    bob.stdout_line(|l| l == format!("[{room}] alice: and more"));
    std::thread::sleep(Duration::from_millis(300));
    rooms_line(&mut bob, &room, |l| l.contains(" unread=0 secret plans"));

    // A direct room cannot take more people.
    alice.type_line("/switch @bob");
    alice.type_line("/add bob");
    alice.stderr_line(|l| l.starts_with("error: ") && l.contains("direct"));

    // /who: the members from the server, by name, with presence.
    bob.type_line("/who");
    bob.stdout_line(|l| l == "member alice online");
    bob.stdout_line(|l| l == "member bob online");

    // Alice renames herself: bob's client shows the new name on her next message.
    alice.type_line("/name");
    alice.stderr_line(|l| l.starts_with("error: wrong arguments for /name"));
    alice.type_line(&format!("/name {}", "x".repeat(65)));
    alice.stderr_line(|l| l.starts_with("error: ") && l.contains("display"));
    alice.type_line("/name  Alice   Liddell ");
    alice.stderr_line(|l| l == "* others now see you as Alice Liddell");
    std::thread::sleep(Duration::from_millis(500));
    alice.type_line("/switch secret plans");
    alice.type_line("renamed");
    bob.stdout_line(|l| l == format!("[{room}] Alice Liddell: renamed"));
    bob.type_line("/who");
    bob.stdout_line(|l| l == "member Alice Liddell (@alice) online");

    // Leaving by name.
    bob.type_line("/leave secret plans");
    bob.stderr_line(|l| l == format!("ok leave {room}"));
    alice.stdout_line(|l| l == format!("[{room}] * bob left"));

    for chat in [&mut alice, &mut bob] {
        chat.close_stdin();
        assert!(chat.exit_status().success());
    }
}
