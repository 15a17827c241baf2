//! The Socket.IO framing of the native protocol, as pure functions (no sockets, tested
//! here): a client's `emit(T, payload, ack)` becomes the native frame `{type: T, id, ...payload}`,
//! and each native server frame becomes either an emitted event or the argument of the
//! ack callback of the request it answers.
//!
//! The rules (the README's "Socket.IO" section says the same to client developers):
//! - The payload is one JSON object: the native frame's fields but `type` and `id`.
//! - A request's `id` is made here (`s1`, `s2`, …); an `id` in the payload is replaced.
//! - The request's last answer is the ack callback's argument: the native answer frame
//!   with its `type` and without `id`. Answers before the last (the `resumed` of a `join`
//!   with `lastSeq`, and every room but the last of a `resume`) arrive as events of their
//!   type, so they keep their place among the replayed events they close.
//! - A request emitted without an ack callback: its successful answers are dropped, an
//!   `error` arrives as the event `error`.
//! - Every other server frame `{type: T, ...rest}` arrives as the event `T` with `rest`.
//! - `typing` (and a `resume` of no rooms) has no answer on `/ws` unless refused: it is
//!   sent without an id, an ack callback (if any) is called at once with `{type: "ack"}`,
//!   and a refusal arrives as the event `error`.

use serde_json::{Map, Value};
use std::collections::HashSet;

/// How the answers of one request are told apart: which one is its last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No answer comes on `/ws` unless the frame is refused (`typing`, a `resume` of no
    /// rooms): the frame goes without an id, the ack callback is called at once with
    /// `{type: "ack"}`, and a refusal arrives as the event `error`.
    Nothing,
    /// The first answer is the last.
    One,
    /// A `join`: a `resumed` comes first when it names `lastSeq`; anything else is last.
    Join,
    /// A `resume` of this many distinct rooms: one answer per room.
    Rooms(usize),
}

impl Expect {
    /// What a request of `event` with `payload` is answered with, when `/ws` answers a
    /// `resume` of more than `max_rooms` distinct rooms with one refusal.
    pub fn of(event: &str, payload: &Map<String, Value>, max_rooms: usize) -> Self {
        match event {
            "typing" => Expect::Nothing,
            "join" => Expect::Join,
            "resume" => match distinct_rooms(payload) {
                Some(0) => Expect::Nothing,
                Some(n) if n <= max_rooms => Expect::Rooms(n),
                _ => Expect::One,
            },
            _ => Expect::One,
        }
    }

    /// Whether an answer of type `kind` is the last of its request; `self` becomes what is
    /// still expected after it.
    pub fn is_last(&mut self, kind: &str) -> bool {
        match self {
            Expect::Nothing | Expect::One => true,
            Expect::Join => kind != "resumed",
            Expect::Rooms(n) => {
                *n = n.saturating_sub(1);
                *n == 0
            }
        }
    }
}

/// The number of distinct `roomId`s of a `resume` payload, when every entry is well formed
/// (a malformed one makes `/ws` refuse the whole frame, with one answer).
fn distinct_rooms(payload: &Map<String, Value>) -> Option<usize> {
    let rooms = payload.get("rooms")?.as_array()?;
    let mut seen = HashSet::new();
    for room in rooms {
        seen.insert(room.get("roomId")?.as_str()?);
    }
    Some(seen.len())
}

/// Why an emitted event could not become a frame.
#[derive(Debug, PartialEq, Eq)]
pub struct NotAnObject;

/// The native frame text for `emit(event, payload)`, with request id `id` (none for
/// `typing`). The payload must be one JSON object (or absent, for a command without
/// fields such as `ping`).
pub fn client_frame(event: &str, payload: Value, id: Option<&str>) -> Result<String, NotAnObject> {
    let mut fields = match payload {
        Value::Object(fields) => fields,
        Value::Null => Map::new(),
        _ => return Err(NotAnObject),
    };
    fields.insert("type".into(), Value::String(event.into()));
    match id {
        Some(id) => fields.insert("id".into(), Value::String(id.into())),
        None => fields.remove("id"),
    };
    Ok(Value::Object(fields).to_string())
}

/// A native server frame split for Socket.IO: its `type`, and the rest of its fields as a
/// JSON object's text.
#[derive(Debug, PartialEq, Eq)]
pub struct Split<'a> {
    pub kind: &'a str,
    pub rest: String,
}

/// Splits a server frame without parsing it when it starts with its `type`, as every frame
/// the gateway writes does (serde writes an internally tagged enum's tag first, and
/// `frames::event_frame` writes it first by hand); `None` for any other text.
pub fn split(frame: &str) -> Option<Split<'_>> {
    let after = frame.strip_prefix(r#"{"type":""#)?;
    let end = after.find('"')?;
    let (kind, tail) = (&after[..end], &after[end + 1..]);
    // Types are plain identifiers: nothing escaped inside the quotes.
    if kind.contains('\\') {
        return None;
    }
    let rest = match tail.strip_prefix(',') {
        Some(fields) => format!("{{{fields}"),
        None if tail == "}" => "{}".to_owned(),
        None => return None,
    };
    Some(Split { kind, rest })
}

/// An answer to a request: the request's `id`, and the frame without it (its `type` kept).
#[derive(Debug, PartialEq)]
pub struct Answer {
    pub id: String,
    pub frame: Map<String, Value>,
}

