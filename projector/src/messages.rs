//! Posted messages, applied many at a time. A busy room stream is mostly `message.posted`
//! events; a run of consecutive ones is applied with a handful of statements in all, with
//! the same effects in the same order as one by one:
//!
//! - the rows of rooms that exist are inserted in `seq` order; of two with the same
//!   `clientMsgId` the first is kept (as applying them in turn would). Rooms are checked
//!   here, once per run, not by a foreign key: a key costs Postgres a lookup and a row
//!   lock per message (a sixth of its time in a catch-up), and the projector is the only
//!   writer of `messages` and rooms are never deleted (see `migrations/V10__*`);
//! - each sender's typing in that room ends;
//! - each room's `last_seq` moves to its highest `seq` of the run, and its
//!   `last_activity_at` to the latest time of the run.
//!
//! A long run (a backlog) is stored with a binary `COPY` inside a savepoint: no
//! `ON CONFLICT` check per row (another index lookup per unique key). A row already stored
//! (a `clientMsgId` retried after JetStream's duplicate window) fails the `COPY`; the
//! savepoint is rolled back and the run inserted with `ON CONFLICT DO NOTHING` instead, as
//! a short run always is (fewer round trips).

use bytes::{BufMut, BytesMut};
use chat_core::database::DbError;
use chat_schemas::events::{Envelope, EventBody};
use deadpool_postgres::Transaction;
use futures::SinkExt;
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type};
use uuid::Uuid;

