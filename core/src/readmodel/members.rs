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
                            COALESCE(p.status, 'offline'), p.last_seen, \
                            COALESCE(rp.last_read_seq, 0) \
                     FROM room_members m \
                     JOIN accounts a ON a.user_id = m.user_id \
                     LEFT JOIN profiles pr ON pr.user_id = m.user_id \
                     LEFT JOIN presence p ON p.user_id = m.user_id \
                     LEFT JOIN read_positions rp \
                            ON rp.room_id = m.room_id AND rp.user_id = m.user_id \
                     WHERE m.room_id = $1 AND ($2::text IS NULL OR a.username > $2) \
                     ORDER BY a.username LIMIT $3",
                    &[&room_id, &after, &limit],
                )
                .await?)
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| Member {
                user: UserId(r.get(0)),
                username: r.get(1),
                display_name: r.get(2),
                status: r.get(3),
                last_seen: r.get(4),
                last_read_seq: r.get(5),
            })
            .collect())
    }
}