/// The request an answer belongs to, if the frame carries an `id`. Only a frame with an
/// `"id":` key is parsed: live events, presence and typing (most frames) never have one,
/// and the text cannot occur inside a JSON string, where quotes are escaped.
pub fn answer(kind: &str, frame: &str) -> Option<Answer> {
    if kind == "event" || !frame.contains(r#""id":"#) {
        return None;
    }
    let Ok(Value::Object(mut frame)) = serde_json::from_str(frame) else {
        return None;
    };
    match frame.remove("id") {
        Some(Value::String(id)) => Some(Answer { id, frame }),
        _ => None,
    }
}

/// An answer as the event of its type: its fields but `type`.
pub fn as_event(mut frame: Map<String, Value>) -> (String, Value) {
    let kind = match frame.remove("type") {
        Some(Value::String(kind)) => kind,
        _ => "error".to_owned(),
    };
    (kind, Value::Object(frame))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn an_emit_becomes_the_native_frame_with_the_id_made_here() {
        let frame = client_frame(
            "send",
            json!({"roomId": "r1", "message": "hi", "id": "theirs"}),
            Some("s7"),
        )
        .unwrap();
        let frame: Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(
            frame,
            json!({"type": "send", "id": "s7", "roomId": "r1", "message": "hi"})
        );
        let typing = client_frame("typing", json!({"roomId": "r1", "id": "x"}), None).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&typing).unwrap(),
            json!({"type": "typing", "roomId": "r1"})
        );
        assert_eq!(
            client_frame("ping", Value::Null, Some("s1")).unwrap(),
            client_frame("ping", json!({}), Some("s1")).unwrap()
        );
    }

    #[test]
    fn a_payload_that_is_not_one_object_is_refused() {
        for payload in [json!("text"), json!(3), json!([1, 2]), json!(true)] {
            assert_eq!(client_frame("send", payload, Some("s1")), Err(NotAnObject));
        }
    }

    #[test]
    fn a_frame_splits_into_its_type_and_the_rest() {
        let split = split(r#"{"type":"event","roomId":"r","seq":3,"prevSeq":2,"event":{}}"#);
        assert_eq!(
            split,
            Some(Split {
                kind: "event",
                rest: r#"{"roomId":"r","seq":3,"prevSeq":2,"event":{}}"#.into()
            })
        );
        assert_eq!(
            super::split(r#"{"type":"pong"}"#),
            Some(Split {
                kind: "pong",
                rest: "{}".into()
            })
        );
        assert_eq!(super::split(r#"{"id":"1","type":"ack"}"#), None);
        assert_eq!(super::split(r#"{"type":"a\"b","x":1}"#), None);
        assert_eq!(super::split("not json"), None);
    }

    #[test]
    fn the_split_rest_is_the_frame_without_its_type() {
        let frame = r#"{"type":"presence","userId":"u","status":"online","lastSeen":null}"#;
        let mut whole: Value = serde_json::from_str(frame).unwrap();
        whole.as_object_mut().unwrap().remove("type");
        let rest: Value = serde_json::from_str(&split(frame).unwrap().rest).unwrap();
        assert_eq!(rest, whole);
    }

    #[test]
    fn answers_are_found_by_their_id_and_events_are_not_parsed() {
        let found = answer("ack", r#"{"type":"ack","id":"s3","seq":9}"#).unwrap();
        assert_eq!(found.id, "s3");
        assert_eq!(Value::Object(found.frame), json!({"type": "ack", "seq": 9}));
        assert_eq!(
            answer("presence", r#"{"type":"presence","userId":"u"}"#),
            None
        );
        assert_eq!(answer("event", r#"{"type":"event","id":"s3"}"#), None);
        // An id only inside a string value is no id.
        let quoted = r#"{"type":"presence","status":"\"id\":\"s3\""}"#;
        assert_eq!(answer("presence", quoted), None);
        let (kind, payload) = as_event(object(json!({"type": "resumed", "roomId": "r"})));
        assert_eq!(
            (kind.as_str(), payload),
            ("resumed", json!({"roomId": "r"}))
        );
    }

    #[test]
    fn a_join_ends_with_anything_but_resumed() {
        let mut join = Expect::of("join", &object(json!({"roomId": "r", "lastSeq": 3})), 8);
        assert!(!join.is_last("resumed"));
        assert!(join.is_last("joined"));
        let mut refused = Expect::of("join", &object(json!({"roomId": "r"})), 8);
        assert!(refused.is_last("error"));
    }

    #[test]
    fn a_resume_ends_after_one_answer_per_distinct_room() {
        let rooms = json!({"rooms": [
            {"roomId": "a", "lastSeq": 1}, {"roomId": "b", "lastSeq": 0}, {"roomId": "a", "lastSeq": 4}
        ]});
        let mut resume = Expect::of("resume", &object(rooms.clone()), 8);
        assert_eq!(resume, Expect::Rooms(2));
        assert!(!resume.is_last("resumed"));
        assert!(resume.is_last("error"));
        // More rooms than a connection may hold: one refusal answers it.
        assert_eq!(Expect::of("resume", &object(rooms), 1), Expect::One);
        // Malformed: one answer (the refusal) as well.
        for bad in [
            json!({"rooms": [{"lastSeq": 1}]}),
            json!({"rooms": "a"}),
            json!({}),
        ] {
            assert_eq!(Expect::of("resume", &object(bad), 8), Expect::One);
        }
        // Nothing to resume: no answer comes.
        let empty = object(json!({"rooms": []}));
        assert_eq!(Expect::of("resume", &empty, 8), Expect::Nothing);
        assert_eq!(Expect::of("typing", &Map::new(), 8), Expect::Nothing);
        assert_eq!(Expect::of("send", &Map::new(), 8), Expect::One);
    }
}
