//! Read-model queries that more than one service needs: may this user use this room, and
//! how far has the projector got (for read-your-writes waits).
//!
//! Every query is bounded by the configured database timeout, so a stalled Postgres turns
//! into [`DbError::Unavailable`] rather than a hung request.

use chat_schemas::{RoomId, UserId};
use deadpool_postgres::Pool;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::database::DbError;

/// What a user may do with a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomAccess {
    NoSuchRoom,
    Member,
    NotMember { visibility: String, kind: String },
}

#[derive(Clone)]
pub struct ReadModel {
    pool: Pool,
    timeout: Duration,
}

impl ReadModel {
    pub fn new(pool: Pool, timeout: Duration) -> Self {
        Self { pool, timeout }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs `f` with a pooled connection, bounded by the database timeout.
    pub async fn with_client<T, F, Fut>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(deadpool_postgres::Object) -> Fut,
        Fut: Future<Output = Result<T, DbError>>,
    {
        tokio::time::timeout(self.timeout, async {
            let client = self.pool.get().await?;
            f(client).await
        })
        .await?
    }

    pub async fn room_access(&self, room: &RoomId, user: UserId) -> Result<RoomAccess, DbError> {
        let room = room.as_str().to_owned();
        self.with_client(|c| async move {
            let row = c
                .query_opt(
                    "SELECT r.visibility, r.kind, \
                            EXISTS(SELECT 1 FROM room_members m \
                                   WHERE m.room_id = r.room_id AND m.user_id = $2) \
                     FROM rooms r WHERE r.room_id = $1",
                    &[&room, &user.0],
                )
                .await?;
            Ok(match row {
                None => RoomAccess::NoSuchRoom,
                Some(row) if row.get::<_, bool>(2) => RoomAccess::Member,
                Some(row) => RoomAccess::NotMember {
                    visibility: row.get(0),
                    kind: row.get(1),
                },
            })
        })
        .await
    }

    /// [`Self::room_access`], and the sequence of `user`'s latest membership change in
    /// `room` (0 if none): what a join or leave decided on, for its `Nats-Msg-Id`.
    pub async fn membership(
        &self,
        room: &RoomId,
        user: UserId,
    ) -> Result<(RoomAccess, u64), DbError> {
        let room = room.as_str().to_owned();
        self.with_client(|c| async move {
            let row = c
                .query_opt(
                    "SELECT r.visibility, r.kind, \
                            EXISTS(SELECT 1 FROM room_members m \
                                   WHERE m.room_id = r.room_id AND m.user_id = $2), \
                            (SELECT x.seq FROM member_changes x \
                             WHERE x.room_id = r.room_id AND x.user_id = $2) \
                     FROM rooms r WHERE r.room_id = $1",
                    &[&room, &user.0],
                )
                .await?;
            Ok(match row {
                None => (RoomAccess::NoSuchRoom, 0),
                Some(row) => {
                    let basis = row.get::<_, Option<i64>>(3).unwrap_or(0) as u64;
                    let access = if row.get::<_, bool>(2) {
                        RoomAccess::Member
                    } else {
                        RoomAccess::NotMember {
                            visibility: row.get(0),
                            kind: row.get(1),
                        }
                    };
                    (access, basis)
                }
            })
        })
        .await
    }

    /// The direct room of `a` and `b`, whatever its id, if the read model has one.
    pub async fn direct_room(&self, a: UserId, b: UserId) -> Result<Option<RoomId>, DbError> {
        let (low, high) = chat_schemas::ids::direct_pair(a, b);
        self.with_client(|c| async move {
            let row = c
                .query_opt(
                    "SELECT room_id FROM direct_rooms WHERE user_low = $1 AND user_high = $2",
                    &[&low.0, &high.0],
                )
                .await?;
            Ok(row.and_then(|r| RoomId::parse(r.get::<_, &str>(0)).ok()))
        })
        .await
    }

    /// The rooms `user` is a member of.
    pub async fn member_rooms(&self, user: UserId) -> Result<Vec<RoomId>, DbError> {
        self.with_client(|c| async move {
            let rows = c
                .query(
                    "SELECT room_id FROM room_members WHERE user_id = $1 ORDER BY room_id",
                    &[&user.0],
                )
                .await?;
            Ok(rows
                .iter()
                .filter_map(|r| RoomId::parse(r.get::<_, &str>(0)).ok())
                .collect())
        })
        .await
    }

    /// The members of `room`, or `None` when there are more than `limit`.
    pub async fn room_members(
        &self,
        room: &RoomId,
        limit: i64,
    ) -> Result<Option<Vec<UserId>>, DbError> {
        let room = room.as_str().to_owned();
        self.with_client(|c| async move {
            let rows = c
                .query(
                    "SELECT user_id FROM room_members WHERE room_id = $1 LIMIT $2",
                    &[&room, &(limit + 1)],
                )
                .await?;
            if rows.len() as i64 > limit {
                return Ok(None);
            }
            Ok(Some(rows.iter().map(|r| UserId(r.get(0))).collect()))
        })
        .await
    }

    /// How many members `room` has, and how many of them are not offline.
    pub async fn room_presence_counts(&self, room: &RoomId) -> Result<(i64, i64), DbError> {
        let room = room.as_str().to_owned();
        self.with_client(|c| async move {
            let row = c
                .query_one(
                    "SELECT count(*), count(*) FILTER (WHERE p.status IS NOT NULL AND p.status <> 'offline') \
                     FROM room_members m LEFT JOIN presence p ON p.user_id = m.user_id \
                     WHERE m.room_id = $1",
                    &[&room],
                )
                .await?;
            Ok((row.get(0), row.get(1)))
        })
        .await
    }

    /// Current presence of existing users: (user, status, last seen).
    pub async fn presence_of(
        &self,
        users: &[UserId],
    ) -> Result<Vec<(UserId, String, Option<time::OffsetDateTime>)>, DbError> {
        let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
        self.with_client(|c| async move {
            let rows = c
                .query(
                    "SELECT a.user_id, COALESCE(p.status, 'offline'), p.last_seen \
                     FROM accounts a LEFT JOIN presence p ON p.user_id = a.user_id \
                     WHERE a.user_id = ANY($1)",
                    &[&ids],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| (UserId(r.get(0)), r.get(1), r.get(2)))
                .collect())
        })
        .await
    }

    /// How far the projector has applied `stream` (0 before any): with partitions, the
    /// least advanced of them, since every partition reads the whole stream.
    pub async fn checkpoint(&self, stream: &str) -> Result<u64, DbError> {
        let stream = stream.to_owned();
        self.with_client(|c| async move {
            let row = c
                .query_one(
                    "SELECT min(last_seq) FROM projector_checkpoints \
                     WHERE stream = $1 OR stream LIKE $1 || '/%'",
                    &[&stream],
                )
                .await?;
            Ok(row.get::<_, Option<i64>>(0).unwrap_or(0) as u64)
        })
        .await
    }

    /// Waits until the projector has applied `stream` up to `seq`, at most `bound`.
    /// Answers the checkpoint reached; the caller compares it with `seq`.
    pub async fn wait_for_projection(
        &self,
        stream: &str,
        seq: u64,
        bound: Duration,
    ) -> Result<u64, DbError> {
        let deadline = Instant::now() + bound;
        let mut pause = Duration::from_millis(2);
        loop {
            let reached = self.checkpoint(stream).await?;
            if reached >= seq || Instant::now() >= deadline {
                return Ok(reached);
            }
            // Polling is cheap (a primary-key read) and only happens while someone waits.
            tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
            pause = (pause * 2).min(Duration::from_millis(25));
        }
    }
}
