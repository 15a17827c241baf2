//! Checking HTTP request input at the edge: the JSON body, then each field, every failure
//! with a stable code naming what is wrong (`invalid_json`, `invalid_body`,
//! `missing_field`, `empty_field`, `invalid_field`, or one per kind of value). The api
//! answers each as 400; handlers only ever see the checked values ([`NewRoom`],
//! [`NewMessage`], [`StatusChange`], ...).
//!
//! Pure (no I/O, no async), so `fuzz/` exercises exactly what the api runs.

use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::events::{Status, Visibility};
use crate::http::{CreateRoom, Credentials, OpenDirect, SendMessage, UpdateStatus};
use crate::{ClientMsgId, RoomId, UserId};

/// Why a request's input was refused: a stable `code` and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct InputError {
    pub code: &'static str,
    pub message: String,
}

impl InputError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// A request body: JSON, an object, and of the shape `T` (whose fields are usually loose
/// [`Value`]s checked one by one afterwards).
pub fn json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, InputError> {
    if bytes.is_empty() {
        return Err(InputError::new("invalid_json", "a JSON body is required"));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| InputError::new("invalid_json", format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(InputError::new(
            "invalid_body",
            "the body must be a JSON object",
        ));
    }
    serde_json::from_value(value).map_err(|e| InputError::new("invalid_body", e.to_string()))
}

/// A required, non-blank string without NUL characters (which Postgres cannot store).
pub fn required_str<'a>(value: &'a Value, field: &str) -> Result<&'a str, InputError> {
    match value {
        Value::Null => Err(InputError::new(
            "missing_field",
            format!("{field} is required"),
        )),
        Value::String(s) if s.trim().is_empty() => Err(InputError::new(
            "empty_field",
            format!("{field} must not be empty"),
        )),
        Value::String(s) if s.contains('\0') => Err(InputError::new(
            "invalid_field",
            format!("{field} must not contain NUL characters"),
        )),
        Value::String(s) => Ok(s),
        _ => Err(InputError::new(
            "invalid_field",
            format!("{field} must be a string"),
        )),
    }
}

/// An optional string: `null` or absent is `None`.
pub fn optional_str<'a>(value: &'a Value, field: &str) -> Result<Option<&'a str>, InputError> {
    match value {
        Value::Null => Ok(None),
        other => required_str(other, field).map(Some),
    }
}

pub fn room_id(value: &Value, field: &str) -> Result<RoomId, InputError> {
    parse_room_id(required_str(value, field)?, field)
}

pub fn parse_room_id(raw: &str, field: &str) -> Result<RoomId, InputError> {
    RoomId::parse(raw).map_err(|e| InputError::new("invalid_room_id", format!("{field} {e}")))
}

pub fn user_id(value: &Value, field: &str) -> Result<UserId, InputError> {
    parse_user_id(required_str(value, field)?, field)
}

pub fn parse_user_id(raw: &str, field: &str) -> Result<UserId, InputError> {
    UserId::parse(raw).map_err(|e| InputError::new("invalid_user_id", format!("{field} {e}")))
}

pub fn client_msg_id(value: &Value) -> Result<Option<ClientMsgId>, InputError> {
    optional_str(value, "clientMsgId")?
        .map(|raw| {
            ClientMsgId::parse(raw)
                .map_err(|e| InputError::new("invalid_client_msg_id", format!("clientMsgId {e}")))
        })
        .transpose()
}

/// A time every part of the platform can hold: years 0000 to 9999 both as given and in
/// UTC. The event keeps it as given (RFC 3339, which has four-digit years), Postgres
/// converts it to UTC (converting a time past 9999 in UTC panics), and history shows it
/// in UTC (RFC 3339 again).
pub fn storable_time(t: OffsetDateTime) -> Option<OffsetDateTime> {
    const YEARS: RangeInclusive<i32> = 0..=9999;
    let utc = t.checked_to_offset(UtcOffset::UTC)?;
    (YEARS.contains(&t.year()) && YEARS.contains(&utc.year())).then_some(t)
}

/// An RFC 3339 time that is [storable](storable_time).
pub fn parse_time(raw: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(raw, &Rfc3339)
        .ok()
        .and_then(storable_time)
}

