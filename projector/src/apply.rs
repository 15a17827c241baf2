//! What each event does to the read models. Every statement is idempotent for its
//! sequence (inserts ignore conflicts, updates set values), so applying an event twice
//! changes nothing; the checkpoint makes it not happen in the first place.

use chat_core::database::DbError;
use chat_schemas::events::{Envelope, EventBody};
use deadpool_postgres::Transaction;

use crate::presence::{self, PresenceNotice};

/// Applies one event; answers the presence change it caused, if any, to be announced
/// once the transaction has committed.
pub async fn apply_event(
    tx: &Transaction<'_>,
    seq: i64,
    event: &Envelope,
) -> Result<Vec<PresenceNotice>, DbError> {
    match (&event.room_id, &event.user_id, &event.gateway_id) {
        (Some(room), _, _) => apply_room_event(tx, seq, room.as_str(), event)
            .await
            .map(|()| Vec::new()),
        (None, Some(user), _) => presence::apply_user_event(tx, seq, *user, event)
            .await
            .map(|notice| notice.into_iter().collect()),
        (None, None, Some(gateway)) => presence::apply_gateway_event(tx, seq, gateway, event).await,
        (None, None, None) => {
            tracing::error!(seq, "event names no room, user or gateway; skipped");
            Ok(Vec::new())
        }
    }
}

async fn apply_room_event(
    tx: &Transaction<'_>,
    seq: i64,
    room: &str,
    event: &Envelope,
) -> Result<(), DbError> {
    let at = event.occurred_at;
    let actor = event.actor.0;
    match &event.body {
        EventBody::RoomCreated {
            name,
            visibility,
            kind,
            members,
        } => {
            tx.execute(
                "INSERT INTO rooms (room_id, name, visibility, kind, created_by, created_at, \
                                    created_seq, last_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (room_id) DO NOTHING",
                &[
                    &room,
                    name,
                    &visibility.as_str(),
                    &kind.as_str(),
                    &actor,
                    &at,
                    &seq,
                ],
            )
            .await?;
            let add = tx
                .prepare_cached(
                    "INSERT INTO room_members (room_id, user_id, joined_at, joined_seq) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .await?;
            tx.execute(&add, &[&room, &actor, &at, &seq]).await?;
            for member in members {
                tx.execute(&add, &[&room, &member.0, &at, &seq]).await?;
            }
        }
        EventBody::MemberJoined { user_id } => {
            tx.execute(
                "INSERT INTO room_members (room_id, user_id, joined_at, joined_seq) \
                 SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM rooms WHERE room_id = $1) \
                 ON CONFLICT DO NOTHING",
                &[&room, &user_id.0, &at, &seq],
            )
            .await?;
        }
        EventBody::MemberLeft { user_id } => {
            tx.execute(
                "DELETE FROM room_members WHERE room_id = $1 AND user_id = $2",
                &[&room, &user_id.0],
            )
            .await?;
        }
        EventBody::MessagePosted {
            message_id,
            message,
            client_timestamp,
            client_msg_id,
        } => {
            // A client time Postgres cannot hold (outside years 0000-9999, as given or in
            // UTC) is left out rather than stopping the projection: the api and gateway
            // refuse such times now, but the event log may hold older ones.
            let client_timestamp = client_timestamp.and_then(chat_schemas::input::storable_time);
            let insert = tx
                .prepare_cached(
                    "INSERT INTO messages (message_id, room_id, seq, sender_id, body, sent_at, \
                                           client_timestamp, client_msg_id) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                     WHERE EXISTS (SELECT 1 FROM rooms WHERE room_id = $2) \
                     ON CONFLICT DO NOTHING",
                )
                .await?;
            tx.execute(
                &insert,
                &[
                    &message_id.0,
                    &room,
                    &seq,
                    &actor,
                    message,
                    &at,
                    &client_timestamp,
                    client_msg_id,
                ],
            )
            .await?;
            // A message ends its sender's typing in that room.
            tx.execute(
                "UPDATE presence SET typing_in = NULL, typing_until = NULL \
                 WHERE user_id = $1 AND typing_in = $2",
                &[&actor, &room],
            )
            .await?;
        }
        EventBody::MessageEdited {
            message_id,
            message,
        } => {
            tx.execute(
                "UPDATE messages SET body = $3, edited_at = $4 \
                 WHERE message_id = $1 AND room_id = $2 AND sender_id = $5 AND NOT deleted",
                &[&message_id.0, &room, message, &at, &actor],
            )
            .await?;
        }
        EventBody::MessageDeleted { message_id } => {
            tx.execute(
                "UPDATE messages SET body = '', deleted = true, edited_at = $3 \
                 WHERE message_id = $1 AND room_id = $2 AND sender_id = $4",
                &[&message_id.0, &room, &at, &actor],
            )
            .await?;
        }
        other => {
            tracing::error!(
                seq,
                kind = other.type_name(),
                "not a room event, on a room subject; skipped"
            );
            return Ok(());
        }
    }
    let touch = tx
        .prepare_cached("UPDATE rooms SET last_seq = $2 WHERE room_id = $1 AND last_seq < $2")
        .await?;
    tx.execute(&touch, &[&room, &seq]).await?;
    Ok(())
}
