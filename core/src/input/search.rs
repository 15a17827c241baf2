//! Message search input (`GET /search`): the words, the page size, the cursor and the
//! optional room. The words are handed to Postgres' `websearch_to_tsquery`, which accepts
//! any text (quotes, `or`, `-`), so only the length and control characters are checked
//! here; a query with no word to look for is refused by the read model (`invalid_query`).

use chat_schemas::RoomId;

use super::fields::{int_param, parse_room_id};
use super::InputError;

/// Longest query, in characters: a search is a few words, never a document.
pub const MAX_QUERY_CHARS: usize = 256;
/// Page size: the default and the most a caller may ask for.
pub const LIMIT_DEFAULT: i64 = 20;
pub const LIMIT_MAX: i64 = 50;

/// A checked search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Trimmed, 1 to [`MAX_QUERY_CHARS`] characters, no control characters.
    pub words: String,
    /// Only this room (the caller must be a member), else every room of the caller's.
    pub room: Option<RoomId>,
    pub limit: i64,
    /// Only messages with a smaller `seq` (the previous page's `nextBeforeSeq`).
    pub before_seq: Option<i64>,
}

/// Checks `GET /search` parameters.
pub fn search(
    q: Option<&str>,
    room: Option<&str>,
    limit: Option<&str>,
    before_seq: Option<&str>,
) -> Result<SearchQuery, InputError> {
    let words = q.map(str::trim).unwrap_or_default();
    if words.is_empty() {
        return Err(InputError::new("missing_field", "q is required"));
    }
    if words.chars().count() > MAX_QUERY_CHARS || words.chars().any(char::is_control) {
        return Err(InputError::new(
            "invalid_query",
            format!("q must be at most {MAX_QUERY_CHARS} characters, without control characters"),
        ));
    }
    let room = match room {
        None | Some("") => None,
        Some(raw) => Some(parse_room_id(raw, "roomId")?),
    };
    Ok(SearchQuery {
        words: words.to_owned(),
        room,
        limit: int_param(limit, "limit", 1..=LIMIT_MAX)?.unwrap_or(LIMIT_DEFAULT),
        before_seq: int_param(before_seq, "beforeSeq", 1..=i64::MAX)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_some_words_bounded_in_length() {
        let ok = search(Some("  hello world "), Some("r1"), Some("5"), Some("9")).unwrap();
        assert_eq!(ok.words, "hello world");
        assert_eq!(ok.room.unwrap().as_str(), "r1");
        assert_eq!((ok.limit, ok.before_seq), (5, Some(9)));
        assert_eq!(search(Some("x"), None, None, None).unwrap().limit, 20);
        assert_eq!(
            search(None, None, None, None).unwrap_err().code,
            "missing_field"
        );
        assert_eq!(
            search(Some("  "), None, None, None).unwrap_err().code,
            "missing_field"
        );
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(
            search(Some(&long), None, None, None).unwrap_err().code,
            "invalid_query"
        );
        assert!(search(Some(&"é".repeat(MAX_QUERY_CHARS)), None, None, None).is_ok());
        assert_eq!(
            search(Some("a\0b"), None, None, None).unwrap_err().code,
            "invalid_query"
        );
        assert_eq!(
            search(Some("a"), None, Some("51"), None).unwrap_err().code,
            "invalid_parameter"
        );
        assert_eq!(
            search(Some("a"), None, None, Some("0")).unwrap_err().code,
            "invalid_parameter"
        );
        assert_eq!(
            search(Some("a"), Some("no/pe"), None, None)
                .unwrap_err()
                .code,
            "invalid_room_id"
        );
    }
}
