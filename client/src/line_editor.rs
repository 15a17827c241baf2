//! The line editor of interactive mode (rustyline) on a thread of its own.
//!
//! It shows the prompt only when the client asks for the next line
//! ([`crate::terminal::Keyboard::ready_for_next_line`]): after `/quit` it never enters raw
//! mode again, so the terminal is left as it was found even though the process exits
//! without waiting for the thread. Lines printed while a line is being edited go through
//! rustyline's external printer, which clears the prompt line, prints, and draws the prompt
//! and the half-typed line again; at other times they are written straight out. Ctrl-D on
//! an empty line and Ctrl-C end the input, as `/quit` does.

use rustyline::error::ReadlineError;
use rustyline::{
    Cmd, ConditionalEventHandler, DefaultEditor, Event, EventContext, EventHandler,
    ExternalPrinter, KeyCode, KeyEvent, Modifiers, RepeatCount,
};
use tokio::sync::mpsc;

/// The prompt: short, so that the line typed has the width.
pub const PROMPT: &str = "> ";

/// Prints lines above the prompt.
pub struct Printer(Box<dyn ExternalPrinter + Send>);

impl Printer {
    pub fn print(&mut self, line: &str) {
        let _ = self.0.print(format!("{line}\n"));
    }
}

/// The running editor's ends.
pub struct Editor {
    pub lines: mpsc::Receiver<String>,
    pub keys: mpsc::Receiver<()>,
    pub next_line: std::sync::mpsc::Sender<()>,
    pub printer: Printer,
}

/// Reports every key that inserts text into a message, then lets rustyline insert it.
struct KeyReporter(mpsc::Sender<()>);

impl ConditionalEventHandler for KeyReporter {
    fn handle(&self, event: &Event, _: RepeatCount, _: bool, ctx: &EventContext) -> Option<Cmd> {
        if is_typing(event.get(0), ctx.line()) {
            // A full channel means a report is already waiting: one is enough.
            let _ = self.0.try_send(());
        }
        None
    }
}

/// Whether `key` on a line that holds `line` so far is someone typing a message: a
/// character (Enter, arrows and control keys are not), on a line that is not a command
/// (others would otherwise see "is typing" for every `/who`).
fn is_typing(key: Option<&KeyEvent>, line: &str) -> bool {
    match key {
        Some(KeyEvent(KeyCode::Char(c), m)) if !m.contains(Modifiers::CTRL) => {
            !(line.starts_with('/') || (line.is_empty() && *c == '/'))
        }
        _ => false,
    }
}

pub fn start() -> Result<Editor, ReadlineError> {
    let mut editor = DefaultEditor::new()?;
    let printer = Printer(Box::new(editor.create_external_printer()?));
    let (keys_tx, keys) = mpsc::channel(1);
    editor.bind_sequence(
        Event::Any,
        EventHandler::Conditional(Box::new(KeyReporter(keys_tx))),
    );
    let (lines_tx, lines) = mpsc::channel(16);
    let (next_line, asked) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        // The first prompt is shown once the client asks (it has connected by then).
        while asked.recv().is_ok() {
            match editor.readline(PROMPT) {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = editor.add_history_entry(line.as_str());
                    }
                    if lines_tx.blocking_send(line).is_err() {
                        return;
                    }
                }
                // Ctrl-C, Ctrl-D or a terminal gone: the end of input.
                Err(_) => return,
            }
        }
    });
    Ok(Editor {
        lines,
        keys,
        next_line,
        printer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_characters_of_a_message_count_as_typing() {
        let key = |c| KeyEvent(KeyCode::Char(c), Modifiers::NONE);
        assert!(is_typing(Some(&key('h')), ""));
        assert!(is_typing(Some(&key('/')), "a/b "));
        assert!(!is_typing(Some(&key('/')), ""));
        assert!(!is_typing(Some(&key('w')), "/"));
        assert!(!is_typing(
            Some(&KeyEvent(KeyCode::Enter, Modifiers::NONE)),
            "hi"
        ));
        assert!(!is_typing(
            Some(&KeyEvent(KeyCode::Char('a'), Modifiers::CTRL)),
            "hi"
        ));
        assert!(!is_typing(None, "hi"));
    }
}
