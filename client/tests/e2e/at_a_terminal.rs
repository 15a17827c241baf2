//! `chat` at a real terminal: a pseudo-terminal whose output is drawn by a terminal
//! emulator (vt100), so the test sees the screen a person sees. The password prompt does
//! not echo, an incoming message is printed above the line being typed without breaking
//! it, the other side sees typing, and a send prints no `ok` line.

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::terminal::{Chat, PASSWORD, WAIT};
use chat_testkit::ServerStack as Stack;

/// `chat` on a pseudo-terminal of 24 rows by 100 columns, and the screen it draws.
struct Screen {
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Screen {
    fn spawn(args: &[&str]) -> Self {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 100,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_chat"));
        command.args(args);
        command.env("TERM", "xterm-256color");
        command.env_remove("CHAT_PASSWORD");
        let child = pty.slave.spawn_command(command).expect("chat starts");
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(24, 100, 0)));
        let drawn = parser.clone();
        std::thread::spawn(move || {
            let _master = pty.master;
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    return;
                }
                drawn.lock().unwrap().process(&buf[..n]);
            }
        });
        Self {
            writer,
            parser,
            child,
        }
    }

    /// The screen's rows, trailing blanks trimmed.
    fn rows(&self) -> Vec<String> {
        let parser = self.parser.lock().unwrap();
        parser
            .screen()
            .rows(0, 100)
            .map(|row| row.trim_end().to_owned())
            .collect()
    }

    fn text(&self) -> String {
        self.rows().join("\n")
    }

    /// Waits until `want` holds of the screen's rows.
    fn wait_for(&self, what: &str, want: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let rows = self.rows();
            if want(&rows) {
                return rows;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} on the screen:\n{}",
                rows.join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for_text(&self, needle: &str) -> Vec<String> {
        self.wait_for(needle, |rows| rows.iter().any(|r| r.contains(needle)))
    }

    /// Keys as typed (`\r` is Enter).
    fn type_keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// The last row that is not blank.
    fn last_row(&self) -> String {
        self.rows()
            .into_iter()
            .rev()
            .find(|r| !r.is_empty())
            .unwrap_or_default()
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn at_a_terminal_the_password_is_hidden_the_typed_line_survives_and_typing_is_seen() {
    let stack = Stack::start();
    let base = stack.base();
    let mut alice = Screen::spawn(&["--server", &base, "--user", "alice", "--register"]);

    alice.wait_for_text("password for alice:");
    alice.type_keys(&format!("{PASSWORD}\r"));
    alice.wait_for_text("* connected");
    assert!(
        !alice.text().contains(PASSWORD),
        "the password was echoed:\n{}",
        alice.text()
    );

    alice.type_keys("/create general\r");
    let rows = alice.wait_for_text("* created ");
    let created = rows.iter().find(|r| r.starts_with("* created ")).unwrap();
    let room = created["* created ".len()..].trim().to_owned();
    alice.wait_for_text("* joined general");

    let (mut bob, _) = Chat::sign_up(&base, "bob", &["--room", &room]);
    bob.stderr_line(|l| l.starts_with(&format!("* joined {room} ")));
    alice.wait_for_text("* bob joined");

    // Alice starts a line; bob sees her typing.
    alice.type_keys("hello wor");
    alice.wait_for("the half-typed line", |rows| {
        rows.iter().any(|r| r == "> hello wor")
    });
    // Typing is best-effort and ephemeral: a person who keeps typing refreshes it (the
    // client says so at most every 3 s). So does alice here (a space and a backspace leave
    // her line as it was) until bob has seen it, within the usual bound.
    let is_typing = |l: &str| l == format!("[{room}] * alice is typing");
    let deadline = Instant::now() + WAIT;
    while bob
        .stdout_line_within(is_typing, Duration::from_secs(4))
        .is_none()
    {
        assert!(Instant::now() < deadline, "bob never saw alice typing");
        alice.type_keys(" \x7f");
    }

    // Bob's message arrives while alice is still typing: it is printed above her line,
    // which stays whole and last.
    bob.type_line("a message from bob");
    // At a terminal, people and rooms show by name.
    let from_bob = "[general] bob: a message from bob".to_owned();
    let rows = alice.wait_for("bob's message", |rows| rows.contains(&from_bob));
    let at = rows.iter().position(|r| *r == from_bob).unwrap();
    assert_eq!(
        alice.last_row(),
        "> hello wor",
        "the line being typed was broken:\n{}",
        rows.join("\n")
    );
    assert!(
        rows[at + 1..].iter().filter(|r| !r.is_empty()).count() == 1,
        "bob's message is not directly above the prompt:\n{}",
        rows.join("\n")
    );

    // Alice finishes her line: it is sent, comes back, and no `ok send` line is printed.
    alice.type_keys("ld\r");
    alice.wait_for_text(": hello world");
    bob.stdout_line(|l| l.ends_with(": hello world"));
    assert!(
        !alice.text().contains("ok send"),
        "an ack was printed at the terminal:\n{}",
        alice.text()
    );

    alice.type_keys("/quit\r");
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = alice.child.try_wait().unwrap() {
            assert!(status.success(), "chat exited with {status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "chat did not exit after /quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    bob.close_stdin();
    assert!(bob.exit_status().success());
}

#[test]
fn without_a_terminal_or_a_password_the_client_stops_with_a_hint() {
    let stack = Stack::start();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_chat"))
        .args(["--server", &stack.base(), "--user", "nobody"])
        .env_remove("CHAT_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("chat runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--password-file") && stderr.contains("CHAT_PASSWORD"),
        "{stderr}"
    );
}

#[test]
fn a_password_file_or_the_environment_signs_in_without_the_flag() {
    let stack = Stack::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, format!("{PASSWORD}\n")).unwrap();
    let path = file.to_str().unwrap();
    for (user, how) in [("filed", "file"), ("envied", "env")] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_chat"));
        command.args(["--server", &stack.base(), "--user", user, "--register"]);
        match how {
            "file" => command
                .args(["--password-file", path])
                .env_remove("CHAT_PASSWORD"),
            _ => command.env("CHAT_PASSWORD", PASSWORD),
        };
        let output = command
            .stdin(std::process::Stdio::null())
            .output()
            .expect("chat runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{how}: {output:?}");
        assert!(
            stderr.contains(&format!("* signed in as {user} (")),
            "{how}: {stderr}"
        );
    }
}
