//! Folding the users stream: status, typing, connections and gateway heartbeats.
//!
//! A user's effective `status` (what others see) is derived from three things:
//! - **Their choice** (`manual_status`): `online`, `away` or `offline` (appear offline), set
//!   only by an explicit `status.changed` (the `status` frame, `POST /updateStatus`). It
//!   holds until they choose again: typing, connections opening or closing, reconnects and
//!   activity never change it.
//! - **Their connections** (the `connections` table, on every gateway): none means
//!   `offline`.
//! - **Idleness** (`connections.idle`, from `connection.idle` events): a user who chose
//!   `online` shows `away` only while every one of their connections is idle, so one idle
//!   device does not mark away a user who works on another. The gateways report each
//!   connection's idleness as an event (rather than each setting the user's status) so the
//!   decision is taken in one place that sees every gateway's connections.
//!
//! So: no connection → `offline`; chose `away`/`offline` → that; else every connection idle
//! → `away`; else `online`. An explicit status applies at once, also for HTTP-only
//! clients without any connection. Typing shows an `offline` user as `online` only when
//! their choice is `online` (an HTTP-only client typing).
//!
//! Every change of a user's effective status yields a [`PresenceNotice`], which the
//! follower publishes on `live.presence.<userId>` after the commit; gateways relay it.

use chat_core::database::DbError;
use chat_schemas::events::{Envelope, EventBody, Status};
use chat_schemas::UserId;
use deadpool_postgres::Transaction;
use time::{Duration, OffsetDateTime};

/// How long a `typing` status holds unless refreshed.
pub const TYPING_TTL: Duration = Duration::seconds(5);

/// A user's presence after a change, for live delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceNotice {
    pub user: UserId,
    pub status: String,
    pub last_seen: OffsetDateTime,
}

pub async fn apply_user_event(
    tx: &Transaction<'_>,
    seq: i64,
    user: UserId,
    event: &Envelope,
) -> Result<Option<PresenceNotice>, DbError> {
    let at = event.occurred_at;
    let row = match &event.body {
        EventBody::StatusChanged {
            status: Status::Typing,
            room_id,
        } => {
            let room = room_id.as_ref().map(|r| r.as_str().to_owned());
            // Typing implies presence, unless the user chose to appear otherwise.
            tx.execute(
                "INSERT INTO presence (user_id, status, last_seen, typing_in, typing_until, updated_seq) \
                 VALUES ($1, 'online', $2, $3, $4, $5) \
                 ON CONFLICT (user_id) DO UPDATE SET \
                   status = CASE WHEN presence.status = 'offline' AND presence.manual_status = 'online' \
                                 THEN 'online' ELSE presence.status END, \
                   last_seen = $2, typing_in = $3, typing_until = $4, updated_seq = $5",
                &[&user.0, &at, &room, &(at + TYPING_TTL), &seq],
            )
            .await?;
            // Typing itself is relayed live from the stream; only a status change is noticed.
            return Ok(None);
        }
        EventBody::StatusChanged { status, .. } => Some(
            tx.query_one(
                "INSERT INTO presence (user_id, status, manual_status, last_seen, updated_seq) \
                 VALUES ($1, $2, $2, $3, $4) \
                 ON CONFLICT (user_id) DO UPDATE SET status = $2, manual_status = $2, \
                   last_seen = $3, typing_in = NULL, typing_until = NULL, updated_seq = $4 \
                 RETURNING status",
                &[&user.0, &status.as_str(), &at, &seq],
            )
            .await?,
        ),
        EventBody::ConnectionOpened {
            connection_id,
            gateway_id,
            boot_id,
        } => {
            let inserted = tx
                .execute(
                    "INSERT INTO connections (connection_id, user_id, gateway_id, boot_id, opened_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    &[connection_id, &user.0, gateway_id, boot_id, &at],
                )
                .await?;
            if inserted == 0 {
                return Ok(None);
            }
            Some(
                tx.query_one(
                    "INSERT INTO presence (user_id, status, manual_status, last_seen, updated_seq, connections) \
                     VALUES ($1, 'online', 'online', $2, $3, 1) \
                     ON CONFLICT (user_id) DO UPDATE SET \
                       connections = presence.connections + 1, \
                       status = presence.manual_status, \
                       last_seen = $2, updated_seq = $3 \
                     RETURNING status",
                    &[&user.0, &at, &seq],
                )
                .await?,
            )
        }
        EventBody::ConnectionClosed { connection_id, .. } => {
            let removed = tx
                .execute(
                    "DELETE FROM connections WHERE connection_id = $1",
                    &[connection_id],
                )
                .await?;
            if removed == 0 {
                return Ok(None);
            }
            return connection_gone(tx, user, at, seq).await;
        }
        EventBody::ConnectionIdle {
            connection_id,
            idle,
        } => {
            let changed = tx
                .execute(
                    "UPDATE connections SET idle = $3 WHERE connection_id = $1 AND user_id = $2",
                    &[connection_id, &user.0, idle],
                )
                .await?;
            if changed == 0 {
                return Ok(None);
            }
            return settle(tx, user, at, seq, Notify::OnChange).await;
        }
        other => {
            tracing::error!(
                seq,
                kind = other.type_name(),
                "not a user event, on a user subject; skipped"
            );
            return Ok(None);
        }
    };
    Ok(row.map(|r| PresenceNotice {
        user,
        status: r.get(0),
        last_seen: at,
    }))
}

