//! A `chat` process driven like a person at a terminal: lines typed on its stdin, its
//! stdout and stderr read line by line with deadlines. Killed on drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long any expected line may take.
pub const WAIT: Duration = Duration::from_secs(20);

pub const PASSWORD: &str = "correct horse";

pub struct Chat {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    out: Lines,
    err: Lines,
}

impl Chat {
    /// `chat --server <base> --user <user> --password <PASSWORD> <extra…>`.
    pub fn spawn(base: &str, user: &str, extra: &[&str]) -> Self {
        Self::spawn_with_password(base, user, PASSWORD, extra)
    }

    pub fn spawn_with_password(base: &str, user: &str, password: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat"))
            .args(["--server", base, "--user", user, "--password", password])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chat starts");
        let stdin = child.stdin.take();
        let out = Lines::read(child.stdout.take().expect("piped stdout"));
        let err = Lines::read(child.stderr.take().expect("piped stderr"));
        Self {
            name: user.to_owned(),
            child,
            stdin,
            out,
            err,
        }
    }

    /// Registers (or logs in) and returns the client with its user id, once connected.
    pub fn sign_up(base: &str, user: &str, extra: &[&str]) -> (Self, String) {
        let mut args = vec!["--register"];
        args.extend_from_slice(extra);
        let mut chat = Self::spawn(base, user, &args);
        let signed_in = chat.stderr_line(|l| l.starts_with("* signed in as "));
        let id = signed_in
            .rsplit_once('(')
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .expect("* signed in as <name> (<userId>)")
            .to_owned();
        chat.stderr_line(|l| l == "* connected");
        (chat, id)
    }

    pub fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("chat reads its stdin");
        stdin.flush().expect("chat reads its stdin");
    }

    /// End of input, as Ctrl-D.
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// The next stdout line matching `want` (earlier lines are passed over).
    pub fn stdout_line(&mut self, want: impl Fn(&str) -> bool) -> String {
        match self.out.next_matching(&want, WAIT) {
            Some(line) => line,
            None => self.fail("no matching line on stdout"),
        }
    }

    /// The next stdout line matching `want` within `wait`, if one comes.
    pub fn stdout_line_within(
        &mut self,
        want: impl Fn(&str) -> bool,
        wait: Duration,
    ) -> Option<String> {
        self.out.next_matching(&want, wait)
    }

    /// The next stderr line matching `want`.
    pub fn stderr_line(&mut self, want: impl Fn(&str) -> bool) -> String {
        match self.err.next_matching(&want, WAIT) {
            Some(line) => line,
            None => self.fail("no matching line on stderr"),
        }
    }

    /// Every stdout line so far.
    pub fn stdout(&mut self) -> Vec<String> {
        self.out.drain();
        self.out.seen.clone()
    }

    /// Every stderr line so far.
    pub fn stderr(&mut self) -> Vec<String> {
        self.err.drain();
        self.err.seen.clone()
    }

    /// Waits (bounded) for the process to exit.
    pub fn exit_status(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait on chat") {
                // Let the readers collect the last lines.
                self.out.finish();
                self.err.finish();
                return status;
            }
            if Instant::now() > deadline {
                self.fail("did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn fail(&mut self, what: &str) -> ! {
        let (out, err) = (self.stdout(), self.stderr());
        panic!(
            "{}: {what}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.name,
            out.join("\n"),
            err.join("\n")
        );
    }
}

impl Drop for Chat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lines of one output stream, read on a thread of their own.
struct Lines {
    rx: Receiver<String>,
    seen: Vec<String>,
    /// Lines before this index were already matched or passed over.
    cursor: usize,
    ended: bool,
}

impl Lines {
    fn read(stream: impl Read + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            rx,
            seen: Vec::new(),
            cursor: 0,
            ended: false,
        }
    }

    fn drain(&mut self) {
        while let Ok(line) = self.rx.try_recv() {
            self.seen.push(line);
        }
    }

    /// After the process exited: everything it wrote, until the pipe closes (bounded).
    fn finish(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while !self.ended {
            match self
                .rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => self.seen.push(line),
                Err(_) => self.ended = true,
            }
        }
    }

    fn next_matching(&mut self, want: &dyn Fn(&str) -> bool, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        loop {
            self.drain();
            if let Some(offset) = self.seen[self.cursor..].iter().position(|l| want(l)) {
                let index = self.cursor + offset;
                self.cursor = index + 1;
                return Some(self.seen[index].clone());
            }
            self.cursor = self.seen.len();
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => {
                    self.ended = true;
                    return None;
                }
            }
        }
    }
}
