//! `chat`: a terminal client for the chat platform.
//!
//! It signs in over HTTP, opens `/ws` with the token, joins rooms, and then turns lines
//! typed on stdin into messages and `/`-commands and every event it receives into one line
//! on stdout. If the connection drops (or the server restarts and closes it with 1012) it
//! reconnects with backoff and resumes each room from the last `seq` it printed, so nothing
//! is lost and nothing is printed twice. Lines typed while disconnected, and sends not yet
//! acknowledged, go out after the reconnect with their original `clientMsgId`, so the
//! server stores each once. At end of input (or `/quit`) it waits up to 2 s for answers
//! and for its own messages to come back, then exits 0; see [`error`] for the other exit
//! codes.
//!
//! # Output
//!
//! **stdout** carries what happened and what you asked for, one line each:
//!
//! | line | meaning |
//! |---|---|
//! | `[<roomId>] <name>: <text>` | a message was posted |
//! | `[<roomId>] * <name> edited <messageId>: <text>` | a message was edited |
//! | `[<roomId>] * <name> deleted <messageId>` | a message was deleted |
//! | `[<roomId>] * <name> joined` / `left` | membership changed |
//! | `[<roomId>] * <name> created <visibility> room <room name>` | the room was created |
//! | `[<roomId>] * <name> is typing` | typing indicator (lapses after a few seconds) |
//! | `[<roomId>] * <online> of <members> online` | presence count of a large room |
//! | `* <name> is <status>` | presence of a room member or watched user changed |
//! | `* You were added to <room name> (…)` | the user became a member elsewhere (`roomAdded`) |
//! | `room <roomId> <visibility> <kind> members=<n> lastSeq=<n> unread=<n> <name or @person>` | `/rooms` (a direct room by the other person) |
//! | `public room <roomId> members=<n> <name>` | `/join <name>` candidates |
//! | `person <name> @<username>` | `/people`, `/dm` candidates |
//! | `member <name>[ (@<username>)] <status>` | `/who` |
//! | `history [<roomId>] #<seq> <name>[ (edited)][ (deleted)]: <text>` | `/history` |
//! | `found [<roomId>] #<seq> <name>: <text>` | `/search`, best match first |
//! | `status <name>[ (@<username>)] <status> lastSeen=<time or never>[ typingIn=<roomId>]` | `/who <username>` |
//!
//! `<name>` is a display name ([`names`]): people are never shown by id. At a terminal,
//! `<roomId>` at the start of a line is the room's name when known ([`room_names`]).
//!
//! Text is printed on one line: `\` becomes `\\`, a newline `\n`, a carriage return `\r`,
//! a tab `\t`, and other control characters `\u{…}`.
//!
//! **stderr** carries the client's own state: `* …` notes (`* signed in as <name>
//! (<userId>)`, `* connected`, `* disconnected: …`, `* reconnected`, `* joined <roomId>
//! lastSeq=<n>`, `* resumed <roomId> replayed=<n>`, `* created <roomId>`, …), `ok …` for
//! acknowledged commands (`ok send <roomId> seq=<n> messageId=<id>`; in plain mode or with
//! `--verbose`) and `error: …` for refused commands and bad input.
//!
//! At a terminal both go above a prompt ([`terminal`]); piped, they are plain lines.
//!
//! # Modules
//!
//! - [`cli`]: command-line flags.
//! - [`api`]: the HTTP API calls the client makes (sign-in, rooms, history, status,
//!   directories, members).
//! - [`input`]: a typed line parsed into a message or a `/`-command.
//! - [`display`]: how frames and query results become output lines.
//! - [`names`]: the display names of the people met, filled in batches.
//! - [`resolve`]: which person or room a typed name means, from a directory's answer.
//! - [`inbox`]: the per-user inbox frames (`roomAdded`, `roomRemoved`, `profile`).
//! - [`room_names`]: what the rooms met are called (`/switch <name>`, line tags).
//! - [`rooms`]: the last `seq` per room: deduplication, gap detection, resume positions.
//! - [`requests`]: the frames still waiting for an answer, sent again after a reconnect.
//! - [`session`]: the protocol state machine, free of I/O (frames and input in, actions out).
//! - [`socket`]: opening `/ws` with the token, and the reconnect backoff.
//! - [`sign_in`]: the `--server` URL, registration and login at start-up.
//! - [`password`]: the password from a flag, the environment, a file or a silent prompt.
//! - [`terminal`]: plain lines (scripts) or, at a terminal, the line editor; output lines.
//! - [`line_editor`]: the prompt that incoming lines are printed above, and key reports.
//! - [`client`]: the event loop tying these together.
//! - [`error`]: fatal errors and their exit codes.

pub mod api;
pub mod cli;
pub mod client;
pub mod display;
pub mod error;
pub mod inbox;
pub mod input;
pub mod line_editor;
pub mod names;
pub mod password;
pub mod reads;
pub mod requests;
pub mod resolve;
pub mod room_names;
pub mod rooms;
pub mod session;
pub mod sign_in;
pub mod socket;
pub mod terminal;

pub use cli::Args;
pub use client::run;
pub use error::ClientError;
