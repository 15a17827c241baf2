//! Extractors that turn the raw request into typed input or an [`ApiError`] in the API's
//! own format: a JSON body (any content type; size-limited), query parameters, and the
//! authenticated caller.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::{header, request::Parts, StatusCode};
use chat_core::tokens::TokenError;
use chat_schemas::UserId;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::ApiState;

/// A JSON request body. Malformed JSON, a body that is not an object of the expected shape,
/// and a body over the size limit all answer in the API's error format.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large("body_too_large", "the request body is too large")
            } else {
                ApiError::bad_request("unreadable_body", rejection.body_text())
            }
        })?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request(
                "invalid_json",
                "a JSON body is required",
            ));
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
        })?;
        if !value.is_object() {
            return Err(ApiError::bad_request(
                "invalid_body",
                "the body must be a JSON object",
            ));
        }
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))
    }
}

/// Query parameters, each kept as text so the handler can name what is wrong with it.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| QueryParams(v))
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

/// The `{roomId}` path segment, parsed; a bad one answers in the API's error format.
pub struct RoomPath(pub chat_schemas::RoomId);

impl<S: Send + Sync> FromRequestParts<S> for RoomPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_room_id", e.body_text()))?;
        crate::validate::parse_room_id(&raw, "roomId").map(RoomPath)
    }
}

/// The caller, from `Authorization: Bearer <token>` (the scheme in any case).
#[derive(Debug, Clone, Copy)]
pub struct AuthUser(pub UserId);

impl FromRequestParts<ApiState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized(
                "missing_token",
                "an Authorization: Bearer token is required",
            )
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(chat_core::tokens::bearer_token)
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "invalid_token",
                    "the Authorization header must be 'Bearer <token>'",
                )
            })?;
        state
            .tokens
            .verify(token)
            .map(AuthUser)
            .map_err(|e| match e {
                TokenError::Expired => {
                    ApiError::unauthorized("token_expired", "the token has expired; log in again")
                }
                TokenError::Invalid(_) => {
                    ApiError::unauthorized("invalid_token", "the token is not valid")
                }
            })
    }
}
