//! `POST /updateStatus` and `GET /getStatus`. A status change is an event on the user's
//! subject; `typing` names a room the user is in and lapses by itself after a few seconds
//! (the projector stores when). `getStatus` shows `typingIn` only to members of that room.

use axum::extract::State;
use axum::Json;
use chat_core::input::{StatusChange, UpdateStatusPolicy};
use chat_schemas::http::{StatusAccepted, StatusView, UpdateStatus};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, QueryParams};
use crate::state::ApiState;
use crate::validate::{format_time, parse_user_id};

pub async fn update_status(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    JsonBody(body): JsonBody<UpdateStatus>,
) -> Result<Json<StatusAccepted>, ApiError> {
    let StatusChange { user, status, room } = body.check()?;
    if user != caller {
        return Err(ApiError::forbidden(
            "user_mismatch",
            "userId must be your own user id",
        ));
    }
    state.limit_write(caller)?;
    state.commands.set_status(caller, status, room).await?;
    Ok(Json(StatusAccepted {
        user_id: user.to_string(),
        status: status.as_str().to_owned(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusQuery {
    user_id: Option<String>,
}

pub async fn get_status(
    State(state): State<ApiState>,
    AuthUser(caller): AuthUser,
    QueryParams(q): QueryParams<StatusQuery>,
) -> Result<Json<StatusView>, ApiError> {
    let user = match q.user_id.as_deref() {
        None | Some("") => {
            return Err(ApiError::bad_request("missing_field", "userId is required"))
        }
        Some(raw) => parse_user_id(raw, "userId")?,
    };
    let seen = state
        .read
        .status_seen_by(user, caller)
        .await?
        .ok_or_else(|| ApiError::not_found("user_not_found", "no such user"))?;
    let status = match (&seen.typing_in, seen.status) {
        (Some(_), _) => "typing".to_owned(),
        (None, Some(s)) => s,
        (None, None) => "offline".to_owned(),
    };
    Ok(Json(StatusView {
        user_id: user.to_string(),
        status,
        last_seen: seen.last_seen.map(format_time),
        typing_in: seen.typing_in,
    }))
}
