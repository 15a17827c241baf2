//! The terminal: what the person types, and the lines printed for them.
//!
//! Two modes:
//! - **plain** (stdin or stdout not a terminal, or `--plain`): stdin is read line by line on
//!   a plain thread, events go to stdout and notes, acks and errors to stderr, one line
//!   each: the form scripts and tests read.
//! - **interactive** (a terminal): a line editor with a prompt ([`crate::line_editor`]).
//!   Every line, events and notes alike, is printed above the prompt and the line being
//!   typed is drawn again below it, so incoming messages never split what you type; keys
//!   typed are reported so the client can send `typing`.
//!
//! Stdin is read on a plain thread rather than with `tokio::io::stdin`, whose blocking read
//! cannot be cancelled and would keep the process alive after `/quit` until another line
//! arrived.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Mutex, OnceLock};
use tokio::sync::mpsc;

use crate::line_editor::{self, Printer};

/// What the person does at the keyboard.
pub struct Keyboard {
    /// Lines typed, without their line ending; closes at end of input.
    pub lines: mpsc::Receiver<String>,
    /// A key was typed into the line (interactive mode only).
    pub keys: mpsc::Receiver<()>,
    /// Lets the line editor show the prompt again once a line has been handled.
    next_line: Option<std::sync::mpsc::Sender<()>>,
    /// Keeps `keys` open (never closed) in plain mode.
    _no_keys: Option<mpsc::Sender<()>>,
}

impl Keyboard {
    /// The line just received has been handled: ask for the next one. Not called after
    /// `/quit`, so the line editor leaves the terminal as it found it.
    pub fn ready_for_next_line(&self) {
        if let Some(next) = &self.next_line {
            let _ = next.send(());
        }
    }

    pub fn is_interactive(&self) -> bool {
        self.next_line.is_some()
    }
}

/// Where output goes once the line editor runs.
static PRINTER: OnceLock<Mutex<Printer>> = OnceLock::new();

/// Whether this process runs at a terminal (both ends), unless plain mode is asked for.
pub fn interactive_wanted(plain: bool) -> bool {
    !plain && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Starts reading the keyboard: a line editor at a terminal if `interactive` (falling back
/// to plain mode if it cannot start), plain lines otherwise.
pub fn start(interactive: bool) -> Keyboard {
    if interactive {
        match line_editor::start() {
            Ok(editor) => {
                let _ = PRINTER.set(Mutex::new(editor.printer));
                return Keyboard {
                    lines: editor.lines,
                    keys: editor.keys,
                    next_line: Some(editor.next_line),
                    _no_keys: None,
                };
            }
            Err(e) => note(&format!("* no line editing ({e}); reading plain lines")),
        }
    }
    let (keys_tx, keys) = mpsc::channel(1);
    Keyboard {
        lines: stdin_lines(),
        keys,
        next_line: None,
        _no_keys: Some(keys_tx),
    }
}

fn stdin_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match stdin.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\n', '\r']).to_owned();
                    if tx.blocking_send(line).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// Prints above the prompt, if the line editor runs; `false` if it does not.
fn above_prompt(line: &str) -> bool {
    let Some(printer) = PRINTER.get() else {
        return false;
    };
    if let Ok(mut printer) = printer.lock() {
        printer.print(line);
    }
    true
}

/// A line on stdout. A closed stdout is not a reason to stop chatting, so errors are ignored.
pub fn print(line: &str) {
    if above_prompt(line) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A line on stderr (above the prompt in interactive mode).
pub fn note(line: &str) {
    if above_prompt(line) {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}
