//! The api's JSON request bodies: `chat_core::input::json_object` (what the api's
//! `JsonBody` extractor runs) into each body of `chat_schemas::http`, then the check the
//! handler runs on it (register, login, create room, open direct room, send message,
//! update status). Every input is tried as every body, and (see `FIELDS`) as one field
//! of a valid body.
//!
//! Checked for every input: no panic; a body parses exactly when the input is a JSON
//! object; refusals carry a documented code; what a check accepts satisfies the rules the
//! README states, and written back as a body it is accepted again with the same result
//! (round trip); an accepted send can be stored: its event serialises and reads back,
//! and its client time converts to UTC and formats as RFC 3339 (what Postgres and
//! `getMessages` do with it).
#![no_main]

use chat_schemas::events::EventBody;
use chat_schemas::http::{CreateRoom, Credentials, OpenDirect, SendMessage, UpdateStatus};
use chat_core::input::{
    json_object, valid_username, CreateRoomPolicy, CredentialsPolicy, InputError, OpenDirectPolicy,
    SendMessagePolicy, UpdateStatusPolicy, NewMessage, NewRoom, StatusChange,
    MAX_INITIAL_MEMBERS, MAX_ROOM_NAME_CHARS, PASSWORD_CHARS,
};
use chat_schemas::{MessageId, UserId};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::UtcOffset;

/// The caller every check runs as (fixed, so that inputs can name it).
const CALLER: &str = "0190c1c6-7c3a-7000-8000-000000000001";
const OTHER: &str = "0190c1c6-7c3a-7000-8000-000000000002";

/// The fields of a body that every check accepts, for the second view of an input.
const FIELDS: [&str; 12] = [
    "username",
    "password",
    "name",
    "visibility",
    "members",
    "userId",
    "roomId",
    "message",
    "senderId",
    "timestamp",
    "clientMsgId",
    "status",
];

fuzz_target!(|data: &[u8]| {
    bodies(data);
    // Second view: a letter `a`.. choosing one of FIELDS, then a JSON value put in that
    // field of a body that is otherwise valid, so that mutations go into one field's
    // checks instead of into keeping the rest of the body valid.
    if let Some((selector, value)) = data.split_first() {
        let field = FIELDS.get(usize::from(selector.wrapping_sub(b'a')));
        if let (Some(field), Ok(value)) = (field, serde_json::from_slice::<Value>(value)) {
            let mut body = json!({
                "username": "alice_1",
                "password": "password1",
                "name": "General",
                "visibility": "public",
                "members": [OTHER],
                "userId": OTHER,
                "roomId": "general",
                "message": "hi",
                "senderId": CALLER,
                "timestamp": "2026-11-21T10:00:00Z",
                "clientMsgId": "c-1",
                "status": "online",
            });
            body[*field] = value;
            bodies(body.to_string().as_bytes());
        }
    }
});

/// Every body and its check on `data`.
fn bodies(data: &[u8]) {
    let is_object = serde_json::from_slice::<Value>(data).is_ok_and(|v| v.is_object());
    let caller = UserId::parse(CALLER).unwrap();

    if let Some(body) = body::<Credentials>(data, is_object) {
        credentials(&body);
    }
    if let Some(body) = body::<CreateRoom>(data, is_object) {
        create_room(&body, caller);
    }
    if let Some(body) = body::<OpenDirect>(data, is_object) {
        match body.check(caller) {
            Ok(other) => {
                assert_ne!(other, caller);
                let again = reparse::<OpenDirect>(json!({ "userId": other.to_string() }));
                assert_eq!(again.check(caller), Ok(other));
            }
            Err(e) => documented(&e, &["invalid_user_id"]),
        }
    }
    if let Some(body) = body::<SendMessage>(data, is_object) {
        send_message(&body);
    }
    if let Some(body) = body::<UpdateStatus>(data, is_object) {
        update_status(&body);
    }
}

/// The body as the api's extractor sees it; `None` when it is refused (as it must be
/// exactly when the input is not a JSON object).
fn body<T: serde::de::DeserializeOwned>(data: &[u8], is_object: bool) -> Option<T> {
    match json_object::<T>(data) {
        Ok(body) => {
            assert!(is_object, "a body that is not a JSON object was accepted");
            Some(body)
        }
        Err(e) => {
            assert!(!is_object, "a JSON object was refused: {e}");
            assert!(matches!(e.code, "invalid_json" | "invalid_body"), "{e}");
            None
        }
    }
}

/// Serialises `value` and parses it back as the body `T`.
fn reparse<T: serde::de::DeserializeOwned>(value: Value) -> T {
    json_object(value.to_string().as_bytes()).expect("a written-back body parses")
}

