//! Client timestamps: accepted only when every part of the platform can hold them (the
//! event, Postgres, and history's RFC 3339 answers).

use serde_json::Value;
use std::ops::RangeInclusive;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use super::InputError;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
