//! A line typed on stdin, parsed into what it asks for. Room and user ids are parsed into
//! their types here, so the rest of the client never sees a raw id.
//!
//! A line not starting with `/` is a message to the current room; `//text` sends `/text`.

use chat_schemas::{RoomId, UserId};

/// `/history` without a count shows this many messages.
pub const DEFAULT_HISTORY: u32 = 20;
/// The API's largest page.
pub const MAX_HISTORY: u32 = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// An empty line: nothing to do.
    Nothing,
    Message(String),
    Rooms,
    Join(RoomId),
    Leave(RoomId),
    Create {
        name: String,
        private: bool,
    },
    Switch(RoomId),
    Direct(UserId),
    Status(String),
    History(u32),
    Who(UserId),
    Help,
    Quit,
}

pub const HELP: &str = "\
commands (anything else is sent to the current room; //text sends /text):
  /rooms                    list your rooms
  /join <roomId>            join a room and make it current
  /leave <roomId>           leave a room
  /create <name> [private]  create a room, join it and make it current
  /switch <roomId>          make a joined room current
  /dm <userId>              open the direct room with a user and make it current
  /status online|away|offline
  /history [n]              the last n messages of the current room (default 20)
  /who <userId>             a user's status
  /quit                     wait briefly for pending acks and exit";

/// Parses one line (without its line ending). The error is for the user, on stderr.
pub fn parse(line: &str) -> Result<Input, String> {
    if let Some(text) = line.strip_prefix("//") {
        return Ok(Input::Message(format!("/{text}")));
    }
    let Some(command) = line.strip_prefix('/') else {
        if line.trim().is_empty() {
            return Ok(Input::Nothing);
        }
        return Ok(Input::Message(line.to_owned()));
    };
    let mut words = command.split_whitespace();
    let name = words.next().unwrap_or("");
    let args: Vec<&str> = words.collect();
    match (name, args.as_slice()) {
        ("rooms", []) => Ok(Input::Rooms),
        ("join", [room]) => Ok(Input::Join(room_id(room)?)),
        ("leave", [room]) => Ok(Input::Leave(room_id(room)?)),
        ("switch", [room]) => Ok(Input::Switch(room_id(room)?)),
        ("create", [_, ..]) => Ok(create(&args)),
        ("dm", [user]) => Ok(Input::Direct(user_id(user)?)),
        ("who", [user]) => Ok(Input::Who(user_id(user)?)),
        ("status", [status @ ("online" | "away" | "offline")]) => {
            Ok(Input::Status((*status).to_owned()))
        }
        ("status", _) => Err("usage: /status online|away|offline".into()),
        ("history", []) => Ok(Input::History(DEFAULT_HISTORY)),
        ("history", [n]) => match n.parse::<u32>() {
            Ok(n) if (1..=MAX_HISTORY).contains(&n) => Ok(Input::History(n)),
            _ => Err(format!("usage: /history [n], n from 1 to {MAX_HISTORY}")),
        },
        ("help", _) => Ok(Input::Help),
        ("quit", []) => Ok(Input::Quit),
        (
            "rooms" | "join" | "leave" | "switch" | "create" | "dm" | "who" | "history" | "quit",
            _,
        ) => Err(format!(
            "wrong arguments for /{name}; /help lists the commands"
        )),
        _ => Err(format!("unknown command /{name}; /help lists the commands")),
    }
}

/// `/create <name> [private|public]`: the name may have spaces; a last word `private` or
/// `public` is the visibility.
fn create(args: &[&str]) -> Input {
    let (name_words, private) = match args.split_last() {
        Some((&"private", rest)) if !rest.is_empty() => (rest, true),
        Some((&"public", rest)) if !rest.is_empty() => (rest, false),
        _ => (args, false),
    };
    Input::Create {
        name: name_words.join(" "),
        private,
    }
}

fn room_id(raw: &str) -> Result<RoomId, String> {
    RoomId::parse(raw).map_err(|e| format!("room id {raw:?} {e}"))
}

fn user_id(raw: &str) -> Result<UserId, String> {
    UserId::parse(raw).map_err(|e| format!("user id {raw:?} {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_are_messages_and_a_double_slash_escapes_a_command() {
        assert_eq!(
            parse("hello /there"),
            Ok(Input::Message("hello /there".into()))
        );
        assert_eq!(parse("//rooms"), Ok(Input::Message("/rooms".into())));
        assert_eq!(parse("   "), Ok(Input::Nothing));
    }

    #[test]
    fn commands_parse_their_arguments_into_ids() {
        assert_eq!(
            parse("/join r-1"),
            Ok(Input::Join(RoomId::parse("r-1").unwrap()))
        );
        assert!(parse("/join a.b").is_err());
        assert!(parse("/dm not-a-uuid").is_err());
        let user = "0190c1c6-7c3a-7000-8000-000000000001";
        assert_eq!(
            parse(&format!("/who {user}")),
            Ok(Input::Who(UserId::parse(user).unwrap()))
        );
        assert_eq!(parse("/history"), Ok(Input::History(DEFAULT_HISTORY)));
        assert_eq!(parse("/history 5"), Ok(Input::History(5)));
        assert!(parse("/history 0").is_err());
        assert_eq!(parse("/status away"), Ok(Input::Status("away".into())));
        assert!(parse("/status typing").is_err());
    }

    #[test]
    fn create_takes_a_name_with_spaces_and_an_optional_visibility() {
        assert_eq!(
            parse("/create team room private"),
            Ok(Input::Create {
                name: "team room".into(),
                private: true
            })
        );
        assert_eq!(
            parse("/create private"),
            Ok(Input::Create {
                name: "private".into(),
                private: false
            })
        );
        assert!(parse("/create").is_err());
    }

    #[test]
    fn unknown_commands_and_wrong_arguments_are_explained() {
        assert!(parse("/frobnicate")
            .unwrap_err()
            .contains("unknown command /frobnicate"));
        assert!(parse("/join")
            .unwrap_err()
            .contains("wrong arguments for /join"));
    }
}
