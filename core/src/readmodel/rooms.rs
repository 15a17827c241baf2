//! Rooms as the read model has them: who may use a room (membership, for every room
//! command), the rooms a user is in, a room's members, and the direct room of a pair.

use chat_schemas::http::RoomSummary;
use chat_schemas::{RoomId, UserId};
use time::OffsetDateTime;

use super::ReadModel;
use crate::database::DbError;

/// What a user may do with a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomAccess {
    NoSuchRoom,
    Member,
    NotMember { visibility: String, kind: String },
}

/// A room in the list of a member's rooms (`GET /rooms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomListing {
    pub room_id: String,
    pub name: String,
    pub visibility: String,
    pub kind: String,
    pub created_by: UserId,
    pub created_at: OffsetDateTime,
    pub member_count: i64,
    pub last_seq: i64,
    /// In a direct room, the other user.
    pub peer: Option<UserId>,
    /// In a direct room, the other user's display name (their username if they set none).
    pub peer_name: Option<String>,
    /// The listing user's read position in the room (0 if never read).
    pub last_read_seq: i64,
    /// Messages after `last_read_seq`, not deleted, not sent by the listing user, counted
    /// up to [`UNREAD_COUNT_MAX`].
    pub unread_count: i64,
}

/// The one query behind every room listing (all of a user's rooms, or one of them), so a
/// room shows the same wherever it is listed. `$1` is the user, `$2` a room or NULL.
/// Unread messages are counted up to [`UNREAD_COUNT_MAX`]: a room never read costs a
/// bounded index scan, not one as long as its history.
pub const UNREAD_COUNT_MAX: i64 = 1000;
const LISTING: &str = "\
    SELECT r.room_id, r.name, r.visibility, r.kind, r.created_by, r.created_at, \
           (SELECT count(*) FROM room_members x WHERE x.room_id = r.room_id), r.last_seq, \
           peer.user_id, \
           COALESCE(rp.last_read_seq, 0), \
           (SELECT count(*) FROM (SELECT 1 FROM messages u WHERE u.room_id = r.room_id \
                AND u.seq > COALESCE(rp.last_read_seq, 0) AND NOT u.deleted \
                AND u.sender_id <> $1 LIMIT 1000) unread), \
           COALESCE(pp.display_name, pa.username) \
    FROM rooms r JOIN room_members m ON m.room_id = r.room_id AND m.user_id = $1 \
    LEFT JOIN LATERAL (SELECT o.user_id FROM room_members o \
         WHERE r.kind = 'direct' AND o.room_id = r.room_id AND o.user_id <> $1 LIMIT 1) peer ON true \
    LEFT JOIN accounts pa ON pa.user_id = peer.user_id \
    LEFT JOIN profiles pp ON pp.user_id = peer.user_id \
    LEFT JOIN read_positions rp ON rp.room_id = r.room_id AND rp.user_id = $1 \
    WHERE $2::text IS NULL OR r.room_id = $2 \
    ORDER BY r.last_seq DESC";

fn listing(r: &tokio_postgres::Row) -> RoomListing {
    RoomListing {
        room_id: r.get(0),
        name: r.get(1),
        visibility: r.get(2),
        kind: r.get(3),
        created_by: UserId(r.get(4)),
        created_at: r.get(5),
        member_count: r.get(6),
        last_seq: r.get(7),
        peer: r.get::<_, Option<uuid::Uuid>>(8).map(UserId),
        last_read_seq: r.get(9),
        unread_count: r.get(10),
        peer_name: r.get(11),
    }
}

impl ReadModel {
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

    /// The rooms `user` is a member of, most recently active first (`GET /rooms`).
    pub async fn rooms_of(&self, user: UserId) -> Result<Vec<RoomListing>, DbError> {
        self.with_client(|c| async move {
            let rows = c.query(LISTING, &[&user.0, &None::<String>]).await?;
            Ok(rows.iter().map(listing).collect())
        })
        .await
    }

    /// `room` as [`Self::rooms_of`] lists it for `user`, or `None` when `user` is not a
    /// member: the `room` of a `roomAdded` frame, so that it always equals `GET /rooms`.
    pub async fn room_of(
        &self,
        user: UserId,
        room: &RoomId,
    ) -> Result<Option<RoomListing>, DbError> {
        let room = Some(room.as_str().to_owned());
        self.with_client(|c| async move {
            let row = c.query_opt(LISTING, &[&user.0, &room]).await?;
            Ok(row.as_ref().map(listing))
        })
        .await
    }
}

impl RoomListing {
    /// The wire form, as `GET /rooms` and `roomAdded` carry it.
    pub fn summary(self) -> RoomSummary {
        RoomSummary {
            room_id: self.room_id,
            name: self.name,
            visibility: self.visibility,
            kind: self.kind,
            created_by: self.created_by.to_string(),
            created_at: self
                .created_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            member_count: self.member_count,
            last_seq: self.last_seq,
            peer_id: self.peer.map(|peer| peer.to_string()),
            peer_name: self.peer_name,
            last_read_seq: self.last_read_seq,
            unread_count: self.unread_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_counts_unread_up_to_the_documented_bound() {
        assert!(LISTING.contains(&format!("LIMIT {UNREAD_COUNT_MAX}) unread")));
    }
}
