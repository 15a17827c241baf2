//! The public room directory's parameters (`GET /rooms/public?query=&limit=`).
//!
//! Unlike the people directory, an empty query is allowed: public rooms are meant to be
//! found, so an empty query lists the most recently active ones (at most a page). The query
//! is matched literally (the read model uses `strpos`, never LIKE), so `%`, `_` and `\`
//! are plain characters.

use super::people::{MAX_QUERY_CHARS, SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX};
use super::InputError;

/// A checked room directory search: a trimmed query (empty lists the most active rooms)
/// and a page size within 1..=[`SEARCH_LIMIT_MAX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSearch {
    pub query: String,
    pub limit: i64,
}

/// Checks `query` (at most 64 characters after trimming, no control characters) and
/// `limit` (1 to 50, default 20).
pub fn room_search(query: Option<&str>, limit: Option<&str>) -> Result<RoomSearch, InputError> {
    let query = query.unwrap_or("").trim();
    if query.chars().count() > MAX_QUERY_CHARS || query.chars().any(char::is_control) {
        return Err(InputError::new(
            "invalid_query",
            "query must be at most 64 characters, without control characters",
        ));
    }
    let limit = match limit {
        None => SEARCH_LIMIT_DEFAULT,
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=SEARCH_LIMIT_MAX).contains(n))
            .ok_or_else(|| {
                InputError::new("invalid_limit", "limit must be an integer from 1 to 50")
            })?,
    };
    Ok(RoomSearch {
        query: query.to_owned(),
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_search_is_a_bounded_literal_query_and_page() {
        assert_eq!(
            room_search(None, None).unwrap(),
            RoomSearch {
                query: String::new(),
                limit: 20
            }
        );
        assert_eq!(
            room_search(Some(" %_\\ "), Some("50")).unwrap().query,
            "%_\\"
        );
        for bad in ["0", "51", "-1", "x", ""] {
            assert_eq!(
                room_search(None, Some(bad)).unwrap_err().code,
                "invalid_limit",
                "{bad}"
            );
        }
        assert!(room_search(Some(&"x".repeat(64)), None).is_ok());
        for bad in ["x".repeat(65), "a\u{7}b".to_owned()] {
            assert_eq!(
                room_search(Some(&bad), None).unwrap_err().code,
                "invalid_query"
            );
        }
    }
}
