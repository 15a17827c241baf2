//! One stored event as one JSON line: where it is in the log (stream, subject, seq, stored
//! time) and the event itself. Pure, so its shape is tested without NATS.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A stored message as the line `chat-replay` prints: `event` is the stored envelope when it
/// is JSON (every event this platform writes is), else `payload` is the raw text.
pub fn line(
    stream: &str,
    subject: &str,
    seq: u64,
    stored: OffsetDateTime,
    payload: &[u8],
) -> String {
    let stored = stored.format(&Rfc3339).unwrap_or_default();
    let mut line = json!({"stream": stream, "subject": subject, "seq": seq, "stored": stored});
    match serde_json::from_slice::<Value>(payload) {
        Ok(event) => line["event"] = event,
        Err(_) => line["payload"] = Value::String(String::from_utf8_lossy(payload).into_owned()),
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_event_is_one_line_with_its_place_in_the_log() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let printed = line(
            "CHAT_ROOMS",
            "chat.room.r1",
            7,
            at,
            br#"{"type":"message.posted"}"#,
        );
        assert!(!printed.contains('\n'));
        let parsed: Value = serde_json::from_str(&printed).unwrap();
        assert_eq!(
            parsed,
            json!({"stream": "CHAT_ROOMS", "subject": "chat.room.r1", "seq": 7,
                   "stored": "2023-11-14T22:13:20Z", "event": {"type": "message.posted"}})
        );
    }

    #[test]
    fn a_payload_that_is_not_json_is_kept_as_text() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let parsed: Value = serde_json::from_str(&line("S", "s", 1, at, b"not json")).unwrap();
        assert_eq!(parsed["payload"], "not json");
        assert!(parsed.get("event").is_none());
    }
}
