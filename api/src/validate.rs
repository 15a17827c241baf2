//! Turning loose JSON fields into checked values, each failure with its own code naming
//! the field: `missing_field`, `empty_field`, `invalid_field`.

use chat_schemas::{ClientMsgId, RoomId, UserId};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::ApiError;

/// A required, non-blank string without NUL characters (which Postgres cannot store).
pub fn required_str<'a>(value: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    match value {
        Value::Null => Err(ApiError::bad_request(
            "missing_field",
            format!("{field} is required"),
        )),
        Value::String(s) if s.trim().is_empty() => Err(ApiError::bad_request(
            "empty_field",
            format!("{field} must not be empty"),
        )),
        Value::String(s) if s.contains('\0') => Err(ApiError::bad_request(
            "invalid_field",
            format!("{field} must not contain NUL characters"),
        )),
        Value::String(s) => Ok(s),
        _ => Err(ApiError::bad_request(
            "invalid_field",
            format!("{field} must be a string"),
        )),
    }
}

/// An optional string: `null` or absent is `None`.
pub fn optional_str<'a>(value: &'a Value, field: &str) -> Result<Option<&'a str>, ApiError> {
    match value {
        Value::Null => Ok(None),
        other => required_str(other, field).map(Some),
    }
}

pub fn room_id(value: &Value, field: &str) -> Result<RoomId, ApiError> {
    parse_room_id(required_str(value, field)?, field)
}

pub fn parse_room_id(raw: &str, field: &str) -> Result<RoomId, ApiError> {
    RoomId::parse(raw).map_err(|e| ApiError::bad_request("invalid_room_id", format!("{field} {e}")))
}

pub fn user_id(value: &Value, field: &str) -> Result<UserId, ApiError> {
    parse_user_id(required_str(value, field)?, field)
}

pub fn parse_user_id(raw: &str, field: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|e| ApiError::bad_request("invalid_user_id", format!("{field} {e}")))
}

pub fn client_msg_id(value: &Value) -> Result<Option<ClientMsgId>, ApiError> {
    optional_str(value, "clientMsgId")?
        .map(|raw| {
            ClientMsgId::parse(raw).map_err(|e| {
                ApiError::bad_request("invalid_client_msg_id", format!("clientMsgId {e}"))
            })
        })
        .transpose()
}

/// A client timestamp: an RFC 3339 string or Unix milliseconds.
pub fn timestamp(value: &Value, field: &str) -> Result<OffsetDateTime, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid_timestamp",
            format!("{field} must be an RFC 3339 time or Unix milliseconds"),
        )
    };
    match value {
        Value::Null => Err(ApiError::bad_request(
            "missing_field",
            format!("{field} is required"),
        )),
        Value::String(s) => OffsetDateTime::parse(s, &Rfc3339).map_err(|_| bad()),
        Value::Number(n) => n
            .as_i64()
            .and_then(|ms| {
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
            })
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// A query parameter parsed as an integer in `range`.
pub fn int_param(
    raw: Option<&str>,
    field: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    raw.parse::<i64>()
        .ok()
        .filter(|v| range.contains(v))
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_parameter",
                format!(
                    "{field} must be an integer from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

pub fn format_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
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
            timestamp(&json!("yesterday"), "t").unwrap_err().code,
            "invalid_timestamp"
        );
        assert_eq!(
            timestamp(&json!(true), "t").unwrap_err().code,
            "invalid_timestamp"
        );
    }

    #[test]
    fn integer_parameters_are_range_checked() {
        assert_eq!(int_param(Some("50"), "limit", 1..=500).unwrap(), Some(50));
        assert!(int_param(Some("0"), "limit", 1..=500).is_err());
        assert!(int_param(Some("501"), "limit", 1..=500).is_err());
        assert!(int_param(Some("x"), "limit", 1..=500).is_err());
        assert_eq!(int_param(None, "limit", 1..=500).unwrap(), None);
    }
}
