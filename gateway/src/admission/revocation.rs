//! Closing the connections of ended sessions: the revocation notices this gateway hears,
//! and the periodic (and after-reconnect) re-check that catches the notices it missed
//! (see the parent module's comment).

use async_nats::Client;
use chat_core::sessions::{parse_revoked, Sessions, REVOKED_WILDCARD};
use futures::StreamExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Admission;

/// Closes the sockets named by revocation notices, for as long as the NATS client lives,
/// and tells the session cache.
pub async fn watch_revocations(
    client: Client,
    sessions: Sessions,
    admission: Arc<Admission>,
) -> Result<(), async_nats::Error> {
    let mut notices = client.subscribe(REVOKED_WILDCARD).await?;
    while let Some(notice) = notices.next().await {
        if let Some((user, generation)) = parse_revoked(&notice.subject, &notice.payload) {
            sessions.note_revoked(user, generation);
            let closed = admission.revoke(user, generation);
            tracing::debug!(%user, generation, closed, "session revoked");
        }
    }
    Ok(())
}

/// How often the re-check loop looks whether the NATS client reconnected.
pub const RECONNECT_POLL: Duration = Duration::from_millis(250);

/// Re-checks the sessions of every open connection every `period` and after every NATS
/// reconnect (see the module comment), until `stop` is cancelled.
pub async fn recheck_sessions(
    client: Client,
    sessions: Sessions,
    admission: Arc<Admission>,
    period: Duration,
    stop: tokio_util::sync::CancellationToken,
) {
    let statistics = client.statistics();
    let mut connects = statistics.connects.load(Ordering::Relaxed);
    let mut last = Instant::now();
    let mut poll = tokio::time::interval(RECONNECT_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = poll.tick() => {}
            _ = stop.cancelled() => return,
        }
        let now_connects = statistics.connects.load(Ordering::Relaxed);
        let reconnected = now_connects != connects;
        if !reconnected && last.elapsed() < period {
            continue;
        }
        match recheck_once(&sessions, &admission).await {
            Ok(closed) => {
                // A reconnect counts as handled only once a check went through.
                connects = now_connects;
                last = Instant::now();
                if closed > 0 {
                    tracing::info!(closed, reconnected, "sessions ended found by re-check");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot re-check sessions; trying again");
                last = Instant::now();
            }
        }
        sessions.prune_cache();
    }
}

/// One re-check of every open connection's session; answers how many were closed.
pub async fn recheck_once(
    sessions: &Sessions,
    admission: &Admission,
) -> Result<usize, chat_core::database::DbError> {
    let users = admission.open_users();
    if users.is_empty() {
        return Ok(0);
    }
    let states = sessions.accounts(&users).await?;
    let mut closed = 0;
    for user in users {
        // Gone or banned: no generation opens a session.
        let current = match states.get(&user) {
            Some(state) if !state.banned => state.generation,
            _ => u64::MAX,
        };
        closed += admission.revoke_other_than(user, current);
    }
    Ok(closed)
}
