//! Posted messages, applied many at a time. A busy room stream is mostly `message.posted`
//! events; applying each with its own three statements costs three round trips to
//! Postgres per message. A run of consecutive ones is applied with three statements in
//! all, over arrays, with the same effects in the same order as one by one:
//!
//! - the rows are inserted in `seq` order, and `ON CONFLICT DO NOTHING` keeps the first of
//!   two with the same `clientMsgId` (as applying them in turn would), and skips rows of
//!   rooms that do not exist;
//! - each sender's typing in that room ends;
//! - each room's `last_seq` moves to its highest `seq` of the run, and its
//!   `last_activity_at` to the latest time of the run.

use chat_core::database::DbError;
use chat_schemas::events::{Envelope, EventBody};
use deadpool_postgres::Transaction;
use time::OffsetDateTime;
use uuid::Uuid;

/// The columns of the messages of one run.
#[derive(Default)]
pub struct PostedRun {
    message_ids: Vec<Uuid>,
    rooms: Vec<String>,
    seqs: Vec<i64>,
    senders: Vec<Uuid>,
    bodies: Vec<String>,
    sent_at: Vec<OffsetDateTime>,
    client_times: Vec<Option<OffsetDateTime>>,
    client_msg_ids: Vec<Option<String>>,
}

impl PostedRun {
    /// Adds the event if it is a posted message in a room; answers whether it did.
    pub fn push(&mut self, seq: i64, event: &Envelope) -> bool {
        let (
            Some(room),
            EventBody::MessagePosted {
                message_id,
                message,
                client_timestamp,
                client_msg_id,
            },
        ) = (&event.room_id, &event.body)
        else {
            return false;
        };
        self.message_ids.push(message_id.0);
        self.rooms.push(room.as_str().to_owned());
        self.seqs.push(seq);
        self.senders.push(event.actor.0);
        self.bodies.push(message.clone());
        self.sent_at.push(event.occurred_at);
        // A client time Postgres cannot hold (outside years 0000-9999, as given or in UTC)
        // is left out rather than stopping the projection: the api and gateway refuse
        // such times now, but the event log may hold older ones.
        self.client_times
            .push(client_timestamp.and_then(chat_core::input::storable_time));
        self.client_msg_ids.push(client_msg_id.clone());
        true
    }

    pub fn is_empty(&self) -> bool {
        self.seqs.is_empty()
    }

    /// Applies the run and empties it.
    pub async fn apply(&mut self, tx: &Transaction<'_>) -> Result<(), DbError> {
        if self.is_empty() {
            return Ok(());
        }
        let insert = tx
            .prepare_cached(
                "INSERT INTO messages (message_id, room_id, seq, sender_id, body, sent_at, \
                                       client_timestamp, client_msg_id) \
                 SELECT t.message_id, t.room_id, t.seq, t.sender_id, t.body, t.sent_at, \
                        t.client_timestamp, t.client_msg_id \
                 FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::uuid[], \
                                        $5::text[], $6::timestamptz[], $7::timestamptz[], \
                                        $8::text[]) WITH ORDINALITY \
                        AS t(message_id, room_id, seq, sender_id, body, sent_at, \
                             client_timestamp, client_msg_id, n) \
                 WHERE EXISTS (SELECT 1 FROM rooms r WHERE r.room_id = t.room_id) \
                 ORDER BY t.n \
                 ON CONFLICT DO NOTHING",
            )
            .await?;
        tx.execute(
            &insert,
            &[
                &self.message_ids,
                &self.rooms,
                &self.seqs,
                &self.senders,
                &self.bodies,
                &self.sent_at,
                &self.client_times,
                &self.client_msg_ids,
            ],
        )
        .await?;
        let typing = tx
            .prepare_cached(
                "UPDATE presence p SET typing_in = NULL, typing_until = NULL \
                 FROM (SELECT DISTINCT * FROM unnest($1::uuid[], $2::text[])) AS t(user_id, room_id) \
                 WHERE p.user_id = t.user_id AND p.typing_in = t.room_id",
            )
            .await?;
        tx.execute(&typing, &[&self.senders, &self.rooms]).await?;
        let touch = tx
            .prepare_cached(
                "UPDATE rooms r SET last_seq = t.seq, \
                        last_activity_at = GREATEST(r.last_activity_at, t.at) \
                 FROM (SELECT room_id, max(seq) AS seq, max(at) AS at \
                       FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) \
                       AS u(room_id, seq, at) GROUP BY room_id) AS t \
                 WHERE r.room_id = t.room_id AND r.last_seq < t.seq",
            )
            .await?;
        tx.execute(&touch, &[&self.rooms, &self.seqs, &self.sent_at])
            .await?;
        *self = PostedRun::default();
        Ok(())
    }
}
