//! The reaper: closes the connections of gateway processes that stopped heart-beating.
//!
//! A gateway that dies cannot say goodbye. Every gateway process publishes a heartbeat
//! (with its boot id) every few seconds; the projector folds them into `gateways`. Every
//! `reap_interval`, the reaper finds the gateway processes whose last heartbeat is older
//! than `stale_after`, or that were replaced by a newer boot of the same gateway id, and
//! publishes a `connection.closed` (reason `gateway_lost`) for each of their connections,
//! then a `gateway.retired`. The projector folds those like any other events, so presence
//! stays derived from the stream alone.
//!
//! Bound: a user of a dead gateway is offline within `stale_after + reap_interval` plus
//! projection time (defaults: 10 s + 2 s). Reaping waits until the users stream has been
//! followed without a break for `stale_after` (after a NATS or Postgres outage or a
//! restart, the gateways' fresh heartbeats arrive first) and pauses while the projector is
//! more than a few events behind, so neither an outage nor catching up passes for deaths.

use chat_core::eventlog::{EventLog, PublishOptions, StreamKind};
use chat_schemas::events::{Envelope, EventBody};
use chat_schemas::UserId;
use deadpool_postgres::Pool;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::follow::{unix_millis, FollowingSince};
use crate::ProjectorConfig;
use std::sync::atomic::Ordering;

pub async fn run(log: EventLog, pool: Pool, config: ProjectorConfig, since: FollowingSince) {
    let mut recently_retired: HashMap<(String, String), Instant> = HashMap::new();
    let mut previous: Head = None;
    let mut tick = tokio::time::interval(config.reap_interval);
    loop {
        tick.tick().await;
        recently_retired.retain(|_, at| at.elapsed() < Duration::from_secs(60));
        // Heartbeat ages mean something only after the users stream has been followed
        // without a break for a whole staleness bound: after an outage (NATS, Postgres,
        // a restart) the gateways' fresh heartbeats must first have had time to arrive.
        let started = since.load(Ordering::Relaxed);
        let bound = config.gateway_stale_after.as_millis() as u64;
        if started == 0 || unix_millis().saturating_sub(started) < bound {
            continue;
        }
        if let Err(e) = reap_once(&log, &pool, &config, &mut recently_retired, &mut previous).await
        {
            previous = None;
            tracing::warn!(error = %e, "reaper pass failed; will retry");
        }
    }
}

/// The users stream's last sequence when the previous pass looked, and when.
type Head = Option<(u64, Instant)>;

async fn reap_once(
    log: &EventLog,
    pool: &Pool,
    config: &ProjectorConfig,
    recently_retired: &mut HashMap<(String, String), Instant>,
    previous: &mut Head,
) -> anyhow::Result<()> {
    let stream_name = log.settings().name(StreamKind::Users);
    let mut stream = log.jetstream().get_stream(stream_name).await?;
    let last_stored = stream.info().await?.state.last_sequence;
    let client = pool.get().await?;
    let applied: i64 = client
        .query_opt(
            "SELECT last_seq FROM projector_checkpoints WHERE stream = $1",
            &[&stream_name],
        )
        .await?
        .map(|r| r.get(0))
        .unwrap_or(0);
    // Every heartbeat stored by the previous pass (one interval ago) must be applied, or a
    // gateway's latest heartbeat could be waiting in the stream (after a Postgres outage,
    // say) and its age would lie.
    let caught_up = previous.is_some_and(|(head, at)| {
        applied as u64 >= head && at.elapsed() < config.reap_interval * 3
    });
    *previous = Some((last_stored, Instant::now()));
    if !caught_up {
        tracing::debug!(
            last_stored,
            applied,
            "projector not caught up; reaping paused"
        );
        return Ok(());
    }
    let stale_ms = config.gateway_stale_after.as_millis() as f64;
    let stale = client
        .query(
            "SELECT g.gateway_id, g.boot_id FROM gateways g \
             WHERE g.last_seen < now() - make_interval(secs => $1::float8 / 1000.0) \
                OR EXISTS (SELECT 1 FROM gateways n WHERE n.gateway_id = g.gateway_id \
                           AND n.boot_id <> g.boot_id AND n.last_seen > g.last_seen)",
            &[&stale_ms],
        )
        .await?;
    for row in stale {
        let key: (String, String) = (row.get(0), row.get(1));
        if recently_retired.contains_key(&key) {
            continue;
        }
        let (gateway, boot) = (&key.0, &key.1);
        let connections = client
            .query(
                "SELECT connection_id, user_id FROM connections WHERE gateway_id = $1 AND boot_id = $2",
                &[gateway, boot],
            )
            .await?;
        tracing::info!(
            gateway,
            boot,
            connections = connections.len(),
            "reaping a gateway that stopped heart-beating"
        );
        let mut acks = Vec::with_capacity(connections.len());
        for c in &connections {
            let user = UserId(c.get(1));
            let event = Envelope::user(
                user,
                user,
                EventBody::ConnectionClosed {
                    connection_id: c.get(0),
                    reason: "gateway_lost".into(),
                },
            );
            acks.push(
                log.enqueue(
                    chat_core::eventlog::subjects::user(user),
                    &event,
                    PublishOptions::default(),
                )
                .await?,
            );
        }
        for ack in acks {
            ack.await?;
        }
        let retired = Envelope::gateway(
            gateway,
            EventBody::GatewayRetired {
                boot_id: boot.clone(),
            },
        );
        log.publish(
            chat_core::eventlog::subjects::gateway(gateway),
            &retired,
            PublishOptions::default(),
        )
        .await?;
        recently_retired.insert(key, Instant::now());
    }
    Ok(())
}
