//! How frames and query results become output lines. The formats are the contract with
//! scripts reading stdout; they are listed in the crate documentation and the README.

use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::http::{
    MessageView, PersonView, PublicRoomView, ReactionView, RoomSummary, SearchResult, StatusView,
};
use std::borrow::Cow;
use std::fmt::Write;

use crate::names::Names;
use crate::room_names::RoomNames;

/// A line that names people, printed once their names are known (see [`crate::names`]).
#[derive(Debug, Clone, PartialEq)]
pub enum PersonLine {
    Event { room_id: String, event: Envelope },
    Presence { user_id: String, status: String },
    Typing { room_id: String, user_id: String },
}

impl PersonLine {
    /// The people the line names.
    pub fn people(&self) -> Vec<String> {
        match self {
            PersonLine::Event { event, .. } => {
                let mut ids = vec![event.actor.to_string()];
                if let EventBody::MemberJoined { user_id } | EventBody::MemberLeft { user_id } =
                    &event.body
                {
                    ids.push(user_id.to_string());
                }
                ids
            }
            PersonLine::Presence { user_id, .. } | PersonLine::Typing { user_id, .. } => {
                vec![user_id.clone()]
            }
        }
    }

    /// The line, with people by name and the room as `rooms` tags it.
    pub fn render(&self, names: &Names, rooms: &RoomNames) -> String {
        match self {
            PersonLine::Event { room_id, event } => event_line(&rooms.tag(room_id), event, names),
            PersonLine::Presence { user_id, status } => {
                presence_line(&names.label(user_id), status)
            }
            PersonLine::Typing { room_id, user_id } => {
                typing_line(&rooms.tag(room_id), &names.label(user_id))
            }
        }
    }
}

/// A room event: `[<room>] <sender>: <text>` for a message, `[<room>] * …` otherwise;
/// people by their display names, the room by its tag (its id, or its name at a terminal).
pub fn event_line(room_id: &str, event: &Envelope, names: &Names) -> String {
    let actor = escape_name(&names.label(&event.actor.to_string())).into_owned();
    match &event.body {
        EventBody::MessagePosted { message, .. } => {
            format!("[{room_id}] {actor}: {}", escape(message))
        }
        EventBody::MessageEdited {
            message_id,
            message,
        } => format!(
            "[{room_id}] * {actor} edited {message_id}: {}",
            escape(message)
        ),
        EventBody::MessageDeleted { message_id } => {
            format!("[{room_id}] * {actor} deleted {message_id}")
        }
        EventBody::ReactionAdded { message_id, emoji } => {
            format!(
                "[{room_id}] * {actor} reacted {} to {message_id}",
                escape(emoji)
            )
        }
        EventBody::ReactionRemoved { message_id, emoji } => format!(
            "[{room_id}] * {actor} took back {} on {message_id}",
            escape(emoji)
        ),
        EventBody::MemberJoined { user_id } => format!(
            "[{room_id}] * {} joined",
            escape_name(&names.label(&user_id.to_string()))
        ),
        EventBody::MemberLeft { user_id } => format!(
            "[{room_id}] * {} left",
            escape_name(&names.label(&user_id.to_string()))
        ),
        EventBody::RoomCreated {
            name, visibility, ..
        } => format!(
            "[{room_id}] * {actor} created {} room {}",
            visibility.as_str(),
            escape(name)
        ),
        other => format!("[{room_id}] * {actor} {}", other.type_name()),
    }
}

pub fn presence_line(name: &str, status: &str) -> String {
    format!("* {} is {status}", escape_name(name))
}

pub fn typing_line(room_id: &str, name: &str) -> String {
    format!("[{room_id}] * {} is typing", escape_name(name))
}

/// One member of the current room in `/who`.
pub fn member_line(label: &str, status: &str) -> String {
    format!("member {} {status}", escape_name(label))
}

/// One person of `/people` (or a candidate of `/dm`): `person <name> @<username>`.
pub fn person_line(person: &PersonView) -> String {
    format!(
        "person {} @{}",
        escape_name(&person.display_name),
        escape_name(&person.username)
    )
}

/// One public room of `/join <name>` candidates.
pub fn public_room_line(room: &PublicRoomView) -> String {
    format!(
        "public room {} members={} {}",
        room.room_id,
        room.member_count,
        escape(&room.name)
    )
}

pub fn room_presence_line(room_id: &str, members: i64, online: i64) -> String {
    format!("[{room_id}] * {online} of {members} online")
}

/// One room of `/rooms`.
/// One room of `/rooms`; `name` is the room's name, or `@<username>` of the other person
/// for a direct room (whose own name says nothing).
pub fn room_line(room: &RoomSummary, name: &str) -> String {
    format!(
        "room {} {} {} members={} lastSeq={} unread={} {}",
        room.room_id,
        room.visibility,
        room.kind,
        room.member_count,
        room.last_seq,
        room.unread_count,
        escape(name)
    )
}

/// One room of `/rooms` at a terminal: the name first, then what a person wants to know.
pub fn room_line_for_people(room: &RoomSummary, name: &str) -> String {
    let unread = match room.unread_count {
        0 => String::new(),
        n => format!(", {n} unread"),
    };
    let private = if room.kind == "group" && room.visibility == "private" {
        ", private"
    } else {
        ""
    };
    format!(
        "{}  ({} members{private}{unread})",
        escape(name),
        room.member_count
    )
}