/// A refusal has a message and one of the codes of the field checks or of `extra`.
fn documented(e: &InputError, extra: &[&str]) {
    const FIELD: &[&str] = &["missing_field", "empty_field", "invalid_field"];
    assert!(
        FIELD.contains(&e.code) || extra.contains(&e.code),
        "undocumented code: {e}"
    );
    assert!(!e.message.is_empty());
}

/// A string field as `required_str` accepts it.
fn usable_text(s: &str) {
    assert!(!s.trim().is_empty() && !s.contains('\0'), "accepted {s:?}");
}

fn credentials(body: &Credentials) {
    let login = body.for_login();
    match body.for_registration() {
        Ok((username, password)) => {
            assert!(valid_username(username), "accepted username {username:?}");
            assert!(PASSWORD_CHARS.contains(&password.chars().count()));
            usable_text(password);
            assert_eq!(
                login,
                Ok((username, password)),
                "registrable but not a login"
            );
        }
        Err(e) => documented(&e, &["invalid_username", "invalid_password"]),
    }
    match login {
        Ok((username, password)) => {
            usable_text(username);
            usable_text(password);
        }
        Err(e) => documented(&e, &[]),
    }
}

fn create_room(body: &CreateRoom, caller: UserId) {
    match body.check(caller) {
        Ok(room) => {
            let NewRoom {
                name,
                visibility,
                members,
            } = &room;
            usable_text(name);
            assert_eq!(name.trim(), name, "name not trimmed");
            assert!(name.chars().count() <= MAX_ROOM_NAME_CHARS);
            assert!(members.len() <= MAX_INITIAL_MEMBERS);
            assert!(!members.contains(&caller), "creator listed as a member");
            assert!(
                members.windows(2).all(|w| w[0] < w[1]),
                "members not distinct"
            );
            let again = reparse::<CreateRoom>(json!({
                "name": name,
                "visibility": visibility.as_str(),
                "members": members.iter().map(UserId::to_string).collect::<Vec<_>>(),
            }));
            assert_eq!(again.check(caller), Ok(room));
        }
        Err(e) => documented(
            &e,
            &[
                "invalid_name",
                "invalid_visibility",
                "invalid_members",
                "invalid_user_id",
            ],
        ),
    }
}

fn send_message(body: &SendMessage) {
    let checked = match body.check() {
        Ok(checked) => checked,
        Err(e) => {
            return documented(
                &e,
                &[
                    "invalid_room_id",
                    "invalid_user_id",
                    "invalid_timestamp",
                    "invalid_client_msg_id",
                ],
            )
        }
    };
    let NewMessage {
        room,
        message,
        sender,
        client_time,
        client_msg_id,
    } = &checked;
    usable_text(message);

    // What the command layer stores, and the projector reads back.
    let event = EventBody::MessagePosted {
        message_id: MessageId(sender.0),
        message: (*message).to_owned(),
        client_timestamp: Some(*client_time),
        client_msg_id: client_msg_id.as_ref().map(|c| c.as_str().to_owned()),
    };
    let stored = serde_json::to_string(&event)
        .unwrap_or_else(|e| panic!("accepted time {client_time} cannot be stored: {e}"));
    let read: EventBody = serde_json::from_str(&stored).expect("a stored event reads back");
    assert_eq!(read, event);
    // Postgres converts to UTC; getMessages formats that as RFC 3339.
    let utc = client_time
        .checked_to_offset(UtcOffset::UTC)
        .unwrap_or_else(|| panic!("accepted time {client_time} has no UTC equivalent"));
    utc.format(&Rfc3339)
        .unwrap_or_else(|e| panic!("accepted time {client_time} cannot be shown in UTC: {e}"));

    let as_given = client_time.format(&Rfc3339).unwrap();
    let again = reparse::<SendMessage>(json!({
        "roomId": room.as_str(),
        "message": message,
        "senderId": sender.to_string(),
        "timestamp": as_given,
        "clientMsgId": client_msg_id.as_ref().map(|c| c.as_str()),
    }));
    assert_eq!(again.check(), Ok(checked));
}

fn update_status(body: &UpdateStatus) {
    match body.check() {
        Ok(change) => {
            let StatusChange { user, status, room } = &change;
            let again = reparse::<UpdateStatus>(json!({
                "userId": user.to_string(),
                "status": status.as_str(),
                "roomId": room.as_ref().map(|r| r.as_str()),
            }));
            assert_eq!(again.check(), Ok(change));
        }
        Err(e) => documented(
            &e,
            &["invalid_user_id", "invalid_status", "invalid_room_id"],
        ),
    }
}