/// One of `user`'s connections is gone: one fewer, offline at none.
async fn connection_gone(
    tx: &Transaction<'_>,
    user: UserId,
    at: OffsetDateTime,
    seq: i64,
) -> Result<Option<PresenceNotice>, DbError> {
    tx.execute(
        "UPDATE presence SET connections = GREATEST(connections - 1, 0), \
           typing_in = CASE WHEN connections <= 1 THEN NULL ELSE typing_in END \
         WHERE user_id = $1",
        &[&user.0],
    )
    .await?;
    settle(tx, user, at, seq, Notify::Always).await
}

/// Whether [`settle`] answers a notice when the status did not change.
#[derive(PartialEq)]
enum Notify {
    Always,
    OnChange,
}

/// Derives `user`'s effective status from their choice, connections and idleness (see
/// the module doc).
async fn settle(
    tx: &Transaction<'_>,
    user: UserId,
    at: OffsetDateTime,
    seq: i64,
    notify: Notify,
) -> Result<Option<PresenceNotice>, DbError> {
    let row = tx
        .query_opt(
            "WITH before AS (SELECT status FROM presence WHERE user_id = $1 FOR UPDATE) \
             UPDATE presence p SET status = CASE \
                 WHEN p.connections = 0 THEN 'offline' \
                 WHEN p.manual_status <> 'online' THEN p.manual_status \
                 WHEN EXISTS (SELECT 1 FROM connections c WHERE c.user_id = p.user_id AND NOT c.idle) \
                   THEN 'online' \
                 ELSE 'away' END, \
               last_seen = $2, updated_seq = $3 \
             WHERE p.user_id = $1 RETURNING p.status, (SELECT status FROM before)",
            &[&user.0, &at, &seq],
        )
        .await?;
    Ok(row.and_then(|r| {
        let (now, before): (String, Option<String>) = (r.get(0), r.get(1));
        (notify == Notify::Always || before.as_deref() != Some(now.as_str())).then_some(
            PresenceNotice {
                user,
                status: now,
                last_seen: at,
            },
        )
    }))
}

pub async fn apply_gateway_event(
    tx: &Transaction<'_>,
    seq: i64,
    gateway: &str,
    event: &Envelope,
) -> Result<Vec<PresenceNotice>, DbError> {
    match &event.body {
        EventBody::GatewayHeartbeat { boot_id } => {
            tx.execute(
                "INSERT INTO gateways (gateway_id, boot_id, last_seen) VALUES ($1, $2, $3) \
                 ON CONFLICT (gateway_id, boot_id) DO UPDATE SET last_seen = GREATEST(gateways.last_seen, $3)",
                &[&gateway, boot_id, &event.occurred_at],
            )
            .await?;
            Ok(Vec::new())
        }
        EventBody::GatewayRetired { boot_id } => {
            tx.execute(
                "DELETE FROM gateways WHERE gateway_id = $1 AND boot_id = $2",
                &[&gateway, boot_id],
            )
            .await?;
            // A retired process has no connections: close any whose own close never
            // arrived (lost while NATS was down as the process went), so no one stays
            // online for ever.
            let left = tx
                .query(
                    "DELETE FROM connections WHERE gateway_id = $1 AND boot_id = $2 RETURNING user_id",
                    &[&gateway, boot_id],
                )
                .await?;
            let at = event.occurred_at;
            let mut notices = Vec::new();
            for row in left {
                notices.extend(connection_gone(tx, UserId(row.get(0)), at, seq).await?);
            }
            Ok(notices)
        }
        other => {
            tracing::error!(
                kind = other.type_name(),
                "not a gateway event, on a gateway subject; skipped"
            );
            Ok(Vec::new())
        }
    }
}
