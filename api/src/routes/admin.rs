//! `POST /admin/users/{userId}/ban` and `/unban`: the operator's answer to an abusive
//! account, behind `API_ADMIN_KEY` (the routes answer 404 without one).
//!
//! A ban ends every token of the account, closes its sockets on every gateway (4004) and
//! refuses its logins (403 `account_banned`) until lifted. Lifting it lets the account log
//! in again; the tokens it had stay ended.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::error::ApiError;
use crate::extract::Admin;
use crate::state::ApiState;
use crate::validate::parse_user_id;

pub async fn ban(
    State(state): State<ApiState>,
    _: Admin,
    user: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    set_banned(&state, user, true).await
}

pub async fn unban(
    State(state): State<ApiState>,
    _: Admin,
    user: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    set_banned(&state, user, false).await
}

async fn set_banned(
    state: &ApiState,
    user: Result<Path<String>, PathRejection>,
    banned: bool,
) -> Result<StatusCode, ApiError> {
    let Path(raw) = user.map_err(|e| ApiError::bad_request("invalid_user_id", e.body_text()))?;
    let user = parse_user_id(&raw, "userId")?;
    if state.sessions.set_banned(user, banned).await? {
        tracing::warn!(%user, banned, "account ban changed by the operator");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("user_not_found", "no such user"))
    }
}
