//! The projector: reads each stream from its checkpoint and folds the events into the
//! Postgres read models.
//!
//! - [`follow`]: one loop per stream (ordered consumer from `checkpoint + 1`, batching,
//!   retries, recreation after NATS or Postgres outages).
//! - [`batch`]: one transaction per batch: effects and the new checkpoint commit together.
//! - [`apply`]: what each room event does to the read models.
//! - [`notices`]: presence and membership changes, announced live after each commit.
//! - [`presence`]: folding status, typing, connections and gateway heartbeats.
//! - [`profiles`]: folding the people stream (display names).
//! - [`reads`]: folding the reads stream (read positions).
//! - [`reaper`]: closing the connections of gateways that stopped heart-beating.
//! - [`partition`]: splitting the room stream into partitions, per-room order kept.
//! - [`lease`]: sharing the partitions between instances through Postgres advisory locks.
//!
//! **Exactly once in effect.** The checkpoint lives in Postgres, not in a JetStream
//! consumer: the transaction that applies events `a..=b` also moves the checkpoint to `b`,
//! and skips any event at or below the checkpoint it locked. A crash at any point replays
//! from the committed checkpoint; two projectors racing on one stream serialise on the
//! checkpoint row. The ordered consumer needs no acks: committing the checkpoint is the ack.

pub mod apply;
pub mod batch;
pub mod follow;
pub mod lease;
pub mod messages;
pub mod notices;
pub mod partition;
pub mod presence;
pub mod profiles;
pub mod reactions;
pub mod reads;
pub mod reaper;

use chat_core::eventlog::EventLog;
use deadpool_postgres::Pool;
use std::future::Future;
use std::time::Duration;

/// Tuning of the projector (`PROJECTOR_*` variables).
#[derive(Debug, Clone)]
pub struct ProjectorConfig {
    /// Most events applied in one transaction; a backlog is applied in batches this large
    /// (measured here: 2,000 applied ~39k events/s, 500 ~32k, see docs/BENCHMARKS.md).
    pub max_batch: usize,
    /// A gateway process whose last heartbeat is older than this is presumed dead.
    pub gateway_stale_after: Duration,
    /// How often the reaper looks for dead gateways.
    pub reap_interval: Duration,
    /// Partitions of the room stream (fixed for a deployment: each has its checkpoint).
    pub partitions: u32,
    /// How often an instance renews its presence and moves towards its fair share.
    pub lease_interval: Duration,
}

impl Default for ProjectorConfig {
    fn default() -> Self {
        Self {
            max_batch: 2000,
            gateway_stale_after: Duration::from_secs(10),
            reap_interval: Duration::from_secs(2),
            partitions: 1,
            lease_interval: Duration::from_secs(1),
        }
    }
}

impl ProjectorConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        use chat_core::env::{millis_or, var_or};
        let d = Self::default();
        Ok(Self {
            max_batch: var_or("PROJECTOR_MAX_BATCH", d.max_batch)?,
            gateway_stale_after: millis_or(
                "PROJECTOR_GATEWAY_STALE_MS",
                d.gateway_stale_after.as_millis() as u64,
            )?,
            reap_interval: millis_or(
                "PROJECTOR_REAP_INTERVAL_MS",
                d.reap_interval.as_millis() as u64,
            )?,
            partitions: var_or("PROJECTOR_PARTITIONS", d.partitions)?.max(1),
            lease_interval: millis_or(
                "PROJECTOR_LEASE_INTERVAL_MS",
                d.lease_interval.as_millis() as u64,
            )?,
        })
    }
}

/// Runs this instance's share of the projection (see [`lease`]) until `shutdown`.
pub async fn run(
    log: EventLog,
    pool: Pool,
    config: ProjectorConfig,
    shutdown: impl Future<Output = ()> + Send,
) {
    tokio::select! {
        _ = lease::run(log, pool, config) => {}
        _ = shutdown => tracing::info!("projector stopping"),
    }
}