/// One message of `/history`.
/// A message from history in the form a live one is printed in (its current text).
pub fn message_line(message: &MessageView, room_tag: &str, names: &Names) -> String {
    format!(
        "[{}] {}: {}",
        room_tag,
        sender(message, names),
        escape(&message.message)
    )
}

pub fn history_line(message: &MessageView, room_tag: &str, names: &Names) -> String {
    let mut line = format!(
        "history [{}] #{} {}",
        room_tag,
        message.seq,
        sender(message, names)
    );
    if message.edited_at.is_some() {
        line.push_str(" (edited)");
    }
    if message.deleted {
        line.push_str(" (deleted)");
    }
    let _ = write!(line, ": {}", escape(&message.message));
    if !message.reactions.is_empty() {
        let _ = write!(line, "  [{}]", reactions_text(&message.reactions));
    }
    line
}

/// A message's reactions: `👍 2 (you), 🎉 1`.
pub fn reactions_text(reactions: &[ReactionView]) -> String {
    reactions
        .iter()
        .map(|r| {
            let you = if r.me { " (you)" } else { "" };
            format!("{} {}{you}", escape(&r.emoji), r.count)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A message found by `/search`: `found [room] #seq sender: message`, best match first.
pub fn found_line(hit: &SearchResult, room_tag: &str) -> String {
    format!(
        "found [{}] #{} {}: {}",
        room_tag,
        hit.seq,
        escape_name(&hit.sender_name),
        escape(&hit.message)
    )
}

/// A message's sender: its `senderName`, or the cached name (an older server).
fn sender(message: &MessageView, names: &Names) -> String {
    if message.sender_name.is_empty() {
        escape_name(&names.label(&message.sender_id)).into_owned()
    } else {
        escape_name(&message.sender_name).into_owned()
    }
}

/// The answer to `/who <person>`.
pub fn status_line(view: &StatusView, names: &Names) -> String {
    let mut line = format!(
        "status {} {} lastSeen={}",
        escape_name(&names.full_label(&view.user_id)),
        view.status,
        view.last_seen.as_deref().unwrap_or("never")
    );
    if let Some(room) = &view.typing_in {
        let _ = write!(line, " typingIn={room}");
    }
    line
}

/// A name as printed: on one line like any text (display names cannot hold control
/// characters, but a line must not depend on that).
pub fn escape_name(name: &str) -> Cow<'_, str> {
    escape(name)
}

/// Keeps every event on one line and every name honest: `\` → `\\`, newline → `\n`,
/// carriage return → `\r`, tab → `\t`, other control characters and invisible formatting
/// characters (bidirectional overrides, zero-width characters: they can make a name read
/// as something else) → `\u{…}`.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c == '\\' || c.is_control() || is_invisible_format(c))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_invisible_format(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Bidirectional controls, zero-width and other invisible formatting characters, the line
/// and paragraph separators, tag characters; not the joiners emoji and some scripts need
/// (U+200C, U+200D). (The server refuses them in names it stores
/// now; history may hold older ones, and text is shown as sent.)
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200B}'
        | '\u{200E}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{E0000}'..='\u{E007F}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_schemas::{MessageId, RoomId, UserId};

    const ALICE: &str = "0190c1c6-7c3a-7000-8000-000000000001";

    fn names() -> Names {
        let mut names = Names::default();
        names.learn(ALICE, "alice", "Alice");
        names
    }

    fn envelope(body: EventBody) -> Envelope {
        Envelope::room(
            UserId::parse("0190c1c6-7c3a-7000-8000-000000000001").unwrap(),
            RoomId::parse("r1").unwrap(),
            body,
        )
    }

    #[test]
    fn names_cannot_smuggle_terminal_escapes_or_reverse_text() {
        let name = "esc\u{1b}[31mRED\u{7} Invoice \u{202E}fdp.exe";
        let shown = escape_name(name);
        assert!(
            !shown.chars().any(|c| c.is_control() || c == '\u{202E}'),
            "{shown}"
        );
        assert!(shown.contains("\\u{202e}"), "{shown}");
        assert_eq!(escape("👩\u{200D}💻"), "👩\u{200D}💻", "emoji joiners stay");
    }

    #[test]
    fn a_posted_message_is_room_sender_and_text() {
        let event = envelope(EventBody::MessagePosted {
            message_id: MessageId::generate(),
            message: "hello there".into(),
            client_timestamp: None,
            client_msg_id: None,
        });
        assert_eq!(
            event_line("r1", &event, &names()),
            "[r1] Alice: hello there"
        );
    }

    #[test]
    fn other_room_events_start_with_a_star() {
        let user = UserId::parse("0190c1c6-7c3a-7000-8000-000000000002").unwrap();
        let joined = envelope(EventBody::MemberJoined { user_id: user });
        assert_eq!(
            event_line("r1", &joined, &names()),
            "[r1] * user 0190c1 joined",
            "an unnamed person shows by a short id"
        );
        let id = MessageId::generate();
        let edited = envelope(EventBody::MessageEdited {
            message_id: id,
            message: "fixed".into(),
        });
        assert!(event_line("r1", &edited, &names()).ends_with(&format!("edited {id}: fixed")));
    }

    #[test]
    fn text_is_kept_on_one_line() {
        assert_eq!(escape("a\nb\\c\td\u{7}"), "a\\nb\\\\c\\td\\u{7}");
        assert!(matches!(escape("plain"), Cow::Borrowed("plain")));
    }
}
