//! What each event does to the read models. Every statement is idempotent for its
//! sequence (inserts ignore conflicts, updates set values), so applying an event twice
//! changes nothing; the checkpoint makes it not happen in the first place.

use chat_core::database::DbError;
use chat_schemas::events::{Envelope, EventBody, RoomKind};
use chat_schemas::{RoomId, UserId};
use deadpool_postgres::Transaction;

use crate::messages::PostedRun;
use crate::notices::{MembershipNotice, Notice};
use crate::presence;
use crate::{profiles, reactions, reads};

/// Applies one event; answers the presence or membership changes it caused, to be
/// announced once the transaction has committed.
pub async fn apply_event(
    tx: &Transaction<'_>,
    seq: i64,
    event: &Envelope,
) -> Result<Vec<Notice>, DbError> {
    // Profiles name a user but are not presence: they come from the people stream.
    if let EventBody::ProfileChanged { .. } = event.body {
        return profiles::apply_profile_event(tx, seq, event)
            .await
            .map(|()| Vec::new());
    }
    // Read positions name a room and a user; they come from the reads stream.
    if let EventBody::ReadMoved { .. } = event.body {
        return reads::apply_read_event(tx, seq, event)
            .await
            .map(|()| Vec::new());
    }
    match (&event.room_id, &event.user_id, &event.gateway_id) {
        (Some(room), _, _) => apply_room_event(tx, seq, room, event).await,
        (None, Some(user), _) => presence::apply_user_event(tx, seq, *user, event)
            .await
            .map(|notice| notice.into_iter().map(Notice::Presence).collect()),
        (None, None, Some(gateway)) => presence::apply_gateway_event(tx, seq, gateway, event)
            .await
            .map(|notices| notices.into_iter().map(Notice::Presence).collect()),
        (None, None, None) => {
            tracing::error!(seq, "event names no room, user or gateway; skipped");
            Ok(Vec::new())
        }
    }
}

async fn apply_room_event(
    tx: &Transaction<'_>,
    seq: i64,
    room_id: &RoomId,
    event: &Envelope,
) -> Result<Vec<Notice>, DbError> {
    let room = room_id.as_str();
    let at = event.occurred_at;
    let actor = event.actor.0;
    // Memberships this event made or ended, for the members' inboxes.
    let mut notices = Vec::new();
    let mut changed = |user: uuid::Uuid, joined: bool| {
        notices.push(Notice::Membership(MembershipNotice {
            user: UserId(user),
            room: room_id.clone(),
            joined,
            at,
        }))
    };
    match &event.body {
        EventBody::RoomCreated {
            name,
            visibility,
            kind,
            members,
        } => {
            let created = tx
                .execute(
                    "INSERT INTO rooms (room_id, name, visibility, kind, created_by, created_at, \
                                    created_seq, last_seq, last_activity_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $6) ON CONFLICT (room_id) DO NOTHING",
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
            member_changed(tx, room, actor, seq).await?;
            if created > 0 {
                changed(actor, true);
            }
            for member in members {
                let added = tx.execute(&add, &[&room, &member.0, &at, &seq]).await?;
                member_changed(tx, room, member.0, seq).await?;
                if created > 0 && added > 0 {
                    changed(member.0, true);
                }
            }
            if let ([other], RoomKind::Direct) = (members.as_slice(), kind) {
                // The pair's one room: the first created wins (see chat_core::directs).
                tx.execute(
                    "INSERT INTO direct_rooms (user_low, user_high, room_id) \
                     VALUES (least($1::uuid, $2::uuid), greatest($1::uuid, $2::uuid), $3) \
                     ON CONFLICT DO NOTHING",
                    &[&actor, &other.0, &room],
                )
                .await?;
            }
        }
        EventBody::MemberJoined { user_id } => {
            let added = tx
                .execute(
                    "INSERT INTO room_members (room_id, user_id, joined_at, joined_seq) \
                 SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM rooms WHERE room_id = $1) \
                 ON CONFLICT DO NOTHING",
                    &[&room, &user_id.0, &at, &seq],
                )
                .await?;
            member_changed(tx, room, user_id.0, seq).await?;
            if added > 0 {
                changed(user_id.0, true);
            }
        }
        EventBody::MemberLeft { user_id } => {
            let removed = tx
                .execute(
                    "DELETE FROM room_members WHERE room_id = $1 AND user_id = $2",
                    &[&room, &user_id.0],
                )
                .await?;
            member_changed(tx, room, user_id.0, seq).await?;
            if removed > 0 {
                changed(user_id.0, false);
            }
        }
        EventBody::MessagePosted { .. } => {
            // The same statements as a run of several (they also move `last_seq`).
            let mut run = PostedRun::default();
            run.push(seq, event);
            return run.apply(tx).await.map(|()| Vec::new());
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
        // A delete leaves `edited_at` as it was: history says "edited" only for edits.
        EventBody::MessageDeleted { message_id } => {
            tx.execute(
                "UPDATE messages SET body = '', deleted = true \
                 WHERE message_id = $1 AND room_id = $2 AND sender_id = $3",
                &[&message_id.0, &room, &actor],
            )
            .await?;
        }
        EventBody::ReactionAdded { message_id, emoji } => {
            reactions::added(tx, seq, room, event.actor, *message_id, emoji).await?;
        }
        EventBody::ReactionRemoved { message_id, emoji } => {
            reactions::removed(tx, seq, room, event.actor, *message_id, emoji).await?;
        }
        other => {
            tracing::error!(
                seq,
                kind = other.type_name(),
                "not a room event, on a room subject; skipped"
            );
            return Ok(Vec::new());
        }
    }
    // `last_activity_at` orders the public room directory; it moves with `last_seq`.
    let touch = tx
        .prepare_cached(
            "UPDATE rooms SET last_seq = $2, last_activity_at = GREATEST(last_activity_at, $3) \
             WHERE room_id = $1 AND last_seq < $2",
        )
        .await?;
    tx.execute(&touch, &[&room, &seq, &at]).await?;
    Ok(notices)
}

/// Records `seq` as the latest membership change of `user` in `room` (the basis of the
/// join and leave commands' `Nats-Msg-Id`, see `chat_core::commands::rooms`).
async fn member_changed(
    tx: &Transaction<'_>,
    room: &str,
    user: uuid::Uuid,
    seq: i64,
) -> Result<(), DbError> {
    let upsert = tx
        .prepare_cached(
            "INSERT INTO member_changes (room_id, user_id, seq) VALUES ($1, $2, $3) \
             ON CONFLICT (room_id, user_id) DO UPDATE SET seq = EXCLUDED.seq \
             WHERE member_changes.seq < EXCLUDED.seq",
        )
        .await?;
    tx.execute(&upsert, &[&room, &user, &seq]).await?;
    Ok(())
}
