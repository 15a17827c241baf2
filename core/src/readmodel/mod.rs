//! The read models, as the services query them: every `SELECT` a transport or a command
//! needs lives here, split by concept, so that a route handler or a gateway module never
//! holds SQL and a schema change has one place to look.
//!
//! - [`rooms`]: rooms, membership (who may use a room) and the rooms a user is in.
//! - [`users`]: which users exist, their presence and status.
//! - [`members`]: a room's member list (names, presence, read positions), for members.
//! - [`people`]: the people directory (`{userId, username, displayName}` only).
//! - [`public_rooms`]: the public room directory (public group rooms by name).
//! - [`messages`]: history pages, message owners, earlier sends of a `clientMsgId`.
//! - [`reactions`]: each message's reactions, and what a reaction command decides on.
//! - [`search`]: message search over the caller's rooms (full-text, ranked, snippets).
//! - [`progress`]: how far the projector has got (for read-your-writes waits).
//!
//! A [`ReadModel`] handle only reads: its connections are reachable from inside this crate
//! alone, so writes go through the command layer (events) or, for the account rows that
//! are not events, through [`crate::accounts`] and [`crate::sessions`].
//!
//! Every query is bounded by the configured database timeout, so a stalled Postgres turns
//! into [`DbError::Unavailable`] rather than a hung request.

pub mod members;
pub mod messages;
pub mod people;
pub mod progress;
pub mod public_rooms;
pub mod reactions;
pub mod rooms;
pub mod search;
pub mod users;

pub use members::Member;
pub use messages::{HistoryMessage, HistoryQuery};
pub use people::Person;
pub use public_rooms::PublicRoom;
pub use reactions::{ReactionCount, ReactionState};
pub use rooms::{RoomAccess, RoomListing};
pub use search::{SearchHit, SearchPage, Snippet};
pub use users::StatusSeen;

use deadpool_postgres::{Pool, Status};
use std::future::Future;
use std::time::Duration;

use crate::database::DbError;

#[derive(Clone)]
pub struct ReadModel {
    pool: Pool,
    timeout: Duration,
}

impl ReadModel {
    pub fn new(pool: Pool, timeout: Duration) -> Self {
        Self { pool, timeout }
    }

    /// The connection pool's state (size, idle connections), for the metrics endpoint.
    pub fn pool_status(&self) -> Status {
        self.pool.status()
    }

    /// Runs `f` with a pooled connection, bounded by the database timeout. Every database
    /// round trip of a service starts here, so `chat_db_queries_total` counts them (tests
    /// check with it that a hot path makes none).
    pub(crate) async fn with_client<T, F, Fut>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(deadpool_postgres::Object) -> Fut,
        Fut: Future<Output = Result<T, DbError>>,
    {
        metrics::counter!("chat_db_queries_total").increment(1);
        tokio::time::timeout(self.timeout, async {
            let client = self.pool.get().await?;
            f(client).await
        })
        .await?
    }
}
