//! Encoding server frames and decoding client frames, with the error codes a client sees
//! for frames it got wrong.

use axum::extract::ws::Utf8Bytes;
use chat_schemas::ws::{ClientFrame, ServerFrame};
use chat_schemas::RoomId;

/// A server frame as WebSocket text.
pub fn encode(frame: &ServerFrame) -> Utf8Bytes {
    serde_json::to_string(frame)
        .expect("server frames always serialise")
        .into()
}

pub fn error(id: Option<String>, code: &str, message: impl Into<String>) -> Utf8Bytes {
    encode(&ServerFrame::Error {
        id,
        code: code.to_owned(),
        message: message.into(),
        retry_after_ms: None,
    })
}

/// A `rate_limited` error telling the client how long to wait.
pub fn rate_limited(id: Option<String>, wait: std::time::Duration) -> Utf8Bytes {
    encode(&ServerFrame::Error {
        id,
        code: "rate_limited".to_owned(),
        message: "too many frames; wait before sending again".to_owned(),
        retry_after_ms: Some(wait.as_millis().max(1) as u64),
    })
}

/// An `event` frame around a stored envelope, without re-serialising the envelope:
/// fan-out builds this once per event for all connections.
pub fn event_frame(room: &RoomId, seq: u64, prev_seq: u64, envelope: &[u8]) -> Option<Utf8Bytes> {
    // Stored payloads are written by this platform, but NATS is shared infrastructure:
    // check it is JSON before splicing it into a frame.
    serde_json::from_slice::<serde::de::IgnoredAny>(envelope).ok()?;
    let envelope = std::str::from_utf8(envelope).ok()?;
    // Room ids are [A-Za-z0-9_-] (checked when parsed): nothing to escape.
    Some(
        format!(r#"{{"type":"event","roomId":"{room}","seq":{seq},"prevSeq":{prev_seq},"event":{envelope}}}"#)
            .into(),
    )
}

/// Why a client frame was refused, with the request id if one could be read.
#[derive(Debug)]
pub struct Refusal {
    pub id: Option<String>,
    pub code: &'static str,
    pub message: String,
}

const KNOWN_TYPES: &[&str] = &[
    "auth", "join", "leave", "send", "edit", "delete", "typing", "status", "resume", "ping",
    "watch",
];

/// The longest request id accepted, in bytes.
pub const MAX_REQUEST_ID: usize = 64;

/// The `id` of a frame, if it has a usable one (for answering a frame not acted on).
pub fn request_id(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value
        .get("id")?
        .as_str()
        .filter(|s| !s.is_empty() && s.len() <= MAX_REQUEST_ID)
        .map(str::to_owned)
}

pub fn decode(text: &str) -> Result<ClientFrame, Refusal> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| Refusal {
        id: None,
        code: "invalid_json",
        message: format!("the frame is not valid JSON: {e}"),
    })?;
    let id = value
        .get("id")
        .and_then(|v| v.as_str())
        .filter(|s| s.len() <= MAX_REQUEST_ID)
        .map(str::to_owned);
    let refuse = |code, message: String| Refusal {
        id: id.clone(),
        code,
        message,
    };
    let Some(kind) = value
        .get("type")
        .and_then(|t| t.as_str())
        .map(str::to_owned)
    else {
        return Err(refuse(
            "invalid_frame",
            "a frame needs a string \"type\"".into(),
        ));
    };
    if !KNOWN_TYPES.contains(&kind.as_str()) {
        return Err(refuse(
            "unknown_type",
            format!("unknown frame type {kind:?}"),
        ));
    }
    if value
        .get("id")
        .and_then(|v| v.as_str())
        .is_some_and(|s| s.is_empty() || s.len() > MAX_REQUEST_ID)
    {
        return Err(refuse(
            "invalid_frame",
            format!("id must be 1 to {MAX_REQUEST_ID} bytes"),
        ));
    }
    serde_json::from_value(value).map_err(|e| refuse("invalid_frame", format!("{kind}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_schemas::ws::ServerFrame;

    #[test]
    fn an_event_frame_decodes_as_the_documented_server_frame() {
        let envelope = br#"{"eventId":"0190c1c6-7c3a-7000-8000-000000000000","type":"member.joined",
            "data":{"userId":"0190c1c6-7c3a-7000-8000-000000000001"},"v":1,
            "occurredAt":"2026-01-01T00:00:00Z","actor":"0190c1c6-7c3a-7000-8000-000000000001","roomId":"r1"}"#;
        let frame = event_frame(&RoomId::parse("r1").unwrap(), 7, 3, envelope).unwrap();
        match serde_json::from_str::<ServerFrame>(&frame).unwrap() {
            ServerFrame::Event {
                room_id,
                seq,
                prev_seq,
                ..
            } => {
                assert_eq!((room_id.as_str(), seq, prev_seq), ("r1", 7, 3))
            }
            other => panic!("not an event: {other:?}"),
        }
    }

    #[test]
    fn a_non_json_payload_makes_no_frame() {
        assert!(event_frame(&RoomId::parse("r").unwrap(), 1, 0, b"{oops").is_none());
    }

    #[test]
    fn each_kind_of_bad_frame_has_its_code() {
        assert_eq!(decode("{nope").unwrap_err().code, "invalid_json");
        assert_eq!(decode(r#"{"id":"1"}"#).unwrap_err().code, "invalid_frame");
        let unknown = decode(r#"{"type":"fly","id":"7"}"#).unwrap_err();
        assert_eq!(
            (unknown.code, unknown.id.as_deref()),
            ("unknown_type", Some("7"))
        );
        assert_eq!(
            decode(r#"{"type":"send","id":"1"}"#).unwrap_err().code,
            "invalid_frame"
        );
        let long_id = format!(r#"{{"type":"ping","id":"{}"}}"#, "x".repeat(65));
        assert_eq!(decode(&long_id).unwrap_err().code, "invalid_frame");
        assert!(matches!(
            decode(r#"{"type":"ping","id":"1"}"#),
            Ok(ClientFrame::Ping { .. })
        ));
    }
}
