//! The public room directory: public group rooms only (never private rooms, never direct
//! rooms), found by a case-insensitive substring of their name. What it shows of a room —
//! id, name, member count, time of its latest event — is what anyone could see by joining
//! it; it never names members.
//!
//! Ranking: the exact name first, then names starting with the query, then names with a
//! word (after a space) starting with it, then any other match; within each, the most
//! recently active first. The query is compared with `strpos`, never as a LIKE pattern, so
//! `%`, `_` and `\` match only themselves. The partial index `rooms_public_by_activity`
//! (V9) keeps every form of the search to public group rooms alone.

use time::OffsetDateTime;

use super::ReadModel;
use crate::database::DbError;

/// One room as the public directory shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicRoom {
    pub room_id: String,
    pub name: String,
    pub member_count: i64,
    /// The time of the room's latest event.
    pub last_activity_at: OffsetDateTime,
}

impl ReadModel {
    /// At most `limit` public group rooms whose name contains `query` (ignoring case), best
    /// match first; an empty `query` lists the most recently active ones.
    pub async fn search_public_rooms(
        &self,
        query: &str,
        limit: i64,
    ) -> Result<Vec<PublicRoom>, DbError> {
        // Lower-cased by Postgres, as the names are, so both fold the same way.
        let query = query.to_owned();
        self.with_client(|c| async move {
            let rows = c
                .query(
                    "SELECT r.room_id, r.name, \
                            (SELECT count(*) FROM room_members m WHERE m.room_id = r.room_id), \
                            r.last_activity_at \
                     FROM rooms r, lower($1::text) AS q(q) \
                     WHERE r.visibility = 'public' AND r.kind = 'group' \
                       AND strpos(lower(r.name), q.q) > 0 \
                     ORDER BY CASE WHEN lower(r.name) = q.q THEN 0 \
                                   WHEN starts_with(lower(r.name), q.q) THEN 1 \
                                   WHEN strpos(lower(r.name), ' ' || q.q) > 0 THEN 2 \
                                   ELSE 3 END, \
                              r.last_activity_at DESC, r.room_id \
                     LIMIT $2",
                    &[&query, &limit],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| PublicRoom {
                    room_id: r.get(0),
                    name: r.get(1),
                    member_count: r.get(2),
                    last_activity_at: r.get(3),
                })
                .collect())
        })
        .await
    }
}
