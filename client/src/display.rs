//! How frames and query results become output lines. The formats are the contract with
//! scripts reading stdout; they are listed in the crate documentation and the README.

use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::http::{MessageView, RoomSummary, StatusView};
use std::borrow::Cow;
use std::fmt::Write;

/// A room event: `[<roomId>] <sender>: <text>` for a message, `[<roomId>] * …` otherwise.
pub fn event_line(room_id: &str, event: &Envelope) -> String {
    let actor = event.actor;
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
        EventBody::MemberJoined { user_id } => format!("[{room_id}] * {user_id} joined"),
        EventBody::MemberLeft { user_id } => format!("[{room_id}] * {user_id} left"),
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

pub fn presence_line(user_id: &str, status: &str) -> String {
    format!("* {user_id} is {status}")
}

pub fn typing_line(room_id: &str, user_id: &str) -> String {
    format!("[{room_id}] * {user_id} is typing")
}

pub fn room_presence_line(room_id: &str, members: i64, online: i64) -> String {
    format!("[{room_id}] * {online} of {members} online")
}

/// One room of `/rooms`.
pub fn room_line(room: &RoomSummary) -> String {
    format!(
        "room {} {} {} members={} lastSeq={} {}",
        room.room_id,
        room.visibility,
        room.kind,
        room.member_count,
        room.last_seq,
        escape(&room.name)
    )
}

/// One message of `/history`.
/// A message from history in the form a live one is printed in (its current text).
pub fn message_line(message: &MessageView) -> String {
    format!(
        "[{}] {}: {}",
        message.room_id,
        message.sender_id,
        escape(&message.message)
    )
}

pub fn history_line(message: &MessageView) -> String {
    let mut line = format!(
        "history [{}] #{} {}",
        message.room_id, message.seq, message.sender_id
    );
    if message.edited_at.is_some() {
        line.push_str(" (edited)");
    }
    if message.deleted {
        line.push_str(" (deleted)");
    }
    let _ = write!(line, ": {}", escape(&message.message));
    line
}

/// The answer to `/who`.
pub fn status_line(view: &StatusView) -> String {
    let mut line = format!(
        "status {} {} lastSeen={}",
        view.user_id,
        view.status,
        view.last_seen.as_deref().unwrap_or("never")
    );
    if let Some(room) = &view.typing_in {
        let _ = write!(line, " typingIn={room}");
    }
    line
}

/// Keeps every event on one line: `\` → `\\`, newline → `\n`, carriage return → `\r`,
/// tab → `\t`, other control characters → `\u{…}`.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c == '\\' || c.is_control()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_schemas::{MessageId, RoomId, UserId};

    fn envelope(body: EventBody) -> Envelope {
        Envelope::room(
            UserId::parse("0190c1c6-7c3a-7000-8000-000000000001").unwrap(),
            RoomId::parse("r1").unwrap(),
            body,
        )
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
            event_line("r1", &event),
            "[r1] 0190c1c6-7c3a-7000-8000-000000000001: hello there"
        );
    }

    #[test]
    fn other_room_events_start_with_a_star() {
        let user = UserId::parse("0190c1c6-7c3a-7000-8000-000000000002").unwrap();
        let joined = envelope(EventBody::MemberJoined { user_id: user });
        assert_eq!(event_line("r1", &joined), format!("[r1] * {user} joined"));
        let id = MessageId::generate();
        let edited = envelope(EventBody::MessageEdited {
            message_id: id,
            message: "fixed".into(),
        });
        assert!(event_line("r1", &edited).ends_with(&format!("edited {id}: fixed")));
    }

    #[test]
    fn text_is_kept_on_one_line() {
        assert_eq!(escape("a\nb\\c\td\u{7}"), "a\\nb\\\\c\\td\\u{7}");
        assert!(matches!(escape("plain"), Cow::Borrowed("plain")));
    }
}
