//! People and rooms by name: `/dm <username>`, `/join <room name>`, `/people`, `/who`,
//! and names (not ids) on every line that shows a person, live and in history.

use crate::terminal::{Chat, PASSWORD};
use chat_testkit::ServerStack as Stack;
use chat_testkit::{ApiClient, User};
use serde_json::json;

/// Renames `username` over HTTP (the terminal client has no command for it).
fn rename(base: &str, username: &str, display_name: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let api = ApiClient::new(base);
        let (status, body) = api
            .post(
                "/auth/login",
                None,
                json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert!(status.is_success(), "{body}");
        let user = User {
            id: body["userId"].as_str().unwrap().to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        };
        let (status, body) = api
            .request(
                reqwest::Method::PATCH,
                "/users/me",
                Some(&user.token),
                Some(json!({"displayName": display_name})),
            )
            .await;
        assert!(status.is_success(), "{body}");
    });
}

#[test]
fn a_direct_conversation_is_opened_by_username_and_shows_names() {
    let stack = Stack::start();
    let (mut alice, alice_id) = Chat::sign_up(&stack.base(), "alice", &[]);
    let (mut bob, bob_id) = Chat::sign_up(&stack.base(), "bob", &[]);
    let (mut bobby, _) = Chat::sign_up(&stack.base(), "bobby", &[]);
    rename(&stack.base(), "bob", "Bob Builder");

    // The directory finds people by the start of a name.
    alice.type_line("/people BOB");
    alice.stdout_line(|l| l == "person Bob Builder @bob");
    alice.stdout_line(|l| l == "person bobby @bobby");
    // Two people start with "bo": both are listed and nothing is opened.
    alice.type_line("/dm bo");
    alice.stderr_line(|l| l.starts_with("* several people match \"bo\""));
    alice.type_line("/dm nobody-at-all");
    alice.stderr_line(|l| l.starts_with("error: no one found for \"nobody-at-all\""));

    // The exact username wins over bobby.
    alice.type_line("/dm bob");
    let direct =
        alice.stderr_line(|l| l.starts_with("* direct room "))["* direct room ".len()..].to_owned();
    alice.stderr_line(|l| l == "* talking with Bob Builder (@bob)");
    alice.stderr_line(|l| l.starts_with(&format!("* joined {direct} ")));
    alice.type_line("hi bob");

    // Bob opens the same conversation by alice's username and sees her by name.
    bob.type_line("/dm @alice");
    bob.stderr_line(|l| l == format!("* direct room {direct}"));
    bob.stdout_line(|l| l == format!("[{direct}] alice: hi bob"));
    bob.type_line("hello alice");
    alice.stdout_line(|l| l == format!("[{direct}] Bob Builder: hello alice"));

    // History names the sender by their current name; no line anywhere shows an id.
    alice.type_line("/history 5");
    alice.stdout_line(|l| {
        l.starts_with(&format!("history [{direct}] #")) && l.ends_with(" Bob Builder: hello alice")
    });
    alice.type_line("/who bob");
    alice.stdout_line(|l| l.starts_with("status Bob Builder (@bob) "));

    for chat in [&mut alice, &mut bob, &mut bobby] {
        chat.close_stdin();
        assert!(chat.exit_status().success());
    }
    for out in [alice.stdout(), bob.stdout()] {
        for line in out {
            assert!(
                !line.contains(&alice_id) && !line.contains(&bob_id),
                "an id where a name belongs: {line}"
            );
        }
    }
}

#[test]
fn a_public_room_is_joined_by_its_name_and_who_lists_members_by_name() {
    let stack = Stack::start();
    let (mut alice, _) = Chat::sign_up(&stack.base(), "alice", &[]);
    alice.type_line("/create Rust Beginners");
    let room = alice.stderr_line(|l| l.starts_with("* created "))["* created ".len()..].to_owned();
    alice.stderr_line(|l| l.starts_with(&format!("* joined {room} ")));
    alice.type_line("/create rust");
    alice.stderr_line(|l| l.starts_with("* joined "));
    alice.type_line("/create quiet corner private");
    alice.stderr_line(|l| l.starts_with("* joined "));
    alice.type_line(&format!("/switch {room}"));
    alice.type_line("welcome, beginners");
    alice.stderr_line(|l| l.starts_with(&format!("ok send {room} ")));

    let (mut bob, _) = Chat::sign_up(&stack.base(), "bob", &[]);
    // Part of a name lists the candidates; a private room is never among them.
    bob.type_line("/join beginn");
    bob.stdout_line(|l| l.starts_with(&format!("public room {room} members=1 Rust Beginners")));
    bob.stderr_line(|l| l.starts_with("* no public room is called exactly \"beginn\""));
    bob.type_line("/join quiet corner");
    bob.stderr_line(|l| l.starts_with("error: no public room called \"quiet corner\""));
    // The exact name (any case, with spaces) joins, and the recent messages show names.
    bob.type_line("/join rust BEGINNERS");
    bob.stderr_line(|l| l.starts_with(&format!("* joined {room} ")));
    bob.stdout_line(|l| l == format!("[{room}] alice: welcome, beginners"));
    alice.stdout_line(|l| l == format!("[{room}] * bob joined"));

    // /who: the members with their names and presence.
    bob.type_line("/who");
    bob.stdout_line(|l| l.starts_with("member alice "));
    bob.stdout_line(|l| l.starts_with("member bob "));
    // A room id still works.
    bob.type_line(&format!("/switch {room}"));
    bob.stderr_line(|l| l == "* current room Rust Beginners");

    for chat in [&mut alice, &mut bob] {
        chat.close_stdin();
        assert!(chat.exit_status().success());
    }
}
