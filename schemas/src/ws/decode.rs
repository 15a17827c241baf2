//! Decoding a client's text frame into a [`ClientFrame`], with the error code a client sees
//! for a frame it got wrong (`invalid_json`, `invalid_frame`, `unknown_type`).
//!
//! Pure (no I/O, no async), so the gateway uses it as is and `fuzz/` can exercise it
//! without the gateway's dependencies.

use super::ClientFrame;

/// Why a client frame was refused, with the request id if one could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub id: Option<String>,
    pub code: &'static str,
    pub message: String,
}

/// The `type`s of [`ClientFrame`], as they appear on the wire.
pub const KNOWN_TYPES: &[&str] = &[
    "auth", "join", "leave", "send", "edit", "delete", "typing", "status", "resume", "ping",
    "watch", "read", "react",
];

/// The longest request id accepted, in bytes.
pub const MAX_REQUEST_ID: usize = 64;

/// The `id` of a frame, if it has a usable one (for answering a frame not acted on).
pub fn request_id(text: &str) -> Option<String> {
    usable_id(&serde_json::from_str(text).ok()?)
}

fn usable_id(frame: &serde_json::Value) -> Option<String> {
    frame
        .get("id")?
        .as_str()
        .filter(|s| !s.is_empty() && s.len() <= MAX_REQUEST_ID)
        .map(str::to_owned)
}

/// A client frame from its text, or why it was refused. An `id`, when present, is 1 to
/// [`MAX_REQUEST_ID`] bytes.
pub fn decode(text: &str) -> Result<ClientFrame, Refusal> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| Refusal {
        id: None,
        code: "invalid_json",
        message: format!("the frame is not valid JSON: {e}"),
    })?;
    // The id a refusal echoes: the same as `request_id` would find (never an empty one).
    let id = usable_id(&value);
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
        let empty_id = decode(r#"{"type":"ping","id":""}"#).unwrap_err();
        assert_eq!((empty_id.code, empty_id.id), ("invalid_frame", None));
        assert!(matches!(
            decode(r#"{"type":"ping","id":"1"}"#),
            Ok(ClientFrame::Ping { .. })
        ));
    }

    #[test]
    fn every_known_type_is_a_client_frame_type() {
        let frames = [
            r#"{"type":"auth","token":"t"}"#,
            r#"{"type":"join","id":"1","roomId":"r"}"#,
            r#"{"type":"leave","id":"1","roomId":"r"}"#,
            r#"{"type":"send","id":"1","roomId":"r","message":"m"}"#,
            r#"{"type":"edit","id":"1","roomId":"r","messageId":"x","message":"m"}"#,
            r#"{"type":"delete","id":"1","roomId":"r","messageId":"x"}"#,
            r#"{"type":"typing","roomId":"r"}"#,
            r#"{"type":"status","id":"1","status":"away"}"#,
            r#"{"type":"resume","id":"1","rooms":[]}"#,
            r#"{"type":"ping","id":"1"}"#,
            r#"{"type":"watch","id":"1","userIds":[]}"#,
            r#"{"type":"read","id":"1","roomId":"r","seq":3}"#,
            r#"{"type":"react","id":"1","roomId":"r","messageId":"x","emoji":"👍","add":true}"#,
        ];
        assert_eq!(frames.len(), KNOWN_TYPES.len());
        for (text, kind) in frames.iter().zip(KNOWN_TYPES) {
            let frame = decode(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            let json = serde_json::to_value(&frame).unwrap();
            assert_eq!(json["type"], *kind);
        }
    }

    #[test]
    fn request_ids_are_only_usable_ones() {
        assert_eq!(request_id(r#"{"id":"a"}"#).as_deref(), Some("a"));
        assert_eq!(request_id(r#"{"id":""}"#), None);
        assert_eq!(request_id(r#"{"id":7}"#), None);
        assert_eq!(request_id("[1]"), None);
    }
}
