//! End-to-end tests of the `chat` binary: real `nats-server`, a database of each test's
//! own, the real `chat-server` binary, and `chat` processes driven through stdin/stdout.
//!
//! The `chat-server` binary must be built first: `cargo build --workspace --bins`.

mod terminal;

mod at_a_terminal;
mod chatting;
mod inbox;
mod people;
mod reacting;
mod reconnecting;
mod search;
mod signing_in;
