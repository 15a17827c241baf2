//! The HTTP API: accounts, rooms, the seed commands (`sendMessage`, `updateStatus`) and
//! queries (`getMessages`, `getStatus`).
//!
//! Handlers only translate HTTP to `chat_core` and back: writes are `chat_core::commands`
//! (which decide authorization and become events in JetStream, never direct writes to the
//! read models); queries are `chat_core::readmodel`; accounts, not chat events, are
//! `chat_core::accounts`. No handler holds SQL.
//!
//! - [`router`]: the route table and the router built from it.
//! - [`routes`]: handlers, one file per resource.
//! - [`state`]: shared state (commands, read model, accounts, sessions, rate limits).
//! - [`extract`]: JSON body, query and caller extractors answering in the API's format.
//! - [`validate`]: field checks with stable error codes.
//! - [`error`]: `ApiError` and its JSON body.
//! - [`passwords`]: Argon2id hashing.
//! - [`config`]: `API_*` settings.

pub mod config;
pub mod error;
pub mod extract;
pub mod passwords;
pub mod router;
pub mod routes;
pub mod state;
pub mod validate;

pub use config::ApiConfig;
pub use router::{operator_router, router};
pub use state::ApiState;