/// A client timestamp: an RFC 3339 string or Unix milliseconds, [storable](storable_time).
pub fn timestamp(value: &Value, field: &str) -> Result<OffsetDateTime, InputError> {
    let bad = || {
        InputError::new(
            "invalid_timestamp",
            format!("{field} must be an RFC 3339 time or Unix milliseconds, years 0000 to 9999"),
        )
    };
    match value {
        Value::Null => Err(InputError::new(
            "missing_field",
            format!("{field} is required"),
        )),
        Value::String(s) => parse_time(s).ok_or_else(bad),
        Value::Number(n) => n
            .as_i64()
            // JSON Schema (and so the OpenAPI document) counts 1700000000000.0 as an integer.
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                    .map(|f| f as i64)
            })
            .and_then(|ms| {
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
            })
            .and_then(storable_time)
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// A query parameter parsed as an integer in `range`.
pub fn int_param(
    raw: Option<&str>,
    field: &str,
    range: RangeInclusive<i64>,
) -> Result<Option<i64>, InputError> {
    let Some(raw) = raw else { return Ok(None) };
    raw.parse::<i64>()
        .ok()
        .filter(|v| range.contains(v))
        .map(Some)
        .ok_or_else(|| {
            InputError::new(
                "invalid_parameter",
                format!(
                    "{field} must be an integer from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// Username length in bytes (all allowed characters are ASCII).
pub const USERNAME_LEN: RangeInclusive<usize> = 3..=32;
/// Password length in characters.
pub const PASSWORD_CHARS: RangeInclusive<usize> = 8..=128;

/// Whether `name` is a well-formed username: [`USERNAME_LEN`] characters of
/// `[A-Za-z0-9_.-]`.
pub fn valid_username(name: &str) -> bool {
    USERNAME_LEN.contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The one form in which usernames are compared: for the uniqueness of accounts, the
/// account lookup at login, and the per-username login limit. Computed here, once, so
/// that no two places fold names by different rules (Rust's `to_lowercase` and Postgres's
/// `lower()` disagree on, for example, the dotted `İ` U+0130).
///
/// The fold: compatibility normalisation (NFKC: fullwidth `ｓａｍ` is `sam`), then each
/// character lowercased from its uppercase (`ſ` U+017F is `s`, the Kelvin sign U+212A is
/// `k`, `ß` is `ss`), then NFKC again. Names are ASCII ([`valid_username`]), so an
/// account's key is its name in ASCII lowercase; a name whose key is not a well-formed
/// username (`İdle` folds to `i̇dle`, with a combining dot) can name no account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UsernameKey(String);

impl UsernameKey {
    pub fn of(name: &str) -> Self {
        use unicode_normalization::UnicodeNormalization;
        let folded: String = name
            .nfkc()
            .flat_map(char::to_uppercase)
            .flat_map(char::to_lowercase)
            .collect();
        Self(folded.nfkc().collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether an account can have this key: only then is it worth looking up.
    pub fn can_name_an_account(&self) -> bool {
        valid_username(&self.0)
    }
}

impl Credentials {
    /// `(username, password)` for a new account: the format rules apply.
    pub fn for_registration(&self) -> Result<(&str, &str), InputError> {
        let (username, password) = self.for_login()?;
        if !valid_username(username) {
            return Err(InputError::new(
                "invalid_username",
                "username must be 3 to 32 characters of letters, digits, '_', '.' or '-'",
            ));
        }
        if !PASSWORD_CHARS.contains(&password.chars().count()) {
            return Err(InputError::new(
                "invalid_password",
                "password must be 8 to 128 characters",
            ));
        }
        Ok((username, password))
    }

    /// `(username, password)` for a login: only presence is checked, since the
    /// registration rules would tell a guesser which passwords cannot be right.
    pub fn for_login(&self) -> Result<(&str, &str), InputError> {
        let username = required_str(&self.username, "username")?;
        let password = required_str(&self.password, "password")?;
        Ok((username, password))
    }
}

/// Most members a room may be created with.
pub const MAX_INITIAL_MEMBERS: usize = 1_000;
pub const MAX_ROOM_NAME_CHARS: usize = 100;

/// A checked `POST /rooms` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoom {
    /// Trimmed, 1 to [`MAX_ROOM_NAME_CHARS`] characters.
    pub name: String,
    pub visibility: Visibility,
    /// Distinct, without the creator (who is always a member).
    pub members: Vec<UserId>,
}

impl CreateRoom {
    pub fn check(&self, creator: UserId) -> Result<NewRoom, InputError> {
        let name = required_str(&self.name, "name")?.trim().to_owned();
        if name.chars().count() > MAX_ROOM_NAME_CHARS {
            return Err(InputError::new(
                "invalid_name",
                format!("name must be at most {MAX_ROOM_NAME_CHARS} characters"),
            ));
        }
        let visibility = match &self.visibility {
            Value::Null => Visibility::Public,
            Value::String(v) if v == "public" => Visibility::Public,
            Value::String(v) if v == "private" => Visibility::Private,
            _ => {
                return Err(InputError::new(
                    "invalid_visibility",
                    "visibility must be \"public\" or \"private\"",
                ))
            }
        };
        let members = member_list(&self.members, creator)?;
        Ok(NewRoom {
            name,
            visibility,
            members,
        })
    }
}

/// The `members` field: absent, or an array of user ids; the creator is implied.
fn member_list(value: &Value, creator: UserId) -> Result<Vec<UserId>, InputError> {
    let not_ids = || InputError::new("invalid_members", "members must be an array of user ids");
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err(not_ids()),
    };
    if items.len() > MAX_INITIAL_MEMBERS {
        return Err(InputError::new(
            "invalid_members",
            format!("at most {MAX_INITIAL_MEMBERS} members at creation"),
        ));
    }
    let mut set = BTreeSet::new();
    for item in items {
        let raw = item.as_str().ok_or_else(not_ids)?;
        set.insert(parse_user_id(raw, "members[]")?);
    }
    set.remove(&creator);
    Ok(set.into_iter().collect())
}

impl OpenDirect {
    /// The other user of the direct room `caller` asks for.
    pub fn check(&self, caller: UserId) -> Result<UserId, InputError> {
        let other = user_id(&self.user_id, "userId")?;
        if other == caller {
            return Err(InputError::new(
                "invalid_user_id",
                "you cannot open a direct room with yourself",
            ));
        }
        Ok(other)
    }
}

/// A checked `POST /sendMessage` body. Whether `sender` is the caller, the caller a
/// member, and the text within the length limit is decided by the api.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage<'a> {
    pub room: RoomId,
    /// Not blank, no NUL.
    pub message: &'a str,
    pub sender: UserId,
    /// The sender's clock, [storable](storable_time).
    pub client_time: OffsetDateTime,
    pub client_msg_id: Option<ClientMsgId>,
}

impl SendMessage {
    pub fn check(&self) -> Result<NewMessage<'_>, InputError> {
        Ok(NewMessage {
            room: room_id(&self.room_id, "roomId")?,
            message: required_str(&self.message, "message")?,
            sender: user_id(&self.sender_id, "senderId")?,
            client_time: timestamp(&self.timestamp, "timestamp")?,
            client_msg_id: client_msg_id(&self.client_msg_id)?,
        })
    }
}

/// A checked `POST /updateStatus` body. Whether `user` is the caller, and a member of
/// `room`, is decided by the api.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub user: UserId,
    pub status: Status,
    pub room: Option<RoomId>,
}

impl UpdateStatus {
    pub fn check(&self) -> Result<StatusChange, InputError> {
        let user = user_id(&self.user_id, "userId")?;
        let raw = required_str(&self.status, "status")?;
        let status = Status::parse(raw).ok_or_else(|| {
            InputError::new(
                "invalid_status",
                "status must be online, away, offline or typing",
            )
        })?;
        let room = match &self.room_id {
            Value::Null => None,
            value => Some(room_id(value, "roomId")?),
        };
        Ok(StatusChange { user, status, room })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_kind_of_bad_string_has_its_own_code() {
        assert_eq!(
            required_str(&Value::Null, "x").unwrap_err().code,
            "missing_field"
        );
        assert_eq!(
            required_str(&json!("  "), "x").unwrap_err().code,
            "empty_field"
        );
        assert_eq!(
            required_str(&json!(3), "x").unwrap_err().code,
            "invalid_field"
        );
        assert_eq!(required_str(&json!("ok"), "x").unwrap(), "ok");
    }

    #[test]
    fn timestamps_are_rfc3339_or_millis() {
        assert!(timestamp(&json!("2026-11-21T10:00:00Z"), "t").is_ok());
        assert_eq!(
            timestamp(&json!(1_700_000_000_000i64), "t")
                .unwrap()
                .unix_timestamp(),
            1_700_000_000
        );
        assert_eq!(
            timestamp(&json!(1_700_000_000_000.0f64), "t")
                .unwrap()
                .unix_timestamp(),
            1_700_000_000
        );
        assert!(timestamp(&json!(1.5), "t").is_err());
        assert_eq!(
            timestamp(&json!("yesterday"), "t").unwrap_err().code,
            "invalid_timestamp"
        );
        assert_eq!(
            timestamp(&json!(true), "t").unwrap_err().code,
            "invalid_timestamp"
        );
    }

    #[test]
    fn timestamps_outside_years_0000_to_9999_are_refused_as_given_and_in_utc() {
        for bad in [
            // Before year 0: cannot be written as RFC 3339 in the event.
            json!(-62_167_219_200_001i64),
            // Year 10000 in UTC: converting it for Postgres would panic.
            json!("9999-12-31T23:59:59-01:00"),
            // Year -1 in UTC: history could not show it.
            json!("0000-01-01T00:00:00+01:00"),
        ] {
            assert_eq!(
                timestamp(&bad, "t").unwrap_err().code,
                "invalid_timestamp",
                "{bad} was accepted"
            );
        }
        assert!(timestamp(&json!("9999-12-31T23:59:59Z"), "t").is_ok());
        assert!(timestamp(&json!(-62_167_219_200_000i64), "t").is_ok());
        assert!(parse_time("9999-12-31T23:59:59-01:00").is_none());
    }

    #[test]
    fn integer_parameters_are_range_checked() {
        assert_eq!(int_param(Some("50"), "limit", 1..=500).unwrap(), Some(50));
        assert!(int_param(Some("0"), "limit", 1..=500).is_err());
        assert!(int_param(Some("501"), "limit", 1..=500).is_err());
        assert!(int_param(Some("x"), "limit", 1..=500).is_err());
        assert_eq!(int_param(None, "limit", 1..=500).unwrap(), None);
    }

    #[test]
    fn a_body_must_be_a_json_object() {
        let code = |b: &[u8]| json_object::<SendMessage>(b).unwrap_err().code;
        assert_eq!(code(b""), "invalid_json");
        assert_eq!(code(b"{"), "invalid_json");
        assert_eq!(code(b"[]"), "invalid_body");
        assert!(json_object::<SendMessage>(b"{}").is_ok());
    }

    #[test]
    fn registration_checks_the_format_and_login_only_presence() {
        let creds = |u: &str, p: &str| Credentials {
            username: json!(u),
            password: json!(p),
        };
        assert!(creds("alice", "password1").for_registration().is_ok());
        assert_eq!(
            creds("a b", "password1")
                .for_registration()
                .unwrap_err()
                .code,
            "invalid_username"
        );
        assert_eq!(
            creds("alice", "short").for_registration().unwrap_err().code,
            "invalid_password"
        );
        assert!(creds("a b", "short").for_login().is_ok());
    }

    #[test]
    fn a_new_room_has_distinct_members_without_its_creator() {
        let (me, other) = (UserId::generate(), UserId::generate());
        let body = CreateRoom {
            name: json!("  general "),
            visibility: Value::Null,
            members: json!([me.to_string(), other.to_string(), other.to_string()]),
        };
        assert_eq!(
            body.check(me).unwrap(),
            NewRoom {
                name: "general".into(),
                visibility: Visibility::Public,
                members: vec![other],
            }
        );
    }
}

#[cfg(test)]
mod username_key_tests {
    use super::UsernameKey;

    #[test]
    fn look_alikes_fold_to_the_ascii_name_or_to_no_account() {
        let key = |n: &str| UsernameKey::of(n);
        assert_eq!(key("Kelvin").as_str(), "kelvin");
        assert_eq!(key("\u{212A}elvin"), key("kelvin"), "Kelvin sign");
        assert_eq!(key("\u{17F}am"), key("sam"), "long s");
        assert_eq!(key("\u{FF33}\u{FF41}\u{FF4D}"), key("sam"), "fullwidth");
        assert_eq!(key("STRASSE"), key("stra\u{DF}e"));
        // The dotted I lowercases to i + U+0307 by Unicode's default rules; Postgres's
        // lower() made it a plain i and so reached another user's account.
        let dotted = key("\u{130}dle");
        assert_ne!(dotted, key("idle"));
        assert!(!dotted.can_name_an_account());
        assert!(key("Sam_1.x-Y").can_name_an_account());
    }
}