/// Runs at least this long are stored with `COPY` (three more round trips than one
/// `INSERT`, and far less work per row).
const COPY_FROM: usize = 64;

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
        let run = std::mem::take(self);
        run.end_typing(tx).await?;
        let stored = run.of_existing_rooms(tx).await?;
        if stored.seqs.len() >= COPY_FROM {
            stored.copy(tx).await?;
        } else if !stored.is_empty() {
            stored.insert(tx).await?;
        }
        stored.touch_rooms(tx).await
    }

    /// The messages of the run whose room exists.
    async fn of_existing_rooms(self, tx: &Transaction<'_>) -> Result<PostedRun, DbError> {
        let named: Vec<&str> = self
            .rooms
            .iter()
            .map(String::as_str)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let exist = tx
            .prepare_cached("SELECT room_id FROM rooms WHERE room_id = ANY($1::text[])")
            .await?;
        let existing: HashSet<String> = tx
            .query(&exist, &[&named])
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        if existing.len() == named.len() {
            return Ok(self);
        }
        let mut kept = PostedRun::default();
        for i in (0..self.seqs.len()).filter(|&i| existing.contains(&self.rooms[i])) {
            kept.message_ids.push(self.message_ids[i]);
            kept.rooms.push(self.rooms[i].clone());
            kept.seqs.push(self.seqs[i]);
            kept.senders.push(self.senders[i]);
            kept.bodies.push(self.bodies[i].clone());
            kept.sent_at.push(self.sent_at[i]);
            kept.client_times.push(self.client_times[i]);
            kept.client_msg_ids.push(self.client_msg_ids[i].clone());
        }
        Ok(kept)
    }

    /// Binary `COPY` in a savepoint; `insert` if a row is already there.
    async fn copy(&self, tx: &Transaction<'_>) -> Result<(), DbError> {
        let data = self.copy_data()?;
        tx.batch_execute("SAVEPOINT posted_copy").await?;
        let copied = async {
            let sink = tx
                .copy_in(
                    "COPY messages (message_id, room_id, seq, sender_id, body, sent_at, \
                                    client_timestamp, client_msg_id) FROM STDIN (FORMAT binary)",
                )
                .await?;
            futures::pin_mut!(sink);
            sink.send(data).await?;
            sink.as_mut().finish().await
        }
        .await;
        match copied {
            Ok(_) => Ok(tx.batch_execute("RELEASE SAVEPOINT posted_copy").await?),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                tracing::debug!(error = %e, "a posted message is already stored; inserting the run");
                tx.batch_execute(
                    "ROLLBACK TO SAVEPOINT posted_copy; RELEASE SAVEPOINT posted_copy",
                )
                .await?;
                self.insert(tx).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The rows in `COPY`'s binary format: a header, per row its field count and each
    /// field as a length and its binary send form (-1 for NULL), and a trailer.
    fn copy_data(&self) -> Result<bytes::Bytes, DbError> {
        let mut out = BytesMut::with_capacity(32 + self.seqs.len() * 160);
        out.put_slice(b"PGCOPY\n\xff\r\n\0");
        out.put_i32(0); // flags
        out.put_i32(0); // header extension length
        for i in 0..self.seqs.len() {
            out.put_i16(8);
            field(&mut out, &self.message_ids[i], &Type::UUID)?;
            field(&mut out, &self.rooms[i], &Type::TEXT)?;
            field(&mut out, &self.seqs[i], &Type::INT8)?;
            field(&mut out, &self.senders[i], &Type::UUID)?;
            field(&mut out, &self.bodies[i], &Type::TEXT)?;
            field(&mut out, &self.sent_at[i], &Type::TIMESTAMPTZ)?;
            field(&mut out, &self.client_times[i], &Type::TIMESTAMPTZ)?;
            field(&mut out, &self.client_msg_ids[i], &Type::TEXT)?;
        }
        out.put_i16(-1);
        Ok(out.freeze())
    }

    /// One `INSERT` over arrays; rows already stored are passed over.
    async fn insert(&self, tx: &Transaction<'_>) -> Result<(), DbError> {
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
        Ok(())
    }

    /// Ends each sender's typing in the room they posted to.
    async fn end_typing(&self, tx: &Transaction<'_>) -> Result<(), DbError> {
        let pairs: HashSet<(Uuid, &str)> = self
            .senders
            .iter()
            .zip(&self.rooms)
            .map(|(sender, room)| (*sender, room.as_str()))
            .collect();
        let (senders, rooms): (Vec<Uuid>, Vec<&str>) = pairs.into_iter().unzip();
        let typing = tx
            .prepare_cached(
                "UPDATE presence p SET typing_in = NULL, typing_until = NULL \
                 FROM unnest($1::uuid[], $2::text[]) AS t(user_id, room_id) \
                 WHERE p.user_id = t.user_id AND p.typing_in = t.room_id",
            )
            .await?;
        tx.execute(&typing, &[&senders, &rooms]).await?;
        Ok(())
    }

    /// Moves each room's `last_seq` and `last_activity_at` to the run's latest.
    async fn touch_rooms(&self, tx: &Transaction<'_>) -> Result<(), DbError> {
        let mut latest: HashMap<&str, (i64, OffsetDateTime)> = HashMap::new();
        for ((room, &seq), &at) in self.rooms.iter().zip(&self.seqs).zip(&self.sent_at) {
            let entry = latest.entry(room.as_str()).or_insert((seq, at));
            *entry = (entry.0.max(seq), entry.1.max(at));
        }
        let mut rooms = Vec::with_capacity(latest.len());
        let mut seqs = Vec::with_capacity(latest.len());
        let mut times = Vec::with_capacity(latest.len());
        for (room, (seq, at)) in latest {
            rooms.push(room);
            seqs.push(seq);
            times.push(at);
        }
        let touch = tx
            .prepare_cached(
                "UPDATE rooms r SET last_seq = t.seq, \
                        last_activity_at = GREATEST(r.last_activity_at, t.at) \
                 FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS t(room_id, seq, at) \
                 WHERE r.room_id = t.room_id AND r.last_seq < t.seq",
            )
            .await?;
        tx.execute(&touch, &[&rooms, &seqs, &times]).await?;
        Ok(())
    }
}

/// Appends one field of a binary `COPY` row: its length, then its value.
fn field(out: &mut BytesMut, value: &(dyn ToSql + Sync), ty: &Type) -> Result<(), DbError> {
    let at = out.len();
    out.put_i32(0);
    let written = value
        .to_sql_checked(ty, out)
        .map_err(|e| DbError::Other(format!("encoding a posted message: {e}")))?;
    let len = match written {
        IsNull::Yes => -1,
        IsNull::No => i32::try_from(out.len() - at - 4)
            .map_err(|_| DbError::Other("a posted message field over 2 GiB".into()))?,
    };
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}
