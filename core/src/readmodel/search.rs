//! Message search (`GET /search`): Postgres full-text search over the messages of the rooms
//! the caller is a member of now, read in one query so that a membership that ends is
//! honoured at once and no other room's message can be seen, not even as a count.
//!
//! The words are `websearch_to_tsquery('simple', q)` (quotes, `or`, `-`; never a syntax
//! error) against `messages.search`, a generated `tsvector` with a GIN index
//! (`migrations/V12__search.sql`). A page is the newest `limit` matches before the cursor,
//! ranked best first within the page: paging by `seq` (the room stream's sequence, one
//! order over every room) returns each match exactly once, however ranks compare.
//!
//! Snippets come from `ts_headline` with the control characters U+0001 and U+0002 around
//! each matched word; those two are first blanked out of the message itself, so the markers
//! are unambiguous. They are turned here into plain text and character ranges, so no
//! client ever has to render markup.

use chat_schemas::{MessageId, RoomId, UserId};
use time::OffsetDateTime;

use super::ReadModel;
use crate::database::DbError;
use crate::input::search::SearchQuery;

const START: char = '\u{1}';
const STOP: char = '\u{2}';

/// One match.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub room: RoomId,
    pub seq: i64,
    pub message_id: MessageId,
    pub sender: UserId,
    pub sender_name: String,
    pub body: String,
    pub snippet: Snippet,
    pub rank: f64,
    pub sent_at: OffsetDateTime,
}

/// A piece of the message around the matched words, as plain text, and where the matched
/// words are in it: `[start, end)` in characters (Unicode scalar values).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<[usize; 2]>,
}

impl Snippet {
    /// Reads `ts_headline`'s output, markers [`START`] and [`STOP`] around matches.
    pub fn from_marked(marked: &str) -> Self {
        let mut snippet = Snippet::default();
        let (mut chars, mut open) = (0, None);
        for c in marked.chars() {
            match c {
                START => open = Some(chars),
                STOP => {
                    if let Some(start) = open.take() {
                        if start < chars {
                            snippet.highlights.push([start, chars]);
                        }
                    }
                }
                c => {
                    snippet.text.push(c);
                    chars += 1;
                }
            }
        }
        snippet
    }
}

/// What a search found: a page of hits, best rank first, and the cursor of the next page
/// (absent when this page is the last).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub next_before_seq: Option<i64>,
}

/// Whether a query has words an index can look for: none at all (`""`, `-`, `or`) or only
/// negated ones (`-foo`, which would read every message) is refused.
const USABLE_SQL: &str = "SELECT querytree(websearch_to_tsquery('simple', $1)) NOT IN ('', 'T')";

/// The newest `$5` matches of each of the caller's rooms (walking the room's `(room_id,
/// seq)` index backwards for common words, the GIN index for rare ones: the planner picks
/// per room, since the query is folded to a constant), then the newest `$5` of those.
/// Measured on 1,000,000 messages in 1,000 rooms, a user in 20: one scan of the whole GIN
/// posting list of a common word, discarding the other rooms' hits, took 0.2-0.3 s where
/// this takes 5-15 ms; rare words cost about the same either way (5-50 ms). Still slow
/// (~0.4 s): two mid-frequency words together, which repeat their GIN scan per room.
const SEARCH_SQL: &str = "\
    WITH page AS ( \
        SELECT m.* FROM room_members rm \
        CROSS JOIN LATERAL ( \
            SELECT m.room_id, m.seq, m.message_id, m.sender_id, m.body, m.sent_at, m.search \
            FROM messages m \
            WHERE m.room_id = rm.room_id \
              AND m.search @@ websearch_to_tsquery('simple', $1) AND NOT m.deleted \
              AND ($4::bigint IS NULL OR m.seq < $4) \
            ORDER BY m.seq DESC LIMIT $5) m \
        WHERE rm.user_id = $2 AND ($3::text IS NULL OR rm.room_id = $3) \
        ORDER BY m.seq DESC LIMIT $5) \
    SELECT page.room_id, page.seq, page.message_id, page.sender_id, \
           COALESCE(p.display_name, a.username, ''), page.body, \
           ts_headline('simple', translate(page.body, E'\\x01\\x02', '  '), \
                       websearch_to_tsquery('simple', $1), \
                       E'StartSel=\\x01, StopSel=\\x02, MaxWords=24, MinWords=10'), \
           ts_rank(page.search, websearch_to_tsquery('simple', $1))::float8 AS rank, \
           page.sent_at \
    FROM page \
    LEFT JOIN accounts a ON a.user_id = page.sender_id \
    LEFT JOIN profiles p ON p.user_id = page.sender_id \
    ORDER BY rank DESC, page.seq DESC";

impl ReadModel {
    /// Searches the messages of `user`'s rooms (or of `query.room`, if `user` is in it).
    /// `None`: the query has no word to look for.
    pub async fn search_messages(
        &self,
        user: UserId,
        query: &SearchQuery,
    ) -> Result<Option<SearchPage>, DbError> {
        let words = query.words.clone();
        let room = query.room.as_ref().map(|r| r.as_str().to_owned());
        let (before, limit) = (query.before_seq, query.limit);
        let rows = self
            .with_client(|c| async move {
                let usable: bool = c.query_one(USABLE_SQL, &[&words]).await?.get(0);
                if !usable {
                    return Ok(None);
                }
                let rows = c
                    .query(SEARCH_SQL, &[&words, &user.0, &room, &before, &limit])
                    .await?;
                Ok(Some(rows))
            })
            .await?;
        let Some(rows) = rows else { return Ok(None) };
        let hits: Vec<SearchHit> = rows
            .iter()
            .filter_map(|r| {
                Some(SearchHit {
                    room: RoomId::parse(r.get::<_, &str>(0)).ok()?,
                    seq: r.get(1),
                    message_id: MessageId(r.get(2)),
                    sender: UserId(r.get(3)),
                    sender_name: r.get(4),
                    body: r.get(5),
                    snippet: Snippet::from_marked(r.get(6)),
                    rank: r.get(7),
                    sent_at: r.get(8),
                })
            })
            .collect();
        let next_before_seq = if rows.len() as i64 == limit {
            hits.iter().map(|h| h.seq).min()
        } else {
            None
        };
        Ok(Some(SearchPage {
            hits,
            next_before_seq,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_become_character_ranges_of_plain_text() {
        let s = Snippet::from_marked("ça \u{1}va\u{2} «bien» \u{1}🙂x\u{2}");
        assert_eq!(s.text, "ça va «bien» 🙂x");
        assert_eq!(s.highlights, vec![[3, 5], [13, 15]]);
        let chars: Vec<char> = s.text.chars().collect();
        assert_eq!(chars[13..15].iter().collect::<String>(), "🙂x");
        // A stray or empty marker highlights nothing.
        let s = Snippet::from_marked("a\u{2}b\u{1}\u{2}c\u{1}");
        assert_eq!((s.text.as_str(), s.highlights.len()), ("abc", 0));
    }
}
