//! Event and wire types of the chat platform, shared by every service and documented for
//! client developers.
//!
//! - [`ids`]: identifiers that may become NATS subject tokens, validated when parsed.
//! - [`events`]: the event envelope stored in JetStream and folded by the projector.
//! - [`http`]: request and response bodies of the HTTP API.
//! - [`error`]: the JSON error body every service answers with.
//! - [`ws`]: the WebSocket protocol (client and server frames, close codes).
//!
//! Types here carry no behaviour beyond parsing and (de)serialisation, so that every
//! service agrees on one definition of the wire.

pub mod error;
pub mod events;
pub mod http;
pub mod ids;
pub mod ws;

pub use ids::{ClientMsgId, IdError, MessageId, RoomId, UserId};
