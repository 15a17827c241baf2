//! Input policy: what the platform accepts from a client, checked at the edge before any
//! command runs. Every refusal carries a stable code naming what is wrong
//! (`invalid_json`, `invalid_body`, `missing_field`, `empty_field`, `invalid_field`, or
//! one per kind of value); the api answers each as 400, and handlers only ever see the
//! checked values ([`NewRoom`], [`NewMessage`], [`StatusChange`], ...).
//!
//! The wire types themselves live in `chat_schemas`; the rules about them live here, split
//! by concept, so that a rule has one home whichever transport applies it:
//!
//! - [`fields`]: JSON bodies, strings, ids and integer parameters.
//! - [`times`]: client timestamps every part of the platform can store and show.
//! - [`accounts`]: usernames (and the one fold they are compared in), passwords.
//! - [`rooms`]: room names, visibilities, initial members, direct-room partners.
//! - [`messages`]: message bodies and the message length limit.
//! - [`status`]: status changes.
//! - [`names`]: what no name others read may contain (display names, room names).
//! - [`people`]: display names and the people directory's parameters.
//! - [`public_rooms`]: the public room directory's parameters.
//! - [`reads`]: read positions.
//! - [`reactions`]: reaction emoji and the distinct-emoji cap.
//! - [`search`]: message search parameters.
//!
//! Pure (no I/O, no async), so `fuzz/` exercises exactly what the api runs.

pub mod accounts;
pub mod fields;
pub mod messages;
pub mod names;
pub mod people;
pub mod public_rooms;
pub mod reactions;
pub mod reads;
pub mod rooms;
pub mod search;
pub mod status;
pub mod times;

pub use accounts::{valid_username, CredentialsPolicy, UsernameKey, PASSWORD_CHARS, USERNAME_LEN};
pub use fields::{
    client_msg_id, int_param, json_object, optional_str, parse_room_id, parse_user_id,
    required_str, room_id, user_id,
};
pub use messages::{NewMessage, SendMessagePolicy, MAX_MESSAGE_CHARS};
pub use rooms::{
    AddMembersPolicy, CreateRoomPolicy, NewRoom, OpenDirectPolicy, MAX_ADDED_MEMBERS,
    MAX_INITIAL_MEMBERS, MAX_ROOM_NAME_CHARS,
};
pub use status::{StatusChange, UpdateStatusPolicy};
pub use times::{parse_time, storable_time, timestamp};

/// Why a request's input was refused: a stable `code` and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct InputError {
    pub code: &'static str,
    pub message: String,
}

impl InputError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
