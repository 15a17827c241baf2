//! What a replay may show of each message: what history (`GET /getMessages`) shows.
//!
//! **Entitled** means: a client saw a text live, or history would show it to it now. A
//! client that was not connected when a message was edited or deleted was not entitled to
//! the text it replaced. So a replay shows each message as history shows it at the end of
//! the replay window (the room's latest `seq` when the replay started):
//!
//! - a message deleted in the window: its `message.posted` and `message.edited` events
//!   arrive with `"message": ""` (history's tombstone), then its `message.deleted`;
//! - a message edited in the window: its `message.posted` and every earlier
//!   `message.edited` arrive with the text of its last edit in the window; intermediate
//!   texts never appear;
//! - every other event, and every event's envelope fields, are as stored.
//!
//! Events keep their `seq` and `prevSeq`, so the client's chain stays intact. Edits and
//! deletes after the window arrive live, as they would to any client.
//!
//! Knowing a message's fate needs the whole window, read ahead of the replay: [`Fates`]
//! keeps one small entry per message edited or deleted in the window (a 16-byte id and an
//! 8-byte `seq`), never a text, so it is bounded by the replay bound (`max_replay` events)
//! per connection. The final text of an edited message is read again from the stream when
//! the replay reaches an event that needs it.

use serde::Deserialize;
use std::collections::HashMap;
use uuid::Uuid;

/// What happened to one message by the end of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Deleted,
    /// Last edited by the event with this `seq`.
    EditedAt(u64),
}

/// The fates of the messages edited or deleted in a replay window.
#[derive(Debug, Default)]
pub struct Fates {
    by_message: HashMap<Uuid, Fate>,
}

/// What to do with one replayed event.
#[derive(Debug, PartialEq, Eq)]
pub enum Shown {
    /// Send it as stored.
    AsStored,
    /// Send it with the message text emptied (the message was deleted).
    Tombstone,
    /// Send it with the text of the edit stored at this `seq`.
    TextOf(u64),
}

/// The parts of a stored envelope this module looks at.
#[derive(Deserialize)]
struct Peek {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: PeekData,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PeekData {
    message_id: Option<Uuid>,
    message: Option<String>,
}

fn peek(payload: &[u8]) -> Option<(String, Uuid)> {
    let peek: Peek = serde_json::from_slice(payload).ok()?;
    Some((peek.kind, peek.data.message_id?))
}

impl Fates {
    /// Notes the event stored at `seq` (read in order through the window).
    pub fn note(&mut self, seq: u64, payload: &[u8]) {
        let Some((kind, message)) = peek(payload) else {
            return;
        };
        match kind.as_str() {
            "message.deleted" => {
                self.by_message.insert(message, Fate::Deleted);
            }
            "message.edited" => {
                let fate = self
                    .by_message
                    .entry(message)
                    .or_insert(Fate::EditedAt(seq));
                if *fate != Fate::Deleted {
                    *fate = Fate::EditedAt(seq);
                }
            }
            _ => {}
        }
    }

    /// How the event stored at `seq` is to be shown.
    pub fn shown(&self, seq: u64, payload: &[u8]) -> Shown {
        let Some((kind, message)) = peek(payload) else {
            return Shown::AsStored;
        };
        if kind != "message.posted" && kind != "message.edited" {
            return Shown::AsStored;
        }
        match self.by_message.get(&message) {
            Some(Fate::Deleted) => Shown::Tombstone,
            Some(Fate::EditedAt(last)) if *last > seq => Shown::TextOf(*last),
            _ => Shown::AsStored,
        }
    }

    /// Messages with a noted fate (for tests and metrics).
    pub fn len(&self) -> usize {
        self.by_message.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_message.is_empty()
    }
}

/// The text an edit event carries.
pub fn edited_text(payload: &[u8]) -> Option<String> {
    let peek: Peek = serde_json::from_slice(payload).ok()?;
    (peek.kind == "message.edited").then_some(peek.data.message?)
}

/// The stored envelope with its `data.message` replaced; every other field as stored.
pub fn with_text(payload: &[u8], text: &str) -> Option<Vec<u8>> {
    let mut envelope: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let message = envelope.get_mut("data")?.get_mut("message")?;
    *message = serde_json::Value::String(text.to_owned());
    serde_json::to_vec(&envelope).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, id: Uuid, text: Option<&str>) -> Vec<u8> {
        let mut data = serde_json::json!({ "messageId": id });
        if let Some(text) = text {
            data["message"] = text.into();
        }
        serde_json::to_vec(&serde_json::json!({
            "eventId": Uuid::nil(), "type": kind, "data": data, "v": 1,
            "occurredAt": "2026-01-01T00:00:00Z", "actor": Uuid::nil(), "roomId": "r",
        }))
        .unwrap()
    }

    #[test]
    fn deleted_messages_become_tombstones_and_edits_show_their_last_text() {
        let (gone, edited, plain) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let window = [
            (1, event("message.posted", gone, Some("secret"))),
            (2, event("message.posted", edited, Some("draft 1"))),
            (3, event("message.posted", plain, Some("plain"))),
            (4, event("message.edited", edited, Some("draft 2"))),
            (5, event("message.edited", gone, Some("secret 2"))),
            (6, event("message.deleted", gone, None)),
            (7, event("message.edited", edited, Some("final"))),
        ];
        let mut fates = Fates::default();
        for (seq, payload) in &window {
            fates.note(*seq, payload);
        }
        assert_eq!(fates.len(), 2);
        let shown: Vec<Shown> = window.iter().map(|(s, p)| fates.shown(*s, p)).collect();
        assert_eq!(
            shown,
            [
                Shown::Tombstone,
                Shown::TextOf(7),
                Shown::AsStored,
                Shown::TextOf(7),
                Shown::Tombstone,
                Shown::AsStored,
                Shown::AsStored,
            ]
        );
        assert_eq!(edited_text(&window[6].1).as_deref(), Some("final"));
    }

    #[test]
    fn a_new_text_replaces_only_the_message_field() {
        let id = Uuid::from_u128(9);
        let rewritten = with_text(&event("message.posted", id, Some("old")), "").unwrap();
        let value: serde_json::Value = serde_json::from_slice(&rewritten).unwrap();
        assert_eq!(value["data"]["message"], "");
        assert_eq!(value["data"]["messageId"], id.to_string());
        assert_eq!(value["type"], "message.posted");
        assert!(with_text(br#"{"type":"member.joined","data":{}}"#, "x").is_none());
    }
}
