//! Sharing the units of work (see [`crate::partition`]) between projector instances.
//!
//! A unit is leased by holding a Postgres advisory lock on a connection of its own. Each
//! instance, every `lease_interval`: records itself in `projector_instances`; counts the
//! instances seen within the last few intervals; and moves one step towards its fair share
//! (`ceil(units / instances)`): acquires free units up to it, or releases one if it holds
//! more (so a newly started instance gets work). When an instance dies, Postgres
//! drops its connections and with them its locks; the others take the units over at their
//! next tick. **Bound:** a dead instance's units are being applied again within about two
//! `lease_interval`s (default 1 s), plus catching up from the checkpoint.
//!
//! Correctness never rests on the lease: two followers of one unit serialise on its
//! checkpoint row and skip what is applied, so a lease lost during a network partition
//! costs work, not exactness. The reaper runs with the users-stream unit.

use chat_core::eventlog::{EventLog, StreamKind};
use deadpool_postgres::Pool;
use std::collections::HashMap;
use std::time::Duration;
use tokio::task::JoinHandle;

use crate::partition::Share;
use crate::{follow, reaper, ProjectorConfig};

/// The connection that holds a lease's advisory lock.
type Lock = deadpool_postgres::ClientWrapper;

/// A unit this instance holds: the lock's connection and the task applying it.
struct Held {
    lock: Lock,
    work: JoinHandle<()>,
}

impl Held {
    /// Stops the work and drops the lock's connection (which releases the lock).
    fn release(self) {
        self.work.abort();
        drop(self.lock);
    }
}

pub async fn run(log: EventLog, pool: Pool, config: ProjectorConfig) {
    let units = Share::all(config.partitions);
    let instance = uuid::Uuid::now_v7().to_string();
    let mut held: HashMap<Share, Held> = HashMap::new();
    let mut tick = tokio::time::interval(config.lease_interval);
    // Start the scan at a random unit so instances starting together spread out.
    let mut next = (uuid::Uuid::new_v4().as_u128() % units.len() as u128) as usize;
    loop {
        tick.tick().await;
        // Units whose lock connection broke, or whose work ended, are let go.
        let mut lost = Vec::new();
        for (share, h) in &held {
            if h.work.is_finished() || h.lock.simple_query("SELECT 1").await.is_err() {
                lost.push(*share);
            }
        }
        for share in lost {
            if let Some(h) = held.remove(&share) {
                tracing::warn!(?share, "lease lost");
                h.release();
            }
        }
        let instances = match announce(&pool, &instance, config.lease_interval).await {
            Ok(n) => n.max(1),
            Err(e) => {
                tracing::warn!(error = %e, "cannot reach Postgres for leases");
                continue;
            }
        };
        let fair = units.len().div_ceil(instances);
        if held.len() > fair {
            if let Some(share) = held.keys().next().copied() {
                tracing::info!(
                    ?share,
                    held = held.len(),
                    fair,
                    "releasing a unit for another instance"
                );
                if let Some(h) = held.remove(&share) {
                    h.release();
                }
            }
        } else {
            // Up to the fair share at once, so a lone instance starts everything at once.
            for _ in 0..units.len() {
                if held.len() >= fair {
                    break;
                }
                let share = units[next % units.len()];
                next += 1;
                if held.contains_key(&share) {
                    continue;
                }
                if let Some(lock) = try_lock(&pool, share.lock_key(log.settings())).await {
                    tracing::info!(?share, "unit acquired");
                    let work =
                        tokio::spawn(work_on(log.clone(), pool.clone(), share, config.clone()));
                    held.insert(share, Held { lock, work });
                }
            }
        }
    }
}

/// Applies `share`; the users stream also runs the reaper.
async fn work_on(log: EventLog, pool: Pool, share: Share, config: ProjectorConfig) {
    let since = follow::FollowingSince::default();
    if share.kind == StreamKind::Users {
        futures::future::join(
            follow::follow(
                log.clone(),
                pool.clone(),
                share,
                config.clone(),
                since.clone(),
            ),
            reaper::run(log, pool, config, since),
        )
        .await;
    } else {
        follow::follow(log, pool, share, config, since).await;
    }
}

/// Records this instance and counts the live ones.
async fn announce(
    pool: &Pool,
    instance: &str,
    interval: Duration,
) -> Result<usize, chat_core::database::DbError> {
    let client = pool.get().await?;
    client
        .execute(
            "INSERT INTO projector_instances (instance_id, last_seen) VALUES ($1, now()) \
             ON CONFLICT (instance_id) DO UPDATE SET last_seen = now()",
            &[&instance],
        )
        .await?;
    let window = (interval.as_secs_f64() * 3.0).max(1.0);
    client
        .execute(
            "DELETE FROM projector_instances WHERE last_seen < now() - make_interval(secs => $1::float8 * 10)",
            &[&window],
        )
        .await?;
    let live: i64 = client
        .query_one(
            "SELECT count(*) FROM projector_instances WHERE last_seen > now() - make_interval(secs => $1::float8)",
            &[&window],
        )
        .await?
        .get(0);
    Ok(live as usize)
}

/// A connection of its own (made by the pool's manager, not taken from the pool, so leases
/// never starve the pool) holding the advisory lock `key`; `None` if another holds it.
async fn try_lock(pool: &Pool, key: i64) -> Option<Lock> {
    use deadpool_postgres::Manager;
    let client = <Manager as deadpool::managed::Manager>::create(pool.manager())
        .await
        .ok()?;
    let row = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await
        .ok()?;
    row.get::<_, bool>(0).then_some(client)
}
