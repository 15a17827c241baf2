//! The gateway's decoder of client text frames (`chat_schemas::ws::decode`, which the
//! gateway calls on every text frame).
//!
//! Checked for every input: no panic; a decoded frame encodes back to JSON that decodes to
//! the same frame and carries a known `type`; an `id` is 1 to 64 bytes and is exactly
//! what `request_id` (used to answer rate-limited frames) finds; a refusal has one of
//! the documented codes, `invalid_json` exactly when the text is not JSON, and echoes the
//! same id `request_id` finds.
#![no_main]

use chat_schemas::ws::decode::{decode, request_id, KNOWN_TYPES, MAX_REQUEST_ID};
use chat_schemas::ws::ClientFrame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A text frame that is not UTF-8 is closed with 1007 before it reaches the decoder.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let is_json = serde_json::from_str::<serde_json::Value>(text).is_ok();
    match decode(text) {
        Ok(frame) => {
            let id = ClientFrame::id(&frame);
            if let Some(id) = id {
                assert!(
                    !id.is_empty() && id.len() <= MAX_REQUEST_ID,
                    "accepted id of {} bytes",
                    id.len()
                );
            }
            assert_eq!(request_id(text).as_deref(), id, "request_id disagrees");

            let encoded = serde_json::to_string(&frame).expect("a client frame serialises");
            let value: serde_json::Value = serde_json::from_str(&encoded).unwrap();
            let kind = value["type"].as_str().expect("encoded frame has a type");
            assert!(
                KNOWN_TYPES.contains(&kind),
                "type {kind:?} not in KNOWN_TYPES"
            );
            match decode(&encoded) {
                Ok(again) => assert_eq!(again, frame, "round trip changed the frame"),
                Err(e) => panic!("re-encoded frame {encoded} refused: {e:?}"),
            }
        }
        Err(refusal) => {
            assert!(
                matches!(
                    refusal.code,
                    "invalid_json" | "invalid_frame" | "unknown_type"
                ),
                "undocumented code {}",
                refusal.code
            );
            assert_eq!(refusal.code == "invalid_json", !is_json);
            assert!(!refusal.message.is_empty());
            assert_eq!(refusal.id, request_id(text), "refusal echoes another id");
        }
    }
});
