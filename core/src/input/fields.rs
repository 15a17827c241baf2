//! Checking the parts every request is made of: the JSON body, then each field (strings,
//! ids, integer query parameters), each failure with its own code.

use chat_schemas::{ClientMsgId, RoomId, UserId};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::ops::RangeInclusive;

use super::InputError;

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

#[cfg(test)]
mod tests {
    use super::*;
    use chat_schemas::http::SendMessage;
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
}
