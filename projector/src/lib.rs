//! The projector: reads each stream from its checkpoint and folds the events into the
//! Postgres read models.
//!
//! - [`follow`]: one loop per stream (ordered consumer from `checkpoint + 1`, batching,
//!   retries, recreation after NATS or Postgres outages).
//! - [`batch`]: one transaction per batch: effects and the new checkpoint commit together.
//! - [`apply`]: what each event type does to the read models.
//!
//! **Exactly once in effect.** The checkpoint lives in Postgres, not in a JetStream
//! consumer: the transaction that applies events `a..=b` also moves the checkpoint to `b`,
//! and skips any event at or below the checkpoint it locked. A crash at any point replays
//! from the committed checkpoint; two projectors racing on one stream serialise on the
//! checkpoint row. The ordered consumer needs no acks: committing the checkpoint is the ack.

pub mod apply;
pub mod batch;
pub mod follow;

use chat_core::eventlog::{EventLog, StreamKind};
use deadpool_postgres::Pool;
use std::future::Future;

/// Tuning of the projector (`PROJECTOR_*` variables).
#[derive(Debug, Clone)]
pub struct ProjectorConfig {
    /// Most events applied in one transaction.
    pub max_batch: usize,
}

impl ProjectorConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            max_batch: chat_core::env::var_or("PROJECTOR_MAX_BATCH", 500usize)?,
        })
    }
}

/// Runs both stream followers until `shutdown` resolves.
pub async fn run(
    log: EventLog,
    pool: Pool,
    config: ProjectorConfig,
    shutdown: impl Future<Output = ()> + Send,
) {
    let followers = futures::future::join(
        follow::follow(log.clone(), pool.clone(), StreamKind::Rooms, config.clone()),
        follow::follow(log, pool, StreamKind::Users, config),
    );
    tokio::select! {
        _ = followers => {}
        _ = shutdown => tracing::info!("projector stopping"),
    }
}
