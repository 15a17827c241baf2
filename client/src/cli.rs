//! Command-line flags of `chat`.

use chat_schemas::RoomId;
use clap::Parser;

/// Terminal client for the chat platform: type a line to send it to the current room,
/// `/help` for commands. Events print one per line on stdout; notes, acks and errors on
/// stderr.
#[derive(Debug, Clone, Parser)]
#[command(name = "chat", version)]
pub struct Args {
    /// Base URL of the server (HTTP API and `/ws`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,

    /// Username to sign in with.
    #[arg(long)]
    pub user: String,

    /// Password (8–128 characters). Prefer `--password-file`, the `CHAT_PASSWORD`
    /// variable, or the prompt (at a terminal, without echo): a flag shows in the shell's
    /// history and the process list.
    #[arg(long, env = "CHAT_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,

    /// Read the password from the first line of this file.
    #[arg(long, value_name = "PATH", conflicts_with = "password")]
    pub password_file: Option<std::path::PathBuf>,

    /// One line in, one line out, even at a terminal (no prompt or line editing): for
    /// scripts. Chosen by itself when stdin or stdout is not a terminal.
    #[arg(long)]
    pub plain: bool,

    /// At a terminal, also print the `ok …` acknowledgement of every command.
    #[arg(long)]
    pub verbose: bool,

    /// Register the account first; if the name is taken, log in instead.
    #[arg(long)]
    pub register: bool,

    /// Join this room at start (repeatable); the last one becomes the current room.
    #[arg(long = "room", value_name = "ROOM_ID", value_parser = parse_room)]
    pub rooms: Vec<RoomId>,
}

fn parse_room(raw: &str) -> Result<RoomId, String> {
    RoomId::parse(raw).map_err(|e| format!("room id {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_repeat_and_bad_room_ids_are_refused() {
        let args = Args::try_parse_from([
            "chat",
            "--user",
            "a",
            "--password",
            "p",
            "--room",
            "r1",
            "--room",
            "r2",
        ])
        .unwrap();
        assert_eq!(args.rooms.len(), 2);
        assert!(!args.register);
        assert!(
            Args::try_parse_from(["chat", "--user", "a", "--password", "p", "--room", "a.b"])
                .is_err()
        );
        assert!(Args::try_parse_from([
            "chat",
            "--user",
            "a",
            "--password",
            "p",
            "--password-file",
            "f"
        ])
        .is_err());
    }
}
