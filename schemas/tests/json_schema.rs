//! The JSON Schema files under `schemas/json/` are generated from the wire types; this test
//! fails when they are out of date. Regenerate with:
//! `UPDATE_SCHEMAS=1 cargo test -p chat-schemas --test json_schema`.

use chat_schemas::events::Envelope;
use chat_schemas::ws::{ClientFrame, ServerFrame};
use std::path::PathBuf;

fn check(name: &str, schema: schemars::Schema) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("json")
        .join(name);
    let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date: run UPDATE_SCHEMAS=1 cargo test -p chat-schemas --test json_schema",
        path.display()
    );
}

#[test]
fn the_committed_client_frame_schema_matches_the_types() {
    check(
        "client-frame.schema.json",
        schemars::schema_for!(ClientFrame),
    );
}

#[test]
fn the_committed_server_frame_schema_matches_the_types() {
    check(
        "server-frame.schema.json",
        schemars::schema_for!(ServerFrame),
    );
}

#[test]
fn the_committed_event_schema_matches_the_types() {
    check("event.schema.json", schemars::schema_for!(Envelope));
}

#[test]
fn example_frames_validate_against_their_schema() {
    // The schema must accept what the server really sends and refuse what it refuses.
    let schema = serde_json::to_value(schemars::schema_for!(ClientFrame)).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator
        .is_valid(&serde_json::json!({"type": "send", "id": "1", "roomId": "r", "message": "hi"})));
    assert!(validator.is_valid(
        &serde_json::json!({"type": "resume", "id": "2", "rooms": [{"roomId": "r", "lastSeq": 4}]})
    ));
    assert!(!validator.is_valid(&serde_json::json!({"type": "send", "id": "1"})));
    assert!(!validator.is_valid(&serde_json::json!({"type": "fly"})));
}
