//! Encoding server frames and decoding client frames, with the error codes a client sees
//! for frames it got wrong (the frames a session answers with are in `session::replies`).

use axum::extract::ws::Utf8Bytes;
use chat_schemas::ws::ServerFrame;
use chat_schemas::RoomId;

// Decoding is pure and lives with the protocol types, where `fuzz/` reaches it.
pub use chat_schemas::ws::decode::{decode, request_id, Refusal, MAX_REQUEST_ID};

/// A server frame as WebSocket text.
pub fn encode(frame: &ServerFrame) -> Utf8Bytes {
    serde_json::to_string(frame)
        .expect("server frames always serialise")
        .into()
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
}
