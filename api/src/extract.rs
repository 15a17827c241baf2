//! Extractors that turn the raw request into typed input or an [`ApiError`] in the API's
//! own format: a JSON body (any content type; size-limited), query parameters, the
//! authenticated caller, and the operator.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::{header, request::Parts, StatusCode};
use chat_core::sessions::AuthError;
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
            } else if timed_out(&rejection) {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    "the request body did not arrive in time",
                )
            } else {
                ApiError::bad_request("unreadable_body", rejection.body_text())
            }
        })?;
        Ok(JsonBody(chat_core::input::json_object(&bytes)?))
    }
}

/// Whether reading the body failed because the server's body timeout passed (see
/// `chat_core::http_server`).
fn timed_out(rejection: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(rejection);
    while let Some(error) = cause {
        if error.is::<chat_core::http_server::BodyTimedOut>() {
            return true;
        }
        cause = error.source();
    }
    false
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

/// The client's address for per-address limits: the TCP peer, or behind a trusted proxy
/// the address it forwarded (see `chat_core::client_address`). `None` when the server did
/// not pass the peer (then nothing is counted).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl FromRequestParts<ApiState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(Self(chat_core::client_address::from_headers(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// The caller, from `Authorization: Bearer <token>` (the scheme in any case), whose session
/// is still live (see `chat_core::sessions`).
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
            .sessions
            .authenticate(token)
            .await
            .map(|verified| AuthUser(verified.user))
            .map_err(auth_error)
    }
}

/// How a refused token is answered. A revoked one is `invalid_token` like any other: to
/// the client both mean "log in again".
pub fn auth_error(error: AuthError) -> ApiError {
    match error {
        AuthError::Token(TokenError::Expired) => {
            ApiError::unauthorized("token_expired", "the token has expired; log in again")
        }
        AuthError::Token(TokenError::Invalid(_)) => {
            ApiError::unauthorized("invalid_token", "the token is not valid")
        }
        AuthError::Revoked => ApiError::unauthorized(
            "invalid_token",
            "the session has ended (logged out or banned); log in again",
        ),
        AuthError::Database(e) => e.into(),
    }
}

/// The operator, from `Authorization: Bearer <API_ADMIN_KEY>`. Without a configured key
/// the admin routes do not exist (404).
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl FromRequestParts<ApiState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let Some(key) = &state.config.admin_key else {
            return Err(ApiError::not_found("not_found", "no such route"));
        };
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(chat_core::tokens::bearer_token)
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "missing_token",
                    "an Authorization: Bearer <admin key> header is required",
                )
            })?;
        if key.matches(presented) {
            Ok(Admin)
        } else {
            Err(ApiError::unauthorized(
                "invalid_token",
                "that is not the admin key",
            ))
        }
    }
}
