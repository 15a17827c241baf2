//! A line typed on stdin, parsed into what it asks for. People and rooms are named as
//! people name them (a username, a room's name); the client resolves those names through
//! the directories ([`crate::client`]), and ids still work wherever a name does.
//!
//! A line not starting with `/` is a message to the current room; `//text` sends `/text`.

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
    /// A public room's name, or a room id.
    Join(String),
    /// A room's name or id; the current room without one.
    Leave(Option<String>),
    Create {
        name: String,
        private: bool,
    },
    /// A room's name (of one this session knows), or a room id.
    Switch(String),
    /// A username (or a user id).
    Direct(String),
    Status(String),
    History(u32),
    /// The members of the current room, or (with a username or id) one person's status.
    Who(Option<String>),
    /// Change one's own display name.
    Name(String),
    /// Add someone (a username or id) to the current room.
    Add(String),
    /// Search the people directory.
    People(String),
    /// Give (`add`) or take back a reaction to the current room's message `#seq`.
    React {
        seq: u64,
        emoji: String,
        add: bool,
    },
    /// Search the messages of one's rooms.
    Search(String),
    Help,
    Quit,
}

pub const HELP: &str = "\
commands (anything else is sent to the current room; //text sends /text):
  /rooms                    list your rooms
  /join <room name>         join a public room by name (or by id) and make it current
  /leave [room name]        leave a room (the current one without a name)
  /create <name> [private]  create a room, join it and make it current
  /switch <room name|id>    make a room current
  /dm <username>            open the direct conversation with someone and make it current
  /people <text>            find people by the start of their name or username (/find)
  /search <words>           find messages in your rooms (\"a phrase\", or, -word)
  /name <display name>      change the name others see you by
  /add <username>           add someone to the current room (private rooms too)
  /who                      the members of the current room, with their presence
  /who <username>           one person's status
  /status online|away|offline
  /history [n]              the last n messages of the current room (default 20)
  /react <#seq> <emoji>     react to the message #seq of /history (an emoji or :name:)
  /unreact <#seq> <emoji>   take your reaction back
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
    // Names may have spaces: the rest of the line, single-spaced.
    let rest = args.join(" ");
    match (name, args.as_slice()) {
        ("rooms", []) => Ok(Input::Rooms),
        ("join", [_, ..]) => Ok(Input::Join(rest)),
        ("leave", []) => Ok(Input::Leave(None)),
        ("leave", [_, ..]) => Ok(Input::Leave(Some(rest))),
        ("switch", [_, ..]) => Ok(Input::Switch(rest)),
        ("create", [_, ..]) => Ok(create(&args)),
        ("dm", [user]) => Ok(Input::Direct(user.trim_start_matches('@').to_owned())),
        ("name", [_, ..]) => Ok(Input::Name(rest)),
        ("add", [user]) => Ok(Input::Add(user.trim_start_matches('@').to_owned())),
        ("who", []) => Ok(Input::Who(None)),
        ("who", [user]) => Ok(Input::Who(Some(user.trim_start_matches('@').to_owned()))),
        ("people" | "find", [_, ..]) => Ok(Input::People(rest)),
        ("search", [_, ..]) => Ok(Input::Search(rest)),
        ("status", [status @ ("online" | "away" | "offline")]) => {
            Ok(Input::Status((*status).to_owned()))
        }
        ("status", _) => Err("usage: /status online|away|offline".into()),
        ("history", []) => Ok(Input::History(DEFAULT_HISTORY)),
        ("history", [n]) => match n.parse::<u32>() {
            Ok(n) if (1..=MAX_HISTORY).contains(&n) => Ok(Input::History(n)),
            _ => Err(format!("usage: /history [n], n from 1 to {MAX_HISTORY}")),
        },
        ("react" | "unreact", [seq, emoji]) => match seq.trim_start_matches('#').parse::<u64>() {
            Ok(seq) if seq > 0 => Ok(Input::React {
                seq,
                emoji: (*emoji).to_owned(),
                add: name == "react",
            }),
            _ => Err(format!(
                "usage: /{name} <#seq> <emoji>, #seq as /history shows it"
            )),
        },
        ("help", _) => Ok(Input::Help),
        ("quit", []) => Ok(Input::Quit),
        (
            "rooms" | "join" | "switch" | "create" | "dm" | "who" | "people" | "find" | "history"
            | "quit" | "name" | "add" | "react" | "unreact" | "search",
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
    fn commands_take_names_with_spaces_and_ids_still_parse() {
        assert_eq!(
            parse("/join  Rust   Beginners "),
            Ok(Input::Join("Rust Beginners".into()))
        );
        assert_eq!(parse("/join r-1"), Ok(Input::Join("r-1".into())));
        assert_eq!(parse("/dm @alice"), Ok(Input::Direct("alice".into())));
        assert!(parse("/dm alice bob").is_err());
        assert_eq!(parse("/who"), Ok(Input::Who(None)));
        assert_eq!(parse("/who bob"), Ok(Input::Who(Some("bob".into()))));
        assert_eq!(parse("/people ali"), Ok(Input::People("ali".into())));
        assert_eq!(parse("/find Zoë K"), Ok(Input::People("Zoë K".into())));
        assert!(parse("/people").is_err());
        assert_eq!(
            parse("/search  \"harbour  plan\" -draft"),
            Ok(Input::Search("\"harbour plan\" -draft".into()))
        );
        assert!(parse("/search").is_err());
        assert_eq!(
            parse("/switch team room"),
            Ok(Input::Switch("team room".into()))
        );
        assert_eq!(parse("/leave"), Ok(Input::Leave(None)));
        assert_eq!(
            parse("/leave trip  planning"),
            Ok(Input::Leave(Some("trip planning".into())))
        );
        assert_eq!(parse("/history"), Ok(Input::History(DEFAULT_HISTORY)));
        assert_eq!(parse("/history 5"), Ok(Input::History(5)));
        assert!(parse("/history 0").is_err());
        assert_eq!(parse("/status away"), Ok(Input::Status("away".into())));
        assert!(parse("/status typing").is_err());
        assert_eq!(parse("/name Zoë  K"), Ok(Input::Name("Zoë K".into())));
        assert!(parse("/name").is_err());
        assert_eq!(parse("/add @bob"), Ok(Input::Add("bob".into())));
        assert!(parse("/add bob vic").is_err());
        assert_eq!(
            parse("/react #12 👍"),
            Ok(Input::React {
                seq: 12,
                emoji: "👍".into(),
                add: true
            })
        );
        assert_eq!(
            parse("/unreact 12 :tada:"),
            Ok(Input::React {
                seq: 12,
                emoji: ":tada:".into(),
                add: false
            })
        );
        assert!(parse("/react 👍").is_err());
        assert!(parse("/react x 👍").is_err());
        assert!(parse("/react #0 👍").is_err());
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
