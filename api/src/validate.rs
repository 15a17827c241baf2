//! Turning loose JSON fields and query parameters into checked values, each failure with
//! its own code naming the field. The checks themselves are pure and live in
//! [`chat_core::input`] (where `fuzz/` exercises them, with the checks of whole request
//! bodies that handlers call directly); these are the ones handlers use on their own,
//! answering with an [`ApiError`] (400).

use chat_core::input;
use chat_schemas::{RoomId, UserId};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::ApiError;

pub fn parse_room_id(raw: &str, field: &str) -> Result<RoomId, ApiError> {
    Ok(input::parse_room_id(raw, field)?)
}

pub fn parse_user_id(raw: &str, field: &str) -> Result<UserId, ApiError> {
    Ok(input::parse_user_id(raw, field)?)
}

/// A query parameter parsed as an integer in `range`.
pub fn int_param(
    raw: Option<&str>,
    field: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, ApiError> {
    Ok(input::int_param(raw, field, range)?)
}

pub fn format_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}
