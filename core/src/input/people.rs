//! People input: display names, and the directory's search parameters.
//!
//! A display name is 1–64 characters after trimming, in any script, with nothing that
//! disguises it or rewrites how others are printed (see [`super::names`]). Searches never turn into a dump of every account: an empty query is refused, and
//! the query is a literal prefix (the read model compares with `starts_with`, so `%`, `_`,
//! `\` and `*` are plain characters).

use serde_json::Value;
use std::ops::RangeInclusive;

use chat_schemas::UserId;

use super::fields::parse_user_id;
use super::names::check_name;
use super::InputError;

/// Display name length in characters, after trimming.
pub const DISPLAY_NAME_CHARS: RangeInclusive<usize> = 1..=64;
/// Directory page size: the default and the most a caller may ask for.
pub const SEARCH_LIMIT_DEFAULT: i64 = 20;
pub const SEARCH_LIMIT_MAX: i64 = 50;
/// Most ids one batch lookup may name.
pub const MAX_LOOKUP_IDS: usize = 100;
/// Longest search query, in characters (no name is longer than a display name).
pub const MAX_QUERY_CHARS: usize = 64;

/// A checked display name: trimmed, within [`DISPLAY_NAME_CHARS`], no control characters.
/// Only [`display_name`] makes one, so a command cannot be handed an unchecked name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Checks a `displayName` field.
pub fn display_name(value: &Value) -> Result<DisplayName, InputError> {
    let raw = match value {
        Value::Null => return Err(InputError::new("missing_field", "displayName is required")),
        Value::String(s) => s,
        _ => {
            return Err(InputError::new(
                "invalid_display_name",
                "displayName must be a string",
            ))
        }
    };
    let name = raw.trim();
    check_name(name, "displayName", "invalid_display_name")?;
    if !DISPLAY_NAME_CHARS.contains(&name.chars().count()) {
        return Err(InputError::new(
            "invalid_display_name",
            "displayName must be 1 to 64 characters (after trimming)",
        ));
    }
    Ok(DisplayName(name.to_owned()))
}

/// An optional display name (registration): absent is `None`, anything given is checked.
pub fn optional_display_name(value: &Value) -> Result<Option<DisplayName>, InputError> {
    match value {
        Value::Null => Ok(None),
        other => display_name(other).map(Some),
    }
}

/// What `GET /users` was asked for: exactly one of a search or a batch of ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A literal prefix of a username or display name, and how many to answer.
    Search { prefix: String, limit: i64 },
    /// These users, whichever exist.
    Ids(Vec<UserId>),
}

/// Checks `GET /users` parameters: `query` (+ `limit`) or `ids`, never both or neither.
pub fn lookup(
    query: Option<&str>,
    ids: Option<&str>,
    limit: Option<&str>,
) -> Result<Lookup, InputError> {
    match (query, ids) {
        (Some(_), Some(_)) | (None, None) => Err(InputError::new(
            "invalid_parameter",
            "give exactly one of query and ids",
        )),
        (Some(query), None) => {
            let prefix = query.trim();
            if prefix.is_empty() {
                return Err(InputError::new(
                    "empty_field",
                    "query must not be empty (the directory is searched, never listed)",
                ));
            }
            if prefix.chars().count() > MAX_QUERY_CHARS || prefix.chars().any(char::is_control) {
                return Err(InputError::new(
                    "invalid_parameter",
                    "query must be at most 64 characters, without control characters",
                ));
            }
            let limit = super::fields::int_param(limit, "limit", 1..=SEARCH_LIMIT_MAX)?
                .unwrap_or(SEARCH_LIMIT_DEFAULT);
            Ok(Lookup::Search {
                prefix: prefix.to_owned(),
                limit,
            })
        }
        (None, Some(ids)) => {
            let raw: Vec<&str> = ids.split(',').map(str::trim).collect();
            if raw.len() > MAX_LOOKUP_IDS {
                return Err(InputError::new(
                    "too_many_ids",
                    "ids may name at most 100 users",
                ));
            }
            let mut users = Vec::with_capacity(raw.len());
            for id in raw {
                let user = parse_user_id(id, "ids")?;
                if !users.contains(&user) {
                    users.push(user);
                }
            }
            Ok(Lookup::Ids(users))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn display_names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            display_name(&json!("  Zoë 🙂 ")).unwrap().as_str(),
            "Zoë 🙂"
        );
        assert_eq!(display_name(&json!("Дмитрий")).unwrap().as_str(), "Дмитрий");
        assert!(display_name(&json!("x".repeat(64))).is_ok());
        for bad in [
            json!(""),
            json!("   "),
            json!("x".repeat(65)),
            json!("a\u{7}b"),
            json!("a\nb"),
            json!(5),
        ] {
            assert_eq!(
                display_name(&bad).unwrap_err().code,
                "invalid_display_name",
                "{bad}"
            );
        }
        assert_eq!(optional_display_name(&Value::Null).unwrap(), None);
    }

    #[test]
    fn a_lookup_is_a_non_empty_search_or_a_bounded_batch() {
        assert_eq!(
            lookup(Some(" %_ "), None, None).unwrap(),
            Lookup::Search {
                prefix: "%_".into(),
                limit: 20
            }
        );
        assert_eq!(
            lookup(Some("  "), None, None).unwrap_err().code,
            "empty_field"
        );
        assert!(lookup(Some("a"), None, Some("51")).is_err());
        assert!(lookup(Some("a"), Some("x"), None).is_err());
        assert!(lookup(None, None, None).is_err());
        let ids: Vec<String> = (0..101).map(|_| UserId::generate().to_string()).collect();
        assert_eq!(
            lookup(None, Some(&ids.join(",")), None).unwrap_err().code,
            "too_many_ids"
        );
        assert_eq!(
            lookup(None, Some("nope"), None).unwrap_err().code,
            "invalid_user_id"
        );
    }
}
