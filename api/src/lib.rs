//! The HTTP API: accounts, rooms, the seed commands (`sendMessage`, `updateStatus`) and
//! queries (`getMessages`, `getStatus`).
//!
//! Commands become events in JetStream (never direct writes to the read models); queries
//! read Postgres. Accounts are the exception: not chat events, kept in Postgres directly.
//!
//! - [`router`]: the route table and the router built from it.
//! - [`routes`]: handlers, one file per resource.
//! - [`state`]: shared state and the publish-then-wait-for-projection path.
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
