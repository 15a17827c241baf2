//! A room's member list as members see it (`GET /rooms/{roomId}/members`): each member
//! with their name, their presence as `getStatus` tells it and their read position, by
//! username, a page at a time. Callers check membership first (see the command layer).

use chat_schemas::{RoomId, UserId};
use time::OffsetDateTime;

use super::ReadModel;
use crate::database::DbError;

/// One member of a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: UserId,
    pub username: String,
    pub display_name: String,
    /// `online`, `away` or `offline` (a user who appears offline is `offline`).
    pub status: String,
    pub last_seen: Option<OffsetDateTime>,
    pub last_read_seq: i64,
}

impl ReadModel {
    /// At most `limit` members of `room` whose username sorts after `after`, by username.
    pub async fn member_page(
        &self,
        room: &RoomId,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Member>, DbError> {
        let room_id = room.as_str().to_owned();
        let after = after.map(str::to_owned);
        let rows = self
            .with_client(|c| async move {
                Ok(c.query(
                    "SELECT a.user_id, a.username, COALESCE(pr.display_name, a.username), \
                            COALESCE(p.status, 'offline'), p.last_seen \
                     FROM room_members m \
                     JOIN accounts a ON a.user_id = m.user_id \
                     LEFT JOIN profiles pr ON pr.user_id = m.user_id \
                     LEFT JOIN presence p ON p.user_id = m.user_id \
                     WHERE m.room_id = $1 AND ($2::text IS NULL OR a.username > $2) \
                     ORDER BY a.username LIMIT $3",
                    &[&room_id, &after, &limit],
                )
                .await?)
            })
            .await?;
        let mut members: Vec<Member> = rows
            .iter()
            .map(|r| Member {
                user: UserId(r.get(0)),
                username: r.get(1),
                display_name: r.get(2),
                status: r.get(3),
                last_seen: r.get(4),
                last_read_seq: 0,
            })
            .collect();
        let users: Vec<UserId> = members.iter().map(|m| m.user).collect();
        let positions = self.read_positions(room, &users).await?;
        for member in &mut members {
            member.last_read_seq = positions
                .iter()
                .find(|(user, _)| *user == member.user)
                .map_or(0, |(_, seq)| *seq);
        }
        Ok(members)
    }

    /// The read positions of `users` in `room` (absent: nothing read).
    ///
    /// READ POSITIONS: the one place that reads them for the member list. Until the
    /// `read_positions` table exists it answers none (every member at 0); then this
    /// becomes `SELECT user_id, last_read_seq FROM read_positions WHERE room_id = $1 AND
    /// user_id = ANY($2)`.
    pub async fn read_positions(
        &self,
        _room: &RoomId,
        _users: &[UserId],
    ) -> Result<Vec<(UserId, i64)>, DbError> {
        Ok(Vec::new())
    }
}
