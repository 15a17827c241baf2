//! The terminal: lines from stdin, lines to stdout (events, query results) and stderr
//! (notes, acks, errors).
//!
//! Stdin is read on a plain thread rather than with `tokio::io::stdin`, whose blocking read
//! cannot be cancelled and would keep the process alive after `/quit` until another line
//! arrived.

use std::io::{BufRead, Write};
use tokio::sync::mpsc;

/// Lines typed on stdin, without their line ending; the channel closes at end of input.
/// Bytes that are not UTF-8 are replaced rather than refused.
pub fn stdin_lines() -> mpsc::Receiver<String> {
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

/// A line on stdout. A closed stdout is not a reason to stop chatting, so errors are ignored.
pub fn print(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A line on stderr.
pub fn note(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}
